//! docs/teaching.md quotes what relsim gives with the dashboard's 16 replications; these tests
//! rerun the lessons' settings and check the figures the lessons state, so that a change of
//! the model or of a preset cannot leave a lesson telling a class something relsim no longer
//! says. (Lesson 2's stories are checked in tests/stories.rs.)

use std::collections::HashMap;
use std::process::Command;

/// Mean of each `(strategy, metric)` of `relsim run PRESET --replications 16 --set …`.
fn means(preset: &str, sets: &[&str]) -> HashMap<(String, String), f64> {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut command = Command::new(env!("CARGO_BIN_EXE_relsim"));
    command.args([
        "run",
        preset,
        "--replications",
        "16",
        "--no-plots",
        "--quiet",
        "--out",
    ]);
    command.arg(&out);
    for set in sets {
        command.args(["--set", set]);
    }
    assert!(command.status().unwrap().success());
    std::fs::read_to_string(out.join("summary.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (
                (fields[0].to_string(), fields[1].to_string()),
                fields[2].parse().unwrap(),
            )
        })
        .collect()
}

/// The mean of `metric` for `strategy` in `means`.
fn get(means: &HashMap<(String, String), f64>, strategy: &str, metric: &str) -> f64 {
    means[&(strategy.to_string(), metric.to_string())]
}

fn lesson() -> String {
    std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/teaching.md"),
    )
    .unwrap()
}

/// Fails listing every quote the lesson lacks, so that one run shows them all.
fn assert_lesson_says<const N: usize>(lesson: &str, quotes: [String; N]) {
    let missing: Vec<String> = quotes
        .into_iter()
        .filter(|quoted| !lesson.contains(quoted.as_str()))
        .collect();
    assert!(
        missing.is_empty(),
        "docs/teaching.md should say {missing:#?}"
    );
}

/// `value` in millions, to one decimal, as the lessons write it ("3.8 M").
fn millions(value: f64) -> String {
    format!("{:.1} M", value / 1e6)
}

fn percent(share: f64) -> String {
    format!("{:.1} %", share * 100.0)
}

#[test]
fn lesson_1_and_2_figures_are_what_relsim_gives() {
    let lesson = lesson();
    let base = means("default", &[]);
    let more_ads = means("default", &["strategies.0.acquisition_budget=60000"]);
    let no_recovery = means("default", &["strategies.1.recovery_rate=0"]);
    assert_lesson_says(
        &lesson,
        [
            percent(get(&base, "transactional", "retention")),
            percent(get(&base, "relationship", "retention")),
            format!(
                "NPV falls from {} to\n   {}",
                millions(get(&base, "transactional", "npv")),
                millions(get(&more_ads, "transactional", "npv"))
            ),
            format!(
                "NPV {} against {}",
                millions(get(&base, "relationship", "npv")),
                millions(get(&base, "transactional", "npv"))
            ),
            format!(
                "NPV from {} to {}",
                millions(get(&base, "relationship", "npv")),
                millions(get(&no_recovery, "relationship", "npv"))
            ),
            format!(
                "to {}",
                percent(get(&no_recovery, "relationship", "retention"))
            ),
        ],
    );
}

#[test]
fn lesson_3_figures_are_what_relsim_gives() {
    let lesson = lesson();
    let usual = means("b2b_it_services", &[]);
    let shortages = means("b2b_it_services", &["market.shortage_probability=0.3"]);
    let whole_millions = |value: f64| format!("{:.0} M", value / 1e6);
    assert_lesson_says(
        &lesson,
        [
            format!(
                "from about {} to {}",
                whole_millions(get(&usual, "transactional", "npv")),
                whole_millions(get(&shortages, "transactional", "npv"))
            ),
            format!(
                "retention from {} to {}",
                percent(get(&usual, "transactional", "retention")),
                percent(get(&shortages, "transactional", "retention"))
            ),
            format!(
                "from {} to {}",
                whole_millions(get(&usual, "relationship", "npv")),
                whole_millions(get(&shortages, "relationship", "npv"))
            ),
        ],
    );
}
