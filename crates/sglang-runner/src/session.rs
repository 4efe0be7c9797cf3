//! The state one run carries through its steps: the executor, the console, the stop flag and
//! the clock; and the two ways a step can end the run early ([`Halt`]).

use std::io::Write;
use std::time::{Duration, Instant};

use crate::clock::Clock;
use crate::command::CommandSpec;
use crate::console::Console;
use crate::error::RunnerError;
use crate::exec::{Executor, ExitInfo, RunEnd};
use crate::server::Server;
use crate::signals::{Interrupt, Interrupted};

/// Why a step ended the run early.
#[derive(Debug)]
pub enum Halt {
    /// SIGINT / SIGTERM.
    Interrupted(Interrupted),
    /// The server process exited while a step needed it.
    ServerDied(ExitInfo),
    /// A client command ran past its time limit: the server stopped answering.
    ServerHung(Duration),
    /// Something else failed (a log file could not be written, …).
    Error(RunnerError),
}

impl From<RunnerError> for Halt {
    fn from(e: RunnerError) -> Self {
        Self::Error(e)
    }
}

impl From<Interrupted> for Halt {
    fn from(i: Interrupted) -> Self {
        Self::Interrupted(i)
    }
}

/// How a client command ended, when the run goes on.
#[derive(Debug, Clone, Copy)]
pub struct ClientEnd {
    /// Its exit.
    pub exit: ExitInfo,
    /// Wall time.
    pub duration: Duration,
}

/// One run's executor, console, stop flag and clock.
pub struct Session<'a> {
    /// Where commands run.
    pub exec: &'a dyn Executor,
    /// Console lines.
    pub console: &'a mut Console,
    /// SIGINT/SIGTERM.
    pub interrupt: &'a Interrupt,
    /// Where the time goes.
    pub clock: Clock,
}

impl Session<'_> {
    /// Prints a console line.
    pub fn say(&mut self, text: impl AsRef<str>) {
        self.console.line(text);
    }

    /// A configured pause (counted as pause time); a signal ends it early.
    pub fn pause(&mut self, d: Duration) -> Result<(), Halt> {
        if d.is_zero() {
            return self.interrupt.check().map_err(Halt::Interrupted);
        }
        let t = Instant::now();
        let r = self.interrupt.sleep(d);
        self.clock.add_pause(t.elapsed());
        r.map_err(Halt::Interrupted)
    }

    /// Runs a client command against `server`, appending its combined output to `log` (and
    /// echoing it to the console when `echo`). Stops it when a signal arrives, when the
    /// server exits, or after `timeout` (the server is then considered hung).
    pub fn run_client(
        &mut self,
        cmd: &CommandSpec,
        server: &mut Server,
        log: &mut dyn Write,
        echo: bool,
        timeout: Duration,
    ) -> Result<ClientEnd, Halt> {
        self.interrupt.check()?;
        let start = Instant::now();
        let mut why: Option<Halt> = None;
        let interrupt = self.interrupt;
        let console = &mut *self.console;
        let mut write_err: Option<std::io::Error> = None;
        // The client log is a file we write: masked line by line (secrets by value).
        let mut masker = report::redact::LineMasker::new();
        let mut to_log = |b: &[u8]| {
            if let Err(e) = log.write_all(b)
                && write_err.is_none()
            {
                write_err = Some(e);
            }
        };
        let end = self.exec.run(
            cmd,
            &mut |bytes| {
                masker.push(bytes, &mut to_log);
                if echo {
                    console.raw(bytes);
                }
            },
            Some(timeout),
            &mut || {
                if let Err(i) = interrupt.check() {
                    why = Some(Halt::Interrupted(i));
                    return true;
                }
                if let Some(e) = server.exited() {
                    why = Some(Halt::ServerDied(e));
                    return true;
                }
                false
            },
        );
        masker.finish(&mut to_log);
        let duration = start.elapsed();
        self.clock.add_engine(duration);
        let _ = log.flush();
        let end = end.map_err(|e| Halt::Error(e.into()))?;
        if let Some(e) = write_err {
            return Err(Halt::Error(RunnerError::io(
                "write client log",
                "(client log)",
                e,
            )));
        }
        match end {
            RunEnd::Stopped => Err(why.unwrap_or(Halt::ServerHung(timeout))),
            RunEnd::TimedOut => Err(Halt::ServerHung(timeout)),
            RunEnd::Exited(exit) => {
                // A client that failed because the server just died: say so.
                if let Some(e) = server.exited() {
                    return Err(Halt::ServerDied(e));
                }
                Ok(ClientEnd { exit, duration })
            }
        }
    }
}
