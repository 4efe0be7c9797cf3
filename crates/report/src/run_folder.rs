//! One online run folder (`online/<MODEL>/<tag>_<MODEL>_<VARIANT>_online[<suffix>]/`): read its
//! client logs and timing summaries, rebuild the legacy CSV the original wrote from them, and
//! compare it with the CSV in the folder (spec benchmarks.md §4.9, §5.9.1, §7.2, §7.4, §7.5;
//! corpus README §2.1). Nothing here writes to the folder.
//!
//! What comes from where:
//!
//! | CSV part | source |
//! |---|---|
//! | title `<M>`, `<tag>` | the folder name (else the existing CSV's title) |
//! | Grok row label host | `--host`, else `Hostname:` of the newest timing summary that completed a load or regenerated the CSV (else of the newest one), else the existing CSV's label |
//! | DeepSeek row label | `<M>-<VARIANT>` from the folder name |
//! | loads and their order | the newest timing summary with a `Performance Summary`; else the defaults (`1 2 4 8 16`, without 16 on MI35x once the GSM8K block is v2/v3; `128 64 16 4 1`); `--loads` overrides |
//! | cells | best run per load ([`crate::best_run`]), filled only when a timing summary says the load completed or the CSV was regenerated (combined rule) |

use std::fmt;
use std::path::{Path, PathBuf};

use metrics_parse::bench_serving::ResultBlock;
use metrics_parse::client_log::{ClientLog, ClientLogName, ToolkitMedians, Wrapper};
use metrics_parse::legacy_csv::{LegacyCsvError, OnlineCsv, OnlineKind, SECTION_TITLES};
use metrics_parse::timing_summary::TimingSummary;
use serde::Serialize;
use thiserror::Error;

use crate::best_run::{self, Candidate, CellOutcome, CompletionEvidence};
use crate::online_csv::{Cell, LoadCells, OnlineTable, deepseek_row_label, grok_row_label};

/// Why a run folder cannot be rebuilt or checked; every message names the file or folder.
#[derive(Debug, Error)]
pub enum RunFolderError {
    /// A file or the folder itself could not be read.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The file or folder.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// The path is not a folder.
    #[error(
        "{0} is not a folder (pass the run folder, e.g. online/GROK1/<tag>_GROK1_MOE-I4F8_online)"
    )]
    NotAFolder(PathBuf),
    /// No client log of either layout.
    #[error(
        "no client logs in {0}: expected sglang_client_log_<MODEL>_aiter_<rate>_run<i>_*.log \
         or sglang_serving_benchmark_concurrency_<c>_run<i>_*.log (GSM8K-only and failed runs \
         have none, so there is no CSV to rebuild)"
    )]
    NoClientLogs(PathBuf),
    /// Both layouts in one folder.
    #[error(
        "{0} holds both request-rate and concurrency client logs; cannot tell which CSV to build"
    )]
    MixedLayouts(PathBuf),
    /// Model and tag unknown.
    #[error(
        "cannot tell model and tag of {0}: its name is not <tag>_<MODEL>_<VARIANT>_online[suffix] \
         and it holds no CSV with an `Online mode - <MODEL> (<tag>)` title"
    )]
    UnknownIdentity(PathBuf),
    /// Grok host name unknown.
    #[error(
        "cannot tell the host name for the row label of {0}: no timing summary has a \
         `Hostname:` line and there is no CSV; pass --host"
    )]
    NoHost(PathBuf),
    /// `--check` without a CSV.
    #[error(
        "cannot check: {0} does not exist (the run wrote no CSV); run without --check to print the rebuilt CSV"
    )]
    NoCsv(PathBuf),
    /// The CSV in the folder is malformed.
    #[error("cannot read CSV {path}: {source}")]
    BadCsv {
        /// The CSV.
        path: PathBuf,
        /// What is wrong.
        #[source]
        source: LegacyCsvError,
    },
}

/// `<tag>_<MODEL>_<VARIANT>_online[<suffix>][.backup_<ts>]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunFolderName {
    /// Docker tag (`v0.5.4.post1-rocm630-mi30x-20251029`).
    pub tag: String,
    /// `<MODEL_NAME>`.
    pub model: String,
    /// `<VARIANT>` (`MOE-I4F8`, `FP8`).
    pub variant: String,
    /// Text after `_online` (`""`, `_dp_attention`, `_mtp_test`, …).
    pub suffix: String,
    /// `.backup_<ts>` copies: the `<ts>`.
    pub backup: Option<String>,
}

impl RunFolderName {
    /// Parses a folder name; `None` for other folders (`test_dp8_…`).
    pub fn parse(name: &str) -> Option<Self> {
        let (name, backup) = match name.split_once(".backup_") {
            Some((n, b)) => (n, Some(b.to_owned())),
            None => (name, None),
        };
        let (tag, rest) = name.split_once('_')?;
        let at = rest.find("_online")?;
        let (mv, suffix) = (&rest[..at], &rest[at + "_online".len()..]);
        if !(suffix.is_empty() || suffix.starts_with('_')) {
            return None;
        }
        let (model, variant) = mv.rsplit_once('_')?;
        if tag.is_empty() || model.is_empty() || variant.is_empty() {
            return None;
        }
        Some(Self {
            tag: tag.to_owned(),
            model: model.to_owned(),
            variant: variant.to_owned(),
            suffix: suffix.to_owned(),
            backup,
        })
    }

    /// The CSV's file name (§7.2): Grok `<tag>_<M>_<V>_online.csv`, DeepSeek
    /// `<tag>_<M>_<V>_serving<suffix>.csv`.
    pub fn csv_file_name(&self, kind: OnlineKind) -> String {
        match kind {
            OnlineKind::RequestRate => {
                format!(
                    "{}_{}_{}_online{}.csv",
                    self.tag, self.model, self.variant, self.suffix
                )
            }
            OnlineKind::Concurrency => {
                format!(
                    "{}_{}_{}_serving{}.csv",
                    self.tag, self.model, self.variant, self.suffix
                )
            }
        }
    }
}

/// One client log of the folder.
#[derive(Debug, Clone)]
pub struct ClientLogFile {
    /// File name.
    pub file_name: String,
    /// Parsed name.
    pub name: ClientLogName,
    /// Parsed content.
    pub log: ClientLog,
}

/// One timing summary of the folder.
#[derive(Debug, Clone)]
pub struct SummaryFile {
    /// File name.
    pub file_name: String,
    /// Parsed content.
    pub summary: TimingSummary,
}

/// Options of a rebuild.
#[derive(Debug, Clone, Default)]
pub struct RebuildOptions {
    /// Host name for the Grok row label (otherwise from the timing summaries / CSV).
    pub host: Option<String>,
    /// Loads in column order (otherwise inferred).
    pub loads: Option<Vec<String>>,
    /// Fill every load that has a result, ignoring whether the timing summaries say it
    /// completed (the plain best-run rule).
    pub all_results: bool,
}

/// A loaded run folder.
#[derive(Debug, Clone)]
pub struct RunFolder {
    /// The folder.
    pub dir: PathBuf,
    /// Parsed folder name, when it follows the pattern.
    pub name: Option<RunFolderName>,
    /// Request rate (Grok) or concurrency (DeepSeek).
    pub kind: OnlineKind,
    /// Client logs in file-name order.
    pub client_logs: Vec<ClientLogFile>,
    /// Timing summaries in file-name (= chronological) order.
    pub summaries: Vec<SummaryFile>,
    /// CSV files in the folder (`*.csv` whose name contains `_online` or `_serving`).
    pub csv_files: Vec<PathBuf>,
    /// Files named like inputs that were not read (not regular files, or larger than
    /// [`crate::bounded::MAX_INPUT_BYTES`]): one warning line each.
    pub skipped: Vec<String>,
}

/// The rebuilt CSV and how each load was decided.
#[derive(Debug, Clone, Serialize)]
pub struct Rebuild {
    /// The table.
    pub table: OnlineTable,
    /// Per load, in column order: which case of the combined rule applied.
    pub outcomes: Vec<(String, CellOutcome)>,
    /// The CSV's file name (§7.2).
    pub csv_file_name: String,
    /// How layout values were inferred (for `--check` reports and logs).
    pub notes: Vec<String>,
}

/// The names of the files (not folders) in `dir`, sorted.
pub fn file_names(dir: &Path) -> Result<Vec<String>, RunFolderError> {
    let unreadable = |source| RunFolderError::Unreadable {
        path: dir.to_owned(),
        source,
    };
    let mut names = Vec::new();
    for e in std::fs::read_dir(dir).map_err(unreadable)? {
        let e = e.map_err(unreadable)?;
        if e.file_type().is_ok_and(|t| t.is_dir()) {
            continue;
        }
        if let Some(n) = e.file_name().to_str() {
            names.push(n.to_owned());
        }
    }
    names.sort();
    Ok(names)
}

/// The client logs of the run folder `dir` whose names `keep` accepts, parsed, in file-name
/// order: the reader of a live run (its best run per load) and of [`RunFolder::load`]. A
/// folder that does not exist yet has none; a log that is not a regular file or is above the
/// size cap is skipped, with the reason pushed to `skipped`.
pub fn read_client_logs(
    dir: &Path,
    keep: impl Fn(&ClientLogName) -> bool,
    skipped: &mut Vec<String>,
) -> Result<Vec<ClientLogFile>, RunFolderError> {
    let names = match file_names(dir) {
        Err(RunFolderError::Unreadable { source, .. })
            if source.kind() == std::io::ErrorKind::NotFound =>
        {
            return Ok(Vec::new());
        }
        r => r?,
    };
    let mut logs = Vec::new();
    for n in names {
        if let Some(name) = ClientLogName::parse(&n).filter(&keep) {
            let Some(data) = read(&dir.join(&n), skipped)? else {
                continue;
            };
            logs.push(ClientLogFile {
                log: ClientLog::parse(&data),
                file_name: n,
                name,
            });
        }
    }
    Ok(logs)
}

/// Reads an input file: `Ok(None)` (with the reason in `skipped`) for a FIFO, a device, a
/// socket or a file above the cap, which are skipped rather than read.
fn read(path: &Path, skipped: &mut Vec<String>) -> Result<Option<Vec<u8>>, RunFolderError> {
    match crate::bounded::read_regular(path) {
        Ok(d) => Ok(Some(d)),
        Err(e) if e.is_refused() => {
            skipped.push(e.to_string());
            Ok(None)
        }
        Err(crate::bounded::ReadError::Io { path, source }) => {
            Err(RunFolderError::Unreadable { path, source })
        }
        Err(e) => Err(RunFolderError::Unreadable {
            path: path.to_owned(),
            source: std::io::Error::other(e.to_string()),
        }),
    }
}

impl RunFolder {
    /// Reads and parses every client log and timing summary of `dir`.
    pub fn load(dir: &Path) -> Result<Self, RunFolderError> {
        let meta = std::fs::metadata(dir).map_err(|source| RunFolderError::Unreadable {
            path: dir.to_owned(),
            source,
        })?;
        if !meta.is_dir() {
            return Err(RunFolderError::NotAFolder(dir.to_owned()));
        }
        let mut skipped = Vec::new();
        let client_logs = read_client_logs(dir, |_| true, &mut skipped)?;
        let mut summaries = Vec::new();
        let mut csv_files = Vec::new();
        for n in file_names(dir)? {
            let path = dir.join(&n);
            if n.starts_with("timing_summary_") && n.ends_with(".log") {
                let Some(data) = read(&path, &mut skipped)? else {
                    continue;
                };
                let summary = TimingSummary::parse(&data);
                summaries.push(SummaryFile {
                    file_name: n,
                    summary,
                });
            } else if n.ends_with(".csv") && (n.contains("_online") || n.contains("_serving")) {
                if !crate::bounded::is_regular(&path) {
                    skipped.push(format!("{} is not a regular file; skipped", path.display()));
                    continue;
                }
                csv_files.push(path);
            }
        }
        let rate = client_logs
            .iter()
            .any(|c| matches!(c.name, ClientLogName::RequestRate { .. }));
        let conc = client_logs
            .iter()
            .any(|c| matches!(c.name, ClientLogName::Concurrency { .. }));
        let kind = match (rate, conc) {
            (true, false) => OnlineKind::RequestRate,
            (false, true) => OnlineKind::Concurrency,
            (true, true) => return Err(RunFolderError::MixedLayouts(dir.to_owned())),
            (false, false) => return Err(RunFolderError::NoClientLogs(dir.to_owned())),
        };
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(RunFolderName::parse);
        Ok(Self {
            dir: dir.to_owned(),
            name,
            kind,
            client_logs,
            summaries,
            csv_files,
            skipped,
        })
    }

    /// The folder's CSV for `--check`: the §7.2 name if present, else the only `_online`/
    /// `_serving` CSV.
    pub fn existing_csv(&self) -> Option<PathBuf> {
        if let Some(n) = &self.name {
            let p = self.dir.join(n.csv_file_name(self.kind));
            if self.csv_files.contains(&p) {
                return Some(p);
            }
        }
        match self.csv_files.as_slice() {
            [only] => Some(only.clone()),
            _ => None,
        }
    }

    fn existing_csv_parsed(&self) -> Option<OnlineCsv> {
        let p = self.existing_csv()?;
        OnlineCsv::parse(&crate::bounded::read_regular(&p).ok()?).ok()
    }

    /// Client logs of one load, in file-name order.
    pub fn logs_of(&self, load: &str) -> impl Iterator<Item = &ClientLogFile> {
        self.client_logs
            .iter()
            .filter(move |c| c.name.load() == load)
    }

    /// Rebuilds the CSV.
    pub fn rebuild(&self, opts: &RebuildOptions) -> Result<Rebuild, RunFolderError> {
        let mut notes = Vec::new();
        let existing = self.existing_csv_parsed();
        let (model, tag, variant) = match (&self.name, &existing) {
            (Some(n), _) => (n.model.clone(), n.tag.clone(), Some(n.variant.clone())),
            (None, Some(c)) => {
                notes.push("model and tag taken from the existing CSV's title".to_owned());
                (c.model.clone(), c.tag.clone(), None)
            }
            (None, None) => return Err(RunFolderError::UnknownIdentity(self.dir.clone())),
        };
        let row_label = match self.kind {
            OnlineKind::RequestRate => {
                grok_row_label(&self.host(opts, existing.as_ref(), &mut notes)?)
            }
            OnlineKind::Concurrency => match (&variant, &existing) {
                (Some(v), _) => deepseek_row_label(&model, v),
                (None, Some(c)) => c.sections[0].rows[0].label.clone(),
                (None, None) => return Err(RunFolderError::UnknownIdentity(self.dir.clone())),
            },
        };
        let loads = self.loads(opts, &tag, &mut notes);
        let evidence =
            CompletionEvidence::from_summaries(self.summaries.iter().map(|s| &s.summary));
        let evidence = (!opts.all_results).then_some(&evidence);
        let mut cells = Vec::with_capacity(loads.len());
        let mut outcomes = Vec::with_capacity(loads.len());
        for load in &loads {
            let logs: Vec<&ClientLogFile> = self.logs_of(load).collect();
            let candidates: Vec<Candidate<'_>> = logs
                .iter()
                .map(|c| Candidate {
                    file_name: &c.file_name,
                    medians: &c.log.medians,
                })
                .collect();
            let (mut c, outcome) = best_run::predict(load, &candidates, evidence);
            if !matches!(outcome, CellOutcome::NotCompleted { .. }) {
                keep_na_spelling(&mut c, existing.as_ref());
            }
            cells.push(c);
            outcomes.push((load.clone(), outcome));
        }
        let csv_file_name = match &self.name {
            Some(n) => n.csv_file_name(self.kind),
            None => self
                .existing_csv()
                .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
                .unwrap_or_default(),
        };
        Ok(Rebuild {
            table: OnlineTable {
                kind: self.kind,
                model,
                tag,
                row_label,
                loads: cells,
            },
            outcomes,
            csv_file_name,
            notes,
        })
    }

    fn host(
        &self,
        opts: &RebuildOptions,
        existing: Option<&OnlineCsv>,
        notes: &mut Vec<String>,
    ) -> Result<String, RunFolderError> {
        if let Some(h) = &opts.host {
            return Ok(h.clone());
        }
        // The CSV's last writer: the newest summary that completed a load or regenerated the
        // CSV; else the newest summary that names a host.
        let wrote_csv = |s: &&SummaryFile| {
            s.summary.all_logs_complete
                || s.summary
                    .phase
                    .as_ref()
                    .is_some_and(|p| !p.completed.is_empty())
        };
        let host_of = |s: &SummaryFile| {
            s.summary
                .header
                .hostname
                .clone()
                .map(|h| (s.file_name.clone(), h))
        };
        let found = self
            .summaries
            .iter()
            .rev()
            .filter(wrote_csv)
            .find_map(host_of)
            .or_else(|| self.summaries.iter().rev().find_map(host_of));
        if let Some((file, h)) = found {
            notes.push(format!("host `{h}` from {file}"));
            return Ok(h);
        }
        if let Some(h) = existing.and_then(|c| {
            c.sections[0].rows[0]
                .label
                .strip_prefix("MI300x-aiter, ")
                .map(str::to_owned)
        }) {
            notes.push(format!(
                "host `{h}` from the existing CSV (no timing summary names it)"
            ));
            return Ok(h);
        }
        Err(RunFolderError::NoHost(self.dir.clone()))
    }

    fn loads(&self, opts: &RebuildOptions, tag: &str, notes: &mut Vec<String>) -> Vec<String> {
        if let Some(l) = &opts.loads {
            notes.push("loads from --loads".to_owned());
            return l.clone();
        }
        if let Some((file, perf)) = self.summaries.iter().rev().find_map(|s| {
            s.summary
                .performance
                .as_ref()
                .filter(|p| !p.is_empty())
                .map(|p| (&s.file_name, p))
        }) {
            notes.push(format!("loads from the Performance Summary of {file}"));
            return perf.iter().map(|e| e.load.clone()).collect();
        }
        match self.kind {
            OnlineKind::Concurrency => {
                notes.push(
                    "default concurrencies 128 64 16 4 1 (no Performance Summary)".to_owned(),
                );
                ["128", "64", "16", "4", "1"].map(str::to_owned).to_vec()
            }
            OnlineKind::RequestRate => {
                let mi35 = tag.contains("mi35")
                    || self.summaries.iter().any(|s| {
                        s.summary
                            .header
                            .hardware
                            .as_deref()
                            .is_some_and(|h| h.contains("mi35"))
                    });
                // The revision that dropped the rate-16 column on MI35x is the one that
                // introduced the v2/v3 GSM8K block (`Total runs:` / `Early exit:`).
                let newer = self.summaries.last().is_some_and(|s| {
                    s.summary.gsm8k.iter().any(|g| {
                        g.total_runs.is_some()
                            || g.early_exit.is_some()
                            || g.accuracy_required.is_some()
                    })
                });
                let has16 = self.logs_of("16").next().is_some();
                if mi35 && newer && !has16 {
                    notes.push(
                        "default rates 1 2 4 8 (MI35x, newer revision: no rate-16 column)"
                            .to_owned(),
                    );
                    ["1", "2", "4", "8"].map(str::to_owned).to_vec()
                } else {
                    notes.push("default rates 1 2 4 8 16 (no Performance Summary)".to_owned());
                    ["1", "2", "4", "8", "16"].map(str::to_owned).to_vec()
                }
            }
        }
    }

    /// Compares a rebuild with the CSV in the folder.
    pub fn check(&self, rebuild: &Rebuild) -> Result<CheckReport, RunFolderError> {
        let path = self.existing_csv().ok_or_else(|| {
            RunFolderError::NoCsv(self.dir.join(if rebuild.csv_file_name.is_empty() {
                "<tag>_<MODEL>_<VARIANT>_online.csv"
            } else {
                &rebuild.csv_file_name
            }))
        })?;
        let mut refused = Vec::new();
        let bytes = read(&path, &mut refused)?.ok_or_else(|| RunFolderError::Unreadable {
            path: path.clone(),
            source: std::io::Error::other(refused.join("; ")),
        })?;
        let csv = OnlineCsv::parse(&bytes).map_err(|source| RunFolderError::BadCsv {
            path: path.clone(),
            source,
        })?;
        Ok(CheckReport {
            csv: path,
            differences: compare(&rebuild.table, &csv, &bytes),
        })
    }

    /// One JSON record per client log, in file-name order, for `--json`.
    pub fn json_records<'a>(&'a self, rebuild: Option<&'a Rebuild>) -> Vec<ClientLogRecord<'a>> {
        self.client_logs
            .iter()
            .map(|c| {
                let best = rebuild.is_some_and(|r| {
                    r.outcomes.iter().any(|(_, o)| {
                        matches!(o, CellOutcome::Filled { best } | CellOutcome::NotCompleted { best } if *best == c.file_name)
                    })
                });
                let (request_rate, concurrency) = match self.kind {
                    OnlineKind::RequestRate => (Some(c.name.load()), None),
                    OnlineKind::Concurrency => (None, Some(c.name.load())),
                };
                ClientLogRecord {
                    file: &c.file_name,
                    request_rate,
                    concurrency,
                    run: c.name.run(),
                    timestamp: c.name.timestamp(),
                    outcome: c.log.outcome.name(),
                    completed: c.log.completed(),
                    best,
                    medians: &c.log.medians,
                    result: c.log.outcome.block(),
                    exception: match &c.log.outcome {
                        metrics_parse::client_log::ClientLogOutcome::Traceback(e) => Some(e),
                        _ => None,
                    },
                    wrapper: &c.log.wrapper,
                }
            })
            .collect()
    }
}

/// The `--json` line of one client log.
#[derive(Debug, Serialize)]
pub struct ClientLogRecord<'a> {
    /// File name.
    pub file: &'a str,
    /// Request rate (Grok folders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub request_rate: Option<&'a str>,
    /// Concurrency (DeepSeek folders).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<&'a str>,
    /// Run number.
    pub run: u32,
    /// `YYYYMMDD_HHMMSS` from the name.
    pub timestamp: Option<&'a str>,
    /// `complete`, `truncated_block`, `traceback`, `no_result_block`, `killed`, `empty`.
    pub outcome: &'static str,
    /// The toolkit's resume marker `Run completed at:` is present.
    pub completed: bool,
    /// This log is the best run of its load.
    pub best: bool,
    /// The medians the best-run rule uses.
    pub medians: &'a ToolkitMedians,
    /// Every metric of the result block.
    pub result: Option<&'a ResultBlock>,
    /// The exception line of a traceback.
    pub exception: Option<&'a String>,
    /// The toolkit's wrapper lines.
    pub wrapper: &'a Wrapper,
}

/// One metric section of the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Metric {
    /// Median E2E latency.
    E2e,
    /// Median TTFT.
    Ttft,
    /// Median ITL.
    Itl,
}

impl Metric {
    const ALL: [Self; 3] = [Self::E2e, Self::Ttft, Self::Itl];

    /// `Median E2E`, `Median TTFT`, `Median ITL`.
    pub fn label(self) -> &'static str {
        match self {
            Self::E2e => "Median E2E",
            Self::Ttft => "Median TTFT",
            Self::Itl => "Median ITL",
        }
    }
}

/// A load processed without a value has no number to rebuild: the ported revision wrote `NA`
/// (spec K-16, and so does our runner), later revisions an empty cell (the corpus). Where the
/// rebuild has no value and the folder's CSV says `NA`, keep the folder's spelling.
fn keep_na_spelling(cells: &mut LoadCells, existing: Option<&OnlineCsv>) {
    let Some(csv) = existing else { return };
    for i in 0..3 {
        let cell = match i {
            0 => &mut cells.e2e,
            1 => &mut cells.ttft,
            _ => &mut cells.itl,
        };
        if *cell == Cell::Empty && csv.cell(i, &cells.load) == Some("NA") {
            *cell = Cell::Na;
        }
    }
}

/// One difference between the folder's CSV (expected) and the rebuild (got).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Difference {
    /// A cell.
    Cell {
        /// `rate` or `concurrency`.
        load_kind: &'static str,
        /// The load.
        load: String,
        /// The metric.
        metric: Metric,
        /// The folder CSV's text (`(empty)`, `(no column)`).
        expected: String,
        /// The rebuild's text.
        got: String,
    },
    /// A layout line (title, load header, row label).
    Line {
        /// What the line is.
        what: String,
        /// The folder CSV's text.
        expected: String,
        /// The rebuild's text.
        got: String,
    },
    /// Everything parsed equal but the bytes differ (line ends, extra lines).
    Bytes {
        /// First differing byte offset.
        offset: usize,
    },
}

fn shown(s: &str) -> String {
    if s.is_empty() {
        "(empty)".to_owned()
    } else {
        s.to_owned()
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Cell {
                load_kind,
                load,
                metric,
                expected,
                got,
            } => write!(
                f,
                "{load_kind} {load}, {}: expected {expected}, got {got}",
                metric.label()
            ),
            Self::Line {
                what,
                expected,
                got,
            } => write!(f, "{what}: expected {expected:?}, got {got:?}"),
            Self::Bytes { offset } => write!(
                f,
                "cells and layout are equal but the file differs from byte {offset} (line ends or extra lines)"
            ),
        }
    }
}

/// The result of `--check`.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The CSV compared.
    pub csv: PathBuf,
    /// Differences (empty = equal byte for byte).
    pub differences: Vec<Difference>,
}

/// Compares a rebuilt table with a parsed CSV (and its bytes).
pub fn compare(table: &OnlineTable, csv: &OnlineCsv, bytes: &[u8]) -> Vec<Difference> {
    let mut diffs = Vec::new();
    let load_kind = match table.kind {
        OnlineKind::RequestRate => "rate",
        OnlineKind::Concurrency => "concurrency",
    };
    let mut line = |what: &str, expected: &str, got: &str| {
        if expected != got {
            diffs.push(Difference::Line {
                what: what.to_owned(),
                expected: expected.to_owned(),
                got: got.to_owned(),
            });
        }
    };
    line("line 1 (title)", &csv.title, &table.title());
    let got_loads: Vec<&str> = table.loads.iter().map(|l| l.load.as_str()).collect();
    for (i, s) in csv.sections.iter().enumerate() {
        let exp_header = format!("{} {}", s.load_label, s.loads.join(" "));
        let got_header = format!("{} {}", table.kind.load_label(), got_loads.join(" "));
        line(
            &format!("{} header", SECTION_TITLES[i]),
            &exp_header,
            &got_header,
        );
        line(
            &format!("{} row label", SECTION_TITLES[i]),
            &s.rows[0].label,
            &table.row_label,
        );
    }
    // Cells, over the union of loads (CSV order first).
    let mut loads: Vec<&str> = csv.sections[0].loads.iter().map(String::as_str).collect();
    for l in &got_loads {
        if !loads.contains(l) {
            loads.push(l);
        }
    }
    for (i, metric) in Metric::ALL.into_iter().enumerate() {
        for load in &loads {
            let expected = if csv.sections[i].loads.iter().any(|l| l == load) {
                shown(csv.cell(i, load).unwrap_or(""))
            } else {
                "(no column)".to_owned()
            };
            let got = table.loads.iter().find(|l| l.load == *load).map_or_else(
                || "(no column)".to_owned(),
                |l| shown(l.section(i).as_str()),
            );
            if expected != got {
                diffs.push(Difference::Cell {
                    load_kind,
                    load: (*load).to_owned(),
                    metric,
                    expected,
                    got,
                });
            }
        }
    }
    if diffs.is_empty() {
        let rendered = table.render();
        if rendered.as_bytes() != bytes {
            let offset = rendered
                .bytes()
                .zip(bytes.iter())
                .position(|(a, b)| a != *b)
                .unwrap_or(rendered.len().min(bytes.len()));
            diffs.push(Difference::Bytes { offset });
        }
    }
    diffs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn folder_names() {
        let n = RunFolderName::parse("v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online")
            .unwrap();
        assert_eq!(
            (n.tag.as_str(), n.model.as_str(), n.variant.as_str()),
            ("v0.5.4.post1-rocm630-mi30x-20251029", "GROK1", "MOE-I4F8")
        );
        assert_eq!(
            n.csv_file_name(OnlineKind::RequestRate),
            "v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online.csv"
        );
        let d = RunFolderName::parse("v0.5.4-rocm700-mi35x-20251030_DeepSeek-R1-MXFP4-Preview_FP8_online_dp_attention_mtp_test").unwrap();
        assert_eq!(d.model, "DeepSeek-R1-MXFP4-Preview");
        assert_eq!(d.suffix, "_dp_attention_mtp_test");
        assert_eq!(
            d.csv_file_name(OnlineKind::Concurrency),
            "v0.5.4-rocm700-mi35x-20251030_DeepSeek-R1-MXFP4-Preview_FP8_serving_dp_attention_mtp_test.csv"
        );
        let b = RunFolderName::parse(
            "v0.5.4.post2-rocm700-mi30x-20251101_GROK2_FP8_online.backup_20251102_231834",
        )
        .unwrap();
        assert_eq!(b.backup.as_deref(), Some("20251102_231834"));
        assert_eq!(
            b.csv_file_name(OnlineKind::RequestRate),
            "v0.5.4.post2-rocm700-mi30x-20251101_GROK2_FP8_online.csv"
        );
        assert_eq!(
            RunFolderName::parse("test_dp8_torch_compile_no_cudagraph"),
            None
        );
        assert_eq!(RunFolderName::parse("x_onlineish"), None);
    }

    #[test]
    fn difference_messages() {
        let d = Difference::Cell {
            load_kind: "rate",
            load: "4".into(),
            metric: Metric::Ttft,
            expected: "101.93".into(),
            got: "103.52".into(),
        };
        assert_eq!(
            d.to_string(),
            "rate 4, Median TTFT: expected 101.93, got 103.52"
        );
    }

    proptest::proptest! {
        #[test]
        fn any_folder_name_never_panics(name in "\\PC{0,80}") {
            if let Some(n) = RunFolderName::parse(&name) {
                let _ = n.csv_file_name(OnlineKind::RequestRate);
                proptest::prop_assert!(!n.tag.is_empty() && !n.model.is_empty());
            }
        }
    }
}
