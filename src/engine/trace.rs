//! Following a few customers through a run: what the engine tells a [`Trace`] about them.
//!
//! A trace is a replay, never a second model: the same pass that simulates every customer hands
//! the followed ones' decisions to the trace as it makes them. [`NoTrace`] follows no one, and
//! since every call to a trace sits behind `T::FOLLOWS`, a constant, the untraced pass compiles
//! to exactly the code it was before (`benches/engine.rs` keeps the figure).

use super::*;

/// Who receives the followed customers' events, in the order the engine makes them.
pub trait Trace {
    /// Whether this trace follows anyone. A constant, so that the engine drops every call when
    /// it is `false`.
    const FOLLOWS: bool;

    /// Whether customer `customer_idx`'s events are wanted.
    fn follows(&self, customer_idx: usize) -> bool;

    /// Customer `customer_idx` did something worth telling in `period`.
    fn record(&mut self, period: u32, customer_idx: usize, event: TraceEvent);

    /// Every customer has had its turn of `period`: `market` tells what each customer said at
    /// the start of it and who joined in it (who a referred customer heard, whom an advocate
    /// brought).
    fn pass_over(&mut self, _period: u32, _market: &AfterPass) {}
}

/// Follows no one and costs nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoTrace;

impl Trace for NoTrace {
    const FOLLOWS: bool = false;

    #[inline(always)]
    fn follows(&self, _customer_idx: usize) -> bool {
        false
    }

    #[inline(always)]
    fn record(&mut self, _period: u32, _customer_idx: usize, _event: TraceEvent) {}
}

/// What a customer says to its neighbours (docs/model.md §4.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Voice {
    Silent,
    /// Trust at or above the customer's advocacy threshold: speaks for the firm.
    Advocate,
    /// Left over an unrecovered failure not long ago: speaks against it.
    Detractor,
}

impl Voice {
    pub(super) fn of(speaks: u8) -> Self {
        match speaks {
            voice::ADVOCATE => Self::Advocate,
            voice::DETRACTOR => Self::Detractor,
            _ => Self::Silent,
        }
    }
}

/// How an active customer was looked after in a period.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Care {
    None,
    /// A key-account manager's.
    Personal,
    /// The strategy's automated care.
    Automated,
}

/// An active customer's period: steps 3–6 of docs/model.md §4.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct EpisodeTrace {
    pub care: Care,
    /// The service episode failed (after any prevention by care).
    pub failed: bool,
    /// …and the firm recovered it.
    pub recovered: bool,
    /// The introductory price ended this period and the rise felt opportunistic.
    pub price_rise: bool,
    /// A rival ran a campaign this period.
    pub rival_campaign: bool,
    /// The relationship before and after the episode.
    pub before: Relationship,
    pub after: Relationship,
    pub bought: bool,
    /// What the customer paid the firm this period.
    pub revenue: f64,
    /// The chance that the customer left this period, given what happened.
    pub leave_probability: f64,
    pub left: bool,
}

/// What the engine tells a [`Trace`].
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum TraceEvent {
    /// An active customer's period.
    Episode(EpisodeTrace),
    /// A prospect became a customer: by word of mouth if `referred`, coming back if `won_back`.
    Acquired {
        referred: bool,
        won_back: bool,
        /// How many of its neighbours spoke for the firm at the start of the period.
        advocates_around: u32,
        start: Relationship,
    },
    /// A prospect ready to buy was put off by `detractors_around` neighbours who spoke against
    /// the firm.
    Deterred { detractors_around: u32 },
    /// What the customer says to its neighbours from the next period on changed.
    Speaks { voice: Voice },
}

/// The market once every customer has had its turn of a period, before the start-of-period
/// snapshot moves on: what each customer said at the start of the period, and who joined in it.
pub struct AfterPass<'e> {
    pub(super) chunks: &'e [Chunk],
    pub(super) chunk_len: usize,
    pub(super) period: u32,
}

impl AfterPass<'_> {
    fn locate(&self, customer_idx: usize) -> (&Chunk, usize) {
        let chunk = &self.chunks[customer_idx / self.chunk_len];
        (chunk, customer_idx - chunk.first)
    }

    /// What customer `customer_idx` said at the start of the period.
    pub fn voice_at_start(&self, customer_idx: usize) -> Voice {
        let (chunk, local) = self.locate(customer_idx);
        Voice::of(chunk.voices[local])
    }

    /// Whether customer `customer_idx` became a customer by word of mouth in this period.
    pub fn joined_by_referral(&self, customer_idx: usize) -> bool {
        let (chunk, local) = self.locate(customer_idx);
        let flags = chunk.customers.flags[local];
        flags & flag::ACTIVE != 0
            && flags & flag::REFERRED != 0
            && chunk.customers.since[local] as u32 == self.period
    }
}
