//! `comparisons.csv`: for each pair of strategies and each metric, the paired difference `a − b`
//! with its CI and the share of replications in which `a` did better.

use std::io::{self, Write};

use super::csv::{number, text};
use super::{ExportInput, Exporter};

pub struct ComparisonsCsv;

impl Exporter for ComparisonsCsv {
    fn file_name(&self) -> &'static str {
        "comparisons.csv"
    }

    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()> {
        let results = input.results;
        writeln!(
            out,
            "strategy_a,strategy_b,metric,mean_diff,ci_low,ci_high,p_a_better,n"
        )?;
        for row in &results.comparisons {
            let d = &row.difference;
            writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                text(&results.strategy_names[row.strategy_a]),
                text(&results.strategy_names[row.strategy_b]),
                row.metric,
                number(d.interval.mean),
                number(d.interval.ci_low),
                number(d.interval.ci_high),
                number(d.p_a_better),
                d.interval.n
            )?;
        }
        Ok(())
    }
}
