//! What each command does, independent of how the command line was parsed. This is the edge
//! where relsim reads files, reads the clock, draws the progress bar and writes results.

use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::experiment::{
    estimate_memory_bytes, run_experiment, ExperimentOptions, ExperimentResults, ResultsCollector,
};
use crate::output::{self, ExportInput, Manifest};
use crate::report::{html_report, terminal_report};
use crate::scenario::{presets, Override, Scenario, ScenarioSource};

/// Options of `relsim run`.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// A scenario file, or the name of a bundled preset.
    pub scenario: String,
    /// `KEY=VALUE` overrides.
    pub overrides: Vec<String>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    /// Worker threads; 0 = one per core.
    pub threads: usize,
    /// Output folder; default `outputs/<scenario name>`.
    pub out: Option<PathBuf>,
    /// No progress bar and no table.
    pub quiet: bool,
    /// Run even if the memory estimate exceeds a quarter of RAM.
    pub allow_large: bool,
    /// Skip charts and report (for batch use).
    pub no_plots: bool,
}

/// What `relsim run` produced.
#[derive(Debug, Clone)]
pub struct RunReport {
    pub scenario: Scenario,
    pub results: ExperimentResults,
    pub manifest: Manifest,
    pub out_dir: PathBuf,
    pub files: Vec<PathBuf>,
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
        parsed.push(Override::parse(&format!("replications={replications}"))?);
    }
    if let Some(seed) = seed {
        if seed > i64::MAX as u64 {
            return Err(Error::InvalidOption {
                option: "--seed".into(),
                message: format!("must be at most {}, got {seed}", i64::MAX),
            });
        }
        parsed.push(Override::parse(&format!("seed={seed}"))?);
    }
    let scenario = source.scenario(&parsed)?;
    Ok((source, scenario, parsed))
}

/// `relsim run`: simulate, print the comparison, write the result files.
pub fn run(options: &RunOptions) -> Result<RunReport> {
    let (source, scenario, overrides) = load_scenario(
        &options.scenario,
        &options.overrides,
        options.replications,
        options.seed,
    )?;
    let threads = if options.threads == 0 {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    } else {
        options.threads
    };
    if let Some(total) = total_memory_bytes() {
        let needed = estimate_memory_bytes(&scenario, threads);
        if needed > total / 4 && !options.allow_large {
            return Err(Error::TooLarge {
                needed_mib: needed >> 20,
                total_mib: total >> 20,
            });
        }
    }

    let progress = if options.quiet {
        ProgressBar::hidden()
    } else {
        let bar = ProgressBar::new(scenario.replications as u64);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} replications, {eta} left")
                .expect("the template is valid")
                .progress_chars("=> "),
        );
        bar.set_message(format!("simulating {}", scenario.name));
        bar
    };
    let started = Instant::now();
    let mut collector = ResultsCollector::new(&scenario);
    let info = run_experiment(
        &scenario,
        ExperimentOptions {
            threads,
            ..Default::default()
        },
        &mut collector,
        &|| progress.inc(1),
    )?;
    let wall_time = started.elapsed().as_secs_f64();
    progress.finish_and_clear();
    let results = collector.finish();

    let manifest = Manifest {
        relsim_version: env!("CARGO_PKG_VERSION").to_string(),
        scenario_name: scenario.name.clone(),
        scenario_source: source.name.clone(),
        scenario_sha256: format!("{:x}", Sha256::digest(source.text.as_bytes())),
        overrides: overrides.iter().map(|o| o.assignment.clone()).collect(),
        master_seed: scenario.seed,
        replications: info.replications,
        strategies: results.strategy_names.clone(),
        periods: scenario.periods,
        population: scenario.model.market.population,
        threads: info.threads,
        wall_time_seconds: wall_time,
        customer_steps: info.customer_steps,
        customer_steps_per_second: info.customer_steps as f64 / wall_time.max(1e-9),
    };
    let out_dir = options
        .out
        .clone()
        .unwrap_or_else(|| Path::new("outputs").join(&scenario.name));
    let mut files = output::write_all(
        &out_dir,
        &ExportInput {
            results: &results,
            manifest: &manifest,
            scenario: &scenario,
        },
    )?;
    let mut plot_seconds = 0.0;
    if !options.no_plots {
        let plot_started = Instant::now();
        files.extend(plot(&out_dir)?);
        plot_seconds = plot_started.elapsed().as_secs_f64();
    }
    let title = format!(
        "relsim · {} · {} replications × {} strategies · {} periods · {:.1} s ({:.0}M customer-steps/s)",
        scenario.name,
        info.replications,
        scenario.strategies.len(),
        scenario.periods,
        wall_time,
        manifest.customer_steps_per_second / 1e6
    );
    let table = terminal_report(&results, &title);
    Ok(RunReport {
        scenario,
        results,
        manifest,
        out_dir,
        files,
        table,
        plot_seconds,
    })
}

/// `relsim plot`: draws every chart (PNG and SVG) and `report.html` from the files of an output
/// folder, without simulating. `relsim run` calls it too, so both give the same charts.
pub fn plot(dir: &Path) -> Result<Vec<PathBuf>> {
    let folder = output::load_output(dir)?;
    let (charts, mut files) = crate::plot::write_charts(dir, &folder.results)?;
    let html = html_report(
        &folder.results,
        &folder.manifest,
        &folder.scenario.description,
        &folder.scenario_text,
        &charts,
    );
    let report_path = dir.join("report.html");
    output::write_atomically(&report_path, |out| out.write_all(html.as_bytes()))?;
    files.push(report_path);
    Ok(files)
}

/// `relsim validate`: the expanded scenario as TOML, every default written out.
pub fn validate(spec: &str, overrides: &[String]) -> Result<String> {
    let (source, scenario, _) = load_scenario(spec, overrides, None, None)?;
    Ok(format!(
        "# {}: valid. The scenario as relsim reads it, every default written out:\n\n{}",
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
            .map(|s| s.description)
            .unwrap_or_default();
        text.push_str(&format!("\n{}\n", bundled.name));
        for line in description.lines() {
            text.push_str(&format!("    {}\n", line.trim()));
        }
    }
    text
}

/// `relsim init`: writes a bundled scenario out for editing. Refuses to overwrite unless `force`.
pub fn init(name: &str, output: Option<&Path>, force: bool) -> Result<PathBuf> {
    let bundled = presets::find(name).ok_or_else(|| Error::UnknownPreset {
        name: name.to_string(),
        available: presets::names().join(", "),
    })?;
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

/// Total memory of this machine, from /proc/meminfo (None where it cannot be read).
fn total_memory_bytes() -> Option<u64> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let line = meminfo.lines().find(|l| l.starts_with("MemTotal:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}
