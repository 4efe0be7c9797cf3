//! The "ensure idle" procedure of the nightly jobs: check, stop our containers when busy,
//! wait and re-check ([`ensure_idle`]). The check itself is [`Probe::check`].

use std::fmt;
use std::time::{Duration, Instant};

use crate::probe::{IdleReport, Probe};
use crate::verdict::Verdict;

/// What [`ensure_idle`] did.
#[derive(Debug, Clone, PartialEq)]
pub struct EnsureIdleReport {
    /// The first check.
    pub first: IdleReport,
    /// When the first check was busy: what the stop closure returned (the names it stopped,
    /// or its error as text). Never fatal.
    pub stopped: Option<Result<Vec<String>, String>>,
    /// The last re-check when the first was busy.
    pub last: Option<IdleReport>,
    /// Time spent waiting for the GPUs after stopping.
    pub waited: Duration,
}

impl EnsureIdleReport {
    /// The verdict the caller proceeds with (last re-check, else the first).
    pub fn final_verdict(&self) -> &Verdict {
        &self.last.as_ref().unwrap_or(&self.first).verdict
    }
}

/// The nightly jobs' "ensure idle" step with the numeric check: check; when busy, call
/// `stop_ours` (it should stop only containers sglang-ci manages, e.g.
/// `docker_ctl::Engine::stop_managed_running`), then re-check every `poll` until the GPUs are
/// idle or `wait` (`GPU_IDLE_WAIT_TIME`, 15 s in the original) has passed. Never fatal: a
/// caller proceeds whatever the final verdict and logs it.
pub fn ensure_idle<E: fmt::Display>(
    probe: &Probe,
    wait: Duration,
    poll: Duration,
    stop_ours: impl FnOnce(&IdleReport) -> Result<Vec<String>, E>,
) -> EnsureIdleReport {
    let first = probe.check();
    if !first.verdict.is_busy() {
        return EnsureIdleReport {
            first,
            stopped: None,
            last: None,
            waited: Duration::ZERO,
        };
    }
    let stopped = Some(stop_ours(&first).map_err(|e| e.to_string()));
    let start = Instant::now();
    let poll = poll.max(Duration::from_millis(10));
    let last = loop {
        let now = probe.check();
        if !now.verdict.is_busy() || start.elapsed() >= wait {
            break now;
        }
        let left = wait.saturating_sub(start.elapsed());
        std::thread::sleep(poll.min(left));
    };
    EnsureIdleReport {
        first,
        stopped,
        last: Some(last),
        waited: start.elapsed(),
    }
}
