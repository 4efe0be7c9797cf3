//! The console log: lines in the shape of a real SGLang server log, written by the
//! background [`LineWriter`] so that request handling never blocks on a slow pipe.

use std::io::Write;
use std::time::Duration;

use crate::writer::LineWriter;

/// A cheap handle to the log writer thread.
#[derive(Clone)]
pub(crate) struct LogSink {
    out: LineWriter,
}

/// `YYYY-MM-DD HH:MM:SS` in local time, as SGLang prefixes its log lines.
pub(crate) fn now_stamp() -> String {
    chrono::Local::now().format("%Y-%m-%d %H:%M:%S").to_string()
}

impl LogSink {
    /// Starts the writer thread over `out`.
    pub(crate) fn spawn(out: Box<dyn Write + Send>) -> LogSink {
        // No thread: lines are dropped, serving still works.
        let out = LineWriter::spawn("sim-log", out).unwrap_or_else(|_| LineWriter::closed());
        LogSink { out }
    }

    /// A raw line, written as is.
    pub(crate) fn raw(&self, line: impl Into<String>) {
        self.out.line(line.into());
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
        self.out.flush(timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::SharedBuf;

    #[test]
    fn lines_arrive_in_order_with_real_prefixes() {
        let buf = SharedBuf::default();
        let log = LogSink::spawn(Box::new(buf.clone()));
        log.info("The server is fired up and ready to roll!");
        log.tp0("Prefill batch, #new-seq: 1");
        log.flush(Duration::from_secs(5));
        let text = buf.text();
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
