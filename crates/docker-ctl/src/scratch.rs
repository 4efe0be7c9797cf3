//! Host programs for `FROM scratch` images (no registry is needed to build them): how a program
//! is linked, read from its ELF program headers ([`linkage`]), and for a dynamic one the shared
//! libraries and the loader `ldd` lists ([`ldd`]), which [`BuildContext::libraries`] copies into
//! the image at the same paths. Used by `sglang-sim build-image` and by the Docker tests'
//! images of host programs.

use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::context::BuildContext;

/// Why a host program cannot go into an image.
#[derive(Debug, Error)]
pub enum ProgramError {
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// A file is not a 64-bit little-endian ELF program.
    #[error("{path} is not an x86-64 Linux program (ELF64): {reason}")]
    NotElf {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `ldd` could not list a dynamic program's libraries.
    #[error(
        "cannot list the shared libraries of {path} with ldd: {reason} (install libc-bin, or build static binaries: RUSTFLAGS='-C target-feature=+crt-static' cargo build --target x86_64-unknown-linux-gnu)"
    )]
    Ldd {
        /// The program.
        path: PathBuf,
        /// What went wrong.
        reason: String,
    },
}

/// How a program is linked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Linkage {
    /// No program interpreter: runs in an empty filesystem.
    Static,
    /// Needs the loader (`PT_INTERP`) and shared libraries.
    Dynamic {
        /// The loader path (`/lib64/ld-linux-x86-64.so.2`).
        interpreter: String,
    },
}

/// Reads the ELF program headers of `data` (a whole file): static unless it has `PT_INTERP`.
pub fn linkage(data: &[u8]) -> Result<Linkage, String> {
    let u16_at =
        |o: usize| -> Option<u16> { data.get(o..o + 2).map(|b| u16::from_le_bytes([b[0], b[1]])) };
    let u32_at = |o: usize| -> Option<u32> {
        data.get(o..o + 4)
            .map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    };
    let u64_at = |o: usize| -> Option<u64> {
        data.get(o..o + 8).map(|b| {
            let mut a = [0u8; 8];
            a.copy_from_slice(b);
            u64::from_le_bytes(a)
        })
    };
    if data.get(..4) != Some(b"\x7fELF".as_slice()) {
        return Err("no ELF magic".into());
    }
    if data.get(4) != Some(&2) || data.get(5) != Some(&1) {
        return Err("not a 64-bit little-endian ELF file".into());
    }
    let bad = || "truncated program header table".to_owned();
    let phoff = usize::try_from(u64_at(0x20).ok_or_else(bad)?).map_err(|_| bad())?;
    let phentsize = usize::from(u16_at(0x36).ok_or_else(bad)?);
    let phnum = usize::from(u16_at(0x38).ok_or_else(bad)?);
    if phentsize < 0x38 {
        return Err(bad());
    }
    for i in 0..phnum {
        let ph = phoff + i * phentsize;
        if u32_at(ph).ok_or_else(bad)? == 3 {
            let off = usize::try_from(u64_at(ph + 0x08).ok_or_else(bad)?).map_err(|_| bad())?;
            let size = usize::try_from(u64_at(ph + 0x20).ok_or_else(bad)?).map_err(|_| bad())?;
            let raw = data.get(off..off + size).ok_or_else(bad)?;
            let interpreter = String::from_utf8_lossy(raw)
                .trim_end_matches('\0')
                .to_owned();
            return Ok(Linkage::Dynamic { interpreter });
        }
    }
    Ok(Linkage::Static)
}

/// Absolute library paths in `ldd` output (`libc.so.6 => /lib/.../libc.so.6 (0x..)`,
/// `/lib64/ld-linux-x86-64.so.2 (0x..)`); `linux-vdso.so.1` has none.
pub fn ldd_paths(output: &str) -> Vec<PathBuf> {
    output
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rhs)) => rhs.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect()
}

/// The shared libraries and the loader `ldd` lists for the dynamic program `program`.
pub fn ldd(program: &Path) -> Result<Vec<PathBuf>, ProgramError> {
    let err = |reason: String| ProgramError::Ldd {
        path: program.to_owned(),
        reason,
    };
    let out = std::process::Command::new("ldd")
        .arg(program)
        .output()
        .map_err(|e| err(e.to_string()))?;
    if !out.status.success() {
        return Err(err(String::from_utf8_lossy(&out.stderr).trim().to_owned()));
    }
    Ok(ldd_paths(&String::from_utf8_lossy(&out.stdout)))
}

/// A host program read for an image: its bytes, how it is linked and, when dynamic, the
/// libraries it needs.
#[derive(Debug, Clone)]
pub struct HostProgram {
    /// The file on this machine.
    pub path: PathBuf,
    /// Its content.
    pub data: Vec<u8>,
    /// How it is linked.
    pub linkage: Linkage,
    /// Shared libraries and loader (`ldd`), empty for a static program.
    pub libraries: Vec<PathBuf>,
}

impl HostProgram {
    /// Reads `path`, checks that it is an ELF64 program and lists its libraries.
    pub fn read(path: &Path) -> Result<Self, ProgramError> {
        let data = std::fs::read(path).map_err(|source| ProgramError::Io {
            path: path.to_owned(),
            source,
        })?;
        let linkage = linkage(&data).map_err(|reason| ProgramError::NotElf {
            path: path.to_owned(),
            reason,
        })?;
        let libraries = match linkage {
            Linkage::Static => Vec::new(),
            Linkage::Dynamic { .. } => ldd(path)?,
        };
        Ok(Self {
            path: path.to_owned(),
            data,
            linkage,
            libraries,
        })
    }
}

impl BuildContext {
    /// Adds each host library (links resolved) at `<root><its absolute path>`, e.g.
    /// `rootfs/lib/x86_64-linux-gnu/libc.so.6`, so a dynamic program finds it in the image.
    pub fn libraries<'a>(
        &mut self,
        root: &str,
        libs: impl IntoIterator<Item = &'a PathBuf>,
    ) -> Result<&mut Self, ProgramError> {
        for lib in libs {
            let io = |source| ProgramError::Io {
                path: lib.clone(),
                source,
            };
            let real = std::fs::canonicalize(lib).map_err(io)?;
            self.host_file(&format!("{root}{}", lib.display()), &real)
                .map_err(io)?;
        }
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::elf_program;

    #[test]
    fn interpreter_header_decides_linkage() {
        let dynamic = elf_program(Some("/lib64/ld-linux-x86-64.so.2"));
        assert_eq!(
            linkage(&dynamic).unwrap(),
            Linkage::Dynamic {
                interpreter: "/lib64/ld-linux-x86-64.so.2".into()
            }
        );
        // PT_LOAD (or PT_DYNAMIC: static-pie) without PT_INTERP: static.
        let mut static_pie = elf_program(None);
        assert_eq!(linkage(&static_pie).unwrap(), Linkage::Static);
        static_pie[0x40] = 2;
        assert_eq!(linkage(&static_pie).unwrap(), Linkage::Static);
        assert!(linkage(b"#!/bin/sh\n").is_err());
        let mut short = dynamic;
        short.truncate(0x50);
        assert!(linkage(&short).is_err());
    }

    #[test]
    fn this_test_binary_is_read_like_the_toolkit_binaries() {
        // cargo builds dynamic programs by default: the loader comes out of the header, and
        // ldd lists it with the libraries.
        let me = HostProgram::read(&std::env::current_exe().unwrap()).unwrap();
        match &me.linkage {
            Linkage::Dynamic { interpreter } => {
                assert!(interpreter.contains("ld-"), "{interpreter}");
                assert!(
                    me.libraries
                        .iter()
                        .any(|l| l.display().to_string().contains("libc.so")),
                    "{:?}",
                    me.libraries
                );
            }
            Linkage::Static => assert!(me.libraries.is_empty()), // a static toolchain build
        }
    }

    #[test]
    fn ldd_lines_give_absolute_paths_only() {
        let out = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibgcc_s.so.1 => /lib/x86_64-linux-gnu/libgcc_s.so.1 (0x1)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x2)\n\t/lib64/ld-linux-x86-64.so.2 (0x3)\n\tstatically linked\n";
        assert_eq!(
            ldd_paths(out),
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libgcc_s.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2"),
            ]
        );
    }

    #[test]
    fn a_script_is_not_a_program_and_says_which_file() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("run.sh");
        std::fs::write(&p, "#!/bin/sh\n").unwrap();
        let e = HostProgram::read(&p).unwrap_err().to_string();
        assert_eq!(
            e,
            format!(
                "{} is not an x86-64 Linux program (ELF64): no ELF magic",
                p.display()
            )
        );
        let missing = HostProgram::read(&dir.path().join("nope")).unwrap_err();
        assert!(missing.to_string().starts_with("cannot read "), "{missing}");
    }

    #[test]
    fn libraries_land_at_their_own_paths_below_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let lib = dir.path().join("libx.so.1");
        std::fs::write(&lib, b"lib").unwrap();
        let mut ctx = BuildContext::new();
        ctx.libraries("rootfs", [&lib]).unwrap();
        let names = crate::context::entry_names(&ctx.finish().unwrap()).unwrap();
        assert_eq!(names, [format!("rootfs{}", lib.display())]);
        let mut ctx = BuildContext::new();
        let gone = dir.path().join("gone.so");
        assert!(ctx.libraries("rootfs", [&gone]).is_err());
    }
}
