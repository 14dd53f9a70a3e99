//! Human-readable summaries of results: the terminal table, the verdict sentence and the HTML
//! report.

pub mod format;
pub mod html;
pub mod terminal;

pub use html::html_report;
pub use terminal::{count, terminal_report, verdict};
