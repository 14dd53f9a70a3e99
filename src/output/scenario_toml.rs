//! `scenario.toml`: the scenario as run, every default written out. It is a valid scenario file,
//! so `relsim run outputs/NAME/scenario.toml` repeats the run, and `relsim plot` reads the
//! parameters for the report from it.

use std::io::{self, Write};

use super::{ExportInput, Exporter};

pub struct ScenarioToml;

impl Exporter for ScenarioToml {
    fn file_name(&self) -> &'static str {
        "scenario.toml"
    }

    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()> {
        writeln!(
            out,
            "# The scenario of this run ({}), every default written out.\n\
             # Run it again with: relsim run <this file>",
            input.manifest.scenario_source
        )?;
        out.write_all(input.scenario.to_toml().as_bytes())
    }
}
