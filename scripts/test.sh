#!/usr/bin/env bash
# Runs every test: installs the real peers first, and makes a missing peer a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-peers.sh
export TLS_PEERS_REQUIRED=1
cargo test --workspace --all-targets
cargo test --workspace --doc
scripts/fuzz-smoke.sh
