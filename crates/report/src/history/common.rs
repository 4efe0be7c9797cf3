//! Pieces both consolidations share: the model names (`--model`, [`OnlineModel`]) and plot
//! folders ([`plot_dir_for`]), the options and folders both scripts resolve, dates in
//! names, the look-back window, folder listings, typed frame columns, the summary CSV writer,
//! the progress sink, and the configuration echo, phases and closing lines of both scripts.

use std::collections::BTreeSet;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{Datelike, Days, NaiveDate};
use polars::prelude::{
    BooleanChunked, DataFrame, Float64Chunked, Int64Chunked, PolarsResult, StringChunked,
};

use super::error::HistoryError;

/// `--model` of the online script.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OnlineModel {
    /// `grok` (Grok-1).
    Grok,
    /// `grok2`.
    Grok2,
    /// `deepseek` (folder from `--model-name`).
    Deepseek,
    /// `DeepSeek-V3`.
    DeepSeekV3,
}

impl OnlineModel {
    /// Parses the original's `--model` values.
    pub fn parse(s: &str) -> Result<Self, HistoryError> {
        match s {
            "grok" => Ok(Self::Grok),
            "grok2" => Ok(Self::Grok2),
            "deepseek" => Ok(Self::Deepseek),
            "DeepSeek-V3" => Ok(Self::DeepSeekV3),
            other => Err(HistoryError::Usage {
                flag: "--model",
                message: format!(
                    "invalid choice {other:?} (choose from 'grok', 'grok2', 'deepseek', 'DeepSeek-V3')"
                ),
            }),
        }
    }

    /// The `--model` spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grok => "grok",
            Self::Grok2 => "grok2",
            Self::Deepseek => "deepseek",
            Self::DeepSeekV3 => "DeepSeek-V3",
        }
    }

    /// One of the DeepSeek models.
    pub(crate) fn is_deepseek(self) -> bool {
        matches!(self, Self::Deepseek | Self::DeepSeekV3)
    }
}

/// Appends `/<DIR>/<mode>` to an explicit plot dir that does not end in `online`/`offline`.
pub fn plot_dir_for(explicit: Option<&Path>, base: &Path, dir: &str, mode: &str) -> PathBuf {
    match explicit {
        None => base.join("plots_server").join(dir).join(mode),
        Some(p) => {
            let s = p.to_string_lossy();
            let t = s.trim_end_matches('/');
            if t.ends_with("online") || t.ends_with("offline") {
                p.to_owned()
            } else {
                p.join(dir).join(mode)
            }
        }
    }
}

/// Receives the progress lines the original printed on stdout (the binaries print them; the
/// orchestrator captures them into `process_and_generate_*_plots.log`).
pub type Say<'a> = &'a mut dyn FnMut(&str);

/// Output image formats (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PlotFormat {
    /// PNG only (the original).
    #[default]
    Png,
    /// SVG only.
    Svg,
    /// PNG and SVG side by side.
    Both,
}

impl PlotFormat {
    /// Parses `png`, `svg` or `both`.
    pub fn parse(s: &str) -> Result<Self, HistoryError> {
        match s.to_ascii_lowercase().as_str() {
            "png" => Ok(Self::Png),
            "svg" => Ok(Self::Svg),
            "both" => Ok(Self::Both),
            other => Err(HistoryError::Usage {
                flag: "--format",
                message: format!("unknown format {other:?}: use png, svg or both"),
            }),
        }
    }

    /// File extensions to write.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            Self::Png => &["png"],
            Self::Svg => &["svg"],
            Self::Both => &["png", "svg"],
        }
    }
}

/// Today's date in US Pacific time (spec K-11, F-27).
pub fn today_pacific() -> NaiveDate {
    chrono::Utc::now()
        .with_timezone(&chrono_tz::America::Los_Angeles)
        .date_naive()
}

/// The first run of 8 consecutive ASCII digits in `name` (Python `re.search(r"\d{8}")`).
pub fn first_8_digits(name: &str) -> Option<&str> {
    let b = name.as_bytes();
    let mut run = 0;
    for (i, c) in b.iter().enumerate() {
        if c.is_ascii_digit() {
            run += 1;
            if run == 8 {
                return Some(&name[i + 1 - 8..=i]);
            }
        } else {
            run = 0;
        }
    }
    None
}

/// `YYYYMMDD` as a calendar date.
pub fn parse_ymd(s: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(s, "%Y%m%d").ok()
}

/// `YYYYMMDD` text of a date.
pub fn ymd(d: NaiveDate) -> String {
    format!("{:04}{:02}{:02}", d.year(), d.month(), d.day())
}

/// An inclusive date window.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// First date inside.
    pub first: NaiveDate,
    /// Last date inside.
    pub last: NaiveDate,
}

impl Window {
    /// `days` calendar dates ending with `last` (inclusive).
    pub fn ending(last: NaiveDate, days: u32) -> Self {
        let first = last
            .checked_sub_days(Days::new(u64::from(days.max(1)) - 1))
            .unwrap_or(NaiveDate::MIN);
        Self { first, last }
    }

    /// Whether `d` lies inside.
    pub fn contains(&self, d: NaiveDate) -> bool {
        self.first <= d && d <= self.last
    }
}

/// The entries of `dir` sorted by name (the original used `os.listdir` order, which is
/// arbitrary; sorting makes runs reproducible).
pub fn sorted_entries(dir: &Path) -> Result<Vec<(String, PathBuf)>, HistoryError> {
    let rd = std::fs::read_dir(dir).map_err(|source| HistoryError::Read {
        path: dir.to_owned(),
        source,
    })?;
    let mut out: Vec<(String, PathBuf)> = rd
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some((name, e.path()))
        })
        .collect();
    out.sort();
    Ok(out)
}

/// One CSV cell: quoted like Python's `csv` module (QUOTE_MINIMAL) when needed.
pub fn csv_cell(out: &mut String, s: &str) {
    if s.contains([',', '"', '\n', '\r']) {
        out.push('"');
        out.push_str(&s.replace('"', "\"\""));
        out.push('"');
    } else {
        out.push_str(s);
    }
}

/// A float cell: Python repr, empty when missing.
pub fn float_cell(out: &mut String, v: Option<f64>) {
    if let Some(v) = v.filter(|v| !v.is_nan()) {
        out.push_str(&super::pyfmt::py_repr(v));
    }
}

/// An integer cell, empty when missing.
pub fn int_cell(out: &mut String, v: Option<i64>) {
    if let Some(v) = v {
        let _ = write!(out, "{v}");
    }
}

/// Writes `contents` to `path` atomically, creating the folder first.
pub fn write_file(path: &Path, contents: &[u8]) -> Result<(), HistoryError> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(|e| HistoryError::Write {
            path: path.to_owned(),
            message: format!("cannot create folder {}: {e}", dir.display()),
        })?;
    }
    crate::atomic::write_atomic(path, contents).map_err(|e| HistoryError::Write {
        path: path.to_owned(),
        message: e.to_string(),
    })
}

/// What a run of either script produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Outcome {
    /// The summary CSV written (not set with `--plot-only`).
    pub summary: Option<PathBuf>,
    /// Rows in the summary.
    pub rows: usize,
    /// Image files written.
    pub plots: Vec<PathBuf>,
}

/// Version of the `--report-json` layout ([`HistorySummary`]).
pub const SUMMARY_VERSION: u32 = 1;

/// The `process-online-plots` / `process-offline-plots` `--report-json` summary: what was
/// written, or why nothing was.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct HistorySummary {
    /// [`SUMMARY_VERSION`].
    pub version: u32,
    /// `--model` as given (`grok`, `deepseek`, …).
    pub model: String,
    /// The exit code.
    pub exit_code: u8,
    /// Why the run failed (the error line), `null` on success.
    pub error: Option<String>,
    /// The summary CSV written (`null` with `--plot-only` or on failure).
    pub summary_csv: Option<PathBuf>,
    /// Rows in the summary CSV.
    pub rows: usize,
    /// Image files written.
    pub plots: Vec<PathBuf>,
}

impl HistorySummary {
    /// The summary of a run of `model` that ended with `result`.
    pub fn of(model: &str, result: Result<&Outcome, &super::HistoryError>) -> Self {
        let (exit_code, error, outcome) = match result {
            Ok(o) => (0, None, o.clone()),
            Err(e) => (e.exit_code(), Some(e.to_string()), Outcome::default()),
        };
        Self {
            version: SUMMARY_VERSION,
            model: model.to_owned(),
            exit_code,
            error,
            summary_csv: outcome.summary,
            rows: outcome.rows,
            plots: outcome.plots,
        }
    }
}

/// `True`/`False`, as Python prints a bool.
pub(crate) fn py_bool(b: bool) -> &'static str {
    if b { "True" } else { "False" }
}

/// The options both scripts share, as given (before defaults are resolved): the original
/// scripts' common flags plus `--node-name`, `--summary-dir`, `--legacy` and `--format`.
#[derive(Debug, Clone)]
pub struct HistoryOptions {
    /// `--model` (the same four values in both scripts).
    pub model: OnlineModel,
    /// `--base-dir`.
    pub base_dir: PathBuf,
    /// `--data-dir`.
    pub data_dir: Option<PathBuf>,
    /// `--output-prefix`.
    pub output_prefix: Option<String>,
    /// `--plot-dir`.
    pub plot_dir: Option<PathBuf>,
    /// `--model-name`.
    pub model_name: Option<String>,
    /// `--days`.
    pub days: u32,
    /// `--process-only`.
    pub process_only: bool,
    /// `--plot-only`.
    pub plot_only: bool,
    /// `--summary-csv`.
    pub summary_csv: Option<PathBuf>,
    /// `--node-name` (default: the host name).
    pub node_name: String,
    /// `--summary-dir` (default: the data dir).
    pub summary_dir: Option<PathBuf>,
    /// `--legacy`: reproduce the original summary CSV byte for byte, quirks included.
    pub legacy: bool,
    /// `--format`.
    pub format: PlotFormat,
    /// The processing day (US Pacific).
    pub today: NaiveDate,
}

impl HistoryOptions {
    /// Rejects `--process-only` together with `--plot-only`, and flag values that become part
    /// of a file name but would lead out of their folder (issue 12).
    pub(crate) fn check_phases(&self) -> Result<(), HistoryError> {
        if self.process_only && self.plot_only {
            return Err(HistoryError::Usage {
                flag: "--process-only",
                message: "--process-only and --plot-only are mutually exclusive".into(),
            });
        }
        file_name_part("--node-name", &self.node_name)?;
        if let Some(p) = &self.output_prefix {
            file_name_part("--output-prefix", p)?;
        }
        if let Some(n) = &self.model_name {
            file_name_part("--model-name", n)?;
        }
        Ok(())
    }

    /// Resolves the folders and names of `mode` (`online`/`offline`) for the model folder
    /// `dir_name`: each flag, else its default. `default_model_name` `None` names the model
    /// after the output prefix. The summary CSV is `<prefix><summary_infix>_summary_<node>.csv`
    /// in `--summary-dir` (default: the data folder), or `--summary-csv` with `--plot-only`.
    pub(crate) fn folders(
        &self,
        mode: &str,
        dir_name: String,
        default_prefix: String,
        default_model_name: Option<&str>,
        summary_infix: &str,
    ) -> Folders {
        let data_dir = self
            .data_dir
            .clone()
            .unwrap_or_else(|| self.base_dir.join(mode).join(&dir_name));
        let output_prefix = self.output_prefix.clone().unwrap_or(default_prefix);
        let plot_dir = plot_dir_for(self.plot_dir.as_deref(), &self.base_dir, &dir_name, mode);
        let model_name = self.model_name.clone().unwrap_or_else(|| {
            default_model_name.map_or_else(|| output_prefix.clone(), str::to_owned)
        });
        let summary_path = match &self.summary_csv {
            Some(p) if self.plot_only => p.clone(),
            _ => self
                .summary_dir
                .as_deref()
                .unwrap_or(&data_dir)
                .join(format!(
                    "{output_prefix}{summary_infix}_summary_{}.csv",
                    self.node_name
                )),
        };
        Folders {
            dir_name,
            data_dir,
            output_prefix,
            plot_dir,
            model_name,
            summary_path,
        }
    }
}

/// The largest value a benchmark measurement (milliseconds, seconds, tokens per second,
/// accuracy, token counts, GB) can plausibly take; anything above is a broken file.
pub const MAX_MEASUREMENT: f64 = 1e12;

/// Whether `v` can be a measurement: finite, not negative, at most [`MAX_MEASUREMENT`].
/// `inf`, NaN, negative latencies and `1e308` are rejected like unparsable cells (issue 12).
pub fn plausible(v: f64) -> bool {
    v.is_finite() && (0.0..=MAX_MEASUREMENT).contains(&v)
}

/// Accepts a flag value that becomes part of a file or folder name only when it stays inside
/// its folder: no `/` or `\`, no `..`, no control characters, not empty.
pub(crate) fn file_name_part(flag: &'static str, value: &str) -> Result<(), HistoryError> {
    let why = if value.trim().is_empty() {
        Some("must not be empty")
    } else if value.contains(['/', '\\']) {
        Some("must not contain a path separator")
    } else if value.contains("..") {
        Some("must not contain `..`")
    } else if value.chars().any(char::is_control) {
        Some("must not contain control characters")
    } else {
        None
    };
    match why {
        Some(why) => Err(HistoryError::Usage {
            flag,
            message: format!(
                "{why}: it becomes part of a file name (got {:?})",
                crate::redact::escape_controls(value)
            ),
        }),
        None => Ok(()),
    }
}

/// The folders and names both scripts resolve from their options.
#[derive(Debug, Clone)]
pub struct Folders {
    /// `<DIR>`: the model's (variant's) folder name.
    pub dir_name: String,
    /// Folder holding the run folders.
    pub data_dir: PathBuf,
    /// Summary file prefix.
    pub output_prefix: String,
    /// Folder the plots go to.
    pub plot_dir: PathBuf,
    /// Name in plot titles.
    pub model_name: String,
    /// The summary CSV path (written, or read with `--plot-only`).
    pub summary_path: PathBuf,
}

impl Folders {
    /// The start of the configuration echo both scripts print: the heading, the `Model:`
    /// line (with the script's `variant`) and the folders.
    pub(crate) fn say_config(&self, say: Say<'_>, model: OnlineModel, variant: &str) {
        say("=== CONFIGURATION ===");
        say(&format!("Model: {} (variant: {variant})", model.as_str()));
        say(&format!("Data directory: {}", self.data_dir.display()));
        say(&format!("Output prefix: {}", self.output_prefix));
        say(&format!("Plot directory: {}", self.plot_dir.display()));
        say(&format!("Model name: {}", self.model_name));
    }
}

/// The configuration lines both scripts echo about the phases and the summary.
pub(crate) fn say_phases(say: Say<'_>, o: &HistoryOptions, summary: &Path) {
    say(&format!("Process only: {}", py_bool(o.process_only)));
    say(&format!("Plot only: {}", py_bool(o.plot_only)));
    say(&format!("Node name: {}", o.node_name));
    say(&format!("Summary CSV: {}", summary.display()));
}

/// The plot phase's precondition: the summary CSV exists.
pub(crate) fn require_summary(summary: &Path, say: Say<'_>) -> Result<(), HistoryError> {
    if summary.is_file() {
        return Ok(());
    }
    say(&format!(
        "ERROR: Summary CSV not found: {}",
        summary.display()
    ));
    Err(HistoryError::SummaryMissing {
        path: summary.to_owned(),
    })
}

/// The closing lines of a successful run.
pub(crate) fn say_complete(say: Say<'_>, o: &HistoryOptions) {
    say("=== COMPLETE ===");
    say(if o.plot_only {
        "Plotting completed successfully!"
    } else if o.process_only {
        "Processing completed successfully!"
    } else {
        "Both processing and plotting completed successfully!"
    });
}

/// The lines and the error when no records survive the processing phase.
pub(crate) fn no_data(say: Say<'_>, what: &'static str, data_dir: &Path) -> HistoryError {
    say("No data processed. Skipping CSV generation.");
    say("ERROR: Failed to generate summary CSV. Exiting.");
    HistoryError::NoData {
        what,
        data_dir: data_dir.to_owned(),
    }
}

/// Python's `str.capitalize()` of an ASCII word (`concurrency` -> `Concurrency`).
pub(crate) fn capitalized(word: &str) -> String {
    let mut c = word.to_owned();
    if let Some(first) = c.get_mut(..1) {
        first.make_ascii_uppercase();
    }
    c
}

/// Prints the loads of `mode` that `have` lacks or adds against `want` (`label, Mode m:
/// Missing/Extra <metric>s: [...]`); true when they are the same set.
pub(crate) fn say_load_mismatch(
    say: Say<'_>,
    label: &str,
    mode: &str,
    load_metric: &str,
    want: &BTreeSet<i64>,
    have: &BTreeSet<i64>,
) -> bool {
    if have == want {
        return true;
    }
    let missing: Vec<i64> = want.difference(have).copied().collect();
    let extra: Vec<i64> = have.difference(want).copied().collect();
    if !missing.is_empty() {
        say(&format!(
            "{label}, Mode {mode}: Missing {load_metric}s: {}",
            py_int_list(&missing)
        ));
    }
    if !extra.is_empty() {
        say(&format!(
            "{label}, Mode {mode}: Extra {load_metric}s: {}",
            py_int_list(&extra)
        ));
    }
    false
}

/// Column `name` of `df` as strings (an error when missing or of another type).
pub(crate) fn str_col(df: &DataFrame, name: &str) -> PolarsResult<StringChunked> {
    df.column(name).and_then(|c| c.str().cloned())
}

/// Column `name` of `df` as 64-bit integers.
pub(crate) fn i64_col(df: &DataFrame, name: &str) -> PolarsResult<Int64Chunked> {
    df.column(name).and_then(|c| c.i64().cloned())
}

/// Column `name` of `df` as 64-bit floats.
pub(crate) fn f64_col(df: &DataFrame, name: &str) -> PolarsResult<Float64Chunked> {
    df.column(name).and_then(|c| c.f64().cloned())
}

/// Column `name` of `df` as booleans.
pub(crate) fn bool_col(df: &DataFrame, name: &str) -> PolarsResult<BooleanChunked> {
    df.column(name).and_then(|c| c.bool().cloned())
}

/// `[1, 2, 4]` as Python prints a list of ints.
pub fn py_int_list(v: &[i64]) -> String {
    let items: Vec<String> = v.iter().map(i64::to_string).collect();
    format!("[{}]", items.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_in_names() {
        assert_eq!(
            first_8_digits("v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online"),
            Some("20251029")
        );
        assert_eq!(first_8_digits("timing_123456789"), Some("12345678"));
        assert_eq!(first_8_digits("rocm630"), None);
        assert!(parse_ymd("20251332").is_none());
    }

    #[test]
    fn window_is_inclusive() {
        let d = NaiveDate::from_ymd_opt(2025, 10, 29).unwrap();
        let w = Window::ending(d, 30);
        assert!(w.contains(d));
        assert!(w.contains(NaiveDate::from_ymd_opt(2025, 9, 30).unwrap()));
        assert!(!w.contains(NaiveDate::from_ymd_opt(2025, 9, 29).unwrap()));
        assert!(!w.contains(NaiveDate::from_ymd_opt(2025, 10, 30).unwrap()));
    }
}
