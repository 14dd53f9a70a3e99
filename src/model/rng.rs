//! Random numbers: seed derivation, a Xoshiro256++ generator and counter-based draws.
//!
//! docs/model.md §1. Every random number in a replication comes from a *stream* whose seed is
//! derived from `(master_seed, replication, stream)` alone, never from thread identity, so results
//! do not depend on how replications are scheduled.
//!
//! Two kinds of generator are used:
//! - [`Xoshiro256PlusPlus`] for sequential set-up work (building the social network, assigning
//!   segments), where the number of draws does not depend on the strategy.
//! - [`CounterDraws`] for per-period decisions: the `k`-th uniform of customer `i` in period `t`
//!   is a pure function of `(stream seed, t, i, k)`. Each decision owns a fixed slot `k`, so two
//!   strategies simulated on the same replication see the *same* numbers for the same decision
//!   (common random numbers) even when their customers take different paths, and a customer's
//!   draws do not depend on the order in which customers are visited.

/// The golden-ratio increment of SplitMix64.
const GOLDEN_GAMMA: u64 = 0x9E37_79B9_7F4A_7C15;

/// SplitMix64's output function: a bijective 64-bit mixer with good avalanche.
#[inline(always)]
pub fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Maps 64 random bits to a uniform `f64` in `[0, 1)` using the top 53 bits.
#[inline(always)]
pub fn unit_f64(bits: u64) -> f64 {
    (bits >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// The named random streams of a replication (docs/model.md §1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub enum Stream {
    /// Market events shared by all firms: shortages and rival campaigns.
    Market = 1,
    /// Partners' fortunes: supplier deliveries and partners' exits.
    Suppliers = 2,
    /// Customers' episodes, purchases, defections and acquisitions.
    Agents = 3,
    /// The social network's structure.
    Network = 4,
    /// Customers' fixed attributes: segment, distributor area, novice flag, initial status.
    Population = 5,
    /// Customers' individual parameters (docs/model.md §2.1), a stream of their own so that a
    /// scenario without spread draws exactly what it drew before they existed.
    Heterogeneity = 6,
}

/// Derives the seed of one stream of one replication from the master seed.
///
/// Injective in `(replication, stream)` before mixing, so distinct streams get distinct seeds.
pub fn derive_seed(master_seed: u64, replication: u64, stream: Stream) -> u64 {
    let replication_key = mix64(master_seed ^ mix64(replication.wrapping_add(GOLDEN_GAMMA)));
    mix64(replication_key ^ mix64((stream as u64).wrapping_mul(GOLDEN_GAMMA)))
}

/// A source of random bits for the variates of [`super::distributions`] (a replication's
/// Xoshiro stream).
pub trait RandomBits {
    /// The next 64 random bits.
    fn next_u64(&mut self) -> u64;

    /// A uniform number in `[0, 1)`.
    #[inline]
    fn uniform(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }
}

impl RandomBits for Xoshiro256PlusPlus {
    #[inline(always)]
    fn next_u64(&mut self) -> u64 {
        Xoshiro256PlusPlus::next_u64(self)
    }
}

/// Xoshiro256++ (Blackman & Vigna 2019), seeded through SplitMix64.
#[derive(Debug, Clone)]
pub struct Xoshiro256PlusPlus {
    state: [u64; 4],
}

impl Xoshiro256PlusPlus {
    /// Seeds the generator by running SplitMix64 from `seed`, as the authors recommend.
    pub fn seed_from_u64(seed: u64) -> Self {
        let mut sm = seed;
        let mut next = || {
            sm = sm.wrapping_add(GOLDEN_GAMMA);
            mix64(sm)
        };
        Self {
            state: [next(), next(), next(), next()],
        }
    }

    /// The next 64 random bits.
    #[inline]
    pub fn next_u64(&mut self) -> u64 {
        let s = &mut self.state;
        let result = s[0].wrapping_add(s[3]).rotate_left(23).wrapping_add(s[0]);
        let t = s[1] << 17;
        s[2] ^= s[0];
        s[3] ^= s[1];
        s[1] ^= s[2];
        s[0] ^= s[3];
        s[2] ^= t;
        s[3] = s[3].rotate_left(45);
        result
    }

    /// A uniform number in `[0, 1)`.
    #[inline]
    pub fn uniform(&mut self) -> f64 {
        unit_f64(self.next_u64())
    }

    /// Whether the event of probability `chance` happens by the next draw: the same answer as
    /// `uniform() < probability`, by an integer comparison (for events tossed in a loop, where
    /// the conversion to a double is most of the cost).
    #[inline(always)]
    pub fn happens(&mut self, chance: StreamChance) -> bool {
        chance.happens_by(self.next_u64())
    }

    /// A uniform integer in `0..bound` (Lemire's multiply-shift; bias below 2^-32 for the
    /// bounds used here, which are at most a few million).
    #[inline]
    pub fn below(&mut self, bound: u32) -> u32 {
        debug_assert!(bound > 0);
        (((self.next_u64() >> 32) * bound as u64) >> 32) as u32
    }
}

/// Counter-based draws for one entity in one period: slot `k` is a pure function of
/// `(stream seed, period, entity, k)`.
///
/// Word `w` is `mix64(seed ⊕ key ⊕ SALT[w])`, where `key = period·2³² + entity` and the salts
/// are fixed random constants, so every (key, word) pair reaches the mixer as a distinct input.
/// Each word holds two slots (its low and high 32 bits): a customer's usual three decisions
/// cost two mixes, a prospect's one. 32-bit uniforms resolve probabilities down to 2.3e-10.
#[derive(Debug, Clone, Copy)]
pub struct CounterDraws {
    keyed_seed: u64,
}

/// One salt per 64-bit word of [`CounterDraws`] (four words: eight slots).
const WORD_SALTS: [u64; 4] = [
    0x8CB9_2BA7_2F3D_8DD7,
    0xE819_6B9C_3B6A_0C35,
    0x2F2A_6B1B_B4B9_5F81,
    0xA2F4_1E3C_9B75_D5C3,
];

impl CounterDraws {
    /// Number of slots.
    pub const SLOTS: u32 = 2 * WORD_SALTS.len() as u32;

    /// The draws of `entity` (a customer, supplier or event index) in `period`.
    #[inline(always)]
    pub fn new(stream_seed: u64, period: u32, entity: u32) -> Self {
        let key = ((period as u64) << 32) | entity as u64;
        Self {
            keyed_seed: stream_seed ^ key,
        }
    }

    /// The 32 random bits held in `slot` (`slot < SLOTS`).
    #[inline(always)]
    fn bits(self, slot: u32) -> u32 {
        let word = mix64(self.keyed_seed ^ WORD_SALTS[(slot / 2) as usize]);
        if slot.is_multiple_of(2) {
            word as u32
        } else {
            (word >> 32) as u32
        }
    }

    /// The uniform number in `[0, 1)` held in `slot` (`slot < SLOTS`).
    #[inline(always)]
    pub fn uniform(self, slot: u32) -> f64 {
        self.bits(slot) as f64 * (1.0 / TWO_TO_32)
    }

    /// Whether the event of probability `chance` happens by the draw in `slot`: the same answer
    /// as `uniform(slot) < probability`, by an integer comparison.
    #[inline(always)]
    pub fn happens(self, slot: u32, chance: Chance) -> bool {
        u64::from(self.bits(slot)) < chance.draws_below
    }
}

const TWO_TO_32: f64 = 4_294_967_296.0;

/// A probability as the number of [`Xoshiro256PlusPlus`] uniforms that fall below it, for
/// [`Xoshiro256PlusPlus::happens`].
///
/// [`Xoshiro256PlusPlus::uniform`] is `k·2⁻⁵³` for the draw's top 53 bits `k`, which is below
/// `p` exactly when `k < ⌈p·2⁵³⌉` (scaling by a power of two is exact).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamChance {
    draws_below: u64,
}

impl StreamChance {
    /// The chance of probability `probability`; at most 0 and at least 1 behave as 0 and 1, and
    /// NaN as 0 (as a comparison with NaN is false).
    pub fn new(probability: f64) -> Self {
        // The float-to-integer cast saturates: negative values and NaN become 0, and anything
        // from 1 up reaches 2⁵³, above every draw.
        Self {
            draws_below: (probability * TWO_TO_53).ceil() as u64,
        }
    }

    /// Whether the event happens by the draw `bits` (a [`Xoshiro256PlusPlus`] output): the same
    /// answer as `unit_f64(bits) < probability`. For several events decided by one draw.
    #[inline(always)]
    pub fn happens_by(self, bits: u64) -> bool {
        (bits >> 11) < self.draws_below
    }
}

const TWO_TO_53: f64 = 9_007_199_254_740_992.0;

/// A probability as the number of 32-bit draws that fall below it, for decisions whose
/// probability is fixed for many customers (an area's failure rate, a segment's purchase rate).
///
/// A draw `b` gives the uniform `b·2⁻³²`, which is below `p` exactly when `b < ⌈p·2³²⌉`, so
/// [`CounterDraws::happens`] answers as [`CounterDraws::uniform`] compared with `p` would.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Chance {
    draws_below: u64,
}

impl Chance {
    /// The chance of probability `probability`; at most 0 and at least 1 behave as 0 and 1, and
    /// NaN as 0 (as a comparison with NaN is false).
    pub fn new(probability: f64) -> Self {
        // The float-to-integer cast saturates: negative values and NaN become 0, and anything
        // from 1 up exceeds every 32-bit draw.
        Self {
            draws_below: (probability * TWO_TO_32).ceil() as u64,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chance_decides_as_the_uniform_comparison() {
        let probabilities = [
            -0.5,
            0.0,
            1e-12,
            0.25,
            0.25 + 1e-13,
            0.3,
            1.0 / 3.0,
            0.999_999_999_9,
            1.0,
            1.5,
            f64::NAN,
        ];
        for entity in 0..2_000 {
            let draws = CounterDraws::new(0x5EED, 7, entity);
            for slot in 0..CounterDraws::SLOTS {
                let u = draws.uniform(slot);
                for p in probabilities {
                    assert_eq!(
                        draws.happens(slot, Chance::new(p)),
                        u < p,
                        "u = {u}, p = {p}"
                    );
                }
                // Probabilities that sit exactly on the draw and one step either side of it.
                for p in [u, u - 1e-17, u + 2.3e-10, u - 2.3e-10] {
                    assert_eq!(
                        draws.happens(slot, Chance::new(p)),
                        u < p,
                        "u = {u}, p = {p}"
                    );
                }
            }
        }
    }

    #[test]
    fn stream_chance_decides_as_the_uniform_comparison() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(0x5EED);
        let fixed = [
            -0.5,
            0.0,
            f64::MIN_POSITIVE,
            1e-300,
            1e-16,
            0.1,
            0.25,
            1.0 / 3.0,
            0.5 + 1e-16,
            1.0 - f64::EPSILON,
            1.0,
            1.5,
            f64::INFINITY,
            f64::NAN,
        ];
        for _ in 0..20_000 {
            let u = rng.clone().uniform();
            // Probabilities on the draw itself and one representable step either side of it.
            let around = [u, u.next_down(), u.next_up(), u + 1.1e-16, u - 1.1e-16];
            for p in fixed.iter().chain(&around).copied() {
                assert_eq!(
                    rng.clone().happens(StreamChance::new(p)),
                    u < p,
                    "u = {u}, p = {p}"
                );
            }
            rng.next_u64();
        }
    }

    #[test]
    fn xoshiro_matches_reference_output_for_known_state() {
        // Reference: the authors' C code started from state {1, 2, 3, 4}.
        let mut rng = Xoshiro256PlusPlus {
            state: [1, 2, 3, 4],
        };
        let first: Vec<u64> = (0..3).map(|_| rng.next_u64()).collect();
        assert_eq!(first, vec![41943041, 58720359, 3588806011781223]);
    }

    #[test]
    fn uniforms_are_in_unit_interval_with_mean_one_half() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
        let n = 100_000;
        let mut sum = 0.0;
        for _ in 0..n {
            let u = rng.uniform();
            assert!((0.0..1.0).contains(&u));
            sum += u;
        }
        let mean = sum / n as f64;
        // Standard error of the mean is sqrt(1/12 / n) ~ 0.0009.
        assert!((mean - 0.5).abs() < 0.004, "mean {mean}");
    }

    #[test]
    fn counter_draws_are_pure_functions_of_their_key() {
        let a = CounterDraws::new(99, 3, 17);
        let b = CounterDraws::new(99, 3, 17);
        assert_eq!(a.uniform(4), b.uniform(4));
        assert_ne!(a.uniform(4), a.uniform(5));
        assert_ne!(a.uniform(4), a.uniform(6));
        assert_ne!(a.uniform(4), CounterDraws::new(99, 4, 17).uniform(4));
        assert_ne!(a.uniform(4), CounterDraws::new(99, 3, 18).uniform(4));
    }

    #[test]
    fn counter_draws_are_uniform() {
        let n = 200_000u32;
        let mut sum = 0.0;
        for i in 0..n {
            sum += CounterDraws::new(5, i % 60, i).uniform(i % 8);
        }
        assert!((sum / n as f64 - 0.5).abs() < 0.003);
    }

    #[test]
    fn derived_seeds_differ_by_stream_and_replication() {
        let a = derive_seed(42, 0, Stream::Agents);
        assert_ne!(a, derive_seed(42, 0, Stream::Market));
        assert_ne!(a, derive_seed(42, 1, Stream::Agents));
        assert_ne!(a, derive_seed(43, 0, Stream::Agents));
        assert_eq!(a, derive_seed(42, 0, Stream::Agents));
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(1);
        for _ in 0..10_000 {
            assert!(rng.below(13) < 13);
        }
    }
}
