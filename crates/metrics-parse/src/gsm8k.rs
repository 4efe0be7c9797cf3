//! GSM8K output: the benchmark client's four result lines and the toolkit's GSM8K logs
//! `sglang_client_log_<M>_gsm8k[_aiter].log` in every generation (spec benchmarks.md §4.7,
//! §5.8, §6.3, §7.10; corpus README §2.3, §4).
//!
//! The client (`bench_sglang.py` / `few_shot_gsm8k`) prints `Accuracy: 0.810`,
//! `Invalid: 0.000`, `Latency: 28.606 s`, `Output throughput: 6680.756 token/s`
//! ([`BenchOutput`]). The toolkit wraps five runs of it:
//!
//! | generation | final lines |
//! |---|---|
//! | [`Generation::V1`] | `Average Accuracy over 5 runs[ for mode aiter]: <avg>` + verdict |
//! | [`Generation::V2`] | per-run `✓ Run i included …` / `✗ Run i excluded …`, `Total runs: 5, Valid runs: v, Excluded runs: e`, `Average Accuracy over <v> valid runs[ for mode aiter]: <avg>` |
//! | [`Generation::V3EarlyExit`] | `🚀 Passed on run 1, skipping remaining 4 run(s)`, `GSM8K test completed in N seconds (early exit)`, `Accuracy: <a> (Required: <t>)`, `Accuracy meets threshold (<t>)…` |
//!
//! Grok logs are appended to across attempts (one [`Attempt`] per
//! `Starting GSM8K accuracy test at:`); DeepSeek logs are truncated per attempt.
//! [`recompute_average`] reproduces the printed average exactly (C `%.3f` on the binary
//! double; the literal `0` when no run is valid). [`plot_script_accuracy`] is the online plot
//! script's legacy reading.

use serde::Serialize;

use crate::text;
use crate::value::{Num, c_fixed};

/// The four result lines of one client run (each the first of its kind).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct BenchOutput {
    /// `Accuracy: <a>`.
    pub accuracy: Option<Num>,
    /// `Invalid: <i>`.
    pub invalid: Option<Num>,
    /// `Latency: <s> s`.
    pub latency_s: Option<Num>,
    /// `Output throughput: <t> token/s`.
    pub output_throughput: Option<Num>,
}

impl BenchOutput {
    /// Reads the client's result lines from raw output (`\r` progress bars and ANSI codes
    /// allowed). An `Accuracy: x (Required: y)` toolkit line is not a client line.
    pub fn parse(data: &[u8]) -> Self {
        let mut out = Self::default();
        for raw in text::lines(data) {
            out.take_line(&text::clean(raw));
        }
        out
    }

    /// Records `line` if it is one of the four result lines not yet seen; true when it was one.
    fn take_line(&mut self, line: &str) -> bool {
        let line = line.trim_end();
        let (slot, rest) = if let Some(r) = line.strip_prefix("Accuracy: ") {
            if r.contains("(Required:") {
                return false;
            }
            (&mut self.accuracy, r)
        } else if let Some(r) = line.strip_prefix("Invalid: ") {
            (&mut self.invalid, r)
        } else if let Some(r) = line.strip_prefix("Latency: ") {
            (&mut self.latency_s, r)
        } else if let Some(r) = line.strip_prefix("Output throughput: ") {
            (&mut self.output_throughput, r)
        } else {
            return false;
        };
        if slot.is_none() {
            *slot = Num::leading(rest);
        }
        true
    }
}

/// Whether a run counted in the v2 average.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Inclusion {
    /// `✓ Run i included in average (accuracy: a)`.
    Included {
        /// `a` as printed.
        accuracy: String,
    },
    /// `✗ Run i excluded from average (accuracy: a < t - likely failed/crashed)`.
    ExcludedLow {
        /// `a` as printed (`0` or `0.000`).
        accuracy: String,
        /// `t` (`0.1`).
        threshold: String,
    },
    /// `✗ Run i excluded from average (warm-up run)`.
    ExcludedWarmup,
}

/// One of the toolkit's GSM8K runs.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Run {
    /// `i` from `Executing GSM8K test Run i …`.
    pub index: u32,
    /// The client's result lines inside this run.
    pub bench: BenchOutput,
    /// `Run i completed in <s> seconds`.
    pub completed_in_s: Option<Num>,
    /// `Run i: Accuracy not found, defaulting to 0` was printed.
    pub accuracy_not_found: bool,
    /// `Run i: Accuracy: <v>` — the value the toolkit used, verbatim (`0.810`, or `0`).
    pub accuracy: Option<Num>,
    /// v2/v3 inclusion line.
    pub inclusion: Option<Inclusion>,
    /// `⚠️  Connection error detected during Run i`.
    pub connection_error: bool,
}

/// `Average Accuracy over <n> [valid ]runs[ for mode <m>]: <avg>`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AverageLine {
    /// `<n>`.
    pub runs: u32,
    /// `valid runs` (v2) rather than `runs` (v1).
    pub valid_only: bool,
    /// `<m>` (Grok: `aiter`).
    pub mode: Option<String>,
    /// `<avg>` verbatim (`0.808`, or literally `0` when no run was valid).
    pub value: String,
}

/// `Total runs: t, Valid runs: v, Excluded runs: e` (v2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// `t`.
    pub total: u32,
    /// `v`.
    pub valid: u32,
    /// `e`.
    pub excluded: u32,
}

/// v3 early exit: `🚀 Passed on run i, skipping remaining k run(s)` and
/// `Accuracy: a (Required: t)`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EarlyExit {
    /// The passing run `i`.
    pub passed_run: Option<u32>,
    /// `k`.
    pub skipped: Option<u32>,
    /// `a` verbatim.
    pub accuracy: Option<Num>,
    /// `t` verbatim.
    pub required: Option<String>,
}

/// The verdict line.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// `meets threshold` rather than `is below threshold`.
    pub passed: bool,
    /// The threshold text inside the parentheses (`0.8`, `0.93`).
    pub threshold: String,
    /// The line verbatim.
    pub line: String,
}

/// The format generation of one attempt.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Generation {
    /// Plain 5-run average, every run counts.
    V1,
    /// Valid/excluded runs, `Average Accuracy over <v> valid runs`.
    V2,
    /// Early exit after a passing run.
    V3EarlyExit,
    /// Not enough lines to tell (attempt cut off before its final lines).
    Unknown,
}

/// One GSM8K attempt (from `Starting GSM8K accuracy test at:` to the verdict).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Attempt {
    /// `Starting GSM8K accuracy test at: <ts>` (None for text before any such line).
    pub started_at: Option<String>,
    /// The mode from `Executing GSM8K test Run i for mode <m>...` (Grok: `aiter`).
    pub mode: Option<String>,
    /// The runs, in order.
    pub runs: Vec<Run>,
    /// `Checking server health before Run i...` followed by `✅ Server is healthy` (true) or
    /// `❌ Server is not responding!…` (false).
    pub health_checks: Vec<(u32, bool)>,
    /// `✅ Server restarted successfully` count.
    pub restarts: u32,
    /// `GSM8K test completed in <s> seconds[ (early exit)]`.
    pub completed_in_s: Option<Num>,
    /// v2 totals line.
    pub totals: Option<Totals>,
    /// The average line.
    pub average: Option<AverageLine>,
    /// v3 early exit.
    pub early_exit: Option<EarlyExit>,
    /// The verdict line.
    pub verdict: Option<Verdict>,
}

/// The value an attempt ended with: its average, or the early-exit accuracy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FinalAccuracy {
    /// Verbatim text (`0.937`, `0`).
    pub text: String,
    /// From `Accuracy: a (Required: t)` rather than an average line.
    pub early_exit: bool,
}

impl Attempt {
    /// The format generation, from the lines present.
    pub fn generation(&self) -> Generation {
        if self.early_exit.is_some() {
            Generation::V3EarlyExit
        } else if self.totals.is_some()
            || self.average.as_ref().is_some_and(|a| a.valid_only)
            || self.runs.iter().any(|r| r.inclusion.is_some())
        {
            Generation::V2
        } else if self.average.is_some() {
            Generation::V1
        } else {
            Generation::Unknown
        }
    }

    /// The attempt's final accuracy: the average line's value, or the early-exit accuracy.
    /// `None` when the attempt was cut off before either.
    pub fn final_accuracy(&self) -> Option<FinalAccuracy> {
        if let Some(a) = &self.average {
            return Some(FinalAccuracy {
                text: a.value.clone(),
                early_exit: false,
            });
        }
        let acc = self.early_exit.as_ref()?.accuracy.as_ref()?;
        Some(FinalAccuracy {
            text: acc.text.clone(),
            early_exit: true,
        })
    }

    /// The accuracies that count in the average: every run's `Run i: Accuracy:` value in v1
    /// (a missing accuracy counts as 0), the `included` runs in v2/v3.
    pub fn averaged_accuracies(&self) -> Vec<f64> {
        let v2 = self.generation() != Generation::V1;
        self.runs
            .iter()
            .filter(|r| !v2 || matches!(r.inclusion, Some(Inclusion::Included { .. })))
            .map(|r| r.accuracy.as_ref().map_or(0.0, |n| n.value))
            .collect()
    }
}

/// A whole GSM8K log.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gsm8kLog {
    /// Attempts in file order (Grok logs accumulate several).
    pub attempts: Vec<Attempt>,
}

impl Gsm8kLog {
    /// Parses a toolkit GSM8K log. Text before the first `Starting …` line (a log cut at the
    /// start, or raw client output) forms an attempt with `started_at: None`.
    pub fn parse(data: &[u8]) -> Self {
        let mut log = Self::default();
        let mut pending_health: Option<u32> = None;
        for raw in text::lines(data) {
            // tqdm redraws (` 45%|####…`) are most of the file and never a line we read.
            let first = raw.iter().find(|b| !b.is_ascii_whitespace());
            if first.is_none_or(u8::is_ascii_digit) {
                continue;
            }
            let cleaned = text::clean(raw);
            let line = cleaned.trim();
            if let Some(rest) = line.strip_prefix("Starting GSM8K accuracy test at:") {
                log.attempts.push(Attempt {
                    started_at: Some(rest.trim().to_owned()),
                    ..Attempt::default()
                });
                continue;
            }
            let attempt = match log.attempts.last_mut() {
                Some(a) => a,
                None => {
                    log.attempts.push(Attempt::default());
                    log.attempts.last_mut().expect("just pushed")
                }
            };
            take_line(attempt, line, &mut pending_health);
        }
        // Drop a leading implicit attempt that holds nothing (blank preamble).
        if log
            .attempts
            .first()
            .is_some_and(|a| a.started_at.is_none() && *a == Attempt::default())
        {
            log.attempts.remove(0);
        }
        log
    }

    /// The last attempt's final accuracy (what the timing summary reports).
    pub fn final_accuracy(&self) -> Option<FinalAccuracy> {
        self.attempts.last()?.final_accuracy()
    }
}

fn take_line(a: &mut Attempt, line: &str, pending_health: &mut Option<u32>) {
    // Client result lines belong to the current run.
    if line.starts_with("Accuracy: ") && line.contains("(Required:") {
        // `Accuracy: 0.939 (Required: 0.93)`
        let e = a.early_exit.get_or_insert_with(EarlyExit::default);
        e.accuracy = Num::after(line, "Accuracy:");
        e.required = between(line, "(Required:", ")").map(|s| s.trim().to_owned());
        return;
    }
    if let Some(run) = a.runs.last_mut()
        && run.bench.take_line(line)
    {
        return;
    }
    if let Some(rest) = line.strip_prefix("Executing GSM8K test Run ") {
        // `1 for mode aiter...` or `1 ...`
        let (idx, tail) = split_number(rest);
        if let Some(mode) = tail.trim().strip_prefix("for mode ") {
            let mode = mode.trim_end_matches('.').trim();
            a.mode.get_or_insert_with(|| mode.to_owned());
        }
        a.runs.push(Run {
            index: idx.unwrap_or(0),
            ..Run::default()
        });
        return;
    }
    if let Some(rest) = line.strip_prefix("Run ") {
        let (idx, tail) = split_number(rest);
        let Some(idx) = idx else { return };
        let run = run_mut(a, idx);
        if let Some(t) = tail.strip_prefix(" completed in ") {
            run.completed_in_s = Num::leading(t);
        } else if tail.starts_with(": Accuracy not found") {
            run.accuracy_not_found = true;
        } else if let Some(t) = tail.strip_prefix(": Accuracy:") {
            run.accuracy = Num::leading(t);
        }
        return;
    }
    if let Some(rest) = strip_mark(line, "✓ Run ") {
        let (idx, tail) = split_number(rest);
        if let (Some(idx), Some(acc)) = (idx, between(tail, "(accuracy:", ")")) {
            run_mut(a, idx).inclusion = Some(Inclusion::Included {
                accuracy: acc.trim().to_owned(),
            });
        }
        return;
    }
    if let Some(rest) = strip_mark(line, "✗ Run ") {
        let (idx, tail) = split_number(rest);
        let Some(idx) = idx else { return };
        let inclusion = if tail.contains("(warm-up run)") {
            Inclusion::ExcludedWarmup
        } else {
            let inner = between(tail, "(accuracy:", " - ").unwrap_or_default();
            let (acc, thr) = inner.split_once('<').unwrap_or((inner, ""));
            Inclusion::ExcludedLow {
                accuracy: acc.trim().to_owned(),
                threshold: thr.trim().to_owned(),
            }
        };
        run_mut(a, idx).inclusion = Some(inclusion);
        return;
    }
    if let Some(rest) = line.strip_prefix("Checking server health before Run ") {
        *pending_health = split_number(rest).0;
        return;
    }
    if line.contains("Server is healthy") || line.contains("Server is not responding") {
        if let Some(run) = pending_health.take() {
            a.health_checks.push((run, line.contains("healthy")));
        }
        return;
    }
    if line.contains("Server restarted successfully") {
        a.restarts += 1;
        return;
    }
    if line.contains("Connection error detected during Run ") {
        if let Some(rest) = line.split("during Run ").nth(1)
            && let (Some(idx), _) = split_number(rest)
        {
            run_mut(a, idx).connection_error = true;
        }
        return;
    }
    if let Some(rest) = strip_mark(line, "🚀 Passed on run ") {
        let (idx, tail) = split_number(rest);
        let e = a.early_exit.get_or_insert_with(EarlyExit::default);
        e.passed_run = idx;
        e.skipped = tail
            .split_once("remaining ")
            .and_then(|(_, t)| split_number(t).0);
        return;
    }
    if let Some(rest) = line.strip_prefix("GSM8K test completed in ") {
        a.completed_in_s = Num::leading(rest);
        return;
    }
    if let Some(rest) = line.strip_prefix("Total runs: ") {
        // `5, Valid runs: 4, Excluded runs: 1`
        let total = split_number(rest).0;
        let valid = rest
            .split_once("Valid runs: ")
            .and_then(|(_, t)| split_number(t).0);
        let excluded = rest
            .split_once("Excluded runs: ")
            .and_then(|(_, t)| split_number(t).0);
        if let (Some(total), Some(valid), Some(excluded)) = (total, valid, excluded) {
            a.totals = Some(Totals {
                total,
                valid,
                excluded,
            });
        }
        return;
    }
    if let Some(rest) = line.strip_prefix("Average Accuracy over ") {
        a.average = parse_average(rest);
        return;
    }
    if line.starts_with("Average accuracy") || line.starts_with("Accuracy") {
        let passed = line.contains("meets threshold");
        let below = line.contains("is below threshold");
        if passed || below {
            let after = line.split("threshold").nth(1).unwrap_or_default();
            a.verdict = Some(Verdict {
                passed,
                threshold: between(after, "(", ")").unwrap_or_default().to_owned(),
                line: line.to_owned(),
            });
        }
    }
}

/// `5 runs for mode aiter: 0.808` / `4 valid runs: 0.935` / `0 valid runs: 0`
fn parse_average(rest: &str) -> Option<AverageLine> {
    let (head, value) = rest.rsplit_once(':')?;
    let (n, tail) = split_number(head);
    let tail = tail.trim();
    let (valid_only, tail) = match tail.strip_prefix("valid runs") {
        Some(t) => (true, t),
        None => (false, tail.strip_prefix("runs")?),
    };
    let mode = tail
        .trim()
        .strip_prefix("for mode ")
        .map(|m| m.trim().to_owned());
    Some(AverageLine {
        runs: n?,
        valid_only,
        mode,
        value: value.trim().to_owned(),
    })
}

/// The run with index `idx`, or a new one when the `Executing` line is missing (cut log).
fn run_mut(a: &mut Attempt, idx: u32) -> &mut Run {
    let pos = a.runs.iter().rposition(|r| r.index == idx);
    match pos {
        Some(p) => &mut a.runs[p],
        None => {
            a.runs.push(Run {
                index: idx,
                ..Run::default()
            });
            a.runs.last_mut().expect("just pushed")
        }
    }
}

/// Strips a leading marker like `✓ ` / `🚀 ` (any non-ASCII prefix and spaces) then `prefix`.
fn strip_mark<'a>(line: &'a str, prefix: &str) -> Option<&'a str> {
    let start = line.find(prefix)?;
    line[..start]
        .chars()
        .all(|c| !c.is_ascii() || c == ' ')
        .then(|| &line[start + prefix.len()..])
}

/// Leading decimal integer and the rest.
fn split_number(s: &str) -> (Option<u32>, &str) {
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    (s[..end].parse().ok(), &s[end..])
}

/// Text between the first `open` and the next `close` after it.
fn between<'a>(s: &'a str, open: &str, close: &str) -> Option<&'a str> {
    let start = s.find(open)? + open.len();
    let end = s[start..].find(close)? + start;
    Some(&s[start..end])
}

/// Recomputes the printed average from the accuracies that count, as the toolkit did: a
/// running sum rounded to 3 decimals after every addition (`printf "%.3f"`), divided by their
/// number and printed like C `printf("%.3f")` on the binary double (sum 3.730 / 4 = 0.9325 is
/// stored as 0.93249… and prints `0.932`); the literal `0` when nothing counts (`Average
/// Accuracy over 0 valid runs: 0`).
pub fn recompute_average(accuracies: &[f64]) -> String {
    if accuracies.is_empty() {
        return "0".to_owned();
    }
    let sum = accuracies.iter().fold(0.0_f64, |acc, a| {
        // Re-reading the 3-decimal text gives the double the shell's next step parses.
        c_fixed(acc + a, 3).parse().unwrap_or(acc + a)
    });
    c_fixed(sum / accuracies.len() as f64, 3)
}

/// The online plot script's legacy GSM8K reading of one log (corpus README §4,
/// spec benchmarks.md §12.4 step 4): the number after the last `:` of the first line that
/// contains both `Average Accuracy over` and `runs for mode`; otherwise the number of the
/// **first** line starting with `Accuracy:` (for DeepSeek logs that is the first run's
/// accuracy, not the average). `Accuracy: x (Required: y)` lines cannot be parsed by the
/// script and are skipped. Returns the text as printed (`0.813`); lines are split the way
/// Python's text mode does (`\n`, `\r\n`, `\r`).
pub fn plot_script_accuracy(data: &[u8]) -> Option<String> {
    let mut first_single: Option<String> = None;
    for raw in text::lines(data) {
        let cleaned = text::lossy(raw);
        let line = cleaned.trim();
        if line.contains("Average Accuracy over") && line.contains("runs for mode") {
            if let Some((_, v)) = line.rsplit_once(':')
                && let Some(n) = Num::parse(v.trim())
            {
                return Some(n.text);
            }
            continue;
        }
        if first_single.is_none()
            && let Some(rest) = line.strip_prefix("Accuracy:")
            && let Some(n) = Num::parse(rest.trim())
        {
            first_single = Some(n.text);
        }
    }
    first_single
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const V1_GROK: &[u8] = include_bytes!("../../../fixtures/gsm8k/v1_grok_two_attempts.log");
    const V1_DS: &[u8] = include_bytes!("../../../fixtures/gsm8k/v1_deepseek.log");
    const V2_DS: &[u8] = include_bytes!("../../../fixtures/gsm8k/v2_deepseek_restart.log");
    const V2_NONE: &[u8] = include_bytes!("../../../fixtures/gsm8k/v2_all_excluded.log");
    const V3: &[u8] = include_bytes!("../../../fixtures/gsm8k/v3_grok_early_exit.log");

    #[test]
    fn bench_output_lines() {
        let b = BenchOutput::parse(
            b"\r 10%|#| 20/200\rAccuracy: 0.770\nInvalid: 0.005\nLatency: 2.304 s\nOutput throughput: 8743.386 token/s\nAccuracy: 0.1\n",
        );
        assert_eq!(b.accuracy.unwrap().text, "0.770");
        assert_eq!(b.invalid.unwrap().text, "0.005");
        assert_eq!(b.latency_s.unwrap().text, "2.304");
        assert_eq!(b.output_throughput.unwrap().text, "8743.386");
        assert_eq!(
            BenchOutput::parse(b"Accuracy: 0.9 (Required: 0.8)").accuracy,
            None
        );
    }

    #[test]
    fn v1_grok_appended_attempts() {
        let log = Gsm8kLog::parse(V1_GROK);
        assert_eq!(log.attempts.len(), 2);
        let first = &log.attempts[0];
        assert_eq!(first.generation(), Generation::V1);
        assert_eq!(first.mode.as_deref(), Some("aiter"));
        assert_eq!(first.runs.len(), 5);
        assert_eq!(first.runs[0].bench.accuracy.as_ref().unwrap().text, "0.810");
        assert_eq!(first.runs[0].accuracy.as_ref().unwrap().text, "0.810");
        assert_eq!(first.runs[0].completed_in_s.as_ref().unwrap().text, "34");
        let avg = first.average.as_ref().unwrap();
        assert_eq!(
            (avg.runs, avg.valid_only, avg.mode.as_deref()),
            (5, false, Some("aiter"))
        );
        assert_eq!(avg.value, "0.808");
        assert_eq!(recompute_average(&first.averaged_accuracies()), "0.808");
        assert!(first.verdict.as_ref().unwrap().passed);
        assert_eq!(first.verdict.as_ref().unwrap().threshold, "0.8");
        // The second attempt failed: five missing accuracies count as 0.
        let second = &log.attempts[1];
        assert!(second.runs.iter().all(|r| r.accuracy_not_found));
        assert_eq!(recompute_average(&second.averaged_accuracies()), "0.000");
        assert_eq!(second.average.as_ref().unwrap().value, "0.000");
        assert!(!second.verdict.as_ref().unwrap().passed);
        assert_eq!(log.final_accuracy().unwrap().text, "0.000");
        // The plot script reads the first attempt's average.
        assert_eq!(plot_script_accuracy(V1_GROK).as_deref(), Some("0.808"));
    }

    #[test]
    fn v1_deepseek_plot_script_takes_the_first_run() {
        let log = Gsm8kLog::parse(V1_DS);
        let a = &log.attempts[0];
        assert_eq!(a.generation(), Generation::V1);
        assert_eq!(a.mode, None);
        assert_eq!(a.average.as_ref().unwrap().value, "0.937");
        assert_eq!(recompute_average(&a.averaged_accuracies()), "0.937");
        assert_eq!(plot_script_accuracy(V1_DS).as_deref(), Some("0.936"));
        assert_eq!(a.verdict.as_ref().unwrap().threshold, "0.93");
    }

    #[test]
    fn v2_with_restart_and_exclusion() {
        let log = Gsm8kLog::parse(V2_DS);
        let a = &log.attempts[0];
        assert_eq!(a.generation(), Generation::V2);
        assert_eq!(
            a.totals,
            Some(Totals {
                total: 5,
                valid: 4,
                excluded: 1
            })
        );
        assert!(a.runs[1].connection_error);
        assert!(a.runs[1].accuracy_not_found);
        assert_eq!(
            a.runs[1].inclusion,
            Some(Inclusion::ExcludedLow {
                accuracy: "0".into(),
                threshold: "0.1".into()
            })
        );
        assert_eq!(
            a.health_checks,
            [(2, true), (3, false), (4, true), (5, true)]
        );
        assert_eq!(a.restarts, 1);
        assert_eq!(a.average.as_ref().unwrap().value, "0.935");
        assert_eq!(recompute_average(&a.averaged_accuracies()), "0.935");
    }

    #[test]
    fn v2_all_excluded_prints_literal_zero() {
        let a = &Gsm8kLog::parse(V2_NONE).attempts[0];
        assert_eq!(a.averaged_accuracies(), Vec::<f64>::new());
        assert_eq!(recompute_average(&[]), "0");
        assert_eq!(a.average.as_ref().unwrap().value, "0");
        assert!(!a.verdict.as_ref().unwrap().passed);
        assert_eq!(plot_script_accuracy(V2_NONE).as_deref(), Some("0.000"));
    }

    #[test]
    fn v3_early_exit() {
        let log = Gsm8kLog::parse(V3);
        let a = &log.attempts[0];
        assert_eq!(a.generation(), Generation::V3EarlyExit);
        let e = a.early_exit.as_ref().unwrap();
        assert_eq!((e.passed_run, e.skipped), (Some(1), Some(4)));
        assert_eq!(e.accuracy.as_ref().unwrap().text, "0.815");
        assert_eq!(e.required.as_deref(), Some("0.8"));
        assert_eq!(
            log.final_accuracy(),
            Some(FinalAccuracy {
                text: "0.815".into(),
                early_exit: true
            })
        );
        assert_eq!(a.runs.len(), 1);
        assert_eq!(a.runs[0].bench.accuracy.as_ref().unwrap().text, "0.815");
        assert!(a.verdict.as_ref().unwrap().passed);
        // `Accuracy: x (Required: y)` is skipped by the plot script: first run's value.
        assert_eq!(plot_script_accuracy(V3).as_deref(), Some("0.815"));
    }

    #[test]
    fn cut_and_empty_logs() {
        assert_eq!(Gsm8kLog::parse(b"").attempts.len(), 0);
        assert_eq!(Gsm8kLog::parse(b"").final_accuracy(), None);
        let cut = &V1_DS[..V1_DS.len() / 2];
        let log = Gsm8kLog::parse(cut);
        assert_eq!(log.attempts[0].generation(), Generation::Unknown);
        assert_eq!(log.final_accuracy(), None);
        assert_eq!(plot_script_accuracy(b"nothing here"), None);
    }

    #[test]
    fn average_formatting_rule() {
        assert_eq!(recompute_average(&[0.932, 0.933, 0.932, 0.933]), "0.932");
        assert_eq!(
            recompute_average(&[0.936, 0.933, 0.934, 0.943, 0.937]),
            "0.937"
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let log = Gsm8kLog::parse(&data);
            for a in &log.attempts {
                let _ = recompute_average(&a.averaged_accuracies());
                let _ = a.generation();
            }
            let _ = plot_script_accuracy(&data);
            let _ = BenchOutput::parse(&data);
        }

        #[test]
        fn toolkit_lines_with_random_numbers_never_panic(i in any::<u32>(), s in "\\PC{0,20}") {
            let text = format!("Run {i}: Accuracy: {s}\n✗ Run {i} excluded from average (accuracy: {s}\nTotal runs: {s}\nAverage Accuracy over {s}\n🚀 Passed on run {s}\n");
            let _ = Gsm8kLog::parse(text.as_bytes());
        }
    }
}
