//! `relsim decompose`: how much of the NPV gap between two strategies each lever explains, by
//! Shapley values over orders of switching levers (docs/sweeps.md).

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::time::Instant;

use super::breakeven::{pair_indices, signed};
use super::{OutputChoice, RunFacts, ScenarioChoice, StopOnSignals};
use crate::error::{Error, Result};
use crate::experiment::{npv_of_lever_sets, StopRequest};
use crate::output::csv::{number, text as csv_text};
use crate::report::count;
use crate::stats::Welford;
use crate::sweep::levers::{
    differing_levers, lever_orders, lever_value, mixed_levers, shapley_contributions, visited_masks,
};

/// Options of `relsim decompose`.
#[derive(Debug, Clone, Default)]
pub struct DecomposeOptions {
    pub scenario: ScenarioChoice,
    /// `A,B`: the gap is NPV of A minus NPV of B.
    pub pair: String,
    /// Random orders of switching levers (all orders when there are few levers).
    pub orders: usize,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// The result folder; default `outputs/<scenario name>_decompose`.
    pub output: OutputChoice,
}

/// What `relsim decompose` did.
#[derive(Debug, Clone)]
pub struct DecomposeReport {
    pub out_dir: PathBuf,
    pub text: String,
}

/// `relsim decompose`.
pub fn decompose(options: &DecomposeOptions) -> Result<DecomposeReport> {
    let (source, scenario, applied) = options.scenario.load()?;
    let names: Vec<String> = scenario
        .strategies()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let (a, b) = pair_indices(&options.pair, &names)?;
    if !(1..=10_000).contains(&options.orders) {
        return Err(Error::InvalidOption {
            option: "--orders".into(),
            message: format!("must be from 1 to 10000, got {}", options.orders),
        });
    }
    let levers_a = &scenario.strategies()[a].levers;
    let levers_b = &scenario.strategies()[b].levers;
    let levers = differing_levers(levers_a, levers_b);
    if levers.is_empty() {
        return Err(Error::InvalidOption {
            option: "--pair".into(),
            message: format!(
                "{} and {} have the same levers, so there is no gap to decompose",
                names[a], names[b]
            ),
        });
    }
    let orders = lever_orders(levers.len(), options.orders, scenario.seed());
    let masks = visited_masks(&orders);
    let lever_sets: Vec<_> = masks
        .iter()
        .map(|&mask| mixed_levers(levers_a, levers_b, &levers, mask))
        .collect();
    let mut folder = options.output.stage(&scenario, "_decompose")?;

    let stop = StopRequest::default();
    let _signals = StopOnSignals::install(&stop);
    let progress = options.output.progress(
        scenario.replications() as u64,
        "replications",
        format!(
            "{} lever sets of {} − {}",
            lever_sets.len(),
            names[a],
            names[b]
        ),
    );
    let started = Instant::now();
    let npv = npv_of_lever_sets(&scenario, &lever_sets, options.threads, &stop, &|| {
        progress.inc()
    });
    progress.finish();
    let runs = npv?;
    let (npv, threads) = (runs.npv, runs.threads);
    let wall_time = started.elapsed().as_secs_f64();

    // Per replication: each lever's Shapley contribution; then their means and intervals.
    let mut contributions = vec![Welford::default(); levers.len()];
    let mut gap = Welford::default();
    let full = (1u64 << levers.len()) - 1;
    for row in &npv {
        let npv_of: HashMap<u64, f64> = masks.iter().copied().zip(row.iter().copied()).collect();
        for (lever, c) in shapley_contributions(levers.len(), &orders, &npv_of)
            .into_iter()
            .enumerate()
        {
            contributions[lever].push(c);
        }
        gap.push(npv_of[&full] - npv_of[&0]);
    }
    let gap = gap.interval();
    let mut ranked: Vec<usize> = (0..levers.len()).collect();
    ranked.sort_by(|&x, &y| {
        contributions[y]
            .mean()
            .abs()
            .total_cmp(&contributions[x].mean().abs())
    });

    folder.write("levers.csv", |out| {
        writeln!(
            out,
            "lever,value_{},value_{},contribution,ci_low,ci_high,share_of_gap",
            csv_text(&names[a]),
            csv_text(&names[b])
        )?;
        for &lever in &ranked {
            let c = contributions[lever].interval();
            writeln!(
                out,
                "{},{},{},{},{},{},{}",
                csv_text(&levers[lever]),
                csv_text(&lever_value(levers_a, &levers[lever])),
                csv_text(&lever_value(levers_b, &levers[lever])),
                number(c.mean),
                number(c.ci_low),
                number(c.ci_high),
                number(c.mean / gap.mean)
            )?;
        }
        Ok(())
    })?;
    folder.write("scenario.toml", |out| {
        out.write_all(scenario.to_toml().as_bytes())
    })?;
    let customer_steps = scenario.model().market.population as u64
        * scenario.periods() as u64
        * lever_sets.len() as u64
        * npv.len() as u64;
    let manifest = RunFacts {
        source: &source,
        scenario: &scenario,
        overrides: &applied,
        strategies: vec![names[a].clone(), names[b].clone()],
        replications: npv.len() as u64,
        threads,
        wall_time,
        customer_steps,
        active_customer_steps: runs.active_customer_steps,
        // Lever sets are simulated on shared worlds; where their time went is not timed.
        time_split: Default::default(),
    }
    .manifest();

    let exact = orders.len() as u64
        == (1..=levers.len() as u64)
            .try_fold(1u64, |acc, k| acc.checked_mul(k))
            .unwrap_or(0);
    let mut text =
        format!(
        "relsim decompose · {} · NPV of {} − {}: {} [{}, {}] · {}, {}{} · {} × {} · {:.1} s\n\n",
        scenario.name(),
        names[a],
        names[b],
        signed(gap.mean),
        signed(gap.ci_low),
        signed(gap.ci_high),
        count(levers.len() as u64, "lever"),
        count(orders.len() as u64, "order"),
        if exact { " (all: exact Shapley values)" } else { " (sampled)" },
        count(lever_sets.len() as u64, "lever set"),
        count(npv.len() as u64, "replication"),
        wall_time
    );
    let width = levers.iter().map(|l| l.len()).max().unwrap_or(5).max(5);
    let _ = writeln!(
        text,
        "  {:<width$}  {:>12}  {:>12}  {:>30}  {:>8}",
        "lever", &names[a], &names[b], "contribution [95% CI]", "share"
    );
    for &lever in &ranked {
        let c = contributions[lever].interval();
        let _ = writeln!(
            text,
            "  {:<width$}  {:>12}  {:>12}  {:>30}  {:>7.1}%",
            levers[lever],
            lever_value(levers_a, &levers[lever]),
            lever_value(levers_b, &levers[lever]),
            format!(
                "{} [{}, {}]",
                signed(c.mean),
                signed(c.ci_low),
                signed(c.ci_high)
            ),
            100.0 * c.mean / gap.mean
        );
    }
    text.push_str(
        "\nEach lever's contribution is the mean change in NPV when it switches from the second \
         strategy's value to the first's, averaged over orders of switching (Shapley values); \
         the contributions add up to the whole gap.\n",
    );
    let out_dir = folder.commit(manifest)?;
    Ok(DecomposeReport { out_dir, text })
}
