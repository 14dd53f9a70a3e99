//! The scenario file format as serde sees it: it mirrors the TOML file, unknown keys rejected.
//! `scenario::validate` turns it into a checked [`super::Scenario`].

use crate::calibrate::CalibrationRecord;
use crate::sweep::design::{DesignSpec, VarySpec};
use serde::{Deserialize, Serialize};

use crate::model::params::{
    default_segments, DefectionParams, DistributorParams, EpisodeParams, HeterogeneityParams,
    MarketParams, NetworkParams, RelationshipParams, SegmentParams, SupplierParams,
    WarmStartParams,
};

/// A scenario file as written.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name, used for the output folder.
    pub name: String,
    #[serde(default)]
    pub description: String,
    #[serde(default = "default_periods")]
    pub periods: u32,
    #[serde(default = "default_periods_per_year")]
    pub periods_per_year: f64,
    #[serde(default = "default_replications")]
    pub replications: u32,
    #[serde(default = "default_seed")]
    pub seed: u64,
    #[serde(default = "default_annual_discount_rate")]
    pub annual_discount_rate: f64,
    #[serde(default)]
    pub market: MarketParams,
    #[serde(default)]
    pub relationship: RelationshipParams,
    #[serde(default)]
    pub episode: EpisodeParams,
    #[serde(default)]
    pub defection: DefectionParams,
    #[serde(default)]
    pub heterogeneity: HeterogeneityParams,
    #[serde(default)]
    pub warm_start: WarmStartParams,
    #[serde(default = "default_segments")]
    pub segments: Vec<SegmentParams>,
    #[serde(default)]
    pub network: NetworkParams,
    #[serde(default)]
    pub suppliers: SupplierParams,
    #[serde(default)]
    pub distributors: DistributorParams,
    /// Each entry: `preset` (required), optional `name`, and any lever to override.
    #[serde(default = "default_strategies")]
    pub strategies: Vec<toml::Table>,
    /// How `relsim sweep` chooses points (docs/sweeps.md); `relsim run` ignores it.
    #[serde(default)]
    pub design: Option<DesignSpec>,
    /// The parameters a sweep varies, one table each.
    #[serde(default)]
    pub vary: Vec<VarySpec>,
    /// What `relsim calibrate` fitted (docs/calibration.md); the simulation ignores it.
    #[serde(default)]
    pub calibration: Option<CalibrationRecord>,
}

fn default_periods() -> u32 {
    60
}

fn default_periods_per_year() -> f64 {
    12.0
}

fn default_replications() -> u32 {
    200
}

fn default_seed() -> u64 {
    1
}

fn default_annual_discount_rate() -> f64 {
    0.10
}

fn default_strategies() -> Vec<toml::Table> {
    ["transactional", "relationship", "hybrid"]
        .iter()
        .map(|preset| {
            let mut table = toml::Table::new();
            table.insert("preset".into(), toml::Value::String(preset.to_string()));
            table
        })
        .collect()
}
