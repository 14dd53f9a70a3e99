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
//! - `.lock`: held locked by the process writing the folder (its id inside), so that a second
//!   process (a `--resume` while the shard still runs, a requeued job) is refused instead of
//!   mixing its journal and temporary files with the first's.

use std::fs;
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{write_atomically, TimeSplit};
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
    /// Where the sessions' time went ([`Session::time_split`], summed).
    #[serde(default)]
    pub time_split: TimeSplit,
}

pub const PART_FILE: &str = "part.json";
pub const SCENARIO_FILE: &str = "scenario.toml";
pub const COMPLETE_FILE: &str = "complete.json";
pub const SESSIONS_FILE: &str = "sessions.json";
pub const LOCK_FILE: &str = ".lock";
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
    /// [`LOCK_FILE`], locked while this writer lives (the system releases it if the process
    /// dies).
    _lock: fs::File,
}

/// Takes the lock of the part folder `dir` (which exists) for this process, or says which
/// process holds it. The lock file stays: removing it could let two processes each lock a
/// file of that name. Where the file system cannot lock at all, the folder is not locked.
fn lock_part(dir: &Path) -> Result<fs::File> {
    let path = dir.join(LOCK_FILE);
    let write_fail = |source| Error::Write {
        path: path.clone(),
        source,
    };
    let mut file = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(&path)
        .map_err(write_fail)?;
    match file.try_lock() {
        Ok(()) => {
            file.set_len(0).map_err(write_fail)?;
            writeln!(file, "{}", std::process::id()).map_err(write_fail)?;
            Ok(file)
        }
        Err(fs::TryLockError::WouldBlock) => {
            let mut holder = String::new();
            // Only for the message: a holder that has not written its id yet is named none.
            let _ = file.read_to_string(&mut holder);
            let holder = match holder.trim() {
                "" => "another relsim process".to_string(),
                id => format!("relsim process {id}"),
            };
            Err(Error::InvalidOutput {
                path: dir.to_path_buf(),
                message: format!(
                    "is being written by {holder} (a shard, or a --resume of it, still running); \
                     wait for it to finish, or stop it and then continue with --resume"
                ),
            })
        }
        // A file system that cannot lock (some clusters' shared mounts): the folder goes
        // unlocked, as it did before there was a lock, rather than the shard not running.
        Err(fs::TryLockError::Error(_)) => Ok(file),
    }
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
        let already_holds = || {
            invalid(format!(
                "already holds shard {} (pass --resume to continue it, or choose another --out)",
                PartFolder::read_info(dir)
                    .map(|i| format!("{}/{}", i.shard_index, i.shard_count))
                    .unwrap_or_else(|_| "part".into())
            ))
        };
        let existing = dir.join(PART_FILE).exists();
        let (lock, done) = if existing {
            if !resume {
                return Err(already_holds());
            }
            let lock = lock_part(dir)?;
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
            (lock, folder.done()?)
        } else {
            // Empty but for the lock of a shard killed before it wrote `part.json`.
            if dir.exists()
                && fs::read_dir(dir)
                    .map_err(write_fail)?
                    .flatten()
                    .any(|entry| entry.file_name() != LOCK_FILE)
            {
                return Err(invalid(
                    "exists and is not empty: a shard writes a part folder of its own".into(),
                ));
            }
            fs::create_dir_all(dir).map_err(write_fail)?;
            let lock = lock_part(dir)?;
            // Another shard may have started the part between the look above and the lock.
            if dir.join(PART_FILE).exists() {
                return Err(already_holds());
            }
            write_atomically(&dir.join(SCENARIO_FILE), |out| {
                out.write_all(scenario_text.as_bytes())
            })?;
            // Written last of the two: a folder with `part.json` is a part.
            write_atomically(&dir.join(PART_FILE), |out| {
                serde_json::to_writer_pretty(&mut *out, &info)?;
                out.write_all(b"\n")
            })?;
            (lock, Vec::new())
        };
        Ok((
            Self {
                dir: dir.to_path_buf(),
                info,
                pending: Vec::new(),
                pending_units: Vec::new(),
                _lock: lock,
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

/// One process's work on a shard: how long it simulated, on how many threads, and where the
/// time of the units it finished and kept went (absent in part folders of relsim versions that
/// did not record it, and zero for their stopped sessions).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub wall_time_seconds: f64,
    pub threads: usize,
    #[serde(default)]
    pub time_split: TimeSplit,
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
        JournalStream::new(&[self])
    }

    /// The journals of sweep parts `parts` (of the same sweep), unit by unit.
    pub fn unit_stream(parts: &[PartFolder]) -> Result<UnitStream> {
        JournalStream::new(&parts.iter().collect::<Vec<_>>())
    }

    /// What a run part's journal holds, read a run at a time: the replications done (in
    /// increasing order) and the active customer-steps of their runs.
    pub fn run_summary(&self) -> Result<(Vec<u64>, u64)> {
        let mut done = Vec::new();
        let mut active_customer_steps = 0;
        for path in &self.batches {
            let mut file = JournalReader::<RunRecord>::open(path, &self.info)?;
            while let Some(run) = file.head.take() {
                if run.strategy_idx == 0 {
                    done.push(run.replication);
                }
                active_customer_steps += run.output.active_customer_steps;
                file.advance(&self.info)?;
            }
        }
        done.sort_unstable();
        Ok((done, active_customer_steps))
    }

    /// What a sweep part's journal holds, read a unit at a time: the unit indices done (in
    /// increasing order), and the customer-steps and active customer-steps of their units.
    pub fn unit_summary(&self) -> Result<(Vec<u64>, u64, u64)> {
        let (mut done, mut steps, mut active) = (Vec::new(), 0, 0);
        for path in &self.batches {
            let mut file = JournalReader::<UnitResult>::open(path, &self.info)?;
            while let Some(unit) = file.head.take() {
                done.push(unit.key(&self.info));
                steps += unit.customer_steps;
                active += unit.active_customer_steps;
                file.advance(&self.info)?;
            }
        }
        done.sort_unstable();
        Ok((done, steps, active))
    }

    /// What the journal holds, in increasing order: replications of a run part, unit indices
    /// (`point × replications + replication`) of a sweep part.
    pub fn done(&self) -> Result<Vec<u64>> {
        match self.info.kind {
            PartKind::Run => Ok(self.run_summary()?.0),
            PartKind::Sweep => Ok(self.unit_summary()?.0),
        }
    }

    /// Every session that ran this shard, added up: seconds, and the most threads.
    pub fn sessions_total(&self) -> Result<Session> {
        let sessions = read_sessions(&self.dir)?;
        Ok(Session {
            wall_time_seconds: sessions.iter().map(|s| s.wall_time_seconds).sum(),
            threads: sessions.iter().map(|s| s.threads).max().unwrap_or(1),
            time_split: sessions
                .iter()
                .fold(TimeSplit::default(), |total, s| total.plus(s.time_split)),
        })
    }
}

/// What a journal file holds, one record at a time.
pub trait JournalRecord: Sized {
    const MAGIC: &'static [u8; 12];
    /// Bytes of one record.
    fn bytes(info: &PartInfo) -> usize;
    /// One record from its words.
    fn read(word: &mut dyn FnMut() -> Result<u64>, info: &PartInfo) -> Result<Self>;
    /// Where the record stands in the merged order: a run's replication, a unit's index.
    fn key(&self, info: &PartInfo) -> u64;
}

impl JournalRecord for RunRecord {
    const MAGIC: &'static [u8; 12] = MAGIC;

    fn bytes(info: &PartInfo) -> usize {
        4 * 8 + 8 * (info.periods as usize * PeriodRecord::COUNT + RunMetrics::COUNT)
    }

    fn read(word: &mut dyn FnMut() -> Result<u64>, info: &PartInfo) -> Result<Self> {
        let replication = word()?;
        let strategy_idx = word()? as usize;
        let seed = word()?;
        let active_customer_steps = word()?;
        let mut periods = Vec::with_capacity(info.periods as usize);
        for _ in 0..info.periods {
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
        Ok(RunRecord {
            strategy_idx,
            replication,
            seed,
            output: RunOutput {
                periods,
                metrics: RunMetrics::from_values(values),
                active_customer_steps,
            },
        })
    }

    fn key(&self, _: &PartInfo) -> u64 {
        self.replication
    }
}

impl JournalRecord for UnitResult {
    const MAGIC: &'static [u8; 12] = UNITS_MAGIC;

    fn bytes(info: &PartInfo) -> usize {
        5 * 8 + 8 * info.strategies as usize * RunMetrics::COUNT
    }

    fn read(word: &mut dyn FnMut() -> Result<u64>, info: &PartInfo) -> Result<Self> {
        let point = word()? as u32;
        let replication = word()?;
        let seed = word()?;
        let customer_steps = word()?;
        let active_customer_steps = word()?;
        let mut metrics = Vec::with_capacity(info.strategies as usize);
        for _ in 0..info.strategies {
            let mut values = [0.0; RunMetrics::COUNT];
            for value in &mut values {
                *value = f64::from_bits(word()?);
            }
            metrics.push(RunMetrics::from_values(values));
        }
        Ok(UnitResult {
            point,
            replication,
            seed,
            metrics,
            customer_steps,
            active_customer_steps,
        })
    }

    fn key(&self, info: &PartInfo) -> u64 {
        u64::from(self.point) * info.replications + self.replication
    }
}

/// The journals of one or more parts read in key order (replication, or unit index), one
/// record at a time: each file is in key order, and a file is opened only once the records
/// before its first have been read, so only the files whose ranges overlap (one per shard, and
/// a resumed shard's) are open and in memory at a time, whatever the study's size.
pub struct JournalStream<T: JournalRecord> {
    info: PartInfo,
    /// Files not opened yet, with their first key, last first.
    waiting: Vec<(u64, PathBuf)>,
    open: Vec<JournalReader<T>>,
}

/// A run part's journal, replication by replication.
pub type RunStream = JournalStream<RunRecord>;
/// Sweep parts' journals, unit by unit.
pub type UnitStream = JournalStream<UnitResult>;

impl<T: JournalRecord> JournalStream<T> {
    /// The journal files of `parts` (which describe the same experiment).
    fn new(parts: &[&PartFolder]) -> Result<Self> {
        let info = parts[0].info.clone();
        let mut waiting = Vec::new();
        for part in parts {
            for path in &part.batches {
                // The first record says where the file starts; the file is closed again.
                if let Some(first) = JournalReader::<T>::open(path, &info)?.head {
                    waiting.push((first.key(&info), path.clone()));
                }
            }
        }
        waiting.sort_by(|a, b| b.cmp(a));
        Ok(Self {
            info,
            waiting,
            open: Vec::new(),
        })
    }

    /// Opens the waiting files that start at or before `key`.
    fn open_up_to(&mut self, key: u64) -> Result<()> {
        while self.waiting.last().is_some_and(|(first, _)| *first <= key) {
            let (_, path) = self.waiting.pop().expect("checked above");
            self.open.push(JournalReader::open(&path, &self.info)?);
        }
        Ok(())
    }

    /// Every record whose key is `key`, in the order the files hold them.
    pub fn take(&mut self, key: u64) -> Result<Vec<T>> {
        self.open_up_to(key)?;
        let mut records = Vec::new();
        for file in &mut self.open {
            while file.head.as_ref().is_some_and(|r| r.key(&self.info) == key) {
                records.extend(file.head.take());
                file.advance(&self.info)?;
            }
        }
        self.open.retain(|file| file.head.is_some());
        Ok(records)
    }

    /// A record still unread once every key has been taken: one written twice, or one that
    /// belongs to no shard that holds it.
    pub fn leftover(&mut self) -> Result<Option<T>> {
        self.open_up_to(u64::MAX)?;
        Ok(self.open.iter_mut().find_map(|file| file.head.take()))
    }
}

/// One journal file, read a record at a time.
struct JournalReader<T> {
    path: PathBuf,
    reader: io::BufReader<fs::File>,
    remaining: u64,
    head: Option<T>,
}

impl<T: JournalRecord> JournalReader<T> {
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
            Ok(()) if header[..12] == T::MAGIC[..] => {
                u64::from_le_bytes(header[12..].try_into().expect("8 bytes"))
            }
            _ => return Err(fail(corrupt_journal())),
        };
        let expected = count
            .checked_mul(T::bytes(info) as u64)
            .and_then(|body| body.checked_add(20));
        if expected != Some(size) {
            return Err(fail(corrupt_journal()));
        }
        let mut file = Self {
            path: path.to_path_buf(),
            reader,
            remaining: count,
            head: None,
        };
        file.advance(info)?;
        Ok(file)
    }

    /// Reads the next record into `head` (`None` at the end of the file).
    fn advance(&mut self, info: &PartInfo) -> Result<()> {
        if self.remaining == 0 {
            self.head = None;
            return Ok(());
        }
        self.remaining -= 1;
        let (reader, path) = (&mut self.reader, &self.path);
        let mut word = || -> Result<u64> {
            let mut bytes = [0u8; 8];
            reader
                .read_exact(&mut bytes)
                .map_err(|err| Error::InvalidOutput {
                    path: path.clone(),
                    message: format!("cannot be read: {err}"),
                })?;
            Ok(u64::from_le_bytes(bytes))
        };
        self.head = Some(T::read(&mut word, info)?);
        Ok(())
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn info() -> PartInfo {
        PartInfo {
            relsim_version: "test".into(),
            scenario_name: "test".into(),
            scenario_source: "test".into(),
            scenario_source_sha256: "0".repeat(64),
            overrides: Vec::new(),
            scenario_sha256: "0".repeat(64),
            shard_index: 1,
            shard_count: 2,
            kind: PartKind::Run,
            points: 1,
            replications: 4,
            strategies: 1,
            periods: 3,
        }
    }

    fn is_busy(result: Result<(PartWriter, Vec<u64>)>) -> bool {
        matches!(
            result,
            Err(Error::InvalidOutput { message, .. })
                if message.contains(&format!("relsim process {}", std::process::id()))
        )
    }

    #[test]
    fn a_part_folder_has_one_writer_at_a_time() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("part");
        let (writer, done) = PartWriter::open(&part, info(), "scenario", false).unwrap();
        assert!(done.is_empty());
        // A second writer, resuming or not, while the first holds the folder.
        assert!(is_busy(PartWriter::open(&part, info(), "scenario", true)));
        assert!(matches!(
            PartWriter::open(&part, info(), "scenario", false),
            Err(Error::InvalidOutput { message, .. }) if message.contains("already holds shard 1/2")
        ));
        drop(writer);
        let (_writer, done) = PartWriter::open(&part, info(), "scenario", true).unwrap();
        assert!(done.is_empty());
    }

    #[test]
    fn a_lock_left_by_a_killed_shard_does_not_make_a_folder_taken() {
        let dir = tempfile::tempdir().unwrap();
        let part = dir.path().join("part");
        fs::create_dir_all(&part).unwrap();
        // What a shard killed between taking the lock and writing `part.json` leaves.
        fs::write(part.join(LOCK_FILE), "12345\n").unwrap();
        PartWriter::open(&part, info(), "scenario", false).unwrap();
        assert!(part.join(PART_FILE).exists());
        // Anything else in the folder makes it someone else's.
        let other = dir.path().join("other");
        fs::create_dir_all(&other).unwrap();
        fs::write(other.join("notes.txt"), "mine").unwrap();
        assert!(PartWriter::open(&other, info(), "scenario", false).is_err());
        assert!(!other.join(LOCK_FILE).exists());
    }
}
