//! The workflows of two binaries over docker-ctl's calls (docker-ctl itself keeps only the
//! Engine, Docker Hub, registry, names and dates):
//!
//! * [`image_check`]: `nightly-image-check` (spec nightly.md §3): for each Pacific date and
//!   hardware type, the newest-ROCm nightly tag on Docker Hub and its manifest, written as the
//!   original's `[check]` report ([`image_check::CheckReport`], also what an alert sends);
//! * [`upstream`]: `build-sglang-docker` (spec nightly.md §8): the upstream `lmsysorg/sglang`
//!   ROCm image named by SGLang's Dockerfile, optionally with a pull request's source laid
//!   over it.

pub mod image_check;
pub mod upstream;
