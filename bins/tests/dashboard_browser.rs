//! A real browser on the dashboard: Debian's headless Chromium loads every page over a store
//! ingested from the dev corpus and takes a screenshot of each (kept as test output in
//! `SGLCI_SCREENSHOT_DIR`, default `target/tmp/dashboard-screenshots`, never committed); the
//! rendered DOM (`--dump-dom`) of three chosen runs shows the numbers of their corpus CSVs;
//! pages without data say so.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};

use support::browser::{chromium, dump_dom, screenshot};
use support::dashboard::{Dashboard, Store, q};

const WIDTH: u32 = 1400;
const HEIGHT: u32 = 1000;

/// Where the screenshots go.
fn shots_dir() -> PathBuf {
    let dir = std::env::var_os("SGLCI_SCREENSHOT_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard-screenshots"));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Share of pixels that are not (near) white.
fn ink(shot: &Path) -> f64 {
    let decoder = png::Decoder::new(std::fs::File::open(shot).expect("screenshot written"));
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("decode screenshot");
    assert_eq!((info.width, info.height), (WIDTH, HEIGHT));
    let channels = info.color_type.samples();
    let px: Vec<&[u8]> = buf[..info.buffer_size()].chunks_exact(channels).collect();
    let inked = px
        .iter()
        .filter(|p| p[0] < 200 || p[1] < 200 || p[2] < 200)
        .count();
    inked as f64 / px.len() as f64
}

/// A corpus run folder's CSV: (metric, load, cell as printed) for every cell.
fn csv_cells(csv: &Path) -> Vec<(String, String, String)> {
    let text = std::fs::read_to_string(csv).unwrap();
    let lines: Vec<&str> = text.lines().map(|l| l.trim_end_matches('\r')).collect();
    let mut out = Vec::new();
    for (i, l) in lines.iter().enumerate() {
        let metric = if l.starts_with("Median E2E") {
            "e2e_median"
        } else if l.starts_with("Median TTFT") {
            "ttft_median"
        } else if l.starts_with("Median ITL") {
            "itl_median"
        } else {
            continue;
        };
        let loads: Vec<&str> = lines[i + 1].split('\t').skip(1).collect();
        let values: Vec<&str> = lines[i + 2].split('\t').skip(1).collect();
        for (load, v) in loads.iter().zip(values) {
            if !v.trim().is_empty() {
                out.push((
                    metric.to_owned(),
                    load.trim().to_owned(),
                    v.trim().to_owned(),
                ));
            }
        }
    }
    out
}

/// The first run folder (by name) with a CSV below `online_benchmark_log/<rel>`.
fn first_with_csv(rel: &str) -> (String, PathBuf) {
    let corpus = support::corpus("online_benchmark_log");
    let dir = corpus.join("online_benchmark_log").join(rel);
    let mut runs: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.is_dir())
        .collect();
    runs.sort();
    for r in runs {
        let mut csvs: Vec<PathBuf> = std::fs::read_dir(&r)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "csv"))
            .collect();
        csvs.sort();
        if let Some(c) = csvs.into_iter().next() {
            let path = r
                .strip_prefix(&corpus)
                .unwrap()
                .to_string_lossy()
                .into_owned();
            return (path, c);
        }
    }
    panic!("no run folder with a CSV below {}", dir.display());
}

#[test]
fn chromium_renders_every_page_with_the_corpus_numbers() {
    let browser = chromium();
    let store = Store::sqlite(&[]);
    let d = Dashboard::start(&store, &[]);
    let shots = shots_dir();

    // The three chosen runs: request-rate and concurrency layouts, both hardware kinds.
    let mut run_pages = Vec::new();
    for (i, rel) in [
        "mi30x/GROK1",
        "mi30x/DeepSeek-V3-0324",
        "mi35x/DeepSeek-R1-MXFP4-Preview",
    ]
    .into_iter()
    .enumerate()
    {
        let (path, csv) = first_with_csv(rel);
        let cells = csv_cells(&csv);
        assert!(cells.len() >= 15, "{}: {cells:?}", csv.display());
        let found = d
            .get(&format!(
                "/api/sql?q={}",
                q(&format!(
                    "SELECT run_key, hardware, night FROM runs WHERE path = '{path}'"
                ))
            ))
            .json();
        let row = &found["rows"][0];
        let id = row["run_key"]
            .as_str()
            .unwrap_or_else(|| panic!("{path} not stored: {found}"));
        let hw = row["hardware"].as_str().unwrap().to_owned();
        let night = row["night"].as_str().unwrap().to_owned();

        let run_url = d.url(&format!("/run/{id}"));
        let dom = dump_dom(&browser, &run_url);
        let night_url = d.url(&format!("/hardware/{hw}?date={night}"));
        let night_dom = dump_dom(&browser, &night_url);
        for (metric, load, text) in &cells {
            let row = format!(
                "<td>{metric}</td><td>{load}</td><td class=\"n\">0</td><td class=\"n\">{text}</td>"
            );
            assert!(
                dom.contains(&row),
                "{id}: {metric} at {load} = {text} missing"
            );
            assert!(
                night_dom.contains(&format!(
                    ">{text} <span class=\"muted small\">ms</span></td>"
                )),
                "{hw} {night}: {metric} at {load} = {text} missing"
            );
        }
        println!(
            "{path}: {} CSV cells on the run page and the night's page",
            cells.len()
        );
        screenshot(
            &browser,
            &run_url,
            &shots.join(format!("run-{}.png", i + 1)),
            WIDTH,
            HEIGHT,
        );
        run_pages.push((id.to_owned(), hw, night));
    }

    // Every page, in a browser: a screenshot each, none blank.
    let ov = d.get("/api/overview").json();
    let first = &ov["hardware"][0]["runs"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| !c["key_metrics"].as_array().unwrap().is_empty())
        .expect("a run with key metrics")["run"];
    let suffix = first["mode"]
        .as_str()
        .unwrap()
        .strip_prefix("online")
        .unwrap_or_default();
    let series = format!(
        "/series?hardware={}&model={}&variant={}&metric=ttft_ms",
        q(first["hardware"].as_str().unwrap()),
        q(first["model"].as_str().unwrap()),
        q(&format!("{}{suffix}", first["variant"].as_str().unwrap()))
    );
    let pages = [
        ("overview", "/".to_owned()),
        ("hardware-mi30x", "/hardware/mi30x".to_owned()),
        ("hardware-mi35x", "/hardware/mi35x".to_owned()),
        ("series", series.clone()),
        (
            "sql",
            format!(
                "/sql?q={}",
                q(
                    "SELECT night, hardware, model, mode, verdict FROM runs WHERE kind = 'online' ORDER BY night DESC LIMIT 20"
                )
            ),
        ),
        ("plots", "/plots/mi30x/GROK1/online/".to_owned()),
        ("coverage", "/coverage".to_owned()),
    ];
    for (name, path) in &pages {
        let shot = shots.join(format!("{name}.png"));
        screenshot(&browser, &d.url(path), &shot, WIDTH, HEIGHT);
        let share = ink(&shot);
        println!("{name}: {:.1}% inked ({})", share * 100.0, shot.display());
        assert!(share > 0.01, "{name} looks blank: {share}");
    }
    let dom = dump_dom(&browser, &d.url(&series));
    assert!(
        dom.contains("<svg class=\"chart\""),
        "series page without its chart"
    );
    assert!(dom.contains("<circle"), "series chart without nights");

    // Pages with no data say so.
    let empty = [
        (
            "/series?hardware=mi30x&model=GROK1&variant=NO-SUCH-VARIANT&metric=ttft_ms",
            "No nights of ttft_ms for GROK1 NO-SUCH-VARIANT on mi30x in the store.",
        ),
        (
            "/hardware/mi30x?date=1999-01-01",
            "No runs on mi30x for the night of 1999-01-01.",
        ),
    ];
    for (path, words) in empty {
        let dom = dump_dom(&browser, &d.url(path));
        assert!(dom.contains(words), "{path}: {dom}");
    }
    let none = Store::empty();
    let e = Dashboard::start(&none, &[]);
    let dom = dump_dom(&browser, &e.url("/"));
    assert!(dom.contains("The store holds no runs yet"), "{dom}");
    screenshot(
        &browser,
        &e.url("/"),
        &shots.join("overview-empty.png"),
        WIDTH,
        HEIGHT,
    );
    println!("screenshots in {}", shots.display());
}
