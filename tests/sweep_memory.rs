//! A sweep's memory does not grow with its design (docs/sweeps.md): per-run rows stream to
//! disk, each point's summaries go to a scratch file as it completes, and the analyses read
//! them back a few columns at a time. Only the design's coordinates stay in memory, 8 bytes
//! each. (Its own test binary, so that the peak of the children is these sweeps' alone.)

#[path = "support/peak_rss.rs"]
mod peak_rss;

use std::process::Command;

use peak_rss::peak_rss_of_children;

/// Runs a Latin-hypercube sweep of `points` points of a tiny market and returns the peak RSS
/// of every sweep run so far.
fn sweep_peak(points: u32, out: &std::path::Path) -> u64 {
    let design = format!("design={{kind=\"lhs\", samples={points}}}");
    let output = Command::new(assert_cmd::cargo::cargo_bin("relsim"))
        .args([
            "sweep",
            "default",
            "--quiet",
            "--threads",
            "2",
            "--replications",
            "2",
        ])
        .args(["--set", &design])
        .args([
            "--set",
            "vary=[{key=\"market.word_of_mouth\", uniform=[0.01, 0.04]}, \
             {key=\"market.cogs_share\", uniform=[0.5, 0.8]}, \
             {key=\"relationship.trust_gain\", uniform=[0.05, 0.2]}]",
        ])
        .args([
            "--set",
            "market.population=50",
            "--set",
            "market.initial_active=10",
        ])
        .args(["--set", "periods=2", "--out"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    peak_rss_of_children()
}

#[test]
fn peak_memory_stays_flat_as_the_design_grows_tenfold() {
    let dir = tempfile::tempdir().unwrap();
    // The smaller design runs first: the peak of both runs is then the larger's if it is higher.
    let small = sweep_peak(1_500, &dir.path().join("small"));
    let large = sweep_peak(15_000, &dir.path().join("large"));
    let lines = std::fs::read_to_string(dir.path().join("large/points.csv"))
        .unwrap()
        .lines()
        .count();
    assert!(lines > 15_000 * 3, "points.csv has {lines} lines");
    println!(
        "peak RSS: 1 500 points {} KiB, 15 000 points {} KiB",
        small >> 10,
        large >> 10
    );
    // Before the summaries went to disk, 15 000 points took 2.3 KB each: 35 MB more.
    assert!(
        large < small + small / 4,
        "peak RSS grew from {small} B to {large} B with a design ten times larger"
    );
}
