//! What each command does, independent of how the command line was parsed. This is the edge
//! where relsim reads files, reads the clock, draws the progress bar and writes results.

use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::Instant;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::experiment::adaptive::{run_until_precise, AdaptiveOutcome, AdaptivePlan, TargetWidth};
use crate::experiment::{
    estimate_memory_bytes, run_experiment, ExperimentInfo, ExperimentOptions, StopRequest,
};
use crate::output::{
    self, AdaptiveManifest, ExportInput, Manifest, OutputFolder, StagedFolder, TimeSplit,
};
use crate::plot::ChartSpec;
use crate::report::{count, html_report, terminal_report};
use crate::results::{ResultsCollector, RunSink};
use crate::scenario::{presets, Override, Scenario, ScenarioSource};

mod breakeven;
mod calibrate;
mod checkpoint;
mod decompose;
mod progress;
mod serve;
mod shard;
mod slurm;
mod stories;
mod sweep;
pub use breakeven::{breakeven, BreakevenOptions, BreakevenReport};
pub use calibrate::{calibrate, CalibrateOptions, CalibrateReport};
pub use decompose::{decompose, DecomposeOptions, DecomposeReport};
pub(crate) use progress::Progress;
pub use progress::ProgressOutput;
pub use serve::{serve, ServeOptions};
pub use shard::{merge, run_shard, sweep_shard, MergeOptions, MergeReport, ShardReport};
pub use slurm::{slurm, SlurmOptions, SlurmReport};
pub use stories::{stories, StoriesFormat, StoriesOptions, MAX_STORY_CUSTOMERS};
pub use sweep::{sweep, SweepOptions, SweepReport};

/// The scenario a command works on: a scenario file or a bundled preset's name, `--set`
/// overrides, and the shortcuts `--replications` and `--seed`.
#[derive(Debug, Clone, Default)]
pub struct ScenarioChoice {
    /// A scenario file, or the name of a bundled preset.
    pub spec: String,
    /// `KEY=VALUE` overrides, applied in order.
    pub overrides: Vec<String>,
    /// Replications (for a design: at every point), overriding the file's.
    pub replications: Option<u32>,
    /// The master seed, overriding the file's.
    pub seed: Option<u64>,
}

impl ScenarioChoice {
    /// The scenario, where it came from, and every override applied to it (the shortcuts
    /// last, as `replications` and `seed` overrides).
    pub fn load(&self) -> Result<(ScenarioSource, Scenario, Vec<Override>)> {
        load_scenario(&self.spec, &self.overrides, self.replications, self.seed)
    }
}

/// Where a command writes its result folder, and what it shows while it runs.
#[derive(Debug, Clone, Default)]
pub struct OutputChoice {
    /// The result folder; by default `outputs/<scenario name>` and the command's suffix.
    pub out: Option<PathBuf>,
    /// Replace the folder even if it holds files relsim did not write.
    pub force: bool,
    /// No progress bar (JSON lines of progress still go out) and no table.
    pub quiet: bool,
    /// How progress is shown: a bar, JSON lines for a scheduler, or nothing.
    pub progress: ProgressOutput,
}

impl OutputChoice {
    /// The result folder (see [`result_folder`]), checked, and its staging sibling created,
    /// before anything runs.
    fn stage(&self, scenario: &Scenario, suffix: &str) -> Result<StagedFolder> {
        StagedFolder::prepare(
            &result_folder(self.out.as_deref(), scenario, suffix),
            self.force,
        )
    }

    /// A progress display for `total` `unit`s, as this output asks.
    fn progress(&self, total: u64, unit: &'static str, message: String) -> Progress {
        Progress::new(self.progress, self.quiet, total, unit, message)
    }
}

/// A command's result folder: `out` if given, else `outputs/<scenario name><suffix>`.
fn result_folder(out: Option<&Path>, scenario: &Scenario, suffix: &str) -> PathBuf {
    out.map_or_else(
        || Path::new("outputs").join(format!("{}{suffix}", scenario.name())),
        Path::to_path_buf,
    )
}

/// Options of `relsim run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    pub scenario: ScenarioChoice,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// The result folder (default `outputs/<scenario name>`), or with `shard` the part folder.
    pub output: OutputChoice,
    /// Run even if the memory estimate exceeds a quarter of RAM.
    pub allow_large: bool,
    /// Skip charts and report (for batch use).
    pub no_plots: bool,
    /// The widest line the terminal table may have (the terminal's width); 0 for no limit.
    pub table_width: usize,
    /// Run only this share of the replications, into a part folder (`i/n` or `slurm`).
    pub shard: Option<String>,
    /// Continue the part folder's journal instead of starting anew (with `shard`).
    pub resume: bool,
    /// Add replications in batches (of the scenario's `replications`) until every paired
    /// difference's 95 % interval of `target_metric` is narrower than this: a width in the
    /// metric's unit, or a percentage of its level (`2%`).
    pub target_ci: Option<String>,
    /// The metric `target_ci` looks at (default `npv`).
    pub target_metric: Option<String>,
    /// The most replications `target_ci` may run (default ten batches).
    pub max_replications: Option<u32>,
}

/// What `relsim run` produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub manifest: Manifest,
    pub out_dir: PathBuf,
    /// The terminal table and verdict.
    pub table: String,
    /// Seconds spent drawing charts and the report (0 with `--no-plots`).
    pub plot_seconds: f64,
}

fn parse_overrides(options: &[String]) -> Result<Vec<Override>> {
    options.iter().map(|o| Override::parse(o)).collect()
}

/// Loads a scenario with `--set` overrides and the shortcuts `--replications` and `--seed`.
pub fn load_scenario(
    spec: &str,
    overrides: &[String],
    replications: Option<u32>,
    seed: Option<u64>,
) -> Result<(ScenarioSource, Scenario, Vec<Override>)> {
    let source = ScenarioSource::open(spec)?;
    let mut parsed = parse_overrides(overrides)?;
    if let Some(replications) = replications {
        parsed.push(Override::from_option(
            "--replications",
            "replications",
            replications.to_string(),
        )?);
    }
    if let Some(seed) = seed {
        if seed > i64::MAX as u64 {
            return Err(Error::InvalidOption {
                option: "--seed".into(),
                message: format!("must be at most {}, got {seed}", i64::MAX),
            });
        }
        parsed.push(Override::from_option("--seed", "seed", seed.to_string())?);
    }
    let scenario = source.scenario(&parsed)?;
    Ok((source, scenario, parsed))
}

/// `relsim run`: simulate, print the comparison, write the result folder whole.
pub fn run(options: &RunOptions) -> Result<RunReport> {
    if options.resume && options.target_ci.is_some() {
        return Err(Error::InvalidOption {
            option: "--resume".into(),
            message: "continues an interrupted run of fixed replications; an interrupted \
                      --target-ci run starts again"
                .into(),
        });
    }
    let (source, scenario, overrides) = options.scenario.load()?;
    let threads = resolve_threads(options.threads);
    let adaptive = match &options.target_ci {
        Some(target) => Some(AdaptivePlan::new(
            &scenario,
            TargetWidth::parse(target)?,
            options.target_metric.as_deref().unwrap_or("npv"),
            options
                .max_replications
                .map_or(10 * scenario.replications() as u64, u64::from),
        )?),
        None if options.target_metric.is_some() || options.max_replications.is_some() => {
            return Err(Error::InvalidOption {
                option: "--target-ci".into(),
                message: "--target-metric and --max-replications go with --target-ci WIDTH".into(),
            })
        }
        None => None,
    };
    let most_replications =
        adaptive.map_or(scenario.replications() as u64, |plan| plan.max_replications);
    match &adaptive {
        // The most an adaptive run may take.
        Some(_) => check_memory(
            &scenario.with("replications", most_replications as i64)?,
            threads,
            options.allow_large,
        )?,
        None => check_memory(&scenario, threads, options.allow_large)?,
    }
    // The output folder is checked, and its staging sibling created, before anything runs.
    let folder = options.output.stage(&scenario, "")?;
    let checkpoint_dir = checkpoint::dir_of(folder.target());
    let scenario_sha256 = format!("{:x}", Sha256::digest(scenario.to_toml().as_bytes()));
    let restored = if options.resume {
        Some(checkpoint::read(
            &checkpoint_dir,
            &scenario,
            &scenario_sha256,
        )?)
    } else {
        None
    };
    if !options.output.quiet {
        for note in scenario.notes() {
            eprintln!("note: {note}");
        }
        if restored.is_none() && checkpoint_dir.exists() {
            eprintln!(
                "note: {} holds an interrupted run; this run replaces it when it finishes (pass \
                 --resume to continue it instead)",
                checkpoint_dir.display()
            );
        }
    }
    let stop = StopRequest::default();
    let _signals = StopOnSignals::install(&stop);

    let progress = options.output.progress(
        most_replications,
        "replications",
        format!("simulating {}", scenario.name()),
    );
    let started = Instant::now();
    // A resumed run continues from the checkpoint's collector: the replications it holds
    // are not run again, and the rest are added in the same order as without a stop.
    let mut collector = restored.unwrap_or_else(|| ResultsCollector::new(&scenario));
    let already = collector.runs().replications() as u64;
    for _ in 0..already {
        progress.inc();
    }
    let experiment = ExperimentOptions {
        threads,
        stop: stop.clone(),
        replications: (already > 0).then(|| (already..scenario.replications() as u64).collect()),
        ..Default::default()
    };
    let outcome = match &adaptive {
        None => run_experiment(&scenario, experiment, &mut collector, &|| progress.inc())
            .map(|info| (info, None)),
        Some(plan) => run_until_precise(&scenario, plan, experiment, &mut collector, &|| {
            progress.inc()
        })
        .map(|outcome| (outcome.info, Some(outcome))),
    };
    progress.finish();
    let (info, adaptive_outcome) = match outcome {
        Err(Error::Interrupted {
            signal, finished, ..
        }) if adaptive.is_none() => {
            // Keep what the collector holds (every replication of the batches finished), so
            // that --resume continues from there.
            checkpoint::write(&checkpoint_dir, &collector, &scenario_sha256)?;
            return Err(Error::InterruptedKept {
                signal,
                done: already + finished,
                total: scenario.replications() as u64,
                units: "replications",
                whose: "",
                kept: checkpoint_dir,
                resume: shard::resume_command(
                    "run",
                    &options.scenario,
                    (None, options.output.out.as_deref()),
                ),
            });
        }
        other => other?,
    };
    let info = ExperimentInfo {
        replications: already + info.replications,
        customer_steps: (already + info.replications) * scenario.customer_steps_per_replication(),
        active_customer_steps: collector.active_customer_steps(),
        ..info
    };
    let wall_time = started.elapsed().as_secs_f64();
    let results = collector.finish()?;
    // An adaptive run is the plain run of the replications it needed: say so in the scenario.
    let scenario = match &adaptive_outcome {
        Some(_) => scenario.with("replications", info.replications as i64)?,
        None => scenario,
    };

    let mut manifest = RunFacts {
        source: &source,
        scenario: &scenario,
        overrides: &overrides,
        strategies: results.strategy_names.clone(),
        replications: info.replications,
        threads: info.threads,
        wall_time,
        customer_steps: info.customer_steps,
        active_customer_steps: info.active_customer_steps,
        time_split: info.time_split,
    }
    .manifest();
    if let (Some(plan), Some(outcome)) = (&adaptive, &adaptive_outcome) {
        manifest.adaptive = Some(adaptive_manifest(plan, outcome, &results.strategy_names));
    }
    let published = publish(
        folder,
        results,
        &manifest,
        &scenario,
        options.no_plots,
        options.table_width,
    )?;
    if let Some(signal) = stop.signal() {
        return Err(Error::Interrupted {
            signal,
            finished: info.replications,
            total: info.replications,
            units: "replications",
            time_split: info.time_split,
        });
    }
    let out_dir = published.folder.commit(manifest.clone())?;
    // The run is whole: an interrupted run's checkpoint is done with.
    checkpoint::remove(&checkpoint_dir)?;
    Ok(RunReport {
        manifest,
        out_dir,
        table: published.table,
        plot_seconds: published.plot_seconds,
    })
}

/// The manifest's account of an adaptive run.
fn adaptive_manifest(
    plan: &AdaptivePlan,
    outcome: &AdaptiveOutcome,
    strategy_names: &[String],
) -> AdaptiveManifest {
    let (widest_pair, widest_width, allowed_width) = match &outcome.widest {
        Some(widest) => (
            [
                strategy_names[widest.strategy_a].clone(),
                strategy_names[widest.strategy_b].clone(),
            ],
            widest.width,
            widest.allowed,
        ),
        None => (Default::default(), f64::NAN, f64::NAN),
    };
    AdaptiveManifest {
        target_ci: plan.target.to_string(),
        metric: crate::engine::RunMetrics::NAMES[plan.metric_idx].to_string(),
        batch: plan.batch,
        max_replications: plan.max_replications,
        replications_needed: outcome.info.replications,
        stopped: if outcome.reached {
            "target reached".into()
        } else {
            "max replications reached".into()
        },
        widest_pair,
        widest_width,
        allowed_width,
    }
}

/// A run's results written to its staged folder, with the terminal table; committing the
/// folder is left to the caller.
pub(crate) struct Published {
    pub folder: StagedFolder,
    pub table: String,
    pub plot_seconds: f64,
}

/// Writes `results` to `folder` (every result file, then the charts and report.html unless
/// `no_plots`), as `relsim run` and `relsim merge` do, and prints the terminal table into
/// `Published::table` (no wider than `table_width`, 0 for no limit).
pub(crate) fn publish(
    mut folder: StagedFolder,
    results: crate::results::ExperimentResults,
    manifest: &Manifest,
    scenario: &Scenario,
    no_plots: bool,
    table_width: usize,
) -> Result<Published> {
    output::write_all(
        &mut folder,
        &ExportInput {
            results: &results,
            manifest,
            scenario,
        },
    )?;
    let title = format!(
        "relsim · {} · {} × {} · {} periods · {:.1} s ({})",
        scenario.name(),
        count(manifest.replications, "replication"),
        count(scenario.strategies().len() as u64, "strategy"),
        scenario.periods(),
        manifest.wall_time_seconds,
        manifest.speed_note(),
    );
    let table_width = match table_width {
        0 => usize::MAX,
        width => width,
    };
    let table = terminal_report(&results, &title, table_width);
    // The charts are drawn from the files just written, as `relsim plot` draws them; the runs
    // held in memory are no longer needed.
    drop(results);
    let mut plot_seconds = 0.0;
    if !no_plots {
        let plot_started = Instant::now();
        let written = output::load_results(folder.staging_path(), manifest.clone())?;
        draw_charts_and_report(&mut folder, &written)?;
        plot_seconds = plot_started.elapsed().as_secs_f64();
    }
    Ok(Published {
        folder,
        table,
        plot_seconds,
    })
}

/// What `relsim plot` drew.
#[derive(Debug, Clone)]
pub struct PlotReport {
    pub charts: usize,
    pub out_dir: PathBuf,
}

/// `relsim plot`: redraws every chart (PNG and SVG) and `report.html` of a finished run from its
/// files, without simulating. The folder is checked against its manifest first, and replaced
/// whole, like a run's.
pub fn plot(dir: &Path, force: bool) -> Result<PlotReport> {
    let loaded = output::load_output(dir)?;
    let mut folder = StagedFolder::prepare(dir, force)?;
    let drawn = drawn_file_names();
    for (name, hash) in &loaded.manifest.files {
        if !drawn.contains(name) && dir.join(name).exists() {
            folder.adopt(dir, name, hash)?;
        }
    }
    draw_charts_and_report(&mut folder, &loaded)?;
    let out_dir = folder.commit(loaded.manifest)?;
    Ok(PlotReport {
        charts: crate::plot::CHARTS.len(),
        out_dir,
    })
}

/// The files [`draw_charts_and_report`] writes.
fn drawn_file_names() -> Vec<String> {
    let mut names: Vec<String> = crate::plot::CHARTS
        .iter()
        .flat_map(ChartSpec::file_names)
        .collect();
    names.push(REPORT_FILE.to_string());
    names
}

const REPORT_FILE: &str = "report.html";

/// Customers the report follows under each strategy.
const REPORT_STORIES: usize = 3;

/// The report's stories: [`REPORT_STORIES`] customers of replication 0 under each strategy,
/// the strategies at once on as many threads as the run had.
fn report_stories(scenario: &Scenario, threads: usize) -> Result<Vec<crate::stories::Stories>> {
    crate::experiment::tell_every_strategy(scenario, 0, REPORT_STORIES, threads)
}

/// Draws every chart and `report.html` from a run's files into `folder`.
fn draw_charts_and_report(folder: &mut StagedFolder, run: &OutputFolder) -> Result<()> {
    let charts = crate::plot::render_all(&run.results)?;
    for chart in &charts {
        let [svg_name, png_name] = chart.spec.file_names();
        folder.write(&svg_name, |out| out.write_all(chart.svg.as_bytes()))?;
        folder.write(&png_name, |out| out.write_all(&chart.png))?;
    }
    let stories = report_stories(&run.scenario, run.manifest.threads)?;
    let html = html_report(
        &run.results,
        &run.manifest,
        &run.scenario,
        &run.scenario_text,
        &charts,
        &stories,
    );
    folder.write(REPORT_FILE, |out| out.write_all(html.as_bytes()))
}

/// Signal handlers for the length of a run: the first SIGINT, SIGTERM (Slurm's `scancel`) or
/// SIGUSR1 (Slurm's `--signal=B:USR1@N` warning before the time limit) asks the experiment to
/// stop after the replications in flight; a second one ends the process at once.
pub(crate) struct StopOnSignals {
    handlers: Vec<signal_hook::SigId>,
}

impl StopOnSignals {
    pub(crate) fn install(stop: &StopRequest) -> Self {
        use signal_hook::consts::{SIGINT, SIGTERM, SIGUSR1};
        use signal_hook::flag;
        let mut handlers = Vec::new();
        for signal in [SIGINT, SIGTERM, SIGUSR1] {
            let second = Arc::new(AtomicBool::new(false));
            // Registered first, so that it sees the flag the first signal sets only on the second.
            let registered = [
                flag::register_conditional_shutdown(signal, 128 + signal, Arc::clone(&second)),
                flag::register(signal, second),
                flag::register_usize(signal, stop.flag(), signal as usize),
            ];
            // Without handlers the default remains: the signal ends the run at once, which
            // loses nothing on disk either.
            handlers.extend(registered.into_iter().flatten());
        }
        Self { handlers }
    }
}

impl Drop for StopOnSignals {
    fn drop(&mut self) {
        for handler in self.handlers.drain(..) {
            signal_hook::low_level::unregister(handler);
        }
    }
}

/// `relsim validate`: the expanded scenario as TOML, every default written out.
pub fn validate(spec: &str, overrides: &[String]) -> Result<String> {
    let (source, scenario, _) = load_scenario(spec, overrides, None, None)?;
    let notes: String = scenario
        .notes()
        .iter()
        .map(|note| format!("# note: {note}\n"))
        .collect();
    Ok(format!(
        "# {}: valid. The scenario as relsim reads it, every default written out:\n{notes}\n{}",
        source.name,
        scenario.to_toml()
    ))
}

/// `relsim presets`: the bundled scenarios with their descriptions.
pub fn presets() -> String {
    let mut text = String::from(
        "Bundled scenarios (run one with `relsim run NAME`, copy one with `relsim init NAME`):\n",
    );
    for bundled in presets::BUNDLED {
        let description = crate::scenario::parse(bundled.text, bundled.name, &[])
            .map(|s| s.description().to_string())
            .unwrap_or_default();
        text.push_str(&format!("\n{}\n", bundled.name));
        for line in description.lines() {
            text.push_str(&format!("    {}\n", line.trim()));
        }
    }
    text
}

/// The text of the bundled scenario `name` (`relsim init NAME -o -`).
pub fn preset_text(name: &str) -> Result<&'static str> {
    Ok(find_preset(name)?.text)
}

fn find_preset(name: &str) -> Result<&'static presets::BundledScenario> {
    presets::find(name).ok_or_else(|| Error::UnknownPreset {
        name: name.to_string(),
        available: presets::names().join(", "),
    })
}

/// `relsim init`: writes a bundled scenario out for editing. Refuses to overwrite unless `force`.
pub fn init(name: &str, output: Option<&Path>, force: bool) -> Result<PathBuf> {
    let bundled = find_preset(name)?;
    let path = output.map_or_else(
        || PathBuf::from(format!("{}.toml", bundled.name)),
        Path::to_path_buf,
    );
    if path.exists() && !force {
        return Err(Error::InvalidOption {
            option: "-o".into(),
            message: format!(
                "{} already exists; pass --force to overwrite it",
                path.display()
            ),
        });
    }
    output::write_atomically(&path, |out| out.write_all(bundled.text.as_bytes()))?;
    Ok(path)
}

/// What a command ran, how fast and from what: the manifest every result folder gets (its
/// `files` are filled in when the folder is committed, its `sweep` by `relsim sweep`).
pub(crate) struct RunFacts<'a> {
    pub source: &'a ScenarioSource,
    pub scenario: &'a Scenario,
    pub overrides: &'a [Override],
    pub strategies: Vec<String>,
    pub replications: u64,
    pub threads: usize,
    pub wall_time: f64,
    pub customer_steps: u64,
    pub active_customer_steps: u64,
    /// Where the replications' time went (default where not recorded).
    pub time_split: TimeSplit,
}

impl RunFacts<'_> {
    pub(crate) fn manifest(self) -> Manifest {
        Manifest {
            scenario_source: self.source.name.clone(),
            scenario_sha256: format!("{:x}", Sha256::digest(self.source.text.as_bytes())),
            overrides: self
                .overrides
                .iter()
                .map(|o| o.assignment.clone())
                .collect(),
            time_split: self.time_split,
            ..Self::manifest_of(
                self.scenario,
                self.strategies,
                self.replications,
                self.threads,
                self.wall_time,
                self.customer_steps,
                self.active_customer_steps,
            )
        }
    }

    /// The manifest of a run of `scenario`, without its source (name, hash, overrides), which
    /// the caller fills in.
    pub(crate) fn manifest_of(
        scenario: &Scenario,
        strategies: Vec<String>,
        replications: u64,
        threads: usize,
        wall_time: f64,
        customer_steps: u64,
        active_customer_steps: u64,
    ) -> Manifest {
        Manifest {
            relsim_version: env!("CARGO_PKG_VERSION").to_string(),
            scenario_name: scenario.name().to_string(),
            scenario_source: String::new(),
            scenario_sha256: String::new(),
            overrides: Vec::new(),
            master_seed: scenario.seed(),
            replications,
            strategies,
            periods: scenario.periods(),
            population: scenario.model().market.population,
            threads,
            wall_time_seconds: wall_time,
            customer_steps,
            customer_steps_per_second: customer_steps as f64 / wall_time.max(1e-9),
            active_customer_steps,
            active_customer_steps_per_second: active_customer_steps as f64 / wall_time.max(1e-9),
            time_split: Default::default(),
            files: Default::default(),
            sweep: None,
            adaptive: None,
        }
    }
}

/// Refuses a run of `scenario` on `threads` threads that would need more than a quarter of this
/// machine's memory, unless `allow_large`.
pub(crate) fn check_memory(scenario: &Scenario, threads: usize, allow_large: bool) -> Result<()> {
    if let Some(total) = total_memory_bytes() {
        let needed = estimate_memory_bytes(scenario, threads);
        if needed > total / 4 && !allow_large {
            return Err(Error::TooLarge {
                needed_mib: needed >> 20,
                total_mib: total >> 20,
            });
        }
    }
    Ok(())
}

/// The worker threads `threads` asks for: 0 means one per core.
pub(crate) fn resolve_threads(threads: usize) -> usize {
    if threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        threads
    }
}

/// Total memory of this machine, from /proc/meminfo (None where it cannot be read).
pub(crate) fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
