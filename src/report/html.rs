//! `report.html`: one self-contained file with the verdict, the summary table, every chart
//! (inline SVG), the paired comparisons, a few customers' stories and the scenario's parameters. It has inline CSS only:
//! no scripts, fonts, images or styles fetched from anywhere.

use std::fmt::Write;

use super::format::{percent, signed};
use super::stories_html::stories_section;
use super::terminal::{
    cell, count, is_exact_tie, listed_npv_comparisons, only_leader_pairs, verdict, ALL_PAIRS_UP_TO,
    TABLE_ROWS,
};
use crate::output::Manifest;
use crate::plot::{strategy_colour_hex, RenderedChart, CHART_SIZE};
use crate::results::ExperimentResults;
use crate::scenario::Scenario;
use crate::stories::Stories;

pub(super) const STYLE: &str = "
body { font-family: 'DejaVu Sans', Verdana, sans-serif; color: #222; max-width: 1200px;
       margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { margin-bottom: 0.2em; }
.description { color: #444; }
.verdict { font-size: 1.35em; background: #eef5fb; border-left: 6px solid #0072b2;
           padding: 0.8em 1em; margin: 1.2em 0; }
.meta { color: #666; font-size: 0.9em; }
table { border-collapse: collapse; margin: 1em 0; font-size: 0.95em; }
th, td { border-bottom: 1px solid #ddd; padding: 0.35em 0.8em; text-align: right; }
th:first-child, td:first-child { text-align: left; }
.swatch { display: inline-block; width: 0.9em; height: 0.9em; margin-right: 0.4em;
          vertical-align: -0.1em; border-radius: 2px; }
.scroll { overflow-x: auto; }
.scroll th:first-child, .scroll td:first-child { position: sticky; left: 0; background: #fff; }
figure { margin: 2em 0; }
figure svg { width: 100%; height: auto; border: 1px solid #eee; }
figcaption { color: #444; margin-top: 0.4em; }
.story { margin: 0.6em 0; }
.story summary { cursor: pointer; }
.story svg.spark { vertical-align: middle; margin-left: 0.8em; }
.story p { margin: 0.3em 0; color: #444; }
.story ul { margin: 0.3em 0 0.8em; padding-left: 1.4em; font-size: 0.92em; }
pre { background: #f7f7f7; padding: 1em; overflow-x: auto; font-size: 0.85em; }
";

/// Escapes text for HTML.
pub(super) fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// [`escape`] of a sentence whose percentages must stay whole on a narrow page: each space
/// before a `%` becomes a no-break space, so that "53.5" never ends one line and "%" starts the
/// next.
pub(super) fn escape_unbroken(text: &str) -> String {
    escape(text).replace(" %", "\u{a0}%")
}

/// An SVG document ready to inline in HTML5: no XML declaration, no namespace declaration
/// (HTML implies it, and the report then names no address at all), and a viewBox so that it
/// scales to the page.
pub(super) fn inline_svg(svg: &str) -> String {
    let body = match svg.find("<svg") {
        Some(start) => &svg[start..],
        None => svg,
    };
    let body = body.replacen(" xmlns=\"http://www.w3.org/2000/svg\"", "", 1);
    let opening_tag = &body[..body.find('>').unwrap_or(body.len())];
    if opening_tag.contains("viewBox") {
        return body;
    }
    let (width, height) = CHART_SIZE;
    body.replacen("<svg", &format!("<svg viewBox=\"0 0 {width} {height}\""), 1)
}

fn strategy_header(names: &[String]) -> String {
    names
        .iter()
        .enumerate()
        .map(|(idx, name)| {
            let hex = strategy_colour_hex(idx);
            format!(
                "<th><span class=\"swatch\" style=\"background:{hex}\"></span>{}</th>",
                escape(name)
            )
        })
        .collect()
}

/// The whole report.
pub fn html_report(
    results: &ExperimentResults,
    manifest: &Manifest,
    scenario: &Scenario,
    scenario_toml: &str,
    charts: &[RenderedChart],
    stories: &[Stories],
) -> String {
    let names = &results.strategy_names;
    let mut html = String::new();
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>relsim · {name}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{name}</h1>\n<p class=\"description\">{description}</p>\n\
         <p class=\"verdict\">{verdict}</p>\n\
         <p class=\"meta\">{replications} × {strategies} × {periods} months · \
         master seed {seed} · relsim&nbsp;{version} · {wall:.1}&nbsp;s on {threads} threads \
         ({speed})</p>\n",
        name = escape(&manifest.scenario_name),
        description = escape(
            &scenario
                .description()
                .split_whitespace()
                .collect::<Vec<_>>()
                .join(" ")
        ),
        verdict = escape_unbroken(&verdict(results)),
        replications = count(manifest.replications, "replication"),
        strategies = count(names.len() as u64, "strategy"),
        periods = manifest.periods,
        seed = manifest.master_seed,
        version = escape(&manifest.relsim_version),
        wall = manifest.wall_time_seconds,
        threads = manifest.threads,
        speed = escape(&manifest.speed_note_unbroken()),
    );

    if let Some(calibration) = scenario.calibration() {
        let _ = writeln!(
            html,
            "<h2>Calibration</h2>\n<p>{}</p>",
            escape(&calibration.describe())
        );
        // A fitted key edited since: the record no longer describes the scenario run.
        let edited: Vec<String> = calibration
            .fitted
            .iter()
            .filter(|f| {
                scenario
                    .value_of(&f.key)
                    .and_then(|v| v.as_float())
                    .is_none_or(|v| v != f.value)
            })
            .map(|f| f.key.clone())
            .collect();
        if !edited.is_empty() {
            let _ = writeln!(
                html,
                "<p class=\"meta\">Changed since the calibration (by the file or --set): {}. \
                 The fit above describes the calibrated values, not these.</p>",
                escape(&edited.join(", "))
            );
        }
        for warning in &calibration.warnings {
            let _ = writeln!(html, "<p class=\"meta\">Warning: {}</p>", escape(warning));
        }
    }

    let _ = write!(
        html,
        "<h2>Summary</h2>\n<p>Mean and [95 % confidence interval] across replications.</p>\n\
         <div class=\"scroll\"><table>\n<tr><th>metric</th>{}</tr>\n",
        strategy_header(names)
    );
    for &(metric, label, style) in TABLE_ROWS {
        let _ = write!(html, "<tr><td>{}</td>", escape(label));
        for idx in 0..names.len() {
            let _ = write!(
                html,
                "<td>{}</td>",
                escape(&cell(results.summary(idx, metric), style))
            );
        }
        html.push_str("</tr>\n");
    }
    html.push_str("</table></div>\n");

    if names.len() > 1 {
        html.push_str(
            "<h2>Paired comparisons of NPV</h2>\n<p>In each replication both strategies face the \
             same market, so their difference is measured pair by pair.</p>\n<table>\n\
             <tr><th>comparison</th><th>mean difference</th><th>95 % CI</th>\
             <th>first wins</th></tr>\n",
        );
        for c in listed_npv_comparisons(results) {
            let d = &c.difference;
            let _ = writeln!(
                html,
                "<tr><td>{} − {}</td><td>{}</td><td>[{}, {}]</td><td>{}</td></tr>",
                escape(&names[c.strategy_a]),
                escape(&names[c.strategy_b]),
                signed(d.interval.mean),
                signed(d.interval.ci_low),
                signed(d.interval.ci_high),
                if is_exact_tie(d) {
                    "tie in every replication".to_string()
                } else {
                    percent(d.p_a_better)
                }
            );
        }
        html.push_str("</table>\n");
        if names.len() > ALL_PAIRS_UP_TO {
            let _ = writeln!(
                html,
                "<p class=\"meta\">{}.</p>",
                escape(&only_leader_pairs())
            );
        }
    }

    html.push_str("<h2>Charts</h2>\n");
    for RenderedChart {
        spec: chart, svg, ..
    } in charts
    {
        let _ = write!(
            html,
            "<figure id=\"{id}\">\n<h3>{title}</h3>\n{svg}\n<figcaption>{caption}</figcaption>\n</figure>\n",
            id = chart.name,
            title = escape(chart.title),
            svg = inline_svg(svg),
            caption = escape(chart.caption),
        );
    }

    html.push_str(&stories_section(stories));

    let _ = write!(
        html,
        "<h2>Scenario parameters</h2>\n<p>The scenario exactly as run ({source}), every default \
         written out. It is also in <code>scenario.toml</code> beside this report.</p>\n\
         <pre>{toml}</pre>\n</body>\n</html>\n",
        source = escape(&manifest.scenario_source),
        toml = escape(scenario_toml),
    );
    html
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_svg_drops_the_declaration_and_adds_a_view_box() {
        let svg = "<?xml version=\"1.0\"?>\n<svg width=\"1600\" height=\"900\" \
                   xmlns=\"http://www.w3.org/2000/svg\"></svg>";
        assert_eq!(
            inline_svg(svg),
            "<svg viewBox=\"0 0 1600 900\" width=\"1600\" height=\"900\"></svg>"
        );
        let with_view_box = "<svg width=\"10\" viewBox=\"0 0 10 10\"></svg>";
        assert_eq!(inline_svg(with_view_box), with_view_box);
    }

    #[test]
    fn escape_covers_markup() {
        assert_eq!(escape("a<b & \"c\">"), "a&lt;b &amp; &quot;c&quot;&gt;");
    }

    #[test]
    fn unbroken_holds_percent_signs_to_their_numbers() {
        assert_eq!(
            escape_unbroken("best at 51.6 % [49.7 %, 53.5 %] & more"),
            "best at 51.6\u{a0}% [49.7\u{a0}%, 53.5\u{a0}%] &amp; more"
        );
    }
}
