//! The tidy files of a sweep (docs/sweeps.md): their columns, and writers that stream rows.
//!
//! | file | one row per |
//! |---|---|
//! | `runs.csv` | point × strategy × replication |
//! | `points.csv` | point × strategy × metric, and point × pair (paired NPV difference) |
//! | `sensitivity.csv` | quantity × parameter × index (Sobol and Morris designs) |
//! | `robustness.csv` | strategy |
//! | `seed_noise.csv` | strategy × metric |
//! | `salib_problem.json`, `salib_X.txt`, `salib_Y.csv` | a SALib problem, its sample matrix and outputs |

use std::borrow::Cow;
use std::io::{self, Write};

use super::analysis::{Robustness, SensitivityRow};
use super::points::PreparedSweep;
use crate::engine::RunMetrics;
use crate::output::csv::{number, text};
use crate::results::points::{quantity_keys, PointResults, UnitResult};

pub const RUNS_FILE: &str = "runs.csv";
pub const POINTS_FILE: &str = "points.csv";
pub const SENSITIVITY_FILE: &str = "sensitivity.csv";
pub const ROBUSTNESS_FILE: &str = "robustness.csv";
pub const SEED_NOISE_FILE: &str = "seed_noise.csv";
pub const SALIB_PROBLEM_FILE: &str = "salib_problem.json";
pub const SALIB_SAMPLE_FILE: &str = "salib_X.txt";
pub const SALIB_OUTPUTS_FILE: &str = "salib_Y.csv";

/// The columns of `runs.csv`: the point, each varied key, then as `relsim run`'s runs.csv.
pub fn runs_columns(sweep: &PreparedSweep) -> Vec<String> {
    let mut columns = vec!["point".to_string()];
    columns.extend(sweep.parameters.iter().map(|p| p.key.clone()));
    columns.extend(["strategy", "replication", "seed"].map(String::from));
    columns.extend(RunMetrics::NAMES.iter().map(|m| m.to_string()));
    columns
}

/// The columns of `points.csv`. `versus` is empty for a strategy's own metric and names the
/// other strategy for a paired difference (`strategy` minus `versus`).
pub fn points_columns(sweep: &PreparedSweep) -> Vec<String> {
    let mut columns = vec!["point".to_string()];
    columns.extend(sweep.parameters.iter().map(|p| p.key.clone()));
    columns.extend(
        [
            "strategy", "versus", "metric", "mean", "sd", "ci_low", "ci_high", "n",
        ]
        .map(String::from),
    );
    columns
}

pub const SENSITIVITY_COLUMNS: [&str; 8] = [
    "metric",
    "strategy",
    "parameter",
    "method",
    "index",
    "estimate",
    "ci_low",
    "ci_high",
];

fn header(out: &mut dyn Write, columns: &[String]) -> io::Result<()> {
    let quoted: Vec<_> = columns.iter().map(|c| text(c).into_owned()).collect();
    writeln!(out, "{}", quoted.join(","))
}

/// A point's coordinates as CSV fields: numbers as numbers, other values as text.
fn point_fields(sweep: &PreparedSweep, point: usize) -> String {
    let mut fields = point.to_string();
    for value in sweep.values(point) {
        fields.push(',');
        match value {
            toml::Value::Float(x) => fields.push_str(&number(x).to_string()),
            toml::Value::Integer(i) => fields.push_str(&i.to_string()),
            toml::Value::Boolean(b) => fields.push_str(&b.to_string()),
            toml::Value::String(s) => fields.push_str(&text(&s)),
            other => fields.push_str(&text(&other.to_string())),
        }
    }
    fields
}

/// Writes `runs.csv` a unit at a time.
pub struct RunsWriter<'a> {
    sweep: &'a PreparedSweep,
    strategy_names: &'a [String],
}

impl<'a> RunsWriter<'a> {
    pub fn new(
        sweep: &'a PreparedSweep,
        strategy_names: &'a [String],
        out: &mut dyn Write,
    ) -> io::Result<Self> {
        header(out, &runs_columns(sweep))?;
        Ok(Self {
            sweep,
            strategy_names,
        })
    }

    pub fn write(&self, unit: &UnitResult, out: &mut dyn Write) -> io::Result<()> {
        let fields = point_fields(self.sweep, unit.point as usize);
        for (s, metrics) in unit.metrics.iter().enumerate() {
            write!(
                out,
                "{fields},{},{},{}",
                text(&self.strategy_names[s]),
                unit.replication,
                unit.seed
            )?;
            for value in metrics.values() {
                write!(out, ",{}", number(value))?;
            }
            writeln!(out)?;
        }
        Ok(())
    }
}

/// Writes `points.csv`.
pub fn write_points(
    sweep: &PreparedSweep,
    results: &PointResults,
    strategy_names: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    header(out, &points_columns(sweep))?;
    let keys = quantity_keys(strategy_names.len());
    results.for_each_point(|point, intervals| {
        let fields = point_fields(sweep, point);
        for (key, i) in keys.iter().zip(intervals) {
            writeln!(
                out,
                "{fields},{},{},{},{},{},{},{},{}",
                text(&strategy_names[key.strategy]),
                key.versus
                    .map_or(Cow::Borrowed(""), |b| text(&strategy_names[b])),
                key.metric,
                number(i.mean),
                number(i.sd),
                number(i.ci_low),
                number(i.ci_high),
                i.n
            )?;
        }
        Ok(())
    })
}

/// Writes `sensitivity.csv`.
pub fn write_sensitivity(rows: &[SensitivityRow], out: &mut dyn Write) -> io::Result<()> {
    writeln!(out, "{}", SENSITIVITY_COLUMNS.join(","))?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{}",
            text(&r.metric),
            text(&r.strategy),
            text(&r.parameter),
            r.method,
            r.index,
            number(r.estimate.estimate),
            number(r.estimate.ci_low),
            number(r.estimate.ci_high)
        )?;
    }
    Ok(())
}

/// Writes `robustness.csv`.
pub fn write_robustness(rows: &[Robustness], out: &mut dyn Write) -> io::Result<()> {
    writeln!(
        out,
        "strategy,p_best,p_best_ci_low,p_best_ci_high,expected_regret,regret_ci_low,\
         regret_ci_high,worst_regret,points"
    )?;
    for r in rows {
        writeln!(
            out,
            "{},{},{},{},{},{},{},{},{}",
            text(&r.strategy),
            number(r.p_best.estimate),
            number(r.p_best.ci_low),
            number(r.p_best.ci_high),
            number(r.expected_regret.mean),
            number(r.expected_regret.ci_low),
            number(r.expected_regret.ci_high),
            number(r.worst_regret),
            r.expected_regret.n
        )?;
    }
    Ok(())
}

/// Writes `seed_noise.csv`: for each strategy and metric, the share of its variance over the
/// sweep's runs that lies between replications at the same point.
pub fn write_seed_noise(
    results: &PointResults,
    strategy_names: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    writeln!(out, "strategy,metric,seed_noise_share")?;
    for (s, name) in strategy_names.iter().enumerate() {
        for (idx, metric) in RunMetrics::NAMES.iter().enumerate() {
            writeln!(
                out,
                "{},{metric},{}",
                text(name),
                number(results.noise_share(s, idx))
            )?;
        }
    }
    Ok(())
}

/// The SALib problem of a sweep (`salib_problem.json`): `num_vars`, `names` and `bounds` (each
/// distribution's range), plus relsim's `distributions`. With SALib's own Saltelli and Morris
/// orders matching relsim's (`[A, AB₁ … AB_k, B]` per base row; trajectory after trajectory),
/// `sobol.analyze(problem, Y[:, j], calc_second_order=False)` and
/// `morris.analyze(problem, X, Y[:, j], num_levels=L)` recompute the indices in Python.
pub fn salib_problem(sweep: &PreparedSweep) -> serde_json::Value {
    use super::design::Distribution;
    let bounds: Vec<[f64; 2]> = sweep
        .parameters
        .iter()
        .map(|p| match &p.distribution {
            Distribution::Uniform { lo, hi }
            | Distribution::LogUniform { lo, hi }
            | Distribution::Triangular { lo, hi, .. }
            | Distribution::Normal { lo, hi, .. } => [*lo, *hi],
            Distribution::Values { values } => [0.0, values.len() as f64],
        })
        .collect();
    serde_json::json!({
        "num_vars": sweep.parameters.len(),
        "names": sweep.parameters.iter().map(|p| p.key.clone()).collect::<Vec<_>>(),
        "bounds": bounds,
        "distributions": sweep.parameters,
        "layout": sweep.layout,
    })
}

/// Writes `salib_X.txt`: the sample matrix, one row per point in design order, each value as
/// the scenario used it (a listed non-numeric value as its index in the list).
pub fn write_salib_sample(sweep: &PreparedSweep, out: &mut dyn Write) -> io::Result<()> {
    for point in 0..sweep.points.len() {
        let row: Vec<String> = sweep
            .values(point)
            .iter()
            .zip(sweep.points.unit(point))
            .zip(&sweep.parameters)
            .map(|((value, &u), parameter)| match value {
                toml::Value::Float(x) => number(*x).to_string(),
                toml::Value::Integer(i) => i.to_string(),
                _ => {
                    let n = match &parameter.distribution {
                        super::design::Distribution::Values { values } => values.len(),
                        _ => 1,
                    };
                    ((u * n as f64) as usize).min(n - 1).to_string()
                }
            })
            .collect();
        writeln!(out, "{}", row.join(" "))?;
    }
    Ok(())
}

/// Writes `salib_Y.csv`: one column per quantity (`metric:strategy`), one row per point, each
/// the mean over the point's replications.
pub fn write_salib_outputs(
    results: &PointResults,
    strategy_names: &[String],
    out: &mut dyn Write,
) -> io::Result<()> {
    let names: Vec<String> = quantity_keys(strategy_names.len())
        .iter()
        .map(|q| text(&format!("{}:{}", q.metric, q.label(strategy_names))).into_owned())
        .collect();
    writeln!(out, "{}", names.join(","))?;
    results.for_each_point(|_, intervals| {
        let row: Vec<String> = intervals
            .iter()
            .map(|i| number(i.mean).to_string())
            .collect();
        writeln!(out, "{}", row.join(","))
    })
}
