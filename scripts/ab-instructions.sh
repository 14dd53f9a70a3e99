#!/usr/bin/env bash
# Compares two relsim binaries by the instructions they execute, a measure the machine's drift
# cannot blur (timings here drift by 10 % within an hour): runs each once under Valgrind's
# callgrind on a one-replication version of the end-to-end benchmark of README's Performance
# section (relationship only, 100 000 customers, 10 % active, 60 months, one thread) and prints
# the instructions of the whole command, of building the world, and of everything else (almost
# all of it simulating the strategy).
#
#   scripts/ab-instructions.sh OLD_BINARY NEW_BINARY [REPLICATIONS]
#
# The engine retires about five instructions a cycle whatever it runs, so a change that cuts
# instructions saves about as much time; confirm with scripts/ab-throughput.sh, since a change
# can also cost cache misses or mispredicted branches that instructions do not show.
# Needs valgrind (`apt-get install valgrind`); each binary takes a few seconds.
set -euo pipefail
if [[ $# -lt 2 ]]; then
    echo "usage: $0 OLD_BINARY NEW_BINARY [REPLICATIONS]" >&2
    exit 2
fi
command -v valgrind >/dev/null || {
    echo "$0: valgrind is not installed (apt-get install valgrind)" >&2
    exit 2
}
replications=${3:-1}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
count() {
    local binary=$1 side=$2
    valgrind --tool=callgrind --callgrind-out-file="$work/$side.out" "$binary" run default \
        --set market.population=100000 --set market.initial_active=10000 \
        --set 'strategies=[{preset="relationship"}]' --replications "$replications" \
        --threads 1 --no-plots --quiet --out "$work/$side" --force 2>"$work/$side.log"
    callgrind_annotate --inclusive=yes "$work/$side.out" >"$work/$side.txt" 2>/dev/null
    # The total, then the first (inclusive) line of each phase's function.
    python3 - "$work/$side.txt" "$side" <<'PY'
import re, sys
text = open(sys.argv[1]).read().splitlines()
def first(pattern):
    for line in text:
        if re.search(pattern, line):
            return int(line.split()[0].replace(",", ""))
    return 0
total = first(r"PROGRAM TOTALS")
world = first(r"::World::generate_with( \[|$)")
print(f"{sys.argv[2]} {total} {world} {total - world}")
PY
}
count "$1" old >"$work/counts"
count "$2" new >>"$work/counts"
python3 - "$work/counts" <<'PY'
import sys
rows = {line.split()[0]: list(map(int, line.split()[1:])) for line in open(sys.argv[1])}
old, new = rows["old"], rows["new"]
for idx, name in enumerate(["whole command", "building worlds", "everything else"]):
    change = 100.0 * (new[idx] - old[idx]) / old[idx] if old[idx] else float("nan")
    print(f"{name:>16}: {old[idx] / 1e6:9.1f} M -> {new[idx] / 1e6:9.1f} M instructions ({change:+.2f} %)")
PY
