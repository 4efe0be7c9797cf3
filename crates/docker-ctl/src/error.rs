//! Errors of the Docker Engine layer: one line each, saying what failed and what to do.

use std::error::Error as _;
use std::io;
use std::path::PathBuf;

/// A failed Docker Engine operation.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No daemon answers at the endpoint (socket missing, connection refused, daemon down).
    #[error(
        "cannot reach the Docker daemon at {endpoint}: {detail}; start it (`sudo systemctl start docker`, or `dockerd &`) or set DOCKER_HOST to a socket that answers (e.g. unix:///var/run/docker.sock)"
    )]
    Unreachable {
        /// `unix:///...` or `tcp://...`.
        endpoint: String,
        /// What the connection attempt said.
        detail: String,
    },
    /// The socket exists but this user may not use it.
    #[error(
        "permission denied on the Docker socket {endpoint}: add this user to the `docker` group and log in again, run as root, or set DOCKER_HOST to a socket you may use"
    )]
    PermissionDenied {
        /// The socket.
        endpoint: String,
    },
    /// `DOCKER_HOST` has a scheme this tool does not speak.
    #[error(
        "unsupported DOCKER_HOST {value:?}: use unix:///path/to/docker.sock or tcp://HOST:PORT"
    )]
    BadHost {
        /// The value.
        value: String,
    },
    /// The image is not present locally.
    #[error(
        "image {image} is not present locally: pull it (`docker pull {image}`) or build it (for the simulated engine: `sglang-sim build-image --tag {image}`)"
    )]
    ImageMissing {
        /// The image reference.
        image: String,
    },
    /// No container with this name or id.
    #[error("no container named {name}: create it first (or check the name with `docker ps -a`)")]
    ContainerMissing {
        /// The name.
        name: String,
    },
    /// A container this tool did not create would be changed.
    #[error(
        "container {name} was not created by sglang-ci (no label {label}); refusing to {action} it: remove or rename it yourself"
    )]
    Foreign {
        /// The name.
        name: String,
        /// The management label.
        label: &'static str,
        /// What was refused (`remove`, `replace`).
        action: &'static str,
    },
    /// The daemon did not answer in time.
    #[error(
        "Docker {what} did not finish within {secs} s (daemon at {endpoint}); check `docker info` and the daemon's load, then retry"
    )]
    Timeout {
        /// The operation.
        what: String,
        /// The limit.
        secs: u64,
        /// The daemon.
        endpoint: String,
    },
    /// Pulling an image failed (registry unreachable, unknown image, no access).
    #[error(
        "pull of {image} failed: {message}; check the image name, the network and `docker login`, or build/import it locally"
    )]
    PullFailed {
        /// The image.
        image: String,
        /// The daemon's message.
        message: String,
    },
    /// Building an image failed.
    #[error("build of {tag} failed: {message}")]
    BuildFailed {
        /// The tag being built.
        tag: String,
        /// The builder's message (the failing step's output).
        message: String,
    },
    /// Any other answer of the daemon.
    #[error("Docker {what} failed: {message}")]
    Api {
        /// The operation.
        what: String,
        /// HTTP status, when the daemon answered.
        status: Option<u16>,
        /// The daemon's message.
        message: String,
    },
    /// A local file (exec log) could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        /// The file.
        path: PathBuf,
        /// The OS error.
        #[source]
        source: io::Error,
    },
    /// The async runtime that drives the Engine calls of synchronous code could not start
    /// (out of threads or file descriptors).
    #[error(
        "cannot start the runtime for Docker Engine calls: {source} (too many threads or open files? check ulimit -u / ulimit -n)"
    )]
    Runtime {
        /// The OS error.
        #[source]
        source: io::Error,
    },
}

impl DockerError {
    /// True when the daemon could not be reached at all (down, refused, missing socket,
    /// permission denied): the cases where a Docker test may skip itself.
    pub fn is_unreachable(&self) -> bool {
        matches!(
            self,
            Self::Unreachable { .. } | Self::PermissionDenied { .. } | Self::BadHost { .. }
        )
    }
}

/// Turns a bollard error into a [`DockerError`] for operation `what` against `endpoint`.
pub(crate) fn classify(err: bollard::errors::Error, what: &str, endpoint: &str) -> DockerError {
    use bollard::errors::Error as B;
    match err {
        B::SocketNotFoundError(path) => DockerError::Unreachable {
            endpoint: endpoint.to_string(),
            detail: format!("socket {path} does not exist"),
        },
        B::RequestTimeoutError => DockerError::Timeout {
            what: what.to_string(),
            secs: 0,
            endpoint: endpoint.to_string(),
        },
        B::DockerResponseServerError {
            status_code,
            message,
        } => {
            let message = message.trim().to_string();
            if status_code == 404 && message.contains("No such container") {
                DockerError::ContainerMissing {
                    name: what.rsplit(' ').next().unwrap_or(what).to_string(),
                }
            } else {
                DockerError::Api {
                    what: what.to_string(),
                    status: Some(status_code),
                    message,
                }
            }
        }
        B::DockerStreamError { error } => DockerError::Api {
            what: what.to_string(),
            status: None,
            message: error.trim().to_string(),
        },
        other => {
            if let Some(kind) = io_kind(&other) {
                match kind {
                    io::ErrorKind::PermissionDenied => {
                        return DockerError::PermissionDenied {
                            endpoint: endpoint.to_string(),
                        };
                    }
                    io::ErrorKind::ConnectionRefused
                    | io::ErrorKind::NotFound
                    | io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::AddrNotAvailable => {
                        return DockerError::Unreachable {
                            endpoint: endpoint.to_string(),
                            detail: chain(&other),
                        };
                    }
                    _ => {}
                }
            }
            if matches!(
                other,
                B::HyperLegacyError { .. } | B::HttpClientError { .. } | B::IOError { .. }
            ) && what == "connect"
            {
                return DockerError::Unreachable {
                    endpoint: endpoint.to_string(),
                    detail: chain(&other),
                };
            }
            DockerError::Api {
                what: what.to_string(),
                status: None,
                message: chain(&other),
            }
        }
    }
}

/// The first `std::io::Error` kind in the source chain.
fn io_kind(err: &(dyn std::error::Error + 'static)) -> Option<io::ErrorKind> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return Some(io.kind());
        }
        cur = e.source();
    }
    None
}

/// `outer: inner: ...` without repeating text already present.
fn chain(err: &bollard::errors::Error) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        let s = e.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cur = e.source();
    }
    text
}
