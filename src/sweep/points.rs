//! A design laid out against its scenario: each point's scenario and values, and what one
//! unit (point × replication) gives. [`crate::experiment::run_sweep`] runs the units
//! (docs/sweeps.md).
//!
//! **Common random numbers across points.** Replication `r` derives its seeds from the
//! scenario's master seed and `r` alone, exactly as `relsim run` does, so it meets the same
//! market at every point and in every strategy: a point's differences from another are the
//! parameters' doing, not the dice's. A point's runs are therefore bit for bit those of
//! `relsim run` with the point's values given by `--set`.

use super::design::{Design, Layout, Parameter, UnitPoints};
use crate::error::{Error, Result};
use crate::scenario::{value_at, Scenario};

/// A design laid out against its scenario: the points, how they relate, and each parameter's
/// value type.
#[derive(Debug, Clone)]
pub struct PreparedSweep {
    pub parameters: Vec<Parameter>,
    /// Each point's coordinates in the unit cube; its values follow from them.
    pub points: UnitPoints,
    pub layout: Layout,
    design: Design,
    /// Whether each parameter's key holds a whole number (a sampled value is then rounded).
    integer: Vec<bool>,
}

impl PreparedSweep {
    /// Lays out the design of `scenario` and checks that every varied key accepts the values
    /// the design can give it (its distribution's ends, or every listed value). `source_name`
    /// names the scenario in messages.
    pub fn new(scenario: &Scenario, source_name: &str) -> Result<PreparedSweep> {
        let design = scenario.design().ok_or_else(|| Error::InvalidScenario {
            file: source_name.to_string(),
            key: "design".into(),
            location: None,
            message: "has no [design] table; a sweep needs one, with [[vary]] tables naming the \
                      keys to vary (docs/sweeps.md)"
                .into(),
        })?;
        let resolved: toml::Table =
            scenario
                .to_toml()
                .parse()
                .map_err(|err: toml::de::Error| Error::InvalidScenario {
                    file: source_name.to_string(),
                    key: String::new(),
                    location: None,
                    message: format!("cannot read the scenario back: {err}"),
                })?;
        let mut integer = Vec::with_capacity(design.parameters.len());
        for (idx, parameter) in design.parameters.iter().enumerate() {
            let current = value_at(&resolved, &parameter.key);
            let is_integer = matches!(current, Some(toml::Value::Integer(_)));
            integer.push(is_integer);
            for extreme in parameter.distribution.extremes() {
                let value = typed(&extreme, is_integer);
                scenario
                    .at_point(&[(parameter.key.as_str(), &value)])
                    .map_err(|err| Error::InvalidScenario {
                        file: source_name.to_string(),
                        key: format!("vary[{idx}]"),
                        location: None,
                        message: format!(
                            "{} = {value} is not a value the scenario accepts: {}",
                            parameter.key,
                            inner_message(&err)
                        ),
                    })?;
            }
        }
        let (points, layout) = design.points();
        Ok(PreparedSweep {
            parameters: design.parameters.clone(),
            points,
            layout,
            design: design.clone(),
            integer,
        })
    }

    /// The values of point `point_idx`, typed as the scenario's keys hold them.
    pub fn values(&self, point_idx: usize) -> Vec<toml::Value> {
        self.design
            .values_at(self.points.unit(point_idx))
            .iter()
            .zip(&self.integer)
            .map(|(value, &integer)| typed(value, integer))
            .collect()
    }

    /// The scenario at point `point_idx`.
    pub fn scenario_at(&self, scenario: &Scenario, point_idx: usize) -> Result<Scenario> {
        let values = self.values(point_idx);
        let assignments: Vec<(&str, &toml::Value)> = self
            .parameters
            .iter()
            .map(|p| p.key.as_str())
            .zip(&values)
            .collect();
        scenario.at_point(&assignments)
    }
}

/// A number for a key that holds a whole number is rounded to one.
fn typed(value: &toml::Value, integer: bool) -> toml::Value {
    match value {
        toml::Value::Float(x) if integer && x.is_finite() => toml::Value::Integer(x.round() as i64),
        other => other.clone(),
    }
}

/// The message of a scenario error without the file and key it repeats.
fn inner_message(err: &Error) -> String {
    match err {
        Error::InvalidScenario { key, message, .. } if !key.is_empty() => {
            format!("{key}: {message}")
        }
        Error::InvalidScenario { message, .. } => message.clone(),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dotted_keys_reach_tables_and_lists() {
        let table: toml::Table = "a = 1\n[b]\nc = 2.5\n[[d]]\ne = true\n[[d]]\ne = false\n"
            .parse()
            .unwrap();
        assert_eq!(value_at(&table, "a"), Some(&toml::Value::Integer(1)));
        assert_eq!(value_at(&table, "b.c"), Some(&toml::Value::Float(2.5)));
        assert_eq!(
            value_at(&table, "d.1.e"),
            Some(&toml::Value::Boolean(false))
        );
        assert_eq!(value_at(&table, "d.2.e"), None);
        assert_eq!(value_at(&table, "b.x"), None);
        assert_eq!(
            typed(&toml::Value::Float(2.6), true),
            toml::Value::Integer(3)
        );
        assert_eq!(
            typed(&toml::Value::Float(2.6), false),
            toml::Value::Float(2.6)
        );
    }
}
