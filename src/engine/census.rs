//! The start-of-period snapshot: who is active, lapsed or a prospect, and who speaks for or
//! against the firm to their neighbours (docs/model.md §4, §4.7).

use super::*;

/// What the snapshot at the start of a period counts (docs/model.md §4).
#[derive(Debug, Clone)]
pub(super) struct Census {
    pub(super) active_in_segment: Vec<u32>,
    pub(super) prospects: u32,
    pub(super) advocates: u32,
    pub(super) detractors: u32,
}

impl Census {
    pub(super) fn new(n_segments: usize) -> Self {
        Self {
            active_in_segment: vec![0; n_segments],
            prospects: 0,
            advocates: 0,
            detractors: 0,
        }
    }

    pub(super) fn reset(&mut self) {
        self.active_in_segment.fill(0);
        self.prospects = 0;
        self.advocates = 0;
        self.detractors = 0;
    }
}

/// Customers per block of the main pass: the bits of a `u64` status mask.
pub(super) const BLOCK: usize = 64;

/// The indices `base + j` for every set bit `j` of `mask`, in increasing order.
#[inline(always)]
pub(super) fn set_bits(mut mask: u64, base: usize) -> impl Iterator<Item = usize> {
    std::iter::from_fn(move || {
        if mask == 0 {
            return None;
        }
        let j = mask.trailing_zeros() as usize;
        mask &= mask - 1;
        Some(base + j)
    })
}

/// Never a customer, or lapsed for at least the win-back cool-down, at `period`.
#[inline(always)]
pub(super) fn is_prospect(
    customers: &Customers,
    market: &MarketParams,
    customer_idx: usize,
    period: u32,
) -> bool {
    let flags = customers.flags[customer_idx];
    flags & flag::ACTIVE == 0
        && (flags & flag::LAPSED == 0
            || period - customers.since[customer_idx] as u32 >= market.winback_cooldown)
}

/// A customer's [`voice`] at the start of `period`, counted into `census` with its status.
#[inline(always)]
pub(super) fn observe(
    customers: &Customers,
    population: &Population,
    market: &MarketParams,
    customer_idx: usize,
    period: u32,
    census: &mut Census,
) -> u8 {
    let flags = customers.flags[customer_idx];
    if flags & flag::ACTIVE != 0 {
        census.active_in_segment[customers.segment[customer_idx] as usize] += 1;
        // Each customer advocates from a trust level of its own (docs/model.md §2.1).
        if customers.trust[customer_idx] >= population.advocacy_threshold.get(customer_idx) {
            census.advocates += 1;
            return voice::ADVOCATE;
        }
        return voice::SILENT;
    }
    if is_prospect(customers, market, customer_idx, period) {
        census.prospects += 1;
    }
    if flags & flag::LAPSED != 0 && period <= customers.detractor_until[customer_idx] as u32 {
        census.detractors += 1;
        return voice::DETRACTOR;
    }
    voice::SILENT
}

impl<'a> Engine<'a> {
    /// The snapshot at the start of period 1, from the initial state.
    pub(super) fn take_first_census(&mut self) {
        let market = &self.config.model.market;
        for customer_idx in 0..self.customers.len() {
            let speaks = observe(
                &self.customers,
                &self.world.population,
                market,
                customer_idx,
                1,
                &mut self.census,
            );
            if speaks != voice::SILENT {
                self.voices[customer_idx] = speaks;
                self.tell_neighbours(customer_idx, voice::SILENT, speaks);
            }
        }
    }

    /// A customer's turn in `period` is over: its state is the next period's snapshot, and a
    /// changed voice is queued for [`Self::advance_census`].
    #[inline(always)]
    pub(super) fn end_turn(&mut self, customer_idx: usize, market: &MarketParams, period: u32) {
        let speaks = observe(
            &self.customers,
            &self.world.population,
            market,
            customer_idx,
            period + 1,
            &mut self.next_census,
        );
        if speaks != self.voices[customer_idx] {
            self.voice_changes
                .push((customer_idx as u32) << 2 | u32::from(speaks));
        }
    }

    /// Makes the next period's snapshot current: applies the voice changes to the neighbour
    /// counts and swaps the censuses.
    pub(super) fn advance_census(&mut self) {
        let mut changes = std::mem::take(&mut self.voice_changes);
        for &change in &changes {
            let customer_idx = (change >> 2) as usize;
            let speaks = (change & 0b11) as u8;
            let previous = self.voices[customer_idx];
            self.voices[customer_idx] = speaks;
            self.tell_neighbours(customer_idx, previous, speaks);
        }
        changes.clear();
        self.voice_changes = changes;
        std::mem::swap(&mut self.census, &mut self.next_census);
        self.next_census.reset();
    }

    /// Moves a customer's voice from `previous` to `now` in its neighbours' counts.
    pub(super) fn tell_neighbours(&mut self, customer_idx: usize, previous: u8, now: u8) {
        for &neighbour in self.world.network.neighbours(customer_idx) {
            let neighbour = neighbour as usize;
            match previous {
                voice::ADVOCATE => self.advocate_neighbours[neighbour] -= 1,
                voice::DETRACTOR => self.detractor_neighbours[neighbour] -= 1,
                _ => {}
            }
            match now {
                voice::ADVOCATE => self.advocate_neighbours[neighbour] += 1,
                voice::DETRACTOR => self.detractor_neighbours[neighbour] += 1,
                _ => {}
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, Override};

    /// After every period, the census taken during the pass and the neighbour counts kept up to
    /// date must equal a census and counts recomputed from scratch.
    #[test]
    fn incremental_snapshot_equals_a_recount() {
        for network in [
            "network={kind=\"watts_strogatz\", mean_degree=8, rewiring=0.1}",
            "network={kind=\"barabasi_albert\", mean_degree=6}",
        ] {
            let overrides: Vec<Override> = [
                "market.population=3000",
                "market.initial_active=300",
                network,
            ]
            .iter()
            .map(|o| Override::parse(o).unwrap())
            .collect();
            let text = crate::scenario::presets::find("default").unwrap().text;
            let scenario = parse(text, "default", &overrides).unwrap();
            let seeds = ReplicationSeeds::derive(7, 0);
            let world = World::generate(scenario.model(), &seeds);
            let scenario = scenario.with("periods", 24).unwrap();
            for strategy_idx in 0..scenario.strategies().len() {
                let config = scenario.run_config(strategy_idx);
                let mut engine = Engine::new(&config, &world, &seeds);
                for period in 1..=24 {
                    engine.step(period);
                    let mut recount = Census::new(scenario.model().segments.len());
                    let voices: Vec<u8> = (0..engine.customers.len())
                        .map(|idx| {
                            observe(
                                &engine.customers,
                                &world.population,
                                &scenario.model().market,
                                idx,
                                period + 1,
                                &mut recount,
                            )
                        })
                        .collect();
                    assert_eq!(voices, engine.voices, "voices after period {period}");
                    assert_eq!(recount.active_in_segment, engine.census.active_in_segment);
                    assert_eq!(
                        (recount.prospects, recount.advocates, recount.detractors),
                        (
                            engine.census.prospects,
                            engine.census.advocates,
                            engine.census.detractors
                        )
                    );
                    for idx in 0..engine.customers.len() {
                        let neighbours = world.network.neighbours(idx);
                        let count = |speaks: u8| {
                            neighbours
                                .iter()
                                .filter(|&&j| voices[j as usize] == speaks)
                                .count() as u32
                        };
                        assert_eq!(engine.advocate_neighbours[idx], count(voice::ADVOCATE));
                        assert_eq!(engine.detractor_neighbours[idx], count(voice::DETRACTOR));
                    }
                }
            }
        }
    }
}
