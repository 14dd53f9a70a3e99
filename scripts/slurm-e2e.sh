#!/usr/bin/env bash
# End-to-end test on a real one-node Slurm cluster (issue: "scale out on a real cluster").
#
# Installs Debian's slurmctld, slurmd, slurm-client and munge if they are missing, starts
# munged, slurmctld and slurmd by hand (no systemd; the node is this machine, named after
# `hostname`), writes a job array of shards plus its dependent merge job with `relsim slurm`,
# submits them, waits, and compares the merged folder with a one-process run byte for byte.
# Stops the daemons it started (by pid) and removes its scratch folder on exit, success or not.
#
#   scripts/slurm-e2e.sh [RELSIM_BINARY]     (default: target/release/relsim, built if missing)
#
# Must run as root (it writes /etc/slurm and starts daemons). Exits non-zero with a message
# saying what failed: installation, the cluster not coming up, a job failing, or a difference.
set -euo pipefail

here=$(cd "$(dirname "$0")/.." && pwd)
relsim=${1:-$here/target/release/relsim}
say() { printf 'slurm-e2e: %s\n' "$*" >&2; }
fail() { say "FAILED: $*"; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "must run as root (it configures and starts Slurm's daemons)"
if [[ ! -x $relsim ]]; then
    say "building relsim"
    (cd "$here" && cargo build --release --quiet) || fail "cannot build relsim"
fi
# The jobs run in their own folder: they need the binary's absolute path.
relsim=$(realpath "$relsim")

if ! command -v slurmctld >/dev/null || ! command -v slurmd >/dev/null \
    || ! command -v sbatch >/dev/null || ! command -v munged >/dev/null; then
    say "installing slurmctld slurmd slurm-client munge"
    install() {
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            slurmctld slurmd slurm-client munge >/dev/null
    }
    apt-get update -qq >/dev/null || true
    install || { sleep 5; apt-get update -qq >/dev/null || true; install; } \
        || fail "apt-get could not install Slurm and munge"
fi

work=$(mktemp -d /tmp/relsim-slurm-e2e.XXXXXX)
chmod 755 "$work"
pids=()
cleanup() {
    local status=$?
    for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
    for pid in "${pids[@]}"; do
        for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -9 "$pid" 2>/dev/null || true
    done
    if [[ $status -ne 0 ]]; then
        for log in "$work"/*.log "$work"/job/logs/*.log; do
            [[ -f $log ]] && { say "--- $log"; tail -n 20 "$log" >&2; }
        done
    fi
    rm -rf "$work"
    exit "$status"
}
trap cleanup EXIT
# A signal ends the script through its EXIT trap, which stops the daemons.
trap 'exit 130' INT
trap 'exit 143' TERM

node=$(hostname)
cpus=$(nproc)
memory=$(( $(awk '/MemTotal/ {print $2}' /proc/meminfo) / 1024 / 2 ))

# munge: a key of our own, a socket and pid file in the scratch folder.
mkdir -p "$work/munge"
dd if=/dev/urandom bs=1 count=1024 of="$work/munge/munge.key" status=none
chmod 400 "$work/munge/munge.key"
munged --force --key-file="$work/munge/munge.key" --socket="$work/munge/socket" \
    --pid-file="$work/munge/munged.pid" --log-file="$work/munged.log" \
    --seed-file="$work/munge/seed" || fail "munged did not start"
for _ in $(seq 50); do [[ -s $work/munge/munged.pid ]] && break; sleep 0.1; done
pids+=("$(cat "$work/munge/munged.pid")")

# slurm.conf for one node: this machine.
mkdir -p "$work/spool/ctld" "$work/spool/d"
conf=$work/slurm.conf
cat >"$conf" <<CONF
ClusterName=relsim-e2e
SlurmctldHost=$node
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
AuthInfo=socket=$work/munge/socket
CredType=cred/munge
MpiDefault=none
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
JobAcctGatherType=jobacct_gather/none
SchedulerType=sched/backfill
SelectType=select/cons_tres
SelectTypeParameters=CR_Core
ReturnToService=2
StateSaveLocation=$work/spool/ctld
SlurmdSpoolDir=$work/spool/d
SlurmctldPidFile=$work/slurmctld.pid
SlurmdPidFile=$work/slurmd.pid
SlurmctldLogFile=$work/slurmctld.log
SlurmdLogFile=$work/slurmd.log
SlurmctldPort=46817
SlurmdPort=46818
NodeName=$node CPUs=$cpus RealMemory=$memory State=UNKNOWN
PartitionName=e2e Nodes=$node Default=YES MaxTime=INFINITE State=UP
CONF
export SLURM_CONF=$conf

slurmctld -c -f "$conf" || fail "slurmctld did not start (see $work/slurmctld.log)"
for _ in $(seq 50); do [[ -s $work/slurmctld.pid ]] && break; sleep 0.1; done
[[ -s $work/slurmctld.pid ]] || fail "slurmctld wrote no pid file"
pids+=("$(cat "$work/slurmctld.pid")")
slurmd -f "$conf" || fail "slurmd did not start (see $work/slurmd.log)"
for _ in $(seq 50); do [[ -s $work/slurmd.pid ]] && break; sleep 0.1; done
[[ -s $work/slurmd.pid ]] || fail "slurmd wrote no pid file"
pids+=("$(cat "$work/slurmd.pid")")

say "waiting for node $node to be idle"
up=no
for _ in $(seq 120); do
    state=$(sinfo -h -n "$node" -o '%T' 2>/dev/null || true)
    if [[ $state == idle* ]]; then up=yes; break; fi
    sleep 0.5
done
[[ $up == yes ]] || fail "the cluster did not come up (node state: ${state:-unknown})"

# The study: a small Sobol sweep sharded four ways, then merged by a dependent job.
study=("$here/scenarios/sweeps/default_uncertainty.toml" --replications 2
    --set market.population=2000 --set market.initial_active=200 --set periods=24
    --set design.samples=8)
"$relsim" slurm "${study[@]}" --sweep --tasks 4 --cpus-per-task 1 --time 00:10:00 \
    --out "$work/job" >/dev/null || fail "relsim slurm could not write the job scripts"
started=$(date +%s.%N)
(cd "$work/job" && RELSIM=$relsim ./submit.sh) >"$work/submit.log" 2>&1 \
    || fail "submitting failed: $(cat "$work/submit.log")"
say "submitted: $(tr '\n' ' ' <"$work/submit.log")"
for _ in $(seq 600); do
    queue=$(squeue -h -o '%i %T %r' 2>/dev/null || true)
    [[ -z $queue ]] && break
    # A shard failed: the merge job waits for ever.
    if grep -q DependencyNeverSatisfied <<<"$queue"; then
        fail "a shard failed, so the merge job can never run: $(cat "$work"/job/logs/shard-*.log)"
    fi
    sleep 0.5
done
[[ -z $(squeue -h) ]] || fail "jobs still queued after 5 minutes: $(squeue)"
finished=$(date +%s.%N)
[[ -f $work/job/results/manifest.json ]] || fail "the merge job wrote no results"

# Run as the tasks do (from the job folder), so that scenario.toml names the same source.
single_started=$(date +%s.%N)
(cd "$work/job" && "$relsim" sweep scenario.toml --out "$work/single" --no-plots --quiet \
    --progress none) || fail "the one-process sweep failed"
single_finished=$(date +%s.%N)
compared=0
for path in "$work"/single/*; do
    file=$(basename "$path")
    [[ $file == manifest.json ]] && continue
    cmp -s "$path" "$work/job/results/$file" \
        || fail "$file differs between the merged folder and the one-process sweep"
    compared=$((compared + 1))
done
seconds() { python3 -c "print(f'{$2 - $1:.1f}')"; }
say "passed: a sweep in 4 shards and a merge on a one-node Slurm cluster equals one process," \
    "byte for byte ($compared files); $(seconds "$started" "$finished") s from submission to" \
    "merged results, $(seconds "$single_started" "$single_finished") s for the one-process sweep"
