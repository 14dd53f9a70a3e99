//! Customer behaviour, one function per equation of docs/model.md §4.

use super::math::{exp, logistic, powi};
use super::params::DefectionParams;

/// Service failure probability (§4.3): `clamp(f_base + (1 − fill)·stockout_impact + (1 − q), 0, 1)`.
#[inline(always)]
pub fn failure_probability(
    base_failure: f64,
    fill_rate: f64,
    stockout_impact: f64,
    channel_quality: f64,
) -> f64 {
    (base_failure + (1.0 - fill_rate) * stockout_impact + (1.0 - channel_quality)).clamp(0.0, 1.0)
}

/// Share of wallet (§4.5, Storbacka et al. 1994): `s₀ + (1 − s₀)·κ`.
#[inline(always)]
pub fn share_of_wallet(base_share: f64, commitment: f64) -> f64 {
    base_share + (1.0 - base_share) * commitment
}

/// What the defection hazard depends on besides the coefficients.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct DefectionDrivers {
    pub commitment: f64,
    pub trust: f64,
    /// Weight multiplier on trust (novice buyers lean on trust).
    pub trust_multiplier: f64,
    /// Whether a failure this period went unrecovered.
    pub unrecovered_failure: bool,
    pub price_sensitivity: f64,
    /// Price paid relative to the reference price.
    pub price: f64,
    pub rival_campaign: bool,
    /// The customer's own addition to the log-odds: the segment's intercept `h_s` plus the
    /// individual churn propensity `logit θᵢ − (h₀ + h_s)` (docs/model.md §2.1); 0 when
    /// customers do not differ.
    pub intercept: f64,
}

/// Defection hazard (§4.6): `logistic(defection_index)`.
#[inline(always)]
pub fn defection_hazard(params: &DefectionParams, drivers: &DefectionDrivers) -> f64 {
    logistic(defection_index(params, drivers))
}

/// The linear predictor of the defection hazard (§4.6):
/// `h₀ + hᵢ − a_κ·κ − a_τ·τ + a_f·failure + a_p·sensitivity·(price − 1)·(1 − τ) + a_r·rival`,
/// where `hᵢ` is the customer's own intercept (segment and individual propensity, §2.1).
///
/// The engine decides a defection with [`below_logistic`](super::math::below_logistic) on this
/// index, which gives the same answer as comparing the draw with [`defection_hazard`].
#[inline(always)]
pub fn defection_index(params: &DefectionParams, drivers: &DefectionDrivers) -> f64 {
    let failure = if drivers.unrecovered_failure {
        1.0
    } else {
        0.0
    };
    let rival = if drivers.rival_campaign { 1.0 } else { 0.0 };
    params.baseline + drivers.intercept
        - params.commitment * drivers.commitment
        - params.trust * drivers.trust_multiplier * drivers.trust
        + params.unrecovered_failure * failure
        + params.price * drivers.price_sensitivity * (drivers.price - 1.0) * (1.0 - drivers.trust)
        + params.rival_campaign * rival
}

/// Advertising reach per prospect (§4.7): `p_max·(1 − exp(−spend / s_half))·effort`.
#[inline(always)]
pub fn advertising_reach(
    max_reach: f64,
    spend_per_prospect: f64,
    half_spend: f64,
    effort: f64,
) -> f64 {
    max_reach * (1.0 - exp(-spend_per_prospect / half_spend)) * effort
}

/// Chance that word of mouth from `advocates` neighbours converts a prospect on its own (§4.7):
/// `1 − (1 − q_wom)^A`.
#[inline(always)]
pub fn word_of_mouth_reach(word_of_mouth: f64, advocates: u32) -> f64 {
    1.0 - powi(1.0 - word_of_mouth, advocates as i32)
}

/// Chance that no detractor neighbour talks a prospect out of buying (§4.7): `(1 − q_neg)^D`.
#[inline(always)]
pub fn not_deterred(negative_word_of_mouth: f64, detractors: u32) -> f64 {
    powi(1.0 - negative_word_of_mouth, detractors as i32)
}

/// Adoption probability in `network` mode (§4.7, Goldenberg, Libai & Muller 2001):
/// `[1 − (1 − p_ad)·(1 − q_wom)^A]·(1 − q_neg)^D`.
pub fn network_adoption_probability(
    advertising: f64,
    word_of_mouth: f64,
    advocates: u32,
    negative_word_of_mouth: f64,
    detractors: u32,
) -> f64 {
    let positive =
        1.0 - (1.0 - advertising) * (1.0 - word_of_mouth_reach(word_of_mouth, advocates));
    positive * not_deterred(negative_word_of_mouth, detractors)
}

/// Adoption probability in `mixed` mode (§4.7, discrete Bass 1969): `min(1, p_ad + q_wom·F)`.
#[inline(always)]
pub fn mixed_adoption_probability(advertising: f64, word_of_mouth: f64, adopted_share: f64) -> f64 {
    (advertising + word_of_mouth * adopted_share).min(1.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drivers() -> DefectionDrivers {
        DefectionDrivers {
            commitment: 0.2,
            trust: 0.5,
            trust_multiplier: 1.0,
            unrecovered_failure: false,
            price_sensitivity: 0.6,
            price: 1.0,
            rival_campaign: false,
            intercept: 0.0,
        }
    }

    #[test]
    fn failure_probability_adds_supply_and_channel_and_clamps() {
        assert!((failure_probability(0.04, 1.0, 1.0, 1.0) - 0.04).abs() < 1e-12);
        assert!((failure_probability(0.04, 0.8, 1.0, 0.95) - 0.29).abs() < 1e-12);
        assert_eq!(failure_probability(0.5, 0.0, 1.0, 0.5), 1.0);
    }

    #[test]
    fn share_of_wallet_grows_with_commitment() {
        assert_eq!(share_of_wallet(0.4, 0.0), 0.4);
        assert_eq!(share_of_wallet(0.4, 1.0), 1.0);
        assert!((share_of_wallet(0.4, 0.5) - 0.7).abs() < 1e-12);
    }

    #[test]
    fn hazard_at_reference_matches_formula() {
        let p = DefectionParams::default();
        let expected = logistic(p.baseline - p.commitment * 0.2 - p.trust * 0.5);
        assert!((defection_hazard(&p, &drivers()) - expected).abs() < 1e-12);
    }

    #[test]
    fn hazard_signs() {
        let p = DefectionParams::default();
        let base = defection_hazard(&p, &drivers());
        let with = |f: &dyn Fn(&mut DefectionDrivers)| {
            let mut d = drivers();
            f(&mut d);
            defection_hazard(&p, &d)
        };
        assert!(with(&|d| d.commitment = 0.8) < base);
        assert!(with(&|d| d.trust = 0.8) < base);
        assert!(with(&|d| d.unrecovered_failure = true) > base);
        assert!(with(&|d| d.price = 1.1) > base);
        assert!(with(&|d| d.price = 0.9) < base);
        assert!(with(&|d| d.rival_campaign = true) > base);
        assert!(with(&|d| d.trust_multiplier = 2.0) < base);
    }

    #[test]
    fn advertising_has_diminishing_returns() {
        let reach = |spend| advertising_reach(0.02, spend, 2.0, 1.0);
        assert_eq!(reach(0.0), 0.0);
        assert!((reach(2.0) - 0.02 * (1.0 - (-1.0f64).exp())).abs() < 1e-12);
        assert!(reach(4.0) - reach(2.0) < reach(2.0) - reach(0.0));
        assert!(reach(1e9) <= 0.02);
        assert!((advertising_reach(0.02, 2.0, 2.0, 0.5) - reach(2.0) / 2.0).abs() < 1e-12);
    }

    #[test]
    fn network_adoption_reduces_to_its_parts() {
        assert!((network_adoption_probability(0.01, 0.02, 0, 0.05, 0) - 0.01).abs() < 1e-12);
        let three = network_adoption_probability(0.0, 0.02, 3, 0.05, 0);
        assert!((three - (1.0 - 0.98f64.powi(3))).abs() < 1e-12);
        let deterred = network_adoption_probability(0.01, 0.02, 0, 0.05, 2);
        assert!((deterred - 0.01 * 0.95 * 0.95).abs() < 1e-12);
    }

    #[test]
    fn mixed_adoption_is_bass() {
        assert!((mixed_adoption_probability(0.01, 0.3, 0.5) - 0.16).abs() < 1e-12);
        assert_eq!(mixed_adoption_probability(0.9, 0.5, 1.0), 1.0);
    }
}
