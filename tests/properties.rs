//! Property tests of the model's invariants on random valid scenarios (proptest), customers
//! alike or individually different: relationship
//! states stay in range; every customer is active, lapsed or a prospect, never two at once, and
//! the record counts the active ones; NPV is the discounted sum of profits; a replication's
//! result does not depend on the strategies or replications run beside it.

use proptest::prelude::*;
use relsim::engine::{simulate, ReplicationSeeds, Run, RunOutput, World};
use relsim::experiment::{run_experiment, simulate_replication, ExperimentOptions};
use relsim::model::customers::flag;
use relsim::model::economics::discount_factor;
use relsim::model::params::CashFlowTiming;
use relsim::results::{ResultsCollector, RunSink};
use relsim::scenario::{parse, Override, Scenario};

const SMALL: &str = include_str!("data/small.toml");

/// One strategy as an inline TOML table.
fn strategy_table(preset: &str, name: &str, price_level: f64, recovery_rate: f64) -> String {
    format!(
        "{{preset=\"{preset}\",name=\"{name}\",price_level={price_level},recovery_rate={recovery_rate}}}"
    )
}

/// A random valid scenario: the small test market with its size, horizon, network, word of
/// mouth, failure rate, cash-flow timing, seed and two levers of each strategy drawn at random.
#[derive(Debug, Clone)]
struct RandomScenario {
    overrides: Vec<String>,
    strategies: Vec<String>,
}

impl RandomScenario {
    fn scenario(&self, strategies: &[String]) -> Scenario {
        let mut assignments = self.overrides.clone();
        assignments.push(format!("strategies=[{}]", strategies.join(",")));
        let overrides: Vec<Override> = assignments
            .iter()
            .map(|o| Override::parse(o).unwrap())
            .collect();
        parse(SMALL, "random", &overrides)
            .unwrap_or_else(|err| panic!("the generator made an invalid scenario: {err}"))
    }

    fn full(&self) -> Scenario {
        self.scenario(&self.strategies)
    }
}

fn random_scenario() -> impl Strategy<Value = RandomScenario> {
    let market = (
        40u32..1500,
        0.0f64..0.6,
        1u32..30,
        0usize..5,
        0.0f64..0.15,
        0.0f64..0.4,
        0usize..3,
        0u64..1_000_000,
    );
    let levers = proptest::collection::vec((0.5f64..2.0, 0.0f64..1.0), 3);
    // Each spread is either none (`inf`) or a Beta concentration from very to mildly spread.
    let spread = || prop_oneof![Just(f64::INFINITY), 0.5f64..50.0];
    let heterogeneity = (spread(), spread(), spread(), -1.0f64..1.0, 0u32..40);
    (market, levers, heterogeneity).prop_map(
        |(
            (population, initial, periods, network, wom, failure, timing, seed),
            levers,
            (trust_spread, commitment_spread, churn_spread, intercept, history),
        )| {
            let network = match network {
                0 => "network={kind=\"watts_strogatz\",mean_degree=4,rewiring=0.2}".to_string(),
                1 => "network={kind=\"barabasi_albert\",mean_degree=4}".to_string(),
                2 => "network={kind=\"erdos_renyi\",mean_degree=3}".to_string(),
                3 => "network={kind=\"mixed\"}".to_string(),
                _ => "network={kind=\"none\"}".to_string(),
            };
            let timing = ["end_of_period", "start_of_period", "after_retention"][timing];
            let overrides = vec![
                format!("market.population={population}"),
                format!(
                    "market.initial_active={}",
                    (population as f64 * initial) as u32
                ),
                format!("periods={periods}"),
                network,
                format!("market.word_of_mouth={wom}"),
                format!("market.base_failure={failure}"),
                format!("market.cash_flow_timing=\"{timing}\""),
                format!("seed={seed}"),
                format!("heterogeneity.initial_trust_concentration={trust_spread}"),
                format!("heterogeneity.initial_commitment_concentration={commitment_spread}"),
                format!("heterogeneity.churn_concentration={churn_spread}"),
                format!("defection.baseline={}", -3.25 + intercept),
                format!("warm_start.periods={history}"),
            ];
            let strategies = ["transactional", "relationship", "hybrid"]
                .iter()
                .zip(&levers)
                .map(|(preset, &(price, recovery))| strategy_table(preset, preset, price, recovery))
                .collect();
            RandomScenario {
                overrides,
                strategies,
            }
        },
    )
}

/// Whether two runs are identical bit for bit (NaN, which marks a metric with no data, equals
/// itself here).
fn same_bits(a: &RunOutput, b: &RunOutput) -> bool {
    let bits = |values: &[f64]| values.iter().map(|v| v.to_bits()).collect::<Vec<_>>();
    a.periods.len() == b.periods.len()
        && a.periods
            .iter()
            .zip(&b.periods)
            .all(|(x, y)| bits(&x.values()) == bits(&y.values()))
        && bits(&a.metrics.values()) == bits(&b.metrics.values())
}

proptest! {
    // Fixed cases from a fixed seed in CI (no files written on failure: the failing input is
    // printed); PROPTEST_CASES raises the count for a longer search.
    #![proptest_config(ProptestConfig {
        cases: 64,
        failure_persistence: None,
        rng_seed: proptest::test_runner::RngSeed::Fixed(20_261_123),
        ..ProptestConfig::default()
    })]

    #[test]
    fn states_stay_in_range_and_every_customer_has_one_status(random in random_scenario()) {
        let scenario = random.full();
        let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
        let world = World::generate(scenario.model(), &seeds);
        for strategy_idx in 0..scenario.strategies().len() {
            let config = scenario.run_config(strategy_idx);
            let mut run = Run::new(&config, &world, &seeds);
            let mut period = 0;
            while let Some(record) = run.step() {
                period += 1;
                let mut active = 0;
                for idx in 0..run.customer_count() {
                    let customer = run.customer(idx);
                    let (trust, commitment, reciprocity) =
                        (customer.trust, customer.commitment, customer.reciprocity);
                    prop_assert!((0.0..=1.0).contains(&trust), "trust {trust} in period {period}");
                    prop_assert!((0.0..=1.0).contains(&commitment), "commitment {commitment}");
                    prop_assert!((-1.0..=1.0).contains(&reciprocity), "reciprocity {reciprocity}");
                    let flags = customer.flags;
                    let is_active = flags & flag::ACTIVE != 0;
                    let is_lapsed = flags & flag::LAPSED != 0;
                    // Active, lapsed or prospect (neither): exactly one of the three.
                    prop_assert!(!(is_active && is_lapsed), "customer {idx} both active and lapsed");
                    active += u32::from(is_active);
                }
                prop_assert_eq!(record.active, f64::from(active));
                for (name, value, low) in [
                    ("supplier_trust", record.supplier_trust, 0.0),
                    ("supplier_commitment", record.supplier_commitment, 0.0),
                    ("supplier_reciprocity", record.supplier_reciprocity, -1.0),
                    ("distributor_trust", record.distributor_trust, 0.0),
                    ("distributor_commitment", record.distributor_commitment, 0.0),
                    ("distributor_reciprocity", record.distributor_reciprocity, -1.0),
                ] {
                    prop_assert!(
                        value.is_nan() || (low..=1.0).contains(&value),
                        "{name} = {value} in period {period}"
                    );
                }
            }
        }
    }

    #[test]
    fn npv_is_the_discounted_sum_of_profits(random in random_scenario()) {
        let scenario = random.full();
        let rate = scenario.discount_rate();
        for run in simulate_replication(&scenario, 0) {
            let discounted: f64 = run
                .output
                .periods
                .iter()
                .enumerate()
                .map(|(idx, record)| {
                    let period = idx as u32 + 1;
                    let cash_period = match scenario.model().market.cash_flow_timing {
                        CashFlowTiming::StartOfPeriod => period - 1,
                        CashFlowTiming::EndOfPeriod | CashFlowTiming::AfterRetention => period,
                    };
                    record.profit * discount_factor(rate, cash_period)
                })
                .sum();
            let npv = run.output.metrics.npv;
            let scale = run.output.periods.iter().map(|r| r.profit.abs()).sum::<f64>().max(1.0);
            prop_assert!((npv - discounted).abs() <= 1e-9 * scale, "npv {npv} vs {discounted}");
            let last = run.output.periods.last().map_or(0.0, |r| r.cumulative_npv);
            prop_assert_eq!(last, npv);
        }
    }

    #[test]
    fn a_replication_does_not_depend_on_what_runs_beside_it(
        random in random_scenario(),
        strategy_idx in 0usize..3,
        replication in 0u64..4,
    ) {
        let full = random.full();
        let together = simulate_replication(&full, replication);
        // The same strategy alone in its scenario.
        let alone = random.scenario(&random.strategies[strategy_idx..=strategy_idx]);
        let seeds = ReplicationSeeds::derive(alone.seed(), replication);
        let world = World::generate(alone.model(), &seeds);
        let config = alone.run_config(0);
        let single = simulate(&config, &world, &seeds);
        prop_assert!(
            same_bits(&together[strategy_idx].output, &single),
            "strategy {strategy_idx} differs when run alone"
        );
        // The same replication inside an experiment of several, on two threads.
        let mut collector = ResultsCollector::new(&full);
        let options = ExperimentOptions { threads: 2, batch_size: 3, ..Default::default() };
        let experiment = full.with("replications", 5).unwrap();
        run_experiment(&experiment, options, &mut collector, &|| {}).unwrap();
        let results = collector.finish().unwrap();
        let npv = results.runs.metric(strategy_idx, "npv").unwrap()[replication as usize];
        prop_assert_eq!(npv.to_bits(), single.metrics.npv.to_bits());
    }
}
