//! Human-readable summaries of results: the terminal table and the verdict sentence.

pub mod format;
pub mod terminal;

pub use terminal::{terminal_report, verdict};
