//! A relationship edge: trust, reciprocity and commitment (docs/model.md §3).
//!
//! Each equation of §3 is one function here; [`Relationship::after_episode`] composes them in
//! the order the model gives (trust, then reciprocity, then commitment).

use super::math::{clamp, logistic_interpolated};
use super::params::RelationshipParams;

/// The state of one firm–partner relationship, as the partner sees it.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Relationship {
    /// `τ ∈ [0, 1]`: confidence in the firm's reliability and integrity.
    pub trust: f64,
    /// `β ∈ [−1, 1]`: favours received minus opportunism suffered, decaying.
    pub reciprocity: f64,
    /// `κ ∈ [0, 1]`: the enduring desire to keep the relationship.
    pub commitment: f64,
}

/// What happened in one period's exchange, as input to the relationship update.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Episode {
    /// Disconfirmation `δ`: quality received minus expected.
    pub disconfirmation: f64,
    /// Favours `g ∈ [0, 1]` received this period.
    pub favour: f64,
    /// Opportunistic acts `o ∈ [0, 1]` suffered this period.
    pub opportunism: f64,
    /// Relationship benefits in `[0, 1]`.
    pub benefits: f64,
    /// Switching cost in `[0, 1]`.
    pub switching_cost: f64,
    /// `w₀`: the baseline of the commitment target (shared values).
    pub commitment_baseline: f64,
    /// `gᵢ`: how fast this party learns, a multiplier of the learning rates `λ⁺` and `λ⁻`
    /// (1 for the scenario's rates; a customer's own speed, docs/model.md §2.1).
    pub learning: f64,
}

/// Asymmetric trust learning from disconfirmation `δ` (§3), at learning speed `g`:
/// `τ + g·λ⁺·δ·(1 − τ)` if `δ ≥ 0`, else `τ + g·λ⁻·δ·τ`.
#[inline(always)]
pub fn learn_trust(
    trust: f64,
    disconfirmation: f64,
    learning: f64,
    params: &RelationshipParams,
) -> f64 {
    let updated = if disconfirmation >= 0.0 {
        trust + params.trust_gain * learning * disconfirmation * (1.0 - trust)
    } else {
        trust + params.trust_loss * learning * disconfirmation * trust
    };
    clamp(updated, 0.0, 1.0)
}

/// Trust lost to an opportunistic act `o` (§3): `τ − λ_opp·o`, floored at 0.
#[inline(always)]
pub fn erode_trust(trust: f64, opportunism: f64, params: &RelationshipParams) -> f64 {
    let eroded = trust - params.opportunism_trust_loss * opportunism;
    if eroded < 0.0 {
        0.0
    } else {
        eroded
    }
}

/// Reciprocity balance (§3): `clamp((1 − φ)·β + g − o, −1, 1)`.
#[inline(always)]
pub fn update_reciprocity(balance: f64, favour: f64, opportunism: f64, decay: f64) -> f64 {
    clamp((1.0 - decay) * balance + favour - opportunism, -1.0, 1.0)
}

/// Commitment target of the KMV model (§3):
/// `logistic(w₀ + w_τ·τ + w_β·β + w_b·benefits + w_s·switching_cost)`.
///
/// The logistic is interpolated (error below `4·10⁻¹⁰`, see
/// [`logistic_interpolated`]): commitment is stored in single precision, so the difference
/// never shows, and this runs once per active customer and period.
#[inline(always)]
pub fn commitment_target(
    baseline: f64,
    trust: f64,
    reciprocity: f64,
    benefits: f64,
    switching_cost: f64,
    params: &RelationshipParams,
) -> f64 {
    logistic_interpolated(
        baseline
            + params.weight_trust * trust
            + params.weight_reciprocity * reciprocity
            + params.weight_benefits * benefits
            + params.weight_switching_cost * switching_cost,
    )
}

/// Partial adjustment of commitment toward its target (§3): `κ + μ·(κ* − κ)`.
#[inline(always)]
pub fn adjust_commitment(commitment: f64, target: f64, speed: f64) -> f64 {
    commitment + speed * (target - commitment)
}

impl Relationship {
    /// The relationship after one period's episode, in the order of §3.
    #[inline(always)]
    pub fn after_episode(self, episode: &Episode, params: &RelationshipParams) -> Relationship {
        let learned = learn_trust(
            self.trust,
            episode.disconfirmation,
            episode.learning,
            params,
        );
        let trust = erode_trust(learned, episode.opportunism, params);
        let reciprocity = update_reciprocity(
            self.reciprocity,
            episode.favour,
            episode.opportunism,
            params.reciprocity_decay,
        );
        let target = commitment_target(
            episode.commitment_baseline,
            trust,
            reciprocity,
            episode.benefits,
            episode.switching_cost,
            params,
        );
        let commitment = adjust_commitment(self.commitment, target, params.commitment_speed);
        Relationship {
            trust,
            reciprocity,
            commitment,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::math::logistic;

    /// The commitment target's logistic is interpolated to within `4·10⁻¹⁰`.
    const INTERPOLATION_TOLERANCE: f64 = 1e-9;

    fn params() -> RelationshipParams {
        RelationshipParams::default()
    }

    #[test]
    fn good_episode_moves_trust_toward_one_by_gain_rate() {
        // 0.5 + 0.15 · 0.1 · 0.5
        assert!((learn_trust(0.5, 0.1, 1.0, &params()) - 0.5075).abs() < 1e-12);
    }

    #[test]
    fn bad_episode_weighs_more_than_good_one() {
        let up = learn_trust(0.5, 0.5, 1.0, &params()) - 0.5;
        let down = 0.5 - learn_trust(0.5, -0.5, 1.0, &params());
        assert!((down - 0.15).abs() < 1e-12);
        assert!(down > up * 3.0);
    }

    #[test]
    fn trust_stays_in_unit_interval() {
        for &delta in &[-1.0, -0.5, 0.0, 0.5, 1.0] {
            for &trust in &[0.0, 0.3, 1.0] {
                let t = learn_trust(trust, delta, 1.0, &params());
                assert!((0.0..=1.0).contains(&t));
            }
        }
        assert_eq!(erode_trust(0.01, 1.0, &params()), 0.0);
    }

    #[test]
    fn opportunism_erodes_trust_linearly() {
        assert!((erode_trust(0.8, 0.2, &params()) - 0.74).abs() < 1e-12);
    }

    #[test]
    fn reciprocity_decays_accumulates_and_clamps() {
        assert!((update_reciprocity(0.5, 0.0, 0.0, 0.1) - 0.45).abs() < 1e-12);
        assert!((update_reciprocity(0.0, 0.3, 0.1, 0.1) - 0.2).abs() < 1e-12);
        assert_eq!(update_reciprocity(0.9, 0.5, 0.0, 0.1), 1.0);
        assert_eq!(update_reciprocity(-0.9, 0.0, 0.5, 0.1), -1.0);
    }

    #[test]
    fn commitment_target_follows_kmv_signs() {
        let p = params();
        let base = commitment_target(-2.0, 0.5, 0.0, 0.0, 0.0, &p);
        assert!((base - logistic(-0.5)).abs() < INTERPOLATION_TOLERANCE);
        assert!(commitment_target(-2.0, 0.6, 0.0, 0.0, 0.0, &p) > base);
        assert!(commitment_target(-2.0, 0.5, 0.2, 0.0, 0.0, &p) > base);
        assert!(commitment_target(-2.0, 0.5, 0.0, 0.2, 0.0, &p) > base);
        assert!(commitment_target(-2.0, 0.5, 0.0, 0.0, 0.2, &p) > base);
    }

    #[test]
    fn commitment_adjusts_partially() {
        assert!((adjust_commitment(0.2, 0.7, 0.2) - 0.3).abs() < 1e-12);
    }

    #[test]
    fn after_episode_composes_the_three_updates() {
        let p = params();
        let start = Relationship {
            trust: 0.5,
            reciprocity: 0.0,
            commitment: 0.2,
        };
        let episode = Episode {
            disconfirmation: 0.1,
            favour: 0.3,
            opportunism: 0.0,
            benefits: 0.5,
            switching_cost: 0.0,
            commitment_baseline: -2.0,
            learning: 1.0,
        };
        let next = start.after_episode(&episode, &p);
        assert!((next.trust - 0.5075).abs() < 1e-12);
        // A customer who learns twice as fast gains twice the trust from the same episode.
        let quick = start.after_episode(
            &Episode {
                learning: 2.0,
                ..episode
            },
            &p,
        );
        assert!((quick.trust - 0.515).abs() < 1e-12);
        assert!((next.reciprocity - 0.3).abs() < 1e-12);
        let target = logistic(-2.0 + 3.0 * 0.5075 + 1.5 * 0.3 + 0.5);
        assert!((next.commitment - (0.2 + 0.2 * (target - 0.2))).abs() < INTERPOLATION_TOLERANCE);
    }
}
