//! One run folder (or file) to one [`RunRecord`]: read and hash every file, parse it with
//! metrics-parse, attach provenance. A file that cannot be parsed is returned as [`Skipped`]
//! and contributes nothing; the rest of the run is still complete.

use std::path::{Path, PathBuf};

use metrics_parse::bench_serving::{HEADER, ResultBlock};
use metrics_parse::client_log::{ClientLog, ClientLogName, ClientLogOutcome};
use metrics_parse::gsm8k::Gsm8kLog;
use metrics_parse::legacy_csv::{OfflineCsv, OnlineCsv, OnlineKind, SECTION_TITLES};
use metrics_parse::timing_summary::TimingSummary;
use metrics_parse::value::Num;
use metrics_parse::{cron_log, pd, sanity, unit_test};
use report::run_folder::RunFolderName;
use serde::Serialize;
use sha2::{Digest, Sha256};

use crate::model::{Artifact, Gsm8k, Metric, Provenance, RunKind, RunRecord, TestResult};

/// Bump when the extraction changes, so every run is re-ingested once.
pub const EXTRACTOR_VERSION: &str = "1";

/// A file or folder that was not stored, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Path relative to the tree.
    pub path: String,
    /// Why (one line).
    pub reason: String,
}

/// Something worth telling about a stored run (not an error: the run is stored).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// The run folder or file, relative to the tree.
    pub path: String,
    /// What (one line).
    pub note: String,
}

/// A folder or file that is one run, found by the tree walk.
#[derive(Debug, Clone)]
pub struct Unit {
    /// Kind.
    pub kind: RunKind,
    /// Absolute path.
    pub abs: PathBuf,
    /// Path relative to the tree root, `/`-separated.
    pub rel: String,
    /// Hardware from the path (`online_benchmark_log/<hw>/…`).
    pub hardware: Option<String>,
    /// Model folder name from the path (`online/<MODEL>/…`, plots).
    pub model_dir: Option<String>,
}

/// A file read and hashed.
struct FileData {
    rel: String,
    name: String,
    bytes: Vec<u8>,
    sha256: String,
}

impl FileData {
    fn prov(&self, line: i64) -> Provenance {
        Provenance {
            path: self.rel.clone(),
            line,
            sha256: self.sha256.clone(),
        }
    }

    fn artifact(&self, kind: &str, parsed: &str) -> Artifact {
        Artifact {
            path: self.rel.clone(),
            kind: kind.to_owned(),
            bytes: self.bytes.len() as i64,
            sha256: self.sha256.clone(),
            parsed: parsed.to_owned(),
        }
    }

    /// A log or CSV that is parsed but is not text (NUL bytes). Container and server logs
    /// are kept by path only, whatever their bytes (real ones hold NULs).
    fn binary(&self) -> bool {
        let n = self.name.as_str();
        let artifact_only = n.ends_with("server.log")
            || n.starts_with("server_output")
            || matches!(
                n,
                "prefill.log" | "decode.log" | "load_balance.log" | "main_execution.log"
            );
        let text_like = [".log", ".txt", ".csv", ".json"]
            .iter()
            .any(|e| self.name.ends_with(e))
            || self.name.contains(".log.");
        !artifact_only && text_like && self.bytes.contains(&0)
    }

    fn skipped(&self, reason: impl Into<String>) -> Skipped {
        Skipped {
            path: self.rel.clone(),
            reason: reason.into(),
        }
    }
}

/// SHA-256 of `bytes`, hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    let d = Sha256::digest(bytes);
    let mut s = String::with_capacity(64);
    for b in d {
        s.push_str(&format!("{b:02x}"));
    }
    s
}

fn read_files(unit: &Unit, skipped: &mut Vec<Skipped>) -> Vec<FileData> {
    let mut names: Vec<String> = Vec::new();
    if unit.abs.is_dir() {
        match std::fs::read_dir(&unit.abs) {
            Ok(rd) => {
                for e in rd.flatten() {
                    if e.file_type().is_ok_and(|t| t.is_file()) {
                        names.push(e.file_name().to_string_lossy().into_owned());
                    }
                }
            }
            Err(e) => skipped.push(Skipped {
                path: unit.rel.clone(),
                reason: format!("cannot list the folder: {e}"),
            }),
        }
    } else {
        names.push(String::new());
    }
    names.sort();
    let mut out = Vec::with_capacity(names.len());
    for n in names {
        let (abs, rel, name) = if n.is_empty() {
            let name = unit
                .abs
                .file_name()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            (unit.abs.clone(), unit.rel.clone(), name)
        } else {
            (unit.abs.join(&n), format!("{}/{n}", unit.rel), n)
        };
        match std::fs::read(&abs) {
            Ok(bytes) => out.push(FileData {
                sha256: sha256_hex(&bytes),
                rel,
                name,
                bytes,
            }),
            Err(e) => skipped.push(Skipped {
                path: rel,
                reason: format!("cannot read: {e}"),
            }),
        }
    }
    out
}

/// Options that shape the records.
#[derive(Debug, Clone, Default)]
pub struct ExtractOptions {
    /// The node the tree belongs to; overrides host names found in the files.
    pub host: Option<String>,
}

/// Reads one unit. `Err`: the whole unit is skipped (unknown folder name, unreadable).
pub fn extract(unit: &Unit, opts: &ExtractOptions) -> Result<(RunRecord, Vec<Skipped>), Skipped> {
    let mut skipped = Vec::new();
    let files = read_files(unit, &mut skipped);
    let mut files_ok = Vec::with_capacity(files.len());
    for f in files {
        if f.binary() {
            skipped.push(f.skipped("binary file (NUL bytes), not a log: not stored"));
        } else {
            files_ok.push(f);
        }
    }
    let files = files_ok;
    let mut rec = match unit.kind {
        RunKind::Online => online(unit, &files, opts, &mut skipped)?,
        RunKind::Offline => offline(unit, &files, opts, &mut skipped)?,
        RunKind::Sanity => sanity_run(unit, &files, opts)?,
        RunKind::Pd => pd_run(unit, &files, opts)?,
        RunKind::UnitTest => unit_run(unit, &files, opts)?,
        RunKind::Night => night(unit, &files, opts),
        RunKind::Plots => plots(unit, &files, opts),
    };
    let mut hasher = Sha256::new();
    hasher.update(EXTRACTOR_VERSION.as_bytes());
    hasher.update(b"\0");
    hasher.update(rec.host.as_bytes());
    for f in &files {
        hasher.update(b"\0");
        hasher.update(f.rel.as_bytes());
        hasher.update(b"\0");
        hasher.update(f.sha256.as_bytes());
    }
    for s in &skipped {
        hasher.update(b"\0skipped\0");
        hasher.update(s.path.as_bytes());
    }
    rec.content_sha256 = hasher
        .finalize()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    Ok((rec, skipped))
}

fn base_record(unit: &Unit, host: String) -> RunRecord {
    RunRecord {
        run_key: format!("{host}:{}", unit.rel),
        kind: unit.kind,
        host,
        hardware: unit.hardware.clone(),
        model: None,
        variant: None,
        mode: None,
        image_tag: None,
        image_date: None,
        night: None,
        fallback_image: false,
        engine: "real".into(),
        started_at: None,
        ended_at: None,
        exit_status: None,
        verdict: None,
        path: unit.rel.clone(),
        content_sha256: String::new(),
        metrics: Vec::new(),
        gsm8k: Vec::new(),
        tests: Vec::new(),
        artifacts: Vec::new(),
    }
}

/// `YYYYMMDD` → `YYYY-MM-DD` when it is a date.
pub fn ymd(s: &str) -> Option<String> {
    chrono::NaiveDate::parse_from_str(s, "%Y%m%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// The image date of a docker tag: its last 8-digit group that is a date.
pub fn tag_date(tag: &str) -> Option<String> {
    tag.split(['-', '_', '.', ':'])
        .rev()
        .filter(|p| p.len() == 8 && p.bytes().all(|b| b.is_ascii_digit()))
        .find_map(ymd)
}

/// The hardware named in a docker tag (`mi30x`, `mi35x`).
pub fn tag_hardware(tag: &str) -> Option<String> {
    tag.split('-')
        .find(|p| p.len() == 5 && p.starts_with("mi") && p.ends_with('x'))
        .map(str::to_owned)
}

/// The first `YYYYMMDD_HHMMSS` date in a file name, as `YYYY-MM-DD`.
fn name_date(name: &str) -> Option<String> {
    name.split(['_', '.', '-'])
        .filter(|p| p.len() == 8 && p.bytes().all(|b| b.is_ascii_digit()))
        .find_map(ymd)
}

/// `2025-10-18 06:00:38 PDT` → `2025-10-18T06:00:38-07:00` (zone abbreviations PDT, PST,
/// CDT, CST, UTC); other text is kept as printed.
pub fn iso_time(s: &str) -> String {
    let s = s.trim();
    let (dt, zone) = match s.get(..19) {
        Some(d) => (d, s[19..].trim()),
        None => return s.to_owned(),
    };
    let Ok(t) = chrono::NaiveDateTime::parse_from_str(dt, "%Y-%m-%d %H:%M:%S") else {
        return s.to_owned();
    };
    let offset = match zone {
        "PDT" => "-07:00",
        "PST" => "-08:00",
        "CDT" => "-05:00",
        "CST" => "-06:00",
        "UTC" | "GMT" => "+00:00",
        "" => "",
        _ => return s.to_owned(),
    };
    format!("{}{offset}", t.format("%Y-%m-%dT%H:%M:%S"))
}

fn date_of_time(s: &str) -> Option<String> {
    let d = s.trim().get(..10)?;
    chrono::NaiveDate::parse_from_str(d, "%Y-%m-%d")
        .ok()
        .map(|d| d.format("%Y-%m-%d").to_string())
}

/// 1-based number of the first line at or after `from` that contains `needle`; 0 when none.
fn line_of(bytes: &[u8], needle: &str, from: i64) -> i64 {
    let n = needle.as_bytes();
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let no = i as i64 + 1;
        if no >= from && line.windows(n.len().max(1)).any(|w| w == n) {
            return no;
        }
    }
    0
}

/// 1-based number of the last line containing all of `needles`; 0 when none.
fn last_line_with(bytes: &[u8], needles: &[&str]) -> i64 {
    let mut found = 0;
    for (i, line) in bytes.split(|b| *b == b'\n').enumerate() {
        if needles.iter().all(|n| {
            let n = n.as_bytes();
            line.windows(n.len().max(1)).any(|w| w == n)
        }) {
            found = i as i64 + 1;
        }
    }
    found
}

fn fallback(image_date: Option<&str>, night: Option<&str>) -> bool {
    matches!((image_date, night), (Some(i), Some(n)) if i < n)
}

fn parse_f64(s: &str) -> Option<f64> {
    s.trim().parse::<f64>().ok().filter(|v| v.is_finite())
}

/// The values of a bench_serving result block: (label as printed, metric, unit, value).
fn block_values(b: &ResultBlock) -> Vec<(&'static str, &'static str, &'static str, &Num)> {
    let mut v = Vec::new();
    fn add<'a>(
        v: &mut Vec<(&'static str, &'static str, &'static str, &'a Num)>,
        label: &'static str,
        metric: &'static str,
        unit: &'static str,
        n: &'a Option<Num>,
    ) {
        if let Some(n) = n.as_ref() {
            v.push((label, metric, unit, n));
        }
    }
    let mut push = |label, metric, unit, n| add(&mut v, label, metric, unit, n);
    push(
        "Successful requests:",
        "successful_requests",
        "count",
        &b.successful_requests,
    );
    push("Benchmark duration (s):", "duration", "s", &b.duration_s);
    push(
        "Request throughput (req/s):",
        "request_throughput",
        "req/s",
        &b.request_throughput,
    );
    push(
        "Input token throughput (tok/s):",
        "input_throughput",
        "tok/s",
        &b.input_token_throughput,
    );
    push(
        "Output token throughput (tok/s):",
        "output_throughput",
        "tok/s",
        &b.output_token_throughput,
    );
    push(
        "Peak output token throughput (tok/s):",
        "peak_output_throughput",
        "tok/s",
        &b.peak_output_token_throughput,
    );
    push(
        "Total token throughput (tok/s):",
        "total_throughput",
        "tok/s",
        &b.total_token_throughput,
    );
    push("Concurrency:", "concurrency", "count", &b.concurrency);
    push(
        "Accept length:",
        "accept_length",
        "tokens",
        &b.accept_length,
    );
    push("Mean E2E Latency (ms):", "e2e_mean", "ms", &b.e2e.mean);
    push(
        "Median E2E Latency (ms):",
        "e2e_median",
        "ms",
        &b.e2e.median,
    );
    push("P90 E2E Latency (ms):", "e2e_p90", "ms", &b.e2e.p90);
    push("P99 E2E Latency (ms):", "e2e_p99", "ms", &b.e2e.p99);
    push("Mean TTFT (ms):", "ttft_mean", "ms", &b.ttft.mean);
    push("Median TTFT (ms):", "ttft_median", "ms", &b.ttft.median);
    push("P99 TTFT (ms):", "ttft_p99", "ms", &b.ttft.p99);
    push("Mean TPOT (ms):", "tpot_mean", "ms", &b.tpot.mean);
    push("Median TPOT (ms):", "tpot_median", "ms", &b.tpot.median);
    push("P99 TPOT (ms):", "tpot_p99", "ms", &b.tpot.p99);
    push("Mean ITL (ms):", "itl_mean", "ms", &b.itl.mean);
    push("Median ITL (ms):", "itl_median", "ms", &b.itl.median);
    push("P95 ITL (ms):", "itl_p95", "ms", &b.itl.p95);
    push("P99 ITL (ms):", "itl_p99", "ms", &b.itl.p99);
    push("Max ITL (ms):", "itl_max", "ms", &b.itl.max);
    v
}

/// The metric names of the three legacy CSV sections.
pub const CSV_METRICS: [&str; 3] = ["e2e_median", "ttft_median", "itl_median"];

fn csv_metrics(f: &FileData, csv: &OnlineCsv) -> Vec<Metric> {
    let text = String::from_utf8_lossy(&f.bytes);
    let lines: Vec<&str> = text.split('\n').map(|l| l.trim_end_matches('\r')).collect();
    let load_kind = match csv.kind {
        OnlineKind::RequestRate => "request_rate",
        OnlineKind::Concurrency => "concurrency",
    };
    let mut out = Vec::new();
    for (i, section) in csv.sections.iter().enumerate() {
        let title_at = lines.iter().position(|l| l.trim_end() == SECTION_TITLES[i]);
        let row_line = title_at.map_or(0, |t| t as i64 + 3);
        let Some(row) = section.rows.first() else {
            continue;
        };
        for (load, cell) in section.loads.iter().zip(&row.cells) {
            let Some(value) = parse_f64(cell) else {
                continue;
            };
            out.push(Metric {
                metric: CSV_METRICS[i].into(),
                load_kind: load_kind.into(),
                load: load.clone(),
                sample: 0,
                value,
                text: cell.trim().to_owned(),
                unit: "ms".into(),
                source: f.prov(row_line),
            });
        }
    }
    out
}

fn client_metrics(f: &FileData, name: &ClientLogName, log: &ClientLog) -> Vec<Metric> {
    let Some(block) = log.outcome.block() else {
        return Vec::new();
    };
    let load_kind = match name {
        ClientLogName::RequestRate { .. } => "request_rate",
        ClientLogName::Concurrency { .. } => "concurrency",
    };
    let start = line_of(&f.bytes, HEADER, 1).max(1);
    block_values(block)
        .into_iter()
        .map(|(label, metric, unit, n)| Metric {
            metric: metric.into(),
            load_kind: load_kind.into(),
            load: name.load().to_owned(),
            sample: i64::from(name.run()),
            value: n.value,
            text: n.text.clone(),
            unit: unit.into(),
            source: f.prov(line_of(&f.bytes, label, start)),
        })
        .collect()
}

fn online_gsm8k(f: &FileData, subject: &str) -> Option<Gsm8k> {
    let log = Gsm8kLog::parse(&f.bytes);
    let last = log.attempts.last()?;
    let fin = last.final_accuracy()?;
    let accuracy = parse_f64(&fin.text)?;
    let line = if fin.early_exit {
        last_line_with(&f.bytes, &["Accuracy: ", "(Required:"])
    } else {
        last_line_with(&f.bytes, &["Average Accuracy over", &fin.text])
    };
    let n = if fin.early_exit {
        Some(1)
    } else {
        Some(last.averaged_accuracies().len() as i64).filter(|n| *n > 0)
    };
    Some(Gsm8k {
        subject: subject.to_owned(),
        accuracy,
        text: fin.text,
        n,
        n_unit: n.map(|_| "runs".to_owned()),
        required: last.verdict.as_ref().and_then(|v| parse_f64(&v.threshold)),
        passed: last.verdict.as_ref().map(|v| v.passed),
        source: f.prov(line),
    })
}

fn online(
    unit: &Unit,
    files: &[FileData],
    opts: &ExtractOptions,
    skipped: &mut Vec<Skipped>,
) -> Result<RunRecord, Skipped> {
    let folder = unit
        .abs
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let Some(name) = RunFolderName::parse(&folder) else {
        return Err(Skipped {
            path: unit.rel.clone(),
            reason: "unknown folder name: not <tag>_<MODEL>_<VARIANT>_online[_suffix]; folder not stored".into(),
        });
    };
    let mut metrics = Vec::new();
    let mut artifacts = Vec::new();
    let mut summaries: Vec<(&FileData, TimingSummary)> = Vec::new();
    let mut gsm8k: Option<Gsm8k> = None;
    let mut csv_seen = false;
    let mut csv_complete = true;
    let mut csv_host: Option<String> = None;
    let mut simulated = name.variant.ends_with("-SIM");
    for f in files {
        let n = f.name.as_str();
        if n.ends_with(".csv") && (n.contains("_online") || n.contains("_serving")) {
            match OnlineCsv::parse(&f.bytes) {
                Ok(csv) => {
                    let m = csv_metrics(f, &csv);
                    let cells: usize = csv.sections.iter().map(|s| s.loads.len()).sum();
                    csv_complete &= m.len() == cells && cells > 0;
                    csv_seen = true;
                    if let Some(r) = csv.sections[0].rows.first()
                        && let Some((_, h)) = r.label.split_once(", ")
                    {
                        csv_host = Some(h.trim().to_owned());
                    }
                    simulated |= csv.sections[0].rows.iter().any(|r| r.label.contains("SIM"));
                    metrics.extend(m);
                    artifacts.push(f.artifact("csv", "stored"));
                }
                Err(e) => skipped.push(f.skipped(format!("cannot parse the CSV: {e}; not stored"))),
            }
        } else if let Some(cn) = ClientLogName::parse(n) {
            let log = ClientLog::parse(&f.bytes);
            if matches!(log.outcome, ClientLogOutcome::TruncatedBlock(_)) {
                // A block cut off mid-way may end in a cut number: store none of it.
                skipped.push(f.skipped(
                    "truncated client log: the result block has no closing line; its numbers are not stored",
                ));
                continue;
            }
            metrics.extend(client_metrics(f, &cn, &log));
            artifacts.push(f.artifact("client_log", log.outcome.name()));
        } else if n.starts_with("timing_summary_") && n.ends_with(".log") {
            let s = TimingSummary::parse(&f.bytes);
            artifacts.push(f.artifact(
                "timing_summary",
                if s.complete() {
                    "complete"
                } else {
                    "cut_short"
                },
            ));
            summaries.push((f, s));
        } else if n.contains("_gsm8k") && n.ends_with(".log") {
            let g = online_gsm8k(f, &name.model);
            artifacts.push(f.artifact(
                "gsm8k_log",
                if g.is_some() { "stored" } else { "no_result" },
            ));
            if g.is_some() {
                gsm8k = g;
            }
        } else if n == "process_and_generate_online_plots.log" {
            let o = match cron_log::plots_outcome(&f.bytes) {
                cron_log::PlotsOutcome::Complete => "complete",
                cron_log::PlotsOutcome::SummaryCsvFailed => "failed",
                cron_log::PlotsOutcome::Unfinished => "unfinished",
            };
            artifacts.push(f.artifact("log", o));
        } else if n.ends_with("server.log") || n.starts_with("server_output") {
            artifacts.push(f.artifact("server_log", "artifact"));
        } else if n == "config.json" {
            simulated |= String::from_utf8_lossy(&f.bytes).contains("simulated");
            artifacts.push(f.artifact("other", "artifact"));
        } else if n.ends_with(".png") {
            artifacts.push(f.artifact("plot", "artifact"));
        } else {
            artifacts.push(f.artifact(
                if n.ends_with(".log") { "log" } else { "other" },
                "artifact",
            ));
        }
    }
    let newest = summaries.last();
    for (_, s) in &summaries {
        if let Some(c) = &s.header.command {
            simulated |= c.contains("--engine=sim") || c.contains("--engine sim");
        }
    }
    let host = opts
        .host
        .clone()
        .or_else(|| {
            summaries
                .iter()
                .rev()
                .find_map(|(_, s)| s.header.hostname.clone())
        })
        .or(csv_host)
        .unwrap_or_else(|| "unknown".into());
    let mut rec = base_record(unit, host);
    if gsm8k.is_none()
        && let Some((f, s)) = newest
        && let Some(t) = s.last_gsm8k_accuracy()
        && let Some(a) = parse_f64(t)
    {
        gsm8k = Some(Gsm8k {
            subject: name.model.clone(),
            accuracy: a,
            text: t.to_owned(),
            n: None,
            n_unit: None,
            required: None,
            passed: None,
            source: f.prov(last_line_with(&f.bytes, &["GSM8K accuracy:"])),
        });
    }
    if let Some((f, s)) = newest
        && let Some(o) = &s.overall
        && let Some(secs) = o.total_execution_s
    {
        metrics.push(Metric {
            metric: "total_execution".into(),
            load_kind: String::new(),
            load: String::new(),
            sample: 0,
            value: secs as f64,
            text: secs.to_string(),
            unit: "s".into(),
            source: f.prov(last_line_with(&f.bytes, &["Total execution time:"])),
        });
    }
    rec.hardware = unit
        .hardware
        .clone()
        .or_else(|| newest.and_then(|(_, s)| s.header.hardware.clone()))
        .or_else(|| tag_hardware(&name.tag));
    rec.model = Some(name.model.clone());
    rec.variant = Some(name.variant.clone());
    rec.mode = Some(format!("online{}", name.suffix));
    rec.image_date = tag_date(&name.tag);
    rec.image_tag = Some(name.tag.clone());
    rec.started_at = newest.and_then(|(_, s)| s.header.started_at.as_deref().map(iso_time));
    rec.ended_at = newest
        .and_then(|(_, s)| s.overall.as_ref())
        .and_then(|o| o.ended_at.as_deref().map(iso_time));
    rec.night = newest
        .and_then(|(_, s)| s.header.started_at.as_deref().and_then(date_of_time))
        .or_else(|| newest.and_then(|(f, _)| name_date(&f.name)))
        .or_else(|| rec.image_date.clone());
    rec.fallback_image = fallback(rec.image_date.as_deref(), rec.night.as_deref());
    rec.engine = if simulated { "simulated" } else { "real" }.into();
    let gsm_passed = gsm8k.as_ref().and_then(|g| g.passed);
    let complete = newest.is_some_and(|(_, s)| s.complete());
    let gsm8k_only = newest.is_some_and(|(_, s)| s.serving_skipped_mode.is_some());
    rec.verdict = if gsm_passed == Some(false) {
        Some("fail".into())
    } else if csv_seen {
        Some(if csv_complete { "pass" } else { "fail" }.into())
    } else if gsm8k_only && gsm_passed == Some(true) {
        Some("pass".into())
    } else if complete {
        Some("fail".into())
    } else {
        None
    };
    rec.metrics = metrics;
    rec.gsm8k = gsm8k.into_iter().collect();
    rec.artifacts = artifacts;
    Ok(rec)
}

const OFFLINE_METRICS: [(&str, &str); 6] = [
    ("prefill_latency", "s"),
    ("median_decode_latency", "s"),
    ("e2e_latency", "s"),
    ("prefill_throughput", "tok/s"),
    ("median_decode_throughput", "tok/s"),
    ("e2e_throughput", "tok/s"),
];

fn offline(
    unit: &Unit,
    files: &[FileData],
    opts: &ExtractOptions,
    skipped: &mut Vec<Skipped>,
) -> Result<RunRecord, Skipped> {
    let folder = unit
        .abs
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut rec = base_record(unit, opts.host.clone().unwrap_or_else(|| "unknown".into()));
    let tag = folder.split('_').next().unwrap_or_default().to_owned();
    if tag_date(&tag).is_none() {
        return Err(Skipped {
            path: unit.rel.clone(),
            reason: "unknown folder name: not <tag>_<MODEL>_…_offline; folder not stored".into(),
        });
    }
    let mut csv_ok = false;
    for f in files {
        if f.name.ends_with(".csv") {
            match OfflineCsv::parse(&f.bytes) {
                Ok(csv) => {
                    for (i, row) in csv.rows.iter().enumerate() {
                        let load = format!(
                            "tp{}_bs{}_in{}_out{}",
                            row.tp, row.batch_size, row.input_len, row.output_len
                        );
                        for (j, (metric, unit_name)) in OFFLINE_METRICS.iter().enumerate() {
                            if let Some(v) = parse_f64(&row.metrics[j]) {
                                rec.metrics.push(Metric {
                                    metric: (*metric).into(),
                                    load_kind: "point".into(),
                                    load: load.clone(),
                                    sample: 0,
                                    value: v,
                                    text: row.metrics[j].trim().to_owned(),
                                    unit: (*unit_name).into(),
                                    source: f.prov(i as i64 + 2),
                                });
                            }
                        }
                    }
                    csv_ok = true;
                    rec.artifacts.push(f.artifact("csv", "stored"));
                }
                Err(e) => skipped
                    .push(f.skipped(format!("cannot parse the offline CSV: {e}; not stored"))),
            }
        } else {
            let sim =
                f.name == "config.json" && String::from_utf8_lossy(&f.bytes).contains("simulated");
            if sim {
                rec.engine = "simulated".into();
            }
            rec.artifacts.push(f.artifact(
                if f.name.ends_with(".log") {
                    "log"
                } else {
                    "other"
                },
                "artifact",
            ));
        }
    }
    rec.model = unit.model_dir.clone();
    rec.mode = Some("offline".into());
    rec.image_date = tag_date(&tag);
    rec.hardware = rec.hardware.clone().or_else(|| tag_hardware(&tag));
    rec.image_tag = Some(tag);
    rec.night = files
        .iter()
        .filter_map(|f| name_date(&f.name))
        .max()
        .or_else(|| rec.image_date.clone());
    rec.fallback_image = fallback(rec.image_date.as_deref(), rec.night.as_deref());
    rec.verdict = csv_ok.then(|| "pass".to_owned());
    Ok(rec)
}

fn tag_folder_check(unit: &Unit, tag: &str) -> Result<(), Skipped> {
    if tag_date(tag).is_none() {
        return Err(Skipped {
            path: unit.rel.clone(),
            reason: "unknown folder name: not a docker tag ending in -YYYYMMDD; not stored".into(),
        });
    }
    Ok(())
}

fn sanity_run(
    unit: &Unit,
    files: &[FileData],
    opts: &ExtractOptions,
) -> Result<RunRecord, Skipped> {
    let tag = unit
        .abs
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    tag_folder_check(unit, &tag)?;
    let mut summaries = Vec::new();
    let mut artifacts = Vec::new();
    for f in files {
        if f.name.starts_with("timing_summary_") && f.name.ends_with(".log") {
            let s = sanity::parse_summary(&f.bytes);
            artifacts.push(f.artifact(
                "timing_summary",
                if s.overall.is_some() {
                    "complete"
                } else {
                    "cut_short"
                },
            ));
            summaries.push((f, s));
        } else if f.name.ends_with("_server.log") {
            artifacts.push(f.artifact("server_log", "artifact"));
        } else if f.name.contains("_client_try") || f.name.ends_with("_warmup.log") {
            let a = sanity::client_accuracy(&f.bytes);
            artifacts.push(f.artifact(
                "client_log",
                if a.value().is_some() {
                    "accuracy"
                } else {
                    "no_accuracy"
                },
            ));
        } else {
            artifacts.push(f.artifact(
                if f.name.ends_with(".log") {
                    "log"
                } else {
                    "other"
                },
                "artifact",
            ));
        }
    }
    let host = opts
        .host
        .clone()
        .or_else(|| {
            summaries
                .iter()
                .rev()
                .find_map(|(_, s)| s.header.machine.clone())
        })
        .unwrap_or_else(|| "unknown".into());
    let mut rec = base_record(unit, host);
    // The last section of each model over all summaries, with the file it is in.
    let mut last: Vec<(&FileData, &sanity::ModelSection)> = Vec::new();
    let mut skips: Vec<(&FileData, &sanity::SkippedModel)> = Vec::new();
    for (f, s) in &summaries {
        for sec in &s.sections {
            match last.iter_mut().find(|(_, x)| x.model == sec.model) {
                Some(slot) => *slot = (f, sec),
                None => last.push((f, sec)),
            }
        }
        for sk in &s.skipped {
            skips.retain(|(_, x)| x.model != sk.model);
            skips.push((f, sk));
        }
    }
    let mut any_fail = false;
    let mut any_incomplete = false;
    for (f, sec) in &last {
        let status = match sec.outcome() {
            sanity::SectionOutcome::Pass => "pass",
            sanity::SectionOutcome::Fail => "fail",
            sanity::SectionOutcome::StartupFailed => "fail",
            sanity::SectionOutcome::Incomplete => "incomplete",
        };
        any_fail |= status == "fail";
        any_incomplete |= status == "incomplete";
        let detail = match sec.outcome() {
            sanity::SectionOutcome::StartupFailed => Some(sec.error.as_ref().map_or_else(
                || "server startup failed".to_owned(),
                |e| report::redact::redact(&e.text).into_owned(),
            )),
            _ => None,
        };
        let section_line = sec.line as i64;
        let verdict_line = sec.verdict.as_ref().map_or(section_line, |v| {
            let l = line_of(
                &f.bytes,
                &format!("(Required: {}", v.required.text),
                section_line,
            );
            if l == 0 { section_line } else { l }
        });
        rec.tests.push(TestResult {
            suite: "sanity".into(),
            name: sec.model.clone(),
            status: status.into(),
            detail,
            value: sec.verdict.as_ref().map(|v| v.accuracy.value),
            source: f.prov(section_line),
        });
        if let Some(v) = &sec.verdict {
            rec.gsm8k.push(Gsm8k {
                subject: sec.model.clone(),
                accuracy: v.accuracy.value,
                text: v.accuracy.text.clone(),
                n: Some(sec.trials.len() as i64 + i64::from(sec.warmup.is_some())),
                n_unit: Some("trials".into()),
                required: Some(v.required.value),
                passed: sec.final_result.map(|m| m == sanity::Mark::Pass),
                source: f.prov(verdict_line),
            });
        }
    }
    for (f, sk) in skips {
        if last.iter().any(|(_, s)| s.model == sk.model) {
            continue;
        }
        let reason = match &sk.reason {
            sanity::SkipReason::Unavailable(r) | sanity::SkipReason::NoLaunchCommand(r) => {
                r.clone()
            }
        };
        rec.tests.push(TestResult {
            suite: "sanity".into(),
            name: sk.model.clone(),
            status: "skipped".into(),
            detail: Some(report::redact::redact(&reason).into_owned()),
            value: None,
            source: f.prov(sk.line as i64),
        });
    }
    let newest = summaries.last();
    rec.image_date = tag_date(&tag);
    rec.hardware = rec.hardware.clone().or_else(|| tag_hardware(&tag));
    rec.image_tag = Some(tag);
    rec.mode = Some("sanity".into());
    rec.started_at = summaries
        .first()
        .and_then(|(_, s)| s.header.start_time.as_deref().map(iso_time));
    rec.ended_at = newest
        .and_then(|(_, s)| s.overall.as_ref())
        .and_then(|o| o.end_time.as_deref().map(iso_time));
    rec.night = newest
        .and_then(|(f, _)| name_date(&f.name))
        .or_else(|| rec.image_date.clone());
    rec.fallback_image = fallback(rec.image_date.as_deref(), rec.night.as_deref());
    rec.verdict = if any_fail {
        Some("fail".into())
    } else if any_incomplete || last.is_empty() {
        None
    } else {
        Some("pass".into())
    };
    rec.artifacts = artifacts;
    Ok(rec)
}

fn status_word(s: &pd::TestStatus) -> String {
    match s {
        pd::TestStatus::Pass => "pass".into(),
        pd::TestStatus::Fail => "fail".into(),
        pd::TestStatus::Pending => "pending".into(),
        pd::TestStatus::Other(o) => o.to_ascii_lowercase(),
    }
}

fn pd_run(unit: &Unit, files: &[FileData], opts: &ExtractOptions) -> Result<RunRecord, Skipped> {
    let folder = unit
        .abs
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tag = folder.split("_rerun").next().unwrap_or(&folder).to_owned();
    tag_folder_check(unit, &tag)?;
    let mut summary = None;
    let mut glog = None;
    let mut artifacts = Vec::new();
    for f in files {
        if f.name == "test_summary.txt" {
            let s = pd::parse_summary(&f.bytes);
            artifacts.push(f.artifact(
                "summary",
                if s.completed { "complete" } else { "cut_short" },
            ));
            summary = Some((f, s));
        } else if f.name == "test_gsm8k.log" {
            let g = pd::parse_gsm8k_log(&f.bytes);
            artifacts.push(f.artifact(
                "gsm8k_log",
                if g.accuracy.is_some() {
                    "stored"
                } else {
                    "no_result"
                },
            ));
            glog = Some((f, g));
        } else {
            artifacts.push(f.artifact(
                if f.name.ends_with(".log") {
                    "server_log"
                } else {
                    "other"
                },
                "artifact",
            ));
        }
    }
    let host = opts
        .host
        .clone()
        .or_else(|| summary.as_ref().and_then(|(_, s)| s.hostname.clone()))
        .unwrap_or_else(|| "unknown".into());
    let mut rec = base_record(unit, host);
    let mut verdict = None;
    if let Some((f, s)) = &summary {
        for t in &s.tests {
            rec.tests.push(TestResult {
                suite: "pd".into(),
                name: format!("Test {} - {}", t.number, t.name),
                status: status_word(&t.status),
                detail: None,
                value: Some(t.secs as f64),
                source: f.prov(line_of(
                    &f.bytes,
                    &format!("Test {} - {}", t.number, t.name),
                    1,
                )),
            });
        }
        if let Some(g) = &s.gsm8k {
            let line = line_of(&f.bytes, "GSM8K Accuracy:", 1);
            let status = status_word(&g.verdict);
            let value = match &g.accuracy {
                pd::Gsm8kAccuracy::Value(v) => parse_f64(v),
                _ => None,
            };
            rec.tests.push(TestResult {
                suite: "pd".into(),
                name: "Test 6 - GSM8K Accuracy".into(),
                status: status.clone(),
                detail: None,
                value,
                source: f.prov(line),
            });
            if let (pd::Gsm8kAccuracy::Value(text), Some(v)) = (&g.accuracy, value) {
                rec.gsm8k.push(Gsm8k {
                    subject: s.model.clone().unwrap_or_else(|| "pd".into()),
                    accuracy: v,
                    text: text.clone(),
                    n: glog
                        .as_ref()
                        .and_then(|(_, l)| l.total_questions)
                        .map(|n| n as i64),
                    n_unit: Some("questions".into()),
                    required: None,
                    passed: match g.verdict {
                        pd::TestStatus::Pass => Some(true),
                        pd::TestStatus::Fail => Some(false),
                        _ => None,
                    },
                    source: f.prov(line),
                });
            }
            verdict = match status.as_str() {
                "pass" => Some("pass".to_owned()),
                "fail" => Some("fail".to_owned()),
                _ => None,
            };
        }
        if s.tests.iter().any(|t| t.status == pd::TestStatus::Fail) {
            verdict = Some("fail".into());
        }
        if let Some(secs) = s.total_time_secs {
            rec.metrics.push(Metric {
                metric: "total_time".into(),
                load_kind: String::new(),
                load: String::new(),
                sample: 0,
                value: secs as f64,
                text: secs.to_string(),
                unit: "s".into(),
                source: f.prov(line_of(&f.bytes, "Total ", 1)),
            });
        }
        rec.model = s.model.clone();
        rec.hardware = rec.hardware.clone().or_else(|| s.hardware.clone());
    }
    rec.image_date = tag_date(&tag);
    rec.hardware = rec.hardware.clone().or_else(|| tag_hardware(&tag));
    rec.image_tag = Some(tag);
    rec.mode = Some(
        if folder.contains("_rerun") {
            "pd_rerun"
        } else {
            "pd"
        }
        .into(),
    );
    rec.night = rec.image_date.clone();
    rec.verdict = verdict;
    rec.artifacts = artifacts;
    Ok(rec)
}

fn unit_run(unit: &Unit, files: &[FileData], opts: &ExtractOptions) -> Result<RunRecord, Skipped> {
    let Some(f) = files.first() else {
        return Err(Skipped {
            path: unit.rel.clone(),
            reason: "cannot read the unit-test log".into(),
        });
    };
    let stem = f.name.trim_end_matches(".log").to_owned();
    if !f.name.ends_with(".log") || tag_date(&stem).is_none() {
        return Err(Skipped {
            path: unit.rel.clone(),
            reason: "unknown file name: not <docker_tag>.log; not stored".into(),
        });
    }
    let log = unit_test::parse(&f.bytes);
    let host = opts
        .host
        .clone()
        .or_else(|| log.header.machine.clone())
        .unwrap_or_else(|| "unknown".into());
    let mut rec = base_record(unit, host);
    let tag = log
        .header
        .image
        .as_deref()
        .and_then(|i| i.rsplit(':').next())
        .map_or(stem.clone(), str::to_owned);
    rec.image_date = tag_date(&tag).or_else(|| tag_date(&stem));
    rec.hardware = rec
        .hardware
        .clone()
        .or_else(|| log.header.hardware.clone())
        .or_else(|| tag_hardware(&tag));
    rec.image_tag = Some(tag);
    rec.mode = Some("unit_test".into());
    rec.model = log.header.test.clone();
    rec.started_at = log.header.start_time.as_deref().map(iso_time);
    rec.ended_at = log
        .footer
        .as_ref()
        .and_then(|x| x.end_time.as_deref().map(iso_time));
    rec.exit_status = log.footer.as_ref().and_then(|x| x.exit_code).map(i64::from);
    rec.night = rec
        .started_at
        .as_deref()
        .and_then(date_of_time)
        .or_else(|| rec.image_date.clone());
    rec.fallback_image = fallback(rec.image_date.as_deref(), rec.night.as_deref());
    let result = log.footer.as_ref().and_then(|x| x.result.clone());
    let status = match &result {
        Some(unit_test::UnitResult::Passed) => "pass",
        Some(unit_test::UnitResult::Failed) => "fail",
        Some(unit_test::UnitResult::Other(_)) => "unknown",
        None => "incomplete",
    };
    rec.verdict = matches!(status, "pass" | "fail").then(|| status.to_owned());
    let detail = log.summary.as_ref().map(|s| match &s.outcome {
        Some(unit_test::UnittestOutcome::Ok { details }) => {
            format!(
                "Ran {} tests in {}: OK{}",
                s.tests_run,
                s.duration,
                details
                    .as_deref()
                    .map(|d| format!(" ({d})"))
                    .unwrap_or_default()
            )
        }
        Some(unit_test::UnittestOutcome::Failed { details, .. }) => {
            format!(
                "Ran {} tests in {}: FAILED ({details})",
                s.tests_run, s.duration
            )
        }
        None => format!("Ran {} tests in {}", s.tests_run, s.duration),
    });
    rec.tests.push(TestResult {
        suite: "unit".into(),
        name: log
            .header
            .test
            .clone()
            .unwrap_or_else(|| "unit-test".into()),
        status: status.into(),
        detail: detail.or_else(|| log.killed().then(|| "killed (exit code 137)".to_owned())),
        value: log.summary.as_ref().map(|s| s.tests_run as f64),
        source: f.prov(last_line_with(&f.bytes, &["Result:"])),
    });
    rec.artifacts.push(f.artifact("log", status));
    Ok(rec)
}

const FALLBACK_MARKERS: [&str; 3] = [
    "Proceeding with yesterday's image fallback",
    "Successfully obtained fallback image",
    "Successfully pulled fallback image",
];

fn night(unit: &Unit, files: &[FileData], opts: &ExtractOptions) -> RunRecord {
    let mut rec = base_record(unit, opts.host.clone().unwrap_or_else(|| "unknown".into()));
    let folder = unit
        .abs
        .file_name()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    rec.night = ymd(&folder);
    rec.mode = Some("cron".into());
    let mut any_fail = false;
    for f in files {
        let job = f.name.trim_end_matches(".log").to_owned();
        let c = cron_log::daily_status(&f.bytes);
        let status = match c.status {
            cron_log::DailyStatus::Pass => "pass",
            cron_log::DailyStatus::Fail => "fail",
            cron_log::DailyStatus::Unknown => "unknown",
        };
        let fallback_line = FALLBACK_MARKERS
            .iter()
            .map(|m| line_of(&f.bytes, m, 1))
            .filter(|l| *l > 0)
            .min();
        if fallback_line.is_some() {
            rec.fallback_image = true;
        }
        any_fail |= status == "fail";
        let detail = match (c.error, fallback_line) {
            (Some(e), Some(_)) => Some(format!(
                "{}; ran on a fallback image",
                report::redact::redact(&e)
            )),
            (Some(e), None) => Some(report::redact::redact(&e).into_owned()),
            (None, Some(_)) => Some("ran on a fallback image".into()),
            (None, None) => None,
        };
        rec.tests.push(TestResult {
            suite: "cron".into(),
            name: job.clone(),
            status: status.into(),
            detail,
            value: c.runtime_minutes.map(|m| m as f64),
            source: f.prov(fallback_line.unwrap_or(0)),
        });
        if job == "docker_image_check" {
            rec.tests.extend(image_check(f));
        }
        rec.artifacts.push(f.artifact("log", status));
    }
    rec.verdict = if files.is_empty() {
        None
    } else {
        Some(if any_fail { "fail" } else { "pass" }.into())
    };
    rec
}

/// The image-check log: `Searching for <hw> image ... ✓ AVAILABLE` / `✗ NOT AVAILABLE`, and
/// the `Image:` line that follows an available one.
fn image_check(f: &FileData) -> Vec<TestResult> {
    let text = String::from_utf8_lossy(&f.bytes);
    let mut out: Vec<TestResult> = Vec::new();
    let lines: Vec<&str> = text.split('\n').collect();
    for (i, line) in lines.iter().enumerate() {
        let Some(at) = line.find("Searching for ") else {
            continue;
        };
        let rest = &line[at + "Searching for ".len()..];
        let Some(hw) = rest.split_whitespace().next() else {
            continue;
        };
        let upper = line.to_ascii_uppercase();
        let status = if upper.contains("NOT AVAILABLE")
            || upper.contains("NOT FOUND")
            || upper.contains("MISSING")
            || line.contains('✗')
        {
            "missing"
        } else if upper.contains("AVAILABLE") {
            "available"
        } else {
            "unknown"
        };
        let image = lines
            .get(i + 1)
            .and_then(|l| l.split_once("Image:"))
            .map(|(_, img)| img.trim().to_owned());
        out.retain(|t| t.name != hw);
        out.push(TestResult {
            suite: "image_check".into(),
            name: hw.to_owned(),
            status: status.into(),
            detail: image,
            value: None,
            source: f.prov(i as i64 + 1),
        });
    }
    out
}

fn plots(unit: &Unit, files: &[FileData], opts: &ExtractOptions) -> RunRecord {
    let mut rec = base_record(unit, opts.host.clone().unwrap_or_else(|| "unknown".into()));
    rec.model = unit.model_dir.clone();
    rec.mode = Some("plots".into());
    for f in files {
        rec.artifacts.push(f.artifact(
            if f.name.ends_with(".png") {
                "plot"
            } else {
                "other"
            },
            "artifact",
        ));
    }
    rec.night = files.iter().filter_map(|f| name_date(&f.name)).max();
    rec
}

/// A path relative to `root`, `/`-separated.
pub fn rel_path(root: &Path, p: &Path) -> String {
    p.strip_prefix(root)
        .unwrap_or(p)
        .components()
        .map(|c| c.as_os_str().to_string_lossy())
        .collect::<Vec<_>>()
        .join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_and_tags() {
        assert_eq!(
            tag_date("v0.5.3.post1-rocm630-mi30x-20251013").as_deref(),
            Some("2025-10-13")
        );
        assert_eq!(
            tag_date("v0.5.3-rocm700-mi35x-20251006-RC").as_deref(),
            Some("2025-10-06")
        );
        assert_eq!(tag_date("test_dp8_torch_compile_no_cudagraph"), None);
        assert_eq!(
            tag_hardware("v0.5.3-rocm700-mi35x-20251006").as_deref(),
            Some("mi35x")
        );
        assert_eq!(
            iso_time("2025-10-18 06:00:38 PDT"),
            "2025-10-18T06:00:38-07:00"
        );
        assert_eq!(
            iso_time("2025-12-01 06:00:38 PST"),
            "2025-12-01T06:00:38-08:00"
        );
        assert_eq!(iso_time("yesterday"), "yesterday");
        assert!(fallback(Some("2025-10-17"), Some("2025-10-18")));
        assert!(!fallback(Some("2025-10-18"), Some("2025-10-18")));
    }

    #[test]
    fn lines_are_one_based() {
        let b = b"a\nb Median TTFT (ms): 3\nc\n";
        assert_eq!(line_of(b, "Median TTFT", 1), 2);
        assert_eq!(line_of(b, "Median TTFT", 3), 0);
        assert_eq!(last_line_with(b, &["c"]), 3);
    }
}
