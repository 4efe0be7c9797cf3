//! `dashboard` end to end: the real binary over stores that the real `ingest-history` built
//! from the dev corpus, on SQLite and a throwaway PostgreSQL server. Every page and its JSON,
//! the same answers from both backends, a SQL explorer that cannot write, path and parameter
//! abuse, an empty or missing store, graceful shutdown.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::time::{Duration, Instant};

use history_store::{Location, Store as HStore};
use support::dashboard::{Dashboard, Store, q};

/// The verdict classes a metric cell may carry.
const VERDICT_CLASSES: [&str; 5] = [
    "regression",
    "suspicious",
    "improved",
    "nochange",
    "insufficient",
];

fn class_of(verdict: &str) -> &'static str {
    match verdict {
        "regression" => "regression",
        "suspicious" => "suspicious",
        "improved" => "improved",
        "no change" => "nochange",
        _ => "insufficient",
    }
}

fn arr(v: &serde_json::Value) -> &Vec<serde_json::Value> {
    v.as_array().unwrap_or_else(|| panic!("not an array: {v}"))
}

fn s(v: &serde_json::Value) -> &str {
    v.as_str().unwrap_or_default()
}

/// Every page and its JSON over one store; returns the overview JSON (without the backend).
fn check_pages(d: &Dashboard, backend: &str) -> serde_json::Value {
    let health = d.get("/health").json();
    assert_eq!(health["status"], "ok", "{health}");
    assert_eq!(health["backend"], backend);
    assert_eq!(health["schema_version"], history_store::schema::latest());
    let stored = health["runs"].as_i64().unwrap();
    assert!(stored > 100, "{health}");

    let html = d.ok("/");
    assert!(html.contains("<h1>Nightly overview</h1>"), "{html}");
    assert!(!html.contains("<script"), "the pages run no script");
    assert!(
        !html.contains("http://") && !html.contains("https://"),
        "nothing fetched from another host"
    );
    let mut ov = d.get("/api/overview").json();
    assert_eq!(ov["runs_stored"].as_i64(), Some(stored));
    let hardware = arr(&ov["hardware"]).clone();
    let names: Vec<&str> = hardware.iter().map(|h| s(&h["hardware"])).collect();
    for hw in ["mi30x", "mi35x"] {
        assert!(names.contains(&hw), "{names:?}");
        assert!(html.contains(&format!("href=\"/hardware/{hw}\"")), "{hw}");
    }
    // Colours follow the verdicts: each metric cell's class is its verdict's, and some
    // change beyond 5 % is not a regression or improvement (the band decides, not 5 %).
    let mut cells = 0;
    let mut beyond_5_not_flagged = 0;
    for h in &hardware {
        for card in arr(&h["runs"]) {
            for km in arr(&card["key_metrics"]) {
                cells += 1;
                let class = class_of(s(&km["verdict"]));
                let title_start = format!("<td class=\"{class}\" title=\"");
                assert!(html.contains(&title_start), "no {class} cell for {km}");
                for l in arr(&km["loads"]) {
                    let change = l["change_pct"].as_f64().unwrap_or(0.0).abs();
                    if change > 5.0 && !matches!(s(&l["verdict"]), "regression" | "improved") {
                        beyond_5_not_flagged += 1;
                    }
                }
            }
        }
    }
    assert!(cells > 10, "{cells} metric cells");
    assert!(
        beyond_5_not_flagged > 0,
        "every change beyond 5 % was flagged: looks like a fixed threshold"
    );
    assert!(
        VERDICT_CLASSES
            .iter()
            .filter(|c| html.contains(&format!("<td class=\"{c}\"")))
            .count()
            >= 3,
        "fewer than three verdict colours on the overview"
    );
    // Fallback and simulated nights are marked.
    let fallback = hardware
        .iter()
        .flat_map(|h| arr(&h["runs"]).iter())
        .filter(|c| c["run"]["fallback_image"] == true)
        .count();
    assert_eq!(
        html.matches("class=\"badge fallback\"").count(),
        fallback,
        "one fallback mark per fallback run"
    );

    for hw in &names {
        let page = d.ok(&format!("/hardware/{hw}"));
        let j = d.get(&format!("/api/hardware/{hw}")).json();
        assert_eq!(j["hardware"], *hw);
        let night = s(&j["night"]).to_owned();
        assert!(page.contains(&format!("Night {night}.")), "{hw}: {night}");
        for section in ["<h2>Benchmarks</h2>", "<h2>Validation</h2>"] {
            assert!(page.contains(section), "{hw}: {section}");
        }
        // another night through the date picker's parameter
        if let Some(older) = arr(&j["nights"]).get(1) {
            let o = d
                .get(&format!("/api/hardware/{hw}?date={}", s(older)))
                .json();
            assert_eq!(o["night"], *older);
        }
    }

    // A series page for every run with key metrics; a night links to its run.
    let mut series_seen = 0;
    for h in &hardware {
        for card in arr(&h["runs"]) {
            let run = &card["run"];
            let Some(km) = arr(&card["key_metrics"]).first() else {
                continue;
            };
            let hw = run["image_tag"]
                .as_str()
                .and_then(|t| t.split('-').find(|p| p.starts_with("mi") && p.len() == 5))
                .unwrap_or(s(&run["hardware"]));
            let suffix = s(&run["mode"]).strip_prefix("online").unwrap_or_default();
            let query = format!(
                "hardware={}&model={}&variant={}&metric={}",
                q(hw),
                q(s(&run["model"])),
                q(&format!("{}{suffix}", s(&run["variant"]))),
                q(s(&km["metric"]))
            );
            let page = d.ok(&format!("/series?{query}"));
            assert!(page.contains("<svg class=\"chart\""), "{query}");
            let j = d.get(&format!("/api/series?{query}")).json();
            let loads = arr(&j["loads"]);
            assert!(!loads.is_empty(), "{query}");
            let last = arr(&loads[0]["nights"]).last().unwrap();
            let id = s(&last["run"]);
            assert!(!id.is_empty(), "a night without its run: {last}");
            assert!(page.contains(&format!("href=\"/run/{}", id.replace('&', "&amp;"))));
            series_seen += 1;
        }
    }
    assert!(series_seen > 5, "{series_seen} series pages");

    // Run pages: every number of the run, as the SQL explorer counts them.
    for h in &hardware {
        let Some(card) = arr(&h["runs"]).first() else {
            continue;
        };
        let id = s(&card["run"]["id"]).to_owned();
        let page = d.ok(&format!("/run/{id}"));
        let j = d.get(&format!("/api/run/{id}")).json();
        let n = arr(&j["metrics"]).len();
        let counted = d
            .get(&format!(
                "/api/sql?q={}",
                q(&format!(
                    "SELECT count(*) AS n FROM metrics WHERE run_key = '{}'",
                    id.replace('\'', "''")
                ))
            ))
            .json();
        assert_eq!(counted["rows"][0]["n"].as_u64(), Some(n as u64), "{id}");
        assert!(
            page.contains(&format!("<h2>Every number ({n})</h2>")),
            "{id}"
        );
        assert!(page.contains("<h2>Provenance</h2>"));
        // the files link to the files themselves, byte for byte
        let file = arr(&j["files"])
            .iter()
            .find(|f| f["kind"] == "timing_summary" || f["kind"] == "csv")
            .map(|f| s(&f["path"]).to_owned());
        if let Some(f) = file {
            assert!(page.contains(&format!("href=\"/files/{f}\"")), "{f}");
            let r = d.get(&format!("/files/{f}"));
            assert_eq!(r.status, 200, "{f}: {}", r.text());
            assert_eq!(r.body, std::fs::read(support::corpus("").join(&f)).unwrap());
        }
    }

    let sql = d.ok("/sql");
    assert!(sql.contains("<h2>Schema</h2>") && sql.contains(">runs</h3>"));
    let plots = d.ok("/plots/");
    assert!(plots.contains("href=\"mi30x/\""), "{plots}");
    assert!(
        plots.contains("href=\"/plots/\""),
        "breadcrumb below /plots: {plots}"
    );

    ov.as_object_mut().unwrap().remove("backend");
    ov
}

#[test]
fn every_page_and_its_json_on_both_backends() {
    let store = Store::sqlite(&[]);
    let d = Dashboard::start(&store, &[]);
    let t0 = Instant::now();
    let sqlite = check_pages(&d, "sqlite");
    println!("SQLite pages checked in {:?}", t0.elapsed());

    let Some(pg) = Store::postgres(&[]) else {
        return;
    };
    let p = Dashboard::start(&pg, &[]);
    let postgres = check_pages(&p, "postgresql");
    assert_eq!(
        sqlite, postgres,
        "the overview differs between SQLite and PostgreSQL"
    );
    let id = s(&sqlite["hardware"][0]["runs"][0]["run"]["id"]).to_owned();
    let mut a = d.get(&format!("/api/run/{id}")).json();
    let mut b = p.get(&format!("/api/run/{id}")).json();
    for v in [&mut a, &mut b] {
        v.as_object_mut().unwrap().remove("ingested_at");
    }
    assert_eq!(a, b, "run {id} differs between the backends");
}

/// The statements the explorer must refuse, on both backends.
const WRITES: [&str; 11] = [
    "DROP TABLE runs",
    "DELETE FROM runs",
    "ATTACH DATABASE '/tmp/sglci-dashboard-attach.sqlite' AS x",
    "PRAGMA writable_schema = ON",
    "SELECT count(*) FROM runs; DELETE FROM runs",
    "WITH k AS (SELECT run_key FROM runs) DELETE FROM runs WHERE run_key IN (SELECT run_key FROM k)",
    "WITH d AS (DELETE FROM runs RETURNING run_key) SELECT count(*) FROM d",
    "UPDATE runs SET verdict = 'pass'",
    "CREATE TABLE x (a BIGINT)",
    "COPY runs TO '/tmp/sglci-dashboard-copy.csv'",
    "VACUUM",
];

/// Row counts of every table and the schema's text, straight from the store.
fn fingerprint(db: &str) -> Vec<String> {
    let mut s = HStore::open_read_only(&Location::parse(db).unwrap()).unwrap();
    let mut out = Vec::new();
    for t in ["runs", "metrics", "gsm8k", "test_results", "artifacts"] {
        let n = s
            .query(&format!("SELECT count(*) FROM {t}"), &[])
            .unwrap()
            .rows[0][0]
            .as_i64()
            .unwrap();
        out.push(format!("{t}={n}"));
    }
    let v = s
        .query("SELECT count(*) FROM runs WHERE verdict = 'pass'", &[])
        .unwrap();
    out.push(format!("pass={:?}", v.rows[0][0]));
    out
}

fn explorer_refuses_writes(store: &Store, slow: &str) {
    let before = fingerprint(&store.db);
    let d = Dashboard::start(store, &["--sql-timeout=1", "--sql-max-rows=7"]);
    for sql in WRITES {
        let r = d.get(&format!("/api/sql?q={}", q(sql)));
        assert_eq!(r.status, 400, "{sql}: {}", r.text());
        let err = r.json()["error"].as_str().unwrap_or_default().to_owned();
        assert!(err.len() > 10, "{sql}: no message");
        println!("{sql}\n  -> {err}");
        let page = d.get(&format!("/sql?q={}", q(sql)));
        assert_eq!(page.status, 400, "{sql}");
        assert!(
            page.text().contains("<p class=\"error\" id=\"sql-error\">"),
            "{sql}: the page shows no message"
        );
    }
    // A write after a session setting that would lift read-only mode is still refused.
    let r = d.get(&format!(
        "/api/sql?q={}",
        q("SELECT set_config('default_transaction_read_only', 'off', false)")
    ));
    assert!(r.status == 200 || r.status == 400, "{}", r.text());
    assert_eq!(
        d.get(&format!("/api/sql?q={}", q("DELETE FROM runs")))
            .status,
        400
    );
    assert_eq!(fingerprint(&store.db), before, "the data changed");

    // A statement past the time limit is cut, and the explorer keeps answering.
    let t0 = Instant::now();
    let r = d.get(&format!("/api/sql?q={}", q(slow)));
    let took = t0.elapsed();
    assert_eq!(r.status, 400, "{}", r.text());
    assert!(r.text().contains("cut after 1.0 s"), "{}", r.text());
    assert!(took < Duration::from_secs(10), "cut after {took:?}");
    println!("{slow}\n  -> cut after {took:?}");

    // The row cap, the CSV download and a plain answer.
    let j = d
        .get(&format!(
            "/api/sql?q={}",
            q("SELECT * FROM metrics ORDER BY run_key")
        ))
        .json();
    assert_eq!(arr(&j["rows"]).len(), 7);
    assert_eq!(j["truncated"], true);
    let csv = d.get(&format!(
        "/api/sql?q={}&format=csv",
        q("SELECT metric, value FROM metrics ORDER BY run_key, metric LIMIT 3")
    ));
    assert_eq!(csv.status, 200);
    assert!(csv.header("content-type").unwrap().starts_with("text/csv"));
    assert!(
        csv.header("content-disposition")
            .unwrap()
            .contains("attachment")
    );
    let text = csv.text();
    assert_eq!(text.lines().next(), Some("metric,value"), "{text}");
    assert_eq!(text.lines().count(), 4, "{text}");
    let page = d.ok(&format!("/sql?q={}", q("SELECT count(*) AS n FROM runs")));
    assert!(page.contains("1 row in"), "{page}");
    assert_eq!(fingerprint(&store.db), before, "the data changed");
}

#[test]
fn the_sql_explorer_cannot_write_on_either_backend() {
    let only = ["online_benchmark_log/mi30x/GROK1"];
    let store = Store::sqlite(&only);
    explorer_refuses_writes(
        &store,
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c) SELECT count(*) FROM c",
    );
    // ATTACH on SQLite would have created the file; it must not exist.
    assert!(!std::path::Path::new("/tmp/sglci-dashboard-attach.sqlite").exists());
    if let Some(pg) = Store::postgres(&only) {
        explorer_refuses_writes(&pg, "SELECT pg_sleep(30)");
    }
    assert!(!std::path::Path::new("/tmp/sglci-dashboard-copy.csv").exists());
}

#[test]
fn path_and_parameter_abuse_gets_4xx_and_nothing_outside_the_trees() {
    let store = Store::sqlite(&["online_benchmark_log/mi30x/GROK1"]);
    let d = Dashboard::start(&store, &[]);
    let long = "x".repeat(5000);
    let cases: Vec<String> = vec![
        "/plots/../../../../etc/passwd".into(),
        "/plots/%2e%2e/%2e%2e/%2e%2e/etc/passwd".into(),
        "/plots/mi30x%2F..%2F..%2Fetc%2Fpasswd".into(),
        "/plots/..%5c..%5cetc%5cpasswd".into(),
        "/files/../../../../etc/passwd".into(),
        "/files/%2e%2e/%2e%2e/%2e%2e/etc/passwd".into(),
        "/files/online_benchmark_log%2F..%2F..%2F..%2Fetc%2Fpasswd".into(),
        "/files//etc/passwd".into(),
        "/files/README.md".into(),
        "/files/online_benchmark_log/".into(),
        format!("/run/{long}"),
        "/run/no-such-host:no/such/run".into(),
        "/run/%00".into(),
        "/api/run/99999999999999999999999999999999".into(),
        "/hardware/mi99x".into(),
        "/hardware/..".into(),
        "/hardware/%2e%2e".into(),
        "/hardware/mi30x%2F..%2F..".into(),
        "/hardware/mi30x?date=../../etc".into(),
        "/hardware/mi30x?date=2025-13-99x".into(),
        format!("/api/hardware/{long}"),
        "/series?hardware=mi30x&model=GROK1&variant=MOE-I4F8&metric=bogus".into(),
        "/series?hardware=..%2F..&model=GROK1&variant=MOE-I4F8&metric=ttft_ms".into(),
        "/series?model=GROK1".into(),
        format!("/api/series?hardware=mi30x&model={long}&variant=x&metric=ttft_ms"),
        format!("/api/sql?q={}", "x".repeat(20000)),
        "/api/sql?q=SELECT%201&format=xml".into(),
        "/no/such/page".into(),
        "/api/no/such".into(),
    ];
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    for c in &cases {
        let r = d.get(c);
        assert!(
            (400..500).contains(&r.status),
            "{}: status {} {}",
            &c[..c.len().min(80)],
            r.status,
            r.text()
        );
        let body = r.text();
        assert!(!body.contains("root:x:0:0"), "{c}: served /etc/passwd");
        assert!(passwd.is_empty() || !body.contains(&passwd));
    }
    // positive controls: a stored file, a plot, a run
    let ov = d.get("/api/overview").json();
    let id = s(&ov["hardware"][0]["runs"][0]["run"]["id"]).to_owned();
    assert_eq!(d.get(&format!("/run/{id}")).status, 200);
    let png = support::corpus("plot")
        .join("plot/mi30x/GROK1/online")
        .read_dir()
        .unwrap()
        .next()
        .unwrap()
        .unwrap()
        .file_name();
    let r = d.get(&format!(
        "/plots/mi30x/GROK1/online/{}",
        png.to_string_lossy()
    ));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    // a directory without its slash is redirected below /plots
    let r = d.get("/plots/mi30x");
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/plots/mi30x/"));
}

#[test]
fn an_empty_or_missing_store_says_so_and_sigterm_stops_it() {
    let store = Store::empty();
    let mut d = Dashboard::start(&store, &[]);
    let html = d.ok("/");
    assert!(html.contains("The store holds no runs yet"), "{html}");
    assert_eq!(arr(&d.get("/api/overview").json()["hardware"]).len(), 0);
    let r = d.get("/hardware/mi30x");
    assert_eq!(r.status, 404);
    assert!(r.text().contains("no runs on hardware"), "{}", r.text());
    let series = d.ok("/series?hardware=mi30x&model=GROK1&variant=MOE-I4F8&metric=ttft_ms");
    assert!(series.contains("No nights of ttft_ms"), "{series}");
    assert_eq!(d.get("/health").json()["runs"], 0);
    let sql = d.ok("/sql?q=SELECT%20count(*)%20FROM%20runs");
    assert!(sql.contains("1 row in"));

    d.signal("TERM");
    let st = d
        .wait_exit(Duration::from_secs(15))
        .expect("stops on SIGTERM");
    assert!(st.success(), "{st}");
    assert!(
        d.stdout
            .wait_for("Dashboard stopped.", Duration::from_secs(2))
            .is_some(),
        "{}",
        d.stdout.text()
    );

    // A store that does not exist yet: the server runs and says why the pages are empty.
    let nowhere = store
        .tree
        .join("nowhere/ci_history.sqlite")
        .display()
        .to_string();
    let missing = Store::empty().with_db(nowhere);
    let d = Dashboard::start(&missing, &[]);
    let r = d.get("/");
    assert_eq!(r.status, 503);
    assert!(r.text().contains("no history database at"), "{}", r.text());
    assert_eq!(d.get("/health").status, 503);
}

/// Pages are kept between requests but never outlive a change of the store: an ingest while
/// the dashboard runs shows on the very next request, on both backends.
fn pages_follow_an_ingest(store: &Store) {
    let d = Dashboard::start(store, &[]);
    let runs = |d: &Dashboard| d.get("/health").json()["runs"].as_i64().unwrap();
    let before = runs(&d);
    let html = d.ok("/");
    assert_eq!(html, d.ok("/"), "the same store gives the same page");
    assert!(!html.contains("GROK2"), "only GROK1 was ingested");
    support::dashboard::ingest(
        &store.tree,
        &store.db,
        &["online_benchmark_log/mi30x/GROK2"],
    );
    let html = d.ok("/");
    assert!(
        html.contains("GROK2"),
        "the overview did not follow the ingest"
    );
    assert!(runs(&d) > before);
    let j = d.get("/api/overview").json();
    let models: Vec<&str> = arr(&j["hardware"][0]["runs"])
        .iter()
        .map(|c| s(&c["run"]["model"]))
        .collect();
    assert!(models.contains(&"GROK2"), "{models:?}");
}

#[test]
fn pages_follow_the_store_at_once_on_both_backends() {
    let only = ["online_benchmark_log/mi30x/GROK1"];
    pages_follow_an_ingest(&Store::sqlite(&only));
    if let Some(pg) = Store::postgres(&only) {
        pages_follow_an_ingest(&pg);
    }
}

/// The dashboard's connections are bounded as plots-server's are (its accept loop): a request
/// head that never ends is cut after `--header-timeout`, and beyond `--max-connections` a
/// connection waits until a slot frees.
#[test]
fn slow_heads_are_cut_off_and_connections_are_limited() {
    let store = Store::empty();
    let d = Dashboard::start(&store, &["--header-timeout=1", "--max-connections=1"]);
    support::http::assert_slow_head_cut(d.port);
    support::http::assert_one_connection_at_a_time(d.port, "/health");
}

/// `/coverage` shows compare-suites' reports of the corpus (`upstream_ci/ci_report`): every
/// dated CSV's `Total` row, newest first, and every row of the newest report; a folder
/// without reports says so. Independent of the store (here an empty one).
#[test]
fn coverage_shows_the_upstream_reports_newest_first() {
    let dir = support::corpus("upstream_ci/ci_report").join("upstream_ci/ci_report");
    let mut files: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("sglang_ci_report_") && n.ends_with(".csv"))
        .collect();
    files.sort();
    files.reverse();
    assert!(files.len() >= 2, "{files:?}");
    // The last line of each file is its Total row.
    let total = |f: &str| -> Vec<String> {
        let text = std::fs::read_to_string(dir.join(f)).unwrap();
        let last = text.lines().rev().find(|l| !l.trim().is_empty()).unwrap();
        assert!(last.starts_with("Total,"), "{f}: {last}");
        last.split(',').map(str::to_owned).collect()
    };

    let store = Store::empty();
    let arg = format!("--coverage-dir={}", dir.display());
    let d = Dashboard::start(&store, &[arg.as_str()]);
    let api = d.get("/api/coverage").json();
    let reports = arr(&api["reports"]);
    assert_eq!(reports.len(), files.len(), "{api}");
    for (r, f) in reports.iter().zip(&files) {
        assert_eq!(s(&r["file"]), f);
        let t = total(f);
        assert_eq!(r["amd"].to_string(), t[1], "{f}");
        assert_eq!(r["nvidia"].to_string(), t[2], "{f}");
        assert_eq!(s(&r["coverage"]), t[3], "{f}");
    }
    assert!(arr(&api["problems"]).is_empty(), "{api}");

    let html = d.ok("/coverage");
    let newest = std::fs::read_to_string(dir.join(&files[0])).unwrap();
    let mut rows = 0;
    for line in newest.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if f.len() != 4 {
            continue;
        }
        rows += 1;
        let cells = format!("<td class=\"n\">{}</td><td class=\"n\">{}</td>", f[1], f[2]);
        assert!(
            html.contains(&format!(">{}<", f[0].replace('&', "&amp;"))) && html.contains(&cells),
            "row {line} missing from /coverage"
        );
    }
    assert!(rows >= 5, "{newest}");
    assert!(html.contains("<svg class=\"chart\""), "no chart");

    let empty = tempfile::tempdir().unwrap();
    let arg = format!("--coverage-dir={}", empty.path().display());
    let e = Dashboard::start(&store, &[arg.as_str()]);
    assert!(e.ok("/coverage").contains("No coverage reports in"));
    assert_eq!(arr(&e.get("/api/coverage").json()["reports"]).len(), 0);
}
