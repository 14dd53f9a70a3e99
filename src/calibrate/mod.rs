//! Calibration: fitting a scenario's churn to a firm's own cohort survival
//! (docs/calibration.md, `relsim calibrate`).
//!
//! - [`data`]: the retention CSV (and the optional series of customers won and revenue per
//!   customer), read and checked row by row;
//! - [`likelihood`]: the likelihood of observed survival under a survival curve (and the
//!   shifted-beta-geometric curve, for tests and examples);
//! - [`fit`]: maximum likelihood with the simulation in the loop, standard errors, goodness of
//!   fit and the holdout projection;
//! - [`record`]: the `[calibration]` table the calibrated scenario carries.
//!
//! The simulation itself (replications in parallel, common random numbers across candidate
//! values) is [`crate::experiment::calibrate`]; the optimiser is [`crate::stats::optimize`].

pub mod data;
pub mod fit;
pub mod likelihood;
pub mod record;

pub use data::{
    parse_retention as parse_retention_text, parse_series, read_retention, read_series, Cohort,
    RetentionData, SeriesData, SeriesKind,
};
pub use fit::{
    default_keys, fit, CalibrationData, Fit, FitOptions, FittedCurve, FittedValue, Group, SeriesFit,
};
pub use record::{CalibrationRecord, FittedRecord};
