#!/usr/bin/env bash
# Pipes 1,000 messages of 10 KB through the built deliver binary, one process
# per message as the MTA runs it, with fsync on; prints messages/s and the
# median wall time per message, then deliver's peak RSS for a 50 MB message.
set -euo pipefail
cd "$(dirname "$0")/.."
# For scale: the cost of starting any process, and an empty static Go program, here.
t0=$(date +%s%N); for i in $(seq 200); do /bin/true; done; t1=$(date +%s%N)
echo "floor: /bin/true takes $(( (t1 - t0) / 200000 )) us per start on this machine"
CGO_ENABLED=0 go build -trimpath -o bin/deliver ./cmd/deliver
CGO_ENABLED=0 go build -trimpath -o bin/enqueuefloor ./bench/enqueuefloor
echo "uptime: $(uptime)"
go run ./bench/deliverbench -deliver bin/deliver -floor bin/enqueuefloor -n "${N:-1000}" -size $((10 * 1024)) -big 50
echo "uptime: $(uptime)"
