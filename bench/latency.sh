#!/usr/bin/env bash
# Latency of a post to a small list with idle runners: `cloister runners`
# running as under systemd, 100 posts (one at a time, after a pause) to a
# 10-member list whose members have Curve25519 keys, each piped into the
# built deliver binary; prints p50, p90, p99 and the maximum from deliver's
# exit to the last copy's acceptance by bench/smtpsink (which stamps each
# message), and the machine's load.
#
#   N=100 MEMBERS=10 bench/latency.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
if [ -z "${NO_BUILD:-}" ]; then
	mkdir -p "$BIN"
	go build -o "$BIN/cloister" ./cmd/cloister
	CGO_ENABLED=0 go build -trimpath -o "$BIN/deliver" ./cmd/deliver
	go build -o "$BIN/smtpsink" ./bench/smtpsink
fi
echo "uptime: $(uptime)"
go run ./bench/latency -bin "$BIN" -n "${N:-100}" -members "${MEMBERS:-10}"
echo "uptime: $(uptime)"
