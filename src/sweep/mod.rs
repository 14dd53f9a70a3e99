//! Sweeps: one scenario run at many points of parameter space, and what the results say about
//! the verdict's robustness and each parameter's weight (docs/sweeps.md).
//!
//! - [`design`]: the `[design]` and `[[vary]]` tables, checked, and the points they lay out;
//! - [`quantiles`]: from the unit cube to parameter values;
//! - [`run`]: every point × replication × strategy, in parallel, handed on in order;
//! - [`analysis`]: running moments per point, robustness of the verdict, sensitivity;
//! - [`sensitivity`]: the Sobol and Morris estimators;
//! - [`files`]: the tidy files and their columns.
//!
//! `relsim sweep` (in [`crate::commands`]) strings them together.

pub mod analysis;
pub mod design;
pub mod files;
pub mod quantiles;
pub mod run;
pub mod sensitivity;

pub use run::{run_sweep, ExecutionOptions, PreparedSweep, SweepInfo, UnitResult};
