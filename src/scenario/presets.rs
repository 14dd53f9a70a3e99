//! Scenarios bundled with relsim: the files under `scenarios/`, compiled in so that
//! `relsim init` and `relsim run PRESET` work from any folder.

/// A bundled scenario.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BundledScenario {
    pub name: &'static str,
    /// The TOML text, as in `scenarios/<name>.toml`.
    pub text: &'static str,
}

/// Every bundled scenario, the default first.
pub const BUNDLED: &[BundledScenario] = &[
    BundledScenario {
        name: "default",
        text: include_str!("../../scenarios/default.toml"),
    },
    BundledScenario {
        name: "b2b_it_services",
        text: include_str!("../../scenarios/b2b_it_services.toml"),
    },
    BundledScenario {
        name: "subscription_education",
        text: include_str!("../../scenarios/subscription_education.toml"),
    },
    BundledScenario {
        name: "mass_retail",
        text: include_str!("../../scenarios/mass_retail.toml"),
    },
];

/// The bundled scenario called `name` (with or without `.toml`).
pub fn find(name: &str) -> Option<&'static BundledScenario> {
    let name = name.strip_suffix(".toml").unwrap_or(name);
    BUNDLED.iter().find(|b| b.name == name)
}

/// The names of the bundled scenarios.
pub fn names() -> Vec<&'static str> {
    BUNDLED.iter().map(|b| b.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bundled_scenario_is_valid_and_named_after_its_file() {
        for bundled in BUNDLED {
            let scenario = crate::scenario::parse(bundled.text, bundled.name, &[])
                .unwrap_or_else(|err| panic!("{}: {err}", bundled.name));
            assert_eq!(scenario.name(), bundled.name);
            assert!(
                !scenario.description().is_empty(),
                "{} has no description",
                bundled.name
            );
            assert!(scenario.strategies().len() >= 2);
        }
    }

    #[test]
    fn find_accepts_names_with_and_without_extension() {
        assert_eq!(
            find("mass_retail.toml").map(|b| b.name),
            Some("mass_retail")
        );
        assert!(find("nowhere").is_none());
    }
}
