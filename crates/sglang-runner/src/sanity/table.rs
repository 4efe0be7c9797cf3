//! The per-hardware side of the model table (spec nightly.md §7.3, §7.4): which path and
//! launch line a model has on mi30x or mi35x, path resolution against the models dir, and the
//! SKIPPED rules. The table itself is `alerts::sanity_models::MODELS` (one copy, shared with
//! the Teams cards).

use std::path::{Path, PathBuf};

use alerts::sanity_models::ModelMeta;

use crate::command::CommandSpec;
use crate::engine::Steps;

use super::config::{DEFAULT_PORT, ModelRun};

pub use crate::models::Hardware;

/// The table's model path of `m` on `hw` (unresolved).
pub fn model_path(m: &ModelMeta, hw: Hardware) -> &'static str {
    match hw {
        Hardware::Mi30x => m.model_mi30x,
        Hardware::Mi35x => m.model_mi35x,
    }
}

/// The environment prefix of `m`'s launch line on `hw`.
pub fn env_prefix(m: &ModelMeta, hw: Hardware) -> Vec<(String, String)> {
    let text = match hw {
        Hardware::Mi30x => m.env_mi30x,
        Hardware::Mi35x => m.env_mi35x,
    };
    text.split_whitespace()
        .filter_map(|w| w.split_once('='))
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
}

/// Resolves a configured path against the models dir (§7.4).
pub fn resolve_path(p: &str, models_dir: &Path) -> String {
    if p.is_empty() || Path::new(p).is_absolute() {
        return p.to_owned();
    }
    if p.starts_with("alvarobartt--") && models_dir.join(p).is_dir() {
        return models_dir.join(p).display().to_string();
    }
    if p.starts_with("Xenova/") || p.starts_with("hf-internal-testing/") {
        return p.to_owned();
    }
    models_dir.join(p).display().to_string()
}

/// Why a model is skipped before start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Skip {
    /// No launch command for the hardware (an unknown `--model-type`).
    NoLaunchCommand,
    /// Model or tokenizer files missing: the reason text.
    Unavailable(String),
}

/// A model ready to start: its server command and paths.
#[derive(Debug, Clone)]
pub struct Launch {
    /// The resolved model path.
    pub model_path: String,
    /// The resolved tokenizer (`None`: the model's own).
    pub tokenizer: Option<String>,
    /// The server command.
    pub server: CommandSpec,
}

/// Builds `m`'s launch (§7.3) or says why it is skipped (§7.4, checks in the original's
/// order). `port`: added as `--port` when not SGLang's default.
pub fn launch(
    m: &ModelRun,
    hw: Hardware,
    models_dir: &Path,
    steps: &Steps,
    port: u16,
) -> Result<Launch, Skip> {
    let Some(t) = m.template else {
        return Err(Skip::NoLaunchCommand);
    };
    let model_path = resolve_path(&m.model_path, models_dir);
    if !Path::new(&model_path).exists() {
        return Err(Skip::Unavailable(format!(
            "Model path does not exist: {model_path}"
        )));
    }
    if !Path::new(&model_path).join("config.json").is_file() {
        return Err(Skip::Unavailable(format!(
            "config.json not found in model path: {model_path}"
        )));
    }
    let tokenizer = m.tokenizer.as_deref().map(|t| resolve_path(t, models_dir));
    if let Some(tok) = &tokenizer {
        let hub = ["Xenova/", "alvarobartt--", "hf-internal-testing/"]
            .iter()
            .any(|p| tok.starts_with(p));
        if !hub && !Path::new(tok).exists() {
            return Err(Skip::Unavailable(format!(
                "Tokenizer path does not exist: {tok}"
            )));
        }
    }
    let mut args = vec!["--model-path".to_owned(), model_path.clone()];
    // The table's tokenizer is passed before the other arguments; a custom tokenizer too.
    if let Some(tok) = &tokenizer {
        args.push("--tokenizer-path".into());
        args.push(tok.clone());
    }
    args.extend(t.server_args.split_whitespace().map(str::to_owned));
    if port != DEFAULT_PORT {
        args.push("--port".into());
        args.push(port.to_string());
    }
    let server = steps.server(&args, &env_prefix(t, hw), &m.sim_args);
    Ok(Launch {
        model_path,
        tokenizer,
        server,
    })
}

/// The benchmark command of one trial (§7.3): the upstream GSM8K script with 2000 questions
/// at parallel 2000, or `sglang-bench gsm8k` with the same numbers on the simulated engine.
pub fn benchmark(steps: &Steps, port: u16, data: Option<&Path>) -> CommandSpec {
    let mut args: Vec<String> = ["--num-questions", "2000", "--parallel", "2000"]
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    if port != DEFAULT_PORT {
        args.push("--port".into());
        args.push(port.to_string());
    }
    steps.gsm8k(super::config::GSM8K_SCRIPT, &args, data)
}

/// The server log `<dir>/<model>_<hw>_server.log`.
pub fn server_log(dir: &Path, key: &str, hw: Hardware) -> PathBuf {
    dir.join(format!("{key}_{hw}_server.log"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::engine::{ClientImpl, Engine};

    fn steps() -> Steps {
        Steps {
            engine: Engine::Sglang,
            client: ClientImpl::Python,
            gsm8k_client: ClientImpl::Python,
            python: "python3".into(),
            sim: "sglang-sim".into(),
            bench: "sglang-bench".into(),
        }
    }

    fn run(key: &str, hw: Hardware) -> ModelRun {
        let meta = alerts::sanity_models::meta(key).unwrap();
        ModelRun {
            key: key.into(),
            threshold: meta.threshold,
            model_path: model_path(meta, hw).into(),
            tokenizer: meta.tokenizer.map(str::to_owned),
            template: Some(meta),
            sim_args: Vec::new(),
        }
    }

    /// `launch` of the table's `key` on `hw`, with the test steps.
    fn launch_model(key: &str, hw: Hardware, models: &Path, port: u16) -> Result<Launch, Skip> {
        launch(&run(key, hw), hw, models, &steps(), port)
    }

    fn models_dir(keys: &[&str]) -> tempfile::TempDir {
        let d = tempfile::tempdir().unwrap();
        for k in keys {
            std::fs::create_dir_all(d.path().join(k)).unwrap();
            std::fs::write(d.path().join(k).join("config.json"), "{}").unwrap();
        }
        d
    }

    #[test]
    fn the_spec_s_resolved_grok1_in4_line_on_mi30x() {
        let d = models_dir(&["amd--grok-1-W4A8KV8", "Xenova--grok-1-tokenizer"]);
        let l = launch_model("GROK1-IN4", Hardware::Mi30x, d.path(), 30000).unwrap();
        let m = d.path().display();
        assert_eq!(
            l.server.display_with_env(),
            format!(
                "RCCL_MSCCL_ENABLE=0 SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=1 python3 -m sglang.launch_server --model-path {m}/amd--grok-1-W4A8KV8 --tokenizer-path {m}/Xenova--grok-1-tokenizer --tp 8 --quantization fp8 --trust-remote-code --attention-backend aiter --mem-fraction-static 0.85"
            )
        );
    }

    #[test]
    fn gpt_oss_env_depends_on_hardware_and_port_is_added_when_not_default() {
        let d = models_dir(&["openai/gpt-oss-20b", "lmsys/gpt-oss-20b-bf16"]);
        let l35 = launch_model("GPT-OSS-20B", Hardware::Mi35x, d.path(), 31000).unwrap();
        let s = l35.server.display_with_env();
        assert!(s.starts_with("SGLANG_USE_AITER=1 python3"), "{s}");
        assert!(
            s.ends_with("--attention-backend triton --port 31000"),
            "{s}"
        );
        let l30 = launch_model("GPT-OSS-20B", Hardware::Mi30x, d.path(), 30000).unwrap();
        assert!(
            l30.server
                .display_with_env()
                .starts_with("SGLANG_USE_AITER=0 python3")
        );
        assert!(l30.model_path.ends_with("lmsys/gpt-oss-20b-bf16"));
    }

    #[test]
    fn skipped_rules_in_order() {
        let d = models_dir(&[]);
        let e = launch_model("llama4", Hardware::Mi35x, d.path(), 30000).unwrap_err();
        assert_eq!(
            e,
            Skip::Unavailable(
                "Model path does not exist: /data2/models/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8".into()
            )
        );
        std::fs::create_dir_all(d.path().join("lmzheng-grok-1")).unwrap();
        let e = launch_model("GROK1-FP8", Hardware::Mi30x, d.path(), 30000).unwrap_err();
        assert!(
            matches!(e, Skip::Unavailable(ref r) if r.starts_with("config.json not found in model path: "))
        );
        std::fs::write(d.path().join("lmzheng-grok-1/config.json"), "{}").unwrap();
        let e = launch_model("GROK1-FP8", Hardware::Mi30x, d.path(), 30000).unwrap_err();
        assert!(
            matches!(e, Skip::Unavailable(ref r) if r.starts_with("Tokenizer path does not exist: "))
        );
        let mut custom = run("GROK1-FP8", Hardware::Mi30x);
        custom.template = None;
        assert_eq!(
            launch(&custom, Hardware::Mi30x, d.path(), &steps(), 30000).unwrap_err(),
            Skip::NoLaunchCommand
        );
    }

    #[test]
    fn path_resolution() {
        let d = tempfile::tempdir().unwrap();
        let m = d.path();
        assert_eq!(resolve_path("", m), "");
        assert_eq!(resolve_path("/abs", m), "/abs");
        assert_eq!(resolve_path("Xenova/grok-1", m), "Xenova/grok-1");
        assert_eq!(
            resolve_path("Xenova--grok-1-tokenizer", m),
            format!("{}/Xenova--grok-1-tokenizer", m.display())
        );
        // alvarobartt-- without a local folder: still joined (rule 4).
        assert_eq!(
            resolve_path("alvarobartt--grok-2-tokenizer", m),
            format!("{}/alvarobartt--grok-2-tokenizer", m.display())
        );
    }
}
