//! Experiments: many replications of every strategy of a scenario, in parallel.
//!
//! **The only module that uses threads.** Replication `r` derives all its seeds from
//! `(master seed, r)` and simulates every strategy on the same [`World`] and streams (common
//! random numbers, docs/model.md §1). Replications run in parallel in fixed-size batches and are
//! handed to the [`RunSink`] in replication order, so the sink sees the same sequence — and
//! writes the same bytes — whatever the number of threads.

pub mod calibrate;
pub mod levers;
pub mod sweep;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rayon::prelude::*;

use crate::engine::{simulate_with, ReplicationSeeds, Workers, World};
use crate::error::{Error, Result};
use crate::results::{RunRecord, RunSink};
use crate::scenario::Scenario;
pub use levers::{npv_of_lever_sets, LeverSetNpv};
pub use sweep::{run_sweep, ExecutionOptions, SweepInfo};

/// A request to stop an experiment early, made from outside (a signal handler) and read between
/// replications. It holds the number of the signal that asked, 0 while none has.
#[derive(Debug, Clone, Default)]
pub struct StopRequest(Arc<AtomicUsize>);

impl StopRequest {
    /// The flag a signal handler sets to the signal's number.
    pub fn flag(&self) -> Arc<AtomicUsize> {
        Arc::clone(&self.0)
    }

    /// Asks the experiment to stop, on behalf of `signal`.
    pub fn request(&self, signal: i32) {
        self.0.store(signal as usize, Ordering::Relaxed);
    }

    /// The signal that asked to stop, if any.
    pub fn signal(&self) -> Option<i32> {
        match self.0.load(Ordering::Relaxed) {
            0 => None,
            signal => Some(signal as i32),
        }
    }
}

/// How to run an experiment.
#[derive(Debug, Clone)]
pub struct ExperimentOptions {
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// Replications simulated before their records are handed to the sink; bounds memory.
    pub batch_size: usize,
    /// Checked before each replication: once set, no new replication starts and the
    /// experiment returns [`Error::Interrupted`].
    pub stop: StopRequest,
}

impl Default for ExperimentOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            batch_size: 64,
            stop: StopRequest::default(),
        }
    }
}

/// What the experiment did, for the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ExperimentInfo {
    pub threads: usize,
    pub replications: u64,
    pub customer_steps: u64,
    /// The part of them spent on active customers
    /// ([`crate::engine::RunOutput::active_customer_steps`]).
    pub active_customer_steps: u64,
}

/// A pool of `threads` workers (0: one per core).
fn thread_pool(threads: usize) -> Result<rayon::ThreadPool> {
    rayon::ThreadPoolBuilder::new()
        .num_threads(threads)
        .build()
        .map_err(|err| Error::ThreadPool {
            threads,
            message: err.to_string(),
        })
}

/// Simulates every strategy of one replication on a shared world, its pieces spread over the
/// current pool.
pub fn simulate_replication(scenario: &Scenario, replication: u64) -> Vec<RunRecord> {
    simulate_replication_by(scenario, replication, PoolWorkers::AT_ONCE)
}

/// [`simulate_replication`], its pieces run by `workers`.
pub(crate) fn simulate_replication_by(
    scenario: &Scenario,
    replication: u64,
    workers: PoolWorkers,
) -> Vec<RunRecord> {
    let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
    let world = World::generate_with(scenario.model(), &seeds, &workers);
    simulate_replication_on_by(scenario, replication, &world, workers)
}

/// Runs the pieces of one replication's work (a period's chunks, the world's draws) either on
/// the current pool's threads at once, so that one replication of a huge market uses every
/// core, or one after another on the thread that runs the replication. Idle threads take
/// pieces; the engine adds the pieces' tallies up in their order, so the output is the same
/// either way.
#[derive(Debug, Clone, Copy)]
pub(crate) struct PoolWorkers {
    at_once: bool,
}

impl PoolWorkers {
    pub(crate) const AT_ONCE: Self = Self { at_once: true };

    /// For replications run `in_flight` at a time on `threads` threads: at once only when there
    /// are too few replications to keep every thread busy. Otherwise a thread that runs out of
    /// work would take chunks of another's replication, away from the cache that holds them
    /// (2 % slower on 8 replications of 100 000 customers on 2 threads).
    pub(crate) fn for_batch(in_flight: usize, threads: usize) -> Self {
        Self {
            at_once: in_flight < 2 * threads,
        }
    }
}

impl Workers for PoolWorkers {
    fn each<T: Send, F: Fn(&mut T) + Sync>(&self, items: &mut [T], work: F) {
        match items {
            [item] => work(item),
            _ if self.at_once => items.par_iter_mut().for_each(&work),
            _ => items.iter_mut().for_each(work),
        }
    }
}

/// Simulates every strategy of one replication on `world`, which must be the replication's
/// world: `World::generate(scenario.model(), &ReplicationSeeds::derive(scenario.seed(),
/// replication))`, perhaps built for another scenario with the same model and seed.
pub fn simulate_replication_on(
    scenario: &Scenario,
    replication: u64,
    world: &World,
) -> Vec<RunRecord> {
    simulate_replication_on_by(scenario, replication, world, PoolWorkers::AT_ONCE)
}

/// [`simulate_replication_on`], its chunks run by `workers`.
pub(crate) fn simulate_replication_on_by(
    scenario: &Scenario,
    replication: u64,
    world: &World,
    workers: PoolWorkers,
) -> Vec<RunRecord> {
    let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
    (0..scenario.strategies().len())
        .map(|strategy_idx| RunRecord {
            strategy_idx,
            replication,
            seed: seeds.replication,
            output: simulate_with(&scenario.run_config(strategy_idx), world, &seeds, &workers),
        })
        .collect()
}

/// Runs `scenario.replications()` replications in parallel, feeding `sink` in replication order.
/// `on_replication_done` is called (from worker threads) after each replication. A stop request
/// ends it after the replications in flight, without feeding the sink their batch.
pub fn run_experiment<S: RunSink + ?Sized>(
    scenario: &Scenario,
    options: ExperimentOptions,
    sink: &mut S,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<ExperimentInfo> {
    let pool = thread_pool(options.threads)?;
    let replications = scenario.replications() as u64;
    let batch_size = options.batch_size.max(1) as u64;
    let mut start = 0;
    let mut active_customer_steps = 0u64;
    while start < replications {
        let end = (start + batch_size).min(replications);
        let workers = PoolWorkers::for_batch((end - start) as usize, pool.current_num_threads());
        let batch: Vec<Vec<RunRecord>> = pool.install(|| {
            (start..end)
                .into_par_iter()
                .map(|replication| {
                    if options.stop.signal().is_some() {
                        return Vec::new();
                    }
                    let runs = simulate_replication_by(scenario, replication, workers);
                    on_replication_done();
                    runs
                })
                .collect()
        });
        if let Some(signal) = options.stop.signal() {
            return Err(Error::Interrupted {
                signal,
                finished: start,
                total: replications,
                units: "replications",
            });
        }
        for run in batch.into_iter().flatten() {
            active_customer_steps += run.output.active_customer_steps;
            sink.accept(run)?;
        }
        start = end;
    }
    Ok(ExperimentInfo {
        threads: pool.current_num_threads(),
        replications,
        customer_steps: replications * scenario.customer_steps_per_replication(),
        active_customer_steps,
    })
}

/// Rough peak memory of a whole `relsim run`: each worker holds one replication's world and one
/// strategy's customer state (network generation briefly needs three times the final CSR); the
/// collector holds the time series as running moments and the per-run table; summarising sorts
/// a copy of one column at a time; writing and drawing add a fixed amount (chart buffers, SVG
/// text, the report), and the charts read the per-run table back in place of the one the
/// simulation held, which is freed first.
pub fn estimate_memory_bytes(scenario: &Scenario, threads: usize) -> u64 {
    use crate::engine::{PeriodRecord, RunMetrics};
    use crate::model::customers::Customers;
    use crate::model::params::NetworkParams;
    /// The process itself, the bundled fonts, chart pixel buffers and SVG text.
    const FIXED: u64 = 48 << 20;
    let population = scenario.model().market.population as u64;
    let mean_degree = match scenario.model().network {
        NetworkParams::WattsStrogatz { mean_degree, .. }
        | NetworkParams::BarabasiAlbert { mean_degree }
        | NetworkParams::ErdosRenyi { mean_degree } => mean_degree as u64,
        NetworkParams::None {} | NetworkParams::Mixed {} => 0,
    };
    let network = 3 * (population * mean_degree * 4 + population * 4);
    // Engine state, the voice snapshot, two neighbour counts, the queue of voice changes, the
    // population's attributes, and four bytes for each individual parameter that varies.
    let varying = scenario.model().heterogeneity.varying_count() as u64;
    // A warm start keeps each customer's history: an age and three states (14 bytes).
    let history = if scenario.model().warm_start.periods > 0 {
        14
    } else {
        0
    };
    let per_customer =
        Customers::BYTES_PER_CUSTOMER as u64 + 1 + 2 * 4 + 4 + 4 + 4 * varying + history;
    let per_worker = population * per_customer + network;
    let strategies = scenario.strategies().len() as u64;
    let periods = scenario.periods() as u64;
    let replications = scenario.replications() as u64;
    let series = strategies * periods * PeriodRecord::COUNT as u64 * 24;
    // Every metric of every run as f64, plus each replication's number and seed.
    let run_table = replications * (strategies * RunMetrics::COUNT as u64 * 8 + 16);
    // A sorted copy of one column (quantiles) and one column of paired differences.
    let summarising = replications * 8 * 2;
    let batch = ExperimentOptions::default().batch_size as u64
        * strategies
        * periods
        * PeriodRecord::COUNT as u64
        * 8;
    FIXED + threads.max(1) as u64 * per_worker + series + run_table + summarising + batch
}
