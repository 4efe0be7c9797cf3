//! The online plot phase (spec benchmarks.md §12.6–§12.8): re-read the summary CSV, keep
//! complete dates, and lay out the single (3×2 / 2×2) or split (3×3) figure.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use polars::prelude::*;

use super::common::{Say, bool_col, capitalized, f64_col, i64_col, say_load_mismatch, str_col};
use super::error::HistoryError;
use super::online::OnlineConfig;
use super::plot::{self, Annotate, Figure, Marker, Panel, PanelKind, Series};

const METRIC_COLS: [&str; 4] = ["GSM8K_Accuracy", "E2E_Latency_ms", "TTFT_ms", "ITL_ms"];

/// Reads a summary CSV into a frame with `date` and `variant`/`mode` as strings and every
/// number as `f64` (`num_tokens`, `KV_size_GB` coerced, as the original's `to_numeric`).
pub fn read_summary(path: &Path, load_metric: &str) -> Result<(DataFrame, bool), HistoryError> {
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(path.to_owned()))
        .and_then(|r| r.finish())
        .map_err(HistoryError::frame(format!("reading {}", path.display())))?;
    for c in ["date", load_metric] {
        if df.column(c).is_err() {
            return Err(HistoryError::SummaryColumn {
                path: path.to_owned(),
                column: c.to_owned(),
            });
        }
    }
    let has_variant = df.column("variant").is_ok();
    let names: Vec<String> = df
        .get_column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut lf = df.lazy();
    if !has_variant {
        lf = lf.with_column(lit("").alias("variant"));
    }
    if !names.iter().any(|n| n == "mode") {
        lf = lf.with_column(lit("aiter").alias("mode"));
    }
    let mut casts = vec![
        col("date").cast(DataType::String),
        col("variant").cast(DataType::String),
        col("mode").cast(DataType::String),
        col(load_metric).cast(DataType::Int64),
    ];
    for c in METRIC_COLS.iter().chain(&["num_tokens", "KV_size_GB"]) {
        if names.iter().any(|n| n == c) {
            casts.push(col(*c).cast(DataType::Float64));
        } else {
            casts.push(lit(NULL).cast(DataType::Float64).alias(*c));
        }
    }
    let df = lf
        .with_columns(casts)
        .collect()
        .map_err(HistoryError::frame(format!("reading {}", path.display())))?;
    Ok((df, has_variant))
}

/// Rows of the plotted data, in Rust form.
#[derive(Debug, Clone, PartialEq)]
struct Row {
    date: String,
    variant: String,
    mode: String,
    load: i64,
    values: [Option<f64>; 6],
}

fn rows_of(df: &DataFrame, lm: &str) -> Result<Vec<Row>, HistoryError> {
    let bad = |e| HistoryError::Frame {
        what: "reading the summary rows".into(),
        source: e,
    };
    let s = |n: &str| str_col(df, n).map_err(bad);
    let date = s("date")?;
    let variant = s("variant")?;
    let mode = s("mode")?;
    let load = i64_col(df, lm).map_err(bad)?;
    let mut nums = Vec::new();
    for c in METRIC_COLS.iter().chain(&["num_tokens", "KV_size_GB"]) {
        nums.push(f64_col(df, c).map_err(bad)?);
    }
    Ok((0..df.height())
        .map(|i| Row {
            date: date.get(i).unwrap_or_default().to_owned(),
            variant: variant.get(i).unwrap_or_default().to_owned(),
            mode: mode.get(i).unwrap_or_default().to_owned(),
            load: load.get(i).unwrap_or(0),
            values: std::array::from_fn(|k| {
                nums[k].get(i).filter(|v| super::common::plausible(*v))
            }),
        })
        .collect())
}

/// Runs the plot phase; returns the files written (none when no date is complete).
pub fn plot(cfg: &OnlineConfig, say: Say<'_>) -> Result<Vec<PathBuf>, HistoryError> {
    let lm = cfg.load_metric;
    let (df, has_variant) = read_summary(&cfg.folders.summary_path, lm)?;
    let mut lf = df.lazy();
    if let Some(modes) = &cfg.modes {
        let keep = modes
            .iter()
            .map(|m| col("mode").eq(lit(m.clone())))
            .reduce(|a, b| a.or(b))
            .unwrap_or_else(|| lit(false));
        lf = lf.filter(keep);
    }
    let lf = lf.sort(
        ["date"],
        SortMultipleOptions::default().with_maintain_order(true),
    );
    // Per-date completeness, variants merged: any present value per metric and load.
    let any_present = METRIC_COLS
        .iter()
        .map(|c| col(*c).is_not_null().any(true))
        .reduce(|a, b| a.and(b))
        .unwrap_or_else(|| lit(true));
    let per_load = lf
        .clone()
        .group_by_stable([col("date"), col("mode"), col(lm)])
        .agg([any_present.alias("valid")])
        .collect()
        .map_err(HistoryError::frame("checking plotted dates"))?;
    let bad = |e| HistoryError::Frame {
        what: "checking plotted dates".into(),
        source: e,
    };
    let d = str_col(&per_load, "date").map_err(bad)?;
    let m = str_col(&per_load, "mode").map_err(bad)?;
    let l = i64_col(&per_load, lm).map_err(bad)?;
    let v = bool_col(&per_load, "valid").map_err(bad)?;
    let mut by_date: BTreeMap<String, BTreeMap<String, Vec<(i64, bool)>>> = BTreeMap::new();
    for i in 0..per_load.height() {
        by_date
            .entry(d.get(i).unwrap_or_default().to_owned())
            .or_default()
            .entry(m.get(i).unwrap_or_default().to_owned())
            .or_default()
            .push((l.get(i).unwrap_or(0), v.get(i).unwrap_or(false)));
    }
    let cap = capitalized(lm);
    let want: BTreeSet<i64> = cfg.expected.iter().copied().collect();
    let mut kept_dates: BTreeSet<String> = BTreeSet::new();
    for (date, modes) in &by_date {
        let mut ok = true;
        for (mode, loads) in modes {
            let have: BTreeSet<i64> = loads.iter().map(|x| x.0).collect();
            if !say_load_mismatch(say, &format!("Date {date}"), mode, lm, &want, &have) {
                ok = false;
                continue;
            }
            if let Some((x, _)) = loads.iter().find(|x| !x.1) {
                say(&format!(
                    "Date {date}, Mode {mode}, {cap} {x}: Missing valid data for one or more performance metrics"
                ));
                ok = false;
            }
        }
        if ok {
            say(&format!(
                "Date {date}: Complete and valid data for all modes and {lm}s"
            ));
            kept_dates.insert(date.clone());
        }
    }
    say("");
    say(&format!(
        "Kept {} dates with complete and valid data for plotting",
        kept_dates.len()
    ));
    let rows: Vec<Row> = rows_of(
        &lf.collect()
            .map_err(HistoryError::frame("reading the summary"))?,
        lm,
    )?
    .into_iter()
    .filter(|r| kept_dates.contains(&r.date))
    .collect();
    say(&format!("Total records after filtering: {}", rows.len()));
    if rows.is_empty() {
        say("No data available to plot.");
        return Ok(Vec::new());
    }
    let modes: BTreeSet<&str> = rows.iter().map(|r| r.mode.as_str()).collect();
    say(&format!(
        "Plotting modes: {}",
        modes.iter().copied().collect::<Vec<_>>().join(", ")
    ));
    let data = PlotData::new(&rows, cfg);
    let variants: BTreeSet<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
    let suffix = if !has_variant {
        String::new()
    } else if variants.len() == 1 {
        format!("_{}", variants.iter().next().copied().unwrap_or_default())
    } else {
        "_all".to_owned()
    };
    let plot_date = cfg
        .opts
        .plot_date
        .clone()
        .unwrap_or_else(|| super::common::ymd(cfg.opts.common.today));
    let mut stem = format!("{plot_date}_{}_online{suffix}", cfg.base_name);
    let fig = if cfg.opts.split_request_rates {
        stem.push_str("_split");
        data.split_figure()
    } else {
        let fig = data.single_figure();
        say(if fig.rows == 3 {
            "Using 3x2 layout (with token/KV cache data)"
        } else {
            "Using 2x2 layout (no token/KV cache data)"
        });
        fig
    };
    let files = plot::render(
        &fig,
        &cfg.folders.plot_dir.join(stem),
        cfg.opts.common.format,
    )?;
    for f in &files {
        if cfg.opts.split_request_rates {
            say(&format!("Split {lm} plot saved to: {}", f.display()));
        } else {
            say(&format!("Plot saved to: {}", f.display()));
        }
    }
    Ok(files)
}

/// The kept rows arranged for the panels.
struct PlotData<'a> {
    rows: &'a [Row],
    dates: Vec<String>,
    /// (variant, mode) pairs, ordered by variant then mode.
    groups: Vec<(String, String)>,
    multi_variant: bool,
    model_name: String,
    load_word: &'static str,
    expected: Vec<i64>,
}

impl<'a> PlotData<'a> {
    fn new(rows: &'a [Row], cfg: &OnlineConfig) -> Self {
        let dates: BTreeSet<String> = rows.iter().map(|r| r.date.clone()).collect();
        let groups: BTreeSet<(String, String)> = rows
            .iter()
            .map(|r| (r.variant.clone(), r.mode.clone()))
            .collect();
        let variants: BTreeSet<&str> = rows.iter().map(|r| r.variant.as_str()).collect();
        Self {
            rows,
            dates: dates.into_iter().collect(),
            groups: groups.into_iter().collect(),
            multi_variant: variants.len() > 1,
            model_name: cfg.folders.model_name.clone(),
            load_word: if cfg.load_metric == "concurrency" {
                "Conc"
            } else {
                "RR"
            },
            expected: cfg.expected.clone(),
        }
    }

    fn date_index(&self, d: &str) -> usize {
        self.dates
            .binary_search_by(|x| x.as_str().cmp(d))
            .unwrap_or(0)
    }

    fn label(&self, variant: &str, rest: String) -> String {
        if self.multi_variant {
            format!("{variant}-{rest}")
        } else {
            rest
        }
    }

    fn variant_index(&self, variant: &str) -> usize {
        let vs: BTreeSet<&str> = self.groups.iter().map(|g| g.0.as_str()).collect();
        vs.iter().position(|v| *v == variant).unwrap_or(0)
    }

    /// Per (variant, mode): the mean of column `k` per date, times `scale`.
    fn per_group_mean(&self, k: usize, scale: f64, suffix: &str) -> Vec<Series> {
        let mut out = Vec::new();
        for (gi, (variant, mode)) in self.groups.iter().enumerate() {
            let mut sums: BTreeMap<usize, (f64, usize)> = BTreeMap::new();
            for r in self
                .rows
                .iter()
                .filter(|r| &r.variant == variant && &r.mode == mode)
            {
                if let Some(v) = r.values[k] {
                    let e = sums.entry(self.date_index(&r.date)).or_insert((0.0, 0));
                    e.0 += v;
                    e.1 += 1;
                }
            }
            if sums.is_empty() {
                continue;
            }
            out.push(Series {
                label: self.label(variant, format!("{mode} - {suffix}")),
                color: gi,
                marker: Marker::nth(self.variant_index(variant)),
                points: sums
                    .into_iter()
                    .map(|(x, (s, n))| (x, s / n as f64 * scale))
                    .collect(),
            });
        }
        out
    }

    /// Per (variant, mode, load in `loads`): every row's value of column `k`.
    fn per_load(&self, k: usize, loads: &[i64]) -> Vec<Series> {
        let mut out = Vec::new();
        let modes: BTreeSet<&str> = self.groups.iter().map(|g| g.1.as_str()).collect();
        for (variant, mode) in &self.groups {
            let mode_i = modes.iter().position(|m| m == mode).unwrap_or(0);
            for &load in loads {
                let points: Vec<(usize, f64)> = self
                    .rows
                    .iter()
                    .filter(|r| &r.variant == variant && &r.mode == mode && r.load == load)
                    .filter_map(|r| Some((self.date_index(&r.date), r.values[k]?)))
                    .collect();
                if points.is_empty() {
                    continue;
                }
                let load_i = self.expected.iter().position(|x| *x == load).unwrap_or(0);
                out.push(Series {
                    label: self.label(variant, format!("{mode} {}={load}", self.load_word)),
                    color: mode_i * self.expected.len() + load_i,
                    marker: Marker::nth(self.variant_index(variant)),
                    points,
                });
            }
        }
        out
    }

    fn panel(&self, title: &str, y_label: &str, series: Vec<Series>, annotate: Annotate) -> Panel {
        let title = if series.is_empty() {
            format!("{title} vs. Date for {} (No Data)", self.model_name)
        } else {
            format!("{title} vs. Date for {}", self.model_name)
        };
        Panel {
            title,
            y_label: y_label.to_owned(),
            kind: PanelKind::Lines,
            series,
            annotate,
            y_range: None,
            note: Vec::new(),
        }
    }

    fn gsm8k_panel(&self) -> Panel {
        let series = self.per_group_mean(0, 100.0, "GSM8K Accuracy");
        let mut p = self.panel(
            if series.is_empty() {
                "GSM8K Accuracy"
            } else {
                "GSM8K Accuracy (%)"
            },
            "GSM8K Accuracy (%)",
            series,
            Annotate::Percent1,
        );
        let ys = p.series.iter().flat_map(|s| s.points.iter().map(|x| x.1));
        let (lo, hi) = ys.fold((f64::INFINITY, f64::NEG_INFINITY), |(a, b), v| {
            (a.min(v), b.max(v))
        });
        if lo.is_finite() {
            p.y_range = Some(((lo - 2.0).max(0.0), (hi + 2.0).min(100.0)));
        }
        p
    }

    fn metric_panels(&self, loads: &[i64], suffix: &str) -> [Panel; 3] {
        let mk = |k: usize, title: &str| {
            let mut p = self.panel(
                title,
                &format!("{title}{suffix}"),
                self.per_load(k, loads),
                Annotate::Integer,
            );
            p.y_label = format!("{title}{suffix}");
            p
        };
        [
            mk(1, "E2E Latency (ms)"),
            mk(2, "TTFT (ms)"),
            mk(3, "ITL (ms)"),
        ]
    }

    fn tokens_panel(&self) -> Panel {
        let series = self.per_group_mean(4, 1.0, "# Tokens");
        let empty = series.is_empty();
        let mut p = self.panel(
            if empty { "# Tokens" } else { "# Tokens*" },
            "# Tokens*",
            series,
            Annotate::Integer,
        );
        if !empty {
            p.note = vec![
                "Note: \"# Tokens*\" refers to the number of tokens for which the".to_owned(),
                "Key-Value (KV) Cache is allocated at server startup.".to_owned(),
            ];
        }
        p
    }

    fn kv_panel(&self) -> Panel {
        let series = self.per_group_mean(5, 1.0, "KV Cache Usage");
        let empty = series.is_empty();
        let mut p = self.panel(
            if empty {
                "KV Cache Usage"
            } else {
                "KV Cache Usage (GB)"
            },
            "KV Cache Usage (GB)",
            series,
            Annotate::None,
        );
        p.kind = PanelKind::Bars;
        p
    }

    fn has_kv(&self) -> bool {
        self.rows
            .iter()
            .any(|r| r.values[4].is_some() || r.values[5].is_some())
    }

    fn single_figure(&self) -> Figure {
        let [e2e, ttft, itl] = self.metric_panels(&self.expected, "");
        let with_kv = self.has_kv();
        let mut cells = vec![Some(self.gsm8k_panel()), Some(e2e), Some(ttft), Some(itl)];
        if with_kv {
            cells.push(Some(self.tokens_panel()));
            cells.push(Some(self.kv_panel()));
        }
        Figure {
            width: 2000,
            height: if with_kv { 1800 } else { 1200 },
            rows: if with_kv { 3 } else { 2 },
            cols: 2,
            cells,
            dates: self.display_dates(),
            font_scale: 1.0,
        }
    }

    fn split_figure(&self) -> Figure {
        let n = self.expected.len();
        let low_n = if n >= 4 { n.div_ceil(2) } else { n };
        let (low, high) = self.expected.split_at(low_n);
        let metric = if self.load_word == "Conc" {
            "concurrency"
        } else {
            "request_rate"
        };
        let mut cells: Vec<Option<Panel>> = Vec::new();
        for (loads, word) in [(low, "Low"), (high, "High")] {
            let panels = self.metric_panels(loads, &format!(" - {word}"));
            if panels.iter().all(|p| p.series.is_empty()) {
                for _ in 0..3 {
                    cells.push(Some(Panel {
                        title: format!("{word} {metric} Metrics (No Data)"),
                        y_label: String::new(),
                        kind: PanelKind::Lines,
                        series: Vec::new(),
                        annotate: Annotate::None,
                        y_range: None,
                        note: Vec::new(),
                    }));
                }
            } else {
                cells.extend(panels.into_iter().map(Some));
            }
        }
        let tokens = self.tokens_panel();
        let kv = self.kv_panel();
        cells.push((!tokens.series.is_empty()).then_some(tokens));
        cells.push((!kv.series.is_empty()).then_some(kv));
        cells.push(Some(self.gsm8k_panel()));
        Figure {
            width: 3000,
            height: 2400,
            rows: 3,
            cols: 3,
            cells,
            dates: self.display_dates(),
            font_scale: 1.0,
        }
    }

    fn display_dates(&self) -> Vec<String> {
        self.dates
            .iter()
            .map(|d| {
                if d.len() == 8 {
                    format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
                } else {
                    d.clone()
                }
            })
            .collect()
    }
}
