//! One command line of a plan: program, arguments, extra environment, working directory.
//! Executors run it; `--dry-run` and the client logs' `Executing:` lines display it.

use std::path::PathBuf;

use serde::Serialize;

/// A command to run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CommandSpec {
    /// Program (`python3`, or the absolute path of `sglang-sim` / `sglang-bench`).
    pub program: String,
    /// Arguments in order.
    pub args: Vec<String>,
    /// Environment variables set on top of the runner's own environment.
    pub env: Vec<(String, String)>,
    /// Working directory (`None`: the runner's).
    pub cwd: Option<PathBuf>,
    /// Indexes of arguments displayed inside literal double quotes (the original's
    /// `--tokenizer "<tok>"` in the Grok `Executing:` line).
    #[serde(skip)]
    quoted: Vec<usize>,
}

impl CommandSpec {
    /// A command running `program` with no arguments.
    pub fn new(program: impl Into<String>) -> Self {
        Self {
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            cwd: None,
            quoted: Vec::new(),
        }
    }

    /// Appends one argument.
    pub fn arg(mut self, a: impl Into<String>) -> Self {
        self.args.push(a.into());
        self
    }

    /// Appends arguments.
    pub fn args<I, S>(mut self, a: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.args.extend(a.into_iter().map(Into::into));
        self
    }

    /// Appends an argument that the display shows in double quotes.
    pub fn quoted_arg(mut self, a: impl Into<String>) -> Self {
        self.quoted.push(self.args.len());
        self.args.push(a.into());
        self
    }

    /// Adds an environment variable.
    pub fn env(mut self, k: impl Into<String>, v: impl Into<String>) -> Self {
        self.env.push((k.into(), v.into()));
        self
    }

    /// Sets the working directory.
    pub fn cwd(mut self, dir: impl Into<PathBuf>) -> Self {
        self.cwd = Some(dir.into());
        self
    }

    /// The command line as a user would type it (no environment): arguments with shell
    /// metacharacters in single quotes, the marked ones in double quotes.
    pub fn display(&self) -> String {
        let mut out = quote(&self.program);
        for (i, a) in self.args.iter().enumerate() {
            out.push(' ');
            if self.quoted.contains(&i) {
                out.push('"');
                out.push_str(a);
                out.push('"');
            } else {
                out.push_str(&quote(a));
            }
        }
        out
    }

    /// `K=V K2=V2 <display>` (the `--dry-run` form).
    pub fn display_with_env(&self) -> String {
        let mut out = String::new();
        for (k, v) in &self.env {
            out.push_str(k);
            out.push('=');
            out.push_str(&quote(v));
            out.push(' ');
        }
        out.push_str(&self.display());
        out
    }
}

/// Environment pairs of a command, owned.
pub fn env_pairs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
        .collect()
}

/// `K=V K2=V2`: environment pairs as the console and the dry run list them (unquoted).
pub fn env_text(env: &[(String, String)]) -> String {
    env.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Single-quotes `s` when it holds anything a shell would interpret.
pub fn quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./:=,+@%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

/// Splits `--sim-args`/`SGLCI_SIM_ARGS` text into words: whitespace separates, single and
/// double quotes group, a backslash escapes the next character. `Err` names an unclosed quote.
pub fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut cur = String::new();
    let mut in_word = false;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match c {
            '\'' | '"' => {
                in_word = true;
                let close = c;
                loop {
                    match chars.next() {
                        Some(x) if x == close => break,
                        Some('\\') if close == '"' => {
                            if let Some(n) = chars.next() {
                                cur.push(n);
                            }
                        }
                        Some(x) => cur.push(x),
                        None => return Err(format!("unclosed {close} quote in {text:?}")),
                    }
                }
            }
            '\\' => {
                in_word = true;
                if let Some(n) = chars.next() {
                    cur.push(n);
                }
            }
            c if c.is_whitespace() => {
                if in_word {
                    words.push(std::mem::take(&mut cur));
                    in_word = false;
                }
            }
            c => {
                in_word = true;
                cur.push(c);
            }
        }
    }
    if in_word {
        words.push(cur);
    }
    Ok(words)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grok_executing_line_keeps_the_literal_quotes() {
        let c = CommandSpec::new("python3")
            .args([
                "-m",
                "sglang.bench_serving",
                "--backend",
                "sglang",
                "--tokenizer",
            ])
            .quoted_arg("/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8")
            .args(["--dataset-name", "random"]);
        assert_eq!(
            c.display(),
            "python3 -m sglang.bench_serving --backend sglang --tokenizer \"/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8\" --dataset-name random"
        );
    }

    #[test]
    fn display_quotes_shell_metacharacters_and_shows_env() {
        let c = CommandSpec::new("prog")
            .args(["a b", "it's", ""])
            .env("SGLANG_USE_AITER", "1");
        assert_eq!(c.display(), r"prog 'a b' 'it'\''s' ''");
        assert_eq!(
            c.display_with_env(),
            r"SGLANG_USE_AITER=1 prog 'a b' 'it'\''s' ''"
        );
    }

    #[test]
    fn words_split_like_a_shell() {
        assert_eq!(
            split_words(r#" --sim-profile zero  --x "a b" 'c d' e\ f "#).unwrap(),
            ["--sim-profile", "zero", "--x", "a b", "c d", "e f"]
        );
        assert!(split_words("--a 'b").is_err());
        assert!(split_words("   ").unwrap().is_empty());
    }
}
