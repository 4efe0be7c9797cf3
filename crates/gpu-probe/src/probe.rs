//! Running the GPU tool: which command, with a timeout, and which parser reads its output.

use std::ffi::OsString;
use std::fmt;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::verdict::{Thresholds, Verdict, judge};
use crate::{GpuUsage, ParseError, amd_smi, nvidia_smi, rocm_smi};

/// Environment variable that replaces the probe command (run with `sh -c`).
pub const PROBE_CMD_ENV: &str = "SGLCI_GPU_PROBE_CMD";

/// Which tool printed an output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ProbeFormat {
    /// `rocm-smi` concise table.
    RocmSmi,
    /// `amd-smi ... --json`.
    AmdSmiJson,
    /// `nvidia-smi --query-gpu=... --format=csv`.
    NvidiaSmiCsv,
}

impl fmt::Display for ProbeFormat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::RocmSmi => "rocm-smi",
            Self::AmdSmiJson => "amd-smi",
            Self::NvidiaSmiCsv => "nvidia-smi",
        })
    }
}

/// Guesses the tool from its output: JSON (`[` or `{` first) is amd-smi, a CSV whose first line
/// names `utilization.gpu` or `memory.used` (or whose lines are all `N, N, ...`) is nvidia-smi,
/// anything else is a rocm-smi table.
pub fn detect_format(output: &[u8]) -> ProbeFormat {
    let text = String::from_utf8_lossy(output);
    let trimmed = text.trim_start();
    if trimmed.starts_with('[') || trimmed.starts_with('{') {
        return ProbeFormat::AmdSmiJson;
    }
    let first = trimmed.lines().next().unwrap_or("");
    if first.contains("utilization.gpu") || first.contains("memory.used") {
        return ProbeFormat::NvidiaSmiCsv;
    }
    let csv_like = !trimmed.is_empty()
        && trimmed.lines().filter(|l| !l.trim().is_empty()).all(|l| {
            let cells: Vec<&str> = l.split(',').collect();
            cells.len() >= 2 && cells[0].trim().parse::<u32>().is_ok()
        });
    if csv_like {
        ProbeFormat::NvidiaSmiCsv
    } else {
        ProbeFormat::RocmSmi
    }
}

/// Detects the format and parses.
pub fn parse_auto(output: &[u8]) -> Result<(ProbeFormat, Vec<GpuUsage>), ParseError> {
    let format = detect_format(output);
    let gpus = match format {
        ProbeFormat::RocmSmi => rocm_smi::parse(output),
        ProbeFormat::AmdSmiJson => amd_smi::parse(output)?,
        ProbeFormat::NvidiaSmiCsv => nvidia_smi::parse(output)?,
    };
    Ok((format, gpus))
}

/// The command that prints GPU usage.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProbeCommand {
    /// A program with arguments (found on `PATH`).
    Program {
        /// Program name or path.
        program: PathBuf,
        /// Arguments.
        args: Vec<String>,
    },
    /// A shell command line (from [`PROBE_CMD_ENV`]), run as `sh -c LINE`.
    Shell(String),
    /// No GPU tool on `PATH`: the check is skipped (reported idle), as the original did when
    /// `rocm-smi` was missing.
    NoTool,
}

impl ProbeCommand {
    /// `SGLCI_GPU_PROBE_CMD` when set and not empty, else [`ProbeCommand::default_for`] with
    /// the process `PATH`.
    pub fn from_env() -> Self {
        match std::env::var(PROBE_CMD_ENV) {
            Ok(line) if !line.trim().is_empty() => Self::Shell(line),
            _ => Self::default_for(std::env::var_os("PATH")),
        }
    }

    /// The first of `rocm-smi` (no arguments, as the original), `amd-smi metric --usage
    /// --mem-usage --json`, `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,
    /// memory.total --format=csv` found on `path`; [`ProbeCommand::NoTool`] if none.
    pub fn default_for(path: Option<OsString>) -> Self {
        let candidates: [(&str, &[&str]); 3] = [
            ("rocm-smi", &[]),
            ("amd-smi", &["metric", "--usage", "--mem-usage", "--json"]),
            (
                "nvidia-smi",
                &[
                    "--query-gpu=index,utilization.gpu,memory.used,memory.total",
                    "--format=csv",
                ],
            ),
        ];
        for (name, args) in candidates {
            if let Some(found) = find_on_path(name, path.as_deref()) {
                return Self::Program {
                    program: found,
                    args: args.iter().map(|s| (*s).to_string()).collect(),
                };
            }
        }
        Self::NoTool
    }
}

impl fmt::Display for ProbeCommand {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Program { program, args } => {
                write!(f, "{}", program.display())?;
                for a in args {
                    write!(f, " {a}")?;
                }
                Ok(())
            }
            Self::Shell(line) => write!(f, "sh -c {line:?} (from {PROBE_CMD_ENV})"),
            Self::NoTool => f.write_str("no GPU tool (rocm-smi, amd-smi, nvidia-smi) on PATH"),
        }
    }
}

fn find_on_path(name: &str, path: Option<&std::ffi::OsStr>) -> Option<PathBuf> {
    let path = path?;
    std::env::split_paths(path)
        .map(|dir| dir.join(name))
        .find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// What the probe command printed.
#[derive(Debug, Clone)]
pub struct ProbeOutput {
    /// Standard output.
    pub stdout: Vec<u8>,
    /// Standard error (the original let it land in the job log; callers may print it).
    pub stderr: Vec<u8>,
    /// Exit status code (`None` when ended by a signal).
    pub status: Option<i32>,
}

/// Why the probe command gave no output to judge.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    /// The program could not be started.
    #[error("cannot run GPU probe `{command}`: {source}")]
    Spawn {
        /// The command.
        command: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// The program ran past the timeout and was killed.
    #[error("GPU probe `{command}` did not finish within {secs} s and was killed")]
    Timeout {
        /// The command.
        command: String,
        /// Timeout in seconds.
        secs: u64,
    },
}

/// One check: the verdict and what it was based on.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct IdleReport {
    /// The verdict.
    pub verdict: Verdict,
    /// Every GPU the tool listed.
    pub gpus: Vec<GpuUsage>,
    /// Which tool's format was read (`None` when skipped).
    pub format: Option<ProbeFormat>,
    /// The command that was run, for log lines.
    pub source: String,
    /// What the tool printed on stderr (the original let it land in the job log).
    pub stderr: String,
}

/// The probe: a command, a timeout and the thresholds.
#[derive(Debug, Clone)]
pub struct Probe {
    /// What to run.
    pub command: ProbeCommand,
    /// Kill the command after this long (the Python variant used 10 s).
    pub timeout: Duration,
    /// Busy when a value is strictly above these.
    pub thresholds: Thresholds,
}

impl Probe {
    /// [`ProbeCommand::from_env`], a 10 s timeout, and the given thresholds.
    pub fn from_env(thresholds: Thresholds) -> Self {
        Self {
            command: ProbeCommand::from_env(),
            timeout: Duration::from_secs(10),
            thresholds,
        }
    }

    /// Runs the command (stdout and stderr captured) and waits at most [`Probe::timeout`].
    pub fn run(&self) -> Result<Option<ProbeOutput>, ProbeError> {
        let mut cmd = match &self.command {
            ProbeCommand::NoTool => return Ok(None),
            ProbeCommand::Program { program, args } => {
                let mut c = Command::new(program);
                c.args(args);
                c
            }
            ProbeCommand::Shell(line) => {
                let mut c = Command::new("sh");
                c.arg("-c").arg(line);
                c
            }
        };
        let command = self.command.to_string();
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|source| ProbeError::Spawn {
                command: command.clone(),
                source,
            })?;
        let out_reader = child.stdout.take().map(spawn_reader);
        let err_reader = child.stderr.take().map(spawn_reader);
        let deadline = Instant::now() + self.timeout;
        let status = loop {
            match child.try_wait() {
                Ok(Some(status)) => break status,
                Ok(None) if Instant::now() >= deadline => {
                    let _ = child.kill();
                    let _ = child.wait();
                    return Err(ProbeError::Timeout {
                        command,
                        secs: self.timeout.as_secs(),
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(source) => return Err(ProbeError::Spawn { command, source }),
            }
        };
        let join = |h: Option<std::thread::JoinHandle<Vec<u8>>>| {
            h.and_then(|h| h.join().ok()).unwrap_or_default()
        };
        Ok(Some(ProbeOutput {
            stdout: join(out_reader),
            stderr: join(err_reader),
            status: status.code(),
        }))
    }

    /// Runs the probe and judges the result. Never fails: a missing tool, a timeout, a
    /// failing tool that lists no GPU or an unreadable output is [`Verdict::Skipped`] with the
    /// reason (the original treated all of these as idle).
    pub fn check(&self) -> IdleReport {
        let source = self.command.to_string();
        let skipped = |reason: String| IdleReport {
            verdict: Verdict::Skipped(reason),
            gpus: Vec::new(),
            format: None,
            source: source.clone(),
            stderr: String::new(),
        };
        let out = match self.run() {
            Ok(None) => return skipped(format!("{source}. Skipping GPU idle check.")),
            Ok(Some(out)) => out,
            Err(e) => return skipped(format!("{e}. Skipping GPU idle check.")),
        };
        let stderr = String::from_utf8_lossy(&out.stderr).trim().to_string();
        let status = out
            .status
            .map_or_else(|| "a signal".to_string(), |c| c.to_string());
        let mut report = match parse_auto(&out.stdout) {
            Ok((format, gpus)) if !gpus.is_empty() => IdleReport {
                verdict: judge(&gpus, &self.thresholds),
                gpus,
                format: Some(format),
                source: source.clone(),
                stderr: String::new(),
            },
            Ok((format, _)) => skipped(format!(
                "{format} (exit status {status}) listed no GPU. Skipping GPU idle check."
            )),
            Err(e) => skipped(format!("{e}. Skipping GPU idle check.")),
        };
        report.stderr = stderr;
        report
    }
}

fn spawn_reader<R: Read + Send + 'static>(mut r: R) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = r.read_to_end(&mut buf);
        buf
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_detected_from_text() {
        assert_eq!(
            detect_format(b"  [ {\"gpu\": 0} ]"),
            ProbeFormat::AmdSmiJson
        );
        assert_eq!(
            detect_format(b"index, utilization.gpu [%]\n0, 1 %\n"),
            ProbeFormat::NvidiaSmiCsv
        );
        assert_eq!(detect_format(b"0, 5, 10, 100\n"), ProbeFormat::NvidiaSmiCsv);
        assert_eq!(
            detect_format(b"==== ROCm System Management Interface ====\n"),
            ProbeFormat::RocmSmi
        );
        assert_eq!(detect_format(b""), ProbeFormat::RocmSmi);
    }

    #[test]
    fn default_command_prefers_rocm_smi_then_amd_then_nvidia() {
        let dir = tempfile::tempdir().unwrap();
        let make = |name: &str| {
            use std::os::unix::fs::PermissionsExt;
            let p = dir.path().join(name);
            std::fs::write(&p, "#!/bin/sh\n").unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        };
        let path = Some(dir.path().as_os_str().to_owned());
        assert_eq!(
            ProbeCommand::default_for(path.clone()),
            ProbeCommand::NoTool
        );
        make("nvidia-smi");
        assert!(
            ProbeCommand::default_for(path.clone())
                .to_string()
                .contains("--format=csv")
        );
        make("amd-smi");
        assert!(
            ProbeCommand::default_for(path.clone())
                .to_string()
                .ends_with("--json")
        );
        make("rocm-smi");
        match ProbeCommand::default_for(path) {
            ProbeCommand::Program { program, args } => {
                assert!(program.ends_with("rocm-smi"));
                assert!(
                    args.is_empty(),
                    "the original runs rocm-smi without arguments"
                );
            }
            other => panic!("unexpected {other:?}"),
        }
    }
}
