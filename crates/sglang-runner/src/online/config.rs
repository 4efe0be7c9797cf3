//! The resolved configuration of an online run (spec benchmarks.md §4.2–§4.4, §5.2–§5.5),
//! built on the shared resolution of [`crate::config`]: low-level options ([`CommonOptions`],
//! [`GrokOptions`], [`DeepSeekOptions`]: every field optional, as parsed) resolve into
//! [`GrokConfig`] / [`DeepSeekConfig`] with every default applied and every value checked.
//!
//! The simulated engine scales the workload down unless `--sim-full-workload` is given
//! ([`SimScale`]); an environment variable set explicitly always wins over that scaling.

use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::command::CommandSpec;
use const_format::concatcp;

use crate::config::{
    BaseDefaults, BaseOptions, DeepSeekModel, DeepSeekModelOptions, EnvSource, GrokModelOptions,
    GrokType, Resolver, RunBase, SimScale, absolute, aiter_var, grok_online_identity,
    grok_type_with_notes, hostname, resolve_base,
};
use crate::engine::{ClientImpl, Engine, ExecutorKind};
use crate::error::RunnerError;
use crate::flags::{self, env as flag_env, heading};
use crate::paths::DeepSeekMode;

/// Flags shared by the online binaries, as parsed (every value optional).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct CommonOptions {
    /// Flags every benchmark binary has.
    #[command(flatten)]
    pub base: BaseOptions,
    /// `--sim-args` (else `SGLCI_SIM_ARGS`).
    #[arg(
        long,
        value_name = "FLAGS",
        allow_hyphen_values = true,
        help_heading = heading::ENGINE,
        help = flags::SIM_ARGS_HELP
    )]
    pub sim_args: Option<String>,
    /// `--gsm8k-script`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "PATH",
        help = concatcp!(
            "GSM8K client script, a path inside the container [env: ", flag_env::GSM8K_SCRIPT,
            "] [default: ", flags::defaults::GSM8K_SCRIPT, "]"
        )
    )]
    pub gsm8k_script: Option<String>,
    /// `--threshold`.
    #[arg(
        help_heading = heading::ORIGINAL,
        long,
        value_name = "VALUE",
        allow_hyphen_values = true,
        help = concatcp!(
            "GSM8K pass threshold, printed verbatim [env: ", flag_env::GSM8K_THRESHOLD,
            "] [default: ", GROK_THRESHOLD, " (Grok), ", DEEPSEEK_THRESHOLD, " (DeepSeek)]"
        )
    )]
    pub threshold: Option<String>,
    /// `--client`.
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "CLIENT",
        value_parser = flags::client,
        help = "Serving client: `python` (python3 -m sglang.bench_serving) or `native` \
                (sglang-bench serving) [default: python; native with --engine=sim]"
    )]
    pub client: Option<ClientImpl>,
    /// `--gsm8k-client`.
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "CLIENT",
        value_parser = flags::client,
        help = "GSM8K client: `python` (the --gsm8k-script) or `native` (sglang-bench gsm8k, \
                reads --gsm8k-data) [default: python; native with --engine=sim]"
    )]
    pub gsm8k_client: Option<ClientImpl>,
    /// `--gsm8k-data`.
    #[arg(
        help_heading = heading::ENGINE,
        long,
        value_name = "FILE",
        help = "GSM8K test set (JSON Lines) for the native GSM8K client [env: SGLCI_GSM8K_DATA, \
                then SGLCI_SIM_GSM8K_DATA] [default: ../shared/data/gsm8k/test.jsonl beside \
                the source tree, when present]"
    )]
    pub gsm8k_data: Option<PathBuf>,
    /// `--sim-full-workload`.
    #[arg(
        help_heading = heading::ENGINE,
        long,
        help = "With --engine=sim, keep the original workload sizes instead of the scaled-down \
                simulator workload"
    )]
    pub sim_full_workload: bool,
    /// `--port`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "PORT",
        value_parser = flags::port,
        allow_negative_numbers = true,
        help = concatcp!(
            "Server port [env: ", DEEPSEEK_PORT_VAR, " (DeepSeek)] [default: ",
            flags::defaults::PORT, "]"
        )
    )]
    pub port: Option<u16>,
    /// `--server-timeout` (seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::positive_seconds,
        allow_negative_numbers = true,
        help = concatcp!(
            "Seconds the server may take to become ready [env: ", DEEPSEEK_SERVER_TIMEOUT_VAR,
            " (DeepSeek)] [default: ", GROK_SERVER_TIMEOUT_S, " (Grok), ",
            DEEPSEEK_SERVER_TIMEOUT_S, " (DeepSeek), ", DEEPSEEK_DP_COMPILE_SERVER_TIMEOUT_S,
            " (DeepSeek DP attention + torch compile)]"
        )
    )]
    pub server_timeout: Option<f64>,
    /// `--client-timeout` (seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::positive_seconds,
        allow_negative_numbers = true,
        help = "Seconds one client command (a GSM8K run, a serving run) may take; past it the \
                server is considered hung and the run ends [default: 10800; 300 for the scaled \
                simulator workload]"
    )]
    pub client_timeout: Option<f64>,
    /// `--pause-between-runs` (seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::seconds,
        allow_negative_numbers = true,
        help = "Pause between runs of one load (Grok: every rate but 16; DeepSeek: concurrency \
                >= 8 when more runs follow) [default: 10 on the real engine, 0 on the simulator]"
    )]
    pub pause_between_runs: Option<f64>,
    /// `--pause-between-loads` (seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::seconds,
        allow_negative_numbers = true,
        help = "Pause between loads (request rates, concurrencies) [default: 3 on the real \
                engine, 0 on the simulator]"
    )]
    pub pause_between_loads: Option<f64>,
    /// `--pause-rate16` (Grok, seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::seconds,
        allow_negative_numbers = true,
        help = "Grok: pause between runs of rate 16, followed by a POST /flush_cache [default: \
                20 on the real engine, 0 on the simulator]"
    )]
    pub pause_rate16: Option<f64>,
    /// `--pause-after-run` (DeepSeek, seconds).
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        value_name = "SECS",
        value_parser = flags::seconds,
        allow_negative_numbers = true,
        help = concatcp!(
            "DeepSeek: pause after every other run [env: ", DEEPSEEK_AFTER_RUN_VAR,
            "] [default: 2 on the real engine, 0 on the simulator]"
        )
    )]
    pub pause_after_run: Option<f64>,
    /// `--no-pauses`.
    #[arg(
        help_heading = heading::ADDITIONS,
        long,
        help = "No deliberate pauses at all (unless a --pause-* flag sets one)"
    )]
    pub no_pauses: bool,
}

/// `grok-perf-online` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct GrokOptions {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonOptions,
    /// `--model-type`, `--tokenizer`, `--model-name`.
    #[command(flatten)]
    pub grok: GrokModelOptions,
}

/// `deepseek-perf-online` flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeepSeekOptions {
    /// Shared flags.
    #[command(flatten)]
    pub common: CommonOptions,
    /// The image, when --docker_image is not given (a real positional argument only).
    #[arg(value_name = "IMAGE")]
    pub image: Option<String>,
    /// `--model-name`, `--hf-model-id`, `--download-model`.
    #[command(flatten)]
    pub deepseek: DeepSeekModelOptions,
    /// The four mode switches.
    #[command(flatten)]
    pub mode: DeepSeekMode,
}

/// The configured pauses against memory faults (quirk K-14). Real engine: the original's
/// values; simulated engine: none, unless set.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Pauses {
    /// Grok: between runs of a rate (10 s); DeepSeek: between runs of a concurrency ≥ 8
    /// when more runs follow (10 s).
    pub between_runs: Duration,
    /// Grok: between runs of rate 16, followed by a cache flush (20 s).
    pub rate16: Duration,
    /// DeepSeek: after every other run (`BENCHMARK_SLEEP_BETWEEN_RUNS`, 2 s).
    pub after_run: Duration,
    /// Between loads (3 s).
    pub between_loads: Duration,
}

/// Extra arguments of the native serving client (`sglang-bench serving`): its JSON result
/// line goes next to the client log (`<log>.jsonl`) instead of the work dir (fix F-6 is then
/// moot: nothing is written to, or deleted from, the work dir); the scaled simulator workload
/// also drops the 1 s pause between warm-up and the timed phase.
pub fn serving_extras(client: ClientImpl, scale: SimScale, log: &Path) -> Vec<String> {
    if client != ClientImpl::Native {
        return Vec::new();
    }
    let mut v = vec![
        "--output-file".to_owned(),
        log.with_extension("jsonl").display().to_string(),
    ];
    if scale == SimScale::Scaled {
        v.extend(["--warmup-pause".to_owned(), "0".to_owned()]);
    }
    v
}

/// GSM8K client settings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gsm8kSettings {
    /// `GSM8K_NUM_QUESTIONS` (2000; sim 20).
    pub questions: u32,
    /// `GSM8K_PARALLEL` (2000; sim 20).
    pub parallel: u32,
    /// `GSM8K_NUM_SHOTS` (5).
    pub shots: u32,
    /// `GSM8K_RUNS` (5).
    pub runs: u32,
}

impl Gsm8kSettings {
    /// The GSM8K client arguments both benchmarks start with (`--num-questions`,
    /// `--parallel`, `--num-shots`).
    pub fn client_args(&self) -> Vec<String> {
        vec![
            "--num-questions".into(),
            self.questions.to_string(),
            "--parallel".into(),
            self.parallel.to_string(),
            "--num-shots".into(),
            self.shots.to_string(),
        ]
    }

    fn resolve(r: &mut Resolver<'_>) -> Self {
        Self {
            questions: r.scaled_num("GSM8K_NUM_QUESTIONS", 2000, 20),
            parallel: r.scaled_num("GSM8K_PARALLEL", 2000, 20),
            shots: r.scaled_num("GSM8K_NUM_SHOTS", 5, 5),
            runs: r.scaled_num("GSM8K_RUNS", 5, 5),
        }
    }
}

/// Settings both online benchmarks share, resolved.
#[derive(Debug, Clone, Serialize)]
pub struct Common {
    /// What every benchmark binary resolves alike (image, dirs, engine, executor, …).
    #[serde(flatten)]
    pub base: RunBase,
    /// GSM8K script (a path inside the container).
    pub gsm8k_script: String,
    /// Threshold as given (printed verbatim).
    pub threshold_text: String,
    /// Threshold value.
    pub threshold: f64,
    /// GSM8K data for the native client.
    pub gsm8k_data: Option<PathBuf>,
    /// Workload scale.
    pub scale: SimScale,
    /// Server port.
    pub port: u16,
    /// Readiness timeout.
    pub server_timeout: Duration,
    /// Per client command time limit.
    pub client_timeout: Duration,
    /// Pauses.
    pub pauses: Pauses,
    /// Host name as written to the timing summary and the Grok row label (`<host> (simulated)`
    /// on the simulated engine).
    pub hostname: String,
}

impl Common {
    /// True for the simulated engine.
    pub fn simulated(&self) -> bool {
        self.base.simulated()
    }

    /// The server command with `args` and `env` (and the simulator's extra flags), run in
    /// the work dir.
    pub fn server_command(&self, args: &[String], env: &[(String, String)]) -> CommandSpec {
        let b = &self.base;
        b.steps.server(args, env, &b.sim_args).cwd(&b.work_dir)
    }

    /// One GSM8K run with `args` (the script, or the native client reading the GSM8K data),
    /// run in the work dir.
    pub fn gsm8k_command(&self, args: &[String]) -> CommandSpec {
        let b = &self.base;
        b.steps
            .gsm8k(&self.gsm8k_script, args, self.gsm8k_data.as_deref())
            .cwd(&b.work_dir)
    }

    /// One serving-client run with `args` (the display shows those at the `quoted` indexes
    /// in double quotes), run in the work dir.
    pub fn serving_command(&self, args: &[String], quoted: &[usize]) -> CommandSpec {
        self.base
            .steps
            .serving(args, quoted)
            .cwd(&self.base.work_dir)
    }

    /// The `Docker image:` value of the timing summary (marked on the simulated engine).
    pub fn image_line(&self) -> String {
        if self.simulated() {
            format!("{} (simulated engine: sglang-sim)", self.base.image)
        } else {
            self.base.image.clone()
        }
    }
}

/// The resolved `grok-perf-online` configuration.
#[derive(Debug, Clone, Serialize)]
pub struct GrokConfig {
    /// Shared settings.
    pub common: Common,
    /// Model type.
    pub model_type: GrokType,
    /// `<MODEL_NAME>`.
    pub model_name: String,
    /// `<VARIANT>` (`-SIM` appended on the simulated engine).
    pub variant: String,
    /// Model path.
    pub model: String,
    /// Tokenizer path.
    pub tokenizer: String,
    /// Console notes of the resolution (`[online] Auto-detected model type: …`).
    pub notes: Vec<String>,
    /// `REQUEST_RATES`, as written.
    pub rates: Vec<String>,
    /// Client runs per rate (3).
    pub runs_per_rate: u32,
    /// `RANDOM_INPUT_LENGTH`.
    pub input_len: u32,
    /// `RANDOM_OUTPUT_LENGTH`.
    pub output_len: u32,
    /// `MAX_NUM_PROMPTS`.
    pub max_prompts: u32,
    /// `PROMPTS_PER_RATE_MULTIPLIER`.
    pub prompts_per_rate: u32,
    /// GSM8K.
    pub gsm8k: Gsm8kSettings,
    /// `--hardware` contains `mi35`: rate 16 is skipped (quirk K-15).
    pub skip_rate16: bool,
}

impl GrokConfig {
    /// Prompts for a rate: `multiplier × rate`, capped (§4.8).
    pub fn prompts(&self, rate: &str) -> u32 {
        let r: u32 = rate.parse().unwrap_or(1);
        self.prompts_per_rate
            .saturating_mul(r)
            .min(self.max_prompts)
    }

    /// The rates actually scheduled (without 16 on MI355; fix F-26 for the resume scan).
    pub fn scheduled_rates(&self) -> Vec<&str> {
        self.rates
            .iter()
            .map(String::as_str)
            .filter(|r| !(self.skip_rate16 && *r == "16"))
            .collect()
    }
}

/// The resolved `deepseek-perf-online` configuration.
#[derive(Debug, Clone, Serialize)]
pub struct DeepSeekConfig {
    /// Shared settings.
    pub common: Common,
    /// `<MODEL_NAME>`.
    pub model_name: String,
    /// `<VARIANT>` (`FP8`; `-SIM` appended on the simulated engine).
    pub variant: String,
    /// Model path.
    pub model: String,
    /// `--hf-model-id`.
    pub hf_model_id: String,
    /// `--download-model`.
    pub download_model: bool,
    /// Mode switches.
    pub mode: DeepSeekMode,
    /// `DEEPSEEK_TP`.
    pub tp: u32,
    /// `GSM8K_HOST` (`http://127.0.0.1`).
    pub gsm8k_host: String,
    /// `SERVER_MEM_FRACTION`.
    pub mem_fraction: String,
    /// `SERVER_MAX_REQUESTS`.
    pub max_requests: String,
    /// `HEALTH_CHECK_ENDPOINT`.
    pub health_endpoint: String,
    /// Readiness poll interval (`HEALTH_CHECK_INTERVAL`, at most 0.2 s).
    pub health_interval: Duration,
    /// Runs per concurrency.
    pub runs: u32,
    /// `BENCHMARK_CONCURRENCY_LEVELS`, as written.
    pub concurrencies: Vec<String>,
    /// `BENCHMARK_PROMPTS_HIGH_CONCURRENCY`.
    pub prompts_high: u32,
    /// `BENCHMARK_PROMPTS_LOW_CONCURRENCY`.
    pub prompts_low: u32,
    /// `BENCHMARK_INPUT_LENGTH`.
    pub input_len: u32,
    /// `BENCHMARK_OUTPUT_LENGTH`.
    pub output_len: u32,
    /// GSM8K.
    pub gsm8k: Gsm8kSettings,
    /// Name of the aiter variable (`SGLANG_USE_AITER`, or `SGLANG_AITER_MOE` for old
    /// `lmsysorg/sglang` images, §1.2).
    pub aiter_var: String,
    /// ROCm 7.0 (`SGLANG_USE_ROCM700A=1` on the DP-attention server).
    pub rocm700: bool,
    /// MTP artifacts apply (§5.10).
    pub mtp_artifacts: bool,
}

impl DeepSeekConfig {
    /// Prompts for a concurrency: low at ≤ 16, else high (§5.9).
    pub fn prompts(&self, c: &str) -> u32 {
        let c: u32 = c.parse().unwrap_or(1);
        if c <= 16 {
            self.prompts_low
        } else {
            self.prompts_high
        }
    }
}

/// The Grok-1 defaults (§4.3).
pub const GROK1_MODEL: &str = "/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8";
/// The Grok-2 default model.
pub const GROK2_MODEL: &str = "/mnt/raid/models/huggingface/grok-2/";
/// The Grok-2 default tokenizer.
pub const GROK2_TOKENIZER: &str = "/mnt/raid/models/huggingface/alvarobartt--grok-2-tokenizer";
/// Default GSM8K script.
pub const DEFAULT_GSM8K_SCRIPT: &str = flags::defaults::GSM8K_SCRIPT;
/// Grok's GSM8K threshold.
pub const GROK_THRESHOLD: &str = "0.8";
/// DeepSeek's GSM8K threshold.
pub const DEEPSEEK_THRESHOLD: &str = "0.93";
/// DeepSeek's port variable.
pub const DEEPSEEK_PORT_VAR: &str = "GSM8K_PORT";
/// DeepSeek's server timeout variable.
pub const DEEPSEEK_SERVER_TIMEOUT_VAR: &str = "SERVER_TIMEOUT";
/// DeepSeek's after-run pause variable.
pub const DEEPSEEK_AFTER_RUN_VAR: &str = "BENCHMARK_SLEEP_BETWEEN_RUNS";
/// Grok's server timeout (seconds).
pub const GROK_SERVER_TIMEOUT_S: u32 = 600;
/// DeepSeek's server timeout (seconds).
pub const DEEPSEEK_SERVER_TIMEOUT_S: u32 = 900;
/// DeepSeek's server timeout with DP attention and torch compile (seconds).
pub const DEEPSEEK_DP_COMPILE_SERVER_TIMEOUT_S: u32 = 2700;

/// The GSM8K test set the native client reads when `--gsm8k-data` is not given:
/// `SGLCI_GSM8K_DATA`, then `SGLCI_SIM_GSM8K_DATA`; `None` is the test set built into
/// `sglang-bench` and `sglang-sim` (never a file of the build machine).
fn default_gsm8k_data(env: &dyn EnvSource) -> Option<PathBuf> {
    env.var("SGLCI_GSM8K_DATA")
        .or_else(|| env.var("SGLCI_SIM_GSM8K_DATA"))
        .map(PathBuf::from)
}

/// Per-binary defaults of the shared settings.
struct CommonDefaults<'a> {
    /// DeepSeek's positional image.
    positional_image: Option<&'a str>,
    image: &'a str,
    threshold: &'a str,
    /// Environment variable of the port (`GSM8K_PORT` for DeepSeek).
    port_var: Option<&'a str>,
    server_timeout_s: f64,
    /// Pauses on the real engine.
    pauses: Pauses,
    /// Environment variable of the after-run pause (`BENCHMARK_SLEEP_BETWEEN_RUNS`).
    after_run_var: Option<&'a str>,
}

fn resolve_common(o: &CommonOptions, r: &mut Resolver<'_>, d: &CommonDefaults<'_>) -> Common {
    let engine = o.base.engine.engine.unwrap_or(Engine::Sglang);
    let gsm8k_script = r.s(
        o.gsm8k_script.as_ref(),
        flag_env::GSM8K_SCRIPT,
        DEFAULT_GSM8K_SCRIPT,
    );
    let threshold_text = r.s(o.threshold.as_ref(), flag_env::GSM8K_THRESHOLD, d.threshold);
    let threshold = match threshold_text.trim().parse::<f64>() {
        Ok(t) if t.is_finite() => t,
        _ => {
            r.errors.push(format!(
                "--threshold={threshold_text:?} must be a number (e.g. 0.8)"
            ));
            0.0
        }
    };
    let sim_default = engine == Engine::Sim;
    let default_client = if sim_default {
        ClientImpl::Native
    } else {
        ClientImpl::Python
    };
    let gsm8k_client = o.gsm8k_client.unwrap_or(default_client);
    let mut base = resolve_base(
        &o.base,
        r,
        &BaseDefaults {
            positional_image: d.positional_image,
            sim_args: o.sim_args.as_deref(),
            image: d.image,
            sim_args_var: flag_env::SIM_ARGS,
            client: o.client.unwrap_or(default_client),
            gsm8k_client,
            missing_work_dir: |w| {
                format!(
                    "work dir {} does not exist (cannot cd to benchmark dir; pass --work-dir)",
                    w.display()
                )
            },
        },
    );
    if o.port == Some(0) {
        r.errors
            .push("--port=0 must be a port number between 1 and 65535".to_owned());
    }
    let port = match (
        o.port,
        d.port_var.and_then(|v| r.env.var(v).map(|x| (v, x))),
    ) {
        (Some(p), _) => p,
        (None, Some((var, v))) => match v.trim().parse::<u16>() {
            Ok(p) if p > 0 => p,
            _ => {
                r.errors.push(format!(
                    "{var}={v:?} must be a port number between 1 and 65535"
                ));
                flags::defaults::PORT
            }
        },
        (None, None) => flags::defaults::PORT,
    };
    let server_timeout =
        r.positive_seconds("--server-timeout", o.server_timeout, d.server_timeout_s);
    let client_timeout_default = if r.scale == SimScale::Scaled {
        300.0
    } else {
        3.0 * 3600.0
    };
    let client_timeout =
        r.positive_seconds("--client-timeout", o.client_timeout, client_timeout_default);
    let sim_pauses = engine == Engine::Sim;
    let no_pause = |real: Duration| {
        if sim_pauses || o.no_pauses {
            Duration::ZERO
        } else {
            real
        }
    };
    let after_run_env = d.after_run_var.and_then(|v| r.env.var(v).map(|x| (v, x)));
    let after_run_default = match after_run_env {
        Some((var, v)) => match v.trim().parse::<f64>() {
            Ok(x) if x >= 0.0 && x.is_finite() => Duration::from_secs_f64(x),
            _ => {
                r.errors
                    .push(format!("{var}={v:?} must be a number of seconds >= 0"));
                no_pause(d.pauses.after_run)
            }
        },
        None => no_pause(d.pauses.after_run),
    };
    let pauses = Pauses {
        between_runs: r.seconds(
            "--pause-between-runs",
            o.pause_between_runs,
            no_pause(d.pauses.between_runs).as_secs_f64(),
        ),
        rate16: r.seconds(
            "--pause-rate16",
            o.pause_rate16,
            no_pause(d.pauses.rate16).as_secs_f64(),
        ),
        after_run: r.seconds(
            "--pause-after-run",
            o.pause_after_run,
            after_run_default.as_secs_f64(),
        ),
        between_loads: r.seconds(
            "--pause-between-loads",
            o.pause_between_loads,
            no_pause(d.pauses.between_loads).as_secs_f64(),
        ),
    };
    // Canonical, so the same path also resolves inside a container (where the folders a
    // `..` would climb through are not mounted).
    let gsm8k_data = o
        .gsm8k_data
        .clone()
        .or_else(|| default_gsm8k_data(r.env))
        .map(|p| absolute(&p))
        .map(|p| p.canonicalize().unwrap_or(p));
    let host = hostname();
    let hostname = if engine == Engine::Sim {
        format!("{host} (simulated)")
    } else {
        host
    };

    if gsm8k_client == ClientImpl::Native {
        // None: the clients' built-in test set.
        if let Some(p) = &gsm8k_data
            && !p.is_file()
        {
            base.problems.push(format!(
                "GSM8K data {} not found (--gsm8k-data / SGLCI_GSM8K_DATA; give neither for the built-in test set)",
                p.display()
            ));
        }
    } else if engine == Engine::Sglang
        && base.executor == ExecutorKind::Local
        && !Path::new(&gsm8k_script).is_file()
    {
        base.problems.push(format!(
            "GSM8K script not found at: {gsm8k_script} (pass --gsm8k-script, or --gsm8k-client=native with --gsm8k-data)"
        ));
    }
    Common {
        base,
        gsm8k_script,
        threshold_text,
        threshold,
        gsm8k_data,
        scale: r.scale,
        port,
        server_timeout,
        client_timeout,
        pauses,
        hostname,
    }
}

fn resolver<'a>(o: &CommonOptions, env: &'a dyn EnvSource) -> Resolver<'a> {
    let mut r = Resolver::new(env);
    if o.base.engine.engine == Some(Engine::Sim) && !o.sim_full_workload {
        r.scale = SimScale::Scaled;
    }
    r
}

/// Resolves the `grok-perf-online` configuration (§4.2–§4.4). Unusable values are a
/// [`RunnerError::Validation`]; missing paths and programs are collected in
/// [`RunBase::problems`] (the dry run shows them, a real run stops on them).
pub fn resolve_grok(o: &GrokOptions, env: &dyn EnvSource) -> Result<GrokConfig, RunnerError> {
    let mut r = resolver(&o.common, env);
    let common = resolve_common(
        &o.common,
        &mut r,
        &CommonDefaults {
            positional_image: None,
            image: flags::defaults::GROK_IMAGE,
            threshold: GROK_THRESHOLD,
            port_var: None,
            server_timeout_s: f64::from(GROK_SERVER_TIMEOUT_S),
            pauses: Pauses {
                between_runs: Duration::from_secs(10),
                rate16: Duration::from_secs(20),
                after_run: Duration::ZERO,
                between_loads: Duration::from_secs(3),
            },
            after_run_var: None,
        },
    );
    let model_flag = o.common.base.image.model.as_deref();
    let (model_type, mut notes) =
        grok_type_with_notes(&mut r, &o.grok, model_flag, "[online]", &["grok1", "grok2"]);
    let (model_default, tok_default) = match model_type {
        GrokType::Grok1 => (GROK1_MODEL, GROK1_MODEL),
        GrokType::Grok2 => (GROK2_MODEL, GROK2_TOKENIZER),
    };
    let (model_name, variant) = grok_online_identity(
        model_type,
        o.grok.model_name.as_deref(),
        env,
        common.simulated(),
    );
    let default_model = env.var_or(flag_env::MODEL_PATH, model_default);
    let model = model_flag.map_or_else(|| default_model.clone(), str::to_owned);
    let tokenizer = match (&o.grok.tokenizer, model_type) {
        (Some(t), _) => t.clone(),
        (None, GrokType::Grok1) if model != default_model => {
            notes.push(format!(
                "[online] Using custom model path as tokenizer path: {model}"
            ));
            model.clone()
        }
        (None, GrokType::Grok2) if model != default_model => {
            format!("{}/tokenizer.tok.json", model.trim_end_matches('/'))
        }
        (None, _) => env.var_or(flag_env::TOKENIZER, tok_default),
    };
    let rates = r.words("REQUEST_RATES", "1 2 4 8 16");
    let input_len = r.scaled_num("RANDOM_INPUT_LENGTH", 1024, 128);
    let output_len = r.scaled_num("RANDOM_OUTPUT_LENGTH", 1024, 32);
    let max_prompts = r.scaled_num("MAX_NUM_PROMPTS", 2400, 32);
    let prompts_per_rate = r.scaled_num("PROMPTS_PER_RATE_MULTIPLIER", 300, 2);
    let gsm8k = Gsm8kSettings::resolve(&mut r);
    let skip_rate16 = common
        .base
        .hardware
        .as_deref()
        .is_some_and(|h| h.contains("mi35"));
    r.finish()?;
    Ok(GrokConfig {
        common,
        model_type,
        model_name,
        variant,
        model,
        tokenizer,
        notes,
        rates,
        runs_per_rate: 3,
        input_len,
        output_len,
        max_prompts,
        prompts_per_rate,
        gsm8k,
        skip_rate16,
    })
}

/// Resolves the `deepseek-perf-online` configuration (§5.2–§5.5).
pub fn resolve_deepseek(
    o: &DeepSeekOptions,
    env: &dyn EnvSource,
) -> Result<DeepSeekConfig, RunnerError> {
    let mut r = resolver(&o.common, env);
    // Fix F-33: the DP test always runs on the DP-attention server.
    let mut mode = o.mode;
    if mode.dp_test {
        mode.dp_attention = true;
    }
    let server_timeout_default = match env.var(DEEPSEEK_SERVER_TIMEOUT_VAR) {
        None => f64::from(DEEPSEEK_SERVER_TIMEOUT_S),
        Some(v) => match v.trim().parse::<u32>() {
            Ok(n) if n > 0 => f64::from(n),
            _ => {
                r.errors.push(format!(
                    "{DEEPSEEK_SERVER_TIMEOUT_VAR}={v:?} must be a positive integer"
                ));
                f64::from(DEEPSEEK_SERVER_TIMEOUT_S)
            }
        },
    };
    let server_timeout_default = if mode.dp_attention && mode.torch_compile {
        f64::from(DEEPSEEK_DP_COMPILE_SERVER_TIMEOUT_S)
    } else {
        server_timeout_default
    };
    let mut common = resolve_common(
        &o.common,
        &mut r,
        &CommonDefaults {
            positional_image: o.image.as_deref(),
            image: flags::defaults::DEEPSEEK_IMAGE,
            threshold: DEEPSEEK_THRESHOLD,
            port_var: Some(DEEPSEEK_PORT_VAR),
            server_timeout_s: server_timeout_default,
            pauses: Pauses {
                between_runs: Duration::from_secs(10),
                rate16: Duration::ZERO,
                after_run: Duration::from_secs(2),
                between_loads: Duration::from_secs(3),
            },
            after_run_var: Some(DEEPSEEK_AFTER_RUN_VAR),
        },
    );
    let m = DeepSeekModel::resolve(
        &r,
        o.common.base.image.model.as_ref(),
        &o.deepseek,
        common.simulated(),
    );
    let tp = r.scaled_num("DEEPSEEK_TP", 8, 8);
    let runs_env = r.scaled_num("BENCHMARK_RUNS_PER_CONCURRENCY", 1, 1);
    let runs = if mode.mtp_test || mode.dp_test {
        1
    } else {
        runs_env
    };
    let health_interval_s = match env.var("HEALTH_CHECK_INTERVAL") {
        None => 0.2,
        Some(v) => match v.trim().parse::<f64>() {
            Ok(x) if x > 0.0 && x.is_finite() => x.min(0.2),
            _ => {
                r.errors.push(format!(
                    "HEALTH_CHECK_INTERVAL={v:?} must be a positive number of seconds"
                ));
                0.2
            }
        },
    };
    let concurrencies = r.words("BENCHMARK_CONCURRENCY_LEVELS", "128 64 16 4 1");
    let prompts_high = r.scaled_num("BENCHMARK_PROMPTS_HIGH_CONCURRENCY", 500, 128);
    let prompts_low = r.scaled_num("BENCHMARK_PROMPTS_LOW_CONCURRENCY", 128, 8);
    let input_len = r.scaled_num("BENCHMARK_INPUT_LENGTH", 3200, 256);
    let output_len = r.scaled_num("BENCHMARK_OUTPUT_LENGTH", 800, 32);
    let gsm8k = Gsm8kSettings::resolve(&mut r);
    let b = &common.base;
    let rocm700 = match &b.rocm_version {
        Some(v) => v.to_lowercase().contains("rocm700"),
        None => b.image.to_lowercase().contains("rocm700"),
    };
    let mtp_artifacts = mode.mtp_test
        && mode.serving()
        && b.hardware
            .as_deref()
            .is_some_and(|h| h.eq_ignore_ascii_case("mi35x"))
        && [&m.model_name, &m.model, &m.hf_model_id]
            .iter()
            .any(|s| s.to_lowercase().contains("deepseek-r1-mxfp4-preview"));
    if !o.deepseek.download_model {
        common
            .base
            .require_model_dir(Path::new(&m.model), &m.model, &m.missing_hint());
    }
    let mem_fraction = env.var_or("SERVER_MEM_FRACTION", "0.9");
    if !mem_fraction
        .trim()
        .parse::<f64>()
        .is_ok_and(|x| x > 0.0 && x <= 1.0)
    {
        r.errors.push(format!(
            "SERVER_MEM_FRACTION={mem_fraction:?} must be a fraction of GPU memory above 0 and at most 1 (e.g. 0.9)"
        ));
    }
    r.finish()?;
    Ok(DeepSeekConfig {
        aiter_var: aiter_var(&common.base.image).to_owned(),
        common,
        model_name: m.model_name,
        variant: m.variant,
        model: m.model,
        hf_model_id: m.hf_model_id,
        download_model: o.deepseek.download_model,
        mode,
        tp,
        gsm8k_host: env.var_or("GSM8K_HOST", "http://127.0.0.1"),
        mem_fraction,
        max_requests: env.var_or("SERVER_MAX_REQUESTS", "1024"),
        health_endpoint: env.var_or("HEALTH_CHECK_ENDPOINT", "/get_model_info"),
        health_interval: Duration::from_secs_f64(health_interval_s),
        runs,
        concurrencies,
        prompts_high,
        prompts_low,
        input_len,
        output_len,
        gsm8k,
        rocm700,
        mtp_artifacts,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{env, options};

    fn grok(o: GrokOptions, e: &[(&str, &str)]) -> GrokConfig {
        resolve_grok(&o, &env(e)).unwrap()
    }

    #[test]
    fn grok_defaults_are_the_originals() {
        let c = grok(GrokOptions::default(), &[]);
        assert_eq!(c.common.base.image, "lmsysorg/sglang:v0.4.7-rocm630");
        assert_eq!(c.common.base.tag, "v0.4.7-rocm630");
        assert_eq!(c.common.threshold_text, "0.8");
        assert_eq!(c.model, GROK1_MODEL);
        assert_eq!(c.tokenizer, GROK1_MODEL);
        assert_eq!(
            (c.model_name.as_str(), c.variant.as_str()),
            ("GROK1", "MOE-I4F8")
        );
        assert_eq!(c.rates, ["1", "2", "4", "8", "16"]);
        let prompts: Vec<u32> = c.rates.iter().map(|r| c.prompts(r)).collect();
        assert_eq!(prompts, [300, 600, 1200, 2400, 2400]);
        assert_eq!((c.input_len, c.output_len), (1024, 1024));
        assert_eq!(
            c.gsm8k,
            Gsm8kSettings {
                questions: 2000,
                parallel: 2000,
                shots: 5,
                runs: 5
            }
        );
        assert_eq!(c.common.pauses.between_runs, Duration::from_secs(10));
        assert_eq!(c.common.pauses.rate16, Duration::from_secs(20));
        assert_eq!(c.common.pauses.between_loads, Duration::from_secs(3));
        assert_eq!(c.common.server_timeout, Duration::from_secs(600));
        assert_eq!(c.common.port, 30000);
        assert_eq!(c.common.base.output_dir, c.common.base.work_dir);
    }

    #[test]
    fn flags_beat_env_beats_defaults() {
        let o = GrokOptions {
            common: CommonOptions {
                threshold: Some("0.75".into()),
                ..Default::default()
            },
            ..Default::default()
        };
        let c = grok(
            o,
            &[
                ("DEFAULT_GSM8K_THRESHOLD", "0.7"),
                ("DEFAULT_DOCKER_IMAGE", "rocm/sgl-dev:T1"),
            ],
        );
        assert_eq!(c.common.threshold_text, "0.75");
        assert_eq!(c.common.base.tag, "T1");
        let c = grok(
            GrokOptions::default(),
            &[("DEFAULT_GSM8K_THRESHOLD", "0.7"), ("REQUEST_RATES", "1 2")],
        );
        assert_eq!(c.common.threshold_text, "0.7");
        assert_eq!(c.rates, ["1", "2"]);
    }

    #[test]
    fn grok2_detection_and_tokenizer_rules() {
        let o = options(|o: &mut GrokOptions| {
            o.common.base.image.model = Some("/data/grok-2-custom".into())
        });
        let c = grok(o, &[]);
        assert_eq!(c.model_type, GrokType::Grok2);
        assert_eq!(
            (c.model_name.as_str(), c.variant.as_str()),
            ("GROK2", "FP8")
        );
        assert_eq!(c.tokenizer, "/data/grok-2-custom/tokenizer.tok.json");
        assert!(c.notes[0].contains("Auto-detected model type: grok2"));
        let o = options(|o: &mut GrokOptions| {
            o.common.base.image.model = Some("/data/my-grok-1".into())
        });
        let c = grok(o, &[]);
        assert_eq!(
            c.tokenizer, "/data/my-grok-1",
            "online uses the custom model as tokenizer"
        );
        let bad = options(|o: &mut GrokOptions| o.grok.model_type = Some("grok3".into()));
        let e = resolve_grok(&bad, &env(&[])).unwrap_err().to_string();
        assert!(e.contains("grok3") && e.contains("grok1 or grok2"), "{e}");
    }

    #[test]
    fn f32_type_specific_names_win() {
        let o = options(|o: &mut GrokOptions| o.grok.model_type = Some("grok2".into()));
        let c = grok(
            o,
            &[("BENCHMARK_MODEL_NAME", "X"), ("GROK2_MODEL_NAME", "G2")],
        );
        assert_eq!(c.model_name, "G2");
        let c = grok(GrokOptions::default(), &[("BENCHMARK_MODEL_NAME", "X")]);
        assert_eq!(c.model_name, "X");
    }

    #[test]
    fn mi35_skips_rate_16_only_in_the_schedule() {
        let o =
            options(|o: &mut GrokOptions| o.common.base.hardware.hardware = Some("mi35x".into()));
        let c = grok(o, &[]);
        assert!(c.skip_rate16);
        assert_eq!(c.scheduled_rates(), ["1", "2", "4", "8"]);
        assert_eq!(c.rates.len(), 5, "the CSV keeps the rate-16 column");
    }

    #[test]
    fn sim_scales_the_workload_and_marks_names() {
        let o = options(|o: &mut GrokOptions| o.common.base.engine.engine = Some(Engine::Sim));
        let c = grok(o.clone(), &[]);
        assert_eq!(c.common.scale, SimScale::Scaled);
        assert_eq!(c.variant, "MOE-I4F8-SIM");
        assert!(c.common.hostname.ends_with(" (simulated)"));
        assert_eq!(c.common.pauses.between_runs, Duration::ZERO);
        assert_eq!(
            (c.input_len, c.output_len, c.gsm8k.questions),
            (128, 32, 20)
        );
        assert_eq!(c.common.base.executor, ExecutorKind::Local);
        let c = grok(o.clone(), &[("RANDOM_OUTPUT_LENGTH", "7")]);
        assert_eq!(c.output_len, 7, "an explicit variable wins over scaling");
        let mut full = o;
        full.common.sim_full_workload = true;
        assert_eq!(grok(full, &[]).input_len, 1024);
    }

    #[test]
    fn sim_args_come_from_the_flag_or_sglci_sim_args() {
        let o = options(|o: &mut GrokOptions| o.common.base.engine.engine = Some(Engine::Sim));
        let c = grok(
            o.clone(),
            &[("SGLCI_SIM_ARGS", "--sim-profile zero --sim-exit-after 3")],
        );
        assert_eq!(
            c.common.base.sim_args,
            ["--sim-profile", "zero", "--sim-exit-after", "3"]
        );
        let mut flag = o;
        flag.common.sim_args = Some("--sim-seed '7'".into());
        let c = grok(flag, &[("SGLCI_SIM_ARGS", "--ignored")]);
        assert_eq!(c.common.base.sim_args, ["--sim-seed", "7"], "the flag wins");
    }

    #[test]
    fn invalid_values_name_the_variable() {
        let e = resolve_grok(
            &GrokOptions::default(),
            &env(&[("REQUEST_RATES", "1 x"), ("GSM8K_RUNS", "0")]),
        )
        .unwrap_err()
        .to_string();
        assert!(
            e.contains("REQUEST_RATES") && e.contains("GSM8K_RUNS"),
            "{e}"
        );
        let o =
            options(|o: &mut GrokOptions| o.common.sim_args = Some("--sim-profile zero".into()));
        let e = resolve_grok(&o, &env(&[])).unwrap_err().to_string();
        assert!(e.contains("--engine=sim"), "{e}");
    }

    #[test]
    fn deepseek_modes_and_defaults() {
        let c = resolve_deepseek(&DeepSeekOptions::default(), &env(&[])).unwrap();
        assert_eq!(c.common.base.tag, "v0.4.9.post2-rocm630-mi30x-20250716");
        assert_eq!(c.common.threshold_text, "0.93");
        assert_eq!(c.concurrencies, ["128", "64", "16", "4", "1"]);
        assert_eq!(
            (c.prompts("128"), c.prompts("16"), c.prompts("1")),
            (500, 128, 128)
        );
        assert_eq!(c.runs, 1);
        assert_eq!(c.common.server_timeout, Duration::from_secs(900));
        assert_eq!(c.common.pauses.after_run, Duration::from_secs(2));
        let o = DeepSeekOptions {
            mode: DeepSeekMode {
                dp_attention: true,
                torch_compile: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let c = resolve_deepseek(&o, &env(&[("SERVER_TIMEOUT", "100")])).unwrap();
        assert_eq!(c.common.server_timeout, Duration::from_secs(2700));
        let o = DeepSeekOptions {
            mode: DeepSeekMode {
                dp_test: true,
                ..Default::default()
            },
            ..Default::default()
        };
        let c = resolve_deepseek(&o, &env(&[("BENCHMARK_RUNS_PER_CONCURRENCY", "3")])).unwrap();
        assert!(c.mode.dp_attention, "F-33");
        assert_eq!(c.runs, 1);
        let c = resolve_deepseek(
            &DeepSeekOptions::default(),
            &env(&[("BENCHMARK_RUNS_PER_CONCURRENCY", "3")]),
        )
        .unwrap();
        assert_eq!(c.runs, 3);
    }

    #[test]
    fn f8_positional_image_and_port_validation() {
        let o = options(|o: &mut DeepSeekOptions| o.image = Some("rocm/sgl-dev:P".into()));
        assert_eq!(
            resolve_deepseek(&o, &env(&[])).unwrap().common.base.tag,
            "P"
        );
        let e = resolve_deepseek(
            &DeepSeekOptions::default(),
            &env(&[("GSM8K_PORT", "70000"), ("DEEPSEEK_TP", "-1")]),
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("GSM8K_PORT") && e.contains("DEEPSEEK_TP"), "{e}");
        assert!(e.starts_with("found 2 validation error(s)"), "{e}");
    }

    #[test]
    fn mtp_artifacts_need_mi35x_and_the_r1_model() {
        let mut o = DeepSeekOptions {
            deepseek: DeepSeekModelOptions {
                model_name: Some("DeepSeek-R1-MXFP4-Preview".into()),
                ..Default::default()
            },
            mode: DeepSeekMode {
                mtp_test: true,
                ..Default::default()
            },
            ..Default::default()
        };
        o.common.base.hardware.hardware = Some("MI35X".into());
        assert!(resolve_deepseek(&o, &env(&[])).unwrap().mtp_artifacts);
        o.common.base.hardware.hardware = Some("mi30x".into());
        assert!(!resolve_deepseek(&o, &env(&[])).unwrap().mtp_artifacts);
    }
}
