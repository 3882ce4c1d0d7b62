#!/usr/bin/env bash
# A 50 KB post signed and encrypted for 1,000 RSA-2048 subscribers: Cloister's
# outgoing S/MIME path against one openssl cms -encrypt process per
# subscriber, same machine, same run.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./bench/fanoutsmime -n "${N:-1000}"
echo
echo "Go benchmarks of the encryption path alone (one core):"
go test -run '^$' -bench 'Fanout|ForRSA' -cpu 1 ./mimecrypt/smime | grep -E '^Benchmark'
