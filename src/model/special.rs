//! Special functions behind the beta distribution's quantiles (docs/model.md §2.1): the log
//! gamma function, the log beta function, the regularized incomplete beta function `I_x(a, b)`
//! (the beta distribution function) and its inverse.
//!
//! Like the rest of the model they use only `+ − × ÷`, `sqrt` and [`model::math`](super::math)'s
//! `exp` and `ln`, so they give the same bits on every platform. They run when a table of
//! quantiles is built and for the rare draws beyond its range, never in the period loop.

use super::math::{exp, ln};

/// `ln √(2π)`.
const LN_SQRT_2PI: f64 = 0.918_938_533_204_672_8;

/// Where Stirling's series takes over from the recurrence.
const STIRLING_FROM: f64 = 10.0;

/// `ln Γ(z)` for `z > 0`, to about `10⁻¹⁵` relative (absolute near the roots at 1 and 2).
///
/// Stirling's series after shifting `z` up to at least 10 by
/// `Γ(z) = Γ(z + n) / (z (z + 1) ⋯ (z + n − 1))`.
pub fn ln_gamma(z: f64) -> f64 {
    debug_assert!(z > 0.0, "ln_gamma of {z}");
    let mut shifted = z;
    let mut product = 1.0;
    while shifted < STIRLING_FROM {
        product *= shifted;
        shifted += 1.0;
    }
    let stirling = (shifted - 0.5) * ln(shifted) - shifted + LN_SQRT_2PI + stirling_series(shifted);
    if product == 1.0 {
        stirling
    } else {
        stirling - ln(product)
    }
}

/// The sum of Stirling's series beyond its leading terms, for `z ≥ 10`:
/// `Σ B₂ₖ / (2k (2k − 1) z^(2k−1))`, `k = 1..7`; the first omitted term is below `10⁻¹⁶`.
fn stirling_series(z: f64) -> f64 {
    let inverse = 1.0 / z;
    let inverse2 = inverse * inverse;
    inverse
        * (1.0 / 12.0
            + inverse2
                * (-1.0 / 360.0
                    + inverse2
                        * (1.0 / 1260.0
                            + inverse2
                                * (-1.0 / 1680.0
                                    + inverse2
                                        * (1.0 / 1188.0
                                            + inverse2
                                                * (-691.0 / 360_360.0
                                                    + inverse2 * (1.0 / 156.0)))))))
}

/// `ln(1 + z)` for `z > −1`, keeping the relative precision of a small `z` (Goldberg's
/// correction of the rounding in `1 + z`).
fn ln_1p(z: f64) -> f64 {
    let u = 1.0 + z;
    if u == 1.0 {
        z
    } else {
        ln(u) * (z / (u - 1.0))
    }
}

/// `ln B(a, b) = ln Γ(a) + ln Γ(b) − ln Γ(a + b)`, to about `10⁻¹⁵` relative.
///
/// With a large shape, `ln Γ(large) − ln Γ(large + small)` is taken from Stirling's series as
/// one difference, `−(L − ½) ln(1 + s/L) − s ln(L + s) + s + …`, instead of two numbers of some
/// millions that cancel (which left `10⁻⁹` of error at concentrations of a million).
pub fn ln_beta(a: f64, b: f64) -> f64 {
    let (small, large) = if a <= b { (a, b) } else { (b, a) };
    if large < STIRLING_FROM {
        return ln_gamma(a) + ln_gamma(b) - ln_gamma(a + b);
    }
    let sum = large + small;
    let difference = -(large - 0.5) * ln_1p(small / large) - small * ln(sum)
        + small
        + (stirling_series(large) - stirling_series(sum));
    ln_gamma(small) + difference
}

/// `ln x` with `ln 0 = −∞` (the model's [`ln`] is NaN there).
fn ln_or_minus_infinity(x: f64) -> f64 {
    if x > 0.0 {
        ln(x)
    } else {
        f64::NEG_INFINITY
    }
}

/// The beta distribution `Beta(a, b)` (`a, b > 0`): its density, distribution function and
/// quantiles, with `ln B(a, b)` worked out once.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BetaDistribution {
    a: f64,
    b: f64,
    ln_beta: f64,
}

impl BetaDistribution {
    pub fn new(a: f64, b: f64) -> Self {
        debug_assert!(a > 0.0 && b > 0.0, "Beta({a}, {b})");
        Self {
            a,
            b,
            ln_beta: ln_beta(a, b),
        }
    }

    /// The first shape, `a`.
    pub fn a(&self) -> f64 {
        self.a
    }

    /// The second shape, `b`.
    pub fn b(&self) -> f64 {
        self.b
    }

    /// The same distribution with its shapes swapped: `1 − X` for `X ~ Beta(a, b)`.
    pub fn mirrored(&self) -> Self {
        Self {
            a: self.b,
            b: self.a,
            ln_beta: self.ln_beta,
        }
    }

    /// `x^a (1 − x)^b / B(a, b)`, the factor in front of both the density and the continued
    /// fraction.
    fn front(&self, x: f64) -> f64 {
        exp(
            self.a * ln_or_minus_infinity(x) + self.b * ln_or_minus_infinity(1.0 - x)
                - self.ln_beta,
        )
    }

    /// The density at `x` in `(0, 1)`.
    pub fn density(&self, x: f64) -> f64 {
        exp((self.a - 1.0) * ln(x) + (self.b - 1.0) * ln(1.0 - x) - self.ln_beta)
    }

    /// `f′(x) / f(x)`: the density's logarithmic derivative at `x` in `(0, 1)`.
    pub fn log_density_slope(&self, x: f64) -> f64 {
        (self.a - 1.0) / x - (self.b - 1.0) / (1.0 - x)
    }

    /// `P(X ≤ x)`: the regularized incomplete beta function `I_x(a, b)`, to about `10⁻¹⁴`
    /// relative, by its continued fraction (evaluated by the modified Lentz method), taken on
    /// the side of the mean where it converges fast: `I_x(a, b) = 1 − I_{1−x}(b, a)`.
    pub fn cdf(&self, x: f64) -> f64 {
        if x <= 0.0 {
            return 0.0;
        }
        if x >= 1.0 {
            return 1.0;
        }
        if x < (self.a + 1.0) / (self.a + self.b + 2.0) {
            self.front(x) * continued_fraction(self.a, self.b, x) / self.a
        } else {
            1.0 - self.mirrored().front(1.0 - x) * continued_fraction(self.b, self.a, 1.0 - x)
                / self.b
        }
    }

    /// The `p`-quantile for `p` in `[0, ½]`: the `x` with `I_x(a, b) = p`, to about `10⁻¹⁴`
    /// relative. Newton's method on `ln I_x − ln p` in `ln x` (where the lower tail's power law
    /// `I_x ≈ x^a / (a B(a, b))` is a straight line), kept inside a shrinking bracket and
    /// bisecting whenever a step would leave it. `guess` (if in `(0, 1)`) starts it.
    pub fn lower_quantile(&self, p: f64, guess: f64) -> f64 {
        debug_assert!((0.0..=0.5).contains(&p), "lower quantile of {p}");
        if p <= 0.0 {
            return 0.0;
        }
        let ln_p = ln(p);
        // The bracket, in ln x: the quantile lies in (0, 1).
        let (mut low, mut high) = (f64::NEG_INFINITY, 0.0f64);
        // The lower tail's power law gives a start whose error is of the order of x itself.
        let power_law = (ln_p + ln(self.a) + self.ln_beta) / self.a;
        let mut y = if guess > 0.0 && guess < 1.0 {
            ln(guess)
        } else {
            power_law.min(-1e-3)
        };
        for _ in 0..200 {
            let x = exp(y);
            let cdf = self.cdf(x);
            if cdf <= 0.0 {
                // Underflow far below the quantile: move up.
                low = low.max(y);
                y = if high.is_finite() && low.is_finite() {
                    0.5 * (low + high)
                } else {
                    y * 0.5
                };
                continue;
            }
            let residual = ln(cdf) - ln_p;
            if residual > 0.0 {
                high = high.min(y);
            } else {
                low = low.max(y);
            }
            // d ln I / d ln x = x f(x) / I.
            let slope = x * self.density(x) / cdf;
            let mut next = y - residual / slope;
            if !(next > low && next < high && next.is_finite()) {
                next = if low.is_finite() {
                    0.5 * (low + high)
                } else {
                    // No lower end yet: step down geometrically.
                    y - 1.0 - y.abs()
                };
            }
            // Newton's error after a step is of the order of the step squared: once a Newton
            // step is below 10⁻⁸ (of |ln x| near x = 1, where 1 − x is what must be right), the
            // point it reaches is exact to the last bits, and checking that with a further
            // step would only cost another evaluation of I_x.
            let newton = next == y - residual / slope;
            let converged = (next - y).abs() <= 4.0 * f64::EPSILON * y.abs().max(1.0)
                || newton && (next - y).abs() <= 1e-8 * y.abs().min(1.0);
            if converged {
                return exp(next);
            }
            y = next;
        }
        exp(y)
    }
}

/// The continued fraction of `I_x(a, b)` (`x` below `(a + 1)/(a + b + 2)`), by the modified
/// Lentz method: `I_x(a, b) = x^a (1 − x)^b / (a B(a, b)) · 1/(1 + d₁/(1 + d₂/(1 + ⋯)))`.
fn continued_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let guard = |value: f64| if value.abs() < TINY { TINY } else { value };
    let max_terms = 1000 + 20 * (a.max(b).sqrt() as usize);
    let mut c = 1.0;
    let mut d = 1.0 / guard(1.0 - (a + b) * x / (a + 1.0));
    let mut fraction = d;
    for m in 1..=max_terms {
        let m = m as f64;
        let even = m * (b - m) * x / ((a + 2.0 * m - 1.0) * (a + 2.0 * m));
        d = 1.0 / guard(1.0 + even * d);
        c = guard(1.0 + even / c);
        fraction *= d * c;
        let odd = -(a + m) * (a + b + m) * x / ((a + 2.0 * m) * (a + 2.0 * m + 1.0));
        d = 1.0 / guard(1.0 + odd * d);
        c = guard(1.0 + odd / c);
        let step = d * c;
        fraction *= step;
        if (step - 1.0).abs() < 1e-16 {
            break;
        }
    }
    fraction
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(value: f64, exact: f64, tolerance: f64) -> bool {
        (value - exact).abs() <= tolerance * exact.abs().max(1e-300)
    }

    #[test]
    fn log_gamma_matches_known_values() {
        // ln Γ(n) = ln (n − 1)!, ln Γ(½) = ln √π, ln Γ(3/2) = ln(√π / 2), and a large argument
        // against Stirling's own leading terms plus the next correction.
        let factorial = |n: u32| (1..n).map(f64::from).product::<f64>();
        for n in [1u32, 2, 3, 5, 10, 11, 20, 30] {
            let exact = factorial(n).ln();
            assert!(
                (ln_gamma(n as f64) - exact).abs() < 2e-14 * exact.abs().max(1.0),
                "ln Γ({n}) = {} against {exact}",
                ln_gamma(n as f64)
            );
        }
        let sqrt_pi = std::f64::consts::PI.sqrt();
        assert!(close(ln_gamma(0.5), sqrt_pi.ln(), 1e-14));
        assert!((ln_gamma(1.5) - (sqrt_pi / 2.0).ln()).abs() < 4e-15);
        // Γ(0.1) = 9.513507698668731836…
        assert!(close(ln_gamma(0.1), 9.513_507_698_668_732f64.ln(), 1e-14));
        // ln Γ(1e6) = 12 815 504.569 147 61… (tables of ln Γ).
        assert!(close(ln_gamma(1e6), 12_815_504.569_147_61, 1e-15));
    }

    #[test]
    fn log_beta_keeps_its_digits_for_large_shapes() {
        // B(a, 1) = 1/a; B(½, ½) = π; B(2, 3) = 1/12; and large shapes against ln Γ's sum
        // where it is still precise, then against B(a, b) ≈ Γ(b) a^(−b) (1 − b(b − 1)/(2a)).
        assert!(close(ln_beta(970_000.0, 1.0), -(970_000f64.ln()), 1e-15));
        assert!(close(ln_beta(0.5, 0.5), std::f64::consts::PI.ln(), 1e-14));
        assert!(close(ln_beta(2.0, 3.0), (1.0f64 / 12.0).ln(), 1e-14));
        assert!(close(
            ln_beta(12.5, 30.0),
            ln_gamma(12.5) + ln_gamma(30.0) - ln_gamma(42.5),
            1e-13
        ));
        let (a, b) = (970_000.0f64, 0.05f64);
        let approximation = ln_gamma(b) - b * a.ln() + (-b * (b - 1.0) / (2.0 * a)).ln_1p();
        assert!(
            (ln_beta(a, b) - approximation).abs() < 1e-12,
            "{}",
            ln_beta(a, b) - approximation
        );
        assert_eq!(ln_beta(a, b), ln_beta(b, a));
    }

    /// `I_x(a, b)` for whole `a`, `b`: the binomial tail `P(Bin(a + b − 1, x) ≥ a)`.
    fn binomial_tail(a: u32, b: u32, x: f64) -> f64 {
        let n = a + b - 1;
        let mut choose = 1.0f64;
        let mut total = 0.0;
        for j in 0..=n {
            if j > 0 {
                choose = choose * (n - j + 1) as f64 / j as f64;
            }
            if j >= a {
                total += choose * x.powi(j as i32) * (1.0 - x).powi((n - j) as i32);
            }
        }
        total
    }

    #[test]
    fn the_distribution_function_matches_closed_forms() {
        for (a, b) in [
            (1u32, 1u32),
            (2, 2),
            (3, 7),
            (7, 3),
            (4, 16),
            (21, 9),
            (1, 30),
        ] {
            let beta = BetaDistribution::new(a as f64, b as f64);
            for x in [1e-6, 0.01, 0.1, 0.25, 0.3, 0.5, 0.7, 0.9, 0.999] {
                let exact = binomial_tail(a, b, x);
                assert!(
                    close(beta.cdf(x), exact, 1e-12),
                    "I_{x}({a}, {b}) = {} against {exact}",
                    beta.cdf(x)
                );
            }
        }
        // The arcsine law: I_x(½, ½) = (2/π) asin √x.
        let arcsine = BetaDistribution::new(0.5, 0.5);
        for x in [1e-9f64, 0.01, 0.3, 0.5, 0.8, 0.99] {
            let exact = 2.0 / std::f64::consts::PI * x.sqrt().asin();
            assert!(close(arcsine.cdf(x), exact, 1e-12), "arcsine at {x}");
        }
        // Beta(a, 1): x^a, and Beta(1, b): 1 − (1 − x)^b, for shapes that are not whole.
        for shape in [0.05, 0.3, 2.5, 40.0] {
            for x in [1e-8f64, 0.2, 0.6, 0.95] {
                let power = BetaDistribution::new(shape, 1.0).cdf(x);
                assert!(
                    close(power, x.powf(shape), 1e-12),
                    "Beta({shape}, 1) at {x}"
                );
                let other = BetaDistribution::new(1.0, shape).cdf(x);
                let exact = -(shape * (-x).ln_1p()).exp_m1();
                assert!(close(other, exact, 1e-12), "Beta(1, {shape}) at {x}");
            }
        }
    }

    #[test]
    fn lower_quantiles_invert_the_distribution_function() {
        for (a, b) in [
            (0.05, 0.05),
            (0.1, 3.0),
            (0.5, 0.5),
            (1.0, 1.0),
            (2.97, 97.0),
            (3.0, 7.0),
            (21.0, 9.0),
            (4.0, 4.0),
            (900.0, 100.0),
            (3e4, 9.7e5),
        ] {
            let beta = BetaDistribution::new(a, b);
            for p in [1e-300, 1e-30, 1e-12, 1e-6, 0.001, 0.1, 0.3, 0.5] {
                let x = beta.lower_quantile(p, -1.0);
                let back = beta.cdf(x);
                // Where the quantile is below the smallest normal double, it underflows.
                let underflows = (p.ln() + a.ln() + beta.ln_beta) / a < -700.0;
                // ln B(a, b) of huge shapes loses digits to cancellation: ~10⁻¹⁰ relative.
                let tolerance = if a + b > 1e4 { 1e-9 } else { 1e-12 };
                assert!(
                    close(back, p, tolerance) || underflows && x < 1e-300,
                    "Beta({a}, {b}): quantile of {p:e} is {x:e}, whose I_x is {back:e}"
                );
            }
        }
        // Both branches of the continued fraction agree where they meet, even for shapes a
        // million apart (their difference once reached 10⁻⁷ through ln B's cancellation).
        let skewed = BetaDistribution::new(970_000.0, 0.05);
        // I_x at the meeting point, (970 000 + 1)/(970 000 + 0.05 + 2), and 10⁻¹² either side,
        // from mpmath's betainc at 40 digits.
        for (x, exact) in [
            (0.999_998_917_528_060_8, 0.010_623_215_374_642_038),
            (0.999_998_917_527_060_8, 0.010_623_198_730_748_19),
            (0.999_998_917_529_060_8, 0.010_623_232_018_715_492),
        ] {
            // The continued fraction's first terms cancel to about 10⁻¹⁰ here: (a + b)x/(a + 1)
            // is within 10⁻⁶ of 1.
            let cdf = skewed.cdf(x);
            assert!(
                close(cdf, exact, 3e-10),
                "I_{x}(970000, 0.05) = {cdf:e}, not {exact:e}"
            );
        }
        // Beta(a, 1): p^(1/a) exactly.
        let beta = BetaDistribution::new(2.5, 1.0);
        assert!(close(
            beta.lower_quantile(0.2, -1.0),
            0.2f64.powf(0.4),
            1e-13
        ));
    }
}
