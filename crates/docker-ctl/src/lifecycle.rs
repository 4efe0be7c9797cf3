//! A container's life after it started: its log (`docker logs`, stdout and stderr as they
//! came, optionally only the last lines), restart, kill, and how it ended (state and exit
//! code, `docker inspect --format {{.State.ExitCode}}`). Used by the PD runner, whose router,
//! prefill and decode containers are long-running servers. Every call is bounded in time.

use std::time::Duration;

use bollard::query_parameters::{
    KillContainerOptionsBuilder, LogsOptionsBuilder, RestartContainerOptionsBuilder,
};
use futures_util::StreamExt;

use crate::engine::{Engine, bounded};
use crate::error::DockerError;

/// State of a container as `docker inspect` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerState {
    /// `running`, `exited`, `created`, ...
    pub status: String,
    /// Exit code (meaningful once it exited).
    pub exit_code: Option<i64>,
    /// Killed by the kernel's OOM killer.
    pub oom_killed: bool,
}

impl ContainerState {
    /// True while it runs.
    pub fn running(&self) -> bool {
        self.status == "running"
    }
}

impl Engine {
    /// The container's log, stdout and stderr interleaved as Docker stored them; `tail`
    /// limits it to the last lines. Bounded by `limit`.
    pub async fn logs(
        &self,
        name: &str,
        tail: Option<usize>,
        limit: Duration,
    ) -> Result<Vec<u8>, DockerError> {
        let what = format!("logs of container {name}");
        let tail = tail.map_or_else(|| "all".to_owned(), |n| n.to_string());
        let opts = LogsOptionsBuilder::new()
            .stdout(true)
            .stderr(true)
            .tail(&tail)
            .build();
        let docker = self.docker.clone();
        let collect = async move {
            let mut out = Vec::new();
            let mut s = docker.logs(name, Some(opts));
            while let Some(chunk) = s.next().await {
                out.extend_from_slice(chunk?.as_ref());
            }
            Ok::<_, bollard::errors::Error>(out)
        };
        bounded(limit, &what, &self.endpoint, collect).await
    }

    /// Restarts a container (`docker restart -t grace`).
    pub async fn restart_container(&self, name: &str, grace: Duration) -> Result<(), DockerError> {
        let what = format!("restart container {name}");
        let secs = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        let opts = RestartContainerOptionsBuilder::new().t(secs).build();
        let limit = grace + self.call_timeout;
        let docker = self.docker.clone().with_timeout(limit);
        bounded(
            limit,
            &what,
            &self.endpoint,
            docker.restart_container(name, Some(opts)),
        )
        .await
    }

    /// Sends `signal` (`KILL`, `TERM`) to the container's main process.
    pub async fn kill_container(&self, name: &str, signal: &str) -> Result<(), DockerError> {
        let what = format!("kill container {name}");
        let opts = KillContainerOptionsBuilder::new().signal(signal).build();
        self.call(&what, self.docker.kill_container(name, Some(opts)))
            .await
    }

    /// The container's state and exit code; `None` when there is no such container.
    pub async fn container_state(&self, name: &str) -> Result<Option<ContainerState>, DockerError> {
        let what = format!("inspect container {name}");
        match self
            .call(&what, self.docker.inspect_container(name, None))
            .await
        {
            Ok(c) => {
                let s = c.state.unwrap_or_default();
                Ok(Some(ContainerState {
                    status: s.status.map(|x| x.to_string()).unwrap_or_default(),
                    exit_code: s.exit_code,
                    oom_killed: s.oom_killed.unwrap_or(false),
                }))
            }
            Err(DockerError::ContainerMissing { .. })
            | Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }
}
