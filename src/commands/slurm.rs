//! `relsim slurm`: writes a ready Slurm job array of shards, its dependent merge job and the
//! script that submits both (docs/cluster.md).

use std::fs;
use std::path::{Path, PathBuf};

use super::ScenarioChoice;
use crate::error::{Error, Result};
use crate::output::write_atomically;

/// Options of `relsim slurm`.
#[derive(Debug, Clone, Default)]
pub struct SlurmOptions {
    /// The scenario every task runs, expanded into the job folder.
    pub scenario: ScenarioChoice,
    /// Shards: tasks of the job array.
    pub tasks: u32,
    /// Each task's time limit, in Slurm's notation (`MM`, `HH:MM:SS`, `D-HH:MM:SS`, …).
    pub time: String,
    pub cpus_per_task: u32,
    /// The job folder; default `slurm/<scenario name>`.
    pub out: Option<PathBuf>,
    /// Write into a folder that already holds files.
    pub force: bool,
    /// Shard the scenario's design (`relsim sweep`) instead of its replications (`relsim run`).
    pub sweep: bool,
}

/// What `relsim slurm` wrote.
#[derive(Debug, Clone)]
pub struct SlurmReport {
    pub dir: PathBuf,
    pub tasks: u32,
    /// What the tasks share, and what it is called (`replications`, `point-replications`).
    pub units: u64,
    pub unit_name: &'static str,
}

pub const SHARDS_SCRIPT: &str = "shards.sbatch";
pub const MERGE_SCRIPT: &str = "merge.sbatch";
pub const SUBMIT_SCRIPT: &str = "submit.sh";

/// Writes the job folder: the expanded scenario (so every task runs exactly the same one), the
/// job array, the merge job and `submit.sh`.
pub fn slurm(options: &SlurmOptions) -> Result<SlurmReport> {
    let (_, scenario, _) = options.scenario.load()?;
    let invalid = |option: &str, message: String| Error::InvalidOption {
        option: option.into(),
        message,
    };
    // What the tasks share: replications, or a sweep's units (point × replication).
    let (units, unit_name) = if options.sweep {
        let prepared = crate::sweep::PreparedSweep::new(&scenario, &options.scenario.spec)?;
        (
            prepared.points.len() as u64 * scenario.replications() as u64,
            "point-replications",
        )
    } else {
        (scenario.replications() as u64, "replications")
    };
    if options.tasks == 0 || u64::from(options.tasks) > units {
        return Err(invalid(
            "--tasks",
            format!(
                "must be between 1 and the {units} {unit_name} (each task runs at least one), \
                 got {}",
                options.tasks
            ),
        ));
    }
    if options.cpus_per_task == 0 {
        return Err(invalid("--cpus-per-task", "must be at least 1".into()));
    }
    let time_ok = !options.time.is_empty()
        && options
            .time
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '-')
        && options
            .time
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_digit());
    if !time_ok {
        return Err(invalid(
            "--time",
            format!(
                "`{}` is not a Slurm time limit: write minutes, HH:MM:SS or D-HH:MM:SS (e.g. \
                 02:00:00)",
                options.time
            ),
        ));
    }
    let dir = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("slurm").join(scenario.name()));
    let write_fail = |source| Error::Write {
        path: dir.clone(),
        source,
    };
    if dir.exists() && !options.force {
        let holds_files = fs::read_dir(&dir).map_err(write_fail)?.next().is_some();
        if holds_files {
            return Err(Error::OutputFolder {
                path: dir.clone(),
                message: "already holds files; choose another --out or pass --force to write \
                          the job's files over them"
                    .into(),
            });
        }
    }
    fs::create_dir_all(&dir).map_err(write_fail)?;
    let job = JobText {
        name: scenario.name(),
        tasks: options.tasks,
        units,
        unit_name,
        command: if options.sweep { "sweep" } else { "run" },
        time: &options.time,
        cpus: options.cpus_per_task,
    };
    write_atomically(&dir.join("scenario.toml"), |out| {
        writeln!(
            out,
            "# The scenario every task of this job runs (from {}), every default written out.",
            options.scenario.spec
        )?;
        out.write_all(scenario.to_toml().as_bytes())
    })?;
    write_atomically(&dir.join(SHARDS_SCRIPT), |out| {
        out.write_all(job.shards().as_bytes())
    })?;
    write_atomically(&dir.join(MERGE_SCRIPT), |out| {
        out.write_all(job.merge().as_bytes())
    })?;
    write_atomically(&dir.join(SUBMIT_SCRIPT), |out| {
        out.write_all(job.submit().as_bytes())
    })?;
    // Readable by the cluster's nodes, and the submit script runnable.
    for (name, mode) in [
        ("scenario.toml", 0o644),
        (SHARDS_SCRIPT, 0o644),
        (MERGE_SCRIPT, 0o644),
        (SUBMIT_SCRIPT, 0o755),
    ] {
        let path = dir.join(name);
        set_mode(&path, mode).map_err(|source| Error::Write { path, source })?;
    }
    Ok(SlurmReport {
        dir,
        tasks: options.tasks,
        units,
        unit_name,
    })
}

fn set_mode(path: &Path, mode: u32) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
}

/// The texts of the job's scripts.
struct JobText<'a> {
    name: &'a str,
    tasks: u32,
    units: u64,
    unit_name: &'a str,
    /// `run` or `sweep`.
    command: &'a str,
    time: &'a str,
    cpus: u32,
}

impl JobText<'_> {
    fn shards(&self) -> String {
        let Self {
            name,
            tasks,
            units,
            unit_name,
            command,
            time,
            cpus,
        } = self;
        let version = env!("CARGO_PKG_VERSION");
        format!(
            r#"#!/bin/bash
# Job array: {tasks} shards of scenario `{name}` ({units} {unit_name}), one per task.
# Written by `relsim slurm` (relsim {version}); submit it with ./submit.sh, which also queues
# the merge job to run once every task has succeeded.
#
# Adapt to your cluster:
#   - add #SBATCH --partition=… and --account=… lines if your site needs them;
#   - --time: each task runs about {units}/{tasks} {unit_name}; if a task hits the limit,
#     Slurm's USR1 warning (below) makes it keep what it finished, and running ./submit.sh
#     again continues every task from its part folder (--resume);
#   - RELSIM: the relsim binary (on PATH by default; `module load` lines go above it).
#SBATCH --job-name=relsim-{name}
#SBATCH --array=1-{tasks}
#SBATCH --cpus-per-task={cpus}
#SBATCH --time={time}
#SBATCH --signal=B:USR1@120
#SBATCH --output=logs/shard-%a.log
set -euo pipefail
RELSIM=${{RELSIM:-relsim}}
cd "$SLURM_SUBMIT_DIR"
# exec: relsim itself receives Slurm's signals (USR1 before the time limit, TERM on scancel).
exec "$RELSIM" {command} scenario.toml --shard slurm --threads "${{SLURM_CPUS_PER_TASK:-1}}" \
    --out "parts/$SLURM_ARRAY_TASK_ID" --resume --progress json --quiet
"#
        )
    }

    fn merge(&self) -> String {
        let Self { name, tasks, .. } = self;
        format!(
            r#"#!/bin/bash
# Merges the {tasks} part folders of the job array into results/, the folder one process
# running every replication writes, byte for byte. Queued by ./submit.sh with
# --dependency=afterok on the array, so it runs only once every task has succeeded.
#
# Adapt: partition/account lines as for shards.sbatch; drop --no-plots for charts and report.
#SBATCH --job-name=relsim-{name}-merge
#SBATCH --cpus-per-task=1
#SBATCH --time=00:30:00
#SBATCH --output=logs/merge.log
set -euo pipefail
RELSIM=${{RELSIM:-relsim}}
cd "$SLURM_SUBMIT_DIR"
parts=()
for task in $(seq 1 {tasks}); do parts+=("parts/$task"); done
exec "$RELSIM" merge "${{parts[@]}}" --out results --force --quiet --no-plots
"#
        )
    }

    fn submit(&self) -> String {
        let Self { name, tasks, .. } = self;
        format!(
            r#"#!/bin/bash
# Submits the job array of {tasks} shards of `{name}`, then the merge job, which waits for every
# shard to succeed (--dependency=afterok). Run it from anywhere; it works in its own folder.
# Resubmitting after a timeout continues each shard where it stopped.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs parts
array=$(sbatch --parsable shards.sbatch)
array=${{array%%;*}}
merge=$(sbatch --parsable --dependency=afterok:"$array" merge.sbatch)
echo "submitted job array $array ({tasks} shards) and merge job ${{merge%%;*}}; results in $(pwd)/results"
"#
        )
    }
}
