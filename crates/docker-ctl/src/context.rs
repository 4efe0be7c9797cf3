//! Tar build contexts for [`crate::Engine::build_image`], made in memory.

use std::path::Path;

/// A build context under construction: a `Dockerfile` plus files, as an uncompressed tar.
pub struct BuildContext {
    builder: tar::Builder<Vec<u8>>,
}

impl Default for BuildContext {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for BuildContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BuildContext").finish_non_exhaustive()
    }
}

impl BuildContext {
    /// An empty context.
    pub fn new() -> Self {
        let mut builder = tar::Builder::new(Vec::new());
        builder.mode(tar::HeaderMode::Deterministic);
        Self { builder }
    }

    /// Adds `Dockerfile` with `text`.
    pub fn dockerfile(&mut self, text: &str) -> std::io::Result<&mut Self> {
        self.file("Dockerfile", text.as_bytes(), 0o644)
    }

    /// Adds a file at `path` (relative, `/`-separated) with `mode` (e.g. `0o755` for a program).
    pub fn file(&mut self, path: &str, data: &[u8], mode: u32) -> std::io::Result<&mut Self> {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(mode);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Regular);
        self.builder
            .append_data(&mut h, path.trim_start_matches('/'), data)?;
        Ok(self)
    }

    /// Adds a directory entry (so empty directories exist in the image).
    pub fn dir(&mut self, path: &str) -> std::io::Result<&mut Self> {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o755);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Directory);
        let p = format!("{}/", path.trim_start_matches('/').trim_end_matches('/'));
        self.builder.append_data(&mut h, p, std::io::empty())?;
        Ok(self)
    }

    /// Adds a symbolic link `path` -> `target`.
    pub fn symlink(&mut self, path: &str, target: &str) -> std::io::Result<&mut Self> {
        let mut h = tar::Header::new_gnu();
        h.set_size(0);
        h.set_mode(0o777);
        h.set_mtime(0);
        h.set_entry_type(tar::EntryType::Symlink);
        self.builder
            .append_link(&mut h, path.trim_start_matches('/'), target)?;
        Ok(self)
    }

    /// Adds the host file `src` at `path`, keeping its permission bits.
    pub fn host_file(&mut self, path: &str, src: &Path) -> std::io::Result<&mut Self> {
        use std::os::unix::fs::PermissionsExt;
        let data = std::fs::read(src)?;
        let mode = std::fs::metadata(src)?.permissions().mode() & 0o7777;
        self.file(path, &data, mode)
    }

    /// The tar bytes.
    pub fn finish(self) -> std::io::Result<Vec<u8>> {
        self.builder.into_inner()
    }
}

/// The entry paths of a finished context's tar, in order (what an image build will see).
pub fn entry_names(tar: &[u8]) -> std::io::Result<Vec<String>> {
    let mut archive = tar::Archive::new(tar);
    let mut names = Vec::new();
    for entry in archive.entries()? {
        names.push(entry?.path()?.display().to_string());
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tar_holds_the_entries() {
        let mut c = BuildContext::new();
        c.dockerfile("FROM scratch\n").unwrap();
        c.file("bin/app", b"\x7fELF", 0o755).unwrap();
        c.dir("sgl-workspace").unwrap();
        let bytes = c.finish().unwrap();
        assert_eq!(
            entry_names(&bytes).unwrap(),
            ["Dockerfile", "bin/app", "sgl-workspace/"]
        );
        assert!(entry_names(b"not a tar archive, too short").is_err());
    }
}
