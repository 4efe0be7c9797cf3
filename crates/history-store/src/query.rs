//! Read-only questions: named reports and the user's own `--sql`, rendered as text, CSV or
//! JSON.

use std::fmt::Write as _;

use crate::db::{Rows, Store, Value};
use crate::error::StoreError;

/// A named report.
#[derive(Debug, Clone, PartialEq)]
pub enum Report {
    /// The latest night of each (host, hardware, model, mode) with its verdict and GSM8K.
    Latest,
    /// One metric at one load point over the nights (the run's reported value, sample 0).
    Series {
        /// Metric name (`ttft_median`, `e2e_median`, `itl_median`, `output_throughput`, …)
        /// or `gsm8k` for the GSM8K accuracy.
        metric: String,
        /// Load point (`8`, `128`); ignored for `gsm8k`.
        load: Option<String>,
    },
    /// Runs (and nights) that ran on a fallback image.
    Fallback,
    /// Runs without a verdict (cut short, never judged).
    NoVerdict,
}

/// Filters every named report accepts.
#[derive(Debug, Clone, Default)]
pub struct Filters {
    /// Model name.
    pub model: Option<String>,
    /// Hardware.
    pub hardware: Option<String>,
    /// Host.
    pub host: Option<String>,
    /// Mode (`online`, `online_dp_attention`, …).
    pub mode: Option<String>,
    /// Image date ≥ (YYYY-MM-DD).
    pub since: Option<String>,
    /// Image date ≤ (YYYY-MM-DD).
    pub until: Option<String>,
    /// Only the last N nights.
    pub days: Option<u32>,
}

fn filters(f: &Filters, params: &mut Vec<Value>, alias: &str) -> String {
    let mut sql = String::new();
    let mut add = |col: &str, op: &str, v: &Option<String>, params: &mut Vec<Value>| {
        if let Some(v) = v {
            params.push(v.clone().into());
            let _ = write!(sql, " AND {alias}.{col} {op} ${}", params.len());
        }
    };
    add("model", "=", &f.model, params);
    add("hardware", "=", &f.hardware, params);
    add("host", "=", &f.host, params);
    add("mode", "=", &f.mode, params);
    add("image_date", ">=", &f.since, params);
    add("image_date", "<=", &f.until, params);
    sql
}

/// Runs a named report.
pub fn report(store: &mut Store, report: &Report, f: &Filters) -> Result<Rows, StoreError> {
    let mut params = Vec::new();
    let (sql, night_col) = match report {
        Report::Latest => {
            let w = filters(f, &mut params, "r");
            (
                format!(
                    "SELECT r.night, r.host, r.hardware, r.model, r.mode, r.image_tag, \
                     r.fallback_image, r.engine, r.verdict, g.accuracy AS gsm8k, r.path \
                     FROM runs r LEFT JOIN gsm8k g ON g.run_key = r.run_key AND g.subject = r.model \
                     WHERE r.kind IN ('online', 'offline'){w} AND r.night = (SELECT max(r2.night) FROM runs r2 \
                     WHERE r2.kind = r.kind AND r2.host = r.host AND r2.model = r.model \
                     AND r2.mode = r.mode AND coalesce(r2.hardware, '') = coalesce(r.hardware, '')) \
                     ORDER BY r.model, r.mode, r.hardware, r.host, r.path"
                ),
                None,
            )
        }
        Report::Series { metric, load } if metric == "gsm8k" => {
            let _ = load;
            let w = filters(f, &mut params, "r");
            (
                format!(
                    "SELECT r.night, r.image_date, r.image_tag, r.host, r.hardware, r.model, r.mode, \
                     g.accuracy AS value, g.n, g.n_unit, r.fallback_image, r.verdict, g.source_path, g.source_line \
                     FROM gsm8k g JOIN runs r ON r.run_key = g.run_key \
                     WHERE r.kind = 'online'{w} ORDER BY r.night, r.host, r.mode, r.path"
                ),
                Some("night"),
            )
        }
        Report::Series { metric, load } => (
            metric_series_sql(metric, load.as_deref(), f, &mut params, false),
            Some("night"),
        ),
        Report::Fallback => {
            let w = filters(f, &mut params, "r");
            (
                format!(
                    "SELECT r.night, r.host, r.hardware, r.kind, r.model, r.mode, r.image_tag, r.image_date, r.verdict, r.path \
                     FROM runs r WHERE r.fallback_image = 1{w} ORDER BY r.night, r.host, r.kind, r.path"
                ),
                Some("night"),
            )
        }
        Report::NoVerdict => {
            let w = filters(f, &mut params, "r");
            (
                format!(
                    "SELECT r.night, r.host, r.hardware, r.kind, r.model, r.mode, r.image_tag, r.path \
                     FROM runs r WHERE r.verdict IS NULL AND r.kind <> 'plots'{w} ORDER BY r.night, r.host, r.kind, r.path"
                ),
                Some("night"),
            )
        }
    };
    let mut rows = store.query(&sql, &params)?;
    if let (Some(days), Some(col)) = (f.days, night_col) {
        keep_last_nights(&mut rows, days, col);
    }
    Ok(rows)
}

/// The SQL of one metric's series; `extended` adds the columns [`series`] needs beyond the
/// report's (`variant`, `engine`, `kind`, `path`, `started_at`).
fn metric_series_sql(
    metric: &str,
    load: Option<&str>,
    f: &Filters,
    params: &mut Vec<Value>,
    extended: bool,
) -> String {
    params.push(metric.to_owned().into());
    let mut w = String::new();
    if let Some(l) = load {
        params.push(l.to_owned().into());
        let _ = write!(w, " AND m.load = ${}", params.len());
    }
    w.push_str(&filters(f, params, "r"));
    let extra = if extended {
        ", r.variant, r.engine, r.kind, r.path, r.started_at"
    } else {
        ""
    };
    format!(
        "SELECT r.night, r.image_date, r.image_tag, r.host, r.hardware, r.model, r.mode, \
         m.load_kind, m.load, m.value, m.unit, r.fallback_image, r.verdict, m.source_path, m.source_line{extra} \
         FROM metrics m JOIN runs r ON r.run_key = m.run_key \
         WHERE m.metric = $1 AND m.sample = 0{w} ORDER BY r.night, r.host, r.mode, m.load_kind, m.load, r.path"
    )
}

/// Keeps the rows of the last `days` distinct values of column `col`.
fn keep_last_nights(rows: &mut Rows, days: u32, col: &str) {
    let Some(i) = rows.columns.iter().position(|c| c == col) else {
        return;
    };
    let mut nights: Vec<String> = rows.rows.iter().filter_map(|r| r[i].as_text()).collect();
    nights.sort();
    nights.dedup();
    let keep = nights.len().saturating_sub(days as usize);
    if let Some(first) = nights.get(keep).cloned() {
        rows.rows
            .retain(|r| r[i].as_text().is_some_and(|n| n >= first));
    }
}

/// Output format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns.
    Text,
    /// RFC 4180 CSV with a header.
    Csv,
    /// One JSON array of objects.
    Json,
}

fn cell(v: &Value) -> String {
    v.as_text().unwrap_or_default()
}

/// Renders rows.
pub fn render(rows: &Rows, format: Format) -> String {
    match format {
        Format::Text => {
            let mut width: Vec<usize> = rows.columns.iter().map(|c| c.chars().count()).collect();
            for r in &rows.rows {
                for (i, v) in r.iter().enumerate() {
                    width[i] = width[i].max(cell(v).chars().count());
                }
            }
            let mut out = String::new();
            let line = |cells: Vec<String>, out: &mut String| {
                let mut l = String::new();
                for (i, c) in cells.iter().enumerate() {
                    if i > 0 {
                        l.push_str("  ");
                    }
                    let _ = write!(l, "{c:<w$}", w = width[i]);
                }
                out.push_str(l.trim_end());
                out.push('\n');
            };
            line(rows.columns.clone(), &mut out);
            for r in &rows.rows {
                line(r.iter().map(cell).collect(), &mut out);
            }
            let _ = writeln!(out, "({} rows)", rows.rows.len());
            out
        }
        Format::Csv => {
            let esc = |s: &str| {
                if s.contains([',', '"', '\n', '\r']) {
                    format!("\"{}\"", s.replace('"', "\"\""))
                } else {
                    s.to_owned()
                }
            };
            let mut out = String::new();
            let head: Vec<String> = rows.columns.iter().map(|c| esc(c)).collect();
            out.push_str(&head.join(","));
            out.push('\n');
            for r in &rows.rows {
                let cells: Vec<String> = r.iter().map(|v| esc(&cell(v))).collect();
                out.push_str(&cells.join(","));
                out.push('\n');
            }
            out
        }
        Format::Json => {
            let arr: Vec<serde_json::Value> = rows
                .rows
                .iter()
                .map(|r| {
                    let mut o = serde_json::Map::new();
                    for (c, v) in rows.columns.iter().zip(r) {
                        o.insert(
                            c.clone(),
                            match v {
                                Value::Null => serde_json::Value::Null,
                                Value::Int(i) => (*i).into(),
                                Value::Real(f) => serde_json::Number::from_f64(*f)
                                    .map_or(serde_json::Value::Null, serde_json::Value::Number),
                                Value::Text(s) => s.clone().into(),
                            },
                        );
                    }
                    serde_json::Value::Object(o)
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&arr).unwrap_or_else(|_| "[]".into());
            s.push('\n');
            s
        }
    }
}

/// One point of a metric's series, typed (for the regression analysis).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct SeriesPoint {
    /// The night (`YYYY-MM-DD`).
    pub night: String,
    /// The image date (`YYYY-MM-DD`).
    pub image_date: Option<String>,
    /// The docker tag.
    pub image_tag: Option<String>,
    /// The node.
    pub host: String,
    /// The hardware.
    pub hardware: Option<String>,
    /// The mode (`online`, `online_dp_attention`, …).
    pub mode: Option<String>,
    /// The load point.
    pub load: String,
    /// The value.
    pub value: f64,
    /// Ran on a fallback image.
    pub fallback_image: bool,
    /// The model (`GROK1`).
    pub model: Option<String>,
    /// The variant without the mode suffix (`MOE-I4F8`).
    pub variant: Option<String>,
    /// `request_rate` or `concurrency`.
    pub load_kind: String,
    /// `real` or `simulated`.
    pub engine: String,
    /// Measured on the simulated engine.
    pub simulated: bool,
    /// The run's kind (`online`, `offline`, …).
    pub kind: String,
    /// The run folder, relative to the ingested tree.
    pub run_path: String,
    /// The file the value was read from, relative to the ingested tree.
    pub source_path: String,
    /// Its line (1-based; 0: the whole file).
    pub source_line: i64,
    /// When the run started (ISO 8601), when known.
    pub started_at: Option<String>,
}

/// The series of `metric` (the runs' reported values) for `model`, oldest night first; the
/// typed form of [`Report::Series`] that the regression analysis reads when a store is
/// configured.
pub fn series(
    store: &mut Store,
    metric: &str,
    load: Option<&str>,
    filters: &Filters,
) -> Result<Vec<SeriesPoint>, StoreError> {
    let rows = if metric == "gsm8k" {
        report(
            store,
            &Report::Series {
                metric: metric.to_owned(),
                load: load.map(str::to_owned),
            },
            filters,
        )?
    } else {
        let mut params = Vec::new();
        let sql = metric_series_sql(metric, load, filters, &mut params, true);
        let mut rows = store.query(&sql, &params)?;
        if let Some(days) = filters.days {
            keep_last_nights(&mut rows, days, "night");
        }
        rows
    };
    let col = |name: &str| rows.columns.iter().position(|c| c == name);
    let (Some(night), Some(value)) = (col("night"), col("value")) else {
        return Ok(Vec::new());
    };
    let text = |r: &[Value], name: &str| col(name).and_then(|i| r[i].as_text());
    Ok(rows
        .rows
        .iter()
        .filter_map(|r| {
            Some(SeriesPoint {
                night: r[night].as_text()?,
                image_date: text(r, "image_date"),
                image_tag: text(r, "image_tag"),
                host: text(r, "host").unwrap_or_default(),
                hardware: text(r, "hardware"),
                mode: text(r, "mode"),
                load: text(r, "load").unwrap_or_default(),
                value: r[value].as_f64()?,
                fallback_image: col("fallback_image")
                    .and_then(|i| r[i].as_i64())
                    .is_some_and(|f| f == 1),
                model: text(r, "model"),
                variant: text(r, "variant"),
                load_kind: text(r, "load_kind").unwrap_or_default(),
                simulated: text(r, "engine").is_some_and(|e| e == "simulated"),
                engine: text(r, "engine").unwrap_or_default(),
                kind: text(r, "kind").unwrap_or_default(),
                run_path: text(r, "path").unwrap_or_default(),
                source_path: text(r, "source_path").unwrap_or_default(),
                source_line: col("source_line")
                    .and_then(|i| r[i].as_i64())
                    .unwrap_or_default(),
                started_at: text(r, "started_at"),
            })
        })
        .collect())
}

/// The stored files of one artifact kind (`timing_summary`, `csv`, `client_log`, …) of every
/// run of `run_kind` (`online`, …): run folder → its files, both relative to the ingested tree,
/// in path order. The regression analysis dates a run's invocations by its timing summaries.
pub fn run_artifacts(
    store: &mut Store,
    run_kind: &str,
    artifact_kind: &str,
) -> Result<std::collections::BTreeMap<String, Vec<String>>, StoreError> {
    let rows = store.query(
        "SELECT r.path, a.path FROM artifacts a JOIN runs r ON r.run_key = a.run_key \
         WHERE r.kind = $1 AND a.kind = $2 ORDER BY r.path, a.path",
        &[run_kind.to_owned().into(), artifact_kind.to_owned().into()],
    )?;
    let mut out: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for r in &rows.rows {
        if let (Some(run), Some(file)) = (r[0].as_text(), r[1].as_text()) {
            out.entry(run).or_default().push(file);
        }
    }
    Ok(out)
}
