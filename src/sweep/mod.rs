//! Sweeps: one scenario run at many points of parameter space, and what the results say about
//! the verdict's robustness and each parameter's weight (docs/sweeps.md).
//!
//! - [`design`]: the `[design]` and `[[vary]]` tables, checked, and the points they lay out;
//! - [`quantiles`]: from the unit cube to parameter values;
//! - [`sensitivity`]: Sobol and Morris estimators.

pub mod design;
pub mod quantiles;
pub mod sensitivity;
