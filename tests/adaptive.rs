//! `relsim run --target-ci`: replications are added in batches until every paired difference
//! is known precisely enough. The number needed is computed here independently, from a long
//! run's first replications, and the adaptive run must agree with it and equal a plain run of
//! that many replications byte for byte.

use std::fs;
use std::path::Path;

use assert_cmd::Command;
use relsim::experiment::{run_experiment, ExperimentOptions};
use relsim::results::{ResultsCollector, RunSink};
use relsim::scenario::{parse, presets, Override};
use relsim::stats::paired_difference;

const MARKET: [&str; 2] = ["market.population=3000", "market.initial_active=300"];
const BATCH: usize = 10;
const MAX: usize = 150;

/// The first multiple of the batch at which every pair's NPV-difference interval is at most
/// `percent` % of the larger |mean NPV| of the pair, from the first `k` replications of a long
/// run (or `MAX` if none is).
fn replications_needed(percent: f64) -> usize {
    let overrides: Vec<Override> = MARKET
        .iter()
        .chain(&[&*format!("replications={MAX}")])
        .map(|o| Override::parse(o).unwrap())
        .collect();
    let default = presets::find("default").unwrap();
    let scenario = parse(default.text, "default", &overrides).unwrap();
    let mut collector = ResultsCollector::new(&scenario);
    run_experiment(
        &scenario,
        ExperimentOptions::default(),
        &mut collector,
        &|| {},
    )
    .unwrap();
    let results = collector.finish().unwrap();
    let npv: Vec<&[f64]> = (0..scenario.strategies().len())
        .map(|s| results.runs.metric(s, "npv").unwrap())
        .collect();
    let mean = |values: &[f64]| values.iter().sum::<f64>() / values.len() as f64;
    (BATCH..=MAX)
        .step_by(BATCH)
        .find(|&k| {
            (0..npv.len()).all(|a| {
                ((a + 1)..npv.len()).all(|b| {
                    let interval = paired_difference(&npv[a][..k], &npv[b][..k]).interval;
                    let allowed =
                        percent / 100.0 * mean(&npv[a][..k]).abs().max(mean(&npv[b][..k]).abs());
                    interval.ci_high - interval.ci_low <= allowed
                })
            })
        })
        .unwrap_or(MAX)
}

fn run(out: &Path, extra: &[&str]) {
    let mut command = Command::cargo_bin("relsim").unwrap();
    command.args(["run", "default"]);
    for assignment in MARKET {
        command.args(["--set", assignment]);
    }
    command
        .args(extra)
        .arg("--out")
        .arg(out)
        .args(["--no-plots", "--quiet"])
        .assert()
        .success();
}

fn adaptive(out: &Path) -> serde_json::Value {
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    manifest["adaptive"].clone()
}

#[test]
fn target_ci_stops_at_the_first_batch_that_is_precise_enough() {
    let dir = tempfile::tempdir().unwrap();
    // A target reached after a few batches, and one never reached.
    for (target, percent) in [("8%", 8.0), ("0.01%", 0.01)] {
        let expected = replications_needed(percent);
        let out = dir.path().join(format!("adaptive-{percent}"));
        run(
            &out,
            &[
                "--replications",
                &BATCH.to_string(),
                "--target-ci",
                target,
                "--max-replications",
                &MAX.to_string(),
            ],
        );
        let account = adaptive(&out);
        assert_eq!(account["replications_needed"], expected as u64, "{account}");
        assert_eq!(account["batch"], BATCH as u64);
        let reached = expected < MAX;
        assert_eq!(
            account["stopped"],
            if reached {
                "target reached"
            } else {
                "max replications reached"
            }
        );
        assert!(
            (account["widest_width"].as_f64().unwrap()
                <= account["allowed_width"].as_f64().unwrap())
                == reached,
            "{account}"
        );
        // The same files as a plain run of that many replications.
        let plain = dir.path().join(format!("plain-{percent}"));
        run(&plain, &["--replications", &expected.to_string()]);
        for file in [
            "summary.csv",
            "comparisons.csv",
            "timeseries.csv",
            "runs.csv",
            "scenario.toml",
        ] {
            assert!(
                fs::read(out.join(file)).unwrap() == fs::read(plain.join(file)).unwrap(),
                "{file} differs from a plain run of {expected} replications"
            );
        }
    }
    assert!(
        replications_needed(8.0) > BATCH,
        "the 8% case takes more than one batch"
    );
}

#[test]
fn bad_targets_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    for (arguments, fragment) in [
        (vec!["--target-ci=-2"], "--target-ci: `-2` is not a width"),
        (
            vec!["--target-ci", "2%", "--target-metric", "profitt"],
            "is not a per-run metric",
        ),
        (
            vec![
                "--replications",
                "20",
                "--target-ci",
                "2%",
                "--max-replications",
                "10",
            ],
            "--max-replications: must be at least the batch of 20",
        ),
        (vec!["--max-replications", "10"], "--target-ci"),
    ] {
        Command::cargo_bin("relsim")
            .unwrap()
            .args(["run", "default"])
            .args(&arguments)
            .arg("--out")
            .arg(dir.path().join("refused"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(fragment));
    }
}
