//! Folder and file names of the online benchmarks (spec benchmarks.md §7.1, §7.2, quirk K-1),
//! all derived from one output root (fix F-18).

use std::path::{Path, PathBuf};

use serde::Serialize;

/// Which of the two online layouts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Layout {
    /// Grok: request rates, `sglang_client_log_<M>_aiter_<R>_run<i>_<ts>.log`.
    Grok,
    /// DeepSeek: concurrencies, `sglang_serving_benchmark_concurrency_<C>_run<n>_<ts>.log`.
    DeepSeek,
}

/// Every path of one online run folder.
#[derive(Debug, Clone, Serialize)]
pub struct OnlinePaths {
    /// Layout.
    pub layout: Layout,
    /// `<output>/online/<MODEL_NAME>` (MTP artifacts go here).
    pub model_dir: PathBuf,
    /// The run folder.
    pub folder: PathBuf,
    /// The result CSV.
    pub csv: PathBuf,
    /// The server log.
    pub server_log: PathBuf,
    /// The GSM8K log.
    pub gsm8k_log: PathBuf,
    /// `<MODEL_NAME>`.
    pub model: String,
}

impl OnlinePaths {
    /// Grok: `online/<M>/<tag>_<M>_<V>_online/`, CSV `<tag>_<M>_<V>_online.csv`,
    /// `server_output_aiter.log`, `sglang_client_log_<M>_gsm8k_aiter.log`.
    pub fn grok(output_dir: &Path, tag: &str, model: &str, variant: &str) -> Self {
        let model_dir = output_dir.join("online").join(model);
        let stem = format!("{tag}_{model}_{variant}_online");
        let folder = model_dir.join(&stem);
        Self {
            layout: Layout::Grok,
            csv: folder.join(format!("{stem}.csv")),
            server_log: folder.join("server_output_aiter.log"),
            gsm8k_log: folder.join(format!("sglang_client_log_{model}_gsm8k_aiter.log")),
            folder,
            model_dir,
            model: model.to_owned(),
        }
    }

    /// DeepSeek: `online/<M>/<tag>_<M>_<V>_online<suffix>/`, CSV
    /// `<tag>_<M>_<V>_serving<suffix>.csv`, `sglang_server.log`,
    /// `sglang_client_log_<M>_gsm8k.log`. `suffix` is `""`, `_dp_attention`, … (§5.4).
    pub fn deepseek(
        output_dir: &Path,
        tag: &str,
        model: &str,
        variant: &str,
        suffix: &str,
    ) -> Self {
        let model_dir = output_dir.join("online").join(model);
        let folder = model_dir.join(format!("{tag}_{model}_{variant}_online{suffix}"));
        Self {
            layout: Layout::DeepSeek,
            csv: folder.join(format!("{tag}_{model}_{variant}_serving{suffix}.csv")),
            server_log: folder.join("sglang_server.log"),
            gsm8k_log: folder.join(format!("sglang_client_log_{model}_gsm8k.log")),
            folder,
            model_dir,
            model: model.to_owned(),
        }
    }

    /// The timing summary of an invocation started at `stamp` (`YYYYMMDD_HHMMSS`).
    pub fn timing_summary(&self, stamp: &str) -> PathBuf {
        self.folder.join(format!("timing_summary_{stamp}.log"))
    }

    /// A timing summary for an invocation started at `stamp` that does not exist yet: two
    /// invocations within one second get `timing_summary_<stamp>_2.log`, … (never overwrite
    /// an earlier invocation's summary).
    pub fn new_timing_summary(&self, stamp: &str) -> PathBuf {
        let mut p = self.timing_summary(stamp);
        let mut k = 2;
        while p.exists() {
            p = self.folder.join(format!("timing_summary_{stamp}_{k}.log"));
            k += 1;
        }
        p
    }

    /// The file-name prefix of load `load`, run `run` (the original's glob without `*.log`).
    pub fn client_log_prefix(&self, load: &str, run: u32) -> String {
        match self.layout {
            Layout::Grok => format!("sglang_client_log_{}_aiter_{load}_run{run}_", self.model),
            Layout::DeepSeek => format!("sglang_serving_benchmark_concurrency_{load}_run{run}_"),
        }
    }

    /// A new client log of `load`/`run` with the invocation's (Grok) or the load's
    /// (DeepSeek) timestamp.
    pub fn client_log(&self, load: &str, run: u32, stamp: &str) -> PathBuf {
        self.folder
            .join(format!("{}{stamp}.log", self.client_log_prefix(load, run)))
    }
}

/// The DeepSeek mode switches and what they imply (spec §5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, clap::Args)]
pub struct DeepSeekMode {
    /// `--check-dp-attention`.
    #[arg(
        help_heading = crate::flags::heading::ORIGINAL,
        long = "check-dp-attention",
        help = "DeepSeek: DP-attention server; GSM8K only unless --enable-dp-test. Folder \
                suffix `_dp_attention`"
    )]
    pub dp_attention: bool,
    /// `--enable-torch-compile`.
    #[arg(
        help_heading = crate::flags::heading::ORIGINAL,
        long = "enable-torch-compile",
        help = "DeepSeek: add --enable-torch-compile to the server; GSM8K only unless \
                --enable-dp-test. Folder suffix `_torch_compile`"
    )]
    pub torch_compile: bool,
    /// `--enable-mtp-test`.
    #[arg(
        help_heading = crate::flags::heading::ORIGINAL,
        long = "enable-mtp-test",
        help = "DeepSeek: one run per concurrency and, on mi35x with DeepSeek-R1-MXFP4-Preview, \
                the MTP artifacts. Folder suffix `_mtp_test`"
    )]
    pub mtp_test: bool,
    /// `--enable-dp-test`.
    #[arg(
        help_heading = crate::flags::heading::ORIGINAL,
        long = "enable-dp-test",
        help = "DeepSeek: serving benchmark on the DP-attention server (implies \
                --check-dp-attention), one run per concurrency"
    )]
    pub dp_test: bool,
}

impl DeepSeekMode {
    /// Folder/CSV suffix after `online`/`serving`: `_dp_attention` → `_torch_compile` →
    /// `_mtp_test`. With fix F-33, `--enable-dp-test` implies DP attention, so the DP test
    /// always writes to `…_online_dp_attention[_mtp_test]` (as the orchestrator's runs did).
    pub fn suffix(&self) -> String {
        let mut s = String::new();
        if self.dp_server() {
            s.push_str("_dp_attention");
        }
        if self.torch_compile {
            s.push_str("_torch_compile");
        }
        if self.mtp_test {
            s.push_str("_mtp_test");
        }
        s
    }

    /// The DP-attention server runs (`--check-dp-attention`, or `--enable-dp-test`: F-33).
    pub fn dp_server(&self) -> bool {
        self.dp_attention || self.dp_test
    }

    /// The serving benchmark runs: with `--enable-dp-test`, or when neither DP attention nor
    /// torch compile is set.
    pub fn serving(&self) -> bool {
        self.dp_test || !(self.dp_attention || self.torch_compile)
    }

    /// Mode description of the console and timing lines (quirk K-7).
    pub fn description(&self) -> &'static str {
        if self.dp_test {
            "DP test"
        } else if self.dp_attention && self.torch_compile {
            "DP attention torch compile"
        } else if self.dp_attention {
            "DP attention"
        } else if self.torch_compile {
            "torch compile"
        } else {
            "standard"
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grok_names_match_the_corpus() {
        let p = OnlinePaths::grok(
            Path::new("/ci"),
            "v0.5.4.post1-rocm630-mi30x-20251029",
            "GROK1",
            "MOE-I4F8",
        );
        assert_eq!(
            p.folder,
            Path::new("/ci/online/GROK1/v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online")
        );
        assert_eq!(
            p.csv.file_name().unwrap(),
            "v0.5.4.post1-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online.csv"
        );
        assert_eq!(
            p.client_log("16", 3, "20251029_115445")
                .file_name()
                .unwrap(),
            "sglang_client_log_GROK1_aiter_16_run3_20251029_115445.log"
        );
        assert_eq!(
            p.gsm8k_log.file_name().unwrap(),
            "sglang_client_log_GROK1_gsm8k_aiter.log"
        );
        assert_eq!(p.server_log.file_name().unwrap(), "server_output_aiter.log");
        assert_eq!(
            p.timing_summary("20251029_114542").file_name().unwrap(),
            "timing_summary_20251029_114542.log"
        );
    }

    #[test]
    fn deepseek_suffixes_in_every_mode() {
        let m = |dp, tc, mtp, dpt| DeepSeekMode {
            dp_attention: dp,
            torch_compile: tc,
            mtp_test: mtp,
            dp_test: dpt,
        };
        let cases = [
            (m(false, false, false, false), "", true, "standard"),
            (
                m(true, false, false, false),
                "_dp_attention",
                false,
                "DP attention",
            ),
            (
                m(false, true, false, false),
                "_torch_compile",
                false,
                "torch compile",
            ),
            (
                m(true, true, false, false),
                "_dp_attention_torch_compile",
                false,
                "DP attention torch compile",
            ),
            (m(false, false, true, false), "_mtp_test", true, "standard"),
            (
                m(true, false, false, true),
                "_dp_attention",
                true,
                "DP test",
            ),
            (
                m(true, false, true, true),
                "_dp_attention_mtp_test",
                true,
                "DP test",
            ),
            // F-33: the DP test alone implies the DP-attention server and its folder.
            (
                m(false, false, false, true),
                "_dp_attention",
                true,
                "DP test",
            ),
        ];
        for (mode, suffix, serving, desc) in cases {
            assert_eq!(mode.suffix(), suffix, "{mode:?}");
            assert_eq!(mode.serving(), serving, "{mode:?}");
            assert_eq!(mode.description(), desc, "{mode:?}");
        }
        let p = OnlinePaths::deepseek(
            Path::new("/ci"),
            "T",
            "DeepSeek-V3-0324",
            "FP8",
            "_dp_attention_mtp_test",
        );
        assert_eq!(
            p.folder.file_name().unwrap(),
            "T_DeepSeek-V3-0324_FP8_online_dp_attention_mtp_test"
        );
        assert_eq!(
            p.csv.file_name().unwrap(),
            "T_DeepSeek-V3-0324_FP8_serving_dp_attention_mtp_test.csv"
        );
        assert_eq!(
            p.client_log("128", 1, "20251029_152300")
                .file_name()
                .unwrap(),
            "sglang_serving_benchmark_concurrency_128_run1_20251029_152300.log"
        );
        assert_eq!(
            p.gsm8k_log.file_name().unwrap(),
            "sglang_client_log_DeepSeek-V3-0324_gsm8k.log"
        );
    }
}
