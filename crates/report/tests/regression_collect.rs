//! `report::regression::collect` over a hand-made run folder of the repository's fixtures
//! (an integration test: it reads the checkout's `fixtures/` folder).

use std::path::Path;

use report::regression::{Date, collect};

/// A hand-made Grok run folder (fixtures/rebuild_csv): CSV cells for rates 1, 2, 4; rate
/// 8 has a result but an empty cell (the job was killed), so it gives no night. Output
/// throughput comes from the best run (run 2 of rate 1: smaller median E2E), not run 1.
#[test]
fn every_metric_of_a_run_folder() {
    let name = "v0.0.1-rocm700-mi30x-20250101_GROK1_MOE-I4F8_online";
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../fixtures/rebuild_csv")
        .join(name);
    let tmp = tempfile::tempdir().unwrap();
    let dst = tmp.path().join("online/GROK1").join(name);
    std::fs::create_dir_all(&dst).unwrap();
    for e in std::fs::read_dir(&src).unwrap() {
        let p = e.unwrap().path();
        let mut data = std::fs::read_to_string(&p).unwrap();
        if p.ends_with("sglang_client_log_GROK1_aiter_1_run1_20250101_060535.log") {
            data = data.replace("536.18", "999.99");
        }
        std::fs::write(dst.join(p.file_name().unwrap()), data).unwrap();
    }
    let c = collect(tmp.path()).unwrap();
    let got: Vec<String> = c
        .series
        .iter()
        .map(|s| format!("{} = {}", s.key, s.nights[0].value))
        .collect();
    let want: Vec<String> = [
        "e2e_ms rate 1 = 9815.01",
        "e2e_ms rate 2 = 12345.15",
        "e2e_ms rate 4 = 12034.2",
        "ttft_ms rate 1 = 93.86",
        "ttft_ms rate 2 = 103.52",
        "ttft_ms rate 4 = 101.93",
        "itl_ms rate 1 = 17.18",
        "itl_ms rate 2 = 21.42",
        "itl_ms rate 4 = 17.96",
        "output_throughput rate 1 = 536.18",
        "output_throughput rate 2 = 536.18",
        "output_throughput rate 4 = 536.18",
        "gsm8k_accuracy - = 0.813",
    ]
    .iter()
    .map(|s| format!("mi30x GROK1 MOE-I4F8 {s}"))
    .collect();
    assert_eq!(got, want);
    let tput = &c.series[9].nights[0];
    assert!(
        tput.source
            .ends_with("sglang_client_log_GROK1_aiter_1_run2_20250101_060535.log"),
        "{}",
        tput.source.display()
    );
    assert_eq!(tput.date, Date::parse("20250101").unwrap());
    assert!(!tput.simulated && !tput.fallback);
}
