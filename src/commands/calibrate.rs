//! `relsim calibrate`: fit a scenario's churn (and, given them, acquisition and revenue) to a
//! firm's observed cohort survival and write the calibrated scenario (docs/calibration.md).

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use indicatif::{ProgressBar, ProgressStyle};

use super::load_scenario;
use crate::calibrate::{
    default_keys, fit, read_retention, read_series, CalibrationData, CalibrationRecord, Fit,
    FitOptions, FittedRecord, SeriesFit, SeriesKind,
};
use crate::error::{Error, Result};
use crate::output::write_atomically;
use crate::plot::calibration::{CalibrationChart, ObservedCohort, SimulatedCurve};

/// Evaluations of the likelihood the optimiser may spend: at least this many…
const MIN_EVALUATIONS: usize = 300;
/// …and this many per fitted key (Nelder–Mead's simplex has one more vertex per key; the
/// five-key segment example did not converge in 300).
const EVALUATIONS_PER_KEY: usize = 100;

/// Replications behind each simulated curve unless `--replications` says otherwise (or the
/// scenario has fewer). Replications share market-wide events, so the curve's precision grows
/// with them rather than with customers: in the default market, 100 replications make it as
/// precise as a cohort of about 3 500 customers.
pub const DEFAULT_REPLICATIONS: u32 = 100;

/// Options of `relsim calibrate`.
#[derive(Debug, Clone, Default)]
pub struct CalibrateOptions {
    pub scenario: String,
    /// The observed retention CSV.
    pub retention: PathBuf,
    /// Customers won per period (CSV `period,acquired`).
    pub acquisition: Option<PathBuf>,
    /// Revenue per customer per period (CSV `period,revenue_per_customer`).
    pub revenue: Option<PathBuf>,
    /// Where the calibrated scenario goes.
    pub out: PathBuf,
    /// The strategy the firm runs today (default: the scenario's first).
    pub strategy: Option<String>,
    /// Keys to fit (default: [`default_keys`]).
    pub fit: Vec<String>,
    pub overrides: Vec<String>,
    pub holdout: Option<u32>,
    pub replications: Option<u32>,
    pub seed: Option<u64>,
    pub threads: usize,
    /// Show no progress.
    pub quiet: bool,
}

/// What `relsim calibrate` did.
#[derive(Debug, Clone)]
pub struct CalibrateReport {
    pub fit: Fit,
    /// The terminal report.
    pub text: String,
}

/// `relsim calibrate`.
pub fn calibrate(options: &CalibrateOptions) -> Result<CalibrateReport> {
    let (source, scenario, _) =
        load_scenario(&options.scenario, &options.overrides, None, options.seed)?;
    if options.replications == Some(0) {
        return Err(Error::InvalidOption {
            option: "--replications".into(),
            message: "must be at least 1".into(),
        });
    }
    let replications = options
        .replications
        .unwrap_or(DEFAULT_REPLICATIONS.min(scenario.replications()));
    check_destination(&options.out)?;
    let read = |path: &Option<PathBuf>, kind| path.as_deref().map(|p| read_series(p, kind));
    let data = CalibrationData {
        retention: read_retention(&options.retention)?,
        acquisition: read(&options.acquisition, SeriesKind::Acquired).transpose()?,
        revenue: read(&options.revenue, SeriesKind::RevenuePerCustomer).transpose()?,
    };
    let strategy_idx = match &options.strategy {
        None => 0,
        Some(name) => scenario.strategy_index(name, "--strategy")?,
    };
    let names: Vec<&str> = scenario
        .strategies()
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let keys: Vec<String> = if options.fit.is_empty() {
        default_keys(&scenario, &data)?
    } else {
        options.fit.clone()
    };
    let started = Instant::now();
    let progress = if options.quiet {
        ProgressBar::hidden()
    } else {
        let spinner = ProgressBar::new_spinner();
        spinner.set_style(
            ProgressStyle::with_template("{spinner} {msg} · {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        spinner
    };
    let max_evaluations = MIN_EVALUATIONS.max(EVALUATIONS_PER_KEY * keys.len());
    let found = fit(
        &scenario,
        &data,
        &FitOptions {
            strategy_idx,
            keys,
            holdout: options.holdout,
            replications: Some(replications),
            threads: options.threads,
            max_evaluations,
        },
        &|n| {
            progress.set_message(format!(
                "fitting to {}: {n} likelihood evaluations ({replications} replications each)",
                data.retention.path.display()
            ));
            progress.tick();
        },
    );
    progress.finish_and_clear();
    let found = found?;
    let seconds = started.elapsed().as_secs_f64();
    let header = header_comment(&found, &data, names[strategy_idx], &source.name);
    let chart = CalibrationChart {
        cohorts: data
            .retention
            .cohorts
            .iter()
            .zip(&found.cohort_curve)
            .map(|(c, &curve)| ObservedCohort {
                name: c.name.clone(),
                size: c.size,
                shares: c
                    .observations
                    .iter()
                    .map(|&(t, n)| (t, n / c.size))
                    .collect(),
                curve,
            })
            .collect(),
        curves: found
            .curves
            .iter()
            .map(|c| SimulatedCurve {
                label: c.label.clone(),
                survival: c.survival.clone(),
                survival_variance: c.survival_variance.clone(),
            })
            .collect(),
        fitted_through: found.fitted_through,
    };
    let (svg, png) = (chart.render_svg()?, chart.render_png()?);
    let [svg_path, png_path] = chart_paths(&options.out);
    write_atomically(&svg_path, |out| out.write_all(svg.as_bytes()))?;
    write_atomically(&png_path, |out| out.write_all(&png))?;
    let record = CalibrationRecord {
        data: options.retention.display().to_string(),
        acquisition_data: options
            .acquisition
            .as_ref()
            .map(|p| p.display().to_string()),
        revenue_data: options.revenue.as_ref().map(|p| p.display().to_string()),
        strategy: names[strategy_idx].to_string(),
        fitted_through: found.fitted_through,
        replications,
        fitted: found
            .values
            .iter()
            .map(|v| FittedRecord {
                key: v.key.clone(),
                value: v.value,
                ci_low: v.ci_low,
                ci_high: v.ci_high,
                standard_error: v.standard_error,
            })
            .collect(),
        log_likelihood: found.log_likelihood,
        deviance: found.deviance(),
        degrees_of_freedom: found.degrees_of_freedom,
        dispersion: found.dispersion,
        rmse_points: found.fit_error.rmse,
        max_points: found.fit_error.max,
        holdout_rmse_points: found.holdout_error.map(|e| e.rmse),
        holdout_max_points: found.holdout_error.map(|e| e.max),
        acquisition_rmse_percent: found.acquisition.as_ref().map(|a| a.fit_error.rmse),
        revenue_rmse_percent: found.revenue.as_ref().map(|r| r.fit_error.rmse),
        warnings: found.warnings.clone(),
    };
    let calibrated = found.calibrated.with_calibration(record);
    write_atomically(&options.out, |out| {
        out.write_all(header.as_bytes())?;
        out.write_all(calibrated.to_toml().as_bytes())
    })?;

    let mut text = format!(
        "relsim calibrate · {} to {} · strategy {} · {} cohort{} through period {} · {} \
         replications · {} likelihood evaluations · {:.1} s\n\nfitted (95 % interval; standard \
         error):\n",
        source.name,
        data.retention.path.display(),
        names[strategy_idx],
        data.retention.cohorts.len(),
        if data.retention.cohorts.len() == 1 {
            ""
        } else {
            "s"
        },
        found.fitted_through,
        replications,
        found.evaluations,
        seconds
    );
    text.push_str(&fitted_lines(&found, "  "));
    let _ = writeln!(text, "\n{}", goodness_line(&found));
    for series in [&found.acquisition, &found.revenue].into_iter().flatten() {
        let _ = writeln!(text, "{}", series_line(series));
    }
    if let Some(error) = found.holdout_error {
        let _ = writeln!(
            text,
            "holdout: fitted through period {}, projected {} later observations: RMSE {:.2} \
             points, worst {:.2}",
            found.fitted_through, error.n, error.rmse, error.max
        );
        text.push_str("  period  observed  projected\n");
        let cohorts = &data.retention.cohorts;
        for (idx, cohort) in cohorts.iter().enumerate() {
            let survival = &found.curve_of(idx).survival;
            for &(t, n) in cohort
                .observations
                .iter()
                .filter(|(t, _)| *t > found.fitted_through)
            {
                let _ = writeln!(
                    text,
                    "  {:>6}  {:>7.1}%  {:>8.1}%{}",
                    t,
                    100.0 * n / cohort.size,
                    100.0 * survival[t as usize],
                    if cohorts.len() > 1 {
                        format!("  ({})", cohort.name)
                    } else {
                        String::new()
                    }
                );
            }
        }
    }
    for warning in &found.warnings {
        let _ = writeln!(text, "warning: {warning}");
    }
    let _ = writeln!(
        text,
        "\ncalibrated scenario written to {}; the fit chart to {} and {}",
        options.out.display(),
        png_path.display(),
        svg_path.display()
    );
    Ok(CalibrateReport { fit: found, text })
}

/// Refuses, before any simulation, a destination that cannot receive the calibrated scenario:
/// a folder, or a file in a folder that does not exist.
fn check_destination(out: &Path) -> Result<()> {
    let refuse = |message: String| Error::InvalidOption {
        option: "-o".into(),
        message,
    };
    if out.is_dir() {
        return Err(refuse(format!(
            "{} is a folder; give the calibrated scenario a file name such as \
             calibrated.toml",
            out.display()
        )));
    }
    let folder = out.parent().filter(|p| !p.as_os_str().is_empty());
    if let Some(folder) = folder {
        if !folder.is_dir() {
            return Err(refuse(format!(
                "{}: the folder {} does not exist",
                out.display(),
                folder.display()
            )));
        }
    }
    Ok(())
}

/// The fit chart's files beside the calibrated scenario: `NAME_fit.svg` and `NAME_fit.png` for
/// `NAME.toml`.
pub fn chart_paths(out: &Path) -> [PathBuf; 2] {
    let stem = out
        .file_stem()
        .map_or_else(|| "calibrated".into(), |s| s.to_string_lossy().into_owned());
    let folder = out.parent().unwrap_or(Path::new(""));
    [
        folder.join(format!("{stem}_fit.svg")),
        folder.join(format!("{stem}_fit.png")),
    ]
}

fn fitted_lines(found: &Fit, indent: &str) -> String {
    let mut text = String::new();
    for v in &found.values {
        let _ = writeln!(
            text,
            "{indent}{} = {:.4} [{:.4}, {:.4}]; SE {:.4} (started at {}){}",
            v.key,
            v.value,
            v.ci_low,
            v.ci_high,
            v.standard_error,
            v.start,
            if v.identified { "" } else { "  NOT IDENTIFIED" }
        );
    }
    text
}

fn goodness_line(found: &Fit) -> String {
    format!(
        "fit: ln L {:.2}, deviance {:.2} on {} degrees of freedom{}; observed vs simulated \
         survival: RMSE {:.2} percentage points, worst {:.2}",
        found.log_likelihood,
        found.deviance(),
        found.degrees_of_freedom,
        if found.dispersion > 1.0 {
            format!(" (dispersion {:.2})", found.dispersion)
        } else {
            String::new()
        },
        found.fit_error.rmse,
        found.fit_error.max
    )
}

/// How well a per-period series is matched, fitted and held out.
fn series_line(series: &SeriesFit) -> String {
    let what = match series.data.kind {
        SeriesKind::Acquired => "customers won",
        SeriesKind::RevenuePerCustomer => "revenue per customer",
    };
    let mut line = format!(
        "{what} ({}): observed vs simulated RMSE {:.1} % of the observed mean, worst {:.1} %",
        series.data.path.display(),
        series.fit_error.rmse,
        series.fit_error.max
    );
    if let Some(holdout) = series.holdout_error {
        let _ = write!(
            line,
            "; projected past the holdout: RMSE {:.1} %, worst {:.1} % over {} periods",
            holdout.rmse, holdout.max, holdout.n
        );
    }
    line
}

/// The comment block at the top of the calibrated scenario: what was fitted, to what, and how
/// well, so that the file says where its churn parameters come from.
fn header_comment(found: &Fit, data: &CalibrationData, strategy: &str, source: &str) -> String {
    let mut text = format!(
        "# Calibrated by relsim {} calibrate from {source} to {} (strategy {strategy}, fitted \
         through period {}).\n# Fitted values (95 % interval; standard error):\n",
        env!("CARGO_PKG_VERSION"),
        data.retention.path.display(),
        found.fitted_through
    );
    text.push_str(&fitted_lines(found, "#   "));
    let _ = writeln!(text, "# {}", goodness_line(found));
    for series in [&found.acquisition, &found.revenue].into_iter().flatten() {
        let _ = writeln!(text, "# {}", series_line(series));
    }
    if let Some(error) = found.holdout_error {
        let _ = writeln!(
            text,
            "# Holdout projection error: RMSE {:.2} points, worst {:.2}, over {} observations.",
            error.rmse, error.max, error.n
        );
    }
    for warning in &found.warnings {
        let _ = writeln!(text, "# Warning: {warning}");
    }
    text.push('\n');
    text
}
