//! Active customers' turn: care, the episode, the relationship update, purchase and
//! defection (docs/model.md §4.1–§4.6).

use super::*;

impl<'a> Engine<'a> {
    /// Managers go to the most valuable targeted segments first, up to their capacity
    /// (docs/model.md §7); within a segment, to customers in index order. A chunk's active
    /// customers of a segment are served in index order and each takes a place while any is
    /// left, so handing the places to the chunks in order, each as many as it has active
    /// customers at the start of the period, gives every customer the care it would have had
    /// in one pass over the whole market.
    pub(super) fn assign_personal_care(&mut self) {
        let levers = self.config.levers;
        let mut slots = levers.personal_care_managers as u64 * levers.manager_capacity as u64;
        self.care_places.fill(0);
        for &segment_idx in &self.care_order {
            if !self.run_terms.segments[segment_idx].targeted {
                continue;
            }
            let quota = slots.min(self.census.active_in_segment[segment_idx] as u64);
            self.care_places[segment_idx] = quota as u32;
            slots -= quota;
        }
        for chunk in &mut self.chunks {
            for (segment_idx, places) in self.care_places.iter_mut().enumerate() {
                let taken = (*places).min(chunk.census.active_in_segment[segment_idx]);
                chunk.care_quota[segment_idx] = taken;
                *places -= taken;
            }
        }
    }
}

impl Turns<'_> {
    /// Steps 3–6 of docs/model.md §4 for an active customer: service episode, relationship
    /// update, purchase, defection; then its turn ends.
    #[inline(always)]
    pub(super) fn serve<T: Trace>(&mut self, local: usize, terms: &PassTerms, trace: &mut T) {
        let model = terms.config.model;
        let levers = terms.config.levers;
        let context = &terms.context;
        let episode_params = &model.episode;
        let customer_idx = self.first + local;
        let record = &mut self.tally;
        let customers = &mut self.customers;
        let flags = customers.flags[local];
        let segment_idx = customers.segment[local] as usize;
        let segment = &terms.run.segments[segment_idx];
        let area = customers.distributor[local] as usize;
        let draws = CounterDraws::new(terms.seeds.agents, context.period, customer_idx as u32);

        // Care: personal while managers have room, automated beyond if the strategy says so.
        // Personal care is paid per manager; automated care per customer.
        let care = if self.care_quota[segment_idx] > 0 {
            self.care_quota[segment_idx] -= 1;
            record.personal_care_customers += 1.0;
            Care::Personal
        } else if levers.automated_care && segment.targeted {
            record.automated_care_customers += 1.0;
            Care::Automated
        } else {
            Care::None
        };
        let care_terms = &segment.care[care as usize];

        // 3. Service episode.
        let failed = draws.happens(slot::FAILURE, terms.areas.failure[area])
            && draws.uniform(slot::PREVENTION) >= care_terms.prevention;
        let recovered =
            failed && segment.targeted && draws.uniform(slot::RECOVERY) < levers.recovery_rate;
        let unrecovered = failed && !recovered;
        let disconfirmation = if !failed {
            care_terms.success
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
        let tenure = context.period - customers.since[local] as u32;
        let on_intro_terms = flags & flag::INITIAL == 0 && levers.intro_discount > 0.0;
        let opportunism = if on_intro_terms && tenure == levers.intro_periods {
            levers.price_rise_opportunism
        } else {
            0.0
        };
        let favour = care_terms.favour
            + if recovered {
                episode_params.recovery_favour
            } else {
                0.0
            }
            + segment.loyalty_favour;
        let before = Relationship {
            trust: customers.trust[local] as f64,
            reciprocity: customers.reciprocity[local] as f64,
            commitment: customers.commitment[local] as f64,
        };
        let after = before.after_episode(
            &Episode {
                disconfirmation,
                favour,
                opportunism,
                benefits: care_terms.benefits,
                switching_cost: if flags & flag::REFERRED != 0 {
                    terms.run.switching_cost_referred
                } else {
                    terms.run.switching_cost_paid
                },
                commitment_baseline: segment.commitment_baseline,
                learning: self.individual.learning.get(local) as f64,
            },
            &model.relationship,
        );
        customers.trust[local] = after.trust as f32;
        customers.reciprocity[local] = after.reciprocity as f32;
        customers.commitment[local] = after.commitment as f32;
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
                    + self.individual.churn_offset.get(local) as f64,
            },
        );
        let leaves = below_logistic(draws.uniform(slot::DEFECTION), defection_index);
        // `&`, not `&&`: whether a customer buys is a coin toss to the branch predictor.
        let buys = draws.happens(slot::PURCHASE, segment.purchase)
            & !(leaves & (model.market.cash_flow_timing == CashFlowTiming::AfterRetention));
        // Margin after the serving costs this customer causes (for lifetime value).
        let mut margin =
            -(care_terms.variable_cost + if recovered { levers.recovery_cost } else { 0.0 });
        // Whether a customer buys is a coin toss to the branch predictor, so a customer who
        // does not buy computes the same sums with zero spend instead of branching.
        let spend = f64::from(u8::from(buys))
            * segment.value
            * share_of_wallet(model.market.base_share_of_wallet, after.commitment);
        let revenue = spend * price;
        let cogs = model.market.cogs_share * spend * terms.run.input_cost_factor;
        let channel_margin = revenue * terms.run.area_channel_margin[area];
        let reward = revenue * segment.loyalty_reward;
        record.revenue += revenue;
        record.cogs += cogs;
        record.distributor_margin += channel_margin;
        record.loyalty_cost += reward;
        margin += revenue - cogs - channel_margin - reward;
        // A select, not a branch: which customers are still in their window looks random.
        let spell_margin = customers.spell_margin[local];
        customers.spell_margin[local] = if tenure <= terms.run.lifetime_window {
            spell_margin + (margin * context.discount) as f32
        } else {
            spell_margin
        };

        // Stylized-fact counters (docs/model.md §11).
        if unrecovered && before.commitment >= 0.7 {
            self.totals.strong_bond_failures += 1;
            self.totals.strong_bond_failure_exits += u64::from(leaves);
        }
        if unrecovered && flags & flag::HAD_EPISODE == 0 {
            self.totals.failed_first_episodes += 1;
            self.totals.failed_first_exits += u64::from(leaves);
        }

        if T::FOLLOWS && trace.follows(customer_idx) {
            let episode = EpisodeTrace {
                care,
                failed,
                recovered,
                price_rise: opportunism > 0.0,
                rival_campaign: context.rival_campaign,
                before,
                after,
                bought: buys,
                revenue,
                leave_probability: logistic(defection_index),
                left: leaves,
            };
            trace.record(context.period, customer_idx, TraceEvent::Episode(episode));
        }
        self.customers.flags[local] = new_flags;
        let market = &model.market;
        if leaves {
            self.depart(local, terms, unrecovered);
            self.tally.defections += 1.0;
            self.end_turn(local, market, context.period, trace);
        } else {
            self.sums.add_active(after, new_flags & flag::INITIAL != 0);
            let trust = after.trust as f32;
            self.end_staying_turn(local, segment_idx, trust, context.period, trace);
        }
    }

    /// A customer leaves at the end of `period`, a detractor for a while if it left over an
    /// unrecovered failure. Rare, so marked cold; inlined all the same, so that the turns'
    /// state never leaves registers for a call.
    #[inline(always)]
    pub(super) fn depart(&mut self, local: usize, terms: &PassTerms, unrecovered: bool) {
        rare_path();
        let period = terms.context.period;
        self.close_spell(local, period, terms.config, terms.run);
        let customers = &mut self.customers;
        let flags = customers.flags[local];
        customers.flags[local] =
            (flags & !(flag::ACTIVE | flag::INITIAL | flag::REFERRED)) | flag::LAPSED;
        customers.since[local] = period as u16;
        if unrecovered {
            let detractor_periods = terms.config.model.market.detractor_periods;
            customers.detractor_until[local] =
                (period + detractor_periods).min(u16::MAX as u32) as u16;
        }
    }

    /// Ends a customer's spell at `period`: its tenure and lifetime value join the totals.
    #[inline(always)]
    pub(super) fn close_spell(
        &mut self,
        local: usize,
        period: u32,
        config: &RunConfig,
        run: &RunTerms,
    ) {
        let since = self.customers.since[local] as u32;
        let tenure = (period - since) as u64;
        let totals = &mut self.totals;
        totals.spells += 1;
        totals.tenure_periods += tenure;
        totals.tenure_periods_squared += tenure * tenure;
        let flags = self.customers.flags[local];
        let window_observed = since + run.lifetime_window <= config.periods;
        if flags & flag::INITIAL == 0 && window_observed {
            // Discounted to period 0 while accumulating; bring it back to the acquisition period.
            let value = self.customers.spell_margin[local] as f64 / run.discount_at[since as usize];
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
