//! MTP artifacts of the DeepSeek MTP test on MI355X (spec benchmarks.md §5.10, quirk K-20):
//! `bench_results.csv` and `throughput_vs_median_e2e_latency.png` in `online/<MODEL_NAME>/`.
//!
//! Fix F-2: the throughput column holds the output token throughput *number* of the best run
//! (the original copied the text `(tok/s):`, so its plot was never drawn). The header keeps
//! the original's (mis)label `total_token_throughput_tok_s`.

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use plotters::prelude::*;
use plotters::style::{FontStyle, register_font};

use crate::error::RunnerError;

/// The font of report's plots (one file in the repository: crates/report/assets).
static FONT: &[u8] = include_bytes!("../../report/assets/DejaVuSans.ttf");
const FAMILY: &str = "sans-serif";

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
    let points: Vec<(f64, f64, u32)> = rows
        .iter()
        .filter_map(|r| {
            Some((
                numeric(r.median_e2e_ms.as_deref())?,
                numeric(r.throughput.as_deref())?,
                r.concurrency,
            ))
        })
        .collect();
    if points.is_empty() {
        return Ok((csv, PlotOutcome::NoNumericData));
    }
    let png = dir.join("throughput_vs_median_e2e_latency.png");
    let title = if simulated {
        "DeepSeek-R1 MTP: Throughput vs Median E2E Latency (simulated)"
    } else {
        "DeepSeek-R1 MTP: Throughput vs Median E2E Latency"
    };
    let outcome = match draw(&png, &points, title) {
        Ok(()) => PlotOutcome::Written(png),
        Err(e) => PlotOutcome::Failed(e),
    };
    Ok((csv, outcome))
}

fn ensure_font() -> Result<(), String> {
    static DONE: OnceLock<Result<(), String>> = OnceLock::new();
    DONE.get_or_init(|| {
        register_font(FAMILY, FontStyle::Normal, FONT)
            .map_err(|_| "the embedded DejaVu Sans font could not be loaded".to_owned())
    })
    .clone()
}

/// 8 × 5 inch at 100 dpi (800 × 500 px), line with round markers, `C<n>` labels.
fn draw(path: &Path, points: &[(f64, f64, u32)], title: &str) -> Result<(), String> {
    ensure_font()?;
    let tmp = path.with_file_name(format!(".tmp-{}-mtp.png", std::process::id()));
    let err = |e: &dyn std::fmt::Display| format!("cannot draw {}: {e}", path.display());
    {
        let root = BitMapBackend::new(&tmp, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let span = |v: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = v.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
            let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1.0);
            (lo - pad)..(hi + pad)
        };
        let xr = span(&mut points.iter().map(|p| p.0));
        let yr = span(&mut points.iter().map(|p| p.1));
        let mut chart = ChartBuilder::on(&root)
            .caption(title, (FAMILY, 18))
            .margin(12)
            .x_label_area_size(45)
            .y_label_area_size(70)
            .build_cartesian_2d(xr, yr)
            .map_err(|e| err(&e))?;
        chart
            .configure_mesh()
            .x_desc("Median E2E Latency (ms)")
            .y_desc("Total Token Throughput (tok/s)")
            .label_style((FAMILY, 12))
            .axis_desc_style((FAMILY, 14))
            .light_line_style(WHITE)
            .bold_line_style(RGBColor(0xcc, 0xcc, 0xcc).stroke_width(1))
            .draw()
            .map_err(|e| err(&e))?;
        let blue = RGBColor(0x1f, 0x77, 0xb4);
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.0, p.1)),
                blue.stroke_width(2),
            ))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(
                points
                    .iter()
                    .map(|p| Circle::new((p.0, p.1), 4, blue.filled())),
            )
            .map_err(|e| err(&e))?;
        chart
            .draw_series(points.iter().map(|p| {
                EmptyElement::at((p.0, p.1))
                    + Text::new(format!("C{}", p.2), (7, -14), (FAMILY, 11))
            }))
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| err(&e))
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
