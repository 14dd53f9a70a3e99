//! Engine invariants and mechanism directions, checked on small scenarios through the library.

use relsim::engine::{simulate, ReplicationSeeds, RunOutput, World};
use relsim::error::Error;
use relsim::experiment::{run_experiment, simulate_replication, ExperimentOptions, StopRequest};
use relsim::results::{ExperimentResults, ResultsCollector, RunRecord, RunSink};
use relsim::scenario::{parse, Override, Scenario};

const SMALL: &str = include_str!("data/small.toml");

fn small_scenario(overrides: &[&str]) -> Scenario {
    let overrides: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    parse(SMALL, "small.toml", &overrides).unwrap()
}

/// Every replication of `scenario`, collected.
fn experiment_results(scenario: &Scenario) -> ExperimentResults {
    let mut collector = ResultsCollector::new(scenario);
    run_experiment(
        scenario,
        ExperimentOptions::default(),
        &mut collector,
        &|| {},
    )
    .unwrap();
    collector.finish().unwrap()
}

/// Runs strategy `strategy_idx` of `scenario` on replication `replication`.
fn run(scenario: &Scenario, strategy_idx: usize, replication: u64) -> RunOutput {
    let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
    let world = World::generate(scenario.model(), &seeds);
    let config = scenario.run_config(strategy_idx);
    simulate(&config, &world, &seeds)
}

/// Mean of a per-run metric over `replications` replications.
fn mean_metric(
    scenario: &Scenario,
    strategy_idx: usize,
    replications: u64,
    metric: fn(&RunOutput) -> f64,
) -> f64 {
    (0..replications)
        .map(|r| metric(&run(scenario, strategy_idx, r)))
        .sum::<f64>()
        / replications as f64
}

#[test]
fn customers_are_conserved_period_by_period() {
    let scenario = small_scenario(&[]);
    for strategy_idx in 0..scenario.strategies().len() {
        let output = run(&scenario, strategy_idx, 0);
        let mut previous_active = scenario.model().market.initial_active as f64;
        for record in &output.periods {
            let expected = previous_active - record.defections
                + record.acquired_paid
                + record.acquired_referred;
            assert_eq!(record.active, expected);
            assert!(record.active <= scenario.model().market.population as f64);
            previous_active = record.active;
        }
    }
}

#[test]
fn accounting_identities_hold() {
    // Partners who leave are replaced at a cost, which profit must carry too.
    let scenario = small_scenario(&[
        "suppliers.turnover={exit_commitment=0.2,exit_periods=4,replacement_cost=3000}",
        "distributors.turnover={exit_commitment=0.2,exit_periods=4,replacement_cost=2000}",
    ]);
    let d = scenario.discount_rate();
    for strategy_idx in 0..scenario.strategies().len() {
        let output = run(&scenario, strategy_idx, 1);
        let mut npv = 0.0;
        for (t, r) in output.periods.iter().enumerate() {
            let costs = r.cogs
                + r.distributor_margin
                + r.acquisition_cost
                + r.care_cost
                + r.loyalty_cost
                + r.recovery_cost
                + r.referral_cost
                + r.fixed_cost
                + r.partner_replacement_cost;
            assert!((r.profit - (r.revenue - costs)).abs() < 1e-6 * r.revenue.abs().max(1.0));
            npv += r.profit / (1.0 + d).powi(t as i32 + 1);
            assert!((r.cumulative_npv - npv).abs() < 1e-6 * npv.abs().max(1.0));
            assert!(r.failures_recovered <= r.failures);
            assert!((0.0..=1.0).contains(&r.retention));
            assert!((0.0..=1.0).contains(&r.fill_rate));
        }
        assert!((output.metrics.npv - npv).abs() < 1e-6 * npv.abs().max(1.0));
    }
}

#[test]
fn identical_strategies_get_identical_runs_under_common_random_numbers() {
    let text = format!(
        "{SMALL}\n[[strategies]]\npreset = \"relationship\"\nname = \"relationship_again\"\n"
    );
    let scenario = parse(&text, "crn", &[]).unwrap();
    let results = experiment_results(&scenario);
    let comparison = results.comparison(1, 3, "npv").unwrap();
    assert_eq!(comparison.difference.interval.mean, 0.0);
    assert_eq!(comparison.difference.interval.sd, 0.0);
    assert_eq!(comparison.difference.p_a_better, 0.5);
}

#[test]
fn strategies_of_one_replication_face_the_same_market_events() {
    let scenario = small_scenario(&[]);
    let runs = simulate_replication(&scenario, 3);
    for period_idx in 0..scenario.periods() as usize {
        let shortage = runs[0].output.periods[period_idx].shortage;
        let rival = runs[0].output.periods[period_idx].rival_campaign;
        for run in &runs[1..] {
            assert_eq!(run.output.periods[period_idx].shortage, shortage);
            assert_eq!(run.output.periods[period_idx].rival_campaign, rival);
        }
    }
}

#[test]
fn personal_care_never_exceeds_manager_capacity() {
    // 2 managers × 10 customers, automated care off: exactly 20 get personal care, none automated.
    let scenario = small_scenario(&[
        "strategies.1.personal_care_managers=2",
        "strategies.1.manager_capacity=10",
        "strategies.1.automated_care=false",
    ]);
    let output = run(&scenario, 1, 0);
    for record in &output.periods {
        assert!(record.personal_care_customers <= 20.0);
        assert_eq!(record.automated_care_customers, 0.0);
    }
    assert_eq!(output.periods[0].personal_care_customers, 20.0);
    let expected_care_cost = 2.0 * 3_000.0;
    assert_eq!(output.periods[0].care_cost, expected_care_cost);
    // With automated care on, everyone beyond the managers gets it.
    let scenario = small_scenario(&[]);
    let first = &run(&scenario, 1, 0).periods[0];
    assert_eq!(first.personal_care_customers, 100.0);
    assert!(first.automated_care_customers > 150.0);
}

#[test]
fn hybrid_gives_care_only_to_valuable_segments() {
    let scenario = small_scenario(&["strategies.2.personal_care_managers=0"]);
    let hybrid = run(&scenario, 2, 0);
    let relationship = run(&scenario, 1, 0);
    // Occasional buyers (60 % of customers) are below hybrid's target value.
    let share = hybrid.periods[0].automated_care_customers
        / (relationship.periods[0].automated_care_customers
            + relationship.periods[0].personal_care_customers);
    assert!(
        (0.3..0.5).contains(&share),
        "hybrid cares for {share} of the base"
    );
}

#[test]
fn no_word_of_mouth_without_a_network() {
    let scenario = small_scenario(&["network.kind=none"]);
    let output = run(&scenario, 1, 0);
    assert_eq!(output.metrics.referred_share, 0.0);
    assert!(output.metrics.acquired > 0.0);
}

#[test]
fn mixed_mode_refers_customers_through_the_adopted_share() {
    let scenario = small_scenario(&["network.kind=mixed", "market.word_of_mouth=0.2"]);
    let output = run(&scenario, 1, 0);
    assert!(
        output.metrics.referred_share > 0.1,
        "{}",
        output.metrics.referred_share
    );
}

#[test]
fn no_failures_when_nothing_can_fail() {
    let scenario = small_scenario(&[
        "market.base_failure=0",
        "market.shortage_probability=0",
        "suppliers.normal_delivery=1",
        "distributors.count=0",
    ]);
    for strategy_idx in 0..3 {
        let output = run(&scenario, strategy_idx, 0);
        assert!(output.periods.iter().all(|r| r.failures == 0.0));
        assert!(output.periods.iter().all(|r| r.fill_rate == 1.0));
    }
}

#[test]
fn service_recovery_keeps_customers() {
    let without_recovery = small_scenario(&["strategies.1.recovery_rate=0"]);
    let with_recovery = small_scenario(&["strategies.1.recovery_rate=1"]);
    let retention = |output: &RunOutput| output.metrics.retention;
    let without = mean_metric(&without_recovery, 1, 4, retention);
    let with = mean_metric(&with_recovery, 1, 4, retention);
    assert!(with > without + 0.002, "with {with}, without {without}");
}

#[test]
fn committed_suppliers_deliver_more_in_shortages() {
    // Shortages every period: spot suppliers lose commitment and deliver less.
    let scenario = small_scenario(&["market.shortage_probability=1"]);
    let fill = |output: &RunOutput| {
        output.periods[12..]
            .iter()
            .map(|r| r.fill_rate)
            .sum::<f64>()
            / 12.0
    };
    let spot = mean_metric(&scenario, 0, 4, fill);
    let partnership = mean_metric(&scenario, 1, 4, fill);
    assert!(
        partnership > spot + 0.2,
        "partnership {partnership}, spot {spot}"
    );
}

#[test]
fn transactional_customers_leave_more_often_than_relationship_customers() {
    let scenario = small_scenario(&[]);
    let retention = |output: &RunOutput| output.metrics.retention;
    let transactional = mean_metric(&scenario, 0, 4, retention);
    let relationship = mean_metric(&scenario, 1, 4, retention);
    assert!(relationship > transactional + 0.02);
}

#[test]
fn runs_are_reproducible_from_their_seed() {
    let scenario = small_scenario(&[]);
    // Compare bit patterns: a run's metrics may hold NaN (e.g. no referred spells), and NaN ≠ NaN.
    let bits = |output: RunOutput| -> Vec<u64> {
        output
            .periods
            .iter()
            .flat_map(|record| record.values())
            .chain(output.metrics.values())
            .map(f64::to_bits)
            .collect()
    };
    assert_eq!(bits(run(&scenario, 2, 5)), bits(run(&scenario, 2, 5)));
    assert_ne!(bits(run(&scenario, 2, 5)), bits(run(&scenario, 2, 6)));
}

/// The largest one-month rise in mean referred acquisitions, as a share of their peak, for
/// every strategy of the bundled scenario `name` with `overrides`.
fn largest_referral_jumps(name: &str, overrides: &[&str]) -> Vec<(String, f64, f64)> {
    let parsed: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    let preset = relsim::scenario::presets::find(name).unwrap();
    let scenario = parse(preset.text, name, &parsed).unwrap();
    let results = experiment_results(&scenario);
    (0..scenario.strategies().len())
        .map(|strategy_idx| {
            let referred: Vec<_> = results
                .timeseries
                .iter()
                .filter(|p| p.strategy_idx == strategy_idx && p.metric == "acquired_referred")
                .map(|p| p.interval)
                .collect();
            let peak = referred.iter().map(|i| i.mean).fold(0.0, f64::max);
            let rise = referred
                .windows(2)
                .map(|w| w[1].mean - w[0].mean)
                .fold(0.0, f64::max);
            // The rise beyond three standard errors of the difference of two monthly means
            // (taken as independent, which overstates the error of positively correlated
            // months): what Monte-Carlo noise cannot explain.
            let excess = referred
                .windows(2)
                .map(|w| {
                    let se = ((w[0].sd.powi(2) + w[1].sd.powi(2)) / w[1].n as f64).sqrt();
                    w[1].mean - w[0].mean - 3.0 * se
                })
                .fold(0.0, f64::max);
            (
                scenario.strategies()[strategy_idx].name.clone(),
                rise / peak,
                excess / peak,
            )
        })
        .collect()
}

/// Identical customers cross the advocate threshold in the same month, and word of mouth jumps
/// (a cascade of the model, not of the market); customers who differ, as they do by default,
/// remove it in every bundled scenario and strategy (docs/model.md §2.1). A rise counts beyond
/// three standard errors of Monte-Carlo noise, so that a sparse series (transactional referrals
/// in the B2B market, under two a month) is not failed by the dice.
#[test]
fn customers_who_differ_remove_the_synchronised_referral_cascade() {
    let alike = largest_referral_jumps(
        "default",
        &[
            "replications=20",
            "strategies=[{preset=\"relationship\"}]",
            "heterogeneity.initial_trust_concentration=inf",
            "heterogeneity.initial_commitment_concentration=inf",
            "heterogeneity.advocacy_concentration=inf",
            "heterogeneity.learning_concentration=inf",
            "heterogeneity.churn_concentration=inf",
            "warm_start.periods=0",
        ],
    );
    assert!(
        alike[0].1 > 0.15,
        "identical customers: largest rise {alike:?}"
    );
    for (name, replications) in [
        ("default", 40),
        ("subscription_education", 40),
        ("mass_retail", 12),
        ("b2b_it_services", 400),
    ] {
        let replications = format!("replications={replications}");
        for (strategy, jump, beyond_noise) in largest_referral_jumps(name, &[&replications]) {
            assert!(
                beyond_noise <= 0.10,
                "{name}, {strategy}: referrals rose by {:.1} % of their peak in one month \
                 ({:.1} % beyond Monte-Carlo noise)",
                100.0 * jump,
                100.0 * beyond_noise
            );
        }
    }
}

/// The spread across replications of a period metric at the last period, per strategy.
fn last_period_sd(scenario: &Scenario, metric: &str) -> Vec<f64> {
    let results = experiment_results(scenario);
    (0..scenario.strategies().len())
        .map(|idx| {
            results
                .timeseries
                .iter()
                .rfind(|p| p.strategy_idx == idx && p.metric == metric)
                .map(|p| p.interval.sd)
                .unwrap()
        })
        .collect()
}

/// Partners who differ from one another and whose relationship answers what happened to them
/// (docs/model.md §5, §6): their trust varies across replications, where clockwork partners'
/// does not, and missed deliveries lower it.
#[test]
fn partners_differ_and_answer_missed_deliveries() {
    let shortages = "market.shortage_probability=0.2";
    let clockwork = small_scenario(&[shortages, "replications=12"]);
    for metric in ["supplier_trust", "distributor_trust"] {
        assert!(last_period_sd(&clockwork, metric)
            .iter()
            .all(|&sd| sd == 0.0));
    }
    let agents = small_scenario(&[
        shortages,
        "replications=12",
        "suppliers.missed_delivery_episode=-0.5",
        "suppliers.reliability_concentration=20",
        "suppliers.initial_concentration=20",
        "distributors.initial_concentration=20",
        "distributors.stockout_episode=-0.3",
    ]);
    // Under partnership (relationship, hybrid) partners' trust now varies; under the
    // arm's-length policies (transactional) partners who never leave all sink to trust 0, so
    // there only commitment keeps a spread. In the default model they leave and are replaced
    // (below), and trust varies under every policy.
    let supplier_trust = last_period_sd(&agents, "supplier_trust");
    let distributor_trust = last_period_sd(&agents, "distributor_trust");
    assert!(
        supplier_trust[1..].iter().all(|&sd| sd > 0.0),
        "{supplier_trust:?}"
    );
    assert!(
        distributor_trust[1..].iter().all(|&sd| sd > 0.0),
        "{distributor_trust:?}"
    );
    let supplier_commitment = last_period_sd(&agents, "supplier_commitment");
    assert!(
        supplier_commitment.iter().all(|&sd| sd > 0.0),
        "{supplier_commitment:?}"
    );
    let default_model = relsim::scenario::presets::find("default").unwrap();
    let default_model = parse(
        default_model.text,
        "default",
        &[
            "market.population=3000",
            "market.initial_active=300",
            "replications=12",
        ]
        .map(|o| Override::parse(o).unwrap()),
    )
    .unwrap();
    for metric in [
        "supplier_trust",
        "supplier_commitment",
        "distributor_trust",
        "distributor_commitment",
    ] {
        let sd = last_period_sd(&default_model, metric);
        assert!(
            sd.iter().all(|&sd| sd > 0.0),
            "default model, {metric}: {sd:?}"
        );
    }
    // The same markets with and without a missed delivery hurting the relationship.
    let forgiving = small_scenario(&[shortages, "suppliers.missed_delivery_episode=0"]);
    let hurt = small_scenario(&[shortages, "suppliers.missed_delivery_episode=-0.5"]);
    let supplier_trust = |output: &RunOutput| output.metrics.supplier_trust;
    for strategy_idx in 1..3 {
        let (kept, lowered) = (
            mean_metric(&forgiving, strategy_idx, 8, supplier_trust),
            mean_metric(&hurt, strategy_idx, 8, supplier_trust),
        );
        assert!(
            lowered < kept,
            "strategy {strategy_idx}: {lowered} ≥ {kept}"
        );
    }
}

/// Partners whose commitment stays low leave and are replaced at a cost (docs/model.md §5, §6):
/// under the arm's-length policies (transactional) they do, under partnership they do not.
#[test]
fn uncommitted_partners_leave_and_are_replaced_at_a_cost() {
    let scenario = small_scenario(&[
        "suppliers.turnover={exit_commitment=0.2,exit_periods=4,replacement_cost=3000}",
        "distributors.turnover={exit_commitment=0.2,exit_periods=4,replacement_cost=2000}",
    ]);
    let replacements = |strategy_idx: usize| -> (f64, f64) {
        let output = run(&scenario, strategy_idx, 0);
        output.periods.iter().fold((0.0, 0.0), |(count, cost), r| {
            (
                count + r.partner_replacements,
                cost + r.partner_replacement_cost,
            )
        })
    };
    let (count, cost) = replacements(0);
    assert!(count > 0.0, "no squeezed partner left");
    // Each replacement is one supplier's or one distributor's cost.
    assert!(
        cost >= count * 2000.0 && cost <= count * 3000.0,
        "{count} cost {cost}"
    );
    assert_eq!(replacements(1), (0.0, 0.0));
    // Without turnover, nobody leaves.
    let stay = small_scenario(&[]);
    let output = run(&stay, 0, 0);
    assert!(output.periods.iter().all(|r| r.partner_replacements == 0.0));
}

/// Active customer-steps (docs/performance in README, the manifest) count each period's active
/// customers at its start: the customers active at period 0, then each period's end-of-period
/// active count but the last's.
#[test]
fn active_customer_steps_count_the_active_at_each_periods_start() {
    let scenario = small_scenario(&[]);
    for strategy_idx in 0..scenario.strategies().len() {
        let output = run(&scenario, strategy_idx, 3);
        let initial = scenario.model().market.initial_active as f64;
        let later: f64 = output.periods[..output.periods.len() - 1]
            .iter()
            .map(|p| p.active)
            .sum();
        assert_eq!(output.active_customer_steps as f64, initial + later);
        let all = scenario.model().market.population as u64 * scenario.periods() as u64;
        assert!(output.active_customer_steps > 0 && output.active_customer_steps < all);
    }
}

/// The customers' pass runs in chunks of `CHUNK_CUSTOMERS` (several here, the last one short);
/// under an acquisition capacity it runs as one pass over the whole market. With a capacity no
/// period can reach, both must make every decision alike: the counts of every period are equal
/// and the sums differ only in their last bits (they are added up in another order). The
/// relationship strategy has 2 500 managers' places for about 5 000 active customers, about
/// 1 700 of them in the first chunk: the places run out in the second chunk, so the hand-over
/// of places from chunk to chunk is exercised.
#[test]
fn chunks_decide_as_one_pass_over_the_market_would() {
    let population = 3 * relsim::engine::CHUNK_CUSTOMERS + 17;
    let chunked = parse(
        include_str!("../scenarios/default.toml"),
        "default",
        &[
            Override::parse(&format!("market.population={population}")).unwrap(),
            Override::parse("market.initial_active=5000").unwrap(),
            Override::parse("periods=24").unwrap(),
            Override::parse("strategies.1.personal_care_managers=100").unwrap(),
        ],
    )
    .unwrap();
    let whole = chunked
        .with("market.acquisition_capacity", population as i64)
        .unwrap();
    for strategy_idx in 0..chunked.strategies().len() {
        let (chunked_run, whole_run) =
            (run(&chunked, strategy_idx, 3), run(&whole, strategy_idx, 3));
        for (period, (a, b)) in chunked_run
            .periods
            .iter()
            .zip(&whole_run.periods)
            .enumerate()
        {
            for (name, (x, y)) in relsim::engine::PeriodRecord::NAMES
                .iter()
                .zip(a.values().into_iter().zip(b.values()))
            {
                let close = x == y || (x - y).abs() <= 1e-9 * x.abs().max(y.abs());
                assert!(close, "{name} in period {}: {x} vs {y}", period + 1);
            }
            assert_eq!(
                (
                    a.active,
                    a.defections,
                    a.acquired_paid + a.acquired_referred
                ),
                (
                    b.active,
                    b.defections,
                    b.acquired_paid + b.acquired_referred
                )
            );
        }
    }
    let relationship = &chunked.strategies()[1];
    assert_eq!(relationship.name, "relationship");
    let places = relationship.levers.personal_care_managers * relationship.levers.manager_capacity;
    assert_eq!(places, 2500);
    let first = run(&chunked, 1, 3).periods[0];
    assert_eq!(first.personal_care_customers, 2500.0, "every place taken");
}

/// Runs the pieces last to first: what any order of workers might do. It says it may run them
/// at once, so the engine shares its neighbour counts between the pieces as it does on many
/// threads (where `InOrder` has the engine move every voice itself).
struct LastFirst;

impl relsim::engine::Workers for LastFirst {
    fn each<T: Send, F: Fn(&mut T) + Sync>(&self, items: &mut [T], work: F) {
        items.iter_mut().rev().for_each(work);
    }

    fn at_once(&self) -> bool {
        true
    }
}

/// The world's pieces (network and population, the individual draws, the network's rows) and
/// a period's chunks give the same world and the same run in any order (a market of three
/// chunks, every individual parameter varying, a warm start).
#[test]
fn pieces_give_the_same_world_and_run_in_any_order() {
    let population = 2 * relsim::engine::CHUNK_CUSTOMERS + 500;
    let scenario = parse(
        include_str!("../scenarios/default.toml"),
        "default",
        &[
            Override::parse(&format!("market.population={population}")).unwrap(),
            Override::parse("market.initial_active=3000").unwrap(),
            Override::parse("periods=12").unwrap(),
            Override::parse("heterogeneity.initial_trust_concentration=20").unwrap(),
            Override::parse("heterogeneity.initial_commitment_concentration=20").unwrap(),
            Override::parse("heterogeneity.learning_concentration=10").unwrap(),
            Override::parse("heterogeneity.advocacy_concentration=30").unwrap(),
        ],
    )
    .unwrap();
    let seeds = ReplicationSeeds::derive(scenario.seed(), 2);
    let world = World::generate(scenario.model(), &seeds);
    assert_eq!(
        world,
        World::generate_with(scenario.model(), &seeds, &LastFirst)
    );
    assert!(world.population.learning.varies() && world.population.churn_offset.varies());
    assert!(world.population.history.is_some(), "a warm start");
    for strategy_idx in 0..scenario.strategies().len() {
        let config = scenario.run_config(strategy_idx);
        assert_eq!(
            simulate(&config, &world, &seeds),
            relsim::engine::simulate_with(&config, &world, &seeds, &LastFirst)
        );
    }
}

/// A sink that asks its experiment to stop once the first batch is in, as a signal would.
struct StopAfterFirstBatch {
    stop: StopRequest,
    runs: usize,
}

impl RunSink for StopAfterFirstBatch {
    type Output = ();

    fn accept(&mut self, _run: RunRecord) -> relsim::error::Result<()> {
        self.runs += 1;
        Ok(())
    }

    fn end_batch(&mut self) -> relsim::error::Result<()> {
        self.stop.request(15);
        Ok(())
    }

    fn finish(self) -> relsim::error::Result<()> {
        Ok(())
    }
}

/// An interrupted experiment says where the time of the replications it handed on went, so
/// that a stopped shard's session records it (`sessions.json`) as a finished one does.
#[test]
fn an_interrupted_experiment_hands_on_the_time_of_the_replications_it_kept() {
    let scenario = small_scenario(&[]);
    let stop = StopRequest::default();
    let mut sink = StopAfterFirstBatch {
        stop: stop.clone(),
        runs: 0,
    };
    let options = ExperimentOptions {
        threads: 1,
        batch_size: 2,
        stop,
        ..Default::default()
    };
    match run_experiment(&scenario, options, &mut sink, &|| {}) {
        Err(Error::Interrupted {
            signal: 15,
            finished: 2,
            time_split,
            ..
        }) => assert!(
            time_split.world_build_seconds > 0.0 && time_split.simulation_seconds > 0.0,
            "{time_split:?}"
        ),
        other => panic!("expected an interruption after one batch of two, got {other:?}"),
    }
    assert_eq!(sink.runs, 2 * scenario.strategies().len());
}
