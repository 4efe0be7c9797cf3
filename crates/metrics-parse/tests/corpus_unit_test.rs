//! Corpus conformance of the unit-test log parser (corpus README §2.7): every log of
//! `test/unit-test-backend-8-gpu-CAR-amd/`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod corpus_support;

use corpus_support::{assert_no_failures, corpus_dir, files_with_extension, read};
use metrics_parse::unit_test::{self, UnitResult, UnittestOutcome};

#[derive(Default, Debug)]
struct Counts {
    logs: usize,
    with_machine: usize,
    result_matches_exit_code: usize,
    exit_0: usize,
    exit_0_ok: usize,
    exit_1: usize,
    exit_1_failed_errors: usize,
    exit_137: usize,
    exit_137_no_summary: usize,
    other_exit: usize,
}

#[test]
fn unit_test_relations_hold_on_every_log() {
    let root = corpus_dir("test/unit-test-backend-8-gpu-CAR-amd");
    let mut c = Counts::default();
    let mut failures = Vec::new();
    for path in files_with_extension(&root, "log") {
        c.logs += 1;
        let at = path.display().to_string();
        let l = unit_test::parse(&read(&path));
        let h = &l.header;
        if !(h.banner
            && h.test.is_some()
            && h.image.is_some()
            && h.container.is_some()
            && h.hardware.is_some()
            && h.start_time.is_some()
            && h.test_directory.is_some()
            && h.command.is_some())
        {
            failures.push(format!("{at}: incomplete header {h:?}"));
        }
        c.with_machine += usize::from(h.machine.is_some());
        let Some(f) = &l.footer else {
            failures.push(format!("{at}: no footer"));
            continue;
        };
        let (Some(code), Some(result), Some(_)) = (f.exit_code, &f.result, &f.end_time) else {
            failures.push(format!("{at}: incomplete footer {f:?}"));
            continue;
        };
        // Result: PASSED iff Exit code: 0.
        if (*result == UnitResult::Passed) == (code == 0) {
            c.result_matches_exit_code += 1;
        } else {
            failures.push(format!("{at}: Result {result:?} with exit code {code}"));
        }
        let outcome = l.summary.as_ref().and_then(|s| s.outcome.as_ref());
        match code {
            0 => {
                c.exit_0 += 1;
                if matches!(outcome, Some(UnittestOutcome::Ok { .. })) {
                    c.exit_0_ok += 1;
                } else {
                    failures.push(format!("{at}: exit 0 with unittest outcome {outcome:?}"));
                }
            }
            1 => {
                c.exit_1 += 1;
                match outcome {
                    Some(UnittestOutcome::Failed {
                        errors: Some(1 | 2),
                        ..
                    }) => c.exit_1_failed_errors += 1,
                    o => failures.push(format!("{at}: exit 1 with unittest outcome {o:?}")),
                }
            }
            137 => {
                c.exit_137 += 1;
                if l.summary.is_none() {
                    c.exit_137_no_summary += 1;
                } else {
                    failures.push(format!("{at}: killed run with a unittest summary"));
                }
            }
            _ => c.other_exit += 1,
        }
    }
    println!("unit-test corpus counts: {c:#?}");
    assert_no_failures("unit-test", &failures);
    assert!(
        c.logs > 0 && c.result_matches_exit_code == c.logs,
        "nothing checked: {c:?}"
    );
}
