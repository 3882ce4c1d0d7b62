#!/usr/bin/env bash
# Peak memory of every runner for a large post: a 25 MB post from a
# subscriber, arriving in clear, PGP/MIME encrypted to the list key (and
# signed) or S/MIME encrypted to the list's certificate, through the
# incoming, rules, pipeline, outgoing and archive runners, each its own
# `cloister runner NAME --once` process; the list signs and encrypts one
# copy to each of N Curve25519 subscribers (100 and 1,000 by default) into
# bench/smtpsink and archives the post encrypted. Prints each runner's peak
# RSS (VmHWM, read from /proc while it runs) and its ratio to the post's
# size, for each arrival and N, so that growth with the subscriber count
# shows.
#
# SUBS=smime gives the subscribers P-256 certificates instead of OpenPGP
# keys, and the list signs and encrypts with S/MIME.
#
# MEMPROFILE=PATH has every runner write its allocation profile to
# PATH.RUNNER (runners.MemProfileEnv; read with go tool pprof
# -sample_index=alloc_space); the sampling adds little to the peaks.
#
#   N=100,1000 SIZE_MB=25 ARRIVE=clear,pgp,smime SUBS=pgp bench/memory.sh
#
# ARRIVE=inline sends the PGP/MIME post's OpenPGP message (of its text
# alone) as an inline PGP text/plain body instead.
set -euo pipefail
if [ -n "${MEMPROFILE:-}" ]; then
	export CLOISTER_MEMPROFILE
	CLOISTER_MEMPROFILE=$(realpath -m "$MEMPROFILE")
fi
cd "$(dirname "$0")/.."
BIN=${BIN:-bin}
if [ -z "${NO_BUILD:-}" ]; then
	mkdir -p "$BIN"
	go build -o "$BIN/cloister" ./cmd/cloister
	CGO_ENABLED=0 go build -trimpath -o "$BIN/deliver" ./cmd/deliver
	go build -o "$BIN/smtpsink" ./bench/smtpsink
fi
echo "uptime: $(uptime)"
# A port of its own, so that a fan-out bench running meanwhile (port
# 25251) does not deliver into this sink, nor this one into its.
go run ./bench/fanoute2e -memory -port "${PORT:-127.0.0.1:25261}" -bin "$BIN" -n "${N:-100,1000}" -arrive "${ARRIVE:-clear,pgp,smime}" -subs "${SUBS:-pgp}" \
	-size $((${SIZE_MB:-25} * 1024 * 1024))
echo "uptime: $(uptime)"
