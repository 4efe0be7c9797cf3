//! The load sweep both online benchmarks run, once: for each load (a Grok request rate, a
//! DeepSeek concurrency) every run in order, the pause after each run, the best run of the
//! load into the CSV, the load's timing line and the pause before the next load; a step that
//! ends the run early ([`Halt`]) stops the sweep and becomes its outcome. What differs
//! between the models (which loads are skipped, the wording, one client run, the pauses
//! between runs, how a load's best run is recorded) is a [`SweepHooks`] method, as
//! hyperfine runs every benchmark through one scheduler.

use std::time::Instant;

use super::config::Common;
use super::{CsvState, end_load, halted, loads_outcome};
use crate::outcome::Outcome;
use crate::server::Server;
use crate::session::{Halt, Session};
use crate::timing::TimingLog;

/// What one client run of a sweep did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RunDone {
    /// A completed log existed already (resume): nothing ran.
    Skipped,
    /// The client ran; `ok` is false when it failed (the run is recorded as failed).
    Ran {
        /// The client exited successfully.
        ok: bool,
    },
}

/// The per-model parts of a load sweep.
pub(super) trait SweepHooks {
    /// The shared settings (the pause between loads).
    fn common(&self) -> &Common;

    /// The configured loads, in order.
    fn loads(&self) -> &[String];

    /// Runs per load.
    fn runs(&self) -> u32;

    /// `Some((console line, timing line))` when `load` is not run at all.
    fn skip(&self, load: &str) -> Option<(&'static str, &'static str)>;

    /// `rate 4`, `concurrency 64`: how lines name a load.
    fn load_label(&self, load: &str) -> String;

    /// `request rate`, `concurrency level`: how the pause line names the next load.
    fn next_load_word(&self) -> &'static str;

    /// The prefix of the console line of a step that ended the sweep (`[online] ` or none).
    fn halt_prefix(&self) -> &'static str;

    /// Announces `load` and returns the time stamp of its client logs (`sweep_stamp`, the
    /// stamp of the whole sweep, or a fresh one per load).
    fn begin_load(&self, s: &mut Session<'_>, load: &str, sweep_stamp: &str) -> String;

    /// One client run of `load`.
    fn one_run(
        &self,
        s: &mut Session<'_>,
        timing: &mut TimingLog,
        server: &mut Server,
        load: &str,
        run: u32,
        stamp: &str,
    ) -> Result<RunDone, Halt>;

    /// The pause after run `run` of `load` that did `done`.
    fn after_run(
        &self,
        s: &mut Session<'_>,
        load: &str,
        run: u32,
        done: RunDone,
    ) -> Result<(), Halt>;

    /// Finds the best run of `load` and records it in the CSV.
    fn record_load(&self, s: &mut Session<'_>, csv: &mut CsvState, load: &str);
}

/// Runs every load of `h` against `server`: the sweep's outcome is the halt that ended it
/// early, else completed (with errors when runs failed).
pub(super) fn run_sweep(
    h: &impl SweepHooks,
    s: &mut Session<'_>,
    timing: &mut TimingLog,
    csv: &mut CsvState,
    server: &mut Server,
    sweep_stamp: &str,
) -> Outcome {
    let last_scheduled = h.loads().iter().rfind(|l| h.skip(l).is_none()).cloned();
    let runs = h.runs();
    // Progress (a bar on a terminal): serving runs done of those scheduled.
    let total = h.loads().iter().filter(|l| h.skip(l).is_none()).count() as u64 * u64::from(runs);
    let mut finished = 0u64;
    s.console.progress(SERVING, 0, total);
    let mut failed_runs = 0u32;
    let mut halt: Option<Outcome> = None;
    'loads: for load in h.loads() {
        if let Some((say, line)) = h.skip(load) {
            s.say(say);
            timing.line(line);
            continue;
        }
        let stamp = h.begin_load(s, load, sweep_stamp);
        let label = h.load_label(load);
        let load_start = Instant::now();
        for run in 1..=runs {
            let step = format!("{label}, run {run}");
            let done = match h.one_run(s, timing, server, load, run, &stamp) {
                Ok(done) => done,
                Err(e) => {
                    let (line, outcome) = halted(timing, &e, &step);
                    s.say(format!("{}{line}", h.halt_prefix()));
                    halt = Some(outcome);
                    break 'loads;
                }
            };
            if done == (RunDone::Ran { ok: false }) {
                failed_runs += 1;
            }
            finished += 1;
            s.console.progress(SERVING, finished, total);
            if let Err(e) = h.after_run(s, load, run, done) {
                halt = Some(halted(timing, &e, &format!("the pause after {step}")).1);
                break 'loads;
            }
        }
        h.record_load(s, csv, load);
        let next = (last_scheduled.as_ref() != Some(load)).then_some(h.next_load_word());
        halt = end_load(s, timing, h.common(), &label, load_start, next);
        if halt.is_some() {
            break;
        }
    }
    // A halted sweep ends its bar too.
    s.console.progress(SERVING, total, total);
    loads_outcome(halt, failed_runs)
}

/// What the sweep's progress reports count.
const SERVING: &str = "serving";
