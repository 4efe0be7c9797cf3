//! Issue 17 end to end: a simulated night with a history store. The earlier nights exist only
//! in the store (their run folders are gone); perf-nightly ingests tonight's run folder before
//! its Teams card, and the card's performance analysis, read from the store, finds the 20 %
//! slowdown of the last two nights.

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::gsm8k_data;
use support::online::Online;
use teams::testkit::{Receiver, Reply, validate_payload};

/// Pacific date `days` ago, `YYYYMMDD`.
fn pacific_days_ago(days: i64) -> String {
    let now = sglang_runner::timefmt::now();
    (now.date_naive() - chrono::Duration::days(days))
        .format("%Y%m%d")
        .to_string()
}

/// Simulator flags of a night: a fixed prefill cost (the TTFT), `slow` adding 20 %.
fn sim_args(slow: bool) -> String {
    let prefill = if slow { 60 } else { 50 };
    format!(
        "--sim-profile zero --sim-gsm8k-accuracy 1.0 --sim-prefill-base-ms {prefill} --sim-jitter 0.01"
    )
}

fn tiny(c: &mut Command, o: &Online) {
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", o.path())
        .current_dir(o.path())
        .env("SGLCI_LOCK_DIR", o.path())
        .env("MOUNT_DIR", format!("{}/", o.path().display()))
        .env("SGLCI_GSM8K_DATA", gsm8k_data())
        .env("REQUEST_RATES", "1 2")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "2")
        .env("MAX_NUM_PROMPTS", "4")
        .env("GSM8K_NUM_QUESTIONS", "5")
        .env("GSM8K_PARALLEL", "5")
        .env("GSM8K_RUNS", "1")
        .env("GPU_IDLE_WAIT_TIME", "1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("SGLCI_TEAMS_TIMEOUT_S", "5")
        .stdin(Stdio::null());
}

#[test]
fn the_card_judges_tonight_against_nights_only_the_store_still_has() {
    let o = Online::new();
    let ci = o.path().join("ci");
    std::fs::create_dir_all(&ci).unwrap();
    let slow = [false, false, false, false, false, true];
    let n = slow.len() as i64;
    for (i, s) in slow.iter().enumerate() {
        let date = pacific_days_ago(n - i as i64);
        let mut c = Command::new(env!("CARGO_BIN_EXE_grok-perf-online"));
        tiny(&mut c, &o);
        c.env("SGLCI_SIM_ARGS", sim_args(*s)).args([
            "--engine=sim".to_owned(),
            "--hardware=mi30x".to_owned(),
            "--no-pauses".to_owned(),
            format!("--docker_image=sglang-sim:sim-rocm630-mi30x-{date}"),
            format!("--work-dir={}", ci.display()),
            format!("--port={}", o.port),
        ]);
        let out = o.run(c, Duration::from_secs(300));
        assert_eq!(out.code, Some(0), "night {date}: {}", out.all());
    }
    // The default store below the CI dir: perf-nightly uses it because it exists.
    let loc = history_store::Location::Sqlite(ci.join("database/ci_history.sqlite"));
    let s = history_store::ingest_paths(&loc, &ci, &[], None).unwrap();
    assert_eq!(s.added.len(), slow.len(), "{s:?}");
    std::fs::remove_dir_all(ci.join("online")).unwrap();

    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
    tiny(&mut c, &o);
    c.env("SGLCI_SIM_ARGS", sim_args(true))
        .args([
            "--engine=sim",
            "--model=grok",
            "--mode=online",
            "--hardware=mi30x",
        ])
        .arg(format!("--work-dir={}", ci.display()))
        .arg(format!("--port={}", o.port))
        .arg(format!("--teams-webhook-url={}", r.url("/hook")));
    let out = o.run(c, Duration::from_secs(300));
    assert_eq!(out.code, Some(0), "{}", out.all());
    let stdout = &out.stdout;
    let ingested = stdout
        .find("[nightly] History store")
        .unwrap_or_else(|| panic!("no ingest line: {}", out.all()));
    let sent = stdout
        .find("[nightly] Teams notification sent successfully")
        .unwrap_or_else(|| panic!("no card: {}", out.all()));
    assert!(
        ingested < sent,
        "tonight is ingested before the card: {}",
        out.all()
    );
    assert!(
        stdout.contains("1 run(s) added"),
        "tonight's run goes into the store before the card: {}",
        out.all()
    );

    let posts = r.posts();
    assert_eq!(posts.len(), 1, "{}", out.all());
    let v = posts[0].json();
    validate_payload(&v).unwrap_or_else(|e| panic!("invalid card {e:#?}"));
    let texts: Vec<String> = v["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|b| b["text"].as_str().map(str::to_owned))
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t == "⚠️ Performance Regression Detected"),
        "{texts:#?}\n{}",
        out.all()
    );
    assert!(
        texts
            .iter()
            .any(|t| t.contains("TTFT") && t.contains("regression")),
        "{texts:#?}"
    );
    // The end-of-night ingest finds tonight's run already there (or replaces it when the
    // folder gained files since); it never adds it twice.
    let mut store = history_store::Store::open(&loc).unwrap();
    let runs = store
        .query("SELECT count(*) AS n FROM runs WHERE kind = 'online'", &[])
        .unwrap();
    assert_eq!(runs.rows[0][0].as_i64(), Some(slow.len() as i64 + 1));
}
