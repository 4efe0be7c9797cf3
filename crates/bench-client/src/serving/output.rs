//! Result files: the JSON line appended to `--output-file` (bench_serving's habit) and the
//! optional pretty `--result-json`, written atomically.

use std::io::Write;
use std::path::{Path, PathBuf};

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

fn out_err(path: &Path) -> impl FnOnce(std::io::Error) -> BenchError + '_ {
    move |source| BenchError::Output {
        path: path.to_path_buf(),
        source,
    }
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
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .map_err(out_err(&path))?;
    f.write_all(line.as_bytes()).map_err(out_err(&path))?;
    if let Some(p) = &args.result_json {
        let text = serde_json::to_string_pretty(&report.summary).unwrap_or_default();
        let tmp = p.with_extension("json.tmp");
        std::fs::write(&tmp, text + "\n").map_err(out_err(&tmp))?;
        std::fs::rename(&tmp, p).map_err(out_err(p))?;
    }
    Ok(path)
}
