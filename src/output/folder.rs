//! The run folder, written whole.
//!
//! A run never writes into its output folder directly. [`StagedFolder::prepare`] checks the
//! target before anything is simulated (it must be creatable, writable, not a file, and either
//! empty or a folder relsim wrote) and creates a fresh sibling with a unique name. Every file
//! goes there; [`StagedFolder::commit`] writes `manifest.json` last, with the SHA-256 of every
//! other file, and only then replaces the target by renaming. The previous folder is kept aside
//! until that rename has succeeded. A run that fails or is interrupted leaves the target as it
//! was; two runs into the same folder leave one of them, whole.

use std::collections::BTreeMap;
use std::fs;
use std::io::{self, BufWriter, Write};
use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::{file_name_of, parent_of, Manifest};
use crate::error::{Error, Result};

/// The name of the manifest, the file that marks a folder as relsim's.
pub const MANIFEST_FILE: &str = "manifest.json";

/// A run folder being written in a private sibling of its target.
#[derive(Debug)]
pub struct StagedFolder {
    target: PathBuf,
    /// Removed with everything in it when dropped uncommitted.
    staging: tempfile::TempDir,
    /// SHA-256 of every file written so far, by name.
    files: BTreeMap<String, String>,
}

impl StagedFolder {
    /// Checks that `target` can receive a run and creates the staging folder beside it. A folder
    /// that holds anything relsim did not write is refused unless `force`.
    pub fn prepare(target: &Path, force: bool) -> Result<Self> {
        let refuse = |message: String| Error::OutputFolder {
            path: target.to_path_buf(),
            message,
        };
        let folder_name = file_name_of(target);
        if folder_name.is_empty() {
            return Err(refuse(
                "does not name a folder; give a path such as outputs/my_run".into(),
            ));
        }
        match fs::metadata(target) {
            Ok(meta) if !meta.is_dir() => {
                return Err(refuse(
                    "is a file, not a folder; choose another --out".into(),
                ))
            }
            Ok(_) if !force => check_replaceable(target).map_err(refuse)?,
            Ok(_) => {}
            // Absent, or below a file: the parent's creation below says what is wrong.
            Err(err)
                if matches!(
                    err.kind(),
                    io::ErrorKind::NotFound | io::ErrorKind::NotADirectory
                ) => {}
            Err(err) => return Err(refuse(format!("cannot be inspected: {err}"))),
        }
        let parent = parent_of(target);
        fs::create_dir_all(parent).map_err(|err| {
            refuse(format!(
                "cannot create its parent folder {}: {err}",
                parent.display()
            ))
        })?;
        remove_abandoned_siblings(parent, &folder_name);
        let staging = tempfile::Builder::new()
            .prefix(&sibling_prefix(&folder_name, std::process::id()))
            .tempdir_in(parent)
            .map_err(|err| {
                refuse(format!(
                    "cannot write in its parent folder {}: {err}",
                    parent.display()
                ))
            })?;
        Ok(Self {
            target: target.to_path_buf(),
            staging,
            files: BTreeMap::new(),
        })
    }

    /// The folder the run will replace.
    pub fn target(&self) -> &Path {
        &self.target
    }

    /// Where files are written until the commit (for reading back what was written).
    pub fn staging_path(&self) -> &Path {
        self.staging.path()
    }

    /// Writes the file `name`, makes it durable and records its hash.
    pub fn write(
        &mut self,
        name: &str,
        write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
    ) -> Result<()> {
        let mut hasher = Sha256::new();
        write_durably(&self.staging.path().join(name), |out| {
            write(&mut HashingWriter {
                inner: out,
                hasher: &mut hasher,
            })
        })
        .map_err(|source| Error::Write {
            path: self.target.join(name),
            source,
        })?;
        self.files
            .insert(name.to_string(), format!("{:x}", hasher.finalize()));
        Ok(())
    }

    /// Opens the file `name` for writing a piece at a time (rows as a sweep produces them);
    /// [`Self::close_streamed`] makes it durable and records its hash.
    pub fn open_streamed(&self, name: &str) -> Result<StreamedFile> {
        let path = self.staging.path().join(name);
        let file = fs::File::create(&path).map_err(|source| Error::Write {
            path: self.target.join(name),
            source,
        })?;
        Ok(StreamedFile {
            name: name.to_string(),
            out: BufWriter::new(file),
            hasher: Sha256::new(),
        })
    }

    /// Finishes a file opened with [`Self::open_streamed`]: flushed, made durable, hashed.
    pub fn close_streamed(&mut self, file: StreamedFile) -> Result<()> {
        let StreamedFile { name, out, hasher } = file;
        let path = self.target.join(&name);
        out.into_inner()
            .map_err(|err| err.into_error())
            .and_then(|file| file.sync_all())
            .map_err(|source| Error::Write { path, source })?;
        self.files.insert(name, format!("{:x}", hasher.finalize()));
        Ok(())
    }

    /// An anonymous scratch file in the staging folder (same disk as the output, removed when
    /// closed, never part of the folder): for data too large to hold in memory.
    pub fn scratch_file(&self) -> Result<fs::File> {
        tempfile::tempfile_in(self.staging.path()).map_err(|source| Error::Write {
            path: self.staging.path().to_path_buf(),
            source,
        })
    }

    /// Takes the file `name` of a finished run folder into this one unchanged (a hard link
    /// where possible, else a copy) and records its hash.
    pub fn adopt(&mut self, from_dir: &Path, name: &str, hash: &str) -> Result<()> {
        let source = from_dir.join(name);
        let destination = self.staging.path().join(name);
        fs::hard_link(&source, &destination)
            .or_else(|_| fs::copy(&source, &destination).map(|_| ()))
            .map_err(|source| Error::Write {
                path: self.target.join(name),
                source,
            })?;
        self.files.insert(name.to_string(), hash.to_string());
        Ok(())
    }

    /// Writes `manifest.json` with the hash of every file written, makes everything durable and
    /// replaces the target folder in one rename. Returns the target's path.
    pub fn commit(mut self, mut manifest: Manifest) -> Result<PathBuf> {
        manifest.files = std::mem::take(&mut self.files);
        let manifest_path = self.staging.path().join(MANIFEST_FILE);
        // Every other file was made durable as it was written (or adopted from a finished
        // folder), so the manifest, written last, is the only one left.
        write_durably(&manifest_path, |out| {
            serde_json::to_writer_pretty(&mut *out, &manifest)?;
            writeln!(out)
        })
        .map_err(|source| Error::Write {
            path: self.target.join(MANIFEST_FILE),
            source,
        })?;
        let staging = self.staging.keep();
        replace_folder(&staging, &self.target).map_err(|source| {
            let _ = fs::remove_dir_all(&staging);
            Error::Write {
                path: self.target.clone(),
                source,
            }
        })?;
        Ok(self.target)
    }
}

/// `Err(reason)` unless every entry of the existing folder `dir` is relsim's: the folder is
/// empty, or it holds a relsim manifest and only files that manifest lists.
fn check_replaceable(dir: &Path) -> std::result::Result<(), String> {
    let entries: Vec<String> = fs::read_dir(dir)
        .and_then(|entries| {
            entries
                .map(|entry| entry.map(|e| e.file_name().to_string_lossy().into_owned()))
                .collect()
        })
        .map_err(|err| format!("cannot be read: {err}"))?;
    if entries.is_empty() {
        return Ok(());
    }
    let not_ours = "relsim did not write; choose another --out, or pass --force to replace the \
                    whole folder";
    let manifest = fs::read_to_string(dir.join(MANIFEST_FILE))
        .ok()
        .and_then(|text| serde_json::from_str::<Manifest>(&text).ok());
    let Some(manifest) = manifest else {
        return Err(format!("holds files that {not_ours}"));
    };
    if manifest.files.is_empty() {
        return Err(
            "holds a run of an older relsim that lists no files, so relsim cannot tell \
                    which files are its own; choose another --out, or pass --force to replace \
                    the whole folder"
                .into(),
        );
    }
    match entries
        .iter()
        .find(|name| *name != MANIFEST_FILE && !manifest.files.contains_key(*name))
    {
        Some(foreign) => Err(format!("holds {foreign}, which {not_ours}")),
        None => Ok(()),
    }
}

/// Puts the complete folder `staging` in the place of `target`, keeping the old `target` aside
/// until the new one is in place. Another run may be doing the same at the same moment; the
/// loop then retries, and one of the two complete folders ends up in place.
fn replace_folder(staging: &Path, target: &Path) -> io::Result<()> {
    const ATTEMPTS: usize = 100;
    let mut last_error = None;
    for _ in 0..ATTEMPTS {
        if fs::symlink_metadata(target).is_err() {
            match fs::rename(staging, target) {
                Ok(()) => return Ok(()),
                // Another run put its folder there after our check: set it aside next time.
                Err(err) if target.exists() => last_error = Some(err),
                Err(err) => return Err(err),
            }
            continue;
        }
        let aside = unique_sibling(target, "old")?;
        match fs::rename(target, &aside) {
            Ok(()) => {}
            // Another run moved it first.
            Err(err) if err.kind() == io::ErrorKind::NotFound => continue,
            Err(err) => return Err(err),
        }
        match fs::rename(staging, target) {
            Ok(()) => {
                let _ = fs::remove_dir_all(&aside);
                return Ok(());
            }
            Err(err) => {
                // Another run got its folder in between; ours goes in on the next attempt, and
                // the previous folder is no longer needed.
                let _ = fs::remove_dir_all(&aside);
                last_error = Some(err);
            }
        }
    }
    Err(last_error.unwrap_or_else(|| io::Error::other("the folder kept changing")))
}

/// How the names of a run's private siblings of folder `name` begin: hidden, and carrying the
/// id of the process that owns them, so that the leftovers of a killed process can be told from
/// the work of one still running.
fn sibling_prefix(name: &str, process_id: u32) -> String {
    format!(".{name}.relsim-{process_id}-")
}

/// Removes the staging and set-aside folders of `name` that a killed relsim left behind: those
/// whose owning process no longer runs. Where process ids cannot be checked (no `/proc`),
/// nothing is removed.
fn remove_abandoned_siblings(parent: &Path, name: &str) {
    if !Path::new("/proc/self").exists() {
        return;
    }
    let Ok(entries) = fs::read_dir(parent) else {
        return;
    };
    let start = format!(".{name}.relsim-");
    for entry in entries.flatten() {
        let file_name = entry.file_name().to_string_lossy().into_owned();
        let Some(rest) = file_name.strip_prefix(&start) else {
            continue;
        };
        let Some((process_id, _)) = rest.split_once('-') else {
            continue;
        };
        let owner_runs = process_id
            .parse::<u32>()
            .map_or(true, |id| Path::new(&format!("/proc/{id}")).exists());
        if !owner_runs {
            let _ = fs::remove_dir_all(entry.path());
        }
    }
}

/// A fresh, unused path beside `path` (its name starts with a dot, so it stays out of sight).
fn unique_sibling(path: &Path, role: &str) -> io::Result<PathBuf> {
    // Reserve the name with an empty folder, then free it for the rename.
    let reserved = tempfile::Builder::new()
        .prefix(&format!(
            "{}{role}-",
            sibling_prefix(&file_name_of(path), std::process::id())
        ))
        .tempdir_in(parent_of(path))?
        .keep();
    fs::remove_dir(&reserved)?;
    Ok(reserved)
}

/// SHA-256 of a file's bytes, as lowercase hex, read in a streaming pass.
pub fn file_sha256(path: &Path) -> io::Result<String> {
    let mut hasher = Sha256::new();
    io::copy(&mut fs::File::open(path)?, &mut hasher)?;
    Ok(format!("{:x}", hasher.finalize()))
}

/// Creates `path`, writes it through `write` (buffered) and makes it durable.
fn write_durably(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> io::Result<()>,
) -> io::Result<()> {
    let mut out = BufWriter::new(fs::File::create(path)?);
    write(&mut out)?;
    out.into_inner().map_err(|err| err.into_error())?.sync_all()
}

/// Checks that the files of a finished run folder belong to the run its manifest describes:
/// every file the manifest lists that is present has the recorded hash, and every file in
/// `required` is present.
pub fn check_integrity(dir: &Path, manifest: &Manifest, required: &[&str]) -> Result<()> {
    let invalid = |name: &str, message: String| Error::InvalidOutput {
        path: dir.join(name),
        message,
    };
    if manifest.files.is_empty() {
        return Err(invalid(
            MANIFEST_FILE,
            "lists no files (written by an older relsim), so the folder's files cannot be shown \
             to belong to one run; run the scenario again"
                .into(),
        ));
    }
    for name in required {
        if !manifest.files.contains_key(*name) {
            return Err(invalid(
                MANIFEST_FILE,
                format!("does not list {name}; this folder is not a complete relsim run"),
            ));
        }
    }
    for (name, recorded) in &manifest.files {
        let path = dir.join(name);
        match file_sha256(&path) {
            Ok(actual) if &actual == recorded => {}
            Ok(_) => {
                return Err(invalid(
                    name,
                    "does not belong to the run manifest.json describes (its contents changed \
                     after the run); run the scenario again"
                        .into(),
                ))
            }
            Err(err) if err.kind() == io::ErrorKind::NotFound && !required.contains(&&**name) => {}
            Err(err) => return Err(invalid(name, format!("cannot be read: {err}"))),
        }
    }
    Ok(())
}

/// A writer that hashes what passes through it.
/// A file of a [`StagedFolder`] written a piece at a time; everything written is hashed.
pub struct StreamedFile {
    name: String,
    out: BufWriter<fs::File>,
    hasher: Sha256,
}

impl Write for StreamedFile {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.out.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }
}

struct HashingWriter<'a> {
    inner: &'a mut dyn Write,
    hasher: &'a mut Sha256,
}

impl Write for HashingWriter<'_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let written = self.inner.write(buf)?;
        self.hasher.update(&buf[..written]);
        Ok(written)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest() -> Manifest {
        Manifest::for_tests()
    }

    fn staged_run(target: &Path, contents: &str) -> PathBuf {
        let mut folder = StagedFolder::prepare(target, false).unwrap();
        folder
            .write("summary.csv", |out| out.write_all(contents.as_bytes()))
            .unwrap();
        folder.commit(manifest()).unwrap()
    }

    fn names_in(dir: &Path) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_committed_folder_holds_its_files_and_a_manifest_of_their_hashes() {
        let dir = tempfile::tempdir().unwrap();
        let target = staged_run(&dir.path().join("run"), "a,b\n");
        assert_eq!(names_in(&target), ["manifest.json", "summary.csv"]);
        let manifest: Manifest =
            serde_json::from_str(&fs::read_to_string(target.join(MANIFEST_FILE)).unwrap()).unwrap();
        assert_eq!(
            manifest.files["summary.csv"],
            file_sha256(&target.join("summary.csv")).unwrap()
        );
        check_integrity(&target, &manifest, &["summary.csv"]).unwrap();
        // Nothing is left beside it.
        assert_eq!(names_in(dir.path()), ["run"]);
    }

    #[test]
    fn a_new_run_replaces_the_old_folder_whole() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run");
        staged_run(&target, "old\n");
        fs::write(target.join("extra.png"), "stale").unwrap();
        // The stale chart is not the manifest's, so the folder is no longer relsim's alone.
        assert!(StagedFolder::prepare(&target, false).is_err());
        fs::remove_file(target.join("extra.png")).unwrap();
        staged_run(&target, "new\n");
        assert_eq!(
            fs::read_to_string(target.join("summary.csv")).unwrap(),
            "new\n"
        );
        assert_eq!(names_in(dir.path()), ["run"]);
    }

    #[test]
    fn an_uncommitted_folder_leaves_the_target_untouched() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run");
        staged_run(&target, "old\n");
        {
            let mut folder = StagedFolder::prepare(&target, false).unwrap();
            folder
                .write("summary.csv", |out| out.write_all(b"half"))
                .unwrap();
            // Dropped: an error or an interrupt before the commit.
        }
        assert_eq!(
            fs::read_to_string(target.join("summary.csv")).unwrap(),
            "old\n"
        );
        assert_eq!(names_in(dir.path()), ["run"]);
    }

    #[test]
    fn foreign_folders_files_and_impossible_places_are_refused_before_anything_runs() {
        let dir = tempfile::tempdir().unwrap();
        let foreign = dir.path().join("mine");
        fs::create_dir(&foreign).unwrap();
        fs::write(foreign.join("summary.csv"), "my own numbers").unwrap();
        let message = StagedFolder::prepare(&foreign, false)
            .unwrap_err()
            .to_string();
        assert!(message.contains("relsim did not write"), "{message}");
        assert!(message.contains("--force"), "{message}");
        // With --force it may be replaced.
        StagedFolder::prepare(&foreign, true).unwrap();

        let file = dir.path().join("a_file");
        fs::write(&file, "x").unwrap();
        let message = StagedFolder::prepare(&file, true).unwrap_err().to_string();
        assert!(message.contains("is a file"), "{message}");
        let below_file = file.join("run");
        let error = StagedFolder::prepare(&below_file, false).unwrap_err();
        assert_eq!(error.exit_code(), 2);
        assert!(error
            .to_string()
            .contains("cannot create its parent folder"));
    }

    #[test]
    fn integrity_check_names_a_file_that_changed_after_the_run() {
        let dir = tempfile::tempdir().unwrap();
        let target = staged_run(&dir.path().join("run"), "a\n");
        let manifest: Manifest =
            serde_json::from_str(&fs::read_to_string(target.join(MANIFEST_FILE)).unwrap()).unwrap();
        fs::write(target.join("summary.csv"), "b\n").unwrap();
        let message = check_integrity(&target, &manifest, &["summary.csv"])
            .unwrap_err()
            .to_string();
        assert!(message.contains("summary.csv"), "{message}");
        assert!(message.contains("does not belong"), "{message}");
        fs::remove_file(target.join("summary.csv")).unwrap();
        assert!(check_integrity(&target, &manifest, &["summary.csv"]).is_err());
        check_integrity(&target, &manifest, &[]).unwrap();
    }

    #[test]
    fn leftovers_of_a_killed_process_are_removed_and_a_live_ones_kept() {
        let dir = tempfile::tempdir().unwrap();
        // Process ids are below 2^22 on Linux, so this one cannot be running.
        let dead = dir.path().join(".run.relsim-4294967-abc");
        let live = dir
            .path()
            .join(format!(".run.relsim-{}-def", std::process::id()));
        let other = dir.path().join(".other.relsim-4294967-abc");
        for folder in [&dead, &live, &other] {
            fs::create_dir(folder).unwrap();
            fs::write(folder.join("runs.csv"), "half").unwrap();
        }
        let target = staged_run(&dir.path().join("run"), "a\n");
        assert!(!dead.exists());
        assert!(live.exists(), "the folder of a running process was removed");
        assert!(other.exists(), "another folder's sibling was removed");
        assert!(target.join("summary.csv").exists());
    }

    #[test]
    fn concurrent_commits_leave_one_whole_folder() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("run");
        std::thread::scope(|scope| {
            for idx in 0..8 {
                let target = &target;
                scope.spawn(move || {
                    let mut folder = StagedFolder::prepare(target, false).unwrap();
                    for name in ["a.csv", "b.csv"] {
                        folder
                            .write(name, |out| writeln!(out, "run {idx}"))
                            .unwrap();
                    }
                    folder.commit(manifest()).unwrap();
                });
            }
        });
        let a = fs::read_to_string(target.join("a.csv")).unwrap();
        assert_eq!(a, fs::read_to_string(target.join("b.csv")).unwrap());
        let manifest: Manifest =
            serde_json::from_str(&fs::read_to_string(target.join(MANIFEST_FILE)).unwrap()).unwrap();
        check_integrity(&target, &manifest, &["a.csv", "b.csv"]).unwrap();
        assert_eq!(names_in(dir.path()), ["run"]);
    }
}
