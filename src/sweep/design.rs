//! Designs: which points of parameter space a sweep visits (docs/sweeps.md).
//!
//! A scenario file describes a design with one `[design]` table and one `[[vary]]` table per
//! uncertain parameter. [`DesignSpec`] and [`VarySpec`] are those tables as written;
//! [`Design::new`] checks them and [`Design::points`] lays out the points. Every design draws in
//! the unit cube `[0, 1)ᵏ` and maps each coordinate through its parameter's quantile function
//! ([`super::quantiles`]), so the same unit point means the same quantiles whatever the
//! distributions.

use serde::{Deserialize, Serialize};

use super::quantiles;
use crate::model::rng::{mix64, Xoshiro256PlusPlus};
pub use crate::stats::sensitivity::MorrisStep;

/// The largest base sample a Sobol design may have (the sequence's length).
pub const MAX_SOBOL_SAMPLES: u32 = 1 << 16;
/// The most parameters a Sobol design may vary (two sequence dimensions each).
pub const MAX_SOBOL_PARAMETERS: usize = 128;
/// The most points any design may have.
pub const MAX_POINTS: u64 = 10_000_000;

/// How the points are chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DesignKind {
    /// Every combination of every parameter's values (or `levels` quantiles).
    Grid,
    /// The `values` of every parameter, zipped: the i-th point takes every parameter's i-th value.
    List,
    /// A Latin hypercube of `samples` points.
    Lhs,
    /// Saltelli's scheme for Sobol indices: `samples` base rows (a power of two), each giving
    /// `k + 2` points.
    Sobol,
    /// Morris trajectories: `samples` trajectories of `k + 1` points over `levels` levels.
    Morris,
}

impl DesignKind {
    pub fn name(self) -> &'static str {
        match self {
            DesignKind::Grid => "grid",
            DesignKind::List => "list",
            DesignKind::Lhs => "lhs",
            DesignKind::Sobol => "sobol",
            DesignKind::Morris => "morris",
        }
    }
}

/// The `[design]` table as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DesignSpec {
    pub kind: DesignKind,
    /// `lhs`: points; `sobol`: base rows (a power of two); `morris`: trajectories (default 10).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub samples: Option<u32>,
    /// `grid`: quantiles taken of each continuous distribution (default 5); `morris`: levels of
    /// each parameter's grid (an even number, default 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub levels: Option<u32>,
    /// Seed of the design's own random numbers (LHS permutations, Sobol scrambling, Morris
    /// trajectories); default: the scenario's seed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
}

/// One `[[vary]]` table as written: a key and exactly one distribution.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VarySpec {
    /// Any key `--set` accepts: `market.word_of_mouth`, `strategies.1.price_level`.
    pub key: String,
    /// `[lo, hi]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uniform: Option<Vec<f64>>,
    /// `[lo, hi]`, both above 0: uniform in the logarithm.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_uniform: Option<Vec<f64>>,
    /// `[lo, mode, hi]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub triangular: Option<Vec<f64>>,
    /// `[mean, sd]` (truncated at three standard deviations) or `[mean, sd, lo, hi]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normal: Option<Vec<f64>>,
    /// An explicit list of values: numbers, booleans or strings.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub values: Option<Vec<toml::Value>>,
}

/// A parameter's distribution, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "distribution", rename_all = "snake_case")]
pub enum Distribution {
    Uniform {
        lo: f64,
        hi: f64,
    },
    LogUniform {
        lo: f64,
        hi: f64,
    },
    Triangular {
        lo: f64,
        mode: f64,
        hi: f64,
    },
    Normal {
        mean: f64,
        sd: f64,
        lo: f64,
        hi: f64,
    },
    Values {
        values: Vec<toml::Value>,
    },
}

impl Distribution {
    /// The value at quantile `u ∈ [0, 1)`. A number for continuous distributions; for
    /// `values`, the `⌊u·n⌋`-th value.
    pub fn at(&self, u: f64) -> toml::Value {
        let number = match *self {
            Distribution::Uniform { lo, hi } => quantiles::uniform(u, lo, hi),
            Distribution::LogUniform { lo, hi } => quantiles::log_uniform(u, lo, hi),
            Distribution::Triangular { lo, mode, hi } => quantiles::triangular(u, lo, mode, hi),
            Distribution::Normal { mean, sd, lo, hi } => {
                quantiles::truncated_normal(u, mean, sd, lo, hi)
            }
            Distribution::Values { ref values } => {
                let idx = ((u * values.len() as f64) as usize).min(values.len() - 1);
                return values[idx].clone();
            }
        };
        toml::Value::Float(number)
    }

    /// The lowest and highest values it can give, for checking the key accepts them.
    pub fn extremes(&self) -> Vec<toml::Value> {
        match self {
            Distribution::Uniform { lo, hi } | Distribution::LogUniform { lo, hi } => {
                vec![toml::Value::Float(*lo), toml::Value::Float(*hi)]
            }
            Distribution::Triangular { lo, hi, .. } | Distribution::Normal { lo, hi, .. } => {
                vec![toml::Value::Float(*lo), toml::Value::Float(*hi)]
            }
            Distribution::Values { values } => values.clone(),
        }
    }

    /// The `n` levels of a grid: every value of a list, or the quantiles at `(j + ½)/n`.
    fn grid_levels(&self, n: u32) -> Vec<f64> {
        match self {
            Distribution::Values { values } => (0..values.len())
                .map(|j| (j as f64 + 0.5) / values.len() as f64)
                .collect(),
            _ => (0..n).map(|j| (j as f64 + 0.5) / n as f64).collect(),
        }
    }

    pub fn describe(&self) -> String {
        // Bounds computed as mean ± 3 sd carry rounding noise: show ten decimals at most.
        let tidy = |x: f64| {
            let text = format!("{x:.10}");
            text.trim_end_matches('0').trim_end_matches('.').to_string()
        };
        let (lo, hi, mode, mean, sd) = match *self {
            Distribution::Uniform { lo, hi } | Distribution::LogUniform { lo, hi } => (
                tidy(lo),
                tidy(hi),
                String::new(),
                String::new(),
                String::new(),
            ),
            Distribution::Triangular { lo, mode, hi } => {
                (tidy(lo), tidy(hi), tidy(mode), String::new(), String::new())
            }
            Distribution::Normal { mean, sd, lo, hi } => {
                (tidy(lo), tidy(hi), String::new(), tidy(mean), tidy(sd))
            }
            Distribution::Values { .. } => Default::default(),
        };
        match self {
            Distribution::Uniform { .. } => format!("uniform on [{lo}, {hi}]"),
            Distribution::LogUniform { .. } => format!("log-uniform on [{lo}, {hi}]"),
            Distribution::Triangular { .. } => {
                format!("triangular on [{lo}, {hi}], mode {mode}")
            }
            Distribution::Normal { .. } => {
                format!("normal ({mean}, sd {sd}) truncated to [{lo}, {hi}]")
            }
            Distribution::Values { values } => format!("{} listed values", values.len()),
        }
    }
}

/// One varied parameter, checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    pub key: String,
    #[serde(flatten)]
    pub distribution: Distribution,
}

impl Parameter {
    /// A line for the terminal: `market.word_of_mouth: uniform on [0.01, 0.04]`.
    pub fn describe(&self) -> String {
        format!("{}: {}", self.key, self.distribution.describe())
    }
}

/// A problem with a design, with the key it concerns (`design.samples`, `vary[2].uniform`).
#[derive(Debug, Clone, PartialEq)]
pub struct DesignError {
    pub key: String,
    pub message: String,
}

fn problem(key: impl Into<String>, message: impl Into<String>) -> DesignError {
    DesignError {
        key: key.into(),
        message: message.into(),
    }
}

/// How a design's points relate, for the estimators.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum Layout {
    /// Points with no structure the analyses use (grid, list, LHS).
    Plain,
    /// Base row `j` of a Sobol design is points `j·(k + 2) ..`: `A`, then `AB₁ … AB_k` (`A`
    /// with column `i` from `B`), then `B`.
    Saltelli { base_rows: u32 },
    /// Trajectory `t` is points `t·(k + 1) ..`; point `s + 1` differs from point `s` by
    /// `steps[t][s]`.
    Morris {
        trajectories: u32,
        levels: u32,
        steps: Vec<Vec<MorrisStep>>,
    },
}

/// A design's points in the unit cube, in order: `len()` rows of one coordinate per
/// parameter, stored flat (a sweep of any size holds 8 bytes per coordinate, nothing more).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct UnitPoints {
    parameters: usize,
    coordinates: Vec<f64>,
}

impl UnitPoints {
    fn with_capacity(parameters: usize, points: usize) -> Self {
        Self {
            parameters,
            coordinates: Vec::with_capacity(parameters * points),
        }
    }

    fn push(&mut self, unit: &[f64]) {
        debug_assert_eq!(unit.len(), self.parameters);
        self.coordinates.extend_from_slice(unit);
    }

    /// How many points.
    pub fn len(&self) -> usize {
        self.coordinates
            .len()
            .checked_div(self.parameters)
            .unwrap_or(0)
    }

    pub fn is_empty(&self) -> bool {
        self.coordinates.is_empty()
    }

    /// The coordinates of point `idx`, one per parameter.
    pub fn unit(&self, idx: usize) -> &[f64] {
        &self.coordinates[idx * self.parameters..(idx + 1) * self.parameters]
    }

    /// Every point's coordinates, in order.
    pub fn iter(&self) -> impl Iterator<Item = &[f64]> + '_ {
        self.coordinates.chunks(self.parameters.max(1))
    }
}

/// A checked design: its kind, parameters and sizes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Design {
    pub kind: DesignKind,
    pub parameters: Vec<Parameter>,
    /// `lhs`, `sobol`, `morris`: as in [`DesignSpec::samples`], defaults filled in.
    pub samples: u32,
    /// `grid`, `morris`: as in [`DesignSpec::levels`], defaults filled in.
    pub levels: u32,
    pub seed: u64,
}

impl Design {
    /// Checks a `[design]` table and its `[[vary]]` tables. `scenario_seed` is the design's
    /// seed unless it names its own.
    pub fn new(
        spec: &DesignSpec,
        vary: &[VarySpec],
        scenario_seed: u64,
    ) -> Result<Design, DesignError> {
        if vary.is_empty() {
            return Err(problem(
                "vary",
                "a design needs at least one [[vary]] table naming a key and its distribution",
            ));
        }
        let parameters = vary
            .iter()
            .enumerate()
            .map(|(idx, v)| parameter(idx, v))
            .collect::<Result<Vec<_>, _>>()?;
        for (idx, p) in parameters.iter().enumerate() {
            if let Some(first) = parameters[..idx].iter().position(|q| q.key == p.key) {
                return Err(problem(
                    format!("vary[{idx}].key"),
                    format!("{} is already varied by vary[{first}]", p.key),
                ));
            }
        }
        let k = parameters.len();
        let kind = spec.kind;
        let needs = |what: &str| {
            problem(
                "design.samples",
                format!("a {} design needs samples = {what}", kind.name()),
            )
        };
        let (samples, levels) = match kind {
            DesignKind::Grid => {
                let levels = spec.levels.unwrap_or(5);
                if !(2..=1000).contains(&levels) {
                    return Err(problem(
                        "design.levels",
                        format!("must be a whole number from 2 to 1000, got {levels}"),
                    ));
                }
                (0, levels)
            }
            DesignKind::List => {
                let lengths: Vec<Option<usize>> = parameters
                    .iter()
                    .map(|p| match &p.distribution {
                        Distribution::Values { values } => Some(values.len()),
                        _ => None,
                    })
                    .collect();
                if let Some(idx) = lengths.iter().position(Option::is_none) {
                    return Err(problem(
                        format!("vary[{idx}]"),
                        "a list design zips explicit values: give every [[vary]] `values = [...]`",
                    ));
                }
                let first = lengths[0].unwrap_or(0);
                if let Some(idx) = lengths.iter().position(|&n| n != Some(first)) {
                    return Err(problem(
                        format!("vary[{idx}].values"),
                        format!(
                            "a list design needs as many values for every key: vary[0] has \
                             {first}, vary[{idx}] has {}",
                            lengths[idx].unwrap_or(0)
                        ),
                    ));
                }
                (first as u32, 0)
            }
            DesignKind::Lhs => {
                let samples = spec.samples.ok_or_else(|| needs("the number of points"))?;
                if samples < 2 {
                    return Err(problem(
                        "design.samples",
                        format!("a Latin hypercube needs at least 2 points, got {samples}"),
                    ));
                }
                (samples, 0)
            }
            DesignKind::Sobol => {
                let samples = spec
                    .samples
                    .ok_or_else(|| needs("the base sample, a power of two such as 256"))?;
                if !samples.is_power_of_two() || !(2..=MAX_SOBOL_SAMPLES).contains(&samples) {
                    return Err(problem(
                        "design.samples",
                        format!(
                            "the base sample of a Sobol design must be a power of two from 2 to \
                             {MAX_SOBOL_SAMPLES}, got {samples} (try {})",
                            samples.clamp(2, MAX_SOBOL_SAMPLES).next_power_of_two()
                        ),
                    ));
                }
                if k > MAX_SOBOL_PARAMETERS {
                    return Err(problem(
                        "vary",
                        format!(
                            "a Sobol design varies at most {MAX_SOBOL_PARAMETERS} parameters, \
                             got {k}"
                        ),
                    ));
                }
                (samples, 0)
            }
            DesignKind::Morris => {
                let samples = spec.samples.unwrap_or(10);
                if samples < 2 {
                    return Err(problem(
                        "design.samples",
                        format!("Morris screening needs at least 2 trajectories, got {samples}"),
                    ));
                }
                let levels = spec.levels.unwrap_or(4);
                if levels < 2 || !levels.is_multiple_of(2) || levels > 1000 {
                    return Err(problem(
                        "design.levels",
                        format!(
                            "Morris levels must be an even number from 2 to 1000, got {levels}"
                        ),
                    ));
                }
                (samples, levels)
            }
        };
        let design = Design {
            kind,
            parameters,
            samples,
            levels,
            seed: spec.seed.unwrap_or(scenario_seed),
        };
        let count = design.point_count();
        if count > MAX_POINTS {
            return Err(problem(
                "design",
                format!("this design has {count} points; at most {MAX_POINTS} are allowed"),
            ));
        }
        Ok(design)
    }

    /// How many points the design has.
    pub fn point_count(&self) -> u64 {
        let k = self.parameters.len() as u64;
        match self.kind {
            DesignKind::Grid => self
                .parameters
                .iter()
                .map(|p| match &p.distribution {
                    Distribution::Values { values } => values.len() as u64,
                    _ => self.levels as u64,
                })
                .fold(1u64, |acc, n| acc.saturating_mul(n)),
            DesignKind::List | DesignKind::Lhs => self.samples as u64,
            DesignKind::Sobol => self.samples as u64 * (k + 2),
            DesignKind::Morris => self.samples as u64 * (k + 1),
        }
    }

    /// The points, in order, and how they relate.
    pub fn points(&self) -> (UnitPoints, Layout) {
        match self.kind {
            DesignKind::Grid => (self.grid_units(), Layout::Plain),
            DesignKind::List => (self.list_units(), Layout::Plain),
            DesignKind::Lhs => (self.lhs_units(), Layout::Plain),
            DesignKind::Sobol => (
                self.saltelli_units(),
                Layout::Saltelli {
                    base_rows: self.samples,
                },
            ),
            DesignKind::Morris => {
                let (units, steps) = self.morris_units();
                (
                    units,
                    Layout::Morris {
                        trajectories: self.samples,
                        levels: self.levels,
                        steps,
                    },
                )
            }
        }
    }

    /// The value each parameter takes at the point with coordinates `unit`.
    pub fn values_at(&self, unit: &[f64]) -> Vec<toml::Value> {
        self.parameters
            .iter()
            .zip(unit)
            .map(|(p, &u)| p.distribution.at(u))
            .collect()
    }

    /// Every combination of the parameters' levels, the last parameter varying fastest.
    fn grid_units(&self) -> UnitPoints {
        let axes: Vec<Vec<f64>> = self
            .parameters
            .iter()
            .map(|p| p.distribution.grid_levels(self.levels))
            .collect();
        let count = self.point_count() as usize;
        let mut units = UnitPoints::with_capacity(axes.len(), count);
        let mut level = vec![0usize; axes.len()];
        let mut unit = vec![0.0; axes.len()];
        for _ in 0..count {
            for (dim, axis) in axes.iter().enumerate() {
                unit[dim] = axis[level[dim]];
            }
            units.push(&unit);
            // Odometer: advance the last axis, carrying into the ones before it.
            for dim in (0..axes.len()).rev() {
                level[dim] += 1;
                if level[dim] < axes[dim].len() {
                    break;
                }
                level[dim] = 0;
            }
        }
        units
    }

    fn list_units(&self) -> UnitPoints {
        let n = self.samples as usize;
        let k = self.parameters.len();
        let mut units = UnitPoints::with_capacity(k, n);
        for i in 0..n {
            units.push(&vec![(i as f64 + 0.5) / n as f64; k]);
        }
        units
    }

    /// A Latin hypercube: each parameter's range cut into `n` equal strata, each stratum used
    /// once, a uniform position within it, strata matched across parameters at random.
    fn lhs_units(&self) -> UnitPoints {
        let n = self.samples as usize;
        let k = self.parameters.len();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix64(self.seed ^ 0x4c48_5300));
        let mut units = UnitPoints {
            parameters: k,
            coordinates: vec![0.0; n * k],
        };
        let mut strata: Vec<u32> = Vec::with_capacity(n);
        for dim in 0..k {
            strata.clear();
            strata.extend(0..n as u32);
            // Fisher–Yates.
            for i in (1..n).rev() {
                let j = rng.below(i as u32 + 1) as usize;
                strata.swap(i, j);
            }
            for (row, &stratum) in strata.iter().enumerate() {
                units.coordinates[row * k + dim] = (stratum as f64 + rng.uniform()) / n as f64;
            }
        }
        units
    }

    /// Saltelli's (2010) layout from an Owen-scrambled Sobol sequence of `2k` dimensions: the
    /// first `k` give matrix `A`, the last `k` matrix `B`.
    fn saltelli_units(&self) -> UnitPoints {
        let k = self.parameters.len();
        let scramble = (mix64(self.seed) >> 32) as u32;
        let mut units = UnitPoints::with_capacity(k, self.point_count() as usize);
        let mut a = vec![0.0; k];
        let mut b = vec![0.0; k];
        for row in 0..self.samples {
            let draw = |dim: usize| f64::from(sobol_burley::sample(row, dim as u32, scramble));
            for dim in 0..k {
                a[dim] = draw(dim);
                b[dim] = draw(k + dim);
            }
            units.push(&a);
            for i in 0..k {
                let kept = a[i];
                a[i] = b[i];
                units.push(&a);
                a[i] = kept;
            }
            units.push(&b);
        }
        units
    }

    /// Morris (1991) trajectories on a grid of `p` levels `{0, 1/(p−1), …, 1}` with the step
    /// `Δ = p / (2(p − 1))`: a random start, then each parameter in a random order moves once by
    /// `+Δ` or `−Δ`, whichever stays on the grid (chosen at random where both do). Unit
    /// coordinates are the grid values, so the quantile functions map 0 and 1 to the ends of
    /// each distribution's range (a normal's truncation bounds).
    fn morris_units(&self) -> (UnitPoints, Vec<Vec<MorrisStep>>) {
        let k = self.parameters.len();
        let p = self.levels;
        let grid = |level: u32| level as f64 / (p - 1) as f64;
        let jump = p / 2; // Δ in levels.
        let delta = jump as f64 / (p - 1) as f64;
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(mix64(self.seed ^ 0x4d4f_5252));
        let mut units = UnitPoints::with_capacity(k, self.point_count() as usize);
        let mut steps = Vec::with_capacity(self.samples as usize);
        let mut unit = vec![0.0; k];
        let mut push = |units: &mut UnitPoints, levels: &[u32]| {
            for (u, &l) in unit.iter_mut().zip(levels) {
                *u = grid(l);
            }
            units.push(&unit);
        };
        for _ in 0..self.samples {
            let mut levels: Vec<u32> = (0..k).map(|_| rng.below(p)).collect();
            let mut order: Vec<usize> = (0..k).collect();
            for i in (1..k).rev() {
                let j = rng.below(i as u32 + 1) as usize;
                order.swap(i, j);
            }
            push(&mut units, &levels);
            let mut trajectory = Vec::with_capacity(k);
            for &dim in &order {
                let can_rise = levels[dim] + jump < p;
                let can_fall = levels[dim] >= jump;
                let rise = match (can_rise, can_fall) {
                    (true, true) => rng.below(2) == 0,
                    (rise, _) => rise,
                };
                if rise {
                    levels[dim] += jump;
                } else {
                    levels[dim] -= jump;
                }
                trajectory.push(MorrisStep {
                    parameter: dim,
                    delta: if rise { delta } else { -delta },
                });
                push(&mut units, &levels);
            }
            steps.push(trajectory);
        }
        (units, steps)
    }
}

/// Checks one `[[vary]]` table.
fn parameter(idx: usize, v: &VarySpec) -> Result<Parameter, DesignError> {
    let here = |field: &str| format!("vary[{idx}].{field}");
    if v.key.trim().is_empty() {
        return Err(problem(
            here("key"),
            "must name a scenario key, as --set does",
        ));
    }
    // A sweep's replications must meet the same markets at every point, and the design cannot
    // vary itself.
    let root = v.key.trim().split('.').next().unwrap_or_default();
    if [
        "seed",
        "replications",
        "name",
        "description",
        "design",
        "vary",
    ]
    .contains(&root)
    {
        return Err(problem(
            here("key"),
            format!(
                "{} cannot be varied: a sweep keeps the seed, the replications and its own \
                 design fixed; vary a parameter of the market or a strategy's lever",
                v.key
            ),
        ));
    }
    let given: Vec<&str> = [
        ("uniform", v.uniform.is_some()),
        ("log_uniform", v.log_uniform.is_some()),
        ("triangular", v.triangular.is_some()),
        ("normal", v.normal.is_some()),
        ("values", v.values.is_some()),
    ]
    .iter()
    .filter(|(_, present)| *present)
    .map(|(name, _)| *name)
    .collect();
    if given.len() != 1 {
        return Err(problem(
            format!("vary[{idx}]"),
            format!(
                "{} needs exactly one of uniform, log_uniform, triangular, normal or values; got {}",
                v.key,
                if given.is_empty() {
                    "none".to_string()
                } else {
                    given.join(" and ")
                }
            ),
        ));
    }
    let finite = |field: &str, numbers: &[f64], count: &[usize]| {
        if !count.contains(&numbers.len()) {
            let wanted = count
                .iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(" or ");
            return Err(problem(
                here(field),
                format!("{}: needs {wanted} numbers, got {}", v.key, numbers.len()),
            ));
        }
        if let Some(bad) = numbers.iter().find(|x| !x.is_finite()) {
            return Err(problem(
                here(field),
                format!("{}: every number must be finite, got {bad}", v.key),
            ));
        }
        Ok(())
    };
    let increasing = |field: &str, lo: f64, hi: f64| {
        if lo < hi {
            Ok(())
        } else {
            Err(problem(
                here(field),
                format!(
                    "{}: the lower bound must be below the upper, got [{lo}, {hi}]",
                    v.key
                ),
            ))
        }
    };
    let distribution = if let Some(b) = &v.uniform {
        finite("uniform", b, &[2])?;
        increasing("uniform", b[0], b[1])?;
        Distribution::Uniform { lo: b[0], hi: b[1] }
    } else if let Some(b) = &v.log_uniform {
        finite("log_uniform", b, &[2])?;
        increasing("log_uniform", b[0], b[1])?;
        if b[0] <= 0.0 {
            return Err(problem(
                here("log_uniform"),
                format!(
                    "{}: both bounds must be above 0, got [{}, {}]",
                    v.key, b[0], b[1]
                ),
            ));
        }
        Distribution::LogUniform { lo: b[0], hi: b[1] }
    } else if let Some(b) = &v.triangular {
        finite("triangular", b, &[3])?;
        increasing("triangular", b[0], b[2])?;
        if !(b[0]..=b[2]).contains(&b[1]) {
            return Err(problem(
                here("triangular"),
                format!(
                    "{}: [lo, mode, hi] needs lo ≤ mode ≤ hi, got [{}, {}, {}]",
                    v.key, b[0], b[1], b[2]
                ),
            ));
        }
        Distribution::Triangular {
            lo: b[0],
            mode: b[1],
            hi: b[2],
        }
    } else if let Some(b) = &v.normal {
        finite("normal", b, &[2, 4])?;
        let (mean, sd) = (b[0], b[1]);
        if sd <= 0.0 {
            return Err(problem(
                here("normal"),
                format!(
                    "{}: the standard deviation must be above 0, got {sd}",
                    v.key
                ),
            ));
        }
        let (lo, hi) = if b.len() == 4 {
            (b[2], b[3])
        } else {
            (mean - 3.0 * sd, mean + 3.0 * sd)
        };
        increasing("normal", lo, hi)?;
        if !(lo..=hi).contains(&mean) {
            return Err(problem(
                here("normal"),
                format!(
                    "{}: the truncation bounds [{lo}, {hi}] must contain the mean {mean}",
                    v.key
                ),
            ));
        }
        Distribution::Normal { mean, sd, lo, hi }
    } else {
        let values = v.values.clone().unwrap_or_default();
        if values.is_empty() {
            return Err(problem(
                here("values"),
                format!("{}: needs at least one value", v.key),
            ));
        }
        Distribution::Values { values }
    };
    Ok(Parameter {
        key: v.key.trim().to_string(),
        distribution,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vary(key: &str, uniform: [f64; 2]) -> VarySpec {
        VarySpec {
            key: key.into(),
            uniform: Some(uniform.to_vec()),
            log_uniform: None,
            triangular: None,
            normal: None,
            values: None,
        }
    }

    fn spec(kind: DesignKind, samples: Option<u32>, levels: Option<u32>) -> DesignSpec {
        DesignSpec {
            kind,
            samples,
            levels,
            seed: None,
        }
    }

    #[test]
    fn a_grid_crosses_every_level_of_every_parameter() {
        let mut second = vary("b", [0.0, 1.0]);
        second.uniform = None;
        second.values = Some(vec![toml::Value::Integer(1), toml::Value::Integer(2)]);
        let design = Design::new(
            &spec(DesignKind::Grid, None, Some(3)),
            &[vary("a", [0.0, 3.0]), second],
            1,
        )
        .unwrap();
        let (points, layout) = design.points();
        assert_eq!(layout, Layout::Plain);
        assert_eq!(points.len(), 6);
        assert_eq!(design.point_count(), 6);
        let a: Vec<f64> = points
            .iter()
            .map(|unit| design.values_at(unit)[0].as_float().unwrap())
            .collect();
        assert_eq!(a, [0.5, 0.5, 1.5, 1.5, 2.5, 2.5]);
        assert_eq!(design.values_at(points.unit(1))[1], toml::Value::Integer(2));
    }

    #[test]
    fn a_latin_hypercube_uses_every_stratum_once() {
        let design = Design::new(
            &spec(DesignKind::Lhs, Some(50), None),
            &[vary("a", [0.0, 1.0]), vary("b", [10.0, 20.0])],
            7,
        )
        .unwrap();
        let (points, _) = design.points();
        for dim in 0..2 {
            let mut strata: Vec<usize> = points
                .iter()
                .map(|unit| (unit[dim] * 50.0) as usize)
                .collect();
            strata.sort_unstable();
            assert_eq!(strata, (0..50).collect::<Vec<_>>());
        }
        // Same seed, same design.
        assert_eq!(design.points().0, points);
    }

    #[test]
    fn a_sobol_design_lays_out_saltellis_matrices() {
        let design = Design::new(
            &spec(DesignKind::Sobol, Some(8), None),
            &[
                vary("a", [0.0, 1.0]),
                vary("b", [0.0, 1.0]),
                vary("c", [0.0, 1.0]),
            ],
            3,
        )
        .unwrap();
        let (points, layout) = design.points();
        assert_eq!(layout, Layout::Saltelli { base_rows: 8 });
        assert_eq!(points.len(), 8 * 5);
        for row in 0..8 {
            let (a, b) = (points.unit(row * 5), points.unit(row * 5 + 4));
            for i in 0..3 {
                let ab = points.unit(row * 5 + 1 + i);
                for j in 0..3 {
                    assert_eq!(ab[j], if j == i { b[j] } else { a[j] });
                }
            }
        }
        for bad in [0, 3, 100, 1 << 17] {
            let err = Design::new(
                &spec(DesignKind::Sobol, Some(bad), None),
                &[vary("a", [0.0, 1.0])],
                3,
            )
            .unwrap_err();
            assert_eq!(err.key, "design.samples");
            assert!(err.message.contains("power of two"), "{}", err.message);
        }
    }

    #[test]
    fn morris_trajectories_move_one_parameter_at_a_time_on_the_grid() {
        let design = Design::new(
            &spec(DesignKind::Morris, Some(6), Some(4)),
            &[
                vary("a", [0.0, 1.0]),
                vary("b", [0.0, 1.0]),
                vary("c", [0.0, 1.0]),
            ],
            5,
        )
        .unwrap();
        let (points, layout) = design.points();
        let Layout::Morris { steps, .. } = layout else {
            panic!("not a Morris layout");
        };
        assert_eq!(points.len(), 6 * 4);
        for (t, trajectory) in steps.iter().enumerate() {
            let mut moved: Vec<usize> = trajectory.iter().map(|s| s.parameter).collect();
            moved.sort_unstable();
            assert_eq!(moved, [0, 1, 2]);
            for (
                s,
                &MorrisStep {
                    parameter: dim,
                    delta,
                },
            ) in trajectory.iter().enumerate()
            {
                let before = points.unit(t * 4 + s);
                let after = points.unit(t * 4 + s + 1);
                assert!((after[dim] - before[dim] - delta).abs() < 1e-12);
                assert!((delta.abs() - 2.0 / 3.0).abs() < 1e-12);
                for other in (0..3).filter(|&d| d != dim) {
                    assert_eq!(after[other], before[other]);
                }
                assert!(after.iter().all(|&u| (0.0..=1.0).contains(&u)));
            }
        }
    }

    #[test]
    fn bad_tables_are_refused_naming_the_key() {
        let cases: Vec<(VarySpec, &str, &str)> = vec![
            (vary("a", [2.0, 1.0]), "vary[0].uniform", "lower bound"),
            (
                VarySpec {
                    normal: Some(vec![1.0]),
                    uniform: None,
                    ..vary("a", [0.0, 1.0])
                },
                "vary[0].normal",
                "2 or 4 numbers",
            ),
            (
                VarySpec {
                    log_uniform: Some(vec![0.0, 1.0]),
                    uniform: None,
                    ..vary("a", [0.0, 1.0])
                },
                "vary[0].log_uniform",
                "above 0",
            ),
            (
                VarySpec {
                    triangular: Some(vec![0.0, 1.0]),
                    ..vary("a", [0.0, 1.0])
                },
                "vary[0]",
                "exactly one",
            ),
        ];
        for (v, key, fragment) in cases {
            let err = Design::new(&spec(DesignKind::Lhs, Some(4), None), &[v], 1).unwrap_err();
            assert_eq!(err.key, key);
            assert!(err.message.contains(fragment), "{}", err.message);
        }
        let err = Design::new(
            &spec(DesignKind::Lhs, Some(4), None),
            &[vary("a", [0.0, 1.0]), vary("a", [0.0, 2.0])],
            1,
        )
        .unwrap_err();
        assert_eq!(err.key, "vary[1].key");
        for fixed in ["seed", "replications", "design.samples"] {
            let err = Design::new(
                &spec(DesignKind::Lhs, Some(4), None),
                &[vary(fixed, [1.0, 2.0])],
                1,
            )
            .unwrap_err();
            assert!(
                err.message.contains("cannot be varied"),
                "{fixed}: {}",
                err.message
            );
        }
        let err = Design::new(
            &spec(DesignKind::List, None, None),
            &[vary("a", [0.0, 1.0])],
            1,
        )
        .unwrap_err();
        assert!(err.message.contains("values"), "{}", err.message);
        let err = Design::new(
            &spec(DesignKind::Morris, None, Some(3)),
            &[vary("a", [0.0, 1.0])],
            1,
        )
        .unwrap_err();
        assert_eq!(err.key, "design.levels");
    }
}
