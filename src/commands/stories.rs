//! `relsim stories`: a few customers' lives in one replication, told in plain language.

use super::load_scenario;
use crate::error::{Error, Result};
use crate::stories::{narrate_all, tell, StoryRequest};

/// How `relsim stories` prints the stories.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StoriesFormat {
    /// A dated narrative.
    #[default]
    Text,
    /// Every event as data (one JSON document).
    Json,
}

/// Options of `relsim stories`.
#[derive(Debug, Clone)]
pub struct StoriesOptions {
    pub scenario: String,
    pub overrides: Vec<String>,
    /// The strategy's name [default: the scenario's first].
    pub strategy: Option<String>,
    pub customers: usize,
    pub replication: u64,
    pub seed: Option<u64>,
    pub format: StoriesFormat,
}

/// The most customers one call follows: a story is meant to be read.
pub const MAX_STORY_CUSTOMERS: usize = 100;

/// `relsim stories`: the stories as text or JSON.
pub fn stories(options: &StoriesOptions) -> Result<String> {
    let (_, scenario, _) =
        load_scenario(&options.scenario, &options.overrides, None, options.seed)?;
    let strategy_idx = match &options.strategy {
        None => 0,
        Some(name) => scenario.strategy_index(name, "--strategy")?,
    };
    if !(1..=MAX_STORY_CUSTOMERS).contains(&options.customers) {
        return Err(Error::InvalidOption {
            option: "--customers".into(),
            message: format!(
                "must be from 1 to {MAX_STORY_CUSTOMERS}, got {}",
                options.customers
            ),
        });
    }
    if options.replication >= u64::from(scenario.replications()) {
        return Err(Error::InvalidOption {
            option: "--replication".into(),
            message: format!(
                "the scenario runs replications 0 to {}, got {}",
                scenario.replications() - 1,
                options.replication
            ),
        });
    }
    let stories = tell(
        &scenario,
        StoryRequest {
            strategy_idx,
            replication: options.replication,
            customers: options.customers,
        },
    )?;
    Ok(match options.format {
        StoriesFormat::Text => narrate_all(&stories),
        StoriesFormat::Json => {
            serde_json::to_string_pretty(&stories).expect("stories are plain data") + "\n"
        }
    })
}
