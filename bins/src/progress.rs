//! Progress bars of long steps (GSM8K runs, serving runs), drawn on stderr only when stderr is
//! a terminal: a cron log or a pipe gets exactly the lines it got before, no bar and no escape
//! codes. The libraries report progress through a callback (`bench_client`'s
//! `run_with_progress`, `sglang_runner::console::Console::with_progress`: the GSM8K gate,
//! the serving sweep's runs, the offline grid's points); the bar lives here.

use std::io::{IsTerminal, Write};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A progress bar on stderr, shown while a step runs (hidden before its first report and
/// cleared when it reports its last unit).
#[derive(Clone)]
pub struct Bar {
    bar: ProgressBar,
    shown: Arc<AtomicBool>,
}

impl Bar {
    /// A bar for steps to report to when stderr is a terminal, else `None` (nothing is ever
    /// drawn).
    pub fn on_terminal() -> Option<Self> {
        if !std::io::stderr().is_terminal() {
            return None;
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        let style = ProgressStyle::with_template(
            "{msg:>8} [{elapsed_precise}] {wide_bar} {pos}/{len} (eta {eta})",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style);
        Some(Self {
            bar,
            shown: Arc::new(AtomicBool::new(false)),
        })
    }

    /// `done` of `total` units of `what` are done: the bar shows (again) while `done` is
    /// below `total` and is cleared when the step is complete.
    pub fn update(&self, what: &str, done: u64, total: u64) {
        if done >= total {
            if self.shown.swap(false, Ordering::SeqCst) {
                self.bar.finish_and_clear();
            }
            return;
        }
        if !self.shown.swap(true, Ordering::SeqCst) {
            self.bar.reset();
            self.bar.set_draw_target(ProgressDrawTarget::stderr());
            self.bar.enable_steady_tick(Duration::from_millis(500));
        }
        self.bar.set_message(what.to_owned());
        self.bar.set_length(total);
        self.bar.set_position(done);
    }

    /// Removes the bar from the terminal.
    pub fn finish(&self) {
        if self.shown.swap(false, Ordering::SeqCst) {
            self.bar.finish_and_clear();
        }
    }

    /// Stdout whose whole lines are written with the bar hidden, so lines and bar do not mix
    /// on the terminal (a line without its newline yet waits for it).
    pub fn stdout(&self) -> Box<dyn Write + Send> {
        self.lines_to(false)
    }

    /// Like [`Bar::stdout`] for stderr (console lines moved off stdout by `--report-json -`).
    pub fn stderr(&self) -> Box<dyn Write + Send> {
        self.lines_to(true)
    }

    fn lines_to(&self, stderr: bool) -> Box<dyn Write + Send> {
        Box::new(LinesAroundBar {
            bar: self.bar.clone(),
            pending: Vec::new(),
            stderr,
        })
    }
}

/// See [`Bar::stdout`].
struct LinesAroundBar {
    bar: ProgressBar,
    pending: Vec<u8>,
    /// Lines go to stderr rather than stdout.
    stderr: bool,
}

impl LinesAroundBar {
    fn write_through(&mut self, upto: usize) -> std::io::Result<()> {
        let lines: Vec<u8> = self.pending.drain(..upto).collect();
        let stderr = self.stderr;
        self.bar.suspend(|| {
            let mut out: Box<dyn Write> = if stderr {
                Box::new(std::io::stderr().lock())
            } else {
                Box::new(std::io::stdout().lock())
            };
            out.write_all(&lines)?;
            out.flush()
        })
    }
}

impl Write for LinesAroundBar {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.pending.extend_from_slice(buf);
        if let Some(last) = self.pending.iter().rposition(|&b| b == b'\n') {
            self.write_through(last + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Drop for LinesAroundBar {
    fn drop(&mut self) {
        let n = self.pending.len();
        let _ = self.write_through(n);
    }
}
