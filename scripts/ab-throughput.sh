#!/usr/bin/env bash
# Compares the end-to-end throughput of two relsim binaries on a machine whose speed drifts:
# runs them alternately (A, B, A, B, …) on the same command and prints each run's
# customer-steps per second from its manifest, then each binary's mean and range.
#
#   scripts/ab-throughput.sh OLD_BINARY NEW_BINARY [ROUNDS]
#
# The command is the end-to-end benchmark of README's Performance section: relationship only,
# 100 000 customers (10 % active), 60 months, 8 replications, one thread, no charts.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 OLD_BINARY NEW_BINARY [ROUNDS]" >&2
    exit 2
fi
a=$1 b=$2 rounds=${3:-4}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
run() {
    "$1" run default --set market.population=100000 --set market.initial_active=10000 \
        --set 'strategies=[{preset="relationship"}]' --replications 8 --threads 1 \
        --no-plots --quiet --out "$work/out" --force
    python3 -c 'import json, sys
m = json.load(open(sys.argv[1]))
steps, active = m["customer_steps_per_second"], m["active_customer_steps_per_second"]
print("%.2f %.2f" % (steps / 1e6, active / 1e6))' "$work/out/manifest.json"
}
: >"$work/a" && : >"$work/b"
for ((round = 1; round <= rounds; round++)); do
    run "$a" | tee -a "$work/a" | sed "s/^/A $round: /"
    run "$b" | tee -a "$work/b" | sed "s/^/B $round: /"
done
for side in a b; do
    python3 -c 'import sys
rows = [list(map(float, line.split())) for line in open(sys.argv[1])]
steps = [r[0] for r in rows]; active = [r[1] for r in rows]
print(f"{sys.argv[2]}: {sum(steps) / len(steps):.1f} M customer-steps/s ({min(steps):.1f}-{max(steps):.1f}), "
      f"{sum(active) / len(active):.1f} M active ({min(active):.1f}-{max(active):.1f}) over {len(rows)} runs")' \
        "$work/$side" "$(tr a-b A-B <<<"$side")"
done
