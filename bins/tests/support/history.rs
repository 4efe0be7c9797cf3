//! `process-online-plots` and `process-offline-plots`: runs with the flags every test shares
//! and the usage errors both binaries share.

use std::path::Path;
use std::time::Duration;

use super::Ran;

/// Runs a plot binary with `args` (300 s at most).
pub fn run(bin: &str, args: &[&str]) -> Ran {
    super::run_args(bin, args, Duration::from_secs(300))
}

/// Runs a plot binary over every date (`--days 100000`) as host `test-host`, writing the
/// summary CSV into `out`, with `args` after those flags.
pub fn run_into(bin: &str, out: &Path, args: &[&str]) -> Ran {
    let out = out.to_str().expect("temp dir path is UTF-8");
    let mut all = vec![
        "--days",
        "100000",
        "--node-name",
        "test-host",
        "--summary-dir",
        out,
    ];
    all.extend_from_slice(args);
    run(bin, &all)
}

/// Runs a plot binary with `args` and asserts it stops with a usage error (exit 2).
pub fn assert_usage_error(bin: &str, args: &[&str]) -> Ran {
    let o = run(bin, args);
    assert_eq!(o.status.code(), Some(2), "{args:?}: {}", o.all());
    o
}

/// The usage errors of the flags both plot binaries share: `--process-only` with
/// `--plot-only`, and an unknown `--model`.
pub fn assert_shared_usage_errors(bin: &str) {
    assert_usage_error(bin, &["--process-only", "--plot-only"]);
    assert_usage_error(bin, &["--model", "llama"]);
}
