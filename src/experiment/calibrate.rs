//! The simulation inside `relsim calibrate` (docs/calibration.md): the survival curve of the
//! customers active at the start, averaged over the scenario's replications, each on its own
//! world and seeds. Every candidate parameter value meets the same replications (common random
//! numbers), so the curve changes smoothly with the parameters rather than with the dice.

use rayon::prelude::*;

use crate::engine::{simulate, ReplicationSeeds, World};
use crate::error::Result;
use crate::scenario::Scenario;
use crate::stats::Welford;

/// A simulated survival curve: `S(t)` for `t = 0..=periods` and the variance of each value as
/// an estimate (the variance across replications over their number).
#[derive(Debug, Clone, PartialEq)]
pub struct SurvivalCurve {
    pub mean: Vec<f64>,
    pub variance_of_mean: Vec<f64>,
}

/// The curve of the customers active at the start under strategy `strategy_idx`: `S(0) = 1`,
/// then the mean over replications of the share of them still active after `t` periods
/// (`initial_survival`). Runs the replications on `pool`.
pub fn initial_survival(
    scenario: &Scenario,
    strategy_idx: usize,
    pool: &rayon::ThreadPool,
) -> SurvivalCurve {
    let replications = scenario.replications() as u64;
    let periods = scenario.periods() as usize;
    let curves: Vec<Vec<f64>> = pool.install(|| {
        (0..replications)
            .into_par_iter()
            .map(|replication| {
                let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
                let world = World::generate(scenario.model(), &seeds);
                simulate(&scenario.run_config(strategy_idx), &world, &seeds)
                    .periods
                    .iter()
                    .map(|p| p.initial_survival)
                    .collect()
            })
            .collect()
    });
    let mut moments = vec![Welford::default(); periods];
    for curve in &curves {
        for (t, &s) in curve.iter().enumerate() {
            moments[t].push(s);
        }
    }
    let mut mean = vec![1.0];
    let mut variance_of_mean = vec![0.0];
    for m in &moments {
        mean.push(m.mean());
        let sd = m.sd();
        variance_of_mean.push(if sd.is_finite() {
            sd * sd / m.n() as f64
        } else {
            0.0
        });
    }
    SurvivalCurve {
        mean,
        variance_of_mean,
    }
}

/// A worker pool for calibration (0 threads: one per core).
pub fn calibration_pool(threads: usize) -> Result<rayon::ThreadPool> {
    super::thread_pool(threads)
}
