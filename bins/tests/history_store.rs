//! `ingest-history` and `query-history` end to end: the real binaries on copies of corpus run
//! folders, damaged on purpose, against SQLite and a throwaway PostgreSQL server; several
//! ingesters at once (the fleet case); read-only questions.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use history_store::testkit::{Database, PASSWORD};
use history_store::{Location, Store};

const GROK: &str = "online_benchmark_log/mi30x/GROK1";

fn ingest(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ingest-history"))
        .args(args)
        .env_remove("SGLCI_DB_URL")
        .env_remove("SGL_BENCHMARK_CI_DIR")
        .output()
        .expect("run ingest-history")
}

fn query(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_query-history"))
        .args(args)
        .env_remove("SGLCI_DB_URL")
        .env_remove("SGL_BENCHMARK_CI_DIR")
        .output()
        .expect("run query-history")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let t = to.join(e.file_name());
        std::fs::copy(e.path(), &t).unwrap();
        let mut p = std::fs::metadata(&t).unwrap().permissions();
        #[allow(clippy::permissions_set_readonly_false)]
        p.set_readonly(false);
        std::fs::set_permissions(&t, p).unwrap();
    }
}

/// The corpus GROK1 run folders of mi30x that have a CSV, sorted.
fn grok_runs_with_csv() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(support::corpus(GROK).join(GROK))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.is_dir()
                && std::fs::read_dir(p)
                    .unwrap()
                    .any(|e| e.unwrap().file_name().to_string_lossy().ends_with(".csv"))
        })
        .collect();
    v.sort();
    v
}

fn file_with(dir: &Path, part: &str) -> PathBuf {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_string_lossy().contains(part))
        .collect();
    v.sort();
    v.into_iter()
        .next()
        .unwrap_or_else(|| panic!("no *{part}* in {}", dir.display()))
}

fn count(store: &mut Store, sql: &str, path: &str) -> i64 {
    store.query(sql, &[path.into()]).unwrap().rows[0][0]
        .as_i64()
        .unwrap()
}

/// Four run folders, each damaged in one way, next to a good one and an unknown folder.
#[test]
fn bad_inputs_are_named_skipped_and_the_rest_is_stored() {
    let runs = grok_runs_with_csv();
    assert!(runs.len() >= 5);
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let dest = |r: &Path| root.join(GROK).join(r.file_name().unwrap());
    for r in &runs[..5] {
        copy_dir(r, &dest(r));
    }
    // 1: a client log cut inside its result block.
    let truncated = file_with(&dest(&runs[1]), "_aiter_2_run1_");
    let t = std::fs::read_to_string(&truncated).unwrap();
    let cut = t.find("Median TTFT (ms):").expect("a result block");
    std::fs::write(&truncated, &t[..cut + 30]).unwrap();
    // 2: a client log that is a binary file.
    let binary = file_with(&dest(&runs[2]), "_aiter_4_run2_");
    std::fs::write(&binary, [0u8, 159, 146, 150, 0, 1, 2, 3, 255, 0]).unwrap();
    // 3: a run folder without its CSV.
    let no_csv_dir = dest(&runs[3]);
    let csv = file_with(&no_csv_dir, ".csv");
    std::fs::remove_file(&csv).unwrap();
    // 4: a CSV cut after its first section.
    let bad_csv = file_with(&dest(&runs[4]), ".csv");
    let c = std::fs::read_to_string(&bad_csv).unwrap();
    std::fs::write(&bad_csv, c.lines().take(4).collect::<Vec<_>>().join("\n")).unwrap();
    // 5: an unknown folder name.
    std::fs::create_dir_all(root.join(GROK).join("manual_experiment")).unwrap();
    std::fs::write(root.join(GROK).join("manual_experiment/server.log"), "x").unwrap();

    let db = tmp.path().join("h.sqlite");
    let db_s = db.display().to_string();
    let root_s = root.display().to_string();
    let out = ingest(&[
        "--benchmark-dir",
        &root_s,
        "--db",
        &db_s,
        "--format",
        "json",
    ]);
    let err = text(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "stderr: {err}");
    let rel = |p: &Path| p.strip_prefix(&root).unwrap().display().to_string();
    for (path, why) in [
        (rel(&truncated), "truncated client log"),
        (rel(&binary), "binary file"),
        (rel(&bad_csv), "cannot parse the CSV"),
        (format!("{GROK}/manual_experiment"), "unknown folder name"),
    ] {
        assert!(
            err.lines().any(
                |l| l.starts_with(&format!("ingest-history: skipped {path}: ")) && l.contains(why)
            ),
            "no `{why}` line for {path} in:\n{err}"
        );
    }
    assert!(
        err.contains(&format!("note: {}: no CSV", rel(&no_csv_dir))),
        "{err}"
    );
    let summary: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(summary["added"].as_array().unwrap().len(), 5, "{summary}");
    assert_eq!(summary["skipped"].as_array().unwrap().len(), 4, "{summary}");

    // The failed parts are not in the store; everything else of their runs is.
    let mut store = Store::open(&Location::Sqlite(db.clone())).unwrap();
    for bad in [&truncated, &binary, &bad_csv] {
        let p = rel(bad);
        assert_eq!(
            count(
                &mut store,
                "SELECT count(*) FROM metrics WHERE source_path = $1",
                &p
            ),
            0,
            "{p}"
        );
        assert_eq!(
            count(
                &mut store,
                "SELECT count(*) FROM artifacts WHERE path = $1",
                &p
            ),
            0,
            "{p}"
        );
        let run = rel(bad.parent().unwrap());
        let n = count(
            &mut store,
            "SELECT count(*) FROM metrics m JOIN runs r ON r.run_key = m.run_key WHERE r.path = $1",
            &run,
        );
        assert!(n > 50, "{run}: only {n} metric rows");
    }
    assert_eq!(
        count(
            &mut store,
            "SELECT count(*) FROM runs WHERE path LIKE $1",
            "%manual_experiment%"
        ),
        0
    );
    let no_csv = rel(&no_csv_dir);
    assert_eq!(
        count(
            &mut store,
            "SELECT count(*) FROM metrics m JOIN runs r ON r.run_key = m.run_key WHERE r.path = $1 AND m.sample = 0 AND m.unit = 'ms'",
            &no_csv
        ),
        0
    );
    assert_eq!(
        count(
            &mut store,
            "SELECT count(*) FROM runs WHERE path = $1",
            &no_csv
        ),
        1
    );

    // A second ingest changes nothing (and says the same about the bad parts).
    let again = ingest(&[
        "--benchmark-dir",
        &root_s,
        "--db",
        &db_s,
        "--format",
        "json",
    ]);
    assert_eq!(again.status.code(), Some(3));
    let s2: serde_json::Value = serde_json::from_slice(&again.stdout).unwrap();
    assert_eq!(s2["added"].as_array().unwrap().len(), 0);
    assert_eq!(s2["replaced"].as_array().unwrap().len(), 0);
    assert_eq!(s2["unchanged"], 5);

    // Bad flag values: one line, exit 4, nothing written.
    let bad_date = ingest(&[
        "--benchmark-dir",
        &root_s,
        "--db",
        &db_s,
        "--date",
        "2025-13-45",
    ]);
    assert_eq!(bad_date.status.code(), Some(4));
    assert!(
        text(&bad_date.stderr).contains("--date \"2025-13-45\" is not a date"),
        "{}",
        text(&bad_date.stderr)
    );
    let empty = tmp.path().join("empty");
    std::fs::create_dir_all(&empty).unwrap();
    let no_tree = ingest(&[
        "--benchmark-dir",
        &empty.display().to_string(),
        "--db",
        &db_s,
    ]);
    assert_eq!(no_tree.status.code(), Some(4));
    assert!(text(&no_tree.stderr).contains("holds none of the areas"));
}

#[test]
fn dry_run_writes_nothing_and_date_filters() {
    let runs = grok_runs_with_csv();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    for r in &runs[..3] {
        copy_dir(r, &root.join(GROK).join(r.file_name().unwrap()));
    }
    let db = tmp.path().join("db/h.sqlite");
    let (db_s, root_s) = (db.display().to_string(), root.display().to_string());
    let dry = ingest(&["--benchmark-dir", &root_s, "--db", &db_s, "--dry-run"]);
    assert_eq!(dry.status.code(), Some(0), "{}", text(&dry.stderr));
    assert!(
        text(&dry.stdout).contains("3 added"),
        "{}",
        text(&dry.stdout)
    );
    assert!(!db.exists(), "--dry-run created the database");
    // --date of the second run's image: only runs of that night or image date.
    let tag = runs[1].file_name().unwrap().to_string_lossy().into_owned();
    let date = &tag.split('_').next().unwrap()[tag.split('_').next().unwrap().len() - 8..];
    let one = ingest(&[
        "--benchmark-dir",
        &root_s,
        "--db",
        &db_s,
        "--date",
        date,
        "--format",
        "json",
    ]);
    assert_eq!(one.status.code(), Some(0), "{}", text(&one.stderr));
    let s: serde_json::Value = serde_json::from_slice(&one.stdout).unwrap();
    let added: Vec<String> = s["added"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect();
    // That night's run (and the previous image's run, benchmarked on that night), not later ones.
    assert!(added.iter().any(|k| k.ends_with(&tag)), "{added:?}");
    let later = runs[2].file_name().unwrap().to_string_lossy().into_owned();
    assert!(!added.iter().any(|k| k.ends_with(&later)), "{added:?}");
    assert!(s["runs_filtered_out"].as_u64().unwrap() >= 1, "{s}");
}

#[test]
fn query_history_answers_read_only() {
    let runs = grok_runs_with_csv();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    for r in &runs {
        copy_dir(r, &root.join(GROK).join(r.file_name().unwrap()));
    }
    let db = tmp.path().join("h.sqlite");
    let db_s = db.display().to_string();
    let out = ingest(&[
        "--benchmark-dir",
        &root.display().to_string(),
        "--db",
        &db_s,
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));

    // A series as CSV: one row per night with a number at rate 8, equal to the CSV cell.
    let csv = query(&[
        "--db",
        &db_s,
        "--report",
        "series",
        "--metric",
        "ttft_median",
        "--load",
        "8",
        "--format",
        "csv",
    ]);
    assert_eq!(csv.status.code(), Some(0), "{}", text(&csv.stderr));
    let body = text(&csv.stdout);
    let lines: Vec<&str> = body.lines().collect();
    assert!(
        lines[0].starts_with("night,image_date,image_tag,host"),
        "{body}"
    );
    assert_eq!(lines.len() - 1, runs.len(), "{body}");
    let first_csv = std::fs::read_to_string(file_with(&runs[0], ".csv")).unwrap();
    let ttft_row = first_csv
        .lines()
        .skip_while(|l| !l.starts_with("Median TTFT"))
        .nth(2)
        .unwrap();
    let rate8 = ttft_row.split('\t').nth(4).unwrap();
    assert!(
        lines[1].contains(&format!(",{},ms,", rate8.parse::<f64>().unwrap())),
        "{} vs {rate8}",
        lines[1]
    );

    // JSON: numbers are numbers.
    let json = query(&["--db", &db_s, "--report", "latest", "--format", "json"]);
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    // One latest night per (model, mode, hardware, host): GROK1 on mi30x ran on two hosts.
    let hosts: std::collections::BTreeSet<&str> = v
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["host"].as_str().unwrap())
        .collect();
    assert_eq!(v.as_array().unwrap().len(), hosts.len(), "{v}");
    assert!(v[0]["gsm8k"].is_number(), "{v}");
    assert!(v[0]["fallback_image"].is_number());

    // --sql is read-only: a write is refused and changes nothing.
    let before = query(&[
        "--db",
        &db_s,
        "--sql",
        "SELECT count(*) AS n FROM metrics",
        "--format",
        "csv",
    ]);
    assert_eq!(before.status.code(), Some(0));
    for sql in [
        "DELETE FROM metrics",
        "SELECT 1; DELETE FROM metrics",
        "DROP TABLE runs",
    ] {
        let w = query(&["--db", &db_s, "--sql", sql]);
        assert_eq!(w.status.code(), Some(4), "{sql}: {}", text(&w.stderr));
        assert!(
            text(&w.stderr).contains("read-only"),
            "{sql}: {}",
            text(&w.stderr)
        );
    }
    let after = query(&[
        "--db",
        &db_s,
        "--sql",
        "SELECT count(*) AS n FROM metrics",
        "--format",
        "csv",
    ]);
    assert_eq!(text(&before.stdout), text(&after.stdout));
    assert!(text(&after.stdout).starts_with("n\n"));

    // A missing database is exit 5, and nothing is created.
    let missing = tmp.path().join("none.sqlite");
    let m = query(&["--db", &missing.display().to_string(), "--report", "latest"]);
    assert_eq!(m.status.code(), Some(5));
    assert!(!missing.exists());
    // A series without --metric is a bad question.
    let s = query(&["--db", &db_s, "--report", "series"]);
    assert_eq!(s.status.code(), Some(4));
}

#[test]
fn a_wrong_postgres_password_is_exit_5_and_never_printed() {
    let Some(db) = Database::start() else {
        return;
    };
    let runs = grok_runs_with_csv();
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    copy_dir(
        &runs[0],
        &root.join(GROK).join(runs[0].file_name().unwrap()),
    );
    let root_s = root.display().to_string();
    let good = db.url();
    let ok = ingest(&["--benchmark-dir", &root_s, "--db", &good]);
    assert_eq!(ok.status.code(), Some(0), "{}", text(&ok.stderr));
    assert!(!text(&ok.stdout).contains(PASSWORD), "{}", text(&ok.stdout));
    let secret = "Wr0ng-Secret-Pw";
    let bad = good.replace(PASSWORD, secret);
    std::fs::write(
        file_with(&root.join(GROK).join(runs[0].file_name().unwrap()), ".csv"),
        "changed",
    )
    .unwrap();
    for out in [
        ingest(&["--benchmark-dir", &root_s, "--db", &bad]),
        query(&["--db", &bad, "--report", "latest"]),
    ] {
        let err = text(&out.stderr);
        assert_eq!(out.status.code(), Some(5), "{err}");
        assert!(
            err.contains("authentication failed") && err.contains(":***@127.0.0.1"),
            "{err}"
        );
        assert!(
            !err.contains(secret) && !text(&out.stdout).contains(secret),
            "{err}"
        );
    }
    // The store is as the good ingest left it.
    let mut store = Store::open_read_only(&Location::parse(&good).unwrap()).unwrap();
    let n = store
        .query("SELECT count(*) FROM artifacts WHERE kind = 'csv'", &[])
        .unwrap();
    assert_eq!(n.rows[0][0].as_i64(), Some(1));
}

fn fleet_args<'a>(root: &'a str, db: &'a str, host: &'a str) -> Vec<&'a str> {
    vec![
        "--benchmark-dir",
        root,
        "--db",
        db,
        "--host",
        host,
        "--format",
        "json",
        "--only",
        GROK,
        "--only",
        "test/sanity_check_log/mi30x",
        "--only",
        "cron_log/mi30x",
    ]
}

fn totals(store: &mut Store) -> Vec<i64> {
    ["runs", "metrics", "gsm8k", "test_results", "artifacts"]
        .iter()
        .map(|t| {
            store
                .query(&format!("SELECT count(*) FROM {t}"), &[])
                .unwrap()
                .rows[0][0]
                .as_i64()
                .unwrap()
        })
        .collect()
}

/// Ingesters started together against one store; returns the reference counts of one host.
fn fleet(db_url: &str, hosts: &[&str], reference: &[i64]) {
    let root = support::corpus("").display().to_string();
    let children: Vec<_> = hosts
        .iter()
        .map(|h| {
            Command::new(env!("CARGO_BIN_EXE_ingest-history"))
                .args(fleet_args(&root, db_url, h))
                .env_remove("SGLCI_DB_URL")
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let o = c.wait_with_output().unwrap();
        assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    }
    let distinct: std::collections::BTreeSet<&str> = hosts.iter().copied().collect();
    let mut store = Store::open_read_only(&Location::parse(db_url).unwrap()).unwrap();
    let got = totals(&mut store);
    let want: Vec<i64> = reference
        .iter()
        .map(|n| n * distinct.len() as i64)
        .collect();
    assert_eq!(got, want, "runs, metrics, gsm8k, test_results, artifacts");
    let dup = store
        .query("SELECT count(*) FROM (SELECT run_key, source_path, metric, load, sample FROM metrics GROUP BY run_key, source_path, metric, load, sample HAVING count(*) > 1) d", &[])
        .unwrap();
    assert_eq!(dup.rows[0][0].as_i64(), Some(0));
    let per_host = store
        .query(
            "SELECT host, count(*) FROM runs GROUP BY host ORDER BY host",
            &[],
        )
        .unwrap();
    assert_eq!(per_host.rows.len(), distinct.len());
    for r in &per_host.rows {
        assert_eq!(r[1].as_i64(), Some(reference[0]), "{r:?}");
    }
}

fn reference_counts() -> Vec<i64> {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("ref.sqlite").display().to_string();
    let root = support::corpus("").display().to_string();
    let o = ingest(&fleet_args(&root, &db, "node-ref"));
    assert_eq!(o.status.code(), Some(0), "{}", text(&o.stderr));
    let mut store = Store::open_read_only(&Location::parse(&db).unwrap()).unwrap();
    let t = totals(&mut store);
    assert!(t[0] > 30 && t[1] > 1000, "{t:?}");
    t
}

#[test]
fn fleet_four_hosts_and_a_reingest_at_once_into_one_postgres() {
    let Some(db) = Database::start() else {
        return;
    };
    let reference = reference_counts();
    fleet(
        &db.url(),
        &["node-a", "node-b", "node-c", "node-d", "node-a"],
        &reference,
    );
}

#[test]
fn two_processes_at_once_into_one_sqlite_file() {
    let reference = reference_counts();
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("shared.sqlite").display().to_string();
    fleet(&db, &["node-a", "node-b"], &reference);
    // And the same host twice at once: still one copy.
    let db2 = tmp.path().join("same.sqlite").display().to_string();
    fleet(&db2, &["node-a", "node-a"], &reference);
}
