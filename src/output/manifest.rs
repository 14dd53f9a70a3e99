//! `manifest.json`: what was run, with what, how fast, and the hash of every file of the run.
//! It is written last (by [`super::StagedFolder::commit`]), so a folder with a manifest is
//! complete, and the hashes let `relsim plot` refuse files that do not belong to the run.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

/// Everything needed to reproduce a run and judge its speed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    pub relsim_version: String,
    pub scenario_name: String,
    /// The file (or preset) the scenario came from.
    pub scenario_source: String,
    /// SHA-256 of the scenario text as read.
    pub scenario_sha256: String,
    /// `--set` overrides applied on top of the file.
    pub overrides: Vec<String>,
    pub master_seed: u64,
    pub replications: u64,
    pub strategies: Vec<String>,
    pub periods: u32,
    pub population: u32,
    pub threads: usize,
    pub wall_time_seconds: f64,
    /// One customer-step is one customer's whole period (episode, update, purchase, defection
    /// or acquisition check), counted over every customer of the population.
    pub customer_steps: u64,
    pub customer_steps_per_second: f64,
    /// The customer-steps spent on active customers (prospects cost a fraction of one), and
    /// their rate: the yardstick for a model where most of the population is active. Absent
    /// (0) in manifests of relsim versions that did not record it.
    #[serde(default)]
    pub active_customer_steps: u64,
    #[serde(default)]
    pub active_customer_steps_per_second: f64,
    /// Where the replications' time went: building their worlds against simulating their
    /// strategies. Recorded by `relsim run`, `sweep`, `breakeven` and `merge` (the parts' sums;
    /// a shard's session that was stopped hands on none). Absent (0) for `decompose` and in
    /// manifests of relsim versions that did not record it; a resumed run counts only the
    /// replications it ran itself.
    #[serde(default)]
    pub time_split: TimeSplit,
    /// SHA-256 of every other file of the folder, by file name. Filled in when the folder is
    /// committed; empty in manifests of relsim versions that did not record it.
    #[serde(default)]
    pub files: BTreeMap<String, String>,
    /// What a sweep ran: its design and the columns of its files. Absent for `relsim run`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sweep: Option<SweepManifest>,
    /// How `--target-ci` chose the number of replications. Absent otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub adaptive: Option<AdaptiveManifest>,
}

/// Where an experiment's replications spent their time, each phase timed on the thread that
/// ran the replication and summed over replications: building each replication's world
/// (population, network, the starting customers' histories), and simulating every strategy on
/// it. Their sum exceeds the wall time when replications run on several threads at once.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimeSplit {
    pub world_build_seconds: f64,
    pub simulation_seconds: f64,
}

impl TimeSplit {
    /// Building the worlds' share of the replications' time (NaN if nothing was timed).
    pub fn world_build_share(&self) -> f64 {
        let total = self.world_build_seconds + self.simulation_seconds;
        if total > 0.0 {
            self.world_build_seconds / total
        } else {
            f64::NAN
        }
    }

    /// This split and `other`'s together.
    pub fn plus(self, other: TimeSplit) -> TimeSplit {
        TimeSplit {
            world_build_seconds: self.world_build_seconds + other.world_build_seconds,
            simulation_seconds: self.simulation_seconds + other.simulation_seconds,
        }
    }
}

/// What `relsim run --target-ci` asked for and why it stopped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdaptiveManifest {
    /// The target as given: a width in the metric's unit, or a percentage of its level.
    pub target_ci: String,
    pub metric: String,
    /// Replications added at a time, and the most allowed.
    pub batch: u64,
    pub max_replications: u64,
    /// Replications run: the first multiple of the batch at which every interval was narrow
    /// enough, or the maximum.
    pub replications_needed: u64,
    /// `target reached` or `max replications reached`.
    pub stopped: String,
    /// The widest paired difference at the end (relative to its target): its strategies, its
    /// 95 % interval's width and the width allowed.
    pub widest_pair: [String; 2],
    pub widest_width: f64,
    pub allowed_width: f64,
}

/// The design of a sweep and the schema of its files (docs/sweeps.md).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SweepManifest {
    /// The checked design: kind, sizes, seed and every parameter's distribution.
    pub design: serde_json::Value,
    /// SHA-256 of the design as written above (compact JSON).
    pub design_sha256: String,
    pub points: u64,
    /// The columns of `runs.csv`, in order.
    pub runs_columns: Vec<String>,
    /// The columns of `points.csv`.
    pub points_columns: Vec<String>,
    /// The columns of `sensitivity.csv`.
    pub sensitivity_columns: Vec<String>,
}

impl Manifest {
    /// The run's speed in words, as the terminal's title gives it: "126M customer-steps/s, 44M
    /// of them active; 7 % of it building worlds" (the last part only when the manifest records
    /// a time split).
    pub fn speed_note(&self) -> String {
        self.speed_note_joined(' ')
    }

    /// [`Manifest::speed_note`] for the reports' pages, each number held to its unit by a
    /// no-break space, so that a narrow page never leaves "7" at the end of one line and "%"
    /// at the start of the next.
    pub fn speed_note_unbroken(&self) -> String {
        self.speed_note_joined('\u{a0}')
    }

    /// The speed note with `space` between each number and its unit.
    fn speed_note_joined(&self, space: char) -> String {
        let share = self.time_split.world_build_share();
        let worlds = if share.is_finite() {
            format!("; {:.0}{space}% of it building worlds", 100.0 * share)
        } else {
            String::new()
        };
        format!(
            "{:.0}M{space}customer-steps/s, {:.0}M{space}of them active{worlds}",
            self.customer_steps_per_second / 1e6,
            self.active_customer_steps_per_second / 1e6,
        )
    }

    /// A manifest with placeholder values, for tests of the folder machinery.
    #[cfg(test)]
    pub(crate) fn for_tests() -> Self {
        Self {
            relsim_version: env!("CARGO_PKG_VERSION").into(),
            scenario_name: "test".into(),
            scenario_source: "test".into(),
            scenario_sha256: String::new(),
            overrides: Vec::new(),
            master_seed: 1,
            replications: 1,
            strategies: vec!["a".into()],
            periods: 1,
            population: 1,
            threads: 1,
            wall_time_seconds: 0.0,
            customer_steps: 0,
            customer_steps_per_second: 0.0,
            active_customer_steps: 0,
            active_customer_steps_per_second: 0.0,
            time_split: TimeSplit::default(),
            files: BTreeMap::new(),
            sweep: None,
            adaptive: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn speed_note_gives_both_rates_and_the_worlds_share_when_recorded() {
        let mut manifest = Manifest::for_tests();
        manifest.customer_steps_per_second = 126.4e6;
        manifest.active_customer_steps_per_second = 43.6e6;
        assert_eq!(
            manifest.speed_note(),
            "126M customer-steps/s, 44M of them active"
        );
        manifest.time_split = TimeSplit {
            world_build_seconds: 0.07,
            simulation_seconds: 0.93,
        };
        assert_eq!(
            manifest.speed_note(),
            "126M customer-steps/s, 44M of them active; 7 % of it building worlds"
        );
        // The pages' version: the same words, each number held to its unit.
        assert_eq!(
            manifest.speed_note_unbroken(),
            "126M\u{a0}customer-steps/s, 44M\u{a0}of them active; 7\u{a0}% of it building worlds"
        );
    }
}
