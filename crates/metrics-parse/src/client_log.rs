//! The toolkit's client-run logs around `sglang.bench_serving` (spec benchmarks.md §4.8, §5.9,
//! §7.10; corpus README §1.1, §3).
//!
//! * Grok, `sglang_client_log_<M>_aiter_<R>_run<i>_<YYYYMMDD_HHMMSS>.log`:
//!   `Running benchmark with request rate: <R> (Run <i>) for mode aiter`, `Run started at:`,
//!   `Executing: <command>`, the tool's output (tqdm bars with `\r`), `Run completed at:`,
//!   `Run duration: <s> seconds`, 40 `-`.
//! * DeepSeek, `sglang_serving_benchmark_concurrency_<C>_run<n>_<YYYYMMDD_HHMMSS>.log`:
//!   `Run started at:`, `Using <N> prompts for concurrency <C>`, the output (written at the
//!   end), `Run completed at:`, `Run duration:`. A killed run leaves only the first two lines.
//!
//! [`ClientLog::parse`] reads one log into its wrapper lines, the toolkit's view of the three
//! median metrics (first occurrence anywhere in the file, as the original's `grep`/`awk`) and
//! an outcome ([`ClientLogOutcome`]). The hot path is a handful of `memmem` scans: the logs are
//! mostly progress bars and are never split into lines beyond the first few.

use std::sync::LazyLock;

use memchr::memmem;
use regex::Regex;
use serde::Serialize;

use crate::bench_serving::ResultBlock;
use crate::text;
use crate::value::Num;

/// The completion marker the toolkit appends after the tool returns (its resume check).
pub const COMPLETED_MARKER: &str = "Run completed at:";
const DURATION_MARKER: &str = "Run duration:";
const TRACEBACK: &str = "Traceback (most recent call last):";

/// Which load a client log belongs to, from its file name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "layout", rename_all = "snake_case")]
pub enum ClientLogName {
    /// `sglang_client_log_<model>_<mode>_<rate>_run<run>_<timestamp>.log` (Grok).
    RequestRate {
        /// `<MODEL_NAME>` (`GROK1`).
        model: String,
        /// `aiter` in every corpus file.
        mode: String,
        /// The request rate as written (`1`, `16`).
        rate: String,
        /// Run number.
        run: u32,
        /// `YYYYMMDD_HHMMSS` (PT), when present.
        timestamp: Option<String>,
    },
    /// `sglang_serving_benchmark_concurrency_<c>_run<run>_<timestamp>.log` (DeepSeek).
    Concurrency {
        /// The concurrency as written (`128`).
        concurrency: String,
        /// Run number.
        run: u32,
        /// `YYYYMMDD_HHMMSS` (PT), when present.
        timestamp: Option<String>,
    },
}

static GROK_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"^sglang_client_log_(.+?)_([A-Za-z]+)_(\d+(?:\.\d+)?)_run(\d+)(?:_(\d{8}_\d{6}))?\.log$",
    )
    .expect("static regex")
});
static DEEPSEEK_NAME: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"^sglang_serving_benchmark_concurrency_(\d+)_run(\d+)(?:_(\d{8}_\d{6}))?\.log$")
        .expect("static regex")
});

impl ClientLogName {
    /// Parses a file name (no directory). `None` for anything else, including the GSM8K logs
    /// `sglang_client_log_<M>_gsm8k[_aiter].log`. `_1_run` never matches `_16_run`.
    pub fn parse(file_name: &str) -> Option<Self> {
        if let Some(c) = GROK_NAME.captures(file_name) {
            return Some(Self::RequestRate {
                model: c[1].to_owned(),
                mode: c[2].to_owned(),
                rate: c[3].to_owned(),
                run: c[4].parse().ok()?,
                timestamp: c.get(5).map(|m| m.as_str().to_owned()),
            });
        }
        let c = DEEPSEEK_NAME.captures(file_name)?;
        Some(Self::Concurrency {
            concurrency: c[1].to_owned(),
            run: c[2].parse().ok()?,
            timestamp: c.get(3).map(|m| m.as_str().to_owned()),
        })
    }

    /// The request rate or concurrency, as written in the name.
    pub fn load(&self) -> &str {
        match self {
            Self::RequestRate { rate, .. } => rate,
            Self::Concurrency { concurrency, .. } => concurrency,
        }
    }

    /// The run number.
    pub fn run(&self) -> u32 {
        match self {
            Self::RequestRate { run, .. } | Self::Concurrency { run, .. } => *run,
        }
    }

    /// The `YYYYMMDD_HHMMSS` part, when present.
    pub fn timestamp(&self) -> Option<&str> {
        match self {
            Self::RequestRate { timestamp, .. } | Self::Concurrency { timestamp, .. } => {
                timestamp.as_deref()
            }
        }
    }
}

/// The toolkit's own lines around the tool output.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Wrapper {
    /// Grok: `Running benchmark with request rate: <R> (Run <i>) for mode <m>` → (R, i, m).
    pub request_rate: Option<RateHeader>,
    /// `Run started at: <ts>`.
    pub started_at: Option<String>,
    /// Grok: the command after `Executing: `.
    pub executing: Option<String>,
    /// DeepSeek: `Using <N> prompts for concurrency <C>`.
    pub prompts: Option<PromptsLine>,
    /// `Run completed at: <ts>` (the last one).
    pub completed_at: Option<String>,
    /// `Run duration: <s> seconds`.
    pub duration_s: Option<Num>,
}

/// `Running benchmark with request rate: <R> (Run <i>) for mode <m>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RateHeader {
    /// `<R>` as written.
    pub rate: String,
    /// `<i>`.
    pub run: u32,
    /// `<m>` (`aiter`).
    pub mode: Option<String>,
}

/// `Using <N> prompts for concurrency <C>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PromptsLine {
    /// Number of prompts.
    pub prompts: u64,
    /// Concurrency as written.
    pub concurrency: String,
}

/// What a client log holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "detail", rename_all = "snake_case")]
pub enum ClientLogOutcome {
    /// A result block with its closing line.
    Complete(ResultBlock),
    /// A result block cut off before its closing line (values so far are kept, marked).
    TruncatedBlock(ResultBlock),
    /// No result block; the tool died with a Python traceback. The exception line
    /// (`requests.exceptions.ConnectionError: ...`).
    Traceback(String),
    /// No result block although the toolkit wrote its `Run completed at:` trailer.
    NoResultBlock,
    /// No result block and no trailer: the run was cut off (a 76-byte DeepSeek stub, a
    /// progress bar that stops).
    Killed,
    /// Zero bytes or only whitespace.
    Empty,
}

impl ClientLogOutcome {
    /// The block, complete or truncated.
    pub fn block(&self) -> Option<&ResultBlock> {
        match self {
            Self::Complete(b) | Self::TruncatedBlock(b) => Some(b),
            _ => None,
        }
    }

    /// A short name (`complete`, `truncated_block`, `traceback`, `no_result_block`, `killed`,
    /// `empty`).
    pub fn name(&self) -> &'static str {
        match self {
            Self::Complete(_) => "complete",
            Self::TruncatedBlock(_) => "truncated_block",
            Self::Traceback(_) => "traceback",
            Self::NoResultBlock => "no_result_block",
            Self::Killed => "killed",
            Self::Empty => "empty",
        }
    }
}

/// The three medians the legacy CSVs copy, read the toolkit's way: the number after the
/// **first** occurrence of the label anywhere in the file (`None` when that occurrence is not
/// followed by a number).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ToolkitMedians {
    /// First `Median E2E Latency (ms):` value.
    pub e2e: Option<Num>,
    /// First `Median TTFT (ms):` value.
    pub ttft: Option<Num>,
    /// First `Median ITL (ms):` value.
    pub itl: Option<Num>,
}

/// One parsed client log.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClientLog {
    /// The toolkit's wrapper lines.
    pub wrapper: Wrapper,
    /// The toolkit's reading of the medians (what the best-run rule uses).
    pub medians: ToolkitMedians,
    /// What the log holds.
    pub outcome: ClientLogOutcome,
    /// How many result blocks the file contains (1 normally; 0 on failure).
    pub blocks: usize,
}

impl ClientLog {
    /// Parses a client log of either layout.
    pub fn parse(data: &[u8]) -> Self {
        let wrapper = parse_wrapper(data);
        let medians = ToolkitMedians {
            e2e: first_value(data, "Median E2E Latency (ms):"),
            ttft: first_value(data, "Median TTFT (ms):"),
            itl: first_value(data, "Median ITL (ms):"),
        };
        let header = crate::bench_serving::HEADER.as_bytes();
        let blocks = memmem::find_iter(data, header).count();
        let outcome = if data.iter().all(u8::is_ascii_whitespace) {
            ClientLogOutcome::Empty
        } else if let Some(block) = ResultBlock::parse_first(data) {
            if block.complete {
                ClientLogOutcome::Complete(block)
            } else {
                ClientLogOutcome::TruncatedBlock(block)
            }
        } else if let Some(exc) = traceback_exception(data) {
            ClientLogOutcome::Traceback(exc)
        } else if wrapper.completed_at.is_some() {
            ClientLogOutcome::NoResultBlock
        } else {
            ClientLogOutcome::Killed
        };
        Self {
            wrapper,
            medians,
            outcome,
            blocks,
        }
    }

    /// True when the toolkit's resume check counts the run as done (`Run completed at:`
    /// anywhere in the file).
    pub fn completed(&self) -> bool {
        self.wrapper.completed_at.is_some()
    }
}

/// The number after the first occurrence of `label` in `data` (the toolkit's
/// `grep -m1 label | awk '{print $N}'`), or `None` when no number follows it.
pub fn first_value(data: &[u8], label: &str) -> Option<Num> {
    let at = memmem::find(data, label.as_bytes())? + label.len();
    let rest = &data[at..];
    let end = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
    let tail = std::str::from_utf8(&rest[..end]).ok().or_else(|| {
        // Invalid UTF-8 later in the line: the number itself is ASCII.
        let ok = rest[..end]
            .iter()
            .position(|b| !b.is_ascii())
            .unwrap_or(end);
        std::str::from_utf8(&rest[..ok]).ok()
    })?;
    Num::leading(tail)
}

/// How many head lines to look at for wrapper lines.
const HEAD_LINES: usize = 12;

fn parse_wrapper(data: &[u8]) -> Wrapper {
    let mut w = Wrapper::default();
    for raw in text::lines(data).take(HEAD_LINES) {
        let line = text::clean(raw);
        let line = line.trim_end();
        if let Some(rest) = line.strip_prefix("Running benchmark with request rate:") {
            w.request_rate = parse_rate_header(rest);
        } else if let Some(rest) = line.strip_prefix("Run started at:") {
            w.started_at.get_or_insert_with(|| rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("Executing:") {
            w.executing.get_or_insert_with(|| rest.trim().to_owned());
        } else if let Some(rest) = line.strip_prefix("Using ")
            && let Some(p) = parse_prompts(rest)
        {
            w.prompts.get_or_insert(p);
        }
    }
    if let Some(line) = last_line_starting_with(data, COMPLETED_MARKER) {
        w.completed_at = Some(line[COMPLETED_MARKER.len()..].trim().to_owned());
    }
    if let Some(line) = last_line_starting_with(data, DURATION_MARKER) {
        w.duration_s = Num::leading(&line[DURATION_MARKER.len()..]);
    }
    w
}

/// ` 16 (Run 3) for mode aiter`
fn parse_rate_header(rest: &str) -> Option<RateHeader> {
    let rest = rest.trim();
    let (rate, rest) = rest.split_once(' ')?;
    let rest = rest.trim_start().strip_prefix("(Run ")?;
    let (run, rest) = rest.split_once(')')?;
    let mode = rest
        .trim()
        .strip_prefix("for mode ")
        .map(|m| m.trim().to_owned());
    Some(RateHeader {
        rate: rate.to_owned(),
        run: run.trim().parse().ok()?,
        mode,
    })
}

/// `128 prompts for concurrency 4`
fn parse_prompts(rest: &str) -> Option<PromptsLine> {
    let (n, rest) = rest.split_once(" prompts for concurrency ")?;
    Some(PromptsLine {
        prompts: n.trim().parse().ok()?,
        concurrency: rest.trim().to_owned(),
    })
}

/// The last line (split on `\n`/`\r`) that starts with `prefix`, ANSI-cleaned.
fn last_line_starting_with(data: &[u8], prefix: &str) -> Option<String> {
    let finder = memmem::FinderRev::new(prefix.as_bytes());
    let mut end = data.len();
    while let Some(at) = finder.rfind(&data[..end]) {
        let at_line_start = at == 0 || matches!(data[at - 1], b'\n' | b'\r');
        if at_line_start {
            let rest = &data[at..];
            let stop = memchr::memchr2(b'\n', b'\r', rest).unwrap_or(rest.len());
            return Some(text::clean(&rest[..stop]).into_owned());
        }
        end = at;
    }
    None
}

/// The exception line of the last Python traceback: the first non-indented, non-empty line
/// after the last `Traceback (most recent call last):`.
pub fn traceback_exception(data: &[u8]) -> Option<String> {
    let at = memmem::rfind(data, TRACEBACK.as_bytes())?;
    let after = &data[at + TRACEBACK.len()..];
    for raw in text::lines(after) {
        let line = text::clean(raw);
        if line.trim().is_empty() || line.starts_with([' ', '\t']) {
            continue;
        }
        return Some(line.trim_end().to_owned());
    }
    Some(String::new())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GROK: &[u8] = include_bytes!("../../../fixtures/client_log/grok_rate_complete.log");
    const DS: &[u8] = include_bytes!("../../../fixtures/client_log/deepseek_complete.log");
    const DS_KILLED: &[u8] = include_bytes!("../../../fixtures/client_log/deepseek_killed.log");
    const TB: &[u8] = include_bytes!("../../../fixtures/client_log/deepseek_traceback.log");
    const CUT: &[u8] = include_bytes!("../../../fixtures/client_log/grok_cut_progress.log");

    #[test]
    fn grok_names() {
        let n = ClientLogName::parse("sglang_client_log_GROK1_aiter_16_run3_20251029_115445.log")
            .unwrap();
        assert_eq!(
            n,
            ClientLogName::RequestRate {
                model: "GROK1".into(),
                mode: "aiter".into(),
                rate: "16".into(),
                run: 3,
                timestamp: Some("20251029_115445".into())
            }
        );
        assert_eq!(n.load(), "16");
        let n = ClientLogName::parse(
            "sglang_client_log_DeepSeek-V3_x_aiter_1_run1_20251029_115445.log",
        )
        .unwrap();
        assert!(
            matches!(n, ClientLogName::RequestRate { ref model, .. } if model == "DeepSeek-V3_x")
        );
        assert_eq!(
            ClientLogName::parse("sglang_client_log_GROK1_gsm8k_aiter.log"),
            None
        );
        assert_eq!(
            ClientLogName::parse("sglang_client_log_GROK1_gsm8k.log"),
            None
        );
        assert_eq!(
            ClientLogName::parse("sglang_client_log_GROK1_aiter_1_run1_x.log.bak"),
            None
        );
    }

    #[test]
    fn deepseek_names() {
        let n = ClientLogName::parse(
            "sglang_serving_benchmark_concurrency_128_run1_20251029_152300.log",
        )
        .unwrap();
        assert_eq!(n.load(), "128");
        assert_eq!(n.run(), 1);
        assert_eq!(n.timestamp(), Some("20251029_152300"));
        assert_eq!(
            ClientLogName::parse("sglang_serving_benchmark_concurrency_x_run1_20251029_152300.log"),
            None
        );
    }

    #[test]
    fn grok_complete_log() {
        let log = ClientLog::parse(GROK);
        assert_eq!(
            log.wrapper.request_rate,
            Some(RateHeader {
                rate: "1".into(),
                run: 1,
                mode: Some("aiter".into())
            })
        );
        assert_eq!(
            log.wrapper.started_at.as_deref(),
            Some("2025-10-14 06:05:35 PDT")
        );
        assert!(
            log.wrapper
                .executing
                .as_deref()
                .unwrap()
                .starts_with("python3 -m sglang.bench_serving")
        );
        assert_eq!(
            log.wrapper.completed_at.as_deref(),
            Some("2025-10-14 06:10:54 PDT")
        );
        assert_eq!(log.wrapper.duration_s.as_ref().unwrap().text, "319");
        assert_eq!(log.medians.e2e.as_ref().unwrap().text, "9893.41");
        assert_eq!(log.medians.ttft.as_ref().unwrap().text, "99.93");
        assert_eq!(log.medians.itl.as_ref().unwrap().text, "17.17");
        assert!(log.completed());
        assert_eq!(log.blocks, 1);
        let ClientLogOutcome::Complete(b) = &log.outcome else {
            panic!("{:?}", log.outcome)
        };
        assert_eq!(b.e2e.median, log.medians.e2e);
    }

    #[test]
    fn deepseek_complete_and_killed() {
        let log = ClientLog::parse(DS);
        assert_eq!(
            log.wrapper.prompts,
            Some(PromptsLine {
                prompts: 128,
                concurrency: "4".into()
            })
        );
        assert_eq!(log.outcome.name(), "complete");
        assert_eq!(log.medians.e2e.as_ref().unwrap().text, "195.51");

        let killed = ClientLog::parse(DS_KILLED);
        assert_eq!(killed.outcome, ClientLogOutcome::Killed);
        assert_eq!(killed.medians, ToolkitMedians::default());
        assert!(!killed.completed());
        assert_eq!(
            killed.wrapper.started_at.as_deref(),
            Some("2025-11-02 13:48:32 PST")
        );
    }

    #[test]
    fn traceback_and_cut_and_empty() {
        let log = ClientLog::parse(TB);
        assert_eq!(
            log.outcome,
            ClientLogOutcome::Traceback(
                "requests.exceptions.ConnectionError: HTTPSConnectionPool(host='huggingface.co', port=443): Max retries exceeded".into()
            )
        );
        assert!(log.completed());
        let cut = ClientLog::parse(CUT);
        assert_eq!(cut.outcome, ClientLogOutcome::Killed);
        assert_eq!(ClientLog::parse(b"").outcome, ClientLogOutcome::Empty);
        assert_eq!(
            ClientLog::parse(b" \n\r\n").outcome,
            ClientLogOutcome::Empty
        );
        let no_block =
            b"Run started at: x\nUsing 5 prompts for concurrency 1\nhello\nRun completed at: y\n";
        assert_eq!(
            ClientLog::parse(no_block).outcome,
            ClientLogOutcome::NoResultBlock
        );
    }

    #[test]
    fn half_a_log_is_a_truncated_block_not_a_wrong_number() {
        let at = memmem::find(GROK, b"Median TTFT").unwrap() + 5;
        let log = ClientLog::parse(&GROK[..at]);
        let ClientLogOutcome::TruncatedBlock(b) = &log.outcome else {
            panic!("{:?}", log.outcome)
        };
        assert_eq!(b.e2e.median.as_ref().unwrap().text, "9893.41");
        assert_eq!(b.ttft.median, None);
        assert_eq!(log.medians.ttft, None);
        assert!(!log.completed());
    }

    #[test]
    fn first_value_is_the_toolkit_rule() {
        assert_eq!(
            first_value(
                b"x Median TTFT (ms):  1.50  \nMedian TTFT (ms): 2",
                "Median TTFT (ms):"
            )
            .unwrap()
            .text,
            "1.50"
        );
        assert_eq!(
            first_value(
                b"Median TTFT (ms):\nMedian TTFT (ms): 2",
                "Median TTFT (ms):"
            ),
            None
        );
        assert_eq!(
            first_value(b"Median TTFT (ms): 3.25 \xff\xfe", "Median TTFT (ms):")
                .unwrap()
                .text,
            "3.25"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let log = ClientLog::parse(&data);
            let _ = log.outcome.name();
        }

        #[test]
        fn any_file_name_never_panics(name in "\\PC{0,80}") {
            let _ = ClientLogName::parse(&name);
        }
    }
}
