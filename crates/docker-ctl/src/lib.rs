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
//! manifest is pullable. [`image_check`] is the `nightly-image-check` report and
//! [`upstream`] the `build-sglang-docker` helper.

mod blocking;
mod container;
mod context;
pub mod dates;
mod engine;
mod error;
mod exec;
mod http;
pub mod hub;
mod image;
pub mod image_check;
mod inside;
mod names;
pub mod registry;
pub mod tags;
pub mod testkit;
pub mod upstream;

pub use blocking::BlockingEngine;
pub use container::{
    CREATED_BY_LABEL, ContainerInfo, ContainerSpec, Ensured, GPU_DEVICES, IMAGE_LABEL,
    MANAGED_LABEL, Mount, PathKind, parse_size, present_devices,
};
pub use context::BuildContext;
pub use engine::{DEFAULT_HOST, Engine, EngineConfig};
pub use error::DockerError;
pub use exec::{ExecLogs, ExecOutcome, ExecSpec, ExecState, StreamKind, TIMEOUT_EXIT_CODE};
pub use http::{NoAnswer, RetryPolicy};
pub use hub::{DateAttempt, HubClient, HubConfig, HubError, Lookup, NightlySearch, find_recent};
pub use image::PullProgress;
pub use inside::{InsideReason, inside_container, inside_container_with};
pub use names::{ImageParts, container_name, container_name_for, repo_and_tag};
pub use registry::{Manifest, RegistryClient, RegistryError};
pub use tags::Hardware;
