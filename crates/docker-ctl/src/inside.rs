//! "Am I running inside a container?"

use std::path::Path;

/// Why this process is considered inside a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum InsideReason {
    /// `INSIDE_CONTAINER` is set and not empty (what the original scripts checked; the
    /// orchestrator sets it for every step it runs in a container).
    EnvVar,
    /// `/.dockerenv` exists (Docker creates it in every container).
    DockerEnvFile,
    /// `/run/.containerenv` exists (Podman).
    ContainerEnvFile,
    /// `/proc/1/cgroup` names a container runtime (`docker`, `containerd`, `kubepods`,
    /// `libpod`, `lxc`).
    Cgroup(String),
}

/// Detects whether this process runs inside a container, with the first reason found
/// (`None`: on a host). The original's "no `docker` on PATH means inside" heuristic is not
/// used: this toolkit talks to the daemon's socket and needs no Docker CLI.
pub fn inside_container() -> Option<InsideReason> {
    inside_container_with(
        std::env::var("INSIDE_CONTAINER").ok().as_deref(),
        Path::new("/"),
    )
}

/// [`inside_container`] with the `INSIDE_CONTAINER` value and the filesystem root given
/// (tests).
pub fn inside_container_with(inside_env: Option<&str>, root: &Path) -> Option<InsideReason> {
    if inside_env.is_some_and(|v| !v.is_empty()) {
        return Some(InsideReason::EnvVar);
    }
    if root.join(".dockerenv").exists() {
        return Some(InsideReason::DockerEnvFile);
    }
    if root.join("run/.containerenv").exists() {
        return Some(InsideReason::ContainerEnvFile);
    }
    let cgroup = std::fs::read_to_string(root.join("proc/1/cgroup")).unwrap_or_default();
    ["docker", "containerd", "kubepods", "libpod", "lxc"]
        .iter()
        .find(|m| cgroup.contains(*m))
        .map(|m| InsideReason::Cgroup((*m).to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_in_order() {
        let root = tempfile::tempdir().unwrap();
        let r = root.path();
        assert_eq!(inside_container_with(None, r), None);
        assert_eq!(inside_container_with(Some(""), r), None);
        assert_eq!(
            inside_container_with(Some("1"), r),
            Some(InsideReason::EnvVar)
        );
        std::fs::create_dir_all(r.join("proc/1")).unwrap();
        std::fs::write(r.join("proc/1/cgroup"), "0::/kubepods/besteffort/pod1\n").unwrap();
        assert_eq!(
            inside_container_with(None, r),
            Some(InsideReason::Cgroup("kubepods".into()))
        );
        std::fs::write(r.join(".dockerenv"), "").unwrap();
        assert_eq!(
            inside_container_with(None, r),
            Some(InsideReason::DockerEnvFile)
        );
    }
}
