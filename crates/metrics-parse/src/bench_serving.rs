//! The result block `python -m sglang.bench_serving` prints at the end of a run
//! (spec peer-clients.md §8, benchmarks.md §6.2, corpus README §3).
//!
//! ```text
//! ============ Serving Benchmark Result ============
//! Backend:                                 sglang
//! Traffic request rate:                    1.0
//! ...
//! ----------------End-to-End Latency----------------
//! Median E2E Latency (ms):                 9893.41
//! ...
//! ==================================================
//! ```
//!
//! Generations in the corpus: [`Generation::F1`] (until ~2025-11-10: no TPOT section, no peak
//! lines), [`Generation::F2`] (adds `Time per Output Token`), [`Generation::F3`] (adds `Peak
//! output token throughput` / `Peak concurrent requests`). Other sglang versions differ in
//! labels (0.4.x `Max reqeuest concurrency:` typo, `Inter-token Latency` title, P90/P95 rows in
//! 0.5.23, `Accept length:` with speculative decoding): rows are recognised by label, unknown
//! rows are kept in [`ResultBlock::extra`], so nothing is dropped silently.
//!
//! Values keep their printed text ([`Num`]); `Traffic request rate` (`inf`, `1.0`, `trace`) and
//! `Max request concurrency` (`not set`, `128`) stay strings.

use memchr::memmem;
use serde::Serialize;

use crate::text;
use crate::value::Num;

/// The text in the header line that opens a result block.
pub const HEADER: &str = " Serving Benchmark Result ";

/// Which block layout was seen (corpus README §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Generation {
    /// No TPOT section and no peak lines (sglang ≤ 0.5.5; corpus until ~2025-11-10).
    F1,
    /// A `Time per Output Token` section, no peak lines (corpus ~2025-11-11 … 11-30).
    F2,
    /// TPOT section and `Peak output token throughput` / `Peak concurrent requests`
    /// (sglang ≥ 0.5.6; corpus from 2025-12-01).
    F3,
    /// Peak lines without a TPOT section: not a layout any known version prints.
    Other,
}

/// The statistics of one latency distribution, in ms as printed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct LatencyStats {
    /// `Mean … (ms):`
    pub mean: Option<Num>,
    /// `Median … (ms):`
    pub median: Option<Num>,
    /// `Std … (ms):` (not printed by the versions in the corpus)
    pub std: Option<Num>,
    /// `P90 … (ms):` (0.5.9+ for E2E, 0.5.23 for the others)
    pub p90: Option<Num>,
    /// `P95 … (ms):`
    pub p95: Option<Num>,
    /// `P99 … (ms):`
    pub p99: Option<Num>,
    /// `Max … (ms):` (ITL only)
    pub max: Option<Num>,
}

impl LatencyStats {
    fn slot(&mut self, stat: &str) -> Option<&mut Option<Num>> {
        Some(match stat {
            "Mean" => &mut self.mean,
            "Median" => &mut self.median,
            "Std" => &mut self.std,
            "P90" => &mut self.p90,
            "P95" => &mut self.p95,
            "P99" => &mut self.p99,
            "Max" => &mut self.max,
            _ => return None,
        })
    }
}

/// One parsed result block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ResultBlock {
    /// `Backend:` (`sglang`, `sglang-oai`, …).
    pub backend: Option<String>,
    /// `Traffic request rate:` as printed: `inf`, `1.0`, `trace`.
    pub traffic_request_rate: Option<String>,
    /// `Max request concurrency:` as printed: `not set` or a number (0.4.x spells the label
    /// `Max reqeuest concurrency:`).
    pub max_request_concurrency: Option<String>,
    /// `Successful requests:`
    pub successful_requests: Option<Num>,
    /// `Benchmark duration (s):`
    pub duration_s: Option<Num>,
    /// `Total input tokens:`
    pub total_input_tokens: Option<Num>,
    /// `Total input text tokens:` (0.5.x)
    pub total_input_text_tokens: Option<Num>,
    /// `Total input vision tokens:` (0.5.3 – 0.5.7)
    pub total_input_vision_tokens: Option<Num>,
    /// `Total generated tokens:`
    pub total_generated_tokens: Option<Num>,
    /// `Total generated tokens (retokenized):`
    pub total_generated_tokens_retokenized: Option<Num>,
    /// `Request throughput (req/s):`
    pub request_throughput: Option<Num>,
    /// `Input token throughput (tok/s):`
    pub input_token_throughput: Option<Num>,
    /// `Output token throughput (tok/s):`
    pub output_token_throughput: Option<Num>,
    /// `Peak output token throughput (tok/s):` (F3)
    pub peak_output_token_throughput: Option<Num>,
    /// `Peak concurrent requests:` (F3)
    pub peak_concurrent_requests: Option<Num>,
    /// `Total token throughput (tok/s):`
    pub total_token_throughput: Option<Num>,
    /// `Concurrency:` (Σ E2E / duration)
    pub concurrency: Option<Num>,
    /// `Accept length:` (speculative decoding only)
    pub accept_length: Option<Num>,
    /// `… E2E Latency (ms):` rows.
    pub e2e: LatencyStats,
    /// `… TTFT (ms):` rows.
    pub ttft: LatencyStats,
    /// `… TPOT (ms):` rows (F2, F3).
    pub tpot: LatencyStats,
    /// `… ITL (ms):` rows.
    pub itl: LatencyStats,
    /// Rows with a label this parser does not know, as (label without `:`, value) pairs, and
    /// known labels whose value is not a number (a truncated line, say).
    pub extra: Vec<(String, String)>,
    /// Section titles in order (`End-to-End Latency`, `Time to First Token`, …).
    pub sections: Vec<String>,
    /// True when the closing line of `=` was seen; false for a block cut off by the end of
    /// the file or by other output.
    pub complete: bool,
}

impl ResultBlock {
    /// The layout generation, from which optional sections are present.
    pub fn generation(&self) -> Generation {
        let tpot = self.tpot.mean.is_some() || self.tpot.median.is_some();
        let peak =
            self.peak_output_token_throughput.is_some() || self.peak_concurrent_requests.is_some();
        match (tpot, peak) {
            (false, false) => Generation::F1,
            (true, false) => Generation::F2,
            (true, true) => Generation::F3,
            (false, true) => Generation::Other,
        }
    }

    /// Parses the **first** result block in `data` (which may be a whole client log).
    /// `None` when there is no header line.
    pub fn parse_first(data: &[u8]) -> Option<Self> {
        let at = memmem::find(data, HEADER.as_bytes())?;
        Some(Self::parse_at(data, at))
    }

    /// Parses every result block in `data`, in order.
    pub fn parse_all(data: &[u8]) -> Vec<Self> {
        memmem::find_iter(data, HEADER.as_bytes())
            .map(|at| Self::parse_at(data, at))
            .collect()
    }

    /// Parses the block whose header contains byte offset `at`.
    fn parse_at(data: &[u8], at: usize) -> Self {
        // Start after the header line.
        let body = match memchr::memchr2(b'\n', b'\r', &data[at..]) {
            Some(i) => &data[at + i..],
            None => &[][..],
        };
        let mut block = Self::default();
        for raw in text::lines(body) {
            let line = text::clean(raw);
            let line = line.trim_end();
            if line.is_empty() {
                // A blank line inside the block means it was interrupted.
                if block.is_empty() {
                    continue;
                }
                break;
            }
            if is_rule(line, '=') {
                block.complete = true;
                break;
            }
            if let Some(title) = section_title(line) {
                block.sections.push(title.to_owned());
                continue;
            }
            if line.starts_with("Run completed at:") || line.starts_with("Run duration:") {
                // The toolkit's trailer: the block was cut off.
                break;
            }
            let Some((label, value)) = line.split_once(':') else {
                break;
            };
            block.set(label.trim(), value.trim());
        }
        block
    }

    fn is_empty(&self) -> bool {
        self.backend.is_none() && self.extra.is_empty() && self.sections.is_empty()
    }

    fn set(&mut self, label: &str, value: &str) {
        let text_slot: Option<&mut Option<String>> = match label {
            "Backend" => Some(&mut self.backend),
            "Traffic request rate" => Some(&mut self.traffic_request_rate),
            "Max request concurrency" | "Max reqeuest concurrency" => {
                Some(&mut self.max_request_concurrency)
            }
            _ => None,
        };
        if let Some(slot) = text_slot {
            if slot.is_none() {
                *slot = Some(value.to_owned());
            }
            return;
        }
        let Some(slot) = self.num_slot(label) else {
            self.extra.push((label.to_owned(), value.to_owned()));
            return;
        };
        if slot.is_some() {
            return; // first occurrence wins, as with the toolkit's `grep -m1`
        }
        match Num::parse(value) {
            Some(n) => *slot = Some(n),
            None => self.extra.push((label.to_owned(), value.to_owned())),
        }
    }

    fn num_slot(&mut self, label: &str) -> Option<&mut Option<Num>> {
        Some(match label {
            "Successful requests" => &mut self.successful_requests,
            "Benchmark duration (s)" => &mut self.duration_s,
            "Total input tokens" => &mut self.total_input_tokens,
            "Total input text tokens" => &mut self.total_input_text_tokens,
            "Total input vision tokens" => &mut self.total_input_vision_tokens,
            "Total generated tokens" => &mut self.total_generated_tokens,
            "Total generated tokens (retokenized)" => &mut self.total_generated_tokens_retokenized,
            "Request throughput (req/s)" => &mut self.request_throughput,
            "Input token throughput (tok/s)" => &mut self.input_token_throughput,
            "Output token throughput (tok/s)" => &mut self.output_token_throughput,
            "Peak output token throughput (tok/s)" => &mut self.peak_output_token_throughput,
            "Peak concurrent requests" => &mut self.peak_concurrent_requests,
            "Total token throughput (tok/s)" => &mut self.total_token_throughput,
            "Concurrency" => &mut self.concurrency,
            "Accept length" => &mut self.accept_length,
            _ => {
                // `<Stat> <Metric> (ms)`
                let rest = label.strip_suffix(" (ms)")?;
                let (stat, metric) = rest.split_once(' ')?;
                let stats = match metric {
                    "E2E Latency" => &mut self.e2e,
                    "TTFT" => &mut self.ttft,
                    "TPOT" => &mut self.tpot,
                    "ITL" => &mut self.itl,
                    _ => return None,
                };
                return stats.slot(stat);
            }
        })
    }
}

/// A line made only of `c` (at least 10 of them).
fn is_rule(line: &str, c: char) -> bool {
    line.len() >= 10 && line.chars().all(|x| x == c)
}

/// `-----Time per Output Token (excl. 1st token)------` → the title.
fn section_title(line: &str) -> Option<&str> {
    if !line.starts_with("---") || !line.ends_with("---") {
        return None;
    }
    let title = line.trim_matches('-');
    (!title.is_empty()).then_some(title)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const F1: &str = include_str!("../../../fixtures/bench_serving/f1_rate.txt");
    const F3: &str = include_str!("../../../fixtures/bench_serving/f3_concurrency.txt");
    const V040: &str = include_str!("../../../fixtures/bench_serving/v0_4_0.txt");

    #[test]
    fn f1_block_with_request_rate() {
        let b = ResultBlock::parse_first(F1.as_bytes()).unwrap();
        assert!(b.complete);
        assert_eq!(b.generation(), Generation::F1);
        assert_eq!(b.backend.as_deref(), Some("sglang"));
        assert_eq!(b.traffic_request_rate.as_deref(), Some("1.0"));
        assert_eq!(b.max_request_concurrency.as_deref(), Some("not set"));
        assert_eq!(b.e2e.median.as_ref().unwrap().text, "9893.41");
        assert_eq!(b.ttft.median.as_ref().unwrap().text, "99.93");
        assert_eq!(b.itl.median.as_ref().unwrap().text, "17.17");
        assert_eq!(b.itl.max.as_ref().unwrap().text, "254.94");
        assert_eq!(b.successful_requests.as_ref().unwrap().value, 300.0);
        assert!(b.extra.is_empty(), "{:?}", b.extra);
        assert_eq!(
            b.sections,
            [
                "End-to-End Latency",
                "Time to First Token",
                "Inter-Token Latency"
            ]
        );
    }

    #[test]
    fn f3_block_with_max_concurrency() {
        let b = ResultBlock::parse_first(F3.as_bytes()).unwrap();
        assert!(b.complete);
        assert_eq!(b.generation(), Generation::F3);
        assert_eq!(b.traffic_request_rate.as_deref(), Some("inf"));
        assert_eq!(b.max_request_concurrency.as_deref(), Some("4"));
        assert_eq!(b.peak_concurrent_requests.as_ref().unwrap().text, "24");
        assert_eq!(b.tpot.median.as_ref().unwrap().text, "5.23");
        assert_eq!(b.e2e.p90.as_ref().unwrap().text, "198.97");
        assert_eq!(b.e2e.median.as_ref().unwrap().text, "195.51");
        assert!(b.extra.is_empty(), "{:?}", b.extra);
    }

    #[test]
    fn old_version_labels_are_kept() {
        let b = ResultBlock::parse_first(V040.as_bytes()).unwrap();
        assert_eq!(b.max_request_concurrency.as_deref(), Some("not set"));
        assert_eq!(b.concurrency, None);
        assert!(b.sections.contains(&"Inter-token Latency".to_owned()));
        assert_eq!(b.itl.median.as_ref().unwrap().text, "7.01");
        assert_eq!(b.generation(), Generation::F2);
    }

    #[test]
    fn truncated_block_is_marked_incomplete() {
        let cut = &F1[..F1.find("Median TTFT").unwrap()];
        let b = ResultBlock::parse_first(cut.as_bytes()).unwrap();
        assert!(!b.complete);
        assert_eq!(b.e2e.median.as_ref().unwrap().text, "9893.41");
        assert_eq!(b.ttft.median, None);
        let trailer = format!("{cut}Run completed at: 2025-10-14 06:10:54 PDT\n");
        let b = ResultBlock::parse_first(trailer.as_bytes()).unwrap();
        assert!(!b.complete);
        assert!(b.extra.is_empty());
    }

    #[test]
    fn unknown_rows_and_bad_values_go_to_extra() {
        let text = "============ Serving Benchmark Result ============\n\
                    Backend:                                 sglang    \n\
                    Median E2E Latency (ms):                 12.3.4    \n\
                    Median Foo (ms):                         1.00      \n\
                    ==================================================\n";
        let b = ResultBlock::parse_first(text.as_bytes()).unwrap();
        assert_eq!(b.e2e.median, None);
        assert_eq!(
            b.extra,
            [
                ("Median E2E Latency (ms)".to_owned(), "12.3.4".to_owned()),
                ("Median Foo (ms)".to_owned(), "1.00".to_owned())
            ]
        );
    }

    #[test]
    fn crlf_ansi_and_two_blocks() {
        let text = F1
            .replace('\n', "\r\n")
            .replace("Backend:", "\x1b[0mBackend:");
        let two = format!("{text}{}", F3);
        let all = ResultBlock::parse_all(two.as_bytes());
        assert_eq!(all.len(), 2);
        assert_eq!(all[0].backend.as_deref(), Some("sglang"));
        assert_eq!(all[0].e2e.median.as_ref().unwrap().text, "9893.41");
        assert_eq!(all[1].generation(), Generation::F3);
    }

    #[test]
    fn no_header_no_block() {
        assert_eq!(
            ResultBlock::parse_first(b"Median E2E Latency (ms): 1.0"),
            None
        );
        assert_eq!(ResultBlock::parse_first(b""), None);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = ResultBlock::parse_all(&data);
            let mut with_header = HEADER.as_bytes().to_vec();
            with_header.extend_from_slice(&data);
            let b = ResultBlock::parse_first(&with_header).unwrap();
            let _ = b.generation();
        }
    }
}
