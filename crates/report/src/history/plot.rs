//! Trend-plot rendering with plotters: a grid of panels sharing one categorical date axis,
//! lines with markers (gaps where a point is missing) or grouped bars, value annotations
//! thinned as the original thinned them, legends in their own column beside each panel so
//! they never cover data, and the embedded font of [`crate::plot`] so no system font is needed.
//! PNG through the bitmap backend, SVG through the SVG backend.

use std::path::{Path, PathBuf};

use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontTransform;
use plotters::style::text_anchor::{HPos, Pos, VPos};

use super::common::PlotFormat;
use super::error::HistoryError;
use crate::plot::{FAMILY, PALETTE, ensure_font};

/// Marker shapes; one per variant so overlapping variants stay distinguishable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Marker {
    /// Filled circle.
    #[default]
    Circle,
    /// Filled triangle.
    Triangle,
    /// Filled square.
    Square,
    /// Cross.
    Cross,
}

impl Marker {
    /// The n-th marker shape.
    pub fn nth(n: usize) -> Self {
        [Self::Circle, Self::Triangle, Self::Square, Self::Cross][n % 4]
    }
}

/// One series: points at category positions (index into the figure's dates).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Series {
    /// Legend label.
    pub label: String,
    /// Palette index.
    pub color: usize,
    /// Marker shape.
    pub marker: Marker,
    /// `(date index, value)`; several points may share a date (legacy duplicates).
    pub points: Vec<(usize, f64)>,
}

/// How values are written above their points.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Annotate {
    /// No value labels.
    None,
    /// Rounded to an integer.
    Integer,
    /// `× 1` with one decimal and `%`.
    Percent1,
}

/// Lines with markers or grouped bars.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PanelKind {
    /// Lines and markers.
    Lines,
    /// Grouped bars (one bar per series and date).
    Bars,
}

/// One panel of the grid.
#[derive(Debug, Clone, PartialEq)]
pub struct Panel {
    /// Title above the panel.
    pub title: String,
    /// Y-axis description.
    pub y_label: String,
    /// Lines or bars.
    pub kind: PanelKind,
    /// Series in legend order.
    pub series: Vec<Series>,
    /// Value labels.
    pub annotate: Annotate,
    /// Fixed y range; `None` = from the data.
    pub y_range: Option<(f64, f64)>,
    /// Grey boxed note lines under the panel.
    pub note: Vec<String>,
}

/// A grid of panels over one categorical date axis.
#[derive(Debug, Clone, PartialEq)]
pub struct Figure {
    /// Width in pixels.
    pub width: u32,
    /// Height in pixels.
    pub height: u32,
    /// Grid rows.
    pub rows: usize,
    /// Grid columns.
    pub cols: usize,
    /// `rows × cols` cells, row by row; `None` leaves the cell blank.
    pub cells: Vec<Option<Panel>>,
    /// Category labels of the x axis (`YYYY-MM-DD`).
    pub dates: Vec<String>,
    /// Text size factor (1.0 = the original's 100 dpi figures; 1.5 for 150 dpi).
    pub font_scale: f64,
}

/// Writes `fig` as `<stem>.png` and/or `<stem>.svg`; returns the files written. Each file is
/// drawn to a temporary file in the target folder and renamed into place.
pub fn render(fig: &Figure, stem: &Path, format: PlotFormat) -> Result<Vec<PathBuf>, HistoryError> {
    let mut out = Vec::new();
    for ext in format.extensions() {
        let path = stem.with_file_name(format!(
            "{}.{ext}",
            stem.file_name()
                .map(|s| s.to_string_lossy())
                .unwrap_or_default()
        ));
        let fail = |message: String| HistoryError::Plot {
            path: path.clone(),
            message,
        };
        let dir = path.parent().unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(|e| fail(format!("cannot create folder: {e}")))?;
        ensure_font().map_err(|e| fail(e.to_string()))?;
        let tmp = tempfile::Builder::new()
            .prefix(".tmp-")
            .suffix(&format!(".{ext}"))
            .tempfile_in(dir)
            .map_err(|e| fail(e.to_string()))?
            .into_temp_path();
        let size = (fig.width, fig.height);
        if *ext == "png" {
            let root = BitMapBackend::new(&tmp, size).into_drawing_area();
            draw_figure(&root, fig).map_err(&fail)?;
            root.present().map_err(|e| fail(e.to_string()))?;
        } else {
            let root = SVGBackend::new(&tmp, size).into_drawing_area();
            draw_figure(&root, fig).map_err(&fail)?;
            root.present().map_err(|e| fail(e.to_string()))?;
        }
        // A plot is for everyone to read (the temporary file is private, 0600).
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(0o644))
                .map_err(|e| fail(e.to_string()))?;
        }
        tmp.persist(&path).map_err(|e| fail(e.to_string()))?;
        out.push(path);
    }
    Ok(out)
}

type Area<DB> = DrawingArea<DB, Shift>;

thread_local! {
    static SCALE: std::cell::Cell<f64> = const { std::cell::Cell::new(1.0) };
}

fn font(size: f64) -> TextStyle<'static> {
    (FAMILY, size * SCALE.with(std::cell::Cell::get))
        .into_font()
        .color(&BLACK)
}

fn px(v: f64) -> i32 {
    (v * SCALE.with(std::cell::Cell::get)).round() as i32
}

fn draw_figure<DB: DrawingBackend>(root: &Area<DB>, fig: &Figure) -> Result<(), String> {
    SCALE.with(|c| c.set(fig.font_scale));
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let cells = root.split_evenly((fig.rows, fig.cols));
    for (area, cell) in cells.iter().zip(&fig.cells) {
        if let Some(panel) = cell {
            draw_panel(area, panel, &fig.dates)?;
        }
    }
    Ok(())
}

/// Y range with headroom for value labels.
fn y_range(panel: &Panel) -> (f64, f64) {
    if let Some(r) = panel.y_range {
        return r;
    }
    let ys = panel
        .series
        .iter()
        .flat_map(|s| s.points.iter().map(|p| p.1))
        .filter(|v| v.is_finite());
    let (mut lo, mut hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
        (a.min(v), b.max(v))
    });
    if !lo.is_finite() {
        return (0.0, 1.0);
    }
    if panel.kind == PanelKind::Bars {
        lo = lo.min(0.0);
    }
    let span = hi - lo;
    let pad = if span > 0.0 {
        span * 0.08
    } else {
        (hi.abs() * 0.05).max(1.0)
    };
    let top_pad = if panel.annotate == Annotate::None {
        pad
    } else {
        pad * 1.8
    };
    if panel.kind == PanelKind::Bars {
        hi += top_pad;
        return (lo, hi);
    }
    lo -= pad;
    hi += top_pad;
    (lo, hi)
}

fn y_formatter(lo: f64, hi: f64) -> impl Fn(&f64) -> String {
    let span = (hi - lo).abs();
    let decimals = if span >= 20.0 {
        0
    } else if span >= 2.0 {
        1
    } else if span >= 0.2 {
        2
    } else {
        3
    };
    move |v: &f64| format!("{v:.decimals$}")
}

fn annotation_text(a: Annotate, v: f64) -> String {
    match a {
        Annotate::None => String::new(),
        Annotate::Integer => format!("{}", v.round() as i64),
        Annotate::Percent1 => format!("{v:.1}%"),
    }
}

/// The original's label thinning (spec §12.7): equal values keep only the leftmost label;
/// the rest, by x then descending y, are dropped when a kept label with a different value
/// lies within 0.15 x-units and 5 % of the y-spread.
pub fn thin_labels(cands: &[(f64, f64)]) -> Vec<(f64, f64)> {
    let mut by_value: Vec<(f64, f64)> = Vec::new();
    for &(x, y) in cands {
        match by_value.iter_mut().find(|(_, vy)| *vy == y) {
            Some(slot) => {
                if x < slot.0 {
                    slot.0 = x;
                }
            }
            None => by_value.push((x, y)),
        }
    }
    by_value.sort_by(|a, b| a.0.total_cmp(&b.0).then(b.1.total_cmp(&a.1)));
    let (lo, hi) = by_value
        .iter()
        .fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), p| {
            (a.min(p.1), b.max(p.1))
        });
    let spread = if hi > lo { hi - lo } else { 1.0 };
    let mut kept: Vec<(f64, f64)> = Vec::new();
    for (x, y) in by_value {
        let crowded = kept
            .iter()
            .any(|(kx, ky)| *ky != y && (kx - x).abs() < 0.15 && (ky - y).abs() < 0.05 * spread);
        if !crowded {
            kept.push((x, y));
        }
    }
    kept
}

fn draw_panel<DB: DrawingBackend>(
    area: &Area<DB>,
    panel: &Panel,
    dates: &[String],
) -> Result<(), String> {
    let e = |err: DrawingAreaErrorKind<DB::ErrorType>| err.to_string();
    let (w, h) = area.dim_in_pixel();
    let legend_font = font(13.0);
    let legend_w = if panel.series.is_empty() {
        0
    } else {
        let widest = panel
            .series
            .iter()
            .map(|s| {
                area.estimate_text_size(&s.label, &legend_font)
                    .map_or(100, |d| d.0)
            })
            .max()
            .unwrap_or(100);
        (widest + px(56.0) as u32).clamp(120, w / 3)
    };
    let (main, legend) = area.split_horizontally(w - legend_w);
    let note_h = if panel.note.is_empty() {
        0
    } else {
        22 * panel.note.len() as u32 + 16
    };
    let (chart_area, note_area) = main.split_vertically(h - note_h);
    let n = dates.len().max(1);
    let (y0, y1) = y_range(panel);
    let x_range = -0.6f64..(n as f64 - 0.4);
    let mut chart = ChartBuilder::on(&chart_area)
        .caption(&panel.title, font(22.0))
        .margin(px(10.0))
        .margin_right(px(14.0))
        .x_label_area_size(px(105.0))
        .y_label_area_size(px(80.0))
        .build_cartesian_2d(x_range, y0..y1)
        .map_err(e)?;
    let fmt = y_formatter(y0, y1);
    let grid = RGBColor(0xb0, 0xb0, 0xb0);
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(0)
        .y_labels(if panel.series.is_empty() { 0 } else { 8 })
        .y_label_formatter(&fmt)
        .y_desc(panel.y_label.as_str())
        .x_desc("Date")
        .axis_desc_style(font(16.0))
        .label_style(font(13.0))
        .bold_line_style(grid.mix(0.5))
        .light_line_style(TRANSPARENT)
        .draw()
        .map_err(e)?;
    if panel.series.is_empty() {
        return Ok(());
    }
    // Date axis: a light vertical grid line and a vertical label per shown date.
    let step = dates.len().div_ceil(45).max(1);
    let label_style = font(13.0)
        .transform(FontTransform::Rotate270)
        .pos(Pos::new(HPos::Right, VPos::Center));
    for (i, d) in dates.iter().enumerate() {
        chart
            .draw_series(LineSeries::new(
                [(i as f64, y0), (i as f64, y1)],
                grid.mix(0.35).stroke_width(1),
            ))
            .map_err(e)?;
        if i % step == 0 || i + 1 == dates.len() {
            chart
                .draw_series(std::iter::once(
                    EmptyElement::at((i as f64, y0))
                        + PathElement::new([(0, 0), (0, px(5.0))], BLACK)
                        + Text::new(d.clone(), (0, px(9.0)), label_style.clone()),
                ))
                .map_err(e)?;
        }
    }
    let nseries = panel.series.len();
    let mut cands: Vec<(f64, f64)> = Vec::new();
    for (k, s) in panel.series.iter().enumerate() {
        let color = PALETTE[s.color % PALETTE.len()];
        let mut pts: Vec<(f64, f64)> = s
            .points
            .iter()
            .filter(|p| p.1.is_finite())
            .map(|&(x, y)| (x as f64, y))
            .collect();
        pts.sort_by(|a, b| a.0.total_cmp(&b.0));
        match panel.kind {
            PanelKind::Lines => {
                // Break the line where a date has no value: missing points are gaps.
                let mut run: Vec<(f64, f64)> = Vec::new();
                for p in &pts {
                    if let Some(last) = run.last()
                        && p.0 - last.0 > 1.0
                    {
                        chart
                            .draw_series(LineSeries::new(run.drain(..), color.stroke_width(2)))
                            .map_err(e)?;
                    }
                    run.push(*p);
                }
                chart
                    .draw_series(LineSeries::new(run, color.stroke_width(2)))
                    .map_err(e)?;
                for &(x, y) in &pts {
                    draw_marker(&mut chart, s.marker, color, (x, y)).map_err(e)?;
                }
                cands.extend(pts.iter().copied());
            }
            PanelKind::Bars => {
                let bw = 0.8 / nseries as f64;
                for &(x, y) in &pts {
                    let left = x - 0.4 + k as f64 * bw;
                    chart
                        .draw_series(std::iter::once(Rectangle::new(
                            [(left, 0.0_f64.max(y0)), (left + bw * 0.96, y)],
                            color.filled(),
                        )))
                        .map_err(e)?;
                }
            }
        }
    }
    if panel.annotate != Annotate::None {
        let style = font(11.0).pos(Pos::new(HPos::Center, VPos::Bottom));
        let labels = thin_labels(&cands);
        chart
            .draw_series(labels.into_iter().map(|(x, y)| {
                EmptyElement::at((x, y))
                    + Text::new(
                        annotation_text(panel.annotate, y),
                        (0, -px(7.0)),
                        style.clone(),
                    )
            }))
            .map_err(e)?;
    }
    draw_legend(&legend, panel).map_err(e)?;
    if !panel.note.is_empty() {
        draw_note(&note_area, &panel.note).map_err(e)?;
    }
    Ok(())
}

fn draw_marker<DB: DrawingBackend>(
    chart: &mut ChartContext<
        '_,
        DB,
        Cartesian2d<plotters::coord::types::RangedCoordf64, plotters::coord::types::RangedCoordf64>,
    >,
    marker: Marker,
    color: RGBColor,
    at: (f64, f64),
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    match marker {
        Marker::Circle => chart.draw_series(std::iter::once(Circle::new(at, 4, color.filled())))?,
        Marker::Triangle => {
            chart.draw_series(std::iter::once(TriangleMarker::new(at, 6, color.filled())))?
        }
        Marker::Square => chart.draw_series(std::iter::once(
            EmptyElement::at(at) + Rectangle::new([(-4, -4), (4, 4)], color.filled()),
        ))?,
        Marker::Cross => {
            chart.draw_series(std::iter::once(Cross::new(at, 5, color.stroke_width(2))))?
        }
    };
    Ok(())
}

fn draw_legend<DB: DrawingBackend>(
    area: &Area<DB>,
    panel: &Panel,
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (_, h) = area.dim_in_pixel();
    let n = panel.series.len().max(1) as i32;
    let row = ((h as i32 - 60) / n).clamp(px(11.0), px(20.0));
    let style =
        font(if row < px(15.0) { 11.0 } else { 13.0 }).pos(Pos::new(HPos::Left, VPos::Center));
    let top = px(46.0);
    let box_h = row * n + 10;
    area.draw(&Rectangle::new(
        [
            (2, top - 8),
            (area.dim_in_pixel().0 as i32 - 6, top - 8 + box_h),
        ],
        RGBColor(0xcc, 0xcc, 0xcc).stroke_width(1),
    ))?;
    for (k, s) in panel.series.iter().enumerate() {
        let y = top + k as i32 * row + row / 2 - 3;
        let color = PALETTE[s.color % PALETTE.len()];
        match panel.kind {
            PanelKind::Lines => {
                area.draw(&PathElement::new(
                    [(8, y), (px(36.0), y)],
                    color.stroke_width(2),
                ))?;
                let at = ((8 + px(36.0)) / 2, y);
                match s.marker {
                    Marker::Circle => area.draw(&Circle::new(at, 4, color.filled()))?,
                    Marker::Triangle => area.draw(&TriangleMarker::new(at, 6, color.filled()))?,
                    Marker::Square => area.draw(&Rectangle::new(
                        [(at.0 - 4, y - 4), (at.0 + 4, y + 4)],
                        color.filled(),
                    ))?,
                    Marker::Cross => area.draw(&Cross::new(at, 5, color.stroke_width(2)))?,
                }
            }
            PanelKind::Bars => {
                area.draw(&Rectangle::new(
                    [(10, y - 5), (px(34.0), y + 5)],
                    color.filled(),
                ))?;
            }
        }
        area.draw(&Text::new(s.label.clone(), (px(44.0), y), style.clone()))?;
    }
    Ok(())
}

fn draw_note<DB: DrawingBackend>(
    area: &Area<DB>,
    lines: &[String],
) -> Result<(), DrawingAreaErrorKind<DB::ErrorType>> {
    let (w, _) = area.dim_in_pixel();
    let grey = RGBColor(0x60, 0x60, 0x60);
    let style = font(13.0)
        .color(&grey)
        .pos(Pos::new(HPos::Center, VPos::Top));
    let widest = lines
        .iter()
        .map(|l| area.estimate_text_size(l, &style).map_or(400, |d| d.0))
        .max()
        .unwrap_or(400) as i32;
    let cx = w as i32 / 2;
    area.draw(&Rectangle::new(
        [
            (cx - widest / 2 - 10, 2),
            (cx + widest / 2 + 10, 8 + px(20.0) * lines.len() as i32),
        ],
        grey.stroke_width(1),
    ))?;
    for (i, l) in lines.iter().enumerate() {
        area.draw(&Text::new(
            l.clone(),
            (cx, 6 + px(20.0) * i as i32),
            style.clone(),
        ))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_values_keep_only_the_leftmost_label() {
        let kept = thin_labels(&[(2.0, 5.0), (0.0, 5.0), (1.0, 5.0)]);
        assert_eq!(kept, [(0.0, 5.0)]);
    }

    #[test]
    fn crowded_labels_are_dropped() {
        // Same x, values 1 % of the spread apart: the lower one goes.
        let kept = thin_labels(&[(0.0, 100.0), (0.0, 101.0), (1.0, 0.0)]);
        assert_eq!(kept, [(0.0, 101.0), (1.0, 0.0)]);
    }
}
