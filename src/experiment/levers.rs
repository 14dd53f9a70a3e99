//! Every lever set of a decomposition on every replication, in parallel (docs/sweeps.md,
//! `relsim decompose`).

use rayon::prelude::*;

use super::StopRequest;
use crate::engine::{simulate, ReplicationSeeds, RunConfig, World};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::strategy::Levers;

/// What [`npv_of_lever_sets`] gives.
#[derive(Debug, Clone, PartialEq)]
pub struct LeverSetNpv {
    /// `[replication][set]`.
    pub npv: Vec<Vec<f64>>,
    pub threads: usize,
    /// Customer-periods spent active over every run.
    pub active_customer_steps: u64,
}

/// The NPV of each of `lever_sets` on each replication of `scenario`. Every set of a
/// replication meets the same world and the same random numbers.
pub fn npv_of_lever_sets(
    scenario: &Scenario,
    lever_sets: &[Levers],
    threads: usize,
    stop: &StopRequest,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<LeverSetNpv> {
    let pool = super::thread_pool(threads)?;
    let replications = scenario.replications() as u64;
    let npv: Vec<Option<(Vec<f64>, u64)>> = pool.install(|| {
        (0..replications)
            .into_par_iter()
            .map(|replication| {
                if stop.signal().is_some() {
                    return None;
                }
                let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
                let world = World::generate(scenario.model(), &seeds);
                let mut active = 0u64;
                let row = lever_sets
                    .iter()
                    .map(|levers| {
                        let config = RunConfig {
                            model: scenario.model(),
                            levers,
                            periods: scenario.periods(),
                            discount_rate: scenario.discount_rate(),
                        };
                        let output = simulate(&config, &world, &seeds);
                        active += output.active_customer_steps;
                        output.metrics.npv
                    })
                    .collect();
                on_replication_done();
                Some((row, active))
            })
            .collect()
    });
    if let Some(signal) = stop.signal() {
        return Err(Error::Interrupted {
            signal,
            finished: npv.iter().filter(|r| r.is_some()).count() as u64,
            total: replications,
            units: "replications",
            time_split: crate::output::TimeSplit::default(),
        });
    }
    let (npv, active): (Vec<Vec<f64>>, Vec<u64>) = npv.into_iter().flatten().unzip();
    Ok(LeverSetNpv {
        npv,
        threads: pool.current_num_threads(),
        active_customer_steps: active.iter().sum(),
    })
}
