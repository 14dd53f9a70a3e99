//! A [`RunSink`] that aggregates runs into everything the result files report: per-strategy
//! summaries, paired comparisons, time series and the per-run table.

use serde::Serialize;

use super::{RunRecord, RunSink};
use crate::engine::{PeriodRecord, RunMetrics};
use crate::error::Result;
use crate::scenario::Scenario;
use crate::stats::{paired_difference, Interval, PairedDifference, Summary, Welford};

/// One row of runs.csv: one strategy's metrics in one replication.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRow {
    pub strategy_idx: usize,
    pub replication: u64,
    pub seed: u64,
    pub metrics: RunMetrics,
}

/// The per-run metrics of an experiment, stored by column: for each strategy and metric, the
/// values of every replication in replication order. Summaries, paired differences and charts
/// read whole columns, so each is one contiguous slice rather than a pass over every run.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunTable {
    n_strategies: usize,
    /// The replication number of each row, in the order runs arrived.
    replications: Vec<u64>,
    /// The seed of each replication.
    seeds: Vec<u64>,
    /// `[strategy][metric]`, flattened: each column holds one value per replication.
    columns: Vec<Vec<f64>>,
}

impl RunTable {
    /// An empty table for `n_strategies` strategies, with room for `capacity` replications.
    pub fn new(n_strategies: usize, capacity: usize) -> Self {
        Self {
            n_strategies,
            replications: Vec::with_capacity(capacity),
            seeds: Vec::with_capacity(capacity),
            columns: (0..n_strategies * RunMetrics::COUNT)
                .map(|_| Vec::with_capacity(capacity))
                .collect(),
        }
    }

    /// Adds one strategy's run. Runs arrive replication by replication, strategies in order
    /// within each (the order of [`super::RunSink`] and of runs.csv); anything else is refused
    /// with a description of what was expected.
    pub fn push(&mut self, row: &RunRow) -> std::result::Result<(), String> {
        let filled = self.filled_strategies();
        if row.strategy_idx != filled {
            return Err(format!(
                "strategy {} of replication {} came where strategy {filled} was expected",
                row.strategy_idx, row.replication
            ));
        }
        if filled == 0 {
            self.replications.push(row.replication);
            self.seeds.push(row.seed);
        } else if self.replications.last() != Some(&row.replication) {
            return Err(format!(
                "replication {} came before replication {} had every strategy",
                row.replication,
                self.replications.last().copied().unwrap_or_default()
            ));
        }
        for (metric_idx, value) in row.metrics.values().into_iter().enumerate() {
            self.columns[row.strategy_idx * RunMetrics::COUNT + metric_idx].push(value);
        }
        Ok(())
    }

    /// How many strategies of the last replication have their run in the table; 0 when every
    /// replication is complete.
    fn filled_strategies(&self) -> usize {
        let rows = self.replications.len();
        (0..self.n_strategies)
            .take_while(|&idx| self.columns[idx * RunMetrics::COUNT].len() == rows)
            .count()
            % self.n_strategies.max(1)
    }

    /// The number of replications in the table.
    pub fn replications(&self) -> usize {
        self.replications.len()
    }

    /// Whether every replication has a run of every strategy.
    pub fn is_complete(&self) -> bool {
        self.filled_strategies() == 0
    }

    /// The values of metric `metric_idx` (an index into [`RunMetrics::NAMES`]) of one strategy,
    /// replication by replication.
    pub fn column(&self, strategy_idx: usize, metric_idx: usize) -> &[f64] {
        &self.columns[strategy_idx * RunMetrics::COUNT + metric_idx]
    }

    /// The values of the metric called `metric` of one strategy, replication by replication.
    pub fn metric(&self, strategy_idx: usize, metric: &str) -> Option<&[f64]> {
        let metric_idx = RunMetrics::NAMES.iter().position(|&m| m == metric)?;
        (strategy_idx < self.n_strategies).then(|| self.column(strategy_idx, metric_idx))
    }

    /// Every run as a row, in the order they arrived (the order of runs.csv).
    pub fn rows(&self) -> impl Iterator<Item = RunRow> + '_ {
        (0..self.replications.len()).flat_map(move |row_idx| {
            (0..self.n_strategies).map(move |strategy_idx| {
                let mut values = [0.0; RunMetrics::COUNT];
                for (metric_idx, value) in values.iter_mut().enumerate() {
                    *value = self.column(strategy_idx, metric_idx)[row_idx];
                }
                RunRow {
                    strategy_idx,
                    replication: self.replications[row_idx],
                    seed: self.seeds[row_idx],
                    metrics: RunMetrics::from_values(values),
                }
            })
        })
    }
}

/// Summary of one metric of one strategy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MetricSummary {
    pub strategy_idx: usize,
    pub metric: &'static str,
    pub summary: Summary,
}

/// Paired comparison of two strategies on one metric: `a − b`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub strategy_a: usize,
    pub strategy_b: usize,
    pub metric: &'static str,
    pub difference: PairedDifference,
}

/// Mean and CI of one period metric across replications.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub strategy_idx: usize,
    pub period: u32,
    pub metric: &'static str,
    pub interval: Interval,
}

/// The strategy with the highest mean of a metric and its paired lead over the runner-up.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Lead {
    pub best: usize,
    pub runner_up: usize,
    /// `best − runner_up`, replication by replication.
    pub difference: PairedDifference,
}

/// Everything an experiment produced, ready for exporters and reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ExperimentResults {
    pub strategy_names: Vec<String>,
    pub replications: u64,
    pub runs: RunTable,
    pub summaries: Vec<MetricSummary>,
    pub comparisons: Vec<Comparison>,
    pub timeseries: Vec<SeriesPoint>,
}

impl ExperimentResults {
    /// The summary of `metric` for strategy `strategy_idx`.
    pub fn summary(&self, strategy_idx: usize, metric: &str) -> Option<&Summary> {
        self.summaries
            .iter()
            .find(|s| s.strategy_idx == strategy_idx && s.metric == metric)
            .map(|s| &s.summary)
    }

    /// The strategy with the highest mean `metric` and its paired lead over the runner-up;
    /// `None` with fewer than two strategies.
    pub fn leader(&self, metric: &str) -> Option<Lead> {
        let mean = |idx: usize| {
            self.summary(idx, metric)
                .map_or(f64::NEG_INFINITY, |s| s.interval.mean)
        };
        let mut ranking: Vec<usize> = (0..self.strategy_names.len()).collect();
        ranking.sort_by(|&a, &b| mean(b).total_cmp(&mean(a)));
        let (&best, &runner_up) = (ranking.first()?, ranking.get(1)?);
        let comparison = self.comparison(best.min(runner_up), best.max(runner_up), metric)?;
        let difference = if best < runner_up {
            comparison.difference
        } else {
            comparison.difference.reversed()
        };
        Some(Lead {
            best,
            runner_up,
            difference,
        })
    }

    /// The comparison `a − b` on `metric`.
    pub fn comparison(&self, a: usize, b: usize, metric: &str) -> Option<&Comparison> {
        self.comparisons
            .iter()
            .find(|c| c.strategy_a == a && c.strategy_b == b && c.metric == metric)
    }
}

/// Aggregates runs as they arrive; the time series are kept as running moments, so memory does
/// not grow with the number of replications except for the small per-run table.
#[derive(Debug, Clone)]
pub struct ResultsCollector {
    strategy_names: Vec<String>,
    periods: usize,
    /// Active customer-steps of every run accepted.
    active_customer_steps: u64,
    /// `[strategy][period][metric]`, flattened.
    series: Vec<Welford>,
    runs: RunTable,
}

impl ResultsCollector {
    pub fn new(scenario: &Scenario) -> Self {
        let n_strategies = scenario.strategies().len();
        let periods = scenario.periods() as usize;
        Self {
            strategy_names: scenario
                .strategies()
                .iter()
                .map(|s| s.name.clone())
                .collect(),
            periods,
            active_customer_steps: 0,
            series: vec![Welford::default(); n_strategies * periods * PeriodRecord::COUNT],
            runs: RunTable::new(n_strategies, scenario.replications() as usize),
        }
    }

    /// The collector's exact state, as words: a checkpoint from which
    /// [`ResultsCollector::restore`] continues as if nothing had stopped.
    pub fn checkpoint(&self) -> Vec<u64> {
        let runs = &self.runs;
        let mut words = vec![self.active_customer_steps, self.series.len() as u64];
        words.extend(self.series.iter().flat_map(|w| w.to_words()));
        words.push(runs.replications.len() as u64);
        words.extend(&runs.replications);
        words.extend(&runs.seeds);
        for column in &runs.columns {
            words.extend(column.iter().map(|v| v.to_bits()));
        }
        words
    }

    /// The collector of `scenario` in the state `words` ([`ResultsCollector::checkpoint`])
    /// describe; `None` if they do not fit the scenario.
    pub fn restore(scenario: &Scenario, words: &[u64]) -> Option<Self> {
        let mut collector = Self::new(scenario);
        let mut words = words.iter().copied();
        collector.active_customer_steps = words.next()?;
        if words.next()? != collector.series.len() as u64 {
            return None;
        }
        for welford in &mut collector.series {
            *welford = Welford::from_words([words.next()?, words.next()?, words.next()?]);
        }
        let rows = words.next()? as usize;
        let runs = &mut collector.runs;
        runs.replications = (0..rows).map(|_| words.next()).collect::<Option<_>>()?;
        runs.seeds = (0..rows).map(|_| words.next()).collect::<Option<_>>()?;
        for column in &mut runs.columns {
            *column = (0..rows)
                .map(|_| words.next().map(f64::from_bits))
                .collect::<Option<_>>()?;
        }
        words.next().is_none().then_some(collector)
    }

    /// Active customer-steps of every run accepted so far.
    pub fn active_customer_steps(&self) -> u64 {
        self.active_customer_steps
    }

    /// The per-run metrics collected so far.
    pub fn runs(&self) -> &RunTable {
        &self.runs
    }

    /// How many strategies each replication runs.
    pub fn strategy_count(&self) -> usize {
        self.strategy_names.len()
    }

    fn series_idx(&self, strategy_idx: usize, period_idx: usize, metric_idx: usize) -> usize {
        (strategy_idx * self.periods + period_idx) * PeriodRecord::COUNT + metric_idx
    }

    /// Summaries, comparisons and time series of everything collected.
    fn summarise(self) -> ExperimentResults {
        let n_strategies = self.strategy_names.len();
        let runs = &self.runs;
        let mut summaries = Vec::new();
        for strategy_idx in 0..n_strategies {
            for (metric_idx, &metric) in RunMetrics::NAMES.iter().enumerate() {
                summaries.push(MetricSummary {
                    strategy_idx,
                    metric,
                    summary: Summary::of(runs.column(strategy_idx, metric_idx)),
                });
            }
        }
        let mut comparisons = Vec::new();
        for strategy_a in 0..n_strategies {
            for strategy_b in (strategy_a + 1)..n_strategies {
                for (metric_idx, &metric) in RunMetrics::NAMES.iter().enumerate() {
                    comparisons.push(Comparison {
                        strategy_a,
                        strategy_b,
                        metric,
                        difference: paired_difference(
                            runs.column(strategy_a, metric_idx),
                            runs.column(strategy_b, metric_idx),
                        ),
                    });
                }
            }
        }
        let mut timeseries = Vec::with_capacity(self.series.len());
        for strategy_idx in 0..n_strategies {
            for period_idx in 0..self.periods {
                for (metric_idx, &metric) in PeriodRecord::NAMES.iter().enumerate() {
                    timeseries.push(SeriesPoint {
                        strategy_idx,
                        period: period_idx as u32 + 1,
                        metric,
                        interval: self.series
                            [self.series_idx(strategy_idx, period_idx, metric_idx)]
                        .interval(),
                    });
                }
            }
        }
        let replications = self.runs.replications() as u64;
        ExperimentResults {
            strategy_names: self.strategy_names,
            replications,
            runs: self.runs,
            summaries,
            comparisons,
            timeseries,
        }
    }
}

impl RunSink for ResultsCollector {
    type Output = ExperimentResults;

    fn accept(&mut self, run: RunRecord) -> Result<()> {
        self.active_customer_steps += run.output.active_customer_steps;
        for (period_idx, record) in run.output.periods.iter().enumerate() {
            for (metric_idx, value) in record.values().into_iter().enumerate() {
                let idx = self.series_idx(run.strategy_idx, period_idx, metric_idx);
                self.series[idx].push(value);
            }
        }
        self.runs
            .push(&RunRow {
                strategy_idx: run.strategy_idx,
                replication: run.replication,
                seed: run.seed,
                metrics: run.output.metrics,
            })
            .expect("experiments hand runs over in replication order");
        Ok(())
    }

    fn finish(self) -> Result<ExperimentResults> {
        Ok(self.summarise())
    }
}
