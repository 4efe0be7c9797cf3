//! `rsync -a --delete src/ dest/` in Rust (spec nightly.md §10.3 step 4, Q-UP-3 keep): after
//! [`mirror`], `dest` holds exactly the files, folders and symbolic links of `src` (contents
//! and permission bits); whatever `dest` had beyond them is removed. No rsync needed on the
//! host, and no silent fall-back to a copy without deletions.

use std::fs;
use std::io;
use std::path::{Path, PathBuf};

/// A file-system step of the mirror failed.
#[derive(Debug, thiserror::Error)]
#[error("cannot {what} {path}: {source}")]
pub struct MirrorError {
    /// `read`, `copy to`, `remove`, `create`, `link`.
    pub what: &'static str,
    /// The path involved.
    pub path: PathBuf,
    /// Cause.
    #[source]
    pub source: io::Error,
}

fn err<'a>(what: &'static str, path: &'a Path) -> impl FnOnce(io::Error) -> MirrorError + 'a {
    move |source| MirrorError {
        what,
        path: path.to_owned(),
        source,
    }
}

/// Makes `dest` an exact copy of the folder `src`.
pub fn mirror(src: &Path, dest: &Path) -> Result<(), MirrorError> {
    if fs::symlink_metadata(dest).is_ok_and(|m| !m.is_dir()) {
        fs::remove_file(dest).map_err(err("remove", dest))?;
    }
    fs::create_dir_all(dest).map_err(err("create", dest))?;
    // Remove what src does not have (or has as another kind of entry).
    for entry in fs::read_dir(dest).map_err(err("read", dest))? {
        let entry = entry.map_err(err("read", dest))?;
        let there = entry.path();
        let here = src.join(entry.file_name());
        let kind_there = entry.file_type().map_err(err("read", &there))?;
        let keep = match fs::symlink_metadata(&here) {
            Ok(m) => {
                let t = m.file_type();
                (t.is_dir() && kind_there.is_dir())
                    || (t.is_file() && kind_there.is_file())
                    || (t.is_symlink() && kind_there.is_symlink())
            }
            Err(_) => false,
        };
        if !keep {
            if kind_there.is_dir() {
                fs::remove_dir_all(&there).map_err(err("remove", &there))?;
            } else {
                fs::remove_file(&there).map_err(err("remove", &there))?;
            }
        }
    }
    for entry in fs::read_dir(src).map_err(err("read", src))? {
        let entry = entry.map_err(err("read", src))?;
        let from = entry.path();
        let to = dest.join(entry.file_name());
        let kind = entry.file_type().map_err(err("read", &from))?;
        if kind.is_dir() {
            mirror(&from, &to)?;
        } else if kind.is_symlink() {
            let target = fs::read_link(&from).map_err(err("read", &from))?;
            if fs::read_link(&to).ok().as_deref() != Some(target.as_path()) {
                let _ = fs::remove_file(&to);
                std::os::unix::fs::symlink(&target, &to).map_err(err("link", &to))?;
            }
        } else if kind.is_file() {
            if !same_file_contents(&from, &to) {
                fs::copy(&from, &to).map_err(err("copy to", &to))?;
            }
            let perm = fs::metadata(&from)
                .map_err(err("read", &from))?
                .permissions();
            fs::set_permissions(&to, perm).map_err(err("copy to", &to))?;
        }
        // Sockets, FIFOs and devices are not logs: skipped, as git could not hold them.
    }
    Ok(())
}

/// True when both files exist with equal bytes (so an unchanged log is not rewritten).
fn same_file_contents(a: &Path, b: &Path) -> bool {
    match (fs::metadata(a), fs::metadata(b)) {
        (Ok(ma), Ok(mb)) if ma.len() == mb.len() => {
            matches!((fs::read(a), fs::read(b)), (Ok(x), Ok(y)) if x == y)
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(root: &Path) -> Vec<String> {
        let mut out = Vec::new();
        fn walk(root: &Path, dir: &Path, out: &mut Vec<String>) {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                let rel = p.strip_prefix(root).unwrap().display().to_string();
                if p.is_dir() {
                    out.push(format!("{rel}/"));
                    walk(root, &p, out);
                } else {
                    out.push(format!("{rel}={}", fs::read_to_string(&p).unwrap()));
                }
            }
        }
        walk(root, root, &mut out);
        out.sort();
        out
    }

    #[test]
    fn dest_becomes_exactly_src() {
        let d = tempfile::tempdir().unwrap();
        let (src, dest) = (d.path().join("src"), d.path().join("dest"));
        fs::create_dir_all(src.join("sub")).unwrap();
        fs::write(src.join("a.log"), "new a").unwrap();
        fs::write(src.join("sub/b.log"), "b").unwrap();
        fs::create_dir_all(dest.join("gone/deeper")).unwrap();
        fs::write(dest.join("a.log"), "old a").unwrap();
        fs::write(dest.join("stale.log"), "x").unwrap();
        fs::write(dest.join("sub"), "a file where src has a folder").unwrap();
        mirror(&src, &dest).unwrap();
        assert_eq!(tree(&dest), tree(&src));
        assert_eq!(tree(&dest), ["a.log=new a", "sub/", "sub/b.log=b"]);
    }
}
