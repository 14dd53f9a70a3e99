//! The report's "Customers' stories": each story's narrative with a small chart of its trust
//! and commitment, period by period (inline SVG, no script).

use std::fmt::Write;

use super::html::escape;
use crate::stories::{narrate, PathPoint, Stories, Story};

/// Width and height of a story's sparkline, in CSS pixels.
const SPARK_WIDTH: f64 = 240.0;
const SPARK_HEIGHT: f64 = 44.0;
/// Trust's and commitment's colours (the Okabe–Ito blue and vermillion of the charts).
const TRUST_COLOUR: &str = "#0072b2";
const COMMITMENT_COLOUR: &str = "#d55e00";

/// The section, one part per strategy; empty when there are no stories.
pub fn stories_section(all: &[Stories]) -> String {
    if all.iter().all(|s| s.stories.is_empty()) {
        return String::new();
    }
    let mut html = String::new();
    let first = &all[0];
    let _ = write!(
        html,
        "<h2 id=\"stories\">Customers' stories</h2>\n<p>A few customers of replication {} \
         followed through the run under each strategy: a replay of the simulated replication, \
         not a second model. The small charts show <span style=\"color:{TRUST_COLOUR}\">trust</span> \
         and <span style=\"color:{COMMITMENT_COLOUR}\">commitment</span> (0 to 1) at the end of \
         each {} the customer was a customer in. <code>relsim stories</code> tells more.</p>\n",
        first.replication, first.period_word,
    );
    for stories in all {
        let _ = writeln!(html, "<h3>{}</h3>", escape(&stories.strategy));
        for (story_idx, story) in stories.stories.iter().enumerate() {
            // The first story of each strategy is open, the others a click away.
            let open = story_idx == 0;
            html.push_str(&story_html(
                story,
                &stories.period_word,
                stories.periods,
                open,
            ));
        }
    }
    html
}

fn story_html(story: &Story, period_word: &str, horizon: u32, open: bool) -> String {
    let text = narrate(story, period_word, horizon);
    let mut lines = text.lines();
    let heading = lines.next().unwrap_or_default();
    let who = lines.next().unwrap_or_default();
    let mut html = format!(
        "<details class=\"story\"{}>\n<summary><strong>{}</strong> {}</summary>\n<p>{}</p>\n<ul>\n",
        if open { " open" } else { "" },
        escape(heading),
        sparkline(&story.path, horizon),
        escape(who),
    );
    for line in lines {
        let _ = writeln!(html, "<li>{}</li>", escape(line.trim()));
    }
    html.push_str("</ul>\n</details>\n");
    html
}

/// Trust and commitment over `0..=horizon`, broken where the customer was not a customer.
pub fn sparkline(path: &[PathPoint], horizon: u32) -> String {
    let x = |period: u32| 2.0 + (SPARK_WIDTH - 4.0) * period as f64 / horizon.max(1) as f64;
    let y = |value: f64| 2.0 + (SPARK_HEIGHT - 4.0) * (1.0 - value.clamp(0.0, 1.0));
    let mut svg = format!(
        "<svg class=\"spark\" width=\"{SPARK_WIDTH}\" height=\"{SPARK_HEIGHT}\" \
         viewBox=\"0 0 {SPARK_WIDTH} {SPARK_HEIGHT}\" role=\"img\" \
         aria-label=\"trust and commitment by period\">\
         <title>trust (blue) and commitment (orange) from period 0 to {horizon}</title>\
         <rect x=\"0.5\" y=\"0.5\" width=\"{}\" height=\"{}\" fill=\"#fafafa\" stroke=\"#ddd\"/>\
         <line x1=\"1\" x2=\"{}\" y1=\"{mid}\" y2=\"{mid}\" stroke=\"#e4e4e4\"/>",
        SPARK_WIDTH - 1.0,
        SPARK_HEIGHT - 1.0,
        SPARK_WIDTH - 1.0,
        mid = y(0.5),
    );
    for (colour, value) in [
        (
            TRUST_COLOUR,
            (|p: &PathPoint| p.trust) as fn(&PathPoint) -> f64,
        ),
        (COMMITMENT_COLOUR, |p: &PathPoint| p.commitment),
    ] {
        for spell in spells(path) {
            let points: Vec<String> = spell
                .iter()
                .map(|p| format!("{:.1},{:.1}", x(p.period), y(value(p))))
                .collect();
            if points.len() == 1 {
                let p = &spell[0];
                let _ = write!(
                    svg,
                    "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"1.5\" fill=\"{colour}\"/>",
                    x(p.period),
                    y(value(p))
                );
            } else {
                let _ = write!(
                    svg,
                    "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"1.5\" \
                     points=\"{}\"/>",
                    points.join(" ")
                );
            }
        }
    }
    svg.push_str("</svg>");
    svg
}

/// The path cut where periods are missing (the customer had left).
fn spells(path: &[PathPoint]) -> Vec<&[PathPoint]> {
    let mut spells = Vec::new();
    let mut start = 0;
    for i in 1..=path.len() {
        if i == path.len() || path[i].period != path[i - 1].period + 1 {
            if start < i {
                spells.push(&path[start..i]);
            }
            start = i;
        }
    }
    spells
}

#[cfg(test)]
mod tests {
    use super::*;

    fn point(period: u32) -> PathPoint {
        PathPoint {
            period,
            trust: 0.5,
            commitment: 0.25,
        }
    }

    #[test]
    fn a_path_breaks_where_the_customer_was_away() {
        let path: Vec<PathPoint> = [0, 1, 2, 5, 6, 9].into_iter().map(point).collect();
        let lengths: Vec<usize> = spells(&path).iter().map(|s| s.len()).collect();
        assert_eq!(lengths, [3, 2, 1]);
        assert!(spells(&[]).is_empty());
        let svg = sparkline(&path, 10);
        // Two spells drawn as lines and one as a dot, for trust and for commitment.
        assert_eq!(svg.matches("<polyline").count(), 4);
        assert_eq!(svg.matches("<circle").count(), 2);
        // Trust 0.5 sits half way down; commitment 0.25 three quarters down.
        assert!(svg.contains(&format!("2.0,{:.1}", 2.0 + 40.0 * 0.5)));
        assert!(svg.contains(&format!("2.0,{:.1}", 2.0 + 40.0 * 0.75)));
    }
}
