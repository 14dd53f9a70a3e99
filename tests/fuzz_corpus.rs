//! Replays the corpus of the scenario fuzz target (`fuzz/corpus/scenario/`) as an ordinary
//! test, so that every input the fuzzer found interesting is checked on every CI run, with no
//! fuzzing toolchain needed. To fuzz further: see fuzz/README.md.

use std::fs;
use std::path::Path;

#[path = "support/scenario_input.rs"]
mod scenario_input;

#[test]
fn every_corpus_input_is_handled_without_a_panic() {
    let corpus = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus/scenario");
    let mut replayed = 0;
    for entry in fs::read_dir(&corpus).unwrap() {
        let path = entry.unwrap().path();
        let data = fs::read(&path).unwrap();
        let outcome = std::panic::catch_unwind(|| scenario_input::check(&data));
        assert!(outcome.is_ok(), "{} makes relsim panic", path.display());
        replayed += 1;
    }
    assert!(
        replayed >= 30,
        "only {replayed} corpus inputs in {}",
        corpus.display()
    );
    println!("replayed {replayed} corpus inputs");
}
