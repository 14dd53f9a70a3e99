//! What a sweep's runs say (docs/sweeps.md): per-point summaries, the robustness of the verdict
//! over the design, global sensitivity indices and the share of variance that is seed noise.
//!
//! Each analysis reads the per-point summaries of [`PointResults`] back from disk a few
//! quantities at a time.

use std::io;

use super::design::Layout;
use super::points::PreparedSweep;
use crate::results::points::{metric_quantity, npv_index, quantity_keys, PointResults};
use crate::stats::sensitivity::{morris_measures, sobol_indices, Estimate, SaltelliOutputs};
use crate::stats::{Interval, Welford};

/// One row of `sensitivity.csv`.
#[derive(Debug, Clone, PartialEq)]
pub struct SensitivityRow {
    pub metric: String,
    pub strategy: String,
    pub parameter: String,
    /// `sobol` or `morris`.
    pub method: &'static str,
    /// `S1`, `ST` (Sobol); `mu_star`, `sigma`, `mu` (Morris).
    pub index: &'static str,
    pub estimate: Estimate,
}

/// Quantities read back from disk at a time by [`sensitivity`]: bounds its memory.
const QUANTITIES_PER_READ: usize = 8;

/// Global sensitivity of every quantity to every parameter, for Sobol and Morris designs
/// (none for the others). A quantity that is not finite at every point is left out.
pub fn sensitivity(
    sweep: &PreparedSweep,
    results: &PointResults,
    strategy_names: &[String],
) -> io::Result<Vec<SensitivityRow>> {
    let k = sweep.parameters.len();
    let mut rows = Vec::new();
    if sweep.layout == Layout::Plain {
        return Ok(rows);
    }
    let keys = quantity_keys(strategy_names.len());
    let all: Vec<usize> = (0..keys.len()).collect();
    for group in all.chunks(QUANTITIES_PER_READ) {
        for (&q_idx, by_point) in group.iter().zip(results.means(group)?) {
            if by_point.iter().any(|y| !y.is_finite()) {
                continue;
            }
            let seed = 0x5e45_1717 ^ q_idx as u64;
            let key = keys[q_idx];
            let label = key.label(strategy_names);
            let mut push = |p: usize, method, index, estimate| {
                rows.push(SensitivityRow {
                    metric: key.metric.to_string(),
                    strategy: label.clone(),
                    parameter: sweep.parameters[p].key.clone(),
                    method,
                    index,
                    estimate,
                })
            };
            match &sweep.layout {
                Layout::Saltelli { .. } => {
                    let rows_of: Vec<&[f64]> = by_point.chunks(k + 2).collect();
                    let a: Vec<f64> = rows_of.iter().map(|r| r[0]).collect();
                    let b: Vec<f64> = rows_of.iter().map(|r| r[k + 1]).collect();
                    let ab: Vec<Vec<f64>> = (0..k)
                        .map(|i| rows_of.iter().map(|r| r[1 + i]).collect())
                        .collect();
                    let indices = sobol_indices(
                        &SaltelliOutputs {
                            a: &a,
                            b: &b,
                            ab: &ab,
                        },
                        seed,
                    );
                    for (p, found) in indices.into_iter().enumerate() {
                        push(p, "sobol", "S1", found.first_order);
                        push(p, "sobol", "ST", found.total);
                    }
                }
                Layout::Morris { steps, .. } => {
                    let measures = morris_measures(&by_point, steps, k, seed);
                    for (p, found) in measures.into_iter().enumerate() {
                        push(p, "morris", "mu_star", found.mu_star);
                        push(p, "morris", "sigma", bare(found.sigma));
                        push(p, "morris", "mu", bare(found.mu));
                    }
                }
                Layout::Plain => {}
            }
        }
    }
    Ok(rows)
}

/// An estimate without an interval.
fn bare(estimate: f64) -> Estimate {
    Estimate {
        estimate,
        ci_low: f64::NAN,
        ci_high: f64::NAN,
    }
}

/// How a strategy fares over the design's points.
#[derive(Debug, Clone, PartialEq)]
pub struct Robustness {
    pub strategy: String,
    /// Share of points where its mean NPV is the highest (ties shared), with a 95 % Wilson
    /// interval.
    pub p_best: Estimate,
    /// Mean over points of the best strategy's mean NPV minus its own (0 where it is best),
    /// with a 95 % t interval over points.
    pub expected_regret: Interval,
    /// The largest regret at any point.
    pub worst_regret: f64,
}

/// The robustness of the verdict over the points of the design: every point counts once, so
/// for random designs (LHS, Sobol) the shares estimate probabilities under the stated
/// uncertainty, and for a grid they are shares of the grid.
pub fn robustness(
    results: &PointResults,
    strategy_names: &[String],
) -> io::Result<Vec<Robustness>> {
    let npv = npv_index();
    let n = results.n_points();
    let s_count = strategy_names.len();
    let mut wins = vec![0.0; s_count];
    let mut regrets = vec![Welford::default(); s_count];
    let mut worst = vec![0.0f64; s_count];
    let mut means = vec![0.0; s_count];
    results.for_each_point(|_, intervals| {
        for (s, mean) in means.iter_mut().enumerate() {
            *mean = intervals[metric_quantity(s, npv)].mean;
        }
        let best = means.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let winners = means.iter().filter(|&&m| m == best).count();
        for s in 0..s_count {
            if means[s] == best {
                wins[s] += 1.0 / winners as f64;
            }
            let regret = best - means[s];
            regrets[s].push(regret);
            worst[s] = worst[s].max(regret);
        }
        Ok(())
    })?;
    Ok((0..s_count)
        .map(|s| Robustness {
            strategy: strategy_names[s].clone(),
            p_best: wilson(wins[s], n as f64),
            expected_regret: regrets[s].interval(),
            worst_regret: worst[s],
        })
        .collect())
}

/// A proportion `successes / n` with its 95 % Wilson score interval.
fn wilson(successes: f64, n: f64) -> Estimate {
    if n <= 0.0 {
        return bare(f64::NAN);
    }
    let z = 1.959_963_984_540_054;
    let p = successes / n;
    let denominator = 1.0 + z * z / n;
    let centre = (p + z * z / (2.0 * n)) / denominator;
    let half = z * (p * (1.0 - p) / n + z * z / (4.0 * n * n)).sqrt() / denominator;
    // At 0 and 1 the bounds are exactly 0 and 1; rounding would leave them a hair off.
    Estimate {
        estimate: p,
        ci_low: if successes <= 0.0 {
            0.0
        } else {
            (centre - half).max(0.0)
        },
        ci_high: if successes >= n {
            1.0
        } else {
            (centre + half).min(1.0)
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::points::tests::unit;
    use crate::results::points::{pair_quantity, PointStream};

    #[test]
    fn wilson_intervals_match_a_worked_example() {
        // 8 of 10: Wilson 95 % interval [0.490, 0.943].
        let found = wilson(8.0, 10.0);
        assert!((found.estimate - 0.8).abs() < 1e-12);
        assert!((found.ci_low - 0.4902).abs() < 1e-3, "{found:?}");
        assert!((found.ci_high - 0.9433).abs() < 1e-3, "{found:?}");
        let none = wilson(0.0, 20.0);
        assert_eq!(none.ci_low, 0.0);
        assert!(none.ci_high > 0.1 && none.ci_high < 0.2);
    }

    /// Two strategies over four points: A wins three (by 10 each), B one (by 30).
    #[test]
    fn robustness_counts_wins_and_regrets_over_points() {
        let mut stream = PointStream::new(4, 2, 2, tempfile::tempfile().unwrap());
        for (point, (a, b)) in [
            (110.0, 100.0),
            (110.0, 100.0),
            (110.0, 100.0),
            (100.0, 130.0),
        ]
        .into_iter()
        .enumerate()
        {
            // Two replications each, ±1 around the point's means, paired.
            stream
                .push(&unit(point as u32, 0, &[a - 1.0, b - 1.0]))
                .unwrap();
            stream
                .push(&unit(point as u32, 1, &[a + 1.0, b + 1.0]))
                .unwrap();
        }
        let results = stream.finish().unwrap();
        let names = ["a".to_string(), "b".to_string()];
        let found = robustness(&results, &names).unwrap();
        assert_eq!(found[0].p_best.estimate, 0.75);
        assert_eq!(found[1].p_best.estimate, 0.25);
        assert!((found[0].expected_regret.mean - 7.5).abs() < 1e-12);
        assert!((found[1].expected_regret.mean - 7.5).abs() < 1e-12);
        assert_eq!(found[0].worst_regret, 30.0);
        assert_eq!(found[1].worst_regret, 10.0);
        // The paired difference at point 3 is exactly −30 in both replications.
        let difference = results.columns(&[pair_quantity(2, 0)]).unwrap()[0][3];
        assert_eq!(difference.mean, -30.0);
        assert_eq!(difference.sd, 0.0);
        // Within-point variance: 2 per point and strategy (±1); the rest is between points.
        let npv = npv_index();
        let share = results.noise_share(0, npv);
        let within = 4.0 * 2.0;
        let means = [110.0, 110.0, 110.0, 100.0];
        let grand = means.iter().sum::<f64>() / 4.0;
        let between = 2.0 * means.iter().map(|m| (m - grand).powi(2)).sum::<f64>();
        assert!(
            (share - within / (within + between)).abs() < 1e-12,
            "{share}"
        );
    }
}
