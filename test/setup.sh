#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real peers
# the tests talk to (Postfix, GnuPG, gpgsm, OpenSSL). Idempotent; run as root
# (make test calls it). Postfix is installed as "Local only" and left stopped:
# the end-to-end tests run their own instance with a private config directory.
set -euo pipefail

need=()
command -v postfix >/dev/null || need+=(postfix)
command -v gpg >/dev/null || need+=(gnupg)
command -v gpgsm >/dev/null || need+=(gpgsm)
command -v openssl >/dev/null || need+=(openssl)
command -v tmux >/dev/null || need+=(tmux)
[ -x /usr/sbin/smtp-sink ] || [ -x /usr/lib/postfix/sbin/smtp-sink ] || true

if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "test/setup.sh: need root to install: ${need[*]}" >&2
    exit 1
  fi
  echo "postfix postfix/main_mailer_type select Local only" | debconf-set-selections
  echo "postfix postfix/mailname string lists.example.test" | debconf-set-selections
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
  # The package may have started the system instance; the tests run their own.
  postfix stop >/dev/null 2>&1 || true
fi

# The pipe transport runs deliver as this user (Postfix refuses root).
id cloister >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cloister
echo "test setup: ok (postfix $(postconf -h mail_version 2>/dev/null), $(gpg --version | head -1), $(openssl version))"
