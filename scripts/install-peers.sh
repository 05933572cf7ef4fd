#!/usr/bin/env bash
# Installs the real peers the tests talk to, when they are missing: OpenSSL, curl, Python 3.
# Idempotent; needs root (or sudo) only when something is missing.
set -euo pipefail

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)

if ((${#missing[@]})); then
  echo "install-peers: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
echo "install-peers: $(openssl version | head -1); $(curl --version | head -1 | cut -d' ' -f1-2); $(python3 --version)"
