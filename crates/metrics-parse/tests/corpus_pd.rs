//! Corpus conformance of the PD parsers (corpus README §2.6): every `test_summary.txt` of
//! `test/pd/pd_log/` against its `test_gsm8k.log`.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod corpus_support;

use corpus_support::{assert_no_failures, corpus_dir, read, subdirs};
use metrics_parse::pd::{self, Gsm8kAccuracy};

#[derive(Default, Debug)]
struct Counts {
    folders: usize,
    summaries: usize,
    gsm8k_logs: usize,
    empty_gsm8k_logs: usize,
    accuracy_equal: usize,
    accuracy_values: usize,
    accuracy_pending: usize,
    verdict_equal: usize,
    verdict_undecided: usize,
    zero_pass_before_cutoff: usize,
    zero_fail_from_cutoff: usize,
    duration_equal: usize,
    qps_equal: usize,
    setup_equal: usize,
    logs_with_read_timeouts: usize,
    logs_with_http_503: usize,
}

#[test]
fn pd_relations_hold_on_every_folder() {
    let root = corpus_dir("test/pd/pd_log");
    let mut c = Counts::default();
    let mut failures = Vec::new();
    for hw in subdirs(&root) {
        for dir in subdirs(&hw) {
            c.folders += 1;
            let at = dir.display().to_string();
            let summary_path = dir.join("test_summary.txt");
            if !summary_path.is_file() {
                failures.push(format!("{at}: no test_summary.txt"));
                continue;
            }
            c.summaries += 1;
            let s = pd::parse_summary(&read(&summary_path));
            if !s.unrecognized.is_empty() {
                failures.push(format!("{at}: unrecognized lines {:?}", s.unrecognized));
            }
            let log_path = dir.join("test_gsm8k.log");
            let log = log_path.is_file().then(|| {
                let data = read(&log_path);
                c.gsm8k_logs += 1;
                if data.is_empty() {
                    c.empty_gsm8k_logs += 1;
                }
                pd::parse_gsm8k_log(&data)
            });
            if let Some(l) = &log {
                c.logs_with_read_timeouts += usize::from(l.read_timeouts > 0);
                c.logs_with_http_503 += usize::from(l.http_503 > 0);
            }
            let Some(g) = &s.gsm8k else {
                failures.push(format!("{at}: no Test 6 line"));
                continue;
            };

            let want = pd::expected_gsm8k_accuracy(log.as_ref());
            if g.accuracy == want {
                c.accuracy_equal += 1;
                match want {
                    Gsm8kAccuracy::Pending => c.accuracy_pending += 1,
                    _ => c.accuracy_values += 1,
                }
            } else {
                failures.push(format!("{at}: Test 6 {:?} != log {want:?}", g.accuracy));
            }

            let Some(date) = s.image_date() else {
                failures.push(format!("{at}: no image date in Docker Tag"));
                continue;
            };
            match pd::expected_gsm8k_verdict(&g.accuracy, date) {
                Some(v) if v == g.verdict => {
                    c.verdict_equal += 1;
                    let zero = matches!(&g.accuracy, Gsm8kAccuracy::Value(a) if a.parse::<f64>() == Ok(0.0));
                    if zero {
                        if date < pd::ZERO_ACCURACY_FAILS_FROM {
                            c.zero_pass_before_cutoff += 1;
                        } else {
                            c.zero_fail_from_cutoff += 1;
                        }
                    }
                }
                Some(v) => failures.push(format!("{at}: verdict {:?} != {v:?}", g.verdict)),
                None => c.verdict_undecided += 1,
            }

            if s.gsm8k_duration_secs == Some(g.secs) {
                c.duration_equal += 1;
            } else {
                failures.push(format!(
                    "{at}: duration {:?} != ({}s)",
                    s.gsm8k_duration_secs, g.secs
                ));
            }
            let qps = pd::expected_questions_per_second(g.secs);
            if s.questions_per_second.as_ref() == Some(&qps) {
                c.qps_equal += 1;
            } else {
                failures.push(format!("{at}: qps {:?} != {qps:?}", s.questions_per_second));
            }
            if s.steps.len() == 4 && s.setup_time_secs == Some(s.steps_total_secs()) {
                c.setup_equal += 1;
            } else {
                failures.push(format!(
                    "{at}: setup {:?} != sum of {} steps {}",
                    s.setup_time_secs,
                    s.steps.len(),
                    s.steps_total_secs()
                ));
            }
        }
    }
    println!("PD corpus counts: {c:#?}");
    assert_no_failures("PD", &failures);
    assert!(
        c.summaries > 0 && c.accuracy_values > 0,
        "nothing checked: {c:?}"
    );
}
