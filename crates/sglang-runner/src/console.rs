//! Where the runner's console lines go (the binaries pass stdout; tests pass a buffer).
//! Every line is masked with [`report::redact::redact`] before it is written, relayed child
//! output included (held until its line ends, so a secret split across reads is found).
//! Long steps also report their [`Progress`] to an optional sink (a binary draws a progress
//! bar from it when a terminal is attached; nothing is written otherwise).

use std::io::Write;
use std::sync::{Arc, Mutex};

/// How far a long step is (the GSM8K gate's runs).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Progress {
    /// The step (`GSM8K`).
    pub what: String,
    /// Units done.
    pub done: u64,
    /// Units in the step.
    pub total: u64,
}

/// Where [`Progress`] goes.
pub type ProgressSink = Box<dyn FnMut(&Progress) + Send>;

/// A line-oriented console. Write errors (a closed stdout) are ignored: the run goes on and
/// its files are what counts.
pub struct Console {
    out: Box<dyn Write + Send>,
    masker: report::redact::LineMasker,
    progress: Option<ProgressSink>,
}

impl Console {
    /// A console writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self {
            out,
            masker: report::redact::LineMasker::new(),
            progress: None,
        }
    }

    /// This console, reporting [`Progress`] to `sink`.
    pub fn with_progress(mut self, sink: ProgressSink) -> Self {
        self.progress = Some(sink);
        self
    }

    /// Reports that `done` of `total` units of `what` are done (nothing without a sink).
    pub fn progress(&mut self, what: &str, done: u64, total: u64) {
        if let Some(sink) = &mut self.progress {
            sink(&Progress {
                what: what.to_owned(),
                done,
                total,
            });
        }
    }

    /// A console that keeps everything in memory; the returned buffer can be read after the
    /// run (tests).
    pub fn memory() -> (Self, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (Self::new(Box::new(Shared(buf.clone()))), buf)
    }

    /// A console that drops everything.
    pub fn null() -> Self {
        Self::new(Box::new(std::io::sink()))
    }

    /// Writes one line (masked) and flushes.
    pub fn line(&mut self, text: impl AsRef<str>) {
        self.end_raw();
        let text = report::redact::redact(text.as_ref());
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// Writes a command's output as it streams, masked line by line (a line is written when
    /// it ends; an unfinished last line when the next [`Console::line`] comes or the console
    /// is dropped).
    pub fn raw(&mut self, bytes: &[u8]) {
        let out = &mut self.out;
        self.masker.push(bytes, &mut |b| {
            let _ = out.write_all(b);
        });
        let _ = self.out.flush();
    }

    fn end_raw(&mut self) {
        let out = &mut self.out;
        self.masker.finish(&mut |b| {
            let _ = out.write_all(b);
        });
    }
}

impl Drop for Console {
    fn drop(&mut self) {
        self.end_raw();
        let _ = self.out.flush();
    }
}

struct Shared(Arc<Mutex<Vec<u8>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if let Ok(mut b) = self.0.lock() {
            b.extend_from_slice(buf);
        }
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn relayed_output_is_masked_by_value_even_when_split() {
        report::redact::register_secret("console-secret-token-77");
        let (mut c, buf) = Console::memory();
        c.raw(b"child says console-secr");
        c.raw(b"et-token-77\npartial console-secret-token-77");
        c.line("own line");
        drop(c);
        let text = String::from_utf8(buf.lock().unwrap().clone()).unwrap();
        assert_eq!(text, "child says ***\npartial ***own line\n");
    }

    #[test]
    fn progress_goes_to_the_sink_and_never_into_the_lines() {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let (c, buf) = Console::memory();
        let s2 = seen.clone();
        let mut c = c.with_progress(Box::new(move |p: &Progress| {
            s2.lock().unwrap().push((p.what.clone(), p.done, p.total));
        }));
        c.progress("GSM8K", 1, 5);
        c.line("Run 1 completed");
        drop(c);
        assert_eq!(*seen.lock().unwrap(), [("GSM8K".to_owned(), 1, 5)]);
        assert_eq!(buf.lock().unwrap().as_slice(), b"Run 1 completed\n");
        let (mut plain, buf) = Console::memory();
        plain.progress("GSM8K", 1, 5);
        drop(plain);
        assert!(buf.lock().unwrap().is_empty());
    }
}
