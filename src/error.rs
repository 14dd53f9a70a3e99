//! The library's errors. Each message names the file, the key and what is allowed.

use std::fmt;
use std::path::PathBuf;

/// Where in a scenario file a problem was found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Location {
    pub line: usize,
    pub column: usize,
}

/// Everything that can go wrong in relsim.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A scenario file that cannot be read.
    #[error("cannot read scenario file {}: {source}", path.display())]
    ReadScenario {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A scenario that is malformed or out of range.
    #[error("{}", describe_invalid(file, key, location.as_ref(), message))]
    InvalidScenario {
        /// The file (or preset) the scenario came from.
        file: String,
        /// Dotted path of the offending key, e.g. `market.population` or `segments[1].value`.
        key: String,
        location: Option<Location>,
        message: String,
    },
    /// A `--set KEY=VALUE` override (or a shortcut such as `--replications`) that cannot be
    /// applied; `given` is what the user typed.
    #[error("{given}: {message}")]
    InvalidOverride { given: String, message: String },
    /// A name that is not a bundled preset.
    #[error("unknown preset `{name}`; bundled presets are: {available}")]
    UnknownPreset { name: String, available: String },
    /// A command-line value that is out of range.
    #[error("{option}: {message}")]
    InvalidOption { option: String, message: String },
    /// A run that would need more memory than allowed without `--allow-large`.
    #[error(
        "this run needs about {needed_mib} MiB of memory, more than a quarter of this machine's \
         {total_mib} MiB; reduce market.population or --threads, or pass --allow-large"
    )]
    TooLarge { needed_mib: u64, total_mib: u64 },
    /// An output directory holding files other than relsim's own or results that are unreadable.
    #[error("{}: {message}", path.display())]
    InvalidOutput { path: PathBuf, message: String },
    /// An output folder that cannot receive a run (checked before simulating).
    #[error("output folder {}: {message}", path.display())]
    OutputFolder { path: PathBuf, message: String },
    /// A run stopped by a signal before it finished; nothing was written.
    #[error(
        "interrupted by {} after {finished} of {total} {units}; nothing was written (the \
         output folder is as it was before the run)",
        signal_name(*signal)
    )]
    Interrupted {
        /// The signal's number (2 for SIGINT, 15 for SIGTERM).
        signal: i32,
        finished: u64,
        total: u64,
        /// What was counted: `replications`, or `point-replications` in a sweep.
        units: &'static str,
        /// Where the time of the finished ones went, for the record of a stopped shard's
        /// session (zero where nothing timed them).
        time_split: crate::output::TimeSplit,
    },
    /// A run or shard stopped by a signal: what it finished is kept in `kept` (a shard's part
    /// folder, or a run's checkpoint folder).
    #[error(
        "interrupted by {} with {done} of {whose}{total} {units} done; they are kept in {}. \
         Continue with:\n  {resume}",
        signal_name(*signal),
        kept.display()
    )]
    InterruptedKept {
        signal: i32,
        done: u64,
        total: u64,
        /// What was counted: `replications`, or `point-replications` in a sweep.
        units: &'static str,
        /// Whose they are, before the total: `the shard's ` for a shard, empty for a run.
        whose: &'static str,
        kept: PathBuf,
        /// The command that continues the work.
        resume: String,
    },
    /// A file that could not be written.
    /// A data file (observed retention) that cannot be read or makes no sense.
    #[error("{}{}: {message}", path.display(), row.map(|r| format!(", row {r}")).unwrap_or_default())]
    InvalidData {
        path: PathBuf,
        /// The 1-based line of the file, where one row is at fault.
        row: Option<usize>,
        message: String,
    },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
    /// A chart that could not be drawn.
    #[error("cannot draw the {chart} chart: {message}")]
    Plot { chart: String, message: String },
    /// `relsim verify` found cases that do not hold.
    #[error("{failed} of {total} verification cases failed")]
    VerificationFailed { failed: usize, total: usize },
    /// A thread pool that could not be started.
    #[error("cannot start {threads} worker threads: {message}")]
    ThreadPool { threads: usize, message: String },
}

fn describe_invalid(file: &str, key: &str, location: Option<&Location>, message: &str) -> String {
    let mut text = String::from(file);
    if let Some(location) = location {
        text.push_str(&format!(":{}:{}", location.line, location.column));
    }
    if !key.is_empty() {
        text.push_str(&format!(": {key}"));
    }
    text.push_str(": ");
    text.push_str(message);
    text
}

/// The conventional name of a signal relsim stops on.
fn signal_name(signal: i32) -> String {
    use signal_hook::consts::{SIGHUP, SIGINT, SIGTERM, SIGUSR1};
    match signal {
        SIGHUP => "SIGHUP".into(),
        SIGINT => "SIGINT (Ctrl-C)".into(),
        SIGUSR1 => "SIGUSR1".into(),
        SIGTERM => "SIGTERM".into(),
        other => format!("signal {other}"),
    }
}

impl Error {
    /// The process exit code for this error: 2 for bad input, 1 for anything else.
    pub fn exit_code(&self) -> u8 {
        match self {
            Error::ReadScenario { .. }
            | Error::InvalidScenario { .. }
            | Error::InvalidOverride { .. }
            | Error::UnknownPreset { .. }
            | Error::InvalidOption { .. }
            | Error::TooLarge { .. }
            | Error::InvalidOutput { .. }
            | Error::InvalidData { .. }
            | Error::OutputFolder { .. } => 2,
            // The shell's convention: 128 + the signal's number.
            Error::Interrupted { signal, .. } | Error::InterruptedKept { signal, .. } => {
                128u8.saturating_add(*signal as u8)
            }
            Error::Write { .. }
            | Error::ThreadPool { .. }
            | Error::Plot { .. }
            | Error::VerificationFailed { .. } => 1,
        }
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "line {}, column {}", self.line, self.column)
    }
}

/// relsim's result type.
pub type Result<T, E = Error> = std::result::Result<T, E>;
