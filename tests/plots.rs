//! Charts and report: every file produced and valid, the report self-contained and truthful,
//! and `relsim plot` reproducing the charts from the CSV files alone.

use std::fs;
use std::path::{Path, PathBuf};

use predicates::prelude::*;
use relsim::plot::{CHARTS, CHART_SIZE};
use relsim::report::format::{percent, signed};
#[path = "support/relsim_binary.rs"]
mod relsim_binary;
use relsim_binary::relsim;

fn small_scenario() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/small.toml")
}

fn run_small(out: &Path, extra: &[&str]) {
    relsim()
        .arg("run")
        .arg(small_scenario())
        .arg("--out")
        .arg(out)
        .arg("--quiet")
        .args(extra)
        .assert()
        .success();
}

#[test]
fn every_chart_is_written_as_valid_png_and_svg() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &[]);
    for chart in CHARTS {
        assert_valid_chart(&out, chart.name, chart.title);
    }
}

/// `NAME.png` in `dir` is a non-blank chart of the standard size and `NAME.svg` parses as SVG
/// holding `title`.
fn assert_valid_chart(dir: &Path, name: &str, title: &str) {
    let png_file = fs::File::open(dir.join(format!("{name}.png")))
        .unwrap_or_else(|err| panic!("{name}.png: {err}"));
    let mut reader = png::Decoder::new(png_file).read_info().unwrap();
    let mut pixels = vec![0; reader.output_buffer_size()];
    let frame = reader.next_frame(&mut pixels).unwrap();
    assert_eq!((frame.width, frame.height), CHART_SIZE, "{name}");
    // A chart is more than a blank page: many distinct colours are drawn.
    let distinct: std::collections::HashSet<&[u8]> = pixels.chunks(3).collect();
    assert!(distinct.len() > 20, "{name} looks blank");

    let svg = fs::read_to_string(dir.join(format!("{name}.svg"))).unwrap();
    let document = roxmltree::Document::parse(&svg)
        .unwrap_or_else(|err| panic!("{name}.svg does not parse: {err}"));
    assert_eq!(document.root_element().tag_name().name(), "svg");
    assert!(svg.contains(title), "{name}.svg lacks its title {title:?}");
}

/// Markup that would make a page fetch something or run code.
const NOT_SELF_CONTAINED: [&str; 8] = [
    "http://", "https://", "<script", "<link", "<img", "url(", "@import", "src=",
];

#[test]
fn report_is_self_contained_and_shows_every_chart() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &[]);
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    for forbidden in NOT_SELF_CONTAINED {
        assert!(
            !html.contains(forbidden),
            "report.html contains {forbidden:?}"
        );
    }
    // Every chart, and a sparkline for each customer's story.
    let stories = html.matches("<details class=\"story\"").count();
    assert!(stories > 0, "the report tells no customer's story");
    assert_eq!(html.matches("<svg").count(), CHARTS.len() + stories);
    assert_eq!(html.matches("<svg class=\"spark\"").count(), stories);
    assert!(html.contains("<h2 id=\"stories\">Customers' stories</h2>"));
    for chart in CHARTS {
        assert!(html.contains(&format!("<figure id=\"{}\">", chart.name)));
        assert!(html.contains("<figcaption>"));
    }
    assert!(html.contains("<h2>Summary</h2>"));
    assert!(html.contains("<h2>Scenario parameters</h2>"));
    assert!(html.contains("recovery_rate = 0.8"));
}

/// Reads a CSV file into rows of fields (the files relsim writes need no quoting here).
fn csv_rows(path: &Path) -> Vec<Vec<String>> {
    fs::read_to_string(path)
        .unwrap()
        .lines()
        .skip(1)
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

#[test]
fn verdict_in_report_matches_the_csv_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &["--replications", "12"]);
    // Rank strategies by mean NPV from summary.csv.
    let mut npv: Vec<(String, f64)> = csv_rows(&out.join("summary.csv"))
        .into_iter()
        .filter(|row| row[1] == "npv")
        .map(|row| (row[0].clone(), row[2].parse().unwrap()))
        .collect();
    npv.sort_by(|a, b| b.1.total_cmp(&a.1));
    let (best, runner_up) = (&npv[0].0, &npv[1].0);
    // The paired NPV difference of the two from comparisons.csv, oriented best − runner-up.
    let row = csv_rows(&out.join("comparisons.csv"))
        .into_iter()
        .find(|row| {
            row[2] == "npv"
                && ((&row[0] == best && &row[1] == runner_up)
                    || (&row[0] == runner_up && &row[1] == best))
        })
        .unwrap();
    let value = |idx: usize| -> f64 { row[idx].parse().unwrap() };
    let (mean, low, high, wins) = if &row[0] == best {
        (value(3), value(4), value(5), value(6))
    } else {
        (-value(3), -value(5), -value(4), 1.0 - value(6))
    };
    assert!(
        low > 0.0,
        "the small scenario separates its two best strategies"
    );
    let expected = format!(
        "{best} beats {runner_up} in {} of 12 replications; NPV {}, 95% CI [{}, {}]",
        percent(wins),
        signed(mean),
        signed(low),
        signed(high)
    );
    let html = fs::read_to_string(out.join("report.html")).unwrap();
    assert!(html.contains(&expected), "report lacks {expected:?}");
}

#[test]
fn plot_rebuilds_identical_charts_and_report_from_the_files() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &[]);
    let drawn: Vec<(String, Vec<u8>)> = fs::read_dir(&out)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            matches!(
                p.extension().and_then(|e| e.to_str()),
                Some("png" | "svg" | "html")
            )
        })
        .map(|p| {
            (
                p.file_name().unwrap().to_string_lossy().into_owned(),
                fs::read(&p).unwrap(),
            )
        })
        .collect();
    assert_eq!(drawn.len(), 2 * CHARTS.len() + 1);
    for (name, _) in &drawn {
        fs::remove_file(out.join(name)).unwrap();
    }
    relsim()
        .arg("plot")
        .arg(&out)
        .assert()
        .success()
        .stdout(predicate::str::contains("report.html"));
    for (name, bytes) in drawn {
        assert_eq!(
            fs::read(out.join(&name)).unwrap(),
            bytes,
            "{name} differs after relsim plot"
        );
    }
}

#[test]
fn no_plots_skips_charts_and_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &["--no-plots"]);
    assert!(out.join("summary.csv").exists());
    assert!(!out.join("report.html").exists());
    assert!(!out.join("retention.png").exists());
}

#[test]
fn plot_refuses_a_folder_that_is_not_a_run() {
    let dir = tempfile::tempdir().unwrap();
    relsim()
        .arg("plot")
        .arg(dir.path())
        .assert()
        .code(2)
        .stderr(predicate::str::contains("manifest.json"))
        .stderr(predicate::str::contains("relsim run"));
    relsim()
        .args(["plot", "no/such/folder"])
        .assert()
        .code(2)
        .stderr(predicate::str::contains("not a folder"));
}

#[test]
fn expanded_scenario_in_the_output_reruns_to_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    let first = dir.path().join("first");
    run_small(&first, &["--no-plots"]);
    let second = dir.path().join("second");
    relsim()
        .arg("run")
        .arg(first.join("scenario.toml"))
        .args(["--quiet", "--no-plots", "--out"])
        .arg(&second)
        .assert()
        .success();
    for file in ["summary.csv", "runs.csv", "timeseries.csv"] {
        assert_eq!(
            fs::read(first.join(file)).unwrap(),
            fs::read(second.join(file)).unwrap(),
            "{file}"
        );
    }
}

#[test]
fn svg_text_names_the_bundled_font() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &["--no-plots"]);
    relsim().arg("plot").arg(&out).assert().success();
    for chart in CHARTS {
        let svg = fs::read_to_string(out.join(format!("{}.svg", chart.name))).unwrap();
        let families: std::collections::BTreeSet<&str> = svg
            .split("font-family=\"")
            .skip(1)
            .map(|rest| &rest[..rest.find('"').unwrap()])
            .collect();
        assert_eq!(
            families.into_iter().collect::<Vec<_>>(),
            ["DejaVu Sans, sans-serif"],
            "{}",
            chart.name
        );
    }
}

#[test]
fn the_paired_difference_chart_shows_the_pair_the_verdict_is_about() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    run_small(&out, &[]);
    // The two strategies with the highest mean NPV, from summary.csv.
    let summary = fs::read_to_string(out.join("summary.csv")).unwrap();
    let mut npv: Vec<(f64, String)> = summary
        .lines()
        .filter_map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            (fields[1] == "npv").then(|| (fields[2].parse().unwrap(), fields[0].to_string()))
        })
        .collect();
    npv.sort_by(|a, b| b.0.total_cmp(&a.0));
    let title = format!("Paired difference: {} − {}", npv[0].1, npv[1].1);
    let svg = fs::read_to_string(out.join("npv_distribution.svg")).unwrap();
    assert!(svg.contains(&title), "npv_distribution.svg lacks {title:?}");
}

/// A sweep of the small market over `design` with two keys; extra arguments after.
fn sweep_small(out: &Path, design: &str, extra: &[&str]) {
    relsim()
        .arg("sweep")
        .arg(small_scenario())
        .args(["--quiet", "--replications", "2", "--set", design])
        .args([
            "--set",
            "vary=[{key=\"market.word_of_mouth\", uniform=[0.01, 0.04]}, \
             {key=\"market.cogs_share\", uniform=[0.4, 0.8]}]",
        ])
        .arg("--out")
        .arg(out)
        .args(extra)
        .assert()
        .success();
}

#[test]
fn a_sweep_draws_its_charts_and_a_self_contained_report() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("sobol");
    sweep_small(&out, "design={kind=\"sobol\", samples=8}", &[]);
    let html = fs::read_to_string(out.join("sweep_report.html")).unwrap();
    for forbidden in NOT_SELF_CONTAINED {
        assert!(
            !html.contains(forbidden),
            "sweep_report.html contains {forbidden:?}"
        );
    }
    // Its speed line says, as the terminal does, how much of the time built worlds.
    assert!(
        html.contains("of them active;") && html.contains("% of it building worlds)"),
        "the sweep report's speed line lacks the worlds' share"
    );
    // Robustness, then a Sobol chart and a hinge chart for each pair with the leader.
    let charts: Vec<&str> = ["robustness", "sensitivity_1", "hinge_1"].to_vec();
    for name in &charts {
        assert!(html.contains(&format!("<figure id=\"{name}\">")), "{name}");
    }
    assert_eq!(
        html.matches("<svg").count(),
        html.matches("<figure").count()
    );
    assert_valid_chart(&out, "robustness", "Which strategy is best");
    assert_valid_chart(&out, "sensitivity_1", "depends on");
    assert_valid_chart(&out, "hinge_1", "against");
    // The verdict names the strategy robustness.csv gives the highest probability of being best,
    // with that probability (held to its % sign by a no-break space).
    let robustness = csv_rows(&out.join("robustness.csv"));
    let best = robustness[1..]
        .iter()
        .max_by(|a, b| {
            let p = |row: &Vec<String>| row[1].parse::<f64>().unwrap();
            p(a).total_cmp(&p(b))
        })
        .unwrap();
    let share = format!("{:.1}\u{a0}%", 100.0 * best[1].parse::<f64>().unwrap());
    let verdict = html
        .split("<p class=\"verdict\">")
        .nth(1)
        .and_then(|rest| rest.split("</p>").next())
        .unwrap();
    assert!(
        verdict.starts_with(&format!("{} is best", best[0])) && verdict.contains(&share),
        "{verdict}"
    );
    for section in [
        "What varies",
        "Robustness of the verdict",
        "What the NPV of",
        "Files",
    ] {
        assert!(html.contains(section), "no section {section:?}");
    }
    assert!(html.contains("market.cogs_share"));

    // A Morris design draws μ* against σ; --no-plots draws nothing.
    let morris = dir.path().join("morris");
    sweep_small(&morris, "design={kind=\"morris\", samples=4}", &[]);
    assert_valid_chart(&morris, "sensitivity_1", "Screening");
    let bare = dir.path().join("bare");
    sweep_small(&bare, "design={kind=\"lhs\", samples=6}", &["--no-plots"]);
    assert!(bare.join("sensitivity.csv").exists());
    assert!(!bare.join("sweep_report.html").exists());
    assert!(!bare.join("robustness.png").exists());
}
