//! The resolved configuration of a night (spec benchmarks.md §8.2, §8.3, §8.8; nightly.md
//! §7.1): flags > environment > defaults, validated in the original's order and wording, built
//! once from [`NightlyOptions`] (what the binary parsed) into a [`NightlyConfig`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use const_format::concatcp;
use docker_ctl::Hardware;
use serde::Serialize;
use thiserror::Error;

use crate::config::{EnvSource, dir_flag_env_or, flag_env_or};
use crate::container;
use crate::engine::Engine;
use crate::flags::{self, TeamsWebhookFlags, heading};
use crate::paths::DeepSeekMode;

/// A value the original rejected with exit status 1; the message is the original's (the
/// console prints it after `[nightly] ERROR: `).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The flags of `perf-nightly`, as parsed (every value optional where the original's was),
/// with their help texts: the binary flattens this struct.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct NightlyOptions {
    /// `--model`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "MODEL",
        help = "`grok`, `grok2`, `deepseek`, `DeepSeek-V3` or `sanity` [default: grok]"
    )]
    pub model: Option<String>,
    /// `--model-path`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "PATH",
        help = "Model weights directory, forwarded as the benchmarks' --model and mounted into \
                the container [default: the benchmarks' defaults]"
    )]
    pub model_path: Option<String>,
    /// `--model-name`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "NAME",
        help = "MODEL_NAME of folders and files, forwarded to every benchmark [env: \
                GROK_MODEL_NAME / GROK2_MODEL_NAME / DEEPSEEK_MODEL_NAME] [default: GROK1, \
                GROK2, DeepSeek-V3-0324]"
    )]
    pub model_name: Option<String>,
    /// `--tokenizer-path`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "PATH",
        help = "Tokenizer, forwarded as --tokenizer with --model=grok2 only [default: the \
                benchmark's]"
    )]
    pub tokenizer_path: Option<String>,
    /// `--work-dir`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "DIR",
        help = concatcp!(
            "CI_DIR: the root of every folder of the night (online/, offline/, plots_server/, \
             models/), mounted into the container; created when missing [env: ", CI_DIR_VAR,
            "] [default: the current directory]"
        )
    )]
    pub work_dir: Option<PathBuf>,
    /// `--mode` (`Some("")` = all).
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "MODE",
        help = "`online`, `offline`, `all` (online then offline; also an empty value) or \
                `sanity` [default: all]"
    )]
    pub mode: Option<String>,
    /// `--hardware`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "HW",
        help = concatcp!(
            "`mi30x` or `mi35x` [env: ", HARDWARE_VAR, "] [default: ", DEFAULT_HARDWARE, "]"
        )
    )]
    pub hardware: Option<String>,
    /// `--download-model`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "REPO",
        help = "HuggingFace repository to download into <CI_DIR>/models/<name> when \
                --model-path is not given"
    )]
    pub download_model: Option<String>,
    /// `--continue-run-days`, unvalidated text.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "N",
        help = "Days of images to run, today first (a positive integer) [default: 1]"
    )]
    pub continue_run_days: Option<String>,
    /// `--teams-webhook-url` (`Some("")`: given without a value); the TEAMS_WEBHOOK_URL
    /// variable alone does not enable notifications (the original's rule).
    #[command(flatten)]
    pub teams: TeamsWebhookFlags,
    /// `--teams-skip-analysis`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        help = "Send the card without the accuracy and performance analysis [env: \
                TEAMS_SKIP_ANALYSIS=true]"
    )]
    pub teams_skip_analysis: bool,
    /// `--alert-on-fallback`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        help = "Send the Teams card also for a fallback image (one older than today, Pacific); \
                without it such a card is held back and the log says so"
    )]
    pub alert_on_fallback: bool,
    /// `--regression-rule`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_enum,
        value_name = "RULE",
        help = "Regression rule of the card's performance analysis: `robust` (baseline and noise \
                band over the last valid nights) or `legacy` (the original's, over \
                --teams-analysis-days) [default: robust]"
    )]
    pub regression_rule: Option<RegressionRule>,
    /// `--teams-analysis-days`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "N",
        help = concatcp!(
            "Days of history the legacy regression rule looks back [env: ", ANALYSIS_DAYS_VAR,
            "] [default: ", DEFAULT_ANALYSIS_DAYS, "]"
        )
    )]
    pub teams_analysis_days: Option<String>,
    /// The four DeepSeek online switches.
    #[command(flatten)]
    pub deepseek_mode: DeepSeekMode,
    /// `--sanity-trials`, unvalidated text.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "N",
        help = "Sanity trials per model (a positive integer) [default: 1]"
    )]
    pub sanity_trials: Option<String>,
    /// `--sanity-args` (new): extra `sanity-check` flags of `--mode=sanity`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "ARGS",
        allow_hyphen_values = true,
        help = "Extra sanity-check flags for --mode=sanity, one string \
                (`--sanity-args=\"--models QWEN-30B --early-exit\"`); the image, hardware, \
                trials, work dir and engine come from the night [env: SGLCI_SANITY_ARGS] \
                [default: none]"
    )]
    pub sanity_args: Option<String>,
    /// `--docker_image` (new: skips discovery).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "IMAGE",
        help = "Run on this image and skip Docker Hub discovery (also --docker_image); with \
                --engine=sim a `sglang-sim build-image` image [default: discovered in IMAGE_REPO]"
    )]
    pub docker_image: Option<String>,
    /// `--engine` (new).
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "ENGINE",
        value_parser = flags::engine,
        help = "`sglang` or `sim` (the simulated engine; without --docker_image the whole night \
                runs on this machine without Docker) [default: sglang]"
    )]
    pub engine: Option<Engine>,
    /// `--port` (new): the benchmarks' server port.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "PORT",
        value_parser = flags::port,
        allow_negative_numbers = true,
        help = concatcp!("The benchmarks' server port [default: ", flags::defaults::PORT, "]")
    )]
    pub port: Option<u16>,
    /// `--db` (new): the history store the night's results are ingested into.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "URL",
        help = "History store to ingest the night's run folders into at the end (a SQLite path \
                or postgres://...; a failed ingest is a warning, never a failed night) [env: \
                SGLCI_DB_URL] [default: <work dir>/database/ci_history.sqlite when that file \
                exists, else none]"
    )]
    pub db: Option<String>,
    /// `--strict` (new): a failed benchmark makes the exit status non-zero.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        help = concatcp!(
            "Exit ", super::EXIT_STRICT_FAILED, " when any benchmark of the night failed (the \
             default exit 0 keeps `perf-nightly ... && github-log-upload` chains running, as the \
             original) [env: ", STRICT_VAR, "=1]"
        )
    )]
    pub strict: bool,
    /// `--dry-run` (new).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        help = "Print the resolved settings, container settings and every benchmark command, \
                then exit 0 without touching Docker, the lock or any file"
    )]
    pub dry_run: bool,
    /// The invocation as typed (program and arguments), for the banner and `--nightly-command`.
    #[arg(skip)]
    pub command_line: String,
}

/// Environment variable of `--work-dir`.
pub const CI_DIR_VAR: &str = "BENCHMARK_CI_DIR";
/// Environment variable of `--strict` (`1` or `true`).
pub const STRICT_VAR: &str = "SGLCI_STRICT";
/// Variables of the original script that the port does not read: each one set gets a warning
/// naming it and what the port does instead.
pub const IGNORED_VARS: [(&str, &str); 10] = [
    (
        "ONLINE_OUTPUT_DIR",
        "run folders go below --work-dir (BENCHMARK_CI_DIR)/online",
    ),
    (
        "OFFLINE_OUTPUT_DIR",
        "run folders go below --work-dir (BENCHMARK_CI_DIR)/offline",
    ),
    (
        "ENABLE_TEAMS_NOTIFICATIONS",
        "--teams-webhook-url enables the notification",
    ),
    ("GROK_ONLINE_SCRIPT", "the benchmarks run in this process"),
    ("GROK_OFFLINE_SCRIPT", "the benchmarks run in this process"),
    (
        "DEEPSEEK_ONLINE_SCRIPT",
        "the benchmarks run in this process",
    ),
    (
        "DEEPSEEK_OFFLINE_SCRIPT",
        "the benchmarks run in this process",
    ),
    (
        "SANITY_CHECK_SCRIPT",
        "the sanity check is the sanity-check binary",
    ),
    (
        "PROCESS_AND_GENERATE_ONLINE_PLOTS_SCRIPT",
        "process-online-plots next to this binary (then on PATH) draws the plots",
    ),
    (
        "PROCESS_AND_GENERATE_OFFLINE_PLOTS_SCRIPT",
        "process-offline-plots next to this binary (then on PATH) draws the plots",
    ),
];
/// Environment variable of `--hardware`.
pub const HARDWARE_VAR: &str = "HARDWARE_TYPE";
/// Default of `--hardware`.
pub const DEFAULT_HARDWARE: &str = "mi35x";
/// Environment variable of `--teams-analysis-days`.
pub const ANALYSIS_DAYS_VAR: &str = "TEAMS_ANALYSIS_DAYS";
/// Default of `--teams-analysis-days`.
pub const DEFAULT_ANALYSIS_DAYS: &str = "7";

/// The `--model` values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum NightlyModel {
    /// `grok`.
    Grok,
    /// `grok2`.
    Grok2,
    /// `deepseek`.
    DeepSeek,
    /// `DeepSeek-V3`.
    DeepSeekV3,
    /// `sanity`.
    Sanity,
}

impl NightlyModel {
    /// Parses a `--model` value.
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "grok" => Self::Grok,
            "grok2" => Self::Grok2,
            "deepseek" => Self::DeepSeek,
            "DeepSeek-V3" => Self::DeepSeekV3,
            "sanity" => Self::Sanity,
            _ => return None,
        })
    }

    /// The `--model` value.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Grok => "grok",
            Self::Grok2 => "grok2",
            Self::DeepSeek => "deepseek",
            Self::DeepSeekV3 => "DeepSeek-V3",
            Self::Sanity => "sanity",
        }
    }

    /// `deepseek` or `DeepSeek-V3`.
    pub fn is_deepseek(self) -> bool {
        matches!(self, Self::DeepSeek | Self::DeepSeekV3)
    }
}

/// One benchmark mode of a night.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// The online benchmark.
    Online,
    /// The offline benchmark.
    Offline,
    /// The sanity check.
    Sanity,
}

impl Mode {
    /// `online` / `offline` / `sanity`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Offline => "offline",
            Self::Sanity => "sanity",
        }
    }

    /// `Online` / `Offline` / `Sanity` (the original's `${mode^}`).
    pub fn title(self) -> &'static str {
        match self {
            Self::Online => "Online",
            Self::Offline => "Offline",
            Self::Sanity => "Sanity",
        }
    }
}

/// Where the night's image comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum ImageSource {
    /// Docker Hub discovery in `repo` (§8.8).
    Discover {
        /// `IMAGE_REPO`.
        repo: String,
    },
    /// `--docker_image`: this image, in its container.
    Given(String),
    /// `--engine=sim` without an image: no Docker; the run folders are named after this
    /// made-up image whose tag carries today's Pacific date.
    LocalSim(String),
}

/// The Teams settings (§8.2, §8.12).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Teams {
    /// Notifications are on (`--teams-webhook-url` with a value).
    pub enabled: bool,
    /// The webhook (never printed).
    #[serde(skip)]
    pub webhook: Option<String>,
    /// `--teams-skip-analysis`.
    pub skip_analysis: bool,
    /// `--teams-analysis-days` / `TEAMS_ANALYSIS_DAYS`: the window of the legacy rule.
    pub analysis_days: String,
    /// `--alert-on-fallback`.
    pub alert_on_fallback: bool,
    /// `--regression-rule`.
    pub regression_rule: RegressionRule,
}

/// The regression rule of the card's performance analysis (docs/regression-rules.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::ValueEnum)]
pub enum RegressionRule {
    /// Median of the last valid nights with a noise band; two nights outside it.
    #[default]
    Robust,
    /// The original's: the last night against the latest earlier one in the window, > 5 %.
    Legacy,
}

/// A resolved night.
#[derive(Debug, Clone, Serialize)]
pub struct NightlyConfig {
    /// `--model` (forced to `sanity` by `--mode=sanity`).
    pub model: NightlyModel,
    /// `--strict` / `SGLCI_STRICT`: a failed benchmark fails the night's exit status.
    pub strict: bool,
    /// `--db` as given (the store is resolved when the night ends: `SGLCI_DB_URL`, the
    /// default file).
    #[serde(skip)]
    pub db: Option<String>,
    /// Modes, in order.
    pub modes: Vec<Mode>,
    /// `--hardware`.
    #[serde(serialize_with = "as_text")]
    pub hardware: Hardware,
    /// The ROCm token of the image search.
    pub rocm: String,
    /// `CI_DIR`: every path of the night derives from it (fix F-18).
    pub ci_dir: PathBuf,
    /// `<MODEL_NAME>` of the orchestrator's paths (and forwarded to every benchmark: F-17).
    pub model_name: String,
    /// `--model-name` was given.
    pub custom_model_name: bool,
    /// `--model-path`.
    pub model_path: Option<String>,
    /// `--tokenizer-path` (forwarded for grok2 only).
    pub tokenizer_path: Option<String>,
    /// `--download-model`.
    pub download_model: Option<String>,
    /// `--continue-run-days`.
    pub days: u32,
    /// Teams.
    pub teams: Teams,
    /// DeepSeek mode switches (`--enable-dp-test` implies `--check-dp-attention`).
    pub deepseek_mode: DeepSeekMode,
    /// `--sanity-trials`.
    pub sanity_trials: u32,
    /// `--sanity-args`, split into words.
    pub sanity_args: Vec<String>,
    /// The image.
    pub image: ImageSource,
    /// The engine.
    pub engine: Engine,
    /// The benchmarks' server port (`None`: their default, 30000).
    pub port: Option<u16>,
    /// `MOUNT_DIR`.
    pub mount_dir: PathBuf,
    /// The models folder every container mounts (`/mnt/raid/models`).
    pub models_dir: PathBuf,
    /// `WORK_DIR`: the container's working directory.
    pub container_work_dir: String,
    /// `CONTAINER_SHM_SIZE`.
    pub shm_size: String,
    /// `GPU_IDLE_WAIT_TIME`.
    pub gpu_idle_wait: Duration,
    /// The lock file.
    pub lock_path: PathBuf,
    /// The invocation with secrets masked.
    pub command_line: String,
    /// `--dry-run`.
    pub dry_run: bool,
    /// Lines the original printed while parsing (`[nightly] Custom model name provided: …`).
    pub notes: Vec<String>,
}

impl NightlyConfig {
    /// `MODEL_NAME` in upper case (the `=== Starting nightly GROK online benchmark ===` line).
    pub fn model_upper(&self) -> String {
        self.model.as_str().to_uppercase()
    }

    /// True when the night runs in a container (an image is given or discovered).
    pub fn uses_docker(&self) -> bool {
        !matches!(self.image, ImageSource::LocalSim(_))
    }
}

fn as_text<S: serde::Serializer>(h: &Hardware, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(h.as_str())
}

fn positive(text: &str) -> Option<u32> {
    // The original's `^[1-9][0-9]*$`.
    let ok = text
        .bytes()
        .next()
        .is_some_and(|b| (b'1'..=b'9').contains(&b))
        && text.bytes().all(|b| b.is_ascii_digit());
    ok.then(|| text.parse().ok()).flatten()
}

/// The lock file (§8.6): `perf_nightly_sanity.lock` for `--mode=sanity`, else
/// `perf_nightly_<model>.lock`, in `SGLCI_LOCK_DIR` (default `/tmp`, the original's TMPROOT).
pub fn lock_path(model: NightlyModel, sanity: bool, env: &dyn EnvSource) -> PathBuf {
    let dir = env
        .var("SGLCI_LOCK_DIR")
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    if sanity {
        dir.join("perf_nightly_sanity.lock")
    } else {
        dir.join(format!("perf_nightly_{}.lock", model.as_str()))
    }
}

/// Resolves the night. `today` is the Pacific date (`YYYYMMDD`) used for the made-up image
/// of a local simulated night.
pub fn resolve(
    o: &NightlyOptions,
    env: &dyn EnvSource,
    today: &str,
) -> Result<NightlyConfig, UsageError> {
    let mut notes = Vec::new();
    // Every path of the night writes Pacific (or TIME_ZONE) dates: a zone that is not one is
    // refused before anything runs, not only when Docker Hub is asked.
    if let Some(z) = env.var("TIME_ZONE")
        && z.parse::<chrono_tz::Tz>().is_err()
    {
        return Err(UsageError(format!(
            "TIME_ZONE={z:?} is not an IANA time zone (e.g. America/Los_Angeles)"
        )));
    }
    // --model (validated before the sanity override, as the original).
    let model_text = o.model.clone().unwrap_or_else(|| "grok".to_owned());
    let mut model = NightlyModel::parse(&model_text).ok_or_else(|| {
        UsageError(format!(
            "Invalid --model value '{model_text}'. Must be 'grok', 'grok2', 'deepseek', 'DeepSeek-V3', or 'sanity'."
        ))
    })?;
    let modes = match o.mode.as_deref().unwrap_or("all") {
        "" | "all" => vec![Mode::Online, Mode::Offline],
        "online" => vec![Mode::Online],
        "offline" => vec![Mode::Offline],
        "sanity" => vec![Mode::Sanity],
        _ => {
            return Err(UsageError(
                "Invalid --mode value. Must be 'offline', 'online', 'all', or 'sanity'.".to_owned(),
            ));
        }
    };
    let sanity = modes == [Mode::Sanity];
    if sanity && model != NightlyModel::Sanity {
        notes.push("[nightly] Mode is 'sanity', setting model to 'sanity' as well".to_owned());
        model = NightlyModel::Sanity;
    }
    let hw_text = flag_env_or(o.hardware.as_deref(), env, HARDWARE_VAR, DEFAULT_HARDWARE);
    let hardware: Hardware = hw_text.parse().map_err(|_| {
        UsageError("Invalid --hardware value. Must be 'mi30x' or 'mi35x'.".to_owned())
    })?;
    let days_text = o
        .continue_run_days
        .clone()
        .unwrap_or_else(|| "1".to_owned());
    let days = positive(&days_text).ok_or_else(|| {
        UsageError(format!(
            "--continue-run-days must be a positive integer (got: {days_text})"
        ))
    })?;
    let trials_text = o.sanity_trials.clone().unwrap_or_else(|| "1".to_owned());
    let sanity_trials = positive(&trials_text).ok_or_else(|| {
        UsageError(format!(
            "--sanity-trials must be a positive integer (got: {trials_text})"
        ))
    })?;
    if sanity {
        notes.push(format!(
            "[nightly] Will run {sanity_trials} trials per model for sanity check"
        ));
    }
    let sanity_args = match o
        .sanity_args
        .clone()
        .or_else(|| env.var("SGLCI_SANITY_ARGS"))
    {
        Some(t) => crate::command::split_words(&t)
            .map_err(|e| UsageError(format!("--sanity-args: {e}")))?,
        None => Vec::new(),
    };

    // Teams (§8.2): only the flag with a value enables notifications.
    let teams = match o.teams.teams_webhook_url.as_deref() {
        Some("") => {
            notes.push(
                "[nightly] WARN: --teams-webhook-url was provided without a value - notifications disabled"
                    .to_owned(),
            );
            None
        }
        Some(url) => {
            notes.push(
                "[nightly] Teams webhook URL provided via command line - notifications enabled"
                    .to_owned(),
            );
            Some(url.to_owned())
        }
        None => {
            if env.var("TEAMS_WEBHOOK_URL").is_some() {
                notes.push(
                    "[nightly] INFO: Ignoring Teams webhook URL from environment (require --teams-webhook-url)"
                        .to_owned(),
                );
            }
            None
        }
    };
    let teams = Teams {
        enabled: teams.is_some(),
        webhook: teams,
        skip_analysis: o.teams_skip_analysis
            || env.var("TEAMS_SKIP_ANALYSIS").is_some_and(|v| v == "true"),
        analysis_days: flag_env_or(
            o.teams_analysis_days.as_deref(),
            env,
            ANALYSIS_DAYS_VAR,
            DEFAULT_ANALYSIS_DAYS,
        ),
        alert_on_fallback: o.alert_on_fallback,
        regression_rule: o.regression_rule.unwrap_or_default(),
    };

    let mut deepseek_mode = o.deepseek_mode;
    if deepseek_mode.dp_test && !deepseek_mode.dp_attention {
        notes.push("[nightly] DP test implies DP attention checks".to_owned());
        deepseek_mode.dp_attention = true;
    }

    // ROCm token (§8.8).
    let mut rocm = hardware.default_rocm().to_owned();
    if model == NightlyModel::Grok2 {
        rocm = "rocm700".to_owned();
        notes.push(format!(
            "[nightly] Using rocm700 for grok2 on {hardware} hardware"
        ));
    } else if sanity && hardware == Hardware::Mi30x {
        rocm = "rocm700".to_owned();
        notes.push(format!(
            "[nightly] Using rocm700 for sanity check on {hardware} hardware (improved FP8 accuracy)"
        ));
    }

    // Model names (§1.7).
    let (name_var, name_default) = match model {
        NightlyModel::Grok => ("GROK_MODEL_NAME", "GROK1"),
        NightlyModel::Grok2 => ("GROK2_MODEL_NAME", "GROK2"),
        NightlyModel::DeepSeek | NightlyModel::DeepSeekV3 => {
            ("DEEPSEEK_MODEL_NAME", "DeepSeek-V3-0324")
        }
        NightlyModel::Sanity => ("", "SANITY"),
    };
    let custom_model_name = o.model_name.as_deref().is_some_and(|n| !n.is_empty());
    let model_name = match o.model_name.clone().filter(|n| !n.is_empty()) {
        Some(n) => {
            notes.push(format!("[nightly] Custom model name provided: {n}"));
            n
        }
        None => env.var_or(name_var, name_default),
    };

    let ci_dir = dir_flag_env_or(o.work_dir.as_deref(), env, CI_DIR_VAR, ".");
    let engine = o.engine.unwrap_or(Engine::Sglang);
    let image = match (&o.docker_image, engine) {
        (Some(i), _) if !i.is_empty() => ImageSource::Given(i.clone()),
        (_, Engine::Sim) => {
            ImageSource::LocalSim(format!("sglang-sim:sim-{rocm}-{hardware}-{today}"))
        }
        _ => ImageSource::Discover {
            repo: env.var_or("IMAGE_REPO", "rocm/sgl-dev"),
        },
    };
    let gpu_idle_wait = match env.var("GPU_IDLE_WAIT_TIME") {
        None => Duration::from_secs(15),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(s) if s.is_finite() && s >= 0.0 => Duration::from_secs_f64(s),
            _ => {
                return Err(UsageError(format!(
                    "GPU_IDLE_WAIT_TIME must be a number of seconds (got: {v})"
                )));
            }
        },
    };
    for (var, instead) in IGNORED_VARS {
        if env.var(var).is_some() {
            notes.push(format!(
                "[nightly] WARN: {var} is set but not used by this port: {instead}"
            ));
        }
    }
    let strict = o.strict
        || env
            .var(STRICT_VAR)
            .is_some_and(|v| matches!(v.trim(), "1" | "true" | "yes"));
    Ok(NightlyConfig {
        lock_path: lock_path(model, sanity, env),
        strict,
        db: o.db.clone(),
        model,
        modes,
        hardware,
        rocm,
        ci_dir,
        model_name,
        custom_model_name,
        model_path: o.model_path.clone().filter(|p| !p.is_empty()),
        tokenizer_path: o.tokenizer_path.clone().filter(|p| !p.is_empty()),
        download_model: o.download_model.clone().filter(|p| !p.is_empty()),
        days,
        teams,
        deepseek_mode,
        sanity_trials,
        sanity_args,
        image,
        engine,
        port: o.port,
        mount_dir: container::mount_dir(env),
        models_dir: PathBuf::from("/mnt/raid/models"),
        container_work_dir: container::work_dir(env, "WORK_DIR"),
        shm_size: container::shm_size(env),
        gpu_idle_wait,
        command_line: report::redact::redact(&o.command_line).into_owned(),
        dry_run: o.dry_run,
        notes,
    })
}

/// The `YYYYMMDD` at the end of a tag (`…-20251029`), else `None` (the caller falls back to
/// today: fix F-37).
pub fn tag_date(tag: &str) -> Option<&str> {
    let d = tag.get(tag.len().checked_sub(9)?..)?;
    let (dash, digits) = d.split_at(1);
    (dash == "-" && digits.bytes().all(|b| b.is_ascii_digit())).then_some(digits)
}

/// `true` when `path` is `root` or below it.
pub fn below(path: &Path, root: &Path) -> bool {
    path.starts_with(root)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::env;

    fn opts(f: impl FnOnce(&mut NightlyOptions)) -> NightlyOptions {
        let mut o = NightlyOptions {
            command_line: "perf-nightly".into(),
            ..Default::default()
        };
        f(&mut o);
        o
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = resolve(&opts(|_| {}), &env(&[]), "20251029").unwrap();
        assert_eq!(c.model, NightlyModel::Grok);
        assert_eq!(c.modes, [Mode::Online, Mode::Offline]);
        assert_eq!(
            c.hardware,
            Hardware::Mi35x,
            "F-31: the real default is mi35x"
        );
        assert_eq!(c.rocm, "rocm700");
        assert_eq!(c.model_name, "GROK1");
        assert_eq!(c.days, 1);
        assert!(!c.teams.enabled);
        assert_eq!(c.teams.analysis_days, "7");
        assert_eq!(
            c.image,
            ImageSource::Discover {
                repo: "rocm/sgl-dev".into()
            }
        );
        assert_eq!(c.lock_path, PathBuf::from("/tmp/perf_nightly_grok.lock"));
        assert_eq!(c.mount_dir, PathBuf::from("/mnt/raid/"));
        assert_eq!(c.gpu_idle_wait, Duration::from_secs(15));
    }

    #[test]
    fn invalid_values_give_the_original_messages() {
        let e =
            |f: fn(&mut NightlyOptions)| resolve(&opts(f), &env(&[]), "20251029").unwrap_err().0;
        assert_eq!(
            e(|o| o.model = Some("llama".into())),
            "Invalid --model value 'llama'. Must be 'grok', 'grok2', 'deepseek', 'DeepSeek-V3', or 'sanity'."
        );
        assert!(e(|o| o.mode = Some("fast".into())).contains("Invalid --mode value"));
        assert!(e(|o| o.hardware = Some("mi300".into())).contains("Invalid --hardware value"));
        assert_eq!(
            e(|o| o.continue_run_days = Some("01".into())),
            "--continue-run-days must be a positive integer (got: 01)"
        );
        assert!(e(|o| o.sanity_trials = Some("0".into())).contains("--sanity-trials"));
    }

    #[test]
    fn rocm_tokens_and_model_overrides() {
        let c = resolve(
            &opts(|o| {
                o.model = Some("grok2".into());
                o.hardware = Some("mi30x".into());
            }),
            &env(&[]),
            "20251029",
        )
        .unwrap();
        assert_eq!(c.rocm, "rocm700");
        assert!(
            c.notes
                .iter()
                .any(|n| n == "[nightly] Using rocm700 for grok2 on mi30x hardware")
        );
        assert_eq!(c.model_name, "GROK2");
        let c = resolve(
            &opts(|o| o.mode = Some("sanity".into())),
            &env(&[("HARDWARE_TYPE", "mi30x")]),
            "20251029",
        )
        .unwrap();
        assert_eq!(c.model, NightlyModel::Sanity);
        assert_eq!(c.rocm, "rocm700");
        assert_eq!(c.lock_path, PathBuf::from("/tmp/perf_nightly_sanity.lock"));
        let c = resolve(
            &opts(|o| {
                o.model = Some("deepseek".into());
                o.model_name = Some("DeepSeek-R1-MXFP4-Preview".into());
                o.deepseek_mode.dp_test = true;
            }),
            &env(&[("SGLCI_LOCK_DIR", "/var/lock")]),
            "20251029",
        )
        .unwrap();
        assert_eq!(c.model_name, "DeepSeek-R1-MXFP4-Preview");
        assert!(c.deepseek_mode.dp_attention, "DP test implies DP attention");
        assert_eq!(
            c.lock_path,
            PathBuf::from("/var/lock/perf_nightly_deepseek.lock")
        );
    }

    #[test]
    fn teams_needs_the_flag_with_a_value() {
        let c = resolve(
            &opts(|_| {}),
            &env(&[("TEAMS_WEBHOOK_URL", "https://x")]),
            "d",
        )
        .unwrap();
        assert!(!c.teams.enabled);
        assert!(
            c.notes
                .iter()
                .any(|n| n.contains("Ignoring Teams webhook URL from environment"))
        );
        let c = resolve(
            &opts(|o| o.teams.teams_webhook_url = Some(String::new())),
            &env(&[]),
            "d",
        )
        .unwrap();
        assert!(!c.teams.enabled);
        let c = resolve(
            &opts(|o| {
                o.teams.teams_webhook_url = Some("https://example.webhook.office.com/x".into());
                o.command_line =
                    "perf-nightly --teams-webhook-url=https://example.webhook.office.com/webhookb2/abc".into();
            }),
            &env(&[]),
            "d",
        )
        .unwrap();
        assert!(c.teams.enabled);
        assert!(
            !c.command_line.contains("webhookb2/abc"),
            "{}",
            c.command_line
        );
    }

    #[test]
    fn images_come_from_the_flag_the_simulator_or_docker_hub() {
        let c = resolve(
            &opts(|o| o.engine = Some(Engine::Sim)),
            &env(&[]),
            "20251029",
        )
        .unwrap();
        assert_eq!(
            c.image,
            ImageSource::LocalSim("sglang-sim:sim-rocm700-mi35x-20251029".into())
        );
        assert!(!c.uses_docker());
        let c = resolve(
            &opts(|o| {
                o.engine = Some(Engine::Sim);
                o.docker_image = Some("me/sim:v1-rocm630-mi30x-20251029".into());
            }),
            &env(&[]),
            "20251029",
        )
        .unwrap();
        assert!(c.uses_docker());
        assert_eq!(tag_date("v0.5.4-rocm630-mi30x-20251029"), Some("20251029"));
        assert_eq!(tag_date("latest"), None);
        assert_eq!(tag_date("x-2025102"), None);
    }
}
