//! MTP artifacts of the DeepSeek MTP test on MI355X (spec benchmarks.md §5.10, quirk K-20):
//! `bench_results.csv` and `throughput_vs_median_e2e_latency.png` in `online/<MODEL_NAME>/`.
//!
//! Fix F-2: the throughput column holds the output token throughput *number* of the best run
//! (the original copied the text `(tok/s):`, so its plot was never drawn). The header keeps
//! the original's (mis)label `total_token_throughput_tok_s`. The chart itself is report's
//! (`report::plot::mtp`).

use std::path::{Path, PathBuf};

use report::plot::mtp::{self as chart, MtpPoint};

use crate::error::RunnerError;

/// The CSV's header line.
pub const HEADER: &str = "concurrency,median_e2e_ms,total_token_throughput_tok_s";

/// One row: a concurrency and its best run's values (`None` → `NA`).
#[derive(Debug, Clone, PartialEq)]
pub struct MtpRow {
    /// Concurrency.
    pub concurrency: u32,
    /// Best median E2E latency (ms), verbatim.
    pub median_e2e_ms: Option<String>,
    /// Its output token throughput (tok/s), verbatim.
    pub throughput: Option<String>,
}

/// What the plot step did (the timing summary's `Plot:` value).
#[derive(Debug, Clone, PartialEq)]
pub enum PlotOutcome {
    /// Drawn at this path.
    Written(PathBuf),
    /// No row has two numbers.
    NoNumericData,
    /// Drawing failed (the message goes to the console).
    Failed(String),
}

impl PlotOutcome {
    /// The `  Plot: …` value.
    pub fn summary_value(&self) -> String {
        match self {
            Self::Written(p) => p.display().to_string(),
            Self::NoNumericData => "Not generated (missing numeric data)".to_owned(),
            Self::Failed(_) => "Failed to generate".to_owned(),
        }
    }
}

/// The CSV text: header, rows in ascending concurrency.
pub fn render_csv(rows: &[MtpRow]) -> String {
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.concurrency);
    let mut out = String::from(HEADER);
    out.push('\n');
    for r in &rows {
        out.push_str(&format!(
            "{},{},{}\n",
            r.concurrency,
            r.median_e2e_ms.as_deref().unwrap_or("NA"),
            r.throughput.as_deref().unwrap_or("NA")
        ));
    }
    out
}

fn numeric(s: Option<&str>) -> Option<f64> {
    let s = s?;
    let ok = !s.is_empty()
        && s.split_once('.')
            .map_or(s.bytes().all(|b| b.is_ascii_digit()), |(a, b)| {
                !a.is_empty()
                    && a.bytes().all(|c| c.is_ascii_digit())
                    && b.bytes().all(|c| c.is_ascii_digit())
            });
    if ok { s.parse().ok() } else { None }
}

/// Writes `bench_results.csv` (atomically) and, when some row has two numbers, the plot.
/// Returns the CSV path and what the plot step did.
pub fn write_artifacts(
    dir: &Path,
    rows: &[MtpRow],
    simulated: bool,
) -> Result<(PathBuf, PlotOutcome), RunnerError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| RunnerError::io("create MTP output folder", dir, e))?;
    let csv = dir.join("bench_results.csv");
    report::atomic::write_atomic(&csv, render_csv(rows).as_bytes())?;
    let mut rows = rows.to_vec();
    rows.sort_by_key(|r| r.concurrency);
    let points: Vec<MtpPoint> = rows
        .iter()
        .filter_map(|r| {
            Some(MtpPoint {
                median_e2e_ms: numeric(r.median_e2e_ms.as_deref())?,
                throughput: numeric(r.throughput.as_deref())?,
                concurrency: r.concurrency,
            })
        })
        .collect();
    if points.is_empty() {
        return Ok((csv, PlotOutcome::NoNumericData));
    }
    let png = dir.join("throughput_vs_median_e2e_latency.png");
    let outcome = match chart::draw(&png, &points, simulated) {
        Ok(()) => PlotOutcome::Written(png),
        Err(e) => PlotOutcome::Failed(e.to_string()),
    };
    Ok((csv, outcome))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(c: u32, e: Option<&str>, t: Option<&str>) -> MtpRow {
        MtpRow {
            concurrency: c,
            median_e2e_ms: e.map(str::to_owned),
            throughput: t.map(str::to_owned),
        }
    }

    #[test]
    fn csv_is_ascending_with_na() {
        let rows = [
            row(128, Some("100.5"), Some("2000.10")),
            row(1, None, None),
            row(16, Some("5"), Some("9")),
        ];
        assert_eq!(
            render_csv(&rows),
            "concurrency,median_e2e_ms,total_token_throughput_tok_s\n1,NA,NA\n16,5,9\n128,100.5,2000.10\n"
        );
    }

    #[test]
    fn plot_is_drawn_only_with_numbers() {
        let dir = tempfile::tempdir().unwrap();
        let (csv, p) =
            write_artifacts(dir.path(), &[row(4, Some("(tok/s):"), None)], false).unwrap();
        assert!(csv.is_file());
        assert_eq!(p, PlotOutcome::NoNumericData);
        assert_eq!(p.summary_value(), "Not generated (missing numeric data)");
        let rows = [
            row(1, Some("32493.94"), Some("94.97")),
            row(4, Some("33566.38"), Some("350.2")),
            row(128, Some("100117.29"), Some("1622.40")),
        ];
        let (_, p) = write_artifacts(dir.path(), &rows, true).unwrap();
        let PlotOutcome::Written(png) = p else {
            panic!("{p:?}")
        };
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        // 800 × 500 (IHDR width/height, big-endian).
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 800);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 500);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .filter(|e| {
                e.as_ref()
                    .unwrap()
                    .file_name()
                    .to_string_lossy()
                    .starts_with(".tmp")
            })
            .collect();
        assert!(leftovers.is_empty());
    }
}
