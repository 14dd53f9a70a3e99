//! The memory guard covers everything a run does: a run of a million replications, charts and
//! report included, stays under `estimate_memory_bytes`, which `relsim run` compares with the
//! machine's memory before it starts. (Its own test binary, so that the peak of the children
//! this process waited for is this run's alone.)

use std::process::Command;

#[path = "support/peak_rss.rs"]
mod peak_rss;

use peak_rss::peak_rss_of_children;
use relsim::experiment::estimate_memory_bytes;
use relsim::scenario::{parse, presets, Override};

const OVERRIDES: [&str; 6] = [
    "replications=1000000",
    "market.population=20",
    "market.initial_active=5",
    "periods=2",
    "network={kind=\"none\"}",
    "strategies=[{preset=\"transactional\"},{preset=\"relationship\"}]",
];

#[test]
fn a_million_replications_with_charts_stay_under_the_memory_estimate() {
    let threads = 2;
    let overrides: Vec<Override> = OVERRIDES
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    let default = presets::find("default").unwrap();
    let scenario = parse(default.text, "default", &overrides).unwrap();
    let estimate = estimate_memory_bytes(&scenario, threads);

    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(assert_cmd::cargo::cargo_bin("relsim"));
    command.args(["run", "default", "--quiet", "--threads", "2", "--out"]);
    command.arg(dir.path().join("million"));
    for assignment in OVERRIDES {
        command.args(["--set", assignment]);
    }
    let output = command.output().unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(dir.path().join("million/npv_distribution.png").exists());
    let peak = peak_rss_of_children();
    println!(
        "peak RSS {} MiB, estimate {} MiB",
        peak >> 20,
        estimate >> 20
    );
    assert!(
        peak < estimate,
        "peak {peak} B above the estimate {estimate} B"
    );
    // The estimate is a guard, not a guess: it stays within twice what the run needs.
    assert!(
        estimate < 2 * peak,
        "estimate {estimate} B far above the peak {peak} B"
    );
}
