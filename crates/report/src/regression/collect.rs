//! Series from run folders: every `<tag>_<MODEL>_<VARIANT>_online[<suffix>]` folder below a
//! directory gives one night per metric and load point (the three tables of its legacy CSV,
//! read with [`OnlineCsv`]; the output token throughput of the client log each load's cells
//! came from, by the best-run rule) plus its GSM8K accuracy (the last `GSM8K accuracy:` line
//! of its timing summaries).
//!
//! Where each field comes from:
//!
//! | field | source |
//! |---|---|
//! | date, image tag | the folder name's tag (`…-20251029` → `20251029`); a tag without a date: the date of the run that produced the numbers |
//! | hardware | the tag (`-mi30x-`, `-mi35x-`), else the timing summaries' `Hardware:`, else a `mi…x` folder above it, else `unknown` |
//! | model, variant | the folder name: `<MODEL>`, `<VARIANT><suffix>` (`FP8_dp_attention`) |
//! | simulated | variant ending `-SIM`, tag starting `sim-`, or a `(simulated)` host name |
//! | fallback | a later invocation, at least [`FALLBACK_GAP_HOURS`] after the folder's first one, produced the numbers (the nightly re-used an older image) |
//!
//! `.backup_<ts>` copies are skipped (the folder without the suffix is the current one); two
//! folders with the same key and date keep the one measured last.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use metrics_parse::legacy_csv::{OnlineCsv, OnlineKind};
use metrics_parse::timing_summary::TimingSummary;
use thiserror::Error;

use super::{Date, Load, Metric, Night, Series, SeriesKey};
use crate::best_run::{self, Candidate, CellOutcome};
use crate::run_folder::{RunFolder, RunFolderName};

/// A later invocation this many hours (or more) after a folder's first one is another
/// night's run of the same image: a fallback.
pub const FALLBACK_GAP_HOURS: i64 = 20;

/// How deep below the given directory run folders are looked for.
const MAX_DEPTH: usize = 5;

/// Why series could not be collected at all.
#[derive(Debug, Error)]
pub enum RegressionError {
    /// The directory does not exist or is not a directory.
    #[error("{0} is not a directory (pass the benchmark dir holding online/<MODEL>/<run folder>/)")]
    NotADirectory(PathBuf),
    /// The directory could not be listed.
    #[error("cannot read {path}: {source}")]
    Unreadable {
        /// The directory.
        path: PathBuf,
        /// Cause.
        #[source]
        source: std::io::Error,
    },
}

/// Something below the directory that gave no nights, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The folder or file.
    pub path: PathBuf,
    /// Why (one line).
    pub reason: String,
}

/// Everything [`collect`] found.
#[derive(Debug, Clone, Default)]
pub struct Collection {
    /// Series in report order.
    pub series: Vec<Series>,
    /// Run folders read.
    pub run_folders: usize,
    /// Folders and files that gave nothing, with the reason.
    pub skipped: Vec<Skipped>,
}

/// Every series below `dir` (see [`collect`]).
pub fn collect_series(dir: &Path) -> Result<Vec<Series>, RegressionError> {
    collect(dir).map(|c| c.series)
}

/// The series of one model (the run folders' `<MODEL>`, e.g. `GROK1`), on one hardware when
/// given, below `benchmark_dir`: what a benchmark card judges. Names match
/// case-insensitively.
pub fn collect_online_series(
    benchmark_dir: &Path,
    hardware: Option<&str>,
    model: &str,
) -> Result<Vec<Series>, RegressionError> {
    let mut all = collect_series(benchmark_dir)?;
    all.retain(|s| {
        s.key.model.eq_ignore_ascii_case(model)
            && hardware.is_none_or(|h| s.key.hardware.eq_ignore_ascii_case(h))
    });
    Ok(all)
}

/// Reads every run folder below `dir` (up to five levels: a benchmark dir with
/// `online/<MODEL>/`, the corpus root with `online_benchmark_log/<hw>/<MODEL>/`, one model's
/// folder, or a single run folder). Unreadable or malformed files inside run folders are
/// [`Skipped`], never fatal; only `dir` itself failing is an error.
pub fn collect(dir: &Path) -> Result<Collection, RegressionError> {
    if !dir.is_dir() {
        return Err(RegressionError::NotADirectory(dir.to_owned()));
    }
    let mut folders = Vec::new();
    let mut skipped = Vec::new();
    find_run_folders(dir, 0, &mut folders, &mut skipped, true)?;
    folders.sort();
    let mut by_key: BTreeMap<SeriesKeyOrd, Vec<(Night, String)>> = BTreeMap::new();
    for f in &folders {
        read_run_folder(f, &mut by_key, &mut skipped);
    }
    let mut series = Vec::with_capacity(by_key.len());
    for (key, mut nights) in by_key {
        // One night per date: the one measured last.
        nights.sort_by(|a, b| a.0.date.cmp(&b.0.date).then_with(|| a.1.cmp(&b.1)));
        let mut kept: Vec<Night> = Vec::with_capacity(nights.len());
        for (n, _) in nights {
            if let Some(prev) = kept.last_mut().filter(|p| p.date == n.date) {
                skipped.push(Skipped {
                    path: prev.source.clone(),
                    reason: format!(
                        "{}: same night ({}) as {}, which was measured later",
                        key.0,
                        n.date,
                        n.source.display()
                    ),
                });
                *prev = n;
            } else {
                kept.push(n);
            }
        }
        series.push(Series::new(key.0, kept));
    }
    series.sort_by(|a, b| a.key.cmp_for_report(&b.key));
    skipped.sort_by(|a, b| a.path.cmp(&b.path).then_with(|| a.reason.cmp(&b.reason)));
    skipped.dedup();
    Ok(Collection {
        series,
        run_folders: folders.len(),
        skipped,
    })
}

/// [`SeriesKey`] ordered for the map (by its report order).
#[derive(Debug, Clone, PartialEq, Eq)]
struct SeriesKeyOrd(SeriesKey);

impl PartialOrd for SeriesKeyOrd {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for SeriesKeyOrd {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        self.0.cmp_for_report(&other.0)
    }
}

fn list(dir: &Path) -> Result<Vec<(String, bool)>, std::io::Error> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir)? {
        let e = e?;
        let Some(name) = e.file_name().to_str().map(str::to_owned) else {
            continue;
        };
        // Follows symlinks, like a person's `ls`.
        let is_dir = e.path().is_dir();
        out.push((name, is_dir));
    }
    out.sort();
    Ok(out)
}

fn find_run_folders(
    dir: &Path,
    depth: usize,
    out: &mut Vec<PathBuf>,
    skipped: &mut Vec<Skipped>,
    top: bool,
) -> Result<(), RegressionError> {
    if let Some(parsed) = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(RunFolderName::parse)
    {
        if parsed.backup.is_some() {
            skipped.push(Skipped {
                path: dir.to_owned(),
                reason: "a .backup_ copy (the folder without the suffix is the current one)"
                    .to_owned(),
            });
        } else {
            out.push(dir.to_owned());
        }
        return Ok(());
    }
    if depth >= MAX_DEPTH {
        return Ok(());
    }
    let entries = match list(dir) {
        Ok(e) => e,
        Err(source) if top => {
            return Err(RegressionError::Unreadable {
                path: dir.to_owned(),
                source,
            });
        }
        Err(e) => {
            skipped.push(Skipped {
                path: dir.to_owned(),
                reason: format!("cannot read: {e}"),
            });
            return Ok(());
        }
    };
    for (name, is_dir) in entries {
        if is_dir {
            find_run_folders(&dir.join(name), depth + 1, out, skipped, false)?;
        }
    }
    Ok(())
}

/// The `YYYYMMDD` at the end of a tag.
fn tag_date(tag: &str) -> Option<Date> {
    let tail = tag.get(tag.len().checked_sub(8)?..)?;
    let before = tag.len() - 8;
    if before > 0 && tag.as_bytes()[before - 1].is_ascii_digit() {
        return None;
    }
    Date::parse(tail)
}

/// `mi30x`-like word of a tag or path component.
fn hardware_word(s: &str) -> Option<String> {
    s.split(['-', '_']).find_map(|w| {
        let w = w.to_ascii_lowercase();
        let digits = w.strip_prefix("mi")?.strip_suffix('x')?;
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then_some(w)
    })
}

/// Minutes since 1970 of `timing_summary_YYYYMMDD_HHMMSS.log`.
fn summary_minutes(file: &str) -> Option<i64> {
    let ts = file.strip_prefix("timing_summary_")?.strip_suffix(".log")?;
    let (d, t) = ts.split_once('_')?;
    let date = Date::parse(d)?;
    if t.len() != 6 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let hh: i64 = t[..2].parse().ok()?;
    let mm: i64 = t[2..4].parse().ok()?;
    Some(date.days() * 1440 + hh * 60 + mm)
}

struct SummaryRead {
    file: String,
    minutes: Option<i64>,
    summary: TimingSummary,
}

fn read_run_folder(
    dir: &Path,
    by_key: &mut BTreeMap<SeriesKeyOrd, Vec<(Night, String)>>,
    skipped: &mut Vec<Skipped>,
) {
    let skip = |skipped: &mut Vec<Skipped>, path: &Path, reason: String| {
        skipped.push(Skipped {
            path: path.to_owned(),
            reason,
        });
    };
    let Some(name) = dir
        .file_name()
        .and_then(|n| n.to_str())
        .and_then(RunFolderName::parse)
    else {
        return;
    };
    let entries = match list(dir) {
        Ok(e) => e,
        Err(e) => {
            skip(skipped, dir, format!("cannot read: {e}"));
            return;
        }
    };
    let mut summaries = Vec::new();
    let mut csvs = Vec::new();
    for (file, is_dir) in entries {
        if is_dir {
            continue;
        }
        let path = dir.join(&file);
        if file.starts_with("timing_summary_") && file.ends_with(".log") {
            match std::fs::read(&path) {
                Ok(data) => summaries.push(SummaryRead {
                    minutes: summary_minutes(&file),
                    file,
                    summary: TimingSummary::parse(&data),
                }),
                Err(e) => skip(skipped, &path, format!("cannot read: {e}")),
            }
        } else if file.ends_with(".csv") && (file.contains("_online") || file.contains("_serving"))
        {
            csvs.push(file);
        }
    }
    let hardware = hardware_word(&name.tag)
        .or_else(|| {
            summaries
                .iter()
                .rev()
                .find_map(|s| s.summary.header.hardware.as_deref().and_then(hardware_word))
        })
        .or_else(|| {
            dir.ancestors()
                .skip(1)
                .take(3)
                .filter_map(|p| p.file_name().and_then(|n| n.to_str()))
                .find_map(hardware_word)
        })
        .unwrap_or_else(|| "unknown".to_owned());
    let simulated = name.variant.ends_with("-SIM")
        || name.tag.starts_with("sim-")
        || summaries.iter().any(|s| {
            s.summary
                .header
                .hostname
                .as_deref()
                .is_some_and(|h| h.ends_with("(simulated)"))
        });
    let variant = format!("{}{}", name.variant, name.suffix);
    // The invocation that produced the numbers: the newest one that completed a load or
    // measured GSM8K (a regeneration from complete logs measured nothing).
    let first = summaries.iter().filter_map(|s| s.minutes).min();
    let producer = summaries.iter().rev().find(|s| {
        !s.summary.all_logs_complete
            && (s
                .summary
                .phase
                .as_ref()
                .is_some_and(|p| !p.completed.is_empty())
                || s.summary.last_gsm8k_accuracy().is_some())
    });
    let fallback = match (first, producer.and_then(|p| p.minutes)) {
        (Some(a), Some(b)) => b - a >= FALLBACK_GAP_HOURS * 60,
        _ => false,
    };
    let measured = producer.map_or_else(String::new, |p| p.file.clone());
    // The image date; a tag without one (`v0.4.7-rocm630`, the scripts' default image) takes
    // the date of the run that produced the numbers.
    let run_date = producer
        .or(summaries.last())
        .and_then(|s| s.file.strip_prefix("timing_summary_"))
        .and_then(|t| t.get(..8))
        .and_then(Date::parse);
    let Some(date) = tag_date(&name.tag).or(run_date) else {
        skip(
            skipped,
            dir,
            format!(
                "the tag `{}` does not end with a YYYYMMDD date and no timing summary dates the run",
                name.tag
            ),
        );
        return;
    };
    let mut push = |metric: Metric, load: Load, value: f64, source: PathBuf| {
        let key = SeriesKey {
            hardware: hardware.clone(),
            model: name.model.clone(),
            variant: variant.clone(),
            metric,
            load,
        };
        by_key.entry(SeriesKeyOrd(key)).or_default().push((
            Night {
                date,
                value,
                image_tag: name.tag.clone(),
                fallback,
                simulated,
                source,
            },
            measured.clone(),
        ));
    };

    // The CSV: the §7.2 name when present, else the only candidate.
    let csv = [OnlineKind::RequestRate, OnlineKind::Concurrency]
        .into_iter()
        .map(|k| name.csv_file_name(k))
        .find(|n| csvs.contains(n))
        .or_else(|| (csvs.len() == 1).then(|| csvs[0].clone()));
    if csv.is_none() && csvs.len() > 1 {
        skip(
            skipped,
            dir,
            format!(
                "{} result CSVs and none named after the folder; none read",
                csvs.len()
            ),
        );
    }
    if let Some(file) = csv {
        let path = dir.join(&file);
        match std::fs::read(&path).map(|d| OnlineCsv::parse(&d)) {
            Err(e) => skip(skipped, &path, format!("cannot read: {e}")),
            Ok(Err(e)) => skip(skipped, &path, format!("not a three-table CSV: {e}")),
            Ok(Ok(table)) => {
                let metrics = [Metric::E2eMs, Metric::TtftMs, Metric::ItlMs];
                for (i, metric) in metrics.into_iter().enumerate() {
                    for load in &table.sections[i].loads {
                        let Some(cell) = table.cell(i, load) else {
                            continue;
                        };
                        let Ok(value) = cell.trim().parse::<f64>() else {
                            continue; // empty or NA: the load did not run
                        };
                        if !(value.is_finite() && value > 0.0) {
                            continue;
                        }
                        let load = match table.kind {
                            OnlineKind::RequestRate => Load::Rate(load.trim().to_owned()),
                            OnlineKind::Concurrency => Load::Concurrency(load.trim().to_owned()),
                        };
                        push(metric, load, value, path.clone());
                    }
                }
                // Output throughput of the run the CSV's cells came from (the best run of
                // each load that has a value).
                let filled: Vec<&String> = table.sections[0]
                    .loads
                    .iter()
                    .filter(|l| {
                        table
                            .cell(0, l)
                            .is_some_and(|c| c.trim().parse::<f64>().is_ok())
                    })
                    .collect();
                if let Ok(folder) = RunFolder::load(dir) {
                    for load in filled {
                        let logs: Vec<_> = folder.logs_of(load.trim()).collect();
                        let candidates: Vec<Candidate<'_>> = logs
                            .iter()
                            .map(|c| Candidate {
                                file_name: &c.file_name,
                                medians: &c.log.medians,
                            })
                            .collect();
                        let (_, outcome) = best_run::predict(load.trim(), &candidates, None);
                        let CellOutcome::Filled { best } = outcome else {
                            continue;
                        };
                        let Some(log) = logs.iter().find(|c| c.file_name == best) else {
                            continue;
                        };
                        let Some(tput) = log
                            .log
                            .outcome
                            .block()
                            .and_then(|b| b.output_token_throughput.as_ref())
                            .map(|n| n.value)
                            .filter(|v| v.is_finite() && *v > 0.0)
                        else {
                            continue;
                        };
                        let load = match table.kind {
                            OnlineKind::RequestRate => Load::Rate(load.trim().to_owned()),
                            OnlineKind::Concurrency => Load::Concurrency(load.trim().to_owned()),
                        };
                        push(
                            Metric::OutputThroughput,
                            load,
                            tput,
                            dir.join(&log.file_name),
                        );
                    }
                }
            }
        }
    }

    // GSM8K accuracy: the last value over the timing summaries in file-name order; 0 means
    // no valid run (not a measurement).
    if let Some((file, acc)) = summaries.iter().rev().find_map(|s| {
        s.summary
            .last_gsm8k_accuracy()
            .map(|a| (s.file.clone(), a.to_owned()))
    }) {
        match acc.trim().parse::<f64>() {
            Ok(v) if v.is_finite() && v > 0.0 => {
                push(Metric::Gsm8kAccuracy, Load::None, v, dir.join(file));
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tag_dates_and_hardware() {
        assert_eq!(
            tag_date("v0.5.4.post1-rocm630-mi30x-20251029").map(|d| d.to_string()),
            Some("20251029".to_owned())
        );
        assert_eq!(tag_date("v0.5.4-rocm630-mi30x-2025102"), None);
        assert_eq!(tag_date("x120251029"), None);
        assert_eq!(
            hardware_word("v0.5.4.post1-rocm630-mi35x-20251029").as_deref(),
            Some("mi35x")
        );
        assert_eq!(
            hardware_word("sim-rocm700-mi30x-20260101").as_deref(),
            Some("mi30x")
        );
        assert_eq!(hardware_word("unknown"), None);
        assert_eq!(hardware_word("mix"), None);
    }

    #[test]
    fn summary_times() {
        let a = summary_minutes("timing_summary_20251029_151533.log").unwrap();
        let b = summary_minutes("timing_summary_20251030_151602.log").unwrap();
        assert_eq!(b - a, 24 * 60 + 1);
        assert_eq!(summary_minutes("timing_summary_2025_1.log"), None);
    }

    const CSV: &str = "Online mode - GROK1 (v0.4.7-rocm630)\n\nMedian E2E Latency (ms, lower better)\nrequest rate\t1\t2\nMI300x-aiter, vm (simulated)\t135.43\t\n\nMedian TTFT (ms, lower better)\nrequest rate\t1\t2\nMI300x-aiter, vm (simulated)\t63.21\tNA\n\nMedian ITL (ms, lower better)\nrequest rate\t1\t2\nMI300x-aiter, vm (simulated)\t15.77\t16.41\n";

    /// The scripts' default image has no date in its tag: the run's date stands in, the
    /// timing summary's `Hardware:` names the hardware, the `-SIM` variant marks it simulated.
    #[test]
    fn a_dateless_simulated_run_folder() {
        let tmp = tempfile::tempdir().unwrap();
        let run = tmp
            .path()
            .join("online/GROK1/v0.4.7-rocm630_GROK1_MOE-I4F8-SIM_online");
        std::fs::create_dir_all(&run).unwrap();
        std::fs::write(
            run.join("v0.4.7-rocm630_GROK1_MOE-I4F8-SIM_online.csv"),
            CSV,
        )
        .unwrap();
        std::fs::write(
            run.join("timing_summary_20261207_050853.log"),
            "Hardware: mi35x\nHostname: vm (simulated)\n  GSM8K accuracy: 0.000\n",
        )
        .unwrap();
        let c = collect(tmp.path()).unwrap();
        assert_eq!(c.run_folders, 1);
        let one = |hw, m| collect_online_series(tmp.path(), hw, m).unwrap().len();
        assert_eq!(one(Some("MI35X"), "grok1"), 4);
        assert_eq!(one(None, "GROK1"), 4);
        assert_eq!(one(Some("mi30x"), "GROK1"), 0);
        assert_eq!(one(None, "GROK2"), 0);
        let got: Vec<String> = c
            .series
            .iter()
            .map(|s| {
                let n = &s.nights[0];
                format!(
                    "{} {} {} sim={} fallback={}",
                    s.key, n.date, n.value, n.simulated, n.fallback
                )
            })
            .collect();
        // Empty and NA cells and a 0 accuracy are no nights.
        assert_eq!(
            got,
            [
                "mi35x GROK1 MOE-I4F8-SIM e2e_ms rate 1 20261207 135.43 sim=true fallback=false",
                "mi35x GROK1 MOE-I4F8-SIM ttft_ms rate 1 20261207 63.21 sim=true fallback=false",
                "mi35x GROK1 MOE-I4F8-SIM itl_ms rate 1 20261207 15.77 sim=true fallback=false",
                "mi35x GROK1 MOE-I4F8-SIM itl_ms rate 2 20261207 16.41 sim=true fallback=false",
            ]
        );
        // Without any timing summary the folder cannot be dated: skipped, with the reason.
        std::fs::remove_file(run.join("timing_summary_20261207_050853.log")).unwrap();
        let c = collect(tmp.path()).unwrap();
        assert!(c.series.is_empty());
        assert!(c.skipped[0].reason.contains("YYYYMMDD"), "{:?}", c.skipped);
    }

    /// Two builds of one image date (rocm630 and rocm700) are one night: the one measured
    /// last (its newest timing summary that completed a load) stays, the other is named in
    /// `skipped`.
    #[test]
    fn one_night_per_date() {
        let tmp = tempfile::tempdir().unwrap();
        for (rocm, time, e2e) in [
            ("rocm630", "230000", "200.00"),
            ("rocm700", "010000", "100.00"),
        ] {
            let tag = format!("v0.5.6-{rocm}-mi30x-20251101");
            let run = tmp.path().join(format!("{tag}_GROK1_MOE-I4F8_online"));
            std::fs::create_dir_all(&run).unwrap();
            let csv = CSV.replace("v0.4.7-rocm630", &tag).replace("135.43", e2e);
            std::fs::write(run.join(format!("{tag}_GROK1_MOE-I4F8_online.csv")), csv).unwrap();
            let day = if rocm == "rocm630" {
                "20251101"
            } else {
                "20251102"
            };
            std::fs::write(
                run.join(format!("timing_summary_{day}_{time}.log")),
                "Client Benchmark Results:\nCompleted rate 1 - Total time: 10 seconds\n",
            )
            .unwrap();
        }
        let c = collect(tmp.path()).unwrap();
        let e2e = c
            .series
            .iter()
            .find(|s| s.key.metric == Metric::E2eMs && s.key.load == Load::Rate("1".into()))
            .unwrap();
        assert_eq!(e2e.nights.len(), 1);
        assert_eq!(e2e.nights[0].value, 100.0);
        assert!(e2e.nights[0].image_tag.contains("rocm700"));
        assert!(
            c.skipped
                .iter()
                .any(|s| s.reason.contains("same night")
                    && s.path.to_string_lossy().contains("rocm630")),
            "{:?}",
            c.skipped
        );
    }

    #[test]
    fn a_missing_dir_is_an_error_naming_it() {
        let e = collect(Path::new("/nonexistent/bench")).unwrap_err();
        assert!(e.to_string().contains("/nonexistent/bench"), "{e}");
    }
}
