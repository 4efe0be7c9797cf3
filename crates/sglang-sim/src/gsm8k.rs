//! The GSM8K oracle: answers few-shot GSM8K prompts with a configured accuracy.
//!
//! For a prompt whose last block is `Question: <q>\nAnswer:` and whose `<q>` is in the test
//! set, the answer is the reference solution (calculator annotations and `#### N` included,
//! the way few-shot prompting makes a model answer), followed by `\n\nQuestion: <next>` so that
//! the clients' stop string `Question` cuts it. Whether question `i` is answered correctly is a
//! fixed function of `--seed` and `i` (like a model at temperature 0), true with probability
//! `--sim-gsm8k-accuracy`; a wrong answer keeps the reasoning and ends with a plausible wrong
//! number.

use std::collections::HashMap;
use std::path::Path;

use crate::SimError;
use crate::rng::{mix, unit};

/// One test item.
#[derive(Debug, Clone)]
struct Item {
    question: String,
    answer: String,
}

/// The oracle.
#[derive(Debug)]
pub struct Gsm8kOracle {
    items: Vec<Item>,
    index: HashMap<String, usize>,
    accuracy: f64,
    seed: u64,
}

impl Gsm8kOracle {
    /// Reads a GSM8K jsonl (`question`, `answer` per line; lines starting with `#` skipped).
    pub fn load(path: &Path, accuracy: f64, seed: u64) -> Result<Self, SimError> {
        let text = std::fs::read_to_string(path).map_err(|e| SimError::Gsm8kData {
            path: path.to_path_buf(),
            message: e.to_string(),
        })?;
        Self::parse(&text, path, accuracy, seed)
    }

    /// The built-in GSM8K test split (compiled into the binary, [`bench_client::data`]): the
    /// oracle's test set when no file is given.
    pub fn builtin(accuracy: f64, seed: u64) -> Result<Self, SimError> {
        Self::parse(
            bench_client::data::GSM8K_TEST_JSONL,
            Path::new(bench_client::data::GSM8K_BUILTIN_NAME),
            accuracy,
            seed,
        )
    }

    /// `path` when given, else [`Self::builtin`]; also says where the questions came from.
    pub fn load_or_builtin(
        path: Option<&Path>,
        accuracy: f64,
        seed: u64,
    ) -> Result<(Self, String), SimError> {
        match path {
            Some(p) => Ok((Self::load(p, accuracy, seed)?, p.display().to_string())),
            None => Ok((
                Self::builtin(accuracy, seed)?,
                bench_client::data::GSM8K_BUILTIN_NAME.to_string(),
            )),
        }
    }

    fn parse(text: &str, path: &Path, accuracy: f64, seed: u64) -> Result<Self, SimError> {
        let mut items = Vec::new();
        for (n, line) in text.lines().enumerate() {
            let line = line.trim();
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let v: serde_json::Value =
                serde_json::from_str(line).map_err(|e| SimError::Gsm8kData {
                    path: path.to_path_buf(),
                    message: format!("line {}: {e}", n + 1),
                })?;
            let (Some(q), Some(a)) = (v["question"].as_str(), v["answer"].as_str()) else {
                return Err(SimError::Gsm8kData {
                    path: path.to_path_buf(),
                    message: format!("line {}: needs string fields question and answer", n + 1),
                });
            };
            items.push(Item {
                question: q.to_string(),
                answer: a.to_string(),
            });
        }
        Ok(Self::from_items(items, accuracy, seed))
    }

    fn from_items(items: Vec<Item>, accuracy: f64, seed: u64) -> Self {
        let mut index = HashMap::new();
        for (i, it) in items.iter().enumerate() {
            index.entry(normalize(&it.question)).or_insert(i);
        }
        Gsm8kOracle {
            items,
            index,
            accuracy,
            seed,
        }
    }

    /// Number of questions loaded.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    /// True when no question was loaded.
    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Whether test question `i` is answered correctly.
    pub fn is_correct(&self, i: usize) -> bool {
        unit(mix(self.seed ^ 0x6773_6d38_6b00_0000, i as u64)) < self.accuracy
    }

    /// The test index of the question a few-shot prompt ends with.
    pub fn question_index(&self, prompt: &str) -> Option<usize> {
        let start = prompt.rfind("Question:")?;
        let rest = prompt[start + "Question:".len()..].trim_end();
        let q = rest.strip_suffix("Answer:")?.trim();
        self.index.get(&normalize(q)).copied()
    }

    /// The model output for a prompt, or `None` when the prompt is not a GSM8K question.
    pub fn answer(&self, prompt: &str) -> Option<String> {
        let i = self.question_index(prompt)?;
        let item = &self.items[i];
        let body = if self.is_correct(i) {
            item.answer.clone()
        } else {
            wrong_answer(&item.answer, self.seed, i)
        };
        let next = &self.items[(i + 1) % self.items.len()].question;
        Some(format!(" {body}\n\nQuestion: {next}\nAnswer:"))
    }
}

fn normalize(s: &str) -> String {
    s.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The number GSM8K clients extract: commas removed, last run of digits.
pub fn extract_last_number(s: &str) -> Option<u64> {
    let s = s.replace(',', "");
    let mut last = None;
    let mut cur = String::new();
    for ch in s.chars().chain(std::iter::once(' ')) {
        if ch.is_ascii_digit() {
            cur.push(ch);
        } else if !cur.is_empty() {
            last = Some(std::mem::take(&mut cur));
        }
    }
    last.and_then(|d| d.parse().ok())
}

/// The reference solution with its final `#### N` replaced by a different number.
fn wrong_answer(answer: &str, seed: u64, i: usize) -> String {
    let label = extract_last_number(answer).unwrap_or(0);
    let spread = (label / 5).max(3);
    let delta = 1 + mix(seed ^ 0x7772_6f6e_6700_0000, i as u64) % spread;
    let wrong = if label > delta && mix(seed, i as u64).is_multiple_of(2) {
        label - delta
    } else {
        label + delta
    };
    match answer.rfind("####") {
        Some(p) => format!("{}#### {wrong}", &answer[..p]),
        None => format!("{answer}\n#### {wrong}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oracle(acc: f64) -> Gsm8kOracle {
        let items = (0..2000)
            .map(|i| Item {
                question: format!("How many apples does Ann have on day {i}?"),
                answer: format!(
                    "She has {i} + 1 = <<{i}+1={}>>{} apples.\n#### {}",
                    i + 1,
                    i + 1,
                    i + 1
                ),
            })
            .collect();
        Gsm8kOracle::from_items(items, acc, 42)
    }

    fn prompt(o: &Gsm8kOracle, i: usize) -> String {
        let shots: String = o.items[..3]
            .iter()
            .map(|it| format!("Question: {}\nAnswer: {}\n\n", it.question, it.answer))
            .collect();
        format!("{shots}Question: {}\nAnswer:", o.items[i].question)
    }

    #[test]
    fn finds_the_last_question_and_answers_with_the_reference() {
        let o = oracle(1.0);
        let p = prompt(&o, 17);
        assert_eq!(o.question_index(&p), Some(17));
        let a = o.answer(&p).unwrap();
        let visible = &a[..a.find("Question").unwrap()];
        assert_eq!(extract_last_number(visible), Some(18));
        assert!(o.answer("Tell me a story").is_none());
    }

    #[test]
    fn accuracy_follows_the_setting_and_wrong_answers_differ() {
        for acc in [0.95, 0.5] {
            let o = oracle(acc);
            let mut right = 0;
            for i in 0..o.len() {
                let a = o.answer(&prompt(&o, i)).unwrap();
                let visible = &a[..a.find("Question").unwrap()];
                let got = extract_last_number(visible).unwrap();
                assert_eq!(got == i as u64 + 1, o.is_correct(i), "question {i}");
                right += usize::from(got == i as u64 + 1);
            }
            let measured = right as f64 / o.len() as f64;
            let sigma = (acc * (1.0 - acc) / o.len() as f64).sqrt();
            assert!(
                (measured - acc).abs() < 4.0 * sigma,
                "acc {acc} measured {measured}"
            );
        }
    }

    #[test]
    fn extraction_matches_the_clients_rules() {
        assert_eq!(extract_last_number("#### 1,000"), Some(1000));
        assert_eq!(extract_last_number("costs $-3.5"), Some(5));
        assert_eq!(extract_last_number("none"), None);
    }

    #[test]
    fn builtin_test_set_is_the_default_and_a_file_overrides_it() {
        let (o, from) = Gsm8kOracle::load_or_builtin(None, 0.95, 1).unwrap();
        assert!(from.starts_with("built-in GSM8K"), "{from}");
        assert_eq!(o.len(), 1319);
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("one.jsonl");
        std::fs::write(&p, "{\"question\": \"q?\", \"answer\": \"#### 4\"}\n").unwrap();
        let (one, from) = Gsm8kOracle::load_or_builtin(Some(&p), 1.0, 1).unwrap();
        assert_eq!((one.len(), from), (1, p.display().to_string()));
        let e =
            Gsm8kOracle::load_or_builtin(Some(&dir.path().join("no.jsonl")), 1.0, 1).unwrap_err();
        assert!(e.to_string().contains("no.jsonl"), "{e}");
        let q0 = &o.items[0].question.clone();
        assert_eq!(
            o.question_index(&format!("Question: {q0}\nAnswer:")),
            Some(0)
        );
    }
}
