//! What a sweep gives: each unit's runs, and every point's summaries, kept on disk rather than
//! in memory (docs/sweeps.md).
//!
//! A sweep summarises each *quantity* at each point over its replications: every per-run
//! metric of every strategy, then every pair's paired NPV difference. [`PointStream`] takes the
//! units as they finish and holds running moments only for the points still in flight; as each
//! point completes, its summaries go to a scratch file beside the output. [`PointResults`]
//! reads them back a few quantities (columns) or a point (row) at a time. So a sweep's memory
//! does not grow with the size of its design: a design ten times larger holds ten times more
//! on disk, and the same in memory, apart from 8 bytes per coordinate of the design itself.

use std::collections::BTreeMap;
use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};

use crate::engine::RunMetrics;
use crate::stats::{Interval, Welford};

/// Every strategy of one replication at one point of a sweep.
#[derive(Debug, Clone, PartialEq)]
pub struct UnitResult {
    pub point: u32,
    pub replication: u64,
    /// The replication's seed.
    pub seed: u64,
    /// Each strategy's per-run metrics, in scenario order.
    pub metrics: Vec<RunMetrics>,
    /// Customer-steps the unit's runs took, and the part of them spent on active customers.
    pub customer_steps: u64,
    pub active_customer_steps: u64,
}

/// The metric whose paired differences decide the verdict.
pub const VERDICT_METRIC: &str = "npv";

/// The strategy pairs `(a, b)`, `a < b`, in order.
pub fn pairs(n_strategies: usize) -> Vec<(usize, usize)> {
    (0..n_strategies)
        .flat_map(|a| (a + 1..n_strategies).map(move |b| (a, b)))
        .collect()
}

/// Index of [`VERDICT_METRIC`] among the per-run metrics.
pub fn npv_index() -> usize {
    RunMetrics::NAMES
        .iter()
        .position(|&name| name == VERDICT_METRIC)
        .expect("npv is a per-run metric")
}

/// What one quantity is: a metric of a strategy, or (with `versus`) the paired difference of
/// that metric between two strategies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuantityKey {
    pub metric: &'static str,
    /// Index of the strategy in scenario order.
    pub strategy: usize,
    /// For a paired difference, the strategy subtracted.
    pub versus: Option<usize>,
}

impl QuantityKey {
    /// `strategy`, or `a − b` for a paired difference.
    pub fn label(&self, strategy_names: &[String]) -> String {
        match self.versus {
            None => strategy_names[self.strategy].clone(),
            Some(b) => format!("{} − {}", strategy_names[self.strategy], strategy_names[b]),
        }
    }
}

/// The quantities of a sweep with `n_strategies` strategies, in their fixed order: each
/// metric of each strategy (strategy by strategy), then the NPV difference of each pair of
/// [`pairs`].
pub fn quantity_keys(n_strategies: usize) -> Vec<QuantityKey> {
    let mut keys: Vec<QuantityKey> = (0..n_strategies)
        .flat_map(|s| {
            RunMetrics::NAMES.iter().map(move |&metric| QuantityKey {
                metric,
                strategy: s,
                versus: None,
            })
        })
        .collect();
    keys.extend(pairs(n_strategies).into_iter().map(|(a, b)| QuantityKey {
        metric: VERDICT_METRIC,
        strategy: a,
        versus: Some(b),
    }));
    keys
}

/// Index of `metric_idx` of strategy `s` in [`quantity_keys`].
pub fn metric_quantity(s: usize, metric_idx: usize) -> usize {
    s * RunMetrics::COUNT + metric_idx
}

/// Index of pair `pair_idx` (see [`pairs`]) in [`quantity_keys`].
pub fn pair_quantity(n_strategies: usize, pair_idx: usize) -> usize {
    n_strategies * RunMetrics::COUNT + pair_idx
}

/// One point's running moments, one per quantity.
#[derive(Debug, Clone)]
struct PointMoments {
    moments: Vec<Welford>,
    units: u64,
}

/// Per-point moments of the units as they finish; completed points go to disk in order.
#[derive(Debug)]
pub struct PointStream {
    n_points: usize,
    n_strategies: usize,
    replications: u64,
    /// The next point to go to disk; every point before it has.
    next_point: u32,
    in_flight: BTreeMap<u32, PointMoments>,
    /// `[strategy][metric]` over every run of the sweep.
    overall: Vec<Welford>,
    /// `[strategy][metric]`: the sum over completed points of the squared deviations of the
    /// point's runs from the point's mean.
    within: Vec<f64>,
    scratch: BufWriter<File>,
}

impl PointStream {
    /// A stream for `n_points` points of `replications` units each, writing to `scratch` (an
    /// empty file, typically anonymous: `tempfile::tempfile_in`).
    pub fn new(n_points: usize, n_strategies: usize, replications: u64, scratch: File) -> Self {
        let per_strategy = n_strategies * RunMetrics::COUNT;
        Self {
            n_points,
            n_strategies,
            replications,
            next_point: 0,
            in_flight: BTreeMap::new(),
            overall: vec![Welford::default(); per_strategy],
            within: vec![0.0; per_strategy],
            scratch: BufWriter::new(scratch),
        }
    }

    /// Takes one unit's runs into its point's moments; if that completes the next point (and
    /// any completed ones after it), writes them out.
    pub fn push(&mut self, unit: &UnitResult) -> io::Result<()> {
        let n_quantities = quantity_keys(self.n_strategies).len();
        let point = self
            .in_flight
            .entry(unit.point)
            .or_insert_with(|| PointMoments {
                moments: vec![Welford::default(); n_quantities],
                units: 0,
            });
        for (s, metrics) in unit.metrics.iter().enumerate() {
            for (idx, value) in metrics.values().into_iter().enumerate() {
                point.moments[metric_quantity(s, idx)].push(value);
                self.overall[metric_quantity(s, idx)].push(value);
            }
        }
        let npv = npv_index();
        for (p, (a, b)) in pairs(self.n_strategies).into_iter().enumerate() {
            let difference = unit.metrics[a].values()[npv] - unit.metrics[b].values()[npv];
            point.moments[pair_quantity(self.n_strategies, p)].push(difference);
        }
        point.units += 1;
        while let Some(done) = self
            .in_flight
            .get(&self.next_point)
            .filter(|p| p.units == self.replications)
        {
            for (slot, within) in self.within.iter_mut().enumerate() {
                *within += done.moments[slot].sum_of_squared_deviations();
            }
            for w in &done.moments {
                let i = w.interval();
                for x in [i.mean, i.sd, i.n as f64] {
                    self.scratch.write_all(&x.to_le_bytes())?;
                }
            }
            self.in_flight.remove(&self.next_point);
            self.next_point += 1;
        }
        Ok(())
    }

    /// Every point's summaries, once every unit has come. A point still short of units is an
    /// error (the sweep did not finish).
    pub fn finish(self) -> io::Result<PointResults> {
        if self.next_point as usize != self.n_points {
            return Err(io::Error::other(format!(
                "the summaries of points {}.. are incomplete",
                self.next_point
            )));
        }
        let mut scratch = self.scratch.into_inner().map_err(|err| err.into_error())?;
        scratch.flush()?;
        Ok(PointResults {
            n_points: self.n_points,
            n_strategies: self.n_strategies,
            n_quantities: quantity_keys(self.n_strategies).len(),
            scratch,
            overall: self.overall,
            within: self.within,
        })
    }
}

/// Every point's summaries, read back from the scratch file a few columns or a row at a time.
#[derive(Debug)]
pub struct PointResults {
    n_points: usize,
    n_strategies: usize,
    n_quantities: usize,
    scratch: File,
    overall: Vec<Welford>,
    within: Vec<f64>,
}

/// Bytes of one quantity at one point: mean, sd and n as `f64`.
const CELL_BYTES: usize = 24;

impl PointResults {
    pub fn n_points(&self) -> usize {
        self.n_points
    }

    pub fn n_strategies(&self) -> usize {
        self.n_strategies
    }

    /// Calls `visit` with each point's index and its intervals, one per quantity of
    /// [`quantity_keys`], in point order.
    pub fn for_each_point(
        &self,
        mut visit: impl FnMut(usize, &[Interval]) -> io::Result<()>,
    ) -> io::Result<()> {
        let mut reader = self.reader()?;
        let mut bytes = vec![0u8; self.n_quantities * CELL_BYTES];
        let mut row = vec![Interval::around(f64::NAN, f64::NAN, 0); self.n_quantities];
        for point in 0..self.n_points {
            reader.read_exact(&mut bytes)?;
            for (q, cell) in row.iter_mut().enumerate() {
                *cell = decode(&bytes[q * CELL_BYTES..(q + 1) * CELL_BYTES]);
            }
            visit(point, &row)?;
        }
        Ok(())
    }

    /// The intervals of each of `quantities` at every point: one column per quantity.
    pub fn columns(&self, quantities: &[usize]) -> io::Result<Vec<Vec<Interval>>> {
        self.read_columns(quantities, |interval| interval)
    }

    /// The means of each of `quantities` at every point: one column per quantity.
    pub fn means(&self, quantities: &[usize]) -> io::Result<Vec<Vec<f64>>> {
        self.read_columns(quantities, |interval| interval.mean)
    }

    fn read_columns<T>(
        &self,
        quantities: &[usize],
        pick: impl Fn(Interval) -> T,
    ) -> io::Result<Vec<Vec<T>>> {
        let mut columns: Vec<Vec<T>> = quantities
            .iter()
            .map(|_| Vec::with_capacity(self.n_points))
            .collect();
        let mut reader = self.reader()?;
        let mut bytes = vec![0u8; self.n_quantities * CELL_BYTES];
        for _ in 0..self.n_points {
            reader.read_exact(&mut bytes)?;
            for (column, &q) in columns.iter_mut().zip(quantities) {
                column.push(pick(decode(&bytes[q * CELL_BYTES..(q + 1) * CELL_BYTES])));
            }
        }
        Ok(columns)
    }

    /// The share of a metric's variance over every run of the sweep that lies within points
    /// (seed noise: replications at fixed parameter values) rather than between them.
    pub fn noise_share(&self, s: usize, metric_idx: usize) -> f64 {
        let slot = metric_quantity(s, metric_idx);
        let total = self.overall[slot].sum_of_squared_deviations();
        if total > 0.0 {
            self.within[slot] / total
        } else {
            f64::NAN
        }
    }

    fn reader(&self) -> io::Result<BufReader<&File>> {
        let mut file = &self.scratch;
        file.seek(SeekFrom::Start(0))?;
        Ok(BufReader::with_capacity(1 << 16, file))
    }
}

fn decode(cell: &[u8]) -> Interval {
    let f = |i: usize| f64::from_le_bytes(cell[i * 8..i * 8 + 8].try_into().expect("8 bytes"));
    Interval::around(f(0), f(1), f(2) as u64)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn unit(point: u32, replication: u64, npvs: &[f64]) -> UnitResult {
        UnitResult {
            point,
            replication,
            seed: replication,
            metrics: npvs
                .iter()
                .map(|&npv| RunMetrics {
                    npv,
                    ..RunMetrics::default()
                })
                .collect(),
            customer_steps: 0,
            active_customer_steps: 0,
        }
    }

    #[test]
    fn points_completed_out_of_order_go_to_disk_in_order() {
        let mut stream = PointStream::new(3, 2, 2, tempfile::tempfile().unwrap());
        // Point 1 completes first, then 2, then 0.
        for (point, replication) in [(1, 0), (1, 1), (0, 0), (2, 0), (2, 1), (0, 1)] {
            let base = 100.0 * point as f64;
            let noise = if replication == 0 { -1.0 } else { 1.0 };
            stream
                .push(&unit(point, replication, &[base + noise, base / 2.0]))
                .unwrap();
            if (point, replication) != (0, 1) {
                assert_eq!(stream.next_point, 0);
            }
        }
        let results = stream.finish().unwrap();
        let npv = npv_index();
        let a = results.means(&[metric_quantity(0, npv)]).unwrap();
        assert_eq!(a, [[0.0, 100.0, 200.0]]);
        let difference = &results.columns(&[pair_quantity(2, 0)]).unwrap()[0];
        assert_eq!(
            difference.iter().map(|d| d.mean).collect::<Vec<_>>(),
            [0.0, 50.0, 100.0]
        );
        assert!(difference.iter().all(|d| d.n == 2));
        let mut seen = Vec::new();
        results
            .for_each_point(|p, row| {
                assert_eq!(row.len(), quantity_keys(2).len());
                seen.push((p, row[metric_quantity(1, npv)].mean));
                Ok(())
            })
            .unwrap();
        assert_eq!(seen, [(0, 0.0), (1, 50.0), (2, 100.0)]);
    }

    #[test]
    fn an_unfinished_stream_is_an_error() {
        let mut stream = PointStream::new(2, 1, 2, tempfile::tempfile().unwrap());
        stream.push(&unit(0, 0, &[1.0])).unwrap();
        stream.push(&unit(0, 1, &[1.0])).unwrap();
        stream.push(&unit(1, 0, &[1.0])).unwrap();
        assert!(stream.finish().is_err());
    }

    #[test]
    fn pairs_are_ordered() {
        assert_eq!(pairs(3), vec![(0, 1), (0, 2), (1, 2)]);
        assert!(pairs(1).is_empty());
    }

    #[test]
    fn quantities_are_metrics_then_pairs() {
        let keys = quantity_keys(3);
        assert_eq!(keys.len(), 3 * RunMetrics::COUNT + 3);
        let names = ["a", "b", "c"].map(String::from);
        assert_eq!(keys[metric_quantity(1, 0)].label(&names), "b");
        assert_eq!(keys[pair_quantity(3, 2)].label(&names), "b − c");
        assert_eq!(keys[pair_quantity(3, 2)].metric, "npv");
    }
}
