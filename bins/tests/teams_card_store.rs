//! Issue 17: `send-teams-notification --db` judges the series of the history store: with the
//! run folders gone after ingest, the card's performance analysis still reports the planted
//! regression; the default
//! store below the benchmark dir is used when it exists; a bad `--db` is one line and exit 1.

use std::path::Path;
use std::process::Command;

const BENCH: &str = env!("CARGO_BIN_EXE_send-teams-notification");

/// The card line of the planted regression.
const TTFT_REGRESSION: &str = "Median TTFT (ms) @ rate 4: **⚠️ regression**";

/// Eight GROK1 nights 20251103..20251110; TTFT at rate 4 is 20 % slower on the last two.
fn planted(root: &Path) {
    for d in 3..=10 {
        let date = format!("202511{d:02}");
        let tag = format!("v0.5.6-rocm700-mi30x-{date}");
        let folder = root
            .join("online/GROK1")
            .join(format!("{tag}_GROK1_MOE-I4F8_online"));
        std::fs::create_dir_all(&folder).unwrap();
        let base = [100.0, 101.0, 99.0, 100.5, 99.5, 100.0, 0.0, 0.0][d - 3];
        let r4 = if d >= 9 { 121.0 } else { base };
        let base = if d >= 9 { 100.0 } else { base };
        let row = |v: [f64; 3]| {
            format!(
                "MI300x-aiter, host-1\t{:.2}\t{:.2}\t{:.2}",
                v[0], v[1], v[2]
            )
        };
        let csv = format!(
            "Online mode - GROK1 ({tag})\n\nMedian E2E Latency (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n\nMedian TTFT (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n\nMedian ITL (ms, lower better)\nrequest rate\t1\t2\t4\n{}\n",
            row([base * 100.0, base * 100.0, r4 * 100.0]),
            row([base, base, r4]),
            row([20.0, 21.0, 22.0])
        );
        std::fs::write(folder.join(format!("{tag}_GROK1_MOE-I4F8_online.csv")), csv).unwrap();
        std::fs::write(
            folder.join(format!("timing_summary_{date}_060000.log")),
            "Hostname: host-1\nGSM8K Test Results:\n  GSM8K accuracy: 0.812\n",
        )
        .unwrap();
    }
}

fn card(dir: &Path, db: Option<&str>) -> std::process::Output {
    let mut c = Command::new(BENCH);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("PLOT_SERVER_BASE_URL", "http://127.0.0.1:9")
        .args([
            "--model=grok",
            "--mode=online",
            "--benchmark-date=20251110",
            "--run-date=20251110",
            "--hardware=mi30x",
            "--dry-run",
        ])
        .arg(format!("--benchmark-dir={}", dir.display()))
        .arg(format!("--plot-dir={}", dir.join("plots").display()));
    if let Some(db) = db {
        c.arg(format!("--db={db}"));
    }
    c.output().unwrap()
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_card_reads_the_store_when_the_run_folders_are_gone() {
    let t = tempfile::tempdir().unwrap();
    planted(t.path());
    let before = card(t.path(), None);
    assert!(text(&before).contains(TTFT_REGRESSION), "{}", text(&before));

    let elsewhere = t.path().join("elsewhere.sqlite");
    let loc = history_store::Location::Sqlite(elsewhere.clone());
    history_store::ingest_paths(&loc, t.path(), &[], None).unwrap();
    std::fs::remove_dir_all(t.path().join("online")).unwrap();

    let gone = card(t.path(), None);
    assert_eq!(gone.status.code(), Some(0), "{}", text(&gone));
    assert!(!text(&gone).contains(TTFT_REGRESSION), "{}", text(&gone));

    let o = card(t.path(), Some(elsewhere.to_str().unwrap()));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    assert!(text(&o).contains(TTFT_REGRESSION), "{}", text(&o));

    // The default store below the benchmark dir is read once it exists.
    std::fs::create_dir_all(t.path().join("database")).unwrap();
    std::fs::copy(&elsewhere, t.path().join("database/ci_history.sqlite")).unwrap();
    let o = card(t.path(), None);
    assert!(text(&o).contains(TTFT_REGRESSION), "{}", text(&o));

    let bad = card(t.path(), Some("mysql://u:secretpw@127.0.0.1/x"));
    assert_eq!(bad.status.code(), Some(1), "{}", text(&bad));
    assert!(text(&bad).contains("--db"), "{}", text(&bad));
    assert!(!text(&bad).contains("secretpw"), "{}", text(&bad));
}
