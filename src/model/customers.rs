//! Customers in structure-of-arrays form (docs/model.md §2, §10).
//!
//! [`Population`] holds what never changes within a replication (segment, distributor area,
//! novice flag, who starts active) and is shared by every strategy simulated on that replication
//! (common random numbers). [`Customers`] holds the state a strategy changes.

use super::params::{MarketParams, ModelParams, RelationshipParams, SegmentParams};
use super::rng::Xoshiro256PlusPlus;

/// Distributor index of customers served directly by the firm.
pub const DIRECT: u8 = u8::MAX;

/// Bits of [`Customers::flags`].
pub mod flag {
    /// Buying from the firm.
    pub const ACTIVE: u8 = 1 << 0;
    /// Was active once and left.
    pub const LAPSED: u8 = 1 << 1;
    /// Won by word of mouth rather than advertising.
    pub const REFERRED: u8 = 1 << 2;
    /// The first service episode it ever had failed and was not recovered.
    pub const FAILED_FIRST: u8 = 1 << 3;
    /// An inexperienced buyer who leans on trust.
    pub const NOVICE: u8 = 1 << 4;
    /// Active at period 0 and never left since.
    pub const INITIAL: u8 = 1 << 5;
    /// Has had at least one service episode.
    pub const HAD_EPISODE: u8 = 1 << 6;
}

/// Fixed attributes of every customer of one replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub segment: Vec<u8>,
    /// Distributor area, or [`DIRECT`].
    pub distributor: Vec<u8>,
    pub novice: Vec<bool>,
    pub initially_active: Vec<bool>,
}

impl Population {
    /// Draws segments (by share), distributor areas, novice flags and exactly
    /// `initial_active` starting customers.
    pub fn generate(model: &ModelParams, rng: &mut Xoshiro256PlusPlus) -> Self {
        let market = &model.market;
        let n = market.population as usize;
        let cumulative_shares = cumulative_shares(&model.segments);
        let n_distributors = model.distributors.count;
        let mut segment = Vec::with_capacity(n);
        let mut distributor = Vec::with_capacity(n);
        let mut novice = Vec::with_capacity(n);
        for _ in 0..n {
            let u = rng.uniform();
            let segment_idx = cumulative_shares
                .iter()
                .position(|&c| u < c)
                .unwrap_or(cumulative_shares.len() - 1);
            segment.push(segment_idx as u8);
            let direct = n_distributors == 0 || rng.uniform() < market.direct_share;
            distributor.push(if direct {
                DIRECT
            } else {
                rng.below(n_distributors) as u8
            });
            novice.push(rng.uniform() < model.segments[segment_idx].novice_share);
        }
        Self {
            segment,
            distributor,
            novice,
            initially_active: choose_initially_active(market, rng),
        }
    }

    pub fn len(&self) -> usize {
        self.segment.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segment.is_empty()
    }
}

fn cumulative_shares(segments: &[SegmentParams]) -> Vec<f64> {
    let total: f64 = segments.iter().map(|s| s.share).sum();
    let mut running = 0.0;
    segments
        .iter()
        .map(|s| {
            running += s.share / total;
            running
        })
        .collect()
}

/// Exactly `initial_active` customers, chosen uniformly (selection sampling, Knuth's algorithm S).
fn choose_initially_active(market: &MarketParams, rng: &mut Xoshiro256PlusPlus) -> Vec<bool> {
    let n = market.population as usize;
    let mut needed = market.initial_active as usize;
    (0..n)
        .map(|idx| {
            let remaining = n - idx;
            let chosen = (rng.uniform() * remaining as f64) < needed as f64;
            if chosen {
                needed -= 1;
            }
            chosen
        })
        .collect()
}

/// Customer state that strategies change, one array per field.
#[derive(Debug, Clone)]
pub struct Customers {
    pub trust: Vec<f32>,
    pub reciprocity: Vec<f32>,
    pub commitment: Vec<f32>,
    /// Bits of [`flag`].
    pub flags: Vec<u8>,
    pub segment: Vec<u8>,
    pub distributor: Vec<u8>,
    /// Period of the last status change: acquisition when active, defection when lapsed.
    pub since: Vec<u16>,
    /// Last period in which a customer who left after a failure spreads negative word.
    pub detractor_until: Vec<u16>,
    /// Margin earned in the current spell, discounted to period 0.
    pub spell_margin: Vec<f32>,
}

impl Customers {
    /// Period-0 state: the initially active customers start as new customers (τ₀, κ₀, β = 0).
    pub fn new(population: &Population, relationship: &RelationshipParams) -> Self {
        let n = population.len();
        let flags = (0..n)
            .map(|idx| {
                let mut bits = 0;
                if population.novice[idx] {
                    bits |= flag::NOVICE;
                }
                if population.initially_active[idx] {
                    bits |= flag::ACTIVE | flag::INITIAL;
                }
                bits
            })
            .collect();
        Self {
            trust: vec![relationship.initial_trust as f32; n],
            reciprocity: vec![0.0; n],
            commitment: vec![relationship.initial_commitment as f32; n],
            flags,
            segment: population.segment.clone(),
            distributor: population.distributor.clone(),
            since: vec![0; n],
            detractor_until: vec![0; n],
            spell_margin: vec![0.0; n],
        }
    }

    pub fn len(&self) -> usize {
        self.flags.len()
    }

    pub fn is_empty(&self) -> bool {
        self.flags.is_empty()
    }

    /// Bit `j` set when customer `block_start + j` is active, for the (at most 64) customers
    /// of `block_start..block_start + block_len`.
    #[inline(always)]
    pub fn active_mask(&self, block_start: usize, block_len: usize) -> u64 {
        debug_assert!(block_len <= 64);
        let block = &self.flags[block_start..block_start + block_len];
        let mut mask = 0;
        const _: () = assert!(flag::ACTIVE == 1, "the gather below reads bit 0");
        let mut eights = block.chunks_exact(8);
        for (chunk_idx, eight) in eights.by_ref().enumerate() {
            // The ACTIVE bit (bit 0) of eight flag bytes at once: isolate it in every byte,
            // then one multiplication gathers the eight bits into the top byte, first customer
            // lowest.
            let bytes = u64::from_le_bytes(eight.try_into().expect("chunks of eight"));
            let gathered =
                ((bytes & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
            mask |= gathered << (8 * chunk_idx);
        }
        let done = block_len - eights.remainder().len();
        for (j, &flags) in eights.remainder().iter().enumerate() {
            mask |= u64::from(flags & flag::ACTIVE) << (done + j);
        }
        mask
    }

    /// Bytes of state per customer.
    pub const BYTES_PER_CUSTOMER: usize = 4 * 4 + 3 + 2 * 2;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::params::*;

    fn model() -> ModelParams {
        ModelParams {
            market: MarketParams::default(),
            relationship: RelationshipParams::default(),
            episode: EpisodeParams::default(),
            defection: DefectionParams::default(),
            segments: default_segments(),
            network: NetworkParams::default(),
            suppliers: SupplierParams::default(),
            distributors: DistributorParams::default(),
        }
    }

    #[test]
    fn population_matches_shares_and_initial_count() {
        let model = model();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let population = Population::generate(&model, &mut rng);
        assert_eq!(population.len(), 20_000);
        let active = population.initially_active.iter().filter(|&&a| a).count();
        assert_eq!(active, 2_000);
        let key_accounts = population.segment.iter().filter(|&&s| s == 0).count() as f64;
        assert!((key_accounts / 20_000.0 - 0.05).abs() < 0.006);
        let direct = population
            .distributor
            .iter()
            .filter(|&&d| d == DIRECT)
            .count() as f64;
        assert!((direct / 20_000.0 - 0.3).abs() < 0.02);
        assert!(population.distributor.iter().all(|&d| d == DIRECT || d < 8));
    }

    /// The period-0 customers of the default model, seed 11.
    fn default_customers() -> Customers {
        let model = model();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let population = Population::generate(&model, &mut rng);
        Customers::new(&population, &model.relationship)
    }

    #[test]
    fn customers_start_as_new_customers() {
        let customers = default_customers();
        let active = customers
            .flags
            .iter()
            .filter(|&&f| f & flag::ACTIVE != 0 && f & flag::INITIAL != 0)
            .count();
        assert_eq!(active, 2_000);
        assert!(customers.trust.iter().all(|&t| t == 0.5));
        assert!(customers.commitment.iter().all(|&k| k == 0.2));
    }

    #[test]
    fn active_mask_marks_active_customers_of_a_block() {
        let customers = default_customers();
        for (block_start, block_len) in [(0, 64), (64, 64), (19_990, 10)] {
            let mask = customers.active_mask(block_start, block_len);
            for j in 0..64 {
                let expected =
                    j < block_len && customers.flags[block_start + j] & flag::ACTIVE != 0;
                assert_eq!(mask >> j & 1 == 1, expected, "block {block_start}, bit {j}");
            }
        }
    }
}
