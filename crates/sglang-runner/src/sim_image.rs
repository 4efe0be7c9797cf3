//! `sglang-sim build-image`: a Docker image that stands in for `rocm/sgl-dev` with
//! `--engine=sim`. It is built on the local engine (no registry) `FROM scratch` and holds
//! `sglang-sim` and `sglang-bench` in [`SIM_BIN_DIR`]; its default command
//! (`sglang-sim keep-alive`) keeps a container running until SIGTERM, as the original's
//! `tail -f /dev/null` did, so `docker run -d IMAGE` stays up and `docker stop` ends it at once.
//!
//! The two programs are taken from `--binaries DIR`, else from the folder of the running
//! binary. Statically linked programs (the portable choice: `RUSTFLAGS='-C
//! target-feature=+crt-static' cargo build --release --target x86_64-unknown-linux-gnu`) are
//! copied as they are; dynamically linked ones (a normal `cargo build`) are copied with the
//! shared libraries and the loader `ldd` lists for them, at the same paths, so the image runs
//! either way. The GSM8K data and tokenizer are not copied: the orchestrator mounts them
//! read-only (see [`crate::container`]).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use docker_ctl::{BlockingEngine, BuildContext, DockerError, EngineConfig};
use thiserror::Error;

use crate::signals::{Interrupt, Interrupted};

/// Where the image keeps its programs.
pub const SIM_BIN_DIR: &str = "/usr/local/bin";
/// The programs the image holds.
pub const PROGRAMS: [&str; 2] = ["sglang-sim", "sglang-bench"];
/// Label marking a simulated-engine image (value: the toolkit version).
pub const SIM_IMAGE_LABEL: &str = "org.sglang-ci.sim-image";

/// Why the image could not be built.
#[derive(Debug, Error)]
pub enum SimImageError {
    /// A program is missing.
    #[error(
        "{program} not found in {dir}: build the simulator binaries first (`cargo build --release --bin sglang-sim --bin sglang-bench`; static: `RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --no-default-features --target x86_64-unknown-linux-gnu --bin sglang-sim --bin sglang-bench`) and pass their folder with --binaries DIR"
    )]
    Missing {
        /// `sglang-sim` / `sglang-bench`.
        program: &'static str,
        /// The folder looked in.
        dir: PathBuf,
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
    /// A file could not be read.
    #[error("cannot read {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The Docker Engine failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
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

fn ldd(program: &Path) -> Result<Vec<PathBuf>, SimImageError> {
    let err = |reason: String| SimImageError::Ldd {
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

/// The folder the programs are taken from: `dir`, else the running binary's folder.
pub fn binaries_dir(dir: Option<&Path>) -> PathBuf {
    dir.map(Path::to_owned)
        .or_else(|| {
            std::env::current_exe()
                .ok()
                .and_then(|e| e.parent().map(Path::to_owned))
        })
        .unwrap_or_else(|| PathBuf::from("."))
}

/// One program going into the image.
#[derive(Debug, Clone)]
pub struct ImageProgram {
    /// Its name (`sglang-sim`).
    pub name: &'static str,
    /// The file on this machine.
    pub path: PathBuf,
    /// How it is linked.
    pub linkage: Linkage,
}

/// The build context of the image and what went into it.
pub struct SimImageContext {
    /// The context (Dockerfile and root filesystem).
    pub context: BuildContext,
    /// The programs.
    pub programs: Vec<ImageProgram>,
    /// Shared libraries copied for dynamic programs.
    pub libraries: Vec<PathBuf>,
    /// The Dockerfile text.
    pub dockerfile: String,
}

/// Reads the programs from `dir` and makes the build context.
pub fn context(dir: &Path) -> Result<SimImageContext, SimImageError> {
    let mut ctx = BuildContext::new();
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| SimImageError::Io { path, source }
    };
    let mut programs = Vec::new();
    let mut libs: BTreeSet<PathBuf> = BTreeSet::new();
    for name in PROGRAMS {
        let path = dir.join(name);
        if !path.is_file() {
            return Err(SimImageError::Missing {
                program: name,
                dir: dir.to_owned(),
            });
        }
        let data = std::fs::read(&path).map_err(io(&path))?;
        let link = linkage(&data).map_err(|reason| SimImageError::NotElf {
            path: path.clone(),
            reason,
        })?;
        if let Linkage::Dynamic { .. } = link {
            libs.extend(ldd(&path)?);
        }
        ctx.file(&format!("rootfs{SIM_BIN_DIR}/{name}"), &data, 0o755)
            .map_err(io(&path))?;
        programs.push(ImageProgram {
            name,
            path,
            linkage: link,
        });
    }
    for lib in &libs {
        let real = std::fs::canonicalize(lib).map_err(io(lib))?;
        ctx.host_file(&format!("rootfs{}", lib.display()), &real)
            .map_err(io(lib))?;
    }
    for d in ["rootfs/tmp", "rootfs/sgl-workspace"] {
        ctx.dir(d).map_err(io(Path::new(d)))?;
    }
    let dockerfile = format!(
        "FROM scratch\nCOPY rootfs/ /\nENV PATH={SIM_BIN_DIR}:/usr/bin:/bin\nWORKDIR /sgl-workspace\nCMD [\"{SIM_BIN_DIR}/sglang-sim\", \"keep-alive\"]\n"
    );
    ctx.dockerfile(&dockerfile)
        .map_err(io(Path::new("Dockerfile")))?;
    Ok(SimImageContext {
        context: ctx,
        programs,
        libraries: libs.into_iter().collect(),
        dockerfile,
    })
}

/// Builds image `tag` from the programs in `dir` on the daemon of `DOCKER_HOST` (or the
/// default socket); `say` gets what went in and the builder's lines. Returns the image id.
pub fn build(
    tag: &str,
    dir: &Path,
    limit: Duration,
    say: &mut dyn FnMut(String),
) -> Result<String, SimImageError> {
    let c = context(dir)?;
    for p in &c.programs {
        say(format!(
            "{} {} ({})",
            p.name,
            p.path.display(),
            match &p.linkage {
                Linkage::Static => "static".to_owned(),
                Linkage::Dynamic { interpreter } => format!("dynamic, loader {interpreter}"),
            }
        ));
    }
    if !c.libraries.is_empty() {
        say(format!(
            "copying {} shared libraries of the dynamic programs: {}",
            c.libraries.len(),
            c.libraries
                .iter()
                .map(|p| p.display().to_string())
                .collect::<Vec<_>>()
                .join(" ")
        ));
    }
    let engine = BlockingEngine::connect_with(&EngineConfig::from_env())?;
    let all_static = c.programs.iter().all(|p| p.linkage == Linkage::Static);
    let labels = BTreeMap::from([
        (
            SIM_IMAGE_LABEL.to_owned(),
            env!("CARGO_PKG_VERSION").to_owned(),
        ),
        (
            "org.sglang-ci.sim-image.linkage".to_owned(),
            if all_static { "static" } else { "dynamic" }.to_owned(),
        ),
    ]);
    let tar = c.context.finish().map_err(|source| SimImageError::Io {
        path: "build context".into(),
        source,
    })?;
    Ok(engine.build_image(tar, tag, &labels, limit, |line| say(line.to_owned()))?)
}

/// The image's default command: waits until SIGTERM or SIGINT (also as PID 1 of a
/// container) and returns the signal.
pub fn keep_alive(interrupt: &Interrupt) -> Interrupted {
    loop {
        if let Err(i) = interrupt.sleep(Duration::from_secs(3600)) {
            return i;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A minimal ELF64 header with one program header of type `ptype`.
    fn elf(ptype: u32) -> Vec<u8> {
        let mut d = vec![0u8; 0x40 + 0x38 + 32];
        d[..4].copy_from_slice(b"\x7fELF");
        d[4] = 2;
        d[5] = 1;
        d[0x20..0x28].copy_from_slice(&0x40u64.to_le_bytes());
        d[0x36..0x38].copy_from_slice(&0x38u16.to_le_bytes());
        d[0x38..0x3a].copy_from_slice(&1u16.to_le_bytes());
        let ph = 0x40;
        d[ph..ph + 4].copy_from_slice(&ptype.to_le_bytes());
        let interp = b"/lib64/ld-linux-x86-64.so.2\0";
        let off = 0x40 + 0x38;
        d[off..off + interp.len()].copy_from_slice(interp);
        d[ph + 8..ph + 16].copy_from_slice(&(off as u64).to_le_bytes());
        d[ph + 0x20..ph + 0x28].copy_from_slice(&(interp.len() as u64).to_le_bytes());
        d
    }

    #[test]
    fn interpreter_header_decides_linkage() {
        assert_eq!(
            linkage(&elf(3)).unwrap(),
            Linkage::Dynamic {
                interpreter: "/lib64/ld-linux-x86-64.so.2".into()
            }
        );
        // PT_LOAD / PT_DYNAMIC without PT_INTERP: static (static-pie has PT_DYNAMIC).
        assert_eq!(linkage(&elf(1)).unwrap(), Linkage::Static);
        assert_eq!(linkage(&elf(2)).unwrap(), Linkage::Static);
        assert!(linkage(b"#!/bin/sh\n").is_err());
        let mut short = elf(3);
        short.truncate(0x50);
        assert!(linkage(&short).is_err());
    }

    #[test]
    fn this_test_binary_is_read_like_the_toolkit_binaries() {
        // cargo builds dynamic programs by default: the loader comes out of the header.
        let me = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        match linkage(&me).unwrap() {
            Linkage::Dynamic { interpreter } => {
                assert!(interpreter.contains("ld-"), "{interpreter}")
            }
            Linkage::Static => {} // a static toolchain build is fine too
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
    fn missing_programs_say_how_to_build_them() {
        let dir = tempfile::tempdir().unwrap();
        let Err(e) = context(dir.path()) else {
            panic!("expected an error")
        };
        let text = e.to_string();
        assert!(text.starts_with("sglang-sim not found in "), "{text}");
        assert!(
            text.contains("crt-static") && text.contains("--binaries"),
            "{text}"
        );
    }

    #[test]
    fn static_programs_go_in_alone_with_the_keep_alive_command() {
        let dir = tempfile::tempdir().unwrap();
        for p in PROGRAMS {
            std::fs::write(dir.path().join(p), elf(1)).unwrap();
        }
        let c = context(dir.path()).unwrap();
        assert!(c.libraries.is_empty());
        assert!(c.programs.iter().all(|p| p.linkage == Linkage::Static));
        assert!(
            c.dockerfile
                .contains("CMD [\"/usr/local/bin/sglang-sim\", \"keep-alive\"]"),
            "{}",
            c.dockerfile
        );
        let tar = c.context.finish().unwrap();
        let mut a = tar::Archive::new(&tar[..]);
        let names: Vec<String> = a
            .entries()
            .unwrap()
            .map(|e| e.unwrap().path().unwrap().display().to_string())
            .collect();
        assert!(
            names.contains(&"rootfs/usr/local/bin/sglang-sim".to_owned()),
            "{names:?}"
        );
        assert!(names.contains(&"rootfs/usr/local/bin/sglang-bench".to_owned()));
        assert!(names.contains(&"Dockerfile".to_owned()));
    }
}
