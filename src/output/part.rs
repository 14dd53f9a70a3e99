//! A shard's part folder (`relsim run --shard i/n`, docs/cluster.md): what the shard is, the
//! runs it finished, and a completion marker written last.
//!
//! - `part.json`: relsim's version, the scenario's name, source and hash, the shard, the
//!   experiment's size; written once, before anything runs.
//! - `scenario.toml`: the expanded scenario, so that `relsim merge` needs nothing else.
//! - `runs-FIRST-LAST.bin`: the journal, one file per batch of finished replications, each
//!   written under a temporary name and renamed when complete, so a killed shard leaves whole
//!   batch files or none. Every run's period records and metrics, as little-endian `f64`s.
//! - `complete.json`: written last, once every replication of the shard is in the journal.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::write_atomically;
use crate::engine::{PeriodRecord, RunMetrics, RunOutput};
use crate::error::{Error, Result};
use crate::experiment::UnitSink;
use crate::results::{RunRecord, RunSink, UnitResult};

/// What a part folder is a part of, written to `part.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartInfo {
    pub relsim_version: String,
    pub scenario_name: String,
    /// The file (or preset) the scenario came from, and its `--set` overrides.
    pub scenario_source: String,
    pub scenario_source_sha256: String,
    pub overrides: Vec<String>,
    /// SHA-256 of the expanded scenario (`scenario.toml`): parts merge only if it is the same.
    pub scenario_sha256: String,
    pub shard_index: u32,
    pub shard_count: u32,
    /// A part of `relsim run` or of `relsim sweep`.
    #[serde(default)]
    pub kind: PartKind,
    /// The design's points (1 for a run).
    #[serde(default = "one")]
    pub points: u64,
    /// Replications (at each point, for a sweep), strategies and periods of each run.
    pub replications: u64,
    pub strategies: u32,
    pub periods: u32,
}

/// What a part is a part of.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum PartKind {
    /// `relsim run`: the journal holds whole runs (period records and metrics).
    #[default]
    Run,
    /// `relsim sweep`: the journal holds units (point × replication: every strategy's
    /// metrics).
    Sweep,
}

fn one() -> u64 {
    1
}

/// What `complete.json` says: the shard finished, and how long its runs took.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartCompletion {
    /// Replications of a run part, point-replications of a sweep part.
    pub units_done: u64,
    /// Wall time spent simulating, summed over the sessions that ran this shard (a resumed
    /// shard has several).
    pub wall_time_seconds: f64,
    pub threads: usize,
    pub customer_steps: u64,
    pub active_customer_steps: u64,
}

pub const PART_FILE: &str = "part.json";
pub const SCENARIO_FILE: &str = "scenario.toml";
pub const COMPLETE_FILE: &str = "complete.json";
pub const SESSIONS_FILE: &str = "sessions.json";
const BATCH_PREFIX: &str = "runs-";
const UNITS_PREFIX: &str = "units-";
const BATCH_SUFFIX: &str = ".bin";
const MAGIC: &[u8; 12] = b"relsim-runs1";
const UNITS_MAGIC: &[u8; 12] = b"relsim-unit1";

/// A part folder being written by a shard: a [`RunSink`] that writes each batch it is given
/// as a journal file.
#[derive(Debug)]
pub struct PartWriter {
    dir: PathBuf,
    info: PartInfo,
    pending: Vec<RunRecord>,
    pending_units: Vec<UnitResult>,
}

impl PartWriter {
    /// Starts a part folder at `dir` for `info`, with the expanded `scenario_text`. The folder
    /// must not exist, or be empty, or (with `resume`) be a part of the same shard, which is
    /// continued; what it already holds is returned ([`PartFolder::done`]).
    pub fn open(
        dir: &Path,
        info: PartInfo,
        scenario_text: &str,
        resume: bool,
    ) -> Result<(Self, Vec<u64>)> {
        let invalid = |message: String| Error::InvalidOutput {
            path: dir.to_path_buf(),
            message,
        };
        let write_fail = |source| Error::Write {
            path: dir.to_path_buf(),
            source,
        };
        let existing = dir.join(PART_FILE).exists();
        let done = if existing {
            if !resume {
                return Err(invalid(format!(
                    "already holds shard {} (pass --resume to continue it, or choose another \
                     --out)",
                    PartFolder::read_info(dir)
                        .map(|i| format!("{}/{}", i.shard_index, i.shard_count))
                        .unwrap_or_else(|_| "part".into())
                )));
            }
            let folder = PartFolder::open(dir)?;
            if folder.info != info {
                return Err(invalid(format!(
                    "holds {} shard {}/{} of scenario {} ({} replications), not shard {}/{} of \
                     this run ({}); --resume continues the same shard of the same scenario only",
                    folder.info.scenario_name,
                    folder.info.shard_index,
                    folder.info.shard_count,
                    &folder.info.scenario_sha256[..12],
                    folder.info.replications,
                    info.shard_index,
                    info.shard_count,
                    &info.scenario_sha256[..12],
                )));
            }
            // Temporary files a killed shard could not rename: their batches were not done.
            for entry in fs::read_dir(dir).map_err(write_fail)?.flatten() {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') && name.ends_with(".partial") {
                    fs::remove_file(entry.path()).map_err(write_fail)?;
                }
            }
            folder.done()?
        } else {
            if dir.exists() && fs::read_dir(dir).map_err(write_fail)?.next().is_some() {
                return Err(invalid(
                    "exists and is not empty: a shard writes a part folder of its own".into(),
                ));
            }
            fs::create_dir_all(dir).map_err(write_fail)?;
            write_atomically(&dir.join(SCENARIO_FILE), |out| {
                out.write_all(scenario_text.as_bytes())
            })?;
            // Written last of the two: a folder with `part.json` is a part.
            write_atomically(&dir.join(PART_FILE), |out| {
                serde_json::to_writer_pretty(&mut *out, &info)?;
                out.write_all(b"\n")
            })?;
            Vec::new()
        };
        Ok((
            Self {
                dir: dir.to_path_buf(),
                info,
                pending: Vec::new(),
                pending_units: Vec::new(),
            },
            done,
        ))
    }

    /// Marks the part complete (the last file written).
    pub fn complete(&self, completion: &PartCompletion) -> Result<()> {
        write_atomically(&self.dir.join(COMPLETE_FILE), |out| {
            serde_json::to_writer_pretty(&mut *out, completion)?;
            out.write_all(b"\n")
        })
    }

    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Adds a session (one process that ran part of the shard) to `sessions.json`: how long
    /// it simulated, on how many threads, and the customer-steps it ran.
    pub fn record_session(&self, session: Session) -> Result<()> {
        let mut sessions = read_sessions(&self.dir)?;
        sessions.push(session);
        write_atomically(&self.dir.join(SESSIONS_FILE), |out| {
            serde_json::to_writer_pretty(&mut *out, &sessions)?;
            out.write_all(b"\n")
        })
    }
}

/// One process's work on a shard.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub wall_time_seconds: f64,
    pub threads: usize,
    pub customer_steps: u64,
    pub active_customer_steps: u64,
}

fn read_sessions(dir: &Path) -> Result<Vec<Session>> {
    let path = dir.join(SESSIONS_FILE);
    match fs::read_to_string(&path) {
        Ok(text) => serde_json::from_str(&text).map_err(|err| Error::InvalidOutput {
            path,
            message: format!("is not a list of sessions: {err}"),
        }),
        Err(err) if err.kind() == io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(err) => Err(Error::InvalidOutput {
            path,
            message: format!("cannot be read: {err}"),
        }),
    }
}

impl UnitSink for PartWriter {
    fn accept(&mut self, unit: UnitResult) -> Result<()> {
        self.pending_units.push(unit);
        Ok(())
    }

    fn end_batch(&mut self) -> Result<()> {
        let units = std::mem::take(&mut self.pending_units);
        let (Some(first), Some(last)) = (units.first(), units.last()) else {
            return Ok(());
        };
        let index =
            |unit: &UnitResult| u64::from(unit.point) * self.info.replications + unit.replication;
        let name = format!(
            "{UNITS_PREFIX}{:012}-{:012}{BATCH_SUFFIX}",
            index(first),
            index(last)
        );
        write_atomically(&self.dir.join(name), |out| write_units(out, &units))
    }
}

impl RunSink for PartWriter {
    type Output = ();

    fn accept(&mut self, run: RunRecord) -> Result<()> {
        self.pending.push(run);
        Ok(())
    }

    fn end_batch(&mut self) -> Result<()> {
        let (Some(first), Some(last)) = (self.pending.first(), self.pending.last()) else {
            return Ok(());
        };
        let name = format!(
            "{BATCH_PREFIX}{:010}-{:010}{BATCH_SUFFIX}",
            first.replication, last.replication
        );
        let runs = std::mem::take(&mut self.pending);
        write_atomically(&self.dir.join(name), |out| {
            write_runs(out, &runs, &self.info)
        })
    }

    fn keeps_unfinished_batches(&self) -> bool {
        true
    }

    fn finish(self) -> Result<()> {
        Ok(())
    }
}

/// A part folder as written: its description and its journal's files.
#[derive(Debug, Clone)]
pub struct PartFolder {
    pub dir: PathBuf,
    pub info: PartInfo,
    pub scenario_text: String,
    pub completion: Option<PartCompletion>,
    batches: Vec<PathBuf>,
}

impl PartFolder {
    fn read_info(dir: &Path) -> Result<PartInfo> {
        let path = dir.join(PART_FILE);
        let text = fs::read_to_string(&path).map_err(|err| Error::InvalidOutput {
            path: dir.to_path_buf(),
            message: format!(
                "is not a shard's part folder: cannot read {PART_FILE} ({err}); part folders \
                 are written by `relsim run … --shard i/n --out DIR`"
            ),
        })?;
        serde_json::from_str(&text).map_err(|err| Error::InvalidOutput {
            path,
            message: format!("is not a part description: {err}"),
        })
    }

    /// Reads the part folder at `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let info = Self::read_info(dir)?;
        let unreadable = |path: &Path, err: io::Error| Error::InvalidOutput {
            path: path.to_path_buf(),
            message: format!("cannot be read: {err}"),
        };
        let scenario_path = dir.join(SCENARIO_FILE);
        let scenario_text =
            fs::read_to_string(&scenario_path).map_err(|err| unreadable(&scenario_path, err))?;
        let completion_path = dir.join(COMPLETE_FILE);
        let completion = match fs::read_to_string(&completion_path) {
            Ok(text) => Some(
                serde_json::from_str(&text).map_err(|err| Error::InvalidOutput {
                    path: completion_path.clone(),
                    message: format!("is not a completion marker: {err}"),
                })?,
            ),
            Err(err) if err.kind() == io::ErrorKind::NotFound => None,
            Err(err) => return Err(unreadable(&completion_path, err)),
        };
        let mut batches: Vec<PathBuf> = fs::read_dir(dir)
            .map_err(|err| unreadable(dir, err))?
            .filter_map(|entry| entry.ok().map(|e| e.path()))
            .filter(|path| {
                let name = super::file_name_of(path);
                let prefix = match info.kind {
                    PartKind::Run => BATCH_PREFIX,
                    PartKind::Sweep => UNITS_PREFIX,
                };
                name.starts_with(prefix) && name.ends_with(BATCH_SUFFIX)
            })
            .collect();
        batches.sort();
        Ok(Self {
            dir: dir.to_path_buf(),
            info,
            scenario_text,
            completion,
            batches,
        })
    }

    /// Every run in a run part's journal, batch by batch.
    pub fn runs(&self) -> Result<Vec<RunRecord>> {
        self.read_batches(|bytes| read_runs(bytes, &self.info))
    }

    /// Every unit in a sweep part's journal, batch by batch.
    pub fn units(&self) -> Result<Vec<UnitResult>> {
        self.read_batches(|bytes| read_units(bytes, self.info.strategies as usize))
    }

    fn read_batches<T>(
        &self,
        read: impl Fn(&[u8]) -> std::result::Result<Vec<T>, String>,
    ) -> Result<Vec<T>> {
        let mut all = Vec::new();
        for path in &self.batches {
            let mut bytes = Vec::new();
            fs::File::open(path)
                .and_then(|mut file| file.read_to_end(&mut bytes))
                .map_err(|err| Error::InvalidOutput {
                    path: path.clone(),
                    message: format!("cannot be read: {err}"),
                })?;
            all.extend(read(&bytes).map_err(|message| Error::InvalidOutput {
                path: path.clone(),
                message,
            })?);
        }
        Ok(all)
    }

    /// What the journal holds, in increasing order: replications of a run part, unit indices
    /// (`point × replications + replication`) of a sweep part.
    pub fn done(&self) -> Result<Vec<u64>> {
        match self.info.kind {
            PartKind::Run => self.replications_done(),
            PartKind::Sweep => {
                let mut done: Vec<u64> = self
                    .units()?
                    .iter()
                    .map(|u| u64::from(u.point) * self.info.replications + u.replication)
                    .collect();
                done.sort_unstable();
                Ok(done)
            }
        }
    }

    /// Every session that ran this shard, added up: seconds, the most threads, customer-steps.
    pub fn sessions_total(&self) -> Result<Session> {
        let sessions = read_sessions(&self.dir)?;
        Ok(Session {
            wall_time_seconds: sessions.iter().map(|s| s.wall_time_seconds).sum(),
            threads: sessions.iter().map(|s| s.threads).max().unwrap_or(1),
            customer_steps: sessions.iter().map(|s| s.customer_steps).sum(),
            active_customer_steps: sessions.iter().map(|s| s.active_customer_steps).sum(),
        })
    }

    /// The replications the journal holds, in increasing order.
    pub fn replications_done(&self) -> Result<Vec<u64>> {
        let mut done: Vec<u64> = self
            .runs()?
            .iter()
            .filter(|run| run.strategy_idx == 0)
            .map(|run| run.replication)
            .collect();
        done.sort_unstable();
        Ok(done)
    }
}

/// Runs per replication, by replication: what merging many parts gathers.
pub type RunsByReplication = BTreeMap<u64, Vec<RunRecord>>;

fn write_runs(out: &mut dyn Write, runs: &[RunRecord], info: &PartInfo) -> io::Result<()> {
    out.write_all(MAGIC)?;
    out.write_all(&(runs.len() as u64).to_le_bytes())?;
    for run in runs {
        debug_assert_eq!(run.output.periods.len(), info.periods as usize);
        out.write_all(&run.replication.to_le_bytes())?;
        out.write_all(&(run.strategy_idx as u64).to_le_bytes())?;
        out.write_all(&run.seed.to_le_bytes())?;
        out.write_all(&run.output.active_customer_steps.to_le_bytes())?;
        for record in &run.output.periods {
            for value in record.values() {
                out.write_all(&value.to_le_bytes())?;
            }
        }
        for value in run.output.metrics.values() {
            out.write_all(&value.to_le_bytes())?;
        }
    }
    Ok(())
}

fn read_runs(bytes: &[u8], info: &PartInfo) -> std::result::Result<Vec<RunRecord>, String> {
    let per_run = 4 * 8 + 8 * (info.periods as usize * PeriodRecord::COUNT + RunMetrics::COUNT);
    let corrupt = || {
        "is not a journal file of this relsim version (wrong size or header); delete it and \
         run the shard again with --resume"
            .to_string()
    };
    let body = bytes.strip_prefix(MAGIC.as_slice()).ok_or_else(corrupt)?;
    let (count, body) = body.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let count = u64::from_le_bytes(*count) as usize;
    if body.len() != count.checked_mul(per_run).ok_or_else(corrupt)? {
        return Err(corrupt());
    }
    let mut words = body
        .chunks_exact(8)
        .map(|word| u64::from_le_bytes(word.try_into().expect("8-byte chunks")));
    let mut next = || words.next().expect("size checked above");
    let runs = (0..count)
        .map(|_| {
            let replication = next();
            let strategy_idx = next() as usize;
            let seed = next();
            let active_customer_steps = next();
            let periods = (0..info.periods)
                .map(|_| PeriodRecord::from_values(std::array::from_fn(|_| f64::from_bits(next()))))
                .collect();
            let metrics = RunMetrics::from_values(std::array::from_fn(|_| f64::from_bits(next())));
            RunRecord {
                strategy_idx,
                replication,
                seed,
                output: RunOutput {
                    periods,
                    metrics,
                    active_customer_steps,
                },
            }
        })
        .collect();
    Ok(runs)
}

fn write_units(out: &mut dyn Write, units: &[UnitResult]) -> io::Result<()> {
    out.write_all(UNITS_MAGIC)?;
    out.write_all(&(units.len() as u64).to_le_bytes())?;
    for unit in units {
        out.write_all(&u64::from(unit.point).to_le_bytes())?;
        out.write_all(&unit.replication.to_le_bytes())?;
        out.write_all(&unit.seed.to_le_bytes())?;
        out.write_all(&unit.customer_steps.to_le_bytes())?;
        out.write_all(&unit.active_customer_steps.to_le_bytes())?;
        for metrics in &unit.metrics {
            for value in metrics.values() {
                out.write_all(&value.to_le_bytes())?;
            }
        }
    }
    Ok(())
}

fn read_units(bytes: &[u8], strategies: usize) -> std::result::Result<Vec<UnitResult>, String> {
    let per_unit = 5 * 8 + 8 * strategies * RunMetrics::COUNT;
    let corrupt = || {
        "is not a journal file of this relsim version (wrong size or header); delete it and \
         run the shard again with --resume"
            .to_string()
    };
    let body = bytes
        .strip_prefix(UNITS_MAGIC.as_slice())
        .ok_or_else(corrupt)?;
    let (count, body) = body.split_first_chunk::<8>().ok_or_else(corrupt)?;
    let count = u64::from_le_bytes(*count) as usize;
    if body.len() != count.checked_mul(per_unit).ok_or_else(corrupt)? {
        return Err(corrupt());
    }
    let mut words = body
        .chunks_exact(8)
        .map(|word| u64::from_le_bytes(word.try_into().expect("8-byte chunks")));
    let mut next = || words.next().expect("size checked above");
    Ok((0..count)
        .map(|_| {
            let point = next() as u32;
            let replication = next();
            let seed = next();
            let customer_steps = next();
            let active_customer_steps = next();
            let metrics = (0..strategies)
                .map(|_| RunMetrics::from_values(std::array::from_fn(|_| f64::from_bits(next()))))
                .collect();
            UnitResult {
                point,
                replication,
                seed,
                metrics,
                customer_steps,
                active_customer_steps,
            }
        })
        .collect())
}
