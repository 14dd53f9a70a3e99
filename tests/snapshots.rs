//! Snapshot tests (insta) of what users read and tools parse: help text and exported files.
//! A change to any of them shows up as a snapshot diff to review, never silently.

use assert_cmd::Command;

fn relsim_stdout(args: &[&str]) -> String {
    let output = Command::cargo_bin("relsim")
        .unwrap()
        .args(args)
        // Help is wrapped to the terminal; pin the width so snapshots do not depend on it.
        .env("COLUMNS", "100")
        // Paths in outputs are as given; run from the crate so they are the same in every clone.
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap()
}

#[test]
fn help_texts() {
    for (name, args) in [
        ("help", vec!["--help"]),
        ("run_help", vec!["run", "--help"]),
        ("validate_help", vec!["validate", "--help"]),
        ("plot_help", vec!["plot", "--help"]),
        ("verify_help", vec!["verify", "--help"]),
        ("init_help", vec!["init", "--help"]),
        ("presets", vec!["presets"]),
    ] {
        insta::assert_snapshot!(name, relsim_stdout(&args));
    }
}

#[test]
fn exported_summary_and_comparisons() {
    let dir = tempfile::tempdir().unwrap();
    relsim_stdout(&[
        "run",
        "tests/data/small.toml",
        "--replications",
        "3",
        "--no-plots",
        "--quiet",
        "--out",
        dir.path().to_str().unwrap(),
    ]);
    let read = |file: &str| std::fs::read_to_string(dir.path().join(file)).unwrap();
    insta::assert_snapshot!("summary_csv", read("summary.csv"));
    insta::assert_snapshot!("comparisons_csv", read("comparisons.csv"));
    insta::assert_snapshot!("scenario_toml", read("scenario.toml"));
}
