//! The sliders of the dashboard: the main market parameters and each strategy's main levers,
//! as `--set` keys with a range, starting at the scenario's values.

use serde::Serialize;

use crate::Scenario;

/// One slider: a scenario key (as `--set` takes it) and the values it offers.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Slider {
    pub key: String,
    pub label: String,
    /// Which panel it sits in: "Market" or a strategy's name.
    pub group: String,
    pub min: f64,
    pub max: f64,
    pub step: f64,
    pub value: f64,
}

/// The most replications the dashboard runs for one setting, and the fewest.
pub const DASHBOARD_REPLICATIONS: (u32, u32) = (2, 200);
/// How many replications the dashboard starts with (fewer if the scenario has fewer).
pub const START_REPLICATIONS: u32 = 16;
/// The largest market the dashboard simulates: it answers a class, not a study.
pub const MAX_DASHBOARD_POPULATION: u32 = 200_000;

/// A slider's key, label and range, before the scenario gives its value.
struct Spec {
    key: &'static str,
    label: &'static str,
    min: f64,
    max: f64,
    step: f64,
}

const MARKET: [Spec; 6] = [
    Spec {
        key: "market.population",
        label: "Potential customers",
        min: 1000.0,
        max: MAX_DASHBOARD_POPULATION as f64,
        step: 1000.0,
    },
    Spec {
        key: "periods",
        label: "Horizon (periods)",
        min: 6.0,
        max: 120.0,
        step: 6.0,
    },
    Spec {
        key: "market.base_failure",
        label: "Chance an order goes wrong",
        min: 0.0,
        max: 0.3,
        step: 0.005,
    },
    Spec {
        key: "market.word_of_mouth",
        label: "Word of mouth per advocate",
        min: 0.0,
        max: 0.1,
        step: 0.002,
    },
    Spec {
        key: "market.rival_campaign_probability",
        label: "Chance of a rival campaign",
        min: 0.0,
        max: 0.5,
        step: 0.01,
    },
    Spec {
        key: "market.shortage_probability",
        label: "Chance of a supply shortage",
        min: 0.0,
        max: 0.5,
        step: 0.01,
    },
];

const LEVERS: [Spec; 6] = [
    Spec {
        key: "price_level",
        label: "Price level",
        min: 0.7,
        max: 1.5,
        step: 0.01,
    },
    Spec {
        key: "acquisition_budget",
        label: "Advertising per period",
        min: 0.0,
        max: 60_000.0,
        step: 500.0,
    },
    Spec {
        key: "personal_care_managers",
        label: "Key-account managers",
        min: 0.0,
        max: 30.0,
        step: 1.0,
    },
    Spec {
        key: "recovery_rate",
        label: "Failures put right",
        min: 0.0,
        max: 1.0,
        step: 0.05,
    },
    Spec {
        key: "referral_multiplier",
        label: "Referral programme (× word of mouth)",
        min: 0.0,
        max: 3.0,
        step: 0.1,
    },
    Spec {
        key: "loyalty_reward",
        label: "Loyalty reward (share of spend)",
        min: 0.0,
        max: 0.1,
        step: 0.005,
    },
];

/// Every slider for `scenario`: the market's, then each strategy's. A range widens to take in
/// a scenario value outside it.
pub fn sliders(scenario: &Scenario) -> Vec<Slider> {
    let mut sliders = vec![Slider {
        key: "replications".into(),
        label: "Replications".into(),
        group: "Market".into(),
        min: DASHBOARD_REPLICATIONS.0 as f64,
        max: DASHBOARD_REPLICATIONS.1 as f64,
        step: 1.0,
        value: scenario
            .replications()
            .clamp(DASHBOARD_REPLICATIONS.0, START_REPLICATIONS) as f64,
    }];
    let mut add = |spec: &Spec, key: String, group: &str| {
        if let Some(value) = scenario.value_of(&key).and_then(|v| number(&v)) {
            // A range input snaps its value to `min + k·step`, so the range starts on the grid
            // through the scenario's value: the page must send the scenario's own value until
            // the slider is moved (1 500 customers would otherwise become 2 000).
            sliders.push(Slider {
                key,
                label: spec.label.into(),
                group: group.into(),
                min: grid_start(value, spec.min, spec.step),
                max: spec.max.max(value),
                step: spec.step,
                value,
            });
        }
    };
    for spec in &MARKET {
        add(spec, spec.key.to_string(), "Market");
    }
    for (idx, strategy) in scenario.strategies().iter().enumerate() {
        for spec in &LEVERS {
            add(
                spec,
                format!("strategies.{idx}.{}", spec.key),
                &strategy.name,
            );
        }
    }
    sliders
}

/// Where a slider of `step` through `value` starts: at `low` if the grid through `value` meets
/// it, else the first point of that grid below `low` (never below 0), or `value` itself if
/// `value` is below `low`.
fn grid_start(value: f64, low: f64, step: f64) -> f64 {
    if value <= low {
        return value;
    }
    let steps = (value - low) / step;
    // (0.95 − 0.7) / 0.01 is 24.999…: a whole number of steps up to rounding is one.
    let mut below = if (steps - steps.round()).abs() < 1e-9 {
        steps.round()
    } else {
        steps.ceil()
    };
    if value - below * step < -1e-12 {
        below -= 1.0;
    }
    (value - below * step).max(0.0)
}

fn number(value: &toml::Value) -> Option<f64> {
    match value {
        toml::Value::Float(f) => Some(*f),
        toml::Value::Integer(i) => Some(*i as f64),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scenario::{parse, presets};

    #[test]
    fn a_slider_starts_on_the_grid_through_its_value_at_or_below_its_low_end() {
        assert_eq!(grid_start(1500.0, 1000.0, 1000.0), 500.0);
        assert_eq!(grid_start(20_000.0, 1000.0, 1000.0), 1000.0);
        assert!((grid_start(0.95, 0.7, 0.01) - 0.7).abs() < 1e-12);
        assert_eq!(grid_start(300.0, 500.0, 1000.0), 300.0);
        // A step down would go below 0: the slider starts at the value.
        assert_eq!(grid_start(700.0, 500.0, 1000.0), 700.0);
    }

    #[test]
    fn every_bundled_scenario_has_its_sliders_at_its_own_values() {
        for name in presets::names() {
            let scenario = parse(presets::find(name).unwrap().text, name, &[]).unwrap();
            let sliders = sliders(&scenario);
            assert_eq!(
                sliders.len(),
                1 + MARKET.len() + LEVERS.len() * scenario.strategies().len(),
                "{name}"
            );
            for slider in &sliders[1..] {
                let value = number(&scenario.value_of(&slider.key).unwrap()).unwrap();
                assert_eq!(slider.value, value, "{name}: {}", slider.key);
                assert!(slider.min <= value && value <= slider.max);
                // On the slider's grid, so the browser does not snap it to another value.
                let steps = (value - slider.min) / slider.step;
                assert!(
                    (steps - steps.round()).abs() < 1e-9,
                    "{name}: {} = {value} is off the grid from {} by {}",
                    slider.key,
                    slider.min,
                    slider.step
                );
                assert!(slider.min >= 0.0);
            }
        }
    }
}
