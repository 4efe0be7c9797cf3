//! `process-online-plots` end to end: the golden summaries of the corpus (byte for byte with
//! `--legacy`), every fix against the original (each from a small hand-made run tree in a
//! temp dir), and the plots (names, pixel sizes, PNG/SVG validity, a stable rendering).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::history::{assert_shared_usage_errors, assert_usage_error, run, run_into};
use support::{Ran, png_size};

fn fixtures() -> PathBuf {
    support::fixtures("history/online")
}

const BIN: &str = env!("CARGO_BIN_EXE_process-online-plots");

/// The latest 8-digit date in the folder names of `dir` (the golden's `--plot-date`).
fn latest_date(dir: &Path) -> String {
    fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.ok()?.file_name().into_string().ok()?;
            let b = n.as_bytes();
            (0..b.len().saturating_sub(7))
                .find(|&i| b[i..i + 8].iter().all(u8::is_ascii_digit))
                .map(|i| n[i..i + 8].to_owned())
        })
        .max()
        .unwrap_or_default()
}

#[test]
fn legacy_reproduces_every_golden_summary_byte_for_byte() {
    let c = support::corpus("golden/online_summary");
    // (hardware, model folder = --model-name, --model, --request-rates): the MI355 Grok
    // nightlies ran rates 1,2,4,8.
    let cases: [(&str, &str, &str, Option<&str>); 8] = [
        ("mi30x", "GROK1", "grok", None),
        ("mi30x", "GROK2", "grok2", None),
        ("mi30x", "DeepSeek-V3-0324", "deepseek", None),
        ("mi35x", "DeepSeek-R1-MXFP4-Preview", "deepseek", None),
        ("mi35x", "GROK1", "grok", Some("1,2,4,8")),
        ("unknown", "GROK1", "grok", Some("1,2,4,8")),
        ("mi35x", "GROK2", "grok2", Some("1,2,4,8")),
        ("unknown", "GROK2", "grok2", Some("1,2,4,8")),
    ];
    let mut compared = 0;
    for (hw, model, flag, rates) in cases {
        let data = c.join("online_benchmark_log").join(hw).join(model);
        let golden_dir = c.join("golden/online_summary").join(hw).join(model);
        let tmp = tempfile::tempdir().unwrap();
        let date = latest_date(&data);
        let mut args = vec!["--model", flag, "--model-name", model];
        if let Some(r) = rates {
            args.extend(["--request-rates", r]);
        }
        let data_s = data.to_string_lossy().into_owned();
        let sum_s = tmp.path().to_string_lossy().into_owned();
        let plot_s = tmp.path().join("online").to_string_lossy().into_owned();
        args.extend([
            "--legacy",
            "--data-dir",
            &data_s,
            "--days",
            "1000",
            "--plot-date",
            &date,
            "--node-name",
            "golden-host",
            "--summary-dir",
            &sum_s,
            "--plot-dir",
            &plot_s,
        ]);
        let out = run(BIN, &args);
        assert!(out.status.success(), "{hw}/{model}: {}", out.all());
        for g in fs::read_dir(&golden_dir).unwrap() {
            let g = g.unwrap().path();
            let ours = tmp.path().join(g.file_name().unwrap());
            let (want, got) = (fs::read(&g).unwrap(), fs::read(&ours).unwrap_or_default());
            assert!(
                want == got,
                "{hw}/{model}: {} differs\n--- golden\n{}\n--- ours\n{}",
                ours.display(),
                String::from_utf8_lossy(&want),
                String::from_utf8_lossy(&got)
            );
            compared += 1;
        }
        // The plot of the same run exists under the original's name and size.
        let plots: Vec<PathBuf> = fs::read_dir(tmp.path().join("online"))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        assert_eq!(plots.len(), 1, "{hw}/{model}: {plots:?}");
        let name = plots[0].file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            name.starts_with(&format!("{date}_{model}_online_")),
            "{name}"
        );
        assert_eq!(png_size(&plots[0]).0, 2000);
    }
    assert_eq!(compared, 8);
}

#[test]
fn legacy_fails_like_the_original_where_no_folder_has_a_csv() {
    let c = support::corpus("golden/online_summary");
    for (hw, model) in [
        ("mi30x", "DeepSeek-R1-MXFP4-Preview"),
        ("mi35x", "DeepSeek-V3-0324"),
        ("unknown", "DeepSeek-R1-MXFP4-Preview"),
    ] {
        let tmp = tempfile::tempdir().unwrap();
        let data = c.join("online_benchmark_log").join(hw).join(model);
        let out = run(
            BIN,
            &[
                "--legacy",
                "--model",
                "deepseek",
                "--model-name",
                model,
                "--data-dir",
                data.to_str().unwrap(),
                "--days",
                "1000",
                "--node-name",
                "golden-host",
                "--summary-dir",
                tmp.path().to_str().unwrap(),
            ],
        );
        assert_eq!(out.status.code(), Some(1), "{hw}/{model}: {}", out.all());
        assert!(
            out.all()
                .contains("ERROR: Failed to generate summary CSV. Exiting.")
        );
        assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 0);
    }
}

// ---- hand-made run trees -------------------------------------------------------------

/// A three-table online CSV (E2E, TTFT, ITL): `title`, then per table its heading, the
/// `loads` line and one `label` row with `cells[m]`.
fn three_tables(title: &str, loads: &str, label: &str, cells: [&[&str]; 3]) -> String {
    let headings = [
        "Median E2E Latency (ms, lower better)",
        "Median TTFT (ms, lower better)",
        "Median ITL (ms, lower better)",
    ];
    let mut s = format!("{title}\n");
    for (m, t) in headings.iter().enumerate() {
        s.push_str(&format!("\n{t}\n{loads}\n{label}\t{}", cells[m].join("\t")));
        if m < 2 {
            s.push('\n');
        }
    }
    s
}

/// A Grok CSV at request rates 1…16: `cells[m]` = the cells of metric m (E2E, TTFT, ITL).
fn grok_csv(tag: &str, cells: [&[&str]; 3]) -> String {
    three_tables(
        &format!("Online mode - GROK1 ({tag})"),
        "request rate\t1\t2\t4\t8\t16",
        "MI300x-aiter, host-a",
        cells,
    )
}

/// A DeepSeek CSV at concurrencies 128…1.
fn deepseek_csv(tag: &str, cells: [&[&str]; 3]) -> String {
    three_tables(
        &format!("Online Serving Benchmark - DeepSeek-V3-0324 ({tag})"),
        "concurrency\t128\t64\t16\t4\t1",
        "DeepSeek-V3-0324-FP8",
        cells,
    )
}

/// Writes a run folder `<root>/<tag>_<model_part><suffix>/` with the CSV, a GSM8K log copied
/// from the fixtures and an optional timing summary stamp and server log.
fn folder(
    root: &Path,
    name: &str,
    csv_name: &str,
    csv: &str,
    gsm8k: Option<(&str, &str)>,
    stamp: Option<&str>,
    server_log: Option<&str>,
) {
    let d = root.join(name);
    fs::create_dir_all(&d).unwrap();
    fs::write(d.join(csv_name), csv).unwrap();
    if let Some((fixture, log_name)) = gsm8k {
        fs::copy(fixtures().join(fixture), d.join(log_name)).unwrap();
    }
    if let Some(s) = stamp {
        fs::write(
            d.join(format!("timing_summary_{s}.log")),
            "TIMING SUMMARY LOG\n",
        )
        .unwrap();
    }
    if let Some(s) = server_log {
        fs::copy(fixtures().join(s), d.join("sglang_server.log")).unwrap();
    }
}

fn grok_folder(root: &Path, tag: &str, suffix: &str, cells: [&[&str]; 3], stamp: &str) {
    let base = format!("{tag}_GROK1_MOE-I4F8_online");
    folder(
        root,
        &format!("{base}{suffix}"),
        &format!("{base}.csv"),
        &grok_csv(tag, cells),
        Some((
            "gsm8k_grok_aiter.log",
            "sglang_client_log_GROK1_gsm8k_aiter.log",
        )),
        Some(stamp),
        None,
    );
}

/// Grok run folders, each `(tag, folder suffix, cells, timing summary stamp)`.
fn grok_tree(root: &Path, folders: &[(&str, &str, [&[&str]; 3], &str)]) {
    for &(tag, suffix, cells, stamp) in folders {
        grok_folder(root, tag, suffix, cells, stamp);
    }
}

/// A DeepSeek run folder `<tag>_DeepSeek-V3-0324_FP8_online<suffix>` with its CSV
/// (`..._serving<suffix>.csv`), GSM8K log, and optional timing summary stamp and server log.
fn deepseek_folder(
    root: &Path,
    tag: &str,
    suffix: &str,
    cells: [&[&str]; 3],
    stamp: Option<&str>,
    server_log: Option<&str>,
) {
    let base = format!("{tag}_DeepSeek-V3-0324_FP8");
    folder(
        root,
        &format!("{base}_online{suffix}"),
        &format!("{base}_serving{suffix}.csv"),
        &deepseek_csv(tag, cells),
        Some((
            "gsm8k_deepseek.log",
            "sglang_client_log_DeepSeek-V3-0324_gsm8k.log",
        )),
        stamp,
        server_log,
    );
}

const A: [&[&str]; 3] = [
    &["1000.10", "2000.20", "3000.30", "4000.40", "5000.50"],
    &["10.00", "20.00", "30.00", "40.00", "50.00"],
    &["1.10", "2.20", "3.30", "4.40", "5.50"],
];
const B: [&[&str]; 3] = [
    &["1100.00", "2100.00", "3100.00", "4100.00", "5100.00"],
    &["11.00", "21.00", "31.00", "41.00", "51.00"],
    &["1.20", "2.30", "3.40", "4.50", "5.60"],
];

/// Runs over `data` with the common test flags; returns (output, summary text).
fn summarize(data: &Path, extra: &[&str]) -> (Ran, Option<String>, tempfile::TempDir) {
    let out_dir = tempfile::tempdir().unwrap();
    let plot_dir = out_dir.path().join("online").to_string_lossy().into_owned();
    let mut args = vec![
        "--data-dir",
        data.to_str().unwrap(),
        "--plot-dir",
        &plot_dir,
        "--plot-date",
        "20251101",
    ];
    args.extend_from_slice(extra);
    let out = run_into(BIN, out_dir.path(), &args);
    let summary = fs::read_dir(out_dir.path())
        .unwrap()
        .map(|e| e.unwrap().path())
        .find(|p| p.extension().is_some_and(|e| e == "csv"))
        .map(|p| fs::read_to_string(p).unwrap());
    (out, summary, out_dir)
}

/// `--process-only` with `flags` (plus `--legacy` when `legacy`) must succeed: its output and
/// the summary it wrote.
fn processed(data: &Path, flags: &[&str], legacy: bool) -> (Ran, String) {
    let mut args = flags.to_vec();
    args.push("--process-only");
    if legacy {
        args.push("--legacy");
    }
    let (out, summary, _d) = summarize(data, &args);
    assert!(out.status.success(), "{}", out.all());
    let summary = summary.unwrap_or_else(|| panic!("no summary written: {}", out.all()));
    (out, summary)
}

fn rows_of<'a>(summary: &'a str, date: &str) -> Vec<&'a str> {
    summary.lines().filter(|l| l.starts_with(date)).collect()
}

#[test]
fn duplicate_images_on_one_date_keep_the_newest_run_unless_legacy() {
    let tmp = tempfile::tempdir().unwrap();
    grok_tree(
        tmp.path(),
        &[
            ("v0.5.3-rocm630-mi30x-20251020", "", A, "20251020_110000"),
            ("v0.5.4-rocm700-mi30x-20251020", "", B, "20251020_230000"),
            ("v0.5.4-rocm700-mi30x-20251021", "", A, "20251021_110000"),
        ],
    );

    let (_, legacy) = processed(tmp.path(), &["--model", "grok"], true);
    // The original: both images' rows, duplicated per rate (zig-zag lines).
    assert_eq!(rows_of(&legacy, "20251020").len(), 10);
    assert_eq!(
        rows_of(&legacy, "20251020")[..2],
        [
            "20251020,standard,aiter,1,test-host,0.808,1000.1,10.0,1.1,,",
            "20251020,standard,aiter,1,test-host,0.808,1100.0,11.0,1.2,,"
        ]
    );

    let (out, fixed) = processed(tmp.path(), &["--model", "grok"], false);
    let day = rows_of(&fixed, "20251020");
    assert_eq!(day.len(), 5, "{fixed}");
    // The image benchmarked last (newest timing summary) wins.
    assert_eq!(
        day[0],
        "20251020,standard,aiter,1,test-host,0.808,1100.0,11.0,1.2,,"
    );
    assert_eq!(rows_of(&fixed, "20251021").len(), 5);
    assert!(
        out.all()
            .contains("newer run v0.5.4-rocm700-mi30x-20251020")
    );
}

#[test]
fn backup_folders_count_only_in_legacy_mode() {
    let tmp = tempfile::tempdir().unwrap();
    let empty: [&[&str]; 3] = [&[""; 5], &[""; 5], &[""; 5]];
    let backup = ".backup_20251102_231834";
    grok_tree(
        tmp.path(),
        &[
            (
                "v0.5.4-rocm700-mi30x-20251101",
                backup,
                A,
                "20251101_133033",
            ),
            // The real folder of that day was re-run and left an all-empty CSV.
            (
                "v0.5.4-rocm700-mi30x-20251101",
                "",
                empty,
                "20251102_211920",
            ),
            ("v0.5.4-rocm700-mi30x-20251103", "", B, "20251103_110000"),
        ],
    );

    let (_, legacy) = processed(tmp.path(), &["--model", "grok"], true);
    assert_eq!(rows_of(&legacy, "20251101").len(), 5);

    let (_, fixed) = processed(tmp.path(), &["--model", "grok"], false);
    assert!(rows_of(&fixed, "20251101").is_empty(), "{fixed}");
    assert_eq!(rows_of(&fixed, "20251103").len(), 5);
}

#[test]
fn mi355_empty_rate_16_column_is_not_an_extra_rate_unless_legacy() {
    let tmp = tempfile::tempdir().unwrap();
    let tag = "v0.5.4.post2-rocm700-mi35x-20251103";
    let cells: [&[&str]; 3] = [
        &["26655.70", "26298.56", "40025.07", "92691.14", ""],
        &["190.38", "124.58", "163.43", "223.47", ""],
        &["40.77", "42.67", "61.78", "116.96", ""],
    ];
    grok_folder(tmp.path(), tag, "", cells, "20251103_110000");
    let flags = ["--model", "grok", "--request-rates", "1,2,4,8"];
    let (out, legacy, _d) = summarize(
        tmp.path(),
        &[&flags[..], &["--process-only", "--legacy"]].concat(),
    );
    assert_eq!(out.status.code(), Some(1), "{}", out.all());
    assert!(legacy.is_none());
    assert!(out.all().contains("Mode aiter: Extra request_rates: [16]"));

    let (_, fixed) = processed(tmp.path(), &flags, false);
    assert_eq!(
        rows_of(&fixed, "20251103"),
        [
            "20251103,standard,aiter,1,test-host,0.808,26655.7,190.38,40.77,,",
            "20251103,standard,aiter,2,test-host,0.808,26298.56,124.58,42.67,,",
            "20251103,standard,aiter,4,test-host,0.808,40025.07,163.43,61.78,,",
            "20251103,standard,aiter,8,test-host,0.808,92691.14,223.47,116.96,,"
        ]
    );
}

fn deepseek_tree(root: &Path, with_kv: bool) {
    for (tag, cells) in [
        ("v0.5.4.post1-rocm630-mi30x-20251029", A),
        ("v0.5.4.post1-rocm630-mi30x-20251030", B),
    ] {
        deepseek_folder(
            root,
            tag,
            "",
            cells,
            Some("20251029_151533"),
            with_kv.then_some("server_kv.log"),
        );
    }
}

#[test]
fn deepseek_accuracy_is_the_final_average_unless_legacy() {
    let tmp = tempfile::tempdir().unwrap();
    deepseek_tree(tmp.path(), true);
    let flags = ["--model", "deepseek", "--model-name", "DeepSeek-V3-0324"];
    let (_, legacy) = processed(tmp.path(), &flags, true);
    // The original reads the first run's accuracy (0.936), not the average (0.937).
    assert!(
        legacy.contains("20251029,standard,aiter,1,test-host,0.936,5000.5,50.0,5.5,971639,63.59\n"),
        "{legacy}"
    );
    let (_, fixed) = processed(tmp.path(), &flags, false);
    assert!(
        fixed.starts_with(
            "date,variant,mode,concurrency,node_name,GSM8K_Accuracy,E2E_Latency_ms,TTFT_ms,ITL_ms,num_tokens,KV_size_GB\n\
             20251029,standard,aiter,1,test-host,0.937,5000.5,50.0,5.5,971639,63.59\n"
        ),
        "{fixed}"
    );
    assert_eq!(fixed.lines().count(), 11);
}

// ---- plots ---------------------------------------------------------------------------

/// Width and height of the PNG `name` in `<dir>/online`.
fn plot_size(dir: &Path, name: &str) -> (u32, u32) {
    png_size(&dir.join("online").join(name))
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(dir.join("online"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| !n.ends_with(".csv"))
        .collect();
    v.sort();
    v
}

#[test]
fn plots_have_the_original_names_and_sizes_in_png_and_svg() {
    let tmp = tempfile::tempdir().unwrap();
    deepseek_tree(tmp.path(), true);
    let ds = ["--model", "deepseek", "--model-name", "DeepSeek-V3-0324"];
    // Single layout with KV data: 3x2, 2000x1800; PNG and SVG.
    let mut a = ds.to_vec();
    a.extend(["--format", "both"]);
    let (out, _, d) = summarize(tmp.path(), &a);
    assert!(out.status.success(), "{}", out.all());
    assert!(
        out.all()
            .contains("Using 3x2 layout (with token/KV cache data)")
    );
    assert_eq!(
        files_in(d.path()),
        [
            "20251101_DeepSeek-V3-0324_online_standard.png",
            "20251101_DeepSeek-V3-0324_online_standard.svg"
        ]
    );
    assert_eq!(
        plot_size(d.path(), "20251101_DeepSeek-V3-0324_online_standard.png"),
        (2000, 1800)
    );
    let svg = fs::read_to_string(
        d.path()
            .join("online/20251101_DeepSeek-V3-0324_online_standard.svg"),
    )
    .unwrap();
    assert!(
        svg.starts_with("<svg width=\"2000\" height=\"1800\""),
        "{}",
        &svg[..80]
    );
    assert!(svg.trim_end().ends_with("</svg>"));
    assert!(svg.contains("E2E Latency (ms) vs. Date for DeepSeek-V3-0324"));

    // Split layout: 3x3, 3000x2400, `_split`.
    let mut a = ds.to_vec();
    a.push("--split-request-rates");
    let (out, _, d) = summarize(tmp.path(), &a);
    assert!(out.status.success(), "{}", out.all());
    assert_eq!(
        files_in(d.path()),
        ["20251101_DeepSeek-V3-0324_online_standard_split.png"]
    );
    assert_eq!(
        plot_size(
            d.path(),
            "20251101_DeepSeek-V3-0324_online_standard_split.png"
        ),
        (3000, 2400)
    );

    // Without KV data: 2x2, 2000x1200; several variants: `_all`.
    let tmp2 = tempfile::tempdir().unwrap();
    grok_folder(
        tmp2.path(),
        "v0.5.4-rocm700-mi30x-20251021",
        "",
        A,
        "20251021_110000",
    );
    let (out, _, d) = summarize(tmp2.path(), &["--model", "grok", "--model-name", "GROK1"]);
    assert!(out.status.success(), "{}", out.all());
    assert_eq!(files_in(d.path()), ["20251101_GROK1_online_standard.png"]);
    assert_eq!(
        plot_size(d.path(), "20251101_GROK1_online_standard.png"),
        (2000, 1200)
    );
    let tmp3 = tempfile::tempdir().unwrap();
    deepseek_tree(tmp3.path(), false);
    deepseek_folder(
        tmp3.path(),
        "v0.5.4.post1-rocm630-mi30x-20251029",
        "_mtp_test",
        B,
        None,
        None,
    );
    let (out, _, d) = summarize(tmp3.path(), &ds);
    assert!(out.status.success(), "{}", out.all());
    assert_eq!(
        files_in(d.path()),
        ["20251101_DeepSeek-V3-0324_online_all.png"]
    );
}

/// Decoded RGBA pixels of a PNG.
fn pixels(p: &Path) -> (u32, u32, Vec<u8>) {
    let dec = png::Decoder::new(std::io::BufReader::new(fs::File::open(p).unwrap()));
    let mut r = dec.read_info().unwrap();
    let mut buf = vec![0; r.output_buffer_size()];
    let info = r.next_frame(&mut buf).unwrap();
    buf.truncate(info.buffer_size());
    let rgb: Vec<u8> = match info.color_type {
        png::ColorType::Rgba => buf.chunks(4).flat_map(|c| [c[0], c[1], c[2]]).collect(),
        _ => buf,
    };
    (info.width, info.height, rgb)
}

#[test]
fn a_fixed_summary_renders_like_the_reference_image() {
    let out_dir = tempfile::tempdir().unwrap();
    let summary = fixtures().join("summary_fixed.csv");
    let out = run(
        BIN,
        &[
            "--plot-only",
            "--summary-csv",
            summary.to_str().unwrap(),
            "--model",
            "deepseek",
            "--model-name",
            "DeepSeek-R1-MXFP4-Preview",
            "--plot-dir",
            out_dir.path().join("online").to_str().unwrap(),
            "--plot-date",
            "20251114",
        ],
    );
    assert!(out.status.success(), "{}", out.all());
    let ours = out_dir
        .path()
        .join("online/20251114_DeepSeek-R1-MXFP4-Preview_online_all.png");
    let (w, h, a) = pixels(&ours);
    let (rw, rh, b) = pixels(&fixtures().join("plot_fixed.png"));
    assert_eq!((w, h), (rw, rh));
    let differing = a
        .chunks(3)
        .zip(b.chunks(3))
        .filter(|(p, q)| p.iter().zip(q.iter()).any(|(x, y)| x.abs_diff(*y) > 48))
        .count();
    let share = differing as f64 / f64::from(w * h);
    assert!(
        share < 0.005,
        "{:.3}% of the pixels differ from fixtures/history/online/plot_fixed.png (kept {})",
        share * 100.0,
        ours.display()
    );
}

#[test]
fn usage_errors_exit_2() {
    let o = assert_usage_error(BIN, &["--request-rates", "1,x"]);
    assert!(
        o.all()
            .contains("--request-rates must be a comma-separated list of integers.")
    );
    assert_shared_usage_errors(BIN);
    assert_usage_error(BIN, &["--variant-filter", "bogus"]);
    let o = run(
        BIN,
        &[
            "--plot-only",
            "--summary-csv",
            "/nonexistent/summary.csv",
            "--plot-dir",
            "/tmp",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(o.all().contains("Summary CSV not found"));
}
