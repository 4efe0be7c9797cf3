//! `ensure_gpu_idle` of `test-nightly` (spec nightly.md §4.7), run after the lock and again
//! after the image pull: leftover PD containers removed, conflicting SGLang processes on the
//! host refused, then the numeric GPU idle check of gpu-probe (fix Q-NT-6).
//!
//! Differences from the original, each a fix the spec sanctions or a consequence of it:
//! containers are stopped only when the GPUs are busy, and only those sglang-ci created (the
//! original stopped every running container on the host, Q-NT-3, also other jobs' ones: with a
//! check that works, the busy case is the only one that needs freeing); leftover PD containers
//! are removed only when they are not running (a running one belongs to a PD test in progress);
//! names are joined with single spaces (Q-NT-2).

use std::time::Duration;

use docker_ctl::BlockingEngine;
use gpu_probe::{Probe, Thresholds, Verdict};

use super::config::TestNightlyConfig;

/// Prefix of the PD runner's container names.
pub const PD_CONTAINER_PREFIX: &str = "sglang-pd-";

/// Host processes whose command line matches `pattern` (the original's `ps aux | grep -E`),
/// as `<pid> <command line>`; this process is never listed.
pub fn conflicting_processes(pattern: &regex::Regex) -> Vec<String> {
    let me = std::process::id();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return Vec::new();
    };
    let mut out: Vec<(u32, String)> = dir
        .filter_map(Result::ok)
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter(|pid| *pid != me)
        .filter_map(|pid| {
            let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
            let cmd = String::from_utf8_lossy(&raw)
                .split('\0')
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            pattern.is_match(&cmd).then_some((pid, cmd))
        })
        .collect();
    out.sort();
    out.into_iter()
        .map(|(pid, cmd)| format!("{pid} {cmd}"))
        .collect()
}

/// Why the run cannot go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refused {
    /// The Docker daemon stopped answering.
    DockerGone(String),
    /// SGLang processes run on the host.
    Conflicts,
}

/// §4.7: container cleanup, conflicting processes, GPU idle. `say` gets the `[test]` lines.
pub fn ensure_gpu_idle(
    cfg: &TestNightlyConfig,
    engine: &BlockingEngine,
    say: &mut dyn FnMut(String),
) -> Result<(), Refused> {
    say("[test] Cleaning up Docker containers...".into());
    let all = engine.block_on(
        engine.engine().bollard().list_containers(Some(
            bollard::query_parameters::ListContainersOptionsBuilder::new()
                .all(true)
                .build(),
        )),
    );
    let all = match all {
        Ok(l) => l,
        Err(e) => {
            say("[test] WARN: Docker not accessible; skipping container cleanup.".into());
            return Err(Refused::DockerGone(e.to_string()));
        }
    };
    let leftovers: Vec<String> = all
        .iter()
        .filter(|c| {
            c.state
                .is_some_and(|s| matches!(s.to_string().as_str(), "exited" | "dead"))
        })
        .filter_map(|c| c.names.as_ref()?.first().cloned())
        .map(|n| n.trim_start_matches('/').to_owned())
        .filter(|n| n.starts_with(PD_CONTAINER_PREFIX))
        .collect();
    if !leftovers.is_empty() {
        say(format!(
            "[test] Removing stopped PD test containers: {}",
            leftovers.join(" ")
        ));
        for n in &leftovers {
            if let Err(e) = engine.remove_container(n, true) {
                say(format!("[test] WARN: removing {n} failed: {e}"));
            }
        }
    }
    say("[test] Docker container cleanup complete.".into());

    say("[test] Checking for conflicting SGLang processes...".into());
    // The pattern was validated when the configuration was resolved.
    let found = regex::Regex::new(&cfg.conflict_pattern)
        .map(|p| conflicting_processes(&p))
        .unwrap_or_default();
    if !found.is_empty() {
        say("[test] ERROR: Found running SGLang processes that may conflict with tests:".into());
        for p in &found {
            say(format!("[test]   {p}"));
        }
        say("[test]".into());
        say("[test] Please stop these processes before running tests:".into());
        say("[test]   sudo pkill -f 'sglang.launch_server'".into());
        say("[test]   sudo pkill -f 'sglang.bench_serving'".into());
        return Err(Refused::Conflicts);
    }
    say("[test] No conflicting SGLang processes found.".into());

    let thresholds = match Thresholds::from_env(Thresholds::NIGHTLY) {
        Ok(t) => t,
        Err(e) => {
            say(format!("[test] WARN: {e}; using 15/15"));
            Thresholds::NIGHTLY
        }
    };
    let probe = Probe::from_env(thresholds);
    let wait = cfg.gpu_idle_wait;
    let r = gpu_probe::ensure_idle(&probe, wait, Duration::from_secs(1), |first| {
        if let Verdict::Busy(b) = &first.verdict {
            for g in b {
                say(format!("[test]   {g}"));
            }
        }
        let stopped = engine.stop_managed_running(Duration::from_secs(10));
        match &stopped {
            Ok(names) if names.is_empty() => say("[test] No running containers to stop.".into()),
            Ok(names) => say(format!(
                "[test] Stopping running containers: {}",
                names.join(" ")
            )),
            Err(e) => say(format!("[test] WARN: stopping containers failed: {e}")),
        }
        say(format!(
            "[test] GPU is still busy after cleanup. Waiting {}s for GPU to become idle...",
            wait.as_secs()
        ));
        stopped
    });
    match r.final_verdict() {
        Verdict::Idle => say("[test] GPU is idle. Proceeding...".into()),
        Verdict::Busy(_) => say(
            "[test] WARN: GPU may still be busy, but no conflicting processes found. Proceeding..."
                .into(),
        ),
        Verdict::Skipped(why) => say(format!("[test] WARN: {why}")),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn conflicting_processes_are_found_by_their_command_line() {
        let marker = format!("sglci-conflict-probe-{}", std::process::id());
        let mut child = std::process::Command::new("sh")
            .args(["-c", "sleep 30", &marker])
            .spawn()
            .unwrap();
        let re = regex::Regex::new(&regex::escape(&marker)).unwrap();
        // The shell may fork for `sleep`: for a moment its child carries the same command
        // line, so the probe's own process is looked for among what was found.
        let ours = format!("{} sh -c sleep 30 ", child.id());
        let mut found = Vec::new();
        for _ in 0..50 {
            found = conflicting_processes(&re);
            if found.iter().any(|p| p.starts_with(&ours)) {
                break;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let _ = child.kill();
        let _ = child.wait();
        assert!(found.iter().any(|p| p.starts_with(&ours)), "{found:?}");
        assert!(found.iter().all(|p| p.contains(&marker)), "{found:?}");
        let none = regex::Regex::new("no-such-process-name-sglci-xyz").unwrap();
        // The pattern itself is not in this process's command line.
        assert!(conflicting_processes(&none).is_empty());
    }
}
