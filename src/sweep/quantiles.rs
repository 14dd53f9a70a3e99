//! Inverse distribution functions that turn a point of the unit cube into parameter values
//! (docs/sweeps.md): every sampling design draws in `[0, 1)ᵏ` and maps each coordinate through
//! the quantile function of its parameter's distribution.
//!
//! Written with `+ − × ÷`, `sqrt` and [`model::math`](crate::model::math)'s `exp` and `ln`, so
//! a design gives the same values on every platform.

use crate::model::math::{exp, ln};

/// `lo + u·(hi − lo)`.
pub fn uniform(u: f64, lo: f64, hi: f64) -> f64 {
    lo + u * (hi - lo)
}

/// Uniform in `ln x` between `lo` and `hi` (both above 0).
pub fn log_uniform(u: f64, lo: f64, hi: f64) -> f64 {
    exp(ln(lo) + u * (ln(hi) - ln(lo)))
}

/// The triangular distribution on `[lo, hi]` with its mode at `mode`.
pub fn triangular(u: f64, lo: f64, mode: f64, hi: f64) -> f64 {
    let width = hi - lo;
    if width <= 0.0 {
        return lo;
    }
    let below_mode = (mode - lo) / width;
    if u < below_mode {
        lo + (u * width * (mode - lo)).sqrt()
    } else {
        hi - ((1.0 - u) * width * (hi - mode)).sqrt()
    }
}

/// The normal distribution of mean `mean` and standard deviation `sd`, truncated to
/// `[lo, hi]`: the quantile `u` of the mass between the bounds.
pub fn truncated_normal(u: f64, mean: f64, sd: f64, lo: f64, hi: f64) -> f64 {
    let below = standard_normal_cdf((lo - mean) / sd);
    let above = standard_normal_cdf((hi - mean) / sd);
    let p = below + u * (above - below);
    let value = mean + sd * standard_normal_quantile(p);
    value.clamp(lo, hi)
}

/// The standard normal distribution function Φ, through the complementary error function of
/// Numerical Recipes (`erfcc`, relative error below 1.2·10⁻⁷): ample for placing design points.
pub fn standard_normal_cdf(x: f64) -> f64 {
    let z = x.abs() / std::f64::consts::SQRT_2;
    let t = 1.0 / (1.0 + 0.5 * z);
    let polynomial = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let erfc = t * exp(polynomial);
    if x >= 0.0 {
        1.0 - 0.5 * erfc
    } else {
        0.5 * erfc
    }
}

/// The standard normal quantile Φ⁻¹(p) for `p` in (0, 1), by Acklam's rational approximation
/// (relative error below 1.2·10⁻⁹); ±∞ at 0 and 1.
pub fn standard_normal_quantile(p: f64) -> f64 {
    const A: [f64; 6] = [
        -3.969_683_028_665_376e1,
        2.209_460_984_245_205e2,
        -2.759_285_104_469_687e2,
        1.383_577_518_672_69e2,
        -3.066_479_806_614_716e1,
        2.506_628_277_459_239,
    ];
    const B: [f64; 5] = [
        -5.447_609_879_822_406e1,
        1.615_858_368_580_409e2,
        -1.556_989_798_598_866e2,
        6.680_131_188_771_972e1,
        -1.328_068_155_288_572e1,
    ];
    const C: [f64; 6] = [
        -7.784_894_002_430_293e-3,
        -3.223_964_580_411_365e-1,
        -2.400_758_277_161_838,
        -2.549_732_539_343_734,
        4.374_664_141_464_968,
        2.938_163_982_698_783,
    ];
    const D: [f64; 4] = [
        7.784_695_709_041_462e-3,
        3.224_671_290_700_398e-1,
        2.445_134_137_142_996,
        3.754_408_661_907_416,
    ];
    const LOW: f64 = 0.024_25;
    if p <= 0.0 {
        return f64::NEG_INFINITY;
    }
    if p >= 1.0 {
        return f64::INFINITY;
    }
    let tail = |q: f64| {
        (((((C[0] * q + C[1]) * q + C[2]) * q + C[3]) * q + C[4]) * q + C[5])
            / ((((D[0] * q + D[1]) * q + D[2]) * q + D[3]) * q + 1.0)
    };
    if p < LOW {
        tail((-2.0 * ln(p)).sqrt())
    } else if p > 1.0 - LOW {
        -tail((-2.0 * ln(1.0 - p)).sqrt())
    } else {
        let q = p - 0.5;
        let r = q * q;
        (((((A[0] * r + A[1]) * r + A[2]) * r + A[3]) * r + A[4]) * r + A[5]) * q
            / (((((B[0] * r + B[1]) * r + B[2]) * r + B[3]) * r + B[4]) * r + 1.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normal_quantile_and_cdf_match_tabulated_values() {
        // Φ(1.959964) = 0.975, Φ(0) = 0.5, Φ(−1) = 0.158655.
        assert!((standard_normal_cdf(1.959_964) - 0.975).abs() < 1e-6);
        assert!((standard_normal_cdf(0.0) - 0.5).abs() < 1e-7);
        assert!((standard_normal_cdf(-1.0) - 0.158_655_25).abs() < 1e-6);
        assert!((standard_normal_quantile(0.975) - 1.959_963_98).abs() < 1e-7);
        assert!((standard_normal_quantile(0.01) + 2.326_347_87).abs() < 1e-7);
        assert!((standard_normal_quantile(0.999) - 3.090_232_31).abs() < 1e-6);
        for p in [1e-6, 0.01, 0.2, 0.5, 0.7, 0.99] {
            let round_trip = standard_normal_cdf(standard_normal_quantile(p));
            assert!(
                (round_trip - p).abs() < 2e-7 * p.max(1e-3),
                "{p}: {round_trip}"
            );
        }
    }

    #[test]
    fn quantiles_stay_in_their_support_and_hit_their_medians() {
        assert_eq!(uniform(0.25, 2.0, 6.0), 3.0);
        assert!((log_uniform(0.5, 1.0, 100.0) - 10.0).abs() < 1e-12);
        // Triangular (0, 0, 1): F(x) = 1 − (1 − x)², median 1 − √½.
        assert!((triangular(0.5, 0.0, 0.0, 1.0) - (1.0 - 0.5f64.sqrt())).abs() < 1e-12);
        assert!((triangular(0.5, 0.0, 0.5, 1.0) - 0.5).abs() < 1e-12);
        // A normal truncated symmetrically keeps its median at the mean.
        assert!((truncated_normal(0.5, 3.0, 2.0, 1.0, 5.0) - 3.0).abs() < 1e-6);
        for i in 0..100 {
            let u = i as f64 / 100.0;
            let x = truncated_normal(u, 0.0, 1.0, -0.5, 2.0);
            assert!((-0.5..=2.0).contains(&x));
            let t = triangular(u, 1.0, 4.0, 5.0);
            assert!((1.0..=5.0).contains(&t));
        }
    }
}
