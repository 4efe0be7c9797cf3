//! One suite, both backends: migrations, what each kind of run becomes (sanity, PD, unit test,
//! a night with its image check and fallback), read-only SQL, the named reports, and a
//! database from a newer version refused.

mod support;

use std::path::Path;

use history_store::query::{Filters, Report, report};
use history_store::{IngestOptions, Store, StoreError, Value, ingest, schema};
use support::{Backend, copy_tree, corpus};

const SANITY: &str = "test/sanity_check_log/mi30x/v0.5.3.post3-rocm700-mi30x-20251020";
const PD: &str = "test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251120_rerun2";
const NIGHT_FALLBACK: &str = "cron_log/mi30x/20251006";
const NIGHT_CHECK: &str = "cron_log/mi30x/20251020";
const UNIT: &str = "test/unit-test-backend-8-gpu-CAR-amd/mi30x";

fn tree(dir: &Path) {
    let c = corpus();
    for p in [SANITY, PD, NIGHT_FALLBACK, NIGHT_CHECK] {
        copy_tree(&c.join(p), &dir.join(p));
    }
    std::fs::create_dir_all(dir.join(UNIT)).unwrap();
    let mut logs: Vec<_> = std::fs::read_dir(c.join(UNIT))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    logs.sort();
    for l in logs.iter().take(3) {
        std::fs::copy(l, dir.join(UNIT).join(l.file_name().unwrap())).unwrap();
    }
}

fn one(store: &mut Store, sql: &str, params: &[Value]) -> Vec<Value> {
    let rows = store.query(sql, params).unwrap();
    assert_eq!(rows.rows.len(), 1, "{sql}: {rows:?}");
    rows.rows.into_iter().next().unwrap()
}

fn suite(b: &Backend) {
    // Migrations: applied once, again a no-op.
    drop(b.open());
    let mut store = b.open();
    assert_eq!(store.schema_version().unwrap(), schema::latest());
    assert_eq!(
        support::count(&mut store, "schema_migrations"),
        schema::MIGRATIONS.len() as i64
    );

    let tmp = tempfile::tempdir().unwrap();
    tree(tmp.path());
    let s = ingest(
        Some(&mut store),
        &IngestOptions {
            root: tmp.path().to_owned(),
            host: Some("node-1".into()),
            ..IngestOptions::default()
        },
    )
    .unwrap();
    assert_eq!(s.added.len(), 4 + 3, "{}", s.render_text());
    assert!(s.skipped.is_empty(), "{:?}", s.skipped);

    // Sanity: one GSM8K row per model, the verdict line's number and line.
    let g = one(
        &mut store,
        "SELECT accuracy, text, n, n_unit, required, passed, source_line FROM gsm8k WHERE subject = $1 AND source_path LIKE $2",
        &["GPT-OSS-120B".into(), format!("{SANITY}/%").into()],
    );
    assert_eq!(g[0], Value::Real(0.852));
    assert_eq!(g[1].as_text().as_deref(), Some("0.852"));
    assert_eq!(
        (g[2].as_i64(), g[3].as_text().as_deref()),
        (Some(3), Some("trials"))
    );
    assert_eq!(g[4], Value::Real(0.82));
    assert_eq!((g[5].as_i64(), g[6].as_i64()), (Some(1), Some(19)));
    let v = one(
        &mut store,
        "SELECT verdict, host, image_date FROM runs WHERE path = $1",
        &[SANITY.into()],
    );
    assert_eq!(v[0].as_text().as_deref(), Some("pass"));
    assert_eq!(v[1].as_text().as_deref(), Some("node-1"));
    assert_eq!(v[2].as_text().as_deref(), Some("2025-10-20"));

    // PD: the GSM8K test line, 200 questions, verbatim text.
    let p = one(
        &mut store,
        "SELECT g.accuracy, g.text, g.n, g.source_line, r.verdict, r.mode FROM gsm8k g JOIN runs r ON r.run_key = g.run_key WHERE r.path = $1",
        &[PD.into()],
    );
    assert_eq!(p[0], Value::Real(0.945));
    assert_eq!(p[1].as_text().as_deref(), Some("0.9450"));
    assert_eq!((p[2].as_i64(), p[3].as_i64()), (Some(200), Some(30)));
    assert_eq!(p[4].as_text().as_deref(), Some("pass"));
    assert_eq!(p[5].as_text().as_deref(), Some("pd_rerun"));

    // Nights: the image check per hardware; the fallback night flagged.
    let ic = store
        .query(
            "SELECT t.name, t.status, t.detail FROM test_results t JOIN runs r ON r.run_key = t.run_key WHERE r.path = $1 AND t.suite = 'image_check' ORDER BY t.name",
            &[NIGHT_CHECK.into()],
        )
        .unwrap();
    let got: Vec<Vec<Option<String>>> = ic
        .rows
        .iter()
        .map(|r| r.iter().map(Value::as_text).collect())
        .collect();
    assert_eq!(
        got,
        [
            [
                "mi30x",
                "available",
                "rocm/sgl-dev:v0.5.3.post3-rocm700-mi30x-20251020"
            ]
            .map(|s| Some(s.to_owned())),
            [
                "mi35x",
                "available",
                "rocm/sgl-dev:v0.5.3.post3-rocm700-mi35x-20251020"
            ]
            .map(|s| Some(s.to_owned())),
        ]
    );
    let fb = report(&mut store, &Report::Fallback, &Filters::default()).unwrap();
    let paths: Vec<String> = fb
        .rows
        .iter()
        .map(|r| r.last().unwrap().as_text().unwrap())
        .collect();
    assert!(paths.contains(&NIGHT_FALLBACK.to_owned()), "{paths:?}");
    let j = one(
        &mut store,
        "SELECT t.status, t.detail FROM test_results t JOIN runs r ON r.run_key = t.run_key WHERE r.path = $1 AND t.suite = 'cron' AND t.name = 'grok_nightly'",
        &[NIGHT_FALLBACK.into()],
    );
    assert!(j[1].as_text().unwrap().contains("fallback image"), "{j:?}");

    // Unit tests: exit code and verdict agree.
    let u = store
        .query(
            "SELECT exit_status, verdict FROM runs WHERE kind = 'unit_test'",
            &[],
        )
        .unwrap();
    assert_eq!(u.rows.len(), 3);
    for r in &u.rows {
        let want = if r[0].as_i64() == Some(0) {
            "pass"
        } else {
            "fail"
        };
        assert_eq!(r[1].as_text().as_deref(), Some(want), "{r:?}");
    }

    // Read-only SQL: types come back typed; writes and second statements are refused.
    let mut ro = Store::open_read_only(&b.location()).unwrap();
    let t = ro
        .query_read_only("SELECT count(*) AS n, avg(accuracy) AS a, min(subject) AS s FROM gsm8k;")
        .unwrap();
    assert_eq!(t.columns, ["n", "a", "s"]);
    assert!(matches!(t.rows[0][0], Value::Int(n) if n > 5), "{t:?}");
    assert!(
        matches!(t.rows[0][1], Value::Real(a) if a > 0.5 && a < 1.0),
        "{t:?}"
    );
    for sql in [
        "DELETE FROM runs",
        "SELECT 1; DELETE FROM runs",
        "UPDATE runs SET verdict = 'x'",
    ] {
        let e = ro.query_read_only(sql).unwrap_err();
        assert!(matches!(e, StoreError::NotReadOnly(_)), "{sql}: {e}");
    }
    assert_eq!(support::count(&mut ro, "runs"), 7);

    // Named reports.
    let nv = report(&mut store, &Report::NoVerdict, &Filters::default()).unwrap();
    assert!(
        nv.rows
            .iter()
            .all(|r| r.iter().all(|v| v.as_text().as_deref() != Some("plots")))
    );
    let series = report(
        &mut store,
        &Report::Series {
            metric: "gsm8k".into(),
            load: None,
        },
        &Filters::default(),
    )
    .unwrap();
    assert!(
        series.rows.is_empty(),
        "gsm8k series covers online runs only"
    );

    // A database written by a newer version is refused, never migrated down.
    drop(ro);
    let mut raw = b.open();
    raw.query(
        "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, 'future', 'x') RETURNING version",
        &[Value::Int(99)],
    )
    .unwrap();
    drop(raw);
    let e = Store::open(&b.location()).unwrap_err().to_string();
    assert!(e.contains("schema version 99"), "{e}");
    let e = Store::open_read_only(&b.location())
        .unwrap_err()
        .to_string();
    assert!(e.contains("schema version 99"), "{e}");
}

#[test]
fn suite_on_sqlite() {
    suite(&Backend::sqlite());
}

#[test]
fn suite_on_postgres() {
    let Some(db) = support::pg::Database::start() else {
        return;
    };
    suite(&Backend::Postgres(db));
}

/// Secrets in a log line never reach the store; the typed series reads what the report reads.
#[test]
fn secrets_are_masked_and_series_are_typed() {
    let tmp = tempfile::tempdir().unwrap();
    let night = tmp.path().join("cron_log/mi30x/20251020");
    std::fs::create_dir_all(&night).unwrap();
    // Built at run time: a signature-shaped value, not a committed literal.
    let marker = ["Sig", "Marker", "ForTheTest"].concat();
    let secret = format!("sig={marker}");
    std::fs::write(
        night.join("grok_nightly.log"),
        format!(
            "[nightly] start\nError: cannot post to https://prod-00.westus.logic.azure.com:443/workflows/x/triggers/manual/paths/invoke?api-version=1&{secret}\nResult: FAILED\n"
        ),
    )
    .unwrap();
    let grok = corpus().join("online_benchmark_log/mi30x/GROK1");
    let mut runs: Vec<_> = std::fs::read_dir(&grok)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    runs.sort();
    for r in runs.iter().take(6) {
        copy_tree(
            r,
            &tmp.path()
                .join("online_benchmark_log/mi30x/GROK1")
                .join(r.file_name().unwrap()),
        );
    }
    let b = Backend::sqlite();
    let mut store = b.open();
    ingest(
        Some(&mut store),
        &IngestOptions {
            root: tmp.path().to_owned(),
            ..IngestOptions::default()
        },
    )
    .unwrap();
    let detail = one(
        &mut store,
        "SELECT detail, status FROM test_results WHERE suite = 'cron'",
        &[],
    );
    let d = detail[0].as_text().unwrap();
    assert!(!d.contains(&marker) && d.contains("***"), "{d}");
    assert_eq!(detail[1].as_text().as_deref(), Some("fail"));
    // Every byte of the database (the last connection's close checkpoints the WAL).
    let file = b.location().to_string();
    {
        let mut other = b.open();
        assert!(
            one(&mut other, "SELECT count(*) FROM runs", &[])[0]
                .as_i64()
                .unwrap()
                > 0
        );
    }
    let mut bytes = std::fs::read(&file).unwrap();
    bytes.extend(std::fs::read(format!("{file}-wal")).unwrap_or_default());
    assert!(!String::from_utf8_lossy(&bytes).contains(&marker));
    assert!(
        String::from_utf8_lossy(&bytes).contains("grok_nightly"),
        "the check reads the data"
    );

    let filters = Filters {
        model: Some("GROK1".into()),
        ..Filters::default()
    };
    let pts = history_store::query::series(&mut store, "ttft_median", Some("8"), &filters).unwrap();
    let rows = report(
        &mut store,
        &Report::Series {
            metric: "ttft_median".into(),
            load: Some("8".into()),
        },
        &filters,
    )
    .unwrap();
    assert!(!pts.is_empty());
    assert_eq!(pts.len(), rows.rows.len());
    assert!(pts.windows(2).all(|w| w[0].night <= w[1].night));
    assert!(pts.iter().all(|p| p.load == "8" && p.value > 0.0));
    // What the regression analysis needs beyond the report: the run's variant, engine and
    // kind, and the file each value came from (below its run folder).
    assert!(pts.iter().all(|p| {
        p.model.as_deref() == Some("GROK1")
            && p.variant.as_deref().is_some_and(|v| !v.is_empty())
            && (p.engine == "real" || p.engine == "simulated")
            && p.simulated == (p.engine == "simulated")
            && !p.load_kind.is_empty()
            && !p.kind.is_empty()
            && !p.run_path.is_empty()
            && p.source_path.starts_with(&p.run_path)
            && p.source_line > 0
    }));
    let csv_col = rows
        .columns
        .iter()
        .position(|c| c == "source_path")
        .unwrap();
    let sources: Vec<String> = rows
        .rows
        .iter()
        .map(|r| r[csv_col].as_text().unwrap())
        .collect();
    assert_eq!(
        pts.iter()
            .map(|p| p.source_path.clone())
            .collect::<Vec<_>>(),
        sources
    );
}
