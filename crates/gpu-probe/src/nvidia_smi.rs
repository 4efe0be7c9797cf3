//! `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv`.
//!
//! Documented format: a header line naming the queried fields with their units
//! (`index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]`), then one line per GPU
//! (`0, 35 %, 1024 MiB, 81559 MiB`). With `--format=csv,noheader,nounits` the header and the
//! units are absent; then the columns are taken in the order above. `[N/A]` or
//! `[Not Supported]` cells are `None`.

use crate::{GpuUsage, ParseError, percent};

const DEFAULT_ORDER: [&str; 4] = ["index", "utilization.gpu", "memory.used", "memory.total"];

/// Parses the CSV into one [`GpuUsage`] per GPU line.
pub fn parse(output: &[u8]) -> Result<Vec<GpuUsage>, ParseError> {
    let text = String::from_utf8_lossy(output);
    let mut rows = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .peekable();
    let header: Vec<String> = match rows.peek() {
        Some(first) if first.contains("index") || first.contains("utilization") => {
            let h = first
                .split(',')
                .map(|c| c.split('[').next().unwrap_or("").trim().to_string())
                .collect();
            rows.next();
            h
        }
        _ => DEFAULT_ORDER.iter().map(|s| (*s).to_string()).collect(),
    };
    let col = |name: &str| header.iter().position(|h| h == name);
    let index_col = col("index")
        .ok_or_else(|| ParseError::NvidiaSmiCsv("no `index` column in the header".into()))?;
    let util_col = col("utilization.gpu");
    let used_col = col("memory.used");
    let total_col = col("memory.total");
    if util_col.is_none() && used_col.is_none() {
        return Err(ParseError::NvidiaSmiCsv(
            "neither `utilization.gpu` nor `memory.used` was queried".into(),
        ));
    }
    let mut gpus = Vec::new();
    for line in rows {
        let cells: Vec<&str> = line.split(',').map(str::trim).collect();
        let cell = |c: Option<usize>| c.and_then(|i| cells.get(i).copied());
        let index = cell(Some(index_col))
            .and_then(|s| s.parse::<u32>().ok())
            .ok_or_else(|| {
                ParseError::NvidiaSmiCsv(format!("line without a GPU index: {line:?}"))
            })?;
        let gpu_pct = cell(util_col).and_then(percent);
        let used = cell(used_col).and_then(mib);
        let total = cell(total_col).and_then(mib);
        gpus.push(GpuUsage::from_amounts(index, gpu_pct, used, total));
    }
    Ok(gpus)
}

fn mib(cell: &str) -> Option<f64> {
    let t = cell.trim();
    let t = t.strip_suffix("MiB").unwrap_or(t).trim();
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noheader_nounits() {
        let g = parse(b"0, 97, 40000, 80000\n1, 0, 0, 80000\n").unwrap();
        assert_eq!(g.len(), 2);
        assert_eq!(g[0].gpu_pct, Some(97.0));
        assert_eq!(g[0].vram_pct, Some(50.0));
        assert_eq!(g[1].vram_pct, Some(0.0));
    }

    #[test]
    fn not_supported_cells_are_none() {
        let g = parse(
            b"index, utilization.gpu [%], memory.used [MiB], memory.total [MiB]\n0, [N/A], [Not Supported], 100 MiB\n",
        )
        .unwrap();
        assert_eq!(g[0].gpu_pct, None);
        assert_eq!(g[0].vram_pct, None);
    }

    #[test]
    fn garbage_is_an_error() {
        assert!(parse(b"No devices were found\n").is_err());
    }
}
