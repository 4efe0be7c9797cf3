//! Prompts for the serving benchmark: bench_serving's `random` and `random-ids` datasets.
//!
//! Lengths follow sglang 0.5.9: input ~ uniform integer in `[max(int(I*ratio), 1), I]` minus
//! the special tokens the tokenizer adds (the server adds them back), output ~ uniform in
//! `[max(int(O*ratio), 1), O]`. `random` takes its text from a ShareGPT file when
//! `--dataset-path` is given (first turn of each conversation, shuffled, cut or repeated to
//! length, as bench_serving does) and from built-in English-like text otherwise, so no download
//! is ever needed. `random-ids` uses consecutive token ids from a random offset.

use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::BenchError;
use crate::rng::Rng;
use crate::tokens::Tokenizer;

/// One request of the dataset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// Prompt text sent to the server.
    pub prompt: String,
    /// Planned prompt length in tokens (bench_serving's `prompt_len`).
    pub prompt_len: usize,
    /// Requested output length (`max_new_tokens` / `max_tokens`).
    pub output_len: usize,
}

/// The dataset kinds sglang-bench generates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum DatasetName {
    /// Random lengths, text from ShareGPT (`--dataset-path`) or built-in text.
    Random,
    /// Random lengths, consecutive token ids from a random offset.
    RandomIds,
}

impl DatasetName {
    /// The name as bench_serving spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Random => "random",
            Self::RandomIds => "random-ids",
        }
    }
}

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Dataset kind.
    pub name: DatasetName,
    /// `--random-input-len`.
    pub input_len: usize,
    /// `--random-output-len`.
    pub output_len: usize,
    /// `--random-range-ratio`.
    pub range_ratio: f64,
    /// `--num-prompts`.
    pub num_prompts: usize,
    /// `--seed`.
    pub seed: u64,
    /// `--dataset-path` (ShareGPT JSON) for `random`.
    pub dataset_path: Option<PathBuf>,
}

const WORDS: &[&str] = &[
    "the", "of", "and", "to", "in", "is", "was", "that", "for", "on", "with", "as", "by", "at",
    "from", "this", "are", "be", "or", "an", "which", "one", "had", "not", "but", "all", "were",
    "when", "there", "can", "more", "many", "time", "some", "these", "would", "other", "into",
    "has", "two", "water", "people", "number", "long", "first", "apples", "money", "bought",
    "each", "week", "dollars", "total", "hours", "store", "price", "books", "miles", "students",
    "garden", "friends", "minutes", "cookies", "half", "three", "four", "five", "day", "school",
];

/// Generates `spec.num_prompts` rows, reproducibly from `spec.seed`.
pub fn generate(spec: &Spec, tok: &Tokenizer) -> Result<Vec<Row>, BenchError> {
    let mut rng = Rng::new(spec.seed);
    let n = spec.num_prompts;
    let in_lo = ((spec.input_len as f64 * spec.range_ratio) as usize).max(1);
    let out_lo = ((spec.output_len as f64 * spec.range_ratio) as usize).max(1);
    let special = tok.num_special_tokens_to_add();
    let input_lens: Vec<usize> = (0..n)
        .map(|_| {
            let l = rng.range_inclusive(in_lo.min(spec.input_len) as u64, spec.input_len as u64)
                as usize;
            l.saturating_sub(special).max(1)
        })
        .collect();
    let output_lens: Vec<usize> = (0..n)
        .map(|_| {
            rng.range_inclusive(out_lo.min(spec.output_len) as u64, spec.output_len as u64) as usize
        })
        .collect();
    let mut rows = Vec::with_capacity(n);
    match spec.name {
        DatasetName::RandomIds => {
            let (start, vocab) = tok.id_range();
            for i in 0..n {
                let offset = rng.range_inclusive(0, u64::from(vocab) - 1) as u32;
                let ids: Vec<u32> = (0..input_lens[i] as u32)
                    .map(|j| start + (offset.wrapping_add(i as u32).wrapping_add(j)) % vocab)
                    .collect();
                rows.push(Row {
                    prompt: tok.decode(&ids),
                    prompt_len: input_lens[i],
                    output_len: output_lens[i],
                });
            }
        }
        DatasetName::Random => {
            let sources: Vec<Vec<u32>> = match &spec.dataset_path {
                Some(p) => {
                    let mut texts = load_sharegpt(p)?;
                    rng.shuffle(&mut texts);
                    texts
                        .iter()
                        .map(|t| tok.encode(t))
                        .filter(|ids| !ids.is_empty())
                        .collect()
                }
                None => {
                    let text: Vec<&str> = (0..8192)
                        .map(|_| WORDS[rng.range_inclusive(0, WORDS.len() as u64 - 1) as usize])
                        .collect();
                    vec![tok.encode(&text.join(" "))]
                }
            };
            if sources.is_empty() {
                return Err(BenchError::Input {
                    path: spec.dataset_path.clone().unwrap_or_default(),
                    message: "no conversation with a non-empty first turn".into(),
                });
            }
            for (i, &len) in input_lens.iter().enumerate() {
                let ids: Vec<u32> = if spec.dataset_path.is_some() {
                    let src = &sources[i % sources.len()];
                    src.iter().copied().cycle().take(len).collect()
                } else {
                    let src = &sources[0];
                    let off = rng.range_inclusive(0, src.len() as u64 - 1) as usize;
                    src.iter().copied().cycle().skip(off).take(len).collect()
                };
                let mut prompt = tok.decode(&ids);
                if matches!(tok, Tokenizer::Bytes) {
                    prompt = prompt.trim_start().to_string();
                    while prompt.len() < len {
                        prompt.push(' ');
                    }
                }
                rows.push(Row {
                    prompt,
                    prompt_len: len,
                    output_len: output_lens[i],
                });
            }
        }
    }
    Ok(rows)
}

#[derive(Deserialize)]
struct Conversation {
    #[serde(default)]
    conversations: Vec<Turn>,
}

#[derive(Deserialize)]
struct Turn {
    #[serde(default)]
    value: String,
}

/// First turns of a ShareGPT JSON list, dropping entries with fewer than two turns.
pub fn load_sharegpt(path: &Path) -> Result<Vec<String>, BenchError> {
    let text = std::fs::read(path).map_err(|e| BenchError::Input {
        path: path.to_path_buf(),
        message: format!("{e} (--dataset-path must be a ShareGPT JSON list)"),
    })?;
    let list: Vec<Conversation> = serde_json::from_slice(&text).map_err(|e| BenchError::Input {
        path: path.to_path_buf(),
        message: format!("not a ShareGPT JSON list: {e}"),
    })?;
    Ok(list
        .into_iter()
        .filter(|c| c.conversations.len() >= 2)
        .filter_map(|mut c| c.conversations.drain(..).next().map(|t| t.value))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn spec(name: DatasetName, ratio: f64) -> Spec {
        Spec {
            name,
            input_len: 100,
            output_len: 20,
            range_ratio: ratio,
            num_prompts: 50,
            seed: 1,
            dataset_path: None,
        }
    }

    #[test]
    fn byte_level_prompts_have_exactly_the_planned_length() {
        for name in [DatasetName::Random, DatasetName::RandomIds] {
            let rows = generate(&spec(name, 1.0), &Tokenizer::Bytes).unwrap();
            assert_eq!(rows.len(), 50);
            for r in &rows {
                assert_eq!(r.prompt_len, 100);
                assert_eq!(r.prompt.len(), 100, "{name:?}");
                assert_eq!(r.output_len, 20);
            }
        }
    }

    #[test]
    fn range_ratio_zero_spans_one_to_max_and_is_reproducible() {
        let a = generate(&spec(DatasetName::Random, 0.0), &Tokenizer::Bytes).unwrap();
        let b = generate(&spec(DatasetName::Random, 0.0), &Tokenizer::Bytes).unwrap();
        assert_eq!(a, b);
        assert!(
            a.iter()
                .all(|r| (1..=100).contains(&r.prompt_len) && (1..=20).contains(&r.output_len))
        );
        assert!(a.iter().any(|r| r.prompt_len < 50));
        assert_ne!(a[0].prompt, a[1].prompt);
    }

    #[test]
    fn sharegpt_file_drops_short_conversations() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("s.json");
        std::fs::write(
            &p,
            r#"[{"conversations":[{"from":"human","value":"Q1"},{"from":"gpt","value":"A"}]},{"conversations":[{"value":"only"}]}]"#,
        )
        .unwrap();
        assert_eq!(load_sharegpt(&p).unwrap(), ["Q1"]);
        let mut s = spec(DatasetName::Random, 1.0);
        s.dataset_path = Some(p);
        let rows = generate(&s, &Tokenizer::Bytes).unwrap();
        assert!(rows[0].prompt.starts_with("Q1Q1"));
    }
}
