//! `runs.csv`: one row per (strategy, replication) with its seed and every per-run metric.

use std::io::{self, Write};

use super::csv::{number, text};
use super::{ExportInput, Exporter};
use crate::engine::RunMetrics;

pub struct RunsCsv;

impl Exporter for RunsCsv {
    fn file_name(&self) -> &'static str {
        "runs.csv"
    }

    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()> {
        let results = input.results;
        writeln!(
            out,
            "strategy,replication,seed,{}",
            RunMetrics::NAMES.join(",")
        )?;
        for row in results.runs.rows() {
            write!(
                out,
                "{},{},{}",
                text(&results.strategy_names[row.strategy_idx]),
                row.replication,
                row.seed
            )?;
            for value in row.metrics.values() {
                write!(out, ",{}", number(value))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}
