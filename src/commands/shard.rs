//! `relsim run --shard i/n` writes a part folder; `relsim merge` turns parts into the folder a
//! single-machine run writes (docs/cluster.md).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::sweep::{sweep_scenario, SweepInput, SweepOptions, UnitSource};
use super::{
    publish, result_folder, OutputChoice, Progress, ProgressOutput, RunFacts, RunOptions,
    ScenarioChoice, StopOnSignals,
};
use crate::error::{Error, Result};
use crate::experiment::{
    run_experiment, run_sweep, ExecutionOptions, ExperimentOptions, Shard, StopRequest, SweepInfo,
};
use crate::output::part::{
    PartCompletion, PartFolder, PartInfo, PartKind, PartWriter, RunStream, Session,
};
use crate::output::{Manifest, StagedFolder, TimeSplit};
use crate::results::{ResultsCollector, RunSink};
use crate::scenario::{parse, Override, Scenario, ScenarioSource};
use crate::sweep::PreparedSweep;

/// What a shard did.
#[derive(Debug, Clone)]
pub struct ShardReport {
    pub part_dir: PathBuf,
    pub shard: Shard,
    /// The shard's replications, and how many this session ran (the rest were in the journal).
    pub replications: u64,
    pub ran: u64,
    pub wall_time_seconds: f64,
}

/// What a shard command was asked: its shard, its part folder, and what to say to continue.
struct ShardCall<'a> {
    /// `run` or `sweep`.
    command: &'static str,
    scenario: &'a ScenarioChoice,
    shard: Shard,
    part_dir: PathBuf,
    /// The scenario as loaded, with where it came from and its parsed overrides.
    source: ScenarioSource,
    loaded: Scenario,
    parsed_overrides: Vec<Override>,
}

impl<'a> ShardCall<'a> {
    /// The shard (`i/n`, or `slurm` from the environment), the part folder `--out` and the
    /// scenario with its overrides.
    fn new(
        command: &'static str,
        shard: Option<&str>,
        out: Option<&Path>,
        scenario: &'a ScenarioChoice,
    ) -> Result<Self> {
        let shard = Shard::parse(shard.unwrap_or("1/1"), |name| std::env::var(name).ok())?;
        let part_dir = out
            .map(Path::to_path_buf)
            .ok_or_else(|| Error::InvalidOption {
                option: "--shard".into(),
                message: "needs --out DIR: each shard writes a part folder of its own (e.g. --out \
                      parts/shard-2), which `relsim merge` combines"
                    .into(),
            })?;
        let (source, loaded, parsed_overrides) = scenario.load()?;
        Ok(Self {
            command,
            scenario,
            shard,
            part_dir,
            source,
            loaded,
            parsed_overrides,
        })
    }

    /// The part folder's description of the scenario (expanded as `scenario_text`).
    fn part_info(&self, scenario_text: &str, kind: PartKind, points: u64) -> PartInfo {
        let (source, scenario) = (&self.source, &self.loaded);
        let overrides = &self.parsed_overrides;
        PartInfo {
            relsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_name: scenario.name().to_string(),
            scenario_source: source.name.clone(),
            scenario_source_sha256: sha256(&source.text),
            overrides: overrides.iter().map(|o| o.assignment.clone()).collect(),
            scenario_sha256: sha256(scenario_text),
            shard_index: self.shard.index(),
            shard_count: self.shard.count(),
            kind,
            points,
            replications: scenario.replications() as u64,
            strategies: scenario.strategies().len() as u32,
            periods: scenario.periods(),
        }
    }

    /// Records the session that just ran in the part folder (how long, on how many threads,
    /// and where its time went by `time_split` of its outcome, if it finished), and turns an
    /// interruption into the error that says what was kept and how to continue.
    fn end_session<T>(
        &self,
        writer: &PartWriter,
        outcome: Result<T>,
        (wall_time_seconds, threads, time_split): (f64, usize, fn(&T) -> TimeSplit),
        (done_before, share, units): (u64, u64, &'static str),
    ) -> Result<T> {
        writer.record_session(Session {
            wall_time_seconds,
            threads,
            // A stopped session's split covers the units it finished and kept.
            time_split: match &outcome {
                Ok(info) => time_split(info),
                Err(Error::Interrupted { time_split, .. }) => *time_split,
                Err(_) => TimeSplit::default(),
            },
        })?;
        outcome.map_err(|err| match err {
            Error::Interrupted {
                signal, finished, ..
            } => Error::InterruptedKept {
                signal,
                done: done_before + finished,
                total: share,
                units,
                whose: "the shard's ",
                kept: self.part_dir.clone(),
                resume: resume_command(
                    self.command,
                    self.scenario,
                    (Some(self.shard), Some(&self.part_dir)),
                ),
            },
            other => other,
        })
    }
}

/// `relsim run --shard i/n --out PART`: runs the shard's replications into a part folder,
/// continuing its journal with `--resume`. `options.shard` is `i/n` or `slurm`.
pub fn run_shard(options: &RunOptions) -> Result<ShardReport> {
    let call = ShardCall::new(
        "run",
        options.shard.as_deref(),
        options.output.out.as_deref(),
        &options.scenario,
    )?;
    let scenario = &call.loaded;
    let threads = super::resolve_threads(options.threads);
    super::check_memory(scenario, threads, options.allow_large)?;
    let (shard, part_dir) = (call.shard, call.part_dir.clone());
    let scenario_text = scenario.to_toml();
    let info = call.part_info(&scenario_text, PartKind::Run, 1);
    let (mut writer, done) = PartWriter::open(&part_dir, info, &scenario_text, options.resume)?;
    let share = shard.replications(scenario.replications() as u64);
    let to_run: Vec<u64> = share
        .iter()
        .copied()
        .filter(|r| done.binary_search(r).is_err())
        .collect();

    let stop = StopRequest::default();
    let _signals = StopOnSignals::install(&stop);
    let progress = Progress::of_shard(
        options.output.progress,
        options.output.quiet,
        shard,
        (share.len() - to_run.len()) as u64,
        share.len() as u64,
        "replications",
        format!("simulating {} shard {shard}", scenario.name()),
    );
    let started = Instant::now();
    let ran = to_run.len() as u64;
    let outcome = run_experiment(
        scenario,
        ExperimentOptions {
            threads,
            stop: stop.clone(),
            replications: Some(to_run),
            ..Default::default()
        },
        &mut writer,
        &|| progress.inc(),
    );
    progress.finish();
    let wall_time = started.elapsed().as_secs_f64();
    call.end_session(
        &writer,
        outcome,
        (wall_time, threads, |info| info.time_split),
        (done.len() as u64, share.len() as u64, "replications"),
    )?;
    // Everything the part's runs cost, over every session that ran them.
    let folder = PartFolder::open(&part_dir)?;
    let (_, active_customer_steps) = folder.run_summary()?;
    let sessions = folder.sessions_total()?;
    writer.complete(&PartCompletion {
        units_done: share.len() as u64,
        wall_time_seconds: sessions.wall_time_seconds,
        threads: sessions.threads,
        customer_steps: share.len() as u64 * scenario.customer_steps_per_replication(),
        active_customer_steps,
        time_split: sessions.time_split,
    })?;
    Ok(ShardReport {
        part_dir,
        shard,
        replications: share.len() as u64,
        ran,
        wall_time_seconds: wall_time,
    })
}

/// The command that continues an interrupted `relsim COMMAND`: a shard (`shard`) or a plain
/// run, with its `--out` if it was given one.
pub(super) fn resume_command(
    command: &str,
    scenario: &ScenarioChoice,
    (shard, out): (Option<Shard>, Option<&Path>),
) -> String {
    let mut words = vec![
        "relsim".to_string(),
        command.into(),
        shell_word(&scenario.spec),
    ];
    for assignment in &scenario.overrides {
        words.push("--set".into());
        words.push(shell_word(assignment));
    }
    if let Some(replications) = scenario.replications {
        words.push(format!("--replications {replications}"));
    }
    if let Some(seed) = scenario.seed {
        words.push(format!("--seed {seed}"));
    }
    if let Some(shard) = shard {
        words.push(format!("--shard {shard}"));
    }
    if let Some(out) = out {
        words.push("--out".into());
        words.push(shell_word(&out.display().to_string()));
    }
    words.push("--resume".into());
    words.join(" ")
}

/// `relsim sweep --shard i/n --out PART`: runs the shard's units (point × replication) into a
/// part folder, continuing its journal with `--resume`.
pub fn sweep_shard(options: &SweepOptions) -> Result<ShardReport> {
    let call = ShardCall::new(
        "sweep",
        options.shard.as_deref(),
        options.output.out.as_deref(),
        &options.scenario,
    )?;
    let scenario = &call.loaded;
    let prepared = PreparedSweep::new(scenario, &call.source.name)?;
    let threads = super::resolve_threads(options.threads);
    let (shard, part_dir) = (call.shard, call.part_dir.clone());
    let scenario_text = scenario.to_toml();
    let replications = scenario.replications() as u64;
    let points = prepared.points.len() as u64;
    let info = call.part_info(&scenario_text, PartKind::Sweep, points);
    let (mut writer, done) = PartWriter::open(&part_dir, info, &scenario_text, options.resume)?;
    let share = shard.replications(points * replications).len() as u64;
    let stop = StopRequest::default();
    let _signals = StopOnSignals::install(&stop);
    let progress = Progress::of_shard(
        options.output.progress,
        options.output.quiet,
        shard,
        done.len() as u64,
        share,
        "point-replications",
        format!("sweeping {} shard {shard}", scenario.name()),
    );
    let started = Instant::now();
    let ran = share - done.len() as u64;
    let outcome = run_sweep(
        scenario,
        &prepared,
        &ExecutionOptions {
            threads,
            stop: stop.clone(),
            shard,
            done_units: done.clone(),
            keep_unfinished_batches: true,
        },
        &mut writer,
        &|| progress.inc(),
    );
    progress.finish();
    let wall_time = started.elapsed().as_secs_f64();
    call.end_session(
        &writer,
        outcome,
        (wall_time, threads, |info| info.time_split),
        (done.len() as u64, share, "point-replications"),
    )?;
    let folder = PartFolder::open(&part_dir)?;
    let (_, customer_steps, active_customer_steps) = folder.unit_summary()?;
    let sessions = folder.sessions_total()?;
    writer.complete(&PartCompletion {
        units_done: share,
        wall_time_seconds: sessions.wall_time_seconds,
        threads: sessions.threads,
        customer_steps,
        active_customer_steps,
        time_split: sessions.time_split,
    })?;
    Ok(ShardReport {
        part_dir,
        shard,
        replications: share,
        ran,
        wall_time_seconds: wall_time,
    })
}

/// Merges complete sweep parts: every unit once, in order, through `relsim sweep`'s own
/// analysis and writing.
fn merge_sweep(parts: &[PartFolder], options: &MergeOptions) -> Result<MergeReport> {
    let reference = &parts[0].info;
    let total = reference.points * reference.replications;
    // Unit by unit in the design's order, each exactly once, straight from the journals.
    let mut stream = PartFolder::unit_stream(parts)?;
    let replications = reference.replications;
    let misplaced = move |index: u64, problem: &str| Error::InvalidOption {
        option: "merge".into(),
        message: format!(
            "point {} replication {} is {problem} in the parts: the journals were changed after \
             the shards wrote them; run the shard again into a new folder",
            index / replications,
            index % replications
        ),
    };
    let mut next_index = 0u64;
    let units = std::iter::from_fn(move || {
        if next_index == total {
            return match stream.leftover() {
                Ok(Some(unit)) => Some(Err(misplaced(
                    u64::from(unit.point) * replications + unit.replication,
                    "twice",
                ))),
                Ok(None) => None,
                Err(err) => Some(Err(err)),
            };
        }
        let index = next_index;
        next_index += 1;
        Some(stream.take(index).and_then(|mut found| match found.len() {
            1 => Ok(found.remove(0)),
            0 => Err(misplaced(index, "missing")),
            _ => Err(misplaced(index, "twice")),
        }))
    });
    let completions: Vec<&PartCompletion> =
        parts.iter().filter_map(|p| p.completion.as_ref()).collect();
    let info = SweepInfo {
        threads: completions.iter().map(|c| c.threads).max().unwrap_or(1),
        units: total,
        customer_steps: completions.iter().map(|c| c.customer_steps).sum(),
        active_customer_steps: completions.iter().map(|c| c.active_customer_steps).sum(),
        time_split: total_time_split(&completions),
    };
    let wall_time = completions.iter().map(|c| c.wall_time_seconds).sum();
    let scenario = parse(&parts[0].scenario_text, &reference.scenario_source, &[])?;
    let report = sweep_scenario(
        SweepInput {
            scenario,
            source_name: reference.scenario_source.clone(),
            source_sha256: reference.scenario_source_sha256.clone(),
            overrides: reference.overrides.clone(),
        },
        &SweepOptions {
            output: OutputChoice {
                out: options.out.clone(),
                force: options.force,
                quiet: true,
                progress: ProgressOutput::None,
            },
            no_plots: options.no_plots,
            ..Default::default()
        },
        UnitSource::Replay {
            units: Box::new(units),
            info,
            wall_time,
        },
    )?;
    Ok(MergeReport {
        out_dir: report.out_dir,
        parts: parts.len(),
        table: report.text,
        plot_seconds: 0.0,
    })
}

/// `word` quoted for a POSIX shell where it needs to be.
pub(super) fn shell_word(word: &str) -> String {
    let plain = word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=,:+@%".contains(c));
    if plain && !word.is_empty() {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', r"'\''"))
    }
}

fn sha256(text: &str) -> String {
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

/// Options of `relsim merge`.
#[derive(Debug, Clone, Default)]
pub struct MergeOptions {
    pub parts: Vec<PathBuf>,
    pub out: Option<PathBuf>,
    pub force: bool,
    pub no_plots: bool,
    /// The widest line the terminal table may have; 0 for no limit.
    pub table_width: usize,
}

/// What `relsim merge` produced.
#[derive(Debug, Clone)]
pub struct MergeReport {
    pub out_dir: PathBuf,
    pub parts: usize,
    pub table: String,
    pub plot_seconds: f64,
}

/// `relsim merge PARTS… -o OUT`: checks that the parts belong together and cover every
/// replication once, then writes the folder one process running every replication writes:
/// every summary is recomputed from the runs, in replication order.
pub fn merge(options: &MergeOptions) -> Result<MergeReport> {
    let first_path = options.parts.first().ok_or_else(|| Error::InvalidOption {
        option: "merge".into(),
        message: "give the part folders to merge, e.g. relsim merge parts/* -o results".into(),
    })?;
    let parts: Vec<PartFolder> = options
        .parts
        .iter()
        .map(|dir| PartFolder::open(dir))
        .collect::<Result<_>>()?;
    let reference = &parts[0];
    let invalid = |path: &Path, message: String| Error::InvalidOutput {
        path: path.to_path_buf(),
        message,
    };
    let version = env!("CARGO_PKG_VERSION");
    for part in &parts {
        let info = &part.info;
        if info.relsim_version != version {
            return Err(invalid(
                &part.dir,
                format!(
                    "was written by relsim {}, this is relsim {version}: parts merge only with \
                     the version that ran them",
                    info.relsim_version
                ),
            ));
        }
        let same = info.scenario_sha256 == reference.info.scenario_sha256
            && info.kind == reference.info.kind
            && info.shard_count == reference.info.shard_count
            && info.replications == reference.info.replications
            && info.points == reference.info.points;
        if !same {
            return Err(invalid(
                &part.dir,
                format!(
                    "is shard {}/{} of scenario {} ({}, {} replications), but {} is shard {}/{} \
                     of scenario {} ({}, {} replications): parts merge only from the same \
                     scenario, seed and number of shards",
                    info.shard_index,
                    info.shard_count,
                    info.scenario_name,
                    &info.scenario_sha256[..12],
                    info.replications,
                    first_path.display(),
                    reference.info.shard_index,
                    reference.info.shard_count,
                    reference.info.scenario_name,
                    &reference.info.scenario_sha256[..12],
                    reference.info.replications,
                ),
            ));
        }
    }
    let count = reference.info.shard_count;
    let mut by_shard: BTreeMap<u32, &PartFolder> = BTreeMap::new();
    for part in &parts {
        if let Some(other) = by_shard.insert(part.info.shard_index, part) {
            return Err(invalid(
                &part.dir,
                format!(
                    "is shard {}/{count}, and so is {}: give each shard once",
                    part.info.shard_index,
                    other.dir.display()
                ),
            ));
        }
    }
    let missing: Vec<String> = (1..=count)
        .filter(|i| !by_shard.contains_key(i))
        .map(|i| format!("{i}/{count}"))
        .collect();
    if !missing.is_empty() {
        return Err(Error::InvalidOption {
            option: "merge".into(),
            message: format!(
                "{} {} {} missing: every shard's part folder is needed",
                if missing.len() == 1 {
                    "shard"
                } else {
                    "shards"
                },
                missing.join(", "),
                if missing.len() == 1 { "is" } else { "are" },
            ),
        });
    }
    for part in &parts {
        if part.completion.is_none() {
            let done = part.done()?.len();
            let shard = Shard::new(part.info.shard_index, count)?;
            let (command, units) = match part.info.kind {
                PartKind::Run => ("run", "replications"),
                PartKind::Sweep => ("sweep", "point-replications"),
            };
            return Err(invalid(
                &part.dir,
                format!(
                    "is not complete: shard {shard} has {done} of its {} {units}; continue it \
                     with `relsim {command} … --shard {shard} --out {} --resume`",
                    shard
                        .replications(part.info.points * part.info.replications)
                        .len(),
                    part.dir.display()
                ),
            ));
        }
    }
    if reference.info.kind == PartKind::Sweep {
        return merge_sweep(&parts, options);
    }

    let scenario = parse(
        &reference.scenario_text,
        &reference.info.scenario_source,
        &[],
    )?;
    let strategies = scenario.strategies().len();
    // Replication by replication, each from its shard's journal: only a batch of runs per
    // journal file is in memory at a time, whatever the experiment's size.
    let mut streams: BTreeMap<u32, RunStream> = BTreeMap::new();
    for (&index, part) in &by_shard {
        streams.insert(index, part.run_stream()?);
    }
    let mut collector = ResultsCollector::new(&scenario);
    for replication in 0..reference.info.replications {
        // Replication r is shard (r mod n) + 1's.
        let shard = (replication % u64::from(count)) as u32 + 1;
        let stream = streams.get_mut(&shard).expect("every shard is present");
        let runs = stream.take(replication)?;
        let strategies_found: Vec<usize> = runs.iter().map(|r| r.strategy_idx).collect();
        if strategies_found != (0..strategies).collect::<Vec<_>>() {
            return Err(invalid(
                &by_shard[&shard].dir,
                format!(
                    "replication {replication} has runs of strategies {strategies_found:?}, not \
                     each of the {strategies} once: the journal is incomplete or duplicated; run \
                     the shard again into a new folder"
                ),
            ));
        }
        for run in runs {
            collector.accept(run)?;
        }
    }
    for (shard, stream) in &mut streams {
        if let Some(run) = stream.leftover()? {
            return Err(invalid(
                &by_shard[shard].dir,
                format!(
                    "holds replication {} strategy {} more than once, or where shard {shard}/{count} \
                     has none: the folder was changed after the shard wrote it",
                    run.replication, run.strategy_idx
                ),
            ));
        }
    }
    let results = collector.finish()?;

    let completions: Vec<&PartCompletion> =
        parts.iter().filter_map(|p| p.completion.as_ref()).collect();
    let wall_time: f64 = completions.iter().map(|c| c.wall_time_seconds).sum();
    let customer_steps: u64 = completions.iter().map(|c| c.customer_steps).sum();
    let active_customer_steps: u64 = completions.iter().map(|c| c.active_customer_steps).sum();
    let manifest = Manifest {
        scenario_source: reference.info.scenario_source.clone(),
        scenario_sha256: reference.info.scenario_source_sha256.clone(),
        overrides: reference.info.overrides.clone(),
        time_split: total_time_split(&completions),
        ..RunFacts::manifest_of(
            &scenario,
            results.strategy_names.clone(),
            reference.info.replications,
            completions.iter().map(|c| c.threads).max().unwrap_or(1),
            wall_time,
            customer_steps,
            active_customer_steps,
        )
    };
    let out_dir = result_folder(options.out.as_deref(), &scenario, "");
    let folder = StagedFolder::prepare(&out_dir, options.force)?;
    let published = publish(
        folder,
        results,
        &manifest,
        &scenario,
        options.no_plots,
        options.table_width,
    )?;
    let out_dir = published.folder.commit(manifest)?;
    Ok(MergeReport {
        out_dir,
        parts: parts.len(),
        table: published.table,
        plot_seconds: published.plot_seconds,
    })
}

/// The parts' time splits together.
fn total_time_split(completions: &[&PartCompletion]) -> TimeSplit {
    completions
        .iter()
        .fold(TimeSplit::default(), |total, c| total.plus(c.time_split))
}
