//! Running a design: every point × replication × strategy, in parallel, handed on in a fixed
//! order (docs/sweeps.md).
//!
//! **Common random numbers across points.** Replication `r` derives its seeds from the
//! scenario's master seed and `r` alone, exactly as `relsim run` does, so it meets the same
//! market at every point and in every strategy: a point's differences from another are the
//! parameters' doing, not the dice's. A point's runs are therefore bit for bit those of
//! `relsim run` with the point's values given by `--set`.

use rayon::prelude::*;

use super::design::{Layout, Parameter, Point};
use crate::engine::RunMetrics;
use crate::error::{Error, Result};
use crate::experiment::{simulate_replication, StopRequest};
use crate::scenario::Scenario;

/// A design laid out against its scenario: the points, how they relate, and each parameter's
/// value type.
#[derive(Debug, Clone)]
pub struct PreparedSweep {
    pub parameters: Vec<Parameter>,
    pub points: Vec<Point>,
    pub layout: Layout,
    /// Whether each parameter's key holds a whole number (a sampled value is then rounded).
    integer: Vec<bool>,
}

impl PreparedSweep {
    /// Lays out the design of `scenario` and checks that every varied key accepts the values
    /// the design can give it (its distribution's ends, or every listed value). `source_name`
    /// names the scenario in messages.
    pub fn new(scenario: &Scenario, source_name: &str) -> Result<PreparedSweep> {
        let design = scenario.design().ok_or_else(|| Error::InvalidScenario {
            file: source_name.to_string(),
            key: "design".into(),
            location: None,
            message: "has no [design] table; a sweep needs one, with [[vary]] tables naming the \
                      keys to vary (docs/sweeps.md)"
                .into(),
        })?;
        let resolved: toml::Table =
            scenario
                .to_toml()
                .parse()
                .map_err(|err: toml::de::Error| Error::InvalidScenario {
                    file: source_name.to_string(),
                    key: String::new(),
                    location: None,
                    message: format!("cannot read the scenario back: {err}"),
                })?;
        let mut integer = Vec::with_capacity(design.parameters.len());
        for (idx, parameter) in design.parameters.iter().enumerate() {
            let current = value_at(&resolved, &parameter.key);
            let is_integer = matches!(current, Some(toml::Value::Integer(_)));
            integer.push(is_integer);
            for extreme in parameter.distribution.extremes() {
                let value = typed(&extreme, is_integer);
                scenario
                    .at_point(&[(parameter.key.as_str(), &value)])
                    .map_err(|err| Error::InvalidScenario {
                        file: source_name.to_string(),
                        key: format!("vary[{idx}]"),
                        location: None,
                        message: format!(
                            "{} = {value} is not a value the scenario accepts: {}",
                            parameter.key,
                            inner_message(&err)
                        ),
                    })?;
            }
        }
        let (points, layout) = design.points();
        Ok(PreparedSweep {
            parameters: design.parameters.clone(),
            points,
            layout,
            integer,
        })
    }

    /// The values of point `point_idx`, typed as the scenario's keys hold them.
    pub fn values(&self, point_idx: usize) -> Vec<toml::Value> {
        self.points[point_idx]
            .values
            .iter()
            .zip(&self.integer)
            .map(|(value, &integer)| typed(value, integer))
            .collect()
    }

    /// The scenario at point `point_idx`.
    pub fn scenario_at(&self, scenario: &Scenario, point_idx: usize) -> Result<Scenario> {
        let values = self.values(point_idx);
        let assignments: Vec<(&str, &toml::Value)> = self
            .parameters
            .iter()
            .map(|p| p.key.as_str())
            .zip(&values)
            .collect();
        scenario.at_point(&assignments)
    }
}

/// A number for a key that holds a whole number is rounded to one.
fn typed(value: &toml::Value, integer: bool) -> toml::Value {
    match value {
        toml::Value::Float(x) if integer && x.is_finite() => toml::Value::Integer(x.round() as i64),
        other => other.clone(),
    }
}

/// The message of a scenario error without the file and key it repeats.
fn inner_message(err: &Error) -> String {
    match err {
        Error::InvalidScenario { key, message, .. } if !key.is_empty() => {
            format!("{key}: {message}")
        }
        Error::InvalidScenario { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

/// The value at a dotted key (`market.population`, `strategies.1.price_level`).
fn value_at<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut segments = key.split('.');
    let mut current = table.get(segments.next()?)?;
    for segment in segments {
        current = match current {
            toml::Value::Table(table) => table.get(segment)?,
            toml::Value::Array(array) => array.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

/// Every strategy of one replication at one point.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    pub point: u32,
    pub replication: u64,
    /// The replication's seed.
    pub seed: u64,
    /// Each strategy's per-run metrics, in scenario order.
    pub metrics: Vec<RunMetrics>,
}

/// How to run a sweep.
#[derive(Debug, Clone, Default)]
pub struct ExecutionOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Checked before each unit; once set, the sweep returns [`Error::Interrupted`].
    pub stop: StopRequest,
}

/// What the sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SweepInfo {
    pub threads: usize,
    pub units: u64,
    pub customer_steps: u64,
}

/// Units (point × replication) simulated before they are handed on: bounds memory whatever the
/// design's size.
const UNITS_PER_BATCH: usize = 256;

/// Runs every point of `sweep` with `scenario.replications()` replications each, handing each
/// unit to `sink` in order (point by point, replication by replication). `on_unit_done` is
/// called from worker threads after each unit.
pub fn run_sweep(
    scenario: &Scenario,
    sweep: &PreparedSweep,
    options: &ExecutionOptions,
    sink: &mut dyn FnMut(UnitResult) -> Result<()>,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<SweepInfo> {
    let pool = rayon::ThreadPoolBuilder::new()
        .num_threads(options.threads)
        .build()
        .map_err(|err| Error::ThreadPool {
            threads: options.threads,
            message: err.to_string(),
        })?;
    let replications = scenario.replications() as u64;
    let n_points = sweep.points.len();
    let total = n_points as u64 * replications;
    let points_per_batch = (UNITS_PER_BATCH / replications.max(1) as usize).max(1);
    let mut customer_steps = 0u64;
    let mut done = 0u64;
    for first in (0..n_points).step_by(points_per_batch) {
        let last = (first + points_per_batch).min(n_points);
        let scenarios: Vec<Scenario> = pool.install(|| {
            (first..last)
                .into_par_iter()
                .map(|idx| sweep.scenario_at(scenario, idx))
                .collect::<Result<Vec<_>>>()
        })?;
        let units: Vec<(usize, u64)> = (first..last)
            .flat_map(|idx| (0..replications).map(move |r| (idx, r)))
            .collect();
        let batch: Vec<Option<UnitResult>> = pool.install(|| {
            units
                .par_iter()
                .map(|&(idx, replication)| {
                    if options.stop.signal().is_some() {
                        return None;
                    }
                    let at_point = &scenarios[idx - first];
                    let records = simulate_replication(at_point, replication);
                    on_unit_done();
                    Some(UnitResult {
                        point: idx as u32,
                        replication,
                        seed: records.first().map_or(0, |r| r.seed),
                        metrics: records.into_iter().map(|r| r.output.metrics).collect(),
                    })
                })
                .collect()
        });
        if let Some(signal) = options.stop.signal() {
            return Err(Error::Interrupted {
                signal,
                finished: done,
                total,
            });
        }
        for at_point in &scenarios {
            customer_steps += replications * at_point.customer_steps_per_replication();
        }
        for unit in batch.into_iter().flatten() {
            sink(unit)?;
            done += 1;
        }
    }
    Ok(SweepInfo {
        threads: pool.current_num_threads(),
        units: total,
        customer_steps,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_reach_tables_and_lists() {
        let table: toml::Table = "a = 1\n[b]\nc = 2.5\n[[d]]\ne = true\n[[d]]\ne = false\n"
            .parse()
            .unwrap();
        assert_eq!(value_at(&table, "a"), Some(&toml::Value::Integer(1)));
        assert_eq!(value_at(&table, "b.c"), Some(&toml::Value::Float(2.5)));
        assert_eq!(
            value_at(&table, "d.1.e"),
            Some(&toml::Value::Boolean(false))
        );
        assert_eq!(value_at(&table, "d.2.e"), None);
        assert_eq!(value_at(&table, "b.x"), None);
        assert_eq!(
            typed(&toml::Value::Float(2.6), true),
            toml::Value::Integer(3)
        );
        assert_eq!(
            typed(&toml::Value::Float(2.6), false),
            toml::Value::Float(2.6)
        );
    }
}
