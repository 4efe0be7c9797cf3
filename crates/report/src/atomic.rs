//! Result-file writes that never leave half a file and compose with the shell.
//!
//! A regular file (new or existing) is written atomically: a temporary file in the
//! destination's folder, flushed to disk, then renamed over the destination, so a reader sees the
//! old file or the new one, never half of one; a crash leaves at most a stray `.tmp*` file. A
//! symbolic link to a regular file keeps being a link: the file it points to is replaced.
//!
//! Targets that are not files are written to, never renamed over:
//! * `-` is standard output, `/dev/stdout` and `/dev/stderr` are the process' own streams
//!   (a reader that closed the pipe early, `| head`, is not an error);
//! * `/dev/fd/N` and `/proc/…/fd/N` are opened and appended to (whatever they point to);
//! * an existing character device, FIFO or socket (`/dev/null`, a named pipe) is opened and
//!   written.

use std::fs::{FileType, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};

use thiserror::Error;

/// Why a write failed; the message names the destination.
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
    /// Creating, writing, syncing or renaming the temporary file, or writing a stream, failed.
    #[error("cannot write {path}: {source}")]
    Io {
        /// Destination (`-` for standard output).
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Where the bytes of [`write_atomic`] go.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Target {
    /// The process' standard output.
    Stdout,
    /// The process' standard error.
    Stderr,
    /// Opened and written in place (append), never renamed over.
    InPlace,
    /// A regular file (or a new one) replaced atomically; the path is the link's target when
    /// the destination is a symbolic link.
    File(PathBuf),
}

impl Target {
    fn of(path: &Path) -> Target {
        if path.as_os_str() == "-" || path == Path::new("/dev/stdout") {
            return Target::Stdout;
        }
        if path == Path::new("/dev/stderr") {
            return Target::Stderr;
        }
        if is_fd_path(path) {
            return Target::InPlace;
        }
        match std::fs::metadata(path) {
            Ok(m) if is_special(m.file_type()) => Target::InPlace,
            Ok(m) if m.is_file() => {
                let linked = std::fs::symlink_metadata(path).is_ok_and(|l| l.is_symlink());
                match linked.then(|| std::fs::canonicalize(path)) {
                    Some(Ok(real)) => Target::File(real),
                    _ => Target::File(path.to_owned()),
                }
            }
            _ => Target::File(path.to_owned()),
        }
    }
}

/// `/dev/fd/N` or `/proc/<pid|self|thread-self>/fd/N`: another name of an open descriptor.
fn is_fd_path(path: &Path) -> bool {
    let parts: Vec<&std::ffi::OsStr> = path.iter().collect();
    match parts.as_slice() {
        [root, dev, fd, _] => *root == "/" && *dev == "dev" && *fd == "fd",
        [root, proc, _, fd, _] => *root == "/" && *proc == "proc" && *fd == "fd",
        _ => false,
    }
}

/// A character or block device, FIFO or socket.
#[cfg(unix)]
fn is_special(t: FileType) -> bool {
    use std::os::unix::fs::FileTypeExt;
    t.is_char_device() || t.is_block_device() || t.is_fifo() || t.is_socket()
}

#[cfg(not(unix))]
fn is_special(t: FileType) -> bool {
    !t.is_file() && !t.is_dir() && !t.is_symlink()
}

/// Writes `contents` to `path`: atomically (temporary file in the same folder + rename) for a
/// regular file, straight to the stream or device for `-` (stdout), `/dev/stdout`,
/// `/dev/stderr`, `/dev/fd/N` and existing devices and FIFOs (see the module docs).
/// Permissions of a new file follow the usual umask (`0644` typically), not the
/// temporary file's private `0600`; an existing file keeps its permissions.
pub fn write_atomic(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let io = |source| AtomicWriteError::Io {
        path: path.to_owned(),
        source,
    };
    match Target::of(path) {
        Target::Stdout => write_stream(std::io::stdout().lock(), contents).map_err(io),
        Target::Stderr => write_stream(std::io::stderr().lock(), contents).map_err(io),
        Target::InPlace => {
            let mut f = OpenOptions::new().append(true).open(path).map_err(io)?;
            f.write_all(contents).and_then(|()| f.flush()).map_err(io)
        }
        Target::File(real) => replace_file(path, &real, contents),
    }
}

/// Appends `contents` to `path`, creating it when missing: the JSON-lines result files that
/// grow run after run (`sglang-bench --output-file`, `--result-file`). `-`, `/dev/stdout` and
/// `/dev/stderr` are the process' streams, as for [`write_atomic`]; anything else is opened in
/// append mode (one `write` of the whole text), so devices and pipes are written through.
pub fn append(path: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let io = |source| AtomicWriteError::Io {
        path: path.to_owned(),
        source,
    };
    match Target::of(path) {
        Target::Stdout => write_stream(std::io::stdout().lock(), contents).map_err(io),
        Target::Stderr => write_stream(std::io::stderr().lock(), contents).map_err(io),
        Target::InPlace | Target::File(_) => {
            let mut f = OpenOptions::new()
                .create(true)
                .append(true)
                .open(path)
                .map_err(io)?;
            f.write_all(contents).and_then(|()| f.flush()).map_err(io)
        }
    }
}

/// Writes and flushes a standard stream; a closed pipe is not an error.
fn write_stream(mut w: impl Write, contents: &[u8]) -> std::io::Result<()> {
    match w.write_all(contents).and_then(|()| w.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Temporary file beside `real` (the destination or its link target), renamed over it; errors
/// name `path`, the destination as given.
fn replace_file(path: &Path, real: &Path, contents: &[u8]) -> Result<(), AtomicWriteError> {
    let dir = match real.parent() {
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
    set_default_permissions(tmp.as_file(), real).map_err(io)?;
    tmp.persist(real).map_err(|e| io(e.error))?;
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

    fn names(dir: &Path) -> Vec<String> {
        let mut v: Vec<String> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        v.sort();
        v
    }

    #[test]
    fn stdout_and_descriptor_names_are_streams_not_files() {
        assert_eq!(Target::of(Path::new("-")), Target::Stdout);
        assert_eq!(Target::of(Path::new("/dev/stdout")), Target::Stdout);
        assert_eq!(Target::of(Path::new("/dev/stderr")), Target::Stderr);
        assert_eq!(Target::of(Path::new("/dev/fd/5")), Target::InPlace);
        assert_eq!(Target::of(Path::new("/proc/self/fd/1")), Target::InPlace);
        assert_eq!(Target::of(Path::new("/proc/42/fd/7")), Target::InPlace);
        // A file that merely looks similar is a file.
        assert_eq!(
            Target::of(Path::new("./-")),
            Target::File(PathBuf::from("./-"))
        );
        assert_eq!(
            Target::of(Path::new("/dev/fd")),
            Target::File(PathBuf::from("/dev/fd"))
        );
    }

    /// A named pipe is written through, not replaced by a regular file.
    #[cfg(unix)]
    #[test]
    fn fifo_target_is_written_and_stays_a_fifo() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("pipe");
        let st = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo (coreutils) runs");
        assert!(st.success(), "mkfifo {}", fifo.display());
        let (tx, rx) = std::sync::mpsc::channel();
        {
            let fifo = fifo.clone();
            std::thread::spawn(move || tx.send(std::fs::read(&fifo).unwrap()));
        }
        write_atomic(&fifo, b"a,b\n1,2\n").unwrap();
        // A write that renamed over the FIFO would leave the reader waiting for ever.
        let got = rx
            .recv_timeout(std::time::Duration::from_secs(10))
            .expect("the reader of the FIFO got nothing");
        assert_eq!(got, b"a,b\n1,2\n");
        let t = std::fs::symlink_metadata(&fifo).unwrap().file_type();
        assert!(t.is_fifo(), "the FIFO was replaced: {t:?}");
        assert_eq!(names(dir.path()), ["pipe"], "no temporary file left");
    }

    /// A character device (a private `null` device when this process may create one, else
    /// `/dev/null`, whose folder only root may change) is written, not renamed over.
    #[cfg(unix)]
    #[test]
    fn character_device_target_stays_a_device() {
        use std::os::unix::fs::FileTypeExt;
        let dir = tempfile::tempdir().unwrap();
        let own = dir.path().join("null");
        let made = std::process::Command::new("mknod")
            .arg(&own)
            .args(["c", "1", "3"])
            .stderr(std::process::Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        let dev = if made {
            own
        } else {
            PathBuf::from("/dev/null")
        };
        write_atomic(&dev, b"discarded\n").unwrap();
        let t = std::fs::symlink_metadata(&dev).unwrap().file_type();
        assert!(t.is_char_device(), "{} is now {t:?}", dev.display());
        if made {
            assert_eq!(names(dir.path()), ["null"], "no temporary file left");
        }
    }

    /// A link to a result file stays a link; the file it names gets the new content.
    #[cfg(unix)]
    #[test]
    fn symlink_to_a_file_keeps_the_link() {
        let dir = tempfile::tempdir().unwrap();
        let real = dir.path().join("run1.csv");
        std::fs::write(&real, b"old\n").unwrap();
        let link = dir.path().join("latest.csv");
        std::os::unix::fs::symlink("run1.csv", &link).unwrap();
        write_atomic(&link, b"new\n").unwrap();
        assert!(std::fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(std::fs::read(&real).unwrap(), b"new\n");
        assert_eq!(names(dir.path()), ["latest.csv", "run1.csv"]);
    }

    #[test]
    fn append_creates_then_appends() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("results.jsonl");
        append(&p, b"{\"a\":1}\n").unwrap();
        append(&p, b"{\"a\":2}\n").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{\"a\":1}\n{\"a\":2}\n");
        let e = append(&dir.path().join("no/x.jsonl"), b"x").unwrap_err();
        assert!(e.to_string().contains("x.jsonl"), "{e}");
    }

    /// `/dev/fd/N` appends to the open descriptor's file instead of renaming in `/proc`.
    #[cfg(target_os = "linux")]
    #[test]
    fn descriptor_path_appends_to_the_open_file() {
        use std::os::fd::AsRawFd;
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("log.txt");
        std::fs::write(&p, b"head\n").unwrap();
        let f = std::fs::OpenOptions::new().append(true).open(&p).unwrap();
        let fd_path = PathBuf::from(format!("/dev/fd/{}", f.as_raw_fd()));
        write_atomic(&fd_path, b"tail\n").unwrap();
        drop(f);
        assert_eq!(std::fs::read(&p).unwrap(), b"head\ntail\n");
    }
}
