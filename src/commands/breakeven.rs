//! `relsim breakeven`: where the paired NPV difference of two strategies crosses zero, along one
//! parameter (with a confidence interval on the crossing) or over two (the zero contour), run
//! as a grid sweep (docs/sweeps.md).

use std::fmt::Write as _;
use std::io::Write;
use std::path::PathBuf;

use super::sweep::{run_design, DesignRun};
use super::{OutputChoice, RunFacts, ScenarioChoice};
use crate::error::{Error, Result};
use crate::output::csv::{number, text as csv_text};
use crate::plot::breakeven::{render_png, render_svg, BreakevenChart};
use crate::report::format::human;
use crate::results::points::pair_quantity;
use crate::results::points::pairs;
use crate::stats::Interval;
use crate::sweep::breakeven::{crossings, zero_contour, Crossing, Direction};
use crate::sweep::PreparedSweep;

/// Options of `relsim breakeven`.
#[derive(Debug, Clone, Default)]
pub struct BreakevenOptions {
    /// The scenario; `replications` are those at every grid point.
    pub scenario: ScenarioChoice,
    /// One or two keys to vary.
    pub vary: Vec<String>,
    /// `[lo, hi]` of each key, in the order of `vary`.
    pub between: Vec<f64>,
    /// `A,B`: the difference is NPV of A minus NPV of B.
    pub pair: String,
    /// Grid points along each key (including both ends).
    pub points: u32,
    /// Worker threads; 0 means one per core.
    pub threads: usize,
    /// The result folder; default `outputs/<scenario name>_breakeven`.
    pub output: OutputChoice,
}

/// What `relsim breakeven` did.
#[derive(Debug, Clone)]
pub struct BreakevenReport {
    pub out_dir: PathBuf,
    pub text: String,
}

fn invalid(option: &str, message: String) -> Error {
    Error::InvalidOption {
        option: option.into(),
        message,
    }
}

/// `relsim breakeven`.
pub fn breakeven(options: &BreakevenOptions) -> Result<BreakevenReport> {
    let dims = options.vary.len();
    if !(1..=2).contains(&dims) {
        return Err(invalid(
            "--vary",
            format!("give one key (a crossing) or two (a frontier map), got {dims}"),
        ));
    }
    if options.between.len() != 2 * dims {
        return Err(invalid(
            "--between",
            format!(
                "give LO HI once per --vary ({} numbers for {dims} key{}), got {}",
                2 * dims,
                if dims == 1 { "" } else { "s" },
                options.between.len()
            ),
        ));
    }
    for (k, bounds) in options.between.chunks(2).enumerate() {
        if !(bounds[0].is_finite() && bounds[1].is_finite() && bounds[0] < bounds[1]) {
            return Err(invalid(
                "--between",
                format!(
                    "the range of {} must be two finite numbers, the lower first, got {} {}",
                    options.vary[k], bounds[0], bounds[1]
                ),
            ));
        }
    }
    let max_points = if dims == 1 { 201 } else { 41 };
    if !(3..=max_points).contains(&options.points) {
        return Err(invalid(
            "--points",
            format!(
                "must be from 3 to {max_points} with {dims} key{}, got {}",
                if dims == 1 { "" } else { "s" },
                options.points
            ),
        ));
    }
    // The grid: `points` evenly spaced values from LO to HI along each key.
    let grid: Vec<Vec<f64>> = options
        .between
        .chunks(2)
        .map(|b| {
            (0..options.points)
                .map(|j| b[0] + (b[1] - b[0]) * j as f64 / (options.points - 1) as f64)
                .collect()
        })
        .collect();
    let vary_tables: Vec<String> = options
        .vary
        .iter()
        .zip(&grid)
        .map(|(key, values)| {
            let listed: Vec<String> = values.iter().map(|v| format!("{v:?}")).collect();
            format!(
                "{{key={}, values=[{}]}}",
                toml_string(key),
                listed.join(", ")
            )
        })
        .collect();
    let mut on_grid = options.scenario.clone();
    on_grid.overrides.push("design={kind=\"grid\"}".into());
    on_grid
        .overrides
        .push(format!("vary=[{}]", vary_tables.join(", ")));
    let (source, scenario, applied) = on_grid.load()?;
    let names: Vec<String> = scenario
        .strategies()
        .iter()
        .map(|s| s.name.clone())
        .collect();
    let (a, b) = pair_indices(&options.pair, &names)?;
    let prepared = PreparedSweep::new(&scenario, &source.name)?;
    let mut folder = options.output.stage(&scenario, "_breakeven")?;

    let n_points = prepared.points.len();
    let (results, info, wall_time) = run_design(
        &scenario,
        &prepared,
        &names,
        &mut folder,
        &DesignRun {
            threads: options.threads,
            output: &options.output,
            message: format!("finding the break-even of {} − {}", names[a], names[b]),
        },
        super::sweep::UnitSource::Simulate,
    )?;

    // The paired difference A − B at every point (grid order: the last key varies fastest).
    let pair_idx = pairs(names.len())
        .iter()
        .position(|&p| p == (a.min(b), a.max(b)))
        .expect("a pair of two distinct strategies");
    let difference: Vec<Interval> = results
        .columns(&[pair_quantity(names.len(), pair_idx)])
        .map_err(|source| Error::Write {
            path: folder.staging_path().to_path_buf(),
            source,
        })?
        .swap_remove(0)
        .into_iter()
        .map(|d| if a < b { d } else { d.negated() })
        .collect();
    let label = format!("{} − {}", names[a], names[b]);
    let keys = &options.vary;
    let mut text = format!(
        "relsim breakeven · {} · NPV of {label} · {} points × {} replications · {:.1} s\n",
        scenario.name(),
        n_points,
        scenario.replications(),
        wall_time
    );
    let chart = if dims == 1 {
        let x = &grid[0];
        let found = crossings(x, &difference);
        folder.write("breakeven.csv", |out| {
            writeln!(out, "{},mean,sd,ci_low,ci_high,n", csv_text(&keys[0]))?;
            for (xi, d) in x.iter().zip(&difference) {
                write_interval(out, &number(*xi).to_string(), d)?;
            }
            Ok(())
        })?;
        folder.write("crossings.csv", |out| {
            writeln!(out, "key,crossing,ci_low,ci_high,direction")?;
            for c in &found {
                writeln!(
                    out,
                    "{},{},{},{},{}",
                    csv_text(&keys[0]),
                    number(c.at),
                    c.low.map_or(String::new(), |v| number(v).to_string()),
                    c.high.map_or(String::new(), |v| number(v).to_string()),
                    match c.direction {
                        Direction::Rising => "rising",
                        Direction::Falling => "falling",
                    }
                )?;
            }
            Ok(())
        })?;
        text.push_str(&profile_text(&keys[0], x, &difference, &label));
        text.push_str(&crossings_text(&keys[0], x, &found, &names[a], &names[b]));
        BreakevenChart::Profile {
            key: keys[0].clone(),
            label: label.clone(),
            x: x.clone(),
            difference: difference.clone(),
            crossings: found,
        }
    } else {
        let (x, y) = (&grid[1], &grid[0]);
        // Rows follow the first key, columns the second.
        let values: Vec<Vec<f64>> = difference
            .chunks(x.len())
            .map(|row| row.iter().map(|d| d.mean).collect())
            .collect();
        let contour = zero_contour(x, y, &values);
        folder.write("breakeven.csv", |out| {
            writeln!(
                out,
                "{},{},mean,sd,ci_low,ci_high,n",
                csv_text(&keys[0]),
                csv_text(&keys[1])
            )?;
            for (p, d) in difference.iter().enumerate() {
                let (r, c) = (p / x.len(), p % x.len());
                write_interval(out, &format!("{},{}", number(y[r]), number(x[c])), d)?;
            }
            Ok(())
        })?;
        folder.write("contour.csv", |out| {
            writeln!(
                out,
                "{k1}_from,{k0}_from,{k1}_to,{k0}_to",
                k0 = csv_text(&keys[0]),
                k1 = csv_text(&keys[1])
            )?;
            for ((x0, y0), (x1, y1)) in &contour {
                writeln!(
                    out,
                    "{},{},{},{}",
                    number(*x0),
                    number(*y0),
                    number(*x1),
                    number(*y1)
                )?;
            }
            Ok(())
        })?;
        let better_a = difference.iter().filter(|d| d.ci_low > 0.0).count();
        let better_b = difference.iter().filter(|d| d.ci_high < 0.0).count();
        let _ = writeln!(
            text,
            "\nover the {} × {} grid of {} and {}: {} better at {} points, {} at {}, \
             undecided (95 % interval of the difference contains 0) at {}; the zero contour has \
             {} segments (contour.csv, breakeven.png)",
            y.len(),
            x.len(),
            keys[0],
            keys[1],
            names[a],
            better_a,
            names[b],
            better_b,
            difference.len() - better_a - better_b,
            contour.len()
        );
        BreakevenChart::Map {
            keys: [keys[0].clone(), keys[1].clone()],
            label: label.clone(),
            x: x.clone(),
            y: y.clone(),
            difference: difference.clone(),
            contour,
        }
    };
    let svg = render_svg(&chart)?;
    folder.write("breakeven.svg", |out| out.write_all(svg.as_bytes()))?;
    let png = render_png(&chart)?;
    folder.write("breakeven.png", |out| out.write_all(&png))?;
    folder.write("scenario.toml", |out| {
        out.write_all(scenario.to_toml().as_bytes())
    })?;
    let manifest = RunFacts {
        source: &source,
        scenario: &scenario,
        overrides: &applied,
        strategies: names.clone(),
        replications: scenario.replications() as u64,
        threads: info.threads,
        wall_time,
        customer_steps: info.customer_steps,
        active_customer_steps: info.active_customer_steps,
        time_split: info.time_split,
    }
    .manifest();
    let out_dir = folder.commit(manifest)?;
    Ok(BreakevenReport { out_dir, text })
}

fn write_interval(out: &mut dyn Write, prefix: &str, d: &Interval) -> std::io::Result<()> {
    writeln!(
        out,
        "{prefix},{},{},{},{},{}",
        number(d.mean),
        number(d.sd),
        number(d.ci_low),
        number(d.ci_high),
        d.n
    )
}

/// A key as a TOML string (keys hold letters, digits, dots and underscores; anything else is
/// escaped by the TOML writer).
fn toml_string(key: &str) -> String {
    toml::Value::String(key.to_string()).to_string()
}

/// `A,B` as strategy indices.
pub(super) fn pair_indices(pair: &str, names: &[String]) -> Result<(usize, usize)> {
    let parts: Vec<&str> = pair.split(',').map(str::trim).collect();
    let find = |name: &str| names.iter().position(|n| n == name);
    match parts.as_slice() {
        [a, b] if a != b => match (find(a), find(b)) {
            (Some(a), Some(b)) => Ok((a, b)),
            _ => Err(invalid(
                "--pair",
                format!(
                    "{pair:?} must name two of the scenario's strategies: {}",
                    names.join(", ")
                ),
            )),
        },
        _ => Err(invalid(
            "--pair",
            format!(
                "give two different strategies as A,B (the difference is A minus B), got \
                 {pair:?}; the scenario's are: {}",
                names.join(", ")
            ),
        )),
    }
}

fn profile_text(key: &str, x: &[f64], difference: &[Interval], label: &str) -> String {
    let mut text = format!("\n  {key:>28}  NPV of {label} [95% CI]\n");
    for (xi, d) in x.iter().zip(difference) {
        let _ = writeln!(
            text,
            "  {:>28}  {} [{}, {}]",
            format!("{xi:.6}")
                .trim_end_matches('0')
                .trim_end_matches('.'),
            signed(d.mean),
            signed(d.ci_low),
            signed(d.ci_high)
        );
    }
    text
}

pub(super) fn signed(value: f64) -> String {
    if value > 0.0 {
        format!("+{}", human(value))
    } else {
        human(value)
    }
}

fn crossings_text(key: &str, x: &[f64], found: &[Crossing], a: &str, b: &str) -> String {
    let (lo, hi) = (x[0], x[x.len() - 1]);
    if found.is_empty() {
        return format!(
            "\nno break-even between {key} = {lo} and {hi}: the difference keeps its sign over \
             the whole range\n"
        );
    }
    let mut text = String::new();
    for c in found {
        let bound =
            |v: Option<f64>, fallback: &str| v.map_or(fallback.to_string(), |v| format!("{v:.4}"));
        let (below, above) = match c.direction {
            Direction::Rising => (b, a),
            Direction::Falling => (a, b),
        };
        let _ = writeln!(
            text,
            "\nbreak-even: {key} = {:.4}, 95 % interval [{}, {}]; below it {below} earns more, \
             above it {above}",
            c.at,
            bound(c.low, &format!("below {lo}")),
            bound(c.high, &format!("above {hi}")),
        );
    }
    text
}
