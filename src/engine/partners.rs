//! Suppliers and distributors each period: deliveries, channel effort and the partners'
//! relationship with the firm (docs/model.md §5, §6).

use super::*;

/// The slots of a partner's draws in the suppliers' stream, keyed by period and partner index.
mod slot {
    pub const DELIVERY: u32 = 0;
    pub const SUPPLIER_EXIT: u32 = 1;
    pub const DISTRIBUTOR_EXIT: u32 = 2;
}

/// A partner's view of one period's dealings under a policy (docs/model.md §5, §6).
pub(super) fn partner_episode(policy: &PartnerPolicy) -> Episode {
    Episode {
        disconfirmation: policy.episode,
        favour: policy.favour,
        opportunism: policy.opportunism,
        benefits: policy.benefits,
        learning: 1.0,
        switching_cost: policy.switching_cost,
        commitment_baseline: policy.commitment_baseline,
    }
}

/// Where one partner stands in its turnover (docs/model.md §5, §6).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct TurnoverState {
    /// Periods left before a replacement partner works (delivers, makes an effort).
    onboarding_left: u32,
}

impl TurnoverState {
    /// Whether the partner is a replacement still being onboarded this period.
    pub(super) fn onboarding(&self) -> bool {
        self.onboarding_left > 0
    }
}

/// A partner's relationship after the period (docs/model.md §5, §6): `updated`, unless its
/// commitment is now below `exit_commitment` and it leaves, which it does with probability
/// `1 / exit_periods` a period (by `exit_draw`, uniform in `[0, 1)`), so it stays
/// `exit_periods` periods on average. Random rather than after a fixed count, so partners who
/// start alike do not all leave in the same month. A replacement starts at `start`, is paid
/// for in `record`, and works only after `onboarding_periods`.
pub(super) fn keep_or_replace(
    state: &mut TurnoverState,
    updated: Relationship,
    start: Relationship,
    turnover: &PartnerTurnover,
    exit_draw: f64,
    record: &mut PeriodRecord,
) -> Relationship {
    state.onboarding_left = state.onboarding_left.saturating_sub(1);
    let leaves = updated.commitment < turnover.exit_commitment
        && exit_draw * f64::from(turnover.exit_periods) < 1.0;
    if !leaves {
        return updated;
    }
    *state = TurnoverState {
        onboarding_left: turnover.onboarding_periods,
    };
    record.partner_replacements += 1.0;
    record.partner_replacement_cost += turnover.replacement_cost;
    start
}

impl<'a> Engine<'a> {
    /// Deliveries (docs/model.md §5), then each supplier's relationship update. Returns the fill
    /// rate: the share of suppliers that delivered.
    pub(super) fn supply_round(
        &mut self,
        period: u32,
        shortage: bool,
        record: &mut PeriodRecord,
    ) -> f64 {
        let suppliers = &self.config.model.suppliers;
        let n_suppliers = self.stakeholders.n_suppliers();
        if n_suppliers == 0 {
            return 1.0;
        }
        let episode = partner_episode(self.supplier_policy);
        let mut delivered = 0u32;
        for k in 0..n_suppliers {
            let relationship = self.stakeholders.supplier(k);
            let p = delivery_probability(
                self.world.partners.supplier_reliability[k],
                suppliers.shortage_delivery,
                relationship.commitment,
                shortage,
            );
            // A replacement still being onboarded delivers nothing, through no fault the
            // relationship would hold against it.
            let onboarding = self.supplier_turnover[k].onboarding();
            let draws = CounterDraws::new(self.seeds.suppliers, period, k as u32);
            let delivers = !onboarding && draws.uniform(slot::DELIVERY) < p;
            delivered += u32::from(delivers);
            // What happened this period colours the episode: a missed delivery.
            let missed = if delivers || onboarding {
                0.0
            } else {
                suppliers.missed_delivery_episode
            };
            let this_period = Episode {
                disconfirmation: episode.disconfirmation + missed,
                ..episode
            };
            let updated = relationship.after_episode(&this_period, &self.config.model.relationship);
            let kept = keep_or_replace(
                &mut self.supplier_turnover[k],
                updated,
                self.world.partners.suppliers[k],
                &suppliers.turnover,
                draws.uniform(slot::SUPPLIER_EXIT),
                record,
            );
            self.stakeholders.set_supplier(k, kept);
        }
        delivered as f64 / n_suppliers as f64
    }

    /// Distributors' effort and channel quality from start-of-period commitment (docs/model.md
    /// §6), hence each area's failure probability (§4.3) and advertising reach, then each
    /// distributor's relationship update.
    pub(super) fn channel_round(
        &mut self,
        period: u32,
        spend_per_prospect: f64,
        fill_rate: f64,
        record: &mut PeriodRecord,
    ) {
        let market = &self.config.model.market;
        let failure = |quality: f64| {
            failure_probability(
                market.base_failure,
                fill_rate,
                market.stockout_impact,
                quality,
            )
        };
        let reach = |effort: f64| {
            advertising_reach(
                market.advertising_max_reach,
                spend_per_prospect,
                market.advertising_half_spend,
                effort,
            )
        };
        let burned_factor = market.failed_first_winback_factor;
        let mut set_area = |area: usize, effort: f64| {
            let advertising = reach(effort);
            self.area_terms.failure[area] = Chance::new(failure(channel_quality(effort)));
            self.area_terms.advertising[area] = advertising;
            self.area_terms.advertising_chance[area] = [
                Chance::new(advertising),
                Chance::new(advertising * burned_factor),
            ];
        };
        // The firm's own channel: full effort, hence full quality.
        set_area(DIRECT as usize, 1.0);
        // Stockouts the distributors' customers suffered colour their episode.
        let stockouts = self.config.model.distributors.stockout_episode * (1.0 - fill_rate);
        let policy_episode = partner_episode(self.distributor_policy);
        let episode = Episode {
            disconfirmation: policy_episode.disconfirmation + stockouts,
            ..policy_episode
        };
        for k in 0..self.stakeholders.n_distributors() {
            let relationship = self.stakeholders.distributor(k);
            // A replacement still being onboarded makes no effort: a gap in the channel.
            let effort = if self.distributor_turnover[k].onboarding() {
                0.0
            } else {
                distributor_effort(relationship.commitment)
            };
            set_area(k, effort);
            let updated = relationship.after_episode(&episode, &self.config.model.relationship);
            let kept = keep_or_replace(
                &mut self.distributor_turnover[k],
                updated,
                self.world.partners.distributors[k],
                &self.config.model.distributors.turnover,
                CounterDraws::new(self.seeds.suppliers, period, k as u32)
                    .uniform(slot::DISTRIBUTOR_EXIT),
                record,
            );
            self.stakeholders.set_distributor(k, kept);
        }
    }
}
