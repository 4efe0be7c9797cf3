//! The DeepSeek model flags both DeepSeek binaries (`deepseek-perf-online`,
//! `deepseek-perf-offline`) document alike, defined once. `--download-model` stays with each
//! binary: the offline one also checks free space first.

use sglang_runner::config::DeepSeekModelOptions;

/// `--model-name` and `--hf-model-id` of the DeepSeek binaries.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct DeepSeekModelArgs {
    /// `<MODEL_NAME>` of folders and files [env: DEFAULT_MODEL_NAME] [default:
    /// DeepSeek-V3-0324].
    #[arg(long, value_name = "NAME")]
    pub model_name: Option<String>,

    /// HuggingFace id for --download-model [env: DEFAULT_HF_MODEL_ID] [default:
    /// deepseek-ai/DeepSeek-V3-0324].
    #[arg(long, value_name = "ID")]
    pub hf_model_id: Option<String>,
}

impl DeepSeekModelArgs {
    /// The runner's model options, with `--download-model`.
    pub fn options(&self, download_model: bool) -> DeepSeekModelOptions {
        DeepSeekModelOptions {
            model_name: self.model_name.clone(),
            hf_model_id: self.hf_model_id.clone(),
            download_model,
        }
    }
}
