//! Command-line overrides `--set KEY=VALUE` (and the shortcuts `--replications N`, `--seed S`),
//! applied to the parsed TOML before validation so that they go through exactly the same checks
//! as the file.

use crate::error::{Error, Result};

/// One `KEY=VALUE` assignment, e.g. `market.population=50000` or `strategies.1.price_level=0.9`.
#[derive(Debug, Clone, PartialEq)]
pub struct Override {
    /// The assignment as `KEY=VALUE`, as the manifest records it.
    pub assignment: String,
    /// What the user typed, for messages: `--set KEY=VALUE` or `--replications 40`.
    pub given: String,
    /// The dotted path; a numeric segment indexes an array.
    pub path: Vec<String>,
    pub value: toml::Value,
}

impl Override {
    /// Parses `KEY=VALUE`. The value is read as TOML (`50000`, `0.9`, `true`, `"text"`,
    /// `[1, 2]`); anything that is not valid TOML is taken as a plain string.
    pub fn parse(assignment: &str) -> Result<Self> {
        Self::parse_given(assignment, format!("--set {assignment}"))
    }

    /// The override a command-line option such as `--replications 40` stands for: `key` set to
    /// `value`, named in messages as the option the user typed.
    pub fn from_option(option: &str, key: &str, value: String) -> Result<Self> {
        Self::parse_given(&format!("{key}={value}"), format!("{option} {value}"))
    }

    fn parse_given(assignment: &str, given: String) -> Result<Self> {
        let invalid = |message: &str| Error::InvalidOverride {
            given: given.clone(),
            message: message.to_string(),
        };
        let (key, raw_value) = assignment
            .split_once('=')
            .ok_or_else(|| invalid("expected KEY=VALUE, e.g. market.population=50000"))?;
        let key = key.trim();
        let path: Vec<String> = key.split('.').map(|s| s.trim().to_string()).collect();
        if key.is_empty() || path.iter().any(String::is_empty) {
            return Err(invalid(
                "the key must be a dotted path such as market.population",
            ));
        }
        let raw_value = raw_value.trim();
        let value = format!("value = {raw_value}")
            .parse::<toml::Table>()
            .ok()
            .and_then(|mut table| table.remove("value"))
            .unwrap_or_else(|| toml::Value::String(raw_value.to_string()));
        Ok(Self {
            assignment: assignment.to_string(),
            given,
            path,
            value,
        })
    }

    /// An error when the key at `depth` is absent and the next segment indexes it as a list:
    /// a list the file does not hold (its default applies) has no entry to change.
    fn refuse_missing_list(&self, depth: usize) -> Result<()> {
        let Some(next) = self.path.get(depth + 1) else {
            return Ok(());
        };
        if next.parse::<usize>().is_err() {
            return Ok(());
        }
        let list = self.path[..=depth].join(".");
        Err(Error::InvalidOverride {
            given: self.given.clone(),
            message: format!(
                "{list} is not in the scenario file (its default applies), so it has no entry \
                 {next} to change; set the whole list, e.g. --set '{list}=[...]', or write it \
                 into the file"
            ),
        })
    }

    /// The option the user typed (`--set` or a shortcut such as `--replications`).
    pub fn option(&self) -> &str {
        self.given.split_whitespace().next().unwrap_or("--set")
    }

    /// Writes the value into `root`, creating missing tables on the way. Setting the `kind` of
    /// a table to another kind (`network.kind=mixed`) starts that table afresh: the keys of the
    /// old kind do not apply to the new one, and later overrides may add the new kind's keys.
    pub fn apply(&self, root: &mut toml::Table) -> Result<()> {
        let invalid = |message: String| Error::InvalidOverride {
            given: self.given.clone(),
            message,
        };
        let (last, parents) = self.path.split_last().expect("path is never empty");
        if !root.contains_key(&self.path[0]) {
            self.refuse_missing_list(0)?;
        }
        let mut current: &mut toml::Value = root
            .entry(parents.first().unwrap_or(last).clone())
            .or_insert_with(|| toml::Value::Table(toml::Table::new()));
        if parents.is_empty() {
            *current = self.value.clone();
            return Ok(());
        }
        for (depth, segment) in self.path.iter().enumerate().skip(1) {
            let is_last = depth == self.path.len() - 1;
            let here = self.path[..depth].join(".");
            current = match current {
                toml::Value::Table(table) => {
                    if is_last {
                        if segment == "kind" && table.get("kind") != Some(&self.value) {
                            table.clear();
                        }
                        table.insert(segment.clone(), self.value.clone());
                        return Ok(());
                    }
                    if !table.contains_key(segment) {
                        self.refuse_missing_list(depth)?;
                    }
                    table
                        .entry(segment.clone())
                        .or_insert_with(|| toml::Value::Table(toml::Table::new()))
                }
                toml::Value::Array(array) => {
                    let index: usize = segment.parse().map_err(|_| {
                        invalid(format!(
                            "{here} is a list; index it with a number, e.g. {here}.0"
                        ))
                    })?;
                    let len = array.len();
                    let element = array.get_mut(index).ok_or_else(|| {
                        invalid(format!(
                            "{here} has {len} entries; index {index} does not exist"
                        ))
                    })?;
                    if is_last {
                        *element = self.value.clone();
                        return Ok(());
                    }
                    element
                }
                _ => return Err(invalid(format!("{here} is a single value, not a table"))),
            };
        }
        unreachable!("the loop returns at the last segment")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_typed_values_and_falls_back_to_strings() {
        let o = Override::parse("market.population=50000").unwrap();
        assert_eq!(o.path, vec!["market", "population"]);
        assert_eq!(o.value, toml::Value::Integer(50000));
        let o = Override::parse("network.kind=mixed").unwrap();
        assert_eq!(o.value, toml::Value::String("mixed".into()));
        assert!(Override::parse("nonsense").is_err());
        assert!(Override::parse("a..b=1").is_err());
    }

    #[test]
    fn applies_into_tables_and_arrays() {
        let mut root: toml::Table =
            "[market]\npopulation = 10\n[[strategies]]\npreset = \"hybrid\""
                .parse()
                .unwrap();
        Override::parse("market.population=50")
            .unwrap()
            .apply(&mut root)
            .unwrap();
        Override::parse("strategies.0.price_level=0.9")
            .unwrap()
            .apply(&mut root)
            .unwrap();
        Override::parse("seed=7").unwrap().apply(&mut root).unwrap();
        Override::parse("defection.baseline=-2")
            .unwrap()
            .apply(&mut root)
            .unwrap();
        assert_eq!(root["market"]["population"].as_integer(), Some(50));
        assert_eq!(root["strategies"][0]["price_level"].as_float(), Some(0.9));
        assert_eq!(root["seed"].as_integer(), Some(7));
        assert_eq!(root["defection"]["baseline"].as_integer(), Some(-2));
        let err = Override::parse("strategies.4.price_level=1")
            .unwrap()
            .apply(&mut root);
        assert!(err.unwrap_err().to_string().contains("index 4"));
        let err = Override::parse("segments.0.share=0.5")
            .unwrap()
            .apply(&mut root)
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("segments is not in the scenario file"),
            "{err}"
        );
    }

    #[test]
    fn a_new_kind_starts_its_table_afresh() {
        let mut root: toml::Table =
            "[network]\nkind = \"watts_strogatz\"\nmean_degree = 8\nrewiring = 0.1"
                .parse()
                .unwrap();
        Override::parse("network.kind=watts_strogatz")
            .unwrap()
            .apply(&mut root)
            .unwrap();
        assert_eq!(root["network"].as_table().unwrap().len(), 3);
        Override::parse("network.kind=mixed")
            .unwrap()
            .apply(&mut root)
            .unwrap();
        assert_eq!(root["network"].as_table().unwrap().len(), 1);
        assert_eq!(root["network"]["kind"].as_str(), Some("mixed"));
    }

    #[test]
    fn shortcuts_are_named_as_typed() {
        let o = Override::from_option("--replications", "replications", "0".into()).unwrap();
        assert_eq!(o.assignment, "replications=0");
        assert_eq!(o.given, "--replications 0");
        assert_eq!(o.option(), "--replications");
        assert_eq!(Override::parse("seed=1").unwrap().option(), "--set");
    }
}
