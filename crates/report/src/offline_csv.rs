//! Writers for the offline result CSVs (spec benchmarks.md §2.9, §3.5, §7.3): a header line,
//! one comma-separated row per grid point, `\n` line ends, no quoting, numbers verbatim from
//! the bench_one_batch output.
//!
//! * Grok: `TP,batch_size,IL,OL,Backend,<six metrics>`; `Backend` is always `aiter`; a point
//!   whose output contains `OutOfMemoryError` gets `NA` in all six metric fields, a metric not
//!   found is an empty field. The file is rewritten per invocation ([`render`]).
//! * DeepSeek: no `Backend` column; a point missing prefill, median-decode or total latency is
//!   an error (the original exited 1); the file is appended to, header only when it is new or
//!   empty ([`header_line`] + [`row_line`]).

use metrics_parse::bench_one_batch::OneBatchOutput;
use metrics_parse::legacy_csv::{DEEPSEEK_OFFLINE_HEADER, GROK_OFFLINE_HEADER, OfflineKind};
use thiserror::Error;

use crate::online_csv::Cell;

/// One grid point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineRow {
    /// Tensor parallelism.
    pub tp: u32,
    /// Batch size.
    pub batch_size: u32,
    /// Input length.
    pub input_len: u32,
    /// Output length.
    pub output_len: u32,
    /// The six metrics in column order: prefill latency, median decode latency, E2E latency,
    /// prefill throughput, median decode throughput, E2E throughput.
    pub metrics: [Cell; 6],
}

/// A DeepSeek point without the metrics the original required.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error(
    "bench_one_batch output for TP={tp} batch size {batch_size} has no {missing} line in its \
     Benchmark section: the run failed or was cut off (see its log)"
)]
pub struct MissingMetric {
    /// Tensor parallelism.
    pub tp: u32,
    /// Batch size.
    pub batch_size: u32,
    /// Which line (`Prefill. latency`, `Decode.  median latency`, `Total. latency`).
    pub missing: &'static str,
}

/// The header line (without newline).
pub fn header_line(kind: OfflineKind) -> &'static str {
    match kind {
        OfflineKind::Grok => GROK_OFFLINE_HEADER,
        OfflineKind::DeepSeek => DEEPSEEK_OFFLINE_HEADER,
    }
}

/// One row with its newline.
pub fn row_line(kind: OfflineKind, row: &OfflineRow) -> String {
    let mut s = format!(
        "{},{},{},{}",
        row.tp, row.batch_size, row.input_len, row.output_len
    );
    if kind == OfflineKind::Grok {
        s.push_str(",aiter");
    }
    for m in &row.metrics {
        s.push(',');
        s.push_str(m.as_str());
    }
    s.push('\n');
    s
}

/// A whole file: header and rows.
pub fn render(kind: OfflineKind, rows: &[OfflineRow]) -> String {
    let mut s = String::from(header_line(kind));
    s.push('\n');
    for r in rows {
        s.push_str(&row_line(kind, r));
    }
    s
}

/// The Grok row for one point: `NA` ×6 on `OutOfMemoryError`, else the metrics found
/// (empty when absent).
pub fn grok_row(
    tp: u32,
    batch_size: u32,
    input_len: u32,
    output_len: u32,
    out: &OneBatchOutput,
) -> OfflineRow {
    let metrics = if out.out_of_memory {
        std::array::from_fn(|_| Cell::Na)
    } else {
        out.metrics
            .in_csv_order()
            .map(|n| n.map_or(Cell::Empty, |n| Cell::Value(n.text.clone())))
    };
    OfflineRow {
        tp,
        batch_size,
        input_len,
        output_len,
        metrics,
    }
}

/// The DeepSeek row for one point, or the first of the three required latencies that is
/// missing.
pub fn deepseek_row(
    tp: u32,
    batch_size: u32,
    input_len: u32,
    output_len: u32,
    out: &OneBatchOutput,
) -> Result<OfflineRow, MissingMetric> {
    let m = &out.metrics;
    let missing = if m.prefill_latency.is_none() {
        Some("Prefill. latency")
    } else if m.median_decode_latency.is_none() {
        Some("Decode.  median latency")
    } else if m.total_latency.is_none() {
        Some("Total. latency")
    } else {
        None
    };
    if let Some(missing) = missing {
        return Err(MissingMetric {
            tp,
            batch_size,
            missing,
        });
    }
    Ok(OfflineRow {
        tp,
        batch_size,
        input_len,
        output_len,
        metrics: m
            .in_csv_order()
            .map(|n| n.map_or(Cell::Empty, |n| Cell::Value(n.text.clone()))),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_parse::bench_one_batch::Flavor;
    use metrics_parse::legacy_csv::OfflineCsv;

    const NEWER: &[u8] = include_bytes!("../../../fixtures/bench_one_batch/newer.log");
    const OOM: &[u8] = include_bytes!("../../../fixtures/bench_one_batch/oom.log");

    #[test]
    fn grok_rows_values_na_and_empty() {
        let ok = OneBatchOutput::parse(NEWER, Flavor::Grok);
        let oom = OneBatchOutput::parse(OOM, Flavor::Grok);
        let none = OneBatchOutput::parse(b"Benchmark ...\n", Flavor::Grok);
        let rows = [
            grok_row(8, 1, 1024, 128, &ok),
            grok_row(8, 256, 1024, 128, &oom),
            grok_row(8, 2, 1024, 128, &none),
        ];
        let s = render(OfflineKind::Grok, &rows);
        assert_eq!(
            s,
            format!(
                "{GROK_OFFLINE_HEADER}\n\
                 8,1,1024,128,aiter,0.37183,0.01175,6.395,11015.86,340.47,960.75\n\
                 8,256,1024,128,aiter,NA,NA,NA,NA,NA,NA\n\
                 8,2,1024,128,aiter,,,,,,\n"
            )
        );
        // The reader reads back what the writer wrote.
        let back = OfflineCsv::parse(s.as_bytes()).unwrap();
        assert_eq!(back.rows.len(), 3);
        assert_eq!(back.rows[0].metrics[2], "6.395");
    }

    #[test]
    fn deepseek_rows_require_the_three_latencies() {
        let ok = OneBatchOutput::parse(NEWER, Flavor::DeepSeek);
        let row = deepseek_row(8, 32, 1024, 128, &ok).unwrap();
        assert_eq!(
            row_line(OfflineKind::DeepSeek, &row),
            "8,32,1024,128,0.37183,0.01175,6.395,11015.86,340.47,960.75\n"
        );
        let none = OneBatchOutput::parse(
            b"Benchmark ...\nPrefill. latency: 1.0 s\n",
            Flavor::DeepSeek,
        );
        let e = deepseek_row(8, 32, 1024, 128, &none).unwrap_err();
        assert_eq!(e.missing, "Decode.  median latency");
        assert!(e.to_string().contains("batch size 32"));
        assert_eq!(header_line(OfflineKind::DeepSeek), DEEPSEEK_OFFLINE_HEADER);
    }
}
