//! `relsim sweep`: run a scenario's design, print how robust the verdict is and what it hinges
//! on, and write the sweep's folder whole (docs/sweeps.md).

use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use sha2::{Digest, Sha256};

use super::{OutputChoice, RunFacts, ScenarioChoice, StopOnSignals};
use crate::error::{Error, Result};
use crate::experiment::StopRequest;
use crate::experiment::{run_sweep, ExecutionOptions, SweepInfo};
use crate::output::{Manifest, StagedFolder, SweepManifest};
use crate::plot::sweep::{
    hinge_parameter, shown_pairs, MorrisDot, RobustnessBar, ShownPair, SobolBar, SweepChart,
    HINGE_DOTS,
};
use crate::report::format::human;
use crate::report::sweep_html::{
    robustness_sentence, sweep_html_report, DrawnSweepChart, SweepReportInput,
};
use crate::results::points::{pair_quantity, PointResults, PointStream};
use crate::results::UnitResult;
use crate::scenario::Scenario;
use crate::sweep::analysis::{robustness, sensitivity, Robustness, SensitivityRow};
use crate::sweep::design::Layout;
use crate::sweep::files::{
    points_columns, runs_columns, salib_problem, write_points, write_robustness,
    write_salib_outputs, write_salib_sample, write_seed_noise, write_sensitivity, RunsWriter,
    POINTS_FILE, ROBUSTNESS_FILE, RUNS_FILE, SALIB_OUTPUTS_FILE, SALIB_PROBLEM_FILE,
    SALIB_SAMPLE_FILE, SEED_NOISE_FILE, SENSITIVITY_COLUMNS, SENSITIVITY_FILE,
};
use crate::sweep::parquet::{RunsParquet, RUNS_PARQUET_FILE};
use crate::sweep::PreparedSweep;

/// Options of `relsim sweep`.
#[derive(Debug, Clone, Default)]
pub struct SweepOptions {
    /// A scenario with a `[design]` table; its `replications` are those at every point.
    pub scenario: ScenarioChoice,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// The result folder (default `outputs/<scenario name>_sweep`), or with `shard` the part
    /// folder.
    pub output: OutputChoice,
    /// Skip the charts and `sweep_report.html`.
    pub no_plots: bool,
    /// Run only this share of the units into a part folder (`i/n` or `slurm`).
    pub shard: Option<String>,
    /// Continue the part folder's journal (with `shard`).
    pub resume: bool,
}

/// Where a sweep's units come from.
pub(super) enum UnitSource {
    /// Simulate every unit of the design.
    Simulate,
    /// Units merged from shards' part folders, in order (point by point, replication by
    /// replication), with what running them cost.
    Replay {
        units: Box<dyn Iterator<Item = Result<UnitResult>>>,
        info: SweepInfo,
        wall_time: f64,
    },
}

/// The scenario of a sweep and where it came from, for the manifest.
pub(super) struct SweepInput {
    pub scenario: Scenario,
    pub source_name: String,
    pub source_sha256: String,
    pub overrides: Vec<String>,
}

/// What `relsim sweep` did, for the command line to print.
#[derive(Debug, Clone)]
pub struct SweepReport {
    pub out_dir: PathBuf,
    /// The terminal report: robustness of the verdict and the leading parameters.
    pub text: String,
}

/// `relsim sweep`.
pub fn sweep(options: &SweepOptions) -> Result<SweepReport> {
    if options.resume {
        return Err(Error::InvalidOption {
            option: "--resume".into(),
            message: "continues a shard's part folder: give it with --shard i/n and the \
                      shard's --out"
                .into(),
        });
    }
    let (source, scenario, overrides) = options.scenario.load()?;
    let input = SweepInput {
        scenario,
        source_sha256: format!("{:x}", Sha256::digest(source.text.as_bytes())),
        source_name: source.name,
        overrides: overrides.into_iter().map(|o| o.assignment).collect(),
    };
    sweep_scenario(input, options, UnitSource::Simulate)
}

/// The sweep of `input` with units from `units` (simulated, or merged from shards), written
/// as `relsim sweep` writes it.
pub(super) fn sweep_scenario(
    input: SweepInput,
    options: &SweepOptions,
    units: UnitSource,
) -> Result<SweepReport> {
    let SweepInput {
        scenario,
        source_name,
        source_sha256,
        overrides,
    } = input;
    let prepared = PreparedSweep::new(&scenario, &source_name)?;
    let mut folder = options.output.stage(&scenario, "_sweep")?;
    let design = scenario.design().expect("a prepared sweep has a design");
    let strategy_names: Vec<String> = scenario
        .strategies()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let n_points = prepared.points.len();
    let replications = scenario.replications() as u64;

    let (results, info, wall_time) = run_design(
        &scenario,
        &prepared,
        &strategy_names,
        &mut folder,
        &DesignRun {
            threads: options.threads,
            output: &options.output,
            message: format!("sweeping {} ({} points)", scenario.name(), n_points),
        },
        units,
    )?;

    let scratch_path = folder.staging_path().to_path_buf();
    let scratch_error = |source| Error::Write {
        path: scratch_path.clone(),
        source,
    };
    let sensitivity_rows =
        sensitivity(&prepared, &results, &strategy_names).map_err(scratch_error)?;
    let robustness_rows = robustness(&results, &strategy_names).map_err(scratch_error)?;
    folder.write(POINTS_FILE, |out| {
        write_points(&prepared, &results, &strategy_names, out)
    })?;
    folder.write(SENSITIVITY_FILE, |out| {
        write_sensitivity(&sensitivity_rows, out)
    })?;
    folder.write(ROBUSTNESS_FILE, |out| {
        write_robustness(&robustness_rows, out)
    })?;
    folder.write(SEED_NOISE_FILE, |out| {
        write_seed_noise(&results, &strategy_names, out)
    })?;
    let problem = salib_problem(&prepared);
    folder.write(SALIB_PROBLEM_FILE, |out| {
        serde_json::to_writer_pretty(&mut *out, &problem)?;
        writeln!(out)
    })?;
    folder.write(SALIB_SAMPLE_FILE, |out| write_salib_sample(&prepared, out))?;
    folder.write(SALIB_OUTPUTS_FILE, |out| {
        write_salib_outputs(&results, &strategy_names, out)
    })?;
    folder.write("scenario.toml", |out| {
        out.write_all(scenario.to_toml().as_bytes())
    })?;

    let design_json = serde_json::to_value(design).map_err(|err| Error::Write {
        path: folder.target().join("manifest.json"),
        source: std::io::Error::other(err),
    })?;
    let design_sha256 = format!("{:x}", Sha256::digest(design_json.to_string().as_bytes()));
    let manifest = Manifest {
        sweep: Some(SweepManifest {
            design: design_json,
            design_sha256,
            points: n_points as u64,
            runs_columns: runs_columns(&prepared),
            points_columns: points_columns(&prepared),
            sensitivity_columns: SENSITIVITY_COLUMNS.map(String::from).to_vec(),
        }),
        scenario_source: source_name,
        scenario_sha256: source_sha256,
        overrides,
        time_split: info.time_split,
        ..RunFacts::manifest_of(
            &scenario,
            strategy_names.clone(),
            replications,
            info.threads,
            wall_time,
            info.customer_steps,
            info.active_customer_steps,
        )
    };

    let mut text = format!(
        "relsim sweep · {} · {} design, {} points × {} replications × {} strategies · {:.1} s \
         ({})\n",
        scenario.name(),
        design.kind.name(),
        n_points,
        replications,
        strategy_names.len(),
        wall_time,
        manifest.speed_note(),
    );
    text.push_str("varied:\n");
    for parameter in &prepared.parameters {
        let _ = writeln!(text, "  {}", parameter.describe());
    }
    text.push_str(&robustness_text(&robustness_rows));
    text.push_str(&leading_parameters_text(&sensitivity_rows, &strategy_names));
    let npv = crate::engine::RunMetrics::NAMES
        .iter()
        .position(|&m| m == "npv")
        .expect("npv is a per-run metric");
    let noise: Vec<String> = strategy_names
        .iter()
        .enumerate()
        .map(|(s, name)| format!("{name} {:.1} %", 100.0 * results.noise_share(s, npv)))
        .collect();
    let _ = writeln!(
        text,
        "\nseed noise: share of NPV's variance between replications at the same point: {}",
        noise.join(", ")
    );
    let (leader, shown) = shown_pairs(&robustness_rows, &strategy_names);
    let _ = writeln!(
        text,
        "\n{}",
        robustness_sentence(
            &robustness_rows,
            leader,
            design.kind.name(),
            n_points as u64
        )
    );
    if !options.no_plots {
        let charts = sweep_charts(
            &prepared,
            &results,
            &robustness_rows,
            &sensitivity_rows,
            &strategy_names,
            &shown,
        )
        .map_err(scratch_error)?;
        let mut drawn = Vec::with_capacity(charts.len());
        for (stem, chart) in charts {
            let svg = chart.render_svg()?;
            let png = chart.render_png()?;
            folder.write(&format!("{stem}.svg"), |out| out.write_all(svg.as_bytes()))?;
            folder.write(&format!("{stem}.png"), |out| out.write_all(&png))?;
            drawn.push(DrawnSweepChart { stem, chart, svg });
        }
        let npv_noise_shares: Vec<f64> = (0..strategy_names.len())
            .map(|s| results.noise_share(s, npv))
            .collect();
        let html = sweep_html_report(&SweepReportInput {
            manifest: &manifest,
            description: scenario.description(),
            design_kind: design.kind.name(),
            points: n_points as u64,
            parameters: &prepared.parameters,
            strategy_names: &strategy_names,
            robustness: &robustness_rows,
            sensitivity: &sensitivity_rows,
            npv_noise_shares: &npv_noise_shares,
            leader,
            pairs: &shown,
            charts: &drawn,
            scenario_toml: &scenario.to_toml(),
        });
        folder.write(SWEEP_REPORT_FILE, |out| out.write_all(html.as_bytes()))?;
    }
    let out_dir = folder.commit(manifest)?;
    Ok(SweepReport { out_dir, text })
}

/// The report's file name.
pub const SWEEP_REPORT_FILE: &str = "sweep_report.html";

/// The charts of a sweep, each with its file stem: robustness (with two or more strategies),
/// then for each shown pair its sensitivity chart (Sobol or Morris designs) and the difference
/// against the parameter it depends on most.
fn sweep_charts(
    prepared: &PreparedSweep,
    results: &PointResults,
    robustness_rows: &[Robustness],
    sensitivity_rows: &[SensitivityRow],
    strategy_names: &[String],
    shown: &[ShownPair],
) -> std::io::Result<Vec<(String, SweepChart)>> {
    let mut charts = Vec::new();
    if strategy_names.len() > 1 {
        let bars = robustness_rows
            .iter()
            .enumerate()
            .map(|(idx, r)| RobustnessBar {
                strategy: r.strategy.clone(),
                strategy_idx: idx,
                p_best: r.p_best,
                expected_regret: r.expected_regret,
            })
            .collect();
        charts.push(("robustness".to_string(), SweepChart::Robustness { bars }));
    }
    let keys: Vec<String> = prepared.parameters.iter().map(|p| p.key.clone()).collect();
    // Each parameter's value at every point, as a number (NaN for a non-numeric value).
    let mut values: Vec<Vec<f64>> = vec![Vec::with_capacity(prepared.points.len()); keys.len()];
    for point in 0..prepared.points.len() {
        for (column, value) in values.iter_mut().zip(prepared.values(point)) {
            column.push(
                value
                    .as_float()
                    .or_else(|| value.as_integer().map(|i| i as f64))
                    .unwrap_or(f64::NAN),
            );
        }
    }
    for (number, pair) in shown.iter().enumerate() {
        let number = number + 1;
        let rows: Vec<&SensitivityRow> = sensitivity_rows
            .iter()
            .filter(|r| r.metric == "npv" && r.strategy == pair.quantity_label)
            .collect();
        let find = |parameter: &str, index: &str| {
            rows.iter()
                .find(|r| r.parameter == parameter && r.index == index)
                .map(|r| r.estimate)
        };
        match prepared.layout {
            Layout::Saltelli { .. } if !rows.is_empty() => {
                let mut bars: Vec<SobolBar> = keys
                    .iter()
                    .filter_map(|k| {
                        Some(SobolBar {
                            parameter: k.clone(),
                            first_order: find(k, "S1")?,
                            total: find(k, "ST")?,
                        })
                    })
                    .collect();
                bars.sort_by(|a, b| b.total.estimate.total_cmp(&a.total.estimate));
                let chart = SweepChart::Sobol {
                    pair: pair.label.clone(),
                    bars,
                };
                charts.push((chart.file_stem(number), chart));
            }
            Layout::Morris { .. } if !rows.is_empty() => {
                let dots = keys
                    .iter()
                    .filter_map(|k| {
                        Some(MorrisDot {
                            parameter: k.clone(),
                            mu_star: find(k, "mu_star")?,
                            sigma: find(k, "sigma")?.estimate,
                        })
                    })
                    .collect();
                let chart = SweepChart::Morris {
                    pair: pair.label.clone(),
                    dots,
                };
                charts.push((chart.file_stem(number), chart));
            }
            _ => {}
        }
        let mut difference = results
            .means(&[pair_quantity(strategy_names.len(), pair.pair_idx)])?
            .swap_remove(0);
        if pair.negated {
            difference.iter_mut().for_each(|d| *d = -*d);
        }
        if let Some(p) = hinge_parameter(
            sensitivity_rows,
            &pair.quantity_label,
            &keys,
            &values,
            &difference,
        ) {
            // An even spread of at most HINGE_DOTS points: the chart stays the same size
            // whatever the design's.
            let stride = difference.len().div_ceil(HINGE_DOTS).max(1);
            let chart = SweepChart::Hinge {
                pair: pair.label.clone(),
                parameter: keys[p].clone(),
                x: values[p].iter().copied().step_by(stride).collect(),
                design_points: difference.len(),
                difference: difference.into_iter().step_by(stride).collect(),
            };
            charts.push((chart.file_stem(number), chart));
        }
    }
    Ok(charts)
}

/// How [`run_design`] runs: worker threads, how progress is shown, and what it says.
pub(super) struct DesignRun<'o> {
    pub threads: usize,
    pub output: &'o OutputChoice,
    pub message: String,
}

/// Runs every unit of `prepared` under a progress bar, stopping on SIGINT or SIGTERM (or
/// replays units merged from shards), streaming `runs.csv` and `runs.parquet` into `folder`
/// and each completed point's summaries to a scratch file: what `relsim sweep`, `relsim
/// merge` and `relsim breakeven` share. Returns the summaries, what ran, and the seconds it
/// took.
pub(super) fn run_design(
    scenario: &Scenario,
    prepared: &PreparedSweep,
    strategy_names: &[String],
    folder: &mut StagedFolder,
    how: &DesignRun,
    source: UnitSource,
) -> Result<(PointResults, SweepInfo, f64)> {
    let stop = StopRequest::default();
    let _signals = StopOnSignals::install(&stop);
    let progress = how.output.progress(
        prepared.points.len() as u64 * scenario.replications() as u64,
        "point-replications",
        how.message.clone(),
    );
    let options = ExecutionOptions {
        threads: how.threads,
        stop,
        ..Default::default()
    };
    let started = Instant::now();
    let scratch_path = folder.staging_path().to_path_buf();
    let mut summaries = PointStream::new(
        prepared.points.len(),
        strategy_names.len(),
        scenario.replications() as u64,
        folder.scratch_file()?,
    );
    let mut runs_file = folder.open_streamed(RUNS_FILE)?;
    let runs_path = folder.target().join(RUNS_FILE);
    let write_error = |source| Error::Write {
        path: runs_path.clone(),
        source,
    };
    let runs_writer =
        RunsWriter::new(prepared, strategy_names, &mut runs_file).map_err(write_error)?;
    let parquet_path = folder.target().join(RUNS_PARQUET_FILE);
    let parquet_error = |err: parquet::errors::ParquetError| Error::Write {
        path: parquet_path.clone(),
        source: std::io::Error::other(err),
    };
    let mut parquet = RunsParquet::new(
        prepared,
        strategy_names,
        folder.open_streamed(RUNS_PARQUET_FILE)?,
    )
    .map_err(parquet_error)?;
    let mut sink = |unit: UnitResult| {
        summaries.push(&unit).map_err(|source| Error::Write {
            path: scratch_path.clone(),
            source,
        })?;
        parquet.write(prepared, &unit).map_err(parquet_error)?;
        runs_writer
            .write(&unit, &mut runs_file)
            .map_err(write_error)
    };
    let (info, wall_time) = match source {
        UnitSource::Simulate => {
            let info = run_sweep(scenario, prepared, &options, &mut sink, &|| progress.inc());
            progress.finish();
            (info?, started.elapsed().as_secs_f64())
        }
        UnitSource::Replay {
            units,
            info,
            wall_time,
        } => {
            for unit in units {
                sink(unit?)?;
            }
            progress.finish();
            (info, wall_time)
        }
    };
    folder.close_streamed(runs_file)?;
    folder.close_streamed(parquet.finish().map_err(parquet_error)?)?;
    let results = summaries.finish().map_err(|source| Error::Write {
        path: scratch_path,
        source,
    })?;
    Ok((results, info, wall_time))
}

/// The robustness table: probability of being best and expected regret, per strategy.
fn robustness_text(rows: &[crate::sweep::analysis::Robustness]) -> String {
    let mut text = String::from(
        "\nrobustness of the verdict over the design's points (mean NPV at each point):\n",
    );
    let width = rows
        .iter()
        .map(|r| r.strategy.chars().count())
        .max()
        .unwrap_or(8);
    let _ = writeln!(
        text,
        "  {:<width$}  {:>24}  {:>30}  {:>12}",
        "strategy", "best at [95% CI]", "expected regret [95% CI]", "worst regret"
    );
    for r in rows {
        let _ = writeln!(
            text,
            "  {:<width$}  {:>24}  {:>30}  {:>12}",
            r.strategy,
            format!(
                "{:.1}% [{:.1}%, {:.1}%]",
                100.0 * r.p_best.estimate,
                100.0 * r.p_best.ci_low,
                100.0 * r.p_best.ci_high
            ),
            format!(
                "{} [{}, {}]",
                human(r.expected_regret.mean),
                human(r.expected_regret.ci_low),
                human(r.expected_regret.ci_high)
            ),
            human(r.worst_regret)
        );
    }
    text
}

/// The five parameters each paired NPV difference depends on most (Sobol total index, or
/// Morris μ*), with a word where an index cannot be told from zero.
fn leading_parameters_text(rows: &[SensitivityRow], strategy_names: &[String]) -> String {
    let mut text = String::new();
    let pair_labels: Vec<String> = crate::results::points::pairs(strategy_names.len())
        .into_iter()
        .map(|(a, b)| format!("{} − {}", strategy_names[a], strategy_names[b]))
        .collect();
    for label in pair_labels {
        let mut ranked: Vec<&SensitivityRow> = rows
            .iter()
            .filter(|r| r.metric == "npv" && r.strategy == label)
            .filter(|r| r.index == "ST" || r.index == "mu_star")
            .collect();
        if ranked.is_empty() {
            continue;
        }
        ranked.sort_by(|x, y| y.estimate.estimate.total_cmp(&x.estimate.estimate));
        let index = ranked[0].index;
        let _ = writeln!(
            text,
            "\nwhat the NPV difference {label} hinges on ({}):",
            if index == "ST" {
                "Sobol total index, share of its variance"
            } else {
                "Morris μ*, mean absolute effect of moving one parameter across its range"
            }
        );
        for r in ranked.iter().take(5) {
            let shown = |x: f64| {
                if index == "ST" {
                    format!("{x:.3}")
                } else {
                    human(x)
                }
            };
            let caveat = if r.estimate.estimate == 0.0 && r.estimate.ci_high == 0.0 {
                "  (no effect at all: common random numbers make it exactly 0)"
            } else if r.estimate.indistinct_from_zero() {
                "  (interval contains 0: too few samples to tell it from no effect)"
            } else {
                ""
            };
            let _ = writeln!(
                text,
                "  {:<40} {} [{}, {}]{caveat}",
                r.parameter,
                shown(r.estimate.estimate),
                shown(r.estimate.ci_low),
                shown(r.estimate.ci_high)
            );
        }
        if index == "ST" {
            let above_one: Vec<&str> = ranked
                .iter()
                .filter(|r| r.estimate.estimate > 1.0)
                .map(|r| r.parameter.as_str())
                .collect();
            if !above_one.is_empty() {
                let _ = writeln!(
                    text,
                    "  total indices above 1 for {}: a share cannot exceed 1, so the sample is \
                     too small to estimate them; raise design.samples",
                    above_one.join(", ")
                );
            }
            let negative: Vec<&str> = rows
                .iter()
                .filter(|r| r.strategy == label && r.metric == "npv" && r.index == "S1")
                .filter(|r| r.estimate.estimate < 0.0)
                .map(|r| r.parameter.as_str())
                .collect();
            if !negative.is_empty() {
                let _ = writeln!(
                    text,
                    "  first-order indices below 0 for {}: too few samples (or seed noise) to \
                     estimate them; raise design.samples or the replications",
                    negative.join(", ")
                );
            }
        }
    }
    text
}
