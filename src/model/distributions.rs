//! Random variates for customers' individual parameters (docs/model.md §2.1): the standard
//! normal, the gamma and the beta distribution, drawn from any [`RandomBits`] stream at set-up,
//! never in the period loop.
//!
//! Like the rest of the model they use only `+ − × ÷`, `sqrt` (exact in IEEE 754) and
//! [`model::math`](super::math)'s `exp` and `ln`, so a seed gives the same draws on every
//! platform.

use std::sync::OnceLock;

use super::math::{exp, ln};
use super::rng::{unit_f64, RandomBits};

/// Layers of the ziggurat.
const LAYERS: usize = 256;
/// Where the ziggurat's base layer meets the tail, and the area of each layer, for 256 layers
/// (Marsaglia & Tsang 2000).
const TAIL_START: f64 = 3.654_152_885_361_009;
const LAYER_AREA: f64 = 4.928_673_233_99e-3;

/// The ziggurat of the half normal density `f(x) = exp(−x²/2)`: `x[i]` is the right edge of
/// layer `i` (`x[0]`, the base layer's, is the width a rectangle of the base's area would
/// have; `x[1]` is where the tail starts and `x[256] = 0`), and `f[i] = f(x[i])`.
struct Ziggurat {
    x: [f64; LAYERS + 1],
    f: [f64; LAYERS + 1],
}

/// Built once, with [`model::math`](super::math)'s `exp` and `ln` so that the table, like
/// every draw, is the same on every platform.
fn ziggurat() -> &'static Ziggurat {
    static TABLE: OnceLock<Ziggurat> = OnceLock::new();
    TABLE.get_or_init(|| {
        let density = |x: f64| exp(-0.5 * x * x);
        let mut x = [0.0; LAYERS + 1];
        x[0] = LAYER_AREA / density(TAIL_START);
        x[1] = TAIL_START;
        for i in 2..LAYERS {
            // The next edge up: the layer between x[i] and x[i − 1] has area LAYER_AREA.
            x[i] = (-2.0 * ln(LAYER_AREA / x[i - 1] + density(x[i - 1]))).sqrt();
        }
        x[LAYERS] = 0.0;
        let mut f = [0.0; LAYERS + 1];
        for i in 0..=LAYERS {
            f[i] = density(x[i]);
        }
        Ziggurat { x, f }
    })
}

/// A standard normal variate, by the ziggurat method (Marsaglia & Tsang 2000, with the layer
/// index taken from bits apart from the value's, as Doornik 2005 advises). About 99 % of draws
/// take one 64-bit draw, a multiplication and a comparison.
pub fn standard_normal<R: RandomBits>(rng: &mut R) -> f64 {
    let table = ziggurat();
    loop {
        let bits = rng.next_u64();
        let layer = (bits & 0xFF) as usize;
        let sign = if bits & 0x100 != 0 { -1.0 } else { 1.0 };
        // The top 53 bits: disjoint from the layer and sign bits.
        let z = unit_f64(bits) * table.x[layer];
        if z < table.x[layer + 1] {
            return sign * z;
        }
        if layer == 0 {
            // The tail beyond TAIL_START (Marsaglia 1964).
            loop {
                let a = -ln(1.0 - rng.uniform()) / TAIL_START;
                let b = -ln(1.0 - rng.uniform());
                if 2.0 * b > a * a {
                    return sign * (TAIL_START + a);
                }
            }
        }
        // The wedge between the layer's core and its right edge.
        let y = table.f[layer] + rng.uniform() * (table.f[layer + 1] - table.f[layer]);
        if y < exp(-0.5 * z * z) {
            return sign * z;
        }
    }
}

/// The gamma distribution of one shape (> 0) and scale 1, sampled by Marsaglia and Tsang's
/// (2000) method, with the method's constants worked out once: a population draws thousands
/// of variates of each shape. A shape below 1 is boosted by one and scaled back by
/// `u^(1/shape)`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Gamma {
    /// `shape − 1/3` and `1/√(9d)` of the (boosted) shape.
    d: f64,
    c: f64,
    /// `1/shape` when the shape was boosted.
    boost: Option<f64>,
}

impl Gamma {
    pub fn new(shape: f64) -> Self {
        let (boosted, boost) = if shape < 1.0 {
            (shape + 1.0, Some(1.0 / shape))
        } else {
            (shape, None)
        };
        let d = boosted - 1.0 / 3.0;
        Self {
            d,
            c: 1.0 / (9.0 * d).sqrt(),
            boost,
        }
    }

    /// One variate.
    #[inline]
    pub fn sample<R: RandomBits>(&self, rng: &mut R) -> f64 {
        let (d, c) = (self.d, self.c);
        let variate = loop {
            let x = standard_normal(rng);
            let v = 1.0 + c * x;
            if v <= 0.0 {
                continue;
            }
            let v = v * v * v;
            let u = 1.0 - rng.uniform();
            // Marsaglia and Tsang's squeeze: a sufficient condition for the exact test below,
            // so it accepts the same draws without its two logarithms (about 98 % of the time).
            let x2 = x * x;
            if u < 1.0 - 0.0331 * x2 * x2 {
                break d * v;
            }
            if ln(u) < 0.5 * x2 + d - d * v + d * ln(v) {
                break d * v;
            }
        };
        match self.boost {
            // u^(1/shape), with u in (0, 1].
            Some(inverse_shape) => variate * exp(ln(1.0 - rng.uniform()) * inverse_shape),
            None => variate,
        }
    }
}

/// The beta distribution by mean in (0, 1) and concentration `c = a + b` (> 0):
/// `Beta(mean·c, (1 − mean)·c)`, sampled as `X / (X + Y)` of two gamma variates. An infinite
/// concentration (or a mean of 0 or 1) is no spread at all: the mean itself, with no draw
/// taken.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaByMean {
    mean: f64,
    gammas: Option<(Gamma, Gamma)>,
}

impl BetaByMean {
    pub fn new(mean: f64, concentration: f64) -> Self {
        if concentration.is_infinite() || mean <= 0.0 || mean >= 1.0 {
            return Self { mean, gammas: None };
        }
        Self::from_shapes(mean * concentration, (1.0 - mean) * concentration)
    }

    fn from_shapes(a: f64, b: f64) -> Self {
        Self {
            mean: a / (a + b),
            gammas: Some((Gamma::new(a), Gamma::new(b))),
        }
    }

    /// One variate.
    #[inline]
    pub fn sample<R: RandomBits>(&self, rng: &mut R) -> f64 {
        match &self.gammas {
            None => self.mean,
            Some((a, b)) => {
                let x = a.sample(rng);
                let y = b.sample(rng);
                x / (x + y)
            }
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
    use crate::model::rng::{SplitMix64, Xoshiro256PlusPlus};

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
    fn the_ziggurat_closes_and_its_draws_follow_the_normal_distribution() {
        let table = ziggurat();
        // Every layer has the same area, the top one (up to 0) included.
        let top = table.x[LAYERS - 1] * (1.0 - table.f[LAYERS - 1]);
        assert!((top / LAYER_AREA - 1.0).abs() < 1e-6, "top layer {top}");
        assert!(table.x.windows(2).skip(1).all(|w| w[0] > w[1]));
        // The distribution function at a few points, and the tail beyond the base layer,
        // each within 4 standard errors of a binomial share.
        let mut rng = SplitMix64::new(9);
        let draws: Vec<f64> = (0..N).map(|_| standard_normal(&mut rng)).collect();
        let share = |keep: &dyn Fn(f64) -> bool| {
            draws.iter().filter(|&&z| keep(z)).count() as f64 / N as f64
        };
        for (at, cdf) in [
            (-2.5, 0.006_209_665),
            (-1.0, 0.158_655_254),
            (0.0, 0.5),
            (0.5, 0.691_462_461),
            (2.0, 0.977_249_868),
        ] {
            let observed = share(&|z| z < at);
            assert!(
                within_4_se(observed, cdf, cdf * (1.0 - cdf), N),
                "P(Z < {at}) = {observed}, not {cdf}"
            );
        }
        let tail = 2.0 * 1.290_16e-4; // P(|Z| > 3.6542)
        let observed = share(&|z| z.abs() > TAIL_START);
        assert!(within_4_se(observed, tail, tail, N), "tail {observed}");
    }

    #[test]
    fn gamma_has_mean_and_variance_equal_to_its_shape() {
        for shape in [0.3, 1.0, 2.5, 40.0] {
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(2);
            let (mean, variance) = moments(N, || Gamma::new(shape).sample(&mut rng));
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
            let beta = BetaByMean::from_shapes(a, b);
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
