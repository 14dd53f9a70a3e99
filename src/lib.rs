//! relsim: an agent-based Monte-Carlo simulator of a firm's stakeholder network that answers
//! *when does investing in long-term relationships pay off compared with chasing transactions?*
//!
//! The model is specified in `docs/model.md`; `ARCHITECTURE.md` maps it to the modules below.
//!
//! - [`scenario`] reads and validates scenario files into a [`Scenario`].
//! - [`model`] holds the equations, parameters, customers and networks (pure).
//! - [`strategy`] holds the levers and presets.
//! - [`engine`] simulates one strategy on one replication (pure, single-threaded).
//! - [`experiment`] runs replications in parallel with common random numbers and collects results.
//! - [`stats`] summarises across replications.
//! - [`output`] writes result files; [`plot`] draws the charts; [`report`] prints the terminal
//!   summary and writes the HTML report.
//! - [`verify`] checks the model against analytic results and stylized facts.
//! - [`cli`] is the command line; [`commands`] implements its commands.
//!
//! # Using the library
//!
//! Run a bundled scenario with a few changes and read the verdict, as `relsim run` does:
//!
//! ```
//! use relsim::experiment::{run_experiment, ExperimentOptions, ResultsCollector};
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
//! let results = collector.finish();
//! assert_eq!(results.runs.replications(), 4);
//! let npv = results.summary(0, "npv").expect("every strategy has an NPV summary");
//! assert!(npv.interval.ci_low <= npv.interval.mean);
//! println!("{}", relsim::report::verdict(&results));
//! # Ok::<(), relsim::Error>(())
//! ```

pub mod cli;
pub mod commands;
pub mod engine;
pub mod error;
pub mod experiment;
pub mod model;
pub mod output;
pub mod plot;
pub mod report;
pub mod scenario;
pub mod stats;
pub mod strategy;
pub mod verify;

pub use error::{Error, Result};
pub use scenario::Scenario;
