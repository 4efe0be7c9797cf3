//! `deepseek-perf-offline` (spec benchmarks.md §3): one bench_one_batch point (TP 8, batch
//! 32, input 128, output 32 by default) with the command line of §3.6 and the environment of
//! §1.6, the optional model download (§3.4), and the same GSM8K gate as Grok on the online
//! run folder of the same image.

use std::time::Duration;

use metrics_parse::legacy_csv::OfflineKind;

use super::config::DeepSeekOfflineConfig;
use super::gate::Gate;
use super::{ModelDownload, OfflinePlan, Point, config_json};
use crate::command::{env_pairs, env_text};
use crate::models::download::HfDownload;
use crate::paths::OnlinePaths;

/// Time limit of `--download-model`.
pub const DOWNLOAD_TIMEOUT: Duration = Duration::from_secs(24 * 3600);

/// Builds the plan of `cfg`.
pub fn plan(cfg: &DeepSeekOfflineConfig) -> OfflinePlan {
    let c = &cfg.common;
    let paths = c.run_paths(&cfg.model_name, &cfg.variant, "");
    let env = env_pairs(&[
        ("RCCL_MSCCL_ENABLE", "0"),
        (cfg.aiter_var.as_str(), "1"),
        ("SGLANG_INT4_WEIGHT", "0"),
    ]);
    let args: Vec<String> = vec![
        "--model".into(),
        cfg.model.clone(),
        "--tp".into(),
        cfg.tp.to_string(),
        "--batch-size".into(),
        cfg.batch_size.to_string(),
        "--input".into(),
        cfg.input_len.to_string(),
        "--output".into(),
        cfg.output_len.to_string(),
        "--disable-radix-cache".into(),
        "--trust-remote-code".into(),
    ];
    let point = Point::new(
        &c.base,
        &paths,
        OfflineKind::DeepSeek,
        [cfg.tp, cfg.batch_size, cfg.input_len, cfg.output_len],
        format!("=== TP={}, BS={} ===", cfg.tp, cfg.batch_size),
        args,
        &env,
    );
    let online = OnlinePaths::deepseek(
        &c.base.output_dir,
        &c.base.tag,
        &cfg.model_name,
        &cfg.variant,
        "",
    );
    let download = cfg.download_model.then(|| ModelDownload {
        request: HfDownload {
            repo: cfg.hf_model_id.clone(),
            // bench_one_batch runs in the work dir: a relative model path is relative to it.
            local_dir: c.base.work_dir.join(&cfg.model),
            repo_type_model: true,
            resume: true,
            env: Vec::new(),
        },
        timeout: DOWNLOAD_TIMEOUT,
        min_free_gb: cfg.min_free_gb,
    });
    let settings = vec![
        format!("model: {}", cfg.model),
        format!("model name / variant: {} / {}", cfg.model_name, cfg.variant),
        format!(
            "HuggingFace id: {}{}",
            cfg.hf_model_id,
            if cfg.download_model {
                " (--download-model)"
            } else {
                ""
            }
        ),
        format!(
            "point: TP {}, batch size {}, input length {}, output length {}",
            cfg.tp, cfg.batch_size, cfg.input_len, cfg.output_len
        ),
        format!("environment: {}", env_text(&env)),
    ];
    OfflinePlan {
        binary: "deepseek-perf-offline",
        kind: OfflineKind::DeepSeek,
        config_json: config_json(&c.base.image, None, c.simulated()),
        gate: Gate {
            online_folder: online.folder,
            model_name: cfg.model_name.clone(),
        },
        download,
        points: vec![point],
        settings,
        notes: Vec::new(),
        paths,
        model: cfg.model.clone(),
        common: c.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::testing::{env, options};
    use crate::offline::config::{DeepSeekOfflineOptions, resolve_deepseek_offline};

    #[test]
    fn command_line_paths_and_download() {
        let o = options(|o: &mut DeepSeekOfflineOptions| {
            o.common.base.image.docker_image =
                Some("rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029".into());
            o.common.base.dirs.output_dir = Some("/ci".into());
            o.deepseek.download_model = true;
        });
        let cfg = resolve_deepseek_offline(&o, &env(&[])).unwrap();
        let p = plan(&cfg);
        let folder = "/ci/offline/DeepSeek-V3-0324/v0.5.4.post1-rocm630-mi30x-20251029_DeepSeek-V3-0324_FP8_offline";
        assert_eq!(
            p.points[0].cmd.display_with_env(),
            format!(
                "RCCL_MSCCL_ENABLE=0 SGLANG_USE_AITER=1 SGLANG_INT4_WEIGHT=0 python3 -m sglang.bench_one_batch --model /mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324 --tp 8 --batch-size 32 --input 128 --output 32 --disable-radix-cache --trust-remote-code --result-filename {folder}/tp8_bs32.jsonl"
            )
        );
        assert_eq!(p.points[0].header, "=== TP=8, BS=32 ===");
        assert_eq!(
            p.paths.csv.display().to_string(),
            format!(
                "{folder}/v0.5.4.post1-rocm630-mi30x-20251029_DeepSeek-V3-0324_FP8_offline.csv"
            )
        );
        assert!(p.gate.online_folder.ends_with("online/DeepSeek-V3-0324/v0.5.4.post1-rocm630-mi30x-20251029_DeepSeek-V3-0324_FP8_online"));
        let d = p.download.unwrap();
        assert_eq!(d.request.repo, "deepseek-ai/DeepSeek-V3-0324");
        assert!(d.request.repo_type_model && d.request.resume);
        assert_eq!(
            p.config_json,
            "{\"docker\": \"rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029\"}\n"
        );
    }
}
