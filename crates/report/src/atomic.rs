//! Atomic file writes: write a temporary file in the destination's folder, flush it to disk,
//! then rename it over the destination. A reader sees the old file or the new one, never half
//! of one; a crash leaves at most a stray `.tmp*` file, never a truncated result.

use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why an atomic write failed; the message names the destination file.
#[derive(Debug, Error)]
pub enum AtomicWriteError {
    /// The destination has no parent folder or the folder does not exist.
    #[error("cannot write {path}: folder {dir} does not exist (create it first)")]
    NoFolder {
        /// Destination.
        path: PathBuf,
        /// Its folder.
        dir: PathBuf,
    },
    /// Creating, writing, syncing or renaming the temporary file failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Destination.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Writes `contents` to `path` atomically (temporary file in the same folder + rename).
/// Permissions of a new file follow the usual umask (`0644` typically), not the
/// temporary file's private `0600`.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let dir = match path.parent() {
        Some(d) if d.as_os_str().is_empty() => Path::new("."),
        Some(d) => d,
        None => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(AtomicWriteError::NoFolder {
            path: path.to_owned(),
            dir: dir.to_owned(),
        });
    }
    let io = |source| AtomicWriteError::Io {
        path: path.to_owned(),
        source,
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".tmp-")
        .tempfile_in(dir)
        .map_err(io)?;
    tmp.write_all(contents).map_err(io)?;
    tmp.as_file().sync_all().map_err(io)?;
    set_default_permissions(tmp.as_file(), path).map_err(io)?;
    tmp.persist(path).map_err(|e| io(e.error))?;
    Ok(())
}

/// Keeps an existing file's permissions, else uses `0644` (tempfile creates `0600`).
#[cfg(unix)]
fn set_default_permissions(file: &std::fs::File, dest: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dest).map_or(0o644, |m| m.permissions().mode());
    file.set_permissions(std::fs::Permissions::from_mode(mode))
}

#[cfg(not(unix))]
fn set_default_permissions(_file: &std::fs::File, _dest: &Path) -> std::io::Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_replaces_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("out.csv");
        write_atomic(&p, b"one\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"one\n");
        write_atomic(&p, b"two\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two\n");
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["out.csv"]);
    }

    #[cfg(unix)]
    #[test]
    fn new_files_are_not_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.txt");
        write_atomic(&p, b"x").unwrap();
        assert_eq!(
            std::fs::metadata(&p).unwrap().permissions().mode() & 0o777,
            0o644
        );
    }

    #[test]
    fn missing_folder_is_a_clear_error() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("nope").join("a.csv");
        let e = write_atomic(&p, b"x").unwrap_err();
        assert!(e.to_string().contains("nope"), "{e}");
        assert!(e.to_string().contains("does not exist"), "{e}");
    }
}
