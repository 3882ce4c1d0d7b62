#!/usr/bin/env bash
# Pipes 1,000 messages of 10 KB through the built deliver binary, one process
# per message as the MTA runs it, with fsync on; prints messages/s and the
# median wall time per message, then deliver's peak RSS for a 50 MB message.
set -euo pipefail
cd "$(dirname "$0")/.."
go build -o bin/deliver ./cmd/deliver
go run ./bench/deliverbench -deliver bin/deliver -n "${N:-1000}" -size $((10 * 1024)) -big 50
