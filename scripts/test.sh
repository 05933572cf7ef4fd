#!/usr/bin/env bash
# Runs every test: installs the real peers first, and makes a missing peer a failure.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-peers.sh
export TLS_PEERS_REQUIRED=1
# Tests run the examples as a user would; `--all-targets` alone builds them only as test harnesses.
cargo build --workspace --examples
cargo test --workspace --all-targets
# Which record-layer path this CPU tested (the eight-lane SHA-1 needs AVX-512).
cargo test -q --workspace --lib eight_lanes_agree -- --nocapture 2>&1 | grep -E '^(TESTED|SKIPPED) '
cargo test --workspace --doc
# A user's project outside the workspace, written from the README: it must keep building.
# Same target folder, so it reuses what the workspace built.
# --offline: no network; a lockfile behind the workspace's is brought up to date from what it just built.
cargo build --offline --manifest-path tests/user-crate/Cargo.toml --target-dir "${CARGO_TARGET_DIR:-target}"
scripts/fuzz-smoke.sh
