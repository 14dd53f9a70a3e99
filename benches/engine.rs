//! Engine throughput in customer-steps per second (one customer-step = one customer's whole
//! period), one thread, default model with every mechanism on and a Watts–Strogatz network.
//!
//! Run with `cargo bench --bench engine`; `cargo bench --bench engine -- engine_floor` measures
//! the engine against the practical floor kernel (see [`FloorKernel`]).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use relsim::engine::{simulate, ReplicationSeeds, Run, Trace, TraceEvent, World};
use relsim::experiment::{run_experiment, ExperimentOptions};
use relsim::model::customers::{flag, Customers, Population};
use relsim::model::isa::on_widest;
use relsim::model::math::logistic_interpolated;
use relsim::model::network::SocialNetwork;
use relsim::model::rng::Xoshiro256PlusPlus;
use relsim::model::rng::{Chance, CounterDraws};
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

/// The default market with `population` customers (10 % active at start): the scenario,
/// replication 0's seeds and its world.
fn default_market(population: u32) -> (Scenario, ReplicationSeeds, World) {
    default_market_with(population, &[])
}

/// [`default_market`] with the further overrides `extra`.
fn default_market_with(population: u32, extra: &[&str]) -> (Scenario, ReplicationSeeds, World) {
    let mut overrides = vec![
        format!("market.population={population}"),
        format!("market.initial_active={}", population / 10),
    ];
    overrides.extend(extra.iter().map(|o| o.to_string()));
    let scenario = default_scenario(&overrides);
    let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
    let world = World::generate(scenario.model(), &seeds);
    (scenario, seeds, world)
}

/// The index of the default scenario's relationship strategy.
fn relationship_index(scenario: &Scenario) -> usize {
    scenario
        .strategies()
        .iter()
        .position(|s| s.name == "relationship")
        .expect("the default scenario has relationship")
}

/// One strategy, one replication, N customers (10 % active at start), 60 periods.
fn engine_throughput(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_one_thread");
    group.sample_size(10);
    for population in [10_000u32, 100_000, 1_000_000] {
        let (scenario, seeds, world) = default_market(population);
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

/// The point where issue 13's krABMaga twin of the default model was measured (relationship,
/// N = 20 000, 12 months, one thread: 0.72 M customer-steps/s; the target is 200 times that,
/// 144 M): the engine alone, and a whole replication with the building of its world (the
/// quantile tables are built once per process, before the first sample).
fn engine_at_twin_point(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_twin_point");
    group.sample_size(20);
    let population = 20_000u32;
    let (scenario, seeds, world) = default_market_with(population, &["periods=12"]);
    let config = scenario.run_config(relationship_index(&scenario));
    group.throughput(Throughput::Elements(
        population as u64 * scenario.periods() as u64,
    ));
    group.bench_function("relationship/engine", |b| {
        b.iter(|| simulate(&config, &world, &seeds))
    });
    group.bench_function("relationship/with_world", |b| {
        b.iter(|| {
            let world = World::generate(scenario.model(), &seeds);
            simulate(&config, &world, &seeds)
        })
    });
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

/// The practical floor (issue 13): a stripped kernel that does only the work every active
/// customer-step needs, in relsim's own data layout (`Customers`' arrays, the population's
/// individual parameters, counter-based draws, blocks of 64 by status mask), so that the
/// engine's distance from it is measured in one run:
/// - an active customer draws its episode, updates trust (at its own learning speed),
///   reciprocity and commitment (a logistic of the first two), buys or not, draws its exit
///   from a logistic hazard with its own churn propensity, and is counted (advocate or not,
///   trust and commitment sums);
/// - a prospect draws one conversion.
///
/// What it leaves out is what the model adds beyond that: care, recovery, prices, partners,
/// word of mouth, spells and lifetime values, win-back and the period's records. Its rates
/// keep about a third of the customers active, as relationship does at N = 100 000.
struct FloorKernel {
    failure: Chance,
    purchase: Chance,
    conversion: Chance,
}

impl FloorKernel {
    /// Runs periods `1..=periods` on `customers`; returns a checksum so that nothing is
    /// optimised away. Like relsim's pass, on x86-64-v3's instructions where the processor has
    /// them (`on_widest`), so that the ratio compares code, not instruction sets.
    fn run(
        &self,
        customers: &mut Customers,
        population: &Population,
        seed: u64,
        periods: u32,
    ) -> f64 {
        on_widest(
            #[inline(always)]
            || {
                // A plain loop: a closure inside would be compiled apart, for the baseline.
                let mut checksum = 0.0;
                for period in 1..=periods {
                    checksum += self.step(customers, population, seed, period);
                }
                checksum
            },
        )
    }

    /// One period; returns its census and revenue summed, as a checksum.
    #[inline(always)]
    fn step(
        &self,
        customers: &mut Customers,
        population: &Population,
        seed: u64,
        period: u32,
    ) -> f64 {
        let n = customers.len();
        {
            let (mut advocates, mut trust_sum, mut commitment_sum, mut revenue) =
                (0u32, 0.0f64, 0.0f64, 0.0f64);
            for block_start in (0..n).step_by(64) {
                let block_len = 64.min(n - block_start);
                let active = customers.active_mask(block_start, block_len);
                let mut bits = active;
                while bits != 0 {
                    let idx = block_start + bits.trailing_zeros() as usize;
                    bits &= bits - 1;
                    let draws = CounterDraws::new(seed, period, idx as u32);
                    let failed = draws.happens(0, self.failure);
                    let outcome = if failed { 0.0 } else { 1.0 };
                    let trust = customers.trust[idx]
                        + 0.1 * population.learning.get(idx) * (outcome - customers.trust[idx]);
                    let reciprocity =
                        customers.reciprocity[idx] + 0.1 * (outcome - customers.reciprocity[idx]);
                    let target =
                        logistic_interpolated(-2.0 + 3.0 * trust as f64 + reciprocity as f64)
                            as f32;
                    let commitment =
                        customers.commitment[idx] + 0.2 * (target - customers.commitment[idx]);
                    if draws.happens(1, self.purchase) {
                        revenue += 100.0;
                    }
                    let hazard = logistic_interpolated(
                        -3.2 + population.churn_offset.get(idx) as f64
                            - 1.5 * commitment as f64
                            - 0.3 * trust as f64,
                    );
                    customers.trust[idx] = trust;
                    customers.reciprocity[idx] = reciprocity;
                    customers.commitment[idx] = commitment;
                    if draws.uniform(2) < hazard {
                        customers.flags[idx] &= !flag::ACTIVE;
                    } else {
                        advocates += u32::from(trust >= population.advocacy_threshold.get(idx));
                        trust_sum += trust as f64;
                        commitment_sum += commitment as f64;
                    }
                }
                let mut prospects = !active & (u64::MAX >> (64 - block_len));
                while prospects != 0 {
                    let idx = block_start + prospects.trailing_zeros() as usize;
                    prospects &= prospects - 1;
                    if CounterDraws::new(seed, period, idx as u32).happens(3, self.conversion) {
                        customers.flags[idx] |= flag::ACTIVE;
                        customers.trust[idx] = 0.3 + population.trust_offset.get(idx);
                    }
                }
            }
            advocates as f64 + trust_sum + commitment_sum + revenue
        }
    }
}

/// relsim's engine against the floor kernel, relationship, N = 100 000, 60 periods, one
/// thread: the ratio of their times is the distance from the floor.
fn engine_against_floor(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_floor");
    group.sample_size(10);
    let population = 100_000u32;
    let (scenario, seeds, world) = default_market(population);
    let config = scenario.run_config(relationship_index(&scenario));
    let periods = scenario.periods();
    group.throughput(Throughput::Elements(population as u64 * periods as u64));
    let kernel = FloorKernel {
        failure: Chance::new(0.05),
        purchase: Chance::new(0.8),
        conversion: Chance::new(0.016),
    };
    let start = Customers::new(&world.population, &scenario.model().relationship);
    // The share of customer-steps spent active, for both: the floor is meant to match the
    // engine's.
    let engine_active = simulate(&config, &world, &seeds).active_customer_steps as f64
        / (population as f64 * periods as f64);
    let mut probe = start.clone();
    let mut floor_active = 0u64;
    for period in 1..=periods {
        kernel.step(&mut probe, &world.population, seeds.market, period);
        floor_active += probe
            .flags
            .iter()
            .filter(|f| *f & flag::ACTIVE != 0)
            .count() as u64;
    }
    eprintln!(
        "engine_floor: active share of customer-steps: relsim {:.3}, floor {:.3}",
        engine_active,
        floor_active as f64 / (population as f64 * periods as f64)
    );
    group.bench_function(BenchmarkId::new("relsim", population), |b| {
        b.iter(|| simulate(&config, &world, &seeds))
    });
    group.bench_function(BenchmarkId::new("floor", population), |b| {
        b.iter_batched_ref(
            || start.clone(),
            |customers| kernel.run(customers, &world.population, seeds.market, periods),
            criterion::BatchSize::LargeInput,
        )
    });
    group.finish();
}

/// Follows a handful of customers, as `relsim stories` does, keeping their events.
struct FollowFew {
    followed: [usize; 9],
    events: Vec<(u32, usize, TraceEvent)>,
}

impl Trace for FollowFew {
    const FOLLOWS: bool = true;
    fn follows(&self, customer_idx: usize) -> bool {
        self.followed.contains(&customer_idx)
    }
    fn record(&mut self, period: u32, customer_idx: usize, event: TraceEvent) {
        self.events.push((period, customer_idx, event));
    }
}

/// What stories cost the engine: `untraced` is `simulate` as every run calls it (the pass with
/// `NoTrace`, which must stay as fast as before tracing existed: compare with a baseline saved
/// before a change), `following_9` the same run telling a trace about nine customers (one
/// chunk after another, as `relsim stories` runs it). N = 100 000, relationship, one thread.
fn stories_cost(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_stories");
    group.sample_size(10);
    let population = 100_000u32;
    let (scenario, seeds, world) = default_market(population);
    let config = scenario.run_config(1);
    group.throughput(Throughput::Elements(
        population as u64 * scenario.periods() as u64,
    ));
    group.bench_function("untraced", |b| b.iter(|| simulate(&config, &world, &seeds)));
    group.bench_function("following_9", |b| {
        b.iter(|| {
            let mut trace = FollowFew {
                followed: std::array::from_fn(|i| i * 11_111),
                events: Vec::new(),
            };
            let mut run = Run::new(&config, &world, &seeds);
            while run.step_traced(&mut trace).is_some() {}
            trace.events.len()
        })
    });
    group.finish();
}

criterion_group!(
    benches,
    stories_cost,
    engine_throughput,
    degree_scaling,
    parallel_replications,
    heterogeneity_cost,
    world_generation,
    engine_against_floor,
    engine_at_twin_point
);
criterion_main!(benches);
