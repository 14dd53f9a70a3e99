//! One replication of one strategy: state, the period step, and the records it returns
//! (docs/model.md §4 gives the order of a period).
//!
//! **The engine does no IO and knows nothing of threads.** It takes the model, the levers, a
//! pre-built [`World`] and the replication's seeds, and returns a [`RunOutput`]. Every decision
//! reads the state at the start of the period (word of mouth reads a snapshot), so results do not
//! depend on the order in which customers are visited.

pub mod records;

use crate::model::customer::{
    advertising_reach, defection_index, failure_probability, mixed_adoption_probability,
    not_deterred, share_of_wallet, word_of_mouth_reach, DefectionDrivers,
};
use crate::model::customers::{flag, Customers, Population, DIRECT};
use crate::model::economics::discount_factor;
use crate::model::math::below_logistic;
use crate::model::network::SocialNetwork;
use crate::model::params::{
    CashFlowTiming, MarketParams, ModelParams, NetworkParams, PartnerPolicy,
};
use crate::model::partners::{channel_quality, delivery_probability, distributor_effort};
use crate::model::relationship::{Episode, Relationship};
use crate::model::rng::{derive_seed, mix64, Chance, CounterDraws, Stream, Xoshiro256PlusPlus};
use crate::model::stakeholders::StakeholderGraph;
use crate::strategy::{DistributorPolicy, Levers, SupplierPolicy};
pub use records::{PeriodRecord, RunMetrics};

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

/// The seeds of one replication's streams, derived from the master seed alone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReplicationSeeds {
    /// The replication's own seed, reported in `runs.csv`.
    pub replication: u64,
    pub market: u64,
    pub suppliers: u64,
    pub agents: u64,
    pub network: u64,
    pub population: u64,
}

impl ReplicationSeeds {
    /// The seeds of replication `replication_idx` under `master_seed` (docs/model.md §1).
    pub fn derive(master_seed: u64, replication_idx: u64) -> Self {
        let replication = mix64(master_seed ^ mix64(replication_idx));
        Self {
            replication,
            market: derive_seed(master_seed, replication_idx, Stream::Market),
            suppliers: derive_seed(master_seed, replication_idx, Stream::Suppliers),
            agents: derive_seed(master_seed, replication_idx, Stream::Agents),
            network: derive_seed(master_seed, replication_idx, Stream::Network),
            population: derive_seed(master_seed, replication_idx, Stream::Population),
        }
    }
}

/// What every strategy of one replication shares: the customers' fixed attributes and their
/// social network.
#[derive(Debug, Clone)]
pub struct World {
    pub population: Population,
    pub network: SocialNetwork,
}

impl World {
    /// Draws the population and the network from the replication's own streams.
    pub fn generate(model: &ModelParams, seeds: &ReplicationSeeds) -> Self {
        let mut population_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.population);
        let mut network_rng = Xoshiro256PlusPlus::seed_from_u64(seeds.network);
        Self {
            population: Population::generate(model, &mut population_rng),
            network: SocialNetwork::generate(
                &model.network,
                model.market.population,
                &mut network_rng,
            ),
        }
    }
}

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
}

/// Simulates one strategy on one replication's world.
pub fn simulate(config: &RunConfig, world: &World, seeds: &ReplicationSeeds) -> RunOutput {
    let mut run = Run::new(config, world, seeds);
    let mut periods = Vec::with_capacity(config.periods as usize);
    while let Some(record) = run.step() {
        periods.push(record);
    }
    let metrics = run.finish(&periods);
    RunOutput { periods, metrics }
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

/// Segment terms the hot loop reads, precomputed once per run.
#[derive(Debug, Clone, Copy)]
struct SegmentTerms {
    value: f64,
    purchase: Chance,
    price_sensitivity: f64,
    commitment_baseline: f64,
    /// Whether targeted levers (care, recovery, loyalty) reach this segment.
    targeted: bool,
    /// The loyalty reward's share of revenue for this segment: 0 for non-members.
    loyalty_reward: f64,
}

impl SegmentTerms {
    /// Whether this segment's customers are in a loyalty programme.
    #[inline(always)]
    fn loyalty_member(&self) -> bool {
        self.loyalty_reward > 0.0
    }
}

/// Terms that are fixed within a period.
#[derive(Debug, Clone, Copy)]
struct PeriodContext {
    period: u32,
    rival_campaign: bool,
    /// `F`: active share of the population at the start of the period (mixed mode).
    adopted_share: f64,
    /// Discount factor of this period's cash flows.
    discount: f64,
}

/// Running totals a run needs beyond its period records.
#[derive(Debug, Clone, Copy, Default)]
struct RunTotals {
    n_initial: u64,
    acquired: u64,
    referred: u64,
    /// Periods of completed spells plus censored ones (added at the end), and their squares.
    tenure_periods: u64,
    tenure_periods_squared: u64,
    spells: u64,
    /// Lifetime value (discounted to acquisition) summed over referred and over paid spells.
    referred_value: f64,
    referred_spells: u64,
    paid_value: f64,
    paid_spells: u64,
    /// Unrecovered failures suffered with commitment ≥ 0.7, and exits right after them.
    strong_bond_failures: u64,
    strong_bond_failure_exits: u64,
    /// Unrecovered failures in a customer's first episode, and exits right after them.
    failed_first_episodes: u64,
    failed_first_exits: u64,
    npv: f64,
    /// Discounted margin after serving costs, before acquisition costs (for CLV).
    discounted_customer_margin: f64,
    customer_periods_at_risk: u64,
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
            stakeholders: StakeholderGraph::new(model),
            voices: vec![voice::SILENT; n_customers],
            advocate_neighbours: vec![0; n_customers],
            detractor_neighbours: vec![0; n_customers],
            census: Census::new(segments.len()),
            next_census: Census::new(segments.len()),
            // A few percent of voices change in a period; the buffer grows in the rare one that
            // needs more and then keeps its capacity.
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

    /// The snapshot at the start of period 1, from the initial state.
    fn take_first_census(&mut self) {
        let market = &self.config.model.market;
        for customer_idx in 0..self.customers.len() {
            let speaks = observe(&self.customers, market, customer_idx, 1, &mut self.census);
            if speaks != voice::SILENT {
                self.voices[customer_idx] = speaks;
                self.tell_neighbours(customer_idx, voice::SILENT, speaks);
            }
        }
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
        let fill_rate = self.supply_round(period, shortage);
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
        self.channel_round(spend_per_prospect, fill_rate);
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
        record.profit =
            customer_margin - record.acquisition_cost - record.referral_cost - record.fixed_cost;
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

    /// Deliveries (docs/model.md §5), then each supplier's relationship update. Returns the fill
    /// rate: the share of suppliers that delivered.
    fn supply_round(&mut self, period: u32, shortage: bool) -> f64 {
        let suppliers = &self.config.model.suppliers;
        let n_suppliers = self.stakeholders.n_suppliers();
        if n_suppliers == 0 {
            return 1.0;
        }
        let episode = partner_episode(self.supplier_policy);
        let mut delivered = 0u32;
        for k in 0..n_suppliers {
            let relationship = self.stakeholders.supplier(k);
            let p = delivery_probability(
                suppliers.normal_delivery,
                suppliers.shortage_delivery,
                relationship.commitment,
                shortage,
            );
            if CounterDraws::new(self.seeds.suppliers, period, k as u32).uniform(0) < p {
                delivered += 1;
            }
            let updated = relationship.after_episode(&episode, &self.config.model.relationship);
            self.stakeholders.set_supplier(k, updated);
        }
        delivered as f64 / n_suppliers as f64
    }

    /// Distributors' effort and channel quality from start-of-period commitment (docs/model.md
    /// §6), hence each area's failure probability (§4.3) and advertising reach, then each
    /// distributor's relationship update.
    fn channel_round(&mut self, spend_per_prospect: f64, fill_rate: f64) {
        let market = &self.config.model.market;
        let failure = |quality: f64| {
            failure_probability(
                market.base_failure,
                fill_rate,
                market.stockout_impact,
                quality,
            )
        };
        let reach = |effort: f64| {
            advertising_reach(
                market.advertising_max_reach,
                spend_per_prospect,
                market.advertising_half_spend,
                effort,
            )
        };
        let burned_factor = market.failed_first_winback_factor;
        let mut set_area = |area: usize, effort: f64| {
            let advertising = reach(effort);
            self.area_failure[area] = Chance::new(failure(channel_quality(effort)));
            self.area_advertising[area] = advertising;
            self.area_advertising_chance[area] = [
                Chance::new(advertising),
                Chance::new(advertising * burned_factor),
            ];
        };
        // The firm's own channel: full effort, hence full quality.
        set_area(DIRECT as usize, 1.0);
        let episode = partner_episode(self.distributor_policy);
        for k in 0..self.stakeholders.n_distributors() {
            let relationship = self.stakeholders.distributor(k);
            set_area(k, distributor_effort(relationship.commitment));
            let updated = relationship.after_episode(&episode, &self.config.model.relationship);
            self.stakeholders.set_distributor(k, updated);
        }
    }

    /// A customer's turn in `period` is over: its state is the next period's snapshot, and a
    /// changed voice is queued for [`Self::advance_census`].
    #[inline(always)]
    fn end_turn(&mut self, customer_idx: usize, market: &MarketParams, period: u32) {
        let speaks = observe(
            &self.customers,
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
    fn advance_census(&mut self) {
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

    /// Managers go to the most valuable targeted segments first, up to their capacity
    /// (docs/model.md §7); within a segment, to customers in index order.
    fn assign_personal_care(&mut self) {
        let levers = self.config.levers;
        let mut slots = levers.personal_care_managers as u64 * levers.manager_capacity as u64;
        self.personal_care_quota.fill(0);
        for &segment_idx in &self.care_order {
            if !self.segments[segment_idx].targeted {
                continue;
            }
            let quota = slots.min(self.census.active_in_segment[segment_idx] as u64);
            self.personal_care_quota[segment_idx] = quota as u32;
            slots -= quota;
        }
    }

    /// Steps 3–6 of docs/model.md §4 for an active customer: service episode, relationship
    /// update, purchase, defection.
    #[inline(always)]
    fn serve(
        &mut self,
        customer_idx: usize,
        context: &PeriodContext,
        record: &mut PeriodRecord,
        sums: &mut CustomerSums,
    ) {
        let model = self.config.model;
        let levers = self.config.levers;
        let episode_params = &model.episode;
        let customers = &mut self.customers;
        let flags = customers.flags[customer_idx];
        let segment_idx = customers.segment[customer_idx] as usize;
        let segment = self.segments[segment_idx];
        let area = customers.distributor[customer_idx] as usize;
        let draws = CounterDraws::new(self.seeds.agents, context.period, customer_idx as u32);

        // Care: personal while managers have room, automated beyond if the strategy says so.
        // Personal care is paid per manager; automated care per customer.
        let (care_level, variable_care_cost) = if self.personal_care_quota[segment_idx] > 0 {
            self.personal_care_quota[segment_idx] -= 1;
            record.personal_care_customers += 1.0;
            (1.0, 0.0)
        } else if levers.automated_care && segment.targeted {
            record.automated_care_customers += 1.0;
            (levers.automated_care_effect, levers.automated_care_cost)
        } else {
            (0.0, 0.0)
        };

        // 3. Service episode.
        let failed = draws.happens(slot::FAILURE, self.area_failure[area])
            && draws.uniform(slot::PREVENTION) >= levers.care_prevention * care_level;
        let recovered =
            failed && segment.targeted && draws.uniform(slot::RECOVERY) < levers.recovery_rate;
        let unrecovered = failed && !recovered;
        let disconfirmation = if !failed {
            episode_params.success + episode_params.care_bonus * care_level
        } else if recovered {
            episode_params.recovered
        } else {
            episode_params.unrecovered
        };
        if failed {
            record.failures += 1.0;
        }
        if recovered {
            record.failures_recovered += 1.0;
            record.recovery_cost += levers.recovery_cost;
        }

        // 4. Relationship update.
        let tenure = context.period - customers.since[customer_idx] as u32;
        let on_intro_terms = flags & flag::INITIAL == 0 && levers.intro_discount > 0.0;
        let opportunism = if on_intro_terms && tenure == levers.intro_periods {
            levers.price_rise_opportunism
        } else {
            0.0
        };
        let loyalty = |value: f64| if segment.loyalty_member() { value } else { 0.0 };
        let favour = levers.care_favour * care_level
            + if recovered {
                episode_params.recovery_favour
            } else {
                0.0
            }
            + loyalty(levers.loyalty_favour);
        let benefits =
            (levers.care_benefits * care_level + loyalty(levers.loyalty_benefits)).min(1.0);
        let before = Relationship {
            trust: customers.trust[customer_idx] as f64,
            reciprocity: customers.reciprocity[customer_idx] as f64,
            commitment: customers.commitment[customer_idx] as f64,
        };
        let after = before.after_episode(
            &Episode {
                disconfirmation,
                favour,
                opportunism,
                benefits,
                switching_cost: if flags & flag::REFERRED != 0 {
                    self.switching_cost_referred
                } else {
                    self.switching_cost_paid
                },
                commitment_baseline: segment.commitment_baseline,
            },
            &model.relationship,
        );
        customers.trust[customer_idx] = after.trust as f32;
        customers.reciprocity[customer_idx] = after.reciprocity as f32;
        customers.commitment[customer_idx] = after.commitment as f32;
        let mut new_flags = flags | flag::HAD_EPISODE;
        if flags & flag::HAD_EPISODE == 0 && unrecovered {
            new_flags |= flag::FAILED_FIRST;
        }

        // 5.–6. Purchase and defection; under `after_retention` only a retained customer buys.
        let price = if on_intro_terms && tenure < levers.intro_periods {
            levers.price_level * (1.0 - levers.intro_discount)
        } else {
            levers.price_level
        };
        let novice = flags & flag::NOVICE != 0;
        let defection_index = defection_index(
            &model.defection,
            &DefectionDrivers {
                commitment: after.commitment,
                trust: after.trust,
                trust_multiplier: if novice {
                    model.defection.novice_trust_multiplier
                } else {
                    1.0
                },
                unrecovered_failure: unrecovered,
                price_sensitivity: segment.price_sensitivity,
                price,
                rival_campaign: context.rival_campaign,
            },
        );
        let leaves = below_logistic(draws.uniform(slot::DEFECTION), defection_index);
        let buys = draws.happens(slot::PURCHASE, segment.purchase)
            && !(leaves && model.market.cash_flow_timing == CashFlowTiming::AfterRetention);
        // Margin after the serving costs this customer causes (for lifetime value).
        let mut margin = -(variable_care_cost + if recovered { levers.recovery_cost } else { 0.0 });
        // Whether a customer buys is a coin toss to the branch predictor, so a customer who
        // does not buy computes the same sums with zero spend instead of branching.
        let spend = f64::from(u8::from(buys))
            * segment.value
            * share_of_wallet(model.market.base_share_of_wallet, after.commitment);
        let revenue = spend * price;
        let cogs = model.market.cogs_share * spend * self.input_cost_factor;
        let channel_margin = revenue * self.area_channel_margin[area];
        let reward = revenue * segment.loyalty_reward;
        record.revenue += revenue;
        record.cogs += cogs;
        record.distributor_margin += channel_margin;
        record.loyalty_cost += reward;
        margin += revenue - cogs - channel_margin - reward;
        if tenure <= self.lifetime_window {
            customers.spell_margin[customer_idx] += (margin * context.discount) as f32;
        }

        // Stylized-fact counters (docs/model.md §11).
        if unrecovered && before.commitment >= 0.7 {
            self.totals.strong_bond_failures += 1;
            self.totals.strong_bond_failure_exits += u64::from(leaves);
        }
        if unrecovered && flags & flag::HAD_EPISODE == 0 {
            self.totals.failed_first_episodes += 1;
            self.totals.failed_first_exits += u64::from(leaves);
        }

        self.customers.flags[customer_idx] = new_flags;
        if leaves {
            self.depart(customer_idx, context.period, unrecovered);
            record.defections += 1.0;
        } else {
            sums.add_active(after, new_flags & flag::INITIAL != 0);
        }
    }

    /// A customer leaves at the end of `period`, a detractor for a while if it left over an
    /// unrecovered failure.
    #[cold]
    #[inline(never)]
    fn depart(&mut self, customer_idx: usize, period: u32, unrecovered: bool) {
        self.close_spell(customer_idx, period);
        let customers = &mut self.customers;
        let flags = customers.flags[customer_idx];
        customers.flags[customer_idx] =
            (flags & !(flag::ACTIVE | flag::INITIAL | flag::REFERRED)) | flag::LAPSED;
        customers.since[customer_idx] = period as u16;
        if unrecovered {
            let detractor_periods = self.config.model.market.detractor_periods;
            customers.detractor_until[customer_idx] =
                (period + detractor_periods).min(u16::MAX as u32) as u16;
        }
    }

    /// Ends a customer's spell at `period`: its tenure and lifetime value join the totals.
    fn close_spell(&mut self, customer_idx: usize, period: u32) {
        let since = self.customers.since[customer_idx] as u32;
        let tenure = (period - since) as u64;
        let totals = &mut self.totals;
        totals.spells += 1;
        totals.tenure_periods += tenure;
        totals.tenure_periods_squared += tenure * tenure;
        let flags = self.customers.flags[customer_idx];
        let window_observed = since + self.lifetime_window <= self.config.periods;
        if flags & flag::INITIAL == 0 && window_observed {
            // Discounted to period 0 while accumulating; bring it back to the acquisition period.
            let value = self.customers.spell_margin[customer_idx] as f64
                / discount_factor(self.config.discount_rate, since);
            if flags & flag::REFERRED != 0 {
                totals.referred_value += value;
                totals.referred_spells += 1;
            } else {
                totals.paid_value += value;
                totals.paid_spells += 1;
            }
        }
    }

    /// Step 7 of docs/model.md §4 for a prospect: advertising and word of mouth.
    #[inline(always)]
    fn court(
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
    fn acquire(
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
        let trust = relationship.initial_trust
            + if referred {
                relationship.referred_trust_bonus
            } else {
                0.0
            };
        let start = Relationship {
            trust: trust.min(1.0),
            reciprocity: 0.0,
            commitment: relationship.initial_commitment,
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

    /// Moves a customer's voice from `previous` to `now` in its neighbours' counts.
    fn tell_neighbours(&mut self, customer_idx: usize, previous: u8, now: u8) {
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

    /// Per-run metrics once the horizon is reached (docs/model.md §9).
    fn finish(&mut self, periods: &[PeriodRecord]) -> RunMetrics {
        let horizon = self.config.periods;
        for customer_idx in 0..self.customers.len() {
            if self.customers.flags[customer_idx] & flag::ACTIVE != 0 {
                self.close_spell(customer_idx, horizon);
            }
        }
        let totals = &self.totals;
        let sum = |f: fn(&PeriodRecord) -> f64| periods.iter().map(f).sum::<f64>();
        let defections = sum(|r| r.defections);
        let acquisition_spend = sum(|r| r.acquisition_cost + r.referral_cost);
        let ratio = |numerator: f64, denominator: f64| {
            if denominator > 0.0 {
                numerator / denominator
            } else {
                f64::NAN
            }
        };
        let last = periods.last().copied().unwrap_or_default();
        let mean_tenure = ratio(totals.tenure_periods as f64, totals.spells as f64);
        RunMetrics {
            npv: totals.npv,
            clv: ratio(
                totals.discounted_customer_margin,
                (totals.n_initial + totals.acquired) as f64,
            ),
            cac: ratio(acquisition_spend, totals.acquired as f64),
            retention: 1.0 - ratio(defections, totals.customer_periods_at_risk as f64),
            final_active: last.active,
            mean_tenure,
            tenure_variance: ratio(
                totals.tenure_periods_squared as f64
                    - totals.spells as f64 * mean_tenure * mean_tenure,
                totals.spells as f64 - 1.0,
            ),
            acquired: totals.acquired as f64,
            referred_share: ratio(totals.referred as f64, totals.acquired as f64),
            customer_trust: last.customer_trust,
            customer_commitment: last.customer_commitment,
            supplier_trust: last.supplier_trust,
            supplier_commitment: last.supplier_commitment,
            distributor_trust: last.distributor_trust,
            distributor_commitment: last.distributor_commitment,
            revenue: sum(|r| r.revenue),
            profit: sum(|r| r.profit),
            referred_clv: ratio(totals.referred_value, totals.referred_spells as f64),
            paid_clv: ratio(totals.paid_value, totals.paid_spells as f64),
            strong_bond_failure_exit: ratio(
                totals.strong_bond_failure_exits as f64,
                totals.strong_bond_failures as f64,
            ),
            failed_first_exit: ratio(
                totals.failed_first_exits as f64,
                totals.failed_first_episodes as f64,
            ),
        }
    }
}

/// What the snapshot at the start of a period counts (docs/model.md §4).
#[derive(Debug, Clone)]
struct Census {
    active_in_segment: Vec<u32>,
    prospects: u32,
    advocates: u32,
    detractors: u32,
}

impl Census {
    fn new(n_segments: usize) -> Self {
        Self {
            active_in_segment: vec![0; n_segments],
            prospects: 0,
            advocates: 0,
            detractors: 0,
        }
    }

    fn reset(&mut self) {
        self.active_in_segment.fill(0);
        self.prospects = 0;
        self.advocates = 0;
        self.detractors = 0;
    }
}

/// Customers per block of the main pass: the bits of a `u64` status mask.
const BLOCK: usize = 64;

/// The indices `base + j` for every set bit `j` of `mask`, in increasing order.
#[inline(always)]
fn set_bits(mut mask: u64, base: usize) -> impl Iterator<Item = usize> {
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
fn is_prospect(
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
fn observe(
    customers: &Customers,
    market: &MarketParams,
    customer_idx: usize,
    period: u32,
    census: &mut Census,
) -> u8 {
    let flags = customers.flags[customer_idx];
    if flags & flag::ACTIVE != 0 {
        census.active_in_segment[customers.segment[customer_idx] as usize] += 1;
        if customers.trust[customer_idx] >= market.advocate_trust as f32 {
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

/// A partner's view of one period's dealings under a policy (docs/model.md §5, §6).
fn partner_episode(policy: &PartnerPolicy) -> Episode {
    Episode {
        disconfirmation: policy.episode,
        favour: policy.favour,
        opportunism: policy.opportunism,
        benefits: policy.benefits,
        switching_cost: policy.switching_cost,
        commitment_baseline: policy.commitment_baseline,
    }
}

/// Sums over the customers active at the end of a period.
#[derive(Debug, Default)]
struct CustomerSums {
    active: u32,
    initial_active: u32,
    trust: f64,
    reciprocity: f64,
    commitment: f64,
}

impl CustomerSums {
    #[inline(always)]
    fn add_active(&mut self, relationship: Relationship, initial: bool) {
        self.active += 1;
        self.initial_active += u32::from(initial);
        self.trust += relationship.trust;
        self.reciprocity += relationship.reciprocity;
        self.commitment += relationship.commitment;
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
            for strategy in scenario.strategies() {
                let config = RunConfig {
                    model: scenario.model(),
                    levers: &strategy.levers,
                    periods: 24,
                    discount_rate: scenario.discount_rate(),
                };
                let mut engine = Engine::new(&config, &world, &seeds);
                for period in 1..=24 {
                    engine.step(period);
                    let mut recount = Census::new(scenario.model().segments.len());
                    let voices: Vec<u8> = (0..engine.customers.len())
                        .map(|idx| {
                            observe(
                                &engine.customers,
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
