//! Upstream CI coverage reports (`upstream_ci/ci_report/sglang_ci_report_<YYYYMMDD>.csv`,
//! spec reporting.md §9.5/§9.6, corpus README §2.8): AMD vs NVIDIA test counts per CI
//! category, in two layouts.
//!
//! * **Flat** (until 2025-11-20): header, the category rows, `Total`.
//! * **Sectioned** (from 2025-11-25): header, blank lines, `# CI Category Summary` with the
//!   `... (total test count)` rows, `# Detailed Breakdown`, `## Per-PR CI Tests`,
//!   `## Additional Test Categories`, then `Total`.
//!
//! Summary rows of the sectioned layout are **opaque**: they are not sums of the listed
//! categories (77 vs 67), so [`UpstreamReport::category_rows`] leaves them out and
//! [`UpstreamReport::expected_total`] sums only category rows. [`coverage`] computes the
//! coverage cell the way the original did.

use crate::text;

/// The header line every report starts with.
pub const HEADER: &str = "Test Category,AMD # of Tests,Nvidia # of Tests,AMD Coverage (%)";

/// Why a report cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UpstreamReportError {
    /// The file is empty.
    #[error("upstream CI report is empty: regenerate it with compare-suites")]
    Empty,
    /// The first line is not [`HEADER`].
    #[error(
        "upstream CI report does not start with the header `{HEADER}` (found `{found}`): \
         is this a compare-suites CSV?"
    )]
    MissingHeader {
        /// The first line.
        found: String,
    },
    /// A row does not have four fields, or its counts are not integers.
    #[error(
        "upstream CI report line {line}: `{text}` is not `<category>,<amd>,<nvidia>,<coverage>`"
    )]
    BadRow {
        /// 1-based line number.
        line: usize,
        /// The line.
        text: String,
    },
}

/// Layout generation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// Header, categories, `Total`.
    Flat,
    /// With `#` section headings and summary rows.
    Sectioned,
}

/// The coverage cell.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Coverage {
    /// `<n>%`.
    Percent(i64),
    /// `N/A` (NVIDIA count 0).
    NotApplicable,
    /// Anything else, verbatim.
    Other(String),
}

impl Coverage {
    fn parse(s: &str) -> Self {
        if s == "N/A" {
            return Self::NotApplicable;
        }
        match s.strip_suffix('%').and_then(|n| n.parse().ok()) {
            Some(n) => Self::Percent(n),
            None => Self::Other(s.to_owned()),
        }
    }

    /// The cell text (`88%`, `N/A`).
    pub fn text(&self) -> String {
        match self {
            Self::Percent(n) => format!("{n}%"),
            Self::NotApplicable => "N/A".into(),
            Self::Other(s) => s.clone(),
        }
    }
}

/// What kind of row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RowKind {
    /// A test category (summed into `Total`).
    Category,
    /// A `... (total test count)` row of `# CI Category Summary` (opaque).
    Summary,
    /// The `Total` row.
    Total,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number.
    pub line: usize,
    /// Section heading it appears under (`Per-PR CI Tests`), `None` in the flat layout.
    pub section: Option<String>,
    /// Row kind.
    pub kind: RowKind,
    /// First field (`unit-test-backend-1-gpu`).
    pub category: String,
    /// AMD count.
    pub amd: u64,
    /// NVIDIA count.
    pub nvidia: u64,
    /// Coverage cell as written.
    pub coverage: Coverage,
}

/// A parsed report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamReport {
    /// Layout generation.
    pub layout: Layout,
    /// Data rows in file order.
    pub rows: Vec<Row>,
    /// The file ends with a newline (the 2025-11-07 … 11-20 files do not).
    pub trailing_newline: bool,
}

impl UpstreamReport {
    /// Category rows (what `Total` sums).
    pub fn category_rows(&self) -> impl Iterator<Item = &Row> {
        self.rows.iter().filter(|r| r.kind == RowKind::Category)
    }

    /// The `Total` row, `None` when the file has none (cut short).
    pub fn total(&self) -> Option<&Row> {
        self.rows.iter().find(|r| r.kind == RowKind::Total)
    }

    /// Column sums of the category rows: `(amd, nvidia)`.
    pub fn expected_total(&self) -> (u64, u64) {
        self.category_rows()
            .fold((0, 0), |(a, n), r| (a + r.amd, n + r.nvidia))
    }
}

/// The coverage the original wrote: `N/A` when `nvidia` is 0, else `amd / nvidia × 100`
/// rounded to the nearest integer with ties to even on the binary double (Python
/// `round()`; the only tie seen, 14/16 = 87.5, gives `88%`). Values above 100 are kept.
pub fn coverage(amd: u64, nvidia: u64) -> Coverage {
    if nvidia == 0 {
        return Coverage::NotApplicable;
    }
    let pct = amd as f64 / nvidia as f64 * 100.0;
    Coverage::Percent(pct.round_ties_even() as i64)
}

/// Parses a report.
pub fn parse(data: &[u8]) -> Result<UpstreamReport, UpstreamReportError> {
    let mut lines = text::lines(data).enumerate();
    let first = loop {
        match lines.next() {
            None => return Err(UpstreamReportError::Empty),
            Some((_, l)) if text::clean(l).trim().is_empty() => continue,
            Some((_, l)) => {
                break text::clean(l)
                    .trim()
                    .trim_start_matches('\u{feff}')
                    .to_owned();
            }
        }
    };
    if first != HEADER {
        return Err(UpstreamReportError::MissingHeader { found: first });
    }
    let mut layout = Layout::Flat;
    let mut section: Option<String> = None;
    let mut in_summary = false;
    let mut rows = Vec::new();
    for (idx, raw) in lines {
        let cleaned = text::clean(raw);
        let t = cleaned.trim();
        if t.is_empty() {
            continue;
        }
        if let Some(h) = t.strip_prefix('#') {
            layout = Layout::Sectioned;
            let h = h.trim_start_matches('#').trim();
            in_summary = h == "CI Category Summary";
            section = Some(h.to_owned());
            continue;
        }
        let bad = || UpstreamReportError::BadRow {
            line: idx + 1,
            text: t.to_owned(),
        };
        let f: Vec<&str> = t.split(',').collect();
        let [category, amd, nvidia, cov] = f.as_slice() else {
            return Err(bad());
        };
        let kind = if *category == "Total" {
            RowKind::Total
        } else if in_summary || category.ends_with("(total test count)") {
            RowKind::Summary
        } else {
            RowKind::Category
        };
        rows.push(Row {
            line: idx + 1,
            section: section.clone(),
            kind,
            category: (*category).to_owned(),
            amd: amd.trim().parse().map_err(|_| bad())?,
            nvidia: nvidia.trim().parse().map_err(|_| bad())?,
            coverage: Coverage::parse(cov.trim()),
        });
    }
    Ok(UpstreamReport {
        layout,
        rows,
        trailing_newline: data.last() == Some(&b'\n'),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const FLAT: &[u8] = include_bytes!("../../../fixtures/upstream_report/flat.csv");
    const SECTIONED: &[u8] = include_bytes!("../../../fixtures/upstream_report/sectioned.csv");

    #[test]
    fn coverage_rounding() {
        assert_eq!(coverage(14, 16), Coverage::Percent(88));
        assert_eq!(coverage(1, 8), Coverage::Percent(12)); // 12.5: ties to even
        assert_eq!(coverage(3, 8), Coverage::Percent(38)); // 37.5: ties to even
        assert_eq!(coverage(2, 1), Coverage::Percent(200));
        assert_eq!(coverage(0, 1), Coverage::Percent(0));
        assert_eq!(coverage(5, 0), Coverage::NotApplicable);
        assert_eq!(coverage(14, 16).text(), "88%");
    }

    #[test]
    fn flat_layout() {
        let r = parse(FLAT).expect("flat report");
        assert_eq!(r.layout, Layout::Flat);
        assert_eq!(r.category_rows().count(), 3);
        let t = r.total().expect("Total row");
        assert_eq!((t.amd, t.nvidia), r.expected_total());
        assert_eq!(t.coverage, coverage(t.amd, t.nvidia));
        assert!(!r.trailing_newline);
        for row in &r.rows {
            assert_eq!(row.coverage, coverage(row.amd, row.nvidia), "{row:?}");
        }
    }

    #[test]
    fn sectioned_layout_keeps_summary_rows_opaque() {
        let r = parse(SECTIONED).expect("sectioned report");
        assert_eq!(r.layout, Layout::Sectioned);
        let summary: Vec<_> = r
            .rows
            .iter()
            .filter(|x| x.kind == RowKind::Summary)
            .collect();
        assert_eq!(summary.len(), 2);
        assert_eq!(summary[0].section.as_deref(), Some("CI Category Summary"));
        assert_eq!(r.category_rows().count(), 4);
        assert_eq!(r.expected_total(), (13, 22));
        let t = r.total().expect("Total");
        assert_eq!((t.amd, t.nvidia), (13, 22));
        assert!(r.trailing_newline);
        let na = r
            .rows
            .iter()
            .find(|x| x.category == "frontend")
            .expect("row");
        assert_eq!(na.coverage, Coverage::NotApplicable);
    }

    #[test]
    fn bad_inputs_are_typed_errors() {
        assert_eq!(parse(b""), Err(UpstreamReportError::Empty));
        assert!(matches!(
            parse(b"a,b\n"),
            Err(UpstreamReportError::MissingHeader { .. })
        ));
        let bad = format!("{HEADER}\nx,1,two,50%\n");
        let e = parse(bad.as_bytes()).expect_err("bad count");
        assert_eq!(
            e,
            UpstreamReportError::BadRow {
                line: 2,
                text: "x,1,two,50%".into()
            }
        );
        assert!(e.to_string().contains("line 2"));
        // A report cut before `Total` parses, without a total.
        let cut = format!("{HEADER}\na,1,2,50%\n");
        assert!(parse(cut.as_bytes()).expect("cut").total().is_none());
        // CRLF line ends.
        let crlf = format!("{HEADER}\r\na,1,2,50%\r\nTotal,1,2,50%\r\n");
        assert_eq!(parse(crlf.as_bytes()).expect("crlf").rows.len(), 2);
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1024)) {
            let _ = parse(&data);
            let mut with_header = HEADER.as_bytes().to_vec();
            with_header.push(b'\n');
            with_header.extend_from_slice(&data);
            if let Ok(r) = parse(&with_header) {
                let _ = r.expected_total();
            }
        }

        #[test]
        fn coverage_is_the_nearest_integer(amd in 0u64..10_000, nvidia in 1u64..10_000) {
            let Coverage::Percent(p) = coverage(amd, nvidia) else { unreachable!() };
            let exact = amd as f64 * 100.0 / nvidia as f64;
            prop_assert!((p as f64 - exact).abs() <= 0.5 + 1e-9);
        }
    }
}
