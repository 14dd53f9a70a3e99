//! `manifest.json`: what was run, with what, and how fast.

use std::io::{self, Write};

use serde::{Deserialize, Serialize};

use super::{ExportInput, Exporter};

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
}

pub struct ManifestJson;

impl Exporter for ManifestJson {
    fn file_name(&self) -> &'static str {
        "manifest.json"
    }

    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()> {
        serde_json::to_writer_pretty(&mut *out, input.manifest)?;
        writeln!(out)
    }
}
