//! Prospects' turn: advertising, word of mouth and acquisition (docs/model.md §4.7).

use super::*;

impl<'a> Engine<'a> {
    /// Step 7 of docs/model.md §4 for a prospect: advertising and word of mouth.
    #[inline(always)]
    pub(super) fn court(
        &mut self,
        customer_idx: usize,
        context: &PeriodContext,
        record: &mut PeriodRecord,
        sums: &mut CustomerSums,
    ) {
        let market = &self.config.model.market;
        let flags = self.customers.flags[customer_idx];
        let area = self.customers.distributor[customer_idx] as usize;
        let draws = CounterDraws::new(self.seeds.agents, context.period, customer_idx as u32);
        // Lapsed after a failed first episode: harder to win back (the chance tables hold the
        // reduced chances in their second column).
        let burned_flags = flag::LAPSED | flag::FAILED_FIRST;
        let burned = flags & burned_flags == burned_flags;

        let (acquired, referred) = if self.mixed_mode {
            let conversion_factor = if burned {
                market.failed_first_winback_factor
            } else {
                1.0
            };
            let advertising = self.area_advertising[area] * conversion_factor;
            let chance = mixed_adoption_probability(
                advertising,
                self.word_of_mouth * conversion_factor,
                context.adopted_share,
            );
            let u = draws.uniform(slot::ADVERTISING);
            (u < chance, u >= advertising)
        } else {
            // Advertising and word of mouth share one draw word, so both are decided at the
            // price of one; a prospect without advocates looks up a zero chance instead of
            // branching (who has advocates looks random to the branch predictor).
            let burned = usize::from(burned);
            let advocates = self.advocate_neighbours[customer_idx] as usize;
            let by_advertising = draws.happens(
                slot::ADVERTISING,
                self.area_advertising_chance[area][burned],
            );
            let by_word = !by_advertising
                & draws.happens(
                    slot::WORD_OF_MOUTH,
                    self.word_of_mouth_chance[advocates][burned],
                );
            let converted = by_advertising | by_word;
            // Deterrence is rare enough to branch on, and only a converted prospect draws for it
            // (the draws are counter-based, so skipping one changes no other).
            let deterred = converted
                && !draws.happens(
                    slot::DETERRENCE,
                    self.not_deterred_chance[self.detractor_neighbours[customer_idx] as usize],
                );
            (converted && !deterred, by_word)
        };
        if acquired {
            let at_capacity = market.acquisition_capacity.is_some_and(|capacity| {
                record.acquired_paid + record.acquired_referred >= capacity as f64
            });
            if !at_capacity {
                self.acquire(customer_idx, referred, context.period, record, sums);
            }
        }
    }

    /// A prospect becomes a customer in `period`, won by word of mouth if `referred`.
    #[cold]
    #[inline(never)]
    pub(super) fn acquire(
        &mut self,
        customer_idx: usize,
        referred: bool,
        period: u32,
        record: &mut PeriodRecord,
        sums: &mut CustomerSums,
    ) {
        let relationship = &self.config.model.relationship;
        let customers = &mut self.customers;
        let flags = customers.flags[customer_idx];
        let kept = flags & (flag::NOVICE | flag::FAILED_FIRST | flag::HAD_EPISODE);
        customers.flags[customer_idx] =
            kept | flag::ACTIVE | if referred { flag::REFERRED } else { 0 };
        // The customer's own starting state (docs/model.md §2.1): the scenario's plus an
        // offset that is 0 where customers do not differ.
        let population = &self.world.population;
        let trust = relationship.initial_trust
            + population.trust_offset.get(customer_idx) as f64
            + if referred {
                relationship.referred_trust_bonus
            } else {
                0.0
            };
        let commitment =
            relationship.initial_commitment + population.commitment_offset.get(customer_idx) as f64;
        let start = Relationship {
            trust: trust.clamp(0.0, 1.0),
            reciprocity: 0.0,
            commitment: commitment.clamp(0.0, 1.0),
        };
        customers.trust[customer_idx] = start.trust as f32;
        customers.reciprocity[customer_idx] = 0.0;
        customers.commitment[customer_idx] = start.commitment as f32;
        customers.since[customer_idx] = period as u16;
        customers.spell_margin[customer_idx] = 0.0;
        if referred {
            record.acquired_referred += 1.0;
            self.totals.referred += 1;
        } else {
            record.acquired_paid += 1.0;
        }
        self.totals.acquired += 1;
        sums.add_active(start, false);
    }
}
