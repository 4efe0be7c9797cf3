//! Data compiled into the binaries (files under `crates/bench-client/data/`, see its README), so
//! a binary installed on a GPU node needs no file of the build machine: the GSM8K test set
//! (the default of `sglang-bench gsm8k`, the benchmarks' native GSM8K client and sglang-sim's
//! oracle) and the small test tokenizer (`builtin:bpe4k`). sglang-sim uses them from here.

/// The GSM8K test split (openai/grade-school-math, MIT): 1319 JSON lines with `question` and
/// `answer`.
pub const GSM8K_TEST_JSONL: &str = include_str!("../data/gsm8k/test.jsonl");

/// How the built-in GSM8K test set is named in logs and messages (it has no path).
pub const GSM8K_BUILTIN_NAME: &str =
    "built-in GSM8K test set (openai/grade-school-math test split, 1319 problems)";

/// The value of `--tokenizer` (sglang-bench) and `--tokenizer-path` (sglang-sim) that selects
/// the built-in test tokenizer.
pub const BUILTIN_BPE4K: &str = "builtin:bpe4k";

/// `tokenizer.json` of the test tokenizer: byte-level BPE, 4096 tokens + BOS/EOS/EOT, trained on
/// the GSM8K questions and answers; adds BOS like Llama-3.
pub const TOKENIZER_BPE4K_JSON: &[u8] = include_bytes!("../data/tokenizer-bpe4k/tokenizer.json");

/// The built-in test tokenizer, parsed.
pub fn bpe4k() -> Result<tokenizers::Tokenizer, String> {
    tokenizers::Tokenizer::from_bytes(TOKENIZER_BPE4K_JSON).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_files_are_whole() {
        assert_eq!(GSM8K_TEST_JSONL.lines().count(), 1319);
        let t = bpe4k().unwrap();
        assert_eq!(t.get_vocab_size(true), 4096 + 3);
    }
}
