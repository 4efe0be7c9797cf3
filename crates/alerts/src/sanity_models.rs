//! Sanity-check model metadata (spec §2.9): accuracy thresholds and display names, carried as
//! static data (the original loaded them from `test/sanity_check.py` at run time).

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
}

/// The table.
pub const MODELS: &[ModelMeta] = &[
    ModelMeta {
        key: "GPT-OSS-120B",
        threshold: 0.820,
        daily_name: "gpt-oss-120b-bf16",
    },
    ModelMeta {
        key: "GPT-OSS-20B",
        threshold: 0.520,
        daily_name: "gpt-oss-20b-bf16",
    },
    ModelMeta {
        key: "QWEN-30B",
        threshold: 0.840,
        daily_name: "Qwen3-30B-A3B-Thinking-2507",
    },
    ModelMeta {
        key: "GROK1-IN4",
        threshold: 0.800,
        daily_name: "GROK1-IN4",
    },
    ModelMeta {
        key: "GROK1-FP8",
        threshold: 0.8,
        daily_name: "GROK1-FP8",
    },
    ModelMeta {
        key: "GROK2.5",
        threshold: 0.915,
        daily_name: "GROK2.5",
    },
    ModelMeta {
        key: "llama4",
        threshold: 0.900,
        daily_name: "Llama-4-Maverick-17B-128E-Instruct-FP8",
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
