//! The sanity-check model table, the one copy (spec nightly.md §7.3, reporting.md §2.9): per
//! model its accuracy threshold and display name (the cards), and its model and tokenizer
//! paths and launch line per hardware (`sanity-check` in sglang-runner, which depends on this
//! crate). The original kept it in `test/sanity_check.py` and the alert scripts read it from
//! there at run time.

use metrics_parse::sanity::{ModelSection, SanitySummary, SectionOutcome, VerdictGeneration};

/// One model's row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ModelMeta {
    /// The short name used in logs.
    pub key: &'static str,
    /// GSM8K threshold.
    pub threshold: f64,
    /// Name in the daily summary.
    pub daily_name: &'static str,
    /// Model path on mi30x: relative to the models dir, or absolute.
    pub model_mi30x: &'static str,
    /// Model path on mi35x.
    pub model_mi35x: &'static str,
    /// Tokenizer path when it differs from the model (then passed as `--tokenizer-path`
    /// before the other server arguments).
    pub tokenizer: Option<&'static str>,
    /// Environment prefix of the launch line on mi30x (`VAR=value` words).
    pub env_mi30x: &'static str,
    /// Environment prefix on mi35x.
    pub env_mi35x: &'static str,
    /// Server arguments after `--model-path <path>` (and `--tokenizer-path <t>`).
    pub server_args: &'static str,
}

const GPT_OSS_ARGS: &str = "--tp 8 --trust-remote-code --chunked-prefill-size 130172 \
    --max-running-requests 128 --mem-fraction-static 0.85 --attention-backend triton";
const GROK_ARGS: &str = "--tp 8 --quantization fp8 --trust-remote-code --attention-backend aiter \
    --mem-fraction-static 0.85";
const GROK_FP8_ENV: &str = "RCCL_MSCCL_ENABLE=0 SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=0";

/// The table.
pub const MODELS: &[ModelMeta] = &[
    ModelMeta {
        key: "GPT-OSS-120B",
        threshold: 0.820,
        daily_name: "gpt-oss-120b-bf16",
        model_mi30x: "lmsys/gpt-oss-120b-bf16",
        model_mi35x: "openai/gpt-oss-120b",
        tokenizer: None,
        env_mi30x: "SGLANG_USE_AITER=0",
        env_mi35x: "SGLANG_USE_AITER=1",
        server_args: GPT_OSS_ARGS,
    },
    ModelMeta {
        key: "GPT-OSS-20B",
        threshold: 0.520,
        daily_name: "gpt-oss-20b-bf16",
        model_mi30x: "lmsys/gpt-oss-20b-bf16",
        model_mi35x: "openai/gpt-oss-20b",
        tokenizer: None,
        env_mi30x: "SGLANG_USE_AITER=0",
        env_mi35x: "SGLANG_USE_AITER=1",
        server_args: GPT_OSS_ARGS,
    },
    ModelMeta {
        key: "QWEN-30B",
        threshold: 0.840,
        daily_name: "Qwen3-30B-A3B-Thinking-2507",
        model_mi30x: "Qwen/Qwen3-30B-A3B-Thinking-2507",
        model_mi35x: "Qwen/Qwen3-30B-A3B-Thinking-2507",
        tokenizer: None,
        env_mi30x: "SGLANG_USE_AITER=0",
        env_mi35x: "SGLANG_USE_AITER=0",
        server_args: "--tp 8 --trust-remote-code --chunked-prefill-size 130172 --max-running-requests 128 \
            --mem-fraction-static 0.85 --attention-backend aiter",
    },
    ModelMeta {
        key: "GROK1-IN4",
        threshold: 0.800,
        daily_name: "GROK1-IN4",
        model_mi30x: "amd--grok-1-W4A8KV8",
        model_mi35x: "amd--grok-1-W4A8KV8",
        tokenizer: Some("Xenova--grok-1-tokenizer"),
        env_mi30x: "RCCL_MSCCL_ENABLE=0 SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=1",
        env_mi35x: "RCCL_MSCCL_ENABLE=0 SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=1",
        server_args: GROK_ARGS,
    },
    ModelMeta {
        key: "GROK1-FP8",
        threshold: 0.8,
        daily_name: "GROK1-FP8",
        model_mi30x: "lmzheng-grok-1",
        model_mi35x: "lmzheng-grok-1",
        tokenizer: Some("Xenova--grok-1-tokenizer"),
        env_mi30x: GROK_FP8_ENV,
        env_mi35x: GROK_FP8_ENV,
        server_args: GROK_ARGS,
    },
    ModelMeta {
        key: "GROK2.5",
        threshold: 0.915,
        daily_name: "GROK2.5",
        model_mi30x: "grok-2",
        model_mi35x: "grok-2",
        tokenizer: Some("alvarobartt--grok-2-tokenizer"),
        env_mi30x: GROK_FP8_ENV,
        env_mi35x: GROK_FP8_ENV,
        server_args: GROK_ARGS,
    },
    ModelMeta {
        key: "llama4",
        threshold: 0.900,
        daily_name: "Llama-4-Maverick-17B-128E-Instruct-FP8",
        model_mi30x: "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        model_mi35x: "/data2/models/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        tokenizer: None,
        env_mi30x: "SGLANG_USE_AITER=1",
        env_mi35x: "SGLANG_USE_AITER=1",
        server_args: "--tp 8 --attention-backend aiter --trust-remote-code",
    },
];

/// The row of `key`.
pub fn meta(key: &str) -> Option<&'static ModelMeta> {
    MODELS.iter().find(|m| m.key == key)
}

/// The daily-summary display name (the key when unknown).
pub fn daily_name(key: &str) -> &str {
    meta(key).map_or(key, |m| m.daily_name)
}

/// The sanity-card display name: GPT-OSS models are renamed only on `mi30x` images.
pub fn card_name<'a>(key: &'a str, docker_image: Option<&str>) -> &'a str {
    match meta(key) {
        Some(m) if key.starts_with("GPT-OSS") => {
            if docker_image.is_some_and(|d| d.contains("mi30x")) {
                m.daily_name
            } else {
                key
            }
        }
        Some(m) => m.daily_name,
        None => key,
    }
}

/// ` (threshold ≥ 82.0%)` for a known model, empty otherwise.
pub fn threshold_text(key: &str) -> String {
    meta(key).map_or_else(String::new, |m| {
        format!(" (threshold ≥ {}%)", crate::common::pct1(m.threshold))
    })
}

/// One model's result in a sanity summary.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelResult {
    /// Model key.
    pub key: String,
    /// Section outcome of the model's last section.
    pub outcome: SectionOutcome,
    /// `Average accuracy:` value, else the mean of `Accuracies: [...]`.
    pub average: Option<f64>,
    /// `Total time:` seconds.
    pub total_secs: Option<f64>,
}

impl ModelResult {
    /// Passed (`Final result: PASS [OK]`).
    pub fn passed(&self) -> bool {
        self.outcome == SectionOutcome::Pass
    }
}

fn average(s: &ModelSection) -> Option<f64> {
    if let Some(v) = &s.verdict
        && v.generation == VerdictGeneration::Average
    {
        return Some(v.accuracy.value);
    }
    let vals = s.accuracies.as_ref()?.values.as_ref()?;
    (!vals.is_empty()).then(|| vals.iter().sum::<f64>() / vals.len() as f64)
}

/// Per model in first-appearance order; a later section of the same model replaces the
/// earlier one's values (a retried start-up).
pub fn model_results(s: &SanitySummary) -> Vec<ModelResult> {
    let mut out: Vec<ModelResult> = Vec::new();
    for sec in &s.sections {
        let r = ModelResult {
            key: sec.model.clone(),
            outcome: sec.outcome(),
            average: average(sec),
            total_secs: sec.total_time.as_ref().map(|n| n.value),
        };
        match out.iter_mut().find(|m| m.key == r.key) {
            Some(m) => *m = r,
            None => out.push(r),
        }
    }
    out
}
