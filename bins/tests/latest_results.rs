//! `latest-results`: the newest run folder per hardware, model, variant and mode, with its
//! numbers, as JSON for jq. On the corpus (every group's pick is checked against the folder
//! names, independently) and on a temporary tree built from one corpus run folder (dates,
//! backups, modes and filters under control).

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde_json::Value;
use support::run_args;

const BIN: &str = env!("CARGO_BIN_EXE_latest-results");
const LIMIT: Duration = Duration::from_secs(120);

fn latest(args: &[&str]) -> Vec<Value> {
    let r = run_args(BIN, args, LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let v: Value = serde_json::from_str(&r.stdout).unwrap_or_else(|e| panic!("{e}\n{}", r.all()));
    v.as_array().expect("a JSON array").clone()
}

/// `(tag, model, variant, suffix)` of a run folder name, parsed here on its own (not with the
/// reader under test): `<tag>_<MODEL>_<VARIANT>_online<suffix>`.
fn parts(name: &str) -> Option<(String, String, String, String)> {
    if name.contains(".backup_") {
        return None;
    }
    let (tag, rest) = name.split_once('_')?;
    let at = rest.find("_online")?;
    let (mv, suffix) = (&rest[..at], &rest[at + 7..]);
    let (model, variant) = mv.rsplit_once('_')?;
    Some((tag.into(), model.into(), variant.into(), suffix.into()))
}

fn date_of(tag: &str) -> String {
    tag.rsplit('-').next().unwrap_or_default().to_owned()
}

#[test]
fn on_the_corpus_each_group_gets_its_newest_folder_with_numbers() {
    let root = support::corpus("online_benchmark_log");
    let tree = root.join("online_benchmark_log");
    let r = run_args(BIN, &["--benchmark-dir", tree.to_str().unwrap()], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let runs: Vec<Value> = serde_json::from_str(&r.stdout).unwrap();
    assert!(runs.len() >= 5, "{runs:?}");
    // Folders the reader could not read are named on stderr, one line each; they are out of
    // the race.
    let skipped: Vec<&str> = r
        .stderr
        .lines()
        .filter_map(|l| l.split_once(" skipped ").map(|(_, rest)| rest))
        .filter_map(|rest| rest.split_once(": ").map(|(path, _)| path))
        .collect();
    assert!(
        r.stderr.lines().all(|l| l.contains(" WARN skipped ")),
        "{}",
        r.stderr
    );

    // The newest image date of every (hardware of the tag, model, variant, mode), from the
    // folder names alone; tags without a hardware token are not checked here.
    let hw_of = |tag: &str| {
        tag.split('-')
            .find(|p| p.starts_with("mi3") && p.ends_with('x'))
            .map(str::to_owned)
    };
    let mut newest: BTreeMap<(String, String, String, String), String> = BTreeMap::new();
    for run in report::corpus::online_run_folders(&root).unwrap() {
        let name = run.file_name().unwrap().to_string_lossy().into_owned();
        if !skipped.contains(&run.to_str().unwrap())
            && let Some((tag, m, v, suffix)) = parts(&name)
            && let Some(h) = hw_of(&tag)
        {
            let e = newest
                .entry((h, m, v, format!("online{suffix}")))
                .or_default();
            if date_of(&tag) > *e {
                *e = date_of(&tag);
            }
        }
    }
    let mut keys = std::collections::BTreeSet::new();
    let mut with_numbers = 0;
    let mut checked = 0;
    for r in &runs {
        let key = (
            r["hardware"].to_string(),
            r["model"].as_str().unwrap().to_owned(),
            r["variant"].as_str().unwrap().to_owned(),
            r["mode"].as_str().unwrap().to_owned(),
        );
        assert!(keys.insert(key.clone()), "one entry per group: {key:?}");
        let folder = PathBuf::from(r["folder"].as_str().unwrap());
        assert!(folder.is_dir(), "{folder:?}");
        let tag = r["tag"].as_str().unwrap();
        if let Some(h) = hw_of(tag) {
            let best = &newest[&(h, key.1.clone(), key.2.clone(), key.3.clone())];
            assert_eq!(
                &date_of(tag),
                best,
                "{key:?}: {tag} is not the newest ({best})"
            );
            checked += 1;
        }
        let numbers: Vec<f64> = r["loads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|l| {
                ["median_e2e_ms", "median_ttft_ms", "median_itl_ms"]
                    .into_iter()
                    .filter_map(|k| l[k].as_f64())
            })
            .collect();
        assert!(numbers.iter().all(|x| *x > 0.0), "{r}");
        with_numbers += usize::from(!numbers.is_empty());
    }
    assert!(with_numbers >= 3, "most groups have numbers: {runs:?}");
    assert!(checked >= 5, "{runs:?}");
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        if e.file_type().unwrap().is_file() {
            std::fs::copy(e.path(), to.join(e.file_name())).unwrap();
        }
    }
}

/// A folder holding at least one client log (a run folder the reader can read).
fn has_client_logs(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| {
        d.any(|f| {
            f.is_ok_and(|f| {
                f.file_name()
                    .to_string_lossy()
                    .starts_with("sglang_client_log_")
            })
        })
    })
}

/// A Grok-1 run folder of the corpus with client logs.
fn corpus_grok_run() -> PathBuf {
    let root = support::corpus("online_benchmark_log/mi30x/GROK1");
    report::corpus::online_run_folders(&root)
        .unwrap()
        .into_iter()
        .rfind(|p| p.to_string_lossy().contains("/mi30x/GROK1/") && has_client_logs(p))
        .expect("a GROK1 run folder with client logs")
}

#[test]
fn on_a_tree_the_newest_date_wins_backups_are_ignored_and_modes_stay_apart() {
    let src = corpus_grok_run();
    let tmp = tempfile::tempdir().unwrap();
    let g = tmp.path().join("online/GROK1");
    let old = "v0.5.4-rocm630-mi30x-20251001";
    let new = "v0.5.4-rocm630-mi30x-20251029";
    let newer_backup = "v0.5.4-rocm630-mi30x-20251130";
    copy_dir(&src, &g.join(format!("{old}_GROK1_MOE-I4F8_online")));
    copy_dir(&src, &g.join(format!("{new}_GROK1_MOE-I4F8_online")));
    copy_dir(
        &src,
        &g.join(format!(
            "{newer_backup}_GROK1_MOE-I4F8_online.backup_20251130_1"
        )),
    );
    copy_dir(
        &src,
        &g.join(format!("{old}_GROK1_MOE-I4F8_online_mtp_test")),
    );
    // Not a run folder name, and a run folder without client logs (named on stderr).
    copy_dir(&src, &tmp.path().join("online/GROK1/notes"));
    std::fs::create_dir_all(
        tmp.path()
            .join("online/GROK2/v0.5.4-rocm630-mi30x-20251101_GROK2_FP8_online"),
    )
    .unwrap();

    let dir = tmp.path().to_str().unwrap();
    let runs = latest(&["--benchmark-dir", dir]);
    assert_eq!(runs.len(), 2, "{runs:#?}");
    let plain = &runs[0];
    assert_eq!(plain["mode"], "online");
    assert_eq!(plain["tag"], new);
    assert_eq!(plain["image_date"], "20251029");
    assert_eq!(plain["hardware"], "mi30x");
    assert_eq!(plain["load_metric"], "request_rate");
    assert_eq!(plain["older_runs"], 1);
    assert!(!plain["loads"].as_array().unwrap().is_empty());
    assert_eq!(runs[1]["mode"], "online_mtp_test");
    assert_eq!(runs[1]["tag"], old);
    // The same folder's numbers as rebuild-csv's CSV: each median appears in it.
    let csv = run_args(
        env!("CARGO_BIN_EXE_rebuild-csv"),
        &["--run-dir", plain["folder"].as_str().unwrap()],
        LIMIT,
    );
    assert_eq!(csv.code, Some(0), "{}", csv.all());
    let cells: Vec<f64> = csv
        .stdout
        .split(['\t', '\n'])
        .filter_map(|c| c.trim().parse().ok())
        .collect();
    for l in plain["loads"].as_array().unwrap() {
        if let Some(x) = l["median_e2e_ms"].as_f64() {
            assert!(cells.contains(&x), "{x} in\n{}", csv.stdout);
        }
    }

    // The empty GROK2 folder is named on stderr; the output stays one JSON array.
    let r = run_args(BIN, &["--benchmark-dir", dir], LIMIT);
    assert!(r.stderr.contains("GROK2_FP8_online"), "{}", r.all());

    assert!(latest(&["--benchmark-dir", dir, "--model", "GROK2"]).is_empty());
    assert_eq!(
        latest(&["--benchmark-dir", dir, "--json", "--model=GROK1"]).len(),
        2
    );

    let r = run_args(BIN, &["--benchmark-dir", dir, "--format", "text"], LIMIT);
    assert_eq!(r.code, Some(0), "{}", r.all());
    let mut lines = r.stdout.lines();
    assert!(lines.next().unwrap().starts_with("hardware\tmodel\t"));
    assert!(
        lines.all(|l| l.starts_with("mi30x\tGROK1\tMOE-I4F8\t")),
        "{}",
        r.stdout
    );

    let empty = tempfile::tempdir().unwrap();
    assert!(latest(&["--benchmark-dir", empty.path().to_str().unwrap()]).is_empty());

    let r = run_args(BIN, &["--benchmark-dir", "/nonexistent/ci"], LIMIT);
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stderr.contains("/nonexistent/ci"), "{}", r.all());
    assert_eq!(r.stderr.lines().count(), 1, "{}", r.all());
}
