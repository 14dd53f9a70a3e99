//! Running a sweep's units (point × replication × strategy) in parallel, handed on in a fixed
//! order (docs/sweeps.md).

use rayon::prelude::*;

use super::{simulate_replication, StopRequest};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::sweep::points::{PreparedSweep, UnitResult};

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
    let pool = super::thread_pool(options.threads)?;
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
                units: "point-replications",
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
