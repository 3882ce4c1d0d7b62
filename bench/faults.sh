#!/usr/bin/env bash
# Exactly-once delivery under random kills, as an operator runs Cloister:
# every runner its own `cloister runner NAME` process (restarted when it
# dies, as systemd does), POSTS posts piped into the built deliver binary,
# a random runner SIGKILLed every 0.2-2 s, and a loopback SMTP sink that
# records every copy by recipient and Message-ID (bench/faults). Prints the
# copies lost and duplicated, first over a plain list of MEMBERS subscribers,
# then over an encrypted list of ENC_MEMBERS subscribers whose keys gpg makes
# once (cached in KEYS). Exits non-zero on any loss, any duplicate beyond the
# SMTP transactions in flight at the kills, or anything left in a queue.
#
#   bench/faults.sh                               # 1,000 posts; 10 and 500 subscribers
#   POSTS=100 ENC_MEMBERS=50 KILL_MIN=50ms KILL_MAX=500ms bench/faults.sh   # make test-faults
set -euo pipefail
cd "$(dirname "$0")/.."
POSTS=${POSTS:-1000}
MEMBERS=${MEMBERS:-10}
ENC_MEMBERS=${ENC_MEMBERS:-500}
KEYS=${KEYS:-${TMPDIR:-/tmp}/cloister-faults-keys-$ENC_MEMBERS.asc}
BIN=${BIN:-bin}
KILL_MIN=${KILL_MIN:-200ms}
KILL_MAX=${KILL_MAX:-2s}
command -v gpg >/dev/null || { echo "gpg missing: run test/setup.sh" >&2; exit 1; }
if [ -z "${NO_BUILD:-}" ]; then
	mkdir -p "$BIN"
	go build -o "$BIN/cloister" ./cmd/cloister
	CGO_ENABLED=0 go build -trimpath -o "$BIN/deliver" ./cmd/deliver
fi
go build -o "$BIN/faults" ./bench/faults
echo "uptime: $(uptime)"
"$BIN/faults" -bin "$BIN" -posts "$POSTS" -members "$MEMBERS" -kill-min "$KILL_MIN" -kill-max "$KILL_MAX"
if [ "$ENC_MEMBERS" -gt 0 ]; then
	echo "uptime: $(uptime)"
	"$BIN/faults" -bin "$BIN" -posts "$POSTS" -members "$ENC_MEMBERS" -encrypted -keys "$KEYS" \
		-kill-min "$KILL_MIN" -kill-max "$KILL_MAX"
fi
echo "uptime: $(uptime)"
