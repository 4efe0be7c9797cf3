//! `compare-suites`: NVIDIA vs AMD upstream CI coverage (spec reporting.md §9).
//!
//! SGLang's `test/srt/run_suite.py`, its two PR workflows and its two nightly GSM8K eval files
//! are read as **text** (never executed): [`parse_suites`] finds the suite dictionaries,
//! [`job_count`] counts the tests a workflow job runs, [`model_count`] the models a nightly
//! file checks. [`build`] turns them into the CSV coverage table or the detailed Markdown
//! comparison.
//!
//! Counting rules: by default every test counts once (a suite listing a file twice, or a
//! workflow line matched by two rules, counts 1). [`Counting::Legacy`] reproduces the
//! original's numbers exactly, including the `amd_ci_exec.sh … python3 …test….py` line counted
//! twice (quirk U3, the historical `performance-test-2-gpu,6,6,100%` row) and duplicate list
//! entries counted as often as listed.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::LazyLock;
use std::time::Duration;

use regex::Regex;
use thiserror::Error;

/// Where the upstream files are read from by default (SGLang's `main` branch, raw).
pub const DEFAULT_UPSTREAM_BASE: &str = "https://raw.githubusercontent.com/sgl-project/sglang/main";
/// Path of the suite definitions below the base.
pub const RUN_SUITE_PATH: &str = "test/srt/run_suite.py";
/// Path of the NVIDIA PR workflow.
pub const NVIDIA_WORKFLOW_PATH: &str = ".github/workflows/pr-test.yml";
/// Path of the AMD PR workflow.
pub const AMD_WORKFLOW_PATH: &str = ".github/workflows/pr-test-amd.yml";
/// Path of the NVIDIA nightly GSM8K eval.
pub const NVIDIA_NIGHTLY_PATH: &str = "test/srt/test_nightly_gsm8k_eval.py";
/// Path of the AMD nightly GSM8K eval.
pub const AMD_NIGHTLY_PATH: &str = "test/srt/test_nightly_gsm8k_eval_amd.py";
/// Time limit of one download (connect to last byte).
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(30);
/// The CSV header.
pub const CSV_HEADER: &str = "Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)";

/// Why a report could not be made. Messages name the file or (masked) URL.
#[derive(Debug, Error)]
pub enum SuitesError {
    /// A download failed (connection, timeout, non-2xx status).
    #[error("cannot fetch {what} from {location}: {reason}")]
    Fetch {
        /// Which file (`run_suite.py`, `the AMD PR workflow`).
        what: &'static str,
        /// The URL, secrets masked.
        location: String,
        /// Why.
        reason: String,
    },
    /// A local file could not be read.
    #[error("cannot read {what} {}: {source}", path.display())]
    Read {
        /// Which file.
        what: &'static str,
        /// Its path.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
    /// No suite dictionary was found in `run_suite.py`.
    #[error(
        "could not parse suites from {location}: no `suites = {{ \"<name>\": [...] }}` dictionary. \
         The file format may have changed."
    )]
    NoSuites {
        /// Where `run_suite.py` came from.
        location: String,
    },
}

impl SuitesError {
    /// True for the "no suites" error (the original's exit 2); false for read/fetch failures.
    pub fn is_no_suites(&self) -> bool {
        matches!(self, Self::NoSuites { .. })
    }
}

/// One file to read: a URL or a local path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// `http://` or `https://`.
    Url(String),
    /// A local file.
    File(PathBuf),
}

impl Location {
    /// A command-line argument: a URL (GitHub `…/blob/…` pages rewritten to raw file URLs) or a
    /// local path.
    pub fn from_arg(arg: &str) -> Self {
        if arg.starts_with("http://") || arg.starts_with("https://") {
            Self::Url(raw_github_url(arg))
        } else {
            Self::File(PathBuf::from(arg))
        }
    }

    /// For messages (URLs masked).
    pub fn display(&self) -> String {
        match self {
            Self::Url(u) => report::redact::redact(u).into_owned(),
            Self::File(p) => p.display().to_string(),
        }
    }
}

/// Rewrites a GitHub page URL (`https://github.com/<o>/<r>/blob/<ref>/<path>`) to the raw
/// file URL (`https://raw.githubusercontent.com/<o>/<r>/<ref>/<path>`); other URLs unchanged.
pub fn raw_github_url(url: &str) -> String {
    if url.contains("github.com") && url.contains("/blob/") {
        url.replace("https://github.com/", "https://raw.githubusercontent.com/")
            .replacen("/blob/", "/", 1)
    } else {
        url.to_owned()
    }
}

/// Where the upstream files come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upstream {
    /// A base URL; each file is `<base>/<path>`.
    Base(String),
    /// A local SGLang checkout; each file is `<dir>/<path>`.
    Checkout(PathBuf),
}

impl Upstream {
    /// The location of `path` (one of the `*_PATH` constants).
    pub fn locate(&self, path: &str) -> Location {
        match self {
            Self::Base(b) => Location::Url(format!("{}/{path}", b.trim_end_matches('/'))),
            Self::Checkout(d) => Location::File(d.join(path)),
        }
    }
}

/// Reads a file or downloads a URL (GET, [`FETCH_TIMEOUT`], no retries; non-2xx is an
/// error). `what` names it in errors.
pub fn fetch(loc: &Location, what: &'static str) -> Result<String, SuitesError> {
    match loc {
        Location::File(p) => std::fs::read(p)
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .map_err(|source| SuitesError::Read {
                what,
                path: p.clone(),
                source,
            }),
        Location::Url(u) => {
            let fail = |reason: String| SuitesError::Fetch {
                what,
                location: loc.display(),
                reason: report::redact::redact(&reason).into_owned(),
            };
            let agent: ureq::Agent = ureq::Agent::config_builder()
                .timeout_global(Some(FETCH_TIMEOUT))
                .http_status_as_error(false)
                .build()
                .into();
            let mut resp = agent.get(u).call().map_err(|e| fail(e.to_string()))?;
            let status = resp.status();
            if !status.is_success() {
                return Err(fail(format!("HTTP {status}")));
            }
            resp.body_mut()
                .with_config()
                .limit(64 * 1024 * 1024)
                .read_to_string()
                .map_err(|e| fail(e.to_string()))
        }
    }
}

// ------------------------------------------------------------------ run_suite.py

/// Suite name → test files, in file order.
pub type Suites = BTreeMap<String, Vec<String>>;

static SUITES_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"suites\s*=\s*\{").expect("static regex"));
static AMD_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"suite_amd\s*=\s*\{").expect("static regex"));
/// `"<name>": [ … ]` with at most one level of nested brackets in the body.
static ENTRY: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r#""([^"]+)"\s*:\s*\[((?:[^\[\]]|\[[^\[\]]*\])*)\]"#).expect("static regex")
});
/// `TestFile("<f>.py")` or `TestFile("<f>.py", <integer>)`.
static TEST_FILE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"TestFile\("([^"]+\.py)"(?:,\s*\d+)?\)"#).expect("static regex"));
static QUOTED_PY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#""([^"]+\.py)""#).expect("static regex"));

/// The text from after the first `start` match to the last `}` of the file (the original's
/// greedy block, quirk U1).
fn greedy_block<'a>(text: &'a str, start: &Regex) -> Option<&'a str> {
    let from = start.find(text)?.end();
    let to = text.rfind('}')?;
    (to >= from).then(|| &text[from..to])
}

/// Parses the entries of a dictionary body (spec §9.4 `parse_suite_dict`).
pub fn parse_suite_dict(block: &str) -> Suites {
    let mut out = Suites::new();
    for c in ENTRY.captures_iter(block) {
        let body = &c[2];
        let mut files: Vec<String> = body
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .flat_map(|l| TEST_FILE.captures_iter(l).map(|m| m[1].to_owned()))
            .collect();
        if files.is_empty() {
            files = QUOTED_PY
                .captures_iter(body)
                .map(|m| m[1].to_owned())
                .collect();
        }
        out.insert(c[1].to_owned(), files);
    }
    out
}

/// Every suite of a `run_suite.py` text (spec §9.4): the `suites = {` block, then the
/// `suite_amd = {` block merged over it (twice when the file says
/// `suites.update(suite_amd)`, as the original did). Empty when none is found.
pub fn parse_suites(text: &str) -> Suites {
    let mut out = Suites::new();
    if let Some(b) = greedy_block(text, &SUITES_START) {
        out.extend(parse_suite_dict(b));
    }
    if let Some(b) = greedy_block(text, &AMD_START) {
        out.extend(parse_suite_dict(b));
        if text.contains("suites.update(suite_amd)") {
            out.extend(parse_suite_dict(b));
        }
    }
    out
}

// ------------------------------------------------------------------ workflows

/// How tests are counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Counting {
    /// Each test once.
    Once,
    /// The original's numbers: duplicates and doubly matched lines counted as matched.
    Legacy,
}

static AMD_EXEC_LINE: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"bash.*amd_ci_exec\.sh.*python3.*test.*\.py").expect("static regex")
});
static RUN_BLOCK: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"run:\s*\|").expect("static regex"));
static SCRIPT_TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^[^\s]*test[^\s]*\.py").expect("static regex"));

/// The body of job `name`: after the first `  <name>:` up to the next line starting with
/// exactly two spaces and an ASCII letter (the next job), or the end.
fn job_body<'a>(workflow: &'a str, name: &str) -> Option<&'a str> {
    let key = format!("  {name}:");
    let start = workflow.find(&key)? + key.len();
    let rest = &workflow[start..];
    let bytes = rest.as_bytes();
    let end = rest
        .match_indices("\n  ")
        .map(|(i, _)| i)
        .find(|&i| bytes.get(i + 3).is_some_and(u8::is_ascii_alphabetic))
        .unwrap_or(rest.len());
    Some(&rest[..end])
}

/// The `run: |` blocks of a job body: each from after the `|` to the next
/// `\n      - name:` (the next step) or the end of the body.
fn run_blocks(body: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(m) = RUN_BLOCK.find_at(body, at) {
        let rest = &body[m.end()..];
        let len = rest.find("\n      - name:").unwrap_or(rest.len());
        out.push(&rest[..len]);
        at = m.end() + len;
    }
    out
}

/// `python3 <script>` calls where the script token does not start with `-m` and contains
/// `test` before a `.py` (the original's `python3 (?!-m)[^\s]*test[^\s]*\.py`), counted like
/// non-overlapping matches.
fn python_script_calls(line: &str) -> u64 {
    let mut n = 0;
    let mut at = 0;
    while let Some(i) = line[at..].find("python3 ") {
        let p = at + i;
        let after = &line[p + "python3 ".len()..];
        match (!after.starts_with("-m"))
            .then(|| SCRIPT_TOKEN.find(after))
            .flatten()
        {
            Some(m) => {
                n += 1;
                at = p + "python3 ".len() + m.end();
            }
            None => at = p + 1,
        }
    }
    n
}

/// Tests run by job `name` of a workflow (spec §9.5): in each multi-line `run: |` block,
/// `python3 -m unittest` calls, `python3 <…test….py>` calls and `bash … amd_ci_exec.sh …
/// python3 … test … .py` lines. [`Counting::Legacy`] adds the three (a dummy-grok line via
/// `amd_ci_exec.sh` counts twice); [`Counting::Once`] counts each line's calls once, and an
/// `amd_ci_exec.sh` line only when no other rule matched it. 0 when the job does not exist.
pub fn job_count(workflow: &str, name: &str, counting: Counting) -> u64 {
    let Some(body) = job_body(workflow, name) else {
        return 0;
    };
    let mut total = 0;
    for block in run_blocks(body) {
        for line in block.lines() {
            let unittest = line.matches("python3 -m unittest").count() as u64;
            let scripts = python_script_calls(line);
            let exec = u64::from(AMD_EXEC_LINE.is_match(line));
            total += match counting {
                Counting::Legacy => unittest + scripts + exec,
                Counting::Once if unittest + scripts > 0 => unittest + scripts,
                Counting::Once => exec,
            };
        }
    }
    total
}

static THRESHOLDS_START: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"MODEL_SCORE_THRESHOLDS\s*=\s*\{").expect("static regex"));
static THRESHOLD_ENTRY: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r#"": 0\.\d"#).expect("static regex"));

/// Models a nightly eval file checks: `"…": 0.<digit>` entries of its
/// `MODEL_SCORE_THRESHOLDS = {` dictionary, up to the first `}` (0 without one).
pub fn model_count(text: &str) -> u64 {
    let Some(m) = THRESHOLDS_START.find(text) else {
        return 0;
    };
    let rest = &text[m.end()..];
    let Some(end) = rest.find('}') else {
        return 0;
    };
    THRESHOLD_ENTRY.find_iter(&rest[..end]).count() as u64
}

// ------------------------------------------------------------------ report

/// An NVIDIA suite, its AMD counterpart and the category name of the report.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SuitePair {
    /// NVIDIA suite.
    pub nvidia: &'static str,
    /// AMD suite.
    pub amd: &'static str,
    /// Category.
    pub display: &'static str,
}

/// The four compared pairs, in report order.
pub const SUITE_PAIRS: [SuitePair; 4] = [
    SuitePair {
        nvidia: "per-commit",
        amd: "per-commit-amd",
        display: "unit-test-backend-1-gpu",
    },
    SuitePair {
        nvidia: "per-commit-2-gpu",
        amd: "per-commit-2-gpu-amd",
        display: "unit-test-backend-2-gpu",
    },
    SuitePair {
        nvidia: "per-commit-4-gpu",
        amd: "per-commit-4-gpu-amd",
        display: "unit-test-backend-4-gpu",
    },
    SuitePair {
        nvidia: "per-commit-8-gpu",
        amd: "per-commit-8-gpu-amd",
        display: "unit-test-backend-8-gpu",
    },
];

/// The AMD MI35x suite merged into the 1-GPU AMD list.
const AMD_MI35X_SUITE: &str = "per-commit-amd-mi35x";
/// NVIDIA 1-GPU entries containing this are left out (no AMD counterpart is expected).
const NVIDIA_EXCLUDED: &str = "test_mla_flashinfer.py";

/// A pair's two test lists, as counted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PairLists {
    /// The pair.
    pub pair: SuitePair,
    /// NVIDIA tests.
    pub nvidia: Vec<String>,
    /// AMD tests.
    pub amd: Vec<String>,
}

fn dedup_keep_order(v: Vec<String>) -> Vec<String> {
    let mut seen = BTreeSet::new();
    v.into_iter().filter(|s| seen.insert(s.clone())).collect()
}

/// The lists of the four pairs (spec §9.5): the 1-GPU NVIDIA list without
/// `test_mla_flashinfer.py`, the 1-GPU AMD list the set union of `per-commit-amd` and
/// `per-commit-amd-mi35x`; a missing suite is an empty list. With [`Counting::Once`] every list
/// is deduplicated.
pub fn pair_lists(suites: &Suites, counting: Counting) -> Vec<PairLists> {
    SUITE_PAIRS
        .iter()
        .enumerate()
        .map(|(i, &pair)| {
            let get = |k: &str| suites.get(k).cloned().unwrap_or_default();
            let (mut nvidia, mut amd) = (get(pair.nvidia), get(pair.amd));
            if i == 0 {
                nvidia.retain(|t| !t.contains(NVIDIA_EXCLUDED));
                amd.extend(get(AMD_MI35X_SUITE));
                amd = BTreeSet::from_iter(amd).into_iter().collect();
            }
            if counting == Counting::Once {
                nvidia = dedup_keep_order(nvidia);
                amd = dedup_keep_order(amd);
            }
            PairLists { pair, nvidia, amd }
        })
        .collect()
}

/// Warnings about suites the report expects but `run_suite.py` does not define (an upstream
/// rename makes a row 0 / `N/A`, quirk U4), each naming the `per-commit*` suites it has.
pub fn missing_suite_warnings(suites: &Suites) -> Vec<String> {
    let known: Vec<&str> = suites
        .keys()
        .map(String::as_str)
        .filter(|k| k.starts_with("per-commit"))
        .collect();
    SUITE_PAIRS
        .iter()
        .flat_map(|p| [(p.nvidia, "NVIDIA", p.display), (p.amd, "AMD", p.display)])
        .filter(|(s, _, _)| !suites.contains_key(*s))
        .map(|(s, who, display)| {
            format!(
                "warning: {who} suite `{s}` is not in run_suite.py (renamed upstream?): {display} counts it as 0; per-commit suites found: {}",
                if known.is_empty() {
                    "none".to_owned()
                } else {
                    known.join(", ")
                }
            )
        })
        .collect()
}

/// One CSV row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CategoryRow {
    /// Category.
    pub name: String,
    /// AMD count.
    pub amd: u64,
    /// NVIDIA count.
    pub nvidia: u64,
}

impl CategoryRow {
    /// `round(amd / nvidia × 100)%` (ties to even), `N/A` when NVIDIA is 0.
    pub fn coverage(&self) -> String {
        metrics_parse::upstream_report::coverage(self.amd, self.nvidia).text()
    }
}

/// The texts of the four extra upstream files.
#[derive(Debug, Clone, Default)]
pub struct ExtraFiles {
    /// `pr-test.yml`.
    pub nvidia_workflow: String,
    /// `pr-test-amd.yml`.
    pub amd_workflow: String,
    /// `test_nightly_gsm8k_eval.py`.
    pub nvidia_nightly: String,
    /// `test_nightly_gsm8k_eval_amd.py`.
    pub amd_nightly: String,
}

impl ExtraFiles {
    /// Reads the four files from `upstream`; the first failure names its file.
    pub fn fetch(upstream: &Upstream) -> Result<Self, SuitesError> {
        Ok(Self {
            nvidia_workflow: fetch(
                &upstream.locate(NVIDIA_WORKFLOW_PATH),
                "the NVIDIA PR workflow",
            )?,
            amd_workflow: fetch(&upstream.locate(AMD_WORKFLOW_PATH), "the AMD PR workflow")?,
            nvidia_nightly: fetch(
                &upstream.locate(NVIDIA_NIGHTLY_PATH),
                "the NVIDIA nightly GSM8K eval",
            )?,
            amd_nightly: fetch(
                &upstream.locate(AMD_NIGHTLY_PATH),
                "the AMD nightly GSM8K eval",
            )?,
        })
    }
}

/// The six additional rows (spec §9.5), in report order.
pub fn additional_rows(f: &ExtraFiles, counting: Counting) -> Vec<CategoryRow> {
    let (n, a) = (&f.nvidia_workflow, &f.amd_workflow);
    let has = |text: &str, key: &str| u64::from(text.contains(key));
    let jobs =
        |text: &str, names: &[&str]| names.iter().map(|j| job_count(text, j, counting)).sum();
    let row = |name: &str, amd: u64, nvidia: u64| CategoryRow {
        name: name.to_owned(),
        amd,
        nvidia,
    };
    vec![
        row(
            "nightly-models-test",
            model_count(&f.amd_nightly),
            model_count(&f.nvidia_nightly),
        ),
        row(
            "unit-test-frontend",
            has(a, "unit-test-frontend-amd:"),
            has(n, "unit-test-frontend:"),
        ),
        row(
            "performance-test-1-gpu",
            jobs(
                a,
                &[
                    "performance-test-1-gpu-part-1-amd",
                    "performance-test-1-gpu-part-2-amd",
                ],
            ),
            jobs(
                n,
                &[
                    "performance-test-1-gpu-part-1",
                    "performance-test-1-gpu-part-2",
                ],
            ),
        ),
        row(
            "performance-test-2-gpu",
            jobs(a, &["bench-test-2-gpu-amd"]),
            jobs(n, &["performance-test-2-gpu"]),
        ),
        row(
            "accuracy-test-1-gpu",
            has(a, "accuracy-test-1-gpu-amd:"),
            has(n, "accuracy-test-1-gpu:"),
        ),
        row(
            "accuracy-test-2-gpu",
            has(a, "accuracy-test-2-gpu-amd:"),
            has(n, "accuracy-test-2-gpu:"),
        ),
    ]
}

/// The CSV report (spec §9.6): header, the four suite rows, the additional rows, `Total`;
/// `\n` line ends and a final newline.
pub fn csv_report(pairs: &[PairLists], extra: &[CategoryRow]) -> String {
    let mut rows: Vec<CategoryRow> = pairs
        .iter()
        .map(|p| CategoryRow {
            name: p.pair.display.to_owned(),
            amd: p.amd.len() as u64,
            nvidia: p.nvidia.len() as u64,
        })
        .collect();
    rows.extend(extra.iter().cloned());
    let total = CategoryRow {
        name: "Total".to_owned(),
        amd: rows.iter().map(|r| r.amd).sum(),
        nvidia: rows.iter().map(|r| r.nvidia).sum(),
    };
    rows.push(total);
    let mut out = format!("{CSV_HEADER}\n");
    for r in rows {
        out.push_str(&format!(
            "{},{},{},{}\n",
            r.name,
            r.amd,
            r.nvidia,
            r.coverage()
        ));
    }
    out
}

/// The detailed Markdown report (spec §9.7): per pair the totals and the common / NVIDIA-only
/// / AMD-only files.
pub fn markdown_report(pairs: &[PairLists]) -> String {
    let mut out = String::new();
    for p in pairs {
        let SuitePair {
            nvidia,
            amd,
            display,
        } = p.pair;
        out.push_str(&format!("## {nvidia} (NVIDIA) vs {amd} (AMD)\n"));
        match (p.nvidia.is_empty(), p.amd.is_empty()) {
            (true, true) => out.push_str(&format!("Missing in suites: {nvidia}, {amd}\n\n")),
            (false, true) => out.push_str(&format!("Missing in suites: {amd}\n\n")),
            (true, false) => out.push_str(&format!("Missing in suites: {nvidia}\n\n")),
            (false, false) => {
                let n: BTreeSet<&str> = p.nvidia.iter().map(String::as_str).collect();
                let a: BTreeSet<&str> = p.amd.iter().map(String::as_str).collect();
                let common: Vec<&str> = n.intersection(&a).copied().collect();
                let only_n: Vec<&str> = n.difference(&a).copied().collect();
                let only_a: Vec<&str> = a.difference(&n).copied().collect();
                out.push_str("| Suite | Total | Common | Only in NVIDIA | Only in AMD |\n");
                out.push_str("| --- | --- | --- | --- | --- |\n");
                out.push_str(&format!(
                    "| {display} | {} vs {} | {} | {} | {} |\n\n",
                    p.nvidia.len(),
                    p.amd.len(),
                    common.len(),
                    only_n.len(),
                    only_a.len()
                ));
                out.push_str("| Common | Only in NVIDIA | Only in AMD |\n");
                out.push_str("| --- | --- | --- |\n");
                out.push_str(&format!(
                    "| {} | {} | {} |\n\n",
                    common.join("<br>"),
                    only_n.join("<br>"),
                    only_a.join("<br>")
                ));
            }
        }
    }
    out
}

/// What to build.
#[derive(Debug, Clone)]
pub struct Request {
    /// `run_suite.py`.
    pub run_suite: Location,
    /// Where the four extra files come from (CSV only).
    pub upstream: Upstream,
    /// Markdown details instead of the CSV.
    pub details: bool,
    /// Counting rules.
    pub counting: Counting,
}

/// A finished report.
#[derive(Debug, Clone)]
pub struct Report {
    /// The CSV or Markdown text (ends with `\n`).
    pub text: String,
    /// Things the reader should know (missing suites).
    pub warnings: Vec<String>,
}

/// Reads every input (nothing is rendered before all of them are read) and renders the
/// report.
pub fn build(req: &Request) -> Result<Report, SuitesError> {
    let text = fetch(&req.run_suite, "run_suite.py")?;
    let suites = parse_suites(&text);
    if suites.is_empty() {
        return Err(SuitesError::NoSuites {
            location: req.run_suite.display(),
        });
    }
    let pairs = pair_lists(&suites, req.counting);
    let warnings = missing_suite_warnings(&suites);
    let text = if req.details {
        markdown_report(&pairs)
    } else {
        let extra = ExtraFiles::fetch(&req.upstream)?;
        csv_report(&pairs, &additional_rows(&extra, req.counting))
    };
    Ok(Report { text, warnings })
}

/// `sglang_ci_report_<YYYYMMDD>.csv` (or `.md` with `details`), the default output name.
pub fn default_output_name(date: &str, details: bool) -> String {
    format!(
        "sglang_ci_report_{date}.{}",
        if details { "md" } else { "csv" }
    )
}

/// The default `run_suite.py` of an upstream source.
pub fn default_run_suite(upstream: &Upstream) -> Location {
    upstream.locate(RUN_SUITE_PATH)
}

#[cfg(test)]
mod tests {
    use super::*;

    const RUN_SUITE: &str = r#"
import argparse
from dataclasses import dataclass

@dataclass
class TestFile:
    name: str
    estimated_time: float = 60

suites = {
    "per-commit": [
        TestFile("a.py", 30),
        TestFile("b.py"),
        # TestFile("commented.py", 10),
        TestFile("test_mla_flashinfer.py", 100),
        TestFile("d.py", 1.5),
        TestFile( "spaced.py"),
        TestFile("a.py", 30),
    ],
    # "z": [TestFile("zz.py")],
    "per-commit-2-gpu": [TestFile("x.py",5), TestFile("y.py", 7)],
    "vendored": ["plain.py", "other.txt"],
    "nested": [TestFile("n.py"), [1, 2], TestFile("m.py")],
}

suite_amd = {
    "per-commit-amd": [
        TestFile("a.py"),
        TestFile("amd_only.py"),
    ],
    "per-commit-amd-mi35x": [TestFile("a.py"), TestFile("mi35x.py")],
    "per-commit-2-gpu-amd": [TestFile("x.py")],
}

suites.update(suite_amd)
"#;

    #[test]
    fn suites_are_read_as_text_with_the_original_quirks() {
        let s = parse_suites(RUN_SUITE);
        // Comment lines inside a list are skipped, a float time drops the call, a space after
        // `(` does not match, duplicates are kept.
        assert_eq!(
            s["per-commit"],
            ["a.py", "b.py", "test_mla_flashinfer.py", "a.py"]
        );
        // A commented-out key is still an entry (U2, golden G21).
        assert_eq!(s["z"], ["zz.py"]);
        assert_eq!(s["per-commit-2-gpu"], ["x.py", "y.py"]);
        // No TestFile: every quoted .py string.
        assert_eq!(s["vendored"], ["plain.py"]);
        assert_eq!(s["nested"], ["n.py", "m.py"]);
        assert_eq!(s["per-commit-amd-mi35x"], ["a.py", "mi35x.py"]);
        assert!(parse_suites("nothing here").is_empty());
        assert!(parse_suites("suites = {}").is_empty());
    }

    #[test]
    fn golden_g21_float_time_is_dropped() {
        let s = parse_suites(
            "suites = {\n    \"s\": [\n        TestFile(\"c.py\"),\n        TestFile(\"d.py\", 1.5),\n    ],\n    # \"z\": [TestFile(\"zz.py\")],\n}\n",
        );
        assert_eq!(s["s"], ["c.py"]);
        assert_eq!(s["z"], ["zz.py"]);
    }

    #[test]
    fn pairs_once_and_legacy() {
        let s = parse_suites(RUN_SUITE);
        let legacy = pair_lists(&s, Counting::Legacy);
        assert_eq!(legacy[0].nvidia, ["a.py", "b.py", "a.py"]);
        assert_eq!(legacy[0].amd, ["a.py", "amd_only.py", "mi35x.py"]);
        let once = pair_lists(&s, Counting::Once);
        assert_eq!(once[0].nvidia, ["a.py", "b.py"]);
        assert_eq!((once[3].nvidia.len(), once[3].amd.len()), (0, 0));
        let w = missing_suite_warnings(&s);
        assert_eq!(w.len(), 4, "{w:?}");
        assert!(w[0].contains("`per-commit-4-gpu`"), "{w:?}");
        assert!(w[0].contains("per-commit, per-commit-2-gpu"), "{w:?}");
    }

    const AMD_WORKFLOW: &str = "name: PR Test (AMD)\njobs:\n  bench-test-2-gpu-amd:\n    runs-on: linux-mi325-gpu-2\n    steps:\n      - name: Checkout code\n        uses: actions/checkout@v4\n\n      - name: Benchmark dummy grok (TP=2)\n        timeout-minutes: 30\n        run: |\n          bash scripts/ci/amd_ci_exec.sh -w \"/sglang-checkout/test/srt\" python3 models/test_dummy_grok_models.py\n\n      - name: Benchmark single latency (TP=2)\n        run: |\n          bash scripts/ci/amd_ci_exec.sh python3 -m unittest test_bench_one_batch.TestBenchOneBatch.test_moe_tp2_bs1\n\n      - name: Benchmark single latency + torch.compile (TP=2)\n        run: |\n          bash scripts/ci/amd_ci_exec.sh python3 -m unittest test_bench_one_batch.TestBenchOneBatch.test_torch_compile_tp2_bs1\n\n      - name: Benchmark offline throughput (TP=2)\n        run: |\n          bash scripts/ci/amd_ci_exec.sh python3 -m unittest test_bench_serving.TestBenchServing.test_moe_offline_throughput_default\n\n      - name: Benchmark offline throughput (w/o RadixAttention) (TP=2)\n        run: |\n          bash scripts/ci/amd_ci_exec.sh python3 -m unittest test_bench_serving.TestBenchServing.test_moe_offline_throughput_without_radix_cache\n\n      - name: Single-line step\n        run: python3 -m unittest ignored\n\n  accuracy-test-1-gpu-amd:\n    steps:\n      - name: x\n        run: |\n          python3 -m unittest a\n";

    #[test]
    fn golden_g20_dummy_grok_line_counts_twice_only_in_legacy() {
        assert_eq!(
            job_count(AMD_WORKFLOW, "bench-test-2-gpu-amd", Counting::Legacy),
            6
        );
        assert_eq!(
            job_count(AMD_WORKFLOW, "bench-test-2-gpu-amd", Counting::Once),
            5
        );
        // The job body ends at the next top-level job.
        assert_eq!(
            job_count(AMD_WORKFLOW, "accuracy-test-1-gpu-amd", Counting::Once),
            1
        );
        assert_eq!(job_count(AMD_WORKFLOW, "no-such-job", Counting::Legacy), 0);
    }

    #[test]
    fn script_calls_follow_the_lookahead_rule() {
        assert_eq!(
            python_script_calls("python3 test_a.py && python3 b_test.py"),
            2
        );
        assert_eq!(python_script_calls("python3 -m test_x.py"), 0);
        assert_eq!(python_script_calls("python3 run.py"), 0);
        assert_eq!(python_script_calls("python3 models/test_x.py --flag"), 1);
        assert_eq!(python_script_calls("python3  test_x.py"), 0);
    }

    #[test]
    fn nightly_models_count_only_zero_point_thresholds() {
        let t = "MODEL_SCORE_THRESHOLDS = {\n    \"a/b\": 0.85,\n    \"c\": 0.9,\n    \"d\": 1.0,\n    \"e\":0.5,\n    \"f\": .9,\n}\nOTHER = {\"g\": 0.5}\n";
        assert_eq!(model_count(t), 2);
        assert_eq!(model_count("no dict"), 0);
    }

    #[test]
    fn csv_and_markdown_layouts() {
        let s = parse_suites(RUN_SUITE);
        let pairs = pair_lists(&s, Counting::Legacy);
        let csv = csv_report(&pairs, &[]);
        assert_eq!(
            csv,
            "Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)\n\
             unit-test-backend-1-gpu,3,3,100%\n\
             unit-test-backend-2-gpu,1,2,50%\n\
             unit-test-backend-4-gpu,0,0,N/A\n\
             unit-test-backend-8-gpu,0,0,N/A\n\
             Total,4,5,80%\n"
        );
        let md = markdown_report(&pairs);
        assert!(md.starts_with("## per-commit (NVIDIA) vs per-commit-amd (AMD)\n| Suite |"));
        assert!(md.contains("| unit-test-backend-1-gpu | 3 vs 3 | 1 | 1 | 2 |\n\n"));
        assert!(md.contains("| a.py | b.py | amd_only.py<br>mi35x.py |\n\n"));
        assert!(md.contains("| y.py |  |\n\n"));
        assert!(md.ends_with(
            "## per-commit-8-gpu (NVIDIA) vs per-commit-8-gpu-amd (AMD)\nMissing in suites: per-commit-8-gpu, per-commit-8-gpu-amd\n\n"
        ));
    }

    #[test]
    fn fetch_errors_name_the_file_and_mask_tokens() {
        let loc = Location::Url("http://127.0.0.1:1/run_suite.py?token=s3cr3tvalue42".into());
        let e = fetch(&loc, "run_suite.py").unwrap_err().to_string();
        assert!(
            e.starts_with("cannot fetch run_suite.py from http://127.0.0.1:1/run_suite.py?"),
            "{e}"
        );
        assert!(!e.contains("s3cr3tvalue42"), "{e}");
        let e = fetch(
            &Location::File("/nonexistent/x.yml".into()),
            "the AMD PR workflow",
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.starts_with("cannot read the AMD PR workflow /nonexistent/x.yml: "),
            "{e}"
        );
    }

    #[test]
    fn urls() {
        assert_eq!(
            raw_github_url("https://github.com/sgl-project/sglang/blob/main/test/srt/run_suite.py"),
            "https://raw.githubusercontent.com/sgl-project/sglang/main/test/srt/run_suite.py"
        );
        assert_eq!(
            raw_github_url("http://127.0.0.1:1/x"),
            "http://127.0.0.1:1/x"
        );
        assert_eq!(
            Upstream::Base("http://h/base/".into()).locate(RUN_SUITE_PATH),
            Location::Url("http://h/base/test/srt/run_suite.py".into())
        );
        assert_eq!(
            Location::from_arg("run_suite.py"),
            Location::File("run_suite.py".into())
        );
        assert_eq!(
            default_output_name("20251029", true),
            "sglang_ci_report_20251029.md"
        );
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_text_never_panics(text in "[ -~\n]{0,400}") {
            let suites = parse_suites(&text);
            let _ = pair_lists(&suites, Counting::Once);
            let _ = job_count(&text, "a", Counting::Legacy);
            let _ = model_count(&text);
            let _ = python_script_calls(&text);
        }
    }
}
