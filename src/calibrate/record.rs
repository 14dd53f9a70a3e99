//! The `[calibration]` table `relsim calibrate` writes into the calibrated scenario: what was
//! fitted, to which data, and how well (docs/calibration.md). `relsim run` ignores it for the
//! simulation; `report.html` states it, and says whether a fitted key was edited since.

use serde::{Deserialize, Serialize};

/// What a calibration did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalibrationRecord {
    /// The retention file, as given on the command line.
    pub data: String,
    /// The files of customers won and of revenue per customer, when given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_data: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_data: Option<String>,
    /// The strategy whose survival was fitted.
    pub strategy: String,
    /// The last period fitted (earlier than the data's last with `--holdout`).
    pub fitted_through: u32,
    /// Replications behind each simulated curve.
    pub replications: u32,
    pub fitted: Vec<FittedRecord>,
    pub log_likelihood: f64,
    pub deviance: f64,
    pub degrees_of_freedom: i64,
    /// How much more the cohorts varied than chance allows (1: no more); the intervals were
    /// widened by its square root.
    #[serde(default = "one")]
    pub dispersion: f64,
    /// Observed vs fitted survival over the fitted periods, in percentage points.
    pub rmse_points: f64,
    pub max_points: f64,
    /// Observed vs projected survival after `fitted_through`, with `--holdout`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout_rmse_points: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub holdout_max_points: Option<f64>,
    /// Customers won and revenue per customer against the simulation over the fitted periods:
    /// root mean square in percent of the observed mean, when those data were given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acquisition_rmse_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub revenue_rmse_percent: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
}

fn one() -> f64 {
    1.0
}

/// One fitted key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FittedRecord {
    pub key: String,
    pub value: f64,
    pub ci_low: f64,
    pub ci_high: f64,
    pub standard_error: f64,
}

impl CalibrationRecord {
    /// One paragraph for a reader: what was fitted to what, and how well.
    pub fn describe(&self) -> String {
        let values: Vec<String> = self
            .fitted
            .iter()
            .map(|f| {
                format!(
                    "{} = {:.4} [{:.4}, {:.4}]",
                    f.key, f.value, f.ci_low, f.ci_high
                )
            })
            .collect();
        let mut also: Vec<String> = Vec::new();
        if let Some(path) = &self.acquisition_data {
            also.push(format!("customers won in {path}"));
        }
        if let Some(path) = &self.revenue_data {
            also.push(format!("revenue per customer in {path}"));
        }
        let also = if also.is_empty() {
            String::new()
        } else {
            format!(" and to {}", also.join(" and "))
        };
        let mut text = format!(
            "Fitted by relsim calibrate to the cohort survival in {}{also} under strategy {} \
             (periods 1–{}, {} replications per curve): {}. Fit: deviance {:.1} on {} degrees \
             of freedom; observed and simulated survival differ by {:.2} percentage points \
             (root mean square), at most {:.2}.",
            self.data,
            self.strategy,
            self.fitted_through,
            self.replications,
            values.join("; "),
            self.deviance,
            self.degrees_of_freedom,
            self.rmse_points,
            self.max_points
        );
        for (rmse, what) in [
            (self.acquisition_rmse_percent, "Customers won differ"),
            (self.revenue_rmse_percent, "Revenue per customer differs"),
        ] {
            if let Some(rmse) = rmse {
                text.push_str(&format!(
                    " {what} from the simulation by {rmse:.1} % of the observed mean (root \
                     mean square)."
                ));
            }
        }
        if self.dispersion > 1.0 {
            text.push_str(&format!(
                " The cohorts varied {:.2} times more than chance allows; the intervals are \
                 widened for it.",
                self.dispersion
            ));
        }
        if let (Some(rmse), Some(max)) = (self.holdout_rmse_points, self.holdout_max_points) {
            text.push_str(&format!(
                " Projected past period {}: {rmse:.2} points (root mean square), at most \
                 {max:.2}.",
                self.fitted_through
            ));
        }
        text
    }
}
