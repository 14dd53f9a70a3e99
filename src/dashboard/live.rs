//! What the dashboard's charts show, gathered as replications finish: per strategy and period,
//! the mean across replications so far of a few period records with its 95 % interval, and the
//! NPV's interval.

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
    /// Half the width of each of those means' 95 % confidence interval (NaN, sent as `null`,
    /// below two replications): the band the page draws around each line.
    pub half_widths: Vec<Vec<f64>>,
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
                        half_widths: self.means[s]
                            .iter()
                            .map(|periods| {
                                periods
                                    .iter()
                                    .map(|period| {
                                        let interval = period.interval();
                                        (interval.ci_high - interval.ci_low) / 2.0
                                    })
                                    .collect()
                            })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{RunMetrics, RunOutput};

    fn run(strategy_idx: usize, replication: u64, retention: [f64; 2], npv: f64) -> RunRecord {
        RunRecord {
            strategy_idx,
            replication,
            seed: 0,
            output: RunOutput {
                periods: retention
                    .iter()
                    .map(|&r| PeriodRecord {
                        retention: r,
                        ..PeriodRecord::default()
                    })
                    .collect(),
                metrics: RunMetrics {
                    npv,
                    ..RunMetrics::default()
                },
                active_customer_steps: 0,
            },
        }
    }

    #[test]
    fn updates_carry_means_and_intervals_of_the_replications_so_far() {
        let mut updates = Vec::new();
        let mut sink = LiveSink::new(vec!["a".into(), "b".into()], 2, 4, |u| updates.push(u));
        // Replication 0, then 1: strategy a's retention 0.9 and 0.8 in period 1, NPV 10 and 20.
        for (replication, (retention, npv)) in [([0.9, 0.7], 10.0), ([0.8, 0.7], 20.0)]
            .into_iter()
            .enumerate()
        {
            sink.accept(run(0, replication as u64, retention, npv))
                .unwrap();
            sink.accept(run(1, replication as u64, [1.0, 1.0], 5.0))
                .unwrap();
            sink.end_batch().unwrap();
        }
        drop(sink);
        assert_eq!(updates.len(), 2);
        let first = &updates[0].strategies[0];
        assert_eq!((updates[0].done, updates[0].total), (1, 4));
        assert_eq!(first.series[0], vec![0.9, 0.7]);
        assert!(
            first.half_widths[0][0].is_nan(),
            "one replication has no interval"
        );
        let last = &updates[1];
        assert_eq!(last.done, 2);
        let a = &last.strategies[0];
        assert!((a.series[0][0] - 0.85).abs() < 1e-15);
        // Two values 0.1 apart: sd = 0.1/√2, half-width = t(1) · sd / √2 = 12.706 · 0.05 (t from
        // stats::t_quantile_975, to three decimals).
        assert!((a.half_widths[0][0] - 12.706 * 0.05).abs() < 1e-6);
        assert_eq!(a.half_widths[0][1], 0.0);
        assert_eq!(a.npv_mean, 15.0);
        assert!((a.npv_half_width - 12.706 * 5.0).abs() < 1e-5);
        assert_eq!(last.strategies[1].npv_mean, 5.0);
        assert_eq!(last.strategies[1].name, "b");
    }
}
