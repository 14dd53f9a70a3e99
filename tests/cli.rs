//! The command line as a user meets it: commands, output files, bad input, reproducibility.

use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;

#[path = "support/progress_stream.rs"]
mod progress_stream;
use progress_stream::{assert_progress_stream, progress_lines};
#[path = "support/time_split.rs"]
mod time_split;
use time_split::assert_time_split_recorded;
#[path = "support/relsim_binary.rs"]
mod relsim_binary;
use relsim_binary::relsim;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

/// Runs the small scenario into `out` with extra arguments; returns the folder.
fn run_small(out: &Path, extra: &[&str]) -> PathBuf {
    relsim()
        .arg("run")
        .arg(data("small.toml"))
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    out.to_path_buf()
}

const RESULT_CSVS: [&str; 4] = [
    "summary.csv",
    "comparisons.csv",
    "timeseries.csv",
    "runs.csv",
];

#[test]
fn run_prints_table_and_verdict_and_writes_every_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("small");
    relsim()
        .args([
            "run",
            data("small.toml").to_str().unwrap(),
            "--out",
            out.to_str().unwrap(),
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("NPV of profit"))
        .stdout(predicate::str::contains("customer lifetime value"))
        .stdout(predicate::str::contains("acquisition cost per customer"))
        .stdout(predicate::str::contains("monthly retention"))
        .stdout(predicate::str::contains("distributor commitment"))
        .stdout(predicate::str::contains("relationship − hybrid"))
        .stdout(predicate::str::contains("verdict: "));
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    assert!(summary.starts_with("strategy,metric,mean,sd,ci_low,ci_high,p05,p50,p95,n\n"));
    for metric in [
        "npv",
        "clv",
        "cac",
        "retention",
        "final_active",
        "customer_trust",
        "customer_commitment",
        "supplier_commitment",
        "distributor_commitment",
    ] {
        for strategy in ["transactional", "relationship", "hybrid"] {
            assert!(
                summary.contains(&format!("\n{strategy},{metric},")),
                "summary.csv lacks {strategy} {metric}"
            );
        }
    }
    let comparisons = fs::read_to_string(out.join("comparisons.csv")).unwrap();
    assert!(comparisons
        .starts_with("strategy_a,strategy_b,metric,mean_diff,ci_low,ci_high,p_a_better,n\n"));
    assert!(comparisons.contains("\ntransactional,relationship,npv,"));
    let timeseries = fs::read_to_string(out.join("timeseries.csv")).unwrap();
    assert!(timeseries.starts_with("strategy,period,metric,mean,sd,ci_low,ci_high,n\n"));
    assert!(timeseries.contains("\nhybrid,24,cumulative_npv,"));
    let runs = fs::read_to_string(out.join("runs.csv")).unwrap();
    assert!(runs.starts_with("strategy,replication,seed,npv,clv,cac,retention,"));
    assert_eq!(runs.lines().count(), 1 + 3 * 8);
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    for key in [
        "relsim_version",
        "scenario_sha256",
        "master_seed",
        "replications",
        "threads",
        "wall_time_seconds",
        "customer_steps",
        "customer_steps_per_second",
    ] {
        assert!(manifest.get(key).is_some(), "manifest lacks {key}");
    }
    assert_eq!(manifest["customer_steps"], 3000 * 24 * 3 * 8);
    assert_time_split_recorded(&out);
    assert_eq!(manifest["master_seed"], 99);
    assert_eq!(manifest["scenario_sha256"].as_str().unwrap().len(), 64);
    // No temporary files are left behind.
    let leftovers: Vec<_> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with('.'))
        .collect();
    assert!(leftovers.is_empty(), "{leftovers:?}");
}

#[test]
fn same_seed_twice_gives_identical_files() {
    let dir = tempfile::tempdir().unwrap();
    let first = run_small(&dir.path().join("a"), &[]);
    let second = run_small(&dir.path().join("b"), &[]);
    for file in RESULT_CSVS {
        assert_eq!(
            fs::read(first.join(file)).unwrap(),
            fs::read(second.join(file)).unwrap(),
            "{file} differs between two runs with the same seed"
        );
    }
}

/// Whatever the number of threads, the same bytes: for many small replications (spread over
/// threads replication by replication) and for one replication of a market of three chunks and
/// 17 customers (spread over threads chunk by chunk).
#[test]
fn thread_count_does_not_change_results() {
    let dir = tempfile::tempdir().unwrap();
    let population = format!(
        "market.population={}",
        3 * relsim::engine::CHUNK_CUSTOMERS + 17
    );
    let one_big_replication = [
        "--replications",
        "1",
        "--set",
        &population,
        "--set",
        "market.initial_active=5000",
    ];
    for (case, extra) in [("small", &[][..]), ("chunks", &one_big_replication[..])] {
        let run = |threads: &str| {
            let out = dir.path().join(format!("{case}-{threads}"));
            run_small(&out, &[&["--threads", threads][..], extra].concat())
        };
        let (one, two, three) = (run("1"), run("2"), run("3"));
        for file in RESULT_CSVS {
            let reference = fs::read(one.join(file)).unwrap();
            assert_eq!(
                reference,
                fs::read(two.join(file)).unwrap(),
                "{case}: {file}: 1 vs 2 threads"
            );
            assert_eq!(
                reference,
                fs::read(three.join(file)).unwrap(),
                "{case}: {file}: 1 vs 3 threads"
            );
        }
    }
}

#[test]
fn a_different_seed_gives_different_results() {
    let dir = tempfile::tempdir().unwrap();
    let a = run_small(&dir.path().join("a"), &[]);
    let b = run_small(&dir.path().join("b"), &["--seed", "100"]);
    assert_ne!(
        fs::read(a.join("runs.csv")).unwrap(),
        fs::read(b.join("runs.csv")).unwrap()
    );
}

#[test]
fn command_line_overrides_reach_the_simulation() {
    let dir = tempfile::tempdir().unwrap();
    let out = run_small(
        &dir.path().join("o"),
        &[
            "--replications",
            "3",
            "--set",
            "market.population=1000",
            "--set",
            "periods=12",
        ],
    );
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    assert_eq!(manifest["replications"], 3);
    assert_eq!(manifest["population"], 1000);
    assert_eq!(manifest["periods"], 12);
    assert_eq!(manifest["overrides"][0], "market.population=1000");
}

#[test]
fn presets_lists_every_bundled_scenario_with_its_description() {
    relsim()
        .arg("presets")
        .assert()
        .success()
        .stdout(predicate::str::contains("default"))
        .stdout(predicate::str::contains("b2b_it_services"))
        .stdout(predicate::str::contains("subscription_education"))
        .stdout(predicate::str::contains("mass_retail"))
        .stdout(predicate::str::contains("transactional marketing"));
}

#[test]
fn bundled_scenarios_on_disk_match_the_compiled_presets() {
    for name in [
        "default",
        "b2b_it_services",
        "subscription_education",
        "mass_retail",
    ] {
        let on_disk = fs::read_to_string(
            Path::new(env!("CARGO_MANIFEST_DIR")).join(format!("scenarios/{name}.toml")),
        )
        .unwrap();
        let dir = tempfile::tempdir().unwrap();
        let written = dir.path().join("copy.toml");
        relsim()
            .args(["init", name, "-o", written.to_str().unwrap()])
            .assert()
            .success()
            .stdout(predicate::str::contains("relsim run"));
        assert_eq!(fs::read_to_string(&written).unwrap(), on_disk);
    }
}

#[test]
fn init_refuses_to_overwrite_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    fs::write(&path, "keep me").unwrap();
    relsim()
        .args(["init", "default", "-o", path.to_str().unwrap()])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("--force"));
    assert_eq!(fs::read_to_string(&path).unwrap(), "keep me");
    relsim()
        .args(["init", "default", "-o", path.to_str().unwrap(), "--force"])
        .assert()
        .success();
    assert!(fs::read_to_string(&path)
        .unwrap()
        .contains("name = \"default\""));
}

#[test]
fn validate_prints_the_expanded_scenario() {
    relsim()
        .args(["validate", data("small.toml").to_str().unwrap()])
        .assert()
        .success()
        .stdout(predicate::str::contains("valid"))
        .stdout(predicate::str::contains("trust_gain = 0.15"))
        .stdout(predicate::str::contains("recovery_rate = 0.8"))
        .stdout(predicate::str::contains("kind = \"watts_strogatz\""));
}

#[test]
fn validate_accepts_a_preset_name_and_overrides() {
    relsim()
        .args([
            "validate",
            "b2b_it_services",
            "--set",
            "network={kind=\"mixed\"}",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind = \"mixed\""));
    // Setting the kind alone starts the table afresh: the small world's keys do not follow.
    relsim()
        .args(["validate", "b2b_it_services", "--set", "network.kind=mixed"])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind = \"mixed\""))
        .stdout(predicate::str::contains("mean_degree").not());
    // A new kind takes its own keys from later overrides.
    relsim()
        .args([
            "validate",
            "default",
            "--set",
            "network.kind=erdos_renyi",
            "--set",
            "network.mean_degree=6",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("kind = \"erdos_renyi\""));
}

/// Every example of every help text that runs or validates a scenario is accepted: its scenario
/// and overrides validate (issue: `relsim validate --help` once showed an example that failed).
#[test]
fn every_help_example_is_valid() {
    let commands = ["run", "validate", "plot", "init", "verify", "presets"];
    let mut checked = 0;
    let mut texts =
        vec![String::from_utf8(relsim().arg("--help").output().unwrap().stdout).unwrap()];
    for command in commands {
        let output = relsim().args([command, "--help"]).output().unwrap();
        texts.push(String::from_utf8(output.stdout).unwrap());
    }
    for text in &texts {
        for line in text.lines().map(str::trim) {
            let words: Vec<&str> = line.split_whitespace().collect();
            let ["relsim", "run" | "validate", scenario, rest @ ..] = words.as_slice() else {
                continue;
            };
            let mut args = vec!["validate".to_string(), scenario.to_string()];
            let mut words = rest.iter();
            while let Some(&word) = words.next() {
                match word {
                    "--set" => {
                        let value = words.next().expect("--set takes a value");
                        args.extend(["--set".to_string(), value.trim_matches('\'').to_string()]);
                    }
                    "--replications" | "--seed" => {
                        let value = words.next().expect("the option takes a value");
                        let key = word.trim_start_matches("--");
                        args.extend(["--set".to_string(), format!("{key}={value}")]);
                    }
                    _ => {}
                }
            }
            let output = relsim()
                .current_dir(env!("CARGO_MANIFEST_DIR"))
                .args(&args)
                .output()
                .unwrap();
            assert!(
                output.status.success(),
                "help example {line:?} fails: {}",
                String::from_utf8_lossy(&output.stderr)
            );
            checked += 1;
        }
    }
    assert!(checked >= 8, "only {checked} examples found");
}

#[test]
fn help_shows_an_example_for_each_command() {
    relsim()
        .arg("--help")
        .assert()
        .success()
        .stdout(predicate::str::contains("Examples:"));
    for command in ["run", "validate", "presets", "init"] {
        relsim()
            .args([command, "--help"])
            .assert()
            .success()
            .stdout(predicate::str::contains(format!("relsim {command}")));
    }
}

/// Every file under tests/data/bad/ is a scenario that must be refused with exit code 2 and a
/// one-line message holding each `|`-separated fragment of its first-line `# expect:` comment.
#[test]
fn bad_scenario_files_are_refused_with_a_message_naming_the_key() {
    let mut checked = 0;
    let mut entries: Vec<_> = fs::read_dir(data("bad"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    entries.sort();
    for path in entries {
        let text = fs::read_to_string(&path).unwrap();
        let expected = text
            .lines()
            .next()
            .and_then(|l| l.strip_prefix("# expect:"))
            .unwrap_or_else(|| panic!("{} has no '# expect:' line", path.display()));
        let fragments: Vec<&str> = expected.split('|').map(str::trim).collect();
        check_refused(&["validate", path.to_str().unwrap()], &fragments);
        checked += 1;
    }
    assert!(checked >= 20, "only {checked} bad-input files");
}

/// Bad command-line input: overrides, options, missing files and presets.
#[test]
fn bad_command_line_input_is_refused_with_a_clear_message() {
    let small = data("small.toml");
    let small = small.to_str().unwrap();
    let cases: &[(&[&str], &[&str])] = &[
        (
            &["run", small, "--set", "market.population=abc"],
            &["market.population", "whole number"],
        ),
        (
            &["run", small, "--set", "nonsense"],
            &["--set nonsense", "KEY=VALUE"],
        ),
        (
            &["run", small, "--set", "strategies.9.price_level=1"],
            &["strategies", "index 9"],
        ),
        (
            &["run", small, "--set", "market.shortage_probability=2"],
            &["market.shortage_probability", "between 0 and 1"],
        ),
        (
            &[
                "run",
                small,
                "--set",
                "heterogeneity.churn_concentration=1e16",
            ],
            &[
                "heterogeneity.churn_concentration",
                "at most 1e12",
                "inf for none",
            ],
        ),
        (
            &["run", small, "--set", "market.colour=2"],
            &["colour", "unknown field"],
        ),
        (
            &["run", small, "--replications", "0"],
            &["replications", "from 1"],
        ),
        (
            &["run", "no/such/file.toml"],
            &["no/such/file.toml", "no such file"],
        ),
        (&["run", "nowhere"], &["unknown preset", "mass_retail"]),
        (&["init", "nowhere"], &["unknown preset", "default"]),
    ];
    for (args, fragments) in cases {
        check_refused(args, fragments);
    }
}

#[test]
fn unknown_options_are_usage_errors() {
    relsim().args(["run", "default", "--fast"]).assert().code(2);
    relsim().arg("fly").assert().code(2);
}

fn check_refused(args: &[&str], fragments: &[&str]) {
    let output = relsim().args(args).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: exit code; stderr: {stderr}"
    );
    assert!(!stderr.contains("panicked"), "{args:?} panicked: {stderr}");
    assert_eq!(
        stderr.trim().lines().count(),
        1,
        "{args:?}: not one line: {stderr}"
    );
    assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
    for fragment in fragments {
        assert!(
            stderr.contains(fragment),
            "{args:?}: {stderr:?} lacks {fragment:?}"
        );
    }
}

#[test]
fn runs_too_large_for_this_machine_are_refused_without_allow_large() {
    let output = relsim()
        .args([
            "run",
            "default",
            "--set",
            "market.population=50000000",
            "--set",
            "network.mean_degree=200",
            "--threads",
            "64",
            "--quiet",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("--allow-large"), "{stderr}");
    assert!(stderr.contains("MiB"), "{stderr}");
}

/// The smaller problems of the issue "Results you can trust on disk", each as a user met it.
#[test]
fn messages_name_what_the_user_typed_in_their_words() {
    let small = data("small.toml");
    let small = small.to_str().unwrap();
    // A shortcut is named as typed, not as `--set`.
    let output = relsim()
        .args(["run", small, "--replications", "0"])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr.contains("with --replications"), "{stderr}");
    assert!(!stderr.contains("--set"), "{stderr}");
    // No Rust type names, and an overflowing integer names its key.
    for (args, fragments) in [
        (
            &["validate", small, "--set", "market.population=abc"][..],
            &["market.population", "whole number"][..],
        ),
        (
            &["validate", small, "--set", "periods=99999999999999999999"],
            &["periods", "whole number"],
        ),
        (
            &["validate", small, "--set", "strategies.0.price_level=cheap"],
            &["price_level", "expected a number"],
        ),
        (
            &["validate", small, "--set", "segments=5"],
            &["segments", "a list"],
        ),
    ] {
        check_refused(args, fragments);
        let stderr =
            String::from_utf8_lossy(&relsim().args(args).output().unwrap().stderr).into_owned();
        for rust in ["u32", "u64", "f64", "usize", "sequence"] {
            assert!(!stderr.contains(rust), "{args:?}: {stderr}");
        }
    }
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("overflow.toml");
    fs::write(&file, "name = \"x\"\nperiods = 99999999999999999999\n").unwrap();
    check_refused(
        &["validate", file.to_str().unwrap()],
        &["overflow.toml:2", "periods"],
    );
    // Money is bounded, and shown in a readable form.
    check_refused(
        &["validate", small, "--set", "market.fixed_cost=1e300"],
        &["market.fixed_cost", "1e12", "got 1e300"],
    );
}

#[test]
fn validate_says_when_segment_shares_are_rescaled() {
    relsim()
        .args(["validate", "default", "--set", "segments.0.share=0.5"])
        .assert()
        .success()
        .stdout(predicate::str::contains(
            "# note: segment shares sum to 1.45",
        ));
    relsim()
        .args(["validate", "default"])
        .assert()
        .success()
        .stdout(predicate::str::contains("note:").not());
}

#[test]
fn one_replication_is_singular_and_the_table_fits_eighty_columns() {
    let dir = tempfile::tempdir().unwrap();
    relsim()
        .env("COLUMNS", "80")
        .args([
            "run",
            data("small.toml").to_str().unwrap(),
            "--replications",
            "1",
        ])
        .args(["--no-plots", "--out"])
        .arg(dir.path().join("one"))
        .assert()
        .success()
        .stdout(predicate::str::contains("1 replication ×"))
        .stdout(predicate::str::contains("over 1 replication\n"))
        .stdout(predicate::function(|text: &str| {
            // Every table line fits; the verdict and pair lines are sentences that may wrap.
            text.lines()
                .filter(|line| !line.starts_with("  ") && !line.starts_with("verdict"))
                .filter(|line| !line.starts_with("relsim ·"))
                .all(|line| line.chars().count() <= 80)
        }));
}

#[test]
fn shell_completions_and_manual_pages_are_generated() {
    for (shell, marker) in [
        ("bash", "_relsim()"),
        ("zsh", "#compdef relsim"),
        ("fish", "complete -c relsim"),
    ] {
        relsim()
            .args(["completions", shell])
            .assert()
            .success()
            .stdout(predicate::str::contains(marker))
            .stdout(predicate::str::contains("validate"))
            .stdout(predicate::str::contains("replications"));
    }
    relsim().args(["completions", "tcsh"]).assert().code(2);
    relsim()
        .arg("manpage")
        .assert()
        .success()
        .stdout(predicate::str::starts_with(".ie"))
        .stdout(predicate::str::contains(".TH relsim 1"));
    let dir = tempfile::tempdir().unwrap();
    relsim()
        .args(["manpage", "--out"])
        .arg(dir.path())
        .assert()
        .success()
        .stdout(predicate::str::contains("17 manual pages"));
    let run_page = fs::read_to_string(dir.path().join("relsim-run.1")).unwrap();
    assert!(run_page.contains(".TH relsim-run 1"), "{run_page}");
    assert!(run_page.contains("no\\-plots"), "{run_page}");
    for command in [
        "run",
        "merge",
        "slurm",
        "sweep",
        "breakeven",
        "decompose",
        "calibrate",
        "plot",
        "serve",
        "stories",
        "validate",
        "presets",
        "verify",
        "init",
        "completions",
        "manpage",
    ] {
        assert!(
            dir.path().join(format!("relsim-{command}.1")).exists(),
            "{command}"
        );
    }
}

#[test]
fn progress_json_streams_one_object_per_line_even_when_quiet() {
    let dir = tempfile::tempdir().unwrap();
    let assert = relsim()
        .arg("run")
        .arg(data("small.toml"))
        .args([
            "--replications",
            "5",
            "--no-plots",
            "--quiet",
            "--progress",
            "json",
        ])
        .arg("--out")
        .arg(dir.path().join("out"))
        .assert()
        .success()
        .stdout(predicate::str::is_empty());
    let lines = progress_lines(&assert.get_output().stderr);
    assert_progress_stream(&lines, "replications", 5);
    // `none` shows nothing, even without --quiet (apart from the report on stdout).
    relsim()
        .arg("run")
        .arg(data("small.toml"))
        .args(["--replications", "2", "--no-plots", "--progress", "none"])
        .arg("--out")
        .arg(dir.path().join("none"))
        .assert()
        .success()
        .stderr(predicate::str::is_empty());
    relsim()
        .arg("run")
        .arg(data("small.toml"))
        .args(["--progress", "xml"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("possible values: bar, json, none"));
}
