//! The comparison table printed after a run, and the one-sentence verdict.

use std::fmt::Write;

use super::format::{human, percent, signed, unit};
use crate::results::Comparison;
use crate::results::ExperimentResults;
use crate::stats::{PairedDifference, Summary};

/// How a metric is shown in the table.
#[derive(Clone, Copy)]
pub(crate) enum Style {
    Money,
    Count,
    Share,
    Unit,
}

/// The rows of the comparison table: metric, label, style.
pub(crate) const TABLE_ROWS: &[(&str, &str, Style)] = &[
    ("npv", "NPV of profit", Style::Money),
    ("clv", "customer lifetime value", Style::Money),
    ("cac", "acquisition cost per customer", Style::Money),
    ("retention", "monthly retention", Style::Share),
    ("final_active", "final active customers", Style::Count),
    ("customer_trust", "customer trust", Style::Unit),
    ("customer_commitment", "customer commitment", Style::Unit),
    ("supplier_trust", "supplier trust", Style::Unit),
    ("supplier_commitment", "supplier commitment", Style::Unit),
    ("distributor_trust", "distributor trust", Style::Unit),
    (
        "distributor_commitment",
        "distributor commitment",
        Style::Unit,
    ),
];

fn show(value: f64, style: Style) -> String {
    match style {
        Style::Money | Style::Count => human(value),
        Style::Share => percent(value),
        Style::Unit => unit(value),
    }
}

/// A mean with its 95 % CI, formatted for `style`.
pub(crate) fn cell(summary: Option<&Summary>, style: Style) -> String {
    // Shares and scores live in [0, 1] and counts are never negative; with few replications
    // the t-interval can reach past that, which the table does not repeat.
    let bounded = |value: f64| match style {
        Style::Share | Style::Unit => value.clamp(0.0, 1.0),
        Style::Count => value.max(0.0),
        Style::Money => value,
    };
    match summary {
        Some(s) => format!(
            "{} [{}, {}]",
            show(s.interval.mean, style),
            show(bounded(s.interval.ci_low), style),
            show(bounded(s.interval.ci_high), style)
        ),
        None => "n/a".to_string(),
    }
}

/// Pairwise NPV differences are listed for up to this many strategies; with more, each strategy
/// is compared with the leader only (16 strategies would otherwise give 120 lines).
pub(crate) const ALL_PAIRS_UP_TO: usize = 4;

/// The table of means with 95 % CIs, the paired NPV differences and the verdict. The table is
/// split into blocks of strategies so that no line is wider than `max_width` characters (when
/// one strategy's column alone is wider, it gets a block of its own).
pub fn terminal_report(results: &ExperimentResults, title: &str, max_width: usize) -> String {
    let names = &results.strategy_names;
    let label_width = TABLE_ROWS.iter().map(|r| r.1.len()).max().unwrap_or(0) + 2;
    let cells: Vec<Vec<String>> = TABLE_ROWS
        .iter()
        .map(|&(metric, _, style)| {
            (0..names.len())
                .map(|idx| cell(results.summary(idx, metric), style))
                .collect()
        })
        .collect();
    let column_width: Vec<usize> = (0..names.len())
        .map(|idx| {
            cells
                .iter()
                .map(|row| row[idx].chars().count())
                .chain([names[idx].chars().count()])
                .max()
                .unwrap_or(0)
                + 3
        })
        .collect();
    let mut blocks: Vec<Vec<usize>> = vec![Vec::new()];
    let mut used = label_width;
    for (idx, &width) in column_width.iter().enumerate() {
        // A block takes columns while they fit; a column too wide alone gets a block of its own.
        let block_has_columns = used > label_width;
        if block_has_columns && used + width > max_width {
            blocks.push(Vec::new());
            used = label_width;
        }
        blocks.last_mut().expect("blocks is never empty").push(idx);
        used += width;
    }

    let mut text = String::new();
    let _ = writeln!(text, "{title}");
    let _ = writeln!(
        text,
        "mean [95% confidence interval] over {}",
        count(results.replications, "replication")
    );
    for block in &blocks {
        let _ = writeln!(text);
        let mut line = format!("{:label_width$}", "");
        for &idx in block {
            line.push_str(&pad(&names[idx], column_width[idx]));
        }
        let _ = writeln!(text, "{}", line.trim_end());
        for (row_idx, &(_, label, _)) in TABLE_ROWS.iter().enumerate() {
            let mut line = format!("{label:label_width$}");
            for &idx in block {
                line.push_str(&pad(&cells[row_idx][idx], column_width[idx]));
            }
            let _ = writeln!(text, "{}", line.trim_end());
        }
    }

    if names.len() > 1 {
        let _ = writeln!(text);
        let _ = writeln!(
            text,
            "paired NPV differences (each replication gives both strategies the same market):"
        );
        for comparison in listed_npv_comparisons(results) {
            let d = &comparison.difference;
            let (a, b) = (&names[comparison.strategy_a], &names[comparison.strategy_b]);
            if is_exact_tie(d) {
                let _ = writeln!(text, "  {a} − {b}: the same NPV in every replication");
                continue;
            }
            let _ = writeln!(
                text,
                "  {a} − {b}: {} [{}, {}]; {a} wins {} of replications, {b} {}",
                signed(d.interval.mean),
                signed(d.interval.ci_low),
                signed(d.interval.ci_high),
                percent(d.p_a_better),
                percent(1.0 - d.p_a_better),
            );
        }
        if names.len() > ALL_PAIRS_UP_TO {
            let _ = writeln!(text, "  ({})", only_leader_pairs());
        }
    }
    let _ = writeln!(text);
    let _ = writeln!(text, "verdict: {}", verdict(results));
    text
}

/// Whether a paired difference is zero in every replication: a zero-width interval around
/// zero. (Its share of "wins" counts each tie as half, which would read as a coin toss.)
pub(crate) fn is_exact_tie(difference: &PairedDifference) -> bool {
    let interval = &difference.interval;
    (interval.mean, interval.ci_low, interval.ci_high) == (0.0, 0.0, 0.0)
}

/// Why not every pair is listed, when there are many strategies.
pub(crate) fn only_leader_pairs() -> String {
    format!(
        "with more than {ALL_PAIRS_UP_TO} strategies only the pairs with the leader are listed; \
         comparisons.csv has every pair"
    )
}

/// The paired NPV comparisons a report lists: every pair for up to [`ALL_PAIRS_UP_TO`]
/// strategies, else only the pairs that involve the leader.
pub(crate) fn listed_npv_comparisons(
    results: &ExperimentResults,
) -> impl Iterator<Item = &Comparison> {
    let all_pairs = results.strategy_names.len() <= ALL_PAIRS_UP_TO;
    let leader = results.leader("npv").map(|lead| lead.best);
    results.comparisons.iter().filter(move |c| {
        c.metric == "npv"
            && (all_pairs || Some(c.strategy_a) == leader || Some(c.strategy_b) == leader)
    })
}

/// `text` left-aligned in `width` characters (not bytes: names may hold any letters).
fn pad(text: &str, width: usize) -> String {
    let len = text.chars().count();
    format!("{text}{}", " ".repeat(width.saturating_sub(len)))
}

/// `count(1, "replication")` is "1 replication", `count(3, "strategy")` "3 strategies".
pub fn count(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else if let Some(stem) = noun.strip_suffix('y') {
        format!("{n} {stem}ies")
    } else {
        format!("{n} {noun}s")
    }
}

/// One plain sentence: which strategy has the highest mean NPV, by how much over the runner-up,
/// and how sure we are.
pub fn verdict(results: &ExperimentResults) -> String {
    let names = &results.strategy_names;
    let Some(lead) = results.leader("npv") else {
        return match names.first() {
            Some(only) => format!(
                "{only} is the only strategy, so there is nothing to compare it with; mean NPV {}",
                human(
                    results
                        .summary(0, "npv")
                        .map_or(f64::NAN, |s| s.interval.mean)
                )
            ),
            None => "no strategies were run".to_string(),
        };
    };
    let (best, runner_up) = (&names[lead.best], &names[lead.runner_up]);
    let d = lead.difference;
    let (mean, low, high) = (d.interval.mean, d.interval.ci_low, d.interval.ci_high);
    if is_exact_tie(&d) {
        return format!(
            "{best} and {runner_up} tie exactly: they give the same NPV in every one of {} (what \
             sets them apart does not change this market), mean NPV {}",
            count(d.interval.n, "replication"),
            human(
                results
                    .summary(lead.best, "npv")
                    .map_or(f64::NAN, |s| s.interval.mean)
            )
        );
    }
    if low > 0.0 {
        format!(
            "{best} beats {runner_up} in {} of {}; NPV {}, 95% CI [{}, {}]",
            percent(d.p_a_better),
            count(d.interval.n, "replication"),
            signed(mean),
            signed(low),
            signed(high)
        )
    } else {
        format!(
            "no clear winner: {best} leads {runner_up} by NPV {} but the 95% CI [{}, {}] includes \
             zero ({best} wins {} of {}); run more replications to separate them",
            signed(mean),
            signed(low),
            signed(high),
            percent(d.p_a_better),
            count(d.interval.n, "replication")
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::Interval;

    #[test]
    fn share_intervals_stay_within_zero_and_one() {
        let summary = Summary {
            interval: Interval {
                mean: 0.99,
                sd: 0.05,
                ci_low: 0.93,
                ci_high: 1.05,
                n: 2,
            },
            p05: 0.95,
            p50: 0.99,
            p95: 1.0,
        };
        assert_eq!(cell(Some(&summary), Style::Share), "99.0% [93.0%, 100.0%]");
        assert_eq!(cell(Some(&summary), Style::Money), "0.99 [0.93, 1.05]");
    }
}
