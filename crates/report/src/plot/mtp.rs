//! The MTP chart of the DeepSeek MTP test on MI355X (spec benchmarks.md §5.10):
//! `throughput_vs_median_e2e_latency.png`, 8 × 5 inch at 100 dpi (800 × 500 px), the output
//! token throughput over the median E2E latency, one round marker per concurrency, labelled
//! `C<n>`. The run folder and its `bench_results.csv` belong to sglang-runner.

use std::path::Path;

use plotters::prelude::*;

use super::{FAMILY, PALETTE, PlotError, ensure_font};

/// One point: a concurrency and its best run's numbers.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MtpPoint {
    /// Median E2E latency (ms): the x value.
    pub median_e2e_ms: f64,
    /// Output token throughput (tok/s): the y value.
    pub throughput: f64,
    /// Concurrency: the `C<n>` label.
    pub concurrency: u32,
}

/// The title; a simulated run says so.
pub fn title(simulated: bool) -> &'static str {
    if simulated {
        "DeepSeek-R1 MTP: Throughput vs Median E2E Latency (simulated)"
    } else {
        "DeepSeek-R1 MTP: Throughput vs Median E2E Latency"
    }
}

/// Draws `points` (in the order given) as a PNG at `path`: drawn to a temporary file in the
/// same folder, which must exist, then renamed into place.
pub fn draw(path: &Path, points: &[MtpPoint], simulated: bool) -> Result<(), PlotError> {
    ensure_font()?;
    let tmp = path.with_file_name(format!(".tmp-{}-mtp.png", std::process::id()));
    let err = |e: &dyn std::fmt::Display| PlotError::Draw {
        path: path.to_owned(),
        message: e.to_string(),
    };
    {
        let root = BitMapBackend::new(&tmp, (800, 500)).into_drawing_area();
        root.fill(&WHITE).map_err(|e| err(&e))?;
        let span = |v: &mut dyn Iterator<Item = f64>| {
            let (lo, hi) = v.fold((f64::MAX, f64::MIN), |(a, b), x| (a.min(x), b.max(x)));
            let pad = ((hi - lo) * 0.1).max(hi.abs() * 0.05).max(1.0);
            (lo - pad)..(hi + pad)
        };
        let xr = span(&mut points.iter().map(|p| p.median_e2e_ms));
        let yr = span(&mut points.iter().map(|p| p.throughput));
        let mut chart = ChartBuilder::on(&root)
            .caption(title(simulated), (FAMILY, 18))
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
        let blue = PALETTE[0];
        let xy = |p: &MtpPoint| (p.median_e2e_ms, p.throughput);
        chart
            .draw_series(LineSeries::new(points.iter().map(xy), blue.stroke_width(2)))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(points.iter().map(|p| Circle::new(xy(p), 4, blue.filled())))
            .map_err(|e| err(&e))?;
        chart
            .draw_series(points.iter().map(|p| {
                EmptyElement::at(xy(p))
                    + Text::new(format!("C{}", p.concurrency), (7, -14), (FAMILY, 11))
            }))
            .map_err(|e| err(&e))?;
        root.present().map_err(|e| err(&e))?;
    }
    std::fs::rename(&tmp, path).map_err(|e| err(&e))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pt(median_e2e_ms: f64, throughput: f64, concurrency: u32) -> MtpPoint {
        MtpPoint {
            median_e2e_ms,
            throughput,
            concurrency,
        }
    }

    #[test]
    fn draws_an_800_by_500_png_without_leftovers() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("throughput_vs_median_e2e_latency.png");
        draw(
            &png,
            &[pt(32493.94, 94.97, 1), pt(100117.29, 1622.4, 128)],
            false,
        )
        .unwrap();
        let bytes = std::fs::read(&png).unwrap();
        assert_eq!(&bytes[1..4], b"PNG");
        assert_eq!(u32::from_be_bytes(bytes[16..20].try_into().unwrap()), 800);
        assert_eq!(u32::from_be_bytes(bytes[20..24].try_into().unwrap()), 500);
        let names: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["throughput_vs_median_e2e_latency.png"]);
    }

    #[test]
    fn a_missing_folder_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let png = dir.path().join("nope").join("mtp.png");
        let e = draw(&png, &[pt(1.0, 2.0, 1)], true).unwrap_err();
        assert!(e.to_string().starts_with("cannot draw "), "{e}");
        assert!(e.to_string().contains("nope/mtp.png"), "{e}");
    }

    #[test]
    fn simulated_titles_say_so() {
        assert!(title(true).ends_with("(simulated)"));
        assert!(!title(false).contains("simulated"));
    }
}
