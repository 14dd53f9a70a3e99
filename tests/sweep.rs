//! Sweeps (docs/sweeps.md): a point runs exactly as `relsim run` with its values, threads change
//! nothing, bad designs are refused naming the key, the bundled studies are valid, and Sobol
//! indices of a sweep with a closed form match the indices of that closed form.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use relsim::experiment::{run_sweep, simulate_replication, ExecutionOptions};
use relsim::model::economics::per_period_discount_rate;
use relsim::model::math::logistic;
use relsim::results::points::PointStream;
use relsim::scenario::{parse, Override};
use relsim::stats::sensitivity::{sobol_indices, SaltelliOutputs};
use relsim::sweep::analysis::sensitivity;
use relsim::sweep::design::Layout;
use relsim::sweep::PreparedSweep;

#[path = "support/progress_stream.rs"]
mod progress_stream;
use progress_stream::{assert_progress_stream, progress_lines};
#[path = "support/time_split.rs"]
mod time_split;
use time_split::assert_time_split_recorded;
#[path = "support/relsim_binary.rs"]
mod relsim_binary;
use relsim_binary::relsim;

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

/// The small test market with a three-point list design over two keys.
fn small_sweep(dir: &Path) -> PathBuf {
    let mut text = fs::read_to_string(repo("tests/data/small.toml")).unwrap();
    text.push_str(
        r#"
[design]
kind = "list"

[[vary]]
key = "market.word_of_mouth"
values = [0.01, 0.02, 0.04]

[[vary]]
key = "strategies.1.price_level"
values = [0.95, 1.0, 1.05]
"#,
    );
    let path = dir.join("small_sweep.toml");
    fs::write(&path, text).unwrap();
    path
}

/// `runs.csv` rows as maps from column to field.
fn rows(path: &Path) -> Vec<BTreeMap<String, String>> {
    let text = fs::read_to_string(path).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    lines
        .map(|line| {
            header
                .iter()
                .zip(line.split(','))
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect()
        })
        .collect()
}

#[test]
fn every_point_runs_bit_for_bit_as_relsim_run_with_its_values() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let out = dir.path().join("sweep");
    relsim()
        .args(["sweep", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let swept = rows(&out.join("runs.csv"));
    assert_eq!(swept.len(), 3 * 8 * 3);
    for (point, (wom, price)) in [
        ("0", "0.01", "0.95"),
        ("1", "0.02", "1"),
        ("2", "0.04", "1.05"),
    ]
    .iter()
    .map(|(p, w, q)| (p, (w, q)))
    {
        let single = dir.path().join(format!("run_{point}"));
        relsim()
            .args([
                "run",
                file.to_str().unwrap(),
                "--quiet",
                "--no-plots",
                "--out",
            ])
            .arg(&single)
            .args(["--set", &format!("market.word_of_mouth={wom}")])
            .args(["--set", &format!("strategies.1.price_level={price}")])
            .assert()
            .success();
        let alone = rows(&single.join("runs.csv"));
        let at_point: Vec<_> = swept.iter().filter(|r| r["point"] == *point).collect();
        assert_eq!(at_point.len(), alone.len());
        for row in &alone {
            let twin = at_point
                .iter()
                .find(|r| {
                    r["strategy"] == row["strategy"] && r["replication"] == row["replication"]
                })
                .expect("the sweep has every run");
            for (column, value) in row {
                assert_eq!(&twin[column], value, "point {point}, column {column}");
            }
            assert_eq!(twin["market.word_of_mouth"], *wom);
        }
    }
    // The tidy files are all there, and the manifest names the design.
    for name in [
        "points.csv",
        "sensitivity.csv",
        "robustness.csv",
        "seed_noise.csv",
        "scenario.toml",
        "manifest.json",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }
    let manifest = fs::read_to_string(out.join("manifest.json")).unwrap();
    assert!(manifest.contains("\"design_sha256\""));
    assert!(manifest.contains("\"kind\": \"list\""));
    assert_time_split_recorded(&out);
    // `relsim plot` redraws runs, not sweeps, and says so.
    relsim()
        .arg("plot")
        .arg(&out)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("relsim sweep"));
}

/// Points that vary only levers share each replication's world (docs/sweeps.md); points that
/// vary the model build their own. Either way every unit is what the point's scenario gives on
/// its own, bit for bit, in a design that mixes both kinds of point across batches.
#[test]
fn points_that_share_worlds_run_as_they_would_alone() {
    let text = fs::read_to_string(repo("tests/data/small.toml")).unwrap();
    // 300 points: more than one batch, the model changing only at the 100th and 200th.
    let prices: Vec<String> = (0..300)
        .map(|i| format!("{:.4}", 0.9 + 0.2 * (i % 100) as f64 / 99.0))
        .collect();
    let word_of_mouth: Vec<&str> = (0..300)
        .map(|i| ["0.01", "0.02", "0.03"][i / 100])
        .collect();
    let overrides: Vec<Override> = [
        "replications=2".to_string(),
        "periods=6".to_string(),
        "design={kind=\"list\"}".to_string(),
        format!(
            "vary=[{{key=\"strategies.1.price_level\", values=[{}]}}, \
             {{key=\"market.word_of_mouth\", values=[{}]}}]",
            prices.join(","),
            word_of_mouth.join(",")
        ),
    ]
    .iter()
    .map(|o| Override::parse(o).unwrap())
    .collect();
    let scenario = parse(&text, "small", &overrides).unwrap();
    let sweep = PreparedSweep::new(&scenario, "small").unwrap();
    let mut units = Vec::new();
    run_sweep(
        &scenario,
        &sweep,
        &ExecutionOptions::default(),
        &mut |unit| {
            units.push(unit);
            Ok(())
        },
        &|| {},
    )
    .unwrap();
    assert_eq!(units.len(), 600);
    for unit in units.iter().step_by(7) {
        let alone = sweep.scenario_at(&scenario, unit.point as usize).unwrap();
        // Bit patterns, so that a metric that does not exist (NaN) compares equal to itself.
        let bits = |metrics: &[relsim::engine::RunMetrics]| -> Vec<u64> {
            metrics
                .iter()
                .flat_map(|m| m.values().map(f64::to_bits))
                .collect()
        };
        let expected: Vec<_> = simulate_replication(&alone, unit.replication)
            .into_iter()
            .map(|r| r.output.metrics)
            .collect();
        assert_eq!(bits(&unit.metrics), bits(&expected), "point {}", unit.point);
    }
}

#[test]
fn the_thread_count_changes_no_file_of_a_sweep() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let folders: Vec<PathBuf> = ["1", "2"]
        .iter()
        .map(|threads| {
            let out = dir.path().join(format!("threads_{threads}"));
            relsim()
                .args([
                    "sweep",
                    file.to_str().unwrap(),
                    "--quiet",
                    "--threads",
                    threads,
                ])
                .args(["--set", "design={kind=\"sobol\", samples=4}"])
                .args([
                    "--set",
                    "vary.0={key=\"market.word_of_mouth\", uniform=[0.01, 0.04]}",
                ])
                .args([
                    "--set",
                    "vary.1={key=\"strategies.1.price_level\", normal=[1.0, 0.05]}",
                ])
                .arg("--out")
                .arg(&out)
                .assert()
                .success();
            out
        })
        .collect();
    for name in [
        "runs.csv",
        "points.csv",
        "sensitivity.csv",
        "robustness.csv",
        "seed_noise.csv",
        "scenario.toml",
    ] {
        assert_eq!(
            fs::read(folders[0].join(name)).unwrap(),
            fs::read(folders[1].join(name)).unwrap(),
            "{name}"
        );
    }
    let sensitivity = fs::read_to_string(folders[0].join("sensitivity.csv")).unwrap();
    assert!(
        sensitivity.starts_with("metric,strategy,parameter,method,index,estimate,ci_low,ci_high\n")
    );
    assert!(sensitivity.contains(",sobol,ST,"));
}

#[test]
fn bad_designs_are_refused_naming_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let file = file.to_str().unwrap();
    for (sets, fragments) in [
        (
            vec!["vary.0.key=market.word_of_muoth"],
            vec!["vary[0]", "market.word_of_muoth"],
        ),
        (
            vec!["vary.0={key=\"market.base_failure\", values=[0.1, 0.2, 2.0]}"],
            vec!["vary[0]", "market.base_failure = 2", "between 0 and 1"],
        ),
        (
            vec!["design={kind=\"sobol\", samples=100}"],
            vec!["design.samples", "power of two"],
        ),
        (
            vec!["vary.1.values=[1.0]"],
            vec!["vary[1].values", "as many values"],
        ),
    ] {
        let mut command = relsim();
        command.args(["sweep", file, "--quiet", "--out"]);
        command.arg(dir.path().join("never"));
        for set in &sets {
            command.args(["--set", set]);
        }
        let assert = command.assert().code(2);
        let stderr = String::from_utf8_lossy(&assert.get_output().stderr).to_string();
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{sets:?}: {stderr}");
        }
        assert!(!dir.path().join("never").exists());
    }
    // A scenario without a design.
    relsim()
        .args(["sweep", "default", "--quiet", "--out"])
        .arg(dir.path().join("never"))
        .assert()
        .code(2)
        .stderr(predicate::str::contains("[design]"));
}

#[test]
fn every_bundled_study_is_a_valid_design() {
    let mut found = 0;
    for entry in fs::read_dir(repo("scenarios/sweeps")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "toml") {
            continue;
        }
        let text = fs::read_to_string(&path).unwrap();
        let name = path.display().to_string();
        let scenario = parse(&text, &name, &[]).unwrap_or_else(|err| panic!("{name}: {err}"));
        assert!(scenario.design().is_some(), "{name} has no [design]");
        PreparedSweep::new(&scenario, &name).unwrap_or_else(|err| panic!("{name}: {err}"));
        found += 1;
    }
    assert!(found >= 3, "scenarios/sweeps holds {found} studies");
}

/// A Sobol sweep of the frozen CLV scenario over retention and value: its CLV is
/// `m/(1 + d − r)` with `m = 0.4·value`, `r = 1 − logistic(baseline)` at every point, so the
/// indices estimated from the simulation must match those of the closed form at the same
/// points (up to the simulation's seed noise).
#[test]
fn sobol_indices_of_a_frozen_clv_sweep_follow_the_closed_form() {
    let text = fs::read_to_string(repo("scenarios/verify/frozen.toml")).unwrap();
    let overrides: Vec<Override> = [
        "market.population=2000",
        "market.initial_active=2000",
        "periods=120",
        "replications=2",
        "design={kind=\"sobol\", samples=64, seed=5}",
        "vary=[{key=\"defection.baseline\", uniform=[-2.944, -1.386]}, \
         {key=\"segments.0.value\", uniform=[50.0, 150.0]}]",
    ]
    .iter()
    .map(|o| Override::parse(o).unwrap())
    .collect();
    let scenario = parse(&text, "frozen", &overrides).unwrap();
    let sweep = PreparedSweep::new(&scenario, "frozen").unwrap();
    let mut summaries = PointStream::new(
        sweep.points.len(),
        1,
        scenario.replications() as u64,
        tempfile::tempfile().unwrap(),
    );
    run_sweep(
        &scenario,
        &sweep,
        &ExecutionOptions::default(),
        &mut |unit| {
            summaries.push(&unit).unwrap();
            Ok(())
        },
        &|| {},
    )
    .unwrap();
    let results = summaries.finish().unwrap();
    let names = vec!["constant".to_string()];
    let simulated: Vec<_> = sensitivity(&sweep, &results, &names)
        .unwrap()
        .into_iter()
        .filter(|r| r.metric == "clv")
        .collect();
    // The closed form at the same points.
    let d = per_period_discount_rate(0.10, 12.0);
    let exact: Vec<f64> = (0..sweep.points.len())
        .map(|p| {
            let values = sweep.values(p);
            let baseline = values[0].as_float().unwrap();
            let value = values[1].as_float().unwrap();
            let r = 1.0 - logistic(baseline);
            0.4 * value / (1.0 + d - r)
        })
        .collect();
    assert!(matches!(sweep.layout, Layout::Saltelli { .. }));
    let rows: Vec<&[f64]> = exact.chunks(4).collect();
    let a: Vec<f64> = rows.iter().map(|r| r[0]).collect();
    let b: Vec<f64> = rows.iter().map(|r| r[3]).collect();
    let ab: Vec<Vec<f64>> = (0..2)
        .map(|i| rows.iter().map(|r| r[1 + i]).collect())
        .collect();
    let closed_form = sobol_indices(
        &SaltelliOutputs {
            a: &a,
            b: &b,
            ab: &ab,
        },
        1,
    );
    for (p, key) in ["defection.baseline", "segments.0.value"]
        .iter()
        .enumerate()
    {
        for (index, expected) in [
            ("S1", closed_form[p].first_order.estimate),
            ("ST", closed_form[p].total.estimate),
        ] {
            let found = simulated
                .iter()
                .find(|r| r.parameter == *key && r.index == index)
                .unwrap();
            assert!(
                (found.estimate.estimate - expected).abs() < 0.05,
                "{key} {index}: simulated {:?}, closed form {expected}",
                found.estimate
            );
        }
    }
    // Retention moves CLV more than value does over these ranges.
    assert!(closed_form[0].total.estimate > closed_form[1].total.estimate);
}

/// Relationship's price level moves its NPV and nothing of transactional's, so their difference
/// crosses zero once; `relsim breakeven` finds it inside the grid, with an interval around it,
/// and writes its files and chart.
#[test]
fn breakeven_finds_the_price_at_which_two_strategies_earn_the_same() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("be");
    let assert = relsim()
        .args(["breakeven", repo("tests/data/small.toml").to_str().unwrap()])
        .args([
            "--vary",
            "strategies.1.price_level",
            "--between",
            "0.5",
            "1.5",
        ])
        .args([
            "--pair",
            "relationship,transactional",
            "--points",
            "9",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let stdout = String::from_utf8_lossy(&assert.get_output().stdout).to_string();
    assert!(
        stdout.contains("break-even: strategies.1.price_level = "),
        "{stdout}"
    );
    let crossings = fs::read_to_string(out.join("crossings.csv")).unwrap();
    let mut lines = crossings.lines();
    assert_eq!(lines.next(), Some("key,crossing,ci_low,ci_high,direction"));
    let fields: Vec<&str> = lines.next().expect("one crossing").split(',').collect();
    let (at, low, high): (f64, f64, f64) = (
        fields[1].parse().unwrap(),
        fields[2].parse().unwrap(),
        fields[3].parse().unwrap(),
    );
    assert!(
        0.5 < low && low <= at && at <= high && high < 1.5,
        "{crossings}"
    );
    assert_eq!(fields[4], "rising");
    // The profile: nine points, the difference rising with the price.
    let profile = fs::read_to_string(out.join("breakeven.csv")).unwrap();
    let means: Vec<f64> = profile
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().parse().unwrap())
        .collect();
    assert_eq!(means.len(), 9);
    assert!(means[0] < 0.0 && means[8] > 0.0);
    for name in [
        "breakeven.png",
        "breakeven.svg",
        "runs.csv",
        "manifest.json",
    ] {
        assert!(out.join(name).is_file(), "{name}");
    }
}

#[test]
fn breakeven_refuses_bad_options_naming_them() {
    let small = repo("tests/data/small.toml");
    let small = small.to_str().unwrap();
    for (args, fragment) in [
        (
            vec![
                "--vary",
                "market.cogs_share",
                "--between",
                "0.4",
                "0.8",
                "--pair",
                "relationship,loyal",
            ],
            "--pair",
        ),
        (
            vec![
                "--vary",
                "market.cogs_share",
                "--between",
                "0.8",
                "0.4",
                "--pair",
                "relationship,hybrid",
            ],
            "--between",
        ),
        (
            vec![
                "--vary",
                "market.cogs_share",
                "--between",
                "0.4",
                "1.5",
                "--pair",
                "relationship,hybrid",
            ],
            "market.cogs_share",
        ),
        (
            vec![
                "--vary",
                "market.cogs_share",
                "--between",
                "0.4",
                "0.8",
                "--pair",
                "relationship,hybrid",
                "--points",
                "2",
            ],
            "--points",
        ),
    ] {
        relsim()
            .args(["breakeven", small, "--quiet"])
            .args(&args)
            .assert()
            .code(2)
            .stderr(predicate::str::contains(fragment));
    }
}

/// The contributions of `relsim decompose` add up to the gap `relsim run` measures between the
/// same two strategies on the same replications, and a single differing lever takes all of it.
#[test]
fn lever_contributions_add_up_to_the_gap_relsim_run_measures() {
    let dir = tempfile::tempdir().unwrap();
    let small = repo("tests/data/small.toml");
    let small = small.to_str().unwrap();
    let out = dir.path().join("dec");
    relsim()
        .args([
            "decompose",
            small,
            "--quiet",
            "--pair",
            "relationship,transactional",
        ])
        .args(["--orders", "6", "--out"])
        .arg(&out)
        .assert()
        .success();
    let levers = fs::read_to_string(out.join("levers.csv")).unwrap();
    let total: f64 = levers
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(3).unwrap().parse::<f64>().unwrap())
        .sum();
    assert!(levers.lines().count() > 5, "{levers}");
    let run = dir.path().join("run");
    relsim()
        .args(["run", small, "--quiet", "--no-plots", "--out"])
        .arg(&run)
        .assert()
        .success();
    let comparisons = fs::read_to_string(run.join("comparisons.csv")).unwrap();
    let gap: f64 = comparisons
        .lines()
        .find(|l| l.starts_with("transactional,relationship,npv,"))
        .map(|l| -l.split(',').nth(3).unwrap().parse::<f64>().unwrap())
        .expect("the pair's NPV comparison");
    assert!(
        (total - gap).abs() <= 1e-6 * gap.abs(),
        "contributions {total} against the gap {gap}"
    );
    // Relationship and hybrid differ in targeting only.
    let out = dir.path().join("dec2");
    relsim()
        .args([
            "decompose",
            small,
            "--quiet",
            "--pair",
            "relationship,hybrid",
            "--out",
        ])
        .arg(&out)
        .assert()
        .success();
    let levers = fs::read_to_string(out.join("levers.csv")).unwrap();
    let rows: Vec<&str> = levers.lines().skip(1).collect();
    assert_eq!(rows.len(), 1);
    assert!(
        rows[0].starts_with("target_min_value,0.0,200.0,"),
        "{levers}"
    );
    assert!(rows[0].ends_with(",1"), "{levers}");
}

/// `runs.parquet` holds the rows and columns of `runs.csv`, and every value of it.
#[test]
fn runs_parquet_holds_what_runs_csv_holds() {
    use parquet::file::reader::{FileReader, SerializedFileReader};
    use parquet::record::Field;
    let dir = tempfile::tempdir().unwrap();
    let file = small_sweep(dir.path());
    let out = dir.path().join("sweep");
    relsim()
        .args(["sweep", file.to_str().unwrap(), "--quiet", "--out"])
        .arg(&out)
        .assert()
        .success();
    let csv = rows(&out.join("runs.csv"));
    let reader = SerializedFileReader::new(fs::File::open(out.join("runs.parquet")).unwrap())
        .expect("runs.parquet is a Parquet file");
    let schema = reader.metadata().file_metadata().schema_descr();
    let columns: Vec<String> = schema
        .columns()
        .iter()
        .map(|c| c.name().to_string())
        .collect();
    let header: Vec<String> = fs::read_to_string(out.join("runs.csv"))
        .unwrap()
        .lines()
        .next()
        .unwrap()
        .split(',')
        .map(String::from)
        .collect();
    assert_eq!(columns, header);
    let parquet_rows: Vec<_> = reader
        .get_row_iter(None)
        .unwrap()
        .map(|r| r.unwrap())
        .collect();
    assert_eq!(parquet_rows.len(), csv.len());
    for (row, expected) in parquet_rows.iter().zip(&csv) {
        for (name, field) in row.get_column_iter() {
            let shown = match field {
                Field::Null => String::new(),
                Field::Double(x) => x.to_string(),
                Field::Long(i) => i.to_string(),
                Field::ULong(u) => u.to_string(),
                Field::Str(s) => s.clone(),
                other => other.to_string(),
            };
            assert_eq!(&shown, &expected[name], "column {name}");
        }
    }
}

/// `relsim sweep`, `breakeven` and `decompose` work on every bundled scenario (small markets,
/// one replication, so the test stays quick).
#[test]
fn sweep_breakeven_and_decompose_work_on_every_bundled_scenario() {
    let dir = tempfile::tempdir().unwrap();
    let small = [
        "--replications",
        "1",
        "--set",
        "market.population=1500",
        "--set",
        "market.initial_active=150",
        "--set",
        "periods=12",
    ];
    for preset in [
        "default",
        "b2b_it_services",
        "subscription_education",
        "mass_retail",
    ] {
        let out = |what: &str| dir.path().join(format!("{preset}_{what}"));
        relsim()
            .args(["sweep", preset, "--quiet"])
            .args(small)
            .args(["--set", "design={kind=\"lhs\", samples=3}"])
            .args([
                "--set",
                "vary=[{key=\"market.word_of_mouth\", uniform=[0.01, 0.03]}]",
            ])
            .arg("--out")
            .arg(out("sweep"))
            .assert()
            .success();
        relsim()
            .args(["breakeven", preset, "--quiet", "--points", "3"])
            .args(["--vary", "market.cogs_share", "--between", "0.4", "0.8"])
            .args(["--pair", "relationship,transactional"])
            .args(small)
            .arg("--out")
            .arg(out("breakeven"))
            .assert()
            .success();
        relsim()
            .args(["decompose", preset, "--quiet", "--orders", "2"])
            .args(["--pair", "relationship,transactional"])
            .args(small)
            .arg("--out")
            .arg(out("decompose"))
            .assert()
            .success();
        for (what, file) in [
            ("sweep", "robustness.csv"),
            ("breakeven", "breakeven.png"),
            ("decompose", "levers.csv"),
        ] {
            assert!(
                out(what).join(file).is_file(),
                "{preset}: {what} wrote no {file}"
            );
        }
    }
}

/// A sweep's `--progress json` counts point-replications: the list design's 3 points × 2
/// replications.
#[test]
fn a_sweep_streams_its_progress_as_json_lines() {
    let dir = tempfile::tempdir().unwrap();
    let assert = relsim()
        .arg("sweep")
        .arg(small_sweep(dir.path()))
        .args([
            "--replications",
            "2",
            "--no-plots",
            "--quiet",
            "--progress",
            "json",
        ])
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .success();
    let lines = progress_lines(&assert.get_output().stderr);
    assert_progress_stream(&lines, "point-replications", 6);
}
