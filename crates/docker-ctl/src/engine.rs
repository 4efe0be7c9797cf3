//! Connecting to the Docker Engine: endpoint from `DOCKER_HOST`, API version negotiation (the
//! daemon may be older than bollard, e.g. Debian's 20.10 speaks API 1.41), a bound on every call.

use std::future::Future;
use std::time::Duration;

use bollard::{API_DEFAULT_VERSION, Docker};

use crate::error::{DockerError, classify};

/// The socket used when `DOCKER_HOST` is not set.
pub const DEFAULT_HOST: &str = "unix:///var/run/docker.sock";

/// Where and how to connect.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineConfig {
    /// `unix:///path` or `tcp://host:port` (`http://` is accepted as `tcp://`).
    pub host: String,
    /// Limit of every short call (inspect, create, start, list, ...), also the connect limit.
    /// Long operations (exec, pull, build, stop) take their own limits.
    pub call_timeout: Duration,
}

impl EngineConfig {
    /// `DOCKER_HOST` (default [`DEFAULT_HOST`]) and a 30 s call timeout.
    pub fn from_env() -> Self {
        let host = std::env::var("DOCKER_HOST")
            .ok()
            .filter(|h| !h.trim().is_empty())
            .unwrap_or_else(|| DEFAULT_HOST.to_string());
        Self {
            host,
            call_timeout: Duration::from_secs(30),
        }
    }
}

/// A connected Docker Engine client. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Engine {
    pub(crate) docker: Docker,
    pub(crate) endpoint: String,
    pub(crate) call_timeout: Duration,
    server_version: String,
    api_version: String,
}

impl Engine {
    /// Connects to `DOCKER_HOST` (or the default socket) with [`EngineConfig::from_env`].
    pub async fn connect() -> Result<Engine, DockerError> {
        Self::connect_with(&EngineConfig::from_env()).await
    }

    /// Connects, negotiates the API version down to the daemon's and reads its version. A
    /// daemon that is down, a missing socket or a permission problem is a one-line error naming
    /// the endpoint and `DOCKER_HOST`.
    pub async fn connect_with(cfg: &EngineConfig) -> Result<Engine, DockerError> {
        let endpoint = cfg.host.clone();
        let secs = cfg.call_timeout.as_secs().max(1);
        let docker = if let Some(path) = endpoint.strip_prefix("unix://") {
            if !std::path::Path::new(path).exists() {
                return Err(DockerError::Unreachable {
                    detail: format!("socket {path} does not exist"),
                    endpoint,
                });
            }
            Docker::connect_with_unix(&endpoint, secs, API_DEFAULT_VERSION)
        } else if endpoint.starts_with("tcp://") || endpoint.starts_with("http://") {
            Docker::connect_with_http(&endpoint, secs, API_DEFAULT_VERSION)
        } else {
            return Err(DockerError::BadHost { value: endpoint });
        }
        .map_err(|e| classify(e, "connect", &endpoint))?;
        let docker = bounded(
            cfg.call_timeout,
            "connect",
            &endpoint,
            docker.negotiate_version(),
        )
        .await?;
        let version = bounded(cfg.call_timeout, "connect", &endpoint, docker.version()).await?;
        let engine = Engine {
            docker,
            endpoint,
            call_timeout: cfg.call_timeout,
            server_version: version.version.unwrap_or_default(),
            api_version: version.api_version.unwrap_or_default(),
        };
        tracing::debug!(
            endpoint = %engine.endpoint,
            server = %engine.server_version,
            api = %engine.api_version,
            "connected to the Docker Engine"
        );
        Ok(engine)
    }

    /// The endpoint connected to (`unix:///var/run/docker.sock`).
    pub fn endpoint(&self) -> &str {
        &self.endpoint
    }

    /// The daemon's version (`20.10.24+dfsg1`).
    pub fn server_version(&self) -> &str {
        &self.server_version
    }

    /// The daemon's API version (`1.41`); requests use at most this version.
    pub fn api_version(&self) -> &str {
        &self.api_version
    }

    /// The underlying bollard client, for calls this crate does not wrap.
    pub fn bollard(&self) -> &Docker {
        &self.docker
    }

    /// Runs a short call under [`EngineConfig::call_timeout`].
    pub(crate) async fn call<T>(
        &self,
        what: &str,
        fut: impl Future<Output = Result<T, bollard::errors::Error>>,
    ) -> Result<T, DockerError> {
        bounded(self.call_timeout, what, &self.endpoint, fut).await
    }

    pub(crate) fn timeout_error(&self, what: &str, limit: Duration) -> DockerError {
        DockerError::Timeout {
            what: what.to_string(),
            secs: limit.as_secs(),
            endpoint: self.endpoint.clone(),
        }
    }

    pub(crate) fn classify(&self, err: bollard::errors::Error, what: &str) -> DockerError {
        classify(err, what, &self.endpoint)
    }
}

pub(crate) async fn bounded<T>(
    limit: Duration,
    what: &str,
    endpoint: &str,
    fut: impl Future<Output = Result<T, bollard::errors::Error>>,
) -> Result<T, DockerError> {
    match tokio::time::timeout(limit, fut).await {
        Ok(Ok(v)) => Ok(v),
        Ok(Err(e)) => Err(match classify(e, what, endpoint) {
            DockerError::Timeout { .. } => DockerError::Timeout {
                what: what.to_string(),
                secs: limit.as_secs(),
                endpoint: endpoint.to_string(),
            },
            other => other,
        }),
        Err(_) => Err(DockerError::Timeout {
            what: what.to_string(),
            secs: limit.as_secs(),
            endpoint: endpoint.to_string(),
        }),
    }
}
