//! `process-online-plots`: consolidate the online run folders of the last N days into the
//! summary CSV and draw the trend plot (spec benchmarks.md §12).

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::PathBuf;

use chrono::NaiveDate;
use polars::prelude::*;

use super::common::{
    Folders, HistoryOptions, OnlineModel, Outcome, Say, Window, bool_col, capitalized, csv_cell,
    f64_col, first_8_digits, float_cell, i64_col, int_cell, no_data, parse_ymd, py_bool,
    py_int_list, require_summary, say_complete, say_load_mismatch, say_phases, sorted_entries,
    str_col, write_file, ymd,
};
use super::error::HistoryError;
use super::online_plot;
use super::online_read::{self as read, METRICS};

/// The options of the original script plus `--node-name`, `--summary-dir`, `--legacy` and
/// `--format`, as given (before defaults are resolved).
#[derive(Debug, Clone)]
pub struct OnlineOptions {
    /// The options both scripts share.
    pub common: HistoryOptions,
    /// `--enable-mtp-test`.
    pub enable_mtp_test: bool,
    /// `--request-rates` (comma-separated integers).
    pub request_rates: Option<String>,
    /// `--split-request-rates`.
    pub split_request_rates: bool,
    /// `--mode-filter`.
    pub mode_filter: Option<String>,
    /// `--variant-filter`.
    pub variant_filter: Option<String>,
    /// `--plot-date` (`YYYYMMDD`, file name only).
    pub plot_date: Option<String>,
}

/// Everything resolved: paths, names, expected loads.
#[derive(Debug, Clone)]
pub struct OnlineConfig {
    /// The options as given.
    pub opts: OnlineOptions,
    /// Folders and names.
    pub folders: Folders,
    /// First word of the model name: `<BASE>` in the plot file name.
    pub base_name: String,
    /// `request_rate` or `concurrency`.
    pub load_metric: &'static str,
    /// Expected loads, sorted.
    pub expected: Vec<i64>,
    /// Modes kept (`None` = all).
    pub modes: Option<Vec<String>>,
    /// Variants kept (`None` = all).
    pub variants: Option<Vec<String>>,
}

fn filter_list(v: Option<&str>) -> Option<Vec<String>> {
    let v = v?.trim();
    if v.is_empty() || v.eq_ignore_ascii_case("all") || v.eq_ignore_ascii_case("none") {
        return None;
    }
    Some(
        v.split(',')
            .map(|s| s.trim().to_owned())
            .filter(|s| !s.is_empty())
            .collect(),
    )
}

impl OnlineOptions {
    /// Resolves defaults exactly as the original (§12.2), with the F-22 fix for
    /// `--model DeepSeek-V3` unless `legacy`.
    pub fn resolve(self) -> Result<OnlineConfig, HistoryError> {
        let c = &self.common;
        c.check_phases()?;
        if let Some(d) = &self.plot_date {
            super::common::file_name_part("--plot-date", d)?;
        }
        let (dir_name, prefix, default_name, metric, rates): (String, String, &str, _, Vec<i64>) =
            match c.model {
                OnlineModel::Grok => (
                    "GROK1".into(),
                    "GROK1_MOE-I4F8_online".into(),
                    "GROK1 MOE-I4F8 Online",
                    "request_rate",
                    vec![1, 2, 4, 8, 16],
                ),
                OnlineModel::Grok2 => (
                    "GROK2".into(),
                    "GROK2_FP8_online".into(),
                    "GROK2 FP8 Online",
                    "request_rate",
                    vec![1, 2, 4, 8, 16],
                ),
                OnlineModel::Deepseek => {
                    let dir = c
                        .model_name
                        .as_deref()
                        .map_or_else(|| "DeepSeek-V3-0324".to_owned(), |n| n.replace(' ', "_"));
                    let prefix = format!("{dir}_FP8_online");
                    (
                        dir,
                        prefix,
                        "DeepSeek-V3 FP8 Online",
                        "concurrency",
                        vec![1, 4, 16, 64, 128],
                    )
                }
                OnlineModel::DeepSeekV3 => {
                    // F-22: the DeepSeek-V3 benchmark writes `online/DeepSeek-V3-0324`.
                    let dir = if c.legacy {
                        "DeepSeek-V3"
                    } else {
                        "DeepSeek-V3-0324"
                    };
                    (
                        dir.into(),
                        format!("{dir}_FP8_online"),
                        "DeepSeek-V3 FP8 Online",
                        "concurrency",
                        vec![1, 4, 16, 64, 128],
                    )
                }
            };
        let mut expected = rates;
        if let Some(r) = self.request_rates.as_deref() {
            let parsed: Result<Vec<i64>, _> =
                r.split(',').map(|s| s.trim().parse::<i64>()).collect();
            expected = parsed.map_err(|_| HistoryError::Usage {
                flag: "--request-rates",
                message: "--request-rates must be a comma-separated list of integers.".into(),
            })?;
            expected.sort_unstable();
        }
        if self.enable_mtp_test && c.model.is_deepseek() {
            expected = vec![1, 4, 16, 64, 128];
        }
        let variants = filter_list(self.variant_filter.as_deref());
        if let Some(v) = &variants {
            for x in v {
                if !["standard", "mtp", "dp", "dp_mtp"].contains(&x.as_str()) {
                    return Err(HistoryError::Usage {
                        flag: "--variant-filter",
                        message: format!(
                            "unknown variant {x:?}: use standard, mtp, dp, dp_mtp, a comma list of them, or all"
                        ),
                    });
                }
            }
        }
        let modes = filter_list(Some(self.mode_filter.as_deref().unwrap_or("aiter")));
        let suffix = |v: &Option<Vec<String>>, all: &str| match v {
            None => format!("_{all}"),
            Some(list) => {
                let mut l = list.clone();
                l.sort();
                format!("_{}", l.join("_"))
            }
        };
        let folders = c.folders(
            "online",
            dir_name,
            prefix,
            Some(default_name),
            &format!(
                "{}{}",
                suffix(&variants, "all_variants"),
                suffix(&modes, "all_modes")
            ),
        );
        let base_name = folders
            .model_name
            .split_whitespace()
            .next()
            .unwrap_or(&folders.model_name)
            .to_owned();
        Ok(OnlineConfig {
            folders,
            base_name,
            load_metric: metric,
            expected,
            modes,
            variants,
            opts: self,
        })
    }
}

/// What a run produced.
pub type OnlineOutcome = Outcome;

/// Runs the whole script: configuration echo, processing phase, plot phase.
pub fn run(cfg: &OnlineConfig, say: Say<'_>) -> Result<OnlineOutcome, HistoryError> {
    let (o, c) = (&cfg.opts, &cfg.opts.common);
    let variant = if c.model.is_deepseek() {
        "DeepSeek-V3"
    } else {
        cfg.folders.dir_name.as_str()
    };
    cfg.folders.say_config(say, c.model, variant);
    say(&format!(
        "Mode filter: {}",
        cfg.modes
            .as_ref()
            .map_or("all modes".to_owned(), |m| m.join(", "))
    ));
    say(&format!(
        "Variant filter: {}",
        cfg.variants
            .as_ref()
            .map_or("all variants".to_owned(), |m| m.join(", "))
    ));
    say(&format!("Load metric: {}", cfg.load_metric));
    say(&format!(
        "Expected {}s: {}",
        cfg.load_metric,
        py_int_list(&cfg.expected)
    ));
    say(&format!("Days to process: {}", c.days));
    say(&format!(
        "Split request rates: {}",
        py_bool(o.split_request_rates)
    ));
    say_phases(say, c, &cfg.folders.summary_path);
    say(&format!("Legacy: {}", py_bool(c.legacy)));
    say("");
    let mut outcome = OnlineOutcome::default();
    if !c.plot_only {
        say("=== DATA PROCESSING PHASE ===");
        let frame = consolidate(cfg, say)?;
        outcome.rows = frame.height();
        write_summary(cfg, &frame, say)?;
        outcome.summary = Some(cfg.folders.summary_path.clone());
    }
    if !c.process_only {
        say("=== PLOT GENERATION PHASE ===");
        require_summary(&cfg.folders.summary_path, say)?;
        outcome.plots = online_plot::plot(cfg, say)?;
    }
    say_complete(say, c);
    Ok(outcome)
}

/// One record before the GSM8K/KV join: (mode, load) of one CSV.
struct Rec {
    date: String,
    variant: &'static str,
    mode: String,
    load: i64,
    metrics: [Option<f64>; 3],
    src: u32,
}

/// A run folder that was read.
struct Source {
    /// Recency key for the fixed mode's de-duplication: newest timing summary, then mtime.
    recency: (String, u64, String),
}

/// Reads every run folder in the window into the consolidated, filtered, sorted frame.
pub fn consolidate(cfg: &OnlineConfig, say: Say<'_>) -> Result<DataFrame, HistoryError> {
    let o = &cfg.opts.common;
    let legacy = o.legacy;
    let window = Window::ending(o.today, o.days);
    let filter_has_aiter = cfg
        .modes
        .as_ref()
        .is_none_or(|m| m.iter().any(|x| x == "aiter"));
    let mut recs: Vec<Rec> = Vec::new();
    let mut sources: Vec<Source> = Vec::new();
    let mut gsm_rows: Vec<(u32, String, f64)> = Vec::new();
    let mut kv_rows: Vec<(u32, i64, f64)> = Vec::new();
    for (name, path) in sorted_entries(&cfg.folders.data_dir)? {
        if !path.is_dir() || !read::is_run_folder(&name, legacy) {
            continue;
        }
        let variant = read::variant_of(&name);
        if cfg
            .variants
            .as_ref()
            .is_some_and(|v| !v.iter().any(|x| x == variant))
        {
            continue;
        }
        let Some(folder_date) = first_8_digits(&name).and_then(parse_ymd) else {
            continue;
        };
        if !window.contains(folder_date) {
            continue;
        }
        let files = sorted_entries(&path)?;
        let csvs: Vec<&(String, PathBuf)> = files
            .iter()
            .filter(|(n, _)| read::is_result_csv(n))
            .collect();
        if csvs.is_empty() {
            continue;
        }
        let src = u32::try_from(sources.len()).unwrap_or(u32::MAX);
        let newest_summary = files
            .iter()
            .filter_map(|(n, _)| n.strip_prefix("timing_summary_")?.strip_suffix(".log"))
            .max()
            .unwrap_or("")
            .to_owned();
        let mtime = csvs
            .iter()
            .filter_map(|(_, p)| p.metadata().ok()?.modified().ok())
            .filter_map(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .max()
            .unwrap_or(0);
        sources.push(Source {
            recency: (newest_summary, mtime, name.clone()),
        });
        let gsm = read::gsm8k_by_mode(&path, &files, legacy, say);
        if let Some((tokens, gb)) = read::kv_cache(&path) {
            kv_rows.push((src, tokens, gb));
        }
        for (fname, fpath) in csvs {
            let Some(date_txt) = first_8_digits(fname) else {
                say(&format!(
                    "Skipping file with no extractable date in name: {fname}"
                ));
                continue;
            };
            if parse_ymd(date_txt).is_none() {
                say(&format!("Skipping file with invalid date format: {fname}"));
                continue;
            }
            let data = match crate::bounded::read_regular(fpath) {
                Ok(d) => d,
                Err(e) if e.is_refused() => {
                    say(&format!("Warning: {e}"));
                    continue;
                }
                Err(_) => {
                    let source = std::fs::read(fpath)
                        .err()
                        .unwrap_or_else(|| std::io::Error::other("read failed"));
                    return Err(HistoryError::Read {
                        path: fpath.clone(),
                        source,
                    });
                }
            };
            let Some(reading) =
                read::read_csv(&data, filter_has_aiter, cfg.load_metric, legacy, say)
            else {
                say(&format!(
                    "Could not find or parse request rates line in {}.",
                    fpath.display()
                ));
                continue;
            };
            // GSM8K per mode: logs first, then the CSV's own line, then `_default`.
            let mut acc = gsm.clone();
            let found_modes: Vec<&str> = reading.modes.iter().map(|m| m.mode.as_str()).collect();
            if acc.is_empty()
                && let Some(a) = reading.csv_accuracy
            {
                for m in &found_modes {
                    acc.insert((*m).to_owned(), a);
                }
            } else if reading.csv_accuracy.is_none()
                && acc.len() == 1
                && let Some(&d) = acc.get("_default")
            {
                for m in &found_modes {
                    say(&format!(
                        "Mapped default GSM8K accuracy to mode {m}: {}",
                        super::pyfmt::py_repr(d)
                    ));
                    acc.insert((*m).to_owned(), d);
                }
            }
            for (m, a) in acc {
                gsm_rows.push((src, m, a));
            }
            for mv in &reading.modes {
                if cfg.modes.as_ref().is_some_and(|f| !f.contains(&mv.mode)) {
                    continue;
                }
                for (i, &load) in reading.loads.iter().enumerate() {
                    // Fixed: a load whose cells are empty in every table was not run (an
                    // MI355 rate-16 column): it is no record, so not an "extra" load.
                    if !legacy && (0..3).all(|m| mv.empty[m][i]) {
                        continue;
                    }
                    recs.push(Rec {
                        date: date_txt.to_owned(),
                        variant,
                        mode: mv.mode.clone(),
                        load,
                        metrics: [mv.values[0][i], mv.values[1][i], mv.values[2][i]],
                        src,
                    });
                }
            }
        }
    }
    let frame = records_frame(cfg, &recs, &gsm_rows, &kv_rows)?;
    filter_complete(cfg, frame, &sources, say)
}

/// Builds the records frame and joins the GSM8K and KV-cache facts of each folder.
fn records_frame(
    cfg: &OnlineConfig,
    recs: &[Rec],
    gsm_rows: &[(u32, String, f64)],
    kv_rows: &[(u32, i64, f64)],
) -> Result<LazyFrame, HistoryError> {
    let err = HistoryError::frame("building the records frame");
    let n = recs.len();
    let metric_col = |m: usize| -> Column {
        Column::new(
            METRICS[m].1.into(),
            recs.iter().map(|r| r.metrics[m]).collect::<Vec<_>>(),
        )
    };
    let base = DataFrame::new(
        n,
        vec![
            Column::new(
                "date".into(),
                recs.iter().map(|r| r.date.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "variant".into(),
                recs.iter().map(|r| r.variant).collect::<Vec<_>>(),
            ),
            Column::new(
                "mode".into(),
                recs.iter().map(|r| r.mode.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                cfg.load_metric.into(),
                recs.iter().map(|r| r.load).collect::<Vec<_>>(),
            ),
            metric_col(0),
            metric_col(1),
            metric_col(2),
            Column::new("src".into(), recs.iter().map(|r| r.src).collect::<Vec<_>>()),
        ],
    )
    .map_err(err)?;
    let gsm = DataFrame::new(
        gsm_rows.len(),
        vec![
            Column::new(
                "src".into(),
                gsm_rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "mode".into(),
                gsm_rows.iter().map(|r| r.1.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "GSM8K_Accuracy".into(),
                gsm_rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
        ],
    )
    .map_err(HistoryError::frame("building the GSM8K frame"))?;
    let kv = DataFrame::new(
        kv_rows.len(),
        vec![
            Column::new(
                "src".into(),
                kv_rows.iter().map(|r| r.0).collect::<Vec<_>>(),
            ),
            Column::new(
                "num_tokens".into(),
                kv_rows.iter().map(|r| r.1).collect::<Vec<_>>(),
            ),
            Column::new(
                "KV_size_GB".into(),
                kv_rows.iter().map(|r| r.2).collect::<Vec<_>>(),
            ),
        ],
    )
    .map_err(HistoryError::frame("building the KV-cache frame"))?;
    // A later CSV of the same folder may have mapped the same mode again: keep one fact.
    let gsm = gsm
        .lazy()
        .unique_stable(Some(cols(["src", "mode"])), UniqueKeepStrategy::Last);
    let left = JoinArgs::new(JoinType::Left);
    Ok(base
        .lazy()
        .with_row_index("row", None)
        .join(
            gsm,
            [col("src"), col("mode")],
            [col("src"), col("mode")],
            left.clone(),
        )
        .join(kv.lazy(), [col("src")], [col("src")], left)
        .sort(["row"], SortMultipleOptions::default()))
}

/// The completeness filter (§12.5) and, unless legacy, the de-duplication (F-23): one
/// complete run folder per date and variant, the newest winning. Returns the summary frame
/// sorted by date, variant, mode, load.
fn filter_complete(
    cfg: &OnlineConfig,
    frame: LazyFrame,
    sources: &[Source],
    say: Say<'_>,
) -> Result<DataFrame, HistoryError> {
    let legacy = cfg.opts.common.legacy;
    let lm = cfg.load_metric;
    let mut group: Vec<Expr> = vec![col("date"), col("variant")];
    if !legacy {
        group.push(col("src"));
    }
    let mut by_load = group.clone();
    by_load.push(col("mode"));
    by_load.push(col(lm));
    let valid = ["GSM8K_Accuracy", "E2E_Latency_ms", "TTFT_ms", "ITL_ms"]
        .iter()
        .map(|c| col(*c).first().is_not_null())
        .reduce(|a, b| a.and(b))
        .unwrap_or_else(|| lit(true));
    // One row per (group, mode, load): is its FIRST record complete?
    let per_load = frame
        .clone()
        .group_by_stable(by_load)
        .agg([valid.alias("valid")])
        .collect()
        .map_err(HistoryError::frame(
            "grouping records by date, variant, mode and load",
        ))?;
    let date = str_col(&per_load, "date");
    let variant = str_col(&per_load, "variant");
    let mode = str_col(&per_load, "mode");
    let load = i64_col(&per_load, lm);
    let src: Option<UInt32Chunked> = if legacy {
        None
    } else {
        per_load
            .column("src")
            .ok()
            .and_then(|c| c.u32().ok().cloned())
    };
    let ok = bool_col(&per_load, "valid");
    let (Ok(date), Ok(variant), Ok(mode), Ok(load), Ok(ok)) = (date, variant, mode, load, ok)
    else {
        return Err(HistoryError::Frame {
            what: "reading the grouped records".into(),
            source: PolarsError::ComputeError("unexpected column types".into()),
        });
    };
    // group key -> mode -> [(load, valid)] in order of appearance.
    type Key = (String, String, u32);
    type Loads = Vec<(i64, bool)>;
    let mut groups: Vec<(Key, Vec<(String, Loads)>)> = Vec::new();
    let mut index: HashMap<Key, usize> = HashMap::new();
    for i in 0..per_load.height() {
        let key: Key = (
            date.get(i).unwrap_or_default().to_owned(),
            variant.get(i).unwrap_or_default().to_owned(),
            src.as_ref().and_then(|s| s.get(i)).unwrap_or(0),
        );
        let gi = *index.entry(key.clone()).or_insert_with(|| {
            groups.push((key, Vec::new()));
            groups.len() - 1
        });
        let m = mode.get(i).unwrap_or_default();
        let modes = &mut groups[gi].1;
        let mi = match modes.iter().position(|(x, _)| x == m) {
            Some(p) => p,
            None => {
                modes.push((m.to_owned(), Vec::new()));
                modes.len() - 1
            }
        };
        modes[mi]
            .1
            .push((load.get(i).unwrap_or(0), ok.get(i).unwrap_or(false)));
    }
    let cap = capitalized(lm);
    let want: BTreeSet<i64> = cfg.expected.iter().copied().collect();
    let mut kept: Vec<Key> = Vec::new();
    for ((d, v, s), modes) in &groups {
        let mut complete = true;
        let label = if legacy {
            format!("Date {d}, Variant {v}")
        } else {
            format!(
                "Date {d}, Variant {v}, Folder {}",
                sources[*s as usize].recency.2
            )
        };
        for (m, loads) in modes {
            let present: BTreeSet<i64> = loads.iter().map(|l| l.0).collect();
            if !say_load_mismatch(say, &label, m, lm, &want, &present) {
                complete = false;
                continue;
            }
            for x in &cfg.expected {
                if !loads.iter().any(|(l, valid)| l == x && *valid) {
                    say(&format!(
                        "{label}, Mode {m}, {cap} {x}: Missing valid data for one or more performance metrics"
                    ));
                    complete = false;
                    break;
                }
            }
        }
        if complete {
            say(&format!(
                "{label}: Complete and valid data for all modes and {lm}s"
            ));
            kept.push((d.clone(), v.clone(), *s));
        }
    }
    if !legacy {
        // Newest complete folder per (date, variant).
        let mut best: BTreeMap<(String, String), Key> = BTreeMap::new();
        for k in kept {
            let slot = best
                .entry((k.0.clone(), k.1.clone()))
                .or_insert_with(|| k.clone());
            if sources[k.2 as usize].recency > sources[slot.2 as usize].recency {
                say(&format!(
                    "Date {}, Variant {}: newer run {} replaces {}",
                    k.0, k.1, sources[k.2 as usize].recency.2, sources[slot.2 as usize].recency.2
                ));
                *slot = k;
            } else if slot.2 != k.2 {
                say(&format!(
                    "Date {}, Variant {}: older run {} ignored",
                    k.0, k.1, sources[k.2 as usize].recency.2
                ));
            }
        }
        kept = best.into_values().collect();
    }
    say("");
    if kept.is_empty() {
        say(&format!(
            "No date+variant combinations found with complete and valid data for all {lm}s {}",
            py_int_list(&cfg.expected)
        ));
        return Err(no_data(
            say,
            "date+variant combinations",
            &cfg.folders.data_dir,
        ));
    }
    let mut pairs: Vec<(String, String)> =
        kept.iter().map(|k| (k.0.clone(), k.1.clone())).collect();
    pairs.sort();
    pairs.dedup();
    let listed: Vec<String> = pairs
        .iter()
        .map(|(d, v)| format!("('{d}', '{v}')"))
        .collect();
    say(&format!(
        "Kept {} date+variant combinations with complete and valid data: [{}]",
        pairs.len(),
        listed.join(", ")
    ));
    let keys = DataFrame::new(
        kept.len(),
        vec![
            Column::new(
                "date".into(),
                kept.iter().map(|k| k.0.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "variant".into(),
                kept.iter().map(|k| k.1.as_str()).collect::<Vec<_>>(),
            ),
            Column::new("src".into(), kept.iter().map(|k| k.2).collect::<Vec<_>>()),
        ],
    )
    .map_err(HistoryError::frame("building the kept keys"))?;
    let (left_on, right_on) = if legacy {
        (
            vec![col("date"), col("variant")],
            vec![col("date"), col("variant")],
        )
    } else {
        (
            vec![col("date"), col("variant"), col("src")],
            vec![col("date"), col("variant"), col("src")],
        )
    };
    let keys = if legacy {
        keys.lazy().drop(cols(["src"]))
    } else {
        keys.lazy()
    };
    let out = frame
        .join(keys, left_on, right_on, JoinArgs::new(JoinType::Inner))
        .sort(["row"], SortMultipleOptions::default())
        .sort(
            ["date", "variant", "mode", lm],
            SortMultipleOptions::default().with_maintain_order(true),
        )
        .collect()
        .map_err(HistoryError::frame("filtering complete records"))?;
    say(&format!("Total records after filtering: {}", out.height()));
    Ok(out)
}

/// Writes the summary CSV (§12.5 columns and number formats).
fn write_summary(cfg: &OnlineConfig, df: &DataFrame, say: Say<'_>) -> Result<(), HistoryError> {
    let text = summary_csv_text(cfg, df)?;
    write_file(&cfg.folders.summary_path, text.as_bytes())?;
    say(&format!(
        "Online summary CSV saved to: {}",
        cfg.folders.summary_path.display()
    ));
    match &cfg.variants {
        None => say("Processed all variants"),
        Some(v) => say(&format!("Processed variants: {}", v.join(", "))),
    }
    match &cfg.modes {
        None => say("Processed all modes"),
        Some(m) => say(&format!("Processed modes: {}", m.join(", "))),
    }
    let distinct = |name: &str| -> Vec<String> {
        let set: BTreeSet<String> = str_col(df, name)
            .ok()
            .map(|s| {
                (0..s.len())
                    .filter_map(|i| s.get(i))
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default();
        set.into_iter().collect()
    };
    say(&format!(
        "Variants found in output: {}",
        distinct("variant").join(", ")
    ));
    say(&format!(
        "Modes found in output: {}",
        distinct("mode").join(", ")
    ));
    Ok(())
}

/// The summary CSV text of a consolidated frame.
pub fn summary_csv_text(cfg: &OnlineConfig, df: &DataFrame) -> Result<String, HistoryError> {
    let lm = cfg.load_metric;
    let bad = |what: &str| HistoryError::Frame {
        what: format!("writing {}", cfg.folders.summary_path.display()),
        source: PolarsError::ColumnNotFound(what.to_owned().into()),
    };
    let s = |n: &str| str_col(df, n).map_err(|_| bad(n));
    let f = |n: &str| f64_col(df, n).map_err(|_| bad(n));
    let int = |n: &str| i64_col(df, n).map_err(|_| bad(n));
    let (date, variant, mode, load) = (s("date")?, s("variant")?, s("mode")?, int(lm)?);
    let (gsm, e2e, ttft, itl, kv) = (
        f("GSM8K_Accuracy")?,
        f("E2E_Latency_ms")?,
        f("TTFT_ms")?,
        f("ITL_ms")?,
        f("KV_size_GB")?,
    );
    let tokens = int("num_tokens")?;
    let mut out = format!(
        "date,variant,mode,{lm},node_name,GSM8K_Accuracy,E2E_Latency_ms,TTFT_ms,ITL_ms,num_tokens,KV_size_GB\n"
    );
    for i in 0..df.height() {
        csv_cell(&mut out, date.get(i).unwrap_or_default());
        out.push(',');
        csv_cell(&mut out, variant.get(i).unwrap_or_default());
        out.push(',');
        csv_cell(&mut out, mode.get(i).unwrap_or_default());
        out.push(',');
        int_cell(&mut out, load.get(i));
        out.push(',');
        csv_cell(&mut out, &cfg.opts.common.node_name);
        for c in [&gsm, &e2e, &ttft, &itl] {
            out.push(',');
            float_cell(&mut out, c.get(i));
        }
        out.push(',');
        int_cell(&mut out, tokens.get(i));
        out.push(',');
        float_cell(&mut out, kv.get(i));
        out.push('\n');
    }
    Ok(out)
}

/// Today as `YYYYMMDD` (the default `--plot-date`).
pub fn default_plot_date(today: NaiveDate) -> String {
    ymd(today)
}
