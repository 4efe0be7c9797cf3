//! Corpus conformance of the sanity-check parsers (corpus README §2.5): every tag folder of
//! `test/sanity_check_log/`, every timing summary and the client logs the summaries quote.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod corpus_support;

use std::collections::BTreeMap;

use corpus_support::{assert_no_failures, corpus_dir, first_date, name, read, subdirs};
use metrics_parse::sanity::{
    self, ClientAccuracy, Count, EarlyExit, Mark, ModelStatus, SanityFolder, SanitySummary,
    TrialOutcome, VerdictGeneration,
};

#[derive(Default, Debug)]
struct Counts {
    folders: usize,
    summaries: usize,
    complete_summaries: usize,
    truncated_summaries: usize,
    sections: usize,
    last_sections: usize,
    trials_equal: usize,
    trials_pass_rule: usize,
    trials_no_accuracy_confirmed: usize,
    trials_without_client_log: usize,
    accuracies_last: usize,
    accuracies_last_highest: usize,
    accuracies_all: usize,
    gen_average: usize,
    gen_highest: usize,
    gen_early_exit: usize,
    gen_average_last: usize,
    gen_highest_last: usize,
    gen_early_exit_last: usize,
    warmup_logs: usize,
    warmup_equal: usize,
    warmup_logs_without_section: usize,
    overall_files: usize,
    overall_average_time: usize,
    skipped_blocks: usize,
    startup_failed_sections: usize,
}

fn fmt3(x: f64) -> String {
    format!("{x:.3}")
}

/// Date (`YYYYMMDD`) a timing summary was started, from its file name.
fn summary_date(file: &str) -> u32 {
    first_date(file).unwrap_or_else(|| panic!("no date in {file}"))
}

#[test]
fn sanity_relations_hold_on_every_folder() {
    let root = corpus_dir("test/sanity_check_log");
    let mut c = Counts::default();
    let mut failures: Vec<String> = Vec::new();

    for hw_dir in subdirs(&root) {
        for tag_dir in subdirs(&hw_dir) {
            c.folders += 1;
            let folder = SanityFolder::read(&tag_dir).unwrap_or_else(|e| panic!("{e}"));
            let where_ = tag_dir.display().to_string();

            for f in &folder.summaries {
                c.summaries += 1;
                let s = &f.summary;
                if !s.unrecognized.is_empty() {
                    failures.push(format!(
                        "{where_}/{}: unrecognized lines {:?}",
                        f.name, s.unrecognized
                    ));
                }
                if s.overall.is_some() {
                    c.complete_summaries += 1;
                } else {
                    c.truncated_summaries += 1;
                }
                c.sections += s.sections.len();
                c.skipped_blocks += s.skipped.len();
                check_sections_of_file(s, &f.name, &where_, &mut c, &mut failures);
                check_overall(s, &f.name, &where_, &mut c, &mut failures);
            }

            for sec in folder.last_sections() {
                c.last_sections += 1;
                check_last_section(&folder, sec, &where_, &mut c, &mut failures);
            }
            check_warmup_logs(&folder, &mut c, &mut failures);
        }
    }

    println!("sanity corpus counts: {c:#?}");
    assert_no_failures("sanity relation", &failures);
    assert!(
        c.folders > 0 && c.trials_equal > 0 && c.overall_files > 0,
        "nothing checked: {c:?}"
    );
}

/// Verdict rules that hold inside one file, for every section.
fn check_sections_of_file(
    s: &SanitySummary,
    file: &str,
    where_: &str,
    c: &mut Counts,
    failures: &mut Vec<String>,
) {
    let date = summary_date(file);
    for sec in &s.sections {
        let at = format!("{where_}/{file}:{} {}", sec.line, sec.model);
        if matches!(sec.outcome(), sanity::SectionOutcome::StartupFailed) {
            c.startup_failed_sections += 1;
        }
        let Some(v) = &sec.verdict else {
            if sec.final_result.is_some() {
                failures.push(format!("{at}: final result without a verdict line"));
            }
            continue;
        };
        let Some(final_result) = sec.final_result else {
            failures.push(format!("{at}: verdict line without a final result"));
            continue;
        };
        let (acc, req) = (v.accuracy.value, v.required.value);
        let values: Vec<f64> = sec.trials.iter().map(|t| t.accuracy_value()).collect();
        // Generation by date (README §2.5): Average up to 10-20, Highest 10-28 … 12-11,
        // early exit from 12-12.
        let date_ok = match v.generation {
            VerdictGeneration::Average => date <= 20251027,
            VerdictGeneration::Highest => (20251021..=20251211).contains(&date),
            VerdictGeneration::EarlyExit => date >= 20251212,
        };
        if !date_ok {
            failures.push(format!("{at}: {:?} verdict on {date}", v.generation));
        }
        if let Some(list) = &sec.accuracies {
            c.accuracies_all += 1;
            check_repr(&list.text, &values, "repr of trials", &at, failures);
        }
        let expected_pass = acc >= req;
        if (final_result == Mark::Pass) != expected_pass {
            failures.push(format!(
                "{at}: final {final_result:?} but {acc} vs required {req}"
            ));
        }
        match v.generation {
            VerdictGeneration::Average => {
                c.gen_average += 1;
                let mean = values.iter().sum::<f64>() / values.len() as f64;
                if fmt3(mean) != v.accuracy.text {
                    failures.push(format!("{at}: mean {} != {}", fmt3(mean), v.accuracy.text));
                }
            }
            VerdictGeneration::Highest => {
                c.gen_highest += 1;
                let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                if fmt3(max) != v.accuracy.text {
                    failures.push(format!("{at}: max {} != {}", fmt3(max), v.accuracy.text));
                }
            }
            VerdictGeneration::EarlyExit => {
                c.gen_early_exit += 1;
                let source = match sec.early_exit {
                    Some(EarlyExit::WarmupPassed { .. }) => sec
                        .warmup
                        .as_ref()
                        .and_then(|w| w.accuracy.as_ref())
                        .map(|a| a.text.clone()),
                    Some(EarlyExit::PassedOnTrial { trial, .. }) => sec
                        .trials
                        .iter()
                        .find(|t| t.number == trial && t.passed())
                        .and_then(|t| match &t.outcome {
                            TrialOutcome::Accuracy { accuracy, .. } => Some(accuracy.text.clone()),
                            _ => None,
                        }),
                    None => None,
                };
                if source.as_deref() != Some(v.accuracy.text.as_str()) {
                    failures.push(format!(
                        "{at}: early-exit accuracy {} != warm-up/passing trial {source:?}",
                        v.accuracy.text
                    ));
                }
            }
        }
    }
}

/// The trials of the last section of a model are the client logs on disk.
fn check_last_section(
    folder: &SanityFolder,
    sec: &sanity::ModelSection,
    where_: &str,
    c: &mut Counts,
    failures: &mut Vec<String>,
) {
    let at = format!("{where_} {} (line {})", sec.model, sec.line);
    let required = sec.verdict.as_ref().map(|v| v.required.value);
    let mut client_values = Vec::new();
    for t in &sec.trials {
        let path = folder.client_log(sec, t.number);
        if !path.is_file() {
            c.trials_without_client_log += 1;
            client_values.push(t.accuracy_value());
            continue;
        }
        let client = sanity::client_accuracy(&read(&path));
        match (&t.outcome, &client) {
            (TrialOutcome::Accuracy { mark, accuracy }, ClientAccuracy::Found(n)) => {
                let v = n.value;
                client_values.push(v);
                if fmt3(v) == accuracy.text {
                    c.trials_equal += 1;
                } else {
                    failures.push(format!(
                        "{at} trial {}: summary {} != client {}",
                        t.number, accuracy.text, n.text
                    ));
                }
                if let Some(r) = required {
                    if (*mark == Mark::Pass) == (v >= r) {
                        c.trials_pass_rule += 1;
                    } else {
                        failures.push(format!("{at} trial {}: {mark:?} with {v} vs {r}", t.number));
                    }
                }
            }
            (TrialOutcome::NoAccuracy { .. }, ClientAccuracy::Missing) => {
                c.trials_no_accuracy_confirmed += 1;
                client_values.push(0.0);
            }
            (TrialOutcome::ServerDied | TrialOutcome::Timeout { .. }, _) => client_values.push(0.0),
            (o, cl) => failures.push(format!("{at} trial {}: {o:?} vs client {cl:?}", t.number)),
        }
    }
    if let Some(list) = &sec.accuracies {
        c.accuracies_last += 1;
        if sec.generation() == Some(VerdictGeneration::Highest) {
            c.accuracies_last_highest += 1;
        }
        check_repr(&list.text, &client_values, "client logs", &at, failures);
    }
    match sec.generation() {
        Some(VerdictGeneration::Average) => c.gen_average_last += 1,
        Some(VerdictGeneration::Highest) => c.gen_highest_last += 1,
        Some(VerdictGeneration::EarlyExit) => c.gen_early_exit_last += 1,
        None => {}
    }
}

/// Every `<MODEL>_<hw>_warmup.log`: its first `Accuracy:` is the accuracy of the last
/// `Warmup run:` line of that model over the folder's summaries (a later section whose start-up
/// failed ran no warm-up and left the log alone).
fn check_warmup_logs(folder: &SanityFolder, c: &mut Counts, failures: &mut Vec<String>) {
    for path in corpus_support::sorted_entries(&folder.dir) {
        let file = name(&path);
        let Some(stem) = file.strip_suffix("_warmup.log") else {
            continue;
        };
        c.warmup_logs += 1;
        let Some((model, hw)) = stem.rsplit_once('_') else {
            failures.push(format!("{}: odd warm-up log name", path.display()));
            continue;
        };
        let last_warmup = folder
            .summaries
            .iter()
            .flat_map(|f| &f.summary.sections)
            .filter(|s| s.model == model && s.hardware == hw)
            .filter_map(|s| s.warmup.as_ref())
            .next_back();
        let got = sanity::client_accuracy(&read(&path));
        match (last_warmup.and_then(|w| w.accuracy.as_ref()), got.value()) {
            (Some(a), Some(v)) if fmt3(v) == a.text => c.warmup_equal += 1,
            (None, _) => c.warmup_logs_without_section += 1,
            (a, _) => failures.push(format!(
                "{}: warm-up line {a:?} vs log {got:?}",
                path.display()
            )),
        }
    }
}

/// OVERALL SUMMARY consistency with the sections of the same file.
fn check_overall(
    s: &SanitySummary,
    file: &str,
    where_: &str,
    c: &mut Counts,
    failures: &mut Vec<String>,
) {
    let Some(o) = &s.overall else { return };
    let at = format!("{where_}/{file}: OVERALL");
    c.overall_files += 1;
    let models = s.header.models.clone().unwrap_or_default();
    let m = models.len() as u32;
    // Last section per model inside this file.
    let mut last: BTreeMap<&str, &sanity::ModelSection> = BTreeMap::new();
    for sec in &s.sections {
        last.insert(sec.model.as_str(), sec);
    }
    let tested = last.len() as u32;
    let skipped = s.skipped.len() as u32;
    let passed = last
        .values()
        .filter(|x| x.overall_status() == Some(ModelStatus::Pass))
        .count() as u32;
    let failed = last
        .values()
        .filter(|x| x.overall_status() == Some(ModelStatus::Fail))
        .count() as u32;

    let mut fail = |msg: String| failures.push(format!("{at}: {msg}"));
    if tested + skipped != m {
        fail(format!("{tested} tested + {skipped} skipped != {m} models"));
    }
    if o.tested.is_some_and(|t| t != (tested, m)) {
        fail(format!("Models tested {:?} != ({tested}, {m})", o.tested));
    }
    if o.skipped.is_some_and(|sk| sk != (skipped, m)) {
        fail(format!(
            "Models skipped {:?} != ({skipped}, {m})",
            o.skipped
        ));
    }
    let want = |n: u32| {
        if tested == 0 {
            Count::NoneTested
        } else {
            Count::Ratio { n, of: tested }
        }
    };
    if o.passed != Some(want(passed)) {
        fail(format!(
            "Models passed {:?} != {:?}",
            o.passed,
            want(passed)
        ));
    }
    if o.failed.is_some() && o.failed != Some(want(failed)) {
        fail(format!(
            "Models failed {:?} != {:?}",
            o.failed,
            want(failed)
        ));
    }
    let expected: Vec<(String, ModelStatus)> = models
        .iter()
        .map(|model| {
            let st = match last.get(model.as_str()) {
                Some(sec) => sec.overall_status().unwrap_or(ModelStatus::Skipped),
                None => ModelStatus::Skipped,
            };
            (model.clone(), st)
        })
        .collect();
    if o.per_model != expected {
        fail(format!("per-model lines {:?} != {expected:?}", o.per_model));
    }
    match (&o.total_secs, &o.average_per_model) {
        (Some(total), Some(avg)) => {
            let want = format!("{:.2}", total.value / f64::from(m));
            if want == avg.text {
                c.overall_average_time += 1;
            } else {
                fail(format!(
                    "average {} != {} / {m} = {want}",
                    avg.text, total.text
                ));
            }
        }
        _ => fail("no total/average time".into()),
    }
}

/// The `Accuracies:` list of a section is Python's repr of `values` (`of` says where they
/// come from in the failure).
fn check_repr(text: &str, values: &[f64], of: &str, at: &str, failures: &mut Vec<String>) {
    let want = sanity::py_list_repr(values);
    if text != want {
        failures.push(format!("{at}: Accuracies {text} != {of} {want}"));
    }
}
