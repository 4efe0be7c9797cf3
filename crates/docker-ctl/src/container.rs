//! Containers: the original's GPU container settings, create / reuse / start / stop / remove,
//! and clean-up restricted to the containers this tool created (label [`MANAGED_LABEL`]).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use bollard::models::{ContainerCreateBody, DeviceMapping, HostConfig};
use bollard::query_parameters::{
    ContainerArchiveInfoOptionsBuilder, CreateContainerOptionsBuilder,
    ListContainersOptionsBuilder, RemoveContainerOptionsBuilder, StopContainerOptionsBuilder,
};

use crate::engine::Engine;
use crate::error::DockerError;

/// Label put on every container this tool creates; clean-up touches only these. Never put it
/// on an image: containers inherit their image's labels, so anyone's container made from such
/// an image would look managed.
pub const MANAGED_LABEL: &str = "org.sglang-ci.managed";
/// Label put on every image this tool builds or imports (see [`MANAGED_LABEL`] for why images
/// get a different one).
pub const IMAGE_LABEL: &str = "org.sglang-ci.built";
/// Label naming the program that created the container (`perf-nightly`, `build-sglang-docker`).
pub const CREATED_BY_LABEL: &str = "org.sglang-ci.created-by";
/// Label marking a simulated-engine image (`sglang-sim build-image`; value: the toolkit
/// version): the runner reads it to run the image's own `sglang-sim` and to let the image keep
/// itself running.
pub const SIM_IMAGE_LABEL: &str = "org.sglang-ci.sim-image";
/// Where a simulated-engine image keeps its programs (`sglang-sim`, `sglang-bench`).
pub const SIM_BIN_DIR: &str = "/usr/local/bin";

/// The devices the original passed (`--device=/dev/kfd --device=/dev/dri`); only those that
/// exist on the host are passed (a host without an AMD driver has neither).
pub const GPU_DEVICES: [&str; 2] = ["/dev/kfd", "/dev/dri"];

/// A bind mount, same path inside and out in the original (`-v P:P`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// Path on the host.
    pub host: PathBuf,
    /// Path in the container.
    pub container: PathBuf,
    /// Mount read-only.
    pub read_only: bool,
}

impl Mount {
    /// `-v P:P`.
    pub fn same(path: impl Into<PathBuf>) -> Self {
        let p = path.into();
        Self {
            host: p.clone(),
            container: p,
            read_only: false,
        }
    }

    fn bind(&self) -> String {
        let mut s = format!("{}:{}", self.host.display(), self.container.display());
        if self.read_only {
            s.push_str(":ro");
        }
        s
    }
}

/// Everything needed to create a container.
#[derive(Debug, Clone, PartialEq)]
pub struct ContainerSpec {
    /// Container name (e.g. from [`crate::container_name`]).
    pub name: String,
    /// Image reference.
    pub image: String,
    /// `--shm-size` as given (`32g`; env `CONTAINER_SHM_SIZE` in the original).
    pub shm_size: String,
    /// Bind mounts, in order.
    pub mounts: Vec<Mount>,
    /// `-w` (`/sgl-workspace`).
    pub work_dir: Option<String>,
    /// `KEY=VALUE` environment.
    pub env: Vec<String>,
    /// The command; `None` keeps the image's own default command (the simulated-engine image
    /// keeps itself running that way; a `FROM scratch` image has no `tail`).
    pub cmd: Option<Vec<String>>,
    /// GPU settings of the original: host network and IPC, `SYS_PTRACE`,
    /// `seccomp=unconfined`, group `video`, the GPU devices that exist.
    pub gpu_settings: bool,
    /// `--privileged` (the original's). A daemon that may not grant it (a nested daemon whose
    /// own capability set is limited: "unable to apply caps") gets the container without it,
    /// with a warning in [`Ensured::Created`].
    pub privileged: bool,
    /// Devices to pass (`/dev/kfd`, `/dev/dri` when present).
    pub devices: Vec<PathBuf>,
    /// Run an init process as PID 1 (`--init`) so `docker stop` ends the container at once.
    pub init: bool,
    /// Labels; [`MANAGED_LABEL`] is always added on create.
    pub labels: BTreeMap<String, String>,
}

impl ContainerSpec {
    /// The original's benchmark container (spec benchmarks.md §1.5, nightly.md §2.6):
    /// `-d --name NAME --shm-size 32g --ipc=host --cap-add=SYS_PTRACE --network=host
    /// --device=/dev/kfd --device=/dev/dri --security-opt seccomp=unconfined --group-add video
    /// --privileged -w /sgl-workspace IMAGE tail -f /dev/null`, plus `--init` and the label.
    /// Add mounts with [`ContainerSpec::mount`].
    pub fn nightly(name: impl Into<String>, image: impl Into<String>) -> Self {
        Self {
            name: name.into(),
            image: image.into(),
            shm_size: "32g".into(),
            mounts: Vec::new(),
            work_dir: Some("/sgl-workspace".into()),
            env: Vec::new(),
            cmd: Some(vec!["tail".into(), "-f".into(), "/dev/null".into()]),
            gpu_settings: true,
            privileged: true,
            devices: present_devices(Path::new("/")),
            init: true,
            labels: BTreeMap::new(),
        }
    }

    /// Adds a `-v P:P` mount unless the same host path is already mounted.
    pub fn mount(mut self, path: impl Into<PathBuf>) -> Self {
        let m = Mount::same(path);
        if !self.mounts.iter().any(|x| x.host == m.host) {
            self.mounts.push(m);
        }
        self
    }

    /// Records which program created the container ([`CREATED_BY_LABEL`]).
    pub fn created_by(mut self, program: &str) -> Self {
        self.labels
            .insert(CREATED_BY_LABEL.to_string(), program.to_string());
        self
    }

    /// The group the original added (`video`), as the host's numeric id when the host has the
    /// group (works in images without `/etc/group`, and is the id that owns the GPU device
    /// files), else the name.
    pub fn video_group() -> String {
        host_group_id("video", Path::new("/etc/group")).unwrap_or_else(|| "video".to_string())
    }

    /// The labels the container is created with (the spec's plus [`MANAGED_LABEL`]).
    pub fn all_labels(&self) -> BTreeMap<String, String> {
        let mut l = self.labels.clone();
        l.insert(MANAGED_LABEL.to_string(), "true".to_string());
        l
    }

    /// The equivalent `docker run` command line (for `--dry-run` and logs).
    pub fn docker_run_args(&self) -> Vec<String> {
        let mut a = vec![
            "docker".to_string(),
            "run".into(),
            "-d".into(),
            "--name".into(),
            self.name.clone(),
            "--shm-size".into(),
            self.shm_size.clone(),
        ];
        if self.gpu_settings {
            a.extend(["--ipc=host", "--cap-add=SYS_PTRACE", "--network=host"].map(String::from));
            for d in &self.devices {
                a.push(format!("--device={}", d.display()));
            }
            a.extend(["--security-opt", "seccomp=unconfined"].map(String::from));
        }
        for m in &self.mounts {
            a.push("-v".into());
            a.push(m.bind());
        }
        if self.gpu_settings {
            a.extend(["--group-add".to_string(), Self::video_group()]);
        }
        if self.privileged {
            a.push("--privileged".into());
        }
        if self.init {
            a.push("--init".into());
        }
        for e in &self.env {
            a.push("-e".into());
            a.push(e.clone());
        }
        for (k, v) in self.all_labels() {
            a.push("--label".into());
            a.push(format!("{k}={v}"));
        }
        if let Some(w) = &self.work_dir {
            a.push("-w".into());
            a.push(w.clone());
        }
        a.push(self.image.clone());
        if let Some(cmd) = &self.cmd {
            a.extend(cmd.iter().cloned());
        }
        a
    }

    fn create_body(&self) -> Result<ContainerCreateBody, DockerError> {
        let shm = parse_size(&self.shm_size).ok_or_else(|| DockerError::Api {
            what: format!("create container {}", self.name),
            status: None,
            message: format!(
                "shm size {:?} is not a size like 32g, 512m or 1073741824 (CONTAINER_SHM_SIZE)",
                self.shm_size
            ),
        })?;
        let mut host = HostConfig {
            shm_size: Some(shm),
            binds: Some(self.mounts.iter().map(Mount::bind).collect()),
            init: Some(self.init),
            privileged: Some(self.privileged),
            ..Default::default()
        };
        if self.gpu_settings {
            host.ipc_mode = Some("host".into());
            host.network_mode = Some("host".into());
            host.cap_add = Some(vec!["SYS_PTRACE".into()]);
            host.security_opt = Some(vec!["seccomp=unconfined".into()]);
            host.group_add = Some(vec![Self::video_group()]);
            host.devices = Some(
                self.devices
                    .iter()
                    .map(|d| DeviceMapping {
                        path_on_host: Some(d.display().to_string()),
                        path_in_container: Some(d.display().to_string()),
                        cgroup_permissions: Some("rwm".into()),
                    })
                    .collect(),
            );
        }
        Ok(ContainerCreateBody {
            image: Some(self.image.clone()),
            cmd: self.cmd.clone(),
            env: (!self.env.is_empty()).then(|| self.env.clone()),
            working_dir: self.work_dir.clone(),
            labels: Some(self.all_labels().into_iter().collect::<HashMap<_, _>>()),
            host_config: Some(host),
            ..Default::default()
        })
    }
}

/// The [`GPU_DEVICES`] that exist below `root` (`/` on a real host).
pub fn present_devices(root: &Path) -> Vec<PathBuf> {
    GPU_DEVICES
        .iter()
        .filter(|d| root.join(d.trim_start_matches('/')).exists())
        .map(PathBuf::from)
        .collect()
}

fn host_group_id(name: &str, group_file: &Path) -> Option<String> {
    let text = std::fs::read_to_string(group_file).ok()?;
    text.lines().find_map(|l| {
        let mut f = l.split(':');
        (f.next()? == name).then_some(())?;
        let _pw = f.next()?;
        let gid = f.next()?;
        gid.parse::<u32>().ok().map(|g| g.to_string())
    })
}

/// `32g`, `512m`, `64k`, `1073741824`, `2gb` (case-insensitive, 1024-based like Docker).
pub fn parse_size(s: &str) -> Option<i64> {
    let t = s.trim().to_ascii_lowercase();
    let t = t.strip_suffix('b').unwrap_or(&t);
    let (num, mult) = match t.chars().last()? {
        'k' => (&t[..t.len() - 1], 1i64 << 10),
        'm' => (&t[..t.len() - 1], 1 << 20),
        'g' => (&t[..t.len() - 1], 1 << 30),
        't' => (&t[..t.len() - 1], 1 << 40),
        _ => (t, 1),
    };
    let n: f64 = num.trim().parse().ok()?;
    (n.is_finite() && n >= 0.0).then_some((n * mult as f64) as i64)
}

/// What Docker says about a container.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContainerInfo {
    /// Full id.
    pub id: String,
    /// Name without the leading `/`.
    pub name: String,
    /// Image reference it was created from.
    pub image: String,
    /// `running`, `exited`, `created`, ...
    pub state: String,
    /// Carries [`MANAGED_LABEL`].
    pub managed: bool,
    /// All labels.
    pub labels: BTreeMap<String, String>,
}

impl ContainerInfo {
    /// True when the container is running.
    pub fn running(&self) -> bool {
        self.state == "running"
    }
}

/// What [`Engine::ensure_container`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ensured {
    /// An existing container of that name was reused (started if it was stopped).
    Reused {
        /// The container.
        info: ContainerInfo,
        /// It was not running and has been started.
        started: bool,
    },
    /// A new container was created and started.
    Created {
        /// The container.
        info: ContainerInfo,
        /// Settings the daemon refused and that were dropped (e.g. `--privileged`).
        warnings: Vec<String>,
    },
}

impl Ensured {
    /// The container either way.
    pub fn info(&self) -> &ContainerInfo {
        match self {
            Ensured::Reused { info, .. } | Ensured::Created { info, .. } => info,
        }
    }
}

impl Engine {
    /// The container named `name`, or `None` when there is none.
    pub async fn container(&self, name: &str) -> Result<Option<ContainerInfo>, DockerError> {
        let what = format!("inspect container {name}");
        match self
            .call(&what, self.docker.inspect_container(name, None))
            .await
        {
            Ok(c) => {
                let labels: BTreeMap<String, String> = c
                    .config
                    .as_ref()
                    .and_then(|cfg| cfg.labels.clone())
                    .unwrap_or_default()
                    .into_iter()
                    .collect();
                Ok(Some(ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .name
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    image: c.config.and_then(|cfg| cfg.image).unwrap_or_default(),
                    state: c
                        .state
                        .and_then(|s| s.status)
                        .map(|s| s.to_string())
                        .unwrap_or_default(),
                    managed: labels.contains_key(MANAGED_LABEL),
                    labels,
                }))
            }
            Err(DockerError::ContainerMissing { .. }) => Ok(None),
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Creates the container (not started). The image must be present locally
    /// ([`DockerError::ImageMissing`] otherwise); the name must be free.
    pub async fn create_container(&self, spec: &ContainerSpec) -> Result<String, DockerError> {
        if !self.image_exists(&spec.image).await? {
            return Err(DockerError::ImageMissing {
                image: spec.image.clone(),
            });
        }
        let body = spec.create_body()?;
        let opts = CreateContainerOptionsBuilder::new()
            .name(&spec.name)
            .build();
        let what = format!("create container {}", spec.name);
        let resp = self
            .call(&what, self.docker.create_container(Some(opts), body))
            .await?;
        for w in resp.warnings {
            tracing::warn!("docker create {}: {w}", spec.name);
        }
        Ok(resp.id)
    }

    /// Starts a container; starting a running one is not an error.
    pub async fn start_container(&self, name: &str) -> Result<(), DockerError> {
        let what = format!("start container {name}");
        self.call(&what, self.docker.start_container(name, None))
            .await
    }

    /// Reuses the container named `spec.name` when it exists (any state; started if needed),
    /// else creates and starts it. Reuse goes by name, as the original's (so a container the
    /// shell toolkit created is reused too; [`ContainerInfo::managed`] tells them apart).
    pub async fn ensure_container(&self, spec: &ContainerSpec) -> Result<Ensured, DockerError> {
        if let Some(info) = self.container(&spec.name).await? {
            let started = !info.running();
            if started {
                self.start_container(&spec.name).await?;
            }
            let info = self.container(&spec.name).await?.unwrap_or(info);
            return Ok(Ensured::Reused { info, started });
        }
        self.create_container(spec).await?;
        let mut warnings = Vec::new();
        if let Err(e) = self.start_container(&spec.name).await {
            let refused_caps = matches!(&e, DockerError::Api { message, .. }
                if message.contains("apply caps") || message.contains("operation not permitted"));
            if !(spec.privileged && refused_caps) {
                return Err(e);
            }
            let w = format!(
                "the daemon at {} refused --privileged ({e}); container {} runs without it",
                self.endpoint, spec.name
            );
            tracing::warn!("{w}");
            warnings.push(w);
            self.remove_container(&spec.name, true).await?;
            let mut fallback = spec.clone();
            fallback.privileged = false;
            self.create_container(&fallback).await?;
            self.start_container(&spec.name).await?;
        }
        let info =
            self.container(&spec.name)
                .await?
                .ok_or_else(|| DockerError::ContainerMissing {
                    name: spec.name.clone(),
                })?;
        Ok(Ensured::Created { info, warnings })
    }

    /// Stops a container, giving it `grace` before Docker kills it (`docker stop -t`). A
    /// stopped container is not an error. The call is bounded by `grace` plus the call timeout.
    pub async fn stop_container(&self, name: &str, grace: Duration) -> Result<(), DockerError> {
        let what = format!("stop container {name}");
        let secs = i32::try_from(grace.as_secs()).unwrap_or(i32::MAX);
        let opts = StopContainerOptionsBuilder::new().t(secs).build();
        let limit = grace + self.call_timeout;
        // The daemon answers only once the container stopped: lift bollard's own limit too.
        let docker = self.docker.clone().with_timeout(limit);
        crate::engine::bounded(
            limit,
            &what,
            &self.endpoint,
            docker.stop_container(name, Some(opts)),
        )
        .await
    }

    /// Removes a container (`force` kills a running one first). A missing container is not an
    /// error.
    pub async fn remove_container(&self, name: &str, force: bool) -> Result<(), DockerError> {
        let what = format!("remove container {name}");
        let opts = RemoveContainerOptionsBuilder::new().force(force).build();
        match self
            .call(&what, self.docker.remove_container(name, Some(opts)))
            .await
        {
            Ok(()) | Err(DockerError::ContainerMissing { .. }) => Ok(()),
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// Removes a container only if this tool created it ([`DockerError::Foreign`] otherwise).
    pub async fn remove_managed(&self, name: &str, force: bool) -> Result<bool, DockerError> {
        match self.container(name).await? {
            None => Ok(false),
            Some(c) if !c.managed => Err(DockerError::Foreign {
                name: name.to_string(),
                label: MANAGED_LABEL,
                action: "remove",
            }),
            Some(_) => self.remove_container(name, force).await.map(|()| true),
        }
    }

    /// The containers this tool created (`all`: also stopped ones).
    pub async fn list_managed(&self, all: bool) -> Result<Vec<ContainerInfo>, DockerError> {
        let filters: HashMap<&str, Vec<&str>> = HashMap::from([("label", vec![MANAGED_LABEL])]);
        let opts = ListContainersOptionsBuilder::new()
            .all(all)
            .filters(&filters)
            .build();
        let list = self
            .call("list containers", self.docker.list_containers(Some(opts)))
            .await?;
        Ok(list
            .into_iter()
            .map(|c| {
                let labels: BTreeMap<String, String> =
                    c.labels.unwrap_or_default().into_iter().collect();
                ContainerInfo {
                    id: c.id.unwrap_or_default(),
                    name: c
                        .names
                        .and_then(|n| n.into_iter().next())
                        .unwrap_or_default()
                        .trim_start_matches('/')
                        .to_string(),
                    image: c.image.unwrap_or_default(),
                    state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                    managed: labels.contains_key(MANAGED_LABEL),
                    labels,
                }
            })
            // The daemon filtered already; keep the check so a daemon that ignores the filter
            // can never make us touch a foreign container.
            .filter(|c| c.managed)
            .collect())
    }

    /// The GPU-idle clean-up: stops every *running* container this tool created and returns
    /// their names. Containers without [`MANAGED_LABEL`] (other users' jobs, other tools) are
    /// never touched; this replaces the original's "stop every running container on the host"
    /// (nightly.md Q-NT-3, §9.6).
    pub async fn stop_managed_running(&self, grace: Duration) -> Result<Vec<String>, DockerError> {
        let mut stopped = Vec::new();
        for c in self.list_managed(false).await? {
            if !c.managed || !c.running() {
                continue;
            }
            match self.stop_container(&c.id, grace).await {
                Ok(()) => stopped.push(c.name),
                // Removed since it was listed (by its owner's clean-up): it no longer runs.
                Err(DockerError::ContainerMissing { .. }) => {}
                Err(e) => return Err(e),
            }
        }
        Ok(stopped)
    }

    /// Whether `path` exists in the container, and whether it is a directory (`None`: absent).
    /// Uses the archive API, so it works in images without a shell or `test`.
    pub async fn path_kind(
        &self,
        container: &str,
        path: &str,
    ) -> Result<Option<PathKind>, DockerError> {
        let what = format!("stat {path} in container {container}");
        let opts = ContainerArchiveInfoOptionsBuilder::new().path(path).build();
        match self
            .call(
                &what,
                self.docker
                    .get_container_archive_info(container, Some(opts)),
            )
            .await
        {
            Ok(stat) => Ok(Some(if stat.file_mode & (1 << 31) != 0 {
                PathKind::Dir
            } else {
                PathKind::File
            })),
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(None),
            Err(DockerError::ContainerMissing { .. }) => Err(DockerError::ContainerMissing {
                name: container.to_string(),
            }),
            Err(e) => Err(e),
        }
    }
}

/// Kind of a path inside a container.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathKind {
    /// A directory.
    Dir,
    /// Anything else (file, link, device).
    File,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("32g"), Some(32 << 30));
        assert_eq!(parse_size("512M"), Some(512 << 20));
        assert_eq!(parse_size("2gb"), Some(2 << 30));
        assert_eq!(parse_size("1024"), Some(1024));
        assert_eq!(parse_size("lots"), None);
        assert_eq!(parse_size(""), None);
    }

    #[test]
    fn nightly_spec_is_the_original_docker_run() {
        let s = ContainerSpec::nightly("sgl-dev_T", "rocm/sgl-dev:T")
            .mount("/mnt/raid/")
            .mount("/mnt/raid/models")
            .mount("/mnt/raid/");
        let a = s.docker_run_args().join(" ");
        assert!(a.starts_with("docker run -d --name sgl-dev_T --shm-size 32g --ipc=host --cap-add=SYS_PTRACE --network=host"), "{a}");
        assert!(a.contains("--security-opt seccomp=unconfined -v /mnt/raid/:/mnt/raid/ -v /mnt/raid/models:/mnt/raid/models --group-add"), "{a}");
        assert!(a.contains("--privileged --init"), "{a}");
        assert!(a.contains(&format!("--label {MANAGED_LABEL}=true")), "{a}");
        assert!(
            a.ends_with("-w /sgl-workspace rocm/sgl-dev:T tail -f /dev/null"),
            "{a}"
        );
        assert_eq!(s.mounts.len(), 2, "duplicate mounts are dropped");
    }

    #[test]
    fn devices_only_when_present() {
        let root = tempfile::tempdir().unwrap();
        assert!(present_devices(root.path()).is_empty());
        std::fs::create_dir_all(root.path().join("dev/dri")).unwrap();
        assert_eq!(
            present_devices(root.path()),
            vec![PathBuf::from("/dev/dri")]
        );
    }

    #[test]
    fn group_id_from_group_file() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("group");
        std::fs::write(&f, "root:x:0:\nvideo:x:44:alice\nrender:x:110:\n").unwrap();
        assert_eq!(host_group_id("video", &f), Some("44".into()));
        assert_eq!(host_group_id("nope", &f), None);
    }
}
