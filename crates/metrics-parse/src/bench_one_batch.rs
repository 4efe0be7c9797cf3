//! `python -m sglang.bench_one_batch` console output, read the way the offline scripts read it
//! (spec benchmarks.md §2.9, §3.5, §6.1; real samples in `shared/data/bench_one_batch/`).
//!
//! Each pass prints `Prefill. latency: <L> s, throughput: <T> token/s`, per-step decode lines
//! (`Decode <i>. Batch size: …` or, older, `Decode.  latency: …`, never the median),
//! `Decode.  median latency: <L> s, median throughput: <T> token/s` and
//! `Total. latency: <L> s, throughput: <T> token/s`. A warm-up pass comes before the line
//! containing `Benchmark`. Within the benchmark section each metric comes from the **last**
//! matching line. The two scripts differ ([`Flavor`]): Grok starts the section after the first
//! line *containing* `Benchmark` and wants exactly one space after `Prefill.`/`Total.`;
//! DeepSeek starts after the first line *beginning* with `Benchmark` + `.`/space and allows
//! any whitespace there. Values keep their printed text.

use serde::Serialize;

use crate::text;
use crate::value::Num;

/// Which offline script's rules to apply.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Flavor {
    /// `grok_perf_offline_csv.sh`.
    Grok,
    /// `deepseek_perf_offline_csv.sh`.
    DeepSeek,
}

/// The six metrics of an offline CSV row, as printed.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct OneBatchMetrics {
    /// `Prefill_latency(s)`.
    pub prefill_latency: Option<Num>,
    /// `Median_decode_latency(s)`.
    pub median_decode_latency: Option<Num>,
    /// `E2E_Latency(s)` (the `Total.` line).
    pub total_latency: Option<Num>,
    /// `Prefill_Throughput(token/s)`.
    pub prefill_throughput: Option<Num>,
    /// `Median_Decode_Throughput(token/s)`.
    pub median_decode_throughput: Option<Num>,
    /// `E2E_Throughput(token/s)`.
    pub total_throughput: Option<Num>,
}

impl OneBatchMetrics {
    /// The six values in CSV column order (latencies, then throughputs).
    pub fn in_csv_order(&self) -> [Option<&Num>; 6] {
        [
            self.prefill_latency.as_ref(),
            self.median_decode_latency.as_ref(),
            self.total_latency.as_ref(),
            self.prefill_throughput.as_ref(),
            self.median_decode_throughput.as_ref(),
            self.total_throughput.as_ref(),
        ]
    }
}

/// What one bench_one_batch output holds.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OneBatchOutput {
    /// A `Benchmark` line was found (the metrics come from after it).
    pub benchmark_section: bool,
    /// `OutOfMemoryError` appears anywhere (Grok writes `NA` in all six fields).
    pub out_of_memory: bool,
    /// The metrics per the flavor's rules.
    pub metrics: OneBatchMetrics,
}

impl OneBatchOutput {
    /// Parses captured output with the rules of `flavor`.
    pub fn parse(data: &[u8], flavor: Flavor) -> Self {
        let out_of_memory = memchr::memmem::find(data, b"OutOfMemoryError").is_some();
        let mut in_section = false;
        let mut metrics = OneBatchMetrics::default();
        for raw in text::lines(data) {
            let line = text::clean(raw);
            if !in_section {
                in_section = match flavor {
                    Flavor::Grok => line.contains("Benchmark"),
                    Flavor::DeepSeek => {
                        let t = line.trim_start();
                        t.strip_prefix("Benchmark")
                            .is_some_and(|r| r.starts_with(['.', ' ']))
                    }
                };
                continue;
            }
            take_line(&line, flavor, &mut metrics);
        }
        Self {
            benchmark_section: in_section,
            out_of_memory,
            metrics,
        }
    }

    /// The DeepSeek script's failure check: prefill latency, median decode latency and total
    /// latency must all be present (it exits 1 otherwise).
    pub fn deepseek_complete(&self) -> bool {
        let m = &self.metrics;
        m.prefill_latency.is_some()
            && m.median_decode_latency.is_some()
            && m.total_latency.is_some()
    }
}

/// `<word>.` + the flavor's spacing + `latency:` → the rest after `latency:`.
fn after_keyword<'a>(line: &'a str, word: &str, flavor: Flavor) -> Option<&'a str> {
    let mut search = 0;
    while let Some(rel) = line[search..].find(word) {
        let at = search + rel;
        let rest = &line[at + word.len()..];
        let spaced = match flavor {
            Flavor::Grok => rest.strip_prefix(' '),
            Flavor::DeepSeek => {
                let t = rest.trim_start();
                (t.len() < rest.len()).then_some(t)
            }
        };
        if let Some(r) = spaced.and_then(|r| r.strip_prefix("latency:")) {
            return Some(r);
        }
        search = at + word.len();
    }
    None
}

/// The number after the last `label` + optional whitespace in `s`.
fn last_number_after(s: &str, label: &str) -> Option<Num> {
    let at = s.rfind(label)?;
    Num::leading(&s[at + label.len()..])
}

fn take_line(line: &str, flavor: Flavor, m: &mut OneBatchMetrics) {
    if let Some(rest) = after_keyword(line, "Prefill.", flavor)
        && let Some(l) = Num::leading(rest)
    {
        m.prefill_latency = Some(l);
        m.prefill_throughput = last_number_after(line, "throughput:");
        return;
    }
    if let Some(rest) = after_keyword(line, "Total.", flavor)
        && let Some(l) = Num::leading(rest)
    {
        m.total_latency = Some(l);
        m.total_throughput = last_number_after(line, "throughput:");
        return;
    }
    // `Decode.` + whitespace + `median latency:` (both flavors).
    if let Some(at) = line.find("Decode.") {
        let rest = &line[at + "Decode.".len()..];
        let t = rest.trim_start();
        if t.len() < rest.len()
            && let Some(r) = t.strip_prefix("median latency:")
            && let Some(l) = Num::leading(r)
        {
            m.median_decode_latency = Some(l);
            m.median_decode_throughput = last_number_after(line, "median throughput:");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const NEWER: &[u8] = include_bytes!("../../../fixtures/bench_one_batch/newer.log");
    const OLDER: &[u8] = include_bytes!("../../../fixtures/bench_one_batch/older_multi.log");
    const SPACING: &[u8] = include_bytes!("../../../fixtures/bench_one_batch/spacing.log");
    const OOM: &[u8] = include_bytes!("../../../fixtures/bench_one_batch/oom.log");

    fn texts(m: &OneBatchMetrics) -> Vec<Option<&str>> {
        m.in_csv_order()
            .iter()
            .map(|n| n.map(|n| n.text.as_str()))
            .collect()
    }

    #[test]
    fn newer_format_benchmark_pass_not_warmup() {
        for flavor in [Flavor::Grok, Flavor::DeepSeek] {
            let o = OneBatchOutput::parse(NEWER, flavor);
            assert!(o.benchmark_section);
            assert!(!o.out_of_memory);
            assert_eq!(
                texts(&o.metrics),
                [
                    Some("0.37183"),
                    Some("0.01175"),
                    Some("6.395"),
                    Some("11015.86"),
                    Some("340.47"),
                    Some("960.75")
                ],
                "{flavor:?}"
            );
            assert!(o.deepseek_complete());
        }
    }

    #[test]
    fn older_format_takes_the_last_run() {
        let o = OneBatchOutput::parse(OLDER, Flavor::Grok);
        assert_eq!(
            texts(&o.metrics),
            [
                Some("7.16274"),
                Some("0.02310"),
                Some("30.812"),
                Some("1143.70"),
                Some("346.26"),
                Some("531.74")
            ]
        );
    }

    #[test]
    fn spacing_rules_differ_between_scripts() {
        // `Prefill.  latency:` (two spaces) and `Total.  latency:` only match for DeepSeek;
        // the section starts at `Benchmark ...` for both, but Grok also accepts
        // `Running Benchmark` earlier.
        let g = OneBatchOutput::parse(SPACING, Flavor::Grok);
        let d = OneBatchOutput::parse(SPACING, Flavor::DeepSeek);
        assert_eq!(g.metrics.prefill_latency.as_ref().unwrap().text, "1.00000");
        assert_eq!(d.metrics.prefill_latency.as_ref().unwrap().text, "2.00000");
        assert_eq!(g.metrics.total_latency.as_ref().unwrap().text, "3.000");
        assert_eq!(d.metrics.total_latency.as_ref().unwrap().text, "4.000");
        assert_eq!(d.metrics.median_decode_latency, None);
        assert!(!d.deepseek_complete());
    }

    #[test]
    fn oom_and_no_section() {
        let o = OneBatchOutput::parse(OOM, Flavor::Grok);
        assert!(o.out_of_memory);
        let none = OneBatchOutput::parse(
            b"Prefill. latency: 1.0 s, throughput: 2.0 token/s\n",
            Flavor::Grok,
        );
        assert!(!none.benchmark_section);
        assert_eq!(none.metrics, OneBatchMetrics::default());
        let empty = OneBatchOutput::parse(b"", Flavor::DeepSeek);
        assert!(!empty.benchmark_section && !empty.deepseek_complete());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let _ = OneBatchOutput::parse(&data, Flavor::Grok);
            let _ = OneBatchOutput::parse(&data, Flavor::DeepSeek);
        }

        #[test]
        fn metric_lines_with_noise_never_panic(s in "\\PC{0,30}") {
            let text = format!("Benchmark ...\nPrefill. latency: {s} throughput: {s}\nDecode.  median latency: {s}\nTotal.\tlatency: {s}\n");
            let _ = OneBatchOutput::parse(text.as_bytes(), Flavor::Grok);
            let _ = OneBatchOutput::parse(text.as_bytes(), Flavor::DeepSeek);
        }
    }
}
