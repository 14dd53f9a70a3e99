//! Sweeps: one scenario run at many points of parameter space, and what the results say about
//! the verdict's robustness and each parameter's weight (docs/sweeps.md).
//!
//! - [`design`]: the `[design]` and `[[vary]]` tables, checked, and the points they lay out;
//! - [`quantiles`]: from the unit cube to parameter values;
//! - [`points`]: each point's scenario and values, and what a unit (point × replication) gives
//!   ([`crate::experiment::run_sweep`] runs them in parallel);
//! - [`summaries`]: running moments per point, kept on disk as points complete;
//! - [`analysis`]: robustness of the verdict and sensitivity, from those summaries;
//! - [`sensitivity`]: the Sobol and Morris estimators;
//! - [`breakeven`]: where a paired difference crosses zero, along one parameter or two;
//! - [`levers`]: Shapley decomposition of the NPV gap between two strategies by lever;
//! - [`files`]: the tidy files and their columns; [`parquet`]: `runs.parquet`.
//!
//! `relsim sweep` (in [`crate::commands`]) strings them together.

pub mod analysis;
pub mod breakeven;
pub mod design;
pub mod files;
pub mod levers;
pub mod parquet;
pub mod points;
pub mod quantiles;

pub use points::PreparedSweep;
