//! What a long command shows while it works: a progress bar for a person at a terminal, or a
//! stream of JSON lines for a scheduler or a notebook (`--progress json`).
//!
//! A JSON line is one object, written to standard error as work completes (at most every half
//! second, and always at the start and at the end):
//!
//! ```text
//! {"event":"progress","units":"replications","done":3,"total":8,"elapsed_seconds":0.41,"eta_seconds":0.68}
//! ```
//!
//! `eta_seconds` is `null` until the first unit is done. The last line's `event` is
//! `finished` (with `done` equal to `total`), or `stopped` when the run was interrupted. A
//! shard's lines add `"shard":"2/8"`, and count the shard's units, those its journal already
//! held included.

use std::io::Write;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

/// How progress is shown.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ProgressOutput {
    /// A bar with the ETA on standard error (hidden by `--quiet` and when standard error is not
    /// a terminal).
    #[default]
    Bar,
    /// One JSON object per line on standard error, even with `--quiet`.
    Json,
    /// Nothing.
    None,
}

/// The shortest time between two JSON lines (the first and the last are always written).
const JSON_INTERVAL: Duration = Duration::from_millis(500);

/// Progress over a known number of units, shown as [`ProgressOutput`] says. Workers call
/// [`Progress::inc`] from any thread.
pub(crate) struct Progress {
    shown: Shown,
}

enum Shown {
    Bar(ProgressBar),
    Json(JsonProgress),
}

struct JsonProgress {
    units: String,
    /// `i/n` for a shard.
    shard: Option<String>,
    total: u64,
    /// Units done before this process started (a resumed shard's journal).
    done_before: u64,
    done: AtomicU64,
    started: Instant,
    /// When the last line was written; the lock also keeps lines whole.
    last_line: Mutex<Instant>,
}

impl JsonProgress {
    /// Writes a line; `done` counts the units this process did.
    fn write_line(&self, done: u64, event: &str) {
        let elapsed = self.started.elapsed().as_secs_f64();
        let total = self.total - self.done_before;
        let eta = if done > 0 {
            format!(
                "{:.2}",
                elapsed / done as f64 * (total - done.min(total)) as f64
            )
        } else {
            "null".to_string()
        };
        let units = serde_json::to_string(&self.units).unwrap_or_else(|_| "\"units\"".into());
        let shard = self
            .shard
            .as_ref()
            .map(|shard| format!(",\"shard\":\"{shard}\""))
            .unwrap_or_default();
        // A reader that went away is no reason to stop the work.
        let _ = writeln!(
            std::io::stderr().lock(),
            "{{\"event\":\"{event}\",\"units\":{units},\"done\":{},\"total\":{}{shard},\
             \"elapsed_seconds\":{elapsed:.2},\"eta_seconds\":{eta}}}",
            self.done_before + done,
            self.total
        );
    }
}

impl Progress {
    /// Progress over `total` `units`; `message` labels the bar. `quiet` hides the bar but not
    /// a JSON stream, which was asked for by name.
    pub(crate) fn new(
        output: ProgressOutput,
        quiet: bool,
        total: u64,
        units: &str,
        message: String,
    ) -> Self {
        Self::build(output, quiet, total, units, message, None, 0)
    }

    /// Progress of shard `shard`, whose `total` units include `done_before` that its journal
    /// already held.
    pub(crate) fn of_shard(
        output: ProgressOutput,
        quiet: bool,
        shard: crate::experiment::Shard,
        done_before: u64,
        total: u64,
        units: &str,
        message: String,
    ) -> Self {
        let shard = Some(shard.to_string());
        Self::build(output, quiet, total, units, message, shard, done_before)
    }

    fn build(
        output: ProgressOutput,
        quiet: bool,
        total: u64,
        units: &str,
        message: String,
        shard: Option<String>,
        done_before: u64,
    ) -> Self {
        let to_do = total - done_before.min(total);
        let shown = match output {
            ProgressOutput::Json => {
                let json = JsonProgress {
                    units: units.to_string(),
                    shard,
                    done_before: done_before.min(total),
                    total,
                    done: AtomicU64::new(0),
                    started: Instant::now(),
                    last_line: Mutex::new(Instant::now()),
                };
                json.write_line(0, "progress");
                Shown::Json(json)
            }
            ProgressOutput::Bar if !quiet => {
                let bar = ProgressBar::new(to_do);
                bar.set_style(
                    ProgressStyle::with_template(&format!(
                        "{{msg}} [{{bar:30}}] {{pos}}/{{len}} {units}, {{eta}} left"
                    ))
                    .expect("the template is valid")
                    .progress_chars("=> "),
                );
                bar.set_message(message);
                Shown::Bar(bar)
            }
            ProgressOutput::Bar | ProgressOutput::None => Shown::Bar(ProgressBar::hidden()),
        };
        Self { shown }
    }

    /// One more unit done.
    pub(crate) fn inc(&self) {
        match &self.shown {
            Shown::Bar(bar) => bar.inc(1),
            Shown::Json(json) => {
                let done = json.done.fetch_add(1, Ordering::Relaxed) + 1;
                if json.done_before + done >= json.total {
                    return; // the last line is written by `finish`
                }
                // Skip the line if another thread is writing one or one was written recently.
                if let Ok(mut last) = json.last_line.try_lock() {
                    if last.elapsed() >= JSON_INTERVAL {
                        *last = Instant::now();
                        json.write_line(done, "progress");
                    }
                }
            }
        }
    }

    /// The work has ended: the bar is cleared; the JSON stream gets its last line with the
    /// units done (all of them unless the run was stopped).
    pub(crate) fn finish(&self) {
        match &self.shown {
            Shown::Bar(bar) => bar.finish_and_clear(),
            Shown::Json(json) => {
                let done = json.done.load(Ordering::Relaxed);
                let event = if json.done_before + done >= json.total {
                    "finished"
                } else {
                    "stopped"
                };
                let _lock = json.last_line.lock();
                json.write_line(done, event);
            }
        }
    }
}
