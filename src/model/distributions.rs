//! The beta distribution for customers' individual parameters and partners' starting states
//! (docs/model.md §2.1), drawn by inversion: one uniform `u` per value, mapped through the
//! distribution's quantile function `Q(u)`.
//!
//! Inversion turns each draw into a monotone function of its uniform, so a customer keeps its
//! rank when a mean or a concentration moves (common random numbers customer by customer: the
//! values move smoothly with the parameters, which keeps `relsim calibrate`'s likelihood
//! smooth), and a draw costs one uniform and a polynomial instead of two gamma variates with
//! their rejection steps.
//!
//! `Q` comes from a [`QuantileTable`] built once per distribution and kept for the process (the
//! same table for every replication): exact quantiles at knots spaced evenly within each
//! octave of `min(u, 1 − u)` from `2⁻²⁵` to `½`, joined by quintic Hermite polynomials (value,
//! first and second derivative at both ends). Its error is below `10⁻¹⁰` in `u` for
//! concentrations up to 100, growing like `√(a + b)` beyond (tested on a grid of shapes from
//! 0.05 to 10⁶); beyond the tabulated octaves (a chance of `6·10⁻⁸`) a
//! draw solves `I_x(a, b) = u` itself. Everything uses `+ − × ÷` and
//! [`model::math`](super::math)'s `exp` and `ln` only, so a seed gives the same draws on every
//! platform.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use super::math::{ln, powi};
use super::rng::RandomBits;
use super::special::BetaDistribution;

/// What a table gives for the quantile `x`: `x` itself, or its log-odds `ln(x / (1 − x))`
/// (customers' churn propensity lives on the log-odds scale, and tabulating it there keeps
/// both tails' relative precision and spares a logarithm per customer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Scale {
    Value,
    LogOdds,
}

/// The largest finite concentration `a + b` a scenario may give: its spread (a standard
/// deviation below `5·10⁻⁷`) is already none for any purpose, and beyond about `10¹⁵` the
/// continued fraction behind the quantiles no longer converges in double precision (it
/// stalls until its cap of terms, effectively forever). `inf` means no spread.
pub const LARGEST_CONCENTRATION: f64 = 1e12;

/// Octaves of `min(u, 1 − u)` the table covers: `[2⁻²⁵, ½]`.
const OCTAVES: usize = 24;

/// The smallest quantile a table holds: below it a value is as good as 0 (and its log-odds
/// stay finite).
const SMALLEST: f64 = 1e-300;

/// `Beta(a, b)`'s quantile function on one [`Scale`], tabulated.
#[derive(Debug)]
pub struct QuantileTable {
    /// `[lower, upper]`. Lower, for `u < ½`: the lower quantiles of `Beta(a, b)`. Upper, for
    /// `u ≥ ½`: `1 − ` the lower quantiles of `Beta(b, a)` at `1 − u`, so that values near 1
    /// keep their precision too. Chosen by index: which side a uniform falls on is a coin toss
    /// to the branch predictor.
    sides: [TableSide; 2],
    /// How both sides number their intervals.
    intervals: Intervals,
}

/// How a [`TableSide`] finds the interval of `v` (the same for both sides of a table: the
/// number of knots depends on the smaller shape).
#[derive(Debug, Clone, Copy)]
struct Intervals {
    /// `log₂` of the intervals per octave: the interval of `v` is read off the top bits of its
    /// mantissa.
    bits: u32,
    /// The table's first interval (the one from `v = 2⁻²⁵`) as [`TableSide::at`] numbers them:
    /// `v`'s biased exponent and the top `bits` bits of its mantissa, read as one integer.
    first: usize,
}

impl Intervals {
    /// For `Beta(a, b)`. The quantile behaves like v^(1/a) near 0 (and 1 − x like
    /// (1 − v)^(1/b) near the median when b is small): the smaller a shape, the more knots an
    /// octave needs.
    fn of(distribution: &BetaDistribution) -> Self {
        let smallest_shape = distribution.a().min(distribution.b()).min(1.0);
        let per_octave = ((32.0 / smallest_shape).ceil() as usize)
            .next_power_of_two()
            .min(1024);
        let bits = per_octave.trailing_zeros();
        Self {
            bits,
            first: (1023 - OCTAVES - 1) << bits,
        }
    }

    fn per_octave(self) -> usize {
        1 << self.bits
    }
}

/// One half of a [`QuantileTable`]: the lower quantiles `x̃(v)`, `v ∈ (0, ½]`, of one beta
/// distribution, given as `x̃`, `1 − x̃`, `logit x̃` or `−logit x̃` (see [`Scale`]).
#[derive(Debug)]
struct TableSide {
    distribution: BetaDistribution,
    scale: Scale,
    /// Whether this is the upper side, whose values are `1 − x̃` or `−logit x̃`.
    mirrored: bool,
    /// Per interval, in increasing `v`, the coefficients of its quintic in `t ∈ [0, 1)`, lowest
    /// power first.
    coefficients: Vec<[f64; 6]>,
    /// The value at `v = ½`.
    median: f64,
}

/// The bits of `1.0`, and of a double's mantissa.
const ONE_BITS: u64 = 0x3FF0_0000_0000_0000;
const MANTISSA_BITS: u64 = 0x000F_FFFF_FFFF_FFFF;

impl TableSide {
    fn build(
        distribution: BetaDistribution,
        scale: Scale,
        mirrored: bool,
        intervals: Intervals,
    ) -> Self {
        let intervals = intervals.per_octave();
        let mut side = Self {
            distribution,
            scale,
            mirrored,
            coefficients: Vec::new(),
            median: 0.0,
        };
        // Knots from v = ½ down, each started from the one above by Taylor's formula.
        let mean = distribution.a() / (distribution.a() + distribution.b());
        let mut above = side.knot(0.5, distribution.lower_quantile(0.5, mean));
        side.median = above.value;
        let mut octaves = Vec::with_capacity(OCTAVES);
        for octave in 0..OCTAVES {
            let start = powi(0.5, octave as i32 + 2);
            let width = start / intervals as f64;
            // This octave's knots, from its top (the octave above's bottom) down.
            let mut knots = Vec::with_capacity(intervals + 1);
            knots.push(above);
            for j in (0..intervals).rev() {
                let v = start * (1.0 + j as f64 / intervals as f64);
                let step = v - above.v;
                let guess = above.x + above.dx * step + 0.5 * above.d2x * step * step;
                let guess = if guess > 0.0 && guess < above.x {
                    guess
                } else {
                    0.5 * above.x
                };
                let knot = side.knot(v, distribution.lower_quantile(v, guess));
                knots.push(knot);
                above = knot;
            }
            knots.reverse();
            let coefficients: Vec<[f64; 6]> = knots
                .windows(2)
                .map(|pair| quintic(&pair[0], &pair[1], width))
                .collect();
            octaves.push(coefficients);
        }
        // Lowest octave first.
        side.coefficients = octaves.into_iter().rev().flatten().collect();
        side
    }

    /// The knot at `v` whose lower quantile is `x`: the side's value there and its first two
    /// derivatives in `v`.
    fn knot(&self, v: f64, x: f64) -> Knot {
        let x = x.clamp(SMALLEST, 1.0 - f64::EPSILON / 2.0);
        // x′ = 1/f(x), x″ = −(f′/f)(x) · x′².
        let finite = |value: f64| if value.is_finite() { value } else { 0.0 };
        let dx = finite(1.0 / self.distribution.density(x));
        let d2x = finite(-self.distribution.log_density_slope(x) * dx * dx);
        let sign = if self.mirrored { -1.0 } else { 1.0 };
        let (value, dvalue, d2value) = match self.scale {
            Scale::Value => {
                let offset = if self.mirrored { 1.0 } else { 0.0 };
                (offset + sign * x, sign * dx, sign * d2x)
            }
            Scale::LogOdds => {
                // g = ln(x/(1 − x)): g′ = 1/(x(1 − x)), g″ = (2x − 1)/(x(1 − x))².
                let spread = x * (1.0 - x);
                let g1 = 1.0 / spread;
                let g2 = (2.0 * x - 1.0) * g1 * g1;
                (
                    sign * ln(x / (1.0 - x)),
                    sign * g1 * dx,
                    sign * finite(g2 * dx * dx + g1 * d2x),
                )
            }
        };
        Knot {
            v,
            x,
            dx,
            d2x,
            value,
            dvalue: finite(dvalue),
            d2value: finite(d2value),
        }
    }

    /// `v = ½`, or below the table's octaves.
    #[cold]
    fn outside(&self, v: f64) -> f64 {
        if v >= 0.5 {
            self.median
        } else {
            self.beyond(v)
        }
    }

    /// Below the table's octaves: the quantile solved for itself.
    fn beyond(&self, v: f64) -> f64 {
        let x = self.distribution.lower_quantile(v, -1.0);
        self.knot(v, x).value
    }
}

/// The value at `v ∈ [0, ½]` of the side whose quintics are `coefficients`, or `None` at
/// `v = ½` and below the table's octaves ([`TableSide::outside`]).
#[inline(always)]
fn interpolate(coefficients: &[[f64; 6]], v: f64, intervals: Intervals) -> Option<f64> {
    // v's exponent and the top bits of its mantissa, counted from the lowest octave's start
    // 2⁻²⁵, number its interval: no division, no conversion of a double to an integer. Below
    // 2⁻²⁵ the count wraps around, and v = ½ is one past the end.
    let bits = v.to_bits();
    let interval = ((bits >> (52 - intervals.bits)) as usize).wrapping_sub(intervals.first);
    let &[c0, c1, c2, c3, c4, c5] = coefficients.get(interval)?;
    // Where v lies in its interval: the mantissa's remaining bits.
    let t = f64::from_bits(((bits << intervals.bits) & MANTISSA_BITS) | ONE_BITS) - 1.0;
    // Estrin's scheme: three short chains instead of Horner's one of five steps.
    let t2 = t * t;
    Some((c0 + c1 * t) + t2 * ((c2 + c3 * t) + t2 * (c4 + c5 * t)))
}

/// A knot of a [`TableSide`]: where it is, the quantile and its derivatives, and the side's
/// value and its derivatives.
#[derive(Debug, Clone, Copy)]
struct Knot {
    v: f64,
    x: f64,
    dx: f64,
    d2x: f64,
    value: f64,
    dvalue: f64,
    d2value: f64,
}

/// The quintic on `t ∈ [0, 1]` (`v = low.v + t·width`) with the knots' values and first two
/// derivatives at its ends, lowest power first.
fn quintic(low: &Knot, high: &Knot, width: f64) -> [f64; 6] {
    let (p0, d0, s0) = (low.value, low.dvalue * width, low.d2value * width * width);
    let (p1, d1, s1) = (
        high.value,
        high.dvalue * width,
        high.d2value * width * width,
    );
    let rise = p1 - p0;
    [
        p0,
        d0,
        0.5 * s0,
        10.0 * rise - 6.0 * d0 - 4.0 * d1 - 0.5 * (3.0 * s0 - s1),
        -15.0 * rise + 8.0 * d0 + 7.0 * d1 + 0.5 * (3.0 * s0 - 2.0 * s1),
        6.0 * rise - 3.0 * d0 - 3.0 * d1 - 0.5 * (s0 - s1),
    ]
}

impl QuantileTable {
    /// `Beta(a, b)`'s table on `scale` (`a, b > 0`).
    pub fn build(a: f64, b: f64, scale: Scale) -> Self {
        let distribution = BetaDistribution::new(a, b);
        let intervals = Intervals::of(&distribution);
        Self {
            sides: [
                TableSide::build(distribution, scale, false, intervals),
                TableSide::build(distribution.mirrored(), scale, true, intervals),
            ],
            intervals,
        }
    }

    /// The table for a loop of many quantiles: what every look-up reads, held by value (see
    /// [`QuantileReader`]).
    #[inline(always)]
    pub fn reader(&self) -> QuantileReader<'_> {
        QuantileReader {
            table: self,
            coefficients: [&self.sides[0].coefficients, &self.sides[1].coefficients],
            intervals: self.intervals,
        }
    }

    /// The quantile of `u ∈ [0, 1)` on the table's scale.
    #[inline(always)]
    pub fn quantile(&self, u: f64) -> f64 {
        self.reader().quantile(u)
    }
}

/// A [`QuantileTable`] read in a loop: both sides' coefficients and the intervals copied out,
/// so that they stay in registers whatever the loop stores (the table itself sits behind an
/// `Arc`, which the compiler cannot tell apart from the arrays a loop writes).
#[derive(Debug, Clone, Copy)]
pub struct QuantileReader<'t> {
    table: &'t QuantileTable,
    coefficients: [&'t [[f64; 6]]; 2],
    intervals: Intervals,
}

impl QuantileReader<'_> {
    /// [`QuantileTable::quantile`].
    #[inline(always)]
    pub fn quantile(&self, u: f64) -> f64 {
        // min(u, 1 − u) as a comparison, which compiles to one instruction (`f64::min`'s care
        // for NaN costs five more; u is never NaN). Which side a uniform falls on is a coin
        // toss to the branch predictor, so the side is chosen by index.
        let mirrored = 1.0 - u;
        let v = if u < mirrored { u } else { mirrored };
        let side = usize::from(u >= 0.5);
        interpolate(self.coefficients[side], v, self.intervals)
            .unwrap_or_else(|| self.table.sides[side].outside(v))
    }
}

/// The process's tables, by shapes and scale: a table depends on nothing else, so every
/// replication (and every strategy, sweep point or calibration step with the same shapes) uses
/// the one built first. Bounded: a calibration that tries thousands of shapes starts afresh
/// now and then.
fn shared_table(a: f64, b: f64, scale: Scale) -> Arc<QuantileTable> {
    type Tables = HashMap<(u64, u64, Scale), Arc<QuantileTable>>;
    static TABLES: OnceLock<Mutex<Tables>> = OnceLock::new();
    const MOST_TABLES: usize = 256;
    let key = (a.to_bits(), b.to_bits(), scale);
    let tables = TABLES.get_or_init(Default::default);
    let lock = || {
        tables
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    };
    if let Some(table) = lock().get(&key) {
        return Arc::clone(table);
    }
    // Built outside the lock: two threads may build the same table, and keep equal ones.
    let table = Arc::new(QuantileTable::build(a, b, scale));
    let mut tables = lock();
    if tables.len() >= MOST_TABLES {
        tables.clear();
    }
    Arc::clone(tables.entry(key).or_insert(table))
}

/// The beta distribution by mean in (0, 1) and concentration `c = a + b` (> 0):
/// `Beta(mean·c, (1 − mean)·c)`, drawn by inversion (one uniform per draw). An infinite
/// concentration (or a mean of 0 or 1) is no spread at all: the mean itself, with no draw
/// taken.
#[derive(Debug, Clone)]
pub struct BetaByMean {
    mean: f64,
    scale: Scale,
    table: Option<Arc<QuantileTable>>,
}

impl BetaByMean {
    /// Values in `[0, 1]`.
    pub fn new(mean: f64, concentration: f64) -> Self {
        Self::on_scale(mean, concentration, Scale::Value)
    }

    /// The log-odds `ln(x / (1 − x))` of the values.
    pub fn log_odds(mean: f64, concentration: f64) -> Self {
        Self::on_scale(mean, concentration, Scale::LogOdds)
    }

    fn on_scale(mean: f64, concentration: f64, scale: Scale) -> Self {
        if concentration.is_infinite() || mean <= 0.0 || mean >= 1.0 {
            return Self {
                mean,
                scale,
                table: None,
            };
        }
        Self::from_shapes(mean * concentration, (1.0 - mean) * concentration, scale)
    }

    fn from_shapes(a: f64, b: f64, scale: Scale) -> Self {
        Self {
            mean: a / (a + b),
            scale,
            table: Some(shared_table(a, b, scale)),
        }
    }

    /// The value whose share of the distribution below it is `u ∈ [0, 1)`; without spread,
    /// the mean (on the distribution's scale).
    #[inline(always)]
    pub fn quantile(&self, u: f64) -> f64 {
        match &self.table {
            Some(table) => table.quantile(u),
            None => self.without_spread(),
        }
    }

    /// The distribution's table; `None` without spread.
    #[inline(always)]
    pub fn table(&self) -> Option<&QuantileTable> {
        self.table.as_deref()
    }

    /// One variate: the quantile of one uniform of `rng`; without spread the mean, and no
    /// draw taken.
    #[inline]
    pub fn sample<R: RandomBits>(&self, rng: &mut R) -> f64 {
        match &self.table {
            Some(table) => table.quantile(rng.uniform()),
            None => self.without_spread(),
        }
    }

    /// The value without spread: the mean, on the distribution's scale.
    pub fn without_spread(&self) -> f64 {
        match self.scale {
            Scale::Value => self.mean,
            Scale::LogOdds => ln(self.mean / (1.0 - self.mean)),
        }
    }
}

/// A beta variate by mean and concentration (see [`BetaByMean`]).
pub fn beta_by_mean<R: RandomBits>(rng: &mut R, mean: f64, concentration: f64) -> f64 {
    BetaByMean::new(mean, concentration).sample(rng)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rng::Xoshiro256PlusPlus;

    /// Mean and variance of `n` draws.
    fn moments(n: usize, mut draw: impl FnMut() -> f64) -> (f64, f64) {
        let values: Vec<f64> = (0..n).map(|_| draw()).collect();
        let mean = values.iter().sum::<f64>() / n as f64;
        let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        (mean, variance)
    }

    /// `|estimate − exact|` within 4 standard errors, for a mean of `n` draws of variance
    /// `variance`.
    fn within_4_se(estimate: f64, exact: f64, variance: f64, n: usize) -> bool {
        (estimate - exact).abs() <= 4.0 * (variance / n as f64).sqrt()
    }

    const N: usize = 200_000;

    /// Uniforms that visit every octave of both tables' sides, their knots and the points
    /// between, and the region beyond them.
    fn probe_uniforms() -> Vec<f64> {
        let mut probes = vec![0.0, 0.5, 1e-300, 1e-30, 1e-12, 1e-9];
        for octave in 0..OCTAVES + 3 {
            let start = 0.5f64.powi(octave as i32 + 2);
            for k in 0..=97 {
                let v = start * (1.0 + k as f64 / 97.0);
                probes.push(v);
                probes.push(1.0 - v);
            }
        }
        probes.retain(|&u| (0.0..1.0).contains(&u));
        probes.sort_by(f64::total_cmp);
        probes.dedup();
        probes
    }

    #[test]
    fn tables_give_the_exact_quantiles_on_a_grid_of_shapes() {
        let shapes = [0.05, 0.3, 1.0, 2.97, 4.0, 21.0, 97.0, 1000.0, 9.7e5];
        for &a in &shapes {
            for &b in &shapes {
                let exact = BetaDistribution::new(a, b);
                let table = QuantileTable::build(a, b, Scale::Value);
                let log_odds = QuantileTable::build(a, b, Scale::LogOdds);
                let mut previous = f64::NEG_INFINITY;
                for u in probe_uniforms() {
                    let x = table.quantile(u);
                    // The error in u: how far the value's own share is from u, against u's
                    // tail (I_x keeps relative precision in the tail it is taken from).
                    let (share, tail) = if u < 0.5 {
                        (exact.cdf(x), u)
                    } else {
                        (exact.mirrored().cdf(1.0 - x), 1.0 - u)
                    };
                    // Values pinned at the smallest a table keeps, or at 1.
                    let pinned = x <= SMALLEST || 1.0 - x <= f64::EPSILON;
                    // Near 1 a double cannot tell a side's quantile x̃ from 1 more finely than
                    // 2⁻⁵³: within a few of those of the exact quantile is as close as it gets.
                    let representable = {
                        let (side_x, exact_x) = if u < 0.5 {
                            let side_x = exact.lower_quantile(u, -1.0);
                            (side_x, side_x)
                        } else {
                            let side_x = exact.mirrored().lower_quantile(tail, -1.0);
                            (side_x, 1.0 - side_x)
                        };
                        (side_x > 0.5 || x > 0.5) && (x - exact_x).abs() <= 4.0 * f64::EPSILON
                    };
                    // The continued fraction behind the exact quantiles loses digits to
                    // cancellation as the concentration grows, about like its square root.
                    let tolerance = 1e-10 * ((a + b).sqrt() / 10.0).max(1.0);
                    assert!(
                        pinned || representable || (share - tail).abs() <= tolerance * tail,
                        "Beta({a}, {b}) at u = {u:e}: x = {x:e} has share {share:e}"
                    );
                    assert!(x >= previous, "Beta({a}, {b}): not increasing at u = {u:e}");
                    previous = x;
                    // The log-odds table gives the log-odds of the same quantile (against the
                    // exact one: a value near 1 has lost the digits its log-odds needs).
                    let y = log_odds.quantile(u);
                    let (side_x, expected) = if u < 0.5 {
                        let x = exact.lower_quantile(u, -1.0);
                        (x, (x / (1.0 - x)).ln())
                    } else {
                        let x = exact.mirrored().lower_quantile(tail, -1.0);
                        (x, -(x / (1.0 - x)).ln())
                    };
                    // A side's quantile within 10⁻⁶ of 1 (the median of a side whose mass
                    // crowds against 1) has no digits left for its log-odds, in the table or
                    // here.
                    if expected.is_finite() && expected.abs() < 690.0 && side_x < 1.0 - 1e-6 {
                        // A relative error ε in u moves the log-odds by about ε / min(a, b).
                        let tolerance = 1e-9 / a.min(b).min(1.0);
                        assert!(
                            (y - expected).abs() <= tolerance * expected.abs().max(1.0),
                            "Beta({a}, {b}) at u = {u:e}: log-odds {y} against {expected}"
                        );
                    }
                }
            }
        }
    }

    /// At the largest concentration a scenario may give, the table is built and its draws sit
    /// within a few standard deviations of the mean, increasing in u.
    #[test]
    fn the_largest_concentration_still_draws() {
        let beta = BetaByMean::new(0.3, LARGEST_CONCENTRATION);
        let sd = (0.3f64 * 0.7 / (LARGEST_CONCENTRATION + 1.0)).sqrt();
        let values: Vec<f64> = [1e-9, 0.1, 0.5, 0.9, 1.0 - 1e-9]
            .iter()
            .map(|&u| beta.quantile(u))
            .collect();
        assert!(values.windows(2).all(|w| w[0] <= w[1]), "{values:?}");
        assert!(
            values.iter().all(|v| (v - 0.3).abs() < 8.0 * sd),
            "{values:?}"
        );
        assert!((values[2] - 0.3).abs() < 0.1 * sd, "median {}", values[2]);
    }

    #[test]
    fn quantiles_match_closed_forms() {
        // Beta(a, 1): u^(1/a); Beta(1, b): 1 − (1 − u)^(1/b); Beta(½, ½): sin²(πu/2).
        let power = QuantileTable::build(2.5, 1.0, Scale::Value);
        let other = QuantileTable::build(1.0, 0.3, Scale::Value);
        let arcsine = QuantileTable::build(0.5, 0.5, Scale::Value);
        for u in [1e-20, 1e-7, 0.01, 0.2, 0.49, 0.5, 0.77, 0.999, 1.0 - 1e-12] {
            let close = |value: f64, exact: f64, what: &str| {
                assert!(
                    (value - exact).abs() <= 1e-10 * exact.abs().max(1e-300),
                    "{what} at {u}: {value} against {exact}"
                )
            };
            close(power.quantile(u), u.powf(0.4), "Beta(2.5, 1)");
            close(
                other.quantile(u),
                -(((-u).ln_1p()) / 0.3).exp_m1(),
                "Beta(1, 0.3)",
            );
            let half_angle = std::f64::consts::FRAC_PI_2 * u;
            close(
                arcsine.quantile(u),
                half_angle.sin().powi(2),
                "Beta(1/2, 1/2)",
            );
        }
    }

    #[test]
    fn beta_has_the_mean_and_variance_of_its_parameters() {
        for (a, b) in [(0.5, 4.5), (2.0, 2.0), (10.0, 30.0)] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
            let beta = BetaByMean::from_shapes(a, b, Scale::Value);
            let (mean, variance) = moments(N, || beta.sample(&mut rng));
            let exact_mean = a / (a + b);
            let exact_variance = a * b / ((a + b) * (a + b) * (a + b + 1.0));
            assert!(
                within_4_se(mean, exact_mean, exact_variance, N),
                "Beta({a}, {b}): mean {mean}"
            );
            assert!(
                (variance / exact_variance - 1.0).abs() < 0.05,
                "Beta({a}, {b}): variance {variance} against {exact_variance}"
            );
            // Inversion: the mean is the integral of the quantile function, which the midpoint
            // rule on a fine grid of u gets to within its own error, without sampling noise.
            let grid = 1_000_000;
            let integral = (0..grid)
                .map(|k| beta.quantile((k as f64 + 0.5) / grid as f64))
                .sum::<f64>()
                / grid as f64;
            assert!(
                (integral - exact_mean).abs() < 1e-5,
                "Beta({a}, {b}): ∫Q = {integral}"
            );
        }
    }

    #[test]
    fn a_draw_is_a_monotone_function_of_its_uniform_and_the_mean() {
        // The same uniform gives a larger value for a larger mean: customers keep their rank.
        for u in [0.01, 0.3, 0.5, 0.9] {
            let values: Vec<f64> = [0.2, 0.21, 0.3, 0.5]
                .iter()
                .map(|&mean| BetaByMean::new(mean, 10.0).quantile(u))
                .collect();
            assert!(values.windows(2).all(|w| w[0] < w[1]), "{values:?}");
        }
    }

    #[test]
    fn infinite_concentration_is_the_mean_itself_without_a_draw() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
        let before = rng.clone().next_u64();
        assert_eq!(beta_by_mean(&mut rng, 0.45, f64::INFINITY), 0.45);
        assert_eq!(rng.next_u64(), before, "a draw was taken");
        let (mean, _) = moments(N, || beta_by_mean(&mut rng, 0.45, 20.0));
        assert!((mean - 0.45).abs() < 0.002, "{mean}");
    }
}
