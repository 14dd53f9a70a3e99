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

/// Entry `local` of `customers` is never a customer, or lapsed for at least the win-back
/// cool-down, at `period`.
#[inline(always)]
pub(super) fn is_prospect(
    customers: &CustomerRows,
    market: &MarketParams,
    local: usize,
    period: u32,
) -> bool {
    let flags = customers.flags[local];
    flags & flag::ACTIVE == 0
        && (flags & flag::LAPSED == 0
            || period - customers.since[local] as u32 >= market.winback_cooldown)
}

/// The [`voice`] at the start of `period` of entry `local` of `customers`, whose individual
/// parameters are entry `local` of `individual`, counted into `census` with its status.
#[inline(always)]
pub(super) fn observe(
    customers: &CustomerRows,
    local: usize,
    individual: &IndividualParameterRows,
    market: &MarketParams,
    period: u32,
    census: &mut Census,
) -> u8 {
    let flags = customers.flags[local];
    if flags & flag::ACTIVE != 0 {
        return census.count_active(
            customers.segment[local] as usize,
            customers.trust[local],
            individual.advocacy_threshold.get(local),
        );
    }
    census.count_inactive(
        is_prospect(customers, market, local, period),
        flags & flag::LAPSED != 0,
        customers.detractor_until[local],
        period,
    )
}

impl Census {
    /// Counts a customer active at the start of a period, of segment `segment_idx`, with
    /// `trust` and its own `advocacy_threshold`, and returns its [`voice`].
    #[inline(always)]
    pub(super) fn count_active(
        &mut self,
        segment_idx: usize,
        trust: f32,
        advocacy_threshold: f32,
    ) -> u8 {
        self.active_in_segment[segment_idx] += 1;
        // Each customer advocates from a trust level of its own (docs/model.md §2.1). Who
        // does is a coin toss to the branch predictor, so it is counted, not branched on.
        let advocates = trust >= advocacy_threshold;
        self.advocates += u32::from(advocates);
        voice::SILENT + u8::from(advocates) * (voice::ADVOCATE - voice::SILENT)
    }

    /// Counts a customer not active at the start of `period`: a prospect or not, `lapsed` or
    /// never a customer, speaking against the firm until `detractor_until`; returns its
    /// [`voice`].
    #[inline(always)]
    pub(super) fn count_inactive(
        &mut self,
        prospect: bool,
        lapsed: bool,
        detractor_until: u16,
        period: u32,
    ) -> u8 {
        self.prospects += u32::from(prospect);
        if lapsed && period <= detractor_until as u32 {
            self.detractors += 1;
            return voice::DETRACTOR;
        }
        voice::SILENT
    }
}

impl Census {
    /// Adds `other`'s counts to these.
    pub(super) fn add(&mut self, other: &Census) {
        for (total, count) in self
            .active_in_segment
            .iter_mut()
            .zip(&other.active_in_segment)
        {
            *total += count;
        }
        self.prospects += other.prospects;
        self.advocates += other.advocates;
        self.detractors += other.detractors;
    }
}

impl Turns<'_> {
    /// Entry `local`'s turn in `period` is over: its state is the next period's snapshot, and a
    /// changed voice is queued for [`Chunk::advance_census`].
    #[inline(always)]
    pub(super) fn end_turn<T: Trace>(
        &mut self,
        local: usize,
        market: &MarketParams,
        period: u32,
        trace: &mut T,
    ) {
        let speaks = observe(
            &self.customers,
            local,
            &self.individual,
            market,
            period + 1,
            self.next_census,
        );
        self.speak(local, speaks, period, trace);
    }

    /// [`Turns::end_turn`] for an active customer who stays, of segment `segment_idx`, its
    /// trust now `trust`: what the turn already knows is not read again.
    #[inline(always)]
    pub(super) fn end_staying_turn<T: Trace>(
        &mut self,
        local: usize,
        segment_idx: usize,
        trust: f32,
        period: u32,
        trace: &mut T,
    ) {
        let threshold = self.individual.advocacy_threshold.get(local);
        let speaks = self.next_census.count_active(segment_idx, trust, threshold);
        self.speak(local, speaks, period, trace);
    }

    /// [`Turns::end_turn`] for a prospect who stays one: a prospect in `period` is one in the
    /// next period too.
    #[inline(always)]
    pub(super) fn end_prospect_turn<T: Trace>(&mut self, local: usize, period: u32, trace: &mut T) {
        let lapsed = self.customers.flags[local] & flag::LAPSED != 0;
        let detractor_until = self.customers.detractor_until[local];
        let speaks = self
            .next_census
            .count_inactive(true, lapsed, detractor_until, period + 1);
        self.speak(local, speaks, period, trace);
    }

    /// Entry `local` says `speaks` from the next period: queued for
    /// [`Chunk::advance_census`] if it says something else now.
    #[inline(always)]
    fn speak<T: Trace>(&mut self, local: usize, speaks: u8, period: u32, trace: &mut T) {
        let customer_idx = self.first + local;
        if speaks != self.voices[local] {
            self.voice_changes
                .push((customer_idx as u32) << 2 | u32::from(speaks));
            if T::FOLLOWS && trace.follows(customer_idx) {
                let voice = Voice::of(speaks);
                trace.record(period, customer_idx, TraceEvent::Speaks { voice });
            }
        }
    }
}

impl Chunk {
    /// Makes the next period's snapshot of the chunk current: moves its customers' changed
    /// voices in their neighbours' counts by `move_voice(neighbours, previous, now)` and swaps
    /// its censuses.
    pub(super) fn advance_census(
        &mut self,
        network: &SocialNetwork,
        mut move_voice: impl FnMut(&[u32], u8, u8),
    ) {
        // The changed customers lie far apart in a large market, and each one's row of
        // neighbours is found through its offset: two misses, one after the other, before its
        // neighbours' counts can move (8 % of a 10-million-customer run's time went here).
        // So the offset of the change `2 * AHEAD` places on and the row of the change `AHEAD`
        // places on are asked for early.
        const AHEAD: usize = 4;
        let changes = &self.voice_changes;
        for (change_idx, &change) in changes.iter().enumerate() {
            if let Some(&ahead) = changes.get(change_idx + 2 * AHEAD) {
                network.prefetch_offset((ahead >> 2) as usize);
            }
            if let Some(&ahead) = changes.get(change_idx + AHEAD) {
                network.prefetch_row((ahead >> 2) as usize);
            }
            let customer_idx = (change >> 2) as usize;
            let speaks = (change & 0b11) as u8;
            let local = customer_idx - self.first;
            move_voice(network.neighbours(customer_idx), self.voices[local], speaks);
            self.voices[local] = speaks;
        }
        self.voice_changes.clear();
        std::mem::swap(&mut self.census, &mut self.next_census);
        self.next_census.reset();
    }
}

impl<'a> Engine<'a> {
    /// The snapshot at the start of period 1, from the initial state, chunk by chunk.
    pub(super) fn take_first_census<W: Workers>(&mut self, workers: &W) {
        let (world, social) = (self.world, &self.social);
        let market = &self.config.model.market;
        workers.each(&mut self.chunks, |chunk| {
            let first = chunk.first;
            let customers = chunk.customers.rows();
            let n_customers = customers.flags.len();
            let individual = world.population.individual_rows(first..first + n_customers);
            for local in 0..n_customers {
                let speaks = observe(&customers, local, &individual, market, 1, &mut chunk.census);
                // Every voice starts silent: only those who speak are told to their neighbours.
                if speaks != voice::SILENT {
                    let neighbours = world.network.neighbours(first + local);
                    social.move_voice(neighbours, voice::SILENT, speaks);
                    chunk.voices[local] = speaks;
                }
            }
        });
        for chunk in &self.chunks {
            self.census.add(&chunk.census);
        }
    }

    /// Makes the next period's snapshot current, chunk by chunk (perhaps at once), and adds
    /// the chunks' censuses up.
    pub(super) fn advance_census<W: Workers>(&mut self, workers: &W) {
        let network = &self.world.network;
        if workers.at_once() {
            let social = &self.social;
            workers.each(&mut self.chunks, |chunk| {
                chunk.advance_census(network, |neighbours, previous, now| {
                    social.move_voice(neighbours, previous, now)
                })
            });
        } else {
            let social = &mut self.social;
            for chunk in &mut self.chunks {
                chunk.advance_census(network, |neighbours, previous, now| {
                    social.move_voice_alone(neighbours, previous, now)
                });
            }
        }
        self.census.reset();
        for chunk in &self.chunks {
            self.census.add(&chunk.census);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, Override};

    /// After every period, the census taken during the pass and the neighbour counts kept up to
    /// date must equal a census and counts recomputed from scratch (in a market of three
    /// chunks, so that voices change across chunk borders).
    #[test]
    fn incremental_snapshot_equals_a_recount() {
        let population = 2 * CHUNK_CUSTOMERS + 1000;
        for network in [
            "network={kind=\"watts_strogatz\", mean_degree=8, rewiring=0.1}",
            "network={kind=\"barabasi_albert\", mean_degree=6}",
        ] {
            let overrides: Vec<Override> = [
                format!("market.population={population}"),
                format!("market.initial_active={}", population / 10),
                network.to_string(),
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
                let mut engine = Engine::new(&config, &world, &seeds, &InOrder);
                for period in 1..=24 {
                    engine.step(period, &InOrder, &mut NoTrace);
                    let mut recount = Census::new(scenario.model().segments.len());
                    let mut voices = Vec::new();
                    let mut kept_voices = Vec::new();
                    for chunk in &mut engine.chunks {
                        let first = chunk.first;
                        let customers = chunk.customers.rows();
                        let n_customers = customers.flags.len();
                        let individual =
                            world.population.individual_rows(first..first + n_customers);
                        for local in 0..n_customers {
                            voices.push(observe(
                                &customers,
                                local,
                                &individual,
                                &scenario.model().market,
                                period + 1,
                                &mut recount,
                            ));
                        }
                        kept_voices.extend_from_slice(&chunk.voices);
                    }
                    assert_eq!(voices, kept_voices, "voices after period {period}");
                    assert_eq!(recount.active_in_segment, engine.census.active_in_segment);
                    assert_eq!(
                        (recount.prospects, recount.advocates, recount.detractors),
                        (
                            engine.census.prospects,
                            engine.census.advocates,
                            engine.census.detractors
                        )
                    );
                    let social = engine.social.rows(0..world.population.len());
                    for idx in 0..world.population.len() {
                        let neighbours = world.network.neighbours(idx);
                        let count = |speaks: u8| {
                            neighbours
                                .iter()
                                .filter(|&&j| voices[j as usize] == speaks)
                                .count() as u32
                        };
                        assert_eq!(social.advocates_around(idx), count(voice::ADVOCATE));
                        assert_eq!(social.detractors_around(idx), count(voice::DETRACTOR));
                    }
                }
            }
        }
    }
}
