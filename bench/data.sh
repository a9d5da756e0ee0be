#!/bin/sh
# Data message benchmark of the gosfu engine: DataProducer → DataConsumer
# directly in one router, and over SCTP between two PipeTransports (UDP on
# 127.0.0.1), for 100-byte and 64 KiB messages. See bench/README.md.
#
#   bench/data.sh                       # BENCHTIME=3s LAT_BENCHTIME=10s COUNT=3
#   COUNT=5 bench/data.sh
#   BENCH='^BenchmarkDataPipe$/rcvbuf=4MiB' LAT_BENCH=none bench/data.sh  # a subset
#
# Throughput benchmarks (DataDirect, DataPipe) run for BENCHTIME, the paced
# latency benchmark (DataPipeLatency: 1000 msgs/s of 100 B, 100 msgs/s of
# 64 KiB) for LAT_BENCHTIME. Raw `go test` output goes to
# bench/results-data.txt (or $OUT); markdown tables of medians over COUNT
# runs are printed at the end (bench/data-summary.awk).
set -eu
cd "$(dirname "$0")/.."
BENCHTIME=${BENCHTIME:-3s}
LAT_BENCHTIME=${LAT_BENCHTIME:-10s}
COUNT=${COUNT:-3}
BENCH=${BENCH:-'^BenchmarkData(Direct|Pipe)$'}
LAT_BENCH=${LAT_BENCH:-'^BenchmarkDataPipeLatency$'}
OUT=${OUT:-bench/results-data.txt}

{
  echo "# $(date -u +%Y-%m-%dT%H:%M:%SZ) $(go version) GOMAXPROCS=${GOMAXPROCS:-default} nproc=$(nproc 2>/dev/null || echo ?)"
  echo "# $(grep -m1 'model name' /proc/cpuinfo 2>/dev/null | cut -d: -f2- | sed 's/^ *//')"
  echo "# commit $(git rev-parse --short HEAD 2>/dev/null || echo ?)$(git diff --quiet -- gosfu 2>/dev/null || echo ' (dirty)')"
  echo "# net.core.rmem_default=$(cat /proc/sys/net/core/rmem_default 2>/dev/null || echo ?) rmem_max=$(cat /proc/sys/net/core/rmem_max 2>/dev/null || echo ?)"
  echo "# loadavg before: $(cat /proc/loadavg 2>/dev/null || echo ?)"
  if [ "$BENCH" != none ]; then
    go test -run '^$' -bench "$BENCH" -benchtime "$BENCHTIME" -count "$COUNT" -timeout 60m ./gosfu/engine/
  fi
  if [ "$LAT_BENCH" != none ]; then
    go test -run '^$' -bench "$LAT_BENCH" -benchtime "$LAT_BENCHTIME" -count "$COUNT" -timeout 60m ./gosfu/engine/
  fi
  echo "# loadavg after: $(cat /proc/loadavg 2>/dev/null || echo ?)"
} 2>&1 | tee "$OUT"

echo
awk -f bench/data-summary.awk "$OUT"
