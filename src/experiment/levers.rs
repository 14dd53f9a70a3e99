//! Every lever set of a decomposition on every replication, in parallel (docs/sweeps.md,
//! `relsim decompose`).

use rayon::prelude::*;

use super::StopRequest;
use crate::engine::{simulate, ReplicationSeeds, RunConfig, World};
use crate::error::{Error, Result};
use crate::scenario::Scenario;
use crate::strategy::Levers;

/// The NPV of each of `lever_sets` on each replication of `scenario`, `[replication][set]`,
/// and the number of worker threads used. Every set of a replication meets the same world and
/// the same random numbers.
pub fn npv_of_lever_sets(
    scenario: &Scenario,
    lever_sets: &[Levers],
    threads: usize,
    stop: &StopRequest,
    on_replication_done: &(dyn Fn() + Sync),
) -> Result<(Vec<Vec<f64>>, usize)> {
    let pool = super::thread_pool(threads)?;
    let replications = scenario.replications() as u64;
    let npv: Vec<Option<Vec<f64>>> = pool.install(|| {
        (0..replications)
            .into_par_iter()
            .map(|replication| {
                if stop.signal().is_some() {
                    return None;
                }
                let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
                let world = World::generate(scenario.model(), &seeds);
                let row = lever_sets
                    .iter()
                    .map(|levers| {
                        let config = RunConfig {
                            model: scenario.model(),
                            levers,
                            periods: scenario.periods(),
                            discount_rate: scenario.discount_rate(),
                        };
                        simulate(&config, &world, &seeds).metrics.npv
                    })
                    .collect();
                on_replication_done();
                Some(row)
            })
            .collect()
    });
    if let Some(signal) = stop.signal() {
        return Err(Error::Interrupted {
            signal,
            finished: npv.iter().filter(|r| r.is_some()).count() as u64,
            total: replications,
            units: "replications",
        });
    }
    Ok((
        npv.into_iter().flatten().collect(),
        pool.current_num_threads(),
    ))
}
