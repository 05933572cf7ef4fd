#!/usr/bin/env bash
# Installs the real peers the tests talk to, when they are missing: OpenSSL, curl, h2load
# (nghttp2, an HTTP/2 load generator), Tesseract (OCR of Chromium's screenshots), Python 3,
# GnuTLS's tools (gnutls-serv, gnutls-cli, srptool), nginx, Dovecot (IMAP and POP3), Chromium
# (headless, for the file server's pin test), PostgreSQL 15 (a fleet's shared store), Postfix
# (the mail loop: our SMTP client through Postfix into Dovecot), mosquitto 2.0 with
# mosquitto_pub/mosquitto_sub (an MQTT broker over TLS-PSK), and
# tlslite-ng 0.8.2 plus aiosmtpd 1.4.6 in .peers/venv.
# Idempotent; needs root (or sudo) only when a Debian package is missing. Package scripts are
# kept from starting system-wide nginx, Dovecot, PostgreSQL or mosquitto: tests start their own
# on ephemeral ports.
set -euo pipefail

missing=()
command -v openssl >/dev/null || missing+=(openssl)
command -v curl >/dev/null || missing+=(curl)
command -v h2load >/dev/null || missing+=(nghttp2-client)
command -v python3 >/dev/null || missing+=(python3)
command -v gnutls-serv >/dev/null || missing+=(gnutls-bin)
[ -x /usr/sbin/nginx ] || missing+=(nginx-light)
[ -x /usr/sbin/dovecot ] || missing+=(dovecot-imapd dovecot-pop3d)
command -v chromium >/dev/null || missing+=(chromium)
command -v tesseract >/dev/null || missing+=(tesseract-ocr)
[ -x /usr/lib/postgresql/15/bin/initdb ] || missing+=(postgresql-15)
[ -x /usr/sbin/postfix ] || missing+=(postfix)
[ -x /usr/sbin/mosquitto ] || missing+=(mosquitto)
command -v mosquitto_sub >/dev/null || missing+=(mosquitto-clients)

if ((${#missing[@]})); then
  echo "install-peers: installing ${missing[*]}"
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod 755 /usr/sbin/policy-rc.d
  fi
  $sudo apt-get update -qq
  # Postfix's package asks how to configure the system's mail: not at all (tests run their own).
  echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}"
fi
cd "$(dirname "$0")/.."
if ! .peers/venv/bin/python -c 'import tlslite; assert tlslite.__version__ == "0.8.2"' 2>/dev/null; then
  echo "install-peers: installing tlslite-ng 0.8.2 into .peers/venv"
  python3 -m venv .peers/venv
  .peers/venv/bin/pip install --quiet tlslite-ng==0.8.2
fi
if ! .peers/venv/bin/python -c 'import aiosmtpd; assert aiosmtpd.__version__ == "1.4.6"' 2>/dev/null; then
  echo "install-peers: installing aiosmtpd 1.4.6 into .peers/venv"
  .peers/venv/bin/pip install --quiet aiosmtpd==1.4.6
fi
echo "install-peers: $(openssl version | head -1); $(curl --version | head -1 | cut -d' ' -f1-2); $(h2load --version | head -1); $(python3 --version); $(gnutls-cli --version | head -1); tlslite-ng $(.peers/venv/bin/python -c 'import tlslite; print(tlslite.__version__)'); $(/usr/sbin/nginx -v 2>&1); $(/usr/sbin/dovecot --version | cut -d' ' -f1); aiosmtpd $(.peers/venv/bin/python -c 'import aiosmtpd; print(aiosmtpd.__version__)'); $(chromium --version 2>/dev/null | cut -d' ' -f1-2); $(/usr/lib/postgresql/15/bin/postgres --version); postfix $(/usr/sbin/postconf -dh mail_version 2>/dev/null); $(/usr/sbin/mosquitto -h 2>/dev/null | head -1)"
