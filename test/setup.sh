#!/usr/bin/env bash
# Installs what the test suite needs on a fresh Debian machine: the real peers
# the tests talk to (Postfix, GnuPG, gpgsm, OpenSSL, NSS, the S/MIME engine
# of Thunderbird, through certutil, pk12util and cmsutil from libnss3-tools,
# ClamAV's clamd, GnuTLS certtool, which signs S/MIME with Ed25519 where
# OpenSSL 3.0 cannot, rnp, sq, sqop and PGPy for OpenPGP interoperability,
# OpenPGP.js 6 from npm for v6 keys and SEIPDv2, and Bouncy Castle with a JDK
# to compile its test driver).
# Idempotent; run as root (make test calls it). Postfix is installed as "Local
# only" and left stopped: the end-to-end tests run their own instance with a
# private config directory.
set -euo pipefail

need=()
command -v postfix >/dev/null || need+=(postfix)
command -v gpg >/dev/null || need+=(gnupg)
command -v gpgsm >/dev/null || need+=(gpgsm)
command -v openssl >/dev/null || need+=(openssl)
command -v chromium >/dev/null || need+=(chromium)   # the web interface's browser tests (chromedp)
command -v cmsutil >/dev/null || need+=(libnss3-tools)
command -v certtool >/dev/null || need+=(gnutls-bin)
command -v tmux >/dev/null || need+=(tmux)
command -v mutt >/dev/null || need+=(mutt)
command -v systemd-analyze >/dev/null || need+=(systemd)
# docs/api.md's curl examples are run by a test (api/docs_test.go).
command -v curl >/dev/null || need+=(curl)
command -v jq >/dev/null || need+=(jq)
# The OpenAPI 3.1 validator that checks the API's document comes from npm.
command -v npm >/dev/null || need+=(npm)
# The virus-scan tests run their own clamd with a private config and a test
# signature database (internal/clamdtest): no signature download.
[ -x /usr/sbin/clamd ] || need+=(clamav-daemon)
command -v sigtool >/dev/null || need+=(clamav)
# Other OpenPGP implementations subscribers run: rnp (Thunderbird's engine),
# Sequoia's sq and sqop, and PGPy (read by /usr/bin/python3).
command -v rnp >/dev/null || need+=(rnp)
command -v sq >/dev/null || need+=(sq)
command -v sqop >/dev/null || need+=(sqop)
/usr/bin/python3 -c 'import pgpy' >/dev/null 2>&1 || need+=(python3-pgpy)
# OpenPGP.js (npm only: test/peers/openpgpjs, pinned by its package-lock.json).
command -v node >/dev/null || need+=(nodejs)
command -v npm >/dev/null || need+=(npm)
# Bouncy Castle, the S/MIME and OpenPGP engine of Java mail clients; the
# tests compile their driver (test/peers/bouncycastle) with javac.
command -v javac >/dev/null || need+=(default-jdk-headless)
for jar in bcprov bcpkix bcpg bcutil; do
  [ -e /usr/share/java/$jar.jar ] || need+=(lib$jar-java)
done
# Schleuder, whose real lists `cloister import schleuder` is tested against
# (its suite runs it from a private configuration), and the sqlite3 command
# the import reads Schleuder's database with.
command -v schleuder >/dev/null || need+=(schleuder)
command -v sqlite3 >/dev/null || need+=(sqlite3)
# Mailman 3, whose REST exports `cloister import mailman3` is tested against
# (its suite runs a private instance with only the REST runner).
command -v mailman >/dev/null || need+=(mailman3)
# The Exim binary extracted below needs these runtime libraries.
[ -e /usr/lib/x86_64-linux-gnu/libidn.so.12 ] || ls /usr/lib/*/libidn.so.12 >/dev/null 2>&1 || need+=(libidn12)
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
  # Likewise the system clamd and freshclam (which would download signatures).
  if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
    systemctl disable --now clamav-daemon.service clamav-daemon.socket clamav-freshclam.service >/dev/null 2>&1 || true
    systemctl disable --now schleuder-api-daemon.service mailman3.service >/dev/null 2>&1 || true
  fi
fi

# OpenPGP.js for the OpenPGP.js peer tests, exactly as locked.
peers=$(cd "$(dirname "$0")/peers" && pwd)
if [ ! -e "$peers/openpgpjs/node_modules/openpgp/package.json" ] ||
  [ "$peers/openpgpjs/package-lock.json" -nt "$peers/openpgpjs/node_modules/.package-lock.json" ]; then
  (cd "$peers/openpgpjs" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
# An OpenAPI 3.1 validator (JSON Schema of the specification), run on the
# document `cloister api` serves by TestOpenAPIValidates (api/).
command -v validate-api >/dev/null || npm install -g --silent @seriousme/openapi-schema-validator@2.11.0 >/dev/null

# The pipe transport runs deliver as this user (Postfix refuses root).
id cloister >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin cloister

# Exim 4 for the Exim suite. Debian's exim4-daemon-light conflicts with postfix
# (both provide mail-transport-agent), so unless Exim is the system MTA its
# packages are unpacked (dpkg -x, no maintainer scripts) into a private tree
# and the suite runs that binary with its own configuration (-C) on a loopback
# port. Debian's build keeps root privilege with -C only for configurations
# listed in /etc/exim4/trusted_configs; the suite adds and removes its own
# line there. The binary's compiled-in exim user must exist.
EXIM_ROOT=/opt/cloister-test/exim4
if ! command -v exim4 >/dev/null && [ ! -x "$EXIM_ROOT/usr/sbin/exim4" ]; then
  tmp=$(mktemp -d)
  (cd "$tmp" && chmod 755 . && apt-get download exim4-daemon-light exim4-base exim4-config >/dev/null 2>&1 \
    || { apt-get update -qq && apt-get download exim4-daemon-light exim4-base exim4-config >/dev/null; })
  mkdir -p "$EXIM_ROOT"
  for deb in "$tmp"/*.deb; do dpkg -x "$deb" "$EXIM_ROOT"; done
  rm -rf "$tmp"
fi
id Debian-exim >/dev/null 2>&1 || useradd --system --no-create-home --shell /usr/sbin/nologin Debian-exim
install -d -m 0755 /etc/exim4
[ -e /etc/exim4/trusted_configs ] || install -m 0644 /dev/null /etc/exim4/trusted_configs
exim_bin=$(command -v exim4 || echo "$EXIM_ROOT/usr/sbin/exim4")
echo "test setup: ok (postfix $(postconf -h mail_version 2>/dev/null), $("$exim_bin" -bV 2>/dev/null | sed -n 's/^Exim version \([^ ]*\).*/exim \1/p'), $(gpg --version | head -1), $(openssl version), nss $(dpkg-query -W -f '${Version}' libnss3 2>/dev/null | sed 's/^[0-9]*://; s/-.*//'))"
