//! Prefill/decode disaggregation test output (`test/pd/pd_log/<hw>/<docker_tag>[_rerun*]/`):
//! `test_summary.txt` (spec nightly.md §5.9, reporting.md §6.5/§6.6) and the GSM8K client log
//! `test_gsm8k.log` (nightly.md §6, corpus README §2.6).
//!
//! The summary is rewritten after every step, so a run that died early is a complete file
//! whose later fields read `PENDING`: that is [`TestStatus::Pending`] and
//! [`Gsm8kAccuracy::Pending`] here, not a missing value. A file cut short simply lacks the
//! later lines (`None`). Accuracy and rate text is kept verbatim (`0.9450`, `1.08`).

use crate::text;

/// A parsed `test_summary.txt`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct PdSummary {
    /// `SGLang PD Disaggregation Test Summary` was seen.
    pub title: bool,
    /// `Docker Tag:`.
    pub docker_tag: Option<String>,
    /// `Hardware:`.
    pub hardware: Option<String>,
    /// `Model:`.
    pub model: Option<String>,
    /// `Model Path:`.
    pub model_path: Option<String>,
    /// `Docker Image:`.
    pub docker_image: Option<String>,
    /// `Hostname:`.
    pub hostname: Option<String>,
    /// `- IP Address:`.
    pub ip_address: Option<String>,
    /// `- Prefill Server: Port <p>, GPUs <g>, TP=<n>`.
    pub prefill: Option<ServerSpec>,
    /// `- Decode Server: ...`.
    pub decode: Option<ServerSpec>,
    /// `- Load Balancer: Port <p>` (Configuration section).
    pub load_balancer_port: Option<u16>,
    /// `- Step <n> - <name>: <s>s` lines in order.
    pub steps: Vec<Step>,
    /// `- Test <n> - <name>: <STATUS> (<s>s)` lines (tests 1–4) in order.
    pub tests: Vec<TestLine>,
    /// `- Test 6 - GSM8K Accuracy: <acc> [<verdict>] (<s>s)`.
    pub gsm8k: Option<Gsm8kLine>,
    /// `- Total Time (Setup + Tests): <s>s` (older files: `- Total Test Runtime: <s>s`).
    pub total_time_secs: Option<u64>,
    /// `- Setup Time (Steps 1-4): <s>s`.
    pub setup_time_secs: Option<u64>,
    /// `- GSM8K Test Duration: <s>s`.
    pub gsm8k_duration_secs: Option<u64>,
    /// `- GSM8K Questions per Second: <q>|N/A`.
    pub questions_per_second: Option<Rate>,
    /// `- GSM8K Parallelism: <n> concurrent requests`.
    pub parallelism: Option<u32>,
    /// `- GSM8K Timeout: <s>s per request`.
    pub timeout_secs: Option<u64>,
    /// `Log Files:` entries (`Load Balancer`, `/…/load_balance.log`) in order.
    pub log_files: Vec<(String, String)>,
    /// The last line `Test completed in nightly mode (Docker-based).` was seen.
    pub completed: bool,
    /// 1-based numbers of non-empty lines of no known form.
    pub unrecognized: Vec<usize>,
}

/// `Port <p>, GPUs <g>, TP=<n>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ServerSpec {
    /// Port.
    pub port: u16,
    /// GPU range as printed (`0-3`).
    pub gpus: String,
    /// Tensor parallelism.
    pub tp: Option<u32>,
}

/// One setup step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Step {
    /// Step number (1–4).
    pub number: u32,
    /// Title (`Router Startup`).
    pub name: String,
    /// Duration in whole seconds (0 = not reached).
    pub secs: u64,
}

/// Result word of a test line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TestStatus {
    /// `PASS`.
    Pass,
    /// `FAIL`.
    Fail,
    /// `PENDING`: the run never got there.
    Pending,
    /// Anything else, verbatim.
    Other(String),
}

impl TestStatus {
    fn parse(s: &str) -> Self {
        match s {
            "PASS" => Self::Pass,
            "FAIL" => Self::Fail,
            "PENDING" => Self::Pending,
            o => Self::Other(o.to_owned()),
        }
    }
}

/// One of tests 1–4.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestLine {
    /// Test number.
    pub number: u32,
    /// Title (`Health Check`).
    pub name: String,
    /// Result.
    pub status: TestStatus,
    /// Duration in whole seconds.
    pub secs: u64,
}

/// The accuracy field of the Test 6 line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Gsm8kAccuracy {
    /// A number, verbatim (`0.9450`).
    Value(String),
    /// `PENDING`: Test 6 never ran or never finished.
    Pending,
    /// `N/A`: the client printed no accuracy.
    NotAvailable,
    /// `FAILED`.
    Failed,
}

/// `- Test 6 - GSM8K Accuracy: <acc> [<verdict>] (<d>s)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gsm8kLine {
    /// The accuracy field.
    pub accuracy: Gsm8kAccuracy,
    /// The bracketed verdict.
    pub verdict: TestStatus,
    /// Duration in whole seconds.
    pub secs: u64,
}

/// `GSM8K Questions per Second` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rate {
    /// Two-decimal text (`1.08`).
    Value(String),
    /// `N/A`.
    NotAvailable,
}

impl PdSummary {
    /// Sum of the step durations (what `Setup Time (Steps 1-4)` prints).
    pub fn steps_total_secs(&self) -> u64 {
        self.steps.iter().map(|s| s.secs).sum()
    }

    /// The Docker image date (`YYYYMMDD`) at the end of `Docker Tag:`, when present.
    pub fn image_date(&self) -> Option<u32> {
        let tag = self.docker_tag.as_deref()?;
        let tail = tag.get(tag.len().checked_sub(8)?..)?;
        tail.bytes()
            .all(|b| b.is_ascii_digit())
            .then(|| tail.parse().ok())
            .flatten()
    }
}

/// What `GSM8K Questions per Second` must say for a duration: `200 / d` with two decimals,
/// `N/A` when `d` is 0 (the script always divides 200, whatever the question count).
pub fn expected_questions_per_second(duration_secs: u64) -> Rate {
    if duration_secs == 0 {
        Rate::NotAvailable
    } else {
        Rate::Value(format!("{:.2}", 200.0 / duration_secs as f64))
    }
}

/// `<n>s` → n.
fn whole_secs(s: &str) -> Option<u64> {
    s.strip_suffix('s')?.parse().ok()
}

/// `<STATUS> (<n>s)`.
fn status_secs(s: &str) -> Option<(String, u64)> {
    let (st, d) = s.rsplit_once(" (")?;
    Some((st.to_owned(), whole_secs(d.strip_suffix(')')?)?))
}

fn server_spec(s: &str) -> Option<ServerSpec> {
    let rest = s.strip_prefix("Port ")?;
    let (port, rest) = rest.split_once(", GPUs ")?;
    let (gpus, tp) = match rest.split_once(", TP=") {
        Some((g, tp)) => (g, tp.parse().ok()),
        None => (rest, None),
    };
    Some(ServerSpec {
        port: port.parse().ok()?,
        gpus: gpus.to_owned(),
        tp,
    })
}

#[derive(Clone, Copy, PartialEq)]
enum Part {
    Head,
    Config,
    Steps,
    Tests,
    Timing,
    Logs,
}

/// Parses a PD `test_summary.txt`. Never fails; see [`PdSummary::unrecognized`].
pub fn parse_summary(data: &[u8]) -> PdSummary {
    let mut out = PdSummary::default();
    let mut part = Part::Head;
    for (idx, raw) in text::lines(data).enumerate() {
        let cleaned = text::clean(raw);
        let t = cleaned.trim_end();
        if t.is_empty() || (t.len() >= 10 && t.bytes().all(|b| b == b'=')) {
            continue;
        }
        if apply(&mut out, &mut part, t).is_none() {
            out.unrecognized.push(idx + 1);
        }
    }
    out
}

fn apply(out: &mut PdSummary, part: &mut Part, t: &str) -> Option<()> {
    match t {
        "SGLang PD Disaggregation Test Summary" => out.title = true,
        "Configuration:" => *part = Part::Config,
        "Setup Steps (with runtime):" => *part = Part::Steps,
        "Test Results (with runtime):" => *part = Part::Tests,
        "Timing Summary:" => *part = Part::Timing,
        "Log Files:" => *part = Part::Logs,
        "Test completed in nightly mode (Docker-based)." => out.completed = true,
        _ => return apply_field(out, *part, t),
    }
    Some(())
}

fn apply_field(out: &mut PdSummary, part: Part, t: &str) -> Option<()> {
    if part == Part::Head {
        let (k, v) = t.split_once(": ")?;
        let slot = match k {
            "Docker Tag" => &mut out.docker_tag,
            "Hardware" => &mut out.hardware,
            "Model" => &mut out.model,
            "Model Path" => &mut out.model_path,
            "Docker Image" => &mut out.docker_image,
            "Hostname" => &mut out.hostname,
            _ => return None,
        };
        *slot = Some(v.to_owned());
        return Some(());
    }
    let item = t.strip_prefix("- ")?;
    let (k, v) = item.split_once(": ")?;
    match part {
        Part::Head => return None,
        Part::Config => match k {
            "IP Address" => out.ip_address = Some(v.to_owned()),
            "Prefill Server" => out.prefill = Some(server_spec(v)?),
            "Decode Server" => out.decode = Some(server_spec(v)?),
            "Load Balancer" => {
                out.load_balancer_port = Some(v.strip_prefix("Port ")?.parse().ok()?)
            }
            "Network" | "Execution" => {}
            _ => return None,
        },
        Part::Steps => {
            let (n, name) = k.strip_prefix("Step ")?.split_once(" - ")?;
            out.steps.push(Step {
                number: n.parse().ok()?,
                name: name.to_owned(),
                secs: whole_secs(v)?,
            });
        }
        Part::Tests => {
            let (n, name) = k.strip_prefix("Test ")?.split_once(" - ")?;
            let number: u32 = n.parse().ok()?;
            if name == "GSM8K Accuracy" {
                let (head, d) = v.rsplit_once(" (")?;
                let secs = whole_secs(d.strip_suffix(')')?)?;
                let (acc, verdict) = head.rsplit_once(" [")?;
                let verdict = TestStatus::parse(verdict.strip_suffix(']')?);
                let accuracy = match acc {
                    "PENDING" => Gsm8kAccuracy::Pending,
                    "N/A" => Gsm8kAccuracy::NotAvailable,
                    "FAILED" => Gsm8kAccuracy::Failed,
                    a => Gsm8kAccuracy::Value(
                        text::leading_number(a).filter(|x| *x == a)?.to_owned(),
                    ),
                };
                out.gsm8k = Some(Gsm8kLine {
                    accuracy,
                    verdict,
                    secs,
                });
            } else {
                let (st, secs) = status_secs(v)?;
                out.tests.push(TestLine {
                    number,
                    name: name.to_owned(),
                    status: TestStatus::parse(&st),
                    secs,
                });
            }
        }
        Part::Timing => match k {
            "Total Time (Setup + Tests)" | "Total Test Runtime" => {
                out.total_time_secs = Some(whole_secs(v)?);
            }
            "Setup Time (Steps 1-4)" => out.setup_time_secs = Some(whole_secs(v)?),
            "GSM8K Test Duration" => out.gsm8k_duration_secs = Some(whole_secs(v)?),
            "GSM8K Questions per Second" => {
                out.questions_per_second = Some(if v == "N/A" {
                    Rate::NotAvailable
                } else {
                    Rate::Value(text::leading_number(v).filter(|x| *x == v)?.to_owned())
                });
            }
            "GSM8K Parallelism" => {
                out.parallelism = Some(v.strip_suffix(" concurrent requests")?.parse().ok()?);
            }
            "GSM8K Timeout" => {
                out.timeout_secs = Some(whole_secs(v.strip_suffix(" per request")?)?)
            }
            _ => return None,
        },
        Part::Logs => out.log_files.push((k.to_owned(), v.to_owned())),
    }
    Some(())
}

// ---------------------------------------------------------------------------------------------
// test_gsm8k.log
// ---------------------------------------------------------------------------------------------

/// A parsed PD `test_gsm8k.log` (output of `bench_gsm8k_pd.py`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PdGsm8kLog {
    /// Second whitespace field of the **last** line starting with `Accuracy:` (`0.9450`),
    /// the value `test_summary.txt` copies.
    pub accuracy: Option<String>,
    /// `Total Questions:`.
    pub total_questions: Option<u64>,
    /// `Correct:`.
    pub correct: Option<u64>,
    /// `Invalid:`.
    pub invalid: Option<u64>,
    /// `Total Time: <s>s`, verbatim.
    pub total_time: Option<String>,
    /// `Questions per Second:`, verbatim.
    pub questions_per_second: Option<String>,
    /// The `RESULTS` block was printed.
    pub results_block: bool,
    /// Lines reporting a read timeout (`Read timed out.`).
    pub read_timeouts: usize,
    /// Lines reporting HTTP 503 (`503 Server Error`).
    pub http_503: usize,
    /// `Progress: <n>/<m> questions` lines seen.
    pub progress_lines: usize,
}

/// Parses a PD GSM8K log. An empty file is all `None`/0.
pub fn parse_gsm8k_log(data: &[u8]) -> PdGsm8kLog {
    let mut out = PdGsm8kLog::default();
    for raw in text::lines(data) {
        let cleaned = text::clean(raw);
        let t = cleaned.trim_end();
        if let Some(rest) = t.strip_prefix("Accuracy:") {
            // Python `line.split()[1]`: the second whitespace-separated field.
            if let Some(v) = rest.split_whitespace().next() {
                out.accuracy = Some(v.to_owned());
            }
        } else if t == "RESULTS" {
            out.results_block = true;
        } else if let Some(v) = t.strip_prefix("Total Questions: ") {
            out.total_questions = v.trim().parse().ok();
        } else if let Some(v) = t.strip_prefix("Correct: ") {
            out.correct = v.trim().parse().ok();
        } else if let Some(v) = t.strip_prefix("Invalid: ") {
            out.invalid = v.trim().parse().ok();
        } else if let Some(v) = t.strip_prefix("Total Time: ") {
            out.total_time = Some(v.trim().to_owned());
        } else if let Some(v) = t.strip_prefix("Questions per Second: ") {
            out.questions_per_second = Some(v.trim().to_owned());
        } else if t.starts_with("Progress: ") {
            out.progress_lines += 1;
        }
        if t.contains("Read timed out") {
            out.read_timeouts += 1;
        }
        if t.contains("503 Server Error") {
            out.http_503 += 1;
        }
    }
    out
}

/// What `test_summary.txt`'s Test 6 accuracy field must be given the GSM8K log: the log's
/// last `Accuracy:` value, or `PENDING` when there is no log, an empty one, or one without
/// an accuracy line.
pub fn expected_gsm8k_accuracy(log: Option<&PdGsm8kLog>) -> Gsm8kAccuracy {
    match log.and_then(|l| l.accuracy.clone()) {
        Some(a) => Gsm8kAccuracy::Value(a),
        None => Gsm8kAccuracy::Pending,
    }
}

/// The first image date (`YYYYMMDD`) on which a `0.0000` GSM8K accuracy is reported as
/// `[FAIL]`; before it the verdict was the client's exit status, always `PASS`.
pub const ZERO_ACCURACY_FAILS_FROM: u32 = 20251124;

/// The Test 6 verdict the script of a given image date printed for an accuracy value.
/// Before [`ZERO_ACCURACY_FAILS_FROM`] every finished run is `PASS` (the client's exit status,
/// even for `0.0000`); from then on `0.0000` is `FAIL`. `None` where this rule does not decide:
/// a non-zero accuracy from that date on (later versions compare with a threshold the corpus
/// does not show), `N/A`, `FAILED`, or a value that is not a number.
pub fn expected_gsm8k_verdict(accuracy: &Gsm8kAccuracy, image_date: u32) -> Option<TestStatus> {
    match accuracy {
        Gsm8kAccuracy::Pending => Some(TestStatus::Pending),
        Gsm8kAccuracy::Value(v) => {
            let zero = v.parse::<f64>().ok()? == 0.0;
            if image_date < ZERO_ACCURACY_FAILS_FROM {
                Some(TestStatus::Pass)
            } else if zero {
                Some(TestStatus::Fail)
            } else {
                None
            }
        }
        Gsm8kAccuracy::NotAvailable | Gsm8kAccuracy::Failed => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const DONE: &[u8] = include_bytes!("../../../fixtures/pd/test_summary_done.txt");
    const PENDING: &[u8] = include_bytes!("../../../fixtures/pd/test_summary_pending.txt");
    const GSM8K: &[u8] = include_bytes!("../../../fixtures/pd/test_gsm8k.log");
    const GSM8K_503: &[u8] = include_bytes!("../../../fixtures/pd/test_gsm8k_503.log");

    #[test]
    fn completed_summary() {
        let s = parse_summary(DONE);
        assert!(s.unrecognized.is_empty(), "{:?}", s.unrecognized);
        assert!(s.title && s.completed);
        assert_eq!(s.docker_tag.as_deref(), Some("v1.0-rocm700-mi30x-20250301"));
        assert_eq!(s.image_date(), Some(20250301));
        assert_eq!(
            s.prefill,
            Some(ServerSpec {
                port: 30025,
                gpus: "0-3".into(),
                tp: Some(4)
            })
        );
        assert_eq!(s.load_balancer_port, Some(30028));
        assert_eq!(s.steps.len(), 4);
        assert_eq!(s.steps_total_secs(), 120);
        assert_eq!(s.setup_time_secs, Some(120));
        assert_eq!(s.tests.len(), 4);
        assert_eq!(s.tests[3].status, TestStatus::Pass);
        assert_eq!(
            s.gsm8k,
            Some(Gsm8kLine {
                accuracy: Gsm8kAccuracy::Value("0.9100".into()),
                verdict: TestStatus::Pass,
                secs: 160
            })
        );
        assert_eq!(s.questions_per_second, Some(Rate::Value("1.25".into())));
        assert_eq!(
            expected_questions_per_second(160),
            Rate::Value("1.25".into())
        );
        assert_eq!(s.parallelism, Some(16));
        assert_eq!(s.timeout_secs, Some(600));
        assert_eq!(s.log_files.len(), 4);
    }

    #[test]
    fn pending_summary_is_typed() {
        let s = parse_summary(PENDING);
        assert!(s.unrecognized.is_empty(), "{:?}", s.unrecognized);
        assert!(s.tests.iter().all(|t| t.status == TestStatus::Pending));
        let g = s.gsm8k.expect("Test 6 line");
        assert_eq!(g.accuracy, Gsm8kAccuracy::Pending);
        assert_eq!(g.verdict, TestStatus::Pending);
        assert_eq!(s.questions_per_second, Some(Rate::NotAvailable));
        assert_eq!(expected_questions_per_second(0), Rate::NotAvailable);
        assert_eq!(s.total_time_secs, Some(900));
    }

    #[test]
    fn truncated_and_empty_summaries() {
        let cut = &DONE[..DONE.len() / 2];
        let s = parse_summary(cut);
        assert!(!s.completed);
        assert!(s.gsm8k.is_none());
        assert_eq!(parse_summary(b""), PdSummary::default());
    }

    #[test]
    fn gsm8k_log_last_accuracy_line_and_errors() {
        let g = parse_gsm8k_log(GSM8K);
        assert_eq!(g.accuracy.as_deref(), Some("0.9100"));
        assert!(g.results_block);
        assert_eq!(g.total_questions, Some(200));
        assert_eq!(g.read_timeouts, 2);
        assert_eq!(g.progress_lines, 2);
        let e = parse_gsm8k_log(GSM8K_503);
        assert_eq!(e.accuracy.as_deref(), Some("0.0000"));
        assert_eq!(e.http_503, 2);
        assert_eq!(parse_gsm8k_log(b""), PdGsm8kLog::default());
        assert_eq!(expected_gsm8k_accuracy(None), Gsm8kAccuracy::Pending);
        assert_eq!(
            expected_gsm8k_accuracy(Some(&g)),
            Gsm8kAccuracy::Value("0.9100".into())
        );
    }

    #[test]
    fn verdict_drift() {
        let zero = Gsm8kAccuracy::Value("0.0000".into());
        assert_eq!(
            expected_gsm8k_verdict(&zero, 20251123),
            Some(TestStatus::Pass)
        );
        assert_eq!(
            expected_gsm8k_verdict(&zero, 20251124),
            Some(TestStatus::Fail)
        );
        let good = Gsm8kAccuracy::Value("0.9450".into());
        assert_eq!(
            expected_gsm8k_verdict(&good, 20251120),
            Some(TestStatus::Pass)
        );
        assert_eq!(expected_gsm8k_verdict(&good, 20251201), None);
        assert_eq!(
            expected_gsm8k_verdict(&Gsm8kAccuracy::Pending, 1),
            Some(TestStatus::Pending)
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let s = parse_summary(&data);
            prop_assert!(s.unrecognized.len() <= text::lines(&data).count());
            let _ = s.image_date();
            let g = parse_gsm8k_log(&data);
            prop_assert!(g.accuracy.as_deref().is_none_or(|a| !a.contains(char::is_whitespace)));
        }

        #[test]
        fn qps_has_two_decimals(d in 1u64..100_000) {
            match expected_questions_per_second(d) {
                Rate::Value(v) => prop_assert_eq!(v.split_once('.').map(|(_, f)| f.len()), Some(2)),
                Rate::NotAvailable => prop_assert!(false),
            }
        }
    }
}
