//! Running a sweep's units (point × replication × strategy) in parallel, handed on in a fixed
//! order (docs/sweeps.md).

use rayon::prelude::*;

use super::{
    simulate_replication_on_by, simulate_replication_timed, timed, PoolWorkers, Shard, StopRequest,
};
use crate::engine::{ReplicationSeeds, World};
use crate::error::{Error, Result};
use crate::model::ModelParams;
use crate::output::TimeSplit;
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
    /// Run only this shard's units: unit `u = point × replications + replication` belongs to
    /// shard `(u mod n) + 1`.
    pub shard: Shard,
    /// Units already done (a resumed shard's journal), in increasing order: skipped.
    pub done_units: Vec<u64>,
    /// On a stop, hand the sink what the batch in flight finished (a shard's journal keeps
    /// it) instead of nothing.
    pub keep_unfinished_batches: bool,
}

/// Receives a sweep's units in order, and the end of each batch.
pub trait UnitSink {
    fn accept(&mut self, unit: UnitResult) -> Result<()>;

    /// Called after each batch's units have been accepted.
    fn end_batch(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(UnitResult) -> Result<()>> UnitSink for F {
    fn accept(&mut self, unit: UnitResult) -> Result<()> {
        self(unit)
    }
}

/// What the sweep did.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SweepInfo {
    pub threads: usize,
    pub units: u64,
    pub customer_steps: u64,
    /// The part of them spent on active customers.
    pub active_customer_steps: u64,
    /// Where the units' time went: building worlds (shared ones once) against simulating.
    pub time_split: TimeSplit,
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
    sink: &mut dyn UnitSink,
    on_unit_done: &(dyn Fn() + Sync),
) -> Result<SweepInfo> {
    let pool = super::thread_pool(options.threads)?;
    let replications = scenario.replications() as u64;
    let n_points = sweep.points.len();
    let count = u64::from(options.shard.count());
    let ours = |idx: usize, replication: u64| {
        let unit = idx as u64 * replications + replication;
        unit % count == u64::from(options.shard.index() - 1)
            && options.done_units.binary_search(&unit).is_err()
    };
    let total = (0..n_points)
        .flat_map(|idx| (0..replications).map(move |r| (idx, r)))
        .filter(|&(idx, r)| ours(idx, r))
        .count() as u64;
    let points_per_batch = (UNITS_PER_BATCH / replications.max(1) as usize).max(1);
    let mut customer_steps = 0u64;
    let mut active_customer_steps = 0u64;
    let mut time_split = TimeSplit::default();
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
            let timed: Vec<(World, f64)> = pool.install(|| {
                (0..replications)
                    .into_par_iter()
                    .map(|r| {
                        let seeds = ReplicationSeeds::derive(scenario.seed(), r);
                        timed(|| World::generate(reference, &seeds))
                    })
                    .collect()
            });
            let (by_replication, seconds): (Vec<World>, Vec<f64>) = timed.into_iter().unzip();
            time_split = time_split.plus(TimeSplit {
                world_build_seconds: seconds.iter().sum(),
                simulation_seconds: 0.0,
            });
            shared = Some(SharedWorlds {
                model: reference.clone(),
                by_replication,
            });
        }
        let units: Vec<(usize, u64)> = (first..last)
            .flat_map(|idx| (0..replications).map(move |r| (idx, r)))
            .filter(|&(idx, r)| ours(idx, r))
            .collect();
        if units.is_empty() {
            continue;
        }
        let workers = PoolWorkers::for_batch(units.len(), pool.current_num_threads());
        let batch: Vec<Option<(UnitResult, TimeSplit)>> = pool.install(|| {
            units
                .par_iter()
                .map(|&(idx, replication)| {
                    if options.stop.signal().is_some() {
                        return None;
                    }
                    let at_point = &scenarios[idx - first];
                    let (records, split) = match &shared {
                        Some(worlds) if worlds.model == *at_point.model() => {
                            let (records, simulation_seconds) = timed(|| {
                                simulate_replication_on_by(
                                    at_point,
                                    replication,
                                    &worlds.by_replication[replication as usize],
                                    workers,
                                )
                            });
                            let split = TimeSplit {
                                world_build_seconds: 0.0,
                                simulation_seconds,
                            };
                            (records, split)
                        }
                        _ => simulate_replication_timed(at_point, replication, workers),
                    };
                    on_unit_done();
                    let active: u64 = records.iter().map(|r| r.output.active_customer_steps).sum();
                    let unit = UnitResult {
                        point: idx as u32,
                        replication,
                        seed: records.first().map_or(0, |r| r.seed),
                        metrics: records.into_iter().map(|r| r.output.metrics).collect(),
                        customer_steps: at_point.customer_steps_per_replication(),
                        active_customer_steps: active,
                    };
                    Some((unit, split))
                })
                .collect()
        });
        let stopped = options.stop.signal();
        if stopped.is_none() || options.keep_unfinished_batches {
            for (unit, split) in batch.into_iter().flatten() {
                time_split = time_split.plus(split);
                customer_steps += unit.customer_steps;
                active_customer_steps += unit.active_customer_steps;
                sink.accept(unit)?;
                done += 1;
            }
            sink.end_batch()?;
        }
        if let Some(signal) = stopped {
            return Err(Error::Interrupted {
                signal,
                finished: done,
                total,
                units: "point-replications",
                time_split,
            });
        }
    }
    Ok(SweepInfo {
        threads: pool.current_num_threads(),
        units: total,
        customer_steps,
        active_customer_steps,
        time_split,
    })
}
