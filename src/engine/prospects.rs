//! Prospects' turn: advertising, word of mouth and acquisition (docs/model.md §4.7).

use super::*;
use chunk::SocialRows;

impl Turns<'_> {
    /// Step 7 of docs/model.md §4 for a prospect: advertising and word of mouth; then its turn
    /// ends.
    #[inline(always)]
    pub(super) fn court<T: Trace>(&mut self, local: usize, terms: &PassTerms, trace: &mut T) {
        let market = &terms.config.model.market;
        let context = &terms.context;
        let run = terms.run;
        let social = self.social;
        let customer_idx = self.first + local;
        let flags = self.customers.flags[local];
        let area = self.customers.distributor[local] as usize;
        let draws = CounterDraws::new(terms.seeds.agents, context.period, customer_idx as u32);
        // Lapsed after a failed first episode: harder to win back (the chance tables hold the
        // reduced chances in their second column).
        let burned_flags = flag::LAPSED | flag::FAILED_FIRST;
        let burned = flags & burned_flags == burned_flags;

        let (acquired, referred) = if run.mixed_mode {
            let conversion_factor = if burned {
                market.failed_first_winback_factor
            } else {
                1.0
            };
            let advertising = terms.areas.advertising[area] * conversion_factor;
            let chance = mixed_adoption_probability(
                advertising,
                run.word_of_mouth * conversion_factor,
                context.adopted_share,
            );
            let u = draws.uniform(slot::ADVERTISING);
            (u < chance, u >= advertising)
        } else {
            let (converted, by_word) = self.converts(local, burned, terms);
            // Deterrence is rare enough to branch on, and only a converted prospect draws for it
            // (the draws are counter-based, so skipping one changes no other).
            let deterred = converted
                && !draws.happens(
                    slot::DETERRENCE,
                    run.not_deterred_chance[social.detractors_around(local) as usize],
                );
            if T::FOLLOWS && deterred && trace.follows(customer_idx) {
                let detractors_around = social.detractors_around(local);
                trace.record(
                    context.period,
                    customer_idx,
                    TraceEvent::Deterred { detractors_around },
                );
            }
            (converted && !deterred, by_word)
        };
        let at_capacity = || {
            market.acquisition_capacity.is_some_and(|capacity| {
                self.tally.acquired_paid + self.tally.acquired_referred >= capacity as f64
            })
        };
        if !acquired || at_capacity() {
            self.end_prospect_turn(local, context.period, trace);
            return;
        }
        self.acquire(local, referred, terms);
        if T::FOLLOWS && trace.follows(customer_idx) {
            let customers = &self.customers;
            let event = TraceEvent::Acquired {
                referred,
                won_back: flags & flag::LAPSED != 0,
                advocates_around: social.advocates_around(local),
                start: Relationship {
                    trust: customers.trust[local] as f64,
                    reciprocity: 0.0,
                    commitment: customers.commitment[local] as f64,
                },
            };
            trace.record(context.period, customer_idx, event);
        }
        self.end_turn(local, market, context.period, trace);
    }

    /// Whether prospect `local` (`burned`: lapsed after a failed first episode) is won by
    /// advertising or word of mouth this period outside the mixed-influence mode, before
    /// deterrence, and whether by word of mouth ([`Conversions::decide`]).
    #[inline(always)]
    pub(super) fn converts(&self, local: usize, burned: bool, terms: &PassTerms) -> (bool, bool) {
        Conversions::of(self, terms).decide(local, burned)
    }

    /// Of the block's customers `fresh` (bit `j`: entry `block_start + j`), never customers and
    /// so prospects, the ones [`Turns::converts`] wins this period (outside the mixed-influence
    /// mode). The others' turns would only count them as prospects: a never-customer neither
    /// speaks nor is burned, so its turn changes nothing else.
    #[inline(always)]
    pub(super) fn fresh_conversions(
        &self,
        fresh: u64,
        block_start: usize,
        terms: &PassTerms,
    ) -> u64 {
        let conversions = Conversions::of(self, terms);
        debug_assert!(
            set_bits(fresh, block_start).all(|local| self.voices[local] == voice::SILENT),
            "a never-customer is silent"
        );
        // Out of line, compiled for the pass's instruction set: inlined into the pass, the loop
        // had no registers left and reloaded its inputs from the stack for every prospect
        // (1.8 % of the pass's instructions at N = 100 000).
        match terms.instruction_set {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `InstructionSet::detected` found every feature the function enables.
            InstructionSet::X86_64V3 => unsafe {
                fresh_block_on_x86_64_v3(&conversions, fresh, block_start)
            },
            InstructionSet::Baseline => fresh_block_on_baseline(&conversions, fresh, block_start),
        }
    }

    /// A prospect becomes a customer in `period`, won by word of mouth if `referred`. Rare, so
    /// marked cold; inlined all the same, so that the turns' state never leaves registers for a
    /// call.
    #[inline(always)]
    pub(super) fn acquire(&mut self, local: usize, referred: bool, terms: &PassTerms) {
        rare_path();
        let relationship = &terms.config.model.relationship;
        let period = terms.context.period;
        let customers = &mut self.customers;
        let flags = customers.flags[local];
        let kept = flags & (flag::NOVICE | flag::FAILED_FIRST | flag::HAD_EPISODE);
        customers.flags[local] = kept | flag::ACTIVE | if referred { flag::REFERRED } else { 0 };
        // The customer's own starting state (docs/model.md §2.1): the scenario's plus an
        // offset that is 0 where customers do not differ.
        let trust = relationship.initial_trust
            + self.individual.trust_offset.get(local) as f64
            + if referred {
                relationship.referred_trust_bonus
            } else {
                0.0
            };
        let start = Relationship {
            trust: trust.clamp(0.0, 1.0),
            reciprocity: 0.0,
            commitment: own_start(
                relationship.initial_commitment,
                self.individual.commitment_offset.get(local),
            ),
        };
        customers.trust[local] = start.trust as f32;
        customers.reciprocity[local] = 0.0;
        customers.commitment[local] = start.commitment as f32;
        customers.since[local] = period as u16;
        customers.spell_margin[local] = 0.0;
        if referred {
            self.tally.acquired_referred += 1.0;
            self.totals.referred += 1;
        } else {
            self.tally.acquired_paid += 1.0;
        }
        self.totals.acquired += 1;
        self.sums.add_active(start, false);
    }
}

/// What a prospect's conversion reads, outside the mixed-influence mode: the period's draws, the
/// chances of advertising and of word of mouth, and the chunk's distributor areas and
/// neighbour counts.
#[derive(Clone, Copy)]
pub(super) struct Conversions<'t> {
    seed: u64,
    period: u32,
    /// The market index of the chunk's entry 0.
    first: usize,
    advertising_chance: &'t [[Chance; 2]; AREAS],
    word_of_mouth_chance: &'t [[Chance; 2]],
    distributor: &'t [u8],
    social: SocialRows<'t>,
}

impl<'t> Conversions<'t> {
    #[inline(always)]
    pub(super) fn of(turns: &'t Turns, terms: &'t PassTerms) -> Self {
        Self {
            seed: terms.seeds.agents,
            period: terms.context.period,
            first: turns.first,
            advertising_chance: &terms.areas.advertising_chance,
            word_of_mouth_chance: &terms.run.word_of_mouth_chance,
            distributor: turns.customers.distributor,
            social: turns.social,
        }
    }

    /// Whether the prospect at entry `local` (`burned`: lapsed after a failed first episode)
    /// is won by advertising or word of mouth, and whether by word of mouth. Advertising and
    /// word of mouth share one draw word, so both are decided at the price of one; a prospect
    /// without advocates looks up a zero chance instead of branching (who has advocates looks
    /// random to the branch predictor).
    #[inline(always)]
    pub(super) fn decide(&self, local: usize, burned: bool) -> (bool, bool) {
        let area = self.distributor[local] as usize;
        let advocates = self.social.advocates_around(local) as usize;
        let burned = usize::from(burned);
        let draws = CounterDraws::new(self.seed, self.period, (self.first + local) as u32);
        let by_advertising =
            draws.happens(slot::ADVERTISING, self.advertising_chance[area][burned]);
        let by_word = !by_advertising
            & draws.happens(
                slot::WORD_OF_MOUTH,
                self.word_of_mouth_chance[advocates][burned],
            );
        (by_advertising | by_word, by_word)
    }

    /// The never-customers `fresh` of the block from `block_start` that convert (bit `j`:
    /// entry `block_start + j`).
    #[inline(always)]
    fn fresh_block(&self, fresh: u64, block_start: usize) -> u64 {
        let mut converting = 0;
        for local in set_bits(fresh, block_start) {
            let (converted, _) = self.decide(local, false);
            converting |= u64::from(converted) << (local - block_start);
        }
        converting
    }
}

/// [`Conversions::fresh_block`] compiled for the target's baseline.
#[inline(never)]
fn fresh_block_on_baseline(conversions: &Conversions, fresh: u64, block_start: usize) -> u64 {
    conversions.fresh_block(fresh, block_start)
}

crate::model::isa::x86_64_v3! {
    /// [`Conversions::fresh_block`] compiled for x86-64-v3.
    #[cfg(target_arch = "x86_64")]
    #[inline(never)]
    fn fresh_block_on_x86_64_v3(conversions: &Conversions, fresh: u64, block_start: usize) -> u64 {
        conversions.fresh_block(fresh, block_start)
    }
}
