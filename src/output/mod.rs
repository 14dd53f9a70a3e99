//! Result files: one [`Exporter`] per file format, and atomic writing.
//!
//! **No output file is ever left half-written**: each file is written to a temporary file in the
//! same folder and renamed into place only once complete.

mod comparisons_csv;
mod csv;
mod manifest;
pub mod read;
mod runs_csv;
mod scenario_toml;
mod summary_csv;
mod timeseries_csv;

use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::experiment::ExperimentResults;
use crate::scenario::Scenario;
pub use manifest::Manifest;
pub use read::{load_output, OutputFolder};

/// What exporters read: the results, the manifest describing the run, and the scenario.
#[derive(Debug, Clone, Copy)]
pub struct ExportInput<'a> {
    pub results: &'a ExperimentResults,
    pub manifest: &'a Manifest,
    pub scenario: &'a Scenario,
}

/// Writes one result file.
pub trait Exporter {
    /// The file's name inside the output folder.
    fn file_name(&self) -> &'static str;
    /// Writes the whole file to `out`.
    fn write(&self, input: &ExportInput, out: &mut dyn Write) -> io::Result<()>;
}

/// Every exporter relsim runs after an experiment.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(summary_csv::SummaryCsv),
        Box::new(comparisons_csv::ComparisonsCsv),
        Box::new(timeseries_csv::TimeseriesCsv),
        Box::new(runs_csv::RunsCsv),
        Box::new(manifest::ManifestJson),
        Box::new(scenario_toml::ScenarioToml),
    ]
}

/// Writes every exporter's file into `dir` (created if needed). Returns the paths written.
pub fn write_all(dir: &Path, input: &ExportInput) -> Result<Vec<PathBuf>> {
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    exporters()
        .iter()
        .map(|exporter| {
            let path = dir.join(exporter.file_name());
            write_atomically(&path, |out| exporter.write(input, out))?;
            Ok(path)
        })
        .collect()
}

/// Writes `path` through a temporary sibling file that is renamed into place when complete.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let temporary = path.with_file_name(format!(".{file_name}.partial"));
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let result = (|| {
        let mut out = BufWriter::new(fs::File::create(&temporary)?);
        write(&mut out)?;
        out.into_inner()
            .map_err(|err| err.into_error())?
            .sync_all()?;
        fs::rename(&temporary, path)
    })();
    if let Err(source) = result {
        let _ = fs::remove_file(&temporary);
        return Err(fail(source));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failed_write_leaves_no_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        let result = write_atomically(&path, |out| {
            out.write_all(b"half")?;
            Err(io::Error::other("disk full"))
        });
        assert!(result.is_err());
        assert!(!path.exists());
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 0);
    }

    #[test]
    fn successful_write_replaces_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        fs::write(&path, "old").unwrap();
        write_atomically(&path, |out| out.write_all(b"new")).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
    }
}
