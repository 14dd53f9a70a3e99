//! What experiments produce, as data: runs, their summaries and the sinks that take them.
//!
//! Results are never a side effect of running: [`crate::experiment`] hands each run to a
//! [`RunSink`] in a fixed order, and what the sinks build is read by `output`, `plot`, `report`
//! and `verify`, or rebuilt from the files on disk (`output::load_results`) without simulating.
//!
//! - [`experiment`]: the runs of `relsim run` and everything the result files report
//!   ([`ResultsCollector`] → [`ExperimentResults`]);
//! - [`points`]: what a sweep's unit (point × replication) gives, and each point's summaries,
//!   kept on disk as points complete ([`PointStream`] → [`PointResults`]).

pub mod experiment;
pub mod points;

use crate::engine::RunOutput;
use crate::error::Result;
pub use experiment::{
    Comparison, ExperimentResults, Lead, MetricSummary, ResultsCollector, RunRow, RunTable,
    SeriesPoint,
};
pub use points::{PointResults, PointStream, QuantityKey, UnitResult};

/// One strategy's run on one replication, as handed to a [`RunSink`].
#[derive(Debug, Clone, PartialEq)]
pub struct RunRecord {
    pub strategy_idx: usize,
    pub replication: u64,
    /// The replication's seed, derived from the master seed.
    pub seed: u64,
    pub output: RunOutput,
}

/// Receives runs in a deterministic order: replication by replication, strategies in scenario
/// order within each, then [`RunSink::finish`] gives what it built. Implementations may
/// aggregate, or stream to disk.
pub trait RunSink {
    /// What the sink gives once every run has come.
    type Output;

    fn accept(&mut self, run: RunRecord) -> Result<()>;

    /// Called after each batch of replications has been accepted: a sink that writes to disk
    /// makes the batch durable here.
    fn end_batch(&mut self) -> Result<()> {
        Ok(())
    }

    /// Whether the sink takes the replications an interrupted batch finished (then it must not
    /// need every replication in order, as a shard's journal does not); by default it does not,
    /// and an interruption hands it nothing of the batch in flight.
    fn keeps_unfinished_batches(&self) -> bool {
        false
    }

    /// Ends the sink after the last run.
    fn finish(self) -> Result<Self::Output>
    where
        Self: Sized;
}
