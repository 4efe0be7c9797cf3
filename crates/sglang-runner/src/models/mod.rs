//! The models on disk: where each model of the benchmarks and the sanity check lives and how
//! it gets there. Used by `download-models`, the offline benchmarks' `--download-model` and
//! the nightly orchestrator's model download.
//!
//! * [`download`]: one model through the HuggingFace CLI, with a free-space check on the
//!   target path (also what the offline runs and the nightly call);
//! * here: `download-models` (spec benchmarks.md §10): the model table of the benchmarks and
//!   the sanity check, the per-hardware lists, the status table, and the downloads (through
//!   [`download`], with a free-space check before each).
//!
//! Changes from the original: no `pip3 install` on the fly and no Python fallback (a clear
//! error names the CLI to install); a free-space check per model (its size estimate less what
//! is already on disk, or `--min-free-gb`); `--dry-run` creates no folders; colours only on a
//! terminal; every download has a time limit.

pub mod download;

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;
use thiserror::Error;

use self::download::{DownloadError, HfCli, HfDownload};
use crate::config::EnvSource;
use crate::console::Console;
use crate::exec::Executor;
use crate::signals::Interrupt;
use crate::timefmt;

/// Default base directory of the models.
pub const DEFAULT_BASE_DIR: &str = "/mnt/raid/models/huggingface";
/// Environment variable of the base directory.
pub const BASE_DIR_VAR: &str = "SGLCI_MODELS_DIR";
/// Environment variable of the free-space requirement override (GB).
pub const MIN_FREE_VAR: &str = "SGLCI_MIN_FREE_GB";
/// Default time limit of one model download.
pub const DEFAULT_TIMEOUT_S: f64 = 24.0 * 3600.0;

/// Which hardware lists a model is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OnHardware {
    /// MI300X only.
    Mi30x,
    /// MI355X only.
    Mi35x,
    /// Both.
    Both,
}

/// One row of the model table (§10.2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ModelEntry {
    /// Key (`GROK1-INT4`).
    pub key: &'static str,
    /// HuggingFace repository.
    pub repo: &'static str,
    /// Path under the base directory.
    pub local: &'static str,
    /// Hardware lists.
    pub hardware: OnHardware,
    /// Approximate download size, GB (an estimate; the free-space check uses it).
    pub size_gb: f64,
    /// What the estimate describes (`W4A8KV8 quantized`).
    pub size_note: &'static str,
}

/// The model table, in the order `--all` processes it.
pub const MODELS: &[ModelEntry] = &[
    ModelEntry {
        key: "GPT-OSS-120B-LMSYS",
        repo: "lmsys/gpt-oss-120b-bf16",
        local: "lmsys/gpt-oss-120b-bf16",
        hardware: OnHardware::Mi30x,
        size_gb: 240.0,
        size_note: "BF16",
    },
    ModelEntry {
        key: "GPT-OSS-20B-LMSYS",
        repo: "lmsys/gpt-oss-20b-bf16",
        local: "lmsys/gpt-oss-20b-bf16",
        hardware: OnHardware::Mi30x,
        size_gb: 45.0,
        size_note: "BF16",
    },
    ModelEntry {
        key: "GPT-OSS-120B-OPENAI",
        repo: "openai/gpt-oss-120b",
        local: "openai/gpt-oss-120b",
        hardware: OnHardware::Mi35x,
        size_gb: 70.0,
        size_note: "MXFP4",
    },
    ModelEntry {
        key: "GPT-OSS-20B-OPENAI",
        repo: "openai/gpt-oss-20b",
        local: "openai/gpt-oss-20b",
        hardware: OnHardware::Mi35x,
        size_gb: 15.0,
        size_note: "MXFP4",
    },
    ModelEntry {
        key: "QWEN-30B",
        repo: "Qwen/Qwen3-30B-A3B-Thinking-2507",
        local: "Qwen/Qwen3-30B-A3B-Thinking-2507",
        hardware: OnHardware::Both,
        size_gb: 65.0,
        size_note: "BF16",
    },
    ModelEntry {
        key: "GROK1-TOKENIZER",
        repo: "Xenova/grok-1-tokenizer",
        local: "Xenova--grok-1-tokenizer",
        hardware: OnHardware::Both,
        size_gb: 1.0,
        size_note: "tokenizer only",
    },
    ModelEntry {
        key: "GROK1-INT4",
        repo: "amd/grok-1-W4A8KV8",
        local: "amd--grok-1-W4A8KV8",
        hardware: OnHardware::Both,
        size_gb: 223.0,
        size_note: "W4A8KV8 quantized",
    },
    ModelEntry {
        key: "GROK1-FP8",
        repo: "lmzheng/grok-1",
        local: "lmzheng-grok-1",
        hardware: OnHardware::Both,
        size_gb: 320.0,
        size_note: "FP8",
    },
    ModelEntry {
        key: "GROK2",
        repo: "xai-org/grok-2",
        local: "grok-2",
        hardware: OnHardware::Both,
        size_gb: 540.0,
        size_note: "may need HuggingFace authentication",
    },
    ModelEntry {
        key: "GROK2-TOKENIZER",
        repo: "alvarobartt/grok-2-tokenizer",
        local: "alvarobartt--grok-2-tokenizer",
        hardware: OnHardware::Both,
        size_gb: 1.0,
        size_note: "tokenizer only",
    },
    ModelEntry {
        key: "DEEPSEEK-V3",
        repo: "deepseek-ai/DeepSeek-V3-0324",
        local: "deepseek-ai/DeepSeek-V3-0324",
        hardware: OnHardware::Both,
        size_gb: 642.0,
        size_note: "FP8",
    },
    ModelEntry {
        key: "DEEPSEEK-R1-MXFP4",
        repo: "amd/DeepSeek-R1-MXFP4-Preview",
        local: "amd/DeepSeek-R1-MXFP4-Preview",
        hardware: OnHardware::Both,
        size_gb: 380.0,
        size_note: "MXFP4",
    },
    ModelEntry {
        key: "LLAMA4-MAVERICK-17B",
        repo: "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        local: "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        hardware: OnHardware::Both,
        size_gb: 400.0,
        size_note: "FP8",
    },
];

/// `mi30x` or `mi35x`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Hardware {
    /// MI300X.
    Mi30x,
    /// MI355X.
    Mi35x,
}

impl Hardware {
    /// Parses `mi30x` / `mi35x`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "mi30x" => Some(Self::Mi30x),
            "mi35x" => Some(Self::Mi35x),
            _ => None,
        }
    }

    /// `mi30x` / `mi35x`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mi30x => "mi30x",
            Self::Mi35x => "mi35x",
        }
    }

    /// The hardware's list: its two GPT-OSS models first, then the shared ones in table order.
    pub fn models(self) -> Vec<&'static ModelEntry> {
        let own = match self {
            Self::Mi30x => OnHardware::Mi30x,
            Self::Mi35x => OnHardware::Mi35x,
        };
        MODELS
            .iter()
            .filter(|m| m.hardware == own)
            .chain(MODELS.iter().filter(|m| m.hardware == OnHardware::Both))
            .collect()
    }
}

impl std::fmt::Display for Hardware {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Looks a model up by its exact key.
pub fn model(key: &str) -> Option<&'static ModelEntry> {
    MODELS.iter().find(|m| m.key == key)
}

/// Why `download-models` stopped before or instead of downloading (exit status 1).
#[derive(Debug, Error)]
pub enum ModelsError {
    /// `--hardware` is not `mi30x` / `mi35x`.
    #[error("Invalid hardware: {0}. Must be 'mi30x' or 'mi35x'")]
    InvalidHardware(String),
    /// `--model` is not a key of the table.
    #[error("Unknown model: {name}. Available models: {}", .available.join(", "))]
    UnknownModel {
        /// The name given.
        name: String,
        /// The keys.
        available: Vec<&'static str>,
    },
    /// No `--all`, `--hardware`, `--model` or `--status`.
    #[error(
        "No action specified. Use --all, --hardware=TYPE, --model=MODEL_NAME, or --status (Use --help for more information)"
    )]
    NoAction,
    /// A setting is unusable.
    #[error("invalid {name}={value:?}: {reason}")]
    InvalidSetting {
        /// Flag or variable.
        name: String,
        /// Value.
        value: String,
        /// What is expected.
        reason: String,
    },
    /// No HuggingFace CLI.
    #[error(
        "neither huggingface-cli nor hf is on PATH: install the HuggingFace CLI (`pip install -U \"huggingface_hub[cli]\"`), then run this again"
    )]
    NoCli,
    /// The base directory could not be created.
    #[error("cannot create the models directory {}: {source}", path.display())]
    BaseDir {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// `download-models` flags, as parsed.
#[derive(Debug, Clone, Default)]
pub struct DownloadModelsOptions {
    /// `--all`.
    pub all: bool,
    /// `--model=NAME`.
    pub model: Option<String>,
    /// `--hardware=HW`.
    pub hardware: Option<String>,
    /// `--dry-run`.
    pub dry_run: bool,
    /// `--status`.
    pub status: bool,
    /// `--base-dir` (else env [`BASE_DIR_VAR`]).
    pub base_dir: Option<PathBuf>,
    /// `--min-free-gb` (else env [`MIN_FREE_VAR`]).
    pub min_free_gb: Option<f64>,
    /// `--timeout` (seconds per model).
    pub timeout: Option<f64>,
    /// Colour the output (the binary decides: a terminal and no `NO_COLOR`).
    pub color: bool,
}

/// What to do.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub enum Action {
    /// Print the status table and the size estimates.
    Status,
    /// Download these models.
    Download(Vec<&'static ModelEntry>),
}

/// The resolved `download-models` configuration.
#[derive(Debug, Clone, Serialize)]
pub struct DownloadModelsConfig {
    /// What to do.
    pub action: Action,
    /// `--hardware`, when given (filters the status table).
    pub hardware: Option<Hardware>,
    /// Base directory.
    pub base_dir: PathBuf,
    /// Dry run.
    pub dry_run: bool,
    /// Free space required per model, GB (`None`: its estimate less what is on disk).
    pub min_free_gb: Option<f64>,
    /// Time limit per model.
    pub timeout: Duration,
    /// ANSI colours.
    pub color: bool,
}

/// Resolves the flags (§10.1): an invalid `--hardware` or unknown `--model` is an error;
/// `--status` wins; then `--hardware` (over `--model`), `--model`, `--all`.
pub fn resolve(
    o: &DownloadModelsOptions,
    env: &dyn EnvSource,
) -> Result<DownloadModelsConfig, ModelsError> {
    let hardware = match o.hardware.as_deref() {
        None => None,
        Some(h) => {
            Some(Hardware::parse(h).ok_or_else(|| ModelsError::InvalidHardware(h.to_owned()))?)
        }
    };
    let one = match o.model.as_deref() {
        None => None,
        Some(n) => Some(model(n).ok_or_else(|| ModelsError::UnknownModel {
            name: n.to_owned(),
            available: MODELS.iter().map(|m| m.key).collect(),
        })?),
    };
    let action = if o.status {
        Action::Status
    } else if let Some(h) = hardware {
        Action::Download(h.models())
    } else if let Some(m) = one {
        Action::Download(vec![m])
    } else if o.all {
        Action::Download(MODELS.iter().collect())
    } else {
        return Err(ModelsError::NoAction);
    };
    let min_free_gb = match (o.min_free_gb, env.var(MIN_FREE_VAR)) {
        (Some(x), _) => Some((x, "--min-free-gb".to_owned(), x.to_string())),
        (None, Some(v)) => Some((
            v.trim().parse::<f64>().unwrap_or(f64::NAN),
            MIN_FREE_VAR.to_owned(),
            v,
        )),
        (None, None) => None,
    };
    let min_free_gb = match min_free_gb {
        None => None,
        Some((x, _, _)) if x.is_finite() && x >= 0.0 => Some(x),
        Some((_, name, value)) => {
            return Err(ModelsError::InvalidSetting {
                name,
                value,
                reason: "must be a number of GB >= 0".to_owned(),
            });
        }
    };
    let timeout = match o.timeout {
        None => Duration::from_secs_f64(DEFAULT_TIMEOUT_S),
        Some(x) if x.is_finite() && x > 0.0 => Duration::from_secs_f64(x),
        Some(x) => {
            return Err(ModelsError::InvalidSetting {
                name: "--timeout".to_owned(),
                value: x.to_string(),
                reason: "must be a number of seconds > 0".to_owned(),
            });
        }
    };
    let base_dir = o
        .base_dir
        .clone()
        .or_else(|| env.var(BASE_DIR_VAR).map(PathBuf::from))
        .unwrap_or_else(|| PathBuf::from(DEFAULT_BASE_DIR));
    Ok(DownloadModelsConfig {
        action,
        hardware,
        base_dir: crate::config::absolute(&base_dir),
        dry_run: o.dry_run,
        min_free_gb,
        timeout,
        color: o.color,
    })
}

/// How a `download-models` run ended.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum ModelsOutcome {
    /// Every model was processed (or the status was printed).
    Completed,
    /// Some models failed (their keys).
    Failed {
        /// Keys of the failed models.
        keys: Vec<String>,
    },
    /// SIGINT / SIGTERM.
    Interrupted {
        /// The signal.
        signal: i32,
    },
}

impl ModelsOutcome {
    /// One line for the error message.
    pub fn message(&self) -> String {
        match self {
            Self::Completed => "all models processed successfully".to_owned(),
            Self::Failed { keys } => format!("failed to download: {}", keys.join(" ")),
            Self::Interrupted { signal } => format!(
                "interrupted by {}",
                crate::signals::Interrupted { signal: *signal }.name()
            ),
        }
    }

    /// Exit status: 0, 1, 130/143.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::Completed => 0,
            Self::Failed { .. } => 1,
            Self::Interrupted { signal } => u8::try_from(128 + signal).unwrap_or(255),
        }
    }
}

struct Out<'a> {
    console: &'a mut Console,
    color: bool,
}

impl Out<'_> {
    fn tagged(&mut self, tag: &str, code: &str, text: &str) {
        if self.color {
            self.console
                .line(format!("\x1b[{code}m[{tag}]\x1b[0m {text}"));
        } else {
            self.console.line(format!("[{tag}] {text}"));
        }
    }
    fn info(&mut self, t: &str) {
        self.tagged("INFO", "0;34", t);
    }
    fn success(&mut self, t: &str) {
        self.tagged("SUCCESS", "0;32", t);
    }
    fn warning(&mut self, t: &str) {
        self.tagged("WARNING", "1;33", t);
    }
    fn error(&mut self, t: &str) {
        self.tagged("ERROR", "0;31", t);
    }
    fn paint(&self, code: &str, text: &str) -> String {
        if self.color {
            format!("\x1b[{code}m{text}\x1b[0m")
        } else {
            text.to_owned()
        }
    }
}

fn local_path(base: &Path, m: &ModelEntry) -> PathBuf {
    base.join(m.local)
}

fn status_table(out: &mut Out<'_>, cfg: &DownloadModelsConfig) {
    let list: Vec<&ModelEntry> = match cfg.hardware {
        Some(h) => h.models(),
        None => MODELS.iter().collect(),
    };
    out.info("Model status:");
    for m in list {
        let p = local_path(&cfg.base_dir, m);
        let line = if download::is_populated(&p) {
            out.paint(
                "0;32",
                &format!("  ✓ {} - Available at {}", m.key, p.display()),
            )
        } else {
            out.paint(
                "0;31",
                &format!("  ✗ {} - Missing (would download from {})", m.key, m.repo),
            )
        };
        out.console.line(line);
    }
}

fn estimates(out: &mut Out<'_>) {
    out.info("Disk space estimates:");
    let mut total = 0.0;
    for m in MODELS {
        total += m.size_gb;
        out.console.line(format!(
            "  {:<21}~{}GB ({})",
            format!("{}:", m.key),
            m.size_gb,
            m.size_note
        ));
    }
    out.console.line(format!(
        "  Total estimated: ~{total}GB for every model (a hardware list needs less)"
    ));
}

/// Runs `download-models` with `cfg`. `Err` only for setup failures; failed models are an
/// outcome.
pub fn run(
    cfg: &DownloadModelsConfig,
    exec: &dyn Executor,
    console: &mut Console,
    interrupt: &Interrupt,
) -> Result<ModelsOutcome, ModelsError> {
    let mut out = Out {
        console,
        color: cfg.color,
    };
    let models = match &cfg.action {
        Action::Status => {
            out.info(&format!("Base directory: {}", cfg.base_dir.display()));
            status_table(&mut out, cfg);
            estimates(&mut out);
            return Ok(ModelsOutcome::Completed);
        }
        Action::Download(m) => m.clone(),
    };
    out.info("SGLang Model Download Script");
    out.info(&format!("Start time: {}", timefmt::human(&timefmt::now())));
    out.info(&format!("Base directory: {}", cfg.base_dir.display()));
    let cli = HfCli::find();
    if cfg.dry_run {
        out.info(&match &cli {
            Some(c) => format!("HuggingFace CLI: {}", c.program.display()),
            None => "HuggingFace CLI: none on PATH (a real run would stop here)".to_owned(),
        });
    } else {
        std::fs::create_dir_all(&cfg.base_dir).map_err(|source| ModelsError::BaseDir {
            path: cfg.base_dir.clone(),
            source,
        })?;
    }
    let cli = match (cli, cfg.dry_run) {
        (Some(c), _) => Some(c),
        (None, true) => None,
        (None, false) => return Err(ModelsError::NoCli),
    };
    status_table(&mut out, cfg);
    let mut failed: Vec<String> = Vec::new();
    for m in &models {
        if let Err(i) = interrupt.check() {
            out.error(&format!("Interrupted by {}", i.name()));
            return Ok(ModelsOutcome::Interrupted { signal: i.signal });
        }
        let path = local_path(&cfg.base_dir, m);
        out.console.line("");
        out.info(&format!("Processing {}", m.key));
        out.info(&format!("  Repository: {}", m.repo));
        out.info(&format!("  Local path: {}", path.display()));
        let exists = download::is_populated(&path);
        if cfg.dry_run {
            let line = if exists {
                format!(
                    "[DRY RUN] Model exists, would verify/resume download of {} to {}",
                    m.repo,
                    path.display()
                )
            } else {
                format!("[DRY RUN] Would download {} to {}", m.repo, path.display())
            };
            out.console.line(line);
            if let Some(c) = &cli {
                out.console.line(format!(
                    "  command: {}",
                    c.command(&request(m, &path)).display()
                ));
            }
            continue;
        }
        match m.key {
            "GROK1-INT4" | "GROK1-FP8" => out.info(
                "  Note: Grok-1 models also need the tokenizer (GROK1-TOKENIZER, Xenova/grok-1-tokenizer)",
            ),
            "GROK2" => out.warning(
                "  Note: xai-org/grok-2 may need HuggingFace authentication (huggingface-cli login, or HF_TOKEN)",
            ),
            _ => {}
        }
        let required = cfg
            .min_free_gb
            .unwrap_or_else(|| download::remaining_gb(m.size_gb, &path));
        let result = download::check_free_space(m.repo, &path, required).and_then(|fs| {
            out.info(&format!(
                "  Available disk space: {:.1}GB ({:.1}GB needed)",
                fs.available_gb(),
                required
            ));
            let Some(c) = &cli else {
                return Err(DownloadError::NoCli {
                    repo: m.repo.to_owned(),
                    path: path.clone(),
                });
            };
            let req = request(m, &path);
            out.info(&format!("  Running: {}", c.command(&req).display()));
            let console = &mut *out.console;
            download::download(exec, c, &req, cfg.timeout, interrupt, &mut |b| {
                console.raw(b)
            })
        });
        match result {
            Ok(took) => out.success(&format!("Downloaded {} in {} s", m.key, took.as_secs())),
            Err(DownloadError::Interrupted { signal, .. }) => {
                out.error(&format!(
                    "Download of {} interrupted by {}",
                    m.key,
                    signal.name()
                ));
                return Ok(ModelsOutcome::Interrupted {
                    signal: signal.signal,
                });
            }
            Err(e) => {
                out.error(&format!("Failed to download {}: {e}", m.key));
                failed.push(m.key.to_owned());
            }
        }
    }
    out.console.line("");
    let outcome = if failed.is_empty() {
        if cfg.dry_run {
            out.info("Dry run: nothing was downloaded");
        } else {
            out.success("All models processed successfully");
        }
        ModelsOutcome::Completed
    } else {
        out.error(&format!("Failed to download: {}", failed.join(" ")));
        ModelsOutcome::Failed { keys: failed }
    };
    if !cfg.dry_run {
        status_table(&mut out, cfg);
    }
    out.info(&format!("End time: {}", timefmt::human(&timefmt::now())));
    Ok(outcome)
}

fn request(m: &ModelEntry, path: &Path) -> HfDownload {
    HfDownload {
        repo: m.repo.to_owned(),
        local_dir: path.to_owned(),
        repo_type_model: false,
        resume: false,
        env: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;

    fn opts() -> DownloadModelsOptions {
        DownloadModelsOptions::default()
    }

    #[test]
    fn hardware_lists_put_their_gpt_oss_models_first() {
        let keys = |h: Hardware| h.models().iter().map(|m| m.key).collect::<Vec<_>>();
        assert_eq!(
            keys(Hardware::Mi30x),
            [
                "GPT-OSS-120B-LMSYS",
                "GPT-OSS-20B-LMSYS",
                "QWEN-30B",
                "GROK1-TOKENIZER",
                "GROK1-INT4",
                "GROK1-FP8",
                "GROK2",
                "GROK2-TOKENIZER",
                "DEEPSEEK-V3",
                "DEEPSEEK-R1-MXFP4",
                "LLAMA4-MAVERICK-17B"
            ]
        );
        assert_eq!(
            keys(Hardware::Mi35x)[..2],
            ["GPT-OSS-120B-OPENAI", "GPT-OSS-20B-OPENAI"]
        );
        assert_eq!(MODELS.len(), 13);
        assert_eq!(model("GROK1-FP8").unwrap().local, "lmzheng-grok-1");
    }

    #[test]
    fn selection_rules_and_errors() {
        let env = BTreeMap::new();
        let r = |o: DownloadModelsOptions| resolve(&o, &env);
        assert!(matches!(r(opts()), Err(ModelsError::NoAction)));
        let e = r(DownloadModelsOptions {
            hardware: Some("mi25x".into()),
            ..opts()
        })
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "Invalid hardware: mi25x. Must be 'mi30x' or 'mi35x'"
        );
        let e = r(DownloadModelsOptions {
            model: Some("GROK3".into()),
            ..opts()
        })
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Unknown model: GROK3. Available models: GPT-OSS-120B-LMSYS, "),
            "{e}"
        );
        let c = r(DownloadModelsOptions {
            hardware: Some("mi35x".into()),
            model: Some("GROK2".into()),
            ..opts()
        })
        .unwrap();
        assert!(
            matches!(&c.action, Action::Download(v) if v.len() == 11),
            "--hardware wins over --model"
        );
        let c = r(DownloadModelsOptions {
            model: Some("GROK2".into()),
            all: true,
            ..opts()
        })
        .unwrap();
        assert!(matches!(&c.action, Action::Download(v) if v.len() == 1 && v[0].key == "GROK2"));
        let c = r(DownloadModelsOptions {
            all: true,
            status: true,
            ..opts()
        })
        .unwrap();
        assert_eq!(c.action, Action::Status);
        assert_eq!(c.base_dir, Path::new(DEFAULT_BASE_DIR));
        let env: BTreeMap<String, String> = [(MIN_FREE_VAR.to_owned(), "x".to_owned())].into();
        assert!(
            resolve(
                &DownloadModelsOptions {
                    all: true,
                    ..opts()
                },
                &env
            )
            .is_err()
        );
    }
}
