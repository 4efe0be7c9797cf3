//! The container layer of sglang-ci: the Docker Engine through bollard, and Docker Hub tag
//! discovery over HTTP.
//!
//! Engine side ([`Engine`], async; [`BlockingEngine`] for the synchronous binaries):
//! connect to `DOCKER_HOST` with API-version negotiation (the daemon may be older than
//! bollard), containers with the original's GPU settings ([`ContainerSpec::nightly`]),
//! reuse by name ([`Engine::ensure_container`]), start / stop / remove, exec with output
//! streamed into log files and a callback ([`Engine::exec`]), image presence, pull with
//! progress, tag, build from an in-memory tar context ([`BuildContext`]) with the legacy
//! builder, `docker import`. Every call is bounded in time. Every container and image this
//! crate creates carries [`MANAGED_LABEL`] (images: [`IMAGE_LABEL`]); clean-up ([`Engine::stop_managed_running`])
//! touches only those. Errors ([`DockerError`]) are one line that says what to do.
//!
//! Docker Hub side ([`HubClient`], blocking): pagination by `next`, the tag grammar and
//! filters ([`tags`]), Pacific dates ([`dates`]), the yesterday fallback ([`find_recent`]),
//! retries with backoff; "not found" ([`Lookup::NotFound`]) and "could not ask"
//! ([`HubError::CouldNotAsk`]) are different outcomes. [`RegistryClient`] checks that a tag's
//! manifest is pullable; [`http`] is the GET/HEAD with timeouts and retries both use (and
//! image-jobs' GitHub downloads).
//!
//! Images without a registry: [`BuildContext`] (in-memory tar) and [`scratch`] (host programs
//! for `FROM scratch` images: ELF linkage, the libraries `ldd` lists).
//!
//! What the binaries do with these calls lives elsewhere: the `nightly-image-check` and
//! `build-sglang-docker` workflows in the `image-jobs` crate, the simulated-engine image in
//! `sglang-sim` (feature `image`), the benchmark container in `sglang-runner`.
//!
//! Feature `testkit` (tests only, through dev-dependencies): module `testkit`, support for Docker
//! tests on the real daemon and HTTP stand-ins for Docker Hub, a registry or GitHub.

mod blocking;
mod container;
mod context;
pub mod dates;
mod engine;
mod error;
mod exec;
pub mod http;
pub mod hub;
mod image;
mod inside;
mod lifecycle;
mod names;
pub mod registry;
pub mod scratch;
pub mod tags;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use blocking::{BlockingEngine, RuntimeKind, connect_blocking};
pub use container::{
    CREATED_BY_LABEL, ContainerInfo, ContainerSpec, Ensured, GPU_DEVICES, IMAGE_LABEL,
    MANAGED_LABEL, Mount, PathKind, SIM_BIN_DIR, SIM_IMAGE_LABEL, parse_size, present_devices,
};
pub use context::{BuildContext, entry_names};
pub use engine::{DEFAULT_HOST, Engine, EngineConfig};
pub use error::DockerError;
pub use exec::{ExecLogs, ExecOutcome, ExecSpec, ExecState, StreamKind, TIMEOUT_EXIT_CODE};
pub use http::{NoAnswer, RetryPolicy};
pub use hub::{DateAttempt, HubClient, HubConfig, HubError, Lookup, NightlySearch, find_recent};
pub use image::PullProgress;
pub use inside::{InsideReason, inside_container, inside_container_with};
pub use lifecycle::ContainerState;
pub use names::{ImageParts, container_name, container_name_for, repo_and_tag};
pub use registry::{Manifest, RegistryClient, RegistryError};
pub use tags::Hardware;
