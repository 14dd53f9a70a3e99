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
}

impl SegmentTerms {
    /// Whether this segment's customers are in a loyalty programme.
    #[inline(always)]
    pub(super) fn loyalty_member(&self) -> bool {
        self.loyalty_reward > 0.0
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
