//! Random variates for customers' individual parameters (docs/model.md §2.1): the standard
//! normal, the gamma and the beta distribution, drawn from a [`Xoshiro256PlusPlus`] stream at
//! set-up, never in the period loop.
//!
//! Like the rest of the model they use only `+ − × ÷`, `sqrt` (exact in IEEE 754) and
//! [`model::math`](super::math)'s `exp` and `ln`, so a seed gives the same draws on every
//! platform.

use super::math::{exp, ln};
use super::rng::Xoshiro256PlusPlus;

/// A standard normal variate, by Marsaglia's polar method.
pub fn standard_normal(rng: &mut Xoshiro256PlusPlus) -> f64 {
    loop {
        let x = 2.0 * rng.uniform() - 1.0;
        let y = 2.0 * rng.uniform() - 1.0;
        let s = x * x + y * y;
        if s > 0.0 && s < 1.0 {
            return x * (-2.0 * ln(s) / s).sqrt();
        }
    }
}

/// A gamma variate of shape `shape` (> 0) and scale 1, by Marsaglia and Tsang's (2000) method;
/// a shape below 1 is boosted by one and scaled back by `u^(1/shape)`.
pub fn gamma(rng: &mut Xoshiro256PlusPlus, shape: f64) -> f64 {
    if shape < 1.0 {
        let boosted = gamma(rng, shape + 1.0);
        // u^(1/shape), with u in (0, 1].
        let u = 1.0 - rng.uniform();
        return boosted * exp(ln(u) / shape);
    }
    let d = shape - 1.0 / 3.0;
    let c = 1.0 / (9.0 * d).sqrt();
    loop {
        let x = standard_normal(rng);
        let v = 1.0 + c * x;
        if v <= 0.0 {
            continue;
        }
        let v = v * v * v;
        let u = 1.0 - rng.uniform();
        // Marsaglia and Tsang's squeeze: a sufficient condition for the exact test below, so
        // it accepts the same draws without its two logarithms (about 98 % of the time).
        let x2 = x * x;
        if u < 1.0 - 0.0331 * x2 * x2 {
            return d * v;
        }
        if ln(u) < 0.5 * x2 + d - d * v + d * ln(v) {
            return d * v;
        }
    }
}

/// A beta variate with parameters `a`, `b` (> 0), as `X / (X + Y)` of two gamma variates.
pub fn beta(rng: &mut Xoshiro256PlusPlus, a: f64, b: f64) -> f64 {
    let x = gamma(rng, a);
    let y = gamma(rng, b);
    x / (x + y)
}

/// A beta variate by mean `mean` in (0, 1) and concentration `concentration` = a + b (> 0):
/// `Beta(mean·c, (1 − mean)·c)`. An infinite concentration is no spread at all: `mean` itself,
/// with no draw taken.
pub fn beta_by_mean(rng: &mut Xoshiro256PlusPlus, mean: f64, concentration: f64) -> f64 {
    if concentration.is_infinite() || mean <= 0.0 || mean >= 1.0 {
        return mean;
    }
    beta(rng, mean * concentration, (1.0 - mean) * concentration)
}

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn standard_normal_has_mean_0_and_variance_1() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        let (mean, variance) = moments(N, || standard_normal(&mut rng));
        assert!(within_4_se(mean, 0.0, 1.0, N), "{mean}");
        // Var of the sample variance of a normal: 2σ⁴/(n − 1).
        assert!(
            (variance - 1.0).abs() <= 4.0 * (2.0 / N as f64).sqrt(),
            "{variance}"
        );
    }

    #[test]
    fn gamma_has_mean_and_variance_equal_to_its_shape() {
        for shape in [0.3, 1.0, 2.5, 40.0] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
            let (mean, variance) = moments(N, || gamma(&mut rng, shape));
            assert!(
                within_4_se(mean, shape, shape, N),
                "shape {shape}: mean {mean}"
            );
            assert!(
                (variance / shape - 1.0).abs() < 0.05,
                "shape {shape}: variance {variance}"
            );
        }
    }

    #[test]
    fn beta_has_the_mean_and_variance_of_its_parameters() {
        for (a, b) in [(0.5, 4.5), (2.0, 2.0), (10.0, 30.0)] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(3);
            let (mean, variance) = moments(N, || beta(&mut rng, a, b));
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
