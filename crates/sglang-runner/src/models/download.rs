//! Model downloads through the HuggingFace CLI, with a free-space check on the target path:
//! used by `download-models` (spec benchmarks.md §10), `deepseek-perf-offline
//! --download-model` (§3.4) and the nightly orchestrator's model download (§8.10).
//!
//! `huggingface-cli` is used when it is on `PATH` (with the original's arguments), else `hf`
//! (the CLI's new name, which dropped the deprecated `--local-dir-use-symlinks` and
//! `--resume-download`); with neither, [`DownloadError::NoCli`] says what to install. Nothing
//! is installed on the fly (the original ran `pip3 install huggingface_hub`).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;
use thiserror::Error;

use crate::command::CommandSpec;
use crate::engine::find_program;
use crate::error::RunnerError;
use crate::exec::{ExecError, Executor, ExitInfo, LocalExecutor, RunEnd};
use crate::signals::{Interrupt, Interrupted};

/// Bytes per "GB" in the original's messages (`df` 1-KB blocks ÷ 1024 ÷ 1024).
const GB: f64 = 1024.0 * 1024.0 * 1024.0;

/// Why a download did not leave a usable model directory.
#[derive(Debug, Error)]
pub enum DownloadError {
    /// No HuggingFace CLI.
    #[error(
        "neither huggingface-cli nor hf is on PATH: install the HuggingFace CLI (`pip install -U \"huggingface_hub[cli]\"`) or put {repo} at {} yourself",
        path.display()
    )]
    NoCli {
        /// Repository.
        repo: String,
        /// Target directory.
        path: PathBuf,
    },
    /// Not enough free space.
    #[error(
        "not enough free space to download {repo} to {}: {available_gb:.1}GB available on {}, {required_gb:.1}GB needed (free some space, or set the requirement with --min-free-gb / SGLCI_MIN_FREE_GB)",
        path.display(),
        checked.display()
    )]
    NoSpace {
        /// Repository.
        repo: String,
        /// Target directory.
        path: PathBuf,
        /// The existing ancestor whose file system was measured.
        checked: PathBuf,
        /// Available, GB.
        available_gb: f64,
        /// Needed, GB.
        required_gb: f64,
    },
    /// A folder could not be created or measured ([`RunnerError::Io`]).
    #[error(transparent)]
    Io(#[from] RunnerError),
    /// The CLI could not be started or waited for.
    #[error(transparent)]
    Exec(#[from] ExecError),
    /// The CLI exited with an error.
    #[error("`{command}` failed ({exit}) while downloading {repo}")]
    Failed {
        /// Repository.
        repo: String,
        /// The command line.
        command: String,
        /// How it ended.
        exit: ExitInfo,
    },
    /// The CLI ran past its time limit and was stopped.
    #[error("downloading {repo} took longer than {} s and was stopped", limit.as_secs())]
    TimedOut {
        /// Repository.
        repo: String,
        /// The limit.
        limit: Duration,
    },
    /// SIGINT / SIGTERM.
    #[error("downloading {repo} was interrupted by {}", .signal.name())]
    Interrupted {
        /// Repository.
        repo: String,
        /// The signal.
        signal: Interrupted,
    },
    /// The CLI succeeded but the directory is missing or empty.
    #[error("the model directory {} is missing or empty after downloading {repo}", path.display())]
    Empty {
        /// Repository.
        repo: String,
        /// Target directory.
        path: PathBuf,
    },
}

/// Which HuggingFace CLI.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum HfCliKind {
    /// `huggingface-cli download …` (the original's command).
    HuggingfaceCli,
    /// `hf download …`.
    Hf,
}

/// A HuggingFace CLI found on this machine.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HfCli {
    /// Which one.
    pub kind: HfCliKind,
    /// Its path.
    pub program: PathBuf,
}

/// The CLI a download uses and where it runs ([`HfCli::choose`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CliChoice {
    /// The CLI.
    pub cli: HfCli,
    /// It runs in the container (through the plan's docker executor), not on this machine.
    pub in_container: bool,
}

impl CliChoice {
    /// The executor that runs the CLI: the container's, or a local one on this machine.
    pub fn executor<'a>(
        &self,
        container: &'a dyn Executor,
        local: &'a LocalExecutor,
    ) -> &'a dyn Executor {
        if self.in_container { container } else { local }
    }
}

/// One download.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HfDownload {
    /// Repository id (`deepseek-ai/DeepSeek-V3-0324`).
    pub repo: String,
    /// Target directory.
    pub local_dir: PathBuf,
    /// Pass `--repo-type model` (the DeepSeek script does).
    pub repo_type_model: bool,
    /// Pass `--resume-download` (`huggingface-cli` only; DeepSeek and the orchestrator do).
    pub resume: bool,
    /// Extra environment (`HF_HUB_ENABLE_HF_TRANSFER=1` for the orchestrator).
    pub env: Vec<(String, String)>,
}

impl HfCli {
    /// `huggingface-cli`, else `hf`, on `PATH`.
    pub fn find() -> Option<Self> {
        find_program("huggingface-cli")
            .map(|program| Self {
                kind: HfCliKind::HuggingfaceCli,
                program,
            })
            .or_else(|| {
                find_program("hf").map(|program| Self {
                    kind: HfCliKind::Hf,
                    program,
                })
            })
    }

    /// The CLI of a download and where it runs ([`CliChoice`]): this machine's
    /// (`huggingface-cli`, else `hf`), run here — the target is a host path, mounted `P:P`
    /// into any container, so a download on the host lands where the container reads it;
    /// without one, when the plan's commands run in a container (`container`), the image's
    /// `huggingface-cli`, found on the container's `PATH` (a host program's path is never run
    /// in the container). `None`: no CLI anywhere.
    pub fn choose(container: bool) -> Option<CliChoice> {
        Self::choose_from(Self::find(), container)
    }

    fn choose_from(found: Option<Self>, container: bool) -> Option<CliChoice> {
        match found {
            Some(cli) => Some(CliChoice {
                cli,
                in_container: false,
            }),
            None if container => Some(CliChoice {
                cli: Self {
                    kind: HfCliKind::HuggingfaceCli,
                    program: PathBuf::from("huggingface-cli"),
                },
                in_container: true,
            }),
            None => None,
        }
    }

    /// The download command: `huggingface-cli download <repo> [--repo-type model]
    /// --local-dir <dir> --local-dir-use-symlinks False [--resume-download]`, or `hf download
    /// <repo> [--repo-type model] --local-dir <dir>`.
    pub fn command(&self, d: &HfDownload) -> CommandSpec {
        let mut c = CommandSpec::new(self.program.display().to_string())
            .arg("download")
            .arg(&d.repo);
        if d.repo_type_model {
            c = c.args(["--repo-type", "model"]);
        }
        c = c.arg("--local-dir").arg(d.local_dir.display().to_string());
        if self.kind == HfCliKind::HuggingfaceCli {
            c = c.args(["--local-dir-use-symlinks", "False"]);
            if d.resume {
                c = c.arg("--resume-download");
            }
        }
        d.env.iter().fold(c, |c, (k, v)| c.env(k, v))
    }
}

/// "Exists" in the original's sense: a directory with at least one entry.
pub fn is_populated(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut e| e.next().is_some())
}

/// Total size of the regular files below `dir` (symbolic links are not followed), bytes; 0
/// when it does not exist.
pub fn dir_size(dir: &Path) -> u64 {
    let mut total = 0u64;
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let Ok(t) = e.file_type() else { continue };
            if t.is_dir() {
                stack.push(e.path());
            } else if t.is_file() {
                total = total.saturating_add(e.metadata().map_or(0, |m| m.len()));
            }
        }
    }
    total
}

/// Free space where `target` would live.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FreeSpace {
    /// The nearest existing ancestor of the target (what was measured).
    pub checked: PathBuf,
    /// Bytes available to an unprivileged user.
    pub available_bytes: u64,
}

impl FreeSpace {
    /// Available space in GB (GiB, as the original's `df` arithmetic).
    pub fn available_gb(&self) -> f64 {
        self.available_bytes as f64 / GB
    }
}

/// Measures the free space of the file system that holds `target` (its nearest existing
/// ancestor).
pub fn free_space(target: &Path) -> Result<FreeSpace, DownloadError> {
    let mut p = crate::config::absolute(target);
    while !p.exists() {
        match p.parent() {
            Some(parent) => p = parent.to_owned(),
            None => break,
        }
    }
    let st = nix::sys::statvfs::statvfs(&p)
        .map_err(|e| RunnerError::io("measure free space on", &p, e.into()))?;
    let available = st.blocks_available().saturating_mul(st.fragment_size());
    Ok(FreeSpace {
        checked: p,
        available_bytes: available,
    })
}

/// Checks that `required_gb` GB are free where `target` would live.
pub fn check_free_space(
    repo: &str,
    target: &Path,
    required_gb: f64,
) -> Result<FreeSpace, DownloadError> {
    let fs = free_space(target)?;
    if fs.available_gb() < required_gb {
        return Err(DownloadError::NoSpace {
            repo: repo.to_owned(),
            path: target.to_owned(),
            checked: fs.checked.clone(),
            available_gb: fs.available_gb(),
            required_gb,
        });
    }
    Ok(fs)
}

/// What a download still needs on disk: the model's size less what is already in `target`
/// (a resumed download needs only the rest), never negative.
pub fn remaining_gb(size_gb: f64, target: &Path) -> f64 {
    (size_gb - dir_size(target) as f64 / GB).max(0.0)
}

/// The orchestrator's rule for the space a repository needs (§8.10): 685 GB for a
/// DeepSeek repository, else 100 GB.
pub fn required_gb_for_repo(repo: &str) -> f64 {
    if repo.contains("deepseek") || repo.contains("DeepSeek") {
        685.0
    } else {
        100.0
    }
}

/// Runs the download: creates the target's parent folder, runs the CLI (its output goes to
/// `out` as it arrives) bounded by `timeout`, stops it on SIGINT/SIGTERM, and checks that
/// the target is a non-empty directory afterwards.
pub fn download(
    exec: &dyn Executor,
    cli: &HfCli,
    d: &HfDownload,
    timeout: Duration,
    interrupt: &Interrupt,
    out: &mut dyn FnMut(&[u8]),
) -> Result<Duration, DownloadError> {
    if let Some(parent) = d.local_dir.parent() {
        std::fs::create_dir_all(parent).map_err(|e| RunnerError::io("create", parent, e))?;
    }
    let cmd = cli.command(d);
    let start = Instant::now();
    let mut signal = None;
    let end = exec.run(&cmd, out, Some(timeout), &mut || match interrupt.check() {
        Ok(()) => false,
        Err(i) => {
            signal = Some(i);
            true
        }
    })?;
    match end {
        RunEnd::Exited(e) if e.success() => {}
        RunEnd::Exited(exit) => {
            return Err(DownloadError::Failed {
                repo: d.repo.clone(),
                command: cmd.display(),
                exit,
            });
        }
        RunEnd::TimedOut => {
            return Err(DownloadError::TimedOut {
                repo: d.repo.clone(),
                limit: timeout,
            });
        }
        RunEnd::Stopped => {
            return Err(DownloadError::Interrupted {
                repo: d.repo.clone(),
                signal: signal.unwrap_or(Interrupted { signal: 15 }),
            });
        }
    }
    if !is_populated(&d.local_dir) {
        return Err(DownloadError::Empty {
            repo: d.repo.clone(),
            path: d.local_dir.clone(),
        });
    }
    Ok(start.elapsed())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(dir: &Path) -> HfDownload {
        HfDownload {
            repo: "org/model".into(),
            local_dir: dir.join("models/org/model"),
            repo_type_model: true,
            resume: true,
            env: vec![("HF_HUB_ENABLE_HF_TRANSFER".into(), "1".into())],
        }
    }

    #[test]
    fn commands_of_both_clis() {
        let d = req(Path::new("/m"));
        let old = HfCli {
            kind: HfCliKind::HuggingfaceCli,
            program: "/usr/bin/huggingface-cli".into(),
        };
        assert_eq!(
            old.command(&d).display_with_env(),
            "HF_HUB_ENABLE_HF_TRANSFER=1 /usr/bin/huggingface-cli download org/model --repo-type model --local-dir /m/models/org/model --local-dir-use-symlinks False --resume-download"
        );
        let new = HfCli {
            kind: HfCliKind::Hf,
            program: "/usr/bin/hf".into(),
        };
        assert_eq!(
            new.command(&d).display(),
            "/usr/bin/hf download org/model --repo-type model --local-dir /m/models/org/model"
        );
    }

    #[test]
    fn a_host_cli_runs_here_else_the_image_cli_in_the_container() {
        let host = HfCli {
            kind: HfCliKind::Hf,
            program: "/usr/local/bin/hf".into(),
        };
        let here = HfCli::choose_from(Some(host.clone()), true).unwrap();
        assert_eq!((&here.cli, here.in_container), (&host, false));
        let local = LocalExecutor::default();
        let container = LocalExecutor {
            grace: Duration::from_secs(1),
        };
        assert!(std::ptr::addr_eq(
            here.executor(&container, &local),
            &local as &dyn Executor
        ));
        let image = HfCli::choose_from(None, true).unwrap();
        assert!(image.in_container);
        assert_eq!(
            image.cli.program,
            Path::new("huggingface-cli"),
            "a bare name, found on the container's PATH"
        );
        assert!(std::ptr::addr_eq(
            image.executor(&container, &local),
            &container as &dyn Executor
        ));
        assert_eq!(HfCli::choose_from(None, false), None);
    }

    #[test]
    fn free_space_of_a_missing_path_measures_its_ancestor() {
        let d = tempfile::tempdir().unwrap();
        let fs = free_space(&d.path().join("a/b/c")).unwrap();
        assert_eq!(fs.checked, d.path());
        assert!(fs.available_bytes > 0);
        assert!(check_free_space("r", &d.path().join("x"), 0.0).is_ok());
        let e = check_free_space("r", &d.path().join("x"), 1e12).unwrap_err();
        assert!(
            e.to_string()
                .contains("not enough free space to download r"),
            "{e}"
        );
    }

    #[test]
    fn sizes_and_population() {
        let d = tempfile::tempdir().unwrap();
        assert!(!is_populated(&d.path().join("none")));
        assert!(!is_populated(d.path()));
        std::fs::create_dir_all(d.path().join("s")).unwrap();
        std::fs::write(d.path().join("s/w.bin"), vec![0u8; 2048]).unwrap();
        std::fs::write(d.path().join("c.json"), b"{}").unwrap();
        assert!(is_populated(d.path()));
        assert_eq!(dir_size(d.path()), 2050);
        assert!((remaining_gb(1.0, d.path()) - (1.0 - 2050.0 / GB)).abs() < 1e-9);
        assert_eq!(required_gb_for_repo("amd/DeepSeek-R1-MXFP4-Preview"), 685.0);
        assert_eq!(required_gb_for_repo("xai-org/grok-2"), 100.0);
    }

    #[test]
    fn download_runs_the_cli_and_checks_the_result() {
        let d = tempfile::tempdir().unwrap();
        let stub = d.path().join("huggingface-cli");
        // A stub CLI: records its arguments and fills --local-dir. Written by a child process,
        // so no descriptor of this (multi-threaded) test process keeps it busy at exec time.
        let script = "#!/bin/sh\necho \"$@\" > \"$(dirname \"$0\")/args\"\nwhile [ $# -gt 0 ]; do if [ \"$1\" = --local-dir ]; then mkdir -p \"$2\"; echo w > \"$2/w\"; fi; shift; done\necho done\n";
        let ok = std::process::Command::new("sh")
            .args([
                "-c",
                "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
                "sh",
                script,
            ])
            .arg(&stub)
            .status()
            .unwrap();
        assert!(ok.success());
        let cli = HfCli {
            kind: HfCliKind::HuggingfaceCli,
            program: stub.clone(),
        };
        let r = req(d.path());
        let mut out = Vec::new();
        download(
            &LocalExecutor::default(),
            &cli,
            &r,
            Duration::from_secs(30),
            &Interrupt::new(),
            &mut |b| out.extend_from_slice(b),
        )
        .unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "done\n");
        let args = std::fs::read_to_string(d.path().join("args")).unwrap();
        assert!(
            args.starts_with("download org/model --repo-type model --local-dir"),
            "{args}"
        );
        assert!(is_populated(&r.local_dir));
        // A CLI that succeeds without writing anything is an error.
        let empty = HfCli {
            kind: HfCliKind::Hf,
            program: "/bin/true".into(),
        };
        let r2 = HfDownload {
            local_dir: d.path().join("other"),
            ..r
        };
        let e = download(
            &LocalExecutor::default(),
            &empty,
            &r2,
            Duration::from_secs(30),
            &Interrupt::new(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(matches!(e, DownloadError::Empty { .. }), "{e}");
        let fail = HfCli {
            kind: HfCliKind::Hf,
            program: "/bin/false".into(),
        };
        let e = download(
            &LocalExecutor::default(),
            &fail,
            &r2,
            Duration::from_secs(30),
            &Interrupt::new(),
            &mut |_| {},
        )
        .unwrap_err();
        assert!(e.to_string().contains("exit status 1"), "{e}");
    }
}
