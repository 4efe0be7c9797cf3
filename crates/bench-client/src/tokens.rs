//! Token counting: an HF `tokenizer.json` when one is given (`--tokenizer DIR`; the value
//! `builtin:bpe4k` is the test tokenizer compiled into the binary, [`crate::data`]), else the
//! built-in byte-level count (one token per UTF-8 byte). sglang-sim follows the same rule, so
//! both sides agree on lengths.

use std::path::{Path, PathBuf};

use crate::BenchError;

/// Counts, encodes and decodes tokens.
pub enum Tokenizer {
    /// One token per UTF-8 byte; ids are the byte values.
    Bytes,
    /// A Hugging Face tokenizer loaded from `tokenizer.json`.
    Hf(Box<tokenizers::Tokenizer>),
}

impl std::fmt::Debug for Tokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.describe())
    }
}

impl Tokenizer {
    /// Loads `path`: a directory holding `tokenizer.json`, the file itself, or
    /// [`crate::data::BUILTIN_BPE4K`] for the built-in test tokenizer.
    pub fn load(path: &Path) -> Result<Self, BenchError> {
        if path.as_os_str() == crate::data::BUILTIN_BPE4K {
            return Self::bpe4k();
        }
        let file: PathBuf = if path.is_dir() {
            path.join("tokenizer.json")
        } else {
            path.to_path_buf()
        };
        let tok = tokenizers::Tokenizer::from_file(&file).map_err(|e| BenchError::Input {
            path: file.clone(),
            message: format!(
                "{e} (pass --tokenizer a directory holding an HF tokenizer.json, or omit it for the built-in byte-level count)"
            ),
        })?;
        Ok(Self::Hf(Box::new(tok)))
    }

    /// The built-in test tokenizer (`builtin:bpe4k`).
    pub fn bpe4k() -> Result<Self, BenchError> {
        let tok = crate::data::bpe4k().map_err(|message| BenchError::Input {
            path: PathBuf::from(crate::data::BUILTIN_BPE4K),
            message,
        })?;
        Ok(Self::Hf(Box::new(tok)))
    }

    /// `--tokenizer` when given; else `model` when it is a directory holding `tokenizer.json`
    /// (bench_serving falls back to the model id the same way); else the byte-level count.
    pub fn resolve(tokenizer: Option<&Path>, model: Option<&str>) -> Result<Self, BenchError> {
        if let Some(p) = tokenizer {
            return Self::load(p);
        }
        if let Some(m) = model {
            let p = Path::new(m);
            if p.join("tokenizer.json").is_file() {
                return Self::load(p);
            }
        }
        Ok(Self::Bytes)
    }

    /// A short description for logs and the JSON result.
    pub fn describe(&self) -> &'static str {
        match self {
            Self::Bytes => "built-in byte-level count (1 token per UTF-8 byte)",
            Self::Hf(_) => "HF tokenizer.json",
        }
    }

    /// Token ids of `text` without special tokens.
    pub fn encode(&self, text: &str) -> Vec<u32> {
        match self {
            Self::Bytes => text.bytes().map(u32::from).collect(),
            Self::Hf(t) => t
                .encode_fast(text, false)
                .map(|e| e.get_ids().to_vec())
                .unwrap_or_default(),
        }
    }

    /// Number of tokens of `text` without special tokens
    /// (`len(tokenizer.encode(text, add_special_tokens=False))`).
    pub fn count(&self, text: &str) -> usize {
        match self {
            Self::Bytes => text.len(),
            Self::Hf(_) => self.encode(text).len(),
        }
    }

    /// Text of `ids` (special tokens kept, as bench_serving decodes prompts).
    pub fn decode(&self, ids: &[u32]) -> String {
        match self {
            Self::Bytes => {
                let bytes: Vec<u8> = ids.iter().map(|&i| (i & 0xff) as u8).collect();
                String::from_utf8_lossy(&bytes).into_owned()
            }
            Self::Hf(t) => t.decode(ids, false).unwrap_or_default(),
        }
    }

    /// Ids usable for `random-ids` prompts: `(start, count)`. Byte-level: printable ASCII
    /// (32..127) so decoded prompts stay valid one-byte text; HF: the whole base vocabulary.
    pub fn id_range(&self) -> (u32, u32) {
        match self {
            Self::Bytes => (32, 95),
            Self::Hf(t) => (0, t.get_vocab_size(false).max(1) as u32),
        }
    }

    /// Number of special tokens the tokenizer adds to a single sequence (BOS: 1 for the test
    /// tokenizer; 0 for the byte-level count).
    pub fn num_special_tokens_to_add(&self) -> usize {
        match self {
            Self::Bytes => 0,
            Self::Hf(t) => {
                let with = t.encode_fast("a", true).map(|e| e.len()).unwrap_or(0);
                let without = t.encode_fast("a", false).map(|e| e.len()).unwrap_or(0);
                with.saturating_sub(without)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The embedded test tokenizer written to a folder, as a user would pass one.
    fn test_tokenizer_dir() -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("tokenizer.json"),
            crate::data::TOKENIZER_BPE4K_JSON,
        )
        .unwrap();
        dir
    }

    #[test]
    fn byte_level_counts_utf8_bytes() {
        let t = Tokenizer::Bytes;
        assert_eq!(t.count("a’b"), 5);
        assert_eq!(t.decode(&t.encode("hello")), "hello");
        assert_eq!(t.num_special_tokens_to_add(), 0);
    }

    #[test]
    fn hf_tokenizer_loads_and_round_trips() {
        let dir = test_tokenizer_dir();
        let t = Tokenizer::load(dir.path()).unwrap();
        let ids = t.encode(" the the the");
        assert_eq!(ids.len(), 3);
        assert_eq!(t.decode(&ids), " the the the");
        assert_eq!(t.num_special_tokens_to_add(), 1);
        assert!(t.id_range().1 >= 4096);
    }

    #[test]
    fn builtin_name_gives_the_same_tokenizer_as_its_file() {
        let dir = test_tokenizer_dir();
        let file = Tokenizer::load(&dir.path().join("tokenizer.json")).unwrap();
        let builtin = Tokenizer::resolve(Some(Path::new("builtin:bpe4k")), None).unwrap();
        let text = "Janet’s ducks lay 16 eggs per day.";
        assert_eq!(builtin.encode(text), file.encode(text));
        assert_eq!(builtin.num_special_tokens_to_add(), 1);
        // Any other name is a path, and a missing one is an error naming the flag.
        let e = Tokenizer::load(Path::new("builtin:nope")).unwrap_err();
        assert!(e.to_string().contains("--tokenizer"), "{e}");
    }

    #[test]
    fn missing_tokenizer_names_the_flag() {
        let e = Tokenizer::load(Path::new("/nonexistent/tok")).unwrap_err();
        assert!(e.to_string().contains("--tokenizer"), "{e}");
    }
}
