//! SIGINT/SIGTERM: the first one asks the run to stop (the runner stops the server, keeps
//! completed logs and the CSV, writes the end of the timing summary and exits 128 + signal);
//! a second one ends the process at once with the same status.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use signal_hook::consts::{SIGINT, SIGTERM};

/// A stop request: which signal arrived.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Interrupted {
    /// The signal number (2 = SIGINT, 15 = SIGTERM).
    pub signal: i32,
}

impl Interrupted {
    /// `SIGINT` / `SIGTERM` / `signal N`.
    pub fn name(&self) -> String {
        match self.signal {
            SIGINT => "SIGINT".to_owned(),
            SIGTERM => "SIGTERM".to_owned(),
            n => format!("signal {n}"),
        }
    }

    /// The exit status a shell reports for it: 128 + signal (130, 143).
    pub fn exit_code(&self) -> u8 {
        u8::try_from(128 + self.signal).unwrap_or(255)
    }
}

/// The stop flag every wait of the runner polls.
#[derive(Debug, Clone, Default)]
pub struct Interrupt {
    signal: Arc<AtomicUsize>,
}

impl Interrupt {
    /// A flag no signal sets (library use, tests); [`Interrupt::trigger`] still works.
    pub fn new() -> Self {
        Self::default()
    }

    /// Installs SIGINT and SIGTERM handlers that set the flag; a second signal ends the
    /// process immediately with 128 + signal.
    pub fn install() -> std::io::Result<Self> {
        let me = Self::new();
        for sig in [SIGINT, SIGTERM] {
            let armed = Arc::new(AtomicBool::new(false));
            let code = 128 + sig;
            signal_hook::flag::register_conditional_shutdown(sig, code, armed.clone())?;
            signal_hook::flag::register(sig, armed)?;
            signal_hook::flag::register_usize(
                sig,
                me.signal.clone(),
                usize::try_from(sig).unwrap_or(0),
            )?;
        }
        Ok(me)
    }

    /// Sets the flag as if `signal` had arrived (tests, and callers with their own handlers).
    pub fn trigger(&self, signal: i32) {
        self.signal
            .store(usize::try_from(signal).unwrap_or(0), Ordering::SeqCst);
    }

    /// The pending stop request, if any.
    pub fn check(&self) -> Result<(), Interrupted> {
        match self.signal.load(Ordering::SeqCst) {
            0 => Ok(()),
            n => Err(Interrupted {
                signal: i32::try_from(n).unwrap_or(SIGTERM),
            }),
        }
    }

    /// Sleeps `d` (a configured pause), waking every 50 ms to check the flag.
    pub fn sleep(&self, d: Duration) -> Result<(), Interrupted> {
        let end = Instant::now() + d;
        loop {
            self.check()?;
            let now = Instant::now();
            if now >= end {
                return Ok(());
            }
            std::thread::sleep((end - now).min(Duration::from_millis(50)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trigger_interrupts_a_pause_promptly() {
        let i = Interrupt::new();
        assert!(i.check().is_ok());
        let j = i.clone();
        let t = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            j.trigger(SIGTERM);
        });
        let start = Instant::now();
        let e = i.sleep(Duration::from_secs(30)).unwrap_err();
        t.join().unwrap();
        assert!(start.elapsed() < Duration::from_secs(2));
        assert_eq!(e.exit_code(), 143);
        assert_eq!(e.name(), "SIGTERM");
        assert_eq!(Interrupted { signal: SIGINT }.exit_code(), 130);
    }
}
