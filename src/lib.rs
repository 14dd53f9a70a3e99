//! relsim: an agent-based Monte-Carlo simulator of a firm's stakeholder network that answers
//! *when does investing in long-term relationships pay off compared with chasing transactions?*
//!
//! The model is specified in `docs/model.md`; `ARCHITECTURE.md` maps it to the modules below.
//!
//! # Public API
//!
//! These modules are the library's API:
//! - [`scenario`] reads and validates scenario files into a [`Scenario`], a sealed type whose
//!   only constructors validate (`parse`, `Scenario::with`).
//! - [`experiment`] runs replications in parallel with common random numbers
//!   ([`experiment::run_experiment`], [`experiment::run_sweep`]); [`results`] holds what they
//!   produce, as data ([`results::ResultsCollector`], [`results::PointStream`]).
//! - [`sweep`] lays out designs and analyses sweeps (robustness, sensitivity, break-even).
//! - [`engine`] simulates one strategy on one replication (pure; it starts no thread, but runs
//!   in chunks that [`experiment`] spreads over its pool).
//! - [`model`] holds the equations, parameters, customers and networks (pure); [`strategy`]
//!   the levers and presets.
//! - [`stats`] summarises across replications and estimates sensitivity indices.
//! - [`output`] writes and reads result folders; [`plot`] draws the charts; [`report`] prints
//!   the terminal summary and writes the HTML report.
//! - [`verify`] checks the model against analytic results and stylized facts.
//! - [`Error`] and [`Result`]: every fallible function returns them.
//!
//! [`cli`] and [`commands`] are the `relsim` binary's: public so that the binary (a thin shell)
//! can call them, hidden from the documentation, and not part of the API. Items a module needs
//! only inside the crate are `pub(crate)`.
//!
//! # Using the library
//!
//! Run a bundled scenario with a few changes and read the verdict, as `relsim run` does:
//!
//! ```
//! use relsim::experiment::{run_experiment, ExperimentOptions};
//! use relsim::results::{ResultsCollector, RunSink};
//! use relsim::scenario::{parse, presets, Override};
//!
//! let overrides = [
//!     Override::parse("market.population=2000")?,
//!     Override::parse("market.initial_active=200")?,
//!     Override::parse("replications=4")?,
//! ];
//! let default = presets::find("default").expect("default is bundled");
//! let scenario = parse(default.text, "default", &overrides)?;
//! let mut collector = ResultsCollector::new(&scenario);
//! run_experiment(&scenario, ExperimentOptions::default(), &mut collector, &|| {})?;
//! let results = collector.finish()?;
//! assert_eq!(results.runs.replications(), 4);
//! let npv = results.summary(0, "npv").expect("every strategy has an NPV summary");
//! assert!(npv.interval.ci_low <= npv.interval.mean);
//! println!("{}", relsim::report::verdict(&results));
//! # Ok::<(), relsim::Error>(())
//! ```

pub mod calibrate;
#[doc(hidden)]
pub mod cli;
#[doc(hidden)]
pub mod commands;
pub mod dashboard;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod model;
pub mod output;
pub mod plot;
pub mod report;
pub mod results;
pub mod scenario;
pub mod stats;
pub mod stories;
pub mod strategy;
pub mod sweep;
pub mod verify;

pub use error::{Error, Result};
pub use scenario::Scenario;
