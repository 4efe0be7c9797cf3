//! Ingest: walk a tree, turn each run into a [`RunRecord`], and store it — one transaction per
//! run that replaces all of that run's rows, skipped entirely when the run's files are
//! byte-for-byte what was stored (the content hash), so ingesting twice changes nothing.

use std::path::{Path, PathBuf};

use chrono::NaiveDate;
use serde::Serialize;

use crate::db::{Store, Tx, Value};
use crate::error::{IngestError, StoreError};
use crate::extract::{self, ExtractOptions, Note, Skipped};
use crate::model::RunKind;
use crate::model::RunRecord;
use crate::schema::CHILD_TABLES;

/// What to ingest.
#[derive(Debug, Clone, Default)]
pub struct IngestOptions {
    /// The tree (`$SGL_BENCHMARK_CI_DIR` or a log-branch checkout).
    pub root: PathBuf,
    /// The node the tree belongs to (overrides host names in the files).
    pub host: Option<String>,
    /// Only runs whose night or image date falls in this inclusive range.
    pub dates: Option<(NaiveDate, NaiveDate)>,
    /// Only runs at or below these paths (absolute, or relative to `root`); empty: all.
    pub only: Vec<PathBuf>,
    /// Report what would change; write nothing.
    pub dry_run: bool,
}

/// How many child rows were written.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RowCounts {
    /// `metrics` rows.
    pub metrics: u64,
    /// `gsm8k` rows.
    pub gsm8k: u64,
    /// `test_results` rows.
    pub test_results: u64,
    /// `artifacts` rows.
    pub artifacts: u64,
}

/// What an ingest changed (or, with `dry_run`, would change).
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestSummary {
    /// The store, password masked.
    pub database: String,
    /// The tree.
    pub root: String,
    /// Nothing was written.
    pub dry_run: bool,
    /// Runs found in the tree (after the date filter).
    pub runs_found: usize,
    /// Runs outside `--date`/`--backfill`.
    pub runs_filtered_out: usize,
    /// Keys of runs stored for the first time.
    pub added: Vec<String>,
    /// Keys of runs whose files changed, rows replaced.
    pub replaced: Vec<String>,
    /// Runs already stored with the same content.
    pub unchanged: usize,
    /// Rows written.
    pub rows: RowCounts,
    /// Files and folders not stored, with the reason.
    pub skipped: Vec<Skipped>,
    /// Stored runs worth a word (an online run folder without a CSV).
    pub notes: Vec<Note>,
}

impl IngestSummary {
    /// True when something was skipped (the binaries exit with a distinct code).
    pub fn partial(&self) -> bool {
        !self.skipped.is_empty()
    }
}

fn in_range(rec: &RunRecord, (from, to): (NaiveDate, NaiveDate)) -> bool {
    let ok = |d: &Option<String>| {
        d.as_deref()
            .and_then(|s| NaiveDate::parse_from_str(s, "%Y-%m-%d").ok())
            .is_some_and(|d| d >= from && d <= to)
    };
    ok(&rec.night) || ok(&rec.image_date)
}

fn wanted(root: &Path, only: &[PathBuf], unit_abs: &Path) -> bool {
    only.is_empty()
        || only.iter().any(|p| {
            let p = if p.is_absolute() {
                p.clone()
            } else {
                root.join(p)
            };
            unit_abs.starts_with(&p) || p.starts_with(unit_abs)
        })
}

/// Ingests `opts.root` into `store` (`None` only with `dry_run`, when the store does not
/// exist yet: everything would be added).
pub fn ingest(
    mut store: Option<&mut Store>,
    opts: &IngestOptions,
) -> Result<IngestSummary, IngestError> {
    let scan = crate::scan::scan(&opts.root)?;
    let mut summary = IngestSummary {
        database: store
            .as_ref()
            .map(|s| s.location().to_string())
            .unwrap_or_default(),
        root: opts.root.display().to_string(),
        dry_run: opts.dry_run,
        skipped: scan.skipped,
        ..IngestSummary::default()
    };
    summary
        .skipped
        .retain(|s| wanted(&opts.root, &opts.only, &opts.root.join(&s.path)));
    let xopts = ExtractOptions {
        host: opts.host.clone(),
    };
    for unit in scan
        .units
        .iter()
        .filter(|u| wanted(&opts.root, &opts.only, &u.abs))
    {
        let (rec, skipped) = match extract::extract(unit, &xopts) {
            Ok(x) => x,
            Err(s) => {
                summary.skipped.push(s);
                continue;
            }
        };
        if let Some(range) = opts.dates
            && !in_range(&rec, range)
        {
            summary.runs_filtered_out += 1;
            continue;
        }
        summary.runs_found += 1;
        summary.skipped.extend(skipped);
        if matches!(rec.kind, RunKind::Online | RunKind::Offline)
            && !rec.artifacts.iter().any(|a| a.kind == "csv")
        {
            summary.notes.push(Note {
                path: rec.path.clone(),
                note: format!(
                    "no CSV (a GSM8K-only mode, or the run failed): stored without reported numbers, verdict {}",
                    rec.verdict.as_deref().unwrap_or("none")
                ),
            });
        }
        let stored = match store.as_deref_mut() {
            Some(s) => stored_hash(s, &rec.run_key)?,
            None => None,
        };
        match stored {
            Some(h) if h == rec.content_sha256 => {
                summary.unchanged += 1;
                continue;
            }
            Some(_) => summary.replaced.push(rec.run_key.clone()),
            None => summary.added.push(rec.run_key.clone()),
        }
        if !opts.dry_run {
            let Some(s) = store.as_deref_mut() else {
                continue;
            };
            let counts = write_run(s, &rec)?;
            summary.rows.metrics += counts.metrics;
            summary.rows.gsm8k += counts.gsm8k;
            summary.rows.test_results += counts.test_results;
            summary.rows.artifacts += counts.artifacts;
        } else {
            summary.rows.metrics += rec.metrics.len() as u64;
            summary.rows.gsm8k += rec.gsm8k.len() as u64;
            summary.rows.test_results += rec.tests.len() as u64;
            summary.rows.artifacts += rec.artifacts.len() as u64;
        }
    }
    Ok(summary)
}

/// For the nightly binaries: ingests the runs at or below `paths` (what a night just wrote)
/// of the tree `root` into the store at `location`. The caller turns an error into a warning.
pub fn ingest_paths(
    location: &crate::Location,
    root: &Path,
    paths: &[PathBuf],
    host: Option<&str>,
) -> Result<IngestSummary, IngestError> {
    let mut store = Store::open(location)?;
    ingest(
        Some(&mut store),
        &IngestOptions {
            root: root.to_owned(),
            host: host.map(str::to_owned),
            only: paths.to_vec(),
            ..IngestOptions::default()
        },
    )
}

fn stored_hash(store: &mut Store, key: &str) -> Result<Option<String>, StoreError> {
    let rows = store.query(
        "SELECT content_sha256 FROM runs WHERE run_key = $1",
        &[key.into()],
    )?;
    Ok(rows
        .rows
        .first()
        .and_then(|r| r.first())
        .and_then(Value::as_text))
}

const RUN_COLUMNS: [&str; 19] = [
    "run_key",
    "kind",
    "host",
    "hardware",
    "model",
    "variant",
    "mode",
    "image_tag",
    "image_date",
    "night",
    "fallback_image",
    "engine",
    "started_at",
    "ended_at",
    "exit_status",
    "verdict",
    "path",
    "content_sha256",
    "ingested_at",
];

fn run_values(r: &RunRecord) -> Vec<Value> {
    vec![
        r.run_key.clone().into(),
        r.kind.as_str().into(),
        r.host.clone().into(),
        r.hardware.clone().into(),
        r.model.clone().into(),
        r.variant.clone().into(),
        r.mode.clone().into(),
        r.image_tag.clone().into(),
        r.image_date.clone().into(),
        r.night.clone().into(),
        i64::from(r.fallback_image).into(),
        r.engine.clone().into(),
        r.started_at.clone().into(),
        r.ended_at.clone().into(),
        r.exit_status.into(),
        r.verdict.clone().into(),
        r.path.clone().into(),
        r.content_sha256.clone().into(),
        crate::now_utc().into(),
    ]
}

/// Replaces one run's rows in one transaction. The run row is upserted first: on PostgreSQL
/// that row lock makes a second ingester of the same run wait, then replace, so two
/// concurrent ingests of one run never leave duplicates.
pub(crate) fn write_run(store: &mut Store, r: &RunRecord) -> Result<RowCounts, StoreError> {
    let upsert = format!(
        "INSERT INTO runs ({}) VALUES ({}) ON CONFLICT (run_key) DO UPDATE SET {}",
        RUN_COLUMNS.join(", "),
        (1..=RUN_COLUMNS.len())
            .map(|i| format!("${i}"))
            .collect::<Vec<_>>()
            .join(", "),
        RUN_COLUMNS[1..]
            .iter()
            .map(|c| format!("{c} = excluded.{c}"))
            .collect::<Vec<_>>()
            .join(", ")
    );
    let key: Value = r.run_key.clone().into();
    store.transaction(|tx| {
        tx.exec(&upsert, &run_values(r))?;
        for t in CHILD_TABLES {
            tx.exec(
                &format!("DELETE FROM {t} WHERE run_key = $1"),
                std::slice::from_ref(&key),
            )?;
        }
        insert_children(tx, r)
    })
}

fn insert_children(tx: &mut Tx<'_>, r: &RunRecord) -> Result<RowCounts, StoreError> {
    let key = || Value::Text(r.run_key.clone());
    let metrics: Vec<Vec<Value>> = r
        .metrics
        .iter()
        .map(|m| {
            vec![
                key(),
                m.metric.clone().into(),
                m.load_kind.clone().into(),
                m.load.clone().into(),
                m.sample.into(),
                m.value.into(),
                m.text.clone().into(),
                m.unit.clone().into(),
                m.source.path.clone().into(),
                m.source.line.into(),
                m.source.sha256.clone().into(),
            ]
        })
        .collect();
    tx.insert(
        "metrics",
        &[
            "run_key",
            "metric",
            "load_kind",
            "load",
            "sample",
            "value",
            "text",
            "unit",
            "source_path",
            "source_line",
            "source_sha256",
        ],
        &metrics,
    )?;
    let gsm: Vec<Vec<Value>> = r
        .gsm8k
        .iter()
        .map(|g| {
            vec![
                key(),
                g.subject.clone().into(),
                g.accuracy.into(),
                g.text.clone().into(),
                g.n.into(),
                g.n_unit.clone().into(),
                g.required.into(),
                g.passed.map(i64::from).into(),
                g.source.path.clone().into(),
                g.source.line.into(),
                g.source.sha256.clone().into(),
            ]
        })
        .collect();
    tx.insert(
        "gsm8k",
        &[
            "run_key",
            "subject",
            "accuracy",
            "text",
            "n",
            "n_unit",
            "required",
            "passed",
            "source_path",
            "source_line",
            "source_sha256",
        ],
        &gsm,
    )?;
    let tests: Vec<Vec<Value>> = r
        .tests
        .iter()
        .map(|t| {
            vec![
                key(),
                t.suite.clone().into(),
                t.name.clone().into(),
                t.status.clone().into(),
                t.detail.clone().into(),
                t.value.into(),
                t.source.path.clone().into(),
                t.source.line.into(),
                t.source.sha256.clone().into(),
            ]
        })
        .collect();
    tx.insert(
        "test_results",
        &[
            "run_key",
            "suite",
            "name",
            "status",
            "detail",
            "value",
            "source_path",
            "source_line",
            "source_sha256",
        ],
        &tests,
    )?;
    let arts: Vec<Vec<Value>> = r
        .artifacts
        .iter()
        .map(|a| {
            vec![
                key(),
                a.path.clone().into(),
                a.kind.clone().into(),
                a.bytes.into(),
                a.sha256.clone().into(),
                a.parsed.clone().into(),
            ]
        })
        .collect();
    tx.insert(
        "artifacts",
        &["run_key", "path", "kind", "bytes", "sha256", "parsed"],
        &arts,
    )?;
    Ok(RowCounts {
        metrics: metrics.len() as u64,
        gsm8k: gsm.len() as u64,
        test_results: tests.len() as u64,
        artifacts: arts.len() as u64,
    })
}

/// The inclusive date range of `--date D` (default today, Pacific) and `--backfill N` (the N
/// nights ending at D; default 1).
pub fn date_range(
    date: Option<&str>,
    backfill: Option<u32>,
) -> Result<Option<(NaiveDate, NaiveDate)>, IngestError> {
    if date.is_none() && backfill.is_none() {
        return Ok(None);
    }
    let end = match date {
        Some(d) => NaiveDate::parse_from_str(d, "%Y%m%d")
            .ok()
            .filter(|_| d.len() == 8)
            .ok_or_else(|| IngestError::BadDate(d.to_owned()))?,
        None => chrono::Utc::now()
            .with_timezone(&chrono_tz::America::Los_Angeles)
            .date_naive(),
    };
    let days = i64::from(backfill.unwrap_or(1).max(1));
    Ok(Some((end - chrono::Duration::days(days - 1), end)))
}

impl IngestSummary {
    /// The `--format text` report: one line per added or replaced run, then the totals.
    /// Skipped files are not in it (the binary prints them on stderr).
    pub fn render_text(&self) -> String {
        let mut out = String::new();
        for k in &self.added {
            out.push_str(&format!("added     {k}\n"));
        }
        for k in &self.replaced {
            out.push_str(&format!("replaced  {k}\n"));
        }
        let verb = if self.dry_run { "would write" } else { "wrote" };
        out.push_str(&format!(
            "{} -> {}{}\nruns: {} found, {} added, {} replaced, {} unchanged, {} outside the dates; {} skipped files or folders\n\
             rows {verb}: {} metrics, {} gsm8k, {} test results, {} artifacts\n",
            self.root,
            self.database,
            if self.dry_run { " (dry run: nothing written)" } else { "" },
            self.runs_found,
            self.added.len(),
            self.replaced.len(),
            self.unchanged,
            self.runs_filtered_out,
            self.skipped.len(),
            self.rows.metrics,
            self.rows.gsm8k,
            self.rows.test_results,
            self.rows.artifacts,
        ));
        out
    }
}
