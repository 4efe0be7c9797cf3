//! The online plot script's reading of one run folder (spec benchmarks.md §12.3–§12.4):
//! folder names and variants, the three-table TSV as the script reads it, and the GSM8K and
//! KV-cache facts of the folder (parsed by `metrics_parse`).

use std::collections::BTreeMap;
use std::path::Path;

use metrics_parse::{gsm8k, server_log, text};

use super::common::Say;
use super::pyfmt::py_float;

/// The three metric tables, in file order: (section title, summary column).
pub const METRICS: [(&str, &str); 3] = [
    ("Median E2E Latency (ms, lower better)", "E2E_Latency_ms"),
    ("Median TTFT (ms, lower better)", "TTFT_ms"),
    ("Median ITL (ms, lower better)", "ITL_ms"),
];

/// Variant of a run folder from its name (§12.3).
pub fn variant_of(folder: &str) -> &'static str {
    if folder.contains("_dp_attention_mtp_test") || folder.contains("_mtp_test_dp_attention") {
        "dp_mtp"
    } else if folder.contains("_mtp_test") {
        "mtp"
    } else if folder.contains("_dp_attention") {
        "dp"
    } else {
        "standard"
    }
}

/// Whether a folder is read: legacy = its name contains `_online` or `_serving` (so
/// `.backup_*` copies count, F-23); fixed = the name ends with `_online`/`_serving` followed
/// only by the variant suffixes the benchmark scripts write.
pub fn is_run_folder(name: &str, legacy: bool) -> bool {
    if legacy {
        return name.contains("_online") || name.contains("_serving");
    }
    for marker in ["_online", "_serving"] {
        let Some(at) = name.rfind(marker) else {
            continue;
        };
        let mut rest = &name[at + marker.len()..];
        while !rest.is_empty() {
            match ["_dp_attention", "_torch_compile", "_mtp_test"]
                .iter()
                .find(|s| rest.starts_with(**s))
            {
                Some(s) => rest = &rest[s.len()..],
                None => break,
            }
        }
        if rest.is_empty() {
            return true;
        }
    }
    false
}

/// Whether a file in a run folder is an online result CSV.
pub fn is_result_csv(name: &str) -> bool {
    (name.contains("_online") || name.contains("_serving")) && name.ends_with(".csv")
}

/// One data row of one metric table: mode and one value per load.
#[derive(Debug, Clone, PartialEq)]
pub struct ModeValues {
    /// Mode derived from the row label (`aiter`, `triton`, …).
    pub mode: String,
    /// Per metric (E2E, TTFT, ITL), per load: the value, `None` when missing.
    pub values: [Vec<Option<f64>>; 3],
    /// Per metric, per load: the cell was empty or absent (not run), as opposed to `NA`.
    pub empty: [Vec<bool>; 3],
}

/// What the script takes from one online CSV.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CsvReading {
    /// Loads of the header line, in file order.
    pub loads: Vec<i64>,
    /// `average accuracy<TAB><n>` line of old CSVs.
    pub csv_accuracy: Option<f64>,
    /// Rows by mode, in order of first appearance.
    pub modes: Vec<ModeValues>,
}

/// Mode from a row label (§12.4 step 5); `None` with a warning text for the fallback case.
fn mode_of(label: &str, filter_has_aiter: bool, say: Say<'_>) -> String {
    if label.contains("MI300x-aiter") {
        return if label.contains("aiter_decode") {
            "aiter_decode"
        } else {
            "aiter"
        }
        .to_owned();
    }
    if label.contains("MI300x-triton") {
        return "triton".to_owned();
    }
    if let Some(rest) = label.strip_prefix("MI300x-") {
        let word: String = rest
            .chars()
            .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
            .collect();
        return word;
    }
    if filter_has_aiter {
        return "aiter".to_owned();
    }
    let mode = label.split(',').next().unwrap_or(label).trim().to_owned();
    say(&format!(
        "Warning: Could not determine mode from label '{label}', using '{mode}'"
    ));
    mode
}

/// Reads one online CSV the way the plot script does. `legacy`: rows are stripped before the
/// TAB split, so trailing empty cells vanish (they read as missing either way). `None` when
/// the loads line cannot be found.
pub fn read_csv(
    data: &[u8],
    filter_has_aiter: bool,
    load_metric: &str,
    legacy: bool,
    say: Say<'_>,
) -> Option<CsvReading> {
    let lines: Vec<String> = text::lines(data)
        .map(|l| text::lossy(l).into_owned())
        .collect();
    // Loads: the line after the first section title.
    let title_at = lines
        .iter()
        .position(|l| METRICS.iter().any(|(t, _)| l.contains(t)))?;
    let header = lines.get(title_at + 1)?;
    if !(header.contains("request rate") || header.contains("concurrency")) {
        return None;
    }
    let loads: Vec<i64> = header
        .trim()
        .split('\t')
        .skip(1)
        .map(str::trim)
        .filter(|c| !c.is_empty() && c.bytes().all(|b| b.is_ascii_digit()))
        .filter_map(|c| c.parse().ok())
        .collect();
    if loads.is_empty() {
        return None;
    }
    let csv_accuracy = lines.iter().find_map(|l| {
        let t = l.trim();
        if !t.to_ascii_lowercase().starts_with("average accuracy") {
            return None;
        }
        py_float(t.split('\t').nth(1)?)
    });
    let mut modes: Vec<ModeValues> = Vec::new();
    for (m, (title, column)) in METRICS.iter().enumerate() {
        let Some(at) = lines.iter().position(|l| l.contains(title)) else {
            continue;
        };
        for line in lines.iter().skip(at + 2) {
            let stripped = line.trim();
            if stripped.is_empty() || line.contains("H100/MI300x") {
                break;
            }
            if line.contains("H100") {
                continue;
            }
            let fields: Vec<&str> = if legacy {
                stripped.split('\t').collect()
            } else {
                line.trim_start()
                    .trim_end_matches(['\r', '\n'])
                    .split('\t')
                    .collect()
            };
            if fields.len() < 2 {
                continue;
            }
            let mode = mode_of(fields[0], filter_has_aiter, say);
            let idx = match modes.iter().position(|r| r.mode == mode) {
                Some(i) => i,
                None => {
                    let n = loads.len();
                    modes.push(ModeValues {
                        mode: mode.clone(),
                        values: std::array::from_fn(|_| vec![None; n]),
                        empty: std::array::from_fn(|_| vec![true; n]),
                    });
                    modes.len() - 1
                }
            };
            for (i, load) in loads.iter().enumerate() {
                let cell = fields.get(i + 1).map(|c| c.trim()).unwrap_or("");
                if cell.is_empty() {
                    say(&format!(
                        "Warning: Missing data for {mode}, {column}, {load_metric} {load}"
                    ));
                    continue;
                }
                modes[idx].empty[m][i] = false;
                match py_float(cell) {
                    Some(v) if super::common::plausible(v) => modes[idx].values[m][i] = Some(v),
                    Some(v) if !v.is_nan() => say(&format!(
                        "Warning: Rejected value for {mode}, {column}, {load_metric} {load}: '{cell}' is not a measurement (must be finite, 0 to {:e})",
                        super::common::MAX_MEASUREMENT
                    )),
                    _ => say(&format!(
                        "Warning: Could not parse value for {mode}, {column}, {load_metric} {load}: '{cell}'"
                    )),
                }
            }
        }
    }
    Some(CsvReading {
        loads,
        csv_accuracy,
        modes,
    })
}

/// Mode key of a GSM8K log from its file name (§12.4 step 4); `_default` when none.
pub fn gsm8k_mode_key(file_name: &str, say: Say<'_>) -> String {
    let lower = file_name.to_ascii_lowercase();
    if lower.contains("_aiter") {
        return "aiter".to_owned();
    }
    if lower.contains("_triton") {
        return "triton".to_owned();
    }
    let stem = file_name.strip_suffix(".log").unwrap_or(file_name);
    let last = stem.rsplit('_').next().unwrap_or(stem);
    if last.eq_ignore_ascii_case("gsm8k") {
        say(&format!(
            "Warning: Could not determine mode from GSM8K log file: {file_name}, will use default"
        ));
        return "_default".to_owned();
    }
    last.to_owned()
}

/// GSM8K accuracy per mode key from the folder's `*gsm8k*.log` files. Legacy: the plot
/// script's reading (first attempt's average for Grok, first run for DeepSeek, F-24);
/// fixed: the final accuracy of the last attempt (what gated the run).
pub fn gsm8k_by_mode(
    folder: &Path,
    files: &[(String, std::path::PathBuf)],
    legacy: bool,
    say: Say<'_>,
) -> BTreeMap<String, f64> {
    let _ = folder;
    let mut out = BTreeMap::new();
    for (name, path) in files {
        let lower = name.to_ascii_lowercase();
        if !(lower.contains("gsm8k") && lower.ends_with(".log")) {
            continue;
        }
        let key = gsm8k_mode_key(name, say);
        let data = match crate::bounded::read_regular(path) {
            Ok(d) => d,
            Err(e) if e.is_refused() => {
                say(&format!("Warning: {e}"));
                continue;
            }
            Err(_) => {
                say(&format!("Warning: Could not read GSM8K log file: {name}"));
                continue;
            }
        };
        let found = if legacy {
            gsm8k::plot_script_accuracy(&data)
        } else {
            gsm8k::Gsm8kLog::parse(&data)
                .final_accuracy()
                .map(|a| a.text)
        };
        if let Some(v) = found.as_deref().and_then(py_float) {
            say(&format!(
                "Found GSM8K accuracy{} for mode {key}: {}",
                if legacy { "" } else { " (final)" },
                super::pyfmt::py_repr(v)
            ));
            out.insert(key, v);
        }
    }
    out
}

/// `(num_tokens, KV_size_GB)` from `sglang_server.log`, else `server_output_aiter.log`.
pub fn kv_cache(folder: &Path) -> Option<(i64, f64)> {
    for name in ["sglang_server.log", "server_output_aiter.log"] {
        if let Some(kv) = kv_cache_in(&folder.join(name)) {
            return Some((i64::try_from(kv.tokens).ok()?, kv.kv_size_gb));
        }
    }
    None
}

/// The first KV-cache line of a server log, read in growing chunks that end at a line break:
/// the line comes at start-up, so multi-gigabyte logs are not read whole.
fn kv_cache_in(path: &Path) -> Option<server_log::KvCacheAllocation> {
    use std::io::Read;
    // A FIFO or device named like the server log is not read (it would never end).
    if !crate::bounded::is_regular(path) {
        return None;
    }
    let mut file = std::fs::File::open(path).ok()?;
    let mut buf = Vec::new();
    let mut chunk: u64 = 1 << 20;
    loop {
        let n = (&mut file).take(chunk).read_to_end(&mut buf).ok()?;
        let end = if n == 0 {
            buf.len()
        } else {
            buf.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1)
        };
        if let Some(kv) = server_log::kv_cache_allocation(&buf[..end]) {
            return Some(kv);
        }
        if n == 0 {
            return None;
        }
        chunk = (chunk * 2).min(64 << 20);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_and_folders() {
        assert_eq!(variant_of("x_FP8_online_dp_attention_mtp_test"), "dp_mtp");
        assert_eq!(variant_of("x_FP8_online_mtp_test"), "mtp");
        assert_eq!(variant_of("x_FP8_online_dp_attention_torch_compile"), "dp");
        assert_eq!(variant_of("x_FP8_online_torch_compile"), "standard");
        let backup = "v0.5.4-rocm700-mi30x-20251101_GROK2_FP8_online.backup_20251102_231834";
        assert!(is_run_folder(backup, true));
        assert!(!is_run_folder(backup, false));
        assert!(is_run_folder(
            "t_DeepSeek-V3-0324_FP8_online_dp_attention_mtp_test",
            false
        ));
        assert!(!is_run_folder("test_dp4_torch_compile_no_cudagraph", false));
    }

    #[test]
    fn reads_the_three_tables_with_trailing_empty_cells() {
        let csv = b"Online mode - GROK1 (t)\n\nMedian E2E Latency (ms, lower better)\nrequest rate\t1\t2\nMI300x-aiter, h\t10.50\t\n\nMedian TTFT (ms, lower better)\nrequest rate\t1\t2\nMI300x-aiter, h\tNA\t\n\nMedian ITL (ms, lower better)\nrequest rate\t1\t2\nMI300x-aiter, h\t1.00\t";
        let mut lines = Vec::new();
        let r = read_csv(csv, true, "request_rate", true, &mut |s| {
            lines.push(s.to_owned())
        })
        .unwrap();
        assert_eq!(r.loads, [1, 2]);
        assert_eq!(r.modes.len(), 1);
        assert_eq!(r.modes[0].mode, "aiter");
        assert_eq!(r.modes[0].values[0], [Some(10.5), None]);
        assert_eq!(r.modes[0].values[1], [None, None]);
        assert_eq!(r.modes[0].empty[1], [false, true]);
        assert!(lines.iter().any(|l| l.contains("Could not parse value")));
    }

    #[test]
    fn gsm8k_mode_keys() {
        let mut sink = |_: &str| {};
        assert_eq!(
            gsm8k_mode_key("sglang_client_log_GROK1_gsm8k_aiter.log", &mut sink),
            "aiter"
        );
        assert_eq!(
            gsm8k_mode_key("sglang_client_log_DS_gsm8k.log", &mut sink),
            "_default"
        );
    }
}
