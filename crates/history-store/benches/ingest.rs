//! Ingest time of the whole dev corpus and the time of a 90-night series query, on SQLite and
//! (when Debian's PostgreSQL server binaries are installed) on a throwaway PostgreSQL server.
//! Prints the median of several runs. `cargo bench -p history-store --bench ingest`.
//! Targets (docs/history.md): ingest under 5 s on SQLite, a 90-night series under 20 ms.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::path::Path;
use std::time::{Duration, Instant};

use history_store::query::{Filters, Report, report};
use history_store::testkit::Database;
use history_store::{IngestOptions, Location, Store, ingest};

const INGEST_RUNS: usize = 3;
const QUERY_RUNS: usize = 50;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// A tree of 90 nights of one GROK1 run folder (re-tagged copies of a corpus folder).
fn ninety_nights(corpus: &Path, dir: &Path) {
    let grok = corpus.join("online_benchmark_log/mi30x/GROK1");
    let mut runs: Vec<_> = std::fs::read_dir(&grok)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            std::fs::read_dir(p)
                .map(|rd| {
                    rd.flatten()
                        .any(|e| e.file_name().to_string_lossy().ends_with(".csv"))
                })
                .unwrap_or(false)
        })
        .collect();
    runs.sort();
    let src = &runs[0];
    let name = src.file_name().unwrap().to_string_lossy().into_owned();
    let tag = name.split('_').next().unwrap().to_owned();
    let start = chrono::NaiveDate::from_ymd_opt(2025, 9, 1).unwrap();
    for i in 0..90 {
        let d = (start + chrono::Duration::days(i))
            .format("%Y%m%d")
            .to_string();
        let new_tag = format!("{}{d}", &tag[..tag.len() - 8]);
        let to = dir
            .join("online_benchmark_log/mi30x/GROK1")
            .join(name.replace(&tag, &new_tag));
        std::fs::create_dir_all(&to).unwrap();
        for e in std::fs::read_dir(src).unwrap() {
            let e = e.unwrap();
            let fname = e.file_name().to_string_lossy().replace(&tag, &new_tag);
            std::fs::copy(e.path(), to.join(fname)).unwrap();
        }
    }
}

fn bench(label: &str, fresh: &mut dyn FnMut() -> Location, corpus: &Path, nights: &Path) {
    let mut times = Vec::new();
    let mut runs = 0;
    for _ in 0..INGEST_RUNS {
        let loc = fresh();
        let mut store = Store::open(&loc).unwrap();
        let t = Instant::now();
        let s = ingest(
            Some(&mut store),
            &IngestOptions {
                root: corpus.to_owned(),
                ..IngestOptions::default()
            },
        )
        .unwrap();
        times.push(t.elapsed());
        runs = s.added.len();
    }
    println!(
        "{label}: ingest of the dev corpus ({runs} runs): median {:.2} s of {INGEST_RUNS}",
        median(times).as_secs_f64()
    );
    let loc = fresh();
    let mut store = Store::open(&loc).unwrap();
    ingest(
        Some(&mut store),
        &IngestOptions {
            root: nights.to_owned(),
            ..IngestOptions::default()
        },
    )
    .unwrap();
    let q = Report::Series {
        metric: "ttft_median".into(),
        load: Some("8".into()),
    };
    let f = Filters {
        model: Some("GROK1".into()),
        ..Filters::default()
    };
    let mut times = Vec::new();
    let mut rows = 0;
    for _ in 0..QUERY_RUNS {
        let t = Instant::now();
        rows = report(&mut store, &q, &f).unwrap().rows.len();
        times.push(t.elapsed());
    }
    assert_eq!(rows, 90, "a 90-night series");
    println!(
        "{label}: 90-night series query ({rows} rows): median {:.2} ms of {QUERY_RUNS}",
        median(times).as_secs_f64() * 1000.0
    );
}

fn main() {
    let corpus = report::corpus::require("online_benchmark_log").unwrap_or_else(|e| panic!("{e}"));
    let tmp = tempfile::tempdir().unwrap();
    let nights = tmp.path().join("nights");
    ninety_nights(&corpus, &nights);
    let mut n = 0;
    let dir = tmp.path().to_owned();
    bench(
        "sqlite",
        &mut || {
            n += 1;
            Location::Sqlite(dir.join(format!("bench{n}.sqlite")))
        },
        &corpus,
        &nights,
    );
    match Database::start() {
        Some(db) => {
            bench(
                "postgres",
                &mut || {
                    let url = db.server.create_db();
                    Location::parse(&url).unwrap()
                },
                &corpus,
                &nights,
            );
        }
        None => println!("postgres: skipped (no server binaries)"),
    }
}
