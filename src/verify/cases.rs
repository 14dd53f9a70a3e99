//! The verification cases, as data (docs/validation.md explains each).

use super::{Base, Case, CaseKind, Expectation, Measure};
use crate::model::economics::per_period_discount_rate;

/// Retention per period in the frozen and steady-state bases.
const RETENTION: f64 = 0.9;
/// Margin per period in the frozen base: value 100 × (1 − COGS share 0.6).
const MARGIN: f64 = 40.0;
/// Acquisitions per period in the steady-state base.
const ACQUISITIONS: f64 = 100.0;
/// Bass coefficients and starting share of the Bass base.
const BASS_P: f64 = 0.01;
const BASS_Q: f64 = 0.3;
const BASS_F0: f64 = 0.01;

/// Beta parameters of the churn propensity in the shifted-beta-geometric case: mean
/// `a/(a + b) = 0.1` (the frozen base's hazard), concentration `a + b = 5`.
const SBG_A: f64 = 0.5;
const SBG_B: f64 = 4.5;

/// Shifted-beta-geometric survival (Fader & Hardie 2007): `S(t) = B(a, b + t)/B(a, b)`, which
/// is the product `∏_{k<t} (b + k)/(a + b + k)`.
fn sbg_survival(period: u32) -> f64 {
    (0..period)
        .map(|k| (SBG_B + k as f64) / (SBG_A + SBG_B + k as f64))
        .product()
}

/// The discrete Bass recursion `F(t+1) = F(t) + (p + q·F(t))·(1 − F(t))` from `F(0)`.
fn bass_share(period: u32) -> f64 {
    (0..period).fold(BASS_F0, |share, _| {
        share + (BASS_P + BASS_Q * share) * (1.0 - share)
    })
}

/// Expected base after `t` periods from zero: `B(t) = r·B(t − 1) + a` → `a(1 − r^t)/(1 − r)`.
fn steady_state_base(period: u32) -> f64 {
    ACQUISITIONS * (1.0 - RETENTION.powi(period as i32)) / (1.0 - RETENTION)
}

/// Every case `relsim verify` runs, in the order it prints them.
pub fn cases() -> Vec<Case> {
    let r = RETENTION;
    let m = MARGIN;
    let d = per_period_discount_rate(0.10, 12.0);
    let frozen_metric = |metric| Measure::Metric {
        strategy: "constant",
        metric,
    };
    // Two variants of one lever: `high` minus `low`, paired by seed.
    let contrast = |strategy, metric, low: &'static str, high: &'static str| Measure::Contrast {
        strategy,
        metric,
        variants: vec![(1.0, vec![high]), (-1.0, vec![low])],
    };
    let mechanisms = Base::Preset("default");
    let small = vec![
        "market.population=5000",
        "market.initial_active=500",
        "replications=30",
    ];
    let stylized = vec!["replications=40"];
    vec![
        Case {
            id: "tenure_mean",
            kind: CaseKind::Reduction,
            title: "mean tenure, frozen relationships, r = 0.9",
            reference: "geometric tenure: E[T] = 1/(1 − r)",
            base: Base::Frozen,
            overrides: vec![],
            measure: frozen_metric("mean_tenure"),
            expectation: Expectation::Exact(1.0 / (1.0 - r)),
        },
        Case {
            id: "tenure_variance",
            kind: CaseKind::Reduction,
            title: "variance of tenure, frozen relationships",
            reference: "geometric tenure: Var[T] = r/(1 − r)²",
            base: Base::Frozen,
            overrides: vec![],
            measure: frozen_metric("tenure_variance"),
            expectation: Expectation::Exact(r / (1.0 - r).powi(2)),
        },
        Case {
            id: "clv_after_retention",
            kind: CaseKind::Reduction,
            title: "CLV, margin only after retention (acquisition-period margin not counted)",
            reference: "Gupta & Lehmann (2003): CLV = m·r/(1 + d − r)",
            base: Base::Frozen,
            overrides: vec!["market.cash_flow_timing=after_retention"],
            measure: frozen_metric("clv"),
            expectation: Expectation::Exact(m * r / (1.0 + d - r)),
        },
        Case {
            id: "clv_end_of_period",
            kind: CaseKind::Reduction,
            title: "CLV, margin at the end of every period active (relsim's default)",
            reference: "Fader & Hardie (2012): CLV = m/(1 + d − r)",
            base: Base::Frozen,
            overrides: vec![],
            measure: frozen_metric("clv"),
            expectation: Expectation::Exact(m / (1.0 + d - r)),
        },
        Case {
            id: "clv_start_of_period",
            kind: CaseKind::Reduction,
            title: "CLV, margin at the start of every period active",
            reference: "Fader & Hardie (2012): CLV = m(1 + d)/(1 + d − r)",
            base: Base::Frozen,
            overrides: vec!["market.cash_flow_timing=start_of_period"],
            measure: frozen_metric("clv"),
            expectation: Expectation::Exact(m * (1.0 + d) / (1.0 + d - r)),
        },
        Case {
            id: "bass_diffusion",
            kind: CaseKind::Reduction,
            title: "adopted share, churn off, mixed word of mouth (every period)",
            reference: "Bass (1969): F(t+1) = F(t) + (p + q·F(t))·(1 − F(t)), p = 0.01, q = 0.3",
            base: Base::Bass,
            overrides: vec![],
            measure: Measure::Path {
                strategy: "bass",
                metric: "active",
                divisor: 20_000.0,
            },
            expectation: Expectation::ExactPath(bass_share),
        },
        Case {
            id: "sbg_survival",
            kind: CaseKind::Reduction,
            title: "survival of a cohort whose churn propensity is Beta(0.5, 4.5) (every period)",
            reference: "shifted-beta-geometric (Fader & Hardie 2007): S(t) = B(a, b + t)/B(a, b)",
            base: Base::Frozen,
            overrides: vec!["heterogeneity.churn_concentration=5", "periods=120"],
            measure: Measure::Path {
                strategy: "constant",
                metric: "initial_survival",
                divisor: 1.0,
            },
            expectation: Expectation::ExactPath(sbg_survival),
        },
        Case {
            id: "steady_state_base",
            kind: CaseKind::Reduction,
            title: "active base with a = 100 acquisitions a period, r = 0.9 (every period)",
            reference: "B(t) = a(1 − r^t)/(1 − r) → a/(1 − r) = 1000",
            base: Base::SteadyState,
            overrides: vec![],
            measure: Measure::Path {
                strategy: "constant",
                metric: "active",
                divisor: 1.0,
            },
            expectation: Expectation::ExactPath(steady_state_base),
        },
        Case {
            id: "opportunism_lowers_trust",
            kind: CaseKind::Direction,
            title: "more opportunism toward suppliers → lower supplier trust",
            reference: "Morgan & Hunt (1994): opportunistic behaviour → trust −",
            base: mechanisms,
            overrides: small.clone(),
            measure: contrast(
                "transactional",
                "supplier_trust",
                "suppliers.spot.opportunism=0",
                "suppliers.spot.opportunism=0.2",
            ),
            expectation: Expectation::Negative,
        },
        Case {
            id: "opportunism_lowers_customer_trust",
            kind: CaseKind::Direction,
            title: "a harsher price rise on new customers → lower customer trust",
            reference: "Morgan & Hunt (1994): opportunistic behaviour → trust −",
            base: mechanisms,
            overrides: small.clone(),
            measure: contrast(
                "transactional",
                "customer_trust",
                "strategies.0.price_rise_opportunism=0",
                "strategies.0.price_rise_opportunism=0.6",
            ),
            expectation: Expectation::Negative,
        },
        Case {
            id: "switching_cost_lowers_defection",
            kind: CaseKind::Direction,
            title: "higher switching cost (structural bonds) → higher retention",
            reference:
                "Morgan & Hunt (1994): termination costs → commitment → propensity to leave −",
            base: mechanisms,
            overrides: small.clone(),
            measure: contrast(
                "transactional",
                "retention",
                "strategies.0.structural_bonds=0",
                "strategies.0.structural_bonds=0.6",
            ),
            expectation: Expectation::Positive,
        },
        Case {
            id: "benefits_raise_commitment",
            kind: CaseKind::Direction,
            title: "more relationship benefits (loyalty programme) → higher commitment",
            reference: "Morgan & Hunt (1994): relationship benefits → commitment +",
            base: mechanisms,
            overrides: small.clone(),
            measure: contrast(
                "relationship",
                "customer_commitment",
                "strategies.1.loyalty_benefits=0",
                "strategies.1.loyalty_benefits=0.6",
            ),
            expectation: Expectation::Positive,
        },
        Case {
            id: "commitment_lowers_defection",
            kind: CaseKind::Direction,
            title: "higher commitment (shared values w₀) → higher retention",
            reference: "Morgan & Hunt (1994): commitment → propensity to leave −",
            base: mechanisms,
            overrides: small.clone(),
            measure: contrast(
                "transactional",
                "retention",
                "segments.1.commitment_baseline=-2",
                "segments.1.commitment_baseline=-0.5",
            ),
            expectation: Expectation::Positive,
        },
        Case {
            id: "shortages_hurt_spot_firm_more",
            kind: CaseKind::Direction,
            title: "NPV lost to shortages (30 % of months): spot minus partnership suppliers",
            reference: "Kim (2009): committed suppliers allocate scarce supply to partners",
            base: mechanisms,
            overrides: small.clone(),
            measure: Measure::Contrast {
                strategy: "transactional",
                metric: "npv",
                variants: vec![
                    (1.0, vec!["market.shortage_probability=0.3"]),
                    (-1.0, vec!["market.shortage_probability=0"]),
                    (
                        -1.0,
                        vec![
                            "market.shortage_probability=0.3",
                            "strategies.0.supplier_policy=partnership",
                        ],
                    ),
                    (
                        1.0,
                        vec![
                            "market.shortage_probability=0",
                            "strategies.0.supplier_policy=partnership",
                        ],
                    ),
                ],
            },
            expectation: Expectation::Negative,
        },
        Case {
            id: "transactional_defection",
            kind: CaseKind::CalibrationTarget,
            title: "monthly defection, transactional (default market)",
            reference: "MODEL.md §8: 3–6 % a month",
            base: mechanisms,
            overrides: stylized.clone(),
            measure: Measure::Defection {
                strategy: "transactional",
            },
            expectation: Expectation::Target {
                value: 0.045,
                tolerance: 0.015,
            },
        },
        Case {
            id: "relationship_defection",
            kind: CaseKind::CalibrationTarget,
            title: "monthly defection, relationship (default market)",
            reference: "MODEL.md §8: 1–3 % a month",
            base: mechanisms,
            overrides: stylized.clone(),
            measure: Measure::Defection {
                strategy: "relationship",
            },
            expectation: Expectation::Target {
                value: 0.02,
                tolerance: 0.01,
            },
        },
        Case {
            id: "strong_bond_failure_exit",
            kind: CaseKind::CalibrationTarget,
            title: "share leaving after an unrecovered failure with κ ≥ 0.7 (relationship)",
            reference: "seed 002: about 17 %",
            base: mechanisms,
            overrides: stylized.clone(),
            measure: Measure::Metric {
                strategy: "relationship",
                metric: "strong_bond_failure_exit",
            },
            expectation: Expectation::Target {
                value: 0.17,
                tolerance: 0.05,
            },
        },
        Case {
            id: "failed_first_episode_exit",
            kind: CaseKind::CalibrationTarget,
            title: "share leaving after a failed first episode (relationship)",
            reference: "seed 002: about 39 %",
            base: mechanisms,
            overrides: stylized.clone(),
            measure: Measure::Metric {
                strategy: "relationship",
                metric: "failed_first_exit",
            },
            expectation: Expectation::Target {
                value: 0.39,
                tolerance: 0.05,
            },
        },
        Case {
            id: "referral_premium",
            kind: CaseKind::CalibrationTarget,
            title: "lifetime value of referred over paid customers − 1 (relationship, 30 years)",
            reference: "seed 002 (Schmitt, Skiera & Van den Bulte 2011): about +16 %",
            base: mechanisms,
            overrides: vec![
                "market.population=5000",
                "market.initial_active=500",
                "periods=360",
                "replications=120",
            ],
            measure: Measure::RelativeDifference {
                strategy: "relationship",
                numerator: "referred_clv",
                denominator: "paid_clv",
            },
            expectation: Expectation::Target {
                value: 0.16,
                tolerance: 0.05,
            },
        },
        Case {
            id: "winner_mass_retail",
            kind: CaseKind::HeldOut,
            title: "mass, low-margin commodity market: best strategy",
            reference: "seed 002: transactional marketing holds its own in mass markets",
            base: Base::Preset("mass_retail"),
            overrides: vec!["replications=10"],
            measure: Measure::Winner,
            expectation: Expectation::Winner("transactional"),
        },
        Case {
            id: "winner_b2b_it_services",
            kind: CaseKind::HeldOut,
            title: "complex, high-margin, few-customer market: best strategy",
            reference: "seed 002: relationship marketing wins in B2B services",
            base: Base::Preset("b2b_it_services"),
            overrides: vec!["replications=40"],
            measure: Measure::Winner,
            expectation: Expectation::Winner("relationship"),
        },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn recursions_start_and_converge_where_they_should() {
        assert!((bass_share(0) - 0.01).abs() < 1e-15);
        assert!((bass_share(1) - (0.01 + (0.01 + 0.003) * 0.99)).abs() < 1e-15);
        assert!(bass_share(200) > 0.999);
        assert_eq!(steady_state_base(0), 0.0);
        assert!((steady_state_base(1) - 100.0).abs() < 1e-9);
        assert!((steady_state_base(1000) - 1000.0).abs() < 1e-6);
    }

    #[test]
    fn case_ids_are_unique() {
        let cases = cases();
        for (idx, case) in cases.iter().enumerate() {
            assert!(
                cases[..idx].iter().all(|c| c.id != case.id),
                "{} twice",
                case.id
            );
        }
    }
}
