//! Sanity-check output (`test/sanity_check_log/<hw>/<docker_tag>/`): the GSM8K client logs of
//! each trial (`<MODEL>_<hw>_client_try<N>.log`, `<MODEL>_<hw>_warmup.log`) and the timing
//! summaries `timing_summary_<YYYYMMDD_HHMMSS>.log` in all three verdict generations
//! (spec nightly.md §7.9, reporting.md §4.3/§4.4, corpus README §1.2, §2.5, §3).
//!
//! * [`client_accuracy`] reads a trial or warm-up log the way `sanity_check.py` did: the
//!   **first** `Accuracy:` followed by optional whitespace and a run of digits and dots.
//! * [`parse_summary`] turns one timing summary into a [`SanitySummary`]: header, one
//!   [`ModelSection`] per `=== <MODEL> on <hw> ===` block (a model appears several times when
//!   start-up was retried), `SKIPPED` blocks and the `OVERALL SUMMARY`. A file cut short is
//!   a summary without `overall` whose last section is [`SectionOutcome::Incomplete`].
//! * [`SanityFolder`] reads every timing summary of a tag folder in file-name order and
//!   answers "the last section of each model over all summaries" ([`last_sections`]), which
//!   is the section whose trials the client logs on disk belong to.
//!
//! Numbers keep their printed text ([`Num`]) so a caller can compare or copy them verbatim; a
//! line whose number does not parse is reported in `unrecognized`, never given a guessed value.

use std::path::{Path, PathBuf};

use memchr::memmem;

use crate::text;
use crate::value::Num;

// ---------------------------------------------------------------------------------------------
// Client logs
// ---------------------------------------------------------------------------------------------

/// What a trial or warm-up client log says about accuracy.
#[derive(Debug, Clone, PartialEq)]
pub enum ClientAccuracy {
    /// The first `Accuracy:` followed by a number (`Accuracy: 0.804` → `0.804`).
    Found(Num),
    /// `Accuracy:` followed by a run of digits and dots that is not a number (`Accuracy: .`);
    /// the original would have crashed on it.
    Malformed(String),
    /// No `Accuracy:` followed by digits anywhere (killed client, traceback, empty file).
    Missing,
}

impl ClientAccuracy {
    /// The value when one was found.
    pub fn value(&self) -> Option<f64> {
        match self {
            Self::Found(n) => Some(n.value),
            _ => None,
        }
    }
}

/// The first `Accuracy:` + optional whitespace + digits/dots in a client log, like the
/// original's `re.search(r"Accuracy:\s*([\d.]+)", text)`: an `Accuracy:` not followed by a
/// number is skipped and the search goes on. Works on raw bytes, so progress bars, ANSI codes
/// and invalid UTF-8 around it do not matter.
pub fn client_accuracy(data: &[u8]) -> ClientAccuracy {
    const KEY: &[u8] = b"Accuracy:";
    for at in memmem::find_iter(data, KEY) {
        let rest = &data[at + KEY.len()..];
        let ws = rest
            .iter()
            .position(|b| !matches!(b, b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c))
            .unwrap_or(rest.len());
        let rest = &rest[ws..];
        let n = rest
            .iter()
            .position(|b| !(b.is_ascii_digit() || *b == b'.'))
            .unwrap_or(rest.len());
        if n == 0 {
            continue;
        }
        // Only ASCII digits and dots: always valid UTF-8.
        let s = String::from_utf8_lossy(&rest[..n]);
        return match Num::parse(&s) {
            Some(n) => ClientAccuracy::Found(n),
            None => ClientAccuracy::Malformed(s.into_owned()),
        };
    }
    ClientAccuracy::Missing
}

/// File name of trial `trial`'s client log: `<MODEL>_<hw>_client_try<N>.log`.
pub fn client_log_name(model: &str, hardware: &str, trial: u32) -> String {
    format!("{model}_{hardware}_client_try{trial}.log")
}

/// File name of the warm-up client log: `<MODEL>_<hw>_warmup.log`.
pub fn warmup_log_name(model: &str, hardware: &str) -> String {
    format!("{model}_{hardware}_warmup.log")
}

/// Python's `repr()` of a float (shortest round-trip text, `0.85`, `0.0`, `1e-05`), the form
/// the `Accuracies: [...]` line uses.
pub fn py_float_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".into();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.into();
    }
    // Rust's Debug is the shortest round-trip form with the same switch to scientific notation
    // as Python (exponent < -4 or >= 16); only the exponent spelling differs.
    let s = format!("{x:?}");
    match s.split_once('e') {
        None => s,
        Some((mantissa, exp)) => {
            let (sign, digits) = match exp.strip_prefix('-') {
                Some(d) => ('-', d),
                None => ('+', exp),
            };
            let mantissa = mantissa.strip_suffix(".0").unwrap_or(mantissa);
            format!("{mantissa}e{sign}{digits:0>2}")
        }
    }
}

/// Python's `repr()` of a list of floats: `[0.86, 0.855, 0.851]`.
pub fn py_list_repr(values: &[f64]) -> String {
    let items: Vec<String> = values.iter().map(|v| py_float_repr(*v)).collect();
    format!("[{}]", items.join(", "))
}

// ---------------------------------------------------------------------------------------------
// Timing summary types
// ---------------------------------------------------------------------------------------------

/// A parsed sanity timing summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct SanitySummary {
    /// The header block.
    pub header: Header,
    /// Every `=== <MODEL> on <hw> ===` section in file order (retries give several per model).
    pub sections: Vec<ModelSection>,
    /// Models skipped before start-up (path missing, no launch command).
    pub skipped: Vec<SkippedModel>,
    /// The `OVERALL SUMMARY` block; `None` when the file was cut before it.
    pub overall: Option<Overall>,
    /// 1-based numbers of non-empty lines that matched no known form (a line cut in half, a
    /// format this parser does not know). Empty for every file of the corpus.
    pub unrecognized: Vec<usize>,
}

/// Header lines (`None` when absent, e.g. `Machine:` before December or a file cut short).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    /// `SGLang Sanity Check Timing Summary` was seen.
    pub title: bool,
    /// `Start time:` of the run (`2025-10-29 09:40:43 PDT`).
    pub start_time: Option<String>,
    /// `Machine:` host name (December on).
    pub machine: Option<String>,
    /// `Platform:` (`mi30x`, `mi35x`).
    pub platform: Option<String>,
    /// `Models:` list, split on `,` and trimmed.
    pub models: Option<Vec<String>>,
    /// `Trials per model:`.
    pub trials_per_model: Option<u32>,
    /// `Docker image:` (`Not specified` kept as is).
    pub docker_image: Option<String>,
}

/// `PASS [OK]` or `FAIL [X]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mark {
    /// `PASS [OK]`.
    Pass,
    /// `FAIL [X]`.
    Fail,
}

impl Mark {
    fn parse(s: &str) -> Option<Self> {
        match s {
            "PASS [OK]" => Some(Self::Pass),
            "FAIL [X]" => Some(Self::Fail),
            _ => None,
        }
    }
}

/// One `=== <MODEL> on <hw> ===` section.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ModelSection {
    /// Model key (`GPT-OSS-120B`).
    pub model: String,
    /// Hardware (`mi30x`).
    pub hardware: String,
    /// 1-based line number of the `===` header.
    pub line: usize,
    /// `Start time:`.
    pub start_time: Option<String>,
    /// `Note: Running with --disable-cuda-graph fallback`.
    pub cuda_graph_fallback: bool,
    /// `Server startup:` line.
    pub startup: Option<Startup>,
    /// `Error:` line after a failed start-up.
    pub error: Option<StartupError>,
    /// `💡 Suggestion:` text.
    pub suggestion: Option<String>,
    /// `🔄 Retry ...` line: another section of the same model follows.
    pub retry: Option<Retry>,
    /// `Warmup run:` line (December on).
    pub warmup: Option<Warmup>,
    /// `Trial <N>:` lines in order.
    pub trials: Vec<Trial>,
    /// `Early exit:` line.
    pub early_exit: Option<EarlyExit>,
    /// `Server shutdown: <s>s`.
    pub shutdown: Option<Num>,
    /// `Final result:`.
    pub final_result: Option<Mark>,
    /// `Accuracies: [...]`.
    pub accuracies: Option<AccuracyList>,
    /// `Average accuracy:` / `Highest accuracy:` / `Accuracy: (Required: )` line.
    pub verdict: Option<VerdictLine>,
    /// `Total time: <s>s`.
    pub total_time: Option<Num>,
    /// `End time:`.
    pub end_time: Option<String>,
    /// The closing 50 × `=` line was seen (tested sections only).
    pub closed: bool,
}

/// How a section ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SectionOutcome {
    /// `Final result: PASS [OK]`.
    Pass,
    /// `Final result: FAIL [X]`.
    Fail,
    /// `Server startup: FAILED after <s>s` (no trials ran).
    StartupFailed,
    /// Neither: the file was cut inside the section.
    Incomplete,
}

impl ModelSection {
    /// How this section ended.
    pub fn outcome(&self) -> SectionOutcome {
        match (self.final_result, &self.startup) {
            (Some(Mark::Pass), _) => SectionOutcome::Pass,
            (Some(Mark::Fail), _) => SectionOutcome::Fail,
            (None, Some(Startup::Failed { .. })) => SectionOutcome::StartupFailed,
            (None, _) => SectionOutcome::Incomplete,
        }
    }

    /// The per-model status the `OVERALL SUMMARY` prints for this section, `None` when the
    /// section is incomplete.
    pub fn overall_status(&self) -> Option<ModelStatus> {
        match self.outcome() {
            SectionOutcome::Pass => Some(ModelStatus::Pass),
            SectionOutcome::Fail | SectionOutcome::StartupFailed => Some(ModelStatus::Fail),
            SectionOutcome::Incomplete => None,
        }
    }

    /// Which verdict generation the section was written by, from its verdict line.
    pub fn generation(&self) -> Option<VerdictGeneration> {
        self.verdict.as_ref().map(|v| v.generation)
    }
}

/// `Server startup:` line.
#[derive(Debug, Clone, PartialEq)]
pub enum Startup {
    /// `Server startup: <s>s`.
    Ready {
        /// Seconds until ready.
        secs: Num,
    },
    /// `Server startup: FAILED after <s>s`.
    Failed {
        /// Seconds until the failure was declared.
        after: Num,
    },
}

/// `Error: ...` after a failed start-up.
#[derive(Debug, Clone, PartialEq)]
pub struct StartupError {
    /// The classified error.
    pub kind: ErrorKind,
    /// Everything after `Error: `.
    pub text: String,
}

/// Kinds of start-up failure the worker reported.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// `Out of memory (current mem_fraction_static=<v>)` (also every plain timeout, Q-SAN-1).
    OutOfMemory {
        /// The `mem_fraction_static` value as printed (`0.85`, `unknown`).
        mem_fraction_static: String,
    },
    /// `Timeout during kernel compilation`.
    CompilationTimeout,
    /// `Kernel compilation deadlock (<module> (N workers waiting))`.
    KernelDeadlock {
        /// Module or hash (`mha_batch_pr`, `14860e65`, `unknown`).
        module: String,
        /// Waiting workers, when printed.
        workers: Option<u32>,
    },
    /// `Aiter JIT builder hung (<module> (no progress for Ns))`.
    AiterJitHung {
        /// JIT module name.
        module: String,
        /// Seconds without progress, as printed.
        no_progress_secs: Option<String>,
    },
    /// `Code bug - <exception text>`.
    CodeBug {
        /// The exception line (`AttributeError: ...`).
        message: String,
    },
    /// `Child process crashed during startup`.
    ChildCrashed,
    /// Any other text.
    Other,
}

/// `🔄` retry announcement that ends a failed section.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Retry {
    /// `🔄 Retry k/n - using cached kernels from previous runs...`.
    CachedKernels {
        /// k.
        attempt: u32,
        /// n.
        of: u32,
    },
    /// `🔄 Retrying with --disable-cuda-graph fallback...`.
    DisableCudaGraph,
}

/// `Warmup run: <s>s - PASSED (accuracy: <a>)`.
#[derive(Debug, Clone, PartialEq)]
pub struct Warmup {
    /// Duration in seconds as printed (`134.1`).
    pub secs: Num,
    /// `PASSED` or another status word, verbatim.
    pub status: String,
    /// The accuracy in parentheses, when printed.
    pub accuracy: Option<Num>,
}

impl Warmup {
    /// `status == "PASSED"`.
    pub fn passed(&self) -> bool {
        self.status == "PASSED"
    }
}

/// One `Trial <N>:` line.
#[derive(Debug, Clone, PartialEq)]
pub struct Trial {
    /// Trial number N (1-based; names `..._client_try<N>.log`).
    pub number: u32,
    /// What the line says.
    pub outcome: TrialOutcome,
    /// `Time: <s>s`, when printed.
    pub time: Option<Num>,
}

/// The forms of a trial line.
#[derive(Debug, Clone, PartialEq)]
pub enum TrialOutcome {
    /// `PASS [OK]|FAIL [X] (Accuracy: <a.aaa>, Time: ...)`.
    Accuracy {
        /// The mark.
        mark: Mark,
        /// The accuracy with 3 decimals, as printed.
        accuracy: Num,
    },
    /// `FAIL [X] (No accuracy found in <path>, Time: ...)` (accuracy counts as 0.0).
    NoAccuracy {
        /// The client log path as printed.
        path: String,
    },
    /// `FAIL [X] (Benchmark timeout after <s>s, Time: ...)` (accuracy counts as 0.0).
    Timeout {
        /// The timeout as printed (`600`).
        after: String,
    },
    /// `FAILED - Server process died` (accuracy counts as 0.0).
    ServerDied,
}

impl Trial {
    /// The accuracy the worker used for this trial (0.0 for failed trials).
    pub fn accuracy_value(&self) -> f64 {
        match &self.outcome {
            TrialOutcome::Accuracy { accuracy, .. } => accuracy.value,
            _ => 0.0,
        }
    }

    /// `PASS [OK]` trial.
    pub fn passed(&self) -> bool {
        matches!(
            self.outcome,
            TrialOutcome::Accuracy {
                mark: Mark::Pass,
                ..
            }
        )
    }
}

/// `Early exit:` line (December on).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EarlyExit {
    /// `Early exit: Warmup passed, skipped N trial(s)`.
    WarmupPassed {
        /// Trials skipped.
        skipped: u32,
    },
    /// `Early exit: Passed on trial T, skipped N trial(s)`.
    PassedOnTrial {
        /// Trial that passed.
        trial: u32,
        /// Trials skipped.
        skipped: u32,
    },
}

/// `Accuracies: [...]` line.
#[derive(Debug, Clone, PartialEq)]
pub struct AccuracyList {
    /// The bracketed text verbatim (`[0.86, 0.855, 0.851]`).
    pub text: String,
    /// The values; `None` when an item is not a number.
    pub values: Option<Vec<f64>>,
}

/// Which rule decided the section's result.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictGeneration {
    /// Up to 2025-10-20: `Average accuracy: <mean> (Required: <r>)`, PASS iff mean ≥ r.
    Average,
    /// 2025-10-28 … 12-11: `Highest accuracy: <max> (Required: <r>)`, PASS iff max ≥ r.
    Highest,
    /// From 2025-12-12: `Accuracy: <a> (Required: <r>)`, `<a>` = warm-up or passing trial.
    EarlyExit,
}

/// The verdict line with its two numbers.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictLine {
    /// Which form.
    pub generation: VerdictGeneration,
    /// The accuracy (mean, max or single) as printed.
    pub accuracy: Num,
    /// The threshold as printed.
    pub required: Num,
}

/// A model skipped before start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SkippedModel {
    /// Model key.
    pub model: String,
    /// Why.
    pub reason: SkipReason,
    /// 1-based line number.
    pub line: usize,
}

/// Why a model was skipped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SkipReason {
    /// `<model>: SKIPPED - <reason>` (`Model path does not exist: <path>` ...).
    Unavailable(String),
    /// `<model>: SKIPPED (no launch command for <hw>)`.
    NoLaunchCommand(String),
}

/// Per-model status in the `OVERALL SUMMARY`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ModelStatus {
    /// `PASS`.
    Pass,
    /// `FAIL`.
    Fail,
    /// `SKIPPED`.
    Skipped,
}

/// `Models passed:` / `Models failed:` value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Count {
    /// `n/of`.
    Ratio {
        /// Numerator.
        n: u32,
        /// Denominator.
        of: u32,
    },
    /// `0 (no models tested)`.
    NoneTested,
}

/// The `OVERALL SUMMARY` block.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Overall {
    /// `End time:`.
    pub end_time: Option<String>,
    /// `Total execution time: <s>s (<m> minutes)`: seconds.
    pub total_secs: Option<Num>,
    /// ... and minutes.
    pub total_minutes: Option<Num>,
    /// `Average time per model: <s>s`.
    pub average_per_model: Option<Num>,
    /// `Models tested: T/M` (absent in the oldest files).
    pub tested: Option<(u32, u32)>,
    /// `Models passed:`.
    pub passed: Option<Count>,
    /// `Models failed:` (absent in the oldest files).
    pub failed: Option<Count>,
    /// `Models skipped: S/M` (absent in the oldest files).
    pub skipped: Option<(u32, u32)>,
    /// `  <MODEL>: PASS|FAIL|SKIPPED` lines in order.
    pub per_model: Vec<(String, ModelStatus)>,
}

// ---------------------------------------------------------------------------------------------
// Timing summary parser
// ---------------------------------------------------------------------------------------------

fn is_separator(t: &str) -> bool {
    t.len() >= 10 && t.bytes().all(|b| b == b'=')
}

/// `=== <MODEL> on <hw> ===`.
fn section_header(t: &str) -> Option<(&str, &str)> {
    let inner = t.strip_prefix("=== ")?.strip_suffix(" ===")?;
    let (model, hw) = inner.rsplit_once(" on ")?;
    let (model, hw) = (model.trim(), hw.trim());
    if model.is_empty() || hw.is_empty() || model.contains(' ') || hw.contains(' ') {
        return None;
    }
    Some((model, hw))
}

/// `<n>s` exactly (the whole string).
fn secs(s: &str) -> Option<Num> {
    let n = text::leading_number(s)?;
    if s.trim_start_matches([' ', '\t']).strip_prefix(n)? == "s" {
        Num::parse(n)
    } else {
        None
    }
}

/// `<a> (Required: <r>)`.
fn acc_required(s: &str) -> Option<(Num, Num)> {
    let (a, r) = s.split_once(" (Required: ")?;
    let r = r.strip_suffix(')')?;
    let a = text::leading_number(a).filter(|n| *n == a.trim())?;
    let r = text::leading_number(r).filter(|n| *n == r.trim())?;
    Some((Num::parse(a)?, Num::parse(r)?))
}

fn ratio(s: &str) -> Option<(u32, u32)> {
    let (a, b) = s.trim().split_once('/')?;
    Some((a.trim().parse().ok()?, b.trim().parse().ok()?))
}

fn count(s: &str) -> Option<Count> {
    if s.trim() == "0 (no models tested)" {
        return Some(Count::NoneTested);
    }
    ratio(s).map(|(n, of)| Count::Ratio { n, of })
}

fn parse_error(text: &str) -> ErrorKind {
    if let Some(v) = text
        .strip_prefix("Out of memory (current mem_fraction_static=")
        .and_then(|r| r.strip_suffix(')'))
    {
        return ErrorKind::OutOfMemory {
            mem_fraction_static: v.to_owned(),
        };
    }
    if text == "Timeout during kernel compilation" {
        return ErrorKind::CompilationTimeout;
    }
    if let Some(inner) = text
        .strip_prefix("Kernel compilation deadlock (")
        .and_then(|r| r.strip_suffix(')'))
    {
        return match inner.rsplit_once(" (") {
            Some((module, w)) => ErrorKind::KernelDeadlock {
                module: module.to_owned(),
                workers: w
                    .strip_suffix(" workers waiting)")
                    .and_then(|n| n.parse().ok()),
            },
            None => ErrorKind::KernelDeadlock {
                module: inner.to_owned(),
                workers: None,
            },
        };
    }
    if let Some(inner) = text
        .strip_prefix("Aiter JIT builder hung (")
        .and_then(|r| r.strip_suffix(')'))
    {
        return match inner.rsplit_once(" (") {
            Some((module, w)) => ErrorKind::AiterJitHung {
                module: module.to_owned(),
                no_progress_secs: w
                    .strip_prefix("no progress for ")
                    .and_then(|r| r.strip_suffix("s)"))
                    .map(str::to_owned),
            },
            None => ErrorKind::AiterJitHung {
                module: inner.to_owned(),
                no_progress_secs: None,
            },
        };
    }
    if let Some(m) = text.strip_prefix("Code bug - ") {
        return ErrorKind::CodeBug {
            message: m.to_owned(),
        };
    }
    if text == "Child process crashed during startup" {
        return ErrorKind::ChildCrashed;
    }
    ErrorKind::Other
}

/// `Trial <N>: ...`.
fn parse_trial(rest: &str) -> Option<Trial> {
    let (num, body) = rest.split_once(": ")?;
    let number: u32 = num.parse().ok()?;
    if body == "FAILED - Server process died" {
        return Some(Trial {
            number,
            outcome: TrialOutcome::ServerDied,
            time: None,
        });
    }
    let (mark, paren) = if let Some(p) = body.strip_prefix("PASS [OK] (") {
        (Mark::Pass, p)
    } else {
        (Mark::Fail, body.strip_prefix("FAIL [X] (")?)
    };
    let paren = paren.strip_suffix(')')?;
    let (what, time) = paren.rsplit_once(", Time: ")?;
    let time = secs(time)?;
    let outcome = if let Some(a) = what.strip_prefix("Accuracy: ") {
        let n = text::leading_number(a).filter(|n| *n == a)?;
        TrialOutcome::Accuracy {
            mark,
            accuracy: Num::parse(n)?,
        }
    } else if let Some(p) = what.strip_prefix("No accuracy found in ") {
        TrialOutcome::NoAccuracy { path: p.to_owned() }
    } else if let Some(t) = what.strip_prefix("Benchmark timeout after ") {
        TrialOutcome::Timeout {
            after: t.strip_suffix('s').unwrap_or(t).to_owned(),
        }
    } else {
        return None;
    };
    if mark == Mark::Pass && !matches!(outcome, TrialOutcome::Accuracy { .. }) {
        return None;
    }
    Some(Trial {
        number,
        outcome,
        time: Some(time),
    })
}

/// `Warmup run: <s>s - <STATUS>[ (accuracy: <a>)]`.
fn parse_warmup(rest: &str) -> Option<Warmup> {
    let (d, tail) = rest.split_once(" - ")?;
    let secs = secs(d)?;
    let (status, accuracy) = match tail.split_once(" (accuracy: ") {
        Some((st, a)) => {
            let a = a.strip_suffix(')')?;
            let n = text::leading_number(a).filter(|n| *n == a)?;
            (st, Some(Num::parse(n)?))
        }
        None => (tail, None),
    };
    Some(Warmup {
        secs,
        status: status.to_owned(),
        accuracy,
    })
}

fn parse_early_exit(rest: &str) -> Option<EarlyExit> {
    let skipped = |s: &str| -> Option<u32> {
        s.strip_prefix("skipped ")?
            .strip_suffix(" trial(s)")?
            .parse()
            .ok()
    };
    if let Some(s) = rest.strip_prefix("Warmup passed, ") {
        return Some(EarlyExit::WarmupPassed {
            skipped: skipped(s)?,
        });
    }
    let (t, s) = rest.strip_prefix("Passed on trial ")?.split_once(", ")?;
    Some(EarlyExit::PassedOnTrial {
        trial: t.parse().ok()?,
        skipped: skipped(s)?,
    })
}

fn parse_accuracy_list(rest: &str) -> Option<AccuracyList> {
    let inner = rest.strip_prefix('[')?.strip_suffix(']')?;
    let values = if inner.trim().is_empty() {
        Some(Vec::new())
    } else {
        inner
            .split(',')
            .map(|v| v.trim().parse::<f64>().ok())
            .collect()
    };
    Some(AccuracyList {
        text: rest.to_owned(),
        values,
    })
}

/// Applies a section line; `false` when the line is not a section line.
fn section_line(s: &mut ModelSection, t: &str) -> bool {
    if let Some(v) = t.strip_prefix("Start time: ") {
        s.start_time = Some(v.to_owned());
    } else if t == "Note: Running with --disable-cuda-graph fallback" {
        s.cuda_graph_fallback = true;
    } else if let Some(v) = t.strip_prefix("Server startup: ") {
        s.startup = Some(match v.strip_prefix("FAILED after ") {
            Some(a) => match secs(a) {
                Some(after) => Startup::Failed { after },
                None => return false,
            },
            None => match secs(v) {
                Some(secs) => Startup::Ready { secs },
                None => return false,
            },
        });
    } else if let Some(v) = t.strip_prefix("Error: ") {
        s.error = Some(StartupError {
            kind: parse_error(v),
            text: v.to_owned(),
        });
    } else if let Some(v) = t.strip_prefix("💡 Suggestion: ") {
        s.suggestion = Some(v.to_owned());
    } else if let Some(v) = t.strip_prefix("🔄 ") {
        s.retry = Some(if v == "Retrying with --disable-cuda-graph fallback..." {
            Retry::DisableCudaGraph
        } else {
            let Some(r) = v
                .strip_prefix("Retry ")
                .and_then(|r| r.split_once(' '))
                .and_then(|(k, _)| ratio(k))
            else {
                return false;
            };
            Retry::CachedKernels {
                attempt: r.0,
                of: r.1,
            }
        });
    } else if let Some(v) = t.strip_prefix("Warmup run: ") {
        match parse_warmup(v) {
            Some(w) => s.warmup = Some(w),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Trial ") {
        match parse_trial(v) {
            Some(tr) => s.trials.push(tr),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Early exit: ") {
        match parse_early_exit(v) {
            Some(e) => s.early_exit = Some(e),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Server shutdown: ") {
        match secs(v) {
            Some(n) => s.shutdown = Some(n),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Final result: ") {
        match Mark::parse(v) {
            Some(m) => s.final_result = Some(m),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Accuracies: ") {
        match parse_accuracy_list(v) {
            Some(l) => s.accuracies = Some(l),
            None => return false,
        }
    } else if let Some((generation, v)) = [
        ("Average accuracy: ", VerdictGeneration::Average),
        ("Highest accuracy: ", VerdictGeneration::Highest),
        ("Accuracy: ", VerdictGeneration::EarlyExit),
    ]
    .iter()
    .find_map(|(p, g)| t.strip_prefix(p).map(|v| (*g, v)))
    {
        match acc_required(v) {
            Some((accuracy, required)) => {
                s.verdict = Some(VerdictLine {
                    generation,
                    accuracy,
                    required,
                });
            }
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Total time: ") {
        match secs(v) {
            Some(n) => s.total_time = Some(n),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("End time: ") {
        s.end_time = Some(v.to_owned());
    } else {
        return false;
    }
    true
}

/// `<model>: SKIPPED - <reason>` / `<model>: SKIPPED (no launch command for <hw>)`.
fn skipped_line(t: &str) -> Option<(String, SkipReason)> {
    if t.starts_with(' ') {
        return None;
    }
    let (model, rest) = t.split_once(": SKIPPED")?;
    if model.is_empty() || model.contains(' ') {
        return None;
    }
    let reason = if let Some(r) = rest.strip_prefix(" - ") {
        SkipReason::Unavailable(r.to_owned())
    } else {
        let hw = rest
            .strip_prefix(" (no launch command for ")?
            .strip_suffix(')')?;
        SkipReason::NoLaunchCommand(hw.to_owned())
    };
    Some((model.to_owned(), reason))
}

fn header_line(h: &mut Header, t: &str) -> bool {
    if let Some(v) = t.strip_prefix("Start time: ") {
        h.start_time = Some(v.to_owned());
    } else if let Some(v) = t.strip_prefix("Machine: ") {
        h.machine = Some(v.to_owned());
    } else if let Some(v) = t.strip_prefix("Platform: ") {
        h.platform = Some(v.to_owned());
    } else if let Some(v) = t.strip_prefix("Models:") {
        h.models = Some(
            v.split(',')
                .map(str::trim)
                .filter(|m| !m.is_empty())
                .map(str::to_owned)
                .collect(),
        );
    } else if let Some(v) = t.strip_prefix("Trials per model: ") {
        match v.trim().parse() {
            Ok(n) => h.trials_per_model = Some(n),
            Err(_) => return false,
        }
    } else if let Some(v) = t.strip_prefix("Docker image: ") {
        h.docker_image = Some(v.to_owned());
    } else {
        return false;
    }
    true
}

fn overall_line(o: &mut Overall, t: &str) -> bool {
    if let Some(v) = t.strip_prefix("End time: ") {
        o.end_time = Some(v.to_owned());
    } else if let Some(v) = t.strip_prefix("Total execution time: ") {
        let Some((s, m)) = v.split_once(" (") else {
            return false;
        };
        let (Some(s), Some(m)) = (
            secs(s),
            m.strip_suffix(" minutes)")
                .and_then(|m| text::leading_number(m).filter(|n| *n == m))
                .and_then(Num::parse),
        ) else {
            return false;
        };
        o.total_secs = Some(s);
        o.total_minutes = Some(m);
    } else if let Some(v) = t.strip_prefix("Average time per model: ") {
        match secs(v) {
            Some(n) => o.average_per_model = Some(n),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Models tested: ") {
        match ratio(v) {
            Some(r) => o.tested = Some(r),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Models passed: ") {
        match count(v) {
            Some(c) => o.passed = Some(c),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Models failed: ") {
        match count(v) {
            Some(c) => o.failed = Some(c),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("Models skipped: ") {
        match ratio(v) {
            Some(r) => o.skipped = Some(r),
            None => return false,
        }
    } else if let Some(v) = t.strip_prefix("  ") {
        let Some((model, st)) = v.split_once(": ") else {
            return false;
        };
        let st = match st {
            "PASS" => ModelStatus::Pass,
            "FAIL" => ModelStatus::Fail,
            "SKIPPED" => ModelStatus::Skipped,
            _ => return false,
        };
        o.per_model.push((model.to_owned(), st));
    } else {
        return false;
    }
    true
}

/// Parses one sanity timing summary. Never fails: missing parts are `None`, a file cut short
/// has no `overall` and ends with an [`SectionOutcome::Incomplete`] section, and lines of no
/// known form are listed in [`SanitySummary::unrecognized`].
pub fn parse_summary(data: &[u8]) -> SanitySummary {
    let mut out = SanitySummary::default();
    let mut current: Option<ModelSection> = None;
    let mut in_overall = false;
    for (idx, raw) in text::lines(data).enumerate() {
        let lineno = idx + 1;
        let cleaned = text::clean(raw);
        let t = cleaned.trim_end();
        if t.is_empty() {
            continue;
        }
        if t == "SGLang Sanity Check Timing Summary" {
            out.header.title = true;
            continue;
        }
        if is_separator(t) {
            if let Some(mut s) = current.take() {
                s.closed = true;
                out.sections.push(s);
            }
            continue;
        }
        if let Some((model, hw)) = section_header(t) {
            if let Some(s) = current.take() {
                out.sections.push(s);
            }
            in_overall = false;
            current = Some(ModelSection {
                model: model.to_owned(),
                hardware: hw.to_owned(),
                line: lineno,
                ..ModelSection::default()
            });
            continue;
        }
        if t == "OVERALL SUMMARY" {
            if let Some(s) = current.take() {
                out.sections.push(s);
            }
            in_overall = true;
            out.overall = Some(Overall::default());
            continue;
        }
        if in_overall {
            let known = out.overall.as_mut().is_some_and(|o| overall_line(o, t));
            if !known {
                out.unrecognized.push(lineno);
            }
            continue;
        }
        if let Some((model, reason)) = skipped_line(t) {
            if let Some(s) = current.take() {
                out.sections.push(s);
            }
            out.skipped.push(SkippedModel {
                model,
                reason,
                line: lineno,
            });
            continue;
        }
        if t == "  Note: Model/tokenizer files not available, not counted as failure" {
            continue;
        }
        if let Some(s) = current.as_mut() {
            if section_line(s, t) {
                continue;
            }
        } else if out.sections.is_empty()
            && out.skipped.is_empty()
            && header_line(&mut out.header, t)
        {
            continue;
        }
        out.unrecognized.push(lineno);
    }
    if let Some(s) = current.take() {
        out.sections.push(s);
    }
    out
}

/// The last section of each model over `summaries` (give them in file-name order, oldest
/// first), in order of each model's first appearance. This is the section the client logs on
/// disk belong to: every invocation overwrites the logs of the models it ran.
pub fn last_sections<'a, I>(summaries: I) -> Vec<&'a ModelSection>
where
    I: IntoIterator<Item = &'a SanitySummary>,
{
    let mut out: Vec<&'a ModelSection> = Vec::new();
    for summary in summaries {
        for s in &summary.sections {
            match out.iter_mut().find(|x| x.model == s.model) {
                Some(slot) => *slot = s,
                None => out.push(s),
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Tag folder
// ---------------------------------------------------------------------------------------------

/// Errors reading a sanity tag folder.
#[derive(Debug, thiserror::Error)]
pub enum SanityError {
    /// The folder cannot be listed.
    #[error("cannot list sanity log folder {path}: {source} (check the path and permissions)")]
    ListDir {
        /// The folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A timing summary cannot be read.
    #[error("cannot read sanity timing summary {path}: {source} (check permissions)")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
}

/// One timing summary of a folder.
#[derive(Debug, Clone)]
pub struct SummaryFile {
    /// File name (`timing_summary_20251029_094043.log`).
    pub name: String,
    /// Its content.
    pub summary: SanitySummary,
}

/// Every timing summary of a sanity tag folder (`test/sanity_check_log/<hw>/<tag>/`).
#[derive(Debug, Clone)]
pub struct SanityFolder {
    /// The folder.
    pub dir: PathBuf,
    /// `timing_summary_*.log` files in file-name order (oldest first).
    pub summaries: Vec<SummaryFile>,
}

impl SanityFolder {
    /// Reads and parses every `timing_summary_*.log` of `dir`. A folder without any is not an
    /// error (`summaries` is empty).
    pub fn read(dir: &Path) -> Result<Self, SanityError> {
        let entries = std::fs::read_dir(dir).map_err(|source| SanityError::ListDir {
            path: dir.to_owned(),
            source,
        })?;
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| SanityError::ListDir {
                path: dir.to_owned(),
                source,
            })?;
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with("timing_summary_") && name.ends_with(".log") {
                names.push(name);
            }
        }
        names.sort();
        let mut summaries = Vec::with_capacity(names.len());
        for name in names {
            let path = dir.join(&name);
            let data = std::fs::read(&path).map_err(|source| SanityError::Read { path, source })?;
            summaries.push(SummaryFile {
                summary: parse_summary(&data),
                name,
            });
        }
        Ok(Self {
            dir: dir.to_owned(),
            summaries,
        })
    }

    /// The last section of each model over all summaries (see [`last_sections`]).
    pub fn last_sections(&self) -> Vec<&ModelSection> {
        last_sections(self.summaries.iter().map(|f| &f.summary))
    }

    /// Path of a trial's client log in this folder.
    pub fn client_log(&self, section: &ModelSection, trial: u32) -> PathBuf {
        self.dir
            .join(client_log_name(&section.model, &section.hardware, trial))
    }

    /// Path of a model's warm-up log in this folder.
    pub fn warmup_log(&self, section: &ModelSection) -> PathBuf {
        self.dir
            .join(warmup_log_name(&section.model, &section.hardware))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn n(s: &str) -> Num {
        Num::parse(s).expect("a number")
    }

    const FULL: &[u8] = include_bytes!("../../../fixtures/sanity/timing_summary_highest.log");
    const EARLY: &[u8] = include_bytes!("../../../fixtures/sanity/timing_summary_early_exit.log");
    const TRUNCATED: &[u8] =
        include_bytes!("../../../fixtures/sanity/timing_summary_truncated.log");
    const AVERAGE: &[u8] = include_bytes!("../../../fixtures/sanity/timing_summary_average.log");
    const CLIENT: &[u8] = include_bytes!("../../../fixtures/sanity/client_try1.log");

    #[test]
    fn client_accuracy_is_the_first_number_after_accuracy() {
        assert_eq!(client_accuracy(CLIENT), ClientAccuracy::Found(n("0.812")));
        // `Accuracy:` without a number is skipped, as the original regex search does.
        assert_eq!(
            client_accuracy(b"Accuracy: n/a\r 50%|##\rAccuracy:\n 0.5\nAccuracy: 0.9"),
            ClientAccuracy::Found(n("0.5"))
        );
        assert_eq!(client_accuracy(b""), ClientAccuracy::Missing);
        assert_eq!(
            client_accuracy(b"Traceback\nConnectionError"),
            ClientAccuracy::Missing
        );
        assert_eq!(
            client_accuracy(b"Accuracy: ..."),
            ClientAccuracy::Malformed("...".into())
        );
        assert_eq!(
            client_accuracy(b"\xff\xfe\x1b[1mAccuracy: 0.70\x1b[0m"),
            ClientAccuracy::Found(n("0.70"))
        );
    }

    #[test]
    fn python_float_repr() {
        assert_eq!(py_float_repr(0.85), "0.85");
        assert_eq!(py_float_repr(0.0), "0.0");
        assert_eq!(py_float_repr(1.0), "1.0");
        assert_eq!(py_float_repr(0.00001), "1e-05");
        assert_eq!(py_float_repr(1e16), "1e+16");
        assert_eq!(py_float_repr(1.5e-7), "1.5e-07");
        assert_eq!(py_list_repr(&[0.933, 0.0, 0.0]), "[0.933, 0.0, 0.0]");
        assert_eq!(py_list_repr(&[]), "[]");
    }

    #[test]
    fn highest_generation_with_failures_skips_and_overall() {
        let s = parse_summary(FULL);
        assert!(s.unrecognized.is_empty(), "{:?}", s.unrecognized);
        assert_eq!(s.header.platform.as_deref(), Some("mi30x"));
        assert_eq!(s.header.machine, None);
        assert_eq!(s.header.trials_per_model, Some(3));
        assert_eq!(s.header.models.as_ref().map(Vec::len), Some(4));
        assert_eq!(s.sections.len(), 3);

        let a = &s.sections[0];
        assert_eq!(
            (a.model.as_str(), a.hardware.as_str()),
            ("ALPHA-7B", "mi30x")
        );
        assert_eq!(a.outcome(), SectionOutcome::Pass);
        assert_eq!(a.generation(), Some(VerdictGeneration::Highest));
        assert_eq!(a.trials.len(), 3);
        assert_eq!(
            a.trials[1].outcome,
            TrialOutcome::Accuracy {
                mark: Mark::Fail,
                accuracy: n("0.690")
            }
        );
        assert_eq!(
            a.accuracies.as_ref().map(|l| l.text.as_str()),
            Some("[0.71, 0.69, 0.705]")
        );
        assert!(a.closed);

        let b = &s.sections[1];
        assert_eq!(b.outcome(), SectionOutcome::Fail);
        assert_eq!(
            b.trials[1].outcome,
            TrialOutcome::NoAccuracy {
                path: "/logs/BETA-1B_mi30x_client_try2.log".into()
            }
        );
        assert_eq!(b.trials[2].outcome, TrialOutcome::ServerDied);
        assert_eq!(b.trials[2].accuracy_value(), 0.0);

        let c = &s.sections[2];
        assert_eq!(c.outcome(), SectionOutcome::StartupFailed);
        assert_eq!(
            c.error.as_ref().map(|e| &e.kind),
            Some(&ErrorKind::OutOfMemory {
                mem_fraction_static: "0.7224999999999999".into()
            })
        );
        assert!(c.suggestion.is_some());
        assert_eq!(c.overall_status(), Some(ModelStatus::Fail));

        assert_eq!(s.skipped.len(), 1);
        assert_eq!(s.skipped[0].model, "DELTA-2B");
        let o = s.overall.as_ref().expect("overall block");
        assert_eq!(o.tested, Some((3, 4)));
        assert_eq!(o.passed, Some(Count::Ratio { n: 1, of: 3 }));
        assert_eq!(o.skipped, Some((1, 4)));
        assert_eq!(
            o.average_per_model.as_ref().map(|n| n.text.as_str()),
            Some("250.25")
        );
        assert_eq!(o.per_model.len(), 4);
        assert_eq!(o.per_model[3], ("DELTA-2B".into(), ModelStatus::Skipped));
    }

    #[test]
    fn early_exit_generation_retries_and_error_kinds() {
        let s = parse_summary(EARLY);
        assert!(s.unrecognized.is_empty(), "{:?}", s.unrecognized);
        assert_eq!(s.header.machine.as_deref(), Some("host-a"));
        let w = &s.sections[0];
        assert_eq!(w.generation(), Some(VerdictGeneration::EarlyExit));
        let warm = w.warmup.as_ref().expect("warm-up line");
        assert!(warm.passed());
        assert_eq!(warm.accuracy, Some(n("0.842")));
        assert_eq!(w.early_exit, Some(EarlyExit::WarmupPassed { skipped: 3 }));
        assert_eq!(
            w.verdict.as_ref().map(|v| v.accuracy.text.as_str()),
            Some("0.842")
        );

        let t = &s.sections[1];
        assert_eq!(
            t.early_exit,
            Some(EarlyExit::PassedOnTrial {
                trial: 1,
                skipped: 2
            })
        );

        // Two sections of one model: a retry, then the final attempt.
        assert_eq!(s.sections[2].model, "GAMMA-9B");
        assert_eq!(
            s.sections[2].retry,
            Some(Retry::CachedKernels { attempt: 1, of: 3 })
        );
        assert_eq!(
            s.sections[2].error.as_ref().map(|e| &e.kind),
            Some(&ErrorKind::KernelDeadlock {
                module: "moe_sorting".into(),
                workers: Some(28)
            })
        );
        assert_eq!(
            s.sections[3].error.as_ref().map(|e| &e.kind),
            Some(&ErrorKind::AiterJitHung {
                module: "module_moe_asm".into(),
                no_progress_secs: Some("90".into())
            })
        );
        assert_eq!(s.sections[4].retry, Some(Retry::DisableCudaGraph));
        assert!(s.sections[5].cuda_graph_fallback);
        assert_eq!(
            s.sections[5].error.as_ref().map(|e| &e.kind),
            Some(&ErrorKind::CodeBug {
                message: "AttributeError: 'X' object has no attribute 'y'".into()
            })
        );
        assert_eq!(
            s.sections[6].error.as_ref().map(|e| &e.kind),
            Some(&ErrorKind::ChildCrashed)
        );
        let last = last_sections([&s]);
        assert_eq!(last.len(), 5);
        assert_eq!(last[2].line, s.sections[3].line);
    }

    #[test]
    fn average_generation_and_oldest_overall() {
        let s = parse_summary(AVERAGE);
        assert!(s.unrecognized.is_empty(), "{:?}", s.unrecognized);
        let a = &s.sections[0];
        assert_eq!(a.generation(), Some(VerdictGeneration::Average));
        let o = s.overall.as_ref().expect("overall");
        assert_eq!(o.tested, None);
        assert_eq!(o.passed, Some(Count::Ratio { n: 1, of: 1 }));
        let s2 = parse_summary(b"OVERALL SUMMARY\nModels passed: 0 (no models tested)\n");
        assert_eq!(s2.overall.and_then(|o| o.passed), Some(Count::NoneTested));
    }

    #[test]
    fn truncated_file_is_an_incomplete_section_without_overall() {
        let s = parse_summary(TRUNCATED);
        assert!(s.overall.is_none());
        let last = s.sections.last().expect("a section");
        assert_eq!(last.outcome(), SectionOutcome::Incomplete);
        assert_eq!(last.overall_status(), None);
        // The cut line `Trial 2: PASS [OK] (Accur` is reported, not misread.
        assert_eq!(last.trials.len(), 1);
        assert_eq!(s.unrecognized.len(), 1);
    }

    #[test]
    fn crlf_and_ansi_are_tolerated() {
        let crlf: Vec<u8> = FULL
            .iter()
            .flat_map(|&b| {
                if b == b'\n' {
                    vec![b'\r', b'\n']
                } else {
                    vec![b]
                }
            })
            .collect();
        assert_eq!(parse_summary(&crlf), parse_summary(FULL));
        let s = parse_summary(b"\x1b[32m=== M on mi30x ===\x1b[0m\nFinal result: PASS [OK]\n");
        assert_eq!(s.sections[0].outcome(), SectionOutcome::Pass);
        assert_eq!(parse_summary(b""), SanitySummary::default());
    }

    #[test]
    fn folder_reads_summaries_in_name_order() {
        let dir = std::env::temp_dir().join(format!("sglci-sanity-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        std::fs::write(dir.join("timing_summary_20250102_000000.log"), EARLY).expect("write");
        std::fs::write(dir.join("timing_summary_20250101_000000.log"), FULL).expect("write");
        std::fs::write(dir.join("other.log"), b"x").expect("write");
        let f = SanityFolder::read(&dir).expect("read folder");
        assert_eq!(f.summaries.len(), 2);
        assert_eq!(f.summaries[0].name, "timing_summary_20250101_000000.log");
        let last = f.last_sections();
        // ALPHA-7B appears in both files: the later file wins.
        let alpha = last
            .iter()
            .find(|s| s.model == "ALPHA-7B")
            .expect("ALPHA-7B");
        assert_eq!(alpha.generation(), Some(VerdictGeneration::EarlyExit));
        assert_eq!(
            f.client_log(alpha, 2).file_name().and_then(|n| n.to_str()),
            Some("ALPHA-7B_mi30x_client_try2.log")
        );
        std::fs::remove_dir_all(&dir).expect("cleanup");
        let err = SanityFolder::read(&dir).expect_err("missing folder");
        assert!(err.to_string().contains("sglci-sanity"));
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let s = parse_summary(&data);
            let n = text::lines(&data).count();
            prop_assert!(s.sections.len() + s.skipped.len() <= n);
            prop_assert!(s.unrecognized.iter().all(|&l| l >= 1 && l <= n));
            let _ = client_accuracy(&data);
        }

        #[test]
        fn mutated_fixture_never_panics(cut in 0usize..4000, byte in any::<u8>(), at in 0usize..4000) {
            let mut d = FULL[..cut.min(FULL.len())].to_vec();
            if !d.is_empty() { let i = at % d.len(); d[i] = byte; }
            let s = parse_summary(&d);
            for sec in &s.sections { let _ = sec.outcome(); }
        }

        #[test]
        fn py_repr_round_trips(x in any::<f64>().prop_filter("finite", |x| x.is_finite())) {
            let r = py_float_repr(x);
            prop_assert_eq!(r.parse::<f64>().ok(), Some(x));
        }
    }
}
