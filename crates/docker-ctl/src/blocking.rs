//! A blocking wrapper for the binaries, which are plain `fn main()` programs: it owns a
//! single-threaded tokio runtime and an [`Engine`], and every method blocks until the
//! corresponding async call ends (each is bounded by its own timeout).

use std::collections::BTreeMap;
use std::time::Duration;

use crate::container::{ContainerInfo, ContainerSpec, Ensured, PathKind};
use crate::engine::{Engine, EngineConfig};
use crate::error::DockerError;
use crate::exec::{ExecLogs, ExecOutcome, ExecSpec, StreamKind};
use crate::image::PullProgress;

/// The tokio runtime a synchronous caller drives the [`Engine`] on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RuntimeKind {
    /// On the calling thread only ([`BlockingEngine`]).
    CurrentThread,
    /// One worker thread with this name, so that spawned tasks (an exec's output pump) make
    /// progress while the caller is between `block_on` calls.
    Worker(&'static str),
}

/// Starts a runtime of `kind` and connects an [`Engine`] on it (with `cfg`): the one place
/// where synchronous code gets its runtime, so a failure to start one is reported as such
/// ([`DockerError::Runtime`]).
pub fn connect_blocking(
    cfg: &EngineConfig,
    kind: RuntimeKind,
) -> Result<(tokio::runtime::Runtime, Engine), DockerError> {
    let mut builder = match kind {
        RuntimeKind::CurrentThread => tokio::runtime::Builder::new_current_thread(),
        RuntimeKind::Worker(name) => {
            let mut b = tokio::runtime::Builder::new_multi_thread();
            b.worker_threads(1).thread_name(name);
            b
        }
    };
    let rt = builder
        .enable_all()
        .build()
        .map_err(|source| DockerError::Runtime { source })?;
    let engine = rt.block_on(Engine::connect_with(cfg))?;
    Ok((rt, engine))
}

/// [`Engine`] for synchronous code.
#[derive(Debug)]
pub struct BlockingEngine {
    rt: tokio::runtime::Runtime,
    engine: Engine,
}

impl BlockingEngine {
    /// Connects with [`EngineConfig::from_env`] (`DOCKER_HOST`).
    pub fn connect() -> Result<Self, DockerError> {
        Self::connect_with(&EngineConfig::from_env())
    }

    /// Connects with an explicit configuration.
    pub fn connect_with(cfg: &EngineConfig) -> Result<Self, DockerError> {
        let (rt, engine) = connect_blocking(cfg, RuntimeKind::CurrentThread)?;
        Ok(Self { rt, engine })
    }

    /// The async engine (for `block_on` of calls not wrapped here).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// Runs any future on this wrapper's runtime.
    pub fn block_on<F: std::future::Future>(&self, fut: F) -> F::Output {
        self.rt.block_on(fut)
    }

    /// See [`Engine::endpoint`].
    pub fn endpoint(&self) -> &str {
        self.engine.endpoint()
    }

    /// See [`Engine::server_version`].
    pub fn server_version(&self) -> &str {
        self.engine.server_version()
    }

    /// See [`Engine::container`].
    pub fn container(&self, name: &str) -> Result<Option<ContainerInfo>, DockerError> {
        self.rt.block_on(self.engine.container(name))
    }

    /// See [`Engine::ensure_container`].
    pub fn ensure_container(&self, spec: &ContainerSpec) -> Result<Ensured, DockerError> {
        self.rt.block_on(self.engine.ensure_container(spec))
    }

    /// See [`Engine::create_container`].
    pub fn create_container(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        self.rt.block_on(self.engine.create_container(spec))
    }

    /// See [`Engine::start_container`].
    pub fn start_container(&self, name: &str) -> Result<(), DockerError> {
        self.rt.block_on(self.engine.start_container(name))
    }

    /// See [`Engine::stop_container`].
    pub fn stop_container(&self, name: &str, grace: Duration) -> Result<(), DockerError> {
        self.rt.block_on(self.engine.stop_container(name, grace))
    }

    /// See [`Engine::remove_container`].
    pub fn remove_container(&self, name: &str, force: bool) -> Result<(), DockerError> {
        self.rt.block_on(self.engine.remove_container(name, force))
    }

    /// See [`Engine::remove_managed`].
    pub fn remove_managed(&self, name: &str, force: bool) -> Result<bool, DockerError> {
        self.rt.block_on(self.engine.remove_managed(name, force))
    }

    /// See [`Engine::list_managed`].
    pub fn list_managed(&self, all: bool) -> Result<Vec<ContainerInfo>, DockerError> {
        self.rt.block_on(self.engine.list_managed(all))
    }

    /// See [`Engine::stop_managed_running`].
    pub fn stop_managed_running(&self, grace: Duration) -> Result<Vec<String>, DockerError> {
        self.rt.block_on(self.engine.stop_managed_running(grace))
    }

    /// See [`Engine::path_kind`].
    pub fn path_kind(&self, container: &str, path: &str) -> Result<Option<PathKind>, DockerError> {
        self.rt.block_on(self.engine.path_kind(container, path))
    }

    /// See [`Engine::exec`].
    pub fn exec<F>(
        &self,
        container: &str,
        spec: &ExecSpec,
        logs: &ExecLogs,
        on_output: F,
    ) -> Result<ExecOutcome, DockerError>
    where
        F: FnMut(StreamKind, &[u8]),
    {
        self.rt
            .block_on(self.engine.exec(container, spec, logs, on_output))
    }

    /// See [`Engine::image_exists`].
    pub fn image_exists(&self, image: &str) -> Result<bool, DockerError> {
        self.rt.block_on(self.engine.image_exists(image))
    }

    /// See [`Engine::pull`].
    pub fn pull<F>(&self, image: &str, limit: Duration, on_progress: F) -> Result<(), DockerError>
    where
        F: FnMut(&PullProgress),
    {
        self.rt
            .block_on(self.engine.pull(image, limit, on_progress))
    }

    /// See [`Engine::tag_image`].
    pub fn tag_image(&self, source: &str, target: &str) -> Result<(), DockerError> {
        self.rt.block_on(self.engine.tag_image(source, target))
    }

    /// See [`Engine::remove_image`].
    pub fn remove_image(&self, image: &str, force: bool) -> Result<(), DockerError> {
        self.rt.block_on(self.engine.remove_image(image, force))
    }

    /// See [`Engine::build_image`].
    pub fn build_image<F>(
        &self,
        context_tar: Vec<u8>,
        tag: &str,
        labels: &BTreeMap<String, String>,
        limit: Duration,
        on_line: F,
    ) -> Result<String, DockerError>
    where
        F: FnMut(&str),
    {
        self.rt.block_on(
            self.engine
                .build_image(context_tar, tag, labels, limit, on_line),
        )
    }

    /// See [`Engine::import_rootfs`].
    pub fn import_rootfs(
        &self,
        rootfs_tar: Vec<u8>,
        reference: &str,
        changes: &[String],
        limit: Duration,
    ) -> Result<(), DockerError> {
        self.rt.block_on(
            self.engine
                .import_rootfs(rootfs_tar, reference, changes, limit),
        )
    }
}
