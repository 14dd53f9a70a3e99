//! One replication of one strategy: state, the period step, and the records it returns
//! (docs/model.md §4 gives the order of a period).
//!
//! **The engine does no IO and knows nothing of threads.** It takes the model, the levers, a
//! pre-built [`World`] and the replication's seeds, and returns a [`RunOutput`]. Every decision
//! reads the state at the start of the period (word of mouth reads a snapshot), so results do not
//! depend on the order in which customers are visited.

mod accounting;
mod active;
mod census;
mod partners;
mod prospects;
pub mod records;
mod tables;
mod world;

use crate::model::customer::{
    advertising_reach, defection_index, failure_probability, mixed_adoption_probability,
    not_deterred, share_of_wallet, word_of_mouth_reach, DefectionDrivers,
};
use crate::model::customers::{flag, Customers, History, Population, DIRECT};
use crate::model::economics::discount_factor;
use crate::model::math::below_logistic;
use crate::model::network::SocialNetwork;
use crate::model::params::{
    CashFlowTiming, MarketParams, ModelParams, NetworkParams, PartnerPolicy, PartnerTurnover,
};
use crate::model::partners::{channel_quality, delivery_probability, distributor_effort};
use crate::model::relationship::{Episode, Relationship};
use crate::model::rng::{derive_seed, mix64, Chance, CounterDraws, Stream, Xoshiro256PlusPlus};
use crate::model::stakeholders::{PartnerStarts, StakeholderGraph};
use crate::strategy::{DistributorPolicy, Levers, SupplierPolicy};
use accounting::{CustomerSums, RunTotals};
use census::{is_prospect, set_bits, Census, BLOCK};
use partners::TurnoverState;
pub use records::{PeriodRecord, RunMetrics};
use tables::{PeriodContext, SegmentTerms};
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

/// Simulates one strategy on one replication's world.
pub fn simulate(config: &RunConfig, world: &World, seeds: &ReplicationSeeds) -> RunOutput {
    let mut run = Run::new(config, world, seeds);
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
pub struct Run<'a> {
    engine: Engine<'a>,
    next_period: u32,
}

impl<'a> Run<'a> {
    /// Sets up the run: customers at their starting state, partners, tables.
    pub fn new(config: &'a RunConfig<'a>, world: &'a World, seeds: &'a ReplicationSeeds) -> Self {
        Self {
            engine: Engine::new(config, world, seeds),
            next_period: 1,
        }
    }

    /// Simulates the next period and returns its record; `None` once the horizon is reached.
    pub fn step(&mut self) -> Option<PeriodRecord> {
        let period = self.next_period;
        (period <= self.engine.config.periods).then(|| {
            self.next_period += 1;
            self.engine.step(period)
        })
    }

    /// The customers' state as the last period left it (for tests of the model's invariants).
    pub fn customers(&self) -> &Customers {
        &self.engine.customers
    }

    /// The run's metrics, from the records of every period.
    pub fn finish(mut self, periods: &[PeriodRecord]) -> RunMetrics {
        self.engine.finish(periods)
    }
}

struct Engine<'a> {
    config: &'a RunConfig<'a>,
    world: &'a World,
    seeds: &'a ReplicationSeeds,
    customers: Customers,
    stakeholders: StakeholderGraph,
    /// Start-of-period snapshot of each customer's [`voice`].
    voices: Vec<u8>,
    /// How many of each customer's neighbours are advocates, and detractors, in the snapshot.
    /// Kept up to date as voices change (few do in a period), so a prospect reads two numbers
    /// instead of scanning its neighbours.
    advocate_neighbours: Vec<u32>,
    detractor_neighbours: Vec<u32>,
    segments: Vec<SegmentTerms>,
    /// Segment indices by value, highest first: the order in which managers are assigned.
    care_order: Vec<usize>,
    /// The snapshot of the current period's start, and the next period's, filled in as each
    /// customer's turn ends (the census rides along with the main pass instead of a sweep of
    /// its own).
    census: Census,
    next_census: Census,
    /// Voices that change at the end of this period, applied once every customer has acted so
    /// that word of mouth within the period reads the start-of-period snapshot only. Each entry
    /// packs `customer_idx << 2 | new voice` (populations stay below 2³⁰).
    voice_changes: Vec<u32>,
    personal_care_quota: Vec<u32>,
    /// Per-area service failure chance (from channel quality and the period's fill rate) and
    /// advertising reach (from distributor effort); index [`DIRECT`] holds the direct channel.
    /// Both depend on the area and the period only, so they are computed once per area. The
    /// reach is also kept as a [`Chance`] for ordinary prospects and for burned ones (who
    /// convert at `failed_first_winback_factor` of it).
    area_failure: [Chance; AREAS],
    area_advertising: [f64; AREAS],
    area_advertising_chance: [[Chance; 2]; AREAS],
    /// The distributor's share of revenue by area: 0 for the direct channel.
    area_channel_margin: [f64; AREAS],
    supplier_policy: &'a PartnerPolicy,
    /// Where each supplier, and each distributor, stands in its turnover (docs/model.md §5, §6).
    supplier_turnover: Vec<TurnoverState>,
    distributor_turnover: Vec<TurnoverState>,
    input_cost_factor: f64,
    distributor_policy: &'a PartnerPolicy,
    /// Positive word of mouth per advocate after the referral programme.
    word_of_mouth: f64,
    /// [`word_of_mouth_reach`] (for ordinary and burned prospects) and [`not_deterred`] for
    /// every neighbour count the network allows, so a prospect looks its chances up instead of
    /// raising a power.
    word_of_mouth_chance: Vec<[Chance; 2]>,
    not_deterred_chance: Vec<Chance>,
    /// Switching cost of customers won by advertising, and of referred ones (who add the
    /// referral bond), both capped at 1.
    switching_cost_paid: f64,
    switching_cost_referred: f64,
    mixed_mode: bool,
    /// Lifetime values compare spells over their first `lifetime_window` periods, counting only
    /// spells that began early enough to be observed that long (no censoring bias).
    lifetime_window: u32,
    totals: RunTotals,
}

impl<'a> Engine<'a> {
    fn new(config: &'a RunConfig<'a>, world: &'a World, seeds: &'a ReplicationSeeds) -> Self {
        let model = config.model;
        let levers = config.levers;
        let customers = Customers::new(&world.population, &model.relationship);
        let n_customers = customers.len();
        let segments: Vec<SegmentTerms> = model
            .segments
            .iter()
            .map(|s| SegmentTerms {
                value: s.value,
                purchase: Chance::new(s.purchase_probability),
                price_sensitivity: s.price_sensitivity,
                commitment_baseline: s.commitment_baseline,
                defection_intercept: s.defection_intercept,
                targeted: s.value >= levers.target_min_value,
                loyalty_reward: if s.value >= levers.target_min_value {
                    levers.loyalty_reward
                } else {
                    0.0
                },
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
        let mut engine = Self {
            config,
            world,
            seeds,
            customers,
            stakeholders: StakeholderGraph::new(&world.partners),
            supplier_turnover: vec![TurnoverState::default(); world.partners.suppliers.len()],
            distributor_turnover: vec![TurnoverState::default(); world.partners.distributors.len()],
            voices: vec![voice::SILENT; n_customers],
            advocate_neighbours: vec![0; n_customers],
            detractor_neighbours: vec![0; n_customers],
            census: Census::new(segments.len()),
            next_census: Census::new(segments.len()),
            // Every customer may change voice in one period; reserving that once keeps the
            // period loop free of allocation (tests/invariants.rs).
            voice_changes: Vec::with_capacity(n_customers),
            personal_care_quota: vec![0; segments.len()],
            segments,
            care_order,
            area_failure: [Chance::default(); AREAS],
            area_advertising: [0.0; AREAS],
            area_advertising_chance: [[Chance::default(); 2]; AREAS],
            area_channel_margin: std::array::from_fn(|area| {
                if area == DIRECT as usize {
                    0.0
                } else {
                    distributor_margin
                }
            }),
            supplier_policy,
            input_cost_factor,
            distributor_policy,
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
            totals: RunTotals {
                n_initial,
                ..Default::default()
            },
        };
        engine.take_first_census();
        engine
    }

    /// One period in the order of docs/model.md §4.
    fn step(&mut self, period: u32) -> PeriodRecord {
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

        // 3.–7. Customers.
        let n_active_at_start: u32 = self.census.active_in_segment.iter().sum();
        let cash_period = match model.market.cash_flow_timing {
            CashFlowTiming::StartOfPeriod => period - 1,
            CashFlowTiming::EndOfPeriod | CashFlowTiming::AfterRetention => period,
        };
        let context = PeriodContext {
            period,
            rival_campaign,
            adopted_share: n_active_at_start as f64 / self.customers.len().max(1) as f64,
            discount: discount_factor(self.config.discount_rate, cash_period),
        };
        let mut sums = CustomerSums::default();
        let market = &model.market;
        // Blocks of 64 customers: first the block's active customers, then the others, each in
        // index order. Which customers are active looks random to the branch predictor, so
        // testing each one would mispredict about once per active customer; walking the set
        // bits of a status mask costs one misprediction per block and kind instead. Every
        // decision reads start-of-period state, so the order changes no decision (only the
        // summation order of the period's trust and commitment means, in the last bits).
        let n_customers = self.customers.len();
        for block_start in (0..n_customers).step_by(BLOCK) {
            let block_len = BLOCK.min(n_customers - block_start);
            let active = self.customers.active_mask(block_start, block_len);
            for customer_idx in set_bits(active, block_start) {
                self.serve(customer_idx, &context, &mut record, &mut sums);
                self.end_turn(customer_idx, market, period);
            }
            let block_mask = u64::MAX >> (BLOCK - block_len);
            for customer_idx in set_bits(!active & block_mask, block_start) {
                if is_prospect(&self.customers, market, customer_idx, period) {
                    self.court(customer_idx, &context, &mut record, &mut sums);
                }
                self.end_turn(customer_idx, market, period);
            }
        }
        self.advance_census();

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
