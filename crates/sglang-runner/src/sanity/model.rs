//! One model of a sanity run (spec nightly.md §7.7): launch, readiness with the start-up
//! classification, the GSM8K trials, shutdown and the best-trial verdict.
//!
//! Fixes against the original: Q-SAN-1 ("Out of memory" only on genuine out-of-memory
//! markers, not on every log holding `mem_fraction_static`), Q-SAN-2 (the server process is
//! polled: a crash fails the start-up at once), Q-SAN-3 (a timed-out client's whole process
//! group is killed, by the executor), Q-SAN-4 (`📦 Kernel compilation completed` printed
//! once), Q-SAN-5 (failing trials start with `❌`). A server that dies during a trial ends
//! that trial (`FAILED - Server process died`) instead of letting the client run to its limit.

use std::fs::File;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

use metrics_parse::sanity::{client_accuracy, client_log_name, py_list_repr};

use crate::console::Console;
use crate::exec::{Executor, RunEnd, ServerProcess};
use crate::signals::{Interrupt, Interrupted};
use crate::timefmt;

use super::SanityError;
use super::config::{ModelRun, SanityConfig};
use super::summary::{
    self, FAIL, ModelEnd, PASS, StartupError, TestedBlock, TimingLog, TrialEnd, TrialResult,
};
use super::table::{self, Skip};

/// The readiness line of an SGLang server (and of `sglang-sim`).
pub const READY_LINE: &str = "The server is fired up and ready to roll!";

/// Markers of a genuine out-of-memory failure in a server log (fix Q-SAN-1). SGLang's own
/// `Not enough memory`, PyTorch's `OutOfMemoryError`, and HIP/CUDA `out of memory`.
pub const OOM_MARKERS: &[&str] = &["Not enough memory", "OutOfMemoryError", "out of memory"];

/// How a start-up wait ended.
enum Wait {
    Ready(f64),
    Failed(f64, StartupError),
}

/// The first `mem_fraction_static=<number>` of a log, else `unknown`.
pub fn mem_fraction_static(log: &str) -> String {
    const KEY: &str = "mem_fraction_static=";
    log.find(KEY)
        .map(|at| {
            log[at + KEY.len()..]
                .chars()
                .take_while(|c| c.is_ascii_digit() || *c == '.')
                .collect::<String>()
        })
        .filter(|v| !v.is_empty())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// Whether the log shows a genuine out-of-memory failure.
pub fn is_oom(log: &str) -> bool {
    OOM_MARKERS.iter().any(|m| log.contains(m))
}

/// The classification of a start-up that ran out of time (§7.7 step 4 with fix Q-SAN-1).
pub fn classify_timeout(log: &str) -> StartupError {
    if is_oom(log) {
        StartupError::OutOfMemory {
            mem_fraction_static: mem_fraction_static(log),
        }
    } else if log.contains("start build") && !log.contains("finish build") {
        StartupError::CompilationTimeout
    } else {
        StartupError::Timeout
    }
}

/// Number of `finish build … cost <x>s` lines.
fn finished_kernels(log: &str) -> usize {
    log.lines()
        .filter(|l| {
            l.find("finish build")
                .is_some_and(|i| l[i..].contains("cost ") && l.trim_end().ends_with('s'))
        })
        .count()
}

fn read_log(p: &Path) -> String {
    std::fs::read(p)
        .map(|d| String::from_utf8_lossy(&d).into_owned())
        .unwrap_or_default()
}

fn wait_ready(
    server: &mut Box<dyn ServerProcess>,
    log: &Path,
    limit: Duration,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<Wait, Interrupted> {
    let start = Instant::now();
    let mut interval = Duration::from_millis(20);
    let mut last_len = u64::MAX;
    let mut text = String::new();
    let mut next_error_note = 30.0;
    let mut next_progress = 60.0;
    let mut compiled_said = false;
    loop {
        let waited = start.elapsed().as_secs_f64();
        let len = std::fs::metadata(log).map_or(0, |m| m.len());
        let changed = len != last_len;
        if changed {
            text = read_log(log);
            last_len = len;
        }
        if text.contains(READY_LINE) {
            return Ok(Wait::Ready(waited));
        }
        if is_oom(&text) {
            let v = mem_fraction_static(&text);
            console.line(format!(
                "❌ Memory error detected! Current mem_fraction_static={v}"
            ));
            console.line("   Suggestion: Increase --mem-fraction-static value");
            return Ok(Wait::Failed(
                waited,
                StartupError::OutOfMemory {
                    mem_fraction_static: v,
                },
            ));
        }
        if let Ok(Some(exit)) = server.try_wait() {
            // The log may have got its last lines just now.
            let text = read_log(log);
            if is_oom(&text) {
                return Ok(Wait::Failed(
                    waited,
                    StartupError::OutOfMemory {
                        mem_fraction_static: mem_fraction_static(&text),
                    },
                ));
            }
            return Ok(Wait::Failed(
                waited,
                StartupError::Exited {
                    how: exit.to_string(),
                },
            ));
        }
        if waited > next_error_note {
            next_error_note += 30.0;
            if ["Error", "Exception", "Traceback"]
                .iter()
                .any(|w| text.contains(w))
            {
                console.line(format!(
                    "⚠️  Server errors detected at {waited:.0}s - check {}",
                    log.display()
                ));
            }
        }
        if text.contains("start build") {
            if text.contains("finish build") {
                if waited > 60.0 && changed && !compiled_said {
                    compiled_said = true;
                    console.line(format!(
                        "   📦 Kernel compilation completed ({} kernels)",
                        finished_kernels(&text)
                    ));
                }
            } else if waited > next_progress {
                next_progress += 30.0;
                console.line(format!(
                    "   ⏳ Kernel compilation in progress... ({waited:.0}s elapsed)"
                ));
            }
        }
        if start.elapsed() >= limit {
            let text = read_log(log);
            return Ok(Wait::Failed(
                start.elapsed().as_secs_f64(),
                classify_timeout(&text),
            ));
        }
        interrupt.sleep(interval.min(limit.saturating_sub(start.elapsed())))?;
        interval = (interval * 2).min(Duration::from_millis(500));
    }
}

/// Runs one trial.
#[allow(clippy::too_many_arguments)]
fn trial(
    cfg: &SanityConfig,
    m: &ModelRun,
    t: u32,
    exec: &dyn Executor,
    server: &mut Box<dyn ServerProcess>,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<TrialResult, Interrupted> {
    let n = cfg.trials;
    console.line(format!("  📊 Trial {t}/{n} starting..."));
    if let Ok(Some(_)) = server.try_wait() {
        console.line(format!("  ❌ Server process died before trial {t}"));
        return Ok(TrialResult {
            number: t,
            end: TrialEnd::ServerDied,
            secs: 0.0,
        });
    }
    let log = cfg
        .log_dir
        .join(client_log_name(&m.key, cfg.hardware.as_str(), t));
    let cmd = table::benchmark(&cfg.steps, cfg.port, cfg.gsm8k_data.as_deref());
    let start = Instant::now();
    let mut file = File::create(&log).ok();
    let mut server_died = false;
    let mut interrupted = None;
    let mut last_note = 0u64;
    let end = exec.run(
        &cmd,
        &mut |b| {
            if let Some(f) = file.as_mut() {
                let _ = f.write_all(b);
            }
        },
        Some(cfg.trial_timeout),
        &mut || {
            if let Err(i) = interrupt.check() {
                interrupted = Some(i);
                return true;
            }
            if let Ok(Some(_)) = server.try_wait() {
                server_died = true;
                return true;
            }
            let s = start.elapsed().as_secs();
            if s > 30 && s.is_multiple_of(15) && s != last_note {
                last_note = s;
                console.line(format!("    ⏳ Trial {t} still running... ({s}s elapsed)"));
            }
            false
        },
    );
    drop(file);
    if let Some(i) = interrupted {
        return Err(i);
    }
    let secs = start.elapsed().as_secs_f64();
    let result = |end| TrialResult {
        number: t,
        end,
        secs,
    };
    let r = match end {
        Ok(RunEnd::TimedOut) => {
            console.line(format!(
                "    ⚠️  Trial {t} timeout after {}s - killing benchmark process",
                summary::limit_text(cfg.trial_timeout.as_secs_f64())
            ));
            result(TrialEnd::Timeout {
                limit: cfg.trial_timeout.as_secs_f64(),
            })
        }
        Ok(RunEnd::Stopped) if server_died => {
            console.line(format!("  ❌ Server process died during trial {t}"));
            return Ok(TrialResult {
                number: t,
                end: TrialEnd::ServerDied,
                secs,
            });
        }
        Ok(_) | Err(_) => {
            if let Err(e) = &end {
                console.line(format!("    ⚠️  Trial {t}: the benchmark did not run: {e}"));
            }
            let data = std::fs::read(&log).unwrap_or_default();
            match client_accuracy(&data).value() {
                Some(accuracy) => result(TrialEnd::Accuracy {
                    accuracy,
                    pass: accuracy >= m.threshold,
                }),
                None => result(TrialEnd::NoAccuracy { log: log.clone() }),
            }
        }
    };
    let icon = if r.passed() { "✅" } else { "❌" };
    console.line(format!("  {icon} Trial {t}: {}", r.text()));
    Ok(r)
}

/// Runs model `m` (§7.7), writing its block to the timing log.
pub fn run_model(
    cfg: &SanityConfig,
    m: &ModelRun,
    exec: &dyn Executor,
    console: &mut Console,
    interrupt: &Interrupt,
    tlog: &mut TimingLog,
) -> Result<ModelEnd, SanityError> {
    let hw = cfg.hardware.as_str();
    let launch = match table::launch(m, cfg.hardware, &cfg.models_dir, &cfg.steps, cfg.port) {
        Ok(l) => l,
        Err(skip) => {
            let reason = match &skip {
                Skip::Unavailable(r) => {
                    console.line(format!("⏭️  {}: SKIPPED ({r})", m.key));
                    Some(r.as_str())
                }
                Skip::NoLaunchCommand => {
                    console.line(format!(
                        "⏭️  {}: SKIPPED (no launch command for platform {hw})",
                        m.key
                    ));
                    None
                }
            };
            tlog.write(&summary::skipped_lines(&m.key, hw, reason))?;
            return Ok(ModelEnd::Skipped);
        }
    };
    let model_start = Instant::now();
    let start_time = timefmt::human(&timefmt::now());
    console.line("");
    console.line(format!("=== Testing {} on {hw} ===", m.key));
    tlog.write(&summary::section_open(&m.key, hw, &start_time))?;
    let log = table::server_log(&cfg.log_dir, &m.key, cfg.hardware);
    console.line(format!("🚀 Starting server for {}...", m.key));
    console.line(format!("   Command: {}", launch.server.display_with_env()));
    if m.key == "GROK1-FP8" && cfg.startup_timeout.is_none() {
        console.line("   Using extended timeout (600s) for GROK1-FP8 kernel compilation");
    }
    let limit = cfg.startup_timeout_for(&m.key);

    let spawned = if crate::server::port_in_use(cfg.port) {
        Err(format!(
            "port {} on 127.0.0.1 is already in use by {}",
            cfg.port,
            crate::server::port_holder(cfg.port).unwrap_or_else(|| "another process".to_owned())
        ))
    } else {
        exec.spawn(&launch.server, &log, false)
            .map_err(|e| e.to_string())
    };
    let wait = match spawned {
        Ok(mut server) => match wait_ready(&mut server, &log, limit, console, interrupt) {
            Ok(Wait::Ready(s)) => Ok((server, s)),
            Ok(Wait::Failed(s, e)) => {
                let _ = server.terminate(Duration::from_secs(1));
                Err((s, e))
            }
            Err(i) => {
                let _ = server.terminate(Duration::from_secs(1));
                return Err(SanityError::Interrupted(i));
            }
        },
        Err(why) => Err((0.0, StartupError::NotStarted { why })),
    };
    let (mut server, startup) = match wait {
        Ok(x) => x,
        Err((waited, e)) => {
            console.line(format!("{}: {FAIL} ({})", m.key, e.console_message(waited)));
            for l in e.summary_lines() {
                if let Some(s) = l.strip_prefix("💡 Suggestion: ") {
                    console.line(format!("   💡 Suggestion: {s}"));
                }
            }
            tlog.write(&summary::startup_failed_lines(waited, &e))?;
            return Ok(ModelEnd::StartupFailed(e));
        }
    };
    console.line(format!("✅ Server ready in {startup:.2}s"));
    console.line(format!("🧪 Running {} benchmark trials...", cfg.trials));

    let mut trials = Vec::new();
    let mut early = None;
    for t in 1..=cfg.trials {
        let r = match trial(cfg, m, t, exec, &mut server, console, interrupt) {
            Ok(r) => r,
            Err(i) => {
                let _ = server.terminate(Duration::from_secs(10));
                return Err(SanityError::Interrupted(i));
            }
        };
        let passed = r.passed();
        trials.push(r);
        if cfg.early_exit && passed && t < cfg.trials {
            let skipped = cfg.trials - t;
            console.line(format!(
                "  ⏩ Early exit: Passed on trial {t}, skipped {skipped} trial(s)"
            ));
            early = Some((t, skipped));
            break;
        }
    }

    console.line("🛑 Stopping server...");
    let stop_start = Instant::now();
    match server.terminate(Duration::from_secs(10)) {
        Ok(s) if s.forced => console.line("🔥 Server didn't stop gracefully, force killing..."),
        Ok(_) => {}
        Err(e) => console.line(format!("⚠️  Server process cleanup: {e}")),
    }
    let shutdown = stop_start.elapsed().as_secs_f64();

    let best = summary::highest(&trials);
    let pass = best >= m.threshold;
    let total = model_start.elapsed().as_secs_f64();
    let mark = if pass { PASS } else { FAIL };
    let accuracies: Vec<f64> = trials.iter().map(TrialResult::accuracy).collect();
    console.line(format!("📋 Result for {} on {hw}: {mark}", m.key));
    console.line(format!("   Accuracies: {}", py_list_repr(&accuracies)));
    console.line(format!(
        "   Highest Accuracy: {best:.3} (Required: {:.3})",
        m.threshold
    ));
    console.line(format!("   Total Time: {total:.2}s"));
    let end_time = timefmt::human(&timefmt::now());
    tlog.write(&summary::tested_lines(&TestedBlock {
        model: &m.key,
        hardware: hw,
        start_time: &start_time,
        startup_secs: startup,
        trials: &trials,
        early_exit: early,
        shutdown_secs: shutdown,
        pass,
        threshold: m.threshold,
        total_secs: total,
        end_time: &end_time,
    }))?;
    Ok(ModelEnd::Tested { pass })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_timeout_is_not_out_of_memory() {
        // Every SGLang log prints its ServerArgs with mem_fraction_static (Q-SAN-1).
        let args = "server_args=ServerArgs(model_path='/m', mem_fraction_static=0.7224999999999999, tp_size=8)";
        assert_eq!(classify_timeout(args), StartupError::Timeout);
        assert_eq!(
            classify_timeout(&format!(
                "{args}\nRuntimeError: Not enough memory. Please try to increase --mem-fraction-static."
            )),
            StartupError::OutOfMemory {
                mem_fraction_static: "0.7224999999999999".into()
            }
        );
        assert_eq!(
            classify_timeout("torch.OutOfMemoryError: HIP out of memory."),
            StartupError::OutOfMemory {
                mem_fraction_static: "unknown".into()
            }
        );
        assert_eq!(
            classify_timeout(&format!("{args}\n[aiter] start build [mha_fwd]")),
            StartupError::CompilationTimeout
        );
        assert_eq!(
            classify_timeout("start build [a]\nfinish build [a], cost 12.3s"),
            StartupError::Timeout
        );
    }

    #[test]
    fn kernel_count() {
        let log = "start build [a]\nfinish build [a], cost 1.5s\nstart build [b]\nfinish build [b], cost 20s\n";
        assert_eq!(finished_kernels(log), 2);
    }
}
