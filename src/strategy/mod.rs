//! Strategies: the levers a firm pulls and the presets of docs/model.md §7.
//!
//! A strategy is plain data. The engine reads the levers; a scenario names a preset and may
//! override any lever.

use serde::{Deserialize, Serialize};

/// How the firm deals with its suppliers (docs/model.md §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupplierPolicy {
    /// Fair prices, prompt payment, shared forecasts.
    Partnership,
    /// Re-tendering and squeezed prices for a lower input cost.
    Spot,
}

/// How the firm deals with its distributors (docs/model.md §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DistributorPolicy {
    /// A generous margin and co-marketing.
    Partnership,
    /// A thin margin.
    Squeeze,
}

/// The bundled strategy presets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Preset {
    /// Price, acquisition spend and arm's-length partners.
    Transactional,
    /// Retention care, service recovery, loyalty, referrals and partnerships.
    Relationship,
    /// Relationship levers aimed at the most valuable customers, with relationship's
    /// acquisition budget, so the two differ in targeting only.
    Hybrid,
}

impl Preset {
    pub const ALL: [Preset; 3] = [Preset::Transactional, Preset::Relationship, Preset::Hybrid];

    /// The preset's name as written in scenario files.
    pub fn name(self) -> &'static str {
        match self {
            Preset::Transactional => "transactional",
            Preset::Relationship => "relationship",
            Preset::Hybrid => "hybrid",
        }
    }

    /// Parses a preset name.
    pub fn from_name(name: &str) -> Option<Preset> {
        Preset::ALL.into_iter().find(|p| p.name() == name)
    }

    /// The levers of this preset (docs/model.md §7).
    pub fn levers(self) -> Levers {
        let transactional = Levers {
            price_level: 0.95,
            intro_discount: 0.10,
            intro_periods: 6,
            price_rise_opportunism: 0.2,
            acquisition_budget: 30_000.0,
            personal_care_managers: 0,
            manager_capacity: 25,
            manager_cost: 3_000.0,
            automated_care: false,
            automated_care_effect: 0.25,
            automated_care_cost: 2.0,
            care_favour: 0.3,
            care_benefits: 0.5,
            care_prevention: 0.3,
            recovery_rate: 0.0,
            recovery_cost: 40.0,
            loyalty_reward: 0.0,
            loyalty_benefits: 0.3,
            loyalty_favour: 0.05,
            referral_multiplier: 1.0,
            referral_bonus: 0.0,
            structural_bonds: 0.0,
            target_min_value: 0.0,
            supplier_policy: SupplierPolicy::Spot,
            distributor_policy: DistributorPolicy::Squeeze,
        };
        let relationship = Levers {
            price_level: 1.0,
            intro_discount: 0.0,
            price_rise_opportunism: 0.0,
            acquisition_budget: 15_000.0,
            personal_care_managers: 4,
            automated_care: true,
            recovery_rate: 0.8,
            loyalty_reward: 0.02,
            referral_multiplier: 1.5,
            referral_bonus: 50.0,
            supplier_policy: SupplierPolicy::Partnership,
            distributor_policy: DistributorPolicy::Partnership,
            ..transactional.clone()
        };
        match self {
            Preset::Transactional => transactional,
            Preset::Relationship => relationship,
            // Only the targeting differs from relationship: a larger budget here once decided
            // the default verdict by itself (docs/model.md §7).
            Preset::Hybrid => Levers {
                target_min_value: 200.0,
                ..relationship
            },
        }
    }
}

/// Every lever of docs/model.md §7.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Levers {
    /// Price relative to the reference price.
    pub price_level: f64,
    /// Discount on the price level for newly acquired customers.
    pub intro_discount: f64,
    /// Periods the introductory discount lasts; the price rises at this tenure.
    pub intro_periods: u32,
    /// Opportunistic act `o` the price rise is to the customer.
    pub price_rise_opportunism: f64,
    /// Acquisition (advertising) budget per period.
    pub acquisition_budget: f64,
    /// Account managers giving personal care.
    pub personal_care_managers: u32,
    /// Customers one manager can care for personally.
    pub manager_capacity: u32,
    /// Cost of one manager per period.
    pub manager_cost: f64,
    /// Whether customers beyond the managers' capacity get automated (CRM) care.
    pub automated_care: bool,
    /// Effect of automated care relative to personal care.
    pub automated_care_effect: f64,
    /// Cost of automated care per customer per period.
    pub automated_care_cost: f64,
    /// Favour `g` personal care gives each period.
    pub care_favour: f64,
    /// Relationship benefits personal care gives.
    pub care_benefits: f64,
    /// Share of service failures personal care prevents.
    pub care_prevention: f64,
    /// Share of failures recovered.
    pub recovery_rate: f64,
    /// Cost of one recovery.
    pub recovery_cost: f64,
    /// Loyalty reward as a share of spend (0 = no programme).
    pub loyalty_reward: f64,
    /// Relationship benefits of loyalty-programme membership.
    pub loyalty_benefits: f64,
    /// Favour `g` the programme's rewards give each period.
    pub loyalty_favour: f64,
    /// Multiplier of positive word of mouth (referral programme).
    pub referral_multiplier: f64,
    /// Bonus paid per referred customer.
    pub referral_bonus: f64,
    /// Switching cost from structural bonds (integration, contracts) in `[0, 1]`.
    pub structural_bonds: f64,
    /// Care, recovery and loyalty go only to segments with at least this value per period.
    pub target_min_value: f64,
    pub supplier_policy: SupplierPolicy,
    pub distributor_policy: DistributorPolicy,
}

/// A named strategy of a scenario. It serializes as a scenario file writes it: name, preset
/// and every lever side by side.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Strategy {
    pub name: String,
    pub preset: Preset,
    #[serde(flatten)]
    pub levers: Levers,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_differ_as_model_section_7_says() {
        let t = Preset::Transactional.levers();
        let r = Preset::Relationship.levers();
        let h = Preset::Hybrid.levers();
        assert!(t.price_level < r.price_level);
        assert!(t.acquisition_budget > r.acquisition_budget);
        assert_eq!(t.personal_care_managers, 0);
        assert_eq!(r.personal_care_managers * r.manager_capacity, 100);
        assert_eq!(t.supplier_policy, SupplierPolicy::Spot);
        assert_eq!(r.distributor_policy, DistributorPolicy::Partnership);
        assert!(h.target_min_value > 0.0);
    }

    #[test]
    fn hybrid_differs_from_relationship_in_targeting_only() {
        let r = Preset::Relationship.levers();
        let h = Preset::Hybrid.levers();
        assert_eq!(
            Levers {
                target_min_value: r.target_min_value,
                ..h
            },
            r
        );
    }

    #[test]
    fn preset_names_round_trip() {
        for preset in Preset::ALL {
            assert_eq!(Preset::from_name(preset.name()), Some(preset));
        }
        assert_eq!(Preset::from_name("loyal"), None);
    }
}
