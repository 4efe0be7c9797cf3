//! Reading input files defensively (issue 12): only regular files are read (a FIFO named like
//! a log would block forever, a `.log` symlink to `/dev/zero` would never end), and one file
//! may hold at most [`MAX_INPUT_BYTES`]. Callers skip what [`read_regular`] refuses, with a
//! warning that names the file.

use std::io::Read;
use std::path::{Path, PathBuf};

/// The most bytes one input file (client log, timing summary, CSV, GSM8K log) may hold. The
/// largest real ones are a few MiB; anything above this is not a benchmark artefact.
pub const MAX_INPUT_BYTES: u64 = 64 * 1024 * 1024;

/// Why a file was not read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// A FIFO, device, socket or folder (after following symlinks).
    #[error("{path} is not a regular file ({kind}); skipped")]
    NotRegular {
        /// The file.
        path: PathBuf,
        /// What it is instead.
        kind: &'static str,
    },
    /// More than the cap.
    #[error("{path} holds more than {cap} bytes; skipped")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// The cap in bytes.
        cap: u64,
    },
    /// An I/O error.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

impl ReadError {
    /// Whether the file was refused (not regular, too large) rather than failing to read:
    /// callers skip those with a warning.
    pub fn is_refused(&self) -> bool {
        !matches!(self, Self::Io { .. })
    }
}

/// What a non-regular file is, for messages; `None` for a regular file.
fn odd_kind(meta: &std::fs::Metadata) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    let t = meta.file_type();
    if t.is_file() {
        None
    } else if t.is_dir() {
        Some("a folder")
    } else if t.is_fifo() {
        Some("a FIFO")
    } else if t.is_char_device() {
        Some("a character device")
    } else if t.is_block_device() {
        Some("a block device")
    } else if t.is_socket() {
        Some("a socket")
    } else {
        Some("not a file")
    }
}

/// Whether `path` is (or a symlink resolves to) a regular file.
pub fn is_regular(path: &Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}

/// Reads `path` when it is a regular file of at most [`MAX_INPUT_BYTES`].
pub fn read_regular(path: &Path) -> Result<Vec<u8>, ReadError> {
    read_regular_capped(path, MAX_INPUT_BYTES)
}

/// Reads `path` when it is a regular file of at most `cap` bytes.
pub fn read_regular_capped(path: &Path, cap: u64) -> Result<Vec<u8>, ReadError> {
    let io = |source| ReadError::Io {
        path: path.to_owned(),
        source,
    };
    let refuse = |meta: &std::fs::Metadata| -> Result<(), ReadError> {
        if let Some(kind) = odd_kind(meta) {
            return Err(ReadError::NotRegular {
                path: path.to_owned(),
                kind,
            });
        }
        if meta.len() > cap {
            return Err(ReadError::TooLarge {
                path: path.to_owned(),
                cap,
            });
        }
        Ok(())
    };
    // Checked before opening (opening a FIFO blocks) and again on the open file (it may have
    // been replaced in between); the read itself stops at the cap whatever the size said.
    refuse(&std::fs::metadata(path).map_err(io)?)?;
    let file = std::fs::File::open(path).map_err(io)?;
    refuse(&file.metadata().map_err(io)?)?;
    let mut data = Vec::new();
    file.take(cap.saturating_add(1))
        .read_to_end(&mut data)
        .map_err(io)?;
    if data.len() as u64 > cap {
        return Err(ReadError::TooLarge {
            path: path.to_owned(),
            cap,
        });
    }
    Ok(data)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fifo_and_device_symlink_are_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("sglang_client_log_x.log");
        let made = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap();
        assert!(made.success());
        let e = read_regular(&fifo).unwrap_err();
        assert!(e.is_refused());
        assert!(e.to_string().contains("a FIFO"), "{e}");

        let zero = dir.path().join("timing_summary_x.log");
        std::os::unix::fs::symlink("/dev/zero", &zero).unwrap();
        let e = read_regular(&zero).unwrap_err();
        assert!(e.to_string().contains("character device"), "{e}");
        assert!(!is_regular(&zero));
    }

    #[test]
    fn the_cap_is_enforced_and_regular_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("a.log");
        std::fs::write(&p, b"0123456789").unwrap();
        assert_eq!(read_regular_capped(&p, 10).unwrap(), b"0123456789");
        let e = read_regular_capped(&p, 9).unwrap_err();
        assert!(matches!(e, ReadError::TooLarge { cap: 9, .. }), "{e}");
        let link = dir.path().join("b.log");
        std::os::unix::fs::symlink(&p, &link).unwrap();
        assert_eq!(read_regular(&link).unwrap(), b"0123456789");
        let missing = read_regular(&dir.path().join("nope")).unwrap_err();
        assert!(!missing.is_refused());
    }
}
