//! Where a run's wall time goes: inside engine commands (server start-up until ready, each
//! client command, server shutdown), inside the configured pauses, and the rest — the
//! runner's own overhead (scans, parsing, CSV and summary writes, spawning). The committed
//! benchmark (docs/benchmarks.md, "online runner overhead") reports the overhead share.

use std::time::{Duration, Instant};

use serde::Serialize;

/// Accumulates engine and pause time against the wall clock of one run.
#[derive(Debug, Clone)]
pub struct Clock {
    start: Instant,
    engine: Duration,
    pauses: Duration,
    commands: u32,
}

impl Default for Clock {
    fn default() -> Self {
        Self::start()
    }
}

impl Clock {
    /// Starts counting now.
    pub fn start() -> Self {
        Self {
            start: Instant::now(),
            engine: Duration::ZERO,
            pauses: Duration::ZERO,
            commands: 0,
        }
    }

    /// Adds time spent waiting on an engine command.
    pub fn add_engine(&mut self, d: Duration) {
        self.engine += d;
        self.commands += 1;
    }

    /// Adds time spent in a configured pause.
    pub fn add_pause(&mut self, d: Duration) {
        self.pauses += d;
    }

    /// Wall time so far.
    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// The account so far.
    pub fn accounting(&self) -> Accounting {
        let wall = self.start.elapsed();
        let overhead = wall.saturating_sub(self.engine + self.pauses);
        Accounting {
            wall_s: wall.as_secs_f64(),
            engine_s: self.engine.as_secs_f64(),
            pauses_s: self.pauses.as_secs_f64(),
            overhead_s: overhead.as_secs_f64(),
            overhead_share: if wall.is_zero() {
                0.0
            } else {
                overhead.as_secs_f64() / wall.as_secs_f64()
            },
            engine_commands: self.commands,
        }
    }
}

/// Where the wall time of a run went.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Accounting {
    /// Whole run, seconds.
    pub wall_s: f64,
    /// Inside engine commands (server start-up wait, client commands, shutdown), seconds.
    pub engine_s: f64,
    /// Inside configured pauses, seconds.
    pub pauses_s: f64,
    /// The rest: the runner's own work, seconds.
    pub overhead_s: f64,
    /// `overhead_s / wall_s`.
    pub overhead_share: f64,
    /// Number of engine commands and waits counted.
    pub engine_commands: u32,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overhead_is_what_is_left() {
        let mut c = Clock::start();
        c.add_engine(Duration::from_millis(1));
        c.add_pause(Duration::from_millis(1));
        std::thread::sleep(Duration::from_millis(5));
        let a = c.accounting();
        assert!(a.wall_s >= 0.005);
        assert!((a.engine_s - 0.001).abs() < 1e-9);
        assert!(a.overhead_s > 0.0 && a.overhead_s < a.wall_s);
        assert!(a.overhead_share > 0.0 && a.overhead_share < 1.0);
        assert_eq!(a.engine_commands, 1);
    }
}
