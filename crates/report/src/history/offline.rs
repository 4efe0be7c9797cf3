//! `process-offline-plots`: consolidate the offline result CSVs of the last N days into the
//! offline summary CSV and draw the two-panel trend plot (spec benchmarks.md §11).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use chrono::Days;
use polars::prelude::*;

use super::common::{
    Folders, HistoryOptions, OnlineModel, Outcome, Say, Window, csv_cell, f64_col, first_8_digits,
    float_cell, i64_col, no_data, parse_ymd, py_int_list, require_summary, say_complete,
    say_phases, sorted_entries, str_col, write_file, ymd,
};
use super::error::HistoryError;
use super::plot::{self, Annotate, Figure, Marker, Panel, PanelKind, Series};

/// The 11 column names of the Grok offline CSV (spec §7.3).
pub const GROK_COLUMNS: [&str; 11] = [
    "TP",
    "batch_size",
    "IL",
    "OL",
    "Backend",
    "Prefill_latency(s)",
    "Median_decode_latency(s)",
    "E2E_Latency(s)",
    "Prefill_Throughput(token/s)",
    "Median_Decode_Throughput(token/s)",
    "E2E_Throughput(token/s)",
];

/// The batch sizes the original requires for a plotted date (all models).
pub const LEGACY_BATCH_SIZES: [i64; 9] = [1, 2, 4, 8, 16, 32, 64, 128, 256];

/// Options of the original offline script plus the rewrite's.
#[derive(Debug, Clone)]
pub struct OfflineOptions {
    /// The options both scripts share (`--model-name` defaults to the output prefix).
    pub common: HistoryOptions,
    /// `--ilen` written into every row.
    pub ilen: i64,
    /// `--olen` written into every row.
    pub olen: i64,
}

/// Resolved configuration.
#[derive(Debug, Clone)]
pub struct OfflineConfig {
    /// The options as given.
    pub opts: OfflineOptions,
    /// Folders and names.
    pub folders: Folders,
    /// Batch sizes a plotted date must have.
    pub required_batch_sizes: Vec<i64>,
}

impl OfflineOptions {
    /// Resolves defaults (§11.2); unless legacy, DeepSeek reads the folder the DeepSeek
    /// offline benchmark writes (`DeepSeek-V3-0324`) and requires only its batch size 32
    /// (F-22).
    pub fn resolve(self) -> Result<OfflineConfig, HistoryError> {
        let c = &self.common;
        c.check_phases()?;
        let legacy = c.legacy;
        let (dir, prefix, batches): (&str, &str, Vec<i64>) = match c.model {
            OnlineModel::Grok => (
                "GROK1",
                "GROK1_MOE-I4F8_offline",
                LEGACY_BATCH_SIZES.to_vec(),
            ),
            OnlineModel::Grok2 => (
                "GROK2",
                "GROK2_MOE-I4F0_offline",
                LEGACY_BATCH_SIZES.to_vec(),
            ),
            OnlineModel::Deepseek if legacy => (
                "DeepSeek",
                "DeepSeek_FP8_offline",
                LEGACY_BATCH_SIZES.to_vec(),
            ),
            OnlineModel::DeepSeekV3 if legacy => (
                "DeepSeek-V3",
                "DeepSeek-V3_FP8_offline",
                LEGACY_BATCH_SIZES.to_vec(),
            ),
            OnlineModel::Deepseek => ("DeepSeek-V3-0324", "DeepSeek_FP8_offline", vec![32]),
            OnlineModel::DeepSeekV3 => ("DeepSeek-V3-0324", "DeepSeek-V3_FP8_offline", vec![32]),
        };
        Ok(OfflineConfig {
            folders: c.folders("offline", dir.to_owned(), prefix.to_owned(), None, ""),
            required_batch_sizes: batches,
            opts: self,
        })
    }
}

/// Folder/file date: the first 8-digit run, else the part before the first `_` with every
/// `rc` removed (§11.3).
pub fn offline_date(name: &str) -> Option<String> {
    if let Some(d) = first_8_digits(name) {
        return Some(d.to_owned());
    }
    let head = name.split('_').next()?.replace("rc", "");
    (head.len() == 8 && head.bytes().all(|b| b.is_ascii_digit())).then_some(head)
}

/// One summary record.
#[derive(Debug, Clone, PartialEq)]
pub struct OfflineRecord {
    /// `YYYYMMDD` from the CSV file name.
    pub date: String,
    /// Batch size.
    pub batch_size: i64,
    /// Most frequent backend (or `config.json`'s `attention_backend`, else `unknown`).
    pub backend: String,
    /// Mean E2E latency (s).
    pub e2e_latency: Option<f64>,
    /// Mean E2E throughput (token/s).
    pub e2e_throughput: Option<f64>,
}

/// What a run produced.
pub type OfflineOutcome = Outcome;

/// Runs the whole script.
pub fn run(cfg: &OfflineConfig, say: Say<'_>) -> Result<OfflineOutcome, HistoryError> {
    let (o, c) = (&cfg.opts, &cfg.opts.common);
    cfg.folders.say_config(say, c.model, &cfg.folders.dir_name);
    say(&format!("Input length: {}", o.ilen));
    say(&format!("Output length: {}", o.olen));
    say(&format!("Days to process: {}", c.days));
    say_phases(say, c, &cfg.folders.summary_path);
    say("");
    let mut outcome = OfflineOutcome::default();
    if !c.plot_only {
        let records = consolidate(cfg, say)?;
        if records.is_empty() {
            return Err(no_data(say, "offline records", &cfg.folders.data_dir));
        }
        write_file(
            &cfg.folders.summary_path,
            summary_text(cfg, &records).as_bytes(),
        )?;
        say(&format!(
            "Offline summary CSV saved to: {}",
            cfg.folders.summary_path.display()
        ));
        outcome.rows = records.len();
        outcome.summary = Some(cfg.folders.summary_path.clone());
        if c.legacy {
            let stem = cfg
                .folders
                .output_prefix
                .strip_suffix("_offline")
                .unwrap_or(&cfg.folders.output_prefix);
            for bs in LEGACY_BATCH_SIZES {
                let old = cfg.folders.data_dir.join(format!("{stem}_{bs}.csv"));
                if old.is_file() && std::fs::remove_file(&old).is_ok() {
                    say(&format!("Removed old batch file: {}", old.display()));
                }
            }
        }
    }
    if !c.process_only {
        require_summary(&cfg.folders.summary_path, say)?;
        outcome.plots = plot(cfg, say)?;
    }
    say_complete(say, c);
    Ok(outcome)
}

fn window(o: &HistoryOptions) -> Window {
    if o.legacy {
        // The original: yesterday back to N days ago (today excluded).
        let yesterday = o.today.checked_sub_days(Days::new(1)).unwrap_or(o.today);
        Window::ending(yesterday, o.days)
    } else {
        Window::ending(o.today, o.days)
    }
}

fn config_backend(folder: &Path, say: Say<'_>) -> String {
    let path = folder.join("config.json");
    let text = match crate::bounded::read_regular(&path) {
        Ok(t) => String::from_utf8_lossy(&t).into_owned(),
        Err(crate::bounded::ReadError::Io { source: e, .. })
            if e.kind() == std::io::ErrorKind::NotFound =>
        {
            return "unknown".into();
        }
        Err(e) => {
            say(&format!("Warning: {e}"));
            return "unknown".into();
        }
    };
    let re = regex::Regex::new(r#""attention_backend"\s*:\s*"([^"]*)""#).ok();
    re.and_then(|re| re.captures(&text).map(|c| c[1].to_owned()))
        .unwrap_or_else(|| "unknown".into())
}

/// Reads every offline CSV of the window (one polars lazy scan per file).
pub fn consolidate(cfg: &OfflineConfig, say: Say<'_>) -> Result<Vec<OfflineRecord>, HistoryError> {
    let win = window(&cfg.opts.common);
    let mut out = Vec::new();
    for (name, path) in sorted_entries(&cfg.folders.data_dir)? {
        if !path.is_dir() || !name.ends_with("_offline") {
            continue;
        }
        let Some(d) = offline_date(&name).and_then(|d| parse_ymd(&d)) else {
            continue;
        };
        if !win.contains(d) {
            continue;
        }
        let backend = config_backend(&path, say);
        for (fname, fpath) in sorted_entries(&path)? {
            if !fname.ends_with(".csv") {
                continue;
            }
            let Some(date) = offline_date(&fname) else {
                say(&format!(
                    "Skipping file with no extractable date in name: {fname}"
                ));
                continue;
            };
            if parse_ymd(&date).is_none() {
                say(&format!("Skipping file with invalid date format: {fname}"));
                continue;
            }
            match read_offline_csv(&fpath, &date, &backend, say) {
                Ok(recs) => out.extend(recs),
                Err(e) => say(&format!("Unable to process file {}: {e}", fpath.display())),
            }
        }
    }
    out.sort_by(|a, b| {
        (a.date.as_str(), a.batch_size, a.backend.as_str()).cmp(&(
            b.date.as_str(),
            b.batch_size,
            b.backend.as_str(),
        ))
    });
    Ok(out)
}

/// Per batch size: latencies, throughputs, backend counts.
type BatchAcc = (Vec<f64>, Vec<f64>, BTreeMap<String, usize>);

/// (mean latency, mean throughput) of one date and batch size.
type Means = (Option<f64>, Option<f64>);

fn read_offline_csv(
    path: &Path,
    date: &str,
    default_backend: &str,
    say: Say<'_>,
) -> Result<Vec<OfflineRecord>, String> {
    if std::fs::metadata(path).map(|m| m.len()).unwrap_or(0) == 0 {
        return Err("the file is empty".into());
    }
    if !crate::bounded::is_regular(path) {
        return Err("it is not a regular file".into());
    }
    if std::fs::metadata(path).is_ok_and(|m| m.len() > crate::bounded::MAX_INPUT_BYTES) {
        return Err(format!(
            "it holds more than {} bytes",
            crate::bounded::MAX_INPUT_BYTES
        ));
    }
    let lf = LazyCsvReader::new(PlRefPath::new(path.to_string_lossy().as_ref()))
        .with_has_header(true)
        .with_null_values(Some(NullValues::AllColumnsSingle("NA".into())))
        .with_missing_is_null(true)
        .with_infer_schema_length(Some(0))
        .finish()
        .map_err(|e| e.to_string())?;
    let mut lf = lf;
    let schema = lf.collect_schema().map_err(|e| e.to_string())?;
    let names: Vec<String> = schema.iter_names().map(|s| s.to_string()).collect();
    let has_backend = names.iter().any(|n| n == "Backend");
    let target: Vec<&str> = if has_backend || names.len() == 11 {
        GROK_COLUMNS.to_vec()
    } else {
        GROK_COLUMNS
            .iter()
            .copied()
            .filter(|c| *c != "Backend")
            .collect()
    };
    if names.len() != target.len() {
        return Err(format!(
            "expected {} columns, found {} ({})",
            target.len(),
            names.len(),
            names.join(",")
        ));
    }
    let lf = lf.rename(
        names.iter().map(String::as_str),
        target.iter().copied(),
        true,
    );
    let e2e = col("E2E_Latency(s)").cast(DataType::Float64);
    let thr = col("E2E_Throughput(token/s)").cast(DataType::Float64);
    let bs = col("batch_size").cast(DataType::Int64);
    let backend = if has_backend {
        col("Backend").fill_null(lit(""))
    } else {
        lit(default_backend.to_owned())
    };
    let rows = lf
        .select([
            bs.alias("bs"),
            e2e.alias("e2e"),
            thr.alias("thr"),
            backend.alias("backend"),
        ])
        .collect()
        .map_err(|e| e.to_string())?;
    let bsc = i64_col(&rows, "bs").map_err(|e| e.to_string())?;
    let e2ec = f64_col(&rows, "e2e").map_err(|e| e.to_string())?;
    let thrc = f64_col(&rows, "thr").map_err(|e| e.to_string())?;
    let bkc = str_col(&rows, "backend").map_err(|e| e.to_string())?;
    // Per batch size, in order of first appearance.
    let mut order: Vec<i64> = Vec::new();
    let mut acc: BTreeMap<i64, BatchAcc> = BTreeMap::new();
    for i in 0..rows.height() {
        let Some(b) = bsc.get(i) else { continue };
        if !order.contains(&b) {
            order.push(b);
        }
        let slot = acc.entry(b).or_default();
        let Some(lat) = e2ec.get(i).filter(|v| super::common::plausible(*v)) else {
            continue;
        };
        slot.0.push(lat);
        if let Some(t) = thrc.get(i).filter(|v| super::common::plausible(*v)) {
            slot.1.push(t);
        }
        *slot
            .2
            .entry(bkc.get(i).unwrap_or_default().to_owned())
            .or_default() += 1;
    }
    let mean = |v: &[f64]| (!v.is_empty()).then(|| v.iter().sum::<f64>() / v.len() as f64);
    let mut out = Vec::new();
    for b in order {
        let (lat, thr, backends) = &acc[&b];
        if lat.is_empty() {
            say(&format!(
                "Warning: No valid data for batch size {b} in {}",
                path.display()
            ));
            continue;
        }
        // pandas `mode()[0]`: the most frequent value, ties broken by sort order.
        let best = backends.values().copied().max().unwrap_or(0);
        let backend = backends
            .iter()
            .find(|(_, n)| **n == best)
            .map_or_else(|| default_backend.to_owned(), |(k, _)| k.clone());
        out.push(OfflineRecord {
            date: date.to_owned(),
            batch_size: b,
            backend,
            e2e_latency: mean(lat),
            e2e_throughput: mean(thr),
        });
    }
    Ok(out)
}

/// The summary CSV text.
pub fn summary_text(cfg: &OfflineConfig, records: &[OfflineRecord]) -> String {
    let mut out = String::from(
        "date,batch_size,backend,node_name,E2E_Latency(s),E2E_Throughput(token/s),ILEN,OLEN\n",
    );
    for r in records {
        out.push_str(&r.date);
        out.push(',');
        out.push_str(&r.batch_size.to_string());
        out.push(',');
        csv_cell(&mut out, &r.backend);
        out.push(',');
        csv_cell(&mut out, &cfg.opts.common.node_name);
        out.push(',');
        float_cell(&mut out, r.e2e_latency);
        out.push(',');
        float_cell(&mut out, r.e2e_throughput);
        out.push_str(&format!(",{},{}\n", cfg.opts.ilen, cfg.opts.olen));
    }
    out
}

/// Normalises `YYYYMMDD` or `YYYY-MM-DD` to `YYYYMMDD`.
fn norm_date(s: &str) -> String {
    s.trim().replace('-', "")
}

/// Draws the two-panel offline plot from the summary.
pub fn plot(cfg: &OfflineConfig, say: Say<'_>) -> Result<Vec<PathBuf>, HistoryError> {
    let path = &cfg.folders.summary_path;
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .try_into_reader_with_file_path(Some(path.clone()))
        .and_then(|r| r.finish())
        .map_err(HistoryError::frame(format!("reading {}", path.display())))?;
    for c in [
        "date",
        "batch_size",
        "E2E_Latency(s)",
        "E2E_Throughput(token/s)",
    ] {
        if df.column(c).is_err() {
            say(&format!(
                "Error: Summary CSV is missing required column: {c}"
            ));
            return Ok(Vec::new());
        }
    }
    // Mean per (date, batch size): duplicates across folders are averaged (§11.4).
    let means = df
        .lazy()
        .select([
            col("date").cast(DataType::String).alias("date"),
            col("batch_size").cast(DataType::Int64).alias("bs"),
            col("E2E_Latency(s)").cast(DataType::Float64).alias("lat"),
            col("E2E_Throughput(token/s)")
                .cast(DataType::Float64)
                .alias("thr"),
        ])
        .group_by([col("date"), col("bs")])
        .agg([col("lat").mean(), col("thr").mean()])
        .sort(["date", "bs"], SortMultipleOptions::default())
        .collect()
        .map_err(HistoryError::frame(format!("averaging {}", path.display())))?;
    let bad = |e| HistoryError::Frame {
        what: format!("reading {}", path.display()),
        source: e,
    };
    let dc = str_col(&means, "date").map_err(bad)?;
    let bc = i64_col(&means, "bs").map_err(bad)?;
    let lc = f64_col(&means, "lat").map_err(bad)?;
    let tc = f64_col(&means, "thr").map_err(bad)?;
    let mut by_date: BTreeMap<String, BTreeMap<i64, Means>> = BTreeMap::new();
    for i in 0..means.height() {
        let (Some(d), Some(b)) = (dc.get(i), bc.get(i)) else {
            continue;
        };
        by_date
            .entry(norm_date(d))
            .or_default()
            .insert(b, (lc.get(i), tc.get(i)));
    }
    let req = &cfg.required_batch_sizes;
    say(&format!(
        "Filtering for dates with all required batch sizes: {}",
        py_int_list(req)
    ));
    let dash = |d: &str| {
        if d.len() == 8 {
            format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..])
        } else {
            d.to_owned()
        }
    };
    let mut dates: Vec<String> = Vec::new();
    for (d, m) in &by_date {
        let missing: Vec<i64> = req.iter().copied().filter(|b| !m.contains_key(b)).collect();
        if missing.is_empty() {
            dates.push(d.clone());
        } else {
            say(&format!(
                "Date {}: Incomplete data. Missing batch sizes: {}",
                dash(d),
                py_int_list(&missing)
            ));
        }
    }
    if dates.is_empty() {
        say("No dates found with complete data for all required batch sizes.");
        return Ok(Vec::new());
    }
    let listed: Vec<String> = dates.iter().map(|d| format!("'{}'", dash(d))).collect();
    say(&format!(
        "Found {} dates with complete data: [{}]",
        dates.len(),
        listed.join(", ")
    ));
    say("Generating combined metrics plot...");
    let all_bs: BTreeSet<i64> = dates
        .iter()
        .flat_map(|d| by_date[d].keys().copied())
        .collect();
    let series = |pick: fn(&Means) -> Option<f64>| -> Vec<Series> {
        all_bs
            .iter()
            .enumerate()
            .map(|(k, b)| Series {
                label: format!("BS={b}"),
                color: k,
                marker: Marker::Circle,
                points: dates
                    .iter()
                    .enumerate()
                    .filter_map(|(i, d)| Some((i, pick(by_date[d].get(b)?)?)))
                    .collect(),
            })
            .collect()
    };
    let panel = |title: &str, y: &str, s: Vec<Series>| Panel {
        title: format!("{title} - {}", cfg.folders.model_name),
        y_label: y.to_owned(),
        kind: PanelKind::Lines,
        series: s,
        annotate: Annotate::None,
        y_range: None,
        note: Vec::new(),
    };
    let fig = Figure {
        width: 3000,
        height: 1200,
        rows: 1,
        cols: 2,
        cells: vec![
            Some(panel(
                "E2E Latency Trends",
                "E2E Latency (s)",
                series(|p| p.0),
            )),
            Some(panel(
                "E2E Throughput Trends",
                "E2E Throughput (token/s)",
                series(|p| p.1),
            )),
        ],
        dates: dates.iter().map(|d| dash(d)).collect(),
        font_scale: 1.5,
    };
    let base = cfg
        .folders
        .model_name
        .split('_')
        .next()
        .unwrap_or(&cfg.folders.model_name);
    let stem = cfg
        .folders
        .plot_dir
        .join(format!("{}_{base}_offline", ymd(cfg.opts.common.today)));
    let files = plot::render(&fig, &stem, cfg.opts.common.format)?;
    for f in &files {
        say(&format!("Combined plot saved to: {}", f.display()));
    }
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_dates() {
        assert_eq!(
            offline_date("v0.5.4-rocm630-mi30x-20251029_GROK1_MOE-I4F8_offline").as_deref(),
            Some("20251029")
        );
        assert_eq!(
            offline_date("2025rc1029_x.csv").as_deref(),
            Some("20251029")
        );
        assert_eq!(offline_date("abc_x.csv"), None);
    }
}
