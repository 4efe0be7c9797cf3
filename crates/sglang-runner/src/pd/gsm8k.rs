//! Test 6: the GSM8K client of the PD test (port of `test/pd/bench_gsm8k_pd.py`, spec
//! nightly.md §6) on bench-client's HTTP pool, test set and answer extraction. It asks the
//! router `POST /v1/completions` with the model name, `p` requests in flight, and writes the
//! original's log text (`test_gsm8k.log`: banner, `Progress:` every 100 answers in submission
//! order, the `RESULTS` block, sample errors and correct answers), which metrics-parse's
//! `pd::parse_gsm8k_log` reads. Differences, on purpose: it runs in this process, not in the
//! router container; the test set is the built-in GSM8K test split (no download); the first
//! 50 errors go to `gsm8k_errors_detailed.json` in the log folder (fix Q-PD-15). The few-shot
//! examples are still the first k test questions (Q-PD-5, kept).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bench_client::gsm8k::{INVALID, extract_answer, load_or_builtin};
use bench_client::http::{HttpError, Limits, Pool, Target};
use serde_json::{Value, json};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio::time::Instant;

use crate::signals::Interrupt;

/// 70 `=`.
const RULE: &str = "======================================================================";
/// Name of the detailed-errors file in the log folder.
pub const ERRORS_FILE: &str = "gsm8k_errors_detailed.json";

/// The client's settings (bench_gsm8k_pd.py's flags; the nightly's values are the defaults).
#[derive(Debug, Clone)]
pub struct Gsm8kSettings {
    /// `http://<HOST_IP>`.
    pub host: String,
    /// Router port.
    pub port: u16,
    /// Model name (`"model"` of every request).
    pub model: String,
    /// Questions (200).
    pub num_questions: usize,
    /// Requests in flight (16).
    pub parallel: usize,
    /// Few-shot examples (5).
    pub num_shots: usize,
    /// `max_tokens` (512).
    pub max_new_tokens: u32,
    /// Per-request timeout (600 s).
    pub request_timeout: Duration,
    /// Test set (JSON Lines); `None`: the built-in GSM8K test split.
    pub data_path: Option<PathBuf>,
}

impl Gsm8kSettings {
    /// The nightly's values against `host`:`port`.
    pub fn nightly(host_ip: &str, port: u16, model: &str) -> Self {
        Self {
            host: format!("http://{host_ip}"),
            port,
            model: model.to_owned(),
            num_questions: 200,
            parallel: 16,
            num_shots: 5,
            max_new_tokens: 512,
            request_timeout: Duration::from_secs(600),
            data_path: None,
        }
    }
}

/// What a run found.
#[derive(Debug, Clone, PartialEq)]
pub struct Gsm8kResult {
    /// Questions asked.
    pub total: usize,
    /// Correct answers.
    pub correct: usize,
    /// Answers without a number (failed requests included).
    pub invalid: usize,
    /// Requests that failed (HTTP error, timeout, no `choices`).
    pub failed: usize,
    /// `correct / total`.
    pub accuracy: f64,
    /// The first failure reason, if any.
    pub first_error: Option<String>,
}

/// Why the client could not run at all (the original printed an error and exited 0).
#[derive(Debug, thiserror::Error)]
pub enum Gsm8kError {
    /// The test set could not be read.
    #[error("Could not load dataset: {0}")]
    Data(String),
    /// The router URL is not usable.
    #[error("bad router address: {0}")]
    Target(String),
    /// The log could not be written.
    #[error("cannot write the GSM8K log: {0}")]
    Io(#[from] std::io::Error),
    /// SIGINT/SIGTERM.
    #[error("interrupted")]
    Interrupted,
}

struct Answer {
    pred: i64,
    text: Option<String>,
    error: Option<String>,
}

fn reason(status: u16) -> &'static str {
    match status {
        400 => "Bad Request",
        401 => "Unauthorized",
        404 => "Not Found",
        408 => "Request Timeout",
        422 => "Unprocessable Entity",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        502 => "Bad Gateway",
        503 => "Service Unavailable",
        504 => "Gateway Timeout",
        _ => "",
    }
}

/// `requests`' texts, so the log reads like the original's (metrics-parse counts
/// `503 Server Error` and `Read timed out`).
fn error_text(e: &HttpError, s: &Gsm8kSettings, host: &str, url: &str) -> String {
    match e {
        HttpError::Deadline | HttpError::Stalled(_) => format!(
            "HTTPConnectionPool(host='{host}', port={}): Read timed out. (read timeout={})",
            s.port,
            s.request_timeout.as_secs()
        ),
        HttpError::Connect(m) => format!(
            "HTTPConnectionPool(host='{host}', port={}): Max retries exceeded with url: /v1/completions ({m})",
            s.port
        ),
        other => format!("{other} ({url})"),
    }
}

/// Runs the client, writing the log text to `log` as it goes and the detailed errors into
/// `errors_dir`.
pub fn run(
    s: &Gsm8kSettings,
    log: &mut dyn Write,
    errors_dir: &Path,
    interrupt: &Interrupt,
) -> Result<Gsm8kResult, Gsm8kError> {
    writeln!(log, "{RULE}\nGSM8K Benchmark - PD Testing\n{RULE}")?;
    writeln!(log, "Host: {}:{}", s.host, s.port)?;
    writeln!(log, "Model: {}", s.model)?;
    writeln!(log, "Num Questions: {}", s.num_questions)?;
    writeln!(log, "Parallelism: {}", s.parallel)?;
    writeln!(log, "Num Shots: {}", s.num_shots)?;
    writeln!(log, "Max New Tokens: {}", s.max_new_tokens)?;
    writeln!(log, "{RULE}")?;
    let source = s.data_path.as_ref().map_or_else(
        || bench_client::data::GSM8K_BUILTIN_NAME.to_owned(),
        |p| p.display().to_string(),
    );
    writeln!(log, "Loading GSM8K dataset from {source}...")?;
    let problems = match load_or_builtin(s.data_path.as_deref()) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => {
            writeln!(log, "Error: Could not load dataset")?;
            return Err(Gsm8kError::Data(format!("{source} holds no questions")));
        }
        Err(e) => {
            writeln!(
                log,
                "Error: Could not load or download dataset\nError: Could not load dataset"
            )?;
            return Err(Gsm8kError::Data(e.to_string()));
        }
    };
    writeln!(log, "✓ Loaded {} questions from file", problems.len())?;
    writeln!(log, "Loaded {} examples", problems.len())?;
    let n = s.num_questions.min(problems.len());
    let labels: Vec<i64> = problems
        .iter()
        .take(n)
        .map(|p| extract_answer(&p.answer))
        .collect();
    if labels.contains(&INVALID) {
        writeln!(log, "Error: Some ground truth labels are invalid")?;
        return Err(Gsm8kError::Data(
            "some ground truth labels are invalid".into(),
        ));
    }
    let host_only = s
        .host
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let base = format!("{}:{}", s.host.trim_end_matches('/'), s.port);
    let target = Target::from_url(&base).map_err(|e| Gsm8kError::Target(e.to_string()))?;
    let url = format!("{base}/v1/completions");
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let shots: String = problems
        .iter()
        .take(s.num_shots)
        .map(|p| format!("Question: {}\nAnswer: {}\n\n", p.question, p.answer))
        .collect();
    let pool = Arc::new(Pool::new(target, Duration::from_secs(10)));

    // Health check (5 s).
    let health = rt.block_on(pool.fetch(
        "GET",
        "/health",
        b"",
        Limits {
            deadline: Instant::now() + Duration::from_secs(5),
            stall: Duration::from_secs(5),
        },
    ));
    match health {
        Ok((200, _)) => writeln!(log, "✓ Server is healthy")?,
        Ok((c, _)) => writeln!(log, "Warning: Server health check returned status {c}")?,
        Err(e) => writeln!(
            log,
            "Warning: Could not check server health: {e}\nContinuing anyway..."
        )?,
    }
    writeln!(
        log,
        "\nRunning benchmark with {} parallel requests...",
        s.parallel
    )?;
    log.flush()?;

    let start = std::time::Instant::now();
    let answers = rt.block_on(async {
        let sem = Arc::new(Semaphore::new(s.parallel.max(1)));
        let mut set = JoinSet::new();
        for (i, p) in problems.iter().take(n).enumerate() {
            let body = serde_json::to_vec(&json!({
                "prompt": format!("{shots}Question: {}\nAnswer:", p.question),
                "max_tokens": s.max_new_tokens,
                "temperature": 0.0,
                "stop": ["Question", "Assistant:", "<|separator|>"],
                "model": s.model,
            }))
            .unwrap_or_default();
            let (pool, sem) = (pool.clone(), sem.clone());
            let (timeout, st, host, url) =
                (s.request_timeout, s.clone(), host_only.clone(), url.clone());
            set.spawn(async move {
                let _permit = sem.acquire().await.ok();
                let limits = Limits {
                    deadline: Instant::now() + timeout,
                    stall: timeout,
                };
                let a = match pool.fetch("POST", "/v1/completions", &body, limits).await {
                    Ok((200..=299, b)) => {
                        let v: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
                        match v["choices"][0]["text"].as_str() {
                            Some(t) => Answer {
                                pred: extract_answer(t),
                                text: Some(t.to_owned()),
                                error: None,
                            },
                            None => Answer {
                                pred: INVALID,
                                text: None,
                                error: Some(format!(
                                    "No choices in response: {}",
                                    String::from_utf8_lossy(&b[..b.len().min(200)])
                                )),
                            },
                        }
                    }
                    Ok((code, _)) => Answer {
                        pred: INVALID,
                        text: None,
                        error: Some(format!(
                            "{code} {} Error: {} for url: {url}",
                            if code < 500 { "Client" } else { "Server" },
                            reason(code)
                        )),
                    },
                    Err(e) => Answer {
                        pred: INVALID,
                        text: None,
                        error: Some(error_text(&e, &st, &host, &url)),
                    },
                };
                (i, a)
            });
        }
        let mut answers: Vec<Option<Answer>> = (0..n).map(|_| None).collect();
        let mut next = 0usize;
        let mut correct = 0usize;
        let mut lines = Vec::new();
        loop {
            if interrupt.check().is_err() {
                set.abort_all();
                return Err(Gsm8kError::Interrupted);
            }
            match tokio::time::timeout(Duration::from_millis(100), set.join_next()).await {
                Ok(None) => break,
                Ok(Some(Ok((i, a)))) => answers[i] = Some(a),
                Ok(Some(Err(_))) | Err(_) => {}
            }
            // Results are consumed in submission order (the original's executor.map).
            while next < n {
                let Some(a) = answers[next].as_ref() else {
                    break;
                };
                if a.pred == labels[next] {
                    correct += 1;
                }
                next += 1;
                if next.is_multiple_of(100) {
                    let el = start.elapsed().as_secs_f64().max(1e-9);
                    lines.push(format!(
                        "Progress: {next}/{n} questions ({:.2} QPS, Acc: {:.4})",
                        next as f64 / el,
                        correct as f64 / next as f64
                    ));
                }
            }
            for l in lines.drain(..) {
                let _ = writeln!(log, "{l}");
                let _ = log.flush();
            }
        }
        Ok(answers)
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    let answers: Vec<Answer> = answers
        .into_iter()
        .map(|a| {
            a.unwrap_or(Answer {
                pred: INVALID,
                text: None,
                error: Some("no answer".into()),
            })
        })
        .collect();
    let correct = answers
        .iter()
        .zip(&labels)
        .filter(|(a, l)| a.pred == **l)
        .count();
    let invalid = answers.iter().filter(|a| a.pred == INVALID).count();
    let failed = answers.iter().filter(|a| a.error.is_some()).count();
    let acc = if n == 0 {
        0.0
    } else {
        correct as f64 / n as f64
    };
    writeln!(log, "\n{RULE}\nRESULTS\n{RULE}")?;
    writeln!(log, "Total Questions: {n}")?;
    writeln!(log, "Correct: {correct}")?;
    writeln!(log, "Incorrect: {}", n - correct)?;
    writeln!(log, "Invalid: {invalid}")?;
    writeln!(log, "Accuracy: {acc:.4}")?;
    writeln!(log, "Invalid Rate: {:.4}", invalid as f64 / n.max(1) as f64)?;
    writeln!(log, "Total Time: {elapsed:.2}s")?;
    writeln!(
        log,
        "Questions per Second: {:.2}",
        n as f64 / elapsed.max(1e-9)
    )?;
    writeln!(log, "{RULE}")?;

    let wrong: Vec<usize> = (0..n).filter(|&i| answers[i].pred != labels[i]).collect();
    if !wrong.is_empty() {
        writeln!(log, "\nSample Errors (first 5):")?;
        for (j, &i) in wrong.iter().take(5).enumerate() {
            writeln!(log, "\n{}. Q{i}", j + 1)?;
            writeln!(log, "   Expected: {}, Got: {}", labels[i], answers[i].pred)?;
            match (&answers[i].error, &answers[i].text) {
                (Some(e), _) => writeln!(log, "   Error: {e}")?,
                (None, Some(t)) => {
                    writeln!(
                        log,
                        "   Generated: {}",
                        t.chars().take(200).collect::<String>()
                    )?;
                }
                (None, None) => {}
            }
        }
        let detail: Vec<Value> = wrong
            .iter()
            .take(50)
            .map(|&i| {
                json!({
                    "question_idx": i,
                    "question": problems[i].question,
                    "expected": labels[i],
                    "predicted": answers[i].pred,
                    "generated": answers[i].text,
                    "error": answers[i].error,
                })
            })
            .collect();
        let path = errors_dir.join(ERRORS_FILE);
        let text = serde_json::to_string_pretty(&detail).unwrap_or_default();
        if report::atomic::write_atomic(&path, text.as_bytes()).is_ok() {
            writeln!(log, "\n✓ Detailed errors saved to: {}", path.display())?;
        }
    }
    let right: Vec<usize> = (0..n).filter(|&i| answers[i].pred == labels[i]).collect();
    if !right.is_empty() {
        writeln!(log, "\nSample Correct Answers (first 3):")?;
        for (j, &i) in right.iter().take(3).enumerate() {
            writeln!(log, "\n{}. Q{i}", j + 1)?;
            writeln!(
                log,
                "   Expected: {}, Got: {} ✓",
                labels[i], answers[i].pred
            )?;
        }
    }
    log.flush()?;
    Ok(Gsm8kResult {
        total: n,
        correct,
        invalid,
        failed,
        accuracy: acc,
        first_error: answers.iter().find_map(|a| a.error.clone()),
    })
}
