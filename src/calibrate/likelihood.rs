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
//!
//! Customers won per period (`--acquisition`) are Poisson counts around the simulated mean
//! `λ_t`: `ln L = Σ_t y_t·ln λ_t − λ_t`. Revenue per customer (`--revenue`) is normal around
//! the simulated mean with a variance the data estimate (profiled out):
//! `ln L = −(n/2)·(ln(2π·RSS/n) + 1)`, `RSS = Σ_t (r_t − r̂_t)²`.
//!
//! Every `ln L` here leaves out terms that do not depend on the simulation (the multinomial
//! coefficient, `ln y_t!`), so they differ from the textbook ones by a constant; deviances,
//! which compare with the saturated model, do not.

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

/// `ln L` of customers won per period, `observations` `(t, y_t)`, as Poisson counts around
/// `mean[t]` (see the module docs).
pub fn poisson_log_likelihood(observations: &[(u32, f64)], mean: &[f64]) -> f64 {
    observations
        .iter()
        .map(|&(t, y)| {
            let lambda = mean[t as usize].max(PROBABILITY_FLOOR);
            y * lambda.ln() - lambda
        })
        .sum()
}

/// `ln L` of the saturated Poisson model (`λ_t = y_t`), for the deviance.
pub fn poisson_saturated_log_likelihood(observations: &[(u32, f64)]) -> f64 {
    observations
        .iter()
        .map(|&(_, y)| if y > 0.0 { y * y.ln() - y } else { 0.0 })
        .sum()
}

/// `ln L` of revenue per customer, `observations` `(t, r_t)`, normal around `mean[t]` with its
/// variance profiled out (see the module docs). A perfect match has no finite likelihood, so
/// the residual sum of squares is floored at a millionth of the data's own.
pub fn normal_profile_log_likelihood(observations: &[(u32, f64)], mean: &[f64]) -> f64 {
    let n = observations.len() as f64;
    let rss: f64 = observations
        .iter()
        .map(|&(t, r)| (r - mean[t as usize]).powi(2))
        .sum();
    let scale: f64 = observations.iter().map(|&(_, r)| r * r).sum::<f64>() * 1e-6;
    let rss = if rss.is_nan() {
        rss
    } else {
        rss.max(scale).max(f64::MIN_POSITIVE)
    };
    -0.5 * n * ((std::f64::consts::TAU * rss / n).ln() + 1.0)
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
            segment: None,
            line: 2,
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
            segment: None,
            line: 2,
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

    #[test]
    fn series_likelihoods_peak_at_the_data_and_match_their_formulas() {
        let observed = [(1, 12.0), (2, 0.0), (4, 7.0)];
        let mean = [0.0, 10.0, 1.0, 99.0, 8.0];
        let expected = (12.0 * 10f64.ln() - 10.0) + (0.0 - 1.0) + (7.0 * 8f64.ln() - 8.0);
        assert!((poisson_log_likelihood(&observed, &mean) - expected).abs() < 1e-12);
        let exact = [0.0, 12.0, 0.0, 99.0, 7.0];
        assert!(
            (poisson_log_likelihood(&observed, &exact)
                - poisson_saturated_log_likelihood(&observed))
            .abs()
                < 1e-9
        );
        // Normal: residuals 1 and −1 give RSS 2 over 2 observations.
        let revenue = [(1, 5.0), (2, 3.0)];
        let at = normal_profile_log_likelihood(&revenue, &[f64::NAN, 4.0, 4.0]);
        let expected = -(std::f64::consts::TAU.ln() + 1.0);
        assert!((at - expected).abs() < 1e-12);
        assert!(normal_profile_log_likelihood(&revenue, &[f64::NAN, 5.0, 3.0]) > at);
        assert!(normal_profile_log_likelihood(&revenue, &[f64::NAN, 5.0, 3.0]).is_finite());
    }
}
