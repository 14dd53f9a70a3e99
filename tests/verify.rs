//! The verification cases of `relsim verify` (docs/validation.md), run as a test: every case
//! must pass. Seeds are fixed, so the outcome is the same on every machine and thread count.

use relsim::verify::{cases, table, Verifier};

#[test]
fn every_verification_case_passes() {
    let mut verifier = Verifier::new(0);
    let results: Vec<_> = cases()
        .iter()
        .map(|case| verifier.check(case).expect("the case's scenario is valid"))
        .collect();
    let failed: Vec<&str> = results.iter().filter(|r| !r.pass).map(|r| r.id).collect();
    assert!(failed.is_empty(), "failed: {failed:?}\n{}", table(&results));
    assert!(results.len() >= 18);
}

#[test]
fn verify_command_prints_the_table_and_succeeds() {
    let output = assert_cmd::Command::cargo_bin("relsim")
        .unwrap()
        .args([
            "verify",
            "--markdown",
            "--case",
            "tenure_mean",
            "--case",
            "clv_end_of_period",
        ])
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let stdout = String::from_utf8(output.stdout).unwrap();
    assert!(stdout.starts_with("| case | kind | what | exact or target |"));
    assert!(stdout.contains("| `tenure_mean` | reduction |"));
    assert!(stdout.contains("`tenure_mean`"));
    assert!(stdout.contains("`clv_end_of_period`"));
    assert!(!stdout.contains("`bass_diffusion`"));
    assert!(!stdout.contains("FAIL"));
}

#[test]
fn verify_refuses_an_unknown_case() {
    assert_cmd::Command::cargo_bin("relsim")
        .unwrap()
        .args(["verify", "--case", "warp_drive"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("warp_drive"))
        .stderr(predicates::str::contains("bass_diffusion"));
}
