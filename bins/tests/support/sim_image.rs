//! The simulated-engine image for Docker tests: built once per test process by the real
//! `sglang-sim build-image` (from the statically linked programs `.ci/run` names in
//! `SGLCI_SIM_IMAGE_BINARIES`, else the test's own), images of dead test processes removed
//! first; and nightly-looking tags of it (`<repo>:v<pid>.<n>-rocm700-mi30x-20251204`) so the
//! programs derive their tag, hardware and date from it.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use docker_ctl::BlockingEngine;
use docker_ctl::testkit::{Cleanup, unique};

/// Where `.ci/run` put the static `sglang-sim` and `sglang-bench` (env
/// `SGLCI_SIM_IMAGE_BINARIES`); unset: the test's own (dynamic) binaries.
pub fn static_binaries() -> Option<PathBuf> {
    std::env::var_os("SGLCI_SIM_IMAGE_BINARIES")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from)
}

/// `<repo>:<pid>`, built once per test process.
pub fn base(engine: &BlockingEngine, repo: &'static str) -> String {
    static BUILT: OnceLock<String> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            if let Ok(old) = engine.block_on(engine.engine().list_managed_images()) {
                for r in old.iter().filter(|r| r.starts_with(&format!("{repo}:"))) {
                    let pid = r.rsplit(':').next().unwrap_or("");
                    if !Path::new(&format!("/proc/{pid}")).exists() {
                        let _ = engine.remove_image(r, true);
                    }
                }
            }
            let tag = format!("{repo}:{}", std::process::id());
            let t = std::time::Instant::now();
            let mut build = Command::new(env!("CARGO_BIN_EXE_sglang-sim"));
            build.args(["build-image", "--tag", &tag]);
            if let Some(dir) = static_binaries() {
                build.arg("--binaries").arg(dir);
            }
            let out = build.output().expect("run sglang-sim build-image");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "sglang-sim build-image: {stdout}\n{}",
                String::from_utf8_lossy(&out.stderr)
            );
            assert!(
                stdout.contains(&format!("Built {tag} (sha256:")),
                "{stdout}"
            );
            println!(
                "sglang-sim build-image took {:.1} s",
                t.elapsed().as_secs_f64()
            );
            tag
        })
        .clone()
}

/// A nightly-looking reference of the base image (`<repo>:v<pid>.<n>-rocm700-mi30x-20251204`),
/// removed by `cleanup`; returns it and its tag.
pub fn nightly_ref(
    engine: &BlockingEngine,
    cleanup: &mut Cleanup<'_>,
    repo: &'static str,
) -> (String, String) {
    let base = base(engine, repo);
    let tag = format!("{}-rocm700-mi30x-20251204", unique("v0").replace('-', "."));
    let image = format!("{repo}:{tag}");
    engine.tag_image(&base, &image).expect("tag the sim image");
    cleanup.image(&image);
    (image, tag)
}
