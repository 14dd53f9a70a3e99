//! `summary.csv`: one row per (strategy, metric) with mean, SD, 95 % CI, quantiles and n.

use std::io::{self, Write};

use super::csv::{number, text};
use super::{ExportInput, Exporter};

pub struct SummaryCsv;

impl Exporter for SummaryCsv {
    fn file_name(&self) -> &'static str {
        "summary.csv"
    }

    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()> {
        let results = input.results;
        writeln!(out, "strategy,metric,mean,sd,ci_low,ci_high,p05,p50,p95,n")?;
        for row in &results.summaries {
            let s = &row.summary;
            writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{}",
                text(&results.strategy_names[row.strategy_idx]),
                row.metric,
                number(s.interval.mean),
                number(s.interval.sd),
                number(s.interval.ci_low),
                number(s.interval.ci_high),
                number(s.p05),
                number(s.p50),
                number(s.p95),
                s.interval.n
            )?;
        }
        Ok(())
    }
}
