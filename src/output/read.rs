//! Reading a finished output folder back: the CSV files into [`ExperimentResults`], the manifest
//! and the scenario. `relsim plot` and `relsim run` both draw charts from what this returns, so
//! charts and report depend on the files alone. Numbers are written in shortest round-trip form,
//! so what is read back is bit for bit what was computed.

use std::fs;
use std::path::{Path, PathBuf};

use crate::engine::{PeriodRecord, RunMetrics};
use crate::error::{Error, Result};
use crate::experiment::collector::{Comparison, MetricSummary, RunRow, SeriesPoint};
use crate::experiment::ExperimentResults;
use crate::scenario::{parse, Scenario};
use crate::stats::{Interval, PairedDifference, Summary};

use super::Manifest;

/// Everything a finished run left in its folder.
#[derive(Debug, Clone)]
pub struct OutputFolder {
    pub dir: PathBuf,
    pub results: ExperimentResults,
    pub manifest: Manifest,
    pub scenario: Scenario,
    /// `scenario.toml` as written.
    pub scenario_text: String,
}

/// Reads the results, manifest and scenario of an output folder written by `relsim run`.
pub fn load_output(dir: &Path) -> Result<OutputFolder> {
    if !dir.is_dir() {
        return Err(invalid(
            dir,
            "is not a folder; give the output folder of a `relsim run`",
        ));
    }
    let manifest_text = read(dir, "manifest.json")?;
    let manifest: Manifest = serde_json::from_str(&manifest_text)
        .map_err(|err| invalid(&dir.join("manifest.json"), &err.to_string()))?;
    let scenario_text = read(dir, "scenario.toml")?;
    let scenario_path = dir.join("scenario.toml");
    let scenario = parse(&scenario_text, &scenario_path.display().to_string(), &[])?;
    let strategy_names = manifest.strategies.clone();
    let strategy_idx = |file: &str, name: &str| {
        strategy_names
            .iter()
            .position(|n| n == name)
            .ok_or_else(|| invalid(&dir.join(file), &format!("unknown strategy {name:?}")))
    };

    let mut summaries = Vec::new();
    for row in rows(dir, "summary.csv", 10)? {
        summaries.push(MetricSummary {
            strategy_idx: strategy_idx("summary.csv", &row[0])?,
            metric: run_metric(dir, "summary.csv", &row[1])?,
            summary: Summary {
                interval: interval(&row[2..6], &row[9]),
                p05: number(&row[6]),
                p50: number(&row[7]),
                p95: number(&row[8]),
            },
        });
    }
    let mut comparisons = Vec::new();
    for row in rows(dir, "comparisons.csv", 8)? {
        let n = &row[7];
        comparisons.push(Comparison {
            strategy_a: strategy_idx("comparisons.csv", &row[0])?,
            strategy_b: strategy_idx("comparisons.csv", &row[1])?,
            metric: run_metric(dir, "comparisons.csv", &row[2])?,
            difference: PairedDifference {
                interval: Interval {
                    mean: number(&row[3]),
                    sd: f64::NAN,
                    ci_low: number(&row[4]),
                    ci_high: number(&row[5]),
                    n: n.parse().unwrap_or(0),
                },
                p_a_better: number(&row[6]),
            },
        });
    }
    let mut timeseries = Vec::new();
    for row in rows(dir, "timeseries.csv", 8)? {
        let metric = PeriodRecord::NAMES
            .iter()
            .copied()
            .find(|&m| m == row[2])
            .ok_or_else(|| {
                invalid(
                    &dir.join("timeseries.csv"),
                    &format!("unknown metric {:?}", row[2]),
                )
            })?;
        timeseries.push(SeriesPoint {
            strategy_idx: strategy_idx("timeseries.csv", &row[0])?,
            period: row[1].parse().map_err(|_| {
                invalid(
                    &dir.join("timeseries.csv"),
                    &format!("bad period {:?}", row[1]),
                )
            })?,
            metric,
            interval: interval(&row[3..7], &row[7]),
        });
    }
    let mut runs = Vec::new();
    for row in rows(dir, "runs.csv", 3 + RunMetrics::COUNT)? {
        let mut metrics = [0.0; RunMetrics::COUNT];
        for (slot, text) in metrics.iter_mut().zip(&row[3..]) {
            *slot = number(text);
        }
        runs.push(RunRow {
            strategy_idx: strategy_idx("runs.csv", &row[0])?,
            replication: row[1].parse().unwrap_or(0),
            seed: row[2].parse().unwrap_or(0),
            metrics: RunMetrics::from_values(metrics),
        });
    }
    Ok(OutputFolder {
        dir: dir.to_path_buf(),
        results: ExperimentResults {
            strategy_names,
            replications: manifest.replications,
            runs,
            summaries,
            comparisons,
            timeseries,
        },
        manifest,
        scenario,
        scenario_text,
    })
}

fn invalid(path: &Path, message: &str) -> Error {
    Error::InvalidOutput {
        path: path.to_path_buf(),
        message: message.to_string(),
    }
}

fn read(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    fs::read_to_string(&path).map_err(|err| {
        invalid(
            &path,
            &format!("cannot be read ({err}); is this the output folder of a `relsim run`?"),
        )
    })
}

/// The data rows of a CSV file, each split into exactly `columns` fields.
fn rows(dir: &Path, file: &str, columns: usize) -> Result<Vec<Vec<String>>> {
    let text = read(dir, file)?;
    text.lines()
        .skip(1)
        .enumerate()
        .map(|(idx, line)| {
            let fields = split_csv_line(line);
            if fields.len() == columns {
                Ok(fields)
            } else {
                Err(invalid(
                    &dir.join(file),
                    &format!(
                        "line {} has {} fields, expected {columns}",
                        idx + 2,
                        fields.len()
                    ),
                ))
            }
        })
        .collect()
}

/// Splits one CSV line, honouring double quotes as the exporters write them.
fn split_csv_line(line: &str) -> Vec<String> {
    let mut fields = Vec::new();
    let mut field = String::new();
    let mut quoted = false;
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(std::mem::take(&mut field)),
            _ => field.push(c),
        }
    }
    fields.push(field);
    fields
}

fn number(text: &str) -> f64 {
    if text.is_empty() {
        f64::NAN
    } else {
        text.parse().unwrap_or(f64::NAN)
    }
}

/// `mean, sd, ci_low, ci_high` and `n` as an [`Interval`].
fn interval(fields: &[String], n: &str) -> Interval {
    Interval {
        mean: number(&fields[0]),
        sd: number(&fields[1]),
        ci_low: number(&fields[2]),
        ci_high: number(&fields[3]),
        n: n.parse().unwrap_or(0),
    }
}

fn run_metric(dir: &Path, file: &str, name: &str) -> Result<&'static str> {
    RunMetrics::NAMES
        .iter()
        .copied()
        .find(|&m| m == name)
        .ok_or_else(|| invalid(&dir.join(file), &format!("unknown metric {name:?}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_lines_split_with_quotes() {
        assert_eq!(
            split_csv_line("a,\"b,c\",,\"d\"\"e\""),
            vec!["a", "b,c", "", "d\"e"]
        );
    }
}
