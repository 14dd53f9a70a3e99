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

/// One process's work on a shard: how long it simulated, on how many threads.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub wall_time_seconds: f64,
    pub threads: usize,
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

    /// A run part's journal, to be read a replication at a time.
    pub fn run_stream(&self) -> Result<RunStream> {
        let files = self
            .batches
            .iter()
            .map(|path| BatchReader::open(path, &self.info))
            .collect::<Result<_>>()?;
        Ok(RunStream { files })
    }

    /// What a run part's journal holds, read a run at a time: the replications done (in
    /// increasing order) and the active customer-steps of their runs.
    pub fn run_summary(&self) -> Result<(Vec<u64>, u64)> {
        let mut done = Vec::new();
        let mut active_customer_steps = 0;
        for path in &self.batches {
            let mut file = BatchReader::open(path, &self.info)?;
            while let Some(run) = file.head.take() {
                if run.strategy_idx == 0 {
                    done.push(run.replication);
                }
                active_customer_steps += run.output.active_customer_steps;
                file.advance()?;
            }
        }
        done.sort_unstable();
        Ok((done, active_customer_steps))
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
            PartKind::Run => Ok(self.run_summary()?.0),
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

    /// Every session that ran this shard, added up: seconds, and the most threads.
    pub fn sessions_total(&self) -> Result<Session> {
        let sessions = read_sessions(&self.dir)?;
        Ok(Session {
            wall_time_seconds: sessions.iter().map(|s| s.wall_time_seconds).sum(),
            threads: sessions.iter().map(|s| s.threads).max().unwrap_or(1),
        })
    }
}

/// A run part's journal read a run at a time, handing out the runs of any replication it
/// holds while keeping in memory only the next run of each journal file (each file lists its
/// replications in increasing order, but a resumed shard's files may interleave).
pub struct RunStream {
    files: Vec<BatchReader>,
}

impl RunStream {
    /// The runs of `replication`, strategy by strategy as they were written; empty if no file
    /// holds it next.
    pub fn take(&mut self, replication: u64) -> Result<Vec<RunRecord>> {
        let mut runs = Vec::new();
        for file in &mut self.files {
            while file
                .head
                .as_ref()
                .is_some_and(|run| run.replication == replication)
            {
                runs.extend(file.head.take());
                file.advance()?;
            }
        }
        Ok(runs)
    }

    /// A run still unread once every replication has been taken: one the shard should not
    /// have, or one written twice.
    pub fn leftover(&self) -> Option<&RunRecord> {
        self.files.iter().find_map(|file| file.head.as_ref())
    }
}

/// One journal file, read a run at a time.
struct BatchReader {
    path: PathBuf,
    reader: io::BufReader<fs::File>,
    remaining: u64,
    periods: u32,
    head: Option<RunRecord>,
}

impl BatchReader {
    fn open(path: &Path, info: &PartInfo) -> Result<Self> {
        let fail = |message: String| Error::InvalidOutput {
            path: path.to_path_buf(),
            message,
        };
        let file = fs::File::open(path).map_err(|err| fail(format!("cannot be read: {err}")))?;
        let size = file
            .metadata()
            .map_err(|err| fail(format!("cannot be read: {err}")))?
            .len();
        let mut reader = io::BufReader::new(file);
        let mut header = [0u8; 20];
        let count = match reader.read_exact(&mut header) {
            Ok(()) if header[..12] == MAGIC[..] => {
                u64::from_le_bytes(header[12..].try_into().expect("8 bytes"))
            }
            _ => return Err(fail(corrupt_journal())),
        };
        let expected = count
            .checked_mul(run_bytes(info) as u64)
            .and_then(|body| body.checked_add(20));
        if expected != Some(size) {
            return Err(fail(corrupt_journal()));
        }
        let mut batch = Self {
            path: path.to_path_buf(),
            reader,
            remaining: count,
            periods: info.periods,
            head: None,
        };
        batch.advance()?;
        Ok(batch)
    }

    /// Reads the next run into `head` (`None` at the end of the file).
    fn advance(&mut self) -> Result<()> {
        if self.remaining == 0 {
            self.head = None;
            return Ok(());
        }
        self.remaining -= 1;
        let mut word = || -> Result<u64> {
            let mut bytes = [0u8; 8];
            self.reader
                .read_exact(&mut bytes)
                .map_err(|err| Error::InvalidOutput {
                    path: self.path.clone(),
                    message: format!("cannot be read: {err}"),
                })?;
            Ok(u64::from_le_bytes(bytes))
        };
        let replication = word()?;
        let strategy_idx = word()? as usize;
        let seed = word()?;
        let active_customer_steps = word()?;
        let mut periods = Vec::with_capacity(self.periods as usize);
        for _ in 0..self.periods {
            let mut values = [0.0; PeriodRecord::COUNT];
            for value in &mut values {
                *value = f64::from_bits(word()?);
            }
            periods.push(PeriodRecord::from_values(values));
        }
        let mut values = [0.0; RunMetrics::COUNT];
        for value in &mut values {
            *value = f64::from_bits(word()?);
        }
        self.head = Some(RunRecord {
            strategy_idx,
            replication,
            seed,
            output: RunOutput {
                periods,
                metrics: RunMetrics::from_values(values),
                active_customer_steps,
            },
        });
        Ok(())
    }
}

fn run_bytes(info: &PartInfo) -> usize {
    4 * 8 + 8 * (info.periods as usize * PeriodRecord::COUNT + RunMetrics::COUNT)
}

fn corrupt_journal() -> String {
    "is not a journal file of this relsim version (wrong size or header); delete it and run \
     the shard again with --resume"
        .to_string()
}

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
