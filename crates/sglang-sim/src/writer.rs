//! The background writer thread behind the server log ([`crate::logsink`]) and the request
//! trace ([`crate::trace`]): callers hand it whole lines and never block on a slow pipe or
//! disk; it writes them in order and flushes whenever nothing more is queued.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

enum Msg {
    Line(Vec<u8>),
    Flush(mpsc::SyncSender<()>),
}

/// A cheap handle to a writer thread.
#[derive(Clone)]
pub(crate) struct LineWriter {
    tx: mpsc::Sender<Msg>,
}

impl LineWriter {
    /// Starts a thread named `name` that writes to `out`.
    pub(crate) fn spawn(name: &str, mut out: Box<dyn Write + Send>) -> std::io::Result<Self> {
        let (tx, rx) = mpsc::channel::<Msg>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                while let Ok(msg) = rx.recv() {
                    let mut next = Some(msg);
                    while let Some(m) = next.take() {
                        match m {
                            Msg::Line(l) => {
                                let _ = out.write_all(&l);
                            }
                            Msg::Flush(ack) => {
                                let _ = out.flush();
                                let _ = ack.send(());
                            }
                        }
                        next = rx.try_recv().ok();
                    }
                    let _ = out.flush();
                }
                let _ = out.flush();
            })?;
        Ok(Self { tx })
    }

    /// A writer without a thread: whatever it is given is dropped.
    pub(crate) fn closed() -> Self {
        let (tx, _) = mpsc::channel::<Msg>();
        Self { tx }
    }

    /// Queues `line` followed by a newline.
    pub(crate) fn line(&self, line: impl Into<Vec<u8>>) {
        let mut bytes = line.into();
        bytes.push(b'\n');
        let _ = self.tx.send(Msg::Line(bytes));
    }

    /// Waits (at most `timeout`) until everything queued so far is written and flushed.
    pub(crate) fn flush(&self, timeout: Duration) {
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv_timeout(timeout);
        }
    }
}

/// An in-memory writer whose clones share one buffer (the tests read what a thread wrote).
#[cfg(test)]
#[derive(Clone, Default)]
pub(crate) struct SharedBuf(pub(crate) std::sync::Arc<std::sync::Mutex<Vec<u8>>>);

#[cfg(test)]
impl SharedBuf {
    /// Everything written so far, as text.
    pub(crate) fn text(&self) -> String {
        String::from_utf8(self.0.lock().map(|b| b.clone()).unwrap_or_default()).unwrap_or_default()
    }
}

#[cfg(test)]
impl Write for SharedBuf {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .map_err(|_| std::io::Error::other("poisoned"))?
            .extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_written_in_order_and_a_flush_waits_for_them() {
        let buf = SharedBuf::default();
        let w = LineWriter::spawn("test-writer", Box::new(buf.clone())).unwrap();
        for i in 0..100 {
            w.line(format!("line {i}"));
        }
        w.flush(Duration::from_secs(5));
        let text = buf.text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 100);
        assert_eq!(lines[0], "line 0");
        assert_eq!(lines[99], "line 99");
        // A closed writer takes lines and flushes without blocking.
        let c = LineWriter::closed();
        c.line("dropped");
        c.flush(Duration::from_secs(5));
    }
}
