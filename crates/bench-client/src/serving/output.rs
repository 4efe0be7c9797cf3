//! Result files: the JSON line appended to `--output-file` (bench_serving's habit) and the
//! optional pretty `--result-json`, written atomically; `-` is stdout for both, and devices
//! and pipes (`/dev/stdout`) are written through (`report::atomic`).

use std::path::PathBuf;

use super::args::ServingArgs;
use super::metrics::ServingReport;
use crate::BenchError;

/// bench_serving's default name for random datasets: `{backend}_{MMDD}_{n}_{in}_{out}.jsonl`
/// (MMDD in Pacific time).
pub fn default_output_file(args: &ServingArgs) -> PathBuf {
    let now = chrono::Utc::now().with_timezone(&chrono_tz::America::Los_Angeles);
    PathBuf::from(format!(
        "{}_{}_{}_{}_{}.jsonl",
        args.backend.as_str(),
        now.format("%m%d"),
        args.num_prompts,
        args.random_input_len,
        args.random_output_len
    ))
}

/// Appends the JSON line to `--output-file` (or the default name) and writes `--result-json`
/// when asked. Returns the JSONL path.
pub fn write_outputs(args: &ServingArgs, report: &ServingReport) -> Result<PathBuf, BenchError> {
    let path = args
        .output_file
        .clone()
        .unwrap_or_else(|| default_output_file(args));
    let mut line = serde_json::to_string(&report.summary).unwrap_or_default();
    line.push('\n');
    report::atomic::append(&path, line.as_bytes())?;
    if let Some(p) = &args.result_json {
        let text = serde_json::to_string_pretty(&report.summary).unwrap_or_default();
        report::atomic::write_atomic(p, (text + "\n").as_bytes())?;
    }
    Ok(path)
}
