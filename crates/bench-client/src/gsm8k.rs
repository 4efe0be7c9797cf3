//! `sglang-bench gsm8k`: the few-shot GSM8K protocol of `sglang.test.few_shot_gsm8k`
//! (spec/peer-clients.md §9) with the same four result lines, plus n, a 95% confidence
//! interval, failed requests and a verdict.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::BenchError;
use crate::heading;
use crate::http::{Limits, Pool, Target};
use crate::stats::wilson95;

/// The value few_shot_gsm8k uses for an answer without a number.
pub const INVALID: i64 = -9_999_999;

/// Flags of `sglang-bench gsm8k`, spelled as few_shot_gsm8k / bench_sglang.py spell them.
#[derive(Debug, Clone, clap::Args)]
pub struct Gsm8kArgs {
    /// Few-shot examples (the first k rows of the test file).
    #[arg(long, default_value_t = 5, help_heading = heading::ORIGINAL)]
    pub num_shots: usize,
    /// GSM8K test set (JSON Lines with question and answer)
    /// [default: the built-in GSM8K test split; env SGLCI_GSM8K_DATA].
    #[arg(long, value_name = "FILE", env = "SGLCI_GSM8K_DATA", help_heading = heading::ORIGINAL)]
    pub data_path: Option<PathBuf>,
    /// Questions to ask (the first n rows; capped at the file's size).
    #[arg(long, default_value_t = 200, help_heading = heading::ORIGINAL)]
    pub num_questions: usize,
    /// max_new_tokens of each answer.
    #[arg(long, default_value_t = 512, help_heading = heading::ORIGINAL)]
    pub max_new_tokens: u32,
    /// Requests in flight at once.
    #[arg(long, default_value_t = 128, help_heading = heading::ORIGINAL)]
    pub parallel: usize,
    /// Server host, with or without http:// (the toolkit passes http://127.0.0.1).
    #[arg(long, default_value = "http://127.0.0.1", help_heading = heading::ORIGINAL)]
    pub host: String,
    /// Server port.
    #[arg(long, default_value_t = 30000, help_heading = heading::ORIGINAL)]
    pub port: u16,
    /// Sampling temperature.
    #[arg(long, default_value_t = 0.0, help_heading = heading::ORIGINAL)]
    pub temperature: f64,
    /// Accepted for bench_sglang.py compatibility (only srt exists).
    #[arg(long, default_value = "srt", help_heading = heading::ORIGINAL)]
    pub backend: String,
    /// Append bench_sglang.py's result line to this file (bench_sglang writes result.jsonl).
    #[arg(long, value_name = "FILE", help_heading = heading::ORIGINAL)]
    pub result_file: Option<PathBuf>,
    /// Seconds one request may take.
    #[arg(long, default_value_t = 600.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub request_timeout: f64,
    /// Seconds the whole run may take; unanswered questions then fail.
    #[arg(long, default_value_t = 7200.0, value_name = "SECS", help_heading = heading::ADDITIONS)]
    pub run_timeout: f64,
    /// Seconds to wait for GET /get_model_info to answer before giving up.
    #[arg(
        help_heading = heading::ADDITIONS,
        long = "ready-check-timeout-sec",
        default_value_t = 60.0,
        value_name = "SECS"
    )]
    pub ready_check_timeout: f64,
}

/// One test-set row.
#[derive(Debug, Clone, Deserialize)]
pub struct Problem {
    /// The question.
    pub question: String,
    /// The reference answer (ends with `#### N`).
    pub answer: String,
}

/// The result of a run.
#[derive(Debug, Clone, Serialize)]
pub struct Gsm8kReport {
    /// Questions asked.
    pub n: usize,
    /// Correct answers / n.
    pub accuracy: f64,
    /// Answers without a number / n.
    pub invalid: f64,
    /// Wall time of the question phase (s).
    pub latency: f64,
    /// Σ completion_tokens / latency.
    pub output_throughput: f64,
    /// Wilson 95% interval of the accuracy.
    pub ci95: (f64, f64),
    /// Requests that failed (HTTP error, timeout): counted as wrong and invalid.
    pub failed: usize,
    /// First failure reasons.
    pub failure_examples: Vec<String>,
    /// `VALID` or `INVALID` (any failed request).
    pub verdict: String,
}

impl Gsm8kReport {
    /// The lines few_shot_gsm8k prints, then ours.
    pub fn text(&self) -> String {
        let mut s = format!(
            "Accuracy: {:.3}\nInvalid: {:.3}\nLatency: {:.3} s\nOutput throughput: {:.3} token/s\n",
            self.accuracy, self.invalid, self.latency, self.output_throughput
        );
        s.push_str(&format!("Questions (n): {}\n", self.n));
        s.push_str(&format!(
            "Accuracy 95% CI (Wilson): [{:.3}, {:.3}]\n",
            self.ci95.0, self.ci95.1
        ));
        s.push_str(&format!("Failed requests: {}\n", self.failed));
        for e in &self.failure_examples {
            s.push_str(&format!("  {e}\n"));
        }
        s.push_str(&format!("Verdict: {}\n", self.verdict));
        s
    }
}

/// few_shot_gsm8k's answer extraction: drop commas, take the last run of digits, parse it as
/// a Python literal (leading zeros are invalid); [`INVALID`] when there is none.
pub fn extract_answer(text: &str) -> i64 {
    let t = text.replace(',', "");
    let bytes = t.as_bytes();
    let mut end = bytes.len();
    while end > 0 && !bytes[end - 1].is_ascii_digit() {
        end -= 1;
    }
    if end == 0 {
        return INVALID;
    }
    let mut start = end;
    while start > 0 && bytes[start - 1].is_ascii_digit() {
        start -= 1;
    }
    let digits = &t[start..end];
    if digits.len() > 1 && digits.starts_with('0') {
        // ast.literal_eval("007") raises: invalid.
        return if digits.bytes().all(|b| b == b'0') {
            0
        } else {
            INVALID
        };
    }
    digits.parse().unwrap_or(INVALID)
}

/// Reads the test set (lines starting with `#` are skipped).
pub fn load(path: &Path) -> Result<Vec<Problem>, BenchError> {
    let text = std::fs::read_to_string(path).map_err(|e| BenchError::Input {
        path: path.to_path_buf(),
        message: format!(
            "{e} (pass --data-path FILE or set SGLCI_GSM8K_DATA, or give neither for the built-in test set)"
        ),
    })?;
    parse(&text, path)
}

/// The built-in test set ([`crate::data::GSM8K_TEST_JSONL`]): the default when no file is given.
pub fn builtin() -> Result<Vec<Problem>, BenchError> {
    parse(
        crate::data::GSM8K_TEST_JSONL,
        Path::new(crate::data::GSM8K_BUILTIN_NAME),
    )
}

/// `path` when given, else the built-in test set.
pub fn load_or_builtin(path: Option<&Path>) -> Result<Vec<Problem>, BenchError> {
    path.map_or_else(builtin, load)
}

fn parse(text: &str, path: &Path) -> Result<Vec<Problem>, BenchError> {
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        if l.trim().is_empty() || l.starts_with('#') {
            continue;
        }
        let p: Problem = serde_json::from_str(l).map_err(|e| BenchError::Input {
            path: path.to_path_buf(),
            message: format!("line {}: {e}", i + 1),
        })?;
        out.push(p);
    }
    Ok(out)
}

fn few_shot(problems: &[Problem], k: usize) -> String {
    problems
        .iter()
        .take(k)
        .map(|p| format!("Question: {}\nAnswer: {}\n\n", p.question, p.answer))
        .collect()
}

fn base_url(host: &str, port: u16) -> String {
    let h = host.trim_end_matches('/');
    if h.starts_with("http://") || h.starts_with("https://") {
        format!("{h}:{port}")
    } else {
        format!("http://{h}:{port}")
    }
}

/// Runs the GSM8K evaluation.
pub fn run(args: &Gsm8kArgs) -> Result<Gsm8kReport, BenchError> {
    run_with_progress(args, &|_, _| {})
}

/// [`run`], telling `progress` (questions answered, questions asked) as each answer arrives.
pub fn run_with_progress(
    args: &Gsm8kArgs,
    progress: &dyn Fn(u64, u64),
) -> Result<Gsm8kReport, BenchError> {
    if args.parallel == 0 {
        return Err(BenchError::flag("--parallel", "must be at least 1"));
    }
    let problems = load_or_builtin(args.data_path.as_deref())?;
    let n = args.num_questions.min(problems.len());
    if n == 0 {
        return Err(BenchError::Input {
            path: args
                .data_path
                .clone()
                .unwrap_or_else(|| PathBuf::from(crate::data::GSM8K_BUILTIN_NAME)),
            message: "no questions (empty file or --num-questions 0)".into(),
        });
    }
    let target = Target::from_url(&base_url(&args.host, args.port))?;
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(BenchError::Runtime)?;
    rt.block_on(run_async(args, target, problems, n, progress))
}

async fn run_async(
    args: &Gsm8kArgs,
    target: Target,
    problems: Vec<Problem>,
    n: usize,
    progress: &dyn Fn(u64, u64),
) -> Result<Gsm8kReport, BenchError> {
    let url = target.base_url().to_string();
    let pool = Arc::new(Pool::new(target, Duration::from_secs(10)));
    // GET /get_model_info, polled until ready.
    let until = Instant::now() + Duration::from_secs_f64(args.ready_check_timeout.max(0.0));
    loop {
        let limits = Limits {
            deadline: Instant::now() + Duration::from_secs(10),
            stall: Duration::from_secs(10),
        };
        let last = match pool.fetch("GET", "/get_model_info", b"", limits).await {
            Ok((200, _)) => break,
            Ok((s, _)) => format!("GET /get_model_info answered {s}"),
            Err(e) => format!("GET /get_model_info: {e}"),
        };
        if Instant::now() >= until {
            return Err(BenchError::Server {
                url,
                message: format!("{last} (start the server or raise --ready-check-timeout-sec)"),
            });
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let shots = few_shot(&problems, args.num_shots);
    let req_timeout = Duration::from_secs_f64(args.request_timeout.max(0.001));
    // The prefix-cache call.
    let prefix =
        serde_json::to_vec(&json!({"text": shots, "sampling_params": {"max_new_tokens": 0}}))
            .unwrap_or_default();
    let limits = Limits {
        deadline: Instant::now() + req_timeout,
        stall: req_timeout,
    };
    if let Err(e) = pool.fetch("POST", "/generate", &prefix, limits).await {
        tracing::warn!("prefix-cache request failed: {e}");
    }

    let start = Instant::now();
    let run_deadline = start + Duration::from_secs_f64(args.run_timeout.max(0.001));
    let sem = Arc::new(Semaphore::new(args.parallel));
    let mut set = JoinSet::new();
    for (i, p) in problems.iter().take(n).enumerate() {
        let body = serde_json::to_vec(&json!({
            "text": format!("{shots}Question: {}\nAnswer:", p.question),
            "sampling_params": {
                "skip_special_tokens": true, "spaces_between_special_tokens": true,
                "max_new_tokens": args.max_new_tokens, "min_new_tokens": 0, "n": 1,
                "stop": ["Question", "Assistant:", "<|separator|>"], "stop_token_ids": [],
                "stop_regex": [], "temperature": args.temperature, "top_p": 1.0, "top_k": -1,
                "min_p": 0.0, "frequency_penalty": 0.0, "presence_penalty": 0.0,
                "ignore_eos": false, "regex": null, "json_schema": null,
            },
        }))
        .unwrap_or_default();
        let (pool, sem) = (pool.clone(), sem.clone());
        set.spawn(async move {
            let _permit = sem.acquire().await.ok();
            let limits = Limits {
                deadline: (Instant::now() + req_timeout).min(run_deadline),
                stall: req_timeout,
            };
            let r = match pool.fetch("POST", "/generate", &body, limits).await {
                Ok((200, b)) => {
                    #[derive(Deserialize)]
                    struct Meta {
                        #[serde(default)]
                        completion_tokens: u64,
                    }
                    #[derive(Deserialize)]
                    struct Resp {
                        #[serde(default)]
                        text: String,
                        meta_info: Option<Meta>,
                    }
                    serde_json::from_slice::<Resp>(&b)
                        .map(|r| (r.text, r.meta_info.map_or(0, |m| m.completion_tokens)))
                        .map_err(|e| format!("reply is not /generate JSON: {e}"))
                }
                Ok((s, b)) => Err(format!(
                    "HTTP {s}: {}",
                    String::from_utf8_lossy(&b[..b.len().min(300)])
                )),
                Err(e) => Err(e.to_string()),
            };
            (i, r)
        });
    }
    let mut answers: Vec<Option<Result<(String, u64), String>>> = vec![None; n];
    let mut done = 0;
    progress(done, n as u64);
    while let Ok(Some(j)) =
        tokio::time::timeout_at(run_deadline + Duration::from_secs(5), set.join_next()).await
    {
        if let Ok((i, r)) = j {
            answers[i] = Some(r);
            done += 1;
            progress(done, n as u64);
        }
    }
    set.abort_all();
    let latency = start.elapsed().as_secs_f64();

    let (mut correct, mut invalid, mut failed, mut tokens) = (0usize, 0usize, 0usize, 0u64);
    let mut examples = Vec::new();
    for (i, a) in answers.into_iter().enumerate() {
        let label = extract_answer(&problems[i].answer);
        match a.unwrap_or_else(|| Err("not answered when --run-timeout expired".into())) {
            Ok((text, t)) => {
                tokens += t;
                let pred = extract_answer(&text);
                correct += usize::from(pred == label);
                invalid += usize::from(pred == INVALID);
            }
            Err(e) => {
                failed += 1;
                invalid += 1;
                if examples.len() < 3 {
                    examples.push(format!("question {i}: {e}"));
                }
            }
        }
    }
    let report = Gsm8kReport {
        n,
        accuracy: correct as f64 / n as f64,
        invalid: invalid as f64 / n as f64,
        latency,
        output_throughput: tokens as f64 / latency.max(1e-9),
        ci95: wilson95(correct, n),
        failed,
        failure_examples: examples,
        verdict: if failed == 0 {
            "VALID".into()
        } else {
            "INVALID".into()
        },
    };
    if let Some(p) = &args.result_file {
        let line = json!({"task": "gsm8k", "backend": "srt", "num_gpus": 1, "latency": report.latency,
            "accuracy": report.accuracy, "num_requests": n,
            "other": {"num_questions": n, "parallel": args.parallel}});
        report::atomic::append(p, format!("{line}\n").as_bytes())?;
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn answer_extraction_matches_few_shot_gsm8k() {
        assert_eq!(extract_answer("so 3 + 4 = 7.\n#### 1,234"), 1234);
        assert_eq!(extract_answer("no number"), INVALID);
        assert_eq!(extract_answer("-3"), 3);
        assert_eq!(extract_answer("3.5"), 5);
        assert_eq!(extract_answer("007"), INVALID);
        assert_eq!(extract_answer("0"), 0);
    }

    #[test]
    fn host_with_or_without_scheme() {
        assert_eq!(
            base_url("http://127.0.0.1", 30000),
            "http://127.0.0.1:30000"
        );
        assert_eq!(base_url("127.0.0.1", 8), "http://127.0.0.1:8");
    }

    #[test]
    fn builtin_test_set_is_the_default() {
        let rows = load_or_builtin(None).unwrap();
        assert_eq!(rows.len(), 1319);
        assert_eq!(extract_answer(&rows[0].answer), 18);
    }

    #[test]
    fn a_given_file_overrides_the_builtin_set_and_errors_name_it() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("two.jsonl");
        std::fs::write(
            &p,
            "{\"question\": \"q1\", \"answer\": \"#### 1\"}\n# note\n{\"question\": \"q2\", \"answer\": \"#### 2\"}\n",
        )
        .unwrap();
        let rows = load_or_builtin(Some(&p)).unwrap();
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[1].question, "q2");
        let e = load_or_builtin(Some(&dir.path().join("nope.jsonl"))).unwrap_err();
        assert!(e.to_string().contains("nope.jsonl"), "{e}");
        assert!(e.to_string().contains("SGLCI_GSM8K_DATA"), "{e}");
    }
}
