//! Scenarios: the TOML file format, command-line overrides, validation and bundled presets.
//!
//! Reading a scenario goes: text → TOML syntax check → [`file::ScenarioFile`] (serde, unknown
//! keys rejected, errors name key, line and column) → overrides applied → [`validate`] →
//! [`Scenario`], whose every value is in range.

pub mod file;
pub mod overrides;
pub mod presets;
pub mod validate;

use std::path::Path;

use serde::Serialize;

use crate::calibrate::CalibrationRecord;
use crate::engine::RunConfig;
use crate::error::{Error, Result};
use crate::model::economics::per_period_discount_rate;
use crate::model::params::ModelParams;
use crate::strategy::Strategy;
use crate::sweep::design::{Design, DesignSpec, VarySpec};
use file::ScenarioFile;
pub use overrides::Override;

/// A checked scenario: the market, the strategies to compare and how to run them.
///
/// Sealed: the only ways to get one are [`parse`] (or [`ScenarioSource::scenario`]) and
/// [`Scenario::with`], which go through validation, so every value in it is in range and the
/// engine may trust it. Read it through its accessors.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scenario {
    name: String,
    description: String,
    periods: u32,
    periods_per_year: f64,
    replications: u32,
    seed: u64,
    annual_discount_rate: f64,
    /// Written at the top level, as in a scenario file.
    #[serde(flatten)]
    model: ModelParams,
    strategies: Vec<Strategy>,
    /// The sweep design as written, kept so the scenario writes itself back whole.
    #[serde(rename = "design", skip_serializing_if = "Option::is_none")]
    design_spec: Option<DesignSpec>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    vary: Vec<VarySpec>,
    /// The checked design, if the scenario has one.
    #[serde(skip)]
    design: Option<Design>,
    /// What `relsim calibrate` fitted, if it wrote this scenario.
    #[serde(skip_serializing_if = "Option::is_none")]
    calibration: Option<CalibrationRecord>,
}

impl Scenario {
    /// The scenario's name; it names the output folder.
    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn description(&self) -> &str {
        &self.description
    }

    /// Periods simulated (the horizon `T`).
    pub fn periods(&self) -> u32 {
        self.periods
    }

    pub fn periods_per_year(&self) -> f64 {
        self.periods_per_year
    }

    pub fn replications(&self) -> u32 {
        self.replications
    }

    /// The master seed every replication's seeds derive from.
    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn annual_discount_rate(&self) -> f64 {
        self.annual_discount_rate
    }

    /// The market: every model parameter.
    pub fn model(&self) -> &ModelParams {
        &self.model
    }

    /// The strategies to compare, in the order of the file.
    pub fn strategies(&self) -> &[Strategy] {
        &self.strategies
    }

    /// The index of the strategy called `name`; an error for `option` (`--strategy`) that
    /// names the scenario's strategies otherwise.
    pub fn strategy_index(&self, name: &str, option: &str) -> Result<usize> {
        let names: Vec<&str> = self.strategies.iter().map(|s| s.name.as_str()).collect();
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| Error::InvalidOption {
                option: option.into(),
                message: format!(
                    "`{name}` is not a strategy of {}; it has {}",
                    self.name,
                    names.join(", ")
                ),
            })
    }

    /// The sweep design of `[design]` and `[[vary]]`, checked, if the file has one.
    pub fn design(&self) -> Option<&Design> {
        self.design.as_ref()
    }

    /// This scenario at one point of a design: every `(key, value)` set through the checks of
    /// `--set`, in one pass, and the design itself dropped.
    pub fn at_point(&self, assignments: &[(&str, &toml::Value)]) -> Result<Scenario> {
        let overrides = assignments
            .iter()
            .map(|(key, value)| Override::parse(&format!("{key}={value}")))
            .collect::<Result<Vec<_>>>()?;
        let mut base = self.clone();
        base.design_spec = None;
        base.vary.clear();
        base.design = None;
        if overrides.is_empty() {
            return Ok(base);
        }
        parse(
            &base.to_toml(),
            &format!("scenario {}", self.name),
            &overrides,
        )
    }

    /// What `relsim calibrate` fitted, if this is a calibrated scenario.
    pub fn calibration(&self) -> Option<&CalibrationRecord> {
        self.calibration.as_ref()
    }

    /// This scenario carrying `record` (the simulation ignores it).
    pub fn with_calibration(&self, record: CalibrationRecord) -> Scenario {
        Scenario {
            calibration: Some(record),
            ..self.clone()
        }
    }

    /// The value of a dotted key (`defection.baseline`, `segments.1.value`) as the scenario
    /// holds it, every default written out; `None` if there is no such key.
    pub fn value_of(&self, key: &str) -> Option<toml::Value> {
        let table: toml::Table = self.to_toml().parse().ok()?;
        value_at(&table, key).cloned()
    }

    /// This scenario with `key` set to `value`, through exactly the checks of `--set KEY=VALUE`
    /// (and of the file): `scenario.with("replications", 40)?`,
    /// `scenario.with("strategies.1.price_level", 0.9)?`. The value is a TOML value: a number,
    /// a boolean, a string, an array or a table.
    pub fn with(&self, key: &str, value: impl Into<toml::Value>) -> Result<Scenario> {
        let value: toml::Value = value.into();
        let assignment = Override::parse(&format!("{key}={value}"))?;
        let text = self.to_toml();
        parse(&text, &format!("scenario {}", self.name), &[assignment])
    }

    /// What the engine needs to run strategy `strategy_idx` of this scenario.
    ///
    /// # Panics
    /// If `strategy_idx` is not the index of one of [`Self::strategies`].
    pub fn run_config(&self, strategy_idx: usize) -> RunConfig<'_> {
        RunConfig {
            model: &self.model,
            levers: &self.strategies[strategy_idx].levers,
            periods: self.periods,
            discount_rate: self.discount_rate(),
        }
    }

    /// Discount rate per period `d` (docs/model.md §1).
    pub fn discount_rate(&self) -> f64 {
        per_period_discount_rate(self.annual_discount_rate, self.periods_per_year)
    }

    /// Customer-steps one replication of every strategy simulates.
    pub fn customer_steps_per_replication(&self) -> u64 {
        self.model.market.population as u64 * self.periods as u64 * self.strategies.len() as u64
    }

    /// Things the scenario does that are allowed but may not be what its author meant, in
    /// sentences: `relsim validate` and `relsim run` show them.
    pub fn notes(&self) -> Vec<String> {
        let mut notes = Vec::new();
        let segments = &self.model.segments;
        let total: f64 = segments.iter().map(|s| s.share).sum();
        if (total - 1.0).abs() > 1e-9 {
            let proportions: Vec<String> = segments
                .iter()
                .map(|s| format!("{} {:.4}", s.name, s.share / total))
                .collect();
            notes.push(format!(
                "segment shares sum to {total}, not 1; relsim divides each by {total}, so the \
                 segments make up {} of the population",
                proportions.join(", ")
            ));
        }
        if let Some(design) = &self.design {
            notes.push(format!(
                "this scenario describes a {} design of {} points; `relsim run` runs its base \
                 values only, `relsim sweep` runs the design",
                design.kind.name(),
                design.point_count()
            ));
        }
        notes
    }

    /// The expanded scenario as TOML, every default written out. The text is itself a valid
    /// scenario file that reads back to the same scenario.
    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).unwrap_or_else(|err| format!("# cannot show: {err}\n"))
    }
}

/// Parses and validates scenario text. `source_name` names it in messages.
pub fn parse(text: &str, source_name: &str, overrides: &[Override]) -> Result<Scenario> {
    // Syntax first, so that a malformed file is reported with its own line.
    let mut table: toml::Table = text.parse().map_err(|err: toml::de::Error| {
        let location = err
            .span()
            .map(|span| validate::location_of(text, span.start));
        Error::InvalidScenario {
            file: source_name.to_string(),
            key: location
                .as_ref()
                .and_then(|at| validate::key_on_line(text, at.line))
                .unwrap_or_default(),
            location,
            message: err.message().trim().to_string(),
        }
    })?;
    // The file alone, with spans, so that type errors point at their line.
    let from_text: ScenarioFile =
        serde_path_to_error::deserialize(toml::Deserializer::new(text))
            .map_err(|err| validate::describe_parse_error(err, source_name, Some(text)))?;
    if overrides.is_empty() {
        return validate::validate(from_text, source_name, Some(text));
    }
    for assignment in overrides {
        assignment.apply(&mut table)?;
    }
    // Messages name the options the user typed: `default with --replications`.
    let mut options: Vec<&str> = overrides.iter().map(Override::option).collect();
    options.dedup();
    let overridden_name = format!("{source_name} with {}", options.join(", "));
    let overridden: ScenarioFile = serde_path_to_error::deserialize(toml::Value::Table(table))
        .map_err(|err| {
            let key = err.path().to_string();
            let message = validate::plain_message(err.inner().message());
            Error::InvalidScenario {
                file: overridden_name.clone(),
                key: if key == "." { String::new() } else { key },
                location: None,
                message,
            }
        })?;
    validate::validate(overridden, &overridden_name, None)
}

/// Where a scenario comes from: a file, or a bundled preset by name.
#[derive(Debug, Clone, PartialEq)]
pub struct ScenarioSource {
    /// How messages and the manifest name it.
    pub name: String,
    pub text: String,
}

impl ScenarioSource {
    /// Reads `spec` as a file if one exists at that path, else as a bundled preset's name.
    pub fn open(spec: &str) -> Result<Self> {
        let path = Path::new(spec);
        if path.exists() {
            let text = std::fs::read_to_string(path).map_err(|source| Error::ReadScenario {
                path: path.to_path_buf(),
                source,
            })?;
            return Ok(Self {
                name: spec.to_string(),
                text,
            });
        }
        match presets::find(spec) {
            Some(preset) => Ok(Self {
                name: format!("preset {}", preset.name),
                text: preset.text.to_string(),
            }),
            None if spec.ends_with(".toml") || spec.contains('/') => Err(Error::ReadScenario {
                path: path.to_path_buf(),
                source: std::io::Error::new(
                    std::io::ErrorKind::NotFound,
                    format!(
                        "no such file (bundled presets, usable by name: {})",
                        presets::names().join(", ")
                    ),
                ),
            }),
            None => Err(Error::UnknownPreset {
                name: spec.to_string(),
                available: presets::names().join(", "),
            }),
        }
    }

    /// Parses and validates this source.
    pub fn scenario(&self, overrides: &[Override]) -> Result<Scenario> {
        parse(&self.text, &self.name, overrides)
    }
}

/// The value at a dotted key (`market.population`, `strategies.1.price_level`).
pub(crate) fn value_at<'a>(table: &'a toml::Table, key: &str) -> Option<&'a toml::Value> {
    let mut segments = key.split('.');
    let mut current = table.get(segments.next()?)?;
    for segment in segments {
        current = match current {
            toml::Value::Table(table) => table.get(segment)?,
            toml::Value::Array(array) => array.get(segment.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    Some(current)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn default_scenario() -> Scenario {
        parse(presets::find("default").unwrap().text, "default", &[]).unwrap()
    }

    #[test]
    fn with_sets_a_key_through_the_same_checks_as_set() {
        let scenario = default_scenario();
        let changed = scenario.with("replications", 7).unwrap();
        assert_eq!(changed.replications(), 7);
        assert_eq!(changed.model(), scenario.model());
        let priced = scenario.with("strategies.1.price_level", 0.9).unwrap();
        assert_eq!(priced.strategies()[1].levers.price_level, 0.9);
        let mixed = scenario.with("network.kind", "mixed").unwrap();
        assert!(matches!(
            mixed.model().network,
            crate::model::params::NetworkParams::Mixed {}
        ));
        for (key, value, fragment) in [
            ("replications", toml::Value::from(0), "replications"),
            (
                "market.base_failure",
                toml::Value::from(1.5),
                "between 0 and 1",
            ),
            ("market.colour", toml::Value::from("red"), "unknown field"),
        ] {
            let err = scenario.with(key, value).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains(fragment), "{err}");
        }
    }

    #[test]
    fn a_partial_turnover_table_keeps_the_partner_kinds_defaults() {
        let scenario = default_scenario();
        let model = scenario.model();
        // Suppliers' replacements deliver at once; distributors' need a month.
        assert_eq!(model.suppliers.turnover.onboarding_periods, 0);
        assert_eq!(model.distributors.turnover.onboarding_periods, 1);
        for key in ["suppliers", "distributors"] {
            let changed = scenario
                .with(&format!("{key}.turnover.replacement_cost"), 5_000.0)
                .unwrap();
            let (before, after) = match key {
                "suppliers" => (model.suppliers.turnover, changed.model().suppliers.turnover),
                _ => (
                    model.distributors.turnover,
                    changed.model().distributors.turnover,
                ),
            };
            assert_eq!(after.replacement_cost, 5_000.0);
            assert_eq!(after.onboarding_periods, before.onboarding_periods, "{key}");
            assert_eq!(after.exit_commitment, before.exit_commitment, "{key}");
        }
        let err = scenario
            .with("suppliers.turnover.leave_at", 0.2)
            .unwrap_err();
        assert!(err.to_string().contains("leave_at"), "{err}");
    }
}
