#!/usr/bin/env bash
# Peak memory of the outgoing runner for a large post: a 25 MB post signed
# and encrypted to N Curve25519 subscribers (100 and 1,000 by default), one
# copy each, into bench/smtpsink; prints the outgoing process's peak RSS
# (VmHWM, read from /proc while it runs) and its ratio to the post's
# size, for each N, so that growth with the subscriber count shows.
#
#   N=100,1000 SIZE_MB=25 bench/memory.sh
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
go run ./bench/fanoute2e -bin "$BIN" -n "${N:-100,1000}" -batch 1 -receivers smtpsink \
	-size $((${SIZE_MB:-25} * 1024 * 1024)) -repeat 1 -warm=false -source=false
echo "uptime: $(uptime)"
