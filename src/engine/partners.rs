//! Suppliers and distributors each period: deliveries, channel effort and the partners'
//! relationship with the firm (docs/model.md §5, §6).

use super::*;

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

/// A partner's relationship after the period (docs/model.md §5, §6): `updated`, unless its
/// commitment has now been below `exit_commitment` for `exit_periods` periods in a row; then
/// the partner leaves and a replacement starts at `start`, paid for in `record`.
/// `low_periods` counts those periods, and starts again for the replacement.
pub(super) fn keep_or_replace(
    low_periods: &mut u32,
    updated: Relationship,
    start: Relationship,
    turnover: &PartnerTurnover,
    record: &mut PeriodRecord,
) -> Relationship {
    if updated.commitment < turnover.exit_commitment {
        *low_periods += 1;
    } else {
        *low_periods = 0;
    }
    if *low_periods < turnover.exit_periods {
        return updated;
    }
    *low_periods = 0;
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
            let delivers = CounterDraws::new(self.seeds.suppliers, period, k as u32).uniform(0) < p;
            delivered += u32::from(delivers);
            // What happened this period colours the episode: a missed delivery.
            let missed = if delivers {
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
                &mut self.supplier_low_periods[k],
                updated,
                self.world.partners.suppliers[k],
                &suppliers.turnover,
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
            self.area_failure[area] = Chance::new(failure(channel_quality(effort)));
            self.area_advertising[area] = advertising;
            self.area_advertising_chance[area] = [
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
            set_area(k, distributor_effort(relationship.commitment));
            let updated = relationship.after_episode(&episode, &self.config.model.relationship);
            let kept = keep_or_replace(
                &mut self.distributor_low_periods[k],
                updated,
                self.world.partners.distributors[k],
                &self.config.model.distributors.turnover,
                record,
            );
            self.stakeholders.set_distributor(k, kept);
        }
    }
}
