//! The customers' pass of a period, chunk by chunk (docs/model.md §10).
//!
//! The market is cut into chunks of [`CHUNK_CUSTOMERS`] customers, a size fixed by the engine
//! and not by the number of threads. Each chunk's pass reads only what no pass changes (the
//! start-of-period snapshot, the period's terms) and writes only its own customers and
//! tallies, so [`Workers`] may run the passes one after another or at once. The engine then
//! adds the tallies up in chunk order, so the result is the same to the bit either way.

use super::*;
use crate::model::memory::{prefetch_range, written_now};
use std::sync::atomic::{AtomicU32, Ordering};

/// Customers per chunk: small enough that a market of a few hundred thousand splits over every
/// core, large enough that adding up a chunk's tallies costs nothing next to its pass.
pub const CHUNK_CUSTOMERS: usize = 1 << 14;

/// A run of consecutive customers, their state and what their pass of the period adds up.
#[derive(Debug)]
pub(super) struct Chunk {
    /// The index of the chunk's first customer in the market: entry `i` of `customers` is
    /// customer `first + i`.
    pub(super) first: usize,
    pub(super) customers: Customers,
    /// The chunk's share of the start-of-period snapshot, and of the next one, filled in as
    /// each customer's turn ends (the census rides along with the pass instead of a sweep of
    /// its own).
    pub(super) census: Census,
    pub(super) next_census: Census,
    /// Each customer's [`voice`] in the start-of-period snapshot.
    pub(super) voices: Vec<u8>,
    /// Managers' places this chunk's customers may take this period, per segment.
    pub(super) care_quota: Vec<u32>,
    /// Voices that change at the end of this period, applied once every chunk's pass is over
    /// so that word of mouth within the period reads the start-of-period snapshot only. Each
    /// entry packs `customer_idx << 2 | new voice` (populations stay below 2³⁰).
    pub(super) voice_changes: Vec<u32>,
    pub(super) tally: PassTally,
    pub(super) sums: CustomerSums,
    /// The chunk's share of the run's spell and stylized-fact totals.
    pub(super) totals: CustomerTotals,
}

/// What a pass adds to the period's record.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct PassTally {
    pub(super) personal_care_customers: f64,
    pub(super) automated_care_customers: f64,
    pub(super) failures: f64,
    pub(super) failures_recovered: f64,
    pub(super) recovery_cost: f64,
    pub(super) revenue: f64,
    pub(super) cogs: f64,
    pub(super) distributor_margin: f64,
    pub(super) loyalty_cost: f64,
    pub(super) defections: f64,
    pub(super) acquired_paid: f64,
    pub(super) acquired_referred: f64,
}

impl PassTally {
    /// Adds this tally to `record`'s fields of the same names.
    pub(super) fn add_to(&self, record: &mut PeriodRecord) {
        record.personal_care_customers += self.personal_care_customers;
        record.automated_care_customers += self.automated_care_customers;
        record.failures += self.failures;
        record.failures_recovered += self.failures_recovered;
        record.recovery_cost += self.recovery_cost;
        record.revenue += self.revenue;
        record.cogs += self.cogs;
        record.distributor_margin += self.distributor_margin;
        record.loyalty_cost += self.loyalty_cost;
        record.defections += self.defections;
        record.acquired_paid += self.acquired_paid;
        record.acquired_referred += self.acquired_referred;
    }
}

/// How many of each customer's neighbours are advocates, and detractors, in the
/// start-of-period snapshot. Kept up to date as voices change (few do in a period), so a
/// prospect reads two numbers instead of scanning its neighbours. Read during the passes,
/// changed only between them: each chunk then moves its own customers' changed voices in their
/// neighbours' counts, which may sit in any chunk, so the counts are atomic; when the chunks
/// run one after another, the engine moves them all itself with plain additions
/// ([`Social::move_voice_alone`]). Integer additions give the same counts in any order, and a
/// count never goes below zero on the way (a customer is taken off only the counts it was on).
#[derive(Debug)]
pub(super) struct Social {
    advocate_neighbours: Vec<AtomicU32>,
    detractor_neighbours: Vec<AtomicU32>,
}

impl Social {
    pub(super) fn new(n_customers: usize) -> Self {
        // Written at once, not left to zeroed pages (see `written_now`): the counts are read
        // in every pass and written only as voices change.
        let zeros = || {
            written_now(0u32, n_customers)
                .into_iter()
                .map(AtomicU32::new)
                .collect()
        };
        Self {
            advocate_neighbours: zeros(),
            detractor_neighbours: zeros(),
        }
    }

    /// The counts of customers `range`, entry `i` being customer `range.start + i`'s.
    #[inline(always)]
    pub(super) fn rows(&self, range: std::ops::Range<usize>) -> SocialRows<'_> {
        SocialRows {
            advocate_neighbours: &self.advocate_neighbours[range.clone()],
            detractor_neighbours: &self.detractor_neighbours[range],
        }
    }

    /// Moves a customer's voice from `previous` to `now` in the counts of its `neighbours`,
    /// while other chunks may move theirs (atomic additions).
    pub(super) fn move_voice(&self, neighbours: &[u32], previous: u8, now: u8) {
        let counts = |speaks: u8| match speaks {
            voice::ADVOCATE => Some(&self.advocate_neighbours),
            voice::DETRACTOR => Some(&self.detractor_neighbours),
            _ => None,
        };
        if let Some(counts) = counts(previous) {
            for &neighbour in neighbours {
                counts[neighbour as usize].fetch_sub(1, Ordering::Relaxed);
            }
        }
        if let Some(counts) = counts(now) {
            for &neighbour in neighbours {
                counts[neighbour as usize].fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    /// [`Social::move_voice`] when nothing else moves voices meanwhile: plain additions (an
    /// atomic one costs about twenty cycles even when no other thread is there).
    pub(super) fn move_voice_alone(&mut self, neighbours: &[u32], previous: u8, now: u8) {
        fn counts(social: &mut Social, speaks: u8) -> Option<&mut [AtomicU32]> {
            match speaks {
                voice::ADVOCATE => Some(&mut social.advocate_neighbours),
                voice::DETRACTOR => Some(&mut social.detractor_neighbours),
                _ => None,
            }
        }
        if let Some(counts) = counts(self, previous) {
            for &neighbour in neighbours {
                *counts[neighbour as usize].get_mut() -= 1;
            }
        }
        if let Some(counts) = counts(self, now) {
            for &neighbour in neighbours {
                *counts[neighbour as usize].get_mut() += 1;
            }
        }
    }
}

/// [`Social`]'s counts of a run of consecutive customers, for a loop over them.
#[derive(Debug, Clone, Copy)]
pub(super) struct SocialRows<'s> {
    advocate_neighbours: &'s [AtomicU32],
    detractor_neighbours: &'s [AtomicU32],
}

impl SocialRows<'_> {
    /// How many of entry `local`'s neighbours are advocates.
    #[inline(always)]
    pub(super) fn advocates_around(&self, local: usize) -> u32 {
        self.advocate_neighbours[local].load(Ordering::Relaxed)
    }

    /// Asks for the detractor counts of entries `range` to be brought into the cache.
    #[inline(always)]
    pub(super) fn prefetch_detractors(&self, range: std::ops::Range<usize>) {
        prefetch_range(self.detractor_neighbours, range);
    }

    /// How many of entry `local`'s neighbours are detractors.
    #[inline(always)]
    pub(super) fn detractors_around(&self, local: usize) -> u32 {
        self.detractor_neighbours[local].load(Ordering::Relaxed)
    }
}

/// What every chunk's pass reads and none changes.
pub(super) struct PassTerms<'e> {
    pub(super) config: &'e RunConfig<'e>,
    pub(super) world: &'e World,
    pub(super) seeds: &'e ReplicationSeeds,
    pub(super) run: &'e RunTerms,
    pub(super) areas: &'e AreaTerms,
    pub(super) social: &'e Social,
    pub(super) context: PeriodContext,
    pub(super) instruction_set: InstructionSet,
}

impl Chunk {
    pub(super) fn new(customers: Customers, first: usize, n_segments: usize) -> Self {
        let n_customers = customers.len();
        Self {
            first,
            customers,
            census: Census::new(n_segments),
            next_census: Census::new(n_segments),
            voices: written_now(voice::SILENT, n_customers),
            care_quota: vec![0; n_segments],
            // Every customer may change voice in one period; reserving that once keeps the
            // period loop free of allocation (tests/invariants.rs).
            voice_changes: Vec::with_capacity(n_customers),
            tally: PassTally::default(),
            sums: CustomerSums::default(),
            totals: CustomerTotals::default(),
        }
    }

    /// Steps 3–7 of docs/model.md §4 for every customer of the chunk, telling `trace` what the
    /// customers it follows do, on the instructions `terms` names.
    pub(super) fn pass<T: Trace>(&mut self, terms: &PassTerms, trace: &mut T) {
        match terms.instruction_set {
            #[cfg(target_arch = "x86_64")]
            // SAFETY: `InstructionSet::detected` found every feature the function enables on
            // this processor.
            InstructionSet::X86_64V3 => unsafe { self.pass_on_x86_64_v3(terms, trace) },
            InstructionSet::Baseline => self.pass_on_baseline(terms, trace),
        }
    }

    crate::model::isa::x86_64_v3! {
        /// [`Chunk::take_turns`] compiled for x86-64-v3 (see [`InstructionSet`]).
        #[cfg(target_arch = "x86_64")]
        fn pass_on_x86_64_v3<T: Trace>(&mut self, terms: &PassTerms, trace: &mut T) {
            self.take_turns(terms, trace);
        }
    }

    /// [`Chunk::take_turns`] compiled for the target's baseline.
    fn pass_on_baseline<T: Trace>(&mut self, terms: &PassTerms, trace: &mut T) {
        self.take_turns(terms, trace);
    }

    /// The pass itself, inlined into each of the versions above.
    #[inline(always)]
    fn take_turns<T: Trace>(&mut self, terms: &PassTerms, trace: &mut T) {
        let market = &terms.config.model.market;
        let period = terms.context.period;
        let mut turns = Turns::of(self, &terms.world.population, terms.social);
        // Blocks of 64 customers: first the block's active customers, then the others, each in
        // index order. Which customers are active looks random to the branch predictor, so
        // testing each one would mispredict about once per active customer; walking the set
        // bits of a status mask costs one misprediction per block and kind instead. Every
        // decision reads start-of-period state, so the order changes no decision (only the
        // summation order of the period's trust and commitment means, in the last bits).
        //
        // Most of the others are never-customers who stay prospects (about four customer-steps
        // in five of relationship's first year at N = 20 000). Such a turn only counts its
        // prospect, so the never-customers' conversions are decided first, in a loop of their
        // own, and only those who convert take the whole turn, in index order among the rest:
        // every effect then happens in the order it did before (acquisitions against a
        // capacity, sums).
        let fresh_first = !terms.run.mixed_mode;
        let n_customers = turns.customers.flags.len();
        for block_start in (0..n_customers).step_by(BLOCK) {
            turns.prefetch(block_start + 2 * BLOCK..block_start + 3 * BLOCK);
            let block_len = BLOCK.min(n_customers - block_start);
            let active = turns.customers.active_mask(block_start, block_len);
            for local in set_bits(active, block_start) {
                turns.serve(local, terms, trace);
            }
            let block_mask = u64::MAX >> (BLOCK - block_len);
            let mut others = !active & block_mask;
            if fresh_first {
                let fresh = others & !turns.customers.lapsed_mask(block_start, block_len);
                let staying = fresh & !turns.fresh_conversions(fresh, block_start, terms);
                turns.next_census.prospects += staying.count_ones();
                others &= !staying;
            }
            for local in set_bits(others, block_start) {
                if is_prospect(&turns.customers, market, local, period) {
                    turns.court(local, terms, trace);
                } else {
                    turns.end_turn(local, market, period, trace);
                }
            }
        }
        let (tally, sums) = (turns.tally, turns.sums);
        self.tally = tally;
        self.sums = sums;
    }
}

/// One chunk's customers taking their turns of a period: the chunk's arrays borrowed as slices
/// of one length, with the individual parameters of the same customers (see
/// [`CustomerRows`]), and what the turns add up held by value until the pass is over. The
/// customers' turns are its methods (active.rs, prospects.rs, census.rs); everything they call
/// is inlined, so the compiler keeps these fields in registers or in stack slots no store to a
/// customer array can touch.
pub(super) struct Turns<'c> {
    /// The index of the chunk's first customer in the market: entry `local` of every slice is
    /// customer `first + local`.
    pub(super) first: usize,
    pub(super) customers: CustomerRows<'c>,
    pub(super) individual: IndividualParameterRows<'c>,
    /// How many of each customer's neighbours speak for and against the firm.
    pub(super) social: SocialRows<'c>,
    pub(super) voices: &'c [u8],
    pub(super) care_quota: &'c mut [u32],
    pub(super) voice_changes: &'c mut Vec<u32>,
    pub(super) next_census: &'c mut Census,
    pub(super) totals: &'c mut CustomerTotals,
    pub(super) tally: PassTally,
    pub(super) sums: CustomerSums,
}

impl Turns<'_> {
    /// Asks for entries `range`'s state and own parameters, and the detractors around them, to
    /// be brought into the cache while earlier blocks take their turns. The processor's own
    /// prefetcher follows the arrays every customer reads (flags, neighbour counts of
    /// advocates), but not those read only by active customers, which are sparse where few
    /// are active, nor those read only on rare paths (a converted prospect's detractors, an
    /// acquired customer's starting offsets), which were never in the cache. At a million
    /// customers the transactional strategy's engine took 21 % less time, relationship's 13 %.
    #[inline(always)]
    pub(super) fn prefetch(&self, range: std::ops::Range<usize>) {
        self.customers.prefetch(range.clone());
        self.individual.prefetch(range.clone());
        self.social.prefetch_detractors(range);
    }
}

impl<'c> Turns<'c> {
    /// `chunk`'s customers, whose individual parameters `population` holds and whose
    /// neighbours' voices `social` counts.
    #[inline(always)]
    pub(super) fn of(chunk: &'c mut Chunk, population: &'c Population, social: &'c Social) -> Self {
        let customers = chunk.customers.rows();
        let range = chunk.first..chunk.first + customers.flags.len();
        let n_customers = range.len();
        Self {
            first: chunk.first,
            individual: population.individual_rows(range.clone()),
            social: social.rows(range),
            customers,
            voices: &chunk.voices[..n_customers],
            care_quota: &mut chunk.care_quota,
            voice_changes: &mut chunk.voice_changes,
            next_census: &mut chunk.next_census,
            totals: &mut chunk.totals,
            tally: PassTally::default(),
            sums: CustomerSums::default(),
        }
    }
}
