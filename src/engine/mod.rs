//! One replication of one strategy: state, the period step, and the records it returns
//! (docs/model.md §4 gives the order of a period).
//!
//! **The engine does no IO and starts no thread.** It takes the model, the levers, a pre-built
//! [`World`] and the replication's seeds, and returns a [`RunOutput`]. Every decision reads the
//! state at the start of the period (word of mouth reads a snapshot), so results do not depend
//! on the order in which customers are visited. That lets each period's customers run in
//! chunks of a fixed size ([`Chunk`]), which the caller's [`Workers`] may run at once.

mod accounting;
mod active;
mod census;
mod chunk;
mod isa;
mod partners;
mod prospects;
pub mod records;
mod tables;
mod trace;
mod world;

use crate::model::customer::{
    advertising_reach, defection_index, failure_probability, mixed_adoption_probability,
    not_deterred, share_of_wallet, word_of_mouth_reach, DefectionDrivers,
};
use crate::model::customers::{
    flag, own_start, CustomerRows, Customers, History, IndividualParameterRows, Population, DIRECT,
};
use crate::model::economics::discount_factor;
use crate::model::math::{below_logistic, logistic};
use crate::model::network::SocialNetwork;
use crate::model::params::{
    CashFlowTiming, EpisodeParams, MarketParams, ModelParams, NetworkParams, PartnerPolicy,
    PartnerTurnover,
};
use crate::model::partners::{channel_quality, delivery_probability, distributor_effort};
use crate::model::relationship::{Episode, Relationship};
use crate::model::rng::{derive_seed, mix64, Chance, CounterDraws, Stream, Xoshiro256PlusPlus};
use crate::model::stakeholders::{PartnerStarts, StakeholderGraph};
pub use crate::model::workers::{InOrder, Workers};
use crate::strategy::{DistributorPolicy, Levers, SupplierPolicy};
use accounting::{CustomerSums, CustomerTotals, RunTotals};
use census::{is_prospect, set_bits, Census, BLOCK};
use chunk::Chunk;
pub use chunk::CHUNK_CUSTOMERS;
use chunk::{PassTerms, Social, Turns};
use isa::InstructionSet;
use partners::TurnoverState;
pub use records::{PeriodRecord, RunMetrics};
use tables::{AreaTerms, CareTerms, PeriodContext, RunTerms, SegmentTerms};
pub use trace::{AfterPass, Care, EpisodeTrace, NoTrace, Trace, TraceEvent, Voice};
pub use world::{ReplicationSeeds, World};

/// Which uniform of a customer's [`CounterDraws`] each decision uses. Fixed slots keep the
/// numbers of one decision identical across strategies (common random numbers). Slots `2k` and
/// `2k + 1` share one 64-bit draw, so the decisions every active customer makes each period
/// (failure, purchase, defection) sit in two words, and a prospect's advertising and word of
/// mouth draws in one.
mod slot {
    pub const FAILURE: u32 = 0;
    pub const PURCHASE: u32 = 1;
    pub const DEFECTION: u32 = 2;
    pub const PREVENTION: u32 = 3;
    pub const ADVERTISING: u32 = 4;
    pub const WORD_OF_MOUTH: u32 = 5;
    pub const RECOVERY: u32 = 6;
    pub const DETERRENCE: u32 = 7;
}

/// Marks the path that calls it as rare, for the code layout and the branch hints (what
/// `std::hint::cold_path` does, which is newer than this crate's minimum Rust). An empty call,
/// paid only on that path.
#[cold]
#[inline(never)]
fn rare_path() {}

/// What a customer says to its neighbours this period (start-of-period snapshot).
mod voice {
    pub const SILENT: u8 = 0;
    pub const ADVOCATE: u8 = 1;
    pub const DETRACTOR: u8 = 2;
}

/// Entries of the per-area tables: one per distributor plus [`DIRECT`] at the end.
const AREAS: usize = DIRECT as usize + 1;

/// What one run simulates: the market, the strategy and the horizon. Made by
/// [`crate::Scenario::run_config`] from a validated scenario, so the engine may trust it.
#[derive(Debug, Clone, Copy)]
pub struct RunConfig<'a> {
    pub(crate) model: &'a ModelParams,
    pub(crate) levers: &'a Levers,
    pub(crate) periods: u32,
    /// Discount rate per period `d`.
    pub(crate) discount_rate: f64,
}

/// The records of one run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunOutput {
    pub periods: Vec<PeriodRecord>,
    pub metrics: RunMetrics,
    /// Customer-periods spent active: each period's active customers at its start, summed.
    /// Prospects cost a fraction of an active customer, so this says how much of the run's
    /// customer-steps were the expensive kind.
    pub active_customer_steps: u64,
}

/// Simulates one strategy on one replication's world, one chunk after another.
pub fn simulate(config: &RunConfig, world: &World, seeds: &ReplicationSeeds) -> RunOutput {
    simulate_with(config, world, seeds, &InOrder)
}

/// [`simulate`], with each period's chunks run by `workers` (perhaps at once: the output is the
/// same to the bit).
pub fn simulate_with<W: Workers>(
    config: &RunConfig,
    world: &World,
    seeds: &ReplicationSeeds,
    workers: &W,
) -> RunOutput {
    let mut run = Run::with_workers(config, world, seeds, workers);
    let mut periods = Vec::with_capacity(config.periods as usize);
    while let Some(record) = run.step() {
        periods.push(record);
    }
    let active_customer_steps = run.engine.totals.customer_periods_at_risk;
    let metrics = run.finish(&periods);
    RunOutput {
        periods,
        metrics,
        active_customer_steps,
    }
}

/// One run, a period at a time: what [`simulate`] does, for callers that look at each period
/// as it ends (the test that a period allocates nothing, live views).
pub struct Run<'a, W: Workers = InOrder> {
    engine: Engine<'a>,
    workers: &'a W,
    next_period: u32,
}

/// One customer's state as a period left it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CustomerState {
    pub trust: f32,
    pub reciprocity: f32,
    pub commitment: f32,
    /// Bits of [`flag`].
    pub flags: u8,
    pub segment: u8,
    /// The period the customer last joined (active) or left (lapsed).
    pub active_since: u32,
}

impl<'a> Run<'a> {
    /// Sets up the run: customers at their starting state, partners, tables. Its chunks run one
    /// after another on the calling thread.
    pub fn new(config: &'a RunConfig<'a>, world: &'a World, seeds: &'a ReplicationSeeds) -> Self {
        Self::with_workers(config, world, seeds, &InOrder)
    }
}

impl<'a, W: Workers> Run<'a, W> {
    /// [`Run::new`], with each period's chunks run by `workers`.
    pub fn with_workers(
        config: &'a RunConfig<'a>,
        world: &'a World,
        seeds: &'a ReplicationSeeds,
        workers: &'a W,
    ) -> Self {
        Self {
            engine: Engine::new(config, world, seeds, workers),
            workers,
            next_period: 1,
        }
    }

    /// Simulates the next period and returns its record; `None` once the horizon is reached.
    pub fn step(&mut self) -> Option<PeriodRecord> {
        self.step_traced(&mut NoTrace)
    }

    /// [`Run::step`], telling `trace` what the customers it follows do. The period is the same
    /// to the bit as an untraced one (the chunks then run one after another).
    pub fn step_traced<T: Trace>(&mut self, trace: &mut T) -> Option<PeriodRecord> {
        let period = self.next_period;
        (period <= self.engine.config.periods).then(|| {
            self.next_period += 1;
            self.engine.step(period, self.workers, trace)
        })
    }

    /// How many customers the market has.
    pub fn customer_count(&self) -> usize {
        self.engine.world.population.len()
    }

    /// Customer `customer_idx`'s state as the last period left it (for tests of the model's
    /// invariants and for calibration's cohort counts).
    pub fn customer(&self, customer_idx: usize) -> CustomerState {
        let chunk = &self.engine.chunks[customer_idx / self.engine.chunk_len];
        let customers = &chunk.customers;
        let local = customer_idx - chunk.first;
        CustomerState {
            trust: customers.trust[local],
            reciprocity: customers.reciprocity[local],
            commitment: customers.commitment[local],
            flags: customers.flags[local],
            segment: customers.segment[local],
            active_since: customers.since[local] as u32,
        }
    }

    /// The run's metrics, from the records of every period.
    pub fn finish(mut self, periods: &[PeriodRecord]) -> RunMetrics {
        self.engine.finish(periods, self.workers)
    }
}

struct Engine<'a> {
    config: &'a RunConfig<'a>,
    world: &'a World,
    seeds: &'a ReplicationSeeds,
    /// The customers in chunks of [`CHUNK_CUSTOMERS`] (one chunk of everyone under an
    /// acquisition capacity, which the whole market's pass must count in order), each with
    /// what its pass adds up.
    chunks: Vec<Chunk>,
    chunk_len: usize,
    /// How many advocates and detractors each customer hears at the start of the period.
    social: Social,
    run_terms: RunTerms,
    area_terms: AreaTerms,
    /// Segment indices by value, highest first: the order in which managers are assigned.
    care_order: Vec<usize>,
    /// The whole market's snapshot at the start of the period: the sum of the chunks'.
    census: Census,
    /// Managers' places left per segment while they are handed to chunks in order.
    care_places: Vec<u32>,
    stakeholders: StakeholderGraph,
    supplier_policy: &'a PartnerPolicy,
    /// Where each supplier, and each distributor, stands in its turnover (docs/model.md §5, §6).
    supplier_turnover: Vec<TurnoverState>,
    distributor_turnover: Vec<TurnoverState>,
    distributor_policy: &'a PartnerPolicy,
    totals: RunTotals,
    /// The instructions the customers' passes run on: the widest this processor has.
    instruction_set: InstructionSet,
}

impl<'a> Engine<'a> {
    fn new<W: Workers>(
        config: &'a RunConfig<'a>,
        world: &'a World,
        seeds: &'a ReplicationSeeds,
        workers: &W,
    ) -> Self {
        let model = config.model;
        let levers = config.levers;
        let segments: Vec<SegmentTerms> = model
            .segments
            .iter()
            .map(|s| {
                let targeted = s.value >= levers.target_min_value;
                let loyalty_reward = if targeted { levers.loyalty_reward } else { 0.0 };
                // What loyalty adds for members (a segment with a reward above 0).
                let loyalty = |value: f64| if loyalty_reward > 0.0 { value } else { 0.0 };
                SegmentTerms {
                    value: s.value,
                    purchase: Chance::new(s.purchase_probability),
                    price_sensitivity: s.price_sensitivity,
                    commitment_baseline: s.commitment_baseline,
                    defection_intercept: s.defection_intercept,
                    targeted,
                    loyalty_reward,
                    loyalty_favour: loyalty(levers.loyalty_favour),
                    care: CareTerms::of_each_kind(
                        loyalty(levers.loyalty_benefits),
                        levers,
                        &model.episode,
                    ),
                }
            })
            .collect();
        let mut care_order: Vec<usize> = (0..segments.len()).collect();
        care_order.sort_by(|&a, &b| segments[b].value.total_cmp(&segments[a].value));
        let (supplier_policy, input_cost_factor) = match levers.supplier_policy {
            SupplierPolicy::Partnership => (
                &model.suppliers.partnership,
                model.suppliers.partnership_cost_factor,
            ),
            SupplierPolicy::Spot => (&model.suppliers.spot, model.suppliers.spot_cost_factor),
        };
        let (distributor_policy, distributor_margin) = match levers.distributor_policy {
            DistributorPolicy::Partnership => (
                &model.distributors.partnership,
                model.distributors.partnership_margin,
            ),
            DistributorPolicy::Squeeze => (
                &model.distributors.squeeze,
                model.distributors.squeeze_margin,
            ),
        };
        let n_initial = world
            .population
            .initially_active
            .iter()
            .filter(|&&a| a)
            .count() as u64;
        let word_of_mouth = (model.market.word_of_mouth * levers.referral_multiplier).min(1.0);
        let max_degree = world.network.max_degree();
        let n_customers = world.population.len();
        // Under a capacity the pass stops acquiring once the period's count reaches it, which
        // only a pass over the whole market in index order can know.
        let chunk_len = if model.market.acquisition_capacity.is_some() {
            n_customers.max(1)
        } else {
            CHUNK_CUSTOMERS
        };
        // Each chunk's customers at their starting state, set up by `workers`.
        let n_segments = segments.len();
        let mut slots: Vec<(usize, Option<Chunk>)> = (0..n_customers)
            .step_by(chunk_len)
            .map(|first| (first, None))
            .collect();
        workers.each(&mut slots, |(first, chunk)| {
            let range = *first..(*first + chunk_len).min(n_customers);
            let customers = Customers::of_range(&world.population, &model.relationship, range);
            *chunk = Some(Chunk::new(customers, *first, n_segments));
        });
        let chunks = slots.into_iter().filter_map(|(_, chunk)| chunk).collect();
        let run_terms = RunTerms {
            word_of_mouth,
            word_of_mouth_chance: (0..=max_degree)
                .map(|advocates| {
                    let reach = word_of_mouth_reach(word_of_mouth, advocates);
                    [
                        Chance::new(reach),
                        Chance::new(reach * model.market.failed_first_winback_factor),
                    ]
                })
                .collect(),
            not_deterred_chance: (0..=max_degree)
                .map(|detractors| {
                    Chance::new(not_deterred(
                        model.market.negative_word_of_mouth,
                        detractors,
                    ))
                })
                .collect(),
            switching_cost_paid: levers.structural_bonds.min(1.0),
            switching_cost_referred: (levers.structural_bonds + model.relationship.referral_bond)
                .min(1.0),
            mixed_mode: matches!(model.network, NetworkParams::Mixed {}),
            lifetime_window: (config.periods / 2).max(1),
            discount_at: (0..=config.periods)
                .map(|period| discount_factor(config.discount_rate, period))
                .collect(),
            input_cost_factor,
            area_channel_margin: std::array::from_fn(|area| {
                if area == DIRECT as usize {
                    0.0
                } else {
                    distributor_margin
                }
            }),
            segments,
        };
        let mut engine = Self {
            config,
            world,
            seeds,
            chunks,
            chunk_len,
            social: Social::new(n_customers),
            run_terms,
            area_terms: AreaTerms::default(),
            care_order,
            census: Census::new(n_segments),
            care_places: vec![0; n_segments],
            stakeholders: StakeholderGraph::new(&world.partners),
            supplier_policy,
            supplier_turnover: vec![TurnoverState::default(); world.partners.suppliers.len()],
            distributor_turnover: vec![TurnoverState::default(); world.partners.distributors.len()],
            distributor_policy,
            totals: RunTotals {
                n_initial,
                ..Default::default()
            },
            instruction_set: InstructionSet::detected(),
        };
        engine.take_first_census(workers);
        engine
    }

    /// One period in the order of docs/model.md §4.
    fn step<W: Workers, T: Trace>(
        &mut self,
        period: u32,
        workers: &W,
        trace: &mut T,
    ) -> PeriodRecord {
        let model = self.config.model;
        let levers = self.config.levers;
        let mut record = PeriodRecord::default();

        // 1. Market events, shared by every strategy of the replication.
        let events = CounterDraws::new(self.seeds.market, period, 0);
        let shortage = events.uniform(0) < model.market.shortage_probability;
        let rival_campaign = events.uniform(1) < model.market.rival_campaign_probability;
        record.shortage = f64::from(u8::from(shortage));
        record.rival_campaign = f64::from(u8::from(rival_campaign));

        // 2. Supply and channel quality from the partners' start-of-period commitment.
        let fill_rate = self.supply_round(period, shortage, &mut record);
        record.fill_rate = fill_rate;
        record.advocates = self.census.advocates as f64;
        record.detractors = self.census.detractors as f64;
        let n_prospects = self.census.prospects;
        let spend_per_prospect = if n_prospects > 0 {
            record.acquisition_cost = levers.acquisition_budget;
            levers.acquisition_budget / n_prospects as f64
        } else {
            0.0
        };
        self.channel_round(period, spend_per_prospect, fill_rate, &mut record);
        self.assign_personal_care();

        // 3.–7. Customers, chunk by chunk: every decision reads start-of-period state and each
        // pass changes only its own chunk, so the chunks may be run at once; what they add up
        // is then summed in chunk order, whatever ran them.
        let n_active_at_start: u32 = self.census.active_in_segment.iter().sum();
        let cash_period = match model.market.cash_flow_timing {
            CashFlowTiming::StartOfPeriod => period - 1,
            CashFlowTiming::EndOfPeriod | CashFlowTiming::AfterRetention => period,
        };
        let context = PeriodContext {
            period,
            rival_campaign,
            adopted_share: n_active_at_start as f64 / self.world.population.len().max(1) as f64,
            discount: discount_factor(self.config.discount_rate, cash_period),
        };
        let terms = PassTerms {
            config: self.config,
            world: self.world,
            seeds: self.seeds,
            run: &self.run_terms,
            areas: &self.area_terms,
            social: &self.social,
            context,
            instruction_set: self.instruction_set,
        };
        if T::FOLLOWS {
            for chunk in &mut self.chunks {
                chunk.pass(&terms, trace);
            }
            let market = AfterPass {
                chunks: &self.chunks,
                chunk_len: self.chunk_len,
                period,
            };
            trace.pass_over(period, &market);
        } else {
            workers.each(&mut self.chunks, |chunk| chunk.pass(&terms, &mut NoTrace));
        }
        let mut sums = CustomerSums::default();
        for chunk in &self.chunks {
            chunk.tally.add_to(&mut record);
            sums.add(&chunk.sums);
        }
        self.advance_census(workers);

        // Accounting (docs/model.md §9).
        record.care_cost = levers.personal_care_managers as f64 * levers.manager_cost
            + record.automated_care_customers * levers.automated_care_cost;
        record.referral_cost = record.acquired_referred * levers.referral_bonus;
        record.fixed_cost = model.market.fixed_cost;
        let customer_margin = record.revenue
            - record.cogs
            - record.distributor_margin
            - record.care_cost
            - record.loyalty_cost
            - record.recovery_cost;
        record.profit = customer_margin
            - record.acquisition_cost
            - record.referral_cost
            - record.fixed_cost
            - record.partner_replacement_cost;
        self.totals.npv += record.profit * context.discount;
        self.totals.discounted_customer_margin += customer_margin * context.discount;
        record.cumulative_npv = self.totals.npv;

        // Customer counts and means.
        record.active = sums.active as f64;
        record.retention = if n_active_at_start > 0 {
            1.0 - record.defections / n_active_at_start as f64
        } else {
            f64::NAN
        };
        self.totals.customer_periods_at_risk += n_active_at_start as u64;
        record.initial_survival = if self.totals.n_initial > 0 {
            sums.initial_active as f64 / self.totals.n_initial as f64
        } else {
            f64::NAN
        };
        let per_active = |sum: f64| {
            if sums.active > 0 {
                sum / sums.active as f64
            } else {
                f64::NAN
            }
        };
        record.customer_trust = per_active(sums.trust);
        record.customer_reciprocity = per_active(sums.reciprocity);
        record.customer_commitment = per_active(sums.commitment);
        let nan = Relationship {
            trust: f64::NAN,
            reciprocity: f64::NAN,
            commitment: f64::NAN,
        };
        let supplier = self.stakeholders.mean_supplier().unwrap_or(nan);
        let distributor = self.stakeholders.mean_distributor().unwrap_or(nan);
        record.supplier_trust = supplier.trust;
        record.supplier_reciprocity = supplier.reciprocity;
        record.supplier_commitment = supplier.commitment;
        record.distributor_trust = distributor.trust;
        record.distributor_reciprocity = distributor.reciprocity;
        record.distributor_commitment = distributor.commitment;
        record
    }
}
