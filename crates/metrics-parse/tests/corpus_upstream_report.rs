//! Corpus conformance of the upstream CI report parser (corpus README §2.8): every CSV of
//! `upstream_ci/ci_report/`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod corpus_support;

use corpus_support::{
    assert_no_failures, corpus_dir, files_with_extension, first_date, name, read,
};
use metrics_parse::upstream_report::{self, Coverage, Layout, RowKind};

#[derive(Default, Debug)]
struct Counts {
    csv_files: usize,
    flat: usize,
    sectioned: usize,
    coverage_cells_equal: usize,
    coverage_na: usize,
    coverage_above_100: usize,
    coverage_ties: usize,
    total_rows_equal: usize,
    summary_rows_opaque: usize,
    without_trailing_newline: usize,
}

#[test]
fn upstream_report_relations_hold_on_every_csv() {
    let root = corpus_dir("upstream_ci/ci_report");
    let mut c = Counts::default();
    let mut failures = Vec::new();
    for path in files_with_extension(&root, "csv") {
        c.csv_files += 1;
        let at = path.display().to_string();
        let r = match upstream_report::parse(&read(&path)) {
            Ok(r) => r,
            Err(e) => {
                failures.push(format!("{at}: {e}"));
                continue;
            }
        };
        // Layout by date: flat until 2025-11-20, sectioned from 2025-11-25.
        let date = first_date(&name(&path)).unwrap_or(0);
        match r.layout {
            Layout::Flat => {
                c.flat += 1;
                if date > 20251120 {
                    failures.push(format!("{at}: flat layout after 2025-11-20"));
                }
            }
            Layout::Sectioned => {
                c.sectioned += 1;
                if date < 20251125 {
                    failures.push(format!("{at}: sectioned layout before 2025-11-25"));
                }
            }
        }
        c.without_trailing_newline += usize::from(!r.trailing_newline);
        for row in &r.rows {
            let want = upstream_report::coverage(row.amd, row.nvidia);
            if row.coverage == want {
                c.coverage_cells_equal += 1;
                match want {
                    Coverage::NotApplicable => c.coverage_na += 1,
                    Coverage::Percent(p) if p > 100 => c.coverage_above_100 += 1,
                    _ => {}
                }
                if row.nvidia != 0
                    && (row.amd * 200) % row.nvidia == 0
                    && (row.amd * 100) % row.nvidia != 0
                {
                    c.coverage_ties += 1;
                }
            } else {
                failures.push(format!(
                    "{at}:{}: coverage {} != {} for {}/{}",
                    row.line,
                    row.coverage.text(),
                    want.text(),
                    row.amd,
                    row.nvidia
                ));
            }
            if row.kind == RowKind::Summary {
                c.summary_rows_opaque += 1;
            }
        }
        match r.total() {
            Some(t) if (t.amd, t.nvidia) == r.expected_total() => c.total_rows_equal += 1,
            Some(t) => failures.push(format!(
                "{at}: Total ({}, {}) != column sums {:?}",
                t.amd,
                t.nvidia,
                r.expected_total()
            )),
            None => failures.push(format!("{at}: no Total row")),
        }
    }
    println!("upstream report corpus counts: {c:#?}");
    assert_no_failures("", &failures);
    assert!(
        c.csv_files > 0 && c.total_rows_equal == c.csv_files,
        "nothing checked: {c:?}"
    );
}
