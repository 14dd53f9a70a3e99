//! Adaptive replications (`relsim run --target-ci`): add replications in fixed batches until
//! the 95 % interval of every paired difference of the chosen metric is narrow enough.
//!
//! The rule is deterministic: replication `r` is the same whatever else runs, so the first
//! `N` replications of an adaptive run are a plain run's with `replications = N`, and the
//! number needed is the first multiple of the batch at which every interval is narrow enough.

use super::{run_experiment, ExperimentInfo, ExperimentOptions};
use crate::engine::RunMetrics;
use crate::error::{Error, Result};
use crate::results::ResultsCollector;
use crate::scenario::Scenario;
use crate::stats::paired_difference;

/// What `--target-ci` asks: the target, the metric, the batch and the most replications.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AdaptivePlan {
    pub target: TargetWidth,
    pub metric_idx: usize,
    /// Replications added at a time (the scenario's `replications`).
    pub batch: u64,
    pub max_replications: u64,
}

impl AdaptivePlan {
    /// The plan for `scenario`, checked: two strategies at least, `max_replications ≥ batch`.
    pub fn new(
        scenario: &Scenario,
        target: TargetWidth,
        metric: &str,
        max_replications: u64,
    ) -> Result<Self> {
        let batch = scenario.replications() as u64;
        if scenario.strategies().len() < 2 {
            return Err(Error::InvalidOption {
                option: "--target-ci".into(),
                message: format!(
                    "needs two strategies to compare; scenario {} has one",
                    scenario.name()
                ),
            });
        }
        if max_replications < batch {
            return Err(Error::InvalidOption {
                option: "--max-replications".into(),
                message: format!(
                    "must be at least the batch of {batch} replications (the scenario's \
                     replications, added at a time), got {max_replications}"
                ),
            });
        }
        Ok(Self {
            target,
            metric_idx: metric_index(metric)?,
            batch,
            max_replications,
        })
    }
}

/// What an adaptive experiment did.
#[derive(Debug, Clone, PartialEq)]
pub struct AdaptiveOutcome {
    /// The experiment over every replication run.
    pub info: ExperimentInfo,
    /// Whether every interval was narrow enough (else the maximum was reached).
    pub reached: bool,
    /// The widest paired difference at the end.
    pub widest: Option<WidestDifference>,
}

/// Runs replications `0..batch`, then the next batch, and so on, into `collector`, until every
/// paired difference of the plan's metric is narrow enough or `max_replications` have run
/// (the last batch is cut short to stop there). `options.replications` is ignored.
pub fn run_until_precise(
    scenario: &Scenario,
    plan: &AdaptivePlan,
    options: ExperimentOptions,
    collector: &mut ResultsCollector,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<AdaptiveOutcome> {
    let mut run = 0u64;
    let mut info = ExperimentInfo {
        threads: 0,
        replications: 0,
        customer_steps: 0,
        active_customer_steps: 0,
        time_split: Default::default(),
    };
    loop {
        let end = (run + plan.batch).min(plan.max_replications);
        let batch_info = run_experiment(
            scenario,
            ExperimentOptions {
                replications: Some((run..end).collect()),
                ..options.clone()
            },
            collector,
            on_replication_done,
        )?;
        info = ExperimentInfo {
            threads: batch_info.threads,
            replications: info.replications + batch_info.replications,
            customer_steps: info.customer_steps + batch_info.customer_steps,
            active_customer_steps: info.active_customer_steps + batch_info.active_customer_steps,
            time_split: info.time_split.plus(batch_info.time_split),
        };
        run = end;
        let widest = widest_difference(collector, plan.metric_idx, plan.target);
        let reached = widest.as_ref().is_some_and(WidestDifference::met);
        if reached || run >= plan.max_replications {
            return Ok(AdaptiveOutcome {
                info,
                reached,
                widest,
            });
        }
    }
}

/// How narrow each paired difference's 95 % interval must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetWidth {
    /// At most this wide, in the metric's unit.
    Absolute(f64),
    /// At most this percentage of the metric's level: the larger of the two strategies' mean
    /// values, in absolute value.
    PercentOfLevel(f64),
}

impl TargetWidth {
    /// `25000` (absolute) or `2%` (of the metric's level); positive and finite.
    pub fn parse(text: &str) -> Result<Self> {
        let invalid = || Error::InvalidOption {
            option: "--target-ci".into(),
            message: format!(
                "`{text}` is not a width: give a positive number in the metric's unit (e.g. \
                 25000) or a percentage of its level (e.g. 2%)"
            ),
        };
        let text = text.trim();
        let (number, percent) = match text.strip_suffix('%') {
            Some(number) => (number.trim(), true),
            None => (text, false),
        };
        let value: f64 = number.parse().map_err(|_| invalid())?;
        if !(value.is_finite() && value > 0.0) {
            return Err(invalid());
        }
        Ok(if percent {
            Self::PercentOfLevel(value)
        } else {
            Self::Absolute(value)
        })
    }

    /// The widest interval allowed for a difference between strategies whose mean values are
    /// `mean_a` and `mean_b`.
    pub fn allowed(self, mean_a: f64, mean_b: f64) -> f64 {
        match self {
            Self::Absolute(width) => width,
            Self::PercentOfLevel(percent) => percent / 100.0 * mean_a.abs().max(mean_b.abs()),
        }
    }
}

impl std::fmt::Display for TargetWidth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Absolute(width) => write!(f, "{width}"),
            Self::PercentOfLevel(percent) => write!(f, "{percent}%"),
        }
    }
}

/// The paired difference farthest from its target, after the replications collected so far.
#[derive(Debug, Clone, PartialEq)]
pub struct WidestDifference {
    pub strategy_a: usize,
    pub strategy_b: usize,
    /// The 95 % interval's width (NaN with fewer than two replications).
    pub width: f64,
    /// The width the target allows for this pair.
    pub allowed: f64,
}

impl WidestDifference {
    /// Whether this interval, and hence every one, is narrow enough.
    pub fn met(&self) -> bool {
        self.width <= self.allowed
    }
}

/// The metric's index in [`RunMetrics::NAMES`], or an error listing them.
pub fn metric_index(metric: &str) -> Result<usize> {
    RunMetrics::NAMES
        .iter()
        .position(|&name| name == metric)
        .ok_or_else(|| Error::InvalidOption {
            option: "--target-metric".into(),
            message: format!(
                "`{metric}` is not a per-run metric; choose one of {}",
                RunMetrics::NAMES.join(", ")
            ),
        })
}

/// Over every pair of strategies, the paired difference of metric `metric_idx` whose interval
/// is widest relative to what `target` allows (`None` with fewer than two strategies). An
/// interval that cannot be computed yet (NaN) counts as not narrow enough.
pub fn widest_difference(
    collector: &ResultsCollector,
    metric_idx: usize,
    target: TargetWidth,
) -> Option<WidestDifference> {
    let runs = collector.runs();
    let n_strategies = collector.strategy_count();
    let mean = |values: &[f64]| {
        let finite: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        finite.iter().sum::<f64>() / finite.len().max(1) as f64
    };
    let mut widest: Option<(f64, WidestDifference)> = None;
    for strategy_a in 0..n_strategies {
        for strategy_b in (strategy_a + 1)..n_strategies {
            let (a, b) = (
                runs.column(strategy_a, metric_idx),
                runs.column(strategy_b, metric_idx),
            );
            let interval = paired_difference(a, b).interval;
            let width = interval.ci_high - interval.ci_low;
            let allowed = target.allowed(mean(a), mean(b));
            // How far from its target: NaN (too few runs) ranks first.
            let excess = if width.is_nan() {
                f64::INFINITY
            } else {
                width / allowed
            };
            if widest.as_ref().is_none_or(|(worst, _)| excess > *worst) {
                widest = Some((
                    excess,
                    WidestDifference {
                        strategy_a,
                        strategy_b,
                        width,
                        allowed,
                    },
                ));
            }
        }
    }
    widest.map(|(_, difference)| difference)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn widths_are_read_as_absolute_or_percent_of_the_level() {
        assert_eq!(
            TargetWidth::parse("25000").unwrap(),
            TargetWidth::Absolute(25000.0)
        );
        assert_eq!(
            TargetWidth::parse(" 2 % ").unwrap(),
            TargetWidth::PercentOfLevel(2.0)
        );
        assert_eq!(TargetWidth::PercentOfLevel(2.0).allowed(-300.0, 100.0), 6.0);
        assert_eq!(TargetWidth::Absolute(5.0).allowed(-300.0, 100.0), 5.0);
        for bad in ["0", "-3", "x", "%", "inf", "NaN%"] {
            let message = TargetWidth::parse(bad).unwrap_err().to_string();
            assert!(message.starts_with("--target-ci:"), "{bad}: {message}");
        }
        assert!(metric_index("npv").is_ok());
        let message = metric_index("profitt").unwrap_err().to_string();
        assert!(message.contains("npv, clv"), "{message}");
    }
}
