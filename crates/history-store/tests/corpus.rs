//! The whole dev corpus into the store, on both backends: every CSV cell is a metric row with
//! its provenance and the same number; both backends hold the same rows; a second ingest
//! changes nothing; editing one client log replaces exactly that run's rows.

#![allow(clippy::print_stderr)]

mod support;

use std::collections::BTreeMap;
use std::path::Path;

use history_store::extract::sha256_hex;
use history_store::{IngestOptions, Store, Value, ingest};
use support::{Backend, copy_tree, corpus};

/// Every row of every table (without the ingest time stamps), sorted, as text.
fn dump(store: &mut Store) -> BTreeMap<String, Vec<String>> {
    let tables = [
        (
            "runs",
            "run_key, kind, host, hardware, model, variant, mode, image_tag, image_date, night, fallback_image, engine, started_at, ended_at, exit_status, verdict, path, content_sha256",
        ),
        ("metrics", "*"),
        ("gsm8k", "*"),
        ("test_results", "*"),
        ("artifacts", "*"),
    ];
    let mut out = BTreeMap::new();
    for (t, cols) in tables {
        let rows = store
            .query(&format!("SELECT {cols} FROM {t}"), &[])
            .unwrap();
        let mut v: Vec<String> = rows
            .rows
            .iter()
            .map(|r| {
                r.iter()
                    .map(|x| match x {
                        Value::Null => "NULL".to_owned(),
                        Value::Real(f) => format!("{f:?}"),
                        o => o.as_text().unwrap(),
                    })
                    .collect::<Vec<_>>()
                    .join("|")
            })
            .collect();
        v.sort();
        out.insert(t.to_owned(), v);
    }
    out
}

fn opts(root: &Path) -> IngestOptions {
    IngestOptions {
        root: root.to_owned(),
        ..IngestOptions::default()
    }
}

/// A stored CSV metric: (line, text, value, file hash) by (path, metric, load).
type Stored = BTreeMap<(String, String, String), (i64, String, f64, String)>;

/// The corpus CSVs read by hand: (relative path, metric, load, 1-based line, cell text).
fn csv_cells(root: &Path) -> Vec<(String, String, String, i64, String)> {
    let mut out = Vec::new();
    let base = root.join("online_benchmark_log");
    let mut stack = vec![base];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
                continue;
            }
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if !(name.ends_with(".csv") && (name.contains("_online") || name.contains("_serving")))
            {
                continue;
            }
            let rel = p.strip_prefix(root).unwrap().to_string_lossy().into_owned();
            let text = std::fs::read_to_string(&p).unwrap();
            let lines: Vec<&str> = text.lines().collect();
            for (i, l) in lines.iter().enumerate() {
                let metric = match l.trim_end() {
                    "Median E2E Latency (ms, lower better)" => "e2e_median",
                    "Median TTFT (ms, lower better)" => "ttft_median",
                    "Median ITL (ms, lower better)" => "itl_median",
                    _ => continue,
                };
                let loads: Vec<&str> = lines[i + 1].split('\t').skip(1).collect();
                let cells: Vec<&str> = lines[i + 2].split('\t').skip(1).collect();
                for (load, cell) in loads.iter().zip(&cells) {
                    if cell.trim().parse::<f64>().is_ok() {
                        out.push((
                            rel.clone(),
                            metric.to_owned(),
                            (*load).to_owned(),
                            i as i64 + 3,
                            cell.trim().to_owned(),
                        ));
                    }
                }
            }
        }
    }
    out.sort();
    out
}

fn check_csv_cells(store: &mut Store, root: &Path) -> usize {
    let cells = csv_cells(root);
    assert!(
        cells.len() > 500,
        "only {} numeric CSV cells found",
        cells.len()
    );
    let rows = store
        .query(
            "SELECT source_path, metric, load, source_line, text, value, source_sha256 FROM metrics WHERE sample = 0 AND unit = 'ms' AND source_path LIKE '%.csv'",
            &[],
        )
        .unwrap();
    let mut stored: Stored = BTreeMap::new();
    for r in rows.rows {
        let k = (
            r[0].as_text().unwrap(),
            r[1].as_text().unwrap(),
            r[2].as_text().unwrap(),
        );
        let v = (
            r[3].as_i64().unwrap(),
            r[4].as_text().unwrap(),
            r[5].as_f64().unwrap(),
            r[6].as_text().unwrap(),
        );
        assert!(
            stored.insert(k.clone(), v).is_none(),
            "duplicate metric row {k:?}"
        );
    }
    assert_eq!(
        stored.len(),
        cells.len(),
        "stored CSV metrics vs numeric CSV cells"
    );
    let mut hashes: BTreeMap<String, String> = BTreeMap::new();
    for (path, metric, load, line, text) in &cells {
        let (sline, stext, value, sha) = stored
            .get(&(path.clone(), metric.clone(), load.clone()))
            .unwrap_or_else(|| panic!("{path} {metric} at {load} is not in the store"));
        assert_eq!(stext, text, "{path} {metric} {load}");
        assert_eq!(
            *value,
            text.parse::<f64>().unwrap(),
            "{path} {metric} {load}"
        );
        assert_eq!(sline, line, "{path} {metric} {load}: line");
        let want = hashes
            .entry(path.clone())
            .or_insert_with(|| sha256_hex(&std::fs::read(root.join(path)).unwrap()));
        assert_eq!(sha, want, "{path}: hash");
    }
    cells.len()
}

fn run_backend(backend: &Backend) -> BTreeMap<String, Vec<String>> {
    let root = corpus();
    let mut store = backend.open();
    let s = ingest(Some(&mut store), &opts(&root)).unwrap();
    assert!(s.runs_found > 250, "{}", s.render_text());
    assert_eq!(s.added.len(), s.runs_found);
    // Only the manual experiment folders (no run-folder name) are skipped.
    let skipped: Vec<&str> = s.skipped.iter().map(|x| x.path.as_str()).collect();
    assert!(
        s.skipped
            .iter()
            .all(|x| x.reason.contains("unknown folder name")),
        "{:?}",
        s.skipped
    );
    assert!(
        skipped
            .iter()
            .any(|p| p.ends_with("test_dp8_torch_compile_no_cudagraph")),
        "{skipped:?}"
    );
    let n = check_csv_cells(&mut store, &root);
    eprintln!(
        "{}: {} runs, {n} CSV cells checked",
        backend.url().split('@').next_back().unwrap_or(""),
        s.runs_found
    );

    // Ingesting twice changes nothing.
    let before = dump(&mut store);
    let again = ingest(Some(&mut store), &opts(&root)).unwrap();
    assert!(
        again.added.is_empty() && again.replaced.is_empty(),
        "{}",
        again.render_text()
    );
    assert_eq!(again.unchanged, s.runs_found);
    assert_eq!(dump(&mut store), before);
    before
}

#[test]
fn corpus_into_sqlite_and_postgres_gives_the_same_rows() {
    let sqlite = Backend::sqlite();
    let a = run_backend(&sqlite);
    let Some(db) = support::pg::Database::start() else {
        return;
    };
    let pg = Backend::Postgres(db);
    let b = run_backend(&pg);
    for (table, rows) in &a {
        assert_eq!(rows.len(), b[table].len(), "{table}: row counts differ");
        for (x, y) in rows.iter().zip(&b[table]) {
            assert_eq!(x, y, "{table}: first differing row");
        }
    }
}

fn edit_replaces_one_run(backend: &Backend) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("tree");
    let src = corpus().join("online_benchmark_log/mi30x/GROK1");
    copy_tree(&src, &root.join("online_benchmark_log/mi30x/GROK1"));
    let mut store = backend.open();
    let first = ingest(Some(&mut store), &opts(&root)).unwrap();
    assert!(first.added.len() > 5);
    let before = dump(&mut store);
    // Pick a run with a complete client log and change one number in it.
    let run_dir = std::fs::read_dir(root.join("online_benchmark_log/mi30x/GROK1"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .find(|p| {
            std::fs::read_dir(p).unwrap().any(|e| {
                let n = e.unwrap().file_name().to_string_lossy().into_owned();
                n.ends_with(".csv")
            })
        })
        .unwrap();
    let log = std::fs::read_dir(&run_dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| {
            let n = p.file_name().unwrap().to_string_lossy().into_owned();
            n.contains("_aiter_1_run1_")
                && std::fs::read_to_string(p).is_ok_and(|t| t.contains("Median TTFT (ms):"))
        })
        .unwrap();
    let text = std::fs::read_to_string(&log).unwrap();
    let at = text.find("Median TTFT (ms):").unwrap();
    let end = at + text[at..].find('\n').unwrap();
    let edited = format!(
        "{}Median TTFT (ms):                        12345.67{}",
        &text[..at],
        &text[end..]
    );
    std::fs::write(&log, edited).unwrap();
    let second = ingest(Some(&mut store), &opts(&root)).unwrap();
    let rel = run_dir
        .strip_prefix(&root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    assert_eq!(second.replaced.len(), 1, "{}", second.render_text());
    assert!(second.replaced[0].ends_with(&rel), "{:?}", second.replaced);
    assert!(second.added.is_empty());
    assert_eq!(second.unchanged, first.added.len() - 1);
    let after = dump(&mut store);
    let key = &second.replaced[0];
    for (table, rows) in &before {
        let other = |v: &Vec<String>| -> Vec<String> {
            v.iter()
                .filter(|r| !r.starts_with(&format!("{key}|")))
                .cloned()
                .collect()
        };
        assert_eq!(
            other(rows),
            other(&after[table]),
            "{table}: rows of other runs changed"
        );
    }
    let log_rel = log
        .strip_prefix(&root)
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let new = store
        .query(
            "SELECT value, source_sha256 FROM metrics WHERE source_path = $1 AND metric = 'ttft_median'",
            &[log_rel.clone().into()],
        )
        .unwrap();
    assert_eq!(new.rows.len(), 1);
    assert_eq!(new.rows[0][0], Value::Real(12345.67));
    assert_eq!(
        new.rows[0][1].as_text().unwrap(),
        sha256_hex(&std::fs::read(&log).unwrap())
    );
}

#[test]
fn editing_one_client_log_replaces_exactly_that_run_sqlite() {
    edit_replaces_one_run(&Backend::sqlite());
}

#[test]
fn editing_one_client_log_replaces_exactly_that_run_postgres() {
    let Some(db) = support::pg::Database::start() else {
        return;
    };
    edit_replaces_one_run(&Backend::Postgres(db));
}
