//! An interrupted `relsim run`'s checkpoint: the results collector's exact state after the
//! last batch it was handed, kept in a folder beside the output folder (`OUT.resume/`) so that
//! `--resume` continues as if nothing had stopped (docs/cluster.md).

use std::fs;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};
use crate::output::{file_name_of, write_atomically};
use crate::results::ResultsCollector;
use crate::scenario::Scenario;

const FILE: &str = "checkpoint.bin";
const MAGIC: &[u8; 12] = b"relsim-ckpt1";

/// The checkpoint folder of the output folder `out_dir`: its sibling `NAME.resume`.
pub(super) fn dir_of(out_dir: &Path) -> PathBuf {
    let name = format!("{}.resume", file_name_of(out_dir));
    match out_dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent.join(name),
        _ => PathBuf::from(name),
    }
}

/// Keeps `collector`'s state for the scenario whose expanded text hashes to `scenario_sha256`.
pub(super) fn write(dir: &Path, collector: &ResultsCollector, scenario_sha256: &str) -> Result<()> {
    fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })?;
    write_atomically(&dir.join(FILE), |out| {
        out.write_all(MAGIC)?;
        out.write_all(env!("CARGO_PKG_VERSION").as_bytes())?;
        out.write_all(b"\n")?;
        out.write_all(scenario_sha256.as_bytes())?;
        for word in collector.checkpoint() {
            out.write_all(&word.to_le_bytes())?;
        }
        Ok(())
    })
}

/// The collector kept in `dir`, which must be for this relsim and this scenario.
pub(super) fn read(
    dir: &Path,
    scenario: &Scenario,
    scenario_sha256: &str,
) -> Result<ResultsCollector> {
    let path = dir.join(FILE);
    let invalid = |message: String| Error::InvalidOutput {
        path: path.clone(),
        message,
    };
    let bytes = fs::read(&path).map_err(|err| Error::InvalidOption {
        option: "--resume".into(),
        message: format!(
            "nothing to resume: {} cannot be read ({err}); an interrupted run keeps its work \
             there",
            path.display()
        ),
    })?;
    let header = format!("{}\n{scenario_sha256}", env!("CARGO_PKG_VERSION"));
    let body = bytes
        .strip_prefix(MAGIC.as_slice())
        .and_then(|rest| rest.strip_prefix(header.as_bytes()))
        .ok_or_else(|| {
            invalid(
                "was kept by another relsim version or for another scenario (with other --set, \
                 --replications or --seed values): --resume continues the same run only"
                    .into(),
            )
        })?;
    if body.len() % 8 != 0 {
        return Err(invalid("is cut short: run again without --resume".into()));
    }
    let words: Vec<u64> = body
        .chunks_exact(8)
        .map(|word| u64::from_le_bytes(word.try_into().expect("8-byte chunks")))
        .collect();
    ResultsCollector::restore(scenario, &words)
        .ok_or_else(|| invalid("does not fit the scenario: run again without --resume".into()))
}

/// Removes the checkpoint folder, if there is one.
pub(super) fn remove(dir: &Path) -> Result<()> {
    match fs::remove_dir_all(dir) {
        Err(err) if err.kind() != std::io::ErrorKind::NotFound => Err(Error::Write {
            path: dir.to_path_buf(),
            source: err,
        }),
        _ => Ok(()),
    }
}
