//! `compare-csv`: a "main" run folder against a "PR" run folder (spec reporting.md §8).
//!
//! Each side is a run folder (or one CSV file): its result CSV is chosen (the `*.csv` files in
//! name order, filtered by the model's case-insensitive substring, the first one), its mode
//! detected from the text, and its GSM8K accuracy read from the folder's GSM8K logs. The two
//! CSVs are joined and compared:
//!
//! * **offline** (`TP,batch_size,IL,OL,…`): inner join on `TP`, `batch_size`, `IL`, `OL`;
//!   per batch size (ascending) the E2E throughput (higher is better) and the E2E latency
//!   (lower is better);
//! * **online** (the three-table TAB-separated CSV, Grok `request rate` or DeepSeek
//!   `concurrency`): per table (E2E, TTFT, ITL) the row labelled `MI300x…` (else the first
//!   row), per load (matched by the load value) main against PR, lower is better.
//!
//! Every change is a percentage where **positive means the PR run is better**; beyond the
//! performance threshold it is highlighted (`**+6.7%** 🟢`, `**-7.1%** 🔴`). Numbers are
//! formatted like Python's `{:.1f}` (Rust's formatting rounds the binary value the same way,
//! signed zero included: `-0.0%`).
//!
//! Fixes over the original (spec §11.6): CSVs in name order (C1); DeepSeek `concurrency`
//! files (C2); empty trailing cells skip that load only (C3); a CSV that cannot be parsed is a
//! [`CompareCsvError`], never a report saying `Failed to parse CSV files.` (C5).

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use metrics_parse::legacy_csv::{LegacyCsvError, OfflineCsv, OfflineKind, OnlineCsv, OnlineKind};
use regex::Regex;
use serde::Serialize;
use thiserror::Error;

use crate::glob;

/// `GSM8K_LOG_PATTERNS` when unset: `;`-separated file-name patterns of GSM8K logs.
pub const DEFAULT_GSM8K_PATTERNS: &str = "*gsm8k*.log;*GSM8K*.log;sglang_client_log_*_gsm8k*.log";
/// `--output-dir` when neither the flag nor `COMPARISON_OUTPUT_DIR` is set.
pub const DEFAULT_OUTPUT_DIR: &str = "/mnt/raid/michael/sglang-ci/comparison_results";
/// `--gsm8k-threshold` when neither the flag nor `GSM8K_ACCURACY_THRESHOLD` is set.
pub const DEFAULT_GSM8K_THRESHOLD: f64 = 0.001;
/// `--performance-threshold` (percent) when neither the flag nor `PERFORMANCE_THRESHOLD` is set.
pub const DEFAULT_PERFORMANCE_THRESHOLD: f64 = 5.0;
/// Version of the JSON report's shape (`format_version`).
pub const JSON_FORMAT_VERSION: u32 = 1;

/// Why a comparison could not be made. Each message names the folder or file.
#[derive(Debug, Error)]
pub enum CompareCsvError {
    /// The folder given does not exist.
    #[error("directory {} does not exist", .0.display())]
    NoDirectory(PathBuf),
    /// The folder has no CSV (matching the model filter).
    #[error("No CSV files found in {}{}", dir.display(), filter_text(filter.as_deref()))]
    NoCsv {
        /// The folder.
        dir: PathBuf,
        /// The model filter applied, if any.
        filter: Option<String>,
    },
    /// A folder or file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// What was read.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// Neither an offline nor an online CSV.
    #[error(
        "cannot tell whether {} is an offline or an online CSV (it has neither `E2E Latency` with \
         `request rate`/`concurrency` nor `batch_size` with `Prefill_latency`); pass --mode to force one",
        .0.display()
    )]
    UnknownMode(PathBuf),
    /// The two CSVs are of different modes.
    #[error(
        "main CSV {} is an {main_mode} CSV but PR CSV {} is an {pr_mode} one: compare runs of the same mode",
        main.display(),
        pr.display()
    )]
    ModesDiffer {
        /// Main CSV.
        main: PathBuf,
        /// Its mode.
        main_mode: Mode,
        /// PR CSV.
        pr: PathBuf,
        /// Its mode.
        pr_mode: Mode,
    },
    /// The CSV does not have the layout of its mode.
    #[error("cannot parse {} as an {mode} CSV: {source}", path.display())]
    Parse {
        /// The CSV.
        path: PathBuf,
        /// The mode it was read as.
        mode: Mode,
        /// What is wrong with it.
        #[source]
        source: LegacyCsvError,
    },
}

fn filter_text(filter: Option<&str>) -> String {
    filter.map_or_else(String::new, |m| format!(" matching model `{m}`"))
}

impl CompareCsvError {
    /// True when an input folder is missing or holds no CSV (the original's exit 1), false
    /// when a CSV exists but cannot be read or parsed.
    pub fn is_missing_input(&self) -> bool {
        matches!(self, Self::NoDirectory(_) | Self::NoCsv { .. })
    }
}

/// A benchmark mode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// `bench_one_batch` CSV.
    Offline,
    /// Three-table serving CSV.
    Online,
    /// Neither.
    Unknown,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Offline => "offline",
            Self::Online => "online",
            Self::Unknown => "unknown",
        })
    }
}

/// `--mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModeChoice {
    /// Detect from each file's text.
    Auto,
    /// Force offline.
    Offline,
    /// Force online.
    Online,
}

/// What to compare and how.
#[derive(Debug, Clone)]
pub struct Options {
    /// Main run folder (or CSV file).
    pub csv1: PathBuf,
    /// PR run folder (or CSV file).
    pub csv2: PathBuf,
    /// Mode selection.
    pub mode: ModeChoice,
    /// Model filter for both sides (and the title).
    pub model: Option<String>,
    /// Model filter for the main side (overrides `model`).
    pub model1: Option<String>,
    /// Model filter for the PR side (overrides `model`).
    pub model2: Option<String>,
    /// Smallest absolute GSM8K accuracy difference called a change.
    pub gsm8k_threshold: f64,
    /// Highlight threshold in percent (strictly beyond it).
    pub performance_threshold: f64,
    /// GSM8K log file-name patterns, in order.
    pub gsm8k_patterns: Vec<String>,
}

impl Options {
    /// Defaults of the original for everything but the two folders.
    pub fn new(csv1: impl Into<PathBuf>, csv2: impl Into<PathBuf>) -> Self {
        Self {
            csv1: csv1.into(),
            csv2: csv2.into(),
            mode: ModeChoice::Auto,
            model: None,
            model1: None,
            model2: None,
            gsm8k_threshold: DEFAULT_GSM8K_THRESHOLD,
            performance_threshold: DEFAULT_PERFORMANCE_THRESHOLD,
            gsm8k_patterns: parse_patterns(DEFAULT_GSM8K_PATTERNS),
        }
    }

    fn filter1(&self) -> Option<&str> {
        self.model1.as_deref().or(self.model.as_deref())
    }

    fn filter2(&self) -> Option<&str> {
        self.model2.as_deref().or(self.model.as_deref())
    }

    /// The report title: `<MODEL1> vs <MODEL2> Benchmark Comparison` when both side filters
    /// are given and differ, else `<MODEL> Benchmark Comparison` with `--model`, else
    /// `Benchmark Comparison`.
    pub fn title(&self) -> String {
        match (&self.model1, &self.model2, &self.model) {
            (Some(a), Some(b), _) if a != b => format!(
                "{} vs {} Benchmark Comparison",
                a.to_uppercase(),
                b.to_uppercase()
            ),
            (_, _, Some(m)) => format!("{} Benchmark Comparison", m.to_uppercase()),
            _ => "Benchmark Comparison".to_owned(),
        }
    }
}

/// Splits a `GSM8K_LOG_PATTERNS` value on `;`, trimming each pattern and dropping empty ones.
pub fn parse_patterns(s: &str) -> Vec<String> {
    s.split(';')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_owned)
        .collect()
}

/// The auto-named report folder: `<stamp>_<basename(csv1)>_vs_<basename(csv2)>` (`stamp` is
/// `YYYYMMDD_HHMMSS`); the report inside it is `<folder name>.<ext>`.
pub fn output_folder_name(stamp: &str, csv1: &Path, csv2: &Path) -> String {
    format!("{stamp}_{}_vs_{}", basename(csv1), basename(csv2))
}

/// Last path component as given (a trailing `/` ignored); the whole path when it has none.
fn basename(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.to_string_lossy().trim_end_matches('/').to_owned(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// One side's inputs.
#[derive(Debug, Clone, Serialize)]
pub struct SideInfo {
    /// The folder searched.
    pub folder: String,
    /// The CSV's file name.
    pub csv: String,
    /// The mode its text shows.
    pub detected_mode: Mode,
    /// Its GSM8K accuracy, if a log has one.
    pub gsm8k_accuracy: Option<f64>,
    /// The GSM8K log it came from (file name).
    pub gsm8k_log: Option<String>,
}

/// The thresholds used.
#[derive(Debug, Clone, Serialize)]
pub struct Thresholds {
    /// Absolute GSM8K accuracy difference.
    pub gsm8k: f64,
    /// Performance change in percent.
    pub performance_percent: f64,
}

/// GSM8K verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Gsm8kVerdict {
    /// PR accuracy higher by at least the threshold.
    Improvement,
    /// PR accuracy lower by at least the threshold.
    Regression,
    /// Difference below the threshold.
    NoSignificantChange,
}

/// Both sides' GSM8K accuracies.
#[derive(Debug, Clone, Serialize)]
pub struct Gsm8kComparison {
    /// Main accuracy.
    pub main: Option<f64>,
    /// PR accuracy.
    pub pr: Option<f64>,
    /// `pr - main` when both are known.
    pub diff: Option<f64>,
    /// Verdict when both are known.
    pub verdict: Option<Gsm8kVerdict>,
}

/// Whether a change passes the highlight threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Highlight {
    /// Above +threshold: the PR is better.
    Better,
    /// Below -threshold: the PR is worse.
    Worse,
    /// Within the threshold.
    None,
}

/// How the offline comparison went.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OfflineStatus {
    /// Rows compared.
    Compared,
    /// Neither CSV has a value.
    BothEmpty,
    /// The main CSV has no value.
    MainEmpty,
    /// The PR CSV has no value.
    PrEmpty,
    /// No `TP,batch_size,IL,OL` in common.
    NoCommonConfigurations,
}

/// One compared offline metric of one joined row.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineRowComparison {
    /// `TP`.
    pub tp: String,
    /// `batch_size`.
    pub batch_size: String,
    /// `IL`.
    pub input_len: String,
    /// `OL`.
    pub output_len: String,
    /// `E2E Throughput` or `E2E Latency`.
    pub metric: String,
    /// Main value (`None`: not a number, see `error`).
    pub main: Option<f64>,
    /// PR value.
    pub pr: Option<f64>,
    /// Percent change, positive = PR better.
    pub change_percent: Option<f64>,
    /// Highlight.
    pub highlight: Highlight,
    /// A cell is not a number (`| N/A | N/A | Error |`).
    pub error: bool,
}

/// The offline result.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineResult {
    /// Outcome.
    pub status: OfflineStatus,
    /// Compared rows (batch size ascending, join order, throughput then latency).
    pub rows: Vec<OfflineRowComparison>,
    /// The side that has data, dumped when the other has none (header + rows, verbatim).
    #[serde(skip)]
    dump: Option<Vec<Vec<String>>>,
}

/// One compared load of an online table.
#[derive(Debug, Clone, Serialize)]
pub struct LoadComparison {
    /// The load (`1`, `16`, `128`).
    pub load: String,
    /// Main median (ms).
    pub main: f64,
    /// PR median (ms).
    pub pr: f64,
    /// `(main - pr) / main × 100`: positive = PR faster.
    pub change_percent: f64,
    /// Highlight.
    pub highlight: Highlight,
}

/// One online table (E2E, TTFT or ITL).
#[derive(Debug, Clone, Serialize)]
pub struct OnlineTableComparison {
    /// `E2E`, `TTFT`, `ITL`.
    pub metric: String,
    /// Main row label used (`None`: the table has no row).
    pub main_row: Option<String>,
    /// PR row label used.
    pub pr_row: Option<String>,
    /// Compared loads, in main's column order.
    pub loads: Vec<LoadComparison>,
}

/// The online result.
#[derive(Debug, Clone, Serialize)]
pub struct OnlineResult {
    /// `request rate` or `concurrency` (main's).
    pub load_label: String,
    /// E2E, TTFT, ITL.
    pub tables: Vec<OnlineTableComparison>,
}

/// The comparison proper.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Results {
    /// Offline CSVs.
    Offline(OfflineResult),
    /// Online CSVs.
    Online(OnlineResult),
}

/// A finished comparison: render it with [`Comparison::markdown`] or serialise it
/// ([`Comparison::json`]).
#[derive(Debug, Clone, Serialize)]
pub struct Comparison {
    /// [`JSON_FORMAT_VERSION`].
    pub format_version: u32,
    /// Report title.
    pub title: String,
    /// When it was generated (as given by the caller).
    pub generated: String,
    /// The mode used.
    pub mode: Mode,
    /// Main side.
    pub main: SideInfo,
    /// PR side.
    pub pr: SideInfo,
    /// Thresholds.
    pub thresholds: Thresholds,
    /// GSM8K.
    pub gsm8k: Gsm8kComparison,
    /// Performance.
    pub results: Results,
    /// Values that could not be compared (empty or `NA` cells, a load missing on one side),
    /// one line each.
    pub warnings: Vec<String>,
}

/// Runs the comparison. `generated` is the timestamp printed in the report.
pub fn compare(opts: &Options, generated: &str) -> Result<Comparison, CompareCsvError> {
    let main = locate(&opts.csv1, opts.filter1())?;
    let pr = locate(&opts.csv2, opts.filter2())?;
    let main_text = read_text(&main.csv)?;
    let pr_text = read_text(&pr.csv)?;
    let (main_mode, pr_mode) = (detect_mode(&main_text), detect_mode(&pr_text));
    let mode = match opts.mode {
        ModeChoice::Offline => Mode::Offline,
        ModeChoice::Online => Mode::Online,
        ModeChoice::Auto => {
            // A file that is neither, or two different modes, is an error (the original
            // warned "Different benchmark modes detected" and reported "Failed to parse CSV
            // files.").
            for (m, l) in [(main_mode, &main), (pr_mode, &pr)] {
                if m == Mode::Unknown {
                    return Err(CompareCsvError::UnknownMode(l.csv.clone()));
                }
            }
            if main_mode != pr_mode {
                return Err(CompareCsvError::ModesDiffer {
                    main: main.csv.clone(),
                    main_mode,
                    pr: pr.csv.clone(),
                    pr_mode,
                });
            }
            main_mode
        }
    };
    let mut warnings = Vec::new();
    let thr = opts.performance_threshold;
    let results = match mode {
        Mode::Offline => {
            let m = parse_offline(&main.csv, &main_text)?;
            let p = parse_offline(&pr.csv, &pr_text)?;
            Results::Offline(compare_offline(&m, &p, thr, &mut warnings))
        }
        Mode::Online => {
            let m = parse_online(&main.csv, &main_text)?;
            let p = parse_online(&pr.csv, &pr_text)?;
            Results::Online(compare_online(&m, &p, thr, &mut warnings))
        }
        Mode::Unknown => return Err(CompareCsvError::UnknownMode(main.csv.clone())),
    };
    let main_acc = gsm8k_accuracy(
        &main.folder,
        opts.filter1(),
        &opts.gsm8k_patterns,
        &mut warnings,
    );
    let pr_acc = gsm8k_accuracy(
        &pr.folder,
        opts.filter2(),
        &opts.gsm8k_patterns,
        &mut warnings,
    );
    let gsm8k = gsm8k_comparison(
        main_acc.as_ref().map(|a| a.0),
        pr_acc.as_ref().map(|a| a.0),
        opts.gsm8k_threshold,
    );
    let side = |l: &Located, detected: Mode, acc: Option<(f64, String)>| SideInfo {
        folder: l.folder.display().to_string(),
        csv: file_name(&l.csv),
        detected_mode: detected,
        gsm8k_accuracy: acc.as_ref().map(|a| a.0),
        gsm8k_log: acc.map(|a| a.1),
    };
    Ok(Comparison {
        format_version: JSON_FORMAT_VERSION,
        title: opts.title(),
        generated: generated.to_owned(),
        mode,
        main: side(&main, main_mode, main_acc),
        pr: side(&pr, pr_mode, pr_acc),
        thresholds: Thresholds {
            gsm8k: opts.gsm8k_threshold,
            performance_percent: thr,
        },
        gsm8k,
        results,
        warnings,
    })
}

// ------------------------------------------------------------------ inputs

struct Located {
    folder: PathBuf,
    csv: PathBuf,
}

fn file_name(p: &Path) -> String {
    p.file_name().map_or_else(
        || p.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// The CSV of a side: the path itself when it is a file, else the first `*.csv` of the folder
/// in name order whose name contains `filter` (case-insensitive).
fn locate(path: &Path, filter: Option<&str>) -> Result<Located, CompareCsvError> {
    if path.is_file() {
        let folder = match path.parent() {
            Some(p) if !p.as_os_str().is_empty() => p.to_owned(),
            _ => PathBuf::from("."),
        };
        return Ok(Located {
            folder,
            csv: path.to_owned(),
        });
    }
    if !path.is_dir() {
        return Err(CompareCsvError::NoDirectory(path.to_owned()));
    }
    let csv = list_matching(path, "*.csv", filter)?
        .into_iter()
        .next()
        .ok_or_else(|| CompareCsvError::NoCsv {
            dir: path.to_owned(),
            filter: filter.map(str::to_owned),
        })?;
    Ok(Located {
        folder: path.to_owned(),
        csv,
    })
}

/// Regular files of `dir` matching `pattern` whose name contains `filter`
/// (case-insensitive), sorted by name.
fn list_matching(
    dir: &Path,
    pattern: &str,
    filter: Option<&str>,
) -> Result<Vec<PathBuf>, CompareCsvError> {
    let read_err = |source| CompareCsvError::Read {
        path: dir.to_owned(),
        source,
    };
    let filter = filter.map(str::to_lowercase);
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(read_err)? {
        let entry = entry.map_err(read_err)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if !glob::matches(pattern, &name) {
            continue;
        }
        if filter
            .as_deref()
            .is_some_and(|f| !name.to_lowercase().contains(f))
        {
            continue;
        }
        if entry.path().is_file() {
            out.push(entry.path());
        }
    }
    out.sort();
    Ok(out)
}

fn read_text(path: &Path) -> Result<String, CompareCsvError> {
    std::fs::read(path)
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .map_err(|source| CompareCsvError::Read {
            path: path.to_owned(),
            source,
        })
}

/// The mode a CSV's text shows: `E2E Latency` with `request rate` or `concurrency` → online;
/// `batch_size` with `Prefill_latency` → offline.
pub fn detect_mode(text: &str) -> Mode {
    if text.contains("E2E Latency")
        && (text.contains("request rate") || text.contains("concurrency"))
    {
        Mode::Online
    } else if text.contains("batch_size") && text.contains("Prefill_latency") {
        Mode::Offline
    } else {
        Mode::Unknown
    }
}

fn parse_offline(path: &Path, text: &str) -> Result<OfflineCsv, CompareCsvError> {
    OfflineCsv::parse(text.as_bytes()).map_err(|source| CompareCsvError::Parse {
        path: path.to_owned(),
        mode: Mode::Offline,
        source,
    })
}

fn parse_online(path: &Path, text: &str) -> Result<OnlineCsv, CompareCsvError> {
    OnlineCsv::parse(text.as_bytes()).map_err(|source| CompareCsvError::Parse {
        path: path.to_owned(),
        mode: Mode::Online,
        source,
    })
}

// ------------------------------------------------------------------ GSM8K

/// `Average Accuracy over <n> [valid ]runs…: <x>` (v1, v2 logs) or the early-exit
/// `Accuracy: <x> (Required: <t>)` (v3 logs).
static ACCURACY_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"Average Accuracy over \d+ (?:valid )?runs[^\n]*?:[ \t]*([0-9.]+)|(?m:^[ \t]*Accuracy:[ \t]*([0-9.]+) \(Required:)",
    )
    .expect("static regex")
});

/// The accuracy a GSM8K log reports: the value of its **last** average (or early-exit) line.
pub fn log_accuracy(text: &str) -> Option<f64> {
    ACCURACY_LINE
        .captures_iter(text)
        .filter_map(|c| {
            c.get(1)
                .or_else(|| c.get(2))
                .and_then(|m| m.as_str().parse::<f64>().ok())
        })
        .last()
}

/// The first GSM8K log of `folder` (patterns in order, names sorted per pattern, filtered by
/// `filter`) that reports an accuracy: `(accuracy, file name)`.
fn gsm8k_accuracy(
    folder: &Path,
    filter: Option<&str>,
    patterns: &[String],
    warnings: &mut Vec<String>,
) -> Option<(f64, String)> {
    for pattern in patterns {
        let Ok(files) = list_matching(folder, pattern, filter) else {
            return None;
        };
        for f in files {
            match std::fs::read(&f) {
                Ok(bytes) => {
                    if let Some(a) = log_accuracy(&String::from_utf8_lossy(&bytes)) {
                        return Some((a, file_name(&f)));
                    }
                }
                Err(e) => warnings.push(format!("Warning: Failed to read {}: {e}", f.display())),
            }
        }
    }
    None
}

fn gsm8k_comparison(main: Option<f64>, pr: Option<f64>, threshold: f64) -> Gsm8kComparison {
    let (diff, verdict) = match (main, pr) {
        (Some(a), Some(b)) => {
            let d = b - a;
            let v = if d.abs() >= threshold {
                if d > 0.0 {
                    Gsm8kVerdict::Improvement
                } else {
                    Gsm8kVerdict::Regression
                }
            } else {
                Gsm8kVerdict::NoSignificantChange
            };
            (Some(d), Some(v))
        }
        _ => (None, None),
    };
    Gsm8kComparison {
        main,
        pr,
        diff,
        verdict,
    }
}

// ------------------------------------------------------------------ numbers

fn highlight(change: f64, threshold: f64) -> Highlight {
    if change > threshold {
        Highlight::Better
    } else if change < -threshold {
        Highlight::Worse
    } else {
        Highlight::None
    }
}

/// The change cell: `**+6.7%** 🟢`, `**-7.1%** 🔴` or `+4.2%` / `-0.0%`.
fn change_text(change: f64, h: Highlight) -> String {
    match h {
        Highlight::Better => format!("**+{change:.1}%** 🟢"),
        Highlight::Worse => format!("**{change:.1}%** 🔴"),
        Highlight::None => format!("{change:+.1}%"),
    }
}

/// A cell pandas would read as missing.
fn is_missing(cell: &str) -> bool {
    matches!(
        cell.trim(),
        "" | "NA" | "N/A" | "NaN" | "nan" | "-NaN" | "-nan" | "null" | "NULL" | "None"
    )
}

/// A cell for a warning: `empty`, `` `NA` (no value)``, `` `x` (not a number)`` or `` `12.3` ``.
fn describe_cell(cell: &str) -> String {
    let c = cell.trim();
    match cell_value(c) {
        Ok(Some(_)) => format!("`{c}`"),
        Ok(None) if c.is_empty() => "empty".to_owned(),
        Ok(None) => format!("`{c}` (no value)"),
        Err(()) => format!("`{c}` (not a number)"),
    }
}

/// A cell's value: `Ok(None)` missing, `Err` not a number.
fn cell_value(cell: &str) -> Result<Option<f64>, ()> {
    if is_missing(cell) {
        return Ok(None);
    }
    cell.trim().parse::<f64>().map(Some).map_err(|_| ())
}

// ------------------------------------------------------------------ offline

/// Offline metrics compared, in order: column index in [`metrics_parse::legacy_csv::OfflineRow::metrics`],
/// label, higher is better.
const OFFLINE_METRICS: [(usize, &str, bool); 2] =
    [(5, "E2E Throughput", true), (2, "E2E Latency", false)];

fn offline_has_data(c: &OfflineCsv) -> bool {
    // The columns from the 6th on (index 5): all six metrics for Grok (after `Backend`), the
    // last five for DeepSeek.
    let from = match c.kind {
        OfflineKind::Grok => 0,
        OfflineKind::DeepSeek => 1,
    };
    c.rows
        .iter()
        .any(|r| r.metrics[from..].iter().any(|m| !is_missing(m)))
}

fn offline_table(c: &OfflineCsv) -> Vec<Vec<String>> {
    let header = match c.kind {
        OfflineKind::Grok => metrics_parse::legacy_csv::GROK_OFFLINE_HEADER,
        OfflineKind::DeepSeek => metrics_parse::legacy_csv::DEEPSEEK_OFFLINE_HEADER,
    };
    let mut t = vec![header.split(',').map(str::to_owned).collect::<Vec<_>>()];
    for r in &c.rows {
        let mut row = vec![
            r.tp.clone(),
            r.batch_size.clone(),
            r.input_len.clone(),
            r.output_len.clone(),
        ];
        row.extend(r.backend.clone());
        row.extend(r.metrics.iter().map(|m| {
            if is_missing(m) {
                "NaN".to_owned()
            } else {
                m.clone()
            }
        }));
        t.push(row);
    }
    t
}

fn compare_offline(
    main: &OfflineCsv,
    pr: &OfflineCsv,
    threshold: f64,
    warnings: &mut Vec<String>,
) -> OfflineResult {
    let (hm, hp) = (offline_has_data(main), offline_has_data(pr));
    let done = |status, dump| OfflineResult {
        status,
        rows: Vec::new(),
        dump,
    };
    match (hm, hp) {
        (false, false) => return done(OfflineStatus::BothEmpty, None),
        (false, true) => return done(OfflineStatus::MainEmpty, Some(offline_table(pr))),
        (true, false) => return done(OfflineStatus::PrEmpty, Some(offline_table(main))),
        (true, true) => {}
    }
    let key = |r: &metrics_parse::legacy_csv::OfflineRow| {
        [
            r.tp.trim().to_owned(),
            r.batch_size.trim().to_owned(),
            r.input_len.trim().to_owned(),
            r.output_len.trim().to_owned(),
        ]
    };
    // Inner join in main's row order, each main row with its PR matches in PR order.
    let mut joined = Vec::new();
    for m in &main.rows {
        for p in pr.rows.iter().filter(|p| key(p) == key(m)) {
            joined.push((m, p));
        }
    }
    if joined.is_empty() {
        return done(OfflineStatus::NoCommonConfigurations, None);
    }
    let mut batch_sizes: Vec<&str> = joined.iter().map(|(m, _)| m.batch_size.trim()).collect();
    batch_sizes.sort_by(|a, b| match (a.parse::<f64>(), b.parse::<f64>()) {
        (Ok(x), Ok(y)) => x.total_cmp(&y),
        _ => a.cmp(b),
    });
    batch_sizes.dedup();
    let mut rows = Vec::new();
    for bs in batch_sizes {
        for (m, p) in joined.iter().filter(|(m, _)| m.batch_size.trim() == bs) {
            for (idx, label, higher_better) in OFFLINE_METRICS {
                let base = OfflineRowComparison {
                    tp: m.tp.clone(),
                    batch_size: bs.to_owned(),
                    input_len: m.input_len.clone(),
                    output_len: m.output_len.clone(),
                    metric: label.to_owned(),
                    main: None,
                    pr: None,
                    change_percent: None,
                    highlight: Highlight::None,
                    error: false,
                };
                let (mv, pv) = match (cell_value(&m.metrics[idx]), cell_value(&p.metrics[idx])) {
                    (Ok(a), Ok(b)) => (a, b),
                    _ => {
                        warnings.push(format!(
                            "Warning: Failed to process {label} for batch size {bs}: `{}` vs `{}` is not a number",
                            m.metrics[idx].trim(),
                            p.metrics[idx].trim()
                        ));
                        rows.push(OfflineRowComparison {
                            error: true,
                            ..base
                        });
                        continue;
                    }
                };
                // A missing or non-positive main value: nothing to compare against (the
                // original skipped it silently).
                let Some(mv) = mv.filter(|v| *v > 0.0) else {
                    continue;
                };
                let Some(pv) = pv else {
                    warnings.push(format!(
                        "Warning: {label} for batch size {bs} (TP {}, IL {}, OL {}) has no PR value; row skipped",
                        m.tp.trim(),
                        m.input_len.trim(),
                        m.output_len.trim()
                    ));
                    continue;
                };
                let change = if higher_better {
                    (pv - mv) / mv * 100.0
                } else {
                    (mv - pv) / mv * 100.0
                };
                rows.push(OfflineRowComparison {
                    main: Some(mv),
                    pr: Some(pv),
                    change_percent: Some(change),
                    highlight: highlight(change, threshold),
                    ..base
                });
            }
        }
    }
    OfflineResult {
        status: OfflineStatus::Compared,
        rows,
        dump: None,
    }
}

// ------------------------------------------------------------------ online

const ONLINE_METRICS: [&str; 3] = ["E2E", "TTFT", "ITL"];

/// The row a table is compared on: the first labelled `MI300x…` (every Grok row, on MI300X
/// and MI355X alike), else the first row (DeepSeek's `<MODEL>-FP8`).
fn pick_row(
    s: &metrics_parse::legacy_csv::OnlineSection,
) -> Option<&metrics_parse::legacy_csv::OnlineRow> {
    s.rows
        .iter()
        .find(|r| r.label.contains("MI300x"))
        .or_else(|| s.rows.first())
}

fn compare_online(
    main: &OnlineCsv,
    pr: &OnlineCsv,
    threshold: f64,
    warnings: &mut Vec<String>,
) -> OnlineResult {
    let mut tables = Vec::new();
    for (i, metric) in ONLINE_METRICS.iter().enumerate() {
        let (ms, ps) = (&main.sections[i], &pr.sections[i]);
        let (mr, pr_row) = (pick_row(ms), pick_row(ps));
        let mut loads = Vec::new();
        if let (Some(mr), Some(prr)) = (mr, pr_row) {
            for (j, load) in ms.loads.iter().enumerate() {
                let load = load.trim();
                let what = format!("{metric} {} {load}", ms.load_label);
                let Some(mcell) = mr.cells.get(j) else {
                    warnings.push(format!(
                        "Warning: {what} skipped: the main row has no such cell"
                    ));
                    continue;
                };
                let Some(pj) = ps.loads.iter().position(|l| l.trim() == load) else {
                    warnings.push(format!(
                        "Warning: {what} skipped: not a column of the PR CSV"
                    ));
                    continue;
                };
                let pcell = prr.cells.get(pj).map_or("", String::as_str);
                let (mv, pv) = match (cell_value(mcell), cell_value(pcell)) {
                    (Ok(Some(a)), Ok(Some(b))) => (a, b),
                    _ => {
                        warnings.push(format!(
                            "Warning: {what} skipped: main {}, PR {}",
                            describe_cell(mcell),
                            describe_cell(pcell)
                        ));
                        continue;
                    }
                };
                if mv == 0.0 {
                    warnings.push(format!("Warning: {what} skipped: main value is 0"));
                    continue;
                }
                let change = (mv - pv) / mv * 100.0;
                loads.push(LoadComparison {
                    load: load.to_owned(),
                    main: mv,
                    pr: pv,
                    change_percent: change,
                    highlight: highlight(change, threshold),
                });
            }
        }
        tables.push(OnlineTableComparison {
            metric: (*metric).to_owned(),
            main_row: mr.map(|r| r.label.clone()),
            pr_row: pr_row.map(|r| r.label.clone()),
            loads,
        });
    }
    let load_label = match main.kind {
        OnlineKind::RequestRate => "request rate",
        OnlineKind::Concurrency => "concurrency",
    };
    OnlineResult {
        load_label: load_label.to_owned(),
        tables,
    }
}

// ------------------------------------------------------------------ rendering

impl Comparison {
    /// The Markdown report (spec §8.6): every line ends with `\n`.
    pub fn markdown(&self) -> String {
        let mut out = Vec::<String>::new();
        out.push(format!("## {}", self.title));
        out.push(String::new());
        out.push(format!("**Mode**: {}", self.mode));
        out.push(String::new());
        out.push(format!("**Main CSV**: `{}`", self.main.csv));
        out.push(String::new());
        out.push(format!("**PR CSV**: `{}`", self.pr.csv));
        out.push(String::new());
        out.push(format!("**Generated**: {}", self.generated));
        out.push(String::new());
        out.push("### Results".to_owned());
        out.push(String::new());
        self.gsm8k_lines(&mut out);
        match &self.results {
            Results::Offline(r) => offline_lines(r, &mut out),
            Results::Online(r) => online_lines(r, &mut out),
        }
        let mut s = out.join("\n");
        s.push('\n');
        s
    }

    /// The report as one line of JSON (this struct, see [`JSON_FORMAT_VERSION`]) plus `\n`.
    pub fn json(&self) -> String {
        let mut s = serde_json::to_string(self).unwrap_or_else(|e| {
            // Only non-finite floats could fail, and none are stored.
            format!("{{\"error\":\"cannot encode the report: {e}\"}}")
        });
        s.push('\n');
        s
    }

    fn gsm8k_lines(&self, out: &mut Vec<String>) {
        let g = &self.gsm8k;
        if let Some(a) = g.main {
            out.push(format!(
                "**Main GSM8K Accuracy**: {a:.3} ({:.1}%)",
                a * 100.0
            ));
        }
        if let Some(b) = g.pr {
            out.push(format!("**PR GSM8K Accuracy**: {b:.3} ({:.1}%)", b * 100.0));
        }
        if let (Some(d), Some(v)) = (g.diff, g.verdict) {
            out.push(match v {
                Gsm8kVerdict::Improvement => {
                    format!("**GSM8K Improvement**: +{d:.3} ({:+.1}%) 🟢", d * 100.0)
                }
                Gsm8kVerdict::Regression => {
                    format!("**GSM8K Change**: {d:.3} ({:.1}%) 🔴", d * 100.0)
                }
                Gsm8kVerdict::NoSignificantChange => {
                    "**GSM8K Change**: No significant change".to_owned()
                }
            });
        }
        if g.main.is_some() || g.pr.is_some() {
            out.push(String::new());
        }
    }
}

fn offline_lines(r: &OfflineResult, out: &mut Vec<String>) {
    match r.status {
        OfflineStatus::BothEmpty => {
            out.push("❌ Both CSV files contain no benchmark data.".to_owned());
        }
        OfflineStatus::MainEmpty | OfflineStatus::PrEmpty => {
            let (empty, other) = if r.status == OfflineStatus::MainEmpty {
                ("Main", "PR")
            } else {
                ("PR", "Main")
            };
            out.push(format!(
                "❌ {empty} CSV contains no benchmark data. Cannot perform comparison."
            ));
            out.push(String::new());
            out.push(format!("**{other} CSV Summary:**"));
            out.extend(plain_table(r.dump.as_deref().unwrap_or_default()));
        }
        OfflineStatus::NoCommonConfigurations => {
            out.push("No common configurations found between main and PR results.".to_owned());
        }
        OfflineStatus::Compared => {
            out.push("### Performance Comparison".to_owned());
            out.push(String::new());
            out.push("| Batch Size | Metric | Main | PR | Change |".to_owned());
            out.push("|------------|--------|------|----|---------|".to_owned());
            for row in &r.rows {
                out.push(match (row.main, row.pr, row.change_percent) {
                    (Some(m), Some(p), Some(c)) if !row.error => format!(
                        "| {} | {} | {m:.2} | {p:.2} | {} |",
                        row.batch_size,
                        row.metric,
                        change_text(c, row.highlight)
                    ),
                    _ => format!(
                        "| {} | {} | N/A | N/A | Error |",
                        row.batch_size, row.metric
                    ),
                });
            }
        }
    }
    out.push(String::new());
}

/// A table as text: columns right-aligned to their widest cell, separated by one space
/// (the layout of pandas' `to_string(index=False)`).
fn plain_table(rows: &[Vec<String>]) -> Vec<String> {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let width: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(c, s)| format!("{s:>w$}", w = width[c]))
                .collect::<Vec<_>>()
                .join(" ")
        })
        .collect()
}

fn online_lines(r: &OnlineResult, out: &mut Vec<String>) {
    let (head, rule) = if r.load_label == "concurrency" {
        (
            "| Concurrency | Main (ms) | PR (ms) | Change |",
            "|-------------|-----------|---------|---------|",
        )
    } else {
        (
            "| Request Rate | Main (ms) | PR (ms) | Change |",
            "|--------------|-----------|---------|---------|",
        )
    };
    for t in &r.tables {
        out.push(format!("#### {} Latency Comparison", t.metric));
        out.push(String::new());
        if t.main_row.is_some() && t.pr_row.is_some() {
            out.push(head.to_owned());
            out.push(rule.to_owned());
            for l in &t.loads {
                out.push(format!(
                    "| {} | {:.1} | {:.1} | {} |",
                    l.load,
                    l.main,
                    l.pr,
                    change_text(l.change_percent, l.highlight)
                ));
            }
        }
        out.push(String::new());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn highlight_is_strictly_beyond_the_threshold_and_keeps_signed_zero() {
        // Spec §8.6 offline examples, threshold 5 %.
        let lat = (1.50 - 1.40) / 1.50 * 100.0;
        assert_eq!(change_text(lat, highlight(lat, 5.0)), "**+6.7%** 🟢");
        let thr = (1300.0 - 1400.0) / 1400.0 * 100.0;
        assert_eq!(change_text(thr, highlight(thr, 5.0)), "**-7.1%** 🔴");
        let small = (800.0 - 768.0) / 768.0 * 100.0;
        assert_eq!(change_text(small, highlight(small, 5.0)), "+4.2%");
        assert_eq!(highlight(5.0, 5.0), Highlight::None);
        assert_eq!(change_text(-0.01, Highlight::None), "-0.0%");
        assert_eq!(change_text(0.001, Highlight::None), "+0.0%");
    }

    #[test]
    fn modes_from_text() {
        assert_eq!(
            detect_mode("Median E2E Latency\nrequest rate\t1"),
            Mode::Online
        );
        assert_eq!(
            detect_mode("Median E2E Latency\nconcurrency\t1"),
            Mode::Online
        );
        assert_eq!(
            detect_mode("TP,batch_size,IL,OL,Prefill_latency(s)"),
            Mode::Offline
        );
        assert_eq!(detect_mode("hello"), Mode::Unknown);
    }

    #[test]
    fn accuracy_is_the_last_average_line_of_any_generation() {
        let v1 = "Run 1: Accuracy: 0.9\nAverage Accuracy over 5 runs for mode aiter: 0.813\nAverage Accuracy over 5 runs for mode aiter: 0.815\n";
        assert_eq!(log_accuracy(v1), Some(0.815));
        assert_eq!(
            log_accuracy("Average Accuracy over 5 runs: 0.938\n"),
            Some(0.938)
        );
        assert_eq!(
            log_accuracy("Average Accuracy over 4 valid runs for mode aiter: 0.932\n"),
            Some(0.932)
        );
        assert_eq!(
            log_accuracy("Accuracy: 0.939 (Required: 0.93)\nAccuracy: 0.5\n"),
            Some(0.939)
        );
        // A colon not followed by a number is passed over (lazy match to the next colon).
        assert_eq!(
            log_accuracy("Average Accuracy over 5 runs (mode: aiter): 0.5\n"),
            Some(0.5)
        );
        assert_eq!(log_accuracy("Accuracy: 0.9\n"), None);
    }

    #[test]
    fn gsm8k_verdicts_and_lines() {
        let g = gsm8k_comparison(Some(0.813), Some(0.815), 0.001);
        assert_eq!(g.verdict, Some(Gsm8kVerdict::Improvement));
        let g = gsm8k_comparison(Some(0.815), Some(0.8145), 0.001);
        assert_eq!(g.verdict, Some(Gsm8kVerdict::NoSignificantChange));
        let g = gsm8k_comparison(Some(0.9), Some(0.85), 0.001);
        assert_eq!(g.verdict, Some(Gsm8kVerdict::Regression));
        assert_eq!(gsm8k_comparison(None, Some(0.8), 0.001).verdict, None);
    }

    #[test]
    fn titles_and_folder_names() {
        let mut o = Options::new("/a/x/", "b");
        assert_eq!(o.title(), "Benchmark Comparison");
        o.model1 = Some("grok".into());
        assert_eq!(o.title(), "Benchmark Comparison");
        o.model2 = Some("grok2".into());
        assert_eq!(o.title(), "GROK vs GROK2 Benchmark Comparison");
        o.model2 = Some("grok".into());
        o.model = Some("ds".into());
        assert_eq!(o.title(), "DS Benchmark Comparison");
        assert_eq!(
            output_folder_name("20251029_122750", &o.csv1, &o.csv2),
            "20251029_122750_x_vs_b"
        );
        assert_eq!(
            parse_patterns(" a*.log ;; b.log;"),
            vec!["a*.log".to_owned(), "b.log".to_owned()]
        );
    }

    #[test]
    fn plain_table_right_aligns() {
        let t = vec![
            vec!["TP".to_owned(), "batch_size".to_owned()],
            vec!["8".to_owned(), "NaN".to_owned()],
        ];
        assert_eq!(plain_table(&t), vec!["TP batch_size", " 8        NaN"]);
    }

    #[test]
    fn deepseek_offline_rows_join_with_grok_rows() {
        let ds = OfflineCsv::parse(
            format!(
                "{}\n8,32,1024,128,NA,NA,2.0,NA,NA,900\n",
                metrics_parse::legacy_csv::DEEPSEEK_OFFLINE_HEADER
            )
            .as_bytes(),
        )
        .unwrap();
        // "Has data" looks from the 6th column on: for a DeepSeek file (no `Backend`) that
        // leaves out the prefill latency, so a row with only a prefill latency has none.
        assert!(offline_has_data(&ds));
        let grok = OfflineCsv::parse(
            format!(
                "{}\n8,32,1024,128,aiter,1,1,1.0,1,1,1000\n",
                metrics_parse::legacy_csv::GROK_OFFLINE_HEADER
            )
            .as_bytes(),
        )
        .unwrap();
        let mut w = Vec::new();
        let r = compare_offline(&ds, &grok, 5.0, &mut w);
        assert_eq!(r.status, OfflineStatus::Compared);
        let changes: Vec<f64> = r.rows.iter().filter_map(|x| x.change_percent).collect();
        assert_eq!(changes.len(), 2);
        assert!((changes[0] - 100.0 * (1000.0 - 900.0) / 900.0).abs() < 1e-9);
        assert!((changes[1] - 50.0).abs() < 1e-9);
        let only_prefill = OfflineCsv::parse(
            format!(
                "{}\n8,32,1024,128,1.0,NA,NA,NA,NA,NA\n",
                metrics_parse::legacy_csv::DEEPSEEK_OFFLINE_HEADER
            )
            .as_bytes(),
        )
        .unwrap();
        assert!(!offline_has_data(&only_prefill));
    }
}
