//! Engine throughput in customer-steps per second (one customer-step = one customer's whole
//! period), one thread, default model with every mechanism on and a Watts–Strogatz network.
//!
//! Run with `cargo bench --bench engine`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use relsim::engine::{simulate, ReplicationSeeds, World};
use relsim::experiment::{run_experiment, ExperimentOptions};
use relsim::model::customers::Population;
use relsim::model::network::SocialNetwork;
use relsim::model::rng::Xoshiro256PlusPlus;
use relsim::results::{RunRecord, RunSink};
use relsim::scenario::{presets, Override, Scenario};

fn default_scenario(overrides: &[String]) -> Scenario {
    let overrides: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    let text = presets::find("default").unwrap().text;
    relsim::scenario::parse(text, "default", &overrides).unwrap()
}

/// One strategy, one replication, N customers (10 % active at start), 60 periods.
fn engine_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_one_thread");
    group.sample_size(10);
    for population in [10_000u32, 100_000, 1_000_000] {
        let scenario = default_scenario(&[
            format!("market.population={population}"),
            format!("market.initial_active={}", population / 10),
        ]);
        let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
        let world = World::generate(scenario.model(), &seeds);
        for (strategy_idx, strategy) in scenario.strategies().iter().enumerate().take(2) {
            let config = scenario.run_config(strategy_idx);
            group.throughput(Throughput::Elements(
                population as u64 * scenario.periods() as u64,
            ));
            group.bench_with_input(
                BenchmarkId::new(strategy.name.as_str(), population),
                &config,
                |b, config| b.iter(|| simulate(config, &world, &seeds)),
            );
        }
    }
    group.finish();
}

/// Cost of word of mouth as the network's mean degree grows (N = 100 000, relationship).
fn degree_scaling(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_by_degree");
    group.sample_size(10);
    for degree in [0u32, 4, 8, 16, 32] {
        let network = if degree == 0 {
            "network={kind=\"none\"}".to_string()
        } else {
            format!("network={{kind=\"watts_strogatz\",mean_degree={degree},rewiring=0.1}}")
        };
        let scenario = default_scenario(&[
            "market.population=100000".into(),
            "market.initial_active=10000".into(),
            network,
        ]);
        let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
        let world = World::generate(scenario.model(), &seeds);
        let config = scenario.run_config(1);
        group.throughput(Throughput::Elements(100_000 * scenario.periods() as u64));
        group.bench_with_input(BenchmarkId::from_parameter(degree), &config, |b, config| {
            b.iter(|| simulate(config, &world, &seeds))
        });
    }
    group.finish();
}

struct Discard;

impl RunSink for Discard {
    type Output = ();

    fn accept(&mut self, _run: RunRecord) -> relsim::Result<()> {
        Ok(())
    }

    fn finish(self) -> relsim::Result<()> {
        Ok(())
    }
}

/// Whole replications in parallel: 1 thread vs 2 threads (efficiency = t1 / (2 · t2)).
fn parallel_replications(c: &mut Criterion) {
    let mut group = c.benchmark_group("replications_parallel");
    group.sample_size(10);
    let scenario = default_scenario(&["replications=16".into()]);
    group.throughput(Throughput::Elements(
        scenario.replications() as u64 * scenario.customer_steps_per_replication(),
    ));
    for threads in [1usize, 2] {
        group.bench_with_input(
            BenchmarkId::new("threads", threads),
            &threads,
            |b, &threads| {
                b.iter(|| {
                    let options = ExperimentOptions {
                        threads,
                        ..Default::default()
                    };
                    run_experiment(&scenario, options, &mut Discard, &|| {}).unwrap()
                })
            },
        );
    }
    group.finish();
}

/// What customers who differ cost the period loop (docs/model.md §2.1): relationship at
/// N = 100 000 with the defaults, and with every customer alike and a cold start. The two do
/// different work (the default keeps more customers active), so compare them per active
/// customer-step too (the `active` series of `timeseries.csv` counts those).
fn heterogeneity_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_heterogeneity");
    group.sample_size(10);
    let homogeneous = [
        "warm_start.periods=0",
        "heterogeneity.initial_trust_concentration=inf",
        "heterogeneity.initial_commitment_concentration=inf",
        "heterogeneity.churn_concentration=inf",
        "heterogeneity.advocacy_concentration=inf",
        "heterogeneity.learning_concentration=inf",
    ];
    for (name, extra) in [("differ", &[][..]), ("alike", &homogeneous[..])] {
        let mut overrides = vec![
            "market.population=100000".to_string(),
            "market.initial_active=10000".to_string(),
        ];
        overrides.extend(extra.iter().map(|o| o.to_string()));
        let scenario = default_scenario(&overrides);
        let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
        let world = World::generate(scenario.model(), &seeds);
        let config = scenario.run_config(1);
        group.throughput(Throughput::Elements(100_000 * scenario.periods() as u64));
        group.bench_with_input(
            BenchmarkId::new("relationship", name),
            &config,
            |b, config| b.iter(|| simulate(config, &world, &seeds)),
        );
    }
    group.finish();
}

/// Building one replication's world (population with its individual parameters, network and
/// partners), N = 100 000: the set-up cost every replication pays before its first period.
fn world_generation(c: &mut Criterion) {
    let mut group = c.benchmark_group("world_generation");
    group.sample_size(10);
    let scenario = default_scenario(&[
        "market.population=100000".into(),
        "market.initial_active=10000".into(),
    ]);
    let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
    group.throughput(Throughput::Elements(100_000));
    group.bench_function("default/100000", |b| {
        b.iter(|| World::generate(scenario.model(), &seeds))
    });
    // Its parts: the customers (segments, areas, starting customers and individual parameters)
    // and the social network.
    let model = scenario.model();
    group.bench_function("customers/100000", |b| {
        b.iter(|| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seeds.population);
            let mut heterogeneity = Xoshiro256PlusPlus::seed_from_u64(seeds.heterogeneity);
            Population::generate(model, &mut rng, &mut heterogeneity)
        })
    });
    group.bench_function("network/100000", |b| {
        b.iter(|| {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(seeds.network);
            SocialNetwork::generate(&model.network, model.market.population, &mut rng)
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    engine_throughput,
    degree_scaling,
    parallel_replications,
    heterogeneity_cost,
    world_generation
);
criterion_main!(benches);
