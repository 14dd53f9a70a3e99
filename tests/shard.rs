//! Sharded runs: `relsim run --shard i/n` into part folders, `relsim merge` back into the folder
//! one process writes, interruptions that keep work and `--resume` (docs/cluster.md).

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStderr, Command as Process, Stdio};
use std::time::Duration;

#[path = "support/child_process.rs"]
mod child_process;
use child_process::stop_by_signal;
#[path = "support/time_split.rs"]
mod time_split;
use time_split::assert_time_split_recorded;
#[path = "support/relsim_binary.rs"]
mod relsim_binary;
use relsim_binary::{relsim, relsim_binary};

/// The experiment every test shards: small, so that each runs in a fraction of a second.
const SMALL: [&str; 7] = [
    "default",
    "--replications",
    "14",
    "--set",
    "market.population=2000",
    "--set",
    "market.initial_active=200",
];

/// Files a merged folder must share, byte for byte, with the single-process run's.
const SAME_BYTES: [&str; 5] = [
    "summary.csv",
    "comparisons.csv",
    "timeseries.csv",
    "runs.csv",
    "scenario.toml",
];

fn plain_run(experiment: &[&str], out: &Path) {
    relsim()
        .arg("run")
        .args(experiment)
        .arg("--out")
        .arg(out)
        .args(["--no-plots", "--quiet"])
        .assert()
        .success();
}

fn shard(experiment: &[&str], shard: &str, out: &Path, extra: &[&str]) {
    relsim()
        .arg("run")
        .args(experiment)
        .args(["--shard", shard, "--out"])
        .arg(out)
        .args(["--quiet", "--progress", "none"])
        .args(extra)
        .assert()
        .success();
}

fn merge(parts: &[PathBuf], out: &Path) -> assert_cmd::assert::Assert {
    relsim()
        .arg("merge")
        .args(parts)
        .arg("--out")
        .arg(out)
        .args(["--no-plots", "--quiet"])
        .assert()
}

/// The manifest without what differs between any two runs (timing and threads; a merge does
/// not record where its parts' time went).
fn manifest_without_timing(dir: &Path) -> serde_json::Value {
    let text = fs::read_to_string(dir.join("manifest.json")).unwrap();
    let mut manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    let object = manifest.as_object_mut().unwrap();
    for key in [
        "wall_time_seconds",
        "customer_steps_per_second",
        "active_customer_steps_per_second",
        "time_split",
        "threads",
    ] {
        object.remove(key);
    }
    manifest
}

fn assert_same_results(expected: &Path, merged: &Path) {
    for file in SAME_BYTES {
        assert!(
            fs::read(expected.join(file)).unwrap() == fs::read(merged.join(file)).unwrap(),
            "{file} differs between {expected:?} and {merged:?}"
        );
    }
    assert_eq!(
        manifest_without_timing(expected),
        manifest_without_timing(merged)
    );
}

#[test]
fn sharded_and_merged_equals_one_process_for_1_2_3_and_7_shards() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    plain_run(&SMALL, &plain);
    for n in [1, 2, 3, 7] {
        let parts: Vec<PathBuf> = (1..=n)
            .map(|i| {
                let part = dir.path().join(format!("n{n}-part{i}"));
                // Alternate thread counts: a part does not depend on them either.
                shard(
                    &SMALL,
                    &format!("{i}/{n}"),
                    &part,
                    &["--threads", &(1 + i % 2).to_string()],
                );
                part
            })
            .collect();
        // Given in any order.
        let mut shuffled = parts.clone();
        shuffled.reverse();
        let merged = dir.path().join(format!("merged{n}"));
        merge(&shuffled, &merged).success();
        assert_same_results(&plain, &merged);
        // The merge adds up where the parts' time went.
        assert_time_split_recorded(&merged);
    }
}

/// Part folders written by a relsim that did not record time splits (no `time_split` in their
/// sessions or completion) still merge, to the same results, and the merge claims no split.
#[test]
fn parts_written_before_time_splits_still_merge() {
    let dir = tempfile::tempdir().unwrap();
    let parts: Vec<PathBuf> = (1..=2)
        .map(|i| {
            let part = dir.path().join(format!("part{i}"));
            shard(&SMALL, &format!("{i}/2"), &part, &[]);
            part
        })
        .collect();
    for part in &parts {
        for file in ["sessions.json", "complete.json"] {
            let path = part.join(file);
            let text = fs::read_to_string(&path).unwrap();
            let mut value: serde_json::Value = serde_json::from_str(&text).unwrap();
            let records = match value.as_array_mut() {
                Some(sessions) => sessions.iter_mut().collect::<Vec<_>>(),
                None => vec![&mut value],
            };
            for record in records {
                let removed = record.as_object_mut().unwrap().remove("time_split");
                assert!(removed.is_some(), "{path:?} records a time split");
            }
            fs::write(&path, serde_json::to_string_pretty(&value).unwrap()).unwrap();
        }
    }
    let merged = dir.path().join("merged");
    merge(&parts, &merged).success();
    let plain = dir.path().join("plain");
    plain_run(&SMALL, &plain);
    assert_same_results(&plain, &merged);
    let text = fs::read_to_string(merged.join("manifest.json")).unwrap();
    let manifest: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(manifest["time_split"]["world_build_seconds"], 0.0);
    assert_eq!(manifest["time_split"]["simulation_seconds"], 0.0);
}

#[test]
fn slurm_shards_come_from_the_array_task() {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("task");
    relsim()
        .arg("run")
        .args(SMALL)
        .args(["--shard", "slurm", "--out"])
        .arg(&part)
        .args(["--quiet", "--progress", "none"])
        .env("SLURM_ARRAY_TASK_ID", "3")
        .env("SLURM_ARRAY_TASK_COUNT", "4")
        .env("SLURM_ARRAY_TASK_MIN", "0")
        .assert()
        .success();
    let info: serde_json::Value =
        serde_json::from_str(&fs::read_to_string(part.join("part.json")).unwrap()).unwrap();
    assert_eq!(
        (info["shard_index"].as_u64(), info["shard_count"].as_u64()),
        (Some(4), Some(4))
    );
    relsim()
        .arg("run")
        .args(SMALL)
        .args(["--shard", "slurm", "--out"])
        .arg(dir.path().join("outside"))
        .env_remove("SLURM_ARRAY_TASK_ID")
        .assert()
        .code(2)
        .stderr(predicates::str::contains("SLURM_ARRAY_TASK_ID"));
}

/// Every way parts can fail to belong together is refused with exit 2 and a message that
/// names the part and what is wrong.
#[test]
fn parts_that_do_not_belong_together_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let part = |name: &str, shard_spec: &str, experiment: &[&str]| {
        let out = dir.path().join(name);
        shard(experiment, shard_spec, &out, &[]);
        out
    };
    let one = part("one", "1/3", &SMALL);
    let two = part("two", "2/3", &SMALL);
    let three = part("three", "3/3", &SMALL);
    let other_seed = part("seed", "3/3", &[&SMALL[..], &["--seed", "99"]].concat());
    let merged = dir.path().join("merged");
    let refused = |parts: &[PathBuf], fragments: &[&str]| {
        let output = merge(parts, &merged).code(2);
        let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
        for fragment in fragments {
            assert!(stderr.contains(fragment), "{fragment:?} not in: {stderr}");
        }
        assert!(!merged.exists(), "nothing written");
    };
    refused(&[one.clone(), two.clone()], &["shard 3/3 is missing"]);
    refused(std::slice::from_ref(&two), &["shards 1/3, 3/3 are missing"]);
    refused(
        &[one.clone(), two.clone(), three.clone(), three.clone()],
        &["is shard 3/3, and so is", "give each shard once"],
    );
    refused(
        &[one.clone(), two.clone(), other_seed.clone()],
        &["seed", "parts merge only from the same scenario"],
    );
    refused(
        &[dir.path().join("nowhere")],
        &["is not a shard's part folder"],
    );
    // A journal file copied under another name: its runs would count twice.
    let doubled = dir.path().join("doubled");
    copy_folder(&one, &doubled);
    let batch = fs::read_dir(&doubled)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("runs-")
        })
        .unwrap();
    fs::copy(&batch, doubled.join("runs-9999999999-9999999999.bin")).unwrap();
    refused(
        &[doubled, two.clone(), three.clone()],
        &[
            "replication 0 has runs of strategies [0, 1, 2, 0, 1, 2]",
            "duplicated",
        ],
    );
    // A part without its completion marker: interrupted and not resumed.
    fs::remove_file(three.join("complete.json")).unwrap();
    refused(
        &[one, two, three],
        &["is not complete", "shard 3/3 has", "--resume"],
    );
    // A shard refuses a folder that already holds a part, unless resuming it.
    relsim()
        .arg("run")
        .args(SMALL)
        .args(["--shard", "1/3", "--out"])
        .arg(dir.path().join("one"))
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--resume"));
    for bad in ["0/3", "4/3", "3", "a/b"] {
        relsim()
            .arg("run")
            .args(SMALL)
            .args(["--shard", bad, "--out"])
            .arg(dir.path().join("bad"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains("--shard"));
    }
}

fn copy_folder(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// A longer experiment, so that a signal lands while it simulates.
const LONGER: [&str; 7] = [
    "default",
    "--replications",
    "64",
    "--set",
    "market.population=20000",
    "--set",
    "market.initial_active=2000",
];

/// Runs relsim with `args` (`--progress json` among them), waits for its first progress line
/// (its signal handlers are in place by then) and `delay` more, sends `signal` and waits for
/// the process to end. Returns its exit code (`None` when the signal killed it), its first line
/// and the rest of its standard error.
fn signal_during(args: &[&str], signal: i32, delay: Duration) -> (Option<i32>, String, String) {
    let (mut child, mut stderr, first) = start_until_first_line(args);
    std::thread::sleep(delay);
    let status = stop_by_signal(&mut child, signal, Duration::from_secs(120));
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    (status.code(), first, rest)
}

/// Starts relsim with `args` (`--progress json` among them) and waits for the first line of its
/// standard error: its part folder is open and its signal handlers are in place by then.
/// Returns the process, the rest of its standard error to read, and that line.
fn start_until_first_line(args: &[&str]) -> (Child, BufReader<ChildStderr>, String) {
    let mut child = Process::new(relsim_binary())
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    (child, stderr, first)
}

/// Starts shard `shard_spec` of [`LONGER`] into `part` and sends `signal` `delay` after its
/// first progress line ([`signal_during`]).
fn interrupt_shard(
    part: &Path,
    shard_spec: &str,
    signal: i32,
    delay: Duration,
) -> (Option<i32>, String) {
    let part = part.display().to_string();
    let args = [
        &["run"][..],
        &LONGER,
        &[
            "--shard",
            shard_spec,
            "--threads",
            "2",
            "--progress",
            "json",
            "--resume",
            "--out",
            &part,
        ],
    ]
    .concat();
    let (code, first, rest) = signal_during(&args, signal, delay);
    assert!(first.contains("\"progress\""), "{first}");
    // The shard's own units: those its journal held already are counted done.
    assert!(
        first.contains(&format!("\"shard\":\"{shard_spec}\"")),
        "{first}"
    );
    assert!(first.contains("\"total\":32"), "{first}");
    (code, first + &rest)
}

/// What a part folder may hold at any moment: its description, its scenario, its sessions,
/// whole journal files and, only after a kill that no handler could see, temporary files
/// under a hidden name of their own. Never a half-written file under a final name: every
/// journal file there is read whole.
fn assert_only_whole_files(part: &Path) {
    for entry in fs::read_dir(part).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        let known = [
            "part.json",
            "scenario.toml",
            "sessions.json",
            "complete.json",
            ".lock",
        ]
        .contains(&name.as_str())
            || (name.starts_with("runs-") && name.ends_with(".bin"))
            || (name.starts_with('.') && name.ends_with(".partial"));
        assert!(known, "unexpected file {name} in {part:?}");
    }
    for name in ["part.json", "sessions.json"] {
        if part.join(name).exists() {
            let text = fs::read_to_string(part.join(name)).unwrap();
            serde_json::from_str::<serde_json::Value>(&text)
                .unwrap_or_else(|err| panic!("{name} is not whole: {err}"));
        }
    }
    let folder = relsim::output::part::PartFolder::open(part).unwrap();
    folder.run_summary().expect("every journal file is whole");
}

/// SIGINT, SIGTERM and SIGUSR1 at different moments, each followed by `--resume`, and a kill
/// that no handler sees: the merged result equals an uninterrupted run's.
#[test]
fn interrupted_shards_keep_their_work_and_resume_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    plain_run(&LONGER, &plain);
    // Random moments (after the shard's first progress line), said in any failure message.
    let seed = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos() as u64;
    let moment = |i: u64| 100 + (seed.wrapping_mul(6_364_136_223_846_793_005) >> (i * 8)) % 400;
    let cases = [
        ("1/2", libc::SIGINT, moment(0)),
        ("2/2", libc::SIGTERM, moment(1)),
        ("1/2", libc::SIGUSR1, moment(2)),
        ("2/2", libc::SIGKILL, moment(3)),
    ];
    eprintln!("interrupting at {cases:?} ms");
    let parts = [dir.path().join("part1"), dir.path().join("part2")];
    for (shard_spec, signal, delay_ms) in cases {
        let part = &parts[if shard_spec == "1/2" { 0 } else { 1 }];
        let (code, stderr) =
            interrupt_shard(part, shard_spec, signal, Duration::from_millis(delay_ms));
        assert_only_whole_files(part);
        if signal == libc::SIGKILL {
            assert_eq!(code, None, "killed: {stderr}");
            continue;
        }
        if code == Some(0) {
            // Finished before the signal came: nothing to resume, which proves nothing.
            panic!("shard {shard_spec} finished before signal {signal}; lengthen LONGER");
        }
        assert_eq!(code, Some(128 + signal), "{stderr}");
        assert!(
            stderr.contains("of the shard's 32 replications done"),
            "{stderr}"
        );
        assert!(stderr.contains("Continue with:"), "{stderr}");
        assert!(
            stderr.contains(&format!("--shard {shard_spec}")),
            "{stderr}"
        );
        assert!(stderr.contains("--resume"), "{stderr}");
        assert!(!part.join("complete.json").exists());
    }
    for (i, part) in parts.iter().enumerate() {
        shard(&LONGER, &format!("{}/2", i + 1), part, &["--resume"]);
        assert_only_whole_files(part);
        assert!(part.join("complete.json").exists());
    }
    let merged = dir.path().join("merged");
    merge(&parts, &merged).success();
    assert_same_results(&plain, &merged);
}

/// A second process on a part folder a shard is still writing (a `--resume` started too soon,
/// a requeued job) is refused, naming the process that holds the folder, and changes nothing
/// there: the first finishes, and the part merges as if it had been alone.
#[test]
fn a_part_folder_being_written_refuses_a_second_process() {
    let dir = tempfile::tempdir().unwrap();
    let part = dir.path().join("part1");
    let part_arg = part.display().to_string();
    let args = [
        &["run"][..],
        &LONGER,
        &[
            "--shard",
            "1/2",
            "--threads",
            "1",
            "--progress",
            "json",
            "--out",
            &part_arg,
        ],
    ]
    .concat();
    // Once its first progress line is out, the part folder is open (and locked).
    let (mut first, mut stderr, line) = start_until_first_line(&args);
    let second = relsim()
        .arg("run")
        .args(LONGER)
        .args(["--shard", "1/2", "--resume", "--quiet", "--out"])
        .arg(&part)
        .assert()
        .code(2);
    let message = String::from_utf8_lossy(&second.get_output().stderr).into_owned();
    assert!(
        message.contains(&format!(
            "is being written by relsim process {}",
            first.id()
        )),
        "{message}"
    );
    assert!(message.contains("part1"), "{message}");
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    assert!(first.wait().unwrap().success(), "{line}{rest}");
    assert_only_whole_files(&part);
    assert!(part.join("complete.json").exists());
    // Once the first is gone, the folder is free again.
    shard(&LONGER, "1/2", &part, &["--resume"]);
    shard(&LONGER, "2/2", &dir.path().join("part2"), &[]);
    merge(
        &[part, dir.path().join("part2")],
        &dir.path().join("merged"),
    )
    .success();
}

const EXAMPLE_ARGS: [&str; 10] = [
    "default",
    "--replications",
    "400",
    "--tasks",
    "4",
    "--time",
    "00:30:00",
    "--cpus-per-task",
    "2",
    "--out",
];

/// `relsim slurm` writes a job array, a merge job that waits for it and the script that submits
/// both; examples/slurm is exactly what it writes.
#[test]
fn slurm_writes_the_job_array_the_merge_job_and_the_worked_example() {
    let dir = tempfile::tempdir().unwrap();
    let job = dir.path().join("job");
    relsim()
        .arg("slurm")
        .args(EXAMPLE_ARGS)
        .arg(&job)
        .assert()
        .success()
        .stdout(predicates::str::contains("submit.sh"));
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/slurm");
    for file in [
        "scenario.toml",
        "shards.sbatch",
        "merge.sbatch",
        "submit.sh",
    ] {
        assert_eq!(
            fs::read_to_string(job.join(file)).unwrap(),
            fs::read_to_string(example.join(file)).unwrap(),
            "examples/slurm/{file} is not what `relsim slurm` writes: regenerate it with \
             relsim slurm {} examples/slurm --force",
            EXAMPLE_ARGS.join(" ")
        );
    }
    let shards = fs::read_to_string(job.join("shards.sbatch")).unwrap();
    for line in [
        "#SBATCH --array=1-4",
        "#SBATCH --cpus-per-task=2",
        "#SBATCH --time=00:30:00",
        "#SBATCH --signal=B:USR1@120",
        "exec \"$RELSIM\" run scenario.toml --shard slurm",
        "--resume",
    ] {
        assert!(
            shards.contains(line),
            "{line} not in shards.sbatch:\n{shards}"
        );
    }
    let submit = fs::read_to_string(job.join("submit.sh")).unwrap();
    assert!(
        submit.contains("--dependency=afterok:\"$array\" merge.sbatch"),
        "{submit}"
    );
    let merge_job = fs::read_to_string(job.join("merge.sbatch")).unwrap();
    assert!(merge_job.contains("\"$RELSIM\" merge"), "{merge_job}");
    // The expanded scenario runs as the original does.
    relsim()
        .args(["validate"])
        .arg(job.join("scenario.toml"))
        .assert()
        .success();
    use std::os::unix::fs::PermissionsExt;
    let mode = fs::metadata(job.join("submit.sh"))
        .unwrap()
        .permissions()
        .mode();
    assert_eq!(mode & 0o777, 0o755);

    // A sweep's job shards its units with `relsim sweep`.
    let sweep_job = dir.path().join("sweep-job");
    relsim()
        .args(["slurm", "--sweep", "--tasks", "3", "--out"])
        .arg(&sweep_job)
        .arg(
            Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/default_uncertainty.toml"),
        )
        .assert()
        .success()
        .stdout(predicates::str::contains("point-replications in 3 shards"));
    let shards = fs::read_to_string(sweep_job.join("shards.sbatch")).unwrap();
    assert!(
        shards.contains("exec \"$RELSIM\" sweep scenario.toml --shard slurm"),
        "{shards}"
    );

    // Refused: a folder that holds files, impossible task counts and time limits.
    relsim()
        .arg("slurm")
        .args(EXAMPLE_ARGS)
        .arg(&job)
        .assert()
        .code(2)
        .stderr(predicates::str::contains("--force"));
    let tasks = "--tasks: must be between 1 and the 400 replications";
    for (arguments, fragment) in [
        (["--tasks", "0", "--time", "10"], tasks),
        (["--tasks", "401", "--time", "10"], tasks),
        (
            ["--tasks", "4", "--time", "2h"],
            "--time: `2h` is not a Slurm time limit",
        ),
        (
            ["--tasks", "4", "--cpus-per-task", "0"],
            "--cpus-per-task: must be at least 1",
        ),
    ] {
        relsim()
            .args(["slurm", "default", "--replications", "400"])
            .args(arguments)
            .arg("--out")
            .arg(dir.path().join("refused"))
            .assert()
            .code(2)
            .stderr(predicates::str::contains(fragment));
    }
}

/// A small Sobol sweep.
fn sweep_args(population: u32, replications: u32) -> Vec<String> {
    let scenario =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/sweeps/default_uncertainty.toml");
    [
        scenario.display().to_string(),
        "--replications".into(),
        replications.to_string(),
        "--set".into(),
        format!("market.population={population}"),
        "--set".into(),
        format!("market.initial_active={}", population / 10),
        "--set".into(),
        "design.samples=8".into(),
    ]
    .to_vec()
}

/// A one-process sweep of `args` into `out`.
fn plain_sweep(args: &[String], out: &Path) {
    relsim()
        .arg("sweep")
        .args(args)
        .arg("--out")
        .arg(out)
        .args(["--no-plots", "--quiet", "--progress", "none"])
        .assert()
        .success();
}

/// Every file of a plain sweep's folder (its data, parquet included) but the manifest.
fn assert_same_sweep(expected: &Path, merged: &Path) {
    for entry in fs::read_dir(expected).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if name == "manifest.json" {
            continue;
        }
        assert!(
            fs::read(expected.join(&name)).unwrap() == fs::read(merged.join(&name)).unwrap(),
            "{name} differs between {expected:?} and {merged:?}"
        );
    }
    assert_eq!(
        manifest_without_timing(expected),
        manifest_without_timing(merged)
    );
}

#[test]
fn sharded_sweeps_merge_into_the_one_process_sweep_for_1_2_3_and_7_shards() {
    let dir = tempfile::tempdir().unwrap();
    let args = sweep_args(2000, 3);
    let plain = dir.path().join("plain");
    plain_sweep(&args, &plain);
    for n in [1, 2, 3, 7] {
        let parts: Vec<PathBuf> = (1..=n)
            .map(|i| {
                let part = dir.path().join(format!("n{n}-part{i}"));
                relsim()
                    .arg("sweep")
                    .args(&args)
                    .args(["--shard", &format!("{i}/{n}"), "--out"])
                    .arg(&part)
                    .args([
                        "--quiet",
                        "--progress",
                        "none",
                        "--threads",
                        &(1 + i % 2).to_string(),
                    ])
                    .assert()
                    .success();
                part
            })
            .collect();
        let merged = dir.path().join(format!("merged{n}"));
        merge(&parts, &merged).success();
        assert_same_sweep(&plain, &merged);
        assert_time_split_recorded(&merged);
    }
    // A units journal copied under another name: those units would count twice.
    let doubled = dir.path().join("doubled");
    copy_folder(&dir.path().join("n2-part1"), &doubled);
    let batch = fs::read_dir(&doubled)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            p.file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with("units-")
        })
        .unwrap();
    fs::copy(&batch, doubled.join("units-copy.bin")).unwrap();
    let output = merge(
        &[doubled, dir.path().join("n2-part2")],
        &dir.path().join("twice"),
    )
    .code(2);
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
    assert!(stderr.contains("is twice in the parts"), "{stderr}");
    // A run's parts and a sweep's do not merge together.
    let run_part = dir.path().join("run-part");
    shard(&SMALL, "2/2", &run_part, &[]);
    let output = merge(
        &[dir.path().join("n2-part1"), run_part],
        &dir.path().join("mixed"),
    )
    .code(2);
    let stderr = String::from_utf8_lossy(&output.get_output().stderr).into_owned();
    assert!(
        stderr.contains("parts merge only from the same scenario"),
        "{stderr}"
    );
}

#[test]
fn an_interrupted_sweep_shard_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let args = sweep_args(20000, 2);
    let plain = dir.path().join("plain");
    plain_sweep(&args, &plain);
    let parts = [dir.path().join("part1"), dir.path().join("part2")];
    let part = parts[0].display().to_string();
    let arguments: Vec<&str> = ["sweep"]
        .into_iter()
        .chain(args.iter().map(String::as_str))
        .chain([
            "--shard",
            "1/2",
            "--threads",
            "2",
            "--progress",
            "json",
            "--out",
            &part,
        ])
        .collect();
    let (code, first, rest) = signal_during(&arguments, libc::SIGUSR1, Duration::from_millis(1500));
    assert!(
        first.contains("\"units\":\"point-replications\""),
        "{first}"
    );
    assert_eq!(code, Some(128 + libc::SIGUSR1), "{rest}");
    assert!(rest.contains("relsim sweep"), "{rest}");
    assert!(rest.contains("--resume"), "{rest}");
    let (kept, _, _) = relsim::output::part::PartFolder::open(&parts[0])
        .unwrap()
        .unit_summary()
        .unwrap();
    assert!(
        !kept.is_empty(),
        "the interrupted shard kept what it finished: {rest}"
    );
    for (i, part) in parts.iter().enumerate() {
        relsim()
            .arg("sweep")
            .args(&args)
            .args(["--shard", &format!("{}/2", i + 1), "--resume", "--out"])
            .arg(part)
            .args(["--quiet", "--progress", "none"])
            .assert()
            .success();
    }
    let merged = dir.path().join("merged");
    merge(&parts, &merged).success();
    assert_same_sweep(&plain, &merged);
}

/// A plain run stopped by SIGINT, SIGTERM and SIGUSR1 in turn, each time continued with
/// `--resume`, ends with the files of a run that was never stopped, and leaves no checkpoint.
#[test]
fn an_interrupted_run_resumes_to_the_same_result() {
    let dir = tempfile::tempdir().unwrap();
    let plain = dir.path().join("plain");
    plain_run(&LONGER, &plain);
    let out = dir.path().join("run");
    let checkpoint = dir.path().join("run.resume");
    for (i, signal) in [libc::SIGINT, libc::SIGTERM, libc::SIGUSR1]
        .into_iter()
        .enumerate()
    {
        let out_text = out.display().to_string();
        let resume: &[&str] = if i > 0 { &["--resume"] } else { &[] };
        let arguments = [
            &["run"][..],
            &LONGER,
            &[
                "--threads",
                "2",
                "--no-plots",
                "--progress",
                "json",
                "--out",
                &out_text,
            ],
            resume,
        ]
        .concat();
        let (code, _, rest) = signal_during(&arguments, signal, Duration::from_millis(700));
        assert_eq!(code, Some(128 + signal), "{rest}");
        assert!(rest.contains("Continue with:"), "{rest}");
        assert!(rest.contains("--resume"), "{rest}");
        assert!(checkpoint.join("checkpoint.bin").exists());
        assert!(!out.exists(), "no output folder until the run is whole");
    }
    relsim()
        .arg("run")
        .args(LONGER)
        .arg("--out")
        .arg(&out)
        .args(["--no-plots", "--quiet", "--resume"])
        .assert()
        .success();
    assert!(
        !checkpoint.exists(),
        "the checkpoint is removed once the run is whole"
    );
    assert_same_results(&plain, &out);
    // Nothing to resume now, and a checkpoint of another scenario is refused.
    relsim()
        .arg("run")
        .args(LONGER)
        .arg("--out")
        .arg(&out)
        .args(["--resume", "--force"])
        .assert()
        .code(2)
        .stderr(predicates::str::contains("nothing to resume"));
}
