#!/bin/sh
# Soak run (not part of npm test): Chromium clients join and leave the demo
# room while the SFU process is sampled; see bench/README.md ("Soak").
#   bench/soak/run.sh                      # 30 min, 3 clients, 6 joins/min
#   bench/soak/run.sh --duration 5m --clients 4 --churn 10 --out /tmp/soak
# Runs inside ../shared/tools/netns (loopback only); needs Chromium and a
# built addon (npm install).
set -e
cd "$(dirname "$0")/../.."
NETNS=${GOSFU_NETNS:-../shared/tools/netns}
exec "$NETNS" node bench/soak/soak.js "$@"
