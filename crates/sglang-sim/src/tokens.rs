//! Token counting and output text.
//!
//! With an HF `tokenizer.json` (`--tokenizer-path DIR`, or `builtin:bpe4k` for the test
//! tokenizer compiled into the binary, [`bench_client::data`]) prompt
//! lengths are exact token counts with the special tokens the tokenizer adds (BOS), as a real
//! server counts them, and the filler output is made of words that are single tokens of that
//! vocabulary, so a client that re-encodes the generated text with the same tokenizer gets
//! exactly the reported number of tokens. Without one, a built-in byte-level count is used:
//! one token per UTF-8 byte, the counts the untrained byte-level BPE of
//! spec/peer-clients.md §3 gives.

use std::path::{Path, PathBuf};

use crate::SimError;

/// Words tried as filler output, in this order; each must be one token of the vocabulary.
const FILLER_CANDIDATES: &[&str] = &[
    " the", " of", " and", " to", " in", " is", " a", " that", " it", " was", " for", " on",
    " are", " with", " as", " be", " at", " by", " this", " from",
];

/// Filler text of the byte-level count (one token per byte).
const BYTE_FILLER: &str = " simulated output text";

/// Counts tokens and splits generated text into tokens.
pub struct TokenCounter {
    kind: Kind,
    filler: Vec<(String, u32)>,
    description: String,
}

enum Kind {
    Hf(Box<tokenizers::Tokenizer>),
    Bytes,
}

impl std::fmt::Debug for TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.description)
    }
}

impl TokenCounter {
    /// The built-in byte-level count.
    pub fn bytes() -> Self {
        TokenCounter {
            kind: Kind::Bytes,
            filler: BYTE_FILLER
                .bytes()
                .map(|b| ((b as char).to_string(), u32::from(b)))
                .collect(),
            description: "built-in byte-level count (1 token per UTF-8 byte)".into(),
        }
    }

    /// Loads `path` (a directory holding `tokenizer.json`, the file itself, or
    /// `builtin:bpe4k` for the built-in test tokenizer). A path that does not exist or a
    /// directory without `tokenizer.json` gives the byte-level count (model and tokenizer
    /// paths of production runs need not exist here); a file that exists but cannot be parsed
    /// is an error.
    pub fn load(path: Option<&str>) -> Result<Self, SimError> {
        let Some(path) = path else {
            return Ok(Self::bytes());
        };
        if path == bench_client::data::BUILTIN_BPE4K {
            let tok = bench_client::data::bpe4k().map_err(|message| SimError::Tokenizer {
                path: PathBuf::from(path),
                message,
            })?;
            return Self::from_hf(
                tok,
                PathBuf::from(path),
                format!("built-in test tokenizer {path}"),
            );
        }
        let p = Path::new(path);
        let file: PathBuf = if p.is_dir() {
            p.join("tokenizer.json")
        } else {
            p.to_path_buf()
        };
        if !file.is_file() || file.extension().is_none_or(|e| e != "json") {
            let mut c = Self::bytes();
            c.description = format!("{} ({path} has no tokenizer.json)", c.description);
            return Ok(c);
        }
        let tok = tokenizers::Tokenizer::from_file(&file).map_err(|e| SimError::Tokenizer {
            path: file.clone(),
            message: e.to_string(),
        })?;
        let description = format!("tokenizer {}", file.display());
        Self::from_hf(tok, file, description)
    }

    /// A counter over a parsed HF tokenizer; `file` names it in errors.
    fn from_hf(
        tok: tokenizers::Tokenizer,
        file: PathBuf,
        description: String,
    ) -> Result<Self, SimError> {
        let mut filler = Vec::new();
        for w in FILLER_CANDIDATES {
            if let Ok(enc) = tok.encode_fast(*w, false)
                && enc.get_ids().len() == 1
                && tok.decode(enc.get_ids(), false).is_ok_and(|d| d == *w)
            {
                filler.push(((*w).to_string(), enc.get_ids()[0]));
            }
        }
        // The words must not merge with each other when re-encoded.
        let joined: String = filler
            .iter()
            .chain(filler.iter())
            .map(|(w, _)| w.as_str())
            .collect();
        let ok = !filler.is_empty()
            && tok
                .encode_fast(joined.as_str(), false)
                .is_ok_and(|e| e.get_ids().len() == 2 * filler.len());
        let counter = TokenCounter {
            kind: Kind::Hf(Box::new(tok)),
            filler: if ok { filler } else { Vec::new() },
            description,
        };
        if counter.filler.is_empty() {
            return Err(SimError::Tokenizer {
                path: file,
                message: "no single-token filler word (\" the\", \" of\", ...) in its vocabulary"
                    .into(),
            });
        }
        Ok(counter)
    }

    /// What counts tokens, for the log.
    pub fn describe(&self) -> &str {
        &self.description
    }

    /// Prompt length as the server reports it (`prompt_tokens`): with the special tokens the
    /// tokenizer adds.
    pub fn count_prompt(&self, text: &str) -> usize {
        match &self.kind {
            Kind::Hf(t) => t
                .encode_fast(text, true)
                .map_or(text.len(), |e| e.get_ids().len()),
            Kind::Bytes => text.len(),
        }
    }

    /// Prompt token ids with special tokens (for `return_logprob`).
    pub fn prompt_ids(&self, text: &str) -> Vec<u32> {
        match &self.kind {
            Kind::Hf(t) => t
                .encode_fast(text, true)
                .map_or_else(|_| byte_tokens(text).1, |e| e.get_ids().to_vec()),
            Kind::Bytes => byte_tokens(text).1,
        }
    }

    /// Splits generated text into tokens: byte end offsets and ids (no special tokens).
    pub fn tokenize(&self, text: &str) -> (Vec<u32>, Vec<u32>) {
        match &self.kind {
            Kind::Hf(t) => match t.encode(text, false) {
                Ok(enc) => {
                    let mut ends = Vec::with_capacity(enc.len());
                    let mut last = 0u32;
                    for (_, end) in enc.get_offsets() {
                        last = last.max(*end as u32);
                        ends.push(last);
                    }
                    if let Some(e) = ends.last_mut() {
                        *e = text.len() as u32;
                    }
                    (ends, enc.get_ids().to_vec())
                }
                Err(_) => byte_tokens(text),
            },
            Kind::Bytes => byte_tokens(text),
        }
    }

    /// `n` tokens of filler output: text, byte end offsets, ids.
    pub fn filler(&self, n: usize) -> (String, Vec<u32>, Vec<u32>) {
        let mut text = String::with_capacity(n * 4);
        let mut ends = Vec::with_capacity(n);
        let mut ids = Vec::with_capacity(n);
        for i in 0..n {
            let (w, id) = &self.filler[i % self.filler.len()];
            text.push_str(w);
            ends.push(text.len() as u32);
            ids.push(*id);
        }
        (text, ends, ids)
    }
}

fn byte_tokens(text: &str) -> (Vec<u32>, Vec<u32>) {
    (
        (1..=text.len() as u32).collect(),
        text.bytes().map(u32::from).collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded test tokenizer written to a folder, as a user would pass one.
    fn bpe4k_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tokenizer.json"),
            bench_client::data::TOKENIZER_BPE4K_JSON,
        )
        .unwrap();
        dir
    }

    fn bpe4k() -> String {
        bench_client::data::BUILTIN_BPE4K.to_string()
    }

    #[test]
    fn builtin_tokenizer_counts_like_its_file() {
        let dir = bpe4k_dir();
        let file = TokenCounter::load(dir.path().to_str()).unwrap();
        let builtin = TokenCounter::load(Some("builtin:bpe4k")).unwrap();
        assert!(builtin.describe().contains("built-in"), "{builtin:?}");
        let s = "Natalia sold clips to 48 of her friends in April";
        assert_eq!(builtin.prompt_ids(s), file.prompt_ids(s));
        assert_eq!(builtin.filler(7), file.filler(7));
    }

    #[test]
    fn byte_level_counts_utf8_bytes() {
        let c = TokenCounter::bytes();
        assert_eq!(c.count_prompt("abc"), 3);
        assert_eq!(c.count_prompt("Janet’s"), 9);
        let (t, ends, ids) = c.filler(5);
        assert_eq!(t.len(), 5);
        assert_eq!(ends, [1, 2, 3, 4, 5]);
        assert_eq!(ids.len(), 5);
    }

    #[test]
    fn missing_paths_fall_back_to_bytes_but_bad_files_fail() {
        let c = TokenCounter::load(Some("/no/such/model/dir")).unwrap();
        assert!(c.describe().contains("byte-level"));
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("tokenizer.json"), "{not json").unwrap();
        let err = TokenCounter::load(dir.path().to_str()).unwrap_err();
        assert!(err.to_string().contains("tokenizer.json"), "{err}");
    }

    #[test]
    fn bpe_counts_include_bos_and_filler_reencodes_exactly() {
        let c = TokenCounter::load(Some(&bpe4k())).unwrap();
        // BOS is added, like Llama-3 style tokenizers.
        assert_eq!(c.count_prompt(""), 1);
        assert!(c.count_prompt("Natalia sold clips to 48 of her friends in April") < 20);
        let (text, ends, ids) = c.filler(300);
        assert_eq!(ends.len(), 300);
        assert_eq!(*ends.last().unwrap() as usize, text.len());
        let (ends2, ids2) = c.tokenize(&text);
        assert_eq!(ids2, ids, "filler must re-encode to the same tokens");
        assert_eq!(ends2, ends);
    }

    #[test]
    fn tokenize_ends_are_monotonic_and_cover_the_text() {
        let c = TokenCounter::load(Some(&bpe4k())).unwrap();
        let s = "Janet’s ducks lay 16 eggs per day. ＃ 12,345";
        let (ends, ids) = c.tokenize(s);
        assert_eq!(ends.len(), ids.len());
        assert!(ends.windows(2).all(|w| w[0] <= w[1]));
        assert_eq!(*ends.last().unwrap() as usize, s.len());
    }
}
