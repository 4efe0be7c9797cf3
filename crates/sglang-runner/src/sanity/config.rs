//! `sanity-check`'s flags (every flag of `test/sanity_check.py`, spec nightly.md §7.2, plus
//! this port's additions) and their resolution into a [`SanityConfig`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::command::split_words;
use crate::config::{EnvSource, absolute, default_executor};
use crate::engine::{ClientImpl, Engine, ExecutorKind, Steps};
use crate::flags::{EngineFlags, SIM_ARGS_HELP, TeamsWebhookFlags, env as flag_env, heading};

use super::SanityError;
use super::table::{self, Hardware};

/// `--work-dir` default (the original's).
pub const DEFAULT_WORK_DIR: &str = "/mnt/raid/michael/sglang-ci";
/// `--models-dir` default.
pub const DEFAULT_MODELS_DIR: &str = "/mnt/raid/models/huggingface";
/// `--trials` default.
pub const DEFAULT_TRIALS: u32 = 3;
/// Server start-up limit (seconds) of every model but GROK1-FP8.
pub const STARTUP_TIMEOUT_S: f64 = 300.0;
/// GROK1-FP8's start-up limit (kernel compilation).
pub const GROK1_FP8_STARTUP_TIMEOUT_S: f64 = 600.0;
/// One trial's limit (seconds).
pub const TRIAL_TIMEOUT_S: f64 = 600.0;
/// The upstream GSM8K script in the SGLang image.
pub const GSM8K_SCRIPT: &str = "/sgl-workspace/sglang/benchmark/gsm8k/bench_sglang.py";
/// The server port (the launch lines give none, so SGLang's default).
pub const DEFAULT_PORT: u16 = 30000;

/// The flags of `sanity-check` (also built in-process by `perf-nightly --mode=sanity`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SanityOptions {
    /// `--docker-image` / `--docker_image`.
    #[arg(
        long,
        alias = "docker_image",
        value_name = "IMAGE",
        help_heading = heading::ORIGINAL,
        help = "Full image reference (also --docker_image); its tag names the log subfolder; \
                an image with rocm630 drops GROK2.5; with --executor=docker the commands run \
                in its `<repo>_<tag>` container [default: none]"
    )]
    pub docker_image: Option<String>,

    /// `--hardware` / `-p` / `--platform`.
    #[arg(
        long,
        short = 'p',
        alias = "platform",
        value_name = "HW",
        value_parser = ["mi30x", "mi35x"],
        help_heading = heading::ORIGINAL,
        help = "Hardware: mi30x or mi35x (also -p/--platform); required"
    )]
    pub hardware: Option<String>,

    /// `--model-path`.
    #[arg(
        long,
        value_name = "PATH",
        help_heading = heading::ORIGINAL,
        help = "Test one custom model at PATH instead of the table (needs --model-type)"
    )]
    pub model_path: Option<String>,

    /// `--model-type`.
    #[arg(
        long,
        value_name = "KEY",
        help_heading = heading::ORIGINAL,
        help = "Table key whose launch line and threshold the custom model uses (an unknown \
                key: no launch line, SKIPPED; threshold 0.5)"
    )]
    pub model_type: Option<String>,

    /// `--tokenizer-path`.
    #[arg(
        long,
        value_name = "PATH",
        help_heading = heading::ORIGINAL,
        help = "Tokenizer of the custom model [default: the model path]"
    )]
    pub tokenizer_path: Option<String>,

    /// `--work-dir`.
    #[arg(
        long,
        value_name = "DIR",
        help_heading = heading::ORIGINAL,
        help = concat!(
            "CI directory: relative log dirs resolve against it [default: ",
            "/mnt/raid/michael/sglang-ci", "]"
        )
    )]
    pub work_dir: Option<PathBuf>,

    /// `--models-dir`.
    #[arg(
        long,
        value_name = "DIR",
        help_heading = heading::ORIGINAL,
        help = "Base of relative model and tokenizer paths [default: /mnt/raid/models/huggingface]"
    )]
    pub models_dir: Option<PathBuf>,

    /// `--log-dir`.
    #[arg(
        long,
        value_name = "DIR",
        help_heading = heading::ORIGINAL,
        help = "Base log dir; the image tag is appended [default: \
                <work dir>/test/sanity_check_log/<hw>]"
    )]
    pub log_dir: Option<PathBuf>,

    /// `-t` / `--trials`.
    #[arg(
        long,
        short = 't',
        value_name = "N",
        value_parser = clap::value_parser!(u32).range(1..),
        help_heading = heading::ORIGINAL,
        help = "GSM8K trials per model [default: 3]"
    )]
    pub trials: Option<u32>,

    /// `--models`.
    #[arg(
        long,
        value_name = "KEY",
        num_args = 1..,
        help_heading = heading::ORIGINAL,
        help = "Model keys to test, space-separated (unknown keys are warned about and \
                ignored) [default: all: GPT-OSS-120B GPT-OSS-20B QWEN-30B GROK1-IN4 GROK1-FP8 \
                GROK2.5 llama4]"
    )]
    pub models: Option<Vec<String>>,

    /// `--early-exit`.
    #[arg(
        long,
        help_heading = heading::ADDITIONS,
        help = "Stop a model's trials at the first passing one (`Early exit: Passed on trial \
                T, skipped N trial(s)`), the original's later behaviour"
    )]
    pub early_exit: bool,

    /// `--startup-timeout`.
    #[arg(
        long,
        value_name = "SECS",
        value_parser = crate::flags::positive_seconds,
        help_heading = heading::ADDITIONS,
        help = "Server start-up limit of every model [default: 300, 600 for GROK1-FP8]"
    )]
    pub startup_timeout: Option<f64>,

    /// `--trial-timeout`.
    #[arg(
        long,
        value_name = "SECS",
        value_parser = crate::flags::positive_seconds,
        help_heading = heading::ADDITIONS,
        help = "Limit of one GSM8K trial; the client's process group is killed after it \
                [default: 600]"
    )]
    pub trial_timeout: Option<f64>,

    /// `--port`.
    #[arg(
        long,
        value_name = "PORT",
        value_parser = crate::flags::port,
        help_heading = heading::ADDITIONS,
        help = "Server port; other than 30000 it is added to the launch and client lines \
                [default: 30000]"
    )]
    pub port: Option<u16>,

    /// `--teams-webhook-url`.
    #[command(flatten, next_help_heading = heading::ADDITIONS)]
    pub teams: TeamsWebhookFlags,

    /// `--sim-args`.
    #[arg(
        long,
        value_name = "ARGS",
        allow_hyphen_values = true,
        help_heading = heading::ENGINE,
        help = SIM_ARGS_HELP
    )]
    pub sim_args: Option<String>,

    /// `--sim-model-args`.
    #[arg(
        long,
        value_name = "KEY=ARGS",
        allow_hyphen_values = true,
        help_heading = heading::ENGINE,
        help = "Extra `sglang-sim launch-server` flags for one model, after --sim-args \
                (`--sim-model-args='QWEN-30B=--sim-gsm8k-accuracy 0.5'`); repeatable; only \
                with --engine=sim"
    )]
    pub sim_model_args: Vec<String>,

    /// `--gsm8k-data`.
    #[arg(
        long,
        value_name = "FILE",
        help_heading = heading::ENGINE,
        help = "GSM8K test set of the native client (--engine=sim) [env: SGLCI_GSM8K_DATA] \
                [default: the test set built into sglang-bench]"
    )]
    pub gsm8k_data: Option<PathBuf>,

    /// `--engine` / `--executor`.
    #[command(flatten, next_help_heading = heading::ENGINE)]
    pub engine: EngineFlags,
}

/// The models of one run, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRun {
    /// Key (`GPT-OSS-120B`, or the custom model's `--model-type`).
    pub key: String,
    /// Threshold.
    pub threshold: f64,
    /// Configured model path (`--model-path` or the table's, unresolved).
    pub model_path: String,
    /// Configured tokenizer (`None`: the model).
    pub tokenizer: Option<String>,
    /// The table row of the launch line (`None`: no launch command).
    pub template: Option<&'static alerts::sanity_models::ModelMeta>,
    /// `--sim-args` + this model's `--sim-model-args`.
    pub sim_args: Vec<String>,
}

/// Everything a sanity run needs.
#[derive(Debug, Clone)]
pub struct SanityConfig {
    /// Hardware.
    pub hardware: Hardware,
    /// `--docker-image`.
    pub docker_image: Option<String>,
    /// The work dir.
    pub work_dir: PathBuf,
    /// The models dir.
    pub models_dir: PathBuf,
    /// The log folder (with the tag subfolder).
    pub log_dir: PathBuf,
    /// The root below which `<hw>/<tag>/` lies (the sanity card's log root).
    pub log_root: PathBuf,
    /// Trials per model.
    pub trials: u32,
    /// The models in run order (`Models:` line).
    pub models: Vec<ModelRun>,
    /// Warnings to print first (unknown models, GROK2.5 on rocm630).
    pub notes: Vec<String>,
    /// `--early-exit`.
    pub early_exit: bool,
    /// `--startup-timeout` (`None`: 300 s, 600 s for GROK1-FP8).
    pub startup_timeout: Option<Duration>,
    /// `--trial-timeout`.
    pub trial_timeout: Duration,
    /// Server port.
    pub port: u16,
    /// Teams webhook, when given with a value.
    pub teams_webhook: Option<String>,
    /// Engine.
    pub engine: Engine,
    /// Executor.
    pub executor: ExecutorKind,
    /// The programs of each step.
    pub steps: Steps,
    /// Native client's GSM8K test set (`None`: built in).
    pub gsm8k_data: Option<PathBuf>,
}

impl SanityConfig {
    /// The start-up limit of `key`.
    pub fn startup_timeout_for(&self, key: &str) -> Duration {
        self.startup_timeout.unwrap_or_else(|| {
            Duration::from_secs_f64(if key == "GROK1-FP8" {
                GROK1_FP8_STARTUP_TIMEOUT_S
            } else {
                STARTUP_TIMEOUT_S
            })
        })
    }
}

/// The log subfolder of an image: the text after the last `:`, else the last path segment.
pub fn image_subfolder(image: &str) -> String {
    match image.rsplit_once(':') {
        Some((_, tag)) => tag.to_owned(),
        None => image.rsplit('/').next().unwrap_or(image).to_owned(),
    }
}

/// `base` then `over`, where a flag of `over` replaces the same flag of `base` (with its value:
/// `--flag=v`, or `--flag v` when the next word is not a flag), so a model's
/// `--sim-gsm8k-accuracy` overrides the one of `--sim-args`.
pub fn merge_sim_args(base: &[String], over: &[String]) -> Vec<String> {
    let name = |w: &str| w.split_once('=').map_or(w, |(n, _)| n).to_owned();
    let flags: Vec<String> = over
        .iter()
        .filter(|w| w.starts_with("--"))
        .map(|w| name(w))
        .collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < base.len() {
        let w = &base[i];
        if w.starts_with("--") && flags.contains(&name(w)) {
            let takes_next =
                !w.contains('=') && base.get(i + 1).is_some_and(|n| !n.starts_with("--"));
            i += if takes_next { 2 } else { 1 };
            continue;
        }
        out.push(w.clone());
        i += 1;
    }
    out.extend(over.iter().cloned());
    out
}

/// Parses `sanity-check` flags given as words (perf-nightly's `--sanity-args`).
pub fn parse_words(words: &[String]) -> Result<SanityOptions, SanityError> {
    #[derive(clap::Parser)]
    #[command(name = "sanity-check")]
    struct Words {
        #[command(flatten)]
        options: SanityOptions,
    }
    let argv = std::iter::once("sanity-check".to_owned()).chain(words.iter().cloned());
    <Words as clap::Parser>::try_parse_from(argv)
        .map(|w| w.options)
        .map_err(|e| {
            let text = e.render().to_string();
            let first = text.lines().next().unwrap_or_default().to_owned();
            SanityError::Usage(format!("--sanity-args: {first}"))
        })
}

/// Resolves the flags (flag > environment > default).
pub fn resolve(o: &SanityOptions, env: &dyn EnvSource) -> Result<SanityConfig, SanityError> {
    let hardware = match o.hardware.as_deref() {
        Some(h) => Hardware::parse(h).ok_or_else(|| {
            SanityError::Usage(format!("--hardware={h}: expected mi30x or mi35x"))
        })?,
        None => {
            return Err(SanityError::Usage(
                "Must specify --hardware (mi30x or mi35x)".to_owned(),
            ));
        }
    };
    if o.model_path.is_some() && o.model_type.is_none() {
        return Err(SanityError::Usage(
            "--model-type must be specified when using --model-path".to_owned(),
        ));
    }
    let work_dir = absolute(o.work_dir.as_deref().unwrap_or(Path::new(DEFAULT_WORK_DIR)));
    let models_dir = o
        .models_dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(DEFAULT_MODELS_DIR));
    let log_root_hw = match &o.log_dir {
        Some(d) if d.is_absolute() => d.clone(),
        Some(d) => work_dir.join(d),
        None => work_dir
            .join("test/sanity_check_log")
            .join(hardware.as_str()),
    };
    let log_root = log_root_hw
        .parent()
        .map_or_else(|| log_root_hw.clone(), Path::to_owned);
    let log_dir = match &o.docker_image {
        Some(i) => log_root_hw.join(image_subfolder(i)),
        None => log_root_hw,
    };

    let engine = o.engine.engine.unwrap_or(Engine::Sglang);
    let executor = match (o.engine.executor, &o.docker_image) {
        (Some(x), _) => x,
        (None, Some(_)) => default_executor(engine, env).0,
        (None, None) => ExecutorKind::Local,
    };
    if executor == ExecutorKind::Docker && o.docker_image.is_none() {
        return Err(SanityError::Usage(
            "--executor=docker needs --docker-image".to_owned(),
        ));
    }
    let sim = engine == Engine::Sim;
    let global_sim = match o.sim_args.clone().or_else(|| env.var(flag_env::SIM_ARGS)) {
        Some(t) => split_words(&t).map_err(|e| SanityError::Usage(format!("--sim-args: {e}")))?,
        None => Vec::new(),
    };
    let mut per_model: Vec<(String, Vec<String>)> = Vec::new();
    for a in &o.sim_model_args {
        let (k, v) = a.split_once('=').ok_or_else(|| {
            SanityError::Usage(format!("--sim-model-args={a}: expected KEY=ARGS"))
        })?;
        let words =
            split_words(v).map_err(|e| SanityError::Usage(format!("--sim-model-args={a}: {e}")))?;
        per_model.push((k.trim().to_owned(), words));
    }
    if !sim && (!global_sim.is_empty() && o.sim_args.is_some() || !per_model.is_empty()) {
        return Err(SanityError::Usage(
            "--sim-args and --sim-model-args need --engine=sim".to_owned(),
        ));
    }

    let mut notes = Vec::new();
    let mut models = Vec::new();
    let sim_for = |key: &str| -> Vec<String> {
        if !sim {
            return Vec::new();
        }
        let mut v = global_sim.clone();
        for (k, w) in &per_model {
            if k == key {
                v = merge_sim_args(&v, w);
            }
        }
        v
    };
    if let Some(path) = &o.model_path {
        let key = o.model_type.clone().unwrap_or_default();
        let meta = alerts::sanity_models::meta(&key);
        models.push(ModelRun {
            threshold: meta.map_or(0.5, |m| m.threshold),
            model_path: path.clone(),
            tokenizer: o.tokenizer_path.clone(),
            template: meta,
            sim_args: sim_for(&key),
            key,
        });
    } else {
        let all: Vec<&str> = alerts::sanity_models::MODELS
            .iter()
            .map(|m| m.key)
            .collect();
        let chosen: Vec<String> = match &o.models {
            Some(list) => {
                let list: Vec<String> = list
                    .iter()
                    .flat_map(|s| s.split_whitespace())
                    .map(str::to_owned)
                    .collect();
                let unknown: Vec<&str> = list
                    .iter()
                    .filter(|k| !all.contains(&k.as_str()))
                    .map(String::as_str)
                    .collect();
                if !unknown.is_empty() {
                    notes.push(format!(
                        "Warning: Unknown models specified: {}",
                        unknown.join(", ")
                    ));
                }
                // Table order, as the original's dictionary filter.
                all.iter()
                    .filter(|k| list.iter().any(|l| l == *k))
                    .map(|k| (*k).to_owned())
                    .collect()
            }
            None => all.iter().map(|k| (*k).to_owned()).collect(),
        };
        let rocm630 = o
            .docker_image
            .as_deref()
            .is_some_and(|i| i.contains("rocm630"));
        for key in chosen {
            if rocm630 && key == "GROK2.5" {
                notes.push(
                    "⚠️  Skipping GROK2.5: This model requires ROCm 7.00+ (current image uses ROCm 6.30)"
                        .to_owned(),
                );
                continue;
            }
            let Some(meta) = alerts::sanity_models::meta(&key) else {
                continue;
            };
            models.push(ModelRun {
                threshold: meta.threshold,
                model_path: table::model_path(meta, hardware).to_owned(),
                tokenizer: meta.tokenizer.map(str::to_owned),
                template: Some(meta),
                sim_args: sim_for(&key),
                key,
            });
        }
    }
    if models.is_empty() {
        // Fix Q-SAN-7: the original crashed dividing by zero.
        return Err(SanityError::Usage(
            "no models to test after filtering (check --models)".to_owned(),
        ));
    }
    for (k, _) in &per_model {
        if !models.iter().any(|m| &m.key == k) {
            return Err(SanityError::Usage(format!(
                "--sim-model-args names {k}, which is not among the models to test"
            )));
        }
    }

    let client = if sim {
        ClientImpl::Native
    } else {
        ClientImpl::Python
    };
    let steps = Steps::new(engine, client, client);
    if executor == ExecutorKind::Local {
        let missing = steps.missing_programs();
        if !missing.is_empty() {
            return Err(SanityError::Usage(format!(
                "--engine=sim needs {} next to this binary or on PATH",
                missing.join(" and ")
            )));
        }
    }
    let gsm8k_data = o
        .gsm8k_data
        .clone()
        .or_else(|| env.var("SGLCI_GSM8K_DATA").map(PathBuf::from))
        // Canonical, so the same path resolves inside a container (where the folders a `..`
        // climbs through are not mounted).
        .map(|p| absolute(&p))
        .map(|p| p.canonicalize().unwrap_or(p));
    if let Some(d) = &gsm8k_data
        && !d.is_file()
    {
        return Err(SanityError::Usage(format!(
            "--gsm8k-data {}: no such file",
            d.display()
        )));
    }
    let secs = |s: Option<f64>| s.map(Duration::from_secs_f64);
    Ok(SanityConfig {
        hardware,
        docker_image: o.docker_image.clone(),
        work_dir,
        models_dir,
        log_dir,
        log_root,
        trials: o.trials.unwrap_or(DEFAULT_TRIALS),
        models,
        notes,
        early_exit: o.early_exit,
        startup_timeout: secs(o.startup_timeout),
        trial_timeout: secs(o.trial_timeout).unwrap_or(Duration::from_secs_f64(TRIAL_TIMEOUT_S)),
        port: o.port.unwrap_or(DEFAULT_PORT),
        teams_webhook: o.teams.url().map(str::to_owned),
        engine,
        executor,
        steps,
        gsm8k_data,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn opts(f: impl FnOnce(&mut SanityOptions)) -> SanityOptions {
        let mut o = SanityOptions {
            hardware: Some("mi30x".into()),
            work_dir: Some("/ci".into()),
            ..Default::default()
        };
        f(&mut o);
        o
    }

    fn env() -> BTreeMap<String, String> {
        BTreeMap::new()
    }

    #[test]
    fn defaults_follow_the_original() {
        let c = resolve(&opts(|_| {}), &env()).unwrap();
        assert_eq!(c.trials, 3);
        assert_eq!(c.log_dir, Path::new("/ci/test/sanity_check_log/mi30x"));
        assert_eq!(c.log_root, Path::new("/ci/test/sanity_check_log"));
        let keys: Vec<&str> = c.models.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "GPT-OSS-120B",
                "GPT-OSS-20B",
                "QWEN-30B",
                "GROK1-IN4",
                "GROK1-FP8",
                "GROK2.5",
                "llama4"
            ]
        );
        assert_eq!(c.startup_timeout_for("GROK1-FP8"), Duration::from_secs(600));
        assert_eq!(c.startup_timeout_for("QWEN-30B"), Duration::from_secs(300));
        assert_eq!(c.trial_timeout, Duration::from_secs(600));
        assert_eq!(c.executor, ExecutorKind::Local);
    }

    #[test]
    fn image_tag_subfolder_rocm630_and_model_filter() {
        let c = resolve(
            &opts(|o| {
                o.docker_image = Some("rocm/sgl-dev:v0.5.3rc0-rocm630-mi30x-20251003".into());
                o.models = Some(vec!["GROK2.5 llama4".into(), "NOPE".into()]);
                o.engine.executor = Some(ExecutorKind::Local);
            }),
            &env(),
        )
        .unwrap();
        assert_eq!(
            c.log_dir,
            Path::new("/ci/test/sanity_check_log/mi30x/v0.5.3rc0-rocm630-mi30x-20251003")
        );
        let keys: Vec<&str> = c.models.iter().map(|m| m.key.as_str()).collect();
        assert_eq!(keys, ["llama4"]);
        assert_eq!(c.notes[0], "Warning: Unknown models specified: NOPE");
        assert!(c.notes[1].contains("Skipping GROK2.5"));
    }

    #[test]
    fn bad_input_is_one_clear_line() {
        let e = resolve(&opts(|o| o.hardware = None), &env()).unwrap_err();
        assert_eq!(e.to_string(), "Must specify --hardware (mi30x or mi35x)");
        assert_eq!(e.exit_code(), 1);
        let e = resolve(&opts(|o| o.model_path = Some("/m".into())), &env()).unwrap_err();
        assert!(e.to_string().contains("--model-type must be specified"));
        let e = resolve(&opts(|o| o.models = Some(vec!["X".into()])), &env()).unwrap_err();
        assert!(e.to_string().contains("no models to test"), "Q-SAN-7 fixed");
        let e = resolve(
            &opts(|o| o.sim_model_args = vec!["QWEN-30B".into()]),
            &env(),
        )
        .unwrap_err();
        assert!(e.to_string().contains("KEY=ARGS"));
    }

    #[test]
    fn a_model_s_sim_flag_replaces_the_global_one() {
        let w = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(
            merge_sim_args(
                &w("--sim-profile zero --sim-gsm8k-accuracy 1.0 --sim-x=3"),
                &w("--sim-gsm8k-accuracy=0.3 --sim-x 4")
            ),
            w("--sim-profile zero --sim-gsm8k-accuracy=0.3 --sim-x 4")
        );
    }

    #[test]
    fn words_parse_like_the_command_line() {
        let o = parse_words(&[
            "--models".into(),
            "QWEN-30B".into(),
            "llama4".into(),
            "--early-exit".into(),
        ])
        .unwrap();
        assert_eq!(o.models.unwrap(), ["QWEN-30B", "llama4"]);
        assert!(o.early_exit);
        let e = parse_words(&["--nope".into()]).unwrap_err();
        assert!(e.to_string().starts_with("--sanity-args: error:"), "{e}");
    }

    #[test]
    fn custom_model_takes_the_type_s_template_and_threshold() {
        let c = resolve(
            &opts(|o| {
                o.model_path = Some("/data/m".into());
                o.model_type = Some("QWEN-30B".into());
            }),
            &env(),
        )
        .unwrap();
        assert_eq!(c.models.len(), 1);
        assert_eq!(c.models[0].threshold, 0.840);
        let c = resolve(
            &opts(|o| {
                o.model_path = Some("/data/m".into());
                o.model_type = Some("mystery".into());
            }),
            &env(),
        )
        .unwrap();
        assert_eq!(c.models[0].threshold, 0.5);
        assert!(c.models[0].template.is_none());
    }
}
