//! `relsim calibrate` (docs/calibration.md): a cohort simulated by relsim with a known churn
//! baseline is fitted back within its interval; the bundled example (drawn from a
//! shifted-beta-geometric model) is fitted and projected; bad data are refused naming the file
//! and the row.

use std::fs;
use std::path::{Path, PathBuf};

use assert_cmd::Command;
use predicates::prelude::*;
use relsim::calibrate::{fit, parse_retention_text, FitOptions};
use relsim::experiment::calibrate::{calibration_pool, initial_survival};
use relsim::model::rng::Xoshiro256PlusPlus;
use relsim::scenario::{parse, presets, Override, Scenario};

fn relsim() -> Command {
    Command::cargo_bin("relsim").expect("the relsim binary is built")
}

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn default_with(overrides: &[&str]) -> Scenario {
    let parsed: Vec<Override> = overrides
        .iter()
        .map(|o| Override::parse(o).unwrap())
        .collect();
    parse(presets::find("default").unwrap().text, "default", &parsed).unwrap()
}

/// A cohort of `size` customers who each leave as `survival` says (binomial thinning period by
/// period, from a fixed seed), as `period,surviving` CSV.
fn cohort_csv(size: u32, survival: &[f64], seed: u64) -> String {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let mut text = format!("period,surviving\n0,{size}\n");
    let mut alive = size;
    for t in 1..survival.len() {
        let stay = survival[t] / survival[t - 1];
        alive = (0..alive).filter(|_| rng.uniform() < stay).count() as u32;
        text.push_str(&format!("{t},{alive}\n"));
    }
    text
}

/// A cohort of 3 000 customers who leave as relsim's curve with a churn baseline of −3.0 says
/// (that curve from other seeds than the fit's and many replications; each customer's exit
/// drawn from it) is fitted back from −3.5: the true value lies within the fitted 95 %
/// interval.
#[test]
fn a_cohort_simulated_with_a_known_baseline_is_fitted_back() {
    let market = [
        "market.population=3000",
        "market.initial_active=1500",
        "periods=12",
        "strategies=[{preset=\"transactional\"}]",
    ];
    let truth = default_with(
        &[
            &market[..],
            &["defection.baseline=-3.0", "seed=777", "replications=100"],
        ]
        .concat(),
    );
    let pool = calibration_pool(0).unwrap();
    let survival = initial_survival(&truth, 0, &pool).mean;
    let data =
        parse_retention_text(&cohort_csv(3000, &survival, 11), Path::new("simulated.csv")).unwrap();

    let start = default_with(&[&market[..], &["replications=20"]].concat());
    let found = fit(
        &start,
        &data,
        &FitOptions {
            strategy_idx: 0,
            keys: vec!["defection.baseline".into()],
            holdout: None,
            replications: None,
            threads: 0,
            max_evaluations: 200,
        },
        &|_| {},
    )
    .unwrap();
    let baseline = &found.values[0];
    println!("{baseline:?}, deviance {:.2}", found.deviance());
    assert!(baseline.identified);
    assert!(
        baseline.ci_low <= -3.0 && -3.0 <= baseline.ci_high,
        "fitted {} [{}, {}]",
        baseline.value,
        baseline.ci_low,
        baseline.ci_high
    );
    assert!(baseline.ci_high - baseline.ci_low < 1.0);
    // The calibrated scenario holds the fitted value and keeps its own replications.
    let value = found.calibrated.value_of("defection.baseline").unwrap();
    assert_eq!(value.as_float(), Some(baseline.value));
    assert_eq!(found.calibrated.replications(), 20);
}

/// The bundled example, fitted on its first six months, projects the rest; the calibrated file
/// says what was fitted and is an ordinary scenario.
#[test]
fn the_bundled_example_is_fitted_projected_and_written_as_a_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("calibrated.toml");
    relsim()
        .args(["calibrate", "default", "--retention"])
        .arg(repo("scenarios/calibration/subscription_cohorts.csv"))
        .arg("-o")
        .arg(&out)
        .args([
            "--strategy",
            "transactional",
            "--holdout",
            "6",
            "--replications",
            "6",
        ])
        .args([
            "--set",
            "market.population=6000",
            "--set",
            "market.initial_active=2000",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("defection.baseline = "))
        .stdout(predicate::str::contains(
            "holdout: fitted through period 6, projected 9",
        ));
    let text = fs::read_to_string(&out).unwrap();
    assert!(text.starts_with("# Calibrated by relsim"), "{text}");
    assert!(text.contains("#   heterogeneity.churn_concentration = "));
    assert!(text.contains("# Holdout projection error: RMSE"));
    relsim().arg("validate").arg(&out).assert().success();
}

#[test]
fn bad_data_and_options_are_refused_naming_them() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        ("period,surviving\n0,100\n1,90\n2,95\n", "rising.csv, row 4"),
        ("period,surviving\n1,90%\n2,120%\n", "over.csv, row 3"),
        ("", "empty.csv: is empty"),
        (
            "period,surviving\n0,50\n1,50\n",
            "flat.csv, row 3: cohort `all` never loses a customer",
        ),
    ];
    for (idx, (text, expected)) in cases.iter().enumerate() {
        let name = ["rising.csv", "over.csv", "empty.csv", "flat.csv"][idx];
        let file = dir.path().join(name);
        fs::write(&file, text).unwrap();
        relsim()
            .args(["calibrate", "default", "--retention"])
            .arg(&file)
            .arg("-o")
            .arg(dir.path().join("out.toml"))
            .assert()
            .code(2)
            .stderr(predicate::str::contains(*expected));
    }
    assert!(!dir.path().join("out.toml").exists());
    let good = repo("scenarios/calibration/subscription_cohorts.csv");
    // A destination that cannot take the result is refused before anything is simulated.
    for (out, expected) in [
        (dir.path().join("missing/out.toml"), "does not exist"),
        (dir.path().to_path_buf(), "is a folder"),
    ] {
        relsim()
            .args(["calibrate", "default", "--retention"])
            .arg(&good)
            .arg("-o")
            .arg(&out)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
    for (args, expected) in [
        (
            vec!["--strategy", "nobody"],
            "--strategy: `nobody` is not a strategy",
        ),
        (
            vec!["--fit", "market.nothing"],
            "--fit: `market.nothing` is not a key",
        ),
        (vec!["--fit", "name"], "not a number that can be fitted"),
        (
            vec!["--holdout", "12"],
            "--holdout: 12 must be at least 1 and below",
        ),
    ] {
        relsim()
            .args(["calibrate", "default", "--retention"])
            .arg(&good)
            .arg("-o")
            .arg(dir.path().join("out.toml"))
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(expected));
    }
}
