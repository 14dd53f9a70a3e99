//! Verification: relsim against analytic results and stylized facts (docs/validation.md).
//!
//! Following Rand & Rust (2011), the model is *docked* to special cases with exact answers:
//! geometric tenure and closed-form CLV under frozen relationships, the discrete Bass recursion,
//! and the steady state of a base with constant inflow. It is also *validated* against the
//! directional hypotheses of the commitment–trust model and the stylized facts of seed 002.
//! Every case is a row of [`cases`]. A single method, [`Verifier::check`], runs a case and
//! judges it, with fixed seeds, so a case never flakes.

mod cases;

use std::collections::HashMap;

use serde::Serialize;

pub use cases::cases;

use crate::engine::RunMetrics;
use crate::error::{Error, Result};
use crate::experiment::{run_experiment, ExperimentOptions};
use crate::results::{ExperimentResults, ResultsCollector, RunSink};
use crate::scenario::{parse, presets, Override};
use crate::stats::{Interval, Welford};

/// The scenario a case starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Base {
    /// Frozen relationships, constant retention, no acquisition (`scenarios/verify/frozen.toml`).
    Frozen,
    /// Churn off, mixed word of mouth (`scenarios/verify/bass.toml`).
    Bass,
    /// Frozen relationships with constant acquisitions (`scenarios/verify/steady_state.toml`).
    SteadyState,
    /// A bundled scenario by name.
    Preset(&'static str),
}

impl Base {
    fn text(self) -> &'static str {
        match self {
            Base::Frozen => include_str!("../../scenarios/verify/frozen.toml"),
            Base::Bass => include_str!("../../scenarios/verify/bass.toml"),
            Base::SteadyState => include_str!("../../scenarios/verify/steady_state.toml"),
            Base::Preset(name) => presets::find(name).map_or("", |p| p.text),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Base::Frozen => "verify/frozen",
            Base::Bass => "verify/bass",
            Base::SteadyState => "verify/steady_state",
            Base::Preset(name) => name,
        }
    }
}

/// What a case measures, per replication.
#[derive(Debug, Clone)]
pub enum Measure {
    /// A per-run metric of one strategy.
    Metric {
        strategy: &'static str,
        metric: &'static str,
    },
    /// `numerator / denominator − 1` of two per-run metrics of one strategy.
    RelativeDifference {
        strategy: &'static str,
        numerator: &'static str,
        denominator: &'static str,
    },
    /// `Σ weight · metric` over variants of the scenario (extra overrides each). The variants
    /// share seeds, so the contrast is paired replication by replication.
    Contrast {
        strategy: &'static str,
        metric: &'static str,
        variants: Vec<(f64, Vec<&'static str>)>,
    },
    /// A per-period metric divided by `divisor`, at every period.
    Path {
        strategy: &'static str,
        metric: &'static str,
        divisor: f64,
    },
    /// The paired NPV lead of the strategy with the highest mean NPV over the runner-up.
    Winner,
    /// Monthly defection `1 − retention` of one strategy (pooled over its customer-periods).
    Defection { strategy: &'static str },
}

/// What a case establishes (docs/validation.md). Only reductions, directions and held-out
/// facts are evidence; a calibration target shows that the tuning of the defaults holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CaseKind {
    /// An exact result of a special case the model reduces to (docking).
    Reduction,
    /// A directional hypothesis of the theory.
    Direction,
    /// A stylized fact the defaults were tuned to.
    CalibrationTarget,
    /// A stylized fact that was not used in tuning.
    HeldOut,
}

impl CaseKind {
    /// The kind as the tables print it.
    pub fn label(self) -> &'static str {
        match self {
            CaseKind::Reduction => "reduction",
            CaseKind::Direction => "direction",
            CaseKind::CalibrationTarget => "calibration target",
            CaseKind::HeldOut => "held-out",
        }
    }
}

/// What a case expects.
#[derive(Debug, Clone)]
pub enum Expectation {
    /// Within 4 standard errors of an exact value.
    Exact(f64),
    /// At every period within 4 standard errors of an exact path.
    ExactPath(fn(u32) -> f64),
    /// Within an absolute tolerance of a target (a stylized fact).
    Target { value: f64, tolerance: f64 },
    /// Above zero, with the 95 % CI excluding zero.
    Positive,
    /// Below zero, with the 95 % CI excluding zero.
    Negative,
    /// This strategy has the highest mean NPV, and its lead's 95 % CI excludes zero.
    Winner(&'static str),
}

/// One verification case: a row of the table.
#[derive(Debug, Clone)]
pub struct Case {
    pub id: &'static str,
    pub kind: CaseKind,
    pub title: &'static str,
    /// The formula or fact and its source.
    pub reference: &'static str,
    pub base: Base,
    pub overrides: Vec<&'static str>,
    pub measure: Measure,
    pub expectation: Expectation,
}

/// The outcome of one case.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    pub id: &'static str,
    pub kind: CaseKind,
    pub title: &'static str,
    pub reference: &'static str,
    /// The exact value or target, as text.
    pub expected: String,
    /// The simulated mean with its 95 % CI.
    pub simulated: Interval,
    /// What the simulated interval refers to (e.g. the period of a path), if not obvious.
    pub note: String,
    pub pass: bool,
}

/// Runs scenarios for cases, caching each (base, overrides) so that cases share runs.
pub struct Verifier {
    options: ExperimentOptions,
    cache: HashMap<String, ExperimentResults>,
}

impl Verifier {
    /// A verifier running experiments on `threads` threads (0 = one per core).
    pub fn new(threads: usize) -> Self {
        Self {
            options: ExperimentOptions {
                threads,
                ..Default::default()
            },
            cache: HashMap::new(),
        }
    }

    fn results(&mut self, base: Base, overrides: &[&str]) -> Result<&ExperimentResults> {
        let key = format!("{}|{}", base.name(), overrides.join("|"));
        if !self.cache.contains_key(&key) {
            let parsed: Vec<Override> = overrides
                .iter()
                .map(|o| Override::parse(o))
                .collect::<Result<_>>()?;
            let scenario = parse(base.text(), base.name(), &parsed)?;
            let mut collector = ResultsCollector::new(&scenario);
            run_experiment(&scenario, self.options.clone(), &mut collector, &|| {})?;
            self.cache.insert(key.clone(), collector.finish()?);
        }
        Ok(&self.cache[&key])
    }

    /// Runs one case and judges it.
    pub fn check(&mut self, case: &Case) -> Result<CaseResult> {
        let mut note = String::new();
        let (simulated, expected, pass) = match (&case.measure, &case.expectation) {
            (
                Measure::Path {
                    strategy,
                    metric,
                    divisor,
                },
                Expectation::ExactPath(exact),
            ) => {
                let results = self.results(case.base, &case.overrides)?;
                let strategy_idx = strategy_index(results, strategy);
                // The period whose deviation is largest in standard errors decides.
                let mut worst: Option<(f64, u32, Interval, f64)> = None;
                for point in results
                    .timeseries
                    .iter()
                    .filter(|p| p.strategy_idx == strategy_idx && p.metric == *metric)
                {
                    let interval = scale(point.interval, 1.0 / divisor);
                    let target = exact(point.period);
                    let z = deviation_in_standard_errors(&interval, target);
                    if worst.is_none_or(|(worst_z, ..)| z > worst_z) {
                        worst = Some((z, point.period, interval, target));
                    }
                }
                let (z, period, interval, target) =
                    worst.expect("a path case has at least one period");
                note = format!("largest deviation of all periods: t = {period}, {z:.1} SE");
                (interval, format!("{target:.5}"), z <= 4.0)
            }
            (Measure::Winner, Expectation::Winner(expected_name)) => {
                let results = self.results(case.base, &case.overrides)?;
                let lead = results
                    .leader("npv")
                    .expect("a winner case compares at least two strategies");
                let best_name = results.strategy_names[lead.best].clone();
                let lead = lead.difference.interval;
                note = format!("{best_name}'s NPV lead over the runner-up");
                (
                    lead,
                    format!("{expected_name} wins"),
                    best_name == *expected_name && lead.ci_low > 0.0,
                )
            }
            (measure, expectation) => {
                let values = self.per_replication(case, measure)?;
                let mut running = Welford::default();
                values.iter().for_each(|&v| running.push(v));
                let interval = running.interval();
                let (expected, pass) = judge(&interval, expectation);
                (interval, expected, pass)
            }
        };
        Ok(CaseResult {
            id: case.id,
            kind: case.kind,
            title: case.title,
            reference: case.reference,
            expected,
            simulated,
            note,
            pass,
        })
    }

    /// The case's measure in each replication.
    fn per_replication(&mut self, case: &Case, measure: &Measure) -> Result<Vec<f64>> {
        Ok(match measure {
            Measure::Metric { strategy, metric } => {
                metric_values(self.results(case.base, &case.overrides)?, strategy, metric)
            }
            Measure::RelativeDifference {
                strategy,
                numerator,
                denominator,
            } => {
                let results = self.results(case.base, &case.overrides)?;
                let top = metric_values(results, strategy, numerator);
                let bottom = metric_values(results, strategy, denominator);
                top.iter().zip(&bottom).map(|(a, b)| a / b - 1.0).collect()
            }
            Measure::Contrast {
                strategy,
                metric,
                variants,
            } => {
                let mut contrast: Vec<f64> = Vec::new();
                for (weight, extra) in variants {
                    let overrides: Vec<&str> =
                        case.overrides.iter().chain(extra).copied().collect();
                    let values =
                        metric_values(self.results(case.base, &overrides)?, strategy, metric);
                    contrast.resize(values.len(), 0.0);
                    for (sum, value) in contrast.iter_mut().zip(values) {
                        *sum += weight * value;
                    }
                }
                contrast
            }
            Measure::Defection { strategy } => metric_values(
                self.results(case.base, &case.overrides)?,
                strategy,
                "retention",
            )
            .iter()
            .map(|retention| 1.0 - retention)
            .collect(),
            Measure::Path { .. } | Measure::Winner => {
                unreachable!("paths and winners are judged in check")
            }
        })
    }
}

/// One per-run metric of one strategy, replication by replication.
fn metric_values(results: &ExperimentResults, strategy: &str, metric: &str) -> Vec<f64> {
    let strategy_idx = strategy_index(results, strategy);
    let metric_idx = RunMetrics::NAMES
        .iter()
        .position(|&m| m == metric)
        .unwrap_or_else(|| panic!("case metric {metric} is not a run metric"));
    results.runs.column(strategy_idx, metric_idx).to_vec()
}

fn strategy_index(results: &ExperimentResults, strategy: &str) -> usize {
    results
        .strategy_names
        .iter()
        .position(|n| n == strategy)
        .unwrap_or_else(|| panic!("case strategy {strategy} is not in its scenario"))
}

fn scale(interval: Interval, factor: f64) -> Interval {
    Interval {
        mean: interval.mean * factor,
        sd: interval.sd * factor,
        ci_low: interval.ci_low * factor,
        ci_high: interval.ci_high * factor,
        n: interval.n,
    }
}

/// `|mean − exact|` in standard errors of the mean. When every replication gave the same value
/// the standard error is 0, and the mean is then judged as a deterministic result: 0 when it
/// agrees with the exact value to rounding (a relative 10⁻⁹), infinite otherwise.
fn deviation_in_standard_errors(interval: &Interval, exact: f64) -> f64 {
    const ROUNDING: f64 = 1e-9;
    let deviation = (interval.mean - exact).abs();
    let standard_error = interval.sd / (interval.n as f64).sqrt();
    if deviation <= ROUNDING * exact.abs().max(1.0) {
        0.0
    } else if standard_error > 0.0 {
        deviation / standard_error
    } else {
        f64::INFINITY
    }
}

/// Whether a simulated interval meets a scalar expectation, and the expectation as text.
fn judge(interval: &Interval, expectation: &Expectation) -> (String, bool) {
    match *expectation {
        Expectation::Exact(value) => (
            format!("{value:.5}"),
            deviation_in_standard_errors(interval, value) <= 4.0,
        ),
        Expectation::Target { value, tolerance } => (
            format!("{value} ± {tolerance}"),
            (interval.mean - value).abs() <= tolerance,
        ),
        Expectation::Positive => ("> 0".into(), interval.ci_low > 0.0),
        Expectation::Negative => ("< 0".into(), interval.ci_high < 0.0),
        Expectation::ExactPath(_) | Expectation::Winner(_) => {
            unreachable!("paths and winners are judged in check")
        }
    }
}

/// Runs the cases whose id is in `only` (every case if `only` is empty) on `threads` threads
/// (0 = one per core). An id that names no case is an error listing the ids.
pub fn verify(threads: usize, only: &[String]) -> Result<Vec<CaseResult>> {
    let all = cases();
    if let Some(unknown) = only
        .iter()
        .find(|id| all.iter().all(|c| c.id != id.as_str()))
    {
        return Err(Error::InvalidOption {
            option: "--case".into(),
            message: format!(
                "no case {unknown:?}; cases are: {}",
                all.iter().map(|c| c.id).collect::<Vec<_>>().join(", ")
            ),
        });
    }
    let mut verifier = Verifier::new(threads);
    all.iter()
        .filter(|case| only.is_empty() || only.iter().any(|id| id == case.id))
        .map(|case| verifier.check(case))
        .collect()
}

/// The results as a table for the terminal, ending with `N passed, M failed`.
pub fn table(results: &[CaseResult]) -> String {
    let mut text = format!(
        "{:<34} {:<18} {:>18}  {:<34} {}\n",
        "case", "kind", "exact or target", "simulated mean [95% CI]", "result"
    );
    for r in results {
        let simulated = format!(
            "{} [{}, {}]",
            short(r.simulated.mean),
            short(r.simulated.ci_low),
            short(r.simulated.ci_high)
        );
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!("  ({})", r.note)
        };
        text.push_str(&format!(
            "{:<34} {:<18} {:>18}  {:<34} {}{}\n",
            r.id,
            r.kind.label(),
            r.expected,
            simulated,
            if r.pass { "pass" } else { "FAIL" },
            note
        ));
    }
    let failed = results.iter().filter(|r| !r.pass).count();
    text.push_str(&format!(
        "\nverify: {} passed, {} failed\n",
        results.len() - failed,
        failed
    ));
    text
}

/// The results as a Markdown table (for docs/validation.md).
pub fn markdown(results: &[CaseResult]) -> String {
    let mut text = String::from(
        "| case | kind | what | exact or target | simulated mean [95 % CI] | result |\n\
         |---|---|---|---|---|---|\n",
    );
    for r in results {
        let note = if r.note.is_empty() {
            String::new()
        } else {
            format!("<br>({})", r.note)
        };
        text.push_str(&format!(
            "| `{}` | {} | {} | {} | {} [{}, {}]{} | {} |\n",
            r.id,
            r.kind.label(),
            r.title,
            r.expected,
            short(r.simulated.mean),
            short(r.simulated.ci_low),
            short(r.simulated.ci_high),
            note,
            if r.pass { "pass" } else { "FAIL" }
        ));
    }
    text
}

/// Five significant digits or so, without exponent for ordinary magnitudes.
fn short(value: f64) -> String {
    if !value.is_finite() {
        return "n/a".into();
    }
    match value.abs() {
        m if m >= 1e5 => crate::report::format::human(value),
        m if m >= 100.0 => format!("{value:.1}"),
        _ => format!("{value:.4}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn interval(mean: f64, sd: f64, n: u64) -> Interval {
        Interval::around(mean, sd, n)
    }

    #[test]
    fn deviations_are_counted_in_standard_errors() {
        let z = deviation_in_standard_errors(&interval(1.2, 1.0, 100), 1.0);
        assert!((z - 2.0).abs() < 1e-12, "{z}");
        assert_eq!(
            deviation_in_standard_errors(&interval(1.0, 1.0, 100), 1.0),
            0.0
        );
    }

    #[test]
    fn a_result_without_spread_is_judged_to_rounding() {
        // Every replication gave the same value: a standard error of 0.
        let exact = 0.123_456_789;
        assert_eq!(
            deviation_in_standard_errors(&interval(exact * (1.0 + 1e-12), 0.0, 50), exact),
            0.0
        );
        assert!(
            judge(
                &interval(exact * (1.0 + 1e-12), 0.0, 50),
                &Expectation::Exact(exact)
            )
            .1
        );
        assert_eq!(
            deviation_in_standard_errors(&interval(0.2, 0.0, 50), exact),
            f64::INFINITY
        );
        assert!(!judge(&interval(0.2, 0.0, 50), &Expectation::Exact(exact)).1);
    }
}
