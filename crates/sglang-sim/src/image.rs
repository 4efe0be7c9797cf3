//! `sglang-sim build-image` (feature `image`): what goes into the Docker image that stands in
//! for `rocm/sgl-dev` with `--engine=sim`. It is built on the local engine (no registry)
//! `FROM scratch` and holds `sglang-sim` and `sglang-bench` in [`SIM_BIN_DIR`]; its default
//! command (`sglang-sim keep-alive`, [`crate::keep_alive`]) keeps a container running until
//! SIGTERM, as the original's `tail -f /dev/null` did, so `docker run -d IMAGE` stays up and
//! `docker stop` ends it at once.
//!
//! The two programs are taken from `--binaries DIR`, else from the folder of the running
//! binary. Statically linked programs (the portable choice: `RUSTFLAGS='-C
//! target-feature=+crt-static' cargo build --release --target x86_64-unknown-linux-gnu`) are
//! copied as they are; dynamically linked ones (a normal `cargo build`) are copied with the
//! shared libraries and the loader `ldd` lists for them, at the same paths, so the image runs
//! either way (the ELF and `ldd` reading is docker-ctl's [`docker_ctl::scratch`]). The GSM8K
//! data and tokenizer are not copied: the orchestrator mounts them read-only.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::time::Duration;

use docker_ctl::scratch::{HostProgram, Linkage, ProgramError};
use docker_ctl::{BlockingEngine, BuildContext, DockerError, EngineConfig};
pub use docker_ctl::{SIM_BIN_DIR, SIM_IMAGE_LABEL};
use thiserror::Error;

/// The programs the image holds.
pub const PROGRAMS: [&str; 2] = ["sglang-sim", "sglang-bench"];
/// Label saying how the image's programs are linked (`static` or `dynamic`).
pub const LINKAGE_LABEL: &str = "org.sglang-ci.sim-image.linkage";

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
    /// A program or one of its libraries cannot go into the image (unreadable, not ELF64,
    /// `ldd` failed).
    #[error(transparent)]
    Program(#[from] ProgramError),
    /// The build context could not be assembled.
    #[error("cannot read {path}: {source}")]
    Io {
        /// What was being added.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The Docker Engine failed.
    #[error(transparent)]
    Docker(#[from] DockerError),
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
#[derive(Debug)]
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

impl SimImageContext {
    /// The image's labels: [`SIM_IMAGE_LABEL`] with this toolkit's version, [`LINKAGE_LABEL`].
    pub fn labels(&self) -> BTreeMap<String, String> {
        let all_static = self.programs.iter().all(|p| p.linkage == Linkage::Static);
        BTreeMap::from([
            (
                SIM_IMAGE_LABEL.to_owned(),
                env!("CARGO_PKG_VERSION").to_owned(),
            ),
            (
                LINKAGE_LABEL.to_owned(),
                if all_static { "static" } else { "dynamic" }.to_owned(),
            ),
        ])
    }
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
        let program = HostProgram::read(&path)?;
        ctx.file(&format!("rootfs{SIM_BIN_DIR}/{name}"), &program.data, 0o755)
            .map_err(io(&path))?;
        libs.extend(program.libraries);
        programs.push(ImageProgram {
            name,
            path,
            linkage: program.linkage,
        });
    }
    ctx.libraries("rootfs", &libs)?;
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
    let labels = c.labels();
    let tar = c.context.finish().map_err(|source| SimImageError::Io {
        path: "build context".into(),
        source,
    })?;
    Ok(engine.build_image(tar, tag, &labels, limit, |line| say(line.to_owned()))?)
}

#[cfg(test)]
mod tests {
    use docker_ctl::testkit::elf_program;

    use super::*;

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
    fn a_program_that_is_not_elf_is_named() {
        let dir = tempfile::tempdir().unwrap();
        for p in PROGRAMS {
            std::fs::write(dir.path().join(p), "#!/bin/sh\n").unwrap();
        }
        let e = context(dir.path()).unwrap_err().to_string();
        assert!(
            e.ends_with("sglang-sim is not an x86-64 Linux program (ELF64): no ELF magic"),
            "{e}"
        );
    }

    #[test]
    fn static_programs_go_in_alone_with_the_keep_alive_command() {
        let dir = tempfile::tempdir().unwrap();
        for p in PROGRAMS {
            std::fs::write(dir.path().join(p), elf_program(None)).unwrap();
        }
        let c = context(dir.path()).unwrap();
        assert!(c.libraries.is_empty());
        assert!(c.programs.iter().all(|p| p.linkage == Linkage::Static));
        assert_eq!(
            c.labels(),
            BTreeMap::from([
                (
                    "org.sglang-ci.sim-image".to_owned(),
                    env!("CARGO_PKG_VERSION").to_owned()
                ),
                (
                    "org.sglang-ci.sim-image.linkage".to_owned(),
                    "static".to_owned()
                ),
            ])
        );
        assert_eq!(
            c.dockerfile,
            "FROM scratch\nCOPY rootfs/ /\nENV PATH=/usr/local/bin:/usr/bin:/bin\nWORKDIR /sgl-workspace\nCMD [\"/usr/local/bin/sglang-sim\", \"keep-alive\"]\n"
        );
        let names = docker_ctl::entry_names(&c.context.finish().unwrap()).unwrap();
        assert_eq!(
            names,
            [
                "rootfs/usr/local/bin/sglang-sim",
                "rootfs/usr/local/bin/sglang-bench",
                "rootfs/tmp/",
                "rootfs/sgl-workspace/",
                "Dockerfile"
            ]
        );
    }

    #[test]
    fn dynamic_programs_bring_their_libraries_and_say_so() {
        // This test binary is a normal (dynamic) cargo build: copy it in as both programs.
        let me = std::env::current_exe().unwrap();
        if !matches!(
            HostProgram::read(&me).unwrap().linkage,
            Linkage::Dynamic { .. }
        ) {
            return; // a static toolchain: nothing dynamic to check
        }
        let dir = tempfile::tempdir().unwrap();
        for p in PROGRAMS {
            std::fs::copy(&me, dir.path().join(p)).unwrap();
        }
        let c = context(dir.path()).unwrap();
        assert!(
            c.libraries
                .iter()
                .any(|l| l.display().to_string().contains("libc.so")),
            "{:?}",
            c.libraries
        );
        assert_eq!(
            c.labels()
                .get("org.sglang-ci.sim-image.linkage")
                .map(String::as_str),
            Some("dynamic")
        );
    }
}
