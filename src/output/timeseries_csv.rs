//! `timeseries.csv`: per (strategy, period, metric) the mean across replications with its CI.

use std::io::{self, Write};

use super::csv::{number, text};
use super::{ExportInput, Exporter};

pub struct TimeseriesCsv;

impl Exporter for TimeseriesCsv {
    fn file_name(&self) -> &'static str {
        "timeseries.csv"
    }

    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()> {
        let results = input.results;
        writeln!(out, "strategy,period,metric,mean,sd,ci_low,ci_high,n")?;
        for point in &results.timeseries {
            let i = &point.interval;
            writeln!(
                out,
                "{},{},{},{},{},{},{},{}",
                text(&results.strategy_names[point.strategy_idx]),
                point.period,
                point.metric,
                number(i.mean),
                number(i.sd),
                number(i.ci_low),
                number(i.ci_high),
                i.n
            )?;
        }
        Ok(())
    }
}
