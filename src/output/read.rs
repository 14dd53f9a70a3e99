//! Reading a finished output folder back: the CSV files into [`ExperimentResults`], the manifest
//! and the scenario. `relsim plot` and `relsim run` both draw charts from what this returns, so
//! charts and report depend on the files alone. Numbers are written in shortest round-trip form,
//! so what is read back is bit for bit what was computed.

use std::fs;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use crate::engine::{PeriodRecord, RunMetrics};
use crate::error::{Error, Result};
use crate::results::ExperimentResults;
use crate::results::{Comparison, MetricSummary, RunRow, RunTable, SeriesPoint};
use crate::scenario::{parse, Scenario};
use crate::stats::{Interval, PairedDifference, Summary};

use super::folder::check_integrity;
use super::{result_file_names, Manifest, MANIFEST_FILE};

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

/// Reads the results, manifest and scenario of an output folder written by `relsim run`, after
/// checking that its files are the ones its manifest lists.
pub fn load_output(dir: &Path) -> Result<OutputFolder> {
    if !dir.is_dir() {
        return Err(invalid(
            dir,
            "is not a folder; give the output folder of a `relsim run`",
        ));
    }
    let manifest_text = read(dir, MANIFEST_FILE)?;
    let manifest: Manifest = serde_json::from_str(&manifest_text)
        .map_err(|err| invalid(&dir.join(MANIFEST_FILE), &err.to_string()))?;
    if manifest.sweep.is_some() {
        return Err(invalid(
            dir,
            "holds the results of `relsim sweep`, which has no charts to redraw; give the output \
             folder of a `relsim run`",
        ));
    }
    check_integrity(dir, &manifest, &result_file_names())?;
    load_results(dir, manifest)
}

/// Reads the result files in `dir` of the run `manifest` describes. Each file is read in one
/// streaming pass, a line at a time, so memory holds the numbers, never the text.
pub fn load_results(dir: &Path, manifest: Manifest) -> Result<OutputFolder> {
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
    for_each_row(dir, "summary.csv", 10, |_, row| {
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
        Ok(())
    })?;
    let mut comparisons = Vec::new();
    for_each_row(dir, "comparisons.csv", 8, |_, row| {
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
        Ok(())
    })?;
    let mut timeseries = Vec::new();
    for_each_row(dir, "timeseries.csv", 8, |_, row| {
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
        Ok(())
    })?;
    let mut runs = RunTable::new(strategy_names.len(), manifest.replications as usize);
    for_each_row(dir, "runs.csv", 3 + RunMetrics::COUNT, |line, row| {
        let mut metrics = [0.0; RunMetrics::COUNT];
        for (slot, text) in metrics.iter_mut().zip(&row[3..]) {
            *slot = number(text);
        }
        let run = RunRow {
            strategy_idx: strategy_idx("runs.csv", &row[0])?,
            replication: row[1].parse().unwrap_or(0),
            seed: row[2].parse().unwrap_or(0),
            metrics: RunMetrics::from_values(metrics),
        };
        runs.push(&run)
            .map_err(|message| invalid(&dir.join("runs.csv"), &format!("line {line}: {message}")))
    })?;
    if !runs.is_complete() || runs.replications() as u64 != manifest.replications {
        return Err(invalid(
            &dir.join("runs.csv"),
            &format!(
                "holds {} complete replications, but manifest.json says {}",
                runs.replications(),
                manifest.replications
            ),
        ));
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

/// Calls `visit` with the line number (from 1) and fields of every data row of a CSV file, each
/// split into exactly `columns` fields, reading one line at a time.
fn for_each_row(
    dir: &Path,
    file: &str,
    columns: usize,
    mut visit: impl FnMut(usize, &[String]) -> Result<()>,
) -> Result<()> {
    let path = dir.join(file);
    let unreadable = |err: std::io::Error| {
        invalid(
            &path,
            &format!("cannot be read ({err}); is this the output folder of a `relsim run`?"),
        )
    };
    let reader = BufReader::new(fs::File::open(&path).map_err(unreadable)?);
    for (idx, line) in reader.lines().enumerate().skip(1) {
        let line = line.map_err(unreadable)?;
        let fields = split_csv_line(&line);
        if fields.len() != columns {
            return Err(invalid(
                &path,
                &format!(
                    "line {} has {} fields, expected {columns}",
                    idx + 1,
                    fields.len()
                ),
            ));
        }
        visit(idx + 1, &fields)?;
    }
    Ok(())
}

/// Splits one CSV line, honouring double quotes as the exporters write them.
fn split_csv_line(line: &str) -> Vec<String> {
    if !line.contains('"') {
        return line.split(',').map(str::to_string).collect();
    }
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
        assert_eq!(split_csv_line("a,,1.5"), vec!["a", "", "1.5"]);
    }
}
