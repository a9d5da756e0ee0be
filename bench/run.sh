#!/bin/sh
# Forwarding benchmark of the gosfu engine: one producer to N consumers
# (N = 1, 10, 100) over plain RTP and SRTP, real UDP sockets on 127.0.0.1.
# See bench/README.md.
#
#   bench/run.sh                    # BENCHTIME=2s COUNT=3
#   BENCHTIME=1s COUNT=5 bench/run.sh
#   BENCH='Forward/srtp-gcm' bench/run.sh
#
# Raw `go test` output goes to bench/results.txt (or $OUT); a markdown
# table of medians over COUNT runs is printed at the end (bench/summary.awk).
set -eu
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-2s}
COUNT=${COUNT:-3}
BENCH=${BENCH:-Forward}
OUT=${OUT:-bench/results.txt}

{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) GOMAXPROCS=${GOMAXPROCS:-default} nproc=$(nproc 2>/dev/null || echo ?)"
  echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet -- gosfu 2>/dev/null || echo ' (dirty)')"
  go test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" -count "$COUNT" -timeout 60m ./gosfu/engine/
} 2>&1 | tee "$OUT"

echo
awk -f bench/summary.awk "$OUT"
