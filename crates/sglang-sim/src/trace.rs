//! `--sim-trace FILE`: one JSON line per finished request, flushed as requests finish
//! (format in notes/sim-contract.md and docs/sglang-sim.md).

use std::fs::File;
use std::io::BufWriter;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;

use crate::SimError;
use crate::writer::LineWriter;

/// One finished request.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct TraceRecord {
    /// Request id (`meta_info.id` / OpenAI `id`).
    pub rid: String,
    /// `/generate`, `/v1/completions` or `/v1/chat/completions`.
    pub endpoint: &'static str,
    /// Prompt tokens as counted by the server.
    pub input_tokens: u32,
    /// Output tokens written to the client.
    pub output_tokens: u32,
    /// When the request body was fully read (UNIX seconds).
    pub received_s: f64,
    /// When the bytes carrying each output token were handed to the socket.
    pub token_times_s: Vec<f64>,
    /// When the last byte of the response was handed to the socket.
    pub finished_s: f64,
    /// `ok`, `error` (injected HTTP 500) or `cut` (stream not completed).
    pub status: &'static str,
}

/// Seconds since the UNIX epoch, as f64.
pub(crate) fn unix_now() -> f64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// Handle to the trace writer thread.
#[derive(Clone)]
pub(crate) struct TraceSink {
    out: LineWriter,
}

impl TraceSink {
    /// Creates (truncates) `path` and starts the writer thread.
    pub(crate) fn create(path: &Path) -> Result<TraceSink, SimError> {
        let write_err = |source| SimError::Write {
            path: path.to_path_buf(),
            source,
        };
        let file = File::create(path).map_err(write_err)?;
        let out =
            LineWriter::spawn("sim-trace", Box::new(BufWriter::new(file))).map_err(write_err)?;
        Ok(TraceSink { out })
    }

    /// Queues a record (one JSON line).
    pub(crate) fn record(&self, r: TraceRecord) {
        if let Ok(line) = serde_json::to_string(&r) {
            self.out.line(line);
        }
    }

    /// Waits (at most `timeout`) until every queued record is on disk.
    pub(crate) fn flush(&self, timeout: Duration) {
        self.out.flush(timeout);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_are_json_lines_with_the_contract_fields() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("t.jsonl");
        let t = TraceSink::create(&p).unwrap();
        t.record(TraceRecord {
            rid: "a".into(),
            endpoint: "/generate",
            input_tokens: 5,
            output_tokens: 2,
            received_s: 1_700_000_000.123_456,
            token_times_s: vec![1_700_000_000.2, 1_700_000_000.3],
            finished_s: 1_700_000_000.3,
            status: "ok",
        });
        t.flush(Duration::from_secs(5));
        let text = std::fs::read_to_string(&p).unwrap();
        let v: serde_json::Value = serde_json::from_str(text.trim()).unwrap();
        for k in [
            "rid",
            "endpoint",
            "input_tokens",
            "output_tokens",
            "received_s",
            "token_times_s",
            "finished_s",
            "status",
        ] {
            assert!(v.get(k).is_some(), "missing {k}");
        }
        assert_eq!(v["received_s"].as_f64(), Some(1_700_000_000.123_456));
    }
}
