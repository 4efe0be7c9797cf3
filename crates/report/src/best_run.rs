//! The best-run rule of the online benchmarks (corpus README §2.1, spec benchmarks.md §4.9,
//! §5.9.1, quirk K-6) and the combined rule that predicts every cell of a legacy CSV.
//!
//! For a load X (request rate or concurrency):
//!
//! 1. candidates are X's client logs in lexicographic file-name order;
//! 2. each candidate's value is its **first** `Median E2E Latency (ms):` number; candidates
//!    without one (killed, traceback, no result block) are skipped;
//! 3. the best is the smallest value (strict `<`: the earlier file wins a tie);
//! 4. the cells are the best run's E2E, TTFT and ITL medians, verbatim (not independently
//!    minimised);
//! 5. no candidate with a value → three empty cells.
//!
//! Combined rule: the original rewrote the CSV only after all runs of a load finished, so a
//! cell is filled **iff** (a) some candidate has a value **and** (b) some timing summary of
//! the folder says `Completed rate X - Total time` / `Completed concurrency X - Total time`, or
//! `All logs already complete - skipping server startup` (the CSV was regenerated from the
//! logs). [`predict`] applies it and says which case each load falls in ([`CellOutcome`]).

use std::collections::BTreeSet;

use metrics_parse::client_log::ToolkitMedians;
use metrics_parse::timing_summary::TimingSummary;
use serde::Serialize;

use crate::online_csv::{Cell, LoadCells};

/// One candidate log of a load.
#[derive(Debug, Clone, Copy)]
pub struct Candidate<'a> {
    /// File name (sorting key).
    pub file_name: &'a str,
    /// The toolkit's reading of the three medians.
    pub medians: &'a ToolkitMedians,
}

/// The index (into `candidates`) of the best run, or `None` when no candidate has a median
/// E2E. Candidates are ranked in lexicographic file-name order whatever their input order.
pub fn best(candidates: &[Candidate<'_>]) -> Option<usize> {
    let mut order: Vec<usize> = (0..candidates.len()).collect();
    order.sort_by(|&a, &b| candidates[a].file_name.cmp(candidates[b].file_name));
    let mut best: Option<(usize, f64)> = None;
    for i in order {
        let Some(e2e) = candidates[i].medians.e2e.as_ref() else {
            continue;
        };
        if best.is_none_or(|(_, v)| e2e.value < v) {
            best = Some((i, e2e.value));
        }
    }
    best.map(|(i, _)| i)
}

/// What the timing summaries of a folder say about which loads were written to the CSV.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CompletionEvidence {
    /// Loads with a `Completed rate|concurrency <X> - Total time` line in any summary.
    pub completed: BTreeSet<String>,
    /// Some summary says `All logs already complete - skipping server startup`.
    pub regenerated: bool,
}

impl CompletionEvidence {
    /// Collects the evidence from every timing summary of a folder.
    pub fn from_summaries<'a>(summaries: impl IntoIterator<Item = &'a TimingSummary>) -> Self {
        let mut ev = Self::default();
        for t in summaries {
            ev.regenerated |= t.all_logs_complete;
            if let Some(p) = &t.phase {
                ev.completed
                    .extend(p.completed.iter().map(|c| c.load.clone()));
            }
        }
        ev
    }

    /// True when the original would have written load `load`'s cells.
    pub fn written(&self, load: &str) -> bool {
        self.regenerated || self.completed.contains(load)
    }
}

/// Which case of the combined rule a load falls in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "case", rename_all = "snake_case")]
pub enum CellOutcome {
    /// Cells filled from the best run.
    Filled {
        /// The best run's file name.
        best: String,
    },
    /// Empty: no candidate log has a result (derivable empty).
    NoResult {
        /// How many candidate logs there were.
        candidates: usize,
    },
    /// Empty although a log has a result: no timing summary says the load completed (the job
    /// was killed before the CSV was rewritten).
    NotCompleted {
        /// The run that would have been best.
        best: String,
    },
}

/// The cells of load `load` under the combined rule (with `evidence = None`, the plain
/// best-run rule: filled whenever a result exists). A best run without a TTFT or ITL value
/// (a block cut off after its E2E line) gives an empty cell for it.
pub fn predict(
    load: &str,
    candidates: &[Candidate<'_>],
    evidence: Option<&CompletionEvidence>,
) -> (LoadCells, CellOutcome) {
    let Some(i) = best(candidates) else {
        return (
            LoadCells::empty(load),
            CellOutcome::NoResult {
                candidates: candidates.len(),
            },
        );
    };
    let c = candidates[i];
    if evidence.is_some_and(|ev| !ev.written(load)) {
        return (
            LoadCells::empty(load),
            CellOutcome::NotCompleted {
                best: c.file_name.to_owned(),
            },
        );
    }
    let cell = |n: &Option<metrics_parse::value::Num>| {
        n.as_ref()
            .map_or(Cell::Empty, |n| Cell::Value(n.text.clone()))
    };
    (
        LoadCells {
            load: load.to_owned(),
            e2e: cell(&c.medians.e2e),
            ttft: cell(&c.medians.ttft),
            itl: cell(&c.medians.itl),
        },
        CellOutcome::Filled {
            best: c.file_name.to_owned(),
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_parse::value::Num;

    fn cand<'a>(file_name: &'a str, medians: &'a ToolkitMedians) -> Candidate<'a> {
        Candidate { file_name, medians }
    }

    fn m(e2e: Option<&str>, ttft: &str, itl: &str) -> ToolkitMedians {
        ToolkitMedians {
            e2e: e2e.and_then(Num::parse),
            ttft: Num::parse(ttft),
            itl: Num::parse(itl),
        }
    }

    #[test]
    fn smallest_e2e_wins_and_ttft_itl_come_from_the_same_run() {
        // Spec §4.9 example: run2 has the lower TTFT but run1 has the lowest E2E.
        let r1 = m(Some("95893.42"), "295.12", "119.76");
        let r2 = m(Some("98658.09"), "294.52", "121.05");
        let r3 = m(Some("97440.96"), "296.99", "121.03");
        let c = [
            cand("x_8_run3_t.log", &r3),
            cand("x_8_run1_t.log", &r1),
            cand("x_8_run2_t.log", &r2),
        ];
        assert_eq!(best(&c), Some(1));
        let (cells, outcome) = predict("8", &c, None);
        assert_eq!(cells.e2e, Cell::Value("95893.42".into()));
        assert_eq!(cells.ttft, Cell::Value("295.12".into()));
        assert_eq!(cells.itl, Cell::Value("119.76".into()));
        assert_eq!(
            outcome,
            CellOutcome::Filled {
                best: "x_8_run1_t.log".into()
            }
        );
    }

    #[test]
    fn ties_keep_the_earlier_file_and_numbers_compare_numerically() {
        let a = m(Some("100.00"), "1", "1");
        let b = m(Some("100.0"), "2", "2");
        let c = m(Some("99.5"), "3", "3");
        let tie = [cand("b.log", &b), cand("a.log", &a)];
        assert_eq!(best(&tie), Some(1));
        let numeric = [cand("a.log", &a), cand("c.log", &c)];
        assert_eq!(best(&numeric), Some(1), "99.5 < 100.00 although '9' > '1'");
    }

    #[test]
    fn logs_without_result_are_skipped_and_none_gives_empty_cells() {
        let dead = ToolkitMedians::default();
        let c = [cand("a.log", &dead)];
        let (cells, outcome) = predict("4", &c, None);
        assert_eq!(cells, LoadCells::empty("4"));
        assert_eq!(outcome, CellOutcome::NoResult { candidates: 1 });
        let (_, outcome) = predict("4", &[], None);
        assert_eq!(outcome, CellOutcome::NoResult { candidates: 0 });
    }

    #[test]
    fn combined_rule_needs_completion_evidence() {
        let r = m(Some("1.00"), "2.00", "3.00");
        let c = [cand("a.log", &r)];
        let mut ev = CompletionEvidence::default();
        let (cells, outcome) = predict("4", &c, Some(&ev));
        assert_eq!(cells, LoadCells::empty("4"));
        assert_eq!(
            outcome,
            CellOutcome::NotCompleted {
                best: "a.log".into()
            }
        );
        ev.completed.insert("4".into());
        assert!(matches!(
            predict("4", &c, Some(&ev)).1,
            CellOutcome::Filled { .. }
        ));
        let regen = CompletionEvidence {
            regenerated: true,
            ..Default::default()
        };
        assert!(regen.written("16"));
    }

    #[test]
    fn evidence_from_summaries() {
        let t = TimingSummary::parse(b"Client Benchmark Results:\nCompleted rate 1 - Total time: 9 seconds\nCompleted rate 16 - Total time: 9 seconds\n");
        let r = TimingSummary::parse(b"All logs already complete - skipping server startup\n");
        let ev = CompletionEvidence::from_summaries([&t]);
        assert!(ev.written("1") && ev.written("16") && !ev.written("2"));
        assert!(CompletionEvidence::from_summaries([&t, &r]).written("2"));
    }
}
