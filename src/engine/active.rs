//! Active customers' turn: care, the episode, the relationship update, purchase and
//! defection (docs/model.md §4.1–§4.6).

use super::*;

impl<'a> Engine<'a> {
    /// Managers go to the most valuable targeted segments first, up to their capacity
    /// (docs/model.md §7); within a segment, to customers in index order.
    pub(super) fn assign_personal_care(&mut self) {
        let levers = self.config.levers;
        let mut slots = levers.personal_care_managers as u64 * levers.manager_capacity as u64;
        self.personal_care_quota.fill(0);
        for &segment_idx in &self.care_order {
            if !self.segments[segment_idx].targeted {
                continue;
            }
            let quota = slots.min(self.census.active_in_segment[segment_idx] as u64);
            self.personal_care_quota[segment_idx] = quota as u32;
            slots -= quota;
        }
    }

    /// Steps 3–6 of docs/model.md §4 for an active customer: service episode, relationship
    /// update, purchase, defection.
    #[inline(always)]
    pub(super) fn serve(
        &mut self,
        customer_idx: usize,
        context: &PeriodContext,
        record: &mut PeriodRecord,
        sums: &mut CustomerSums,
    ) {
        let model = self.config.model;
        let levers = self.config.levers;
        let episode_params = &model.episode;
        let customers = &mut self.customers;
        let flags = customers.flags[customer_idx];
        let segment_idx = customers.segment[customer_idx] as usize;
        let segment = self.segments[segment_idx];
        let area = customers.distributor[customer_idx] as usize;
        let draws = CounterDraws::new(self.seeds.agents, context.period, customer_idx as u32);

        // Care: personal while managers have room, automated beyond if the strategy says so.
        // Personal care is paid per manager; automated care per customer.
        let (care_level, variable_care_cost) = if self.personal_care_quota[segment_idx] > 0 {
            self.personal_care_quota[segment_idx] -= 1;
            record.personal_care_customers += 1.0;
            (1.0, 0.0)
        } else if levers.automated_care && segment.targeted {
            record.automated_care_customers += 1.0;
            (levers.automated_care_effect, levers.automated_care_cost)
        } else {
            (0.0, 0.0)
        };

        // 3. Service episode.
        let failed = draws.happens(slot::FAILURE, self.area_failure[area])
            && draws.uniform(slot::PREVENTION) >= levers.care_prevention * care_level;
        let recovered =
            failed && segment.targeted && draws.uniform(slot::RECOVERY) < levers.recovery_rate;
        let unrecovered = failed && !recovered;
        let disconfirmation = if !failed {
            episode_params.success + episode_params.care_bonus * care_level
        } else if recovered {
            episode_params.recovered
        } else {
            episode_params.unrecovered
        };
        if failed {
            record.failures += 1.0;
        }
        if recovered {
            record.failures_recovered += 1.0;
            record.recovery_cost += levers.recovery_cost;
        }

        // 4. Relationship update.
        let tenure = context.period - customers.since[customer_idx] as u32;
        let on_intro_terms = flags & flag::INITIAL == 0 && levers.intro_discount > 0.0;
        let opportunism = if on_intro_terms && tenure == levers.intro_periods {
            levers.price_rise_opportunism
        } else {
            0.0
        };
        let loyalty = |value: f64| if segment.loyalty_member() { value } else { 0.0 };
        let favour = levers.care_favour * care_level
            + if recovered {
                episode_params.recovery_favour
            } else {
                0.0
            }
            + loyalty(levers.loyalty_favour);
        let benefits =
            (levers.care_benefits * care_level + loyalty(levers.loyalty_benefits)).min(1.0);
        let before = Relationship {
            trust: customers.trust[customer_idx] as f64,
            reciprocity: customers.reciprocity[customer_idx] as f64,
            commitment: customers.commitment[customer_idx] as f64,
        };
        let after = before.after_episode(
            &Episode {
                disconfirmation,
                favour,
                opportunism,
                benefits,
                switching_cost: if flags & flag::REFERRED != 0 {
                    self.switching_cost_referred
                } else {
                    self.switching_cost_paid
                },
                commitment_baseline: segment.commitment_baseline,
                learning: self.world.population.learning.get(customer_idx) as f64,
            },
            &model.relationship,
        );
        customers.trust[customer_idx] = after.trust as f32;
        customers.reciprocity[customer_idx] = after.reciprocity as f32;
        customers.commitment[customer_idx] = after.commitment as f32;
        let mut new_flags = flags | flag::HAD_EPISODE;
        if flags & flag::HAD_EPISODE == 0 && unrecovered {
            new_flags |= flag::FAILED_FIRST;
        }

        // 5.–6. Purchase and defection; under `after_retention` only a retained customer buys.
        let price = if on_intro_terms && tenure < levers.intro_periods {
            levers.price_level * (1.0 - levers.intro_discount)
        } else {
            levers.price_level
        };
        let novice = flags & flag::NOVICE != 0;
        let defection_index = defection_index(
            &model.defection,
            &DefectionDrivers {
                commitment: after.commitment,
                trust: after.trust,
                trust_multiplier: if novice {
                    model.defection.novice_trust_multiplier
                } else {
                    1.0
                },
                unrecovered_failure: unrecovered,
                price_sensitivity: segment.price_sensitivity,
                price,
                rival_campaign: context.rival_campaign,
                intercept: segment.defection_intercept
                    + self.world.population.churn_offset.get(customer_idx) as f64,
            },
        );
        let leaves = below_logistic(draws.uniform(slot::DEFECTION), defection_index);
        let buys = draws.happens(slot::PURCHASE, segment.purchase)
            && !(leaves && model.market.cash_flow_timing == CashFlowTiming::AfterRetention);
        // Margin after the serving costs this customer causes (for lifetime value).
        let mut margin = -(variable_care_cost + if recovered { levers.recovery_cost } else { 0.0 });
        // Whether a customer buys is a coin toss to the branch predictor, so a customer who
        // does not buy computes the same sums with zero spend instead of branching.
        let spend = f64::from(u8::from(buys))
            * segment.value
            * share_of_wallet(model.market.base_share_of_wallet, after.commitment);
        let revenue = spend * price;
        let cogs = model.market.cogs_share * spend * self.input_cost_factor;
        let channel_margin = revenue * self.area_channel_margin[area];
        let reward = revenue * segment.loyalty_reward;
        record.revenue += revenue;
        record.cogs += cogs;
        record.distributor_margin += channel_margin;
        record.loyalty_cost += reward;
        margin += revenue - cogs - channel_margin - reward;
        if tenure <= self.lifetime_window {
            customers.spell_margin[customer_idx] += (margin * context.discount) as f32;
        }

        // Stylized-fact counters (docs/model.md §11).
        if unrecovered && before.commitment >= 0.7 {
            self.totals.strong_bond_failures += 1;
            self.totals.strong_bond_failure_exits += u64::from(leaves);
        }
        if unrecovered && flags & flag::HAD_EPISODE == 0 {
            self.totals.failed_first_episodes += 1;
            self.totals.failed_first_exits += u64::from(leaves);
        }

        self.customers.flags[customer_idx] = new_flags;
        if leaves {
            self.depart(customer_idx, context.period, unrecovered);
            record.defections += 1.0;
        } else {
            sums.add_active(after, new_flags & flag::INITIAL != 0);
        }
    }

    /// A customer leaves at the end of `period`, a detractor for a while if it left over an
    /// unrecovered failure.
    #[cold]
    #[inline(never)]
    pub(super) fn depart(&mut self, customer_idx: usize, period: u32, unrecovered: bool) {
        self.close_spell(customer_idx, period);
        let customers = &mut self.customers;
        let flags = customers.flags[customer_idx];
        customers.flags[customer_idx] =
            (flags & !(flag::ACTIVE | flag::INITIAL | flag::REFERRED)) | flag::LAPSED;
        customers.since[customer_idx] = period as u16;
        if unrecovered {
            let detractor_periods = self.config.model.market.detractor_periods;
            customers.detractor_until[customer_idx] =
                (period + detractor_periods).min(u16::MAX as u32) as u16;
        }
    }

    /// Ends a customer's spell at `period`: its tenure and lifetime value join the totals.
    pub(super) fn close_spell(&mut self, customer_idx: usize, period: u32) {
        let since = self.customers.since[customer_idx] as u32;
        let tenure = (period - since) as u64;
        let totals = &mut self.totals;
        totals.spells += 1;
        totals.tenure_periods += tenure;
        totals.tenure_periods_squared += tenure * tenure;
        let flags = self.customers.flags[customer_idx];
        let window_observed = since + self.lifetime_window <= self.config.periods;
        if flags & flag::INITIAL == 0 && window_observed {
            // Discounted to period 0 while accumulating; bring it back to the acquisition period.
            let value = self.customers.spell_margin[customer_idx] as f64
                / discount_factor(self.config.discount_rate, since);
            if flags & flag::REFERRED != 0 {
                totals.referred_value += value;
                totals.referred_spells += 1;
            } else {
                totals.paid_value += value;
                totals.paid_spells += 1;
            }
        }
    }
}
