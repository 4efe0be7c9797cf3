//! The benchmark card's performance analysis reads its series from the history store when
//! one is configured: the same verdicts as from the run folders, and the store alone is
//! enough once the folders are gone.

use std::path::Path;

use alerts::benchmark::{BenchmarkConfig, Mode, ModeFlags, Model, PerfRow, performance_rows};
use alerts::common::Clock;
use chrono::TimeZone;
use report::regression::{Rule, VerdictKind};

/// One GROK1 night below `<root>/online/GROK1/`: rates 1 2 4, E2E = 100 × TTFT, ITL flat.
fn write_night(root: &Path, date: &str, variant: &str, ttft: [f64; 3]) {
    let tag = format!("v0.5.6-rocm700-mi30x-{date}");
    let folder = root
        .join("online/GROK1")
        .join(format!("{tag}_GROK1_{variant}_online"));
    std::fs::create_dir_all(&folder).unwrap();
    let row = |v: [f64; 3]| {
        format!(
            "MI300x-aiter, host-1\t{:.2}\t{:.2}\t{:.2}",
            v[0], v[1], v[2]
        )
    };
    let csv = format!(
        "Online mode - GROK1 ({tag})\n\nMedian E2E Latency (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n\nMedian TTFT (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n\nMedian ITL (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n",
        row(ttft.map(|t| t * 100.0)),
        row(ttft),
        row([20.0, 21.0, 22.0])
    );
    std::fs::write(
        folder.join(format!("{tag}_GROK1_{variant}_online.csv")),
        csv,
    )
    .unwrap();
    std::fs::write(
        folder.join(format!("timing_summary_{date}_060000.log")),
        "Hostname: host-1\nGSM8K Test Results:\n  GSM8K accuracy: 0.812\n",
    )
    .unwrap();
}

/// Ten nights: rate 4 20 % slower on the last two (regression), rate 2 one spike on the last
/// (suspicious), rate 1 quiet; night 6 ran on a fallback image (never a baseline night);
/// plus a dp-attention variant that must not be judged here.
fn planted(root: &Path) {
    let noise = [100.0, 101.0, 99.0, 100.5, 99.5, 100.0, 100.2, 99.8];
    for i in 0..10 {
        let date = format!("202511{:02}", i + 1);
        let base = noise.get(i).copied().unwrap_or(100.0);
        let (r2, r4) = match i {
            8 => (base, 120.0),
            9 => (121.0, 121.0),
            _ => (base, base),
        };
        write_night(root, &date, "MOE-I4F8", [base, r2, r4]);
        if i == 5 {
            // A fallback night: the folder's first invocation two days earlier.
            let tag = format!("v0.5.6-rocm700-mi30x-{date}");
            std::fs::write(
                root.join("online/GROK1")
                    .join(format!("{tag}_GROK1_MOE-I4F8_online"))
                    .join("timing_summary_20251104_060000.log"),
                "Hostname: host-1\n",
            )
            .unwrap();
        }
        write_night(root, &date, "MOE-I4F8_dp_attention", [base, base, 500.0]);
    }
}

fn cfg(dir: &Path, store: Option<history_store::Location>) -> BenchmarkConfig {
    BenchmarkConfig {
        model: Model::Grok,
        mode: Mode::Online,
        plot_dir: dir.join("plots_server"),
        benchmark_dir: dir.to_owned(),
        skip_analysis: false,
        flags: ModeFlags::default(),
        benchmark_date: Some("20251110".into()),
        hardware: "mi30x".into(),
        link_repo: "ROCm/sglang-ci".into(),
        upload: None,
        plot_server: "http://127.0.0.1:9".into(),
        run_date: "20251110".into(),
        alert_on_fallback: false,
        simulated: false,
        rule: Some(Rule::default()),
        store,
        host: "host-1".into(),
        clock: Clock::at(
            chrono::Utc
                .with_ymd_and_hms(2025, 11, 10, 12, 0, 0)
                .unwrap(),
        ),
    }
}

fn rows(c: &BenchmarkConfig, rule: &Rule) -> (Vec<PerfRow>, Vec<String>) {
    let mut said = Vec::new();
    let r = performance_rows(c, rule, &mut |l| said.push(l));
    (r, said)
}

fn kind_of(rows: &[PerfRow], metric: &str, load: &str) -> VerdictKind {
    rows.iter()
        .find(|r| r.metric.contains(metric) && r.load == load)
        .unwrap_or_else(|| panic!("no {metric} {load} in {rows:#?}"))
        .verdict
        .kind
}

fn ingest(dir: &Path) -> history_store::Location {
    let loc = history_store::Location::Sqlite(dir.join("database/ci_history.sqlite"));
    let s = history_store::ingest_paths(&loc, dir, &[], None).unwrap();
    assert_eq!(s.added.len(), 20, "{s:?}");
    loc
}

#[test]
fn the_store_gives_the_same_verdicts_as_the_run_folders() {
    let t = tempfile::tempdir().unwrap();
    planted(t.path());
    let loc = ingest(t.path());
    for rule in [
        Rule::default(),
        Rule::Legacy {
            window_days: 7,
            threshold_pct: 5.0,
        },
    ] {
        let (folders, said_f) = rows(&cfg(t.path(), None), &rule);
        let (store, said_s) = rows(&cfg(t.path(), Some(loc.clone())), &rule);
        assert!(
            said_f.is_empty() && said_s.is_empty(),
            "{said_f:?} {said_s:?}"
        );
        // E2E, TTFT, ITL at three rates; the dp-attention variant stays out.
        assert_eq!(folders.len(), 9, "{folders:#?}");
        assert_eq!(store, folders);
    }
    let (store, _) = rows(&cfg(t.path(), Some(loc)), &Rule::default());
    assert_eq!(kind_of(&store, "TTFT", "rate 4"), VerdictKind::Regression);
    assert_eq!(kind_of(&store, "TTFT", "rate 2"), VerdictKind::Suspicious);
    assert_eq!(kind_of(&store, "TTFT", "rate 1"), VerdictKind::NoChange);
    let r4 = store
        .iter()
        .find(|r| r.metric.contains("TTFT") && r.load == "rate 4")
        .unwrap();
    assert!(
        !r4.verdict
            .baseline_nights
            .iter()
            .any(|d| d.to_string() == "20251106"),
        "the fallback night is no baseline night: {:?}",
        r4.verdict
    );
}

#[test]
fn with_the_run_folders_gone_the_store_still_finds_the_regression() {
    let t = tempfile::tempdir().unwrap();
    planted(t.path());
    let loc = ingest(t.path());
    std::fs::remove_dir_all(t.path().join("online")).unwrap();
    let (folders, _) = rows(&cfg(t.path(), None), &Rule::default());
    assert!(folders.is_empty(), "{folders:#?}");
    let (store, said) = rows(&cfg(t.path(), Some(loc)), &Rule::default());
    assert!(said.is_empty(), "{said:?}");
    assert_eq!(kind_of(&store, "TTFT", "rate 4"), VerdictKind::Regression);
    assert_eq!(kind_of(&store, "E2E", "rate 4"), VerdictKind::Regression);
    assert_eq!(store.len(), 9);
}

#[test]
fn an_unreadable_store_falls_back_to_the_run_folders_with_a_warning() {
    let t = tempfile::tempdir().unwrap();
    planted(t.path());
    let bad = t.path().join("not-a-db.sqlite");
    std::fs::write(&bad, "this is not a SQLite file").unwrap();
    let (rows_bad, said) = rows(
        &cfg(t.path(), Some(history_store::Location::Sqlite(bad))),
        &Rule::default(),
    );
    assert_eq!(said.len(), 1, "{said:?}");
    assert!(said[0].contains("history store"), "{said:?}");
    let (folders, _) = rows(&cfg(t.path(), None), &Rule::default());
    assert_eq!(rows_bad, folders);
    assert_eq!(
        kind_of(&rows_bad, "TTFT", "rate 4"),
        VerdictKind::Regression
    );
}
