//! Performance-regression analysis: a pure function from one series of nightly values to a
//! verdict, and the collection of those series from run folders (spec reporting.md §3.7 and
//! fix B3: the original's analysis read the three-table CSVs as comma CSV and never found a
//! metric; this one reads them with [`metrics_parse::legacy_csv`]).
//!
//! # API for callers
//!
//! ```no_run
//! use std::path::Path;
//! use report::regression::{self, Rule, VerdictKind};
//! # fn main() -> Result<(), regression::RegressionError> {
//! // The card of tonight's GROK1 run on mi30x: its series (every metric and load point of the
//! // model on that hardware; the variant picks the run's mode), judged by the default rule.
//! let series = regression::collect_online_series(Path::new("/data/sglang-ci"), Some("mi30x"), "GROK1")?;
//! for s in series.iter().filter(|s| s.key.variant == "MOE-I4F8") {
//!     let v = regression::analyze(s, &Rule::default());
//!     if v.kind != VerdictKind::NoChange {
//!         // v.baseline, v.band_pct, v.values (date, value, change), v.baseline_nights
//!         println!("{} {} {}: {}", s.key.metric.label(), s.key.load, v.kind, v.evidence);
//!     }
//! }
//! # Ok(()) }
//! ```
//!
//! * [`collect_series`] / [`collect`] read every run folder below a directory (any depth up to
//!   five: `online/<MODEL>/<run>/`, `online_benchmark_log/<hw>/<MODEL>/<run>/`, …) into
//!   [`Series`], one per [`SeriesKey`] (hardware, model, variant, metric, load point), nights
//!   oldest first. [`collect`] also returns what it skipped and why;
//!   [`collect_online_series`] keeps one model (and hardware) for a card.
//! * [`analyze`] judges the newest night of a series; [`analyze_at`] the night of a given
//!   date (a card for `--benchmark-date`); [`replay`] judges every night as if it were the
//!   newest (what a card would have said that night).
//! * [`Verdict`] carries its evidence: baseline, band, the values judged, the nights used and
//!   one sentence for a card ([`Verdict::evidence`]).
//! * [`render`] turns verdicts into one line each (text, CSV, JSON Lines of [`ReportRow`]);
//!   [`Query`] is what `regression-report` asks (filters, rule, every night or the newest).
//!
//! The rules ([`Rule`]): `legacy` is the original's (newest night vs the latest earlier night
//! within 7 days, worse by more than 5 %); `robust` (the default) compares with the median of
//! the last valid nights and a band that widens with the series' own noise. docs/
//! regression-rules.md describes both and what they say about the corpus.

mod collect;
mod query;
mod render;

use std::fmt;
use std::path::PathBuf;

use serde::Serialize;

pub use collect::{
    Collection, FALLBACK_GAP_HOURS, RegressionError, Skipped, collect, collect_online_series,
    collect_series,
};
pub use query::{Query, Report};
pub use render::{Format, ReportRow, render, row};

/// Whether a smaller or a larger value is better.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Latencies.
    LowerIsBetter,
    /// Throughput, accuracy.
    HigherIsBetter,
}

/// What a series measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Median end-to-end latency (ms), the CSV's first table.
    E2eMs,
    /// Median time to first token (ms), the second table.
    TtftMs,
    /// Median inter-token latency (ms), the third table.
    ItlMs,
    /// Output token throughput (tok/s) of the best run of a load (the client log the CSV's
    /// cells came from).
    OutputThroughput,
    /// GSM8K accuracy (0..1) of the run, the timing summary's last `GSM8K accuracy:` line.
    Gsm8kAccuracy,
}

impl Metric {
    /// Every metric, in report order.
    pub const ALL: [Self; 5] = [
        Self::E2eMs,
        Self::TtftMs,
        Self::ItlMs,
        Self::OutputThroughput,
        Self::Gsm8kAccuracy,
    ];

    /// Which way is better.
    pub fn direction(self) -> Direction {
        match self {
            Self::E2eMs | Self::TtftMs | Self::ItlMs => Direction::LowerIsBetter,
            Self::OutputThroughput | Self::Gsm8kAccuracy => Direction::HigherIsBetter,
        }
    }

    /// Short name used in reports and flags (`e2e_ms`, `ttft_ms`, `itl_ms`,
    /// `output_throughput`, `gsm8k_accuracy`).
    pub fn name(self) -> &'static str {
        match self {
            Self::E2eMs => "e2e_ms",
            Self::TtftMs => "ttft_ms",
            Self::ItlMs => "itl_ms",
            Self::OutputThroughput => "output_throughput",
            Self::Gsm8kAccuracy => "gsm8k_accuracy",
        }
    }

    /// Label for a card (`Median TTFT (ms)`).
    pub fn label(self) -> &'static str {
        match self {
            Self::E2eMs => "Median E2E Latency (ms)",
            Self::TtftMs => "Median TTFT (ms)",
            Self::ItlMs => "Median ITL (ms)",
            Self::OutputThroughput => "Output throughput (tok/s)",
            Self::Gsm8kAccuracy => "GSM8K accuracy",
        }
    }

    /// Parses [`Metric::name`].
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|m| m.name() == s)
    }
}

/// The load point of a series: a request rate (Grok), a concurrency (DeepSeek), or none
/// (GSM8K accuracy).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Load {
    /// `request rate` column.
    Rate(String),
    /// `concurrency` column.
    Concurrency(String),
    /// The metric has no load point.
    None,
}

impl Load {
    fn sort_key(&self) -> (u8, f64, &str) {
        match self {
            Self::Rate(r) => (0, r.parse().unwrap_or(f64::MAX), r),
            Self::Concurrency(c) => (1, c.parse().unwrap_or(f64::MAX), c),
            Self::None => (2, 0.0, ""),
        }
    }
}

impl fmt::Display for Load {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Rate(r) => write!(f, "rate {r}"),
            Self::Concurrency(c) => write!(f, "concurrency {c}"),
            Self::None => f.write_str("-"),
        }
    }
}

/// What a series is: one metric at one load point of one model variant on one hardware.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct SeriesKey {
    /// `mi30x`, `mi35x` (from the image tag; `unknown` when neither tag nor folders say).
    pub hardware: String,
    /// Model name of the run folder (`GROK1`, `DeepSeek-V3-0324`).
    pub model: String,
    /// Quantisation plus mode suffix of the run folder (`MOE-I4F8`, `FP8_dp_attention`,
    /// `MOE-I4F8-SIM` for the simulated engine).
    pub variant: String,
    /// The metric.
    pub metric: Metric,
    /// The load point.
    pub load: Load,
}

impl SeriesKey {
    /// Total order for reports: hardware, model, variant, metric, load (numerically).
    pub fn cmp_for_report(&self, other: &Self) -> std::cmp::Ordering {
        (&self.hardware, &self.model, &self.variant, self.metric)
            .cmp(&(&other.hardware, &other.model, &other.variant, other.metric))
            .then_with(|| {
                let (a, b) = (self.load.sort_key(), other.load.sort_key());
                a.0.cmp(&b.0)
                    .then(a.1.total_cmp(&b.1))
                    .then_with(|| a.2.cmp(b.2))
            })
    }
}

impl fmt::Display for SeriesKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} {} {} {} {}",
            self.hardware,
            self.model,
            self.variant,
            self.metric.name(),
            self.load
        )
    }
}

/// A calendar date `YYYYMMDD` (the image date of a night).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Date(u32);

impl Date {
    /// Parses `YYYYMMDD` (a real calendar date).
    pub fn parse(s: &str) -> Option<Self> {
        if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        let n: u32 = s.parse().ok()?;
        let (y, m, d) = (n / 10_000, n / 100 % 100, n % 100);
        let dim = match m {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
            2 => 28,
            _ => return None,
        };
        (y >= 1970 && (1..=dim).contains(&d)).then_some(Self(n))
    }

    /// Days since 1970-01-01 (proleptic Gregorian).
    pub fn days(self) -> i64 {
        let (y, m, d) = (
            i64::from(self.0 / 10_000),
            i64::from(self.0 / 100 % 100),
            i64::from(self.0 % 100),
        );
        // Days from civil (H. Hinnant's algorithm).
        let y = if m <= 2 { y - 1 } else { y };
        let era = y.div_euclid(400);
        let yoe = y - era * 400;
        let mp = (m + 9) % 12;
        let doy = (153 * mp + 2) / 5 + d - 1;
        let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        era * 146_097 + doe - 719_468
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:08}", self.0)
    }
}

impl Serialize for Date {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

/// One night's value of a series.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Night {
    /// Image date (the `YYYYMMDD` of the image tag): the night the value belongs to.
    pub date: Date,
    /// The value (ms for latencies, 0..1 for accuracy).
    pub value: f64,
    /// Docker image tag (`v0.5.4.post1-rocm630-mi30x-20251029`).
    pub image_tag: String,
    /// Measured on a later night than the image's own (the nightly fell back to an older
    /// image): never part of a baseline.
    pub fallback: bool,
    /// Measured on the simulated engine: never part of a real night's baseline.
    pub simulated: bool,
    /// Where the value was read (CSV or timing summary).
    pub source: PathBuf,
}

/// The nights of one series, oldest first (at most one per date).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    /// What the series measures.
    pub key: SeriesKey,
    /// Nights, oldest first.
    pub nights: Vec<Night>,
}

impl Series {
    /// A series with its nights sorted by date (stable: equal dates keep their order).
    pub fn new(key: SeriesKey, mut nights: Vec<Night>) -> Self {
        nights.sort_by_key(|n| n.date);
        Self { key, nights }
    }
}

/// How nights are judged.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "rule", rename_all = "snake_case")]
pub enum Rule {
    /// The original's rule (spec §3.7): the newest night against the latest earlier night at
    /// most `window_days` before it; a regression when worse by more than `threshold_pct`
    /// (strictly). Every night counts (fallback and simulated too); no improvements.
    Legacy {
        /// Look-back window in days (the original's `--analysis-days`, default 7).
        window_days: u32,
        /// Threshold in percent (default 5).
        threshold_pct: f64,
    },
    /// The noise-aware rule: baseline = median of the `n` valid nights before the two nights
    /// judged (same simulated-ness as the newest night, fallback nights left out); band =
    /// max(`floor_pct`, `k` × the baseline nights' scaled MAD in percent of the median). A
    /// regression needs the newest two nights worse than the band, or the newest night worse
    /// than the hard band = max(`hard_pct`, 2 × band); one night worse than the band alone is
    /// suspicious. Improvements mirror regressions.
    Robust {
        /// Baseline nights required (default 5).
        n: usize,
        /// Narrowest band in percent (default 5).
        floor_pct: f64,
        /// Band width in scaled MADs (default 3).
        k: f64,
        /// Narrowest hard band in percent (default 25).
        hard_pct: f64,
    },
}

/// Legacy default look-back window (the original's `--analysis-days` default).
pub const DEFAULT_WINDOW_DAYS: u32 = 7;
/// Legacy default threshold in percent.
pub const DEFAULT_THRESHOLD_PCT: f64 = 5.0;
/// Robust default number of baseline nights.
pub const DEFAULT_NIGHTS: usize = 5;
/// Robust default narrowest band in percent.
pub const DEFAULT_FLOOR_PCT: f64 = 5.0;
/// Robust default band width in scaled MADs.
pub const DEFAULT_K: f64 = 3.0;
/// Robust default narrowest hard band in percent.
pub const DEFAULT_HARD_PCT: f64 = 25.0;

impl Rule {
    /// Legacy defaults: 7 days, 5 %.
    pub const LEGACY: Self = Self::Legacy {
        window_days: DEFAULT_WINDOW_DAYS,
        threshold_pct: DEFAULT_THRESHOLD_PCT,
    };
    /// Robust defaults: 5 nights, floor 5 %, k = 3, hard band 25 %.
    pub const ROBUST: Self = Self::Robust {
        n: DEFAULT_NIGHTS,
        floor_pct: DEFAULT_FLOOR_PCT,
        k: DEFAULT_K,
        hard_pct: DEFAULT_HARD_PCT,
    };

    /// `legacy` or `robust`.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Legacy { .. } => "legacy",
            Self::Robust { .. } => "robust",
        }
    }
}

impl Default for Rule {
    fn default() -> Self {
        Self::ROBUST
    }
}

/// The verdict's kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum VerdictKind {
    /// Worse, with enough evidence to alert.
    Regression,
    /// The newest night is worse than the band, once: watch it.
    Suspicious,
    /// Better, with the same evidence a regression needs.
    Improved,
    /// Within the band (or only one night better).
    NoChange,
    /// Not enough comparable nights to judge.
    InsufficientHistory,
}

impl VerdictKind {
    /// Every kind, in report order.
    pub const ALL: [Self; 5] = [
        Self::Regression,
        Self::Suspicious,
        Self::Improved,
        Self::NoChange,
        Self::InsufficientHistory,
    ];

    /// `regression`, `suspicious`, `improved`, `no change`, `insufficient history`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Regression => "regression",
            Self::Suspicious => "suspicious",
            Self::Improved => "improved",
            Self::NoChange => "no change",
            Self::InsufficientHistory => "insufficient history",
        }
    }

    /// Parses [`VerdictKind::name`] (also with `_` or `-` for the space).
    pub fn parse(s: &str) -> Option<Self> {
        let s = s.replace(['_', '-'], " ");
        Self::ALL.into_iter().find(|k| k.name() == s)
    }
}

impl fmt::Display for VerdictKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// One judged night: its date, value and change against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JudgedValue {
    /// The night.
    pub date: Date,
    /// Its value.
    pub value: f64,
    /// `(value − baseline) / baseline × 100`: signed, not direction-adjusted.
    pub change_pct: f64,
    /// The night was measured on a fallback image.
    pub fallback: bool,
}

/// A judgement with its evidence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Verdict {
    /// What it says.
    pub kind: VerdictKind,
    /// `legacy` or `robust`.
    pub rule: &'static str,
    /// The night judged (the series' newest), when the series has one.
    pub date: Option<Date>,
    /// The baseline value (robust: median; legacy: the earlier night's value).
    pub baseline: Option<f64>,
    /// Band half-width in percent (legacy: the threshold).
    pub band_pct: Option<f64>,
    /// Hard band half-width in percent (robust only).
    pub hard_pct: Option<f64>,
    /// The nights judged, oldest first (robust: the newest two; legacy: the newest).
    pub values: Vec<JudgedValue>,
    /// Dates of the nights the baseline was computed from.
    pub baseline_nights: Vec<Date>,
    /// The newest night is simulated (so is its baseline).
    pub simulated: bool,
    /// One sentence for a person: why this verdict.
    pub evidence: String,
}

impl Verdict {
    /// Change of the newest judged night against the baseline, in percent (signed).
    pub fn change_pct(&self) -> Option<f64> {
        self.values.last().map(|v| v.change_pct)
    }

    /// The newest judged value.
    pub fn value(&self) -> Option<f64> {
        self.values.last().map(|v| v.value)
    }

    fn insufficient(rule: &Rule, newest: Option<&Night>, evidence: String) -> Self {
        Self {
            kind: VerdictKind::InsufficientHistory,
            rule: rule.name(),
            date: newest.map(|n| n.date),
            baseline: None,
            band_pct: None,
            hard_pct: None,
            values: Vec::new(),
            baseline_nights: Vec::new(),
            simulated: newest.is_some_and(|n| n.simulated),
            evidence,
        }
    }
}

/// Judges the newest night of `series` under `rule`. Pure: same input, same verdict.
pub fn analyze(series: &Series, rule: &Rule) -> Verdict {
    judge(&series.nights, series.key.metric.direction(), rule)
}

/// Judges the night of `date` as if it were the newest (a card for that benchmark date);
/// `None` when the series has no night on that date.
pub fn analyze_at(series: &Series, rule: &Rule, date: Date) -> Option<Verdict> {
    let i = series.nights.iter().rposition(|n| n.date == date)?;
    Some(judge(
        &series.nights[..=i],
        series.key.metric.direction(),
        rule,
    ))
}

/// Judges every night of `series` as if it were the newest (the verdict a card would have
/// shown that night), oldest first.
pub fn replay(series: &Series, rule: &Rule) -> Vec<Verdict> {
    (1..=series.nights.len())
        .map(|i| judge(&series.nights[..i], series.key.metric.direction(), rule))
        .collect()
}

/// `value` against `baseline`: signed change in percent.
fn change_pct(value: f64, baseline: f64) -> f64 {
    (value - baseline) / baseline * 100.0
}

/// Change made direction-aware: positive = worse.
fn worse_pct(change: f64, dir: Direction) -> f64 {
    match dir {
        Direction::LowerIsBetter => change,
        Direction::HigherIsBetter => -change,
    }
}

fn judged(n: &Night, baseline: f64) -> JudgedValue {
    JudgedValue {
        date: n.date,
        value: n.value,
        change_pct: change_pct(n.value, baseline),
        fallback: n.fallback,
    }
}

fn usable(v: f64) -> bool {
    v.is_finite() && v > 0.0
}

fn judge(nights: &[Night], dir: Direction, rule: &Rule) -> Verdict {
    let Some(newest) = nights.last() else {
        return Verdict::insufficient(rule, None, "no nights".to_owned());
    };
    match *rule {
        Rule::Legacy {
            window_days,
            threshold_pct,
        } => legacy(nights, newest, dir, rule, window_days, threshold_pct),
        Rule::Robust {
            n,
            floor_pct,
            k,
            hard_pct,
        } => robust(nights, dir, rule, n, floor_pct, k, hard_pct),
    }
}

fn legacy(
    nights: &[Night],
    newest: &Night,
    dir: Direction,
    rule: &Rule,
    window_days: u32,
    threshold_pct: f64,
) -> Verdict {
    let today = newest.date.days();
    let base = nights.iter().rev().find(|n| {
        let age = today - n.date.days();
        age >= 1 && age <= i64::from(window_days) && usable(n.value)
    });
    if !usable(newest.value) {
        return Verdict::insufficient(
            rule,
            Some(newest),
            format!("{} has no usable value", newest.date),
        );
    }
    let Some(base) = base else {
        return Verdict::insufficient(
            rule,
            Some(newest),
            format!(
                "no earlier night within {window_days} day(s) before {}",
                newest.date
            ),
        );
    };
    let v = judged(newest, base.value);
    let worse = worse_pct(v.change_pct, dir);
    let kind = if worse > threshold_pct {
        VerdictKind::Regression
    } else {
        VerdictKind::NoChange
    };
    let evidence = format!(
        "{} {} vs {} {} ({:+.1}%, threshold {threshold_pct}%)",
        newest.date,
        num(newest.value),
        base.date,
        num(base.value),
        v.change_pct
    );
    Verdict {
        kind,
        rule: rule.name(),
        date: Some(newest.date),
        baseline: Some(base.value),
        band_pct: Some(threshold_pct),
        hard_pct: None,
        values: vec![v],
        baseline_nights: vec![base.date],
        simulated: newest.simulated,
        evidence,
    }
}

/// Median of a non-empty slice.
fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Scale factor that makes the MAD estimate a normal distribution's standard deviation.
const MAD_SCALE: f64 = 1.4826;

fn robust(
    nights: &[Night],
    dir: Direction,
    rule: &Rule,
    n: usize,
    floor_pct: f64,
    k: f64,
    hard_pct: f64,
) -> Verdict {
    let newest = &nights[nights.len() - 1];
    // Comparable nights: a simulated night is judged against simulated history only, a real
    // night against real history only.
    let pool: Vec<&Night> = nights
        .iter()
        .filter(|x| x.simulated == newest.simulated && usable(x.value))
        .collect();
    if pool.len() < 2 || !usable(newest.value) {
        return Verdict::insufficient(
            rule,
            Some(newest),
            format!(
                "{} comparable night(s); needs the two judged nights plus {n} baseline nights",
                pool.len()
            ),
        );
    }
    let (prev, last) = (pool[pool.len() - 2], pool[pool.len() - 1]);
    let mut base: Vec<&Night> = pool[..pool.len() - 2]
        .iter()
        .rev()
        .filter(|x| !x.fallback)
        .take(n)
        .copied()
        .collect();
    base.reverse();
    if base.len() < n || n == 0 {
        return Verdict::insufficient(
            rule,
            Some(newest),
            format!(
                "{} of {n} valid baseline nights before {} (fallback{} nights do not count)",
                base.len(),
                prev.date,
                if newest.simulated {
                    ""
                } else {
                    " and simulated"
                }
            ),
        );
    }
    let values: Vec<f64> = base.iter().map(|x| x.value).collect();
    let med = median(&values);
    let deviations: Vec<f64> = values.iter().map(|v| (v - med).abs()).collect();
    let mad_pct = MAD_SCALE * median(&deviations) / med * 100.0;
    let band = floor_pct.max(k * mad_pct);
    let hard = hard_pct.max(2.0 * band);
    let (p, l) = (judged(prev, med), judged(last, med));
    let (wp, wl) = (worse_pct(p.change_pct, dir), worse_pct(l.change_pct, dir));
    let (kind, why) = if wl > hard {
        (
            VerdictKind::Regression,
            format!("{} is beyond the hard band", last.date),
        )
    } else if wl > band && wp > band {
        (
            VerdictKind::Regression,
            format!(
                "{} and {} are both worse than the band",
                prev.date, last.date
            ),
        )
    } else if wl > band {
        (
            VerdictKind::Suspicious,
            format!(
                "{} is worse than the band, {} was not",
                last.date, prev.date
            ),
        )
    } else if wl < -hard {
        (
            VerdictKind::Improved,
            format!("{} is better than the hard band", last.date),
        )
    } else if wl < -band && wp < -band {
        (
            VerdictKind::Improved,
            format!(
                "{} and {} are both better than the band",
                prev.date, last.date
            ),
        )
    } else {
        (
            VerdictKind::NoChange,
            format!("{} is within the band", last.date),
        )
    };
    let evidence = format!(
        "{why}: {} {} ({:+.1}%), {} {} ({:+.1}%) vs median {} of {} nights {}..{}, band ±{band:.1}%, hard ±{hard:.1}%",
        prev.date,
        num(prev.value),
        p.change_pct,
        last.date,
        num(last.value),
        l.change_pct,
        num(med),
        base.len(),
        base[0].date,
        base[base.len() - 1].date,
    );
    Verdict {
        kind,
        rule: rule.name(),
        date: Some(newest.date),
        baseline: Some(med),
        band_pct: Some(band),
        hard_pct: Some(hard),
        values: vec![p, l],
        baseline_nights: base.iter().map(|x| x.date).collect(),
        simulated: newest.simulated,
        evidence,
    }
}

/// A value as a person reads it: up to 3 decimals, trailing zeros dropped.
pub(crate) fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    s.to_owned()
}

#[cfg(test)]
mod tests;
