#!/usr/bin/env bash
# A 50 KB post signed and encrypted to N Curve25519 subscribers, as an
# operator runs it: deliver and the runners as processes (`cloister runner
# NAME --once`), the outgoing runner timed alone, into a real SMTP server
# process on loopback: bench/smtpsink (a fast discarding SMTP server, a
# minimal state machine reading in bulk; it offers PIPELINING and CHUNKING
# and counts the copies per recipient) and Postfix's smtp-sink (PIPELINING, no CHUNKING:
# the DATA path), and a private Postfix instance (root; its smtpd takes each
# message into its queue, fsynced, then the discard transport drops it).
# Then Postfix's smtp-source sends the same number of messages
# of the same size, with the same recipients per message, on as many
# sessions as the runner opens (smtp_sessions), into the same receiver, for the ratio. Prints one line per case: the
# outgoing process's wall time, CPU (user + system), CPU per 1,000 copies and
# copies/s; smtp-source's wall, CPU and copies/s; and Cloister's rate over
# smtp-source's; the whole machine's busy CPU during the runner's run and during
# smtp-source's (mach_cpu, src_mach: the receiver's share); and smtp-source sending one of the runner's own
# copies (-F, the copy saved by smtpsink, so smtpsink runs first) and the ratio to that (src_copy_s, ratio_c):
# what the receiver spends on a list copy's content is then in both; each the median of REPEAT runs. Figures
# depend on the machine's load: the script prints it.
#
#   N=1000,10000 BATCH=1,100 bench/fanout-e2e.sh
#   RECEIVERS=smtp-sink BIN=/tmp/old-bin NO_BUILD=1 bench/fanout-e2e.sh   # another build
#   OLD=/tmp/old-bin bench/fanout-e2e.sh   # that build and this tree's, taking turns on one site
#   CHUNKING=1 RECEIVERS=smtpsink bench/fanout-e2e.sh   # smtp_chunking on (BDAT)
#   SESSIONS=8 bench/fanout-e2e.sh                       # smtp_sessions (and smtp-source's -s)
#   CPUPROFILE=/tmp/prof bench/fanout-e2e.sh   # the outgoing runner's CPU profiles into that folder
#   PORT=127.0.0.1:25371 bench/fanout-e2e.sh   # where the receivers listen (another run may hold the default)
#
# smtp-source has no BDAT: with CHUNKING=1 its ratio is against DATA into
# the same server.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v smtp-source >/dev/null || { echo "smtp-source missing: apt-get install postfix" >&2; exit 1; }
BIN=${BIN:-bin}
if [ -z "${NO_BUILD:-}" ]; then
	mkdir -p "$BIN"
	go build -o "$BIN/cloister" ./cmd/cloister
	CGO_ENABLED=0 go build -trimpath -o "$BIN/deliver" ./cmd/deliver
	go build -o "$BIN/smtpsink" ./bench/smtpsink
fi
echo "uptime: $(uptime)"
BINS=$BIN
[ -z "${OLD:-}" ] || BINS="$OLD,$BIN"
[ -z "${CPUPROFILE:-}" ] || mkdir -p "$CPUPROFILE"
go run ./bench/fanoute2e -bin "$BINS" -n "${N:-1000,10000}" -batch "${BATCH:-1,100}" \
	-receivers "${RECEIVERS:-smtpsink,smtp-sink,postfix}" -size $((${SIZE_KB:-50} * 1024)) -repeat "${REPEAT:-3}" \
	${CHUNKING:+-chunking} ${SESSIONS:+-sessions "$SESSIONS"} ${CPUPROFILE:+-cpuprofile "$CPUPROFILE"} ${PORT:+-port "$PORT"}
echo "uptime: $(uptime)"
