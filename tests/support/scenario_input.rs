//! The check behind the scenario fuzz target, shared by the target (`fuzz/`) and by the test
//! that replays its corpus (`tests/fuzz_corpus.rs`).
//!
//! An input is scenario text, optionally followed by a line `#--set` and one `KEY=VALUE`
//! override per line. Whatever the input, relsim must not panic: parsing either fails with a
//! bad-input error (exit code 2) that names the scenario, or gives a scenario whose expanded
//! TOML reads back to the same scenario; a small valid scenario must also simulate.

use relsim::experiment::{estimate_memory_bytes, simulate_replication};
use relsim::scenario::{parse, Override};

/// The name the fuzzed scenario goes by in messages.
const SOURCE: &str = "fuzzed.toml";

/// Separates the scenario text from the overrides.
pub const OVERRIDES_MARKER: &str = "\n#--set\n";

/// Largest `population × periods × strategies` the check simulates.
const SIMULATED_STEPS: u64 = 20_000;

pub fn check(data: &[u8]) {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let (text, assignments) = match input.split_once(OVERRIDES_MARKER) {
        Some((text, rest)) => (text, rest.lines().collect::<Vec<_>>()),
        None => (input, Vec::new()),
    };
    let mut overrides = Vec::new();
    for assignment in assignments {
        match Override::parse(assignment) {
            Ok(parsed) => overrides.push(parsed),
            Err(err) => {
                assert_eq!(err.exit_code(), 2, "{err}");
                return;
            }
        }
    }
    match parse(text, SOURCE, &overrides) {
        Err(err) => {
            assert_eq!(err.exit_code(), 2, "not a bad-input error: {err}");
            let message = err.to_string();
            assert!(
                message.contains(SOURCE) || message.starts_with("--set"),
                "the message names neither the file nor the override: {message}"
            );
        }
        Ok(scenario) => {
            let expanded = scenario.to_toml();
            let again = parse(&expanded, "expanded", &[]).unwrap_or_else(|err| {
                panic!("the expanded scenario is refused: {err}\n{expanded}")
            });
            assert_eq!(
                again, scenario,
                "the expanded scenario reads back differently"
            );
            let _ = scenario.notes();
            let _ = estimate_memory_bytes(&scenario, 2);
            let steps = scenario.customer_steps_per_replication();
            if steps <= SIMULATED_STEPS {
                let runs = simulate_replication(&scenario, 0);
                assert_eq!(runs.len(), scenario.strategies().len());
            }
        }
    }
}
