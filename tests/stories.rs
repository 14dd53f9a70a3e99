//! Customers' stories are the replication itself: every event a story tells is checked against
//! an untraced run of the same replication, period by period, and following customers changes
//! no record of the run.

use assert_cmd::Command;
use relsim::engine::{
    simulate, AfterPass, ReplicationSeeds, Run, Trace, TraceEvent, World, CHUNK_CUSTOMERS,
};
use relsim::model::customers::flag;
use relsim::scenario::{parse, presets, Override, Scenario};
use relsim::stories::{narrate_all, tell, StoryKind, StoryRequest};

fn scenario(preset: &str, overrides: &[&str]) -> Scenario {
    let overrides: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    parse(presets::find(preset).unwrap().text, preset, &overrides).unwrap()
}

fn strategy_idx(scenario: &Scenario, name: &str) -> usize {
    scenario
        .strategies()
        .iter()
        .position(|s| s.name == name)
        .unwrap()
}

/// Follows every customer and keeps a count of what it heard, to show that a trace that
/// follows everyone still leaves the run as it was.
#[derive(Default)]
struct CountEverything {
    episodes: u64,
    acquisitions: u64,
    failures: u64,
    periods_over: u32,
}

impl Trace for CountEverything {
    const FOLLOWS: bool = true;
    fn follows(&self, _customer_idx: usize) -> bool {
        true
    }
    fn record(&mut self, _period: u32, _customer_idx: usize, event: TraceEvent) {
        match event {
            TraceEvent::Episode(episode) => {
                self.episodes += 1;
                self.failures += u64::from(episode.failed);
            }
            TraceEvent::Acquired { .. } => self.acquisitions += 1,
            _ => {}
        }
    }
    fn pass_over(&mut self, _period: u32, _market: &AfterPass) {
        self.periods_over += 1;
    }
}

#[test]
fn following_customers_changes_no_record_of_the_run() {
    // Three chunks, so the traced pass (chunks in order) is compared with the chunked one.
    let population = 2 * CHUNK_CUSTOMERS + 500;
    let scenario = scenario(
        "default",
        &[
            &format!("market.population={population}"),
            &format!("market.initial_active={}", population / 10),
            "periods=24",
        ],
    );
    let seeds = ReplicationSeeds::derive(scenario.seed(), 3);
    let world = World::generate(scenario.model(), &seeds);
    for strategy_idx in 0..scenario.strategies().len() {
        let config = scenario.run_config(strategy_idx);
        let untraced = simulate(&config, &world, &seeds);
        let mut trace = CountEverything::default();
        let mut run = Run::new(&config, &world, &seeds);
        let mut periods = Vec::new();
        while let Some(record) = run.step_traced(&mut trace) {
            periods.push(record);
        }
        let metrics = run.finish(&periods);
        assert_eq!(periods, untraced.periods);
        assert_eq!(metrics, untraced.metrics);
        // What the trace heard adds up to the run's records.
        let sum = |field: fn(&relsim::engine::PeriodRecord) -> f64| -> f64 {
            periods.iter().map(field).sum()
        };
        assert_eq!(trace.failures as f64, sum(|r| r.failures));
        assert_eq!(
            trace.acquisitions as f64,
            sum(|r| r.acquired_paid + r.acquired_referred)
        );
        assert_eq!(trace.episodes, untraced.active_customer_steps);
        assert_eq!(trace.periods_over, 24);
    }
}

/// Replays the replication without a trace and checks, after every period, each story's
/// customer against the state the run left it in; and that each story is the kind it claims.
fn check_stories_against_the_run(scenario: &Scenario, strategy: &str, replication: u64) {
    let strategy_idx = strategy_idx(scenario, strategy);
    let stories = tell(
        scenario,
        StoryRequest {
            strategy_idx,
            replication,
            customers: StoryKind::ALL.len(),
        },
    )
    .unwrap();
    assert!(!stories.stories.is_empty());
    let seeds = ReplicationSeeds::derive(scenario.seed(), replication);
    let world = World::generate(scenario.model(), &seeds);
    let config = scenario.run_config(strategy_idx);
    let mut run = Run::new(&config, &world, &seeds);
    let mut active_before: Vec<bool> = stories
        .stories
        .iter()
        .map(|s| run.customer(s.customer).flags & flag::ACTIVE != 0)
        .collect();
    for (story, &active) in stories.stories.iter().zip(&active_before) {
        assert_eq!(
            story.initial.is_some(),
            active,
            "customer {}",
            story.customer
        );
    }
    let mut period = 0;
    while let Some(record) = run.step() {
        period += 1;
        let mut failures_told = 0.0;
        for (story, was_active) in stories.stories.iter().zip(active_before.iter_mut()) {
            let state = run.customer(story.customer);
            let is_active = state.flags & flag::ACTIVE != 0;
            let events: Vec<&TraceEvent> = story
                .events
                .iter()
                .filter(|e| e.period == period)
                .map(|e| &e.event)
                .collect();
            let episode = events.iter().find_map(|e| match e {
                TraceEvent::Episode(episode) => Some(episode),
                _ => None,
            });
            // Every customer active at the start of a period has an episode in it, and only they.
            assert_eq!(
                episode.is_some(),
                *was_active,
                "customer {} in period {period}",
                story.customer
            );
            if let Some(episode) = episode {
                failures_told += f64::from(u8::from(episode.failed));
                if episode.left {
                    assert!(!is_active && state.flags & flag::LAPSED != 0);
                } else {
                    assert!(is_active);
                    assert_eq!(state.trust, episode.after.trust as f32);
                    assert_eq!(state.commitment, episode.after.commitment as f32);
                }
            }
            for event in &events {
                if let TraceEvent::Acquired {
                    referred, start, ..
                } = event
                {
                    assert!(is_active && state.active_since == period);
                    assert_eq!(state.flags & flag::REFERRED != 0, *referred);
                    assert_eq!(state.trust, start.trust as f32);
                }
            }
            if !events
                .iter()
                .any(|e| matches!(e, TraceEvent::Episode(_) | TraceEvent::Acquired { .. }))
            {
                assert_eq!(is_active, *was_active, "an untold change of status");
            }
            // Friends the customer brought joined by word of mouth in that very period.
            for referral in story.referrals.iter().filter(|r| r.period == period) {
                let friend = run.customer(referral.friend);
                assert!(friend.flags & flag::ACTIVE != 0 && friend.flags & flag::REFERRED != 0);
                assert_eq!(friend.active_since, period);
            }
            *was_active = is_active;
        }
        assert!(failures_told <= record.failures);
    }
    assert_eq!(period, scenario.periods());
    for story in &stories.stories {
        let state = run.customer(story.customer);
        assert_eq!(story.active_at_end, state.flags & flag::ACTIVE != 0);
        let episodes = || {
            story.events.iter().filter_map(|e| match &e.event {
                TraceEvent::Episode(episode) => Some(episode),
                _ => None,
            })
        };
        let claim_holds = match story.kind {
            StoryKind::LeftAfterFailure => episodes().any(|e| e.left && e.failed && !e.recovered),
            StoryKind::Advocate => !story.referrals.is_empty(),
            StoryKind::WonBack => story
                .events
                .iter()
                .any(|e| matches!(e.event, TraceEvent::Acquired { won_back: true, .. })),
            StoryKind::KeyAccount => episodes().any(|e| e.care == relsim::engine::Care::Personal),
            StoryKind::LostToRival => episodes().any(|e| e.left && e.rival_campaign && !e.failed),
            StoryKind::Recovered => episodes().any(|e| e.recovered && !e.left),
            StoryKind::LeftAfterPriceRise => episodes().any(|e| e.left && e.price_rise),
            StoryKind::Deterred => story
                .events
                .iter()
                .any(|e| matches!(e.event, TraceEvent::Deterred { .. })),
            StoryKind::Loyal => episodes().all(|e| !e.left) && episodes().count() > 0,
        };
        assert!(
            claim_holds,
            "customer {}: not {:?}",
            story.customer, story.kind
        );
    }
}

#[test]
fn every_event_of_a_story_is_what_the_replication_did() {
    let default = scenario("default", &["market.population=4000", "periods=36"]);
    for strategy in ["transactional", "relationship", "hybrid"] {
        check_stories_against_the_run(&default, strategy, 1);
    }
    for preset in presets::names() {
        let bundled = scenario(preset, &["periods=24"]);
        let first = bundled.strategies()[0].name.clone();
        check_stories_against_the_run(&bundled, &first, 0);
    }
}

#[test]
fn the_same_seed_tells_the_same_stories() {
    let default = scenario("default", &["market.population=3000"]);
    let request = StoryRequest {
        strategy_idx: 1,
        replication: 2,
        customers: 4,
    };
    let first = tell(&default, request).unwrap();
    assert_eq!(first, tell(&default, request).unwrap());
    assert_eq!(first.stories.len(), 4);
    let other_seed = default.with("seed", 99).unwrap();
    assert_ne!(first, tell(&other_seed, request).unwrap());
}

#[test]
fn stories_read_the_same_as_before() {
    let default = scenario("default", &["market.population=2000", "periods=24"]);
    for strategy in ["transactional", "relationship"] {
        let stories = tell(
            &default,
            StoryRequest {
                strategy_idx: strategy_idx(&default, strategy),
                replication: 0,
                customers: 3,
            },
        )
        .unwrap();
        insta::assert_snapshot!(format!("stories_{strategy}"), narrate_all(&stories));
    }
}

fn relsim(args: &[&str]) -> std::process::Output {
    Command::cargo_bin("relsim")
        .unwrap()
        .args(args)
        .output()
        .unwrap()
}

#[test]
fn the_command_tells_stories_as_text_or_json_and_refuses_bad_options() {
    let text = relsim(&[
        "stories",
        "default",
        "--set",
        "market.population=3000",
        "--customers",
        "2",
    ]);
    assert!(text.status.success());
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(text.contains("Customers' stories: default under transactional"));
    assert_eq!(text.matches("\nCustomer ").count(), 2, "{text}");

    let json = relsim(&[
        "stories",
        "default",
        "--set",
        "market.population=3000",
        "--strategy",
        "relationship",
        "--format",
        "json",
    ]);
    assert!(json.status.success());
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["strategy"], "relationship");
    assert_eq!(json["stories"].as_array().unwrap().len(), 5);
    assert!(json["stories"][0]["events"][0]["event"].is_string());

    for (args, says) in [
        (
            vec!["--strategy", "nope"],
            "--strategy: `nope` is not a strategy of default; it has transactional",
        ),
        (
            vec!["--customers", "0"],
            "--customers: must be from 1 to 100, got 0",
        ),
        (
            vec!["--replication", "1000"],
            "--replication: the scenario runs replications 0 to",
        ),
        (vec!["--set", "market.population=-3"], "market.population"),
    ] {
        let mut all = vec!["stories", "default"];
        all.extend(args);
        let output = relsim(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(stderr.contains(says), "{all:?}: {stderr}");
    }
}

/// docs/teaching.md's lesson 2 quotes these stories; if the model or the choice of stories
/// changes, the lesson must be rewritten with the new ones.
#[test]
fn the_stories_lesson_2_quotes_are_what_relsim_tells() {
    let output = relsim(&[
        "stories",
        "default",
        "--strategy",
        "relationship",
        "--customers",
        "6",
    ]);
    assert!(output.status.success());
    let text = String::from_utf8(output.stdout).unwrap();
    let lesson = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/teaching.md"),
    )
    .unwrap();
    for (quoted_in_lesson, told) in [
        (
            "(customer 17330)",
            "Customer 17330 — left after an unrecovered failure",
        ),
        ("fell from 0.93 to 0.73", "trust 0.93 → 0.73"),
        ("fell from 0.76 to 0.59", "trust 0.76 → 0.59"),
        (
            "rose from under 1 % to 10 %",
            "Chance of leaving: 10 %; it left.",
        ),
        ("(customer 0)", "Customer 0 — a failure put right"),
        ("Trust stayed at 0.68", "trust 0.68 → 0.68"),
        ("from 0.77 to 0.79", "commitment 0.77 → 0.79"),
    ] {
        assert!(
            lesson.contains(quoted_in_lesson),
            "lesson lacks {quoted_in_lesson:?}"
        );
        assert!(
            text.contains(told),
            "relsim no longer tells {told:?}:\n{text}"
        );
    }
}
