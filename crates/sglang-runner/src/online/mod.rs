//! The online benchmarks: Grok by request rate ([`grok`]) and DeepSeek by concurrency
//! ([`deepseek`]), with what they share here: the resume scan of client logs (quirk K-5),
//! the best run of a load (K-6, through `report::best_run`), the CSV rewritten atomically
//! after each load, the server's start and stop, and the handling of a step that ends the run
//! early ([`crate::session::Halt`]).

pub mod deepseek;
pub mod grok;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use metrics_parse::client_log::{COMPLETED_MARKER, ClientLog, ClientLogName};
use metrics_parse::legacy_csv::OnlineKind;
use report::best_run::{self, Candidate};
use report::online_csv::{Cell, LoadCells, OnlineTable};

use crate::error::RunnerError;
use crate::paths::{Layout, OnlinePaths};
use crate::server::Server;
use crate::session::{Halt, Session};
use crate::timing::TimingLog;

/// What the resume scan found for one run of one load.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunLogState {
    /// A log with `Run completed at:` exists.
    Completed(PathBuf),
    /// Only logs without the marker (killed or failed runs).
    Incomplete(Vec<PathBuf>),
    /// No log.
    Missing,
}

/// The client logs of `load`/`run` in the folder, in name order.
pub fn run_logs(paths: &OnlinePaths, load: &str, run: u32) -> Result<Vec<PathBuf>, RunnerError> {
    let prefix = paths.client_log_prefix(load, run);
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(&paths.folder) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(RunnerError::io("read run folder", &paths.folder, e)),
    };
    for e in entries.flatten() {
        let name = e.file_name();
        let Some(n) = name.to_str() else { continue };
        if n.starts_with(&prefix) && n.ends_with(".log") {
            out.push(e.path());
        }
    }
    out.sort();
    Ok(out)
}

fn has_marker(path: &Path) -> bool {
    std::fs::read(path).is_ok_and(|d| {
        d.windows(COMPLETED_MARKER.len())
            .any(|w| w == COMPLETED_MARKER.as_bytes())
    })
}

/// The resume state of `load`/`run`.
pub fn run_state(paths: &OnlinePaths, load: &str, run: u32) -> Result<RunLogState, RunnerError> {
    let logs = run_logs(paths, load, run)?;
    if let Some(done) = logs.iter().find(|p| has_marker(p)) {
        return Ok(RunLogState::Completed(done.clone()));
    }
    Ok(if logs.is_empty() {
        RunLogState::Missing
    } else {
        RunLogState::Incomplete(logs)
    })
}

/// The best run of a load and what the summaries show of it.
#[derive(Debug, Clone, PartialEq)]
pub struct LoadResult {
    /// The three CSV cells (values, or the "no result" cell the caller chose).
    pub cells: LoadCells,
    /// `Request throughput (req/s)` of the best run (Grok timing summary, fix F-3).
    pub request_throughput: Option<String>,
    /// `Output token throughput (tok/s)` of the best run (DeepSeek, fix F-2).
    pub output_throughput: Option<String>,
    /// The best run's file name.
    pub best: Option<String>,
}

impl LoadResult {
    /// True when a best run with a median E2E exists.
    pub fn has_result(&self) -> bool {
        self.best.is_some()
    }
}

/// Reads every client log of `load` (any run, any timestamp) and applies the best-run rule
/// (minimum median E2E; TTFT and ITL from the same run). `no_result` is the cell written
/// when no log has a result (`NA` or empty, per script and path).
pub fn best_of_load(
    paths: &OnlinePaths,
    load: &str,
    no_result: &Cell,
) -> Result<LoadResult, RunnerError> {
    let mut logs: Vec<(String, ClientLog)> = Vec::new();
    let entries = match std::fs::read_dir(&paths.folder) {
        Ok(e) => e.flatten().collect::<Vec<_>>(),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(RunnerError::io("read run folder", &paths.folder, e)),
    };
    for e in entries {
        let name = e.file_name().to_string_lossy().into_owned();
        let matches = match (ClientLogName::parse(&name), paths.layout) {
            (
                Some(ClientLogName::RequestRate {
                    model, mode, rate, ..
                }),
                Layout::Grok,
            ) => model == paths.model && mode == "aiter" && rate == load,
            (Some(ClientLogName::Concurrency { concurrency, .. }), Layout::DeepSeek) => {
                concurrency == load
            }
            _ => false,
        };
        if matches {
            let data = std::fs::read(e.path())
                .map_err(|err| RunnerError::io("read client log", e.path(), err))?;
            logs.push((name, ClientLog::parse(&data)));
        }
    }
    logs.sort_by(|a, b| a.0.cmp(&b.0));
    let candidates: Vec<Candidate<'_>> = logs
        .iter()
        .map(|(n, l)| Candidate {
            file_name: n,
            medians: &l.medians,
        })
        .collect();
    let Some(i) = best_run::best(&candidates) else {
        return Ok(LoadResult {
            cells: LoadCells {
                load: load.to_owned(),
                e2e: no_result.clone(),
                ttft: no_result.clone(),
                itl: no_result.clone(),
            },
            request_throughput: None,
            output_throughput: None,
            best: None,
        });
    };
    let (name, log) = &logs[i];
    let cell = |n: &Option<metrics_parse::value::Num>| {
        n.as_ref().map_or(Cell::Na, |n| Cell::Value(n.text.clone()))
    };
    let block = log.outcome.block();
    Ok(LoadResult {
        cells: LoadCells {
            load: load.to_owned(),
            e2e: cell(&log.medians.e2e),
            ttft: cell(&log.medians.ttft),
            itl: cell(&log.medians.itl),
        },
        request_throughput: block
            .and_then(|b| b.request_throughput.as_ref())
            .map(|n| n.text.clone()),
        output_throughput: block
            .and_then(|b| b.output_token_throughput.as_ref())
            .map(|n| n.text.clone()),
        best: Some(name.clone()),
    })
}

/// The CSV of a run: every configured load, filled where processed.
pub struct CsvState {
    kind: OnlineKind,
    model: String,
    tag: String,
    row_label: String,
    loads: Vec<String>,
    /// Processed loads.
    pub results: BTreeMap<String, LoadResult>,
    path: PathBuf,
    /// The file has been written at least once.
    pub written: bool,
}

impl CsvState {
    /// A CSV of `loads` at `path`, nothing processed yet.
    pub fn new(
        kind: OnlineKind,
        model: &str,
        tag: &str,
        row_label: &str,
        loads: &[String],
        path: &Path,
    ) -> Self {
        Self {
            kind,
            model: model.to_owned(),
            tag: tag.to_owned(),
            row_label: row_label.to_owned(),
            loads: loads.to_vec(),
            results: BTreeMap::new(),
            path: path.to_owned(),
            written: false,
        }
    }

    /// The table: processed loads' cells, empty cells elsewhere.
    pub fn table(&self) -> OnlineTable {
        OnlineTable {
            kind: self.kind,
            model: self.model.clone(),
            tag: self.tag.clone(),
            row_label: self.row_label.clone(),
            loads: self
                .loads
                .iter()
                .map(|l| {
                    self.results
                        .get(l)
                        .map_or_else(|| LoadCells::empty(l.clone()), |r| r.cells.clone())
                })
                .collect(),
        }
    }

    /// Rewrites the whole file atomically.
    pub fn write(&mut self) -> Result<(), RunnerError> {
        report::atomic::write_atomic(&self.path, self.table().render().as_bytes())?;
        self.written = true;
        Ok(())
    }

    /// The file path.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

/// The text of a [`Cell`] for summaries (`NA` when there is none).
pub fn cell_text(c: &Cell) -> &str {
    match c {
        Cell::Value(v) => v,
        Cell::Na | Cell::Empty => "NA",
    }
}

/// How a run that stopped early is described, and its outcome.
pub(crate) fn describe_halt(h: &Halt, step: &str) -> (String, crate::outcome::Outcome) {
    use crate::outcome::Outcome;
    match h {
        Halt::Interrupted(i) => (
            format!("Run interrupted: received {} during {step}", i.name()),
            Outcome::Interrupted { signal: i.signal },
        ),
        Halt::ServerDied(e) => {
            let reason = format!("the server process exited ({e}) during {step}");
            (
                format!("Benchmark aborted: {reason}"),
                Outcome::ServerLost { reason },
            )
        }
        Halt::ServerHung(t) => {
            let reason = format!(
                "{step} produced no result within {} seconds (the server stopped answering; --client-timeout)",
                t.as_secs()
            );
            (
                format!("Benchmark aborted: {reason}"),
                Outcome::ServerLost { reason },
            )
        }
        Halt::Error(e) => {
            let reason = format!("{e} (during {step})");
            (
                format!("Benchmark aborted: {reason}"),
                Outcome::ServerLost { reason },
            )
        }
    }
}

/// Stops the server, timing the real shutdown (fix F-7), and notes a port still in use.
/// Returns whole seconds.
pub(crate) fn stop_server(
    s: &mut Session<'_>,
    server: &mut Server,
    timing: &mut TimingLog,
    port: u16,
) -> u64 {
    let t = Instant::now();
    let r = server.shutdown(Duration::from_secs(10), Duration::from_secs(5));
    s.clock.add_engine(t.elapsed());
    match r {
        Ok((stopped, free)) => {
            if stopped.forced {
                s.say("[online] WARNING: the server ignored SIGTERM and was killed");
            }
            if !free {
                s.say(format!(
                    "[online] WARNING: port {port} is still in use after the server stopped (another process listens on it)"
                ));
                timing.line(format!("Server port {port} still in use after shutdown"));
            }
        }
        Err(e) => s.say(format!("[online] WARNING: stopping the server failed: {e}")),
    }
    t.elapsed().as_secs()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(dir: &Path, name: &str, text: &str) {
        std::fs::write(dir.join(name), text).unwrap();
    }

    const BLOCK: &str = "============ Serving Benchmark Result ============\nRequest throughput (req/s):              1.00\nOutput token throughput (tok/s):         536.21\nMedian E2E Latency (ms):                 {E}\nMedian TTFT (ms):                        {T}\nMedian ITL (ms):                         17.18\n==================================================\nRun completed at: x\n";

    #[test]
    fn scan_and_best_run_of_grok_logs() {
        let dir = tempfile::tempdir().unwrap();
        let p = OnlinePaths::grok(dir.path(), "T", "GROK1", "V");
        std::fs::create_dir_all(&p.folder).unwrap();
        let f = &p.folder;
        write(
            f,
            "sglang_client_log_GROK1_aiter_1_run1_20250101_000000.log",
            &BLOCK.replace("{E}", "100.00").replace("{T}", "5.00"),
        );
        write(
            f,
            "sglang_client_log_GROK1_aiter_1_run2_20250101_000000.log",
            &BLOCK.replace("{E}", "90.00").replace("{T}", "9.00"),
        );
        write(
            f,
            "sglang_client_log_GROK1_aiter_1_run3_20250101_000000.log",
            "Run started at: x\n",
        );
        write(
            f,
            "sglang_client_log_GROK1_aiter_16_run1_20250101_000000.log",
            &BLOCK.replace("{E}", "1.00").replace("{T}", "1.00"),
        );
        assert!(matches!(
            run_state(&p, "1", 1).unwrap(),
            RunLogState::Completed(_)
        ));
        assert!(
            matches!(run_state(&p, "1", 3).unwrap(), RunLogState::Incomplete(v) if v.len() == 1)
        );
        assert_eq!(run_state(&p, "2", 1).unwrap(), RunLogState::Missing);
        let r = best_of_load(&p, "1", &Cell::Na).unwrap();
        assert_eq!(r.cells.e2e, Cell::Value("90.00".into()));
        assert_eq!(
            r.cells.ttft,
            Cell::Value("9.00".into()),
            "TTFT of the best-E2E run"
        );
        assert_eq!(r.request_throughput.as_deref(), Some("1.00"));
        assert_eq!(r.output_throughput.as_deref(), Some("536.21"));
        let none = best_of_load(&p, "2", &Cell::Na).unwrap();
        assert_eq!(none.cells.itl, Cell::Na);
        assert!(!none.has_result());
    }

    #[test]
    fn csv_is_rewritten_with_processed_loads_only() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("x.csv");
        let loads: Vec<String> = ["1", "2"].map(String::from).to_vec();
        let mut c = CsvState::new(
            OnlineKind::RequestRate,
            "GROK1",
            "T",
            "MI300x-aiter, h",
            &loads,
            &path,
        );
        c.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("MI300x-aiter, h\t\t\n"), "{text}");
        c.results.insert(
            "1".into(),
            LoadResult {
                cells: LoadCells {
                    load: "1".into(),
                    e2e: Cell::Value("9.5".into()),
                    ttft: Cell::Na,
                    itl: Cell::Na,
                },
                request_throughput: None,
                output_throughput: None,
                best: None,
            },
        );
        c.write().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("MI300x-aiter, h\t9.5\t\n"), "{text}");
        assert!(text.contains("MI300x-aiter, h\tNA\t\n"), "{text}");
    }
}
