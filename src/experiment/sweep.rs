//! Running a sweep's units (point × replication × strategy) in parallel, handed on in a fixed
//! order (docs/sweeps.md).

use rayon::prelude::*;

use super::{simulate_replication_by, simulate_replication_on_by, PoolWorkers, StopRequest};
use crate::engine::{ReplicationSeeds, World};
use crate::error::{Error, Result};
use crate::model::ModelParams;
use crate::results::UnitResult;
use crate::scenario::Scenario;
use crate::sweep::points::PreparedSweep;

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
    /// The part of them spent on active customers.
    pub active_customer_steps: u64,
}

/// Units (point × replication) simulated before they are handed on: bounds memory whatever the
/// design's size.
const UNITS_PER_BATCH: usize = 256;

/// Largest `replications × population` whose worlds a sweep keeps from one batch of points to
/// the next (about 40 bytes per customer each).
const SHARED_WORLD_CUSTOMERS: u64 = 20_000_000;

/// The worlds of every replication for one model, kept while the points use that model.
struct SharedWorlds {
    model: ModelParams,
    by_replication: Vec<World>,
}

/// Runs every point of `sweep` with `scenario.replications()` replications each, handing each
/// unit to `sink` in order (point by point, replication by replication). `on_unit_done` is
/// called from worker threads after each unit.
///
/// A world depends only on the model and the replication's seed, never on a strategy's levers.
/// Each batch takes its first point's model as reference and keeps the worlds of every
/// replication for it; every point of the batch with the same model (a design that varies only
/// levers: all of them) simulates on those worlds instead of building its own, and the worlds
/// carry over to the next batch while its reference model is unchanged.
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
    let mut active_customer_steps = 0u64;
    let mut done = 0u64;
    let mut shared: Option<SharedWorlds> = None;
    // Strategies' levers are not part of the model.
    let levers_only = sweep
        .parameters
        .iter()
        .all(|p| p.key.starts_with("strategies."));
    for first in (0..n_points).step_by(points_per_batch) {
        let last = (first + points_per_batch).min(n_points);
        let scenarios: Vec<Scenario> = pool.install(|| {
            (first..last)
                .into_par_iter()
                .map(|idx| sweep.scenario_at(scenario, idx))
                .collect::<Result<Vec<_>>>()
        })?;
        let reference = scenarios[0].model();
        let cached = shared.as_ref().is_some_and(|s| s.model == *reference);
        // Worth keeping only if another point uses the same model: in a design of levers alone
        // every point does; otherwise look within the batch. A design that varies the model
        // everywhere keeps no worlds at all.
        let worth_sharing = (levers_only || scenarios[1..].iter().any(|s| s.model() == reference))
            && replications.saturating_mul(reference.market.population as u64)
                <= SHARED_WORLD_CUSTOMERS;
        if !cached && !worth_sharing {
            shared = None;
        } else if !cached {
            let by_replication = pool.install(|| {
                (0..replications)
                    .into_par_iter()
                    .map(|r| {
                        World::generate(reference, &ReplicationSeeds::derive(scenario.seed(), r))
                    })
                    .collect()
            });
            shared = Some(SharedWorlds {
                model: reference.clone(),
                by_replication,
            });
        }
        let units: Vec<(usize, u64)> = (first..last)
            .flat_map(|idx| (0..replications).map(move |r| (idx, r)))
            .collect();
        let workers = PoolWorkers::for_batch(units.len(), pool.current_num_threads());
        let batch: Vec<Option<(UnitResult, u64)>> = pool.install(|| {
            units
                .par_iter()
                .map(|&(idx, replication)| {
                    if options.stop.signal().is_some() {
                        return None;
                    }
                    let at_point = &scenarios[idx - first];
                    let records = match &shared {
                        Some(worlds) if worlds.model == *at_point.model() => {
                            simulate_replication_on_by(
                                at_point,
                                replication,
                                &worlds.by_replication[replication as usize],
                                workers,
                            )
                        }
                        _ => simulate_replication_by(at_point, replication, workers),
                    };
                    on_unit_done();
                    let active: u64 = records.iter().map(|r| r.output.active_customer_steps).sum();
                    Some((
                        UnitResult {
                            point: idx as u32,
                            replication,
                            seed: records.first().map_or(0, |r| r.seed),
                            metrics: records.into_iter().map(|r| r.output.metrics).collect(),
                        },
                        active,
                    ))
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
        for (unit, active) in batch.into_iter().flatten() {
            active_customer_steps += active;
            sink(unit)?;
            done += 1;
        }
    }
    Ok(SweepInfo {
        threads: pool.current_num_threads(),
        units: total,
        customer_steps,
        active_customer_steps,
    })
}
