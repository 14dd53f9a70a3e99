//! Customers in structure-of-arrays form (docs/model.md §2, §10).
//!
//! [`Population`] holds what never changes within a replication (segment, distributor area,
//! novice flag, who starts active) and is shared by every strategy simulated on that replication
//! (common random numbers). [`Customers`] holds the state a strategy changes.

use super::distributions::BetaByMean;
use super::math::logistic;
use super::memory::{prefetch_range, written_now};
use super::params::{MarketParams, ModelParams, RelationshipParams, SegmentParams};
use super::relationship::{Episode, Relationship};
use super::rng::{mix64, unit_f64, StreamChance, Xoshiro256PlusPlus};
use super::workers::{InOrder, Workers};

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

/// One individual parameter of every customer: a value per customer, or one value for all when
/// the parameter has no spread. The shared case keeps no array, so the period loop reads no
/// memory for a parameter customers do not differ in (a branch that always goes the same way
/// instead).
#[derive(Debug, Clone, PartialEq)]
pub struct Individual {
    shared: f32,
    each: Vec<f32>,
}

impl Individual {
    /// The same `value` for every customer.
    pub fn shared(value: f32) -> Self {
        Self {
            shared: value,
            each: Vec::new(),
        }
    }

    /// One value per customer.
    pub fn each(values: Vec<f32>) -> Self {
        Self {
            shared: 0.0,
            each: values,
        }
    }

    /// Customer `customer_idx`'s value.
    #[inline(always)]
    pub fn get(&self, customer_idx: usize) -> f32 {
        if self.each.is_empty() {
            self.shared
        } else {
            self.each[customer_idx]
        }
    }

    /// `value` of the values of customers `range`, as one array (entry `i` for customer
    /// `range.start + i`).
    pub fn map_range(&self, range: std::ops::Range<usize>, value: impl Fn(f32) -> f32) -> Vec<f32> {
        if self.each.is_empty() {
            vec![value(self.shared); range.len()]
        } else {
            self.each[range].iter().map(|&each| value(each)).collect()
        }
    }

    /// Whether customers differ in this parameter.
    pub fn varies(&self) -> bool {
        !self.each.is_empty()
    }

    /// The values of customers `range`, entry `i` being customer `range.start + i`'s (see
    /// [`IndividualRows`]).
    #[inline(always)]
    pub fn rows(&self, range: std::ops::Range<usize>) -> IndividualRows<'_> {
        IndividualRows {
            shared: self.shared,
            each: if self.each.is_empty() {
                &[]
            } else {
                &self.each[range]
            },
        }
    }
}

/// One individual parameter of a run of consecutive customers, for a loop over them: the
/// values as a slice of the run's length, or none when every customer has the shared value.
#[derive(Debug, Clone, Copy)]
pub struct IndividualRows<'a> {
    shared: f32,
    each: &'a [f32],
}

impl IndividualRows<'_> {
    /// Asks for entries `range` to be brought into the cache (nothing when every customer
    /// shares one value).
    #[inline(always)]
    pub fn prefetch(&self, range: std::ops::Range<usize>) {
        prefetch_range(self.each, range);
    }

    /// Entry `local`'s value.
    #[inline(always)]
    pub fn get(&self, local: usize) -> f32 {
        if self.each.is_empty() {
            self.shared
        } else {
            self.each[local]
        }
    }
}

/// Each customer's individual parameters (docs/model.md §2.1) for a run of consecutive
/// customers (see [`Population::individual_rows`]).
#[derive(Debug, Clone, Copy)]
pub struct IndividualParameterRows<'a> {
    pub trust_offset: IndividualRows<'a>,
    pub commitment_offset: IndividualRows<'a>,
    pub churn_offset: IndividualRows<'a>,
    pub advocacy_threshold: IndividualRows<'a>,
    pub learning: IndividualRows<'a>,
}

impl IndividualParameterRows<'_> {
    /// Asks for entries `range` of every parameter that varies to be brought into the cache.
    #[inline(always)]
    pub fn prefetch(&self, range: std::ops::Range<usize>) {
        self.trust_offset.prefetch(range.clone());
        self.commitment_offset.prefetch(range.clone());
        self.churn_offset.prefetch(range.clone());
        self.advocacy_threshold.prefetch(range.clone());
        self.learning.prefetch(range);
    }
}

/// Fixed attributes of every customer of one replication.
#[derive(Debug, Clone, PartialEq)]
pub struct Population {
    pub segment: Vec<u8>,
    /// Distributor area, or [`DIRECT`].
    pub distributor: Vec<u8>,
    pub novice: Vec<bool>,
    pub initially_active: Vec<bool>,
    /// Individual parameters (docs/model.md §2.1), each as its difference from the scenario's
    /// value, so that no spread is exactly 0 and reproduces the homogeneous model bit for bit:
    /// starting trust `τ₀ᵢ − τ₀`, starting commitment `κ₀ᵢ − κ₀`, and the churn propensity
    /// `logit θᵢ − (h₀ + h_s)` added to the defection log-odds.
    pub trust_offset: Individual,
    pub commitment_offset: Individual,
    pub churn_offset: Individual,
    /// The trust at which each customer starts recommending the firm (`market.advocate_trust`
    /// for every customer when advocacy has no spread).
    pub advocacy_threshold: Individual,
    /// Each customer's learning speed `gᵢ`, a multiplier of the trust learning rates (1 when
    /// learning has no spread).
    pub learning: Individual,
    /// The state the customers active at the start bring from their history (a warm start,
    /// docs/model.md §2.2); `None` for a cold start, where they start as new customers.
    pub history: Option<History>,
}

/// A customer's own starting trust or commitment (docs/model.md §2.1): the scenario's `mean`
/// plus the customer's `offset` from it, kept within `[0, 1]`.
#[inline(always)]
pub fn own_start(mean: f64, offset: f32) -> f64 {
    (mean + offset as f64).clamp(0.0, 1.0)
}

/// What the customers active at the start have lived through before the run (docs/model.md
/// §2.2): for each of them, in increasing order of customer, its age in periods and its
/// relationship state. Customers not listed (those not active at the start) keep the starting
/// state of a new customer. Only the starting customers are stored (a tenth of the population
/// in the default scenario), about 120 MB less for ten million customers than arrays over
/// everyone.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    /// The customers active at the start, in increasing order; entry `k` of every other field
    /// is customer `customers[k]`'s.
    pub customers: Vec<u32>,
    pub age: Vec<u16>,
    pub trust: Vec<f32>,
    pub reciprocity: Vec<f32>,
    pub commitment: Vec<f32>,
}

impl History {
    /// Each initially active customer's history: an age drawn uniformly from `0..=periods`
    /// and that many service episodes, each a failure with probability `market.base_failure`
    /// (not recovered, no care, no favours: the firm's ordinary past, the same for every
    /// strategy) and otherwise a success, applied with the customer's own learning speed from
    /// its own starting state. Draws come from `rng` in customer order.
    pub fn live(
        model: &ModelParams,
        population: &Population,
        periods: u32,
        rng: &mut Xoshiro256PlusPlus,
    ) -> Self {
        let customers: Vec<u32> = (0..population.len() as u32)
            .filter(|&customer_idx| population.initially_active[customer_idx as usize])
            .collect();
        let starters = customers.len();
        let mut history = Self {
            customers,
            age: vec![0; starters],
            trust: vec![0.0; starters],
            reciprocity: vec![0.0; starters],
            commitment: vec![0.0; starters],
        };
        super::isa::on_widest(
            #[inline(always)]
            || history.live_all(model, population, periods, rng),
        );
        history
    }

    /// The body of [`History::live`]: each starting customer's episodes.
    #[inline(always)]
    fn live_all(
        &mut self,
        model: &ModelParams,
        population: &Population,
        periods: u32,
        rng: &mut Xoshiro256PlusPlus,
    ) {
        let (relationship, episode) = (&model.relationship, &model.episode);
        let failure = StreamChance::new(model.market.base_failure);
        for entry in 0..self.customers.len() {
            let customer_idx = self.customers[entry] as usize;
            let mut state = Relationship {
                trust: own_start(
                    relationship.initial_trust,
                    population.trust_offset.get(customer_idx),
                ),
                reciprocity: 0.0,
                commitment: own_start(
                    relationship.initial_commitment,
                    population.commitment_offset.get(customer_idx),
                ),
            };
            let age = rng.below(periods.min(u16::MAX as u32) + 1);
            let segment = &model.segments[population.segment[customer_idx] as usize];
            for _ in 0..age {
                let failed = rng.happens(failure);
                state = state.after_episode(
                    &Episode {
                        disconfirmation: if failed {
                            episode.unrecovered
                        } else {
                            episode.success
                        },
                        favour: 0.0,
                        opportunism: 0.0,
                        benefits: 0.0,
                        switching_cost: 0.0,
                        commitment_baseline: segment.commitment_baseline,
                        learning: population.learning.get(customer_idx) as f64,
                    },
                    relationship,
                );
            }
            self.age[entry] = age as u16;
            self.trust[entry] = state.trust as f32;
            self.reciprocity[entry] = state.reciprocity as f32;
            self.commitment[entry] = state.commitment as f32;
        }
    }

    /// The entries of customers `range`: `entries.start..entries.end` index every field.
    pub fn entries_of(&self, range: &std::ops::Range<usize>) -> std::ops::Range<usize> {
        let first = self
            .customers
            .partition_point(|&customer_idx| (customer_idx as usize) < range.start);
        let end = self
            .customers
            .partition_point(|&customer_idx| (customer_idx as usize) < range.end);
        first..end
    }
}

impl Population {
    /// The individual parameters of customers `range`, entry `i` being customer
    /// `range.start + i`'s.
    #[inline(always)]
    pub fn individual_rows(&self, range: std::ops::Range<usize>) -> IndividualParameterRows<'_> {
        IndividualParameterRows {
            trust_offset: self.trust_offset.rows(range.clone()),
            commitment_offset: self.commitment_offset.rows(range.clone()),
            churn_offset: self.churn_offset.rows(range.clone()),
            advocacy_threshold: self.advocacy_threshold.rows(range.clone()),
            learning: self.learning.rows(range),
        }
    }

    /// Draws segments (by share), distributor areas, novice flags and exactly
    /// `initial_active` starting customers from `rng`, and each customer's individual parameters
    /// from `heterogeneity_rng` (no draw at all where a distribution has no spread).
    pub fn generate(
        model: &ModelParams,
        rng: &mut Xoshiro256PlusPlus,
        heterogeneity_rng: &mut Xoshiro256PlusPlus,
    ) -> Self {
        Self::generate_with(model, rng, heterogeneity_rng, &InOrder)
    }

    /// [`Population::generate`], with the individual parameters drawn in pieces by `workers`
    /// (the same values whoever draws them).
    pub fn generate_with<W: Workers>(
        model: &ModelParams,
        rng: &mut Xoshiro256PlusPlus,
        heterogeneity_rng: &mut Xoshiro256PlusPlus,
        workers: &W,
    ) -> Self {
        let market = &model.market;
        let n = market.population as usize;
        // Whether a uniform falls below each segment's cumulative share.
        let below_cumulative_share: Vec<StreamChance> = cumulative_shares(&model.segments)
            .into_iter()
            .map(StreamChance::new)
            .collect();
        let n_distributors = model.distributors.count;
        let mut segment = Vec::with_capacity(n);
        let mut distributor = Vec::with_capacity(n);
        let mut novice = Vec::with_capacity(n);
        let direct_chance = StreamChance::new(market.direct_share);
        let novice_chance: Vec<StreamChance> = model
            .segments
            .iter()
            .map(|segment| StreamChance::new(segment.novice_share))
            .collect();
        // The stream drawn from a copy in registers (the pushes would otherwise make it
        // stored back at every draw), handed back after the customers.
        let mut stream = rng.clone();
        for _ in 0..n {
            let bits = stream.next_u64();
            // The first segment whose cumulative share exceeds the draw's uniform (the last if
            // rounding leaves it above them all), counted rather than searched: which one it is
            // looks random to the branch predictor.
            let segment_idx = below_cumulative_share
                .iter()
                .map(|&below| usize::from(!below.happens_by(bits)))
                .sum::<usize>()
                .min(below_cumulative_share.len() - 1);
            segment.push(segment_idx as u8);
            let direct = n_distributors == 0 || stream.happens(direct_chance);
            distributor.push(if direct {
                DIRECT
            } else {
                stream.below(n_distributors) as u8
            });
            novice.push(stream.happens(novice_chance[segment_idx]));
        }
        *rng = stream;
        let initially_active = choose_initially_active(market, rng);
        let individual = draw_individual_parameters(model, &segment, heterogeneity_rng, workers);
        Self {
            segment,
            distributor,
            novice,
            initially_active,
            trust_offset: individual.trust_offset,
            commitment_offset: individual.commitment_offset,
            churn_offset: individual.churn_offset,
            advocacy_threshold: individual.advocacy_threshold,
            learning: individual.learning,
            history: None,
        }
    }

    pub fn len(&self) -> usize {
        self.segment.len()
    }

    pub fn is_empty(&self) -> bool {
        self.segment.is_empty()
    }
}

/// Every customer's individual parameters (docs/model.md §2.1).
struct IndividualParameters {
    trust_offset: Individual,
    commitment_offset: Individual,
    churn_offset: Individual,
    advocacy_threshold: Individual,
    learning: Individual,
}

/// Each customer's starting trust, starting commitment, churn propensity, advocacy threshold and
/// learning speed, drawn customer by customer in that order; a distribution without spread
/// takes no draw and gives every customer the scenario's value exactly.
fn draw_individual_parameters<W: Workers>(
    model: &ModelParams,
    segment: &[u8],
    rng: &mut Xoshiro256PlusPlus,
    workers: &W,
) -> IndividualParameters {
    let spread = &model.heterogeneity;
    let relationship = &model.relationship;
    let market = &model.market;
    // The log-odds of each segment's mean churn probability, `h₀ + h_s`.
    let churn_log_odds: Vec<f64> = model
        .segments
        .iter()
        .map(|s| model.defection.baseline + s.defection_intercept)
        .collect();
    let n = segment.len();
    // One array per parameter that varies; `None` for one that does not.
    let varying = |concentration: f64| concentration.is_finite().then(|| vec![0.0f32; n]);
    let mut trust = varying(spread.initial_trust_concentration);
    let mut commitment = varying(spread.initial_commitment_concentration);
    let mut churn = varying(spread.churn_concentration);
    let mut advocacy = varying(spread.advocacy_concentration);
    let mut learning = varying(spread.learning_concentration);
    // Without any spread there is nothing to draw, and no customer needs visiting (nor any
    // draw taken from `rng`).
    let customers_to_draw = if spread.varying_count() > 0 { n } else { 0 };
    // Each customer draws each parameter by inversion of one uniform of its own, keyed by one
    // draw of `rng`, the customer's index and the parameter: its value is the quantile of that
    // uniform. Two scenarios that differ in a mean or a concentration then give each customer
    // the value at the same rank of the new distribution, which moves smoothly with the
    // parameters (common random numbers customer by customer, keeping a calibration's
    // likelihood smooth), and a parameter's values do not depend on which others vary.
    let stream_key = if customers_to_draw > 0 {
        rng.next_u64()
    } else {
        0
    };
    // The distributions, set up once (each segment has its own churn distribution).
    let trust_distribution = BetaByMean::new(
        relationship.initial_trust,
        spread.initial_trust_concentration,
    );
    let commitment_distribution = BetaByMean::new(
        relationship.initial_commitment,
        spread.initial_commitment_concentration,
    );
    // Churn propensities are drawn on the log-odds scale, where the hazard uses them.
    let churn_distributions: Vec<BetaByMean> = churn_log_odds
        .iter()
        .map(|&log_odds| BetaByMean::log_odds(logistic(log_odds), spread.churn_concentration))
        .collect();
    let advocacy_distribution =
        BetaByMean::new(market.advocate_trust, spread.advocacy_concentration);
    let learning_distribution = BetaByMean::new(0.5, spread.learning_concentration);
    // Pieces of consecutive customers, each with its part of every varying array, drawn at
    // once if `workers` can: a customer's draws depend on its key alone.
    let mut pieces: Vec<IndividualPiece> = {
        fn parts(values: &mut Option<Vec<f32>>) -> Option<std::slice::ChunksMut<'_, f32>> {
            values
                .as_deref_mut()
                .map(|values| values.chunks_mut(PIECE_CUSTOMERS))
        }
        let (mut trust, mut commitment, mut churn, mut advocacy, mut learning) = (
            parts(&mut trust),
            parts(&mut commitment),
            parts(&mut churn),
            parts(&mut advocacy),
            parts(&mut learning),
        );
        fn next<'a>(part: &mut Option<std::slice::ChunksMut<'a, f32>>) -> Option<&'a mut [f32]> {
            part.as_mut().and_then(Iterator::next)
        }
        (0..customers_to_draw)
            .step_by(PIECE_CUSTOMERS)
            .map(|first| IndividualPiece {
                first,
                trust: next(&mut trust),
                commitment: next(&mut commitment),
                churn: next(&mut churn),
                advocacy: next(&mut advocacy),
                learning: next(&mut learning),
            })
            .collect()
    };
    workers.each(&mut pieces, |piece| {
        super::isa::on_widest(
            #[inline(always)]
            || {
                let n_piece = [
                    &piece.trust,
                    &piece.commitment,
                    &piece.churn,
                    &piece.advocacy,
                    &piece.learning,
                ]
                .iter()
                .find_map(|part| part.as_ref().map(|part| part.len()))
                .unwrap_or(0);
                let first = piece.first;
                let keys: Vec<u64> = (first..first + n_piece)
                    .map(|customer_idx| customer_key(stream_key, customer_idx))
                    .collect();
                // One parameter after another, each over the piece's customers; the starting
                // trust and commitment as offsets from the scenario's values.
                for (offsets, distribution, parameter, initial) in [
                    (
                        &mut piece.trust,
                        &trust_distribution,
                        IndividualParameter::Trust,
                        relationship.initial_trust,
                    ),
                    (
                        &mut piece.commitment,
                        &commitment_distribution,
                        IndividualParameter::Commitment,
                        relationship.initial_commitment,
                    ),
                ] {
                    if let Some(offsets) = offsets {
                        draw_parameter(distribution, &keys, parameter, offsets, |drawn| {
                            (drawn - initial) as f32
                        });
                    }
                }
                if let Some(offsets) = &mut piece.churn {
                    let segment = &segment[first..first + n_piece];
                    for ((offset, &key), &segment_idx) in offsets.iter_mut().zip(&keys).zip(segment)
                    {
                        let segment_idx = segment_idx as usize;
                        // logit θᵢ, finite: a table keeps θ at least 10⁻³⁰⁰ from 0 and from 1.
                        let log_odds = churn_distributions[segment_idx]
                            .quantile(individual_uniform(key, IndividualParameter::Churn));
                        *offset = (log_odds - churn_log_odds[segment_idx]) as f32;
                    }
                }
                if let Some(thresholds) = &mut piece.advocacy {
                    draw_parameter(
                        &advocacy_distribution,
                        &keys,
                        IndividualParameter::Advocacy,
                        thresholds,
                        |drawn| drawn as f32,
                    );
                }
                if let Some(speeds) = &mut piece.learning {
                    draw_parameter(
                        &learning_distribution,
                        &keys,
                        IndividualParameter::Learning,
                        speeds,
                        |drawn| (2.0 * drawn) as f32,
                    );
                }
            },
        )
    });
    drop(pieces);
    let individual = |values: Option<Vec<f32>>, shared: f32| {
        values.map_or_else(|| Individual::shared(shared), Individual::each)
    };
    IndividualParameters {
        trust_offset: individual(trust, 0.0),
        commitment_offset: individual(commitment, 0.0),
        churn_offset: individual(churn, 0.0),
        advocacy_threshold: individual(advocacy, market.advocate_trust as f32),
        learning: individual(learning, 1.0),
    }
}

/// One parameter of consecutive customers, whose [`customer_key`]s are `keys`: each value is
/// `value` of `distribution`'s quantile of the customer's uniform for `parameter`.
#[inline(always)]
fn draw_parameter(
    distribution: &BetaByMean,
    keys: &[u64],
    parameter: IndividualParameter,
    values: &mut [f32],
    value: impl Fn(f64) -> f32,
) {
    match distribution.table() {
        Some(table) => {
            let table = table.reader();
            for (entry, &key) in values.iter_mut().zip(keys) {
                *entry = value(table.quantile(individual_uniform(key, parameter)));
            }
        }
        None => values.fill(value(distribution.without_spread())),
    }
}

/// Customers per piece of the individual parameters' draws (a size fixed here, never the
/// number of threads; the draws do not depend on it anyway).
const PIECE_CUSTOMERS: usize = 1 << 14;

/// Consecutive customers from `first` on, with their parts of the arrays of the individual
/// parameters that vary (`None` for one that does not).
struct IndividualPiece<'a> {
    first: usize,
    trust: Option<&'a mut [f32]>,
    commitment: Option<&'a mut [f32]>,
    churn: Option<&'a mut [f32]>,
    advocacy: Option<&'a mut [f32]>,
    learning: Option<&'a mut [f32]>,
}

/// The individual parameters, each drawn from a uniform of its own.
#[derive(Debug, Clone, Copy)]
enum IndividualParameter {
    Trust = 1,
    Commitment,
    Churn,
    Advocacy,
    Learning,
}

/// Customer `customer_idx`'s key, from which each of its parameters' uniforms is drawn.
#[inline]
fn customer_key(stream_key: u64, customer_idx: usize) -> u64 {
    mix64(stream_key ^ (customer_idx as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))
}

/// A customer's uniform for `parameter`, from its [`customer_key`]: keyed by the replication's
/// stream key, the customer and the parameter, so that any one draw can be made without the
/// others.
#[inline]
fn individual_uniform(customer_key: u64, parameter: IndividualParameter) -> f64 {
    unit_f64(mix64(customer_key.wrapping_add(
        (parameter as u64).wrapping_mul(0xd1b5_4a32_d192_ed03),
    )))
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
    // Counted in a double (exact for whole numbers this size), so that the next comparison
    // waits only for a select, not for an integer's conversion.
    let mut needed = f64::from(market.initial_active);
    (0..n)
        .map(|idx| {
            let remaining = n - idx;
            let chosen = (rng.uniform() * remaining as f64) < needed;
            needed = if chosen { needed - 1.0 } else { needed };
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
        Self::of_range(population, relationship, 0..population.len())
    }

    /// Period-0 state of customers `range` of the population alone: entry `i` is customer
    /// `range.start + i` (the engine keeps its customers in chunks of this kind).
    pub fn of_range(
        population: &Population,
        relationship: &RelationshipParams,
        range: std::ops::Range<usize>,
    ) -> Self {
        let flags = range
            .clone()
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
        let starting = |mean: f64, offsets: &Individual| -> Vec<f32> {
            offsets.map_range(range.clone(), |offset| own_start(mean, offset) as f32)
        };
        let n = range.len();
        // A new customer's state, then the starting customers' histories over it.
        let mut trust = starting(relationship.initial_trust, &population.trust_offset);
        let mut reciprocity = written_now(0.0, n);
        let mut commitment = starting(
            relationship.initial_commitment,
            &population.commitment_offset,
        );
        if let Some(history) = &population.history {
            for entry in history.entries_of(&range) {
                let local = history.customers[entry] as usize - range.start;
                trust[local] = history.trust[entry];
                reciprocity[local] = history.reciprocity[entry];
                commitment[local] = history.commitment[entry];
            }
        }
        Self {
            trust,
            reciprocity,
            commitment,
            flags,
            segment: population.segment[range.clone()].to_vec(),
            distributor: population.distributor[range].to_vec(),
            since: written_now(0, n),
            detractor_until: written_now(0, n),
            spell_margin: written_now(0.0, n),
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
        active_mask(&self.flags, block_start, block_len)
    }

    /// Every array borrowed at once, as slices of the customers' number (see [`CustomerRows`]).
    #[inline(always)]
    pub fn rows(&mut self) -> CustomerRows<'_> {
        let n_customers = self.len();
        CustomerRows {
            trust: &mut self.trust[..n_customers],
            reciprocity: &mut self.reciprocity[..n_customers],
            commitment: &mut self.commitment[..n_customers],
            flags: &mut self.flags[..n_customers],
            segment: &self.segment[..n_customers],
            distributor: &self.distributor[..n_customers],
            since: &mut self.since[..n_customers],
            detractor_until: &mut self.detractor_until[..n_customers],
            spell_margin: &mut self.spell_margin[..n_customers],
        }
    }

    /// Bytes of state per customer.
    pub const BYTES_PER_CUSTOMER: usize = 4 * 4 + 3 + 2 * 2;
}

/// The arrays of [`Customers`] borrowed at once, as slices of one length. A loop that reads and
/// writes several of them per customer indexes these rather than the `Vec`s: their addresses
/// and lengths stay in registers (or stack slots) instead of being reloaded from the `Vec`s after
/// every store, and the compiler can drop a bounds check it has already made on a slice of the
/// same length (in `Chunk::pass` it drops about half of them).
#[derive(Debug)]
pub struct CustomerRows<'a> {
    pub trust: &'a mut [f32],
    pub reciprocity: &'a mut [f32],
    pub commitment: &'a mut [f32],
    pub flags: &'a mut [u8],
    pub segment: &'a [u8],
    pub distributor: &'a [u8],
    pub since: &'a mut [u16],
    pub detractor_until: &'a mut [u16],
    pub spell_margin: &'a mut [f32],
}

impl CustomerRows<'_> {
    /// Asks for entries `range` of the arrays an active customer or a lapsed one reads to be
    /// brought into the cache (the flags, read by every customer, the processor fetches
    /// ahead by itself).
    #[inline(always)]
    pub fn prefetch(&self, range: std::ops::Range<usize>) {
        prefetch_range(self.trust, range.clone());
        prefetch_range(self.reciprocity, range.clone());
        prefetch_range(self.commitment, range.clone());
        prefetch_range(self.since, range.clone());
        prefetch_range(self.detractor_until, range.clone());
        prefetch_range(self.spell_margin, range);
    }

    /// As [`Customers::active_mask`].
    #[inline(always)]
    pub fn active_mask(&self, block_start: usize, block_len: usize) -> u64 {
        active_mask(self.flags, block_start, block_len)
    }

    /// Bit `j` set when customer `block_start + j` has lapsed (was a customer once and is not
    /// now, or is again after a win-back), for the (at most 64) customers of
    /// `block_start..block_start + block_len`.
    #[inline(always)]
    pub fn lapsed_mask(&self, block_start: usize, block_len: usize) -> u64 {
        flag_mask(self.flags, flag::LAPSED, block_start, block_len)
    }
}

/// Bit `j` set when the customer of `flags[block_start + j]` is active, for the (at most 64)
/// customers of `block_start..block_start + block_len`.
#[inline(always)]
fn active_mask(flags: &[u8], block_start: usize, block_len: usize) -> u64 {
    flag_mask(flags, flag::ACTIVE, block_start, block_len)
}

/// Bit `j` set when `flags[block_start + j]` has the bit `one_flag` (one of [`flag`]), for the
/// (at most 64) customers of `block_start..block_start + block_len`.
#[inline(always)]
fn flag_mask(flags: &[u8], one_flag: u8, block_start: usize, block_len: usize) -> u64 {
    debug_assert!(block_len <= 64);
    debug_assert_eq!(one_flag.count_ones(), 1);
    let shift = one_flag.trailing_zeros();
    let block = &flags[block_start..block_start + block_len];
    let mut mask = 0;
    let mut eights = block.chunks_exact(8);
    for (chunk_idx, eight) in eights.by_ref().enumerate() {
        // The flag's bit of eight flag bytes at once: moved to bit 0 and isolated in every
        // byte, then one multiplication gathers the eight bits into the top byte, first
        // customer lowest.
        let bytes = u64::from_le_bytes(eight.try_into().expect("chunks of eight")) >> shift;
        let gathered = ((bytes & 0x0101_0101_0101_0101).wrapping_mul(0x0102_0408_1020_4080)) >> 56;
        mask |= gathered << (8 * chunk_idx);
    }
    let done = block_len - eights.remainder().len();
    for (j, &customer_flags) in eights.remainder().iter().enumerate() {
        mask |= u64::from(customer_flags >> shift & 1) << (done + j);
    }
    mask
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
            heterogeneity: HeterogeneityParams::default(),
            warm_start: WarmStartParams::default(),
            segments: default_segments(),
            network: NetworkParams::default(),
            suppliers: SupplierParams::default(),
            distributors: DistributorParams::default(),
        }
    }

    /// A customer's values come from a stream of its own (docs/model.md §2.1): a wider churn
    /// spread changes how many tries each customer's churn draw takes, yet every customer
    /// keeps the starting trust it drew before, and its values after the churn draw depend on
    /// its own stream only.
    #[test]
    fn a_customers_draws_do_not_depend_on_the_other_customers() {
        let draw = |churn_concentration: f64| {
            let mut model = model();
            model.market.population = 2_000;
            model.market.initial_active = 200;
            model.heterogeneity.churn_concentration = churn_concentration;
            let mut rng = Xoshiro256PlusPlus::seed_from_u64(7);
            let mut heterogeneity = Xoshiro256PlusPlus::seed_from_u64(8);
            Population::generate(&model, &mut rng, &mut heterogeneity)
        };
        let (narrow, wide) = (draw(100.0), draw(3.0));
        let trust = |p: &Population| {
            (0..2_000)
                .map(|i| p.trust_offset.get(i))
                .collect::<Vec<_>>()
        };
        assert_eq!(trust(&narrow), trust(&wide));
        let churn_differs = (0..2_000)
            .filter(|&i| narrow.churn_offset.get(i) != wide.churn_offset.get(i))
            .count();
        assert!(churn_differs > 1_900, "{churn_differs}");
    }

    /// The default model with every customer alike.
    fn homogeneous_model() -> ModelParams {
        ModelParams {
            heterogeneity: HeterogeneityParams::NONE,
            ..model()
        }
    }

    #[test]
    fn population_matches_shares_and_initial_count() {
        let model = model();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let population =
            Population::generate(&model, &mut rng, &mut Xoshiro256PlusPlus::seed_from_u64(12));
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
        let model = homogeneous_model();
        let mut rng = Xoshiro256PlusPlus::seed_from_u64(11);
        let population =
            Population::generate(&model, &mut rng, &mut Xoshiro256PlusPlus::seed_from_u64(12));
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
    fn without_spread_every_offset_is_zero_and_no_draw_is_taken() {
        let model = homogeneous_model();
        let mut heterogeneity_rng = Xoshiro256PlusPlus::seed_from_u64(12);
        let untouched = heterogeneity_rng.clone().next_u64();
        let population = Population::generate(
            &model,
            &mut Xoshiro256PlusPlus::seed_from_u64(11),
            &mut heterogeneity_rng,
        );
        for (parameter, shared) in [
            (&population.trust_offset, 0.0),
            (&population.commitment_offset, 0.0),
            (&population.churn_offset, 0.0),
            (
                &population.advocacy_threshold,
                model.market.advocate_trust as f32,
            ),
            (&population.learning, 1.0),
        ] {
            assert!(!parameter.varies());
            assert!((0..population.len()).all(|idx| parameter.get(idx) == shared));
        }
        assert_eq!(heterogeneity_rng.next_u64(), untouched);
    }

    #[test]
    fn individual_parameters_spread_around_the_scenarios_values() {
        let mut model = model();
        model.heterogeneity = HeterogeneityParams {
            initial_trust_concentration: 10.0,
            initial_commitment_concentration: 20.0,
            churn_concentration: 5.0,
            advocacy_concentration: 30.0,
            learning_concentration: 8.0,
        };
        model.segments[2].defection_intercept = 0.5;
        let population = Population::generate(
            &model,
            &mut Xoshiro256PlusPlus::seed_from_u64(11),
            &mut Xoshiro256PlusPlus::seed_from_u64(12),
        );
        let n = population.len() as f64;
        let mean_sd = |offsets: &Individual, base: f64| {
            assert!(offsets.varies());
            let values: Vec<f64> = (0..population.len())
                .map(|idx| base + offsets.get(idx) as f64)
                .collect();
            let mean = values.iter().sum::<f64>() / n;
            let var = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1.0);
            (mean, var.sqrt())
        };
        // Beta(mean m, concentration c) has variance m(1 − m)/(c + 1).
        let relationship = &model.relationship;
        let (trust_mean, trust_sd) = mean_sd(&population.trust_offset, relationship.initial_trust);
        let trust_var = 0.5 * 0.5 / 11.0;
        assert!(
            (trust_mean - 0.5).abs() < 4.0 * (trust_var / n).sqrt(),
            "{trust_mean}"
        );
        assert!(
            (trust_sd / trust_var.sqrt() - 1.0).abs() < 0.05,
            "{trust_sd}"
        );
        let (commitment_mean, _) = mean_sd(
            &population.commitment_offset,
            relationship.initial_commitment,
        );
        assert!((commitment_mean - 0.2).abs() < 0.005, "{commitment_mean}");
        let (threshold_mean, threshold_sd) = mean_sd(&population.advocacy_threshold, 0.0);
        let threshold_var = 0.7 * 0.3 / 31.0;
        assert!((threshold_mean - 0.7).abs() < 4.0 * (threshold_var / n).sqrt());
        assert!((threshold_sd / threshold_var.sqrt() - 1.0).abs() < 0.05);
        let (learning_mean, learning_sd) = mean_sd(&population.learning, 0.0);
        // g = 2u with u ~ Beta(4, 4): mean 1, variance 4 · 0.25/9.
        assert!((learning_mean - 1.0).abs() < 4.0 * (1.0 / 9.0 / n).sqrt());
        assert!(
            (learning_sd / (1.0f64 / 9.0).sqrt() - 1.0).abs() < 0.05,
            "{learning_sd}"
        );
        assert!((0..population.len()).all(|i| (0.0..=2.0).contains(&population.learning.get(i))));
        // Churn: the mean of θ in each segment is logistic(h₀ + h_s).
        for (segment_idx, segment) in model.segments.iter().enumerate() {
            let log_odds = model.defection.baseline + segment.defection_intercept;
            let thetas: Vec<f64> = (0..population.len())
                .filter(|&i| population.segment[i] as usize == segment_idx)
                .map(|i| logistic(log_odds + population.churn_offset.get(i) as f64))
                .collect();
            let mean = thetas.iter().sum::<f64>() / thetas.len() as f64;
            let expected = logistic(log_odds);
            let var = expected * (1.0 - expected) / 6.0;
            assert!(
                (mean - expected).abs() < 4.0 * (var / thetas.len() as f64).sqrt(),
                "segment {segment_idx}: mean θ {mean} against {expected}"
            );
        }
    }

    #[test]
    fn a_warm_start_gives_the_initial_base_a_history() {
        let model = homogeneous_model();
        let population = Population::generate(
            &model,
            &mut Xoshiro256PlusPlus::seed_from_u64(11),
            &mut Xoshiro256PlusPlus::seed_from_u64(12),
        );
        let history = History::live(
            &model,
            &population,
            36,
            &mut Xoshiro256PlusPlus::seed_from_u64(13),
        );
        // One entry per customer active at the start, in order.
        let initial: Vec<u32> = (0..population.len() as u32)
            .filter(|&i| population.initially_active[i as usize])
            .collect();
        assert_eq!(history.customers, initial);
        // Ages spread over 0..=36, about uniformly (mean 18).
        let ages: Vec<f64> = history.age.iter().map(|&age| age as f64).collect();
        assert!(ages.iter().all(|&a| a <= 36.0));
        let mean_age = ages.iter().sum::<f64>() / ages.len() as f64;
        assert!((mean_age - 18.0).abs() < 1.0, "{mean_age}");
        // Older customers are more committed; a customer of age 0 is new.
        for entry in 0..initial.len() {
            if history.age[entry] == 0 {
                assert_eq!(history.trust[entry], 0.5);
                assert_eq!(history.commitment[entry], 0.2);
            }
        }
        let mean = |filter: &dyn Fn(u16) -> bool| {
            let chosen: Vec<f64> = (0..initial.len())
                .filter(|&entry| filter(history.age[entry]))
                .map(|entry| history.commitment[entry] as f64)
                .collect();
            chosen.iter().sum::<f64>() / chosen.len() as f64
        };
        assert!(mean(&|age| age >= 24) > mean(&|age| age <= 12));
        // The customers' state at period 0 is the history's for the customers active at the
        // start and a new customer's for the others, whichever range of customers is built.
        let mut with_history = population.clone();
        with_history.history = Some(history.clone());
        let customers = Customers::new(&with_history, &model.relationship);
        let cold = Customers::new(&population, &model.relationship);
        for i in 0..population.len() {
            match history.customers.binary_search(&(i as u32)) {
                Ok(entry) => assert_eq!(
                    (customers.trust[i], customers.commitment[i]),
                    (history.trust[entry], history.commitment[entry])
                ),
                Err(_) => assert_eq!(
                    (customers.trust[i], customers.commitment[i]),
                    (cold.trust[i], cold.commitment[i])
                ),
            }
        }
        let n = population.len();
        for range in [0..n / 3, n / 3..n / 3 + 1, n / 3..n, n..n] {
            let part = Customers::of_range(&with_history, &model.relationship, range.clone());
            assert_eq!(part.trust, customers.trust[range.clone()]);
            assert_eq!(part.reciprocity, customers.reciprocity[range.clone()]);
            assert_eq!(part.commitment, customers.commitment[range]);
        }
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

    /// Every flag's mask, of flags where every bit varies (the bytes of a counter), in whole
    /// eights and in a block's ragged end.
    #[test]
    fn flag_masks_mark_the_customers_with_the_flag() {
        let flags: Vec<u8> = (0..200u32).map(|i| (i * 37 + i / 7) as u8).collect();
        for bit in 0..8 {
            let one_flag = 1u8 << bit;
            for (block_start, block_len) in [(0, 64), (64, 64), (128, 61), (190, 10), (3, 0)] {
                let mask = flag_mask(&flags, one_flag, block_start, block_len);
                for j in 0..64 {
                    let expected = j < block_len && flags[block_start + j] & one_flag != 0;
                    assert_eq!(mask >> j & 1 == 1, expected, "flag {one_flag}, bit {j}");
                }
            }
        }
    }
}
