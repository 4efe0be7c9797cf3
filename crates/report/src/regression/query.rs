//! What `regression-report` asks: which series, which nights, which rule; and the counts it
//! prints at the end.

use std::path::{Path, PathBuf};

use super::{
    Date, Metric, RegressionError, ReportRow, Rule, Series, Skipped, VerdictKind, analyze, collect,
    replay, row,
};

/// Which verdicts to produce.
#[derive(Debug, Clone, Default)]
pub struct Query {
    /// The rule.
    pub rule: Rule,
    /// Only these models (case-insensitive); empty = all.
    pub models: Vec<String>,
    /// Only these hardware names (case-insensitive); empty = all.
    pub hardware: Vec<String>,
    /// Only these metrics; empty = all.
    pub metrics: Vec<Metric>,
    /// Only nights on or after this date.
    pub since: Option<Date>,
    /// A verdict for every night (as if each were the newest), not only the newest.
    pub every_night: bool,
    /// Only verdicts of these kinds; empty = all.
    pub only: Vec<VerdictKind>,
}

/// The verdicts and what was read to reach them.
#[derive(Debug, Clone)]
pub struct Report {
    /// The benchmark dir.
    pub dir: PathBuf,
    /// One row per verdict, series in report order, nights oldest first.
    pub rows: Vec<ReportRow>,
    /// Run folders read.
    pub run_folders: usize,
    /// Series that matched the filters.
    pub series: usize,
    /// What gave no nights, and why.
    pub skipped: Vec<Skipped>,
    /// Verdicts per kind (before the `only` filter), in [`VerdictKind::ALL`] order.
    pub counts: [(VerdictKind, usize); 5],
}

impl Report {
    /// `3 regression, 1 suspicious, …` (every kind, zeros included).
    pub fn counts_line(&self) -> String {
        self.counts
            .iter()
            .map(|(k, n)| format!("{n} {k}"))
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Number of regression verdicts.
    pub fn regressions(&self) -> usize {
        self.counts[0].1
    }
}

fn matches(list: &[String], value: &str) -> bool {
    list.is_empty() || list.iter().any(|m| m.eq_ignore_ascii_case(value))
}

impl Query {
    /// Whether a series passes the model, hardware and metric filters.
    pub fn selects(&self, s: &Series) -> bool {
        matches(&self.models, &s.key.model)
            && matches(&self.hardware, &s.key.hardware)
            && (self.metrics.is_empty() || self.metrics.contains(&s.key.metric))
    }

    /// The report rows of already collected series.
    pub fn rows(&self, series: &[Series]) -> (Vec<ReportRow>, [(VerdictKind, usize); 5], usize) {
        let mut rows = Vec::new();
        let mut counts = VerdictKind::ALL.map(|k| (k, 0));
        let mut selected = 0;
        for s in series.iter().filter(|s| self.selects(s)) {
            selected += 1;
            let verdicts = if self.every_night {
                replay(s, &self.rule)
            } else {
                vec![analyze(s, &self.rule)]
            };
            for v in verdicts {
                if self.since.zip(v.date).is_some_and(|(since, d)| d < since) {
                    continue;
                }
                if let Some(c) = counts.iter_mut().find(|(k, _)| *k == v.kind) {
                    c.1 += 1;
                }
                if self.only.is_empty() || self.only.contains(&v.kind) {
                    rows.push(row(s, &v));
                }
            }
        }
        (rows, counts, selected)
    }

    /// Collects the series below `dir` and judges them.
    pub fn run(&self, dir: &Path) -> Result<Report, RegressionError> {
        let c = collect(dir)?;
        let (rows, counts, series) = self.rows(&c.series);
        Ok(Report {
            dir: dir.to_owned(),
            rows,
            run_folders: c.run_folders,
            series,
            skipped: c.skipped,
            counts,
        })
    }
}
