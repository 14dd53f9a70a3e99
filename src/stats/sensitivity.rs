//! Global sensitivity estimators (docs/sweeps.md), pure functions over a design's outputs.
//!
//! - **Sobol indices** from Saltelli's layout ([`crate::sweep::design::Layout::Saltelli`]): first-order
//!   `S1ᵢ = mean(f(B)·(f(ABᵢ) − f(A))) / V` (Saltelli et al. 2010) and total
//!   `STᵢ = mean((f(A) − f(ABᵢ))²) / (2V)` (Jansen 1999), `V` the variance of `f(A)` and `f(B)`
//!   together, on outputs centred on their mean, as SALib computes them. Confidence intervals by
//!   bootstrap over base rows.
//! - **Morris** elementary effects `EEᵢ = (f(x + Δeᵢ) − f(x)) / Δ`, with `Δ` in the unit cube:
//!   `μ*ᵢ = mean |EEᵢ|`, `σᵢ` their standard deviation (Morris 1991; Campolongo et al. 2007),
//!   a bootstrap interval over trajectories for `μ*`.
//!
//! Bootstrap resamples come from a fixed seed, so an analysis is reproducible.

use serde::Serialize;

use crate::model::rng::Xoshiro256PlusPlus;

/// One step of a Morris trajectory: `parameter` moves by `delta` in the unit cube.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MorrisStep {
    pub parameter: usize,
    pub delta: f64,
}

/// Bootstrap resamples behind every interval.
pub const BOOTSTRAP_RESAMPLES: usize = 500;

/// An estimate with a 95 % bootstrap percentile interval.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Estimate {
    pub estimate: f64,
    pub ci_low: f64,
    pub ci_high: f64,
}

impl Estimate {
    /// Whether the interval contains 0: the data cannot tell the index from nothing.
    pub fn indistinct_from_zero(&self) -> bool {
        self.ci_low <= 0.0 && self.ci_high >= 0.0
    }
}

/// A parameter's Sobol indices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SobolIndices {
    pub first_order: Estimate,
    pub total: Estimate,
}

/// Outputs of a Saltelli design for one quantity: row `j` holds `f(A_j)`, `f(AB_j,1 … k)` and
/// `f(B_j)`.
pub struct SaltelliOutputs<'a> {
    pub a: &'a [f64],
    pub b: &'a [f64],
    /// `ab[i][j] = f(AB_j,i)`.
    pub ab: &'a [Vec<f64>],
}

/// The Sobol estimates for parameter `i` over the rows `rows`, from outputs already centred.
/// `V` is the variance of `f(A)` and `f(B)` together, with `n` (not `n − 1`) in the
/// denominator, as SALib computes it.
fn sobol_point(outputs: &SaltelliOutputs, i: usize, rows: &[usize]) -> (f64, f64) {
    let n = rows.len() as f64;
    let mut mean = 0.0;
    for &j in rows {
        mean += outputs.a[j] + outputs.b[j];
    }
    mean /= 2.0 * n;
    let mut variance = 0.0;
    for &j in rows {
        let (da, db) = (outputs.a[j] - mean, outputs.b[j] - mean);
        variance += da * da + db * db;
    }
    variance /= 2.0 * n;
    let mut first = 0.0;
    let mut total = 0.0;
    for &j in rows {
        let (a, b, ab) = (outputs.a[j], outputs.b[j], outputs.ab[i][j]);
        first += b * (ab - a);
        total += (a - ab) * (a - ab);
    }
    if variance <= 0.0 {
        return (f64::NAN, f64::NAN);
    }
    (first / n / variance, total / (2.0 * n) / variance)
}

/// Sobol first-order and total indices of every parameter, with bootstrap intervals over the
/// base rows (`seed` fixes the resamples).
///
/// The outputs are first centred on their mean over every point of the design, as SALib does:
/// the first-order estimator is not invariant to a shift of the output, and centring keeps its
/// variance down (Saltelli et al. 2010). With that, the estimates equal SALib's
/// `sobol.analyze(..., calc_second_order=False)` on the same outputs.
pub fn sobol_indices(outputs: &SaltelliOutputs, seed: u64) -> Vec<SobolIndices> {
    let count = outputs.a.len() * (outputs.ab.len() + 2);
    let centre = (outputs.a.iter().sum::<f64>()
        + outputs.b.iter().sum::<f64>()
        + outputs.ab.iter().flatten().sum::<f64>())
        / count as f64;
    let centred = |values: &[f64]| values.iter().map(|y| y - centre).collect::<Vec<f64>>();
    let (a, b) = (centred(outputs.a), centred(outputs.b));
    let ab: Vec<Vec<f64>> = outputs.ab.iter().map(|column| centred(column)).collect();
    let outputs = &SaltelliOutputs {
        a: &a,
        b: &b,
        ab: &ab,
    };
    let n = outputs.a.len();
    let all: Vec<usize> = (0..n).collect();
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    let resamples: Vec<Vec<usize>> = (0..BOOTSTRAP_RESAMPLES)
        .map(|_| (0..n).map(|_| rng.below(n as u32) as usize).collect())
        .collect();
    (0..outputs.ab.len())
        .map(|i| {
            let (first, total) = sobol_point(outputs, i, &all);
            let (firsts, totals): (Vec<f64>, Vec<f64>) = resamples
                .iter()
                .map(|rows| sobol_point(outputs, i, rows))
                .unzip();
            SobolIndices {
                first_order: with_interval(first, firsts),
                total: with_interval(total, totals),
            }
        })
        .collect()
}

/// A parameter's Morris measures.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MorrisMeasures {
    /// Mean elementary effect (signed).
    pub mu: f64,
    /// Mean absolute elementary effect, with a bootstrap interval over trajectories.
    pub mu_star: Estimate,
    /// Standard deviation of the elementary effects: interactions and non-linearity.
    pub sigma: f64,
}

/// Morris measures of `k` parameters from `outputs` (one per point, trajectory by trajectory)
/// and each trajectory's `steps`.
pub fn morris_measures(
    outputs: &[f64],
    steps: &[Vec<MorrisStep>],
    k: usize,
    seed: u64,
) -> Vec<MorrisMeasures> {
    // effects[i][t]: parameter i's elementary effect on trajectory t.
    let mut effects = vec![Vec::with_capacity(steps.len()); k];
    for (t, trajectory) in steps.iter().enumerate() {
        let start = t * (k + 1);
        for (s, step) in trajectory.iter().enumerate() {
            effects[step.parameter]
                .push((outputs[start + s + 1] - outputs[start + s]) / step.delta);
        }
    }
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(seed);
    effects
        .iter()
        .map(|ee| {
            let n = ee.len();
            let finite: Vec<f64> = ee.iter().copied().filter(|x| x.is_finite()).collect();
            let m = finite.len() as f64;
            let mu = finite.iter().sum::<f64>() / m;
            let mu_star = finite.iter().map(|x| x.abs()).sum::<f64>() / m;
            let sigma = if finite.len() > 1 {
                (finite.iter().map(|x| (x - mu) * (x - mu)).sum::<f64>() / (m - 1.0)).sqrt()
            } else {
                f64::NAN
            };
            let resampled: Vec<f64> = (0..BOOTSTRAP_RESAMPLES)
                .map(|_| {
                    let mut sum = 0.0;
                    let mut count = 0.0;
                    for _ in 0..n {
                        let x = ee[rng.below(n as u32) as usize];
                        if x.is_finite() {
                            sum += x.abs();
                            count += 1.0;
                        }
                    }
                    sum / count
                })
                .collect();
            MorrisMeasures {
                mu,
                mu_star: with_interval(mu_star, resampled),
                sigma,
            }
        })
        .collect()
}

/// `estimate` with the 2.5 % and 97.5 % percentiles of its bootstrap `replicates`.
fn with_interval(estimate: f64, mut replicates: Vec<f64>) -> Estimate {
    replicates.retain(|x| x.is_finite());
    if replicates.is_empty() {
        return Estimate {
            estimate,
            ci_low: f64::NAN,
            ci_high: f64::NAN,
        };
    }
    replicates.sort_by(f64::total_cmp);
    let at = |q: f64| {
        let position = q * (replicates.len() - 1) as f64;
        let below = position.floor() as usize;
        let above = position.ceil() as usize;
        let weight = position - below as f64;
        replicates[below] * (1.0 - weight) + replicates[above] * weight
    };
    Estimate {
        estimate,
        ci_low: at(0.025),
        ci_high: at(0.975),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sweep::design::{Design, DesignKind, DesignSpec, Layout, VarySpec};

    fn uniform(key: &str, lo: f64, hi: f64) -> VarySpec {
        VarySpec {
            key: key.into(),
            uniform: Some(vec![lo, hi]),
            log_uniform: None,
            triangular: None,
            normal: None,
            values: None,
        }
    }

    /// Outputs of `f` at every point of a design, as numbers.
    fn evaluate(design: &Design, f: impl Fn(&[f64]) -> f64) -> (Vec<f64>, Layout) {
        let (points, layout) = design.points();
        let outputs = points
            .iter()
            .map(|unit| {
                let x: Vec<f64> = design
                    .values_at(unit)
                    .iter()
                    .map(|v| v.as_float().unwrap())
                    .collect();
                f(&x)
            })
            .collect();
        (outputs, layout)
    }

    fn saltelli_split(outputs: &[f64], k: usize) -> (Vec<f64>, Vec<f64>, Vec<Vec<f64>>) {
        let rows: Vec<&[f64]> = outputs.chunks(k + 2).collect();
        let a = rows.iter().map(|r| r[0]).collect();
        let b = rows.iter().map(|r| r[k + 1]).collect();
        let ab = (0..k)
            .map(|i| rows.iter().map(|r| r[1 + i]).collect())
            .collect();
        (a, b, ab)
    }

    /// The Ishigami function, `a = 7`, `b = 0.1`, on `[−π, π]³`: S1 = (0.3139, 0.4424, 0),
    /// ST = (0.5576, 0.4424, 0.2437) (Ishigami & Homma 1990; Saltelli et al. 2008).
    #[test]
    fn sobol_indices_of_the_ishigami_function_match_the_analytic_values() {
        let pi = std::f64::consts::PI;
        let vary: Vec<VarySpec> = ["x1", "x2", "x3"]
            .iter()
            .map(|k| uniform(k, -pi, pi))
            .collect();
        let spec = DesignSpec {
            kind: DesignKind::Sobol,
            samples: Some(8192),
            levels: None,
            seed: Some(42),
        };
        let design = Design::new(&spec, &vary, 0).unwrap();
        let (outputs, _) = evaluate(&design, |x| {
            x[0].sin() + 7.0 * x[1].sin().powi(2) + 0.1 * x[2].powi(4) * x[0].sin()
        });
        let (a, b, ab) = saltelli_split(&outputs, 3);
        let indices = sobol_indices(
            &SaltelliOutputs {
                a: &a,
                b: &b,
                ab: &ab,
            },
            1,
        );
        let s1 = [0.3139, 0.4424, 0.0];
        let st = [0.5576, 0.4424, 0.2437];
        for i in 0..3 {
            let found = indices[i];
            assert!(
                (found.first_order.estimate - s1[i]).abs() < 0.03,
                "S1[{i}] = {:?}",
                found.first_order
            );
            assert!(
                (found.total.estimate - st[i]).abs() < 0.03,
                "ST[{i}] = {:?}",
                found.total
            );
            // The intervals cover the truth.
            assert!(
                found.first_order.ci_low - 0.01 <= s1[i]
                    && s1[i] <= found.first_order.ci_high + 0.01
            );
            assert!(found.total.ci_low - 0.01 <= st[i] && st[i] <= found.total.ci_high + 0.01);
        }
        assert!(indices[2].first_order.indistinct_from_zero());
        assert!(!indices[0].first_order.indistinct_from_zero());
    }

    /// An additive function `f = Σ cᵢ xᵢ` on the unit cube has `S1ᵢ = STᵢ = cᵢ² / Σ c²`.
    #[test]
    fn sobol_indices_of_a_linear_function_are_its_variance_shares() {
        let coefficients = [4.0, 2.0, 1.0, 0.0];
        let vary: Vec<VarySpec> = (0..4)
            .map(|i| uniform(&format!("x{i}"), 0.0, 1.0))
            .collect();
        let spec = DesignSpec {
            kind: DesignKind::Sobol,
            samples: Some(4096),
            levels: None,
            seed: Some(3),
        };
        let design = Design::new(&spec, &vary, 0).unwrap();
        let (outputs, _) = evaluate(&design, |x| {
            x.iter().zip(coefficients).map(|(x, c)| c * x).sum()
        });
        let (a, b, ab) = saltelli_split(&outputs, 4);
        let indices = sobol_indices(
            &SaltelliOutputs {
                a: &a,
                b: &b,
                ab: &ab,
            },
            1,
        );
        let total: f64 = coefficients.iter().map(|c| c * c).sum();
        for (i, c) in coefficients.iter().enumerate() {
            let share = c * c / total;
            assert!((indices[i].first_order.estimate - share).abs() < 0.02);
            assert!((indices[i].total.estimate - share).abs() < 0.02);
        }
    }

    /// Morris on `f = 10x₁ + 5x₂ + x₃ + 0·x₄ + 4x₁x₂`: μ* ranks x₁ > x₂ > x₃ > x₄, and only the
    /// interacting pair has σ > 0.
    #[test]
    fn morris_ranks_a_function_with_a_known_ranking() {
        let vary: Vec<VarySpec> = (0..4)
            .map(|i| uniform(&format!("x{i}"), 0.0, 1.0))
            .collect();
        let spec = DesignSpec {
            kind: DesignKind::Morris,
            samples: Some(40),
            levels: Some(4),
            seed: Some(9),
        };
        let design = Design::new(&spec, &vary, 0).unwrap();
        let (outputs, layout) = evaluate(&design, |x| {
            10.0 * x[0] + 5.0 * x[1] + x[2] + 4.0 * x[0] * x[1]
        });
        let Layout::Morris { steps, .. } = layout else {
            panic!("not a Morris layout")
        };
        let measures = morris_measures(&outputs, &steps, 4, 1);
        let mu_star: Vec<f64> = measures.iter().map(|m| m.mu_star.estimate).collect();
        assert!(mu_star[0] > mu_star[1] && mu_star[1] > mu_star[2] && mu_star[2] > mu_star[3]);
        // Linear effects are exact: x₃'s effect is 1 on every trajectory, x₄'s is 0.
        assert!((measures[2].mu_star.estimate - 1.0).abs() < 1e-9);
        assert!(measures[2].sigma.abs() < 1e-9);
        assert_eq!(measures[3].mu_star.estimate, 0.0);
        assert!(measures[0].sigma > 0.1 && measures[1].sigma > 0.1);
        // x₁'s effect is 10 + 4x₂ with x₂ on the grid: between 10 and 14.
        assert!((10.0..=14.0).contains(&measures[0].mu_star.estimate));
    }
}
