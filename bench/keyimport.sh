#!/usr/bin/env bash
# Setting up N keyed members (10,000 by default) in bulk: N Curve25519 keys
# made in Go into one binary keyring file, then `cloister member import
# LIST members.csv --keys keys.gpg` (the members and their keys, one process,
# one keyring transaction); prints the wall time of the import, and of a
# second `cloister key import keys.gpg` (every key already on file).
#
#   N=10000 bench/keyimport.sh
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
mkdir -p "$BIN"
go build -o "$BIN/cloister" ./cmd/cloister
dir=$(mktemp -d)
trap 'rm -rf "$dir"' EXIT
go run ./bench/keygen -n "${N:-10000}" -keys "$dir/keys.gpg" -csv "$dir/members.csv"
"$BIN/cloister" init --state-dir "$dir/state" --domain lists.bench.test --smtp 127.0.0.1:1 >/dev/null
export CLOISTER_CONFIG="$dir/state/cloister.toml"
"$BIN/cloister" list create team --owner owner@subs.test >/dev/null
echo "uptime: $(uptime)"
t0=$(date +%s%N)
"$BIN/cloister" member import team "$dir/members.csv" --keys "$dir/keys.gpg" | tail -2
t1=$(date +%s%N)
echo "member import with keys, ${N:-10000} members: $(( (t1 - t0) / 1000000 )) ms"
t0=$(date +%s%N)
"$BIN/cloister" key import "$dir/keys.gpg" | tail -1
t1=$(date +%s%N)
echo "key import again (keys on file): $(( (t1 - t0) / 1000000 )) ms"
echo "uptime: $(uptime)"
