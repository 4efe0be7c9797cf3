//! Mapping checked request paths onto the served root, with no escape through symlinks.
//!
//! Every path is canonicalized (all symlinks resolved) and must still lie below the canonical
//! root; a link that leaves the root answers exactly like a missing file (404) and is left out
//! of listings, so the server does not even reveal whether its target exists. Only regular
//! files and directories are served (a FIFO or device would block or leak).

use std::ffi::OsString;
use std::fs::{self, Metadata};
use std::io;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// What a request path names below the root.
#[derive(Debug)]
pub enum Target {
    /// A regular file (after following symlinks that stay inside the root).
    File {
        /// Canonical path (inside the root).
        path: PathBuf,
        /// Metadata of the file itself.
        meta: Metadata,
    },
    /// A directory (canonical path, inside the root).
    Dir(PathBuf),
    /// Nothing servable: missing, not readable, a special file.
    Missing,
    /// A symlink somewhere on the path resolves outside the root (answered like `Missing`).
    Escapes(PathBuf),
}

/// Resolves `segments` (already checked by [`crate::urlpath::parse`]) below `root`, which must
/// be canonical.
pub fn resolve(root: &Path, segments: &[OsString]) -> Target {
    let mut candidate = root.to_path_buf();
    candidate.extend(segments);
    resolve_path(root, &candidate)
}

fn resolve_path(root: &Path, candidate: &Path) -> Target {
    let Ok(canon) = fs::canonicalize(candidate) else {
        return Target::Missing;
    };
    if !canon.starts_with(root) {
        return Target::Escapes(canon);
    }
    match fs::metadata(&canon) {
        Ok(m) if m.is_dir() => Target::Dir(canon),
        Ok(m) if m.is_file() => Target::File {
            path: canon,
            meta: m,
        },
        _ => Target::Missing,
    }
}

/// One row of a directory listing.
#[derive(Debug, Clone)]
pub struct Entry {
    /// The name as stored on disk.
    pub name: OsString,
    /// A directory (or a symlink to one).
    pub is_dir: bool,
    /// The entry itself is a symlink (shown with `@` as in the original).
    pub is_symlink: bool,
    /// Size in bytes (files), number of entries (directories, `None` when unreadable).
    pub size: Option<u64>,
    /// Modification time of the target.
    pub modified: Option<SystemTime>,
}

/// Lists `dir` (canonical, inside `root`): every name including dot-files, sorted by byte
/// (code-point) order, case-sensitive as the original (quirk P2). Entries that cannot be
/// served are left out: symlinks that leave the root or dangle, and special files. A folder's
/// size is the number of entries its own listing shows.
pub fn list(root: &Path, dir: &Path) -> io::Result<Vec<Entry>> {
    list_inner(root, dir, true)
}

fn list_inner(root: &Path, dir: &Path, count_subfolders: bool) -> io::Result<Vec<Entry>> {
    let mut out = Vec::new();
    for item in fs::read_dir(dir)? {
        let Ok(item) = item else { continue };
        let Ok(ft) = item.file_type() else { continue };
        let path = item.path();
        let (meta, is_symlink) = if ft.is_symlink() {
            match resolve_path(root, &path) {
                Target::File { meta, .. } => (meta, true),
                Target::Dir(p) => match fs::metadata(p) {
                    Ok(m) => (m, true),
                    Err(_) => continue,
                },
                Target::Missing | Target::Escapes(_) => continue,
            }
        } else {
            match item.metadata() {
                Ok(m) => (m, false),
                Err(_) => continue,
            }
        };
        let is_dir = meta.is_dir();
        if !is_dir && !meta.is_file() {
            continue;
        }
        let size = if is_dir {
            // What the folder's own listing would show (served entries only).
            count_subfolders
                .then(|| {
                    let target = fs::canonicalize(&path).ok()?;
                    list_inner(root, &target, false).ok()
                })
                .flatten()
                .map(|l| u64::try_from(l.len()).unwrap_or(u64::MAX))
        } else {
            Some(meta.len())
        };
        out.push(Entry {
            name: item.file_name(),
            is_dir,
            is_symlink,
            size,
            modified: meta.modified().ok(),
        });
    }
    out.sort_by(|a, b| {
        use std::os::unix::ffi::OsStrExt;
        a.name.as_bytes().cmp(b.name.as_bytes())
    });
    Ok(out)
}

/// An `index.html` / `index.htm` inside `dir` that resolves inside the root, served instead of
/// a listing as the original does.
pub fn index_file(root: &Path, dir: &Path) -> Option<(PathBuf, Metadata)> {
    ["index.html", "index.htm"]
        .into_iter()
        .find_map(|n| match resolve_path(root, &dir.join(n)) {
            Target::File { path, meta } => Some((path, meta)),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::symlink;

    #[test]
    fn symlinks_inside_are_followed_and_outside_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret.txt"), "s").unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        fs::create_dir(root.join("d")).unwrap();
        fs::write(root.join("d/a.png"), "png").unwrap();
        symlink(root.join("d/a.png"), root.join("inside.png")).unwrap();
        symlink(outside.path().join("secret.txt"), root.join("out.txt")).unwrap();
        symlink(outside.path(), root.join("outdir")).unwrap();
        symlink(root.join("nope"), root.join("dangling")).unwrap();

        let seg = |s: &str| vec![OsString::from(s)];
        assert!(matches!(
            resolve(&root, &seg("inside.png")),
            Target::File { .. }
        ));
        assert!(matches!(
            resolve(&root, &seg("out.txt")),
            Target::Escapes(_)
        ));
        assert!(matches!(
            resolve(
                &root,
                &[OsString::from("outdir"), OsString::from("secret.txt")]
            ),
            Target::Escapes(_)
        ));
        assert!(matches!(resolve(&root, &seg("dangling")), Target::Missing));
        assert!(matches!(resolve(&root, &seg("d")), Target::Dir(_)));

        let names: Vec<_> = list(&root, &root)
            .unwrap()
            .into_iter()
            .map(|e| e.name.into_string().unwrap())
            .collect();
        assert_eq!(names, ["d", "inside.png"]);
    }

    #[test]
    fn listing_is_byte_ordered_and_case_sensitive() {
        let tmp = tempfile::tempdir().unwrap();
        let root = fs::canonicalize(tmp.path()).unwrap();
        for n in ["a.png", "Z.csv", "A.png", ".hidden", "b"] {
            fs::write(root.join(n), "x").unwrap();
        }
        let names: Vec<_> = list(&root, &root)
            .unwrap()
            .into_iter()
            .map(|e| e.name.into_string().unwrap())
            .collect();
        assert_eq!(names, [".hidden", "A.png", "Z.csv", "a.png", "b"]);
    }
}
