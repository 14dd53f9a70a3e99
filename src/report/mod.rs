//! Human-readable summaries of results: the terminal table, the verdict sentence, the HTML
//! report of a run and that of a sweep (`sweep_report.html`).

pub mod format;
pub mod html;
pub mod stories_html;
pub mod sweep_html;
pub mod terminal;

pub use html::html_report;
pub use terminal::{count, terminal_report, verdict};
