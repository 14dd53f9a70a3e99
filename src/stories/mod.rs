//! Customers' stories: a few customers of one replication followed closely (`relsim stories`,
//! the report's "Customers' stories", the dashboard's story panel).
//!
//! A story is a replay, never a second model. The replication runs through the same engine
//! with a [`Trace`] on that keeps every event of a pool of customers (everyone in a market of
//! at most [`STORY_POOL`], every k-th customer in a larger one) and notes what makes each life
//! worth reading; the most telling of each kind are then chosen. The run is the replication
//! itself, period for period (a traced step is the same to the bit as an untraced one), so the
//! same scenario and seed always tell the same stories. [`narrate`] turns a story into plain
//! language.

mod narrate;

pub use narrate::{narrate, narrate_all, period_word};

use crate::engine::{AfterPass, Care, ReplicationSeeds, Run, Trace, TraceEvent, Voice, World};
use crate::error::{Error, Result};
use crate::model::customers::flag;
use crate::model::relationship::Relationship;
use crate::Scenario;
use serde::Serialize;

/// Which customers to follow, in which run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StoryRequest {
    /// The strategy the firm follows, as an index into the scenario's strategies.
    pub strategy_idx: usize,
    /// The replication whose world and draws are replayed.
    pub replication: u64,
    /// How many customers to follow.
    pub customers: usize,
}

/// Why a customer was chosen: the kinds of life a class learns most from, in the order they
/// are picked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StoryKind {
    /// Left after a failure the firm did not recover.
    LeftAfterFailure,
    /// Spoke for the firm and friends joined on their word.
    Advocate,
    /// Left, and was won back later.
    WonBack,
    /// A key account looked after by a manager.
    KeyAccount,
    /// Left while a rival ran a campaign, with nothing gone wrong.
    LostToRival,
    /// Had a failure the firm put right, and stayed.
    Recovered,
    /// Left after the introductory price ended.
    LeftAfterPriceRise,
    /// Put off by friends who spoke against the firm.
    Deterred,
    /// Stayed from start to end.
    Loyal,
}

impl StoryKind {
    /// Every kind, in the order stories are picked.
    pub const ALL: [StoryKind; 9] = [
        StoryKind::LeftAfterFailure,
        StoryKind::Advocate,
        StoryKind::WonBack,
        StoryKind::KeyAccount,
        StoryKind::LostToRival,
        StoryKind::Recovered,
        StoryKind::LeftAfterPriceRise,
        StoryKind::Deterred,
        StoryKind::Loyal,
    ];

    /// A short title for the kind.
    pub fn title(self) -> &'static str {
        match self {
            StoryKind::LeftAfterFailure => "left after an unrecovered failure",
            StoryKind::Advocate => "an advocate who brought friends",
            StoryKind::WonBack => "won back after lapsing",
            StoryKind::KeyAccount => "a key account cared for by a manager",
            StoryKind::LostToRival => "lost to a rival's campaign",
            StoryKind::Recovered => "a failure put right",
            StoryKind::LeftAfterPriceRise => "left after the price rose",
            StoryKind::Deterred => "put off by what friends said",
            StoryKind::Loyal => "loyal from start to end",
        }
    }
}

/// One event of a story.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StoryEvent {
    pub period: u32,
    #[serde(flatten)]
    pub event: TraceEvent,
    /// For a customer won by word of mouth: the neighbours who spoke for the firm when it
    /// joined.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub heard_from: Vec<usize>,
}

/// A friend who joined on this customer's word.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Referral {
    pub period: u32,
    pub friend: usize,
}

/// Where a customer's relationship stood at the end of a period it was a customer in.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PathPoint {
    pub period: u32,
    pub trust: f64,
    pub commitment: f64,
}

/// One customer's life in one replication of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Story {
    pub customer: usize,
    pub kind: StoryKind,
    pub segment: String,
    /// The distributor the customer buys through (1-based), or `None` when it buys direct.
    pub distributor: Option<usize>,
    pub novice: bool,
    /// The customer's neighbours in the social network: whom it talks to.
    pub neighbours: Vec<usize>,
    /// The relationship it brought at the start, if it was already a customer then.
    pub initial: Option<Relationship>,
    pub events: Vec<StoryEvent>,
    pub referrals: Vec<Referral>,
    /// Trust and commitment at the end of each period it was a customer in (period 0: the
    /// start, for customers active then).
    pub path: Vec<PathPoint>,
    /// Whether it was still a customer at the horizon.
    pub active_at_end: bool,
}

/// The stories of one replication of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Stories {
    pub scenario: String,
    pub strategy: String,
    pub replication: u64,
    pub master_seed: u64,
    pub periods: u32,
    /// "month", "quarter", …: what a period is called.
    pub period_word: String,
    pub stories: Vec<Story>,
}

/// The most customers one replay follows in full; stories are chosen among them. A market of
/// at most this many customers is followed whole, a larger one through every k-th customer
/// (k fixed by the market's size), so a story costs one run of the replication whatever the
/// market's size, and memory for this many customers' events.
pub const STORY_POOL: usize = 2048;

/// Follows `request.customers` customers, chosen to be worth reading, through one replication of
/// one strategy of `scenario`.
pub fn tell(scenario: &Scenario, request: StoryRequest) -> Result<Stories> {
    let seeds = ReplicationSeeds::derive(scenario.seed(), request.replication);
    let world = World::generate(scenario.model(), &seeds);
    tell_on(scenario, &world, request)
}

/// [`tell`] on `world`, which must be the replication's world (as
/// [`crate::experiment::simulate_replication_on`] requires).
pub fn tell_on(scenario: &Scenario, world: &World, request: StoryRequest) -> Result<Stories> {
    let strategy = scenario
        .strategies()
        .get(request.strategy_idx)
        .ok_or_else(|| Error::InvalidOption {
            option: "--strategy".into(),
            message: format!(
                "there is no strategy {} (the scenario has {})",
                request.strategy_idx + 1,
                scenario.strategies().len()
            ),
        })?;
    let seeds = ReplicationSeeds::derive(scenario.seed(), request.replication);
    let config = scenario.run_config(request.strategy_idx);
    let mut pool = Pool::new(world, scenario);
    let mut run = Run::new(&config, world, &seeds);
    for member in &mut pool.members {
        let state = run.customer(member.story.customer);
        if state.flags & flag::ACTIVE != 0 {
            let initial = Relationship {
                trust: state.trust as f64,
                reciprocity: state.reciprocity as f64,
                commitment: state.commitment as f64,
            };
            member.story.initial = Some(initial);
            member.story.path.push(PathPoint {
                period: 0,
                trust: initial.trust,
                commitment: initial.commitment,
            });
        }
    }
    while run.step_traced(&mut pool).is_some() {}
    for member in &mut pool.members {
        member.story.active_at_end = run.customer(member.story.customer).flags & flag::ACTIVE != 0;
    }
    let chosen = pool.choose(request.customers);
    let mut members: Vec<Option<Member>> = pool.members.into_iter().map(Some).collect();
    let stories = chosen
        .into_iter()
        .filter_map(|(member_idx, kind)| {
            members[member_idx].take().map(|member| Story {
                kind,
                ..member.story
            })
        })
        .collect();
    Ok(Stories {
        scenario: scenario.name().to_string(),
        strategy: strategy.name.clone(),
        replication: request.replication,
        master_seed: scenario.seed(),
        periods: scenario.periods(),
        period_word: period_word(scenario.periods_per_year()).to_string(),
        stories,
    })
}

/// What makes one customer's life worth reading.
#[derive(Debug, Clone, Copy, Default)]
struct Notes {
    left_after_failure: bool,
    won_back: bool,
    lost_to_rival: bool,
    recovered_and_stayed: bool,
    left_after_price_rise: bool,
    deterred: bool,
    personal_care_periods: u32,
    episodes: u32,
    friends_brought: u32,
    left: bool,
    /// The commitment before its first unrecovered failure: a strong bond broken tells more.
    bond_at_failure: f32,
}

/// A customer of the pool: its story so far and the notes that say what kind it is.
struct Member {
    story: Story,
    notes: Notes,
}

/// Follows the pool's customers (every `stride`-th), keeping their events and notes.
struct Pool<'w> {
    world: &'w World,
    stride: usize,
    members: Vec<Member>,
    /// This period's events of members who joined by word of mouth, waiting for whom they heard.
    awaiting_voices: Vec<(usize, usize)>,
}

impl<'w> Pool<'w> {
    fn new(world: &'w World, scenario: &Scenario) -> Self {
        let population = &world.population;
        let n_customers = population.len();
        let stride = n_customers.div_ceil(STORY_POOL).max(1);
        let members = (0..n_customers)
            .step_by(stride)
            .map(|customer| {
                let distributor = population.distributor[customer];
                Member {
                    story: Story {
                        customer,
                        kind: StoryKind::Loyal,
                        segment: scenario.model().segments[population.segment[customer] as usize]
                            .name
                            .clone(),
                        distributor: (distributor != crate::model::customers::DIRECT)
                            .then_some(distributor as usize + 1),
                        novice: population.novice[customer],
                        neighbours: world
                            .network
                            .neighbours(customer)
                            .iter()
                            .map(|&n| n as usize)
                            .collect(),
                        initial: None,
                        events: Vec::new(),
                        referrals: Vec::new(),
                        path: Vec::new(),
                        active_at_end: false,
                    },
                    notes: Notes::default(),
                }
            })
            .collect();
        Self {
            world,
            stride,
            members,
            awaiting_voices: Vec::new(),
        }
    }

    /// Up to `wanted` members: one of each kind in [`StoryKind::ALL`]'s order, the most
    /// telling of each (ties to the lowest customer index), then round again while any are
    /// left.
    fn choose(&self, wanted: usize) -> Vec<(usize, StoryKind)> {
        let mut chosen: Vec<(usize, StoryKind)> = Vec::new();
        let mut progress = true;
        while chosen.len() < wanted && progress {
            progress = false;
            for kind in StoryKind::ALL {
                if chosen.len() == wanted {
                    break;
                }
                let best = (0..self.members.len())
                    .filter(|idx| !chosen.iter().any(|(c, _)| c == idx))
                    .filter_map(|idx| {
                        score(&self.members[idx].notes, kind).map(|score| (score, idx))
                    })
                    .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
                if let Some((_, idx)) = best {
                    chosen.push((idx, kind));
                    progress = true;
                }
            }
        }
        chosen
    }
}

/// How telling a life with these `notes` is as a story of `kind`; `None` if it is not one.
fn score(notes: &Notes, kind: StoryKind) -> Option<f64> {
    let episodes = notes.episodes as f64;
    match kind {
        StoryKind::LeftAfterFailure => notes
            .left_after_failure
            .then_some(notes.bond_at_failure as f64 + episodes / 1000.0),
        StoryKind::Advocate => (notes.friends_brought > 0).then_some(notes.friends_brought as f64),
        StoryKind::WonBack => notes.won_back.then_some(episodes),
        StoryKind::KeyAccount => {
            (notes.personal_care_periods > 0).then_some(notes.personal_care_periods as f64)
        }
        StoryKind::LostToRival => notes.lost_to_rival.then_some(episodes),
        StoryKind::Recovered => notes.recovered_and_stayed.then_some(episodes),
        StoryKind::LeftAfterPriceRise => notes.left_after_price_rise.then_some(episodes),
        StoryKind::Deterred => notes.deterred.then_some(0.0),
        StoryKind::Loyal => (!notes.left && notes.episodes > 0).then_some(episodes),
    }
}

impl Notes {
    /// Notes what `event` says about the customer's life.
    fn note(&mut self, event: &TraceEvent) {
        match event {
            TraceEvent::Episode(episode) => {
                self.episodes += 1;
                if episode.care == Care::Personal {
                    self.personal_care_periods += 1;
                }
                let unrecovered = episode.failed && !episode.recovered;
                if episode.left {
                    self.left = true;
                    if unrecovered {
                        if !self.left_after_failure {
                            self.bond_at_failure = episode.before.commitment as f32;
                        }
                        self.left_after_failure = true;
                    } else if episode.rival_campaign && !episode.failed {
                        self.lost_to_rival = true;
                    }
                    if episode.price_rise {
                        self.left_after_price_rise = true;
                    }
                }
                if episode.recovered && !episode.left {
                    self.recovered_and_stayed = true;
                }
            }
            TraceEvent::Acquired { won_back, .. } => self.won_back |= won_back,
            TraceEvent::Deterred { .. } => self.deterred = true,
            TraceEvent::Speaks { .. } => {}
        }
    }
}

impl Trace for Pool<'_> {
    const FOLLOWS: bool = true;

    fn follows(&self, customer_idx: usize) -> bool {
        customer_idx.is_multiple_of(self.stride)
    }

    fn record(&mut self, period: u32, customer_idx: usize, event: TraceEvent) {
        let member_idx = customer_idx / self.stride;
        let member = &mut self.members[member_idx];
        member.notes.note(&event);
        let story = &mut member.story;
        match event {
            TraceEvent::Episode(episode) if !episode.left => story.path.push(PathPoint {
                period,
                trust: episode.after.trust,
                commitment: episode.after.commitment,
            }),
            TraceEvent::Acquired {
                referred, start, ..
            } => {
                if referred {
                    self.awaiting_voices.push((member_idx, story.events.len()));
                }
                story.path.push(PathPoint {
                    period,
                    trust: start.trust,
                    commitment: start.commitment,
                });
            }
            _ => {}
        }
        story.events.push(StoryEvent {
            period,
            event,
            heard_from: Vec::new(),
        });
    }

    fn pass_over(&mut self, period: u32, market: &AfterPass) {
        let network = &self.world.network;
        for (member_idx, event_idx) in self.awaiting_voices.drain(..) {
            let story = &mut self.members[member_idx].story;
            story.events[event_idx].heard_from = network
                .neighbours(story.customer)
                .iter()
                .map(|&n| n as usize)
                .filter(|&n| market.voice_at_start(n) == Voice::Advocate)
                .collect();
        }
        // Friends who joined this period on the word of a member who spoke for the firm.
        for member in &mut self.members {
            let customer = member.story.customer;
            if market.voice_at_start(customer) != Voice::Advocate {
                continue;
            }
            for &neighbour in network.neighbours(customer) {
                let friend = neighbour as usize;
                if market.joined_by_referral(friend) {
                    member.notes.friends_brought += 1;
                    member.story.referrals.push(Referral { period, friend });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, presets, Override};

    #[test]
    fn a_large_market_is_followed_through_every_kth_customer_and_no_more_than_the_pool() {
        for (population, stride) in [(2000usize, 1), (2048, 1), (2049, 2), (20_000, 10)] {
            let overrides = [Override::parse(&format!("market.population={population}")).unwrap()];
            let scenario = parse(
                presets::find("default").unwrap().text,
                "default",
                &overrides,
            )
            .unwrap();
            let seeds = ReplicationSeeds::derive(scenario.seed(), 0);
            let world = World::generate(scenario.model(), &seeds);
            let pool = Pool::new(&world, &scenario);
            assert_eq!(pool.stride, stride, "{population}");
            assert!(pool.members.len() <= STORY_POOL);
            assert_eq!(pool.members.len(), population.div_ceil(stride));
            for (member_idx, member) in pool.members.iter().enumerate() {
                assert_eq!(member.story.customer, member_idx * stride);
                assert!(pool.follows(member.story.customer));
            }
        }
    }
}
