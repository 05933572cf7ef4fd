#!/usr/bin/env bash
# Installs the real peers the tests talk to, when they are missing: OpenSSL, curl, Python 3,
# GnuTLS's tools (gnutls-serv, gnutls-cli, srptool), and tlslite-ng 0.8.2 in .peers/venv.
# Idempotent; needs root (or sudo) only when a Debian package is missing.
set -euo pipefail

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v python3 >/dev/null || missing+=(python3)
command -v gnutls-serv >/dev/null || missing+=(gnutls-bin)

if ((${#missing[@]})); then
  echo "install-peers: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
cd "$(dirname "$0")/.."
if ! .peers/venv/bin/python -c 'import tlslite; assert tlslite.__version__ == "0.8.2"' 2>/dev/null; then
  echo "install-peers: installing tlslite-ng 0.8.2 into .peers/venv"
  python3 -m venv .peers/venv
  .peers/venv/bin/pip install --quiet tlslite-ng==0.8.2
fi
echo "install-peers: $(openssl version | head -1); $(curl --version | head -1 | cut -d' ' -f1-2); $(python3 --version); $(gnutls-cli --version | head -1); tlslite-ng $(.peers/venv/bin/python -c 'import tlslite; print(tlslite.__version__)')"
