//! Summaries across replications: mean, standard deviation, t-based 95 % confidence intervals,
//! quantiles and paired differences (docs/model.md §9). Pure functions over slices.
//!
//! Non-finite values (a ratio with a zero denominator, such as CAC in a run that won nobody) are
//! left out; `n` reports how many values were used.

pub mod optimize;
pub mod sensitivity;

use serde::Serialize;

use crate::model::math::powi;

/// Running mean and variance (Welford 1962), for time series accumulated run by run.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Welford {
    n: u64,
    mean: f64,
    sum_sq_dev: f64,
}

impl Welford {
    /// The exact state, as three words (for a checkpoint).
    pub(crate) fn to_words(self) -> [u64; 3] {
        [self.n, self.mean.to_bits(), self.sum_sq_dev.to_bits()]
    }

    /// The state [`Welford::to_words`] gave.
    pub(crate) fn from_words([n, mean, sum_sq_dev]: [u64; 3]) -> Self {
        Self {
            n,
            mean: f64::from_bits(mean),
            sum_sq_dev: f64::from_bits(sum_sq_dev),
        }
    }

    /// Adds one observation; non-finite values are skipped.
    pub fn push(&mut self, value: f64) {
        if !value.is_finite() {
            return;
        }
        self.n += 1;
        let delta = value - self.mean;
        self.mean += delta / self.n as f64;
        self.sum_sq_dev += delta * (value - self.mean);
    }

    pub fn n(&self) -> u64 {
        self.n
    }

    pub fn mean(&self) -> f64 {
        if self.n > 0 {
            self.mean
        } else {
            f64::NAN
        }
    }

    /// Sample standard deviation (`n − 1` in the denominator).
    pub fn sd(&self) -> f64 {
        if self.n > 1 {
            (self.sum_sq_dev / (self.n - 1) as f64).sqrt()
        } else {
            f64::NAN
        }
    }

    /// The sum of squared deviations from the mean: `(n − 1)·variance`.
    pub fn sum_of_squared_deviations(&self) -> f64 {
        self.sum_sq_dev
    }

    /// Mean with its 95 % confidence interval.
    pub fn interval(&self) -> Interval {
        Interval::around(self.mean(), self.sd(), self.n)
    }
}

/// A mean and its two-sided 95 % confidence interval from Student's t.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    pub mean: f64,
    pub sd: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub n: u64,
}

impl Interval {
    /// `mean ± t(0.975, n − 1)·sd/√n`; the bounds are NaN with fewer than two values.
    pub fn around(mean: f64, sd: f64, n: u64) -> Self {
        let half_width = if n > 1 {
            t_quantile_975(n - 1) * sd / (n as f64).sqrt()
        } else {
            f64::NAN
        };
        Self {
            mean,
            sd,
            ci_low: mean - half_width,
            ci_high: mean + half_width,
            n,
        }
    }
}

impl Interval {
    /// The interval of `−x`: mean and bounds negated and swapped.
    pub fn negated(self) -> Self {
        Self {
            mean: -self.mean,
            sd: self.sd,
            ci_low: -self.ci_high,
            ci_high: -self.ci_low,
            n: self.n,
        }
    }
}

/// Everything summary.csv reports for one metric of one strategy.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Summary {
    pub interval: Interval,
    pub p05: f64,
    pub p50: f64,
    pub p95: f64,
}

impl Summary {
    /// Summarises the finite values of `values`.
    pub fn of(values: &[f64]) -> Self {
        let mut sorted: Vec<f64> = values.iter().copied().filter(|v| v.is_finite()).collect();
        sorted.sort_by(f64::total_cmp);
        let mut running = Welford::default();
        for &v in &sorted {
            running.push(v);
        }
        Self {
            interval: running.interval(),
            p05: quantile_sorted(&sorted, 0.05),
            p50: quantile_sorted(&sorted, 0.50),
            p95: quantile_sorted(&sorted, 0.95),
        }
    }
}

/// Quantile of sorted values by linear interpolation between order statistics (Hyndman & Fan
/// type 7, the default of R and NumPy). NaN for no values.
pub fn quantile_sorted(sorted: &[f64], probability: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let position = probability * (n - 1) as f64;
            let below = position.floor() as usize;
            let above = (below + 1).min(n - 1);
            let weight = position - below as f64;
            sorted[below] + weight * (sorted[above] - sorted[below])
        }
    }
}

/// The difference `a − b` of paired observations (same replication, common random numbers).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PairedDifference {
    pub interval: Interval,
    /// Share of pairs where `a > b`, ties counted half.
    pub p_a_better: f64,
}

impl PairedDifference {
    /// The same comparison seen the other way round: `b − a`.
    pub fn reversed(self) -> Self {
        Self {
            interval: self.interval.negated(),
            p_a_better: 1.0 - self.p_a_better,
        }
    }
}

/// Paired difference of `a` and `b`; pairs with a non-finite member are left out.
pub fn paired_difference(a: &[f64], b: &[f64]) -> PairedDifference {
    let mut running = Welford::default();
    let mut wins = 0.0;
    for (&x, &y) in a.iter().zip(b) {
        if !(x.is_finite() && y.is_finite()) {
            continue;
        }
        running.push(x - y);
        wins += if x > y {
            1.0
        } else if x == y {
            0.5
        } else {
            0.0
        };
    }
    let n = running.n();
    PairedDifference {
        interval: running.interval(),
        p_a_better: if n > 0 { wins / n as f64 } else { f64::NAN },
    }
}

/// The 97.5 % quantile of Student's t with `df` degrees of freedom: exact table values up to 30,
/// then the Cornish–Fisher expansion around the normal quantile (error below 1e-4).
pub fn t_quantile_975(df: u64) -> f64 {
    const TABLE: [f64; 30] = [
        12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160,
        2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056,
        2.052, 2.048, 2.045, 2.042,
    ];
    match df {
        0 => f64::NAN,
        1..=30 => TABLE[df as usize - 1],
        _ => {
            let z: f64 = 1.959_963_984_540_054;
            let v = df as f64;
            let z3 = powi(z, 3);
            let z5 = powi(z, 5);
            let z7 = powi(z, 7);
            z + (z3 + z) / (4.0 * v)
                + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
                + (3.0 * z7 + 19.0 * z5 + 17.0 * z3 - 15.0 * z) / (384.0 * v * v * v)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn welford_matches_two_pass_formulas() {
        let values = [2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0];
        let mut w = Welford::default();
        values.iter().for_each(|&v| w.push(v));
        assert_eq!(w.mean(), 5.0);
        assert!((w.sd() - (32.0f64 / 7.0).sqrt()).abs() < 1e-12);
    }

    #[test]
    fn non_finite_values_are_skipped() {
        let summary = Summary::of(&[1.0, f64::NAN, 3.0, f64::INFINITY]);
        assert_eq!(summary.interval.n, 2);
        assert_eq!(summary.interval.mean, 2.0);
    }

    #[test]
    fn t_quantiles_match_tables() {
        assert_eq!(t_quantile_975(1), 12.706);
        assert!((t_quantile_975(40) - 2.0211).abs() < 1e-3);
        assert!((t_quantile_975(120) - 1.9799).abs() < 1e-3);
        assert!((t_quantile_975(1_000_000) - 1.96).abs() < 1e-3);
    }

    #[test]
    fn interval_of_known_sample() {
        // n = 4, mean 2.5, sd 1.29099: t(3) = 3.182, half-width 2.054.
        let s = Summary::of(&[1.0, 2.0, 3.0, 4.0]);
        assert!((s.interval.ci_high - 2.5 - 3.182 * 1.290_994_4 / 2.0).abs() < 1e-6);
        assert_eq!(s.p50, 2.5);
        assert!((s.p05 - 1.15).abs() < 1e-12);
        assert!((s.p95 - 3.85).abs() < 1e-12);
    }

    #[test]
    fn quantiles_of_tiny_samples() {
        assert!(quantile_sorted(&[], 0.5).is_nan());
        assert_eq!(quantile_sorted(&[3.0], 0.95), 3.0);
    }

    #[test]
    fn reversed_difference_mirrors_the_original() {
        let d = paired_difference(&[3.0, 5.0, 2.0, 4.0], &[1.0, 5.0, 3.0, 1.0]);
        let r = paired_difference(&[1.0, 5.0, 3.0, 1.0], &[3.0, 5.0, 2.0, 4.0]);
        assert_eq!(d.reversed().interval.mean, r.interval.mean);
        assert_eq!(d.reversed().p_a_better, r.p_a_better);
        assert!((d.reversed().interval.ci_low - r.interval.ci_low).abs() < 1e-12);
    }

    #[test]
    fn paired_difference_counts_wins() {
        let d = paired_difference(&[3.0, 5.0, 2.0, 4.0], &[1.0, 5.0, 3.0, 1.0]);
        assert_eq!(d.interval.mean, 1.0);
        assert_eq!(d.p_a_better, (1.0 + 0.5 + 0.0 + 1.0) / 4.0);
        assert_eq!(d.interval.n, 4);
    }
}
