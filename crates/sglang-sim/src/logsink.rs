//! The console log: lines in the shape of a real SGLang server log, written by a dedicated
//! thread so that request handling never blocks on a slow pipe. The thread writes lines in
//! order and flushes whenever it has nothing more queued.

use std::io::Write;
use std::sync::mpsc;
use std::time::Duration;

enum Msg {
    Line(String),
    Flush(mpsc::SyncSender<()>),
}

/// A cheap handle to the log writer thread.
#[derive(Clone)]
pub(crate) struct LogSink {
    tx: mpsc::Sender<Msg>,
}

/// `YYYY-MM-DD HH:MM:SS` in local time, as SGLang prefixes its log lines.
pub(crate) fn now_stamp() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

impl LogSink {
    /// Starts the writer thread over `out`.
    pub(crate) fn spawn(mut out: Box<dyn Write + Send>) -> LogSink {
        let (tx, rx) = mpsc::channel::<Msg>();
        let spawned = std::thread::Builder::new()
            .name("sim-log".into())
            .spawn(move || {
                while let Ok(msg) = rx.recv() {
                    let mut next = Some(msg);
                    while let Some(m) = next.take() {
                        match m {
                            Msg::Line(l) => {
                                let _ = out.write_all(l.as_bytes());
                                let _ = out.write_all(b"\n");
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
            });
        if spawned.is_err() {
            // No thread: lines are dropped (the receiver is gone), serving still works.
        }
        LogSink { tx }
    }

    /// A raw line, written as is.
    pub(crate) fn raw(&self, line: impl Into<String>) {
        let _ = self.tx.send(Msg::Line(line.into()));
    }

    /// `[<time>] <msg>`: the tokenizer-manager / HTTP-server lines.
    pub(crate) fn info(&self, msg: &str) {
        self.raw(format!("[{}] {msg}", now_stamp()));
    }

    /// `[<time> TP0] <msg>`: the scheduler lines.
    pub(crate) fn tp0(&self, msg: &str) {
        self.raw(format!("[{} TP0] {msg}", now_stamp()));
    }

    /// Waits (at most `timeout`) until every line sent so far is written and flushed.
    pub(crate) fn flush(&self, timeout: Duration) {
        let (ack_tx, ack_rx) = mpsc::sync_channel(1);
        if self.tx.send(Msg::Flush(ack_tx)).is_ok() {
            let _ = ack_rx.recv_timeout(timeout);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};

    #[derive(Clone, Default)]
    struct Buf(Arc<Mutex<Vec<u8>>>);
    impl Write for Buf {
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

    #[test]
    fn lines_arrive_in_order_with_real_prefixes() {
        let buf = Buf::default();
        let log = LogSink::spawn(Box::new(buf.clone()));
        log.info("The server is fired up and ready to roll!");
        log.tp0("Prefill batch, #new-seq: 1");
        log.flush(Duration::from_secs(5));
        let text = String::from_utf8(buf.0.lock().unwrap().clone()).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2);
        let re_info = regex_like(lines[0], "] The server is fired up and ready to roll!");
        assert!(re_info, "{}", lines[0]);
        assert!(lines[1].contains(" TP0] Prefill batch"), "{}", lines[1]);
        assert_eq!(&lines[0][..1], "[");
        assert_eq!(lines[0].as_bytes()[20], b']');
    }

    fn regex_like(line: &str, suffix: &str) -> bool {
        line.starts_with('[') && line.ends_with(suffix)
    }
}
