//! Experiments: many replications of every strategy of a scenario, in parallel.
//!
//! **The only module that uses threads.** Replication `r` derives all its seeds from
//! `(master seed, r)` and simulates every strategy on the same [`World`] and streams (common
//! random numbers, docs/model.md §1). Replications run in parallel in fixed-size batches and are
//! handed to the [`RunSink`] in replication order, so the sink sees the same sequence — and
//! writes the same bytes — whatever the number of threads.

pub mod adaptive;
pub mod calibrate;
pub mod levers;
pub mod sweep;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use rayon::prelude::*;

use crate::engine::{simulate_with, ReplicationSeeds, Workers, World};
use crate::error::{Error, Result};
use crate::output::TimeSplit;
use crate::results::{RunRecord, RunSink};
use crate::scenario::Scenario;
pub use levers::{npv_of_lever_sets, LeverSetNpv};
pub use sweep::{run_sweep, ExecutionOptions, SweepInfo, UnitSink};

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
    /// The replications to run, in increasing order (a shard's share, less what its journal
    /// holds); `None` runs every replication of the scenario.
    pub replications: Option<Vec<u64>>,
}

impl Default for ExperimentOptions {
    fn default() -> Self {
        Self {
            threads: 0,
            batch_size: 64,
            stop: StopRequest::default(),
            replications: None,
        }
    }
}

/// What the experiment did, for the manifest.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ExperimentInfo {
    pub threads: usize,
    pub replications: u64,
    pub customer_steps: u64,
    /// The part of them spent on active customers
    /// ([`crate::engine::RunOutput::active_customer_steps`]).
    pub active_customer_steps: u64,
    /// Where the replications' time went (world against strategies).
    pub time_split: TimeSplit,
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
    simulate_replication_timed(scenario, replication, workers).0
}

/// [`simulate_replication_by`], and the time it took to build the world and to simulate the
/// strategies on it.
pub(crate) fn simulate_replication_timed(
    scenario: &Scenario,
    replication: u64,
    workers: PoolWorkers,
) -> (Vec<RunRecord>, TimeSplit) {
    let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
    let (world, world_build_seconds) =
        timed(|| World::generate_with(scenario.model(), &seeds, &workers));
    let (runs, simulation_seconds) =
        timed(|| simulate_replication_on_by(scenario, replication, &world, workers));
    let split = TimeSplit {
        world_build_seconds,
        simulation_seconds,
    };
    (runs, split)
}

/// What `work` returns, and the seconds it took (for a [`TimeSplit`]).
pub(crate) fn timed<T>(work: impl FnOnce() -> T) -> (T, f64) {
    let started = Instant::now();
    let result = work();
    (result, started.elapsed().as_secs_f64())
}

/// The stories (`crate::stories::tell_on`) of `customers` customers under every strategy of
/// replication `replication`: one world, the strategies at once on a pool of `threads` threads
/// (0: one per core). The stories are the same whatever the number of threads.
pub fn tell_every_strategy(
    scenario: &Scenario,
    replication: u64,
    customers: usize,
    threads: usize,
) -> Result<Vec<crate::stories::Stories>> {
    let pool = thread_pool(threads)?;
    pool.install(|| {
        let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
        let world = World::generate_with(scenario.model(), &seeds, &PoolWorkers::AT_ONCE);
        (0..scenario.strategies().len())
            .into_par_iter()
            .map(|strategy_idx| {
                crate::stories::tell_on(
                    scenario,
                    &world,
                    crate::stories::StoryRequest {
                        strategy_idx,
                        replication,
                        customers,
                    },
                )
            })
            .collect()
    })
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

    fn at_once(&self) -> bool {
        self.at_once && rayon::current_num_threads() > 1
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

/// Runs `scenario.replications()` replications (or `options.replications`) in parallel, feeding
/// `sink` in replication order.
/// `on_replication_done` is called (from worker threads) after each replication. A stop request
/// ends it after the replications in flight; the sink gets the batch's finished replications up
/// to the first unfinished one, or every finished one if it
/// [keeps unfinished batches](RunSink::keeps_unfinished_batches).
pub fn run_experiment<S: RunSink + ?Sized>(
    scenario: &Scenario,
    options: ExperimentOptions,
    sink: &mut S,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<ExperimentInfo> {
    let pool = thread_pool(options.threads)?;
    let to_run: Vec<u64> = match &options.replications {
        Some(list) => list.clone(),
        None => (0..scenario.replications() as u64).collect(),
    };
    let replications = to_run.len() as u64;
    let mut active_customer_steps = 0u64;
    let mut time_split = TimeSplit::default();
    let mut finished = 0u64;
    for batch_replications in to_run.chunks(options.batch_size.max(1)) {
        let workers = PoolWorkers::for_batch(batch_replications.len(), pool.current_num_threads());
        let batch: Vec<(Vec<RunRecord>, TimeSplit)> = pool.install(|| {
            batch_replications
                .par_iter()
                .map(|&replication| {
                    if options.stop.signal().is_some() {
                        return (Vec::new(), TimeSplit::default());
                    }
                    let timed = simulate_replication_timed(scenario, replication, workers);
                    on_replication_done();
                    timed
                })
                .collect()
        });
        let stopped = options.stop.signal();
        // After a stop, a sink that needs every replication in order gets the batch's finished
        // replications up to the first unfinished one; one that keeps unfinished batches gets
        // every finished one.
        let in_order = stopped.is_some() && !sink.keeps_unfinished_batches();
        for (runs, split) in batch {
            if runs.is_empty() && in_order {
                break;
            }
            finished += u64::from(!runs.is_empty());
            time_split = time_split.plus(split);
            for run in runs {
                active_customer_steps += run.output.active_customer_steps;
                sink.accept(run)?;
            }
        }
        sink.end_batch()?;
        if let Some(signal) = stopped {
            return Err(Error::Interrupted {
                signal,
                finished,
                total: replications,
                units: "replications",
                time_split,
            });
        }
    }
    Ok(ExperimentInfo {
        threads: pool.current_num_threads(),
        replications,
        customer_steps: replications * scenario.customer_steps_per_replication(),
        active_customer_steps,
        time_split,
    })
}

/// A fixed, balanced share of an experiment's replications: shard `index` of `count` runs the
/// replications `r` with `r mod count = index − 1`, whatever the machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    index: u32,
    count: u32,
}

impl Shard {
    /// The whole experiment: shard 1 of 1.
    pub const WHOLE: Self = Self { index: 1, count: 1 };

    /// Shard `index` of `count`, checked: `1 ≤ index ≤ count`.
    pub fn new(index: u32, count: u32) -> Result<Self> {
        if count == 0 || index == 0 || index > count {
            return Err(Error::InvalidOption {
                option: "--shard".into(),
                message: format!(
                    "shard {index}/{count} does not exist: write i/n with 1 ≤ i ≤ n, e.g. 2/8"
                ),
            });
        }
        Ok(Self { index, count })
    }

    /// `i/n` as the user writes it, or `slurm`: the shard of this Slurm array task, from
    /// `SLURM_ARRAY_TASK_ID` (counted from 0 or 1, as `SLURM_ARRAY_TASK_MIN` says) and
    /// `SLURM_ARRAY_TASK_COUNT`.
    pub fn parse(text: &str, env: impl Fn(&str) -> Option<String>) -> Result<Self> {
        let invalid = |message: String| Error::InvalidOption {
            option: "--shard".into(),
            message,
        };
        if text == "slurm" {
            let number = |name: &str| -> Result<Option<u32>> {
                env(name)
                    .map(|value| {
                        value.trim().parse::<u32>().map_err(|_| {
                            invalid(format!("{name} is `{value}`, not a whole number"))
                        })
                    })
                    .transpose()
            };
            let (Some(task), Some(count)) = (
                number("SLURM_ARRAY_TASK_ID")?,
                number("SLURM_ARRAY_TASK_COUNT")?,
            ) else {
                return Err(invalid(
                    "`slurm` reads SLURM_ARRAY_TASK_ID and SLURM_ARRAY_TASK_COUNT, which are not \
                     set: run it as a task of a job array (sbatch --array=1-N), or give i/n"
                        .into(),
                ));
            };
            let first = number("SLURM_ARRAY_TASK_MIN")?.unwrap_or(1);
            return Self::new(task.saturating_sub(first) + 1, count);
        }
        let (index, count) = text
            .split_once('/')
            .and_then(|(i, n)| Some((i.trim().parse().ok()?, n.trim().parse().ok()?)))
            .ok_or_else(|| invalid(format!("`{text}` is not i/n (e.g. 2/8) or `slurm`")))?;
        Self::new(index, count)
    }

    pub fn index(self) -> u32 {
        self.index
    }

    pub fn count(self) -> u32 {
        self.count
    }

    /// This shard's replications of `total`, in increasing order.
    pub fn replications(self, total: u64) -> Vec<u64> {
        (u64::from(self.index - 1)..total)
            .step_by(self.count as usize)
            .collect()
    }
}

impl Default for Shard {
    fn default() -> Self {
        Self::WHOLE
    }
}

impl std::fmt::Display for Shard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    /// Every replication in exactly one shard, shares differing by at most one.
    #[test]
    fn shards_cover_every_replication_once_in_balanced_shares() {
        for total in [0u64, 1, 7, 14, 100] {
            for count in 1..=9 {
                let shares: Vec<Vec<u64>> = (1..=count)
                    .map(|i| Shard::new(i, count).unwrap().replications(total))
                    .collect();
                let mut all: Vec<u64> = shares.concat();
                all.sort_unstable();
                assert_eq!(all, (0..total).collect::<Vec<_>>());
                let sizes: Vec<usize> = shares.iter().map(Vec::len).collect();
                let (low, high) = (sizes.iter().min().unwrap(), sizes.iter().max().unwrap());
                assert!(high - low <= 1, "{total} in {count}: {sizes:?}");
            }
        }
        assert_eq!(Shard::new(2, 3).unwrap().replications(8), vec![1, 4, 7]);
    }

    #[test]
    fn shards_are_read_as_i_of_n_or_from_a_slurm_array_task() {
        let none = |_: &str| None;
        assert_eq!(
            Shard::parse("2/8", none).unwrap(),
            Shard::new(2, 8).unwrap()
        );
        assert_eq!(Shard::parse(" 1 / 1 ", none).unwrap(), Shard::WHOLE);
        for bad in ["0/3", "4/3", "3", "a/b", "1/0", ""] {
            let message = Shard::parse(bad, none).unwrap_err().to_string();
            assert!(message.starts_with("--shard:"), "{bad}: {message}");
        }
        let slurm = |id: &'static str, count: &'static str, min: Option<&'static str>| {
            move |name: &str| match name {
                "SLURM_ARRAY_TASK_ID" => Some(id.to_string()),
                "SLURM_ARRAY_TASK_COUNT" => Some(count.to_string()),
                "SLURM_ARRAY_TASK_MIN" => min.map(str::to_string),
                _ => None,
            }
        };
        // --array=1-8 (the default first task is 1) and --array=0-7 give the same shards.
        assert_eq!(
            Shard::parse("slurm", slurm("3", "8", None)).unwrap(),
            Shard::new(3, 8).unwrap()
        );
        assert_eq!(
            Shard::parse("slurm", slurm("2", "8", Some("0"))).unwrap(),
            Shard::new(3, 8).unwrap()
        );
        let message = Shard::parse("slurm", none).unwrap_err().to_string();
        assert!(message.contains("SLURM_ARRAY_TASK_ID"), "{message}");
        let message = Shard::parse("slurm", slurm("x", "8", None))
            .unwrap_err()
            .to_string();
        assert!(message.contains("not a whole number"), "{message}");
    }
}
