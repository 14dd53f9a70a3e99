#!/usr/bin/env bash
# End-to-end test of `relsim serve` in a real headless browser (issue: "In the classroom").
#
# Installs Debian's chromium and chromium-driver (and python3) if they are missing, starts the
# dashboard on a free port and chromedriver, then scripts/dashboard_e2e.py drives the page:
# first charts, a slider moved with the keyboard, the charts changing, values on the page, a bad
# setting explained, screenshots in OUT_DIR. Stops what it started on exit, success or not.
#
#   scripts/dashboard-e2e.sh [RELSIM_BINARY] [OUT_DIR]
#       (defaults: target/release/relsim, built if missing; target/dashboard-e2e)
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
relsim=${1:-$here/target/release/relsim}
out=${2:-$here/target/dashboard-e2e}
say() { printf 'dashboard-e2e: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

if [[ ! -x $relsim ]]; then
    say "building relsim"
    (cd "$here" && cargo build --release --quiet) || fail "cannot build relsim"
fi
if ! command -v chromium >/dev/null || ! command -v chromedriver >/dev/null \
    || ! command -v python3 >/dev/null; then
    say "installing chromium chromium-driver python3"
    install() {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            chromium chromium-driver python3 fonts-dejavu-core >/dev/null
    }
    apt-get update -qq >/dev/null || true
    install || { sleep 5; apt-get update -qq >/dev/null || true; install; } \
        || fail "apt-get could not install chromium and chromium-driver"
fi
mkdir -p "$out"
scratch=$(mktemp -d)
pids=()
cleanup() {
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$scratch"
}
trap cleanup EXIT

"$relsim" serve default --port 0 >"$scratch/serve.out" 2>"$scratch/serve.err" &
pids+=($!)
for _ in $(seq 100); do
    grep -q "http://" "$scratch/serve.out" 2>/dev/null && break
    sleep 0.1
done
url=$(grep -o 'http://[^ ]*' "$scratch/serve.out") \
    || fail "relsim serve did not start: $(cat "$scratch/serve.err")"
say "dashboard at $url"

driver_port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
chromedriver --port="$driver_port" >"$scratch/driver.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do
    python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$driver_port/status')" \
        2>/dev/null && break
    sleep 0.1
done

python3 "$here/scripts/dashboard_e2e.py" "$url" "http://127.0.0.1:$driver_port" "$out" \
    || fail "the browser test failed (chromedriver's log: $(tail -5 "$scratch/driver.log"))"
say "passed; screenshots in $out"
