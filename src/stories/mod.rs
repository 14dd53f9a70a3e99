//! Customers' stories: a few customers of one replication followed closely (`relsim stories`,
//! the report's "Customers' stories", the dashboard's story panel).
//!
//! A story is a replay, never a second model. The replication runs twice through the same
//! engine with a [`Trace`] on: first one that notes, for every customer, what makes a life worth
//! reading ([`Triage`]), then, after the customers are chosen, one that keeps every event of
//! theirs ([`Follow`]). Both runs are the replication itself, period for period (the traced
//! step is the same to the bit as an untraced one), so the same scenario and seed always tell
//! the same stories. [`narrate`] turns a story into plain language.

mod narrate;

pub use narrate::{narrate, narrate_all, period_word};

use crate::engine::{ReplicationSeeds, Run, Trace, TraceEvent, Voice, Voices, World};
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
    /// How many neighbours the customer has in the social network.
    pub neighbours: usize,
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

/// Follows `request.customers` customers, chosen to be worth reading, through one replication of
/// one strategy of `scenario`.
pub fn tell(scenario: &Scenario, request: StoryRequest) -> Result<Stories> {
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
    let world = World::generate(scenario.model(), &seeds);
    let config = scenario.run_config(request.strategy_idx);
    let n_customers = world.population.len();

    let mut triage = Triage::new(&world);
    let mut run = Run::new(&config, &world, &seeds);
    while run.step_traced(&mut triage).is_some() {}
    let chosen = triage.choose(request.customers);

    let mut follow = Follow::new(&world, scenario, &chosen, &triage.referrals);
    let mut run = Run::new(&config, &world, &seeds);
    for story in &mut follow.stories {
        let state = run.customer(story.customer);
        if state.flags & flag::ACTIVE != 0 {
            let initial = Relationship {
                trust: state.trust as f64,
                reciprocity: state.reciprocity as f64,
                commitment: state.commitment as f64,
            };
            story.initial = Some(initial);
            story.path.push(PathPoint {
                period: 0,
                trust: initial.trust,
                commitment: initial.commitment,
            });
        }
    }
    while run.step_traced(&mut follow).is_some() {}
    for story in &mut follow.stories {
        story.active_at_end = run.customer(story.customer).flags & flag::ACTIVE != 0;
    }
    debug_assert!(follow.stories.iter().all(|s| s.customer < n_customers));
    Ok(Stories {
        scenario: scenario.name().to_string(),
        strategy: strategy.name.clone(),
        replication: request.replication,
        master_seed: scenario.seed(),
        periods: scenario.periods(),
        period_word: period_word(scenario.periods_per_year()).to_string(),
        stories: follow.stories,
    })
}

/// What makes one customer's life worth reading, noted for every customer.
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

/// Follows every customer and keeps a few notes on each, and every referral.
struct Triage<'w> {
    world: &'w World,
    notes: Vec<Notes>,
    /// Customers who joined by word of mouth in the period being run.
    referred_this_period: Vec<usize>,
    /// Who brought whom, in order: `(period, advocate, friend)`.
    referrals: Vec<(u32, usize, usize)>,
}

impl<'w> Triage<'w> {
    fn new(world: &'w World) -> Self {
        Self {
            world,
            notes: vec![Notes::default(); world.population.len()],
            referred_this_period: Vec::new(),
            referrals: Vec::new(),
        }
    }

    /// Up to `wanted` customers: one of each kind in [`StoryKind::ALL`]'s order, the most
    /// telling of each (ties to the lowest index), then round again while any are left.
    fn choose(&self, wanted: usize) -> Vec<(usize, StoryKind)> {
        let mut chosen: Vec<(usize, StoryKind)> = Vec::new();
        let mut progress = true;
        while chosen.len() < wanted && progress {
            progress = false;
            for kind in StoryKind::ALL {
                if chosen.len() == wanted {
                    break;
                }
                let best = (0..self.notes.len())
                    .filter(|idx| !chosen.iter().any(|(c, _)| c == idx))
                    .filter_map(|idx| self.score(idx, kind).map(|score| (score, idx)))
                    .max_by(|a, b| a.0.total_cmp(&b.0).then(b.1.cmp(&a.1)));
                if let Some((_, idx)) = best {
                    chosen.push((idx, kind));
                    progress = true;
                }
            }
        }
        chosen
    }

    /// How telling customer `idx`'s life is as a story of `kind`; `None` if it is not one.
    fn score(&self, idx: usize, kind: StoryKind) -> Option<f64> {
        let notes = &self.notes[idx];
        let episodes = notes.episodes as f64;
        match kind {
            StoryKind::LeftAfterFailure => notes
                .left_after_failure
                .then_some(notes.bond_at_failure as f64 + episodes / 1000.0),
            StoryKind::Advocate => {
                (notes.friends_brought > 0).then_some(notes.friends_brought as f64)
            }
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
}

impl Trace for Triage<'_> {
    const FOLLOWS: bool = true;

    fn follows(&self, _customer_idx: usize) -> bool {
        true
    }

    fn record(&mut self, _period: u32, customer_idx: usize, event: TraceEvent) {
        let notes = &mut self.notes[customer_idx];
        match event {
            TraceEvent::Episode(episode) => {
                notes.episodes += 1;
                if episode.care == crate::engine::Care::Personal {
                    notes.personal_care_periods += 1;
                }
                let unrecovered = episode.failed && !episode.recovered;
                if episode.left {
                    notes.left = true;
                    if unrecovered {
                        if !notes.left_after_failure {
                            notes.bond_at_failure = episode.before.commitment as f32;
                        }
                        notes.left_after_failure = true;
                    } else if episode.rival_campaign && !episode.failed {
                        notes.lost_to_rival = true;
                    }
                    if episode.price_rise {
                        notes.left_after_price_rise = true;
                    }
                }
                if episode.recovered && !episode.left {
                    notes.recovered_and_stayed = true;
                }
            }
            TraceEvent::Acquired {
                referred, won_back, ..
            } => {
                notes.won_back |= won_back;
                if referred {
                    self.referred_this_period.push(customer_idx);
                }
            }
            TraceEvent::Deterred { .. } => notes.deterred = true,
            TraceEvent::Speaks { .. } => {}
        }
    }

    fn pass_over(&mut self, period: u32, voices: &Voices) {
        for friend in self.referred_this_period.drain(..) {
            for &neighbour in self.world.network.neighbours(friend) {
                let advocate = neighbour as usize;
                if voices.of(advocate) == Voice::Advocate {
                    self.notes[advocate].friends_brought += 1;
                    self.referrals.push((period, advocate, friend));
                }
            }
        }
    }
}

/// Keeps every event of the chosen customers.
struct Follow<'w> {
    world: &'w World,
    /// Sorted chosen customers and where their story is in `stories`.
    index: Vec<(usize, usize)>,
    stories: Vec<Story>,
    /// Events of this period still waiting for who the customer heard from.
    awaiting_voices: Vec<(usize, usize)>,
}

impl<'w> Follow<'w> {
    fn new(
        world: &'w World,
        scenario: &Scenario,
        chosen: &[(usize, StoryKind)],
        referrals: &[(u32, usize, usize)],
    ) -> Self {
        let population = &world.population;
        let stories: Vec<Story> = chosen
            .iter()
            .map(|&(customer, kind)| {
                let distributor = population.distributor[customer];
                Story {
                    customer,
                    kind,
                    segment: scenario.model().segments[population.segment[customer] as usize]
                        .name
                        .clone(),
                    distributor: (distributor != crate::model::customers::DIRECT)
                        .then_some(distributor as usize + 1),
                    novice: population.novice[customer],
                    neighbours: world.network.neighbours(customer).len(),
                    initial: None,
                    events: Vec::new(),
                    referrals: referrals
                        .iter()
                        .filter(|(_, advocate, _)| *advocate == customer)
                        .map(|&(period, _, friend)| Referral { period, friend })
                        .collect(),
                    path: Vec::new(),
                    active_at_end: false,
                }
            })
            .collect();
        let mut index: Vec<(usize, usize)> = chosen
            .iter()
            .enumerate()
            .map(|(story_idx, &(customer, _))| (customer, story_idx))
            .collect();
        index.sort_unstable();
        Self {
            world,
            index,
            stories,
            awaiting_voices: Vec::new(),
        }
    }

    fn story_of(&self, customer_idx: usize) -> Option<usize> {
        self.index
            .binary_search_by_key(&customer_idx, |&(customer, _)| customer)
            .ok()
            .map(|position| self.index[position].1)
    }
}

impl Trace for Follow<'_> {
    const FOLLOWS: bool = true;

    fn follows(&self, customer_idx: usize) -> bool {
        self.story_of(customer_idx).is_some()
    }

    fn record(&mut self, period: u32, customer_idx: usize, event: TraceEvent) {
        let Some(story_idx) = self.story_of(customer_idx) else {
            return;
        };
        let story = &mut self.stories[story_idx];
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
                    self.awaiting_voices.push((story_idx, story.events.len()));
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

    fn pass_over(&mut self, _period: u32, voices: &Voices) {
        for (story_idx, event_idx) in self.awaiting_voices.drain(..) {
            let customer = self.stories[story_idx].customer;
            self.stories[story_idx].events[event_idx].heard_from = self
                .world
                .network
                .neighbours(customer)
                .iter()
                .map(|&n| n as usize)
                .filter(|&n| voices.of(n) == Voice::Advocate)
                .collect();
        }
    }
}
