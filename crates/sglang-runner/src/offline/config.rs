//! The resolved configuration of an offline run, built in one place from the flags a binary
//! parsed and the environment: flag > environment variable > default (spec benchmarks.md
//! §0.3, §2.2–§2.4, §2.7, §3.2, §3.3). Low-level options ([`OfflineOptions`],
//! [`GrokOfflineOptions`], [`DeepSeekOfflineOptions`]: every field optional, as parsed)
//! resolve into [`GrokOfflineConfig`] / [`DeepSeekOfflineConfig`] with every default of the
//! original applied and every value checked.

use std::time::Duration;

use const_format::concatcp;
use serde::Serialize;

use super::OfflinePaths;
use crate::config::{
    BaseDefaults, BaseOptions, DeepSeekModel, DeepSeekModelOptions, EnvSource, GrokModelOptions,
    GrokType, Resolver, RunBase, aiter_var, grok_online_identity, grok_type_with_notes,
    resolve_base, variant_of,
};
use crate::engine::{ClientImpl, Engine, ExecutorKind, find_program};
use crate::error::RunnerError;
use crate::flags::{self, heading};

/// Environment variable of the extra `sglang-sim bench-one-batch` flags (the offline twin of
/// the online `SGLCI_SIM_ARGS`, kept apart because server-only simulator flags would make
/// every offline point fail).
pub const SIM_ARGS_VAR: &str = flags::env::SIM_BATCH_ARGS;
/// Per-point time limit on the real engine, seconds.
pub const POINT_TIMEOUT_REAL_S: f64 = 7200.0;
/// Per-point time limit on the simulated engine, seconds.
pub const POINT_TIMEOUT_SIM_S: f64 = 300.0;

/// Flags both offline binaries share, as parsed (every value optional).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct OfflineOptions {
    /// Flags every benchmark binary has (`--nightly-command`, `--hardware` and
    /// `--rocm-version` are accepted from the orchestrator and shown by the dry run).
    #[command(flatten)]
    pub base: BaseOptions,
    /// The image, when --docker_image is not given (a real positional argument only).
    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,
    /// `--sim-args` (else [`SIM_ARGS_VAR`]).
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "FLAGS",
        allow_hyphen_values = true,
        help = flags::SIM_BATCH_ARGS_HELP
    )]
    pub sim_args: Option<String>,
    /// `--point-timeout` (seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::positive_seconds,
        allow_negative_numbers = true,
        help = "Seconds one grid point may take; past it bench_one_batch is stopped and the \
                point gets an NA row [default: 7200; 300 with --engine=sim]"
    )]
    pub point_timeout: Option<f64>,
    /// `--current-dir`: accepted from the orchestrator and ignored (as the original did).
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "DIR",
        help = "Accepted from the orchestrator and ignored (as the original did)"
    )]
    pub current_dir: Option<String>,
}

/// `grok-perf-offline` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GrokOfflineOptions {
    /// Shared flags.
    #[command(flatten)]
    pub common: OfflineOptions,
    /// `--mode`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "MODE",
        help = "`normal` (batch sizes 1..256 at input 1024 / output 128), `long_context` \
                (inputs 8192 16384 32768, output 10) or `dummy` (dummy weights, torch compile, \
                input 256 / output 4096, batch 2) [default: normal]"
    )]
    pub mode: Option<String>,
    /// `--model-type`, `--tokenizer`, `--model-name`.
    #[command(flatten)]
    pub grok: GrokModelOptions,
    /// `--dummy-model`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "PATH",
        help = concatcp!(
            "Model of `dummy` mode [env: DEFAULT_DUMMY_MODEL_PATH] [default: ",
            DEFAULT_DUMMY_MODEL, "]"
        )
    )]
    pub dummy_model: Option<String>,
}

/// `deepseek-perf-offline` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeepSeekOfflineOptions {
    /// Shared flags.
    #[command(flatten)]
    pub common: OfflineOptions,
    /// `--model-name`, `--hf-model-id`, `--download-model`.
    #[command(flatten)]
    pub deepseek: DeepSeekModelOptions,
}

/// Settings both offline benchmarks share, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct OfflineCommon {
    /// What every benchmark binary resolves alike (image, dirs, engine, executor, …).
    #[serde(flatten)]
    pub base: RunBase,
    /// Time limit of one grid point.
    pub point_timeout: Duration,
}

impl OfflineCommon {
    /// True for the simulated engine.
    pub fn simulated(&self) -> bool {
        self.base.simulated()
    }

    /// The run folder of `model_name` / `variant` for this image under the output root
    /// (`suffix`: the mode's, §2.10).
    pub fn run_paths(&self, model_name: &str, variant: &str, suffix: &str) -> OfflinePaths {
        OfflinePaths::new(
            &self.base.output_dir,
            &self.base.tag,
            model_name,
            variant,
            suffix,
        )
    }
}

/// The three Grok modes (§2.7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GrokMode {
    /// Batch-size sweep at input 1024 / output 128.
    Normal,
    /// Input 8192 / 16384 / 32768, output 10, batch 1.
    LongContext,
    /// Dummy weights with torch compile: input 256, output 4096, batch 2.
    Dummy,
}

impl GrokMode {
    /// Parses `normal` / `long_context` / `dummy`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "normal" => Some(Self::Normal),
            "long_context" => Some(Self::LongContext),
            "dummy" => Some(Self::Dummy),
            _ => None,
        }
    }

    /// `normal` / `long_context` / `dummy`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Normal => "normal",
            Self::LongContext => "long_context",
            Self::Dummy => "dummy",
        }
    }

    /// Folder and file suffix: ``, `_long_context`, `_dummy`.
    pub fn suffix(self) -> &'static str {
        match self {
            Self::Normal => "",
            Self::LongContext => "_long_context",
            Self::Dummy => "_dummy",
        }
    }

    /// Environment-variable prefix of the grid (`NORMAL`, `LONG_CONTEXT`, `DUMMY`).
    fn var_prefix(self) -> &'static str {
        match self {
            Self::Normal => "NORMAL",
            Self::LongContext => "LONG_CONTEXT",
            Self::Dummy => "DUMMY",
        }
    }

    /// Default (input lengths, output length, TP values, batch sizes).
    fn defaults(self) -> (&'static str, &'static str, &'static str, &'static str) {
        match self {
            Self::Normal => ("1024", "128", "8", "1 2 4 8 16 32 64 128 256"),
            Self::LongContext => ("8192 16384 32768", "10", "8", "1"),
            Self::Dummy => ("256", "4096", "8", "2"),
        }
    }
}

/// The grid of one Grok mode: every TP value × batch size × input length, in list order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Grid {
    /// `<MODE>_TP_VALUES`.
    pub tp_values: Vec<u32>,
    /// `<MODE>_BATCH_SIZES`.
    pub batch_sizes: Vec<u32>,
    /// `<MODE>_INPUT_LENGTHS`.
    pub input_lengths: Vec<u32>,
    /// `<MODE>_OUTPUT_LENGTH`.
    pub output_length: u32,
}

/// The resolved `grok-perf-offline` configuration.
#[derive(Debug, Clone, Serialize)]
pub struct GrokOfflineConfig {
    /// Shared settings.
    pub common: OfflineCommon,
    /// Mode.
    pub mode: GrokMode,
    /// Model type.
    pub model_type: GrokType,
    /// `<MODEL_NAME>`.
    pub model_name: String,
    /// `<VARIANT>` of the offline folder (`MOE-I4F8` / `MOE-I4F0`; `-SIM` on the simulator).
    pub variant: String,
    /// `<VARIANT>` of the online folder of the same image, read by the GSM8K gate
    /// (`MOE-I4F8` / `FP8`: fix F-14).
    pub online_variant: String,
    /// The model bench_one_batch loads (the dummy model in `dummy` mode).
    pub model: String,
    /// `--model` as resolved (also shown in `dummy` mode).
    pub real_model: String,
    /// Tokenizer (`--tokenizer-path`).
    pub tokenizer: String,
    /// The grid.
    pub grid: Grid,
    /// `BATCH_SIZE_128_MEM_FRACTION`, verbatim.
    pub mem_fraction_128: String,
    /// `BATCH_SIZE_256_MEM_FRACTION`, verbatim.
    pub mem_fraction_256: String,
    /// Console notes of the resolution (`[csv] Auto-detected model type: …`).
    pub notes: Vec<String>,
}

/// The resolved `deepseek-perf-offline` configuration.
#[derive(Debug, Clone, Serialize)]
pub struct DeepSeekOfflineConfig {
    /// Shared settings.
    pub common: OfflineCommon,
    /// Model path.
    pub model: String,
    /// `<MODEL_NAME>`.
    pub model_name: String,
    /// `<VARIANT>` (`FP8`; `-SIM` on the simulator); the same for the online folder.
    pub variant: String,
    /// `--hf-model-id`.
    pub hf_model_id: String,
    /// `--download-model`.
    pub download_model: bool,
    /// `DEEPSEEK_TP`.
    pub tp: u32,
    /// `DEEPSEEK_BATCH_SIZE`.
    pub batch_size: u32,
    /// `DEEPSEEK_INPUT_LENGTH`.
    pub input_len: u32,
    /// `DEEPSEEK_OUTPUT_LENGTH`.
    pub output_len: u32,
    /// `SGLANG_USE_AITER`, or `SGLANG_AITER_MOE` for old `lmsysorg/sglang` images (§1.2).
    pub aiter_var: String,
    /// Free space `--download-model` requires, GB (env `SGLCI_MIN_FREE_GB`; default: 685
    /// less what is already downloaded).
    pub min_free_gb: Option<f64>,
}

/// Grok-1 default model (§2.3).
pub const GROK1_OFFLINE_MODEL: &str = "/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8/";
/// Grok-1 default tokenizer (a HuggingFace id).
pub const GROK1_OFFLINE_TOKENIZER: &str = "Xenova/grok-1-tokenizer";
/// Grok-2 default model.
pub const GROK2_OFFLINE_MODEL: &str = "/data2/grok-2/";
/// Grok-2 default tokenizer.
pub const GROK2_OFFLINE_TOKENIZER: &str = "/data2/grok-2/tokenizer.tok.json";
/// Dummy-mode default model.
pub const DEFAULT_DUMMY_MODEL: &str = "/mnt/raid/models/dummy_prod1/";
/// DeepSeek default model.
pub const DEEPSEEK_OFFLINE_MODEL: &str = crate::config::DEEPSEEK_MODEL;

/// A memory fraction from `var`, kept verbatim (0 < f <= 1).
fn fraction(r: &mut Resolver<'_>, var: &str, default: &str) -> String {
    let v = r.env.var_or(var, default);
    match v.trim().parse::<f64>() {
        Ok(f) if f > 0.0 && f <= 1.0 => v.trim().to_owned(),
        _ => {
            r.errors.push(format!(
                "{var}={v:?} must be a fraction between 0 and 1 (e.g. 0.85)"
            ));
            default.to_owned()
        }
    }
}

fn resolve_common(o: &OfflineOptions, r: &mut Resolver<'_>, default_image: &str) -> OfflineCommon {
    // Offline runs no client: the client choice only decides which programs must exist.
    let mut base = resolve_base(
        &o.base,
        r,
        &BaseDefaults {
            positional_image: o.image.as_deref(),
            sim_args: o.sim_args.as_deref(),
            image: default_image,
            sim_args_var: SIM_ARGS_VAR,
            client: ClientImpl::Python,
            gsm8k_client: ClientImpl::Python,
            missing_work_dir: |w| {
                format!(
                    "Cannot change to {} directory: it does not exist (pass --work-dir or set DEFAULT_WORK_DIR)",
                    w.display()
                )
            },
        },
    );
    let timeout_default = if base.engine == Engine::Sim {
        POINT_TIMEOUT_SIM_S
    } else {
        POINT_TIMEOUT_REAL_S
    };
    let point_timeout = match o.point_timeout {
        None => Duration::from_secs_f64(timeout_default),
        Some(x) if x.is_finite() && x > 0.0 => Duration::from_secs_f64(x),
        Some(x) => {
            r.errors.push(format!(
                "--point-timeout={x} must be a number of seconds > 0"
            ));
            Duration::from_secs_f64(timeout_default)
        }
    };
    if base.engine == Engine::Sglang
        && base.executor == ExecutorKind::Local
        && find_program("python3").is_none()
    {
        base.problems.push(
            "python3 is not on PATH: the real engine runs `python3 -m sglang.bench_one_batch` (run this inside the SGLang container, or use --engine=sim)"
                .to_owned(),
        );
    }
    OfflineCommon {
        base,
        point_timeout,
    }
}

/// A model the real engine must find on this machine (local executor only: the docker
/// executor checks inside the container). A relative path is relative to the work dir,
/// where bench_one_batch runs.
fn check_model_dir(c: &mut OfflineCommon, model: &str, hint: &str) {
    let dir = c.base.work_dir.join(model);
    c.base.require_model_dir(&dir, model, hint);
}

/// Resolves the `grok-perf-offline` configuration (§2.2–§2.4, §2.7). Unusable values are a
/// [`RunnerError::Validation`]; missing paths and programs are collected in
/// [`RunBase::problems`] (the dry run shows them, a real run stops on them).
pub fn resolve_grok_offline(
    o: &GrokOfflineOptions,
    env: &dyn EnvSource,
) -> Result<GrokOfflineConfig, RunnerError> {
    let mut r = Resolver::new(env);
    let mut common = resolve_common(&o.common, &mut r, flags::defaults::GROK_IMAGE);
    let mode_text = o.mode.clone().unwrap_or_else(|| "normal".to_owned());
    let mode = GrokMode::parse(&mode_text).unwrap_or_else(|| {
        r.errors.push(format!(
            "Invalid mode: {mode_text}. Must be one of: normal, long_context, dummy"
        ));
        GrokMode::Normal
    });

    let model_flag = o.common.base.image.model.as_deref();
    // Only a path naming Grok-2 is noted (§2.3).
    let (model_type, notes) =
        grok_type_with_notes(&mut r, &o.grok, model_flag, "[csv]", &["grok2"]);
    let simulated = common.simulated();
    // The online run of the same image (fix F-14: its own variant, `FP8` for Grok-2).
    let (model_name, online_variant) =
        grok_online_identity(model_type, o.grok.model_name.as_deref(), env, simulated);
    // Fix F-32: type-specific variables first, the shared BENCHMARK_MODEL_VARIANT after.
    let (variant_var, variant_default, model_default, tok_default) = match model_type {
        GrokType::Grok1 => (
            "GROK_OFFLINE_MODEL_VARIANT",
            "MOE-I4F8",
            GROK1_OFFLINE_MODEL,
            GROK1_OFFLINE_TOKENIZER,
        ),
        GrokType::Grok2 => (
            "GROK2_OFFLINE_MODEL_VARIANT",
            "MOE-I4F0",
            GROK2_OFFLINE_MODEL,
            GROK2_OFFLINE_TOKENIZER,
        ),
    };
    let variant = variant_of(
        env.var(variant_var)
            .unwrap_or_else(|| env.var_or("BENCHMARK_MODEL_VARIANT", variant_default)),
        simulated,
    );
    let default_model = env.var_or(flags::env::MODEL_PATH, model_default);
    let real_model = model_flag.map_or_else(|| default_model.clone(), str::to_owned);
    let tokenizer = match (&o.grok.tokenizer, model_type) {
        (Some(t), _) => t.clone(),
        (None, GrokType::Grok2) if real_model != default_model => {
            format!("{}/tokenizer.tok.json", real_model.trim_end_matches('/'))
        }
        (None, _) => env.var_or(flags::env::TOKENIZER, tok_default),
    };
    let dummy_model = r.s(
        o.dummy_model.as_ref(),
        "DEFAULT_DUMMY_MODEL_PATH",
        DEFAULT_DUMMY_MODEL,
    );
    let model = if mode == GrokMode::Dummy {
        dummy_model
    } else {
        real_model.clone()
    };
    let p = mode.var_prefix();
    let (il, ol, tp, bs) = mode.defaults();
    let grid = Grid {
        tp_values: r.numbers(&format!("{p}_TP_VALUES"), tp),
        batch_sizes: r.numbers(&format!("{p}_BATCH_SIZES"), bs),
        input_lengths: r.numbers(&format!("{p}_INPUT_LENGTHS"), il),
        output_length: r.num(&format!("{p}_OUTPUT_LENGTH"), ol.parse().unwrap_or(1)),
    };
    let mem_fraction_128 = fraction(&mut r, "BATCH_SIZE_128_MEM_FRACTION", "0.85");
    let mem_fraction_256 = fraction(&mut r, "BATCH_SIZE_256_MEM_FRACTION", "0.75");
    let hint = if mode == GrokMode::Dummy {
        "pass --dummy-model or set DEFAULT_DUMMY_MODEL_PATH"
    } else {
        "pass --model or set DEFAULT_MODEL_PATH"
    };
    check_model_dir(&mut common, &model, hint);
    r.finish()?;
    Ok(GrokOfflineConfig {
        common,
        mode,
        model_type,
        model_name,
        variant,
        online_variant,
        model,
        real_model,
        tokenizer,
        grid,
        mem_fraction_128,
        mem_fraction_256,
        notes,
    })
}

/// Resolves the `deepseek-perf-offline` configuration (§3.2, §3.3).
pub fn resolve_deepseek_offline(
    o: &DeepSeekOfflineOptions,
    env: &dyn EnvSource,
) -> Result<DeepSeekOfflineConfig, RunnerError> {
    let mut r = Resolver::new(env);
    let mut common = resolve_common(&o.common, &mut r, flags::defaults::DEEPSEEK_IMAGE);
    let m = DeepSeekModel::resolve(
        &r,
        o.common.base.image.model.as_ref(),
        &o.deepseek,
        common.simulated(),
    );
    let tp = r.num("DEEPSEEK_TP", 8);
    let batch_size = r.num("DEEPSEEK_BATCH_SIZE", 32);
    let input_len = r.num("DEEPSEEK_INPUT_LENGTH", 128);
    let output_len = r.num("DEEPSEEK_OUTPUT_LENGTH", 32);
    let min_free_gb = match env.var(crate::models::MIN_FREE_VAR) {
        None => None,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x >= 0.0 => Some(x),
            _ => {
                r.errors.push(format!(
                    "{}={v:?} must be a number of GB >= 0",
                    crate::models::MIN_FREE_VAR
                ));
                None
            }
        },
    };
    if !o.deepseek.download_model {
        check_model_dir(&mut common, &m.model, &m.missing_hint());
    }
    r.finish()?;
    Ok(DeepSeekOfflineConfig {
        aiter_var: aiter_var(&common.base.image).to_owned(),
        common,
        model: m.model,
        model_name: m.model_name,
        variant: m.variant,
        hf_model_id: m.hf_model_id,
        download_model: o.deepseek.download_model,
        tp,
        batch_size,
        input_len,
        output_len,
        min_free_gb,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{env, options};

    fn grok(o: GrokOfflineOptions, e: &[(&str, &str)]) -> GrokOfflineConfig {
        resolve_grok_offline(&o, &env(e)).unwrap()
    }

    #[test]
    fn grok_defaults_are_the_originals() {
        let c = grok(GrokOfflineOptions::default(), &[]);
        assert_eq!(c.common.base.image, "lmsysorg/sglang:v0.4.7-rocm630");
        assert_eq!(c.common.base.tag, "v0.4.7-rocm630");
        assert_eq!(c.mode, GrokMode::Normal);
        assert_eq!(c.model, GROK1_OFFLINE_MODEL);
        assert_eq!(c.tokenizer, "Xenova/grok-1-tokenizer");
        assert_eq!(
            (
                c.model_name.as_str(),
                c.variant.as_str(),
                c.online_variant.as_str()
            ),
            ("GROK1", "MOE-I4F8", "MOE-I4F8")
        );
        assert_eq!(c.grid.batch_sizes, [1, 2, 4, 8, 16, 32, 64, 128, 256]);
        assert_eq!(
            (c.grid.tp_values.as_slice(), c.grid.input_lengths.as_slice()),
            (&[8][..], &[1024][..])
        );
        assert_eq!(c.grid.output_length, 128);
        assert_eq!(
            (c.mem_fraction_128.as_str(), c.mem_fraction_256.as_str()),
            ("0.85", "0.75")
        );
        assert_eq!(c.common.base.output_dir, c.common.base.work_dir);
        assert_eq!(c.common.point_timeout, Duration::from_secs(7200));
    }

    #[test]
    fn mode_grids_and_env_lists() {
        let lc = GrokOfflineOptions {
            mode: Some("long_context".into()),
            ..Default::default()
        };
        let c = grok(lc, &[]);
        assert_eq!(c.grid.input_lengths, [8192, 16384, 32768]);
        assert_eq!(
            (c.grid.output_length, c.grid.batch_sizes.as_slice()),
            (10, &[1][..])
        );
        let d = GrokOfflineOptions {
            mode: Some("dummy".into()),
            dummy_model: Some("/d/m".into()),
            ..Default::default()
        };
        let c = grok(
            d,
            &[("DUMMY_BATCH_SIZES", "2 4"), ("DUMMY_TP_VALUES", "4 8")],
        );
        assert_eq!(c.model, "/d/m");
        assert_eq!(c.real_model, GROK1_OFFLINE_MODEL);
        assert_eq!(c.grid.batch_sizes, [2, 4]);
        assert_eq!(c.grid.tp_values, [4, 8]);
        assert_eq!(
            (c.grid.input_lengths.as_slice(), c.grid.output_length),
            (&[256][..], 4096)
        );
        let bad = GrokOfflineOptions {
            mode: Some("turbo".into()),
            ..Default::default()
        };
        let e = resolve_grok_offline(&bad, &env(&[("NORMAL_BATCH_SIZES", "1 x")]))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("Invalid mode: turbo. Must be one of: normal, long_context, dummy"),
            "{e}"
        );
        let e = resolve_grok_offline(
            &GrokOfflineOptions::default(),
            &env(&[
                ("NORMAL_BATCH_SIZES", "1 x"),
                ("BATCH_SIZE_128_MEM_FRACTION", "2"),
            ]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("NORMAL_BATCH_SIZES") && e.contains("BATCH_SIZE_128_MEM_FRACTION"),
            "{e}"
        );
    }

    #[test]
    fn grok2_detection_tokenizer_and_f14_online_variant() {
        let o = options(|o: &mut GrokOfflineOptions| {
            o.common.base.image.model = Some("/data/grok-2-custom/".into())
        });
        let c = grok(o, &[]);
        assert_eq!(c.model_type, GrokType::Grok2);
        assert_eq!(c.tokenizer, "/data/grok-2-custom/tokenizer.tok.json");
        assert!(
            c.notes[0]
                .contains("[csv] Auto-detected model type: grok2 from path: /data/grok-2-custom/")
        );
        assert_eq!(
            (c.variant.as_str(), c.online_variant.as_str()),
            ("MOE-I4F0", "FP8")
        );
        // Grok-1: a custom model is not used as the tokenizer (unlike the online script).
        let o = options(|o: &mut GrokOfflineOptions| {
            o.common.base.image.model = Some("/data/my-grok-1".into())
        });
        assert_eq!(grok(o, &[]).tokenizer, GROK1_OFFLINE_TOKENIZER);
        let t2 = options(|o: &mut GrokOfflineOptions| o.grok.model_type = Some("grok2".into()));
        let c = grok(t2.clone(), &[]);
        assert_eq!(
            (c.model.as_str(), c.tokenizer.as_str()),
            (GROK2_OFFLINE_MODEL, GROK2_OFFLINE_TOKENIZER)
        );
        let c = grok(
            t2,
            &[
                ("GROK2_MODEL_VARIANT", "FP8X"),
                ("GROK2_OFFLINE_MODEL_VARIANT", "OFF"),
            ],
        );
        assert_eq!(
            (c.variant.as_str(), c.online_variant.as_str()),
            ("OFF", "FP8X")
        );
        let e = resolve_grok_offline(
            &options(|o: &mut GrokOfflineOptions| o.grok.model_type = Some("grok3".into())),
            &env(&[]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("grok3") && e.contains("grok1 or grok2"), "{e}");
    }

    #[test]
    fn sim_marks_names_and_takes_batch_args() {
        let o = options(|o: &mut GrokOfflineOptions| {
            o.common.base.engine.engine = Some(Engine::Sim);
            o.common.sim_args = Some("--sim-oom-batch-size 256".into());
        });
        let c = grok(o, &[]);
        assert_eq!(
            (c.variant.as_str(), c.online_variant.as_str()),
            ("MOE-I4F8-SIM", "MOE-I4F8-SIM")
        );
        assert_eq!(c.common.base.sim_args, ["--sim-oom-batch-size", "256"]);
        assert_eq!(c.common.base.executor, ExecutorKind::Local);
        assert_eq!(c.common.point_timeout, Duration::from_secs(300));
        let real = GrokOfflineOptions::default();
        let e = resolve_grok_offline(&real, &env(&[(SIM_ARGS_VAR, "--sim-crash-batch-size 2")]))
            .unwrap_err()
            .to_string();
        assert!(e.contains("--engine=sim"), "{e}");
    }

    #[test]
    fn deepseek_defaults_env_and_positional_image() {
        let c = resolve_deepseek_offline(&DeepSeekOfflineOptions::default(), &env(&[])).unwrap();
        assert_eq!(c.common.base.tag, "v0.4.9.post2-rocm630-mi30x-20250716");
        assert_eq!(
            (c.tp, c.batch_size, c.input_len, c.output_len),
            (8, 32, 128, 32)
        );
        assert_eq!(
            (c.model_name.as_str(), c.variant.as_str()),
            ("DeepSeek-V3-0324", "FP8")
        );
        assert_eq!(c.model, DEEPSEEK_OFFLINE_MODEL);
        assert_eq!(c.aiter_var, "SGLANG_USE_AITER");
        let o = options(|o: &mut DeepSeekOfflineOptions| {
            o.common.image = Some("lmsysorg/sglang:v0.4.6-rocm630".into())
        });
        let c = resolve_deepseek_offline(
            &o,
            &env(&[("DEEPSEEK_BATCH_SIZE", "4"), ("DEFAULT_MODEL_NAME", "M")]),
        )
        .unwrap();
        assert_eq!(c.common.base.tag, "v0.4.6-rocm630");
        assert_eq!(c.aiter_var, "SGLANG_AITER_MOE");
        assert_eq!((c.batch_size, c.model_name.as_str()), (4, "M"));
        let e = resolve_deepseek_offline(
            &DeepSeekOfflineOptions::default(),
            &env(&[("DEEPSEEK_TP", "0")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("DEEPSEEK_TP"), "{e}");
    }
}
