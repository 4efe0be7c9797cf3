//! What one run becomes in the store: the run row and its child rows, each number with its
//! provenance (file relative to the tree root, 1-based line, the file's SHA-256).

use serde::Serialize;

/// What kind of run a folder or file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RunKind {
    /// An online benchmark run folder.
    Online,
    /// An offline benchmark run folder.
    Offline,
    /// A sanity-check tag folder.
    Sanity,
    /// A PD disaggregation tag folder.
    Pd,
    /// A unit-test log.
    UnitTest,
    /// One night's cron logs on one hardware (includes the image check).
    Night,
    /// A folder of trend plots.
    Plots,
}

impl RunKind {
    /// The `runs.kind` text.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
            Self::Sanity => "sanity",
            Self::Pd => "pd",
            Self::UnitTest => "unit_test",
            Self::Night => "night",
            Self::Plots => "plots",
        }
    }
}

/// Where a stored value came from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provenance {
    /// The file, relative to the ingested tree (`/`-separated).
    pub path: String,
    /// 1-based line (0: the file as a whole).
    pub line: i64,
    /// The file's SHA-256, hex.
    pub sha256: String,
}

/// One number in long form.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Metric {
    /// `ttft_median_ms`, `output_throughput_tok_s`, …
    pub metric: String,
    /// `request_rate`, `concurrency`, `point` (offline) or `""`.
    pub load_kind: String,
    /// The load point as written (`8`, `128`, `tp8_bs32_in1024_out128`) or `""`.
    pub load: String,
    /// 0: the run's reported value (the legacy CSV); i ≥ 1: client run i.
    pub sample: i64,
    /// The value.
    pub value: f64,
    /// The text as printed.
    pub text: String,
    /// `ms`, `req/s`, `tok/s`, `s`, `count`, …
    pub unit: String,
    /// Provenance.
    pub source: Provenance,
}

/// A GSM8K accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Gsm8k {
    /// The model the accuracy is for.
    pub subject: String,
    /// The accuracy (0..1).
    pub accuracy: f64,
    /// As printed.
    pub text: String,
    /// How many runs, trials or questions it is over.
    pub n: Option<i64>,
    /// `runs`, `trials` or `questions`.
    pub n_unit: Option<String>,
    /// The threshold, when printed.
    pub required: Option<f64>,
    /// The printed verdict.
    pub passed: Option<bool>,
    /// Provenance.
    pub source: Provenance,
}

/// One test result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TestResult {
    /// `unit`, `pd`, `sanity`, `image_check`, `cron`.
    pub suite: String,
    /// Test, model, hardware or job name.
    pub name: String,
    /// `pass`, `fail`, `skipped`, `pending`, `incomplete`, `unknown`, `available`, `missing`.
    pub status: String,
    /// Extra words (error line, unittest summary), secrets masked.
    pub detail: Option<String>,
    /// A number that goes with it (tests run, accuracy).
    pub value: Option<f64>,
    /// Provenance.
    pub source: Provenance,
}

/// A file of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Artifact {
    /// Relative path.
    pub path: String,
    /// `csv`, `client_log`, `timing_summary`, `gsm8k_log`, `server_log`, `log`, `plot`, `other`.
    pub kind: String,
    /// Size in bytes.
    pub bytes: i64,
    /// SHA-256, hex.
    pub sha256: String,
    /// What the parser made of it (`complete`, `killed`, `stored`, `artifact`, …).
    pub parsed: String,
}

/// A run and everything stored with it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunRecord {
    /// Unique key: `<host>:<path relative to the tree>`.
    pub run_key: String,
    /// Kind.
    pub kind: RunKind,
    /// Node.
    pub host: String,
    /// `mi30x`, `mi35x`, `unknown`, …
    pub hardware: Option<String>,
    /// Model name.
    pub model: Option<String>,
    /// Quantisation variant (`FP8`, `MOE-I4F8`).
    pub variant: Option<String>,
    /// `online`, `online_dp_attention`, `offline`, …
    pub mode: Option<String>,
    /// Docker tag.
    pub image_tag: Option<String>,
    /// Image date `YYYY-MM-DD`.
    pub image_date: Option<String>,
    /// The night (`YYYY-MM-DD`, Pacific) the run belongs to.
    pub night: Option<String>,
    /// Ran on an image older than its night (the nightly's fallback to yesterday's image).
    pub fallback_image: bool,
    /// `real` or `simulated`.
    pub engine: String,
    /// Start, ISO 8601 with offset when the zone was printed.
    pub started_at: Option<String>,
    /// End.
    pub ended_at: Option<String>,
    /// Exit status, when recorded.
    pub exit_status: Option<i64>,
    /// `pass`, `fail`, or `None` (no verdict: cut short, still running, nothing to judge).
    pub verdict: Option<String>,
    /// Folder or file relative to the tree.
    pub path: String,
    /// SHA-256 over the sorted (path, SHA-256) of its files and the ingest settings.
    pub content_sha256: String,
    /// Metrics.
    pub metrics: Vec<Metric>,
    /// GSM8K accuracies.
    pub gsm8k: Vec<Gsm8k>,
    /// Test results.
    pub tests: Vec<TestResult>,
    /// Files.
    pub artifacts: Vec<Artifact>,
}
