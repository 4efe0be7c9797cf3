//! `process-offline-plots` end to end on hand-made offline run folders (spec §7.3 formats,
//! `fixtures/history/offline/`): the summary CSV, the plot, and the DeepSeek fixes (F-22).

mod support;

use std::fs;
use std::path::{Path, PathBuf};

use support::history::{assert_shared_usage_errors, run, run_into};
use support::png_size;

fn fixtures() -> PathBuf {
    support::fixtures("history")
}

const BIN: &str = env!("CARGO_BIN_EXE_process-offline-plots");

fn plots(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = fs::read_dir(dir)
        .map(|r| r.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn grok_summary_and_plot_from_offline_csvs() {
    let out = tempfile::tempdir().unwrap();
    let plot_dir = out.path().join("offline");
    let data = fixtures().join("offline/GROK1");
    let o = run_into(
        BIN,
        out.path(),
        &[
            "--model",
            "grok",
            "--data-dir",
            data.to_str().unwrap(),
            "--plot-dir",
            plot_dir.to_str().unwrap(),
            "--format",
            "both",
        ],
    );
    assert!(o.status.success(), "{}", o.all());
    let summary = fs::read_to_string(
        out.path()
            .join("GROK1_MOE-I4F8_offline_summary_test-host.csv"),
    )
    .unwrap();
    let lines: Vec<&str> = summary.lines().collect();
    assert_eq!(
        lines[0],
        "date,batch_size,backend,node_name,E2E_Latency(s),E2E_Throughput(token/s),ILEN,OLEN"
    );
    // 9 + 8 (batch 256 ran out of memory: NA row dropped) + 9; the long-context folder is
    // not read (its name does not end in `_offline`).
    assert_eq!(lines.len(), 1 + 26, "{summary}");
    assert_eq!(lines[1], "20251028,1,aiter,test-host,1.52,757.89,1024,128");
    assert!(!summary.contains("20251029,256,"));
    assert!(!summary.contains("9.99"));
    assert!(
        o.all()
            .contains("Warning: No valid data for batch size 256")
    );
    assert!(
        o.all()
            .contains("Date 2025-10-29: Incomplete data. Missing batch sizes: [256]")
    );
    assert!(
        o.all()
            .contains("Found 2 dates with complete data: ['2025-10-28', '2025-10-30']")
    );
    let files = plots(&plot_dir);
    assert_eq!(files.len(), 2, "{files:?}");
    let png = files
        .iter()
        .find(|p| p.extension().unwrap() == "png")
        .unwrap();
    let name = png.file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.len() == "YYYYMMDD_GROK1_offline.png".len() && name.ends_with("_GROK1_offline.png"),
        "{name}"
    );
    assert_eq!(png_size(png), (3000, 1200));
    let svg = fs::read_to_string(png.with_extension("svg")).unwrap();
    assert!(svg.starts_with("<svg width=\"3000\" height=\"1200\""));
    assert!(svg.contains("E2E Throughput Trends - GROK1_MOE-I4F8_offline"));
}

#[test]
fn deepseek_reads_the_folder_the_benchmark_writes_and_needs_only_batch_32() {
    let out = tempfile::tempdir().unwrap();
    let base = fixtures();
    let common = ["--model", "deepseek", "--base-dir", base.to_str().unwrap()];
    let plot_dir = out.path().join("p/offline");
    let mut a = common.to_vec();
    a.extend(["--plot-dir", plot_dir.to_str().unwrap()]);
    let o = run_into(BIN, out.path(), &a);
    assert!(o.status.success(), "{}", o.all());
    let summary = fs::read_to_string(
        out.path()
            .join("DeepSeek_FP8_offline_summary_test-host.csv"),
    )
    .unwrap();
    // Two rows of one file for batch 32 are averaged (Python prints the same
    // 4867.450000000001); no Backend column → `unknown`.
    assert_eq!(
        summary,
        "date,batch_size,backend,node_name,E2E_Latency(s),E2E_Throughput(token/s),ILEN,OLEN\n\
         20251028,32,unknown,test-host,1.052,4867.450000000001,1024,128\n\
         20251029,32,unknown,test-host,1.02,5019.61,1024,128\n"
    );
    let files = plots(&plot_dir);
    assert_eq!(files.len(), 1);
    assert!(
        files[0]
            .to_string_lossy()
            .ends_with("_DeepSeek_offline.png")
    );

    // The original reads `offline/DeepSeek`, which the DeepSeek benchmark never writes.
    let mut a = common.to_vec();
    a.push("--legacy");
    let o = run_into(BIN, out.path(), &a);
    assert_eq!(o.status.code(), Some(1), "{}", o.all());
    assert!(o.all().contains("offline/DeepSeek"));

    // And with the right folder it still plots nothing: it wants batch sizes 1…256.
    let data = base.join("offline/DeepSeek-V3-0324");
    let legacy_plots = out.path().join("legacy/offline");
    let mut a = common.to_vec();
    a.extend([
        "--legacy",
        "--data-dir",
        data.to_str().unwrap(),
        "--plot-dir",
        legacy_plots.to_str().unwrap(),
    ]);
    let o = run_into(BIN, out.path(), &a);
    assert!(o.status.success(), "{}", o.all());
    assert!(
        o.all()
            .contains("No dates found with complete data for all required batch sizes.")
    );
    assert!(plots(&legacy_plots).is_empty());
}

#[test]
fn no_data_and_usage_errors() {
    let empty = tempfile::tempdir().unwrap();
    let o = run(
        BIN,
        &[
            "--data-dir",
            empty.path().to_str().unwrap(),
            "--node-name",
            "h",
        ],
    );
    assert_eq!(o.status.code(), Some(1));
    assert!(
        o.all()
            .contains("No data processed. Skipping CSV generation.")
    );
    assert_shared_usage_errors(BIN);
}
