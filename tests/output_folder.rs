//! Results on disk as a user meets them (issue "Results you can trust on disk"): every number
//! of strategies end to end, runs sharing a folder, stale and foreign folders, the output
//! location checked before simulating, interrupts and broken pipes.

use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command as Process, Stdio};
use std::time::Duration;

use predicates::prelude::*;

#[path = "support/child_process.rs"]
mod child_process;
use child_process::stop_by_signal;
#[path = "support/relsim_binary.rs"]
mod relsim_binary;
use relsim_binary::{relsim, relsim_binary};

fn small() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/small.toml")
        .display()
        .to_string()
}

/// `relsim run` of the small scenario into `out`, quietly, with `extra` arguments; it must
/// succeed.
fn run_small(out: &Path, extra: &[&str]) {
    relsim()
        .args(["run", &small(), "--quiet", "--out"])
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

/// The entries of a folder, sorted.
fn entries(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

/// Every chart and report file a run with plots writes.
const DRAWN: [&str; 13] = [
    "costs.png",
    "costs.svg",
    "customers.png",
    "customers.svg",
    "npv_distribution.png",
    "npv_distribution.svg",
    "profit.png",
    "profit.svg",
    "relationships.png",
    "relationships.svg",
    "report.html",
    "retention.png",
    "retention.svg",
];

/// `strategies=[…]` with `n` strategies named `name_of(idx)`.
fn strategies_override(n: usize, name_of: impl Fn(usize) -> String) -> String {
    let presets = ["transactional", "relationship", "hybrid"];
    let tables: Vec<String> = (0..n)
        .map(|idx| {
            format!(
                "{{preset=\"{}\",name=\"{}\"}}",
                presets[idx % 3],
                name_of(idx)
            )
        })
        .collect();
    format!("strategies=[{}]", tables.join(","))
}

#[test]
fn one_to_sixteen_strategies_run_and_plot_end_to_end() {
    let dir = tempfile::tempdir().unwrap();
    for n in [1usize, 2, 6, 16] {
        // The longest names allowed, and all of them distinct.
        let name_of = |idx: usize| format!("{idx:02} {}", "x".repeat(29));
        let out = dir.path().join(format!("n{n}"));
        relsim()
            .args(["run", &small(), "--replications", "3", "--quiet", "--out"])
            .arg(&out)
            .args(["--set", &strategies_override(n, name_of)])
            .assert()
            .success();
        let names = entries(&out);
        for file in DRAWN {
            assert!(
                names.contains(&file.to_string()),
                "{n} strategies: no {file}"
            );
        }
        // Every strategy is in the legend and in the report.
        let svg = fs::read_to_string(out.join("retention.svg")).unwrap();
        let report = fs::read_to_string(out.join("report.html")).unwrap();
        for idx in 0..n {
            assert!(svg.contains(&name_of(idx)), "{n}: legend lacks {idx}");
            assert!(report.contains(&name_of(idx)), "{n}: report lacks {idx}");
        }
        // Its speed line says, as the terminal does, how much of the time built worlds.
        assert!(
            report.contains("of them active;") && report.contains("% of it building worlds)"),
            "{n}: the report's speed line lacks the worlds' share"
        );
        if n == 16 {
            // Strategies repeat presets, so the two best are the same policy: an exact tie is
            // said as such, and only the leader's pairs are listed.
            assert!(
                report.contains("tie exactly"),
                "{n}: no exact tie in the verdict"
            );
            assert!(report.contains("only the pairs with the leader are listed"));
        }
        // Charts can be redrawn from the files alone.
        relsim().arg("plot").arg(&out).assert().success();
    }
}

#[test]
fn a_single_strategy_gets_a_verdict_without_a_comparison() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("one");
    relsim()
        .args(["run", "default", "--replications", "3", "--out"])
        .arg(&out)
        .args([
            "--set",
            "strategies=[{preset=\"hybrid\"}]",
            "--set",
            "market.population=4000",
            "--set",
            "market.initial_active=400",
        ])
        .assert()
        .success()
        .stdout(predicate::str::contains("3 replications × 1 strategy"))
        .stdout(predicate::str::contains("hybrid is the only strategy"));
    relsim()
        .arg("plot")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("6 charts"));
}

#[test]
fn names_longer_than_allowed_are_refused() {
    let too_long = strategies_override(1, |_| "y".repeat(33));
    let output = relsim()
        .args(["validate", &small(), "--set", &too_long])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("strategies[0].name"), "{stderr}");
    assert!(stderr.contains("1 to 32 characters"), "{stderr}");
}

#[test]
fn runs_sharing_a_folder_leave_one_whole_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("shared");
    let children: Vec<_> = (1..=4)
        .map(|seed| {
            Process::new(relsim_binary())
                .args(["run", &small(), "--quiet", "--seed", &seed.to_string()])
                .arg("--out")
                .arg(&out)
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let output = child.wait_with_output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    // The folder is one run: plot accepts it (every file matches the manifest), the runs
    // carry the seed the manifest names, and nothing is left beside it.
    relsim().arg("plot").arg(&out).assert().success();
    let manifest: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(out.join("manifest.json")).unwrap()).unwrap();
    let seed = manifest["master_seed"].as_u64().unwrap();
    let reference = dir.path().join("reference");
    run_small(&reference, &["--no-plots", "--seed", &seed.to_string()]);
    for file in ["summary.csv", "runs.csv", "timeseries.csv"] {
        assert_eq!(
            fs::read(out.join(file)).unwrap(),
            fs::read(reference.join(file)).unwrap(),
            "{file} is not the run of seed {seed}"
        );
    }
    assert_eq!(entries(dir.path()), ["reference", "shared"]);
}

#[test]
fn a_run_without_plots_leaves_no_earlier_charts_behind() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &[]);
    assert!(out.join("report.html").exists());
    run_small(&out, &["--no-plots", "--seed", "5"]);
    assert_eq!(
        entries(&out),
        [
            "comparisons.csv",
            "manifest.json",
            "runs.csv",
            "scenario.toml",
            "summary.csv",
            "timeseries.csv"
        ]
    );
}

#[test]
fn a_folder_relsim_did_not_write_is_refused_unless_forced() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("mine");
    fs::create_dir(&out).unwrap();
    fs::write(out.join("summary.csv"), "my own numbers\n").unwrap();
    let output = relsim()
        .args(["run", &small(), "--quiet", "--out"])
        .arg(&out)
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("relsim did not write"), "{stderr}");
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(
        fs::read_to_string(out.join("summary.csv")).unwrap(),
        "my own numbers\n"
    );
    // A file of the user's beside a relsim run is refused too, and named.
    let run = dir.path().join("run");
    run_small(&run, &["--no-plots"]);
    fs::write(run.join("notes.txt"), "keep me").unwrap();
    relsim()
        .args(["run", &small(), "--quiet", "--no-plots", "--out"])
        .arg(&run)
        .assert()
        .code(2)
        .stderr(predicate::str::contains("notes.txt"));
    run_small(&out, &["--no-plots", "--force"]);
    assert_ne!(
        fs::read_to_string(out.join("summary.csv")).unwrap(),
        "my own numbers\n"
    );
}

#[test]
fn plot_refuses_a_folder_whose_files_come_from_different_runs() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    let second = dir.path().join("second");
    for (out, seed) in [(&first, "1"), (&second, "2")] {
        run_small(out, &["--no-plots", "--seed", seed]);
    }
    fs::copy(second.join("runs.csv"), first.join("runs.csv")).unwrap();
    let output = relsim().arg("plot").arg(&first).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("runs.csv"), "{stderr}");
    assert!(stderr.contains("does not belong"), "{stderr}");
    // Nothing was drawn into the mixed folder.
    assert!(!first.join("report.html").exists());
}

#[test]
fn an_impossible_output_location_is_refused_before_simulating() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("a_file");
    fs::write(&file, "x").unwrap();
    // The run is far too long to finish in a test: only a check made first can answer.
    let endless = [
        "run",
        "default",
        "--quiet",
        "--replications",
        "10000000",
        "--allow-large",
    ];
    for (out, fragment) in [
        (file.clone(), "is a file"),
        (file.join("below"), "cannot create its parent folder"),
        (PathBuf::from("/proc/relsim-cannot-be-here"), "/proc"),
    ] {
        let output = relsim()
            .args(endless)
            .arg("--out")
            .arg(&out)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(2), "{out:?}: {stderr}");
        assert!(stderr.contains(fragment), "{out:?}: {stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
    }
}

/// Starts a long run into `out`, waits until it has simulated for a while, and sends `signal`.
fn interrupt_a_long_run(out: &Path, signal: i32) -> (Option<i32>, String) {
    let mut child = Process::new(relsim_binary())
        .args([
            "run",
            "default",
            "--replications",
            "1000000",
            "--allow-large",
        ])
        .arg("--out")
        .arg(out)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The progress bar is hidden when stderr is not a terminal, so wait a fixed while: long
    // enough for the run to be simulating, far shorter than the run.
    std::thread::sleep(Duration::from_millis(1500));
    let status = stop_by_signal(&mut child, signal, Duration::from_secs(120));
    let mut stderr = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    (status.code(), stderr)
}

/// A finished run in `dir/run`, and the bytes of its runs.csv.
fn an_earlier_run(dir: &Path) -> (PathBuf, Vec<u8>) {
    let out = dir.join("run");
    run_small(&out, &["--no-plots"]);
    let runs = fs::read(out.join("runs.csv")).unwrap();
    (out, runs)
}

#[test]
fn an_interrupt_stops_cleanly_says_so_and_keeps_the_old_folder() {
    let dir = tempfile::tempdir().unwrap();
    let (out, before) = an_earlier_run(dir.path());
    for (signal, code) in [(libc::SIGINT, 130), (libc::SIGTERM, 143)] {
        let (status, stderr) = interrupt_a_long_run(&out, signal);
        assert_eq!(status, Some(code), "{stderr}");
        assert!(stderr.contains("interrupted by"), "{stderr}");
        assert!(stderr.contains("of 1000000 replications done"), "{stderr}");
        assert!(stderr.contains("they are kept in"), "{stderr}");
        assert!(stderr.contains("--resume"), "{stderr}");
        assert!(!stderr.contains("panicked"), "{stderr}");
        // The earlier run is intact; beside it only the interrupted run's checkpoint, which
        // `--resume` continues.
        assert_eq!(fs::read(out.join("runs.csv")).unwrap(), before);
        assert_eq!(entries(dir.path()), ["run", "run.resume"]);
    }
}

#[test]
fn a_reader_that_goes_away_ends_the_output_quietly() {
    // The reading end is closed before relsim writes anything, as `| head -1` closes it after
    // one line: every write then fails with a broken pipe, deterministically.
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    for args in [
        &["validate", "default"][..],
        &["presets"],
        &["init", "default", "-o", "-"],
    ] {
        let output = Process::new(relsim_binary())
            .args(args)
            .stdout(writer.try_clone().unwrap())
            .stderr(Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert!(output.status.success(), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
}

#[test]
fn init_to_a_dash_writes_standard_output() {
    let dir = tempfile::tempdir().unwrap();
    relsim()
        .current_dir(dir.path())
        .args(["init", "default", "-o", "-"])
        .assert()
        .success()
        .stdout(predicate::str::starts_with("# "))
        .stdout(predicate::str::contains("[[strategies]]"));
    assert!(entries(dir.path()).is_empty());
}

#[test]
fn a_killed_run_leaves_the_old_folder_and_its_leftovers_are_cleared_by_the_next_run() {
    let dir = tempfile::tempdir().unwrap();
    let (out, before) = an_earlier_run(dir.path());
    // SIGKILL cannot be caught: the staging folder stays behind, hidden, beside the old run.
    let (status, _) = interrupt_a_long_run(&out, libc::SIGKILL);
    assert_eq!(status, None, "killed by a signal, so no exit code");
    assert_eq!(fs::read(out.join("runs.csv")).unwrap(), before);
    assert!(
        entries(dir.path()).len() > 1,
        "the killed run left no staging folder"
    );
    // The next run into the same folder removes what the dead process left.
    run_small(&out, &["--no-plots", "--seed", "3"]);
    assert_eq!(entries(dir.path()), ["run"]);
    relsim().arg("plot").arg(&out).assert().success();
}
