//! `grok-perf-offline` (spec benchmarks.md §2): the plan of one mode — every TP value ×
//! batch size × input length of its grid (§2.7), the bench_one_batch arguments of the mode
//! (§2.8) with the memory-fraction rules of normal mode, the environment of the model type
//! (§1.6), the Grok folder and file names (§2.10) and the GSM8K gate on the online run of the
//! same image (§2.6, fix F-14).

use metrics_parse::legacy_csv::OfflineKind;

use super::config::{GrokMode, GrokOfflineConfig};
use super::gate::Gate;
use super::{OfflinePlan, Point, config_json};
use crate::command::{env_pairs, env_text};
use crate::config::GrokType;
use crate::paths::OnlinePaths;

/// The environment of the sglang process (§1.6): the model type's, except that Grok-1's
/// dummy weights are not int4.
pub fn environment(model_type: GrokType, mode: GrokMode) -> Vec<(String, String)> {
    match (model_type, mode) {
        (GrokType::Grok1, GrokMode::Dummy) => {
            env_pairs(&[("SGLANG_USE_AITER", "1"), ("SGLANG_INT4_WEIGHT", "0")])
        }
        _ => model_type.environment(),
    }
}

/// The bench_one_batch arguments of one point, in the original's order (§2.8; `--model`,
/// `--input`, `--output` are argparse prefixes of `--model-path`, `--input-len`,
/// `--output-len`), without the `--result-filename` the plan appends.
pub fn arguments(cfg: &GrokOfflineConfig, tp: u32, bs: u32, il: u32) -> Vec<String> {
    let ol = cfg.grid.output_length;
    let mut a: Vec<String> = vec!["--model".into(), cfg.model.clone()];
    if cfg.mode == GrokMode::Dummy {
        a.extend(["--load-format".into(), "dummy".into()]);
    }
    a.extend([
        "--tokenizer-path".into(),
        cfg.tokenizer.clone(),
        "--tp".into(),
        tp.to_string(),
        "--batch-size".into(),
        bs.to_string(),
        "--input".into(),
        il.to_string(),
        "--output".into(),
        ol.to_string(),
        "--attention-backend".into(),
        "aiter".into(),
    ]);
    let tail: &[&str] = match cfg.mode {
        GrokMode::Normal => &[
            "--sampling-backend",
            "pytorch",
            "--quantization",
            "fp8",
            "--trust-remote-code",
            "--cuda-graph-max-bs",
            "1024",
        ],
        GrokMode::LongContext => &["--quantization", "fp8", "--trust-remote-code"],
        GrokMode::Dummy => &[
            "--torch-compile-max-bs",
            "4",
            "--quantization",
            "fp8",
            "--trust-remote-code",
            "--enable-torch-compile",
        ],
    };
    a.extend(tail.iter().map(|s| (*s).to_owned()));
    if cfg.mode == GrokMode::Normal {
        match bs {
            128 => a.extend(["--mem-fraction-static".into(), cfg.mem_fraction_128.clone()]),
            256 => a.extend(["--mem-fraction-static".into(), cfg.mem_fraction_256.clone()]),
            _ => {}
        }
    }
    a
}

/// Builds the plan of `cfg`.
pub fn plan(cfg: &GrokOfflineConfig) -> OfflinePlan {
    let c = &cfg.common;
    let paths = c.run_paths(&cfg.model_name, &cfg.variant, cfg.mode.suffix());
    let env = environment(cfg.model_type, cfg.mode);
    let g = &cfg.grid;
    let mut points = Vec::new();
    for &tp in &g.tp_values {
        for &bs in &g.batch_sizes {
            for &il in &g.input_lengths {
                let ol = g.output_length;
                points.push(Point::new(
                    &c.base,
                    &paths,
                    OfflineKind::Grok,
                    [tp, bs, il, ol],
                    format!("=== TP={tp}, BS={bs}, IL={il}, OL={ol} ==="),
                    arguments(cfg, tp, bs, il),
                    &env,
                ));
            }
        }
    }
    let online = OnlinePaths::grok(
        &c.base.output_dir,
        &c.base.tag,
        &cfg.model_name,
        &cfg.online_variant,
    );
    let join = |v: &[u32]| v.iter().map(u32::to_string).collect::<Vec<_>>().join(" ");
    let mut settings = vec![
        format!("mode: {}", cfg.mode.as_str()),
        format!("model type: {}", cfg.model_type.as_str()),
        format!("model: {}", cfg.model),
    ];
    if cfg.mode == GrokMode::Dummy {
        settings.push(format!(
            "(--model, not used in dummy mode: {})",
            cfg.real_model
        ));
    }
    settings.extend([
        format!("tokenizer: {}", cfg.tokenizer),
        format!("model name / variant: {} / {}", cfg.model_name, cfg.variant),
        format!(
            "grid: TP {}; batch sizes {}; input lengths {}; output length {}",
            join(&g.tp_values),
            join(&g.batch_sizes),
            join(&g.input_lengths),
            g.output_length
        ),
    ]);
    if cfg.mode == GrokMode::Normal {
        settings.push(format!(
            "--mem-fraction-static: {} at batch size 128, {} at batch size 256",
            cfg.mem_fraction_128, cfg.mem_fraction_256
        ));
    }
    settings.push(format!("environment: {}", env_text(&env)));
    OfflinePlan {
        binary: "grok-perf-offline",
        kind: OfflineKind::Grok,
        config_json: config_json(&c.base.image, Some("aiter"), c.simulated()),
        gate: Gate {
            online_folder: online.folder,
            model_name: cfg.model_name.clone(),
        },
        download: None,
        points,
        settings,
        notes: cfg.notes.clone(),
        paths,
        model: cfg.model.clone(),
        common: c.clone(),
    }
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    use super::*;
    use crate::benchmark::Benchmark;
    use crate::config::testing::{env, options};
    use crate::offline::config::{GrokOfflineOptions, resolve_grok_offline};

    fn cfg(mode: &str, model_type: &str, e: &[(&str, &str)]) -> GrokOfflineConfig {
        let o = options(|o: &mut GrokOfflineOptions| {
            o.common.base.image.docker_image =
                Some("rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029".into());
            o.common.base.dirs.output_dir = Some("/ci".into());
            o.mode = Some(mode.into());
            o.grok.model_type = Some(model_type.into());
        });
        resolve_grok_offline(&o, &env(e)).unwrap()
    }

    #[test]
    fn normal_mode_lines_with_memory_fractions() {
        let c = cfg("normal", "grok1", &[]);
        let p = plan(&c);
        assert_eq!(p.points.len(), 9);
        let line = |i: usize| p.points[i].cmd.display_with_env();
        assert_eq!(
            line(0),
            "SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=1 python3 -m sglang.bench_one_batch --model /mnt/raid/models/huggingface/amd--grok-1-W4A8KV8/ --tokenizer-path Xenova/grok-1-tokenizer --tp 8 --batch-size 1 --input 1024 --output 128 --attention-backend aiter --sampling-backend pytorch --quantization fp8 --trust-remote-code --cuda-graph-max-bs 1024 --result-filename /ci/offline/GROK1/v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_offline/tp8_bs1_il1024.jsonl"
        );
        assert!(
            line(7)
                .contains("--cuda-graph-max-bs 1024 --mem-fraction-static 0.85 --result-filename"),
            "{}",
            line(7)
        );
        assert!(
            line(8)
                .contains("--cuda-graph-max-bs 1024 --mem-fraction-static 0.75 --result-filename"),
            "{}",
            line(8)
        );
        assert!(!line(6).contains("--mem-fraction-static"));
        assert_eq!(p.points[8].log.file_name().unwrap(), "tp8_bs256_il1024.log");
        assert_eq!(
            p.config_json,
            "{\"docker\": \"rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029\", \"attention_backend\": \"aiter\"}\n"
        );
        assert_eq!(
            p.gate.online_folder,
            Path::new("/ci/online/GROK1/v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online")
        );
        let c = cfg(
            "normal",
            "grok1",
            &[
                ("BATCH_SIZE_128_MEM_FRACTION", "0.8"),
                ("NORMAL_BATCH_SIZES", "128"),
            ],
        );
        assert!(
            plan(&c).points[0]
                .cmd
                .display()
                .contains("--mem-fraction-static 0.8 ")
        );
    }

    #[test]
    fn long_context_and_dummy_lines() {
        let p = plan(&cfg("long_context", "grok2", &[]));
        assert_eq!(p.points.len(), 3);
        assert_eq!(
            p.points[2].cmd.display_with_env(),
            "RCCL_MSCCL_ENABLE=0 SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=0 python3 -m sglang.bench_one_batch --model /data2/grok-2/ --tokenizer-path /data2/grok-2/tokenizer.tok.json --tp 8 --batch-size 1 --input 32768 --output 10 --attention-backend aiter --quantization fp8 --trust-remote-code --result-filename /ci/offline/GROK2/v0.5.4.post1-rocm630-mi30x-20251029_GROK2_MOE-I4F0_offline_long_context/tp8_bs1_il32768.jsonl"
        );
        // F-14: the Grok-2 gate reads the online FP8 folder.
        assert!(
            p.gate
                .online_folder
                .ends_with("online/GROK2/v0.5.4.post1-rocm630-mi30x-20251029_GROK2_FP8_online")
        );
        let p = plan(&cfg("dummy", "grok1", &[]));
        assert_eq!(
            p.points[0].cmd.display_with_env(),
            "SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=0 python3 -m sglang.bench_one_batch --model /mnt/raid/models/dummy_prod1/ --load-format dummy --tokenizer-path Xenova/grok-1-tokenizer --tp 8 --batch-size 2 --input 256 --output 4096 --attention-backend aiter --torch-compile-max-bs 4 --quantization fp8 --trust-remote-code --enable-torch-compile --result-filename /ci/offline/GROK1/v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_offline_dummy/tp8_bs2_il256.jsonl"
        );
        assert!(
            p.describe(None)
                .contains("grid: TP 8; batch sizes 2; input lengths 256; output length 4096")
        );
    }
}
