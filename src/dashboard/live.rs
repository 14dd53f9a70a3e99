//! What the dashboard's charts show, gathered as replications finish: per strategy and period,
//! the mean across replications so far of a few period records, and the NPV's interval.

use serde::Serialize;

use crate::engine::PeriodRecord;
use crate::error::Result;
use crate::results::{RunRecord, RunSink};
use crate::stats::Welford;

/// The period records the dashboard charts, in chart order.
pub const CHARTED: [Charted; 4] = [
    Charted {
        name: "retention",
        title: "Retention per period",
        value: |r| r.retention,
    },
    Charted {
        name: "active",
        title: "Active customers",
        value: |r| r.active,
    },
    Charted {
        name: "profit",
        title: "Profit per period",
        value: |r| r.profit,
    },
    Charted {
        name: "cumulative_npv",
        title: "Cumulative NPV",
        value: |r| r.cumulative_npv,
    },
];

/// A charted period record: its name in the update, its chart's title, and how to read it.
pub struct Charted {
    pub name: &'static str,
    pub title: &'static str,
    pub value: fn(&PeriodRecord) -> f64,
}

/// One update of the charts: everything the page needs to redraw them.
#[derive(Debug, Clone, Serialize)]
pub struct Update {
    /// Replications finished, and asked for.
    pub done: u64,
    pub total: u64,
    pub elapsed_ms: u64,
    pub strategies: Vec<StrategyUpdate>,
}

/// One strategy's part of an [`Update`].
#[derive(Debug, Clone, Serialize)]
pub struct StrategyUpdate {
    pub name: String,
    /// Per charted record (in [`CHARTED`] order), the mean of each period `1..=T` so far.
    pub series: Vec<Vec<f64>>,
    pub npv_mean: f64,
    /// Half the width of the NPV's 95 % confidence interval (NaN below two replications).
    pub npv_half_width: f64,
    pub retention_mean: f64,
}

/// Running means of the charted records, strategy by strategy: a [`RunSink`] that hands an
/// [`Update`] to `send` after every batch.
pub struct LiveSink<F: FnMut(Update)> {
    names: Vec<String>,
    periods: usize,
    total: u64,
    done: u64,
    started: std::time::Instant,
    /// `[strategy][charted][period]`.
    means: Vec<Vec<Vec<Welford>>>,
    npv: Vec<Welford>,
    retention: Vec<Welford>,
    /// Takes each update (and asks the experiment to stop when nobody listens any more).
    send: F,
}

impl<F: FnMut(Update)> LiveSink<F> {
    pub fn new(names: Vec<String>, periods: usize, total: u64, send: F) -> Self {
        let strategies = names.len();
        Self {
            names,
            periods,
            total,
            done: 0,
            started: std::time::Instant::now(),
            means: vec![vec![vec![Welford::default(); periods]; CHARTED.len()]; strategies],
            npv: vec![Welford::default(); strategies],
            retention: vec![Welford::default(); strategies],
            send,
        }
    }

    /// The update as things stand.
    pub fn update(&self) -> Update {
        Update {
            done: self.done,
            total: self.total,
            elapsed_ms: self.started.elapsed().as_millis() as u64,
            strategies: (0..self.names.len())
                .map(|s| {
                    let interval = self.npv[s].interval();
                    StrategyUpdate {
                        name: self.names[s].clone(),
                        series: self.means[s]
                            .iter()
                            .map(|periods| periods.iter().map(Welford::mean).collect())
                            .collect(),
                        npv_mean: self.npv[s].mean(),
                        npv_half_width: (interval.ci_high - interval.ci_low) / 2.0,
                        retention_mean: self.retention[s].mean(),
                    }
                })
                .collect(),
        }
    }
}

impl<F: FnMut(Update)> RunSink for LiveSink<F> {
    type Output = ();

    fn accept(&mut self, run: RunRecord) -> Result<()> {
        let s = run.strategy_idx;
        for (charted, means) in CHARTED.iter().zip(&mut self.means[s]) {
            for (mean, record) in means.iter_mut().zip(&run.output.periods) {
                mean.push((charted.value)(record));
            }
        }
        debug_assert_eq!(run.output.periods.len(), self.periods);
        self.npv[s].push(run.output.metrics.npv);
        self.retention[s].push(run.output.metrics.retention);
        if s + 1 == self.names.len() {
            self.done += 1;
        }
        Ok(())
    }

    fn end_batch(&mut self) -> Result<()> {
        let update = self.update();
        (self.send)(update);
        Ok(())
    }

    fn finish(self) -> Result<()> {
        Ok(())
    }
}
