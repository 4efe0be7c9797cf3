//! `/coverage`: the upstream CI coverage reports that `compare-suites` writes
//! (`sglang_ci_report_<YYYYMMDD>.csv`, by default in `<base-dir>/upstream_ci/ci_report`, the
//! original repository's place for them). They are files, not part of the history store, so
//! the folder is read again on every request (a few dozen small files); a report that cannot
//! be read is named on the page, never a failed page.

use std::path::Path;

use metrics_parse::upstream_report::{self, Coverage, RowKind};
use serde::Serialize;

/// Reports read at most (the newest ones).
pub const MAX_REPORTS: usize = 1000;
/// Largest report file read.
const MAX_REPORT_BYTES: u64 = 1024 * 1024;

/// One row of the newest report.
#[derive(Debug, Clone, Serialize)]
pub struct CoverageRow {
    /// Section heading (`Per-PR CI Tests`), none in the flat layout.
    pub section: Option<String>,
    /// `category`, `summary` (a `... (total test count)` row) or `total`.
    pub kind: &'static str,
    /// Test category.
    pub category: String,
    /// AMD tests.
    pub amd: u64,
    /// NVIDIA tests.
    pub nvidia: u64,
    /// The coverage cell as written (`57%`, `N/A`).
    pub coverage: String,
}

/// The `Total` row of one report.
#[derive(Debug, Clone, Serialize)]
pub struct ReportTotal {
    /// `YYYY-MM-DD` (from the file name).
    pub date: String,
    /// File name.
    pub file: String,
    /// AMD tests.
    pub amd: u64,
    /// NVIDIA tests.
    pub nvidia: u64,
    /// The coverage cell as written.
    pub coverage: String,
    /// The coverage as a number, when it is a percentage.
    pub coverage_pct: Option<i64>,
}

/// The newest report, row by row.
#[derive(Debug, Clone, Serialize)]
pub struct LatestReport {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// File name.
    pub file: String,
    /// Its rows in file order.
    pub rows: Vec<CoverageRow>,
}

/// What `/coverage` shows and `/api/coverage` returns.
#[derive(Debug, Clone, Serialize)]
pub struct CoveragePage {
    /// The folder read.
    pub dir: String,
    /// Every readable report's total, newest first.
    pub reports: Vec<ReportTotal>,
    /// The newest readable report.
    pub latest: Option<LatestReport>,
    /// Reports that could not be read, one line each (`file: why`).
    pub problems: Vec<String>,
}

/// `YYYY-MM-DD` of a report file name `sglang_ci_report_<YYYYMMDD>.csv`.
fn report_date(name: &str) -> Option<String> {
    let d = name
        .strip_prefix("sglang_ci_report_")?
        .strip_suffix(".csv")?;
    (d.len() == 8 && d.bytes().all(|b| b.is_ascii_digit()))
        .then(|| format!("{}-{}-{}", &d[..4], &d[4..6], &d[6..]))
}

fn kind(k: RowKind) -> &'static str {
    match k {
        RowKind::Category => "category",
        RowKind::Summary => "summary",
        RowKind::Total => "total",
    }
}

/// Reads the reports in `dir` (a missing folder is an empty page that says so).
pub fn load(dir: &Path) -> CoveragePage {
    let mut page = CoveragePage {
        dir: dir.display().to_string(),
        reports: Vec::new(),
        latest: None,
        problems: Vec::new(),
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return page;
    };
    let mut files: Vec<(String, String)> = entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().into_string().ok()?;
            Some((report_date(&name)?, name))
        })
        .collect();
    files.sort_by(|a, b| b.cmp(a));
    files.truncate(MAX_REPORTS);
    for (date, file) in files {
        let parsed = report::bounded::read_regular_capped(&dir.join(&file), MAX_REPORT_BYTES)
            .map_err(|e| e.to_string())
            .and_then(|data| upstream_report::parse(&data).map_err(|e| e.to_string()));
        let report = match parsed {
            Ok(r) => r,
            Err(why) => {
                page.problems.push(format!("{file}: {why}"));
                continue;
            }
        };
        let Some(total) = report.total() else {
            page.problems
                .push(format!("{file}: no Total row (the file was cut short)"));
            continue;
        };
        page.reports.push(ReportTotal {
            date: date.clone(),
            file: file.clone(),
            amd: total.amd,
            nvidia: total.nvidia,
            coverage: total.coverage.text(),
            coverage_pct: match total.coverage {
                Coverage::Percent(n) => Some(n),
                _ => None,
            },
        });
        if page.latest.is_none() {
            page.latest = Some(LatestReport {
                date,
                file,
                rows: report
                    .rows
                    .iter()
                    .map(|r| CoverageRow {
                        section: r.section.clone(),
                        kind: kind(r.kind),
                        category: r.category.clone(),
                        amd: r.amd,
                        nvidia: r.nvidia,
                        coverage: r.coverage.text(),
                    })
                    .collect(),
            });
        }
    }
    page
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_give_dates_and_others_are_ignored() {
        assert_eq!(
            report_date("sglang_ci_report_20251201.csv").as_deref(),
            Some("2025-12-01")
        );
        for other in [
            "sglang_ci_report_20250916.md",
            "sglang_ci_report_2025121.csv",
            "sglang_ci_report_2025120x.csv",
            "notes.csv",
        ] {
            assert_eq!(report_date(other), None, "{other}");
        }
    }

    #[test]
    fn newest_first_with_its_rows_and_broken_files_named() {
        let dir = tempfile::tempdir().unwrap();
        let w = |name: &str, text: &str| std::fs::write(dir.path().join(name), text).unwrap();
        w(
            "sglang_ci_report_20251107.csv",
            "Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)\n\
             unit-test-backend-1-gpu,62,109,57%\nTotal,62,109,57%\n",
        );
        w(
            "sglang_ci_report_20251108.csv",
            "Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)\n\
             unit-test-frontend,0,0,N/A\nperformance-test-2-gpu,0,6,0%\nTotal,0,6,0%\n",
        );
        w("sglang_ci_report_20251109.csv", "not a report\n");
        w(
            "sglang_ci_report_20251110.csv",
            "Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)\nx,1,2,50%\n",
        );
        let p = load(dir.path());
        let dates: Vec<&str> = p.reports.iter().map(|r| r.date.as_str()).collect();
        assert_eq!(dates, ["2025-11-08", "2025-11-07"]);
        assert_eq!(p.reports[1].coverage_pct, Some(57));
        let latest = p.latest.as_ref().unwrap();
        assert_eq!(latest.date, "2025-11-08");
        assert_eq!(latest.rows.len(), 3);
        assert_eq!(latest.rows[0].coverage, "N/A");
        assert_eq!(latest.rows[2].kind, "total");
        assert_eq!(p.problems.len(), 2, "{:?}", p.problems);
        assert!(p.problems[0].starts_with("sglang_ci_report_20251110.csv: no Total row"));
        assert!(p.problems[1].starts_with("sglang_ci_report_20251109.csv: "));

        let none = load(&dir.path().join("missing"));
        assert!(none.reports.is_empty() && none.latest.is_none() && none.problems.is_empty());
    }
}
