//! Model parameters: every number of docs/model.md that a scenario can set, with its default.
//!
//! These are plain data. Each struct mirrors one section of a scenario file (serde, unknown keys
//! rejected); ranges are checked in `scenario::validate`, not here.

use serde::{Deserialize, Deserializer, Serialize};

/// Everything the engine needs to know about the market, independent of strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ModelParams {
    pub market: MarketParams,
    pub relationship: RelationshipParams,
    pub episode: EpisodeParams,
    pub defection: DefectionParams,
    pub heterogeneity: HeterogeneityParams,
    pub warm_start: WarmStartParams,
    pub segments: Vec<SegmentParams>,
    pub network: NetworkParams,
    pub suppliers: SupplierParams,
    pub distributors: DistributorParams,
}

/// Market size, economics, events and acquisition (docs/model.md §2, §4, §9).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MarketParams {
    /// Customers the firm could ever serve (prospects, active and lapsed).
    pub population: u32,
    /// Customers active at period 0.
    pub initial_active: u32,
    /// Cost of goods as a share of spend at the reference price (before the input cost factor).
    pub cogs_share: f64,
    /// Fixed cost per period.
    pub fixed_cost: f64,
    /// Probability of a supply shortage in a period.
    pub shortage_probability: f64,
    /// Probability of a rival's campaign in a period.
    pub rival_campaign_probability: f64,
    /// Baseline service failure probability `f_base`.
    pub base_failure: f64,
    /// How much a missing share of supply adds to the failure probability.
    pub stockout_impact: f64,
    /// Advertising reach at saturation `p_max` (per prospect per period).
    pub advertising_max_reach: f64,
    /// Spend per prospect at which reach is `1 − 1/e` of `p_max` (`s_half`).
    pub advertising_half_spend: f64,
    /// Positive word of mouth per advocate neighbour `q_wom` (per period).
    pub word_of_mouth: f64,
    /// Negative word of mouth per detractor neighbour `q_neg`.
    pub negative_word_of_mouth: f64,
    /// Trust at or above which an active customer is an advocate.
    pub advocate_trust: f64,
    /// Periods a lapsed customer waits before it can be won back.
    pub winback_cooldown: u32,
    /// Periods a customer who left after a failure spreads negative word of mouth.
    pub detractor_periods: u32,
    /// Conversion multiplier for lapsed customers whose first episode failed.
    pub failed_first_winback_factor: f64,
    /// Share of customers served directly (the rest through distributors).
    pub direct_share: f64,
    /// Share of wallet of an uncommitted customer `s₀`.
    pub base_share_of_wallet: f64,
    /// When a period's cash flows happen (docs/model.md §9); sets the CLV timing convention.
    pub cash_flow_timing: CashFlowTiming,
    /// Most customers the firm can take on per period (sales capacity); none if absent.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub acquisition_capacity: Option<u32>,
}

/// When a period's cash flows happen relative to the customer's decision to stay, which fixes
/// the customer-lifetime-value timing convention (Fader & Hardie 2012). For a customer with
/// constant margin `m` and retention `r` at discount rate `d`, the expected CLV is:
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CashFlowTiming {
    /// The customer buys, then may leave; cash at the end of the period: `m/(1 + d − r)`.
    EndOfPeriod,
    /// The customer buys, then may leave; cash at the start of the period:
    /// `m(1 + d)/(1 + d − r)`.
    StartOfPeriod,
    /// The customer first decides to stay, and only a retained customer buys; cash at the end
    /// of the period (Gupta & Lehmann 2003): `m·r/(1 + d − r)`.
    AfterRetention,
}

impl Default for MarketParams {
    fn default() -> Self {
        Self {
            population: 20_000,
            initial_active: 2_000,
            cogs_share: 0.6,
            fixed_cost: 0.0,
            shortage_probability: 0.05,
            rival_campaign_probability: 0.10,
            base_failure: 0.04,
            stockout_impact: 1.0,
            advertising_max_reach: 0.03,
            advertising_half_spend: 2.0,
            word_of_mouth: 0.02,
            negative_word_of_mouth: 0.05,
            advocate_trust: 0.7,
            winback_cooldown: 12,
            detractor_periods: 6,
            failed_first_winback_factor: 0.4,
            direct_share: 0.3,
            base_share_of_wallet: 0.4,
            cash_flow_timing: CashFlowTiming::EndOfPeriod,
            acquisition_capacity: None,
        }
    }
}

/// Learning rates and weights of the trust–reciprocity–commitment model (docs/model.md §3).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RelationshipParams {
    /// `λ⁺`: trust learning rate after a good episode.
    pub trust_gain: f64,
    /// `λ⁻`: trust learning rate after a bad episode.
    pub trust_loss: f64,
    /// `λ_opp`: trust lost per unit of opportunism.
    pub opportunism_trust_loss: f64,
    /// `φ`: decay of the reciprocity balance per period.
    pub reciprocity_decay: f64,
    /// `μ`: speed at which commitment moves toward its target.
    pub commitment_speed: f64,
    /// `w_τ`: weight of trust in the commitment target.
    pub weight_trust: f64,
    /// `w_β`: weight of the reciprocity balance.
    pub weight_reciprocity: f64,
    /// `w_b`: weight of relationship benefits.
    pub weight_benefits: f64,
    /// `w_s`: weight of switching costs.
    pub weight_switching_cost: f64,
    /// `τ₀`: a new customer's trust.
    pub initial_trust: f64,
    /// `κ₀`: a new customer's commitment.
    pub initial_commitment: f64,
    /// Extra initial trust of a referred customer.
    pub referred_trust_bonus: f64,
    /// Social switching cost in `[0, 1]` a referred customer carries while active: leaving would
    /// let down the friend who referred it.
    pub referral_bond: f64,
}

impl Default for RelationshipParams {
    fn default() -> Self {
        Self {
            trust_gain: 0.15,
            trust_loss: 0.60,
            opportunism_trust_loss: 0.30,
            reciprocity_decay: 0.1,
            commitment_speed: 0.2,
            weight_trust: 3.0,
            weight_reciprocity: 1.5,
            weight_benefits: 1.0,
            weight_switching_cost: 2.5,
            initial_trust: 0.5,
            initial_commitment: 0.2,
            referred_trust_bonus: 0.15,
            referral_bond: 1.0,
        }
    }
}

/// Disconfirmation `δ` of each episode outcome and the favour of a recovery (docs/model.md §4).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EpisodeParams {
    /// `δ` of an episode without failure.
    pub success: f64,
    /// Extra `δ` of a successful episode under personal care (automated care gets its share).
    pub care_bonus: f64,
    /// `δ` of a failure that was recovered (the recovery paradox).
    pub recovered: f64,
    /// `δ` of a failure that was not recovered.
    pub unrecovered: f64,
    /// Favour `g` a recovery gesture adds to the reciprocity balance.
    pub recovery_favour: f64,
}

impl Default for EpisodeParams {
    fn default() -> Self {
        Self {
            success: 0.10,
            care_bonus: 0.10,
            recovered: 0.05,
            unrecovered: -0.50,
            recovery_favour: 0.2,
        }
    }
}

/// Coefficients of the defection hazard (docs/model.md §4.6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DefectionParams {
    /// `h₀`: baseline log-odds of leaving in a period.
    pub baseline: f64,
    /// `a_κ`: weight of commitment.
    pub commitment: f64,
    /// `a_τ`: weight of trust.
    pub trust: f64,
    /// Multiplier of `a_τ` for novice customers, who lean on trust.
    pub novice_trust_multiplier: f64,
    /// `a_f`: weight of an unrecovered failure this period.
    pub unrecovered_failure: f64,
    /// `a_p`: weight of the price premium, scaled by sensitivity and distrust.
    pub price: f64,
    /// `a_r`: weight of a rival's campaign.
    pub rival_campaign: f64,
}

impl Default for DefectionParams {
    fn default() -> Self {
        Self {
            baseline: -3.5,
            commitment: 1.5,
            trust: 0.3,
            novice_trust_multiplier: 2.0,
            unrecovered_failure: 3.5,
            price: 4.0,
            rival_campaign: 0.8,
        }
    }
}

/// How customers differ from one another (docs/model.md §2.1). Each spread is the concentration
/// `c = a + b` of a Beta distribution around the mean the rest of the scenario sets (the
/// defaults below, as in docs/model.md's table); `inf` means no spread at all, which is the
/// homogeneous model exactly ([`HeterogeneityParams::NONE`]).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HeterogeneityParams {
    /// Concentration of each customer's starting trust around `relationship.initial_trust`.
    pub initial_trust_concentration: f64,
    /// Concentration of each customer's starting commitment around
    /// `relationship.initial_commitment`.
    pub initial_commitment_concentration: f64,
    /// Concentration of each customer's baseline churn probability `θᵢ` around
    /// `logistic(defection.baseline + segment.defection_intercept)`: with no other driver, a
    /// cohort then survives as the shifted-beta-geometric model predicts.
    pub churn_concentration: f64,
    /// Concentration of each customer's advocacy threshold around `market.advocate_trust`:
    /// the share of customers who recommend the firm then rises smoothly with trust instead of
    /// all at one level. `inf` is the single hard threshold.
    pub advocacy_concentration: f64,
    /// Concentration of each customer's learning speed `gᵢ = 2uᵢ`, `uᵢ ~ Beta(½·c, ½·c)`: a
    /// multiplier of the trust learning rates with mean 1, between 0 and 2.
    pub learning_concentration: f64,
}

impl HeterogeneityParams {
    /// No spread at all: every customer alike, the homogeneous model of the reductions.
    pub const NONE: Self = Self {
        initial_trust_concentration: f64::INFINITY,
        initial_commitment_concentration: f64::INFINITY,
        churn_concentration: f64::INFINITY,
        advocacy_concentration: f64::INFINITY,
        learning_concentration: f64::INFINITY,
    };

    /// How many individual parameters vary (have a finite concentration).
    pub fn varying_count(&self) -> usize {
        [
            self.initial_trust_concentration,
            self.initial_commitment_concentration,
            self.churn_concentration,
            self.advocacy_concentration,
            self.learning_concentration,
        ]
        .iter()
        .filter(|c| c.is_finite())
        .count()
    }
}

impl Default for HeterogeneityParams {
    fn default() -> Self {
        Self {
            initial_trust_concentration: 10.0,
            initial_commitment_concentration: 20.0,
            churn_concentration: 100.0,
            advocacy_concentration: 30.0,
            learning_concentration: 8.0,
        }
    }
}

/// Whether the customers active at the start arrive with a history (docs/model.md §2.2).
/// Each has an age drawn uniformly from `0..=periods` (default 36) and has lived through that
/// many service episodes before the run begins, so a run starts from a going concern.
/// `periods = 0` is a cold start: they all start as brand-new customers.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarmStartParams {
    pub periods: u32,
}

impl Default for WarmStartParams {
    fn default() -> Self {
        Self { periods: 36 }
    }
}

/// One customer segment (docs/model.md §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SegmentParams {
    pub name: String,
    /// Share of the population (shares are normalised to sum to 1).
    pub share: f64,
    /// Mean spend per period at the reference price, with full share of wallet.
    pub value: f64,
    /// Probability of buying in a period.
    pub purchase_probability: f64,
    /// Sensitivity to the price level in the defection hazard.
    pub price_sensitivity: f64,
    /// Share of novice buyers, who lean on trust.
    #[serde(default)]
    pub novice_share: f64,
    /// `w₀`: baseline of the commitment target (shared values).
    #[serde(default = "default_commitment_baseline")]
    pub commitment_baseline: f64,
    /// `h_s`: added to the defection hazard's log-odds for this segment's customers.
    #[serde(default)]
    pub defection_intercept: f64,
}

fn default_commitment_baseline() -> f64 {
    -2.0
}

/// The default market of docs/model.md §2: key accounts, regulars and occasional buyers.
pub fn default_segments() -> Vec<SegmentParams> {
    let segment =
        |name: &str, share, value, purchase_probability, price_sensitivity| SegmentParams {
            name: name.to_string(),
            share,
            value,
            purchase_probability,
            price_sensitivity,
            novice_share: 0.0,
            commitment_baseline: default_commitment_baseline(),
            defection_intercept: 0.0,
        };
    vec![
        segment("key_accounts", 0.05, 1500.0, 0.9, 0.3),
        segment("regulars", 0.35, 250.0, 0.8, 0.6),
        segment("occasional", 0.60, 60.0, 0.5, 1.0),
    ]
}

/// The customers' social network (docs/model.md §2).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum NetworkParams {
    /// Small world: ring lattice of `mean_degree` neighbours, each edge rewired with `rewiring`.
    WattsStrogatz { mean_degree: u32, rewiring: f64 },
    /// Preferential attachment, `mean_degree / 2` edges per new node.
    BarabasiAlbert { mean_degree: u32 },
    /// Random graph with `population · mean_degree / 2` edges.
    ErdosRenyi { mean_degree: u32 },
    /// No social ties: no word of mouth.
    None {},
    /// Fully mixed mean field: word of mouth acts through the adopted share (Bass).
    Mixed {},
}

impl Default for NetworkParams {
    fn default() -> Self {
        NetworkParams::WattsStrogatz {
            mean_degree: 8,
            rewiring: 0.1,
        }
    }
}

/// What a policy toward a partner does to the partner's relationship each period
/// (docs/model.md §5, §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PartnerPolicy {
    /// Favour `g` given each period (fair prices, prompt payment, co-marketing).
    pub favour: f64,
    /// Opportunistic act `o` each period (re-tendering, squeezed margins).
    pub opportunism: f64,
    /// Disconfirmation `δ` of the period's dealings as the partner sees them.
    pub episode: f64,
    /// Relationship benefits in `[0, 1]` (shared forecasts, joint planning).
    pub benefits: f64,
    /// Switching cost in `[0, 1]` (integration, contracts).
    pub switching_cost: f64,
    /// `w₀`: baseline of the partner's commitment target (shared values).
    pub commitment_baseline: f64,
}

/// A partner policy as written in a file: a key left out keeps the policy's own default, so
/// `[suppliers.spot]` with only `opportunism = 0.3` changes just that.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerPolicyChanges {
    favour: Option<f64>,
    opportunism: Option<f64>,
    episode: Option<f64>,
    benefits: Option<f64>,
    switching_cost: Option<f64>,
    commitment_baseline: Option<f64>,
}

impl PartnerPolicyChanges {
    fn applied_to(self, base: PartnerPolicy) -> PartnerPolicy {
        PartnerPolicy {
            favour: self.favour.unwrap_or(base.favour),
            opportunism: self.opportunism.unwrap_or(base.opportunism),
            episode: self.episode.unwrap_or(base.episode),
            benefits: self.benefits.unwrap_or(base.benefits),
            switching_cost: self.switching_cost.unwrap_or(base.switching_cost),
            commitment_baseline: self.commitment_baseline.unwrap_or(base.commitment_baseline),
        }
    }
}

fn partnership_policy<'de, D: Deserializer<'de>>(d: D) -> Result<PartnerPolicy, D::Error> {
    Ok(PartnerPolicyChanges::deserialize(d)?.applied_to(PartnerPolicy::partnership()))
}

fn arms_length_policy<'de, D: Deserializer<'de>>(d: D) -> Result<PartnerPolicy, D::Error> {
    Ok(PartnerPolicyChanges::deserialize(d)?.applied_to(PartnerPolicy::arms_length()))
}

impl PartnerPolicy {
    fn partnership() -> Self {
        Self {
            favour: 0.3,
            opportunism: 0.0,
            episode: 0.10,
            benefits: 0.5,
            switching_cost: 0.3,
            commitment_baseline: -2.0,
        }
    }

    fn arms_length() -> Self {
        Self {
            favour: 0.0,
            opportunism: 0.2,
            episode: 0.0,
            benefits: 0.0,
            switching_cost: 0.0,
            commitment_baseline: -2.0,
        }
    }
}

/// When a partner leaves and what replacing it costs (docs/model.md §5, §6): a partner whose
/// commitment is below `exit_commitment` leaves with probability `1 / exit_periods` a period
/// (so it stays `exit_periods` periods on average), and the firm replaces it (re-tendering,
/// onboarding) for `replacement_cost`. The new partner starts
/// where the first one started and works only after `onboarding_periods`: until then a new
/// supplier delivers nothing and a new distributor makes no effort (a gap in the channel).
/// `exit_commitment = 0` means partners never leave.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PartnerTurnover {
    pub exit_commitment: f64,
    pub exit_periods: u32,
    pub replacement_cost: f64,
    pub onboarding_periods: u32,
}

impl PartnerTurnover {
    /// A supplier's: a replacement delivers from its first month (spot supply is bought
    /// where it is offered).
    fn supplier() -> Self {
        Self {
            exit_commitment: 0.1,
            exit_periods: 6,
            replacement_cost: 10_000.0,
            onboarding_periods: 0,
        }
    }

    /// A distributor's: a replacement needs a month to take up the area (a gap in the channel).
    fn distributor() -> Self {
        Self {
            onboarding_periods: 1,
            ..Self::supplier()
        }
    }
}

/// A turnover table as written in a file: a key left out keeps the partner kind's default.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PartnerTurnoverChanges {
    exit_commitment: Option<f64>,
    exit_periods: Option<u32>,
    replacement_cost: Option<f64>,
    onboarding_periods: Option<u32>,
}

impl PartnerTurnoverChanges {
    fn applied_to(self, base: PartnerTurnover) -> PartnerTurnover {
        PartnerTurnover {
            exit_commitment: self.exit_commitment.unwrap_or(base.exit_commitment),
            exit_periods: self.exit_periods.unwrap_or(base.exit_periods),
            replacement_cost: self.replacement_cost.unwrap_or(base.replacement_cost),
            onboarding_periods: self.onboarding_periods.unwrap_or(base.onboarding_periods),
        }
    }
}

fn supplier_turnover<'de, D: Deserializer<'de>>(d: D) -> Result<PartnerTurnover, D::Error> {
    Ok(PartnerTurnoverChanges::deserialize(d)?.applied_to(PartnerTurnover::supplier()))
}

fn distributor_turnover<'de, D: Deserializer<'de>>(d: D) -> Result<PartnerTurnover, D::Error> {
    Ok(PartnerTurnoverChanges::deserialize(d)?.applied_to(PartnerTurnover::distributor()))
}

/// Suppliers (docs/model.md §5).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SupplierParams {
    pub count: u32,
    /// Delivery probability in normal times.
    pub normal_delivery: f64,
    /// `r_short`: delivery probability of an uncommitted supplier during a shortage.
    pub shortage_delivery: f64,
    /// Input cost factor under the partnership policy.
    pub partnership_cost_factor: f64,
    /// Input cost factor under the spot policy.
    pub spot_cost_factor: f64,
    #[serde(deserialize_with = "partnership_policy")]
    pub partnership: PartnerPolicy,
    #[serde(deserialize_with = "arms_length_policy")]
    pub spot: PartnerPolicy,
    /// Suppliers' starting trust and commitment toward the firm.
    pub initial_trust: f64,
    pub initial_commitment: f64,
    /// Added to a supplier's disconfirmation in a period whose delivery failed: what a missed
    /// delivery does to the relationship (0: nothing, as in MODEL.md).
    pub missed_delivery_episode: f64,
    /// Concentration of each supplier's own delivery reliability around `normal_delivery`
    /// (docs/model.md §5; `inf`: all alike).
    pub reliability_concentration: f64,
    /// Concentration of each supplier's starting trust and commitment around
    /// `initial_trust` and `initial_commitment` (`inf`: all alike).
    pub initial_concentration: f64,
    /// When an uncommitted supplier leaves, and the cost of replacing it.
    #[serde(deserialize_with = "supplier_turnover")]
    pub turnover: PartnerTurnover,
}

impl Default for SupplierParams {
    fn default() -> Self {
        Self {
            count: 5,
            normal_delivery: 0.98,
            shortage_delivery: 0.5,
            partnership_cost_factor: 1.0,
            spot_cost_factor: 0.95,
            partnership: PartnerPolicy::partnership(),
            spot: PartnerPolicy::arms_length(),
            initial_trust: 0.5,
            initial_commitment: 0.5,
            missed_delivery_episode: -0.5,
            reliability_concentration: 100.0,
            initial_concentration: 20.0,
            turnover: PartnerTurnover::supplier(),
        }
    }
}

/// Distributors (docs/model.md §6).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DistributorParams {
    pub count: u32,
    /// Margin on revenue through the distributor under the partnership policy.
    pub partnership_margin: f64,
    /// Margin under the squeeze policy.
    pub squeeze_margin: f64,
    #[serde(deserialize_with = "partnership_policy")]
    pub partnership: PartnerPolicy,
    #[serde(deserialize_with = "arms_length_policy")]
    pub squeeze: PartnerPolicy,
    /// Distributors' starting trust and commitment toward the firm.
    pub initial_trust: f64,
    pub initial_commitment: f64,
    /// Added to every distributor's disconfirmation, times the share of supplies that did not
    /// arrive this period: stockouts the distributor's customers suffered (0: nothing).
    pub stockout_episode: f64,
    /// Concentration of each distributor's starting trust and commitment (`inf`: all alike).
    pub initial_concentration: f64,
    /// When an uncommitted distributor leaves, and the cost of replacing it.
    #[serde(deserialize_with = "distributor_turnover")]
    pub turnover: PartnerTurnover,
}

impl Default for DistributorParams {
    fn default() -> Self {
        Self {
            count: 8,
            partnership_margin: 0.20,
            squeeze_margin: 0.12,
            partnership: PartnerPolicy::partnership(),
            squeeze: PartnerPolicy::arms_length(),
            initial_trust: 0.5,
            initial_commitment: 0.5,
            stockout_episode: -0.5,
            initial_concentration: 20.0,
            turnover: PartnerTurnover::distributor(),
        }
    }
}
