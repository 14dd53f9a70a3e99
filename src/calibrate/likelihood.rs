//! The likelihood of observed cohort survival under a survival curve (docs/calibration.md).
//!
//! A cohort of `n₀` customers observed at periods `t₁ < … < t_k` with `n₁ ≥ … ≥ n_k` still
//! active loses `dᵢ = nᵢ₋₁ − nᵢ` customers between `tᵢ₋₁` and `tᵢ`, and `n_k` are still there at
//! the end (right-censored). Under a survival curve `S` (`S(0) = 1`) each customer leaves in
//! `(tᵢ₋₁, tᵢ]` with probability `S(tᵢ₋₁) − S(tᵢ)` and outlives the data with probability
//! `S(t_k)`, independently, so
//!
//! `ln L = Σᵢ dᵢ·ln(S(tᵢ₋₁) − S(tᵢ)) + n_k·ln S(t_k)`,
//!
//! the likelihood of the shifted-beta-geometric literature (Fader & Hardie 2007) with `S` taken
//! from the simulation rather than from a formula.

use super::data::Cohort;

/// The smallest probability a period may get: a simulated curve that loses nobody in a period
/// where the data lose someone gets this, not zero, so the log-likelihood stays finite and the
/// optimiser can move away.
pub const PROBABILITY_FLOOR: f64 = 1e-12;

/// `ln L` of `cohort` under `survival`, where `survival[t]` is `S(t)` and `survival[0] = 1`.
/// `survival` must reach the cohort's last period.
pub fn log_likelihood(cohort: &Cohort, survival: &[f64]) -> f64 {
    let mut total = 0.0;
    let mut previous = (0u32, cohort.size);
    for &(period, surviving) in &cohort.observations {
        let lost = previous.1 - surviving;
        if lost > 0.0 {
            let p = survival[previous.0 as usize] - survival[period as usize];
            total += lost * p.max(PROBABILITY_FLOOR).ln();
        }
        previous = (period, surviving);
    }
    if previous.1 > 0.0 {
        total += previous.1 * survival[previous.0 as usize].max(PROBABILITY_FLOOR).ln();
    }
    total
}

/// `ln L` of the saturated model, which gives every interval the share that was observed: the
/// best any curve can do, for the deviance `2·(ln L_saturated − ln L)`.
pub fn saturated_log_likelihood(cohort: &Cohort) -> f64 {
    let n0 = cohort.size;
    let term = |count: f64| {
        if count > 0.0 {
            count * (count / n0).ln()
        } else {
            0.0
        }
    };
    let mut total = 0.0;
    let mut previous = n0;
    for &(_, surviving) in &cohort.observations {
        total += term(previous - surviving);
        previous = surviving;
    }
    total + term(previous)
}

/// Shifted-beta-geometric survival (Fader & Hardie 2007): `S(t) = ∏_{k<t} (β + k)/(α + β + k)`,
/// for `t = 0..=periods`.
pub fn sbg_survival(alpha: f64, beta: f64, periods: u32) -> Vec<f64> {
    let mut survival = Vec::with_capacity(periods as usize + 1);
    let mut s = 1.0;
    survival.push(s);
    for k in 0..periods {
        s *= (beta + k as f64) / (alpha + beta + k as f64);
        survival.push(s);
    }
    survival
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::stats::optimize::{nelder_mead, NelderMeadOptions};

    /// The expected counts of a cohort of `size` under `survival`, at every period.
    fn expected_cohort(size: f64, survival: &[f64]) -> Cohort {
        Cohort {
            name: "expected".into(),
            size,
            observations: survival
                .iter()
                .enumerate()
                .skip(1)
                .map(|(t, s)| (t as u32, size * s))
                .collect(),
            nominal_size: false,
        }
    }

    #[test]
    fn the_saturated_model_is_reached_by_the_true_curve_of_expected_counts() {
        let survival = sbg_survival(1.0, 4.5, 8);
        let cohort = expected_cohort(1000.0, &survival);
        let at_truth = log_likelihood(&cohort, &survival);
        assert!((at_truth - saturated_log_likelihood(&cohort)).abs() < 1e-9);
        // Any other curve does worse.
        assert!(log_likelihood(&cohort, &sbg_survival(1.2, 4.5, 8)) < at_truth);
    }

    #[test]
    fn the_likelihood_counts_gaps_and_the_censored_survivors() {
        // 100 customers; 20 lost by period 2, 10 more by period 5; 70 remain.
        let cohort = Cohort {
            name: "c".into(),
            size: 100.0,
            observations: vec![(2, 80.0), (5, 70.0)],
            nominal_size: false,
        };
        let survival = [1.0, 0.95, 0.85, 0.8, 0.75, 0.72];
        let expected =
            20.0 * (1.0f64 - 0.85).ln() + 10.0 * (0.85f64 - 0.72).ln() + 70.0 * 0.72f64.ln();
        assert!((log_likelihood(&cohort, &survival) - expected).abs() < 1e-12);
        // A flat curve where customers were lost is floored, not −∞.
        assert!(log_likelihood(&cohort, &[1.0; 6]).is_finite());
    }

    /// Maximum likelihood over the sBG family recovers the (α, β) behind expected counts.
    #[test]
    fn maximum_likelihood_recovers_a_shifted_beta_geometric_cohort() {
        let truth = sbg_survival(0.7, 3.2, 12);
        let cohort = expected_cohort(5000.0, &truth);
        let negative_ll =
            |x: &[f64]| -log_likelihood(&cohort, &sbg_survival(x[0].exp(), x[1].exp(), 12));
        let found = nelder_mead(
            negative_ll,
            &[0.0, 0.0],
            &[0.5, 0.5],
            &NelderMeadOptions::default(),
        );
        assert!((found.x[0].exp() - 0.7).abs() < 1e-3, "{:?}", found);
        assert!((found.x[1].exp() - 3.2).abs() < 1e-2, "{:?}", found);
    }
}
