#!/usr/bin/env bash
# A 50 KB post signed and encrypted for 1,000 subscribers: Cloister's outgoing
# path against GnuPG run as a script would (one gpg per subscriber, and one gpg
# with every recipient), same machine, same run; Curve25519 then RSA-3072.
set -euo pipefail
cd "$(dirname "$0")/.."
go run ./bench/fanoutpgp -n "${N:-1000}" -algo cv25519
go run ./bench/fanoutpgp -n "${N:-1000}" -algo rsa3072 -gpg-sample 50
echo
echo "Go benchmarks of the encryption path alone (one core):"
go test -run '^$' -bench 'Fanout' -cpu 1 ./mimecrypt/pgp | grep -E '^Benchmark'
