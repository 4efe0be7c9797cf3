//! The numbers behind every page, read from the store and typed. The `/api/…` JSON is these
//! structs serialised, so a page and its JSON never disagree.
//!
//! Regression verdicts come from `report::regression` over the series that the benchmark
//! card reads too (`alerts::benchmark::store_series_in`): a metric is coloured by its verdict
//! (regression, suspicious, improved, no change, insufficient history) under the configured
//! rule, never by a fixed percentage.

use std::collections::{BTreeMap, HashMap};

use history_store::{Rows, Store, Value};
use report::regression::{self, Date, Metric, Rule, Series, VerdictKind};
use serde::Serialize;

use crate::error::PageError;

fn text(v: &Value) -> Option<String> {
    v.as_text()
}

fn query(store: &mut Store, sql: &str, params: &[Value]) -> Result<Rows, PageError> {
    store.query(sql, params).map_err(PageError::Store)
}

/// The columns of [`RunInfo`], in order, for `runs r`.
const RUN_COLS: &str = "r.run_key, r.kind, r.host, r.hardware, r.model, r.variant, r.mode, \
    r.image_tag, r.image_date, r.night, r.fallback_image, r.engine, r.started_at, r.ended_at, \
    r.exit_status, r.verdict, r.path";

/// One run as the pages show it.
#[derive(Debug, Clone, Serialize)]
pub struct RunInfo {
    /// The run's key (`<host>:<path>`), its id in `/run/<id>`.
    pub id: String,
    /// `online`, `offline`, `sanity`, `pd`, `unit_test`, `night`, `plots`.
    pub kind: String,
    /// The node.
    pub host: String,
    /// `mi30x`, `mi35x`, … (`unknown` when nothing said).
    pub hardware: String,
    /// Model (or unit test name).
    pub model: Option<String>,
    /// Variant without the mode suffix (`MOE-I4F8`, `FP8`, `MOE-I4F8-SIM`).
    pub variant: Option<String>,
    /// Mode (`online`, `online_dp_attention`, `offline`, …).
    pub mode: Option<String>,
    /// Docker tag.
    pub image_tag: Option<String>,
    /// Image date (`YYYY-MM-DD`).
    pub image_date: Option<String>,
    /// The night the run belongs to (`YYYY-MM-DD`).
    pub night: Option<String>,
    /// Ran on an image older than its night (the fallback image).
    pub fallback_image: bool,
    /// Measured on the simulated engine.
    pub simulated: bool,
    /// When it started (ISO 8601).
    pub started_at: Option<String>,
    /// When it ended.
    pub ended_at: Option<String>,
    /// Exit status (unit tests).
    pub exit_status: Option<i64>,
    /// `pass`, `fail` or none (cut short, never judged).
    pub verdict: Option<String>,
    /// The run folder or file, relative to the ingested tree.
    pub path: String,
    /// GSM8K accuracy of the model itself, when measured.
    pub gsm8k: Option<Gsm8k>,
}

impl RunInfo {
    fn from_row(r: &[Value]) -> Self {
        Self {
            id: text(&r[0]).unwrap_or_default(),
            kind: text(&r[1]).unwrap_or_default(),
            host: text(&r[2]).unwrap_or_default(),
            hardware: text(&r[3]).unwrap_or_else(|| "unknown".to_owned()),
            model: text(&r[4]),
            variant: text(&r[5]),
            mode: text(&r[6]),
            image_tag: text(&r[7]),
            image_date: text(&r[8]),
            night: text(&r[9]),
            fallback_image: r[10].as_i64() == Some(1),
            simulated: text(&r[11]).as_deref() == Some("simulated"),
            started_at: text(&r[12]),
            ended_at: text(&r[13]),
            exit_status: r[14].as_i64(),
            verdict: text(&r[15]),
            path: text(&r[16]).unwrap_or_default(),
            gsm8k: None,
        }
    }

    /// `variant` plus the mode's suffix (`FP8_dp_attention`): the regression series' variant.
    pub fn series_variant(&self) -> String {
        let suffix = self
            .mode
            .as_deref()
            .and_then(|m| m.strip_prefix("online"))
            .unwrap_or_default();
        format!("{}{suffix}", self.variant.as_deref().unwrap_or_default())
    }

    /// The hardware the regression series are keyed by: the image tag's, else the stored one.
    fn series_hardware(&self) -> String {
        self.image_tag
            .as_deref()
            .and_then(history_store::extract::tag_hardware)
            .unwrap_or_else(|| self.hardware.to_ascii_lowercase())
    }

    /// The night a verdict is judged at: the image date, else the night.
    fn judge_date(&self) -> Option<Date> {
        self.image_date
            .as_deref()
            .or(self.night.as_deref())
            .and_then(|d| Date::parse(&d.replace('-', "")))
    }
}

/// A GSM8K accuracy with its sample size.
#[derive(Debug, Clone, Serialize)]
pub struct Gsm8k {
    /// What was measured (the model).
    pub subject: String,
    /// Accuracy, 0..1.
    pub accuracy: f64,
    /// As printed in the log.
    pub text: String,
    /// Sample size.
    pub n: Option<i64>,
    /// What `n` counts (`runs`, `trials`, `questions`).
    pub n_unit: Option<String>,
    /// The required accuracy, when the run had a gate.
    pub required: Option<f64>,
    /// Whether the gate passed.
    pub passed: Option<bool>,
    /// The file it was read from.
    pub source_path: String,
    /// Its line.
    pub source_line: i64,
}

const GSM8K_COLS: &str = "g.run_key, g.subject, g.accuracy, g.text, g.n, g.n_unit, g.required, \
    g.passed, g.source_path, g.source_line";

fn gsm8k_from(r: &[Value]) -> Option<Gsm8k> {
    Some(Gsm8k {
        subject: text(&r[1])?,
        accuracy: r[2].as_f64()?,
        text: text(&r[3]).unwrap_or_default(),
        n: r[4].as_i64(),
        n_unit: text(&r[5]),
        required: r[6].as_f64(),
        passed: r[7].as_i64().map(|p| p == 1),
        source_path: text(&r[8]).unwrap_or_default(),
        source_line: r[9].as_i64().unwrap_or_default(),
    })
}

/// Runs matching `where_sql` (over `runs r`) with their model's GSM8K accuracy attached.
fn runs_where(
    store: &mut Store,
    where_sql: &str,
    params: &[Value],
) -> Result<Vec<RunInfo>, PageError> {
    let rows = query(
        store,
        &format!(
            "SELECT {RUN_COLS} FROM runs r WHERE {where_sql} \
             ORDER BY r.kind, r.model, r.variant, r.mode, r.host, r.path"
        ),
        params,
    )?;
    let mut runs: Vec<RunInfo> = rows.rows.iter().map(|r| RunInfo::from_row(r)).collect();
    let g = query(
        store,
        &format!(
            "SELECT {GSM8K_COLS} FROM gsm8k g JOIN runs r ON r.run_key = g.run_key \
             WHERE {where_sql} ORDER BY g.run_key, g.source_path"
        ),
        params,
    )?;
    let mut by_run: HashMap<String, Vec<Gsm8k>> = HashMap::new();
    for r in &g.rows {
        if let (Some(k), Some(v)) = (text(&r[0]), gsm8k_from(r)) {
            by_run.entry(k).or_default().push(v);
        }
    }
    for run in &mut runs {
        if let Some(list) = by_run.remove(&run.id) {
            let model = run.model.clone().unwrap_or_default();
            run.gsm8k = list
                .iter()
                .find(|g| g.subject == model)
                .or_else(|| (run.kind == "online").then(|| list.first()).flatten())
                .cloned();
        }
    }
    Ok(runs)
}

/// Severity order of verdicts for the colour of a summary cell.
fn severity(k: VerdictKind) -> u8 {
    match k {
        VerdictKind::Regression => 4,
        VerdictKind::Suspicious => 3,
        VerdictKind::Improved => 2,
        VerdictKind::NoChange => 1,
        VerdictKind::InsufficientHistory => 0,
    }
}

/// The CSS class of a verdict (`regression`, `suspicious`, `improved`, `nochange`,
/// `insufficient`).
pub fn verdict_class(kind: &str) -> &'static str {
    match VerdictKind::parse(kind) {
        Some(VerdictKind::Regression) => "regression",
        Some(VerdictKind::Suspicious) => "suspicious",
        Some(VerdictKind::Improved) => "improved",
        Some(VerdictKind::NoChange) => "nochange",
        _ => "insufficient",
    }
}

/// One load point's verdict.
#[derive(Debug, Clone, Serialize)]
pub struct LoadVerdict {
    /// `rate 16`, `concurrency 64`.
    pub load: String,
    /// The load point alone (`16`).
    pub load_value: String,
    /// The night's value.
    pub value: Option<f64>,
    /// The baseline it was judged against.
    pub baseline: Option<f64>,
    /// Change against the baseline, percent.
    pub change_pct: Option<f64>,
    /// The band, percent.
    pub band_pct: Option<f64>,
    /// `regression`, `suspicious`, `improved`, `no change`, `insufficient history`.
    pub verdict: String,
    /// One sentence of evidence (nights, values, band).
    pub evidence: String,
}

/// A key metric (E2E, TTFT, ITL median) of a run against its baselines.
#[derive(Debug, Clone, Serialize)]
pub struct KeyMetric {
    /// `e2e_ms`, `ttft_ms`, `itl_ms`.
    pub metric: &'static str,
    /// `Median TTFT (ms)`.
    pub label: &'static str,
    /// The most severe verdict of its load points.
    pub verdict: String,
    /// The load point with that verdict (the largest change among equals).
    pub worst: Option<LoadVerdict>,
    /// Every load point.
    pub loads: Vec<LoadVerdict>,
}

/// The regression series of the store, indexed for the pages.
#[derive(Debug, Default)]
pub struct SeriesIndex {
    series: Vec<Series>,
    by_variant: HashMap<(String, String, String), Vec<usize>>,
    run_of_folder: HashMap<String, String>,
}

/// The three latency metrics the series hold.
pub const KEY_METRICS: [Metric; 3] = [Metric::E2eMs, Metric::TtftMs, Metric::ItlMs];

fn load_parts(l: &regression::Load) -> (String, String, f64) {
    match l {
        regression::Load::Rate(r) => ("request_rate".into(), r.clone(), r.parse().unwrap_or(0.0)),
        regression::Load::Concurrency(c) => {
            ("concurrency".into(), c.clone(), c.parse().unwrap_or(0.0))
        }
        regression::Load::None => (String::new(), String::new(), 0.0),
    }
}

fn iso(d: Date) -> String {
    let s = d.to_string();
    format!("{}-{}-{}", &s[..4], &s[4..6], &s[6..])
}

impl SeriesIndex {
    /// Reads every series (and the run folders, to link a night to its run).
    pub fn load(store: &mut Store) -> Result<Self, PageError> {
        let series = alerts::benchmark::store_series_in(store).map_err(PageError::Store)?;
        let mut by_variant: HashMap<(String, String, String), Vec<usize>> = HashMap::new();
        for (i, s) in series.iter().enumerate() {
            by_variant
                .entry((
                    s.key.hardware.clone(),
                    s.key.model.clone(),
                    s.key.variant.clone(),
                ))
                .or_default()
                .push(i);
        }
        let runs = query(
            store,
            "SELECT r.path, r.run_key FROM runs r WHERE r.kind = 'online'",
            &[],
        )?;
        let run_of_folder = runs
            .rows
            .iter()
            .filter_map(|r| Some((text(&r[0])?, text(&r[1])?)))
            .collect();
        Ok(Self {
            series,
            by_variant,
            run_of_folder,
        })
    }

    fn of(&self, hardware: &str, model: &str, variant: &str) -> impl Iterator<Item = &Series> {
        self.by_variant
            .get(&(hardware.to_owned(), model.to_owned(), variant.to_owned()))
            .into_iter()
            .flatten()
            .map(|&i| &self.series[i])
    }

    /// The key metrics of `run` judged at its night under `rule` (empty for runs without
    /// latency series: offline, validation, GSM8K-only modes).
    pub fn key_metrics(&self, run: &RunInfo, rule: &Rule) -> Vec<KeyMetric> {
        let (Some(model), Some(date)) = (run.model.as_deref(), run.judge_date()) else {
            return Vec::new();
        };
        if run.kind != "online" {
            return Vec::new();
        }
        let (hw, variant) = (run.series_hardware(), run.series_variant());
        let mut out = Vec::new();
        for metric in KEY_METRICS {
            let mut loads: Vec<(f64, LoadVerdict, VerdictKind)> = self
                .of(&hw, model, &variant)
                .filter(|s| s.key.metric == metric)
                .filter_map(|s| {
                    let v = regression::analyze_at(s, rule, date)?;
                    let (_, load_value, order) = load_parts(&s.key.load);
                    Some((
                        order,
                        LoadVerdict {
                            load: s.key.load.to_string(),
                            load_value,
                            value: v.value().or_else(|| {
                                s.nights.iter().rfind(|n| n.date == date).map(|n| n.value)
                            }),
                            baseline: v.baseline,
                            change_pct: v.change_pct(),
                            band_pct: v.band_pct,
                            verdict: v.kind.name().to_owned(),
                            evidence: v.evidence.clone(),
                        },
                        v.kind,
                    ))
                })
                .collect();
            if loads.is_empty() {
                continue;
            }
            loads.sort_by(|a, b| a.0.total_cmp(&b.0));
            let worst = loads
                .iter()
                .max_by(|a, b| {
                    severity(a.2).cmp(&severity(b.2)).then_with(|| {
                        let ca = a.1.change_pct.unwrap_or(0.0).abs();
                        let cb = b.1.change_pct.unwrap_or(0.0).abs();
                        ca.total_cmp(&cb)
                    })
                })
                .map(|w| (w.2, w.1.clone()));
            out.push(KeyMetric {
                metric: metric.name(),
                label: metric.label(),
                verdict: worst
                    .as_ref()
                    .map_or(VerdictKind::InsufficientHistory, |w| w.0)
                    .name()
                    .to_owned(),
                worst: worst.map(|w| w.1),
                loads: loads.into_iter().map(|l| l.1).collect(),
            });
        }
        out
    }
}

/// A run with its key metrics (a row of the overview and the hardware page).
#[derive(Debug, Clone, Serialize)]
pub struct RunCard {
    /// The run.
    pub run: RunInfo,
    /// Its latency medians against their baselines.
    pub key_metrics: Vec<KeyMetric>,
}

/// One hardware's block of the overview.
#[derive(Debug, Clone, Serialize)]
pub struct HardwareBlock {
    /// `mi30x`.
    pub hardware: String,
    /// The newest night of any of its benchmarks.
    pub latest_night: Option<String>,
    /// The latest night of each model, variant and mode.
    pub runs: Vec<RunCard>,
}

/// The overview (`/`, `/api/overview`).
#[derive(Debug, Clone, Serialize)]
pub struct Overview {
    /// `sqlite` or `postgresql`.
    pub backend: &'static str,
    /// The regression rule (`robust`, `legacy`).
    pub rule: &'static str,
    /// Runs in the store.
    pub runs_stored: i64,
    /// One block per hardware.
    pub hardware: Vec<HardwareBlock>,
}

/// Every hardware with runs.
pub fn hardware_list(store: &mut Store) -> Result<Vec<String>, PageError> {
    let rows = query(
        store,
        "SELECT DISTINCT coalesce(r.hardware, 'unknown') AS hw FROM runs r ORDER BY hw",
        &[],
    )?;
    Ok(rows.rows.iter().filter_map(|r| text(&r[0])).collect())
}

/// Builds the overview.
pub fn overview(
    store: &mut Store,
    series: &SeriesIndex,
    rule: &Rule,
) -> Result<Overview, PageError> {
    let runs_stored = query(store, "SELECT count(*) FROM runs", &[])?
        .rows
        .first()
        .and_then(|r| r[0].as_i64())
        .unwrap_or(0);
    let latest = runs_where(
        store,
        "r.kind IN ('online', 'offline') AND r.night = (SELECT max(r2.night) FROM runs r2 \
         WHERE r2.kind = r.kind AND coalesce(r2.hardware, '') = coalesce(r.hardware, '') \
         AND coalesce(r2.model, '') = coalesce(r.model, '') \
         AND coalesce(r2.variant, '') = coalesce(r.variant, '') \
         AND coalesce(r2.mode, '') = coalesce(r.mode, ''))",
        &[],
    )?;
    let mut blocks: BTreeMap<String, Vec<RunCard>> = BTreeMap::new();
    for hw in hardware_list(store)? {
        blocks.entry(hw).or_default();
    }
    for run in latest {
        let key_metrics = series.key_metrics(&run, rule);
        blocks
            .entry(run.hardware.clone())
            .or_default()
            .push(RunCard { run, key_metrics });
    }
    let hardware = blocks
        .into_iter()
        .map(|(hardware, mut runs)| {
            runs.sort_by(|a, b| {
                (&a.run.model, &a.run.mode, &a.run.variant, &a.run.host).cmp(&(
                    &b.run.model,
                    &b.run.mode,
                    &b.run.variant,
                    &b.run.host,
                ))
            });
            HardwareBlock {
                latest_night: runs.iter().filter_map(|r| r.run.night.clone()).max(),
                hardware,
                runs,
            }
        })
        .collect();
    Ok(Overview {
        backend: store.backend(),
        rule: rule.name(),
        runs_stored,
        hardware,
    })
}

/// One cell of a run's result table.
#[derive(Debug, Clone, Serialize)]
pub struct Cell {
    /// As printed in the file it came from.
    pub text: String,
    /// The number.
    pub value: f64,
    /// Unit.
    pub unit: String,
}

/// A load point's row of a run's result table.
#[derive(Debug, Clone, Serialize)]
pub struct LoadRow {
    /// The load point (`16`, `tp8_bs32_in1024_out128`).
    pub load: String,
    /// One cell per column (none where the run has no value).
    pub cells: Vec<Option<Cell>>,
}

/// A run's reported numbers (sample 0) by load point.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ResultTable {
    /// `request_rate`, `concurrency`, `point`.
    pub load_kind: String,
    /// Metric names of the columns.
    pub columns: Vec<String>,
    /// Rows, by load point.
    pub rows: Vec<LoadRow>,
}

/// The columns a result table shows, in this order, when the run has them.
const TABLE_METRICS: [&str; 9] = [
    "e2e_median",
    "ttft_median",
    "itl_median",
    "output_throughput",
    "prefill_latency",
    "median_decode_latency",
    "e2e_latency",
    "prefill_throughput",
    "e2e_throughput",
];

fn load_order(l: &str) -> (u8, f64, String) {
    match l.parse::<f64>() {
        Ok(v) => (0, v, String::new()),
        Err(_) => (1, 0.0, l.to_owned()),
    }
}

/// Cells by load point, then by metric.
type CellsByLoad = BTreeMap<String, BTreeMap<String, Cell>>;

/// The result tables of `runs`, by run id.
fn result_tables(
    store: &mut Store,
    where_sql: &str,
    params: &[Value],
) -> Result<HashMap<String, ResultTable>, PageError> {
    let list: Vec<String> = TABLE_METRICS.iter().map(|m| format!("'{m}'")).collect();
    let rows = query(
        store,
        &format!(
            "SELECT m.run_key, m.metric, m.load_kind, m.load, m.text, m.value, m.unit \
             FROM metrics m JOIN runs r ON r.run_key = m.run_key \
             WHERE {where_sql} AND m.sample = 0 AND m.metric IN ({}) \
             ORDER BY m.run_key, m.source_path",
            list.join(", ")
        ),
        params,
    )?;
    let mut raw: HashMap<String, (String, CellsByLoad)> = HashMap::new();
    for r in &rows.rows {
        let (Some(run), Some(metric), Some(load)) = (text(&r[0]), text(&r[1]), text(&r[3])) else {
            continue;
        };
        let e = raw.entry(run).or_default();
        if e.0.is_empty() {
            e.0 = text(&r[2]).unwrap_or_default();
        }
        e.1.entry(load).or_default().entry(metric).or_insert(Cell {
            text: text(&r[4]).unwrap_or_default(),
            value: r[5].as_f64().unwrap_or(f64::NAN),
            unit: text(&r[6]).unwrap_or_default(),
        });
    }
    Ok(raw
        .into_iter()
        .map(|(run, (load_kind, by_load))| {
            let columns: Vec<String> = TABLE_METRICS
                .iter()
                .filter(|m| by_load.values().any(|c| c.contains_key(**m)))
                .map(|m| (*m).to_owned())
                .collect();
            let mut rows: Vec<LoadRow> = by_load
                .into_iter()
                .map(|(load, mut cells)| LoadRow {
                    cells: columns.iter().map(|c| cells.remove(c)).collect(),
                    load,
                })
                .collect();
            rows.sort_by(|a, b| {
                let (x, y) = (load_order(&a.load), load_order(&b.load));
                x.0.cmp(&y.0).then(x.1.total_cmp(&y.1)).then(x.2.cmp(&y.2))
            });
            (
                run,
                ResultTable {
                    load_kind,
                    columns,
                    rows,
                },
            )
        })
        .collect())
}

/// A test result (unit, PD, sanity, image check, cron job).
#[derive(Debug, Clone, Serialize)]
pub struct TestResult {
    /// `unit`, `pd`, `sanity`, `image_check`, `cron`.
    pub suite: String,
    /// The test.
    pub name: String,
    /// `pass`, `fail`, `skipped`, `pending`, …
    pub status: String,
    /// Summary line.
    pub detail: Option<String>,
    /// Its number (tests run, accuracy, seconds).
    pub value: Option<f64>,
    /// The file it was read from.
    pub source_path: String,
    /// Its line.
    pub source_line: i64,
}

fn tests_by_run(
    store: &mut Store,
    where_sql: &str,
    params: &[Value],
) -> Result<HashMap<String, Vec<TestResult>>, PageError> {
    let rows = query(
        store,
        &format!(
            "SELECT t.run_key, t.suite, t.name, t.status, t.detail, t.value, t.source_path, \
             t.source_line FROM test_results t JOIN runs r ON r.run_key = t.run_key \
             WHERE {where_sql} ORDER BY t.run_key, t.suite, t.name"
        ),
        params,
    )?;
    let mut out: HashMap<String, Vec<TestResult>> = HashMap::new();
    for r in &rows.rows {
        let Some(run) = text(&r[0]) else { continue };
        out.entry(run).or_default().push(TestResult {
            suite: text(&r[1]).unwrap_or_default(),
            name: text(&r[2]).unwrap_or_default(),
            status: text(&r[3]).unwrap_or_default(),
            detail: text(&r[4]),
            value: r[5].as_f64(),
            source_path: text(&r[6]).unwrap_or_default(),
            source_line: r[7].as_i64().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// A benchmark run of the hardware page.
#[derive(Debug, Clone, Serialize)]
pub struct BenchRun {
    /// The run and its verdicts.
    #[serde(flatten)]
    pub card: RunCard,
    /// Its reported numbers.
    pub table: ResultTable,
}

/// A validation run of the hardware page (unit tests, PD, sanity, image check, cron).
#[derive(Debug, Clone, Serialize)]
pub struct ValidationRun {
    /// The run.
    pub run: RunInfo,
    /// Its test results.
    pub tests: Vec<TestResult>,
}

/// `/hardware/<hw>`.
#[derive(Debug, Clone, Serialize)]
pub struct HardwarePage {
    /// The hardware.
    pub hardware: String,
    /// The night shown (`None`: the hardware has no dated run).
    pub night: Option<String>,
    /// Every night with runs, newest first.
    pub nights: Vec<String>,
    /// Benchmarks in the standard mode (online `online`, offline).
    pub benchmarks: Vec<BenchRun>,
    /// Integration variants (DP attention, torch compile, MTP, …).
    pub variants: Vec<BenchRun>,
    /// Unit tests, PD, sanity, image check and cron jobs.
    pub validation: Vec<ValidationRun>,
}

/// Builds the hardware page for `night` (default: the newest night with a benchmark run,
/// else the newest night).
/// Unknown hardware is [`PageError::NotFound`].
pub fn hardware_page(
    store: &mut Store,
    series: &SeriesIndex,
    rule: &Rule,
    hardware: &str,
    night: Option<&str>,
) -> Result<HardwarePage, PageError> {
    let known = query(
        store,
        "SELECT count(*) FROM runs r WHERE coalesce(r.hardware, 'unknown') = $1",
        &[hardware.into()],
    )?
    .rows
    .first()
    .and_then(|r| r[0].as_i64())
    .unwrap_or(0);
    if known == 0 {
        return Err(PageError::NotFound(format!(
            "no runs on hardware {hardware:?} in the store"
        )));
    }
    let nights: Vec<String> = query(
        store,
        "SELECT DISTINCT r.night FROM runs r WHERE coalesce(r.hardware, 'unknown') = $1 \
         AND r.night IS NOT NULL ORDER BY r.night DESC",
        &[hardware.into()],
    )?
    .rows
    .iter()
    .filter_map(|r| text(&r[0]))
    .collect();
    // Default: the newest night with a benchmark, else the newest night.
    let night = match night {
        Some(n) => Some(n.to_owned()),
        None => query(
            store,
            "SELECT max(r.night) FROM runs r WHERE coalesce(r.hardware, 'unknown') = $1 \
             AND r.kind IN ('online', 'offline')",
            &[hardware.into()],
        )?
        .rows
        .first()
        .and_then(|r| text(&r[0]))
        .or_else(|| nights.first().cloned()),
    };
    let mut page = HardwarePage {
        hardware: hardware.to_owned(),
        night: night.clone(),
        nights,
        benchmarks: Vec::new(),
        variants: Vec::new(),
        validation: Vec::new(),
    };
    let Some(night) = night else {
        return Ok(page);
    };
    let w = "coalesce(r.hardware, 'unknown') = $1 AND r.night = $2";
    let params: Vec<Value> = vec![hardware.into(), night.into()];
    let runs = runs_where(store, w, &params)?;
    let mut tables = result_tables(store, w, &params)?;
    let mut tests = tests_by_run(store, w, &params)?;
    for run in runs {
        match run.kind.as_str() {
            "online" | "offline" => {
                let b = BenchRun {
                    table: tables.remove(&run.id).unwrap_or_default(),
                    card: RunCard {
                        key_metrics: series.key_metrics(&run, rule),
                        run,
                    },
                };
                let standard = matches!(b.card.run.mode.as_deref(), Some("online" | "offline"));
                if standard {
                    page.benchmarks.push(b);
                } else {
                    page.variants.push(b);
                }
            }
            "plots" => {}
            _ => page.validation.push(ValidationRun {
                tests: tests.remove(&run.id).unwrap_or_default(),
                run,
            }),
        }
    }
    Ok(page)
}

/// What `/series` shows.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct SeriesQuery {
    /// Hardware (`mi30x`).
    pub hardware: String,
    /// Model (`GROK1`).
    pub model: String,
    /// Variant with its mode suffix (`MOE-I4F8`, `FP8_dp_attention`).
    pub variant: String,
    /// `e2e_ms`, `ttft_ms`, `itl_ms`.
    pub metric: String,
    /// One load point only.
    pub load: Option<String>,
}

/// One night of a series.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesNight {
    /// `YYYY-MM-DD` (the image date).
    pub date: String,
    /// The value.
    pub value: f64,
    /// Docker tag.
    pub image_tag: String,
    /// Fallback image (never part of a baseline).
    pub fallback: bool,
    /// Simulated engine.
    pub simulated: bool,
    /// The run, for `/run/<id>`.
    pub run: Option<String>,
    /// The file the value was read from.
    pub source: String,
    /// The baseline this night was judged against.
    pub baseline: Option<f64>,
    /// Lower edge of the band.
    pub band_low: Option<f64>,
    /// Upper edge of the band.
    pub band_high: Option<f64>,
    /// The verdict this night got when it was the newest.
    pub verdict: String,
    /// Its evidence.
    pub evidence: String,
}

/// One load point's series.
#[derive(Debug, Clone, Serialize)]
pub struct LoadSeries {
    /// `rate 16`.
    pub load: String,
    /// `16`.
    pub load_value: String,
    /// Nights, oldest first.
    pub nights: Vec<SeriesNight>,
}

/// Another series of the same model and hardware (links on the page).
#[derive(Debug, Clone, Serialize)]
pub struct SeriesChoice {
    /// Variant with suffix.
    pub variant: String,
    /// Metric name.
    pub metric: &'static str,
}

/// `/series`.
#[derive(Debug, Clone, Serialize)]
pub struct SeriesPage {
    /// Hardware.
    pub hardware: String,
    /// Model.
    pub model: String,
    /// Variant.
    pub variant: String,
    /// Metric name.
    pub metric: &'static str,
    /// Its label.
    pub label: &'static str,
    /// `lower_is_better` / `higher_is_better`.
    pub direction: &'static str,
    /// The rule the verdicts and bands come from.
    pub rule: &'static str,
    /// One series per load point.
    pub loads: Vec<LoadSeries>,
    /// The other series of this model on this hardware.
    pub choices: Vec<SeriesChoice>,
}

/// Builds a series page; an unknown metric is a bad request, a series that does not exist
/// an empty page (it says so).
pub fn series_page(
    series: &SeriesIndex,
    rule: &Rule,
    q: &SeriesQuery,
) -> Result<SeriesPage, PageError> {
    let metric = Metric::parse(&q.metric)
        .filter(|m| KEY_METRICS.contains(m))
        .ok_or_else(|| {
            PageError::BadRequest(format!(
                "unknown metric {:?}: use e2e_ms, ttft_ms or itl_ms",
                q.metric
            ))
        })?;
    let mut loads: Vec<(f64, LoadSeries)> = Vec::new();
    for s in series
        .of(&q.hardware, &q.model, &q.variant)
        .filter(|s| s.key.metric == metric)
    {
        let (_, load_value, order) = load_parts(&s.key.load);
        if q.load.as_ref().is_some_and(|l| *l != load_value) {
            continue;
        }
        let verdicts = regression::replay(s, rule);
        let nights = s
            .nights
            .iter()
            .zip(verdicts)
            .map(|(n, v)| {
                let band = |sign: f64| match (v.baseline, v.band_pct) {
                    (Some(b), Some(p)) => Some(b * (1.0 + sign * p / 100.0)),
                    _ => None,
                };
                let folder = n
                    .source
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .unwrap_or_default();
                SeriesNight {
                    date: iso(n.date),
                    value: n.value,
                    image_tag: n.image_tag.clone(),
                    fallback: n.fallback,
                    simulated: n.simulated,
                    run: series.run_of_folder.get(&folder).cloned(),
                    source: n.source.to_string_lossy().into_owned(),
                    baseline: v.baseline,
                    band_low: band(-1.0),
                    band_high: band(1.0),
                    verdict: v.kind.name().to_owned(),
                    evidence: v.evidence,
                }
            })
            .collect();
        loads.push((
            order,
            LoadSeries {
                load: s.key.load.to_string(),
                load_value,
                nights,
            },
        ));
    }
    loads.sort_by(|a, b| a.0.total_cmp(&b.0));
    let mut choices: Vec<SeriesChoice> = series
        .by_variant
        .iter()
        .filter(|(k, _)| k.0 == q.hardware && k.1 == q.model)
        .flat_map(|(k, idx)| {
            let mut ms: Vec<Metric> = idx.iter().map(|&i| series.series[i].key.metric).collect();
            ms.sort();
            ms.dedup();
            ms.into_iter().map(|m| SeriesChoice {
                variant: k.2.clone(),
                metric: m.name(),
            })
        })
        .collect();
    choices.sort_by(|a, b| (&a.variant, a.metric).cmp(&(&b.variant, b.metric)));
    Ok(SeriesPage {
        hardware: q.hardware.clone(),
        model: q.model.clone(),
        variant: q.variant.clone(),
        metric: metric.name(),
        label: metric.label(),
        direction: match metric.direction() {
            regression::Direction::LowerIsBetter => "lower_is_better",
            regression::Direction::HigherIsBetter => "higher_is_better",
        },
        rule: rule.name(),
        loads: loads.into_iter().map(|l| l.1).collect(),
        choices,
    })
}

/// Every number of a run.
#[derive(Debug, Clone, Serialize)]
pub struct MetricRow {
    /// Metric name.
    pub metric: String,
    /// `request_rate`, `concurrency`, `point` or empty.
    pub load_kind: String,
    /// Load point.
    pub load: String,
    /// 0 = reported value; i = client run i.
    pub sample: i64,
    /// The number.
    pub value: f64,
    /// As printed.
    pub text: String,
    /// Unit.
    pub unit: String,
    /// File.
    pub source_path: String,
    /// Line (0: the whole file).
    pub source_line: i64,
}

/// A stored file of a run.
#[derive(Debug, Clone, Serialize)]
pub struct FileRow {
    /// Path relative to the tree (served at `/files/<path>`).
    pub path: String,
    /// `csv`, `client_log`, `timing_summary`, `plot`, …
    pub kind: String,
    /// Size.
    pub bytes: i64,
    /// SHA-256.
    pub sha256: String,
    /// What the parser made of it.
    pub parsed: String,
}

/// `/run/<id>`.
#[derive(Debug, Clone, Serialize)]
pub struct RunPage {
    /// The run.
    pub run: RunInfo,
    /// SHA-256 over its files.
    pub content_sha256: String,
    /// When it was stored (UTC).
    pub ingested_at: String,
    /// Its key metrics against their baselines.
    pub key_metrics: Vec<KeyMetric>,
    /// Every GSM8K accuracy.
    pub gsm8k: Vec<Gsm8k>,
    /// Every test result.
    pub tests: Vec<TestResult>,
    /// Every number.
    pub metrics: Vec<MetricRow>,
    /// Every file.
    pub files: Vec<FileRow>,
}

/// Builds a run page; an unknown id is [`PageError::NotFound`].
pub fn run_page(
    store: &mut Store,
    series: &SeriesIndex,
    rule: &Rule,
    id: &str,
) -> Result<RunPage, PageError> {
    let w = "r.run_key = $1";
    let params: Vec<Value> = vec![id.into()];
    let mut runs = runs_where(store, w, &params)?;
    if runs.is_empty() {
        return Err(PageError::NotFound(format!("no run {id:?} in the store")));
    }
    let run = runs.remove(0);
    let extra = query(
        store,
        "SELECT r.content_sha256, r.ingested_at FROM runs r WHERE r.run_key = $1",
        &params,
    )?;
    let (content_sha256, ingested_at) = extra
        .rows
        .first()
        .map(|r| {
            (
                text(&r[0]).unwrap_or_default(),
                text(&r[1]).unwrap_or_default(),
            )
        })
        .unwrap_or_default();
    let gsm8k = query(
        store,
        &format!(
            "SELECT {GSM8K_COLS} FROM gsm8k g WHERE g.run_key = $1 ORDER BY g.subject, g.source_path"
        ),
        &params,
    )?
    .rows
    .iter()
    .filter_map(|r| gsm8k_from(r))
    .collect();
    let tests = tests_by_run(store, w, &params)?
        .remove(id)
        .unwrap_or_default();
    let metrics = query(
        store,
        "SELECT m.metric, m.load_kind, m.load, m.sample, m.value, m.text, m.unit, \
         m.source_path, m.source_line FROM metrics m WHERE m.run_key = $1 \
         ORDER BY m.source_path, m.source_line, m.metric, m.load, m.sample",
        &params,
    )?
    .rows
    .iter()
    .map(|r| MetricRow {
        metric: text(&r[0]).unwrap_or_default(),
        load_kind: text(&r[1]).unwrap_or_default(),
        load: text(&r[2]).unwrap_or_default(),
        sample: r[3].as_i64().unwrap_or_default(),
        value: r[4].as_f64().unwrap_or(f64::NAN),
        text: text(&r[5]).unwrap_or_default(),
        unit: text(&r[6]).unwrap_or_default(),
        source_path: text(&r[7]).unwrap_or_default(),
        source_line: r[8].as_i64().unwrap_or_default(),
    })
    .collect();
    let files = query(
        store,
        "SELECT a.path, a.kind, a.bytes, a.sha256, a.parsed FROM artifacts a \
         WHERE a.run_key = $1 ORDER BY a.path",
        &params,
    )?
    .rows
    .iter()
    .map(|r| FileRow {
        path: text(&r[0]).unwrap_or_default(),
        kind: text(&r[1]).unwrap_or_default(),
        bytes: r[2].as_i64().unwrap_or_default(),
        sha256: text(&r[3]).unwrap_or_default(),
        parsed: text(&r[4]).unwrap_or_default(),
    })
    .collect();
    Ok(RunPage {
        key_metrics: series.key_metrics(&run, rule),
        run,
        content_sha256,
        ingested_at,
        gsm8k,
        tests,
        metrics,
        files,
    })
}

/// Whether `path` (relative to the tree) is a file some run stored: the only files
/// `/files/…` serves.
pub fn is_stored_file(store: &mut Store, path: &str) -> Result<bool, PageError> {
    Ok(!query(
        store,
        "SELECT 1 FROM artifacts a WHERE a.path = $1 LIMIT 1",
        &[path.into()],
    )?
    .rows
    .is_empty())
}

/// The tables and columns of the store (the explorer's side panel).
#[derive(Debug, Clone, Serialize)]
pub struct SchemaTable {
    /// Table name.
    pub table: String,
    /// `name type` of each column.
    pub columns: Vec<(String, String)>,
}

/// Reads the schema from the database itself.
pub fn schema(store: &mut Store) -> Result<Vec<SchemaTable>, PageError> {
    let sql = if store.backend() == "sqlite" {
        "SELECT m.name, p.name, p.type FROM sqlite_master m, pragma_table_info(m.name) p \
         WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite_%' ORDER BY m.name, p.cid"
    } else {
        "SELECT c.table_name::text, c.column_name::text, c.data_type::text \
         FROM information_schema.columns c WHERE c.table_schema = current_schema() \
         ORDER BY c.table_name, c.ordinal_position"
    };
    let rows = query(store, sql, &[])?;
    let mut out: Vec<SchemaTable> = Vec::new();
    for r in &rows.rows {
        let (Some(t), Some(c)) = (text(&r[0]), text(&r[1])) else {
            continue;
        };
        let ty = text(&r[2]).unwrap_or_default().to_ascii_lowercase();
        match out.last_mut().filter(|x| x.table == t) {
            Some(x) => x.columns.push((c, ty)),
            None => out.push(SchemaTable {
                table: t,
                columns: vec![(c, ty)],
            }),
        }
    }
    Ok(out)
}
