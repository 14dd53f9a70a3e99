//! Terms the hot loop reads that are fixed for a run (per segment) or for a period.

use super::*;

/// Segment terms the hot loop reads, precomputed once per run.
#[derive(Debug, Clone, Copy)]
pub(super) struct SegmentTerms {
    pub(super) value: f64,
    pub(super) purchase: Chance,
    pub(super) price_sensitivity: f64,
    pub(super) commitment_baseline: f64,
    /// `h_s`: the segment's addition to the defection log-odds.
    pub(super) defection_intercept: f64,
    /// Whether targeted levers (care, recovery, loyalty) reach this segment.
    pub(super) targeted: bool,
    /// The loyalty reward's share of revenue for this segment: 0 for non-members.
    pub(super) loyalty_reward: f64,
    /// The loyalty programme's favour to members each period: 0 for non-members.
    pub(super) loyalty_favour: f64,
    /// What each kind of care means for this segment's customers, by [`Care`] (`as usize`).
    pub(super) care: [CareTerms; 3],
}

/// What one kind of care means for a customer of a segment in its episode and relationship
/// update (docs/model.md §4.1–§4.4), worked out once per run: a turn looks its terms up
/// instead of multiplying them out. Each is the turn's own expression, so the same bits.
#[derive(Debug, Clone, Copy)]
pub(super) struct CareTerms {
    /// The cost per customer (automated care's; personal care is paid per manager).
    pub(super) variable_cost: f64,
    /// The chance care prevents a failure: `care_prevention · level`.
    pub(super) prevention: f64,
    /// A successful episode's disconfirmation: `success + care_bonus · level`.
    pub(super) success: f64,
    /// Care's favour, `care_favour · level` (a recovery's and loyalty's are added in the turn).
    pub(super) favour: f64,
    /// Relationship benefits, `care_benefits · level` plus loyalty's, at most 1.
    pub(super) benefits: f64,
}

// `CareTerms::of_each_kind` lists the kinds in the order of their discriminants.
const _: () = assert!(Care::None as usize == 0 && Care::Personal as usize == 1);
const _: () = assert!(Care::Automated as usize == 2);

impl CareTerms {
    /// Every kind of care's terms, entry `care as usize` for `care`, for a segment whose
    /// members' loyalty programme adds `loyalty_benefits` (0 outside it).
    pub(super) fn of_each_kind(
        loyalty_benefits: f64,
        levers: &Levers,
        episode: &EpisodeParams,
    ) -> [Self; 3] {
        [Care::None, Care::Personal, Care::Automated].map(|care| {
            // Personal care is paid per manager, automated care per customer.
            let (level, variable_cost) = match care {
                Care::None => (0.0, 0.0),
                Care::Personal => (1.0, 0.0),
                Care::Automated => (levers.automated_care_effect, levers.automated_care_cost),
            };
            Self::new(level, variable_cost, loyalty_benefits, levers, episode)
        })
    }

    /// The terms of care at `level` costing `variable_cost` a customer, for a segment whose
    /// members' loyalty programme adds `loyalty_benefits` (0 outside it).
    fn new(
        level: f64,
        variable_cost: f64,
        loyalty_benefits: f64,
        levers: &Levers,
        episode: &EpisodeParams,
    ) -> Self {
        // At most 1, by a comparison (one minsd; f64::min's care for NaN costs more).
        let benefits = levers.care_benefits * level + loyalty_benefits;
        Self {
            variable_cost,
            prevention: levers.care_prevention * level,
            success: episode.success + episode.care_bonus * level,
            favour: levers.care_favour * level,
            benefits: if benefits > 1.0 { 1.0 } else { benefits },
        }
    }
}

/// Terms that are fixed within a period.
#[derive(Debug, Clone, Copy)]
pub(super) struct PeriodContext {
    pub(super) period: u32,
    pub(super) rival_campaign: bool,
    /// `F`: active share of the population at the start of the period (mixed mode).
    pub(super) adopted_share: f64,
    /// Discount factor of this period's cash flows.
    pub(super) discount: f64,
}

/// Terms fixed for a run that every chunk's pass reads.
#[derive(Debug, Clone)]
pub(super) struct RunTerms {
    pub(super) segments: Vec<SegmentTerms>,
    /// Positive word of mouth per advocate after the referral programme.
    pub(super) word_of_mouth: f64,
    /// [`word_of_mouth_reach`] (for ordinary and burned prospects) and [`not_deterred`] for
    /// every neighbour count the network allows, so a prospect looks its chances up instead of
    /// raising a power.
    pub(super) word_of_mouth_chance: Vec<[Chance; 2]>,
    pub(super) not_deterred_chance: Vec<Chance>,
    /// Switching cost of customers won by advertising, and of referred ones (who add the
    /// referral bond), both capped at 1.
    pub(super) switching_cost_paid: f64,
    pub(super) switching_cost_referred: f64,
    pub(super) mixed_mode: bool,
    /// Lifetime values compare spells over their first `lifetime_window` periods, counting only
    /// spells that began early enough to be observed that long (no censoring bias).
    pub(super) lifetime_window: u32,
    /// The discount factor of each period `0..=periods`, which brings a spell's margin,
    /// discounted to period 0 while it accumulates, back to the period the spell began.
    pub(super) discount_at: Vec<f64>,
    /// The supplier policy's factor on the cost of goods.
    pub(super) input_cost_factor: f64,
    /// The distributor's share of revenue by area: 0 for the direct channel.
    pub(super) area_channel_margin: [f64; AREAS],
}

/// Per-area terms of a period: service failure chance (from channel quality and the period's
/// fill rate) and advertising reach (from distributor effort); index [`DIRECT`] holds the
/// direct channel. Both depend on the area and the period only, so they are computed once per
/// area. The reach is also kept as a [`Chance`] for ordinary prospects and for burned ones (who
/// convert at `failed_first_winback_factor` of it).
#[derive(Debug, Clone, Copy)]
pub(super) struct AreaTerms {
    pub(super) failure: [Chance; AREAS],
    pub(super) advertising: [f64; AREAS],
    pub(super) advertising_chance: [[Chance; 2]; AREAS],
}

impl Default for AreaTerms {
    fn default() -> Self {
        Self {
            failure: [Chance::default(); AREAS],
            advertising: [0.0; AREAS],
            advertising_chance: [[Chance::default(); 2]; AREAS],
        }
    }
}
