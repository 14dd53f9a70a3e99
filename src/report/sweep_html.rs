//! `sweep_report.html`: one self-contained page with how robust the verdict is over the
//! sweep's design, what each shown paired difference depends on, the seed noise, the files
//! beside it and the scenario (docs/sweeps.md). Inline CSS and SVG only, nothing fetched.

use std::fmt::Write;

use super::format::human;
use super::html::{escape, escape_unbroken, inline_svg, STYLE};
use crate::output::Manifest;
use crate::plot::sweep::{ShownPair, SweepChart};
use crate::stats::sensitivity::Estimate;
use crate::sweep::analysis::{Robustness, SensitivityRow};
use crate::sweep::design::Parameter;

/// A chart of the sweep, drawn: its file stem and SVG text.
#[derive(Debug, Clone, PartialEq)]
pub struct DrawnSweepChart {
    pub stem: String,
    pub chart: SweepChart,
    pub svg: String,
}

/// Everything the sweep's report shows.
#[derive(Debug, Clone)]
pub struct SweepReportInput<'a> {
    pub manifest: &'a Manifest,
    pub description: &'a str,
    /// `grid`, `list`, `lhs`, `sobol` or `morris`.
    pub design_kind: &'a str,
    pub points: u64,
    pub parameters: &'a [Parameter],
    pub strategy_names: &'a [String],
    pub robustness: &'a [Robustness],
    pub sensitivity: &'a [SensitivityRow],
    /// Each strategy's share of NPV variance that is seed noise.
    pub npv_noise_shares: &'a [f64],
    pub leader: usize,
    pub pairs: &'a [ShownPair],
    pub charts: &'a [DrawnSweepChart],
    pub scenario_toml: &'a str,
}

/// The files of a sweep's folder and what each holds.
const FILES: [(&str, &str); 10] = [
    ("runs.csv, runs.parquet", "one row per point × strategy × replication: the point, every varied parameter, the seed and every per-run metric"),
    ("points.csv", "one row per point × strategy × metric (and per point × pair for the paired NPV differences): mean, sd and 95 % interval over the point's replications"),
    ("sensitivity.csv", "Sobol S1 and ST, or Morris μ*, σ and μ, of every metric of every strategy and of every paired NPV difference, with 95 % bootstrap intervals"),
    ("robustness.csv", "per strategy: probability of being best, expected and worst regret"),
    ("seed_noise.csv", "per strategy and metric: the share of variance between replications at the same point"),
    ("salib_problem.json, salib_X.txt, salib_Y.csv", "the SALib problem, sample matrix and outputs, to recompute the indices in Python"),
    ("robustness.png/.svg, sensitivity_N.png/.svg, hinge_N.png/.svg", "the charts of this page"),
    ("scenario.toml", "the scenario exactly as run, design included"),
    ("manifest.json", "what was run (version, seed, design and its hash, columns) and the SHA-256 of every file"),
    ("sweep_report.html", "this page"),
];

fn interval_cell(e: &Estimate) -> String {
    if e.ci_low.is_finite() && e.ci_high.is_finite() {
        format!("{:.3} [{:.3}, {:.3}]", e.estimate, e.ci_low, e.ci_high)
    } else {
        format!("{:.3}", e.estimate)
    }
}

fn human_interval_cell(e: &Estimate) -> String {
    if e.ci_low.is_finite() && e.ci_high.is_finite() {
        format!(
            "{} [{}, {}]",
            human(e.estimate),
            human(e.ci_low),
            human(e.ci_high)
        )
    } else {
        human(e.estimate)
    }
}

fn figure(html: &mut String, chart: &DrawnSweepChart) {
    let _ = write!(
        html,
        "<figure id=\"{id}\">\n{svg}\n<figcaption>{caption} <span class=\"meta\">({id}.png, \
         {id}.svg)</span></figcaption>\n</figure>\n",
        id = escape(&chart.stem),
        svg = inline_svg(&chart.svg),
        caption = escape(&chart.chart.caption()),
    );
}

/// The sentence that states the verdict over the design.
pub fn robustness_sentence(
    robustness: &[Robustness],
    leader: usize,
    design_kind: &str,
    points: u64,
) -> String {
    let Some(best) = robustness.get(leader) else {
        return String::new();
    };
    if robustness.len() == 1 {
        return format!(
            "{} is the only strategy: this sweep measures what its results depend on, not which \
             strategy wins.",
            best.strategy
        );
    }
    let over = if matches!(design_kind, "lhs" | "sobol") {
        "under the stated uncertainty"
    } else {
        "over the design's points"
    };
    let mut sentence = format!(
        "{} is best {over}: its mean NPV is the highest at {:.1} % [{:.1} %, {:.1} %] of the {} \
         points",
        best.strategy,
        100.0 * best.p_best.estimate,
        100.0 * best.p_best.ci_low,
        100.0 * best.p_best.ci_high,
        points
    );
    let rival = robustness
        .iter()
        .enumerate()
        .filter(|(idx, _)| *idx != leader)
        .max_by(|a, b| a.1.p_best.estimate.total_cmp(&b.1.p_best.estimate));
    if let Some((_, rival)) = rival {
        let _ = write!(
            sentence,
            "; {} at {:.1} %, with an expected regret of {}",
            rival.strategy,
            100.0 * rival.p_best.estimate,
            human(rival.expected_regret.mean)
        );
    }
    sentence.push('.');
    sentence
}

/// The whole page.
pub fn sweep_html_report(input: &SweepReportInput) -> String {
    let manifest = input.manifest;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>relsim sweep · {name}</title>\n<style>{STYLE}\
         td.text, th.text {{ text-align: left; }}\n\
         td.note {{ text-align: left; color: #8a4b00; font-size: 0.9em; }}\n</style>\n</head>\n\
         <body>\n<h1>{name}: where does the answer flip?</h1>\n\
         <p class=\"description\">{description}</p>\n<p class=\"verdict\">{verdict}</p>\n\
         <p class=\"meta\">{kind} design · {points} points × {replications} replications × \
         {strategies} strategies · master seed {seed} · relsim&nbsp;{version} · {wall:.1}&nbsp;s on \
         {threads} threads ({speed})</p>\n",
        name = escape(&manifest.scenario_name),
        description = escape(
            &input
                .description
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
        verdict = escape_unbroken(&robustness_sentence(
            input.robustness,
            input.leader,
            input.design_kind,
            input.points
        )),
        kind = escape(input.design_kind),
        points = input.points,
        replications = manifest.replications,
        strategies = input.strategy_names.len(),
        seed = manifest.master_seed,
        version = escape(&manifest.relsim_version),
        wall = manifest.wall_time_seconds,
        threads = manifest.threads,
        speed = escape(&manifest.speed_note_unbroken()),
    );

    html.push_str(
        "<h2>What varies</h2>\n<p>Every point of the design sets these keys; everything else is \
         as in the scenario below. Replication <i>r</i> meets the same market at every point and \
         in every strategy (common random numbers).</p>\n<table>\n\
         <tr><th>key</th><th class=\"text\">values</th></tr>\n",
    );
    for p in input.parameters {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td class=\"text\">{}</td></tr>",
            escape(&p.key),
            escape(&p.distribution.describe())
        );
    }
    html.push_str("</table>\n");

    html.push_str(
        "<h2>Robustness of the verdict</h2>\n<p>At each point, the strategy with the highest mean \
         NPV over the point's replications is best there. Regret is what a strategy forgoes \
         against the best one at a point.</p>\n<table>\n<tr><th>strategy</th>\
         <th>best at [95 % CI]</th><th>expected regret [95 % CI]</th><th>worst regret</th>\
         <th>seed noise in NPV</th></tr>\n",
    );
    for (idx, r) in input.robustness.iter().enumerate() {
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{:.1} % [{:.1} %, {:.1} %]</td><td>{} [{}, {}]</td><td>{}</td>\
             <td>{}</td></tr>",
            escape(&r.strategy),
            100.0 * r.p_best.estimate,
            100.0 * r.p_best.ci_low,
            100.0 * r.p_best.ci_high,
            human(r.expected_regret.mean),
            human(r.expected_regret.ci_low),
            human(r.expected_regret.ci_high),
            human(r.worst_regret),
            input
                .npv_noise_shares
                .get(idx)
                .filter(|s| s.is_finite())
                .map_or("–".to_string(), |s| format!("{:.1} %", 100.0 * s)),
        );
    }
    html.push_str(
        "</table>\n<p class=\"meta\">Seed noise: the share of a strategy's NPV variance over \
         all runs that lies between replications at the same point rather than between points. \
         A large share means the indices below rest on few replications per point.</p>\n",
    );
    for chart in input.charts.iter().filter(|c| c.stem == "robustness") {
        figure(&mut html, chart);
    }

    for (number, pair) in input.pairs.iter().enumerate() {
        let _ = writeln!(
            html,
            "<h2>What the NPV of {} depends on</h2>",
            escape(&pair.label)
        );
        let rows: Vec<&SensitivityRow> = input
            .sensitivity
            .iter()
            .filter(|r| r.metric == "npv" && r.strategy == pair.quantity_label)
            .collect();
        sensitivity_table(&mut html, input.parameters, &rows);
        let stems = [
            format!("sensitivity_{}", number + 1),
            format!("hinge_{}", number + 1),
        ];
        for chart in input.charts.iter().filter(|c| stems.contains(&c.stem)) {
            figure(&mut html, chart);
        }
    }

    html.push_str("<h2>Files</h2>\n<table>\n<tr><th>file</th><th class=\"text\">holds</th></tr>\n");
    for (file, holds) in FILES {
        let _ = writeln!(
            html,
            "<tr><td><code>{}</code></td><td class=\"text\">{}</td></tr>",
            escape(file),
            escape(holds)
        );
    }
    html.push_str(
        "</table>\n<p class=\"meta\">How to read each index and chart: docs/sweeps.md.</p>\n",
    );

    let _ = write!(
        html,
        "<h2>Scenario</h2>\n<p>The scenario exactly as swept ({source}), every default written \
         out; also in <code>scenario.toml</code>.</p>\n<pre>{toml}</pre>\n</body>\n</html>\n",
        source = escape(&manifest.scenario_source),
        toml = escape(input.scenario_toml),
    );
    html
}

/// The table of a pair's indices, parameters in decreasing order of ST or μ*, with a note
/// where an index cannot be trusted.
fn sensitivity_table(html: &mut String, parameters: &[Parameter], rows: &[&SensitivityRow]) {
    let find = |parameter: &str, index: &str| {
        rows.iter()
            .find(|r| r.parameter == parameter && r.index == index)
            .map(|r| r.estimate)
    };
    let sobol = rows.iter().any(|r| r.method == "sobol");
    let morris = rows.iter().any(|r| r.method == "morris");
    if !sobol && !morris {
        html.push_str(
            "<p>This design has no sensitivity indices (they need a <code>sobol</code> or \
             <code>morris</code> design); the chart below shows the difference against the \
             parameter it correlates with most.</p>\n",
        );
        return;
    }
    let rank_index = if sobol { "ST" } else { "mu_star" };
    let mut ordered: Vec<&Parameter> = parameters.iter().collect();
    ordered.sort_by(|a, b| {
        let value =
            |p: &Parameter| find(&p.key, rank_index).map_or(f64::NEG_INFINITY, |e| e.estimate);
        value(b).total_cmp(&value(a))
    });
    if sobol {
        html.push_str(
            "<p>Sobol indices: S1 is the share of the difference's variance over the design that \
             a parameter explains alone, ST adds its interactions. 95 % bootstrap intervals.</p>\n\
             <table>\n<tr><th>parameter</th><th>S1</th><th>ST</th><th class=\"text\">note</th></tr>\n",
        );
    } else {
        html.push_str(
            "<p>Morris measures: μ* is the mean absolute effect on the difference of moving the \
             parameter across its range (95 % bootstrap interval), σ the spread of those effects \
             (nonlinearity or interactions).</p>\n<table>\n<tr><th>parameter</th><th>μ*</th>\
             <th>σ</th><th class=\"text\">note</th></tr>\n",
        );
    }
    for p in ordered {
        let (first, second, note) = if sobol {
            let (s1, st) = (find(&p.key, "S1"), find(&p.key, "ST"));
            let mut notes = Vec::new();
            if let Some(st) = st {
                if st.estimate == 0.0 && st.ci_high == 0.0 {
                    notes.push("no effect at all");
                } else if st.indistinct_from_zero() {
                    notes.push("interval contains 0: too few samples to tell it from no effect");
                }
                if st.estimate > 1.0 {
                    notes.push("ST above 1: sample too small");
                }
            }
            if s1.is_some_and(|s| s.estimate < 0.0) {
                notes.push("S1 below 0: too few samples (or seed noise)");
            }
            (
                s1.map_or("–".into(), |e| interval_cell(&e)),
                st.map_or("–".into(), |e| interval_cell(&e)),
                notes.join("; "),
            )
        } else {
            let mu_star = find(&p.key, "mu_star");
            let sigma = find(&p.key, "sigma");
            let note = match mu_star {
                Some(m) if m.estimate == 0.0 && m.ci_high == 0.0 => "no effect at all",
                Some(m) if m.indistinct_from_zero() => "interval contains 0",
                _ => "",
            };
            (
                mu_star.map_or("–".into(), |e| human_interval_cell(&e)),
                sigma.map_or("–".into(), |e| human(e.estimate)),
                note.to_string(),
            )
        };
        let _ = writeln!(
            html,
            "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"note\">{}</td></tr>",
            escape(&p.key),
            escape(&first),
            escape(&second),
            escape(&note)
        );
    }
    html.push_str("</table>\n");
}
