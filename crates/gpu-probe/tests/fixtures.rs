//! Every GPU tool output we know, through the parser and the numeric idle verdict: the
//! hand-made fixtures in `fixtures/gpu-probe/` and the real `rocm-smi` tables in
//! `../shared/data/rocm-smi/` (path overridable with `SGLCI_DATA`), and the probe command run
//! for real (`sh -c "cat FILE"`, as `SGLCI_GPU_PROBE_CMD` does).

use std::path::PathBuf;
use std::time::Duration;

use gpu_probe::{
    GpuUsage, Probe, ProbeCommand, ProbeFormat, Thresholds, Verdict, ensure_idle, judge, parse_auto,
};

fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn fixture(name: &str) -> PathBuf {
    workspace().join("fixtures/gpu-probe").join(name)
}

fn data(name: &str) -> PathBuf {
    let root = std::env::var_os("SGLCI_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join("../shared/data"));
    let p = root.join(name);
    assert!(
        p.exists(),
        "{} is missing: point SGLCI_DATA at the shared data folder (default <workspace>/../shared/data)",
        p.display()
    );
    p
}

fn read(p: PathBuf) -> Vec<u8> {
    std::fs::read(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

fn verdict_of(bytes: &[u8]) -> (ProbeFormat, Vec<GpuUsage>, Verdict) {
    let (format, gpus) = parse_auto(bytes).expect("parses");
    let v = judge(&gpus, &Thresholds::NIGHTLY);
    (format, gpus, v)
}

fn busy_indexes(v: &Verdict) -> Vec<u32> {
    match v {
        Verdict::Busy(b) => b.iter().map(|b| b.usage.index).collect(),
        _ => Vec::new(),
    }
}

#[test]
fn rocm_smi_eight_idle_mi300x_is_idle_where_the_awk_check_said_busy() {
    let (format, gpus, v) = verdict_of(&read(fixture("rocm-smi-mi300x-8-idle.txt")));
    assert_eq!(format, ProbeFormat::RocmSmi);
    assert_eq!(gpus.len(), 8, "one row per device, header lines skipped");
    assert_eq!(
        gpus.iter().map(|g| g.index).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_eq!(v, Verdict::Idle);
}

#[test]
fn rocm_smi_one_busy_device_is_named() {
    let (_, gpus, v) = verdict_of(&read(fixture("rocm-smi-mi300x-one-busy.txt")));
    assert_eq!(gpus[3].gpu_pct, Some(100.0));
    assert_eq!(gpus[3].vram_pct, Some(88.0));
    // GPU 6 has 3% GPU and 12% VRAM: "3" > "15" was true for awk, numerically it is idle.
    assert_eq!(gpus[6].gpu_pct, Some(3.0));
    assert_eq!(busy_indexes(&v), vec![3]);
}

#[test]
fn rocm_smi_rocm5_layout() {
    let (_, gpus, v) = verdict_of(&read(fixture("rocm-smi-rocm5-one-line-header.txt")));
    assert_eq!(gpus.len(), 2);
    assert_eq!(gpus[0].vram_pct, Some(97.0));
    assert_eq!(gpus[0].gpu_pct, Some(100.0));
    assert_eq!(busy_indexes(&v), vec![0]);
}

#[test]
fn rocm_smi_without_table_lists_no_gpu() {
    let (_, gpus, _) = verdict_of(&read(fixture("rocm-smi-driver-not-initialized.txt")));
    assert!(gpus.is_empty());
}

#[test]
fn real_rocm_smi_two_gpus_one_busy_by_vram() {
    let (_, gpus, v) = verdict_of(&read(data("rocm-smi/two-gpus-one-busy.txt")));
    assert_eq!(gpus.len(), 2);
    assert_eq!(gpus[0].vram_pct, Some(59.0));
    assert_eq!(gpus[0].gpu_pct, Some(8.0));
    let Verdict::Busy(b) = v else {
        panic!("59% VRAM is above 15")
    };
    assert_eq!(b.len(), 1);
    assert!(b[0].vram_over && !b[0].gpu_over, "8% GPU is below 15");
}

#[test]
fn real_rocm_smi_vram_held_after_crash_with_ansi_header() {
    let (_, gpus, v) = verdict_of(&read(data("rocm-smi/mi300x-vram-held-ansi-partial.txt")));
    assert_eq!(gpus.len(), 4, "table cut after four rows in its source");
    assert!(gpus.iter().all(|g| g.gpu_pct == Some(0.0)));
    assert_eq!(
        busy_indexes(&v),
        vec![1, 2, 3],
        "74-75% VRAM held, 1% on GPU 0"
    );
}

#[test]
fn real_rocm_smi_partitions_with_na_cells() {
    let (_, gpus, v) = verdict_of(&read(data("rocm-smi/mi300a-partitions-na.txt")));
    assert_eq!(gpus.len(), 3);
    assert_eq!(gpus[1].gpu_pct, None, "N/A is not a number");
    assert_eq!(gpus[1].vram_pct, Some(0.0));
    assert_eq!(v, Verdict::Idle);
}

#[test]
fn real_rocm_smi_low_power_warning_before_table() {
    let (_, gpus, v) = verdict_of(&read(data("rocm-smi/low-power-warning.txt")));
    assert_eq!(gpus.len(), 1, "the WARNING line is not a device");
    assert_eq!(v, Verdict::Idle);
}

#[test]
fn amd_smi_list_shape_busy_gpu() {
    let (format, gpus, v) = verdict_of(&read(fixture("amd-smi-metric-list.json")));
    assert_eq!(format, ProbeFormat::AmdSmiJson);
    assert_eq!(gpus.len(), 2);
    assert_eq!(gpus[1].gpu_pct, Some(97.0));
    let vram = gpus[1].vram_pct.unwrap();
    assert!((vram - 181000.0 / 196592.0 * 100.0).abs() < 1e-9);
    assert_eq!(busy_indexes(&v), vec![1]);
}

#[test]
fn amd_smi_gpu_data_shape_with_na_sections() {
    let (_, gpus, v) = verdict_of(&read(fixture("amd-smi-metric-gpu-data.json")));
    assert_eq!(gpus.len(), 2);
    assert_eq!(gpus[1].gpu_pct, None);
    assert_eq!(gpus[1].vram_pct, None);
    assert_eq!(v, Verdict::Idle);
}

#[test]
fn nvidia_smi_csv_with_header_and_units() {
    let (format, gpus, v) = verdict_of(&read(fixture("nvidia-smi-query.csv")));
    assert_eq!(format, ProbeFormat::NvidiaSmiCsv);
    assert_eq!(gpus.len(), 3);
    assert_eq!(gpus[1].gpu_pct, Some(100.0));
    assert_eq!(busy_indexes(&v), vec![1]);
}

#[test]
fn nvidia_smi_csv_noheader_nounits() {
    let (_, gpus, v) = verdict_of(&read(fixture("nvidia-smi-query-noheader-nounits.csv")));
    assert_eq!(gpus.len(), 2);
    assert_eq!(v, Verdict::Idle);
}

fn shell_probe(line: String) -> Probe {
    Probe {
        command: ProbeCommand::Shell(line),
        timeout: Duration::from_secs(5),
        thresholds: Thresholds::NIGHTLY,
    }
}

/// A probe whose command prints `file` (`cat '<file>'`).
fn cat_probe(file: &std::path::Path) -> Probe {
    shell_probe(format!("cat '{}'", file.display()))
}

#[test]
fn probe_command_runs_and_is_judged() {
    let p = cat_probe(&fixture("rocm-smi-mi300x-one-busy.txt"));
    let r = p.check();
    assert_eq!(r.format, Some(ProbeFormat::RocmSmi));
    assert_eq!(busy_indexes(&r.verdict), vec![3]);
}

#[test]
fn failing_or_silent_or_slow_probe_is_skipped_with_a_reason() {
    let r = shell_probe(format!(
        "cat '{}' >&2; exit 1",
        fixture("rocm-smi-driver-not-initialized.txt").display()
    ))
    .check();
    let Verdict::Skipped(why) = &r.verdict else {
        panic!("{r:?}")
    };
    assert!(
        why.contains("listed no GPU") && why.contains("exit status 1"),
        "{why}"
    );
    assert!(
        r.stderr.contains("Driver not initialized"),
        "stderr kept for the log"
    );

    let mut slow = shell_probe("sleep 5".into());
    slow.timeout = Duration::from_millis(300);
    let started = std::time::Instant::now();
    let Verdict::Skipped(why) = slow.check().verdict else {
        panic!("timeout must skip")
    };
    assert!(why.contains("did not finish within"), "{why}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "the probe was killed"
    );

    let none = Probe {
        command: ProbeCommand::NoTool,
        timeout: Duration::from_secs(1),
        thresholds: Thresholds::NIGHTLY,
    };
    let Verdict::Skipped(why) = none.check().verdict else {
        panic!()
    };
    assert!(why.contains("no GPU tool"), "{why}");
}

#[test]
fn ensure_idle_stops_ours_then_polls_until_idle() {
    // The probe reads a file; "stopping our containers" replaces it with the idle table.
    let dir = tempfile::tempdir().unwrap();
    let current = dir.path().join("current.txt");
    std::fs::copy(fixture("rocm-smi-mi300x-one-busy.txt"), &current).unwrap();
    let p = cat_probe(&current);
    let report = ensure_idle(
        &p,
        Duration::from_secs(5),
        Duration::from_millis(50),
        |first| {
            assert!(first.verdict.is_busy());
            std::fs::copy(fixture("rocm-smi-mi300x-8-idle.txt"), &current).unwrap();
            Ok::<_, String>(vec!["sgl-dev_test".to_string()])
        },
    );
    assert!(report.first.verdict.is_busy());
    assert_eq!(report.stopped, Some(Ok(vec!["sgl-dev_test".to_string()])));
    assert_eq!(report.final_verdict(), &Verdict::Idle);
    assert!(
        report.waited < Duration::from_secs(5),
        "stopped polling once idle"
    );
}

#[test]
fn ensure_idle_gives_up_after_the_wait_and_never_fails() {
    let p = cat_probe(&fixture("rocm-smi-mi300x-one-busy.txt"));
    let report = ensure_idle(
        &p,
        Duration::from_millis(300),
        Duration::from_millis(50),
        |_| Err::<Vec<String>, _>("Docker is not reachable"),
    );
    assert_eq!(
        report.stopped,
        Some(Err("Docker is not reachable".to_string()))
    );
    assert!(report.final_verdict().is_busy());
    assert!(report.waited >= Duration::from_millis(300));
}

#[test]
fn idle_first_check_calls_nothing() {
    let p = cat_probe(&fixture("rocm-smi-mi300x-8-idle.txt"));
    let report = ensure_idle(
        &p,
        Duration::from_secs(1),
        Duration::from_millis(50),
        |_| {
            panic!("must not stop anything when idle");
            #[allow(unreachable_code)]
            Ok::<Vec<String>, String>(Vec::new())
        },
    );
    assert_eq!(report.final_verdict(), &Verdict::Idle);
    assert!(report.stopped.is_none());
}
