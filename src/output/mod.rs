//! Result files: one [`Exporter`] per file format, the run folder written whole, and atomic
//! writing of single files.
//!
//! **No output file or folder is ever left half-written or mixed**: a run's files are written
//! into a private staging folder ([`StagedFolder`]) that replaces the output folder in one rename
//! once complete; a single file (`relsim init`) goes through a uniquely named temporary sibling.

mod comparisons_csv;
pub(crate) mod csv;
pub mod folder;
mod manifest;
pub mod part;
pub mod read;
mod runs_csv;
mod scenario_toml;
mod summary_csv;
mod timeseries_csv;

use std::io::{self, BufWriter, Write};
use std::path::Path;

use crate::error::{Error, Result};
use crate::results::ExperimentResults;
use crate::scenario::Scenario;
pub use folder::{StagedFolder, StreamedFile, MANIFEST_FILE};
pub use manifest::{AdaptiveManifest, Manifest, SweepManifest, TimeSplit};
pub use read::{load_output, load_results, OutputFolder};

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

/// Every exporter relsim runs after an experiment. The manifest is not among them: the folder
/// writes it last, when every other file's hash is known.
pub fn exporters() -> Vec<Box<dyn Exporter>> {
    vec![
        Box::new(summary_csv::SummaryCsv),
        Box::new(comparisons_csv::ComparisonsCsv),
        Box::new(timeseries_csv::TimeseriesCsv),
        Box::new(runs_csv::RunsCsv),
        Box::new(scenario_toml::ScenarioToml),
    ]
}

/// The names of the files every run writes, whatever its options.
pub fn result_file_names() -> Vec<&'static str> {
    exporters().iter().map(|e| e.file_name()).collect()
}

/// Writes every exporter's file into the staged folder.
pub fn write_all(folder: &mut StagedFolder, input: &ExportInput) -> Result<()> {
    for exporter in exporters() {
        folder.write(exporter.file_name(), |out| exporter.write(input, out))?;
    }
    Ok(())
}

/// Writes `path` through a uniquely named temporary sibling that is renamed into place when
/// complete, so that neither a failure nor another process writing the same file at the same
/// time can leave it half-written.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    let temporary = tempfile::Builder::new()
        .prefix(&format!(".{}.", file_name_of(path)))
        .suffix(".partial")
        .tempfile_in(parent_of(path))
        .map_err(fail)?;
    let mut out = BufWriter::new(temporary);
    write(&mut out).map_err(fail)?;
    let temporary = out.into_inner().map_err(|err| fail(err.into_error()))?;
    temporary.as_file().sync_all().map_err(fail)?;
    temporary.persist(path).map_err(|err| fail(err.error))?;
    Ok(())
}

/// The folder that holds `path`: its parent, or the current folder for a bare name.
pub(crate) fn parent_of(path: &Path) -> &Path {
    match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    }
}

/// The last component of `path` as text (empty when there is none, as for `..`).
pub(crate) fn file_name_of(path: &Path) -> String {
    path.file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

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
    fn concurrent_writers_of_one_file_never_mix() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.csv");
        std::thread::scope(|scope| {
            for idx in 0..8 {
                let path = &path;
                scope.spawn(move || {
                    write_atomically(path, |out| {
                        for _ in 0..10_000 {
                            writeln!(out, "{idx},{idx},{idx}")?;
                        }
                        Ok(())
                    })
                    .unwrap()
                });
            }
        });
        let text = fs::read_to_string(&path).unwrap();
        let first = text.lines().next().unwrap().to_string();
        assert!(text.lines().all(|line| line == first));
        assert_eq!(text.lines().count(), 10_000);
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
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
