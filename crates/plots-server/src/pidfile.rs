//! `--pid-file`: the server's process id, written atomically at start and removed at exit.

use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};

use crate::Error;

/// A written pid file; dropping it removes the file if it still holds this process's id.
#[derive(Debug)]
pub struct PidFile {
    path: PathBuf,
    pid: u32,
}

impl PidFile {
    /// Writes this process's id to `path` (temp file + rename). Refuses when the file names
    /// another process that is still running (checked through `/proc/<pid>`); a stale file
    /// left by a killed server is replaced.
    pub fn create(path: &Path) -> Result<Self, Error> {
        let pid = std::process::id();
        let err = |source: io::Error| Error::PidFile {
            path: path.to_path_buf(),
            source,
        };
        if let Ok(text) = fs::read_to_string(path)
            && let Ok(other) = text.trim().parse::<u32>()
            && other != pid
            && Path::new(&format!("/proc/{other}")).exists()
        {
            return Err(Error::PidFileInUse {
                path: path.to_path_buf(),
                pid: other,
            });
        }
        let dir = match path.parent() {
            Some(d) if !d.as_os_str().is_empty() => d,
            _ => Path::new("."),
        };
        let mut tmp = tempfile_in(dir).map_err(err)?;
        tmp.1
            .write_all(format!("{pid}\n").as_bytes())
            .map_err(err)?;
        tmp.1.sync_all().map_err(err)?;
        fs::rename(&tmp.0, path).map_err(|e| {
            let _ = fs::remove_file(&tmp.0);
            err(e)
        })?;
        Ok(Self {
            path: path.to_path_buf(),
            pid,
        })
    }

    /// Where the file is.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn tempfile_in(dir: &Path) -> io::Result<(PathBuf, fs::File)> {
    let name = format!(".plots-server-pid.{}.tmp", std::process::id());
    let p = dir.join(name);
    let f = fs::File::create(&p)?;
    Ok((p, f))
}

impl Drop for PidFile {
    fn drop(&mut self) {
        let ours = fs::read_to_string(&self.path)
            .ok()
            .and_then(|t| t.trim().parse::<u32>().ok())
            == Some(self.pid);
        if ours {
            let _ = fs::remove_file(&self.path);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn written_then_removed_and_stale_files_are_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("server.pid");
        // a stale file naming a pid that cannot exist
        fs::write(&p, "4294967294\n").unwrap();
        {
            let f = PidFile::create(&p).unwrap();
            assert_eq!(f.path(), p);
            assert_eq!(
                fs::read_to_string(&p).unwrap(),
                format!("{}\n", std::process::id())
            );
        }
        assert!(!p.exists());
    }

    #[test]
    fn a_live_other_process_is_not_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("server.pid");
        fs::write(&p, "1\n").unwrap(); // pid 1 always runs
        let err = PidFile::create(&p).unwrap_err();
        assert!(err.to_string().contains("process 1"), "{err}");
        assert_eq!(fs::read_to_string(&p).unwrap(), "1\n");
    }
}
