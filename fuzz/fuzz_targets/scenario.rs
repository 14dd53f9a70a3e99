//! Fuzzes scenario parsing, validation and `--set` overrides: see
//! tests/support/scenario_input.rs for the input format and what must hold.
#![no_main]

#[path = "../../tests/support/scenario_input.rs"]
mod scenario_input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| scenario_input::check(data));
