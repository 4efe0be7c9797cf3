//! Where the runner's console lines go (the binaries pass stdout; tests pass a buffer).
//! Every line is masked with [`report::redact::redact`] before it is written.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// A line-oriented console. Write errors (a closed stdout) are ignored: the run goes on and
/// its files are what counts.
pub struct Console {
    out: Box<dyn Write + Send>,
}

impl Console {
    /// A console writing to `out`.
    pub fn new(out: Box<dyn Write + Send>) -> Self {
        Self { out }
    }

    /// A console that keeps everything in memory; the returned buffer can be read after the
    /// run (tests).
    pub fn memory() -> (Self, Arc<Mutex<Vec<u8>>>) {
        let buf = Arc::new(Mutex::new(Vec::new()));
        (
            Self {
                out: Box::new(Shared(buf.clone())),
            },
            buf,
        )
    }

    /// A console that drops everything.
    pub fn null() -> Self {
        Self {
            out: Box::new(std::io::sink()),
        }
    }

    /// Writes one line (masked) and flushes.
    pub fn line(&mut self, text: impl AsRef<str>) {
        let text = report::redact::redact(text.as_ref());
        let _ = writeln!(self.out, "{text}");
        let _ = self.out.flush();
    }

    /// Writes raw bytes (a command's output echoed as it streams), unmasked.
    pub fn raw(&mut self, bytes: &[u8]) {
        let _ = self.out.write_all(bytes);
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
