//! `rocm-smi` (no arguments): the "Concise Info" table.
//!
//! Real shapes (`../shared/data/rocm-smi/`, `fixtures/gpu-probe/`): a title between `=` lines,
//! a header whose last two columns are `VRAM%  GPU%` (ROCm 6 splits it over two lines, the
//! second sometimes wrapped in ANSI italics codes), one row per device starting with the device
//! index, `N/A` cells on partitioned devices, an optional low-power `WARNING` before the table,
//! and a closing `End of ROCm SMI Log` line. ROCm 5 prints `GPU  Temp ... VRAM%  GPU%` on one
//! line. A host whose driver is down prints no table at all.
//!
//! Rule: find the header line holding both `VRAM%` and `GPU%` and note how far from the end of
//! the line each sits; every later line whose first field is a device number is a device row,
//! and its fields at the same distance from the end are its VRAM% and GPU%. Without a header
//! the rocm-smi order (`VRAM%` then `GPU%` as the last two columns) is assumed.

use metrics_parse::text;

use crate::{GpuUsage, percent};

/// Column positions counted from the end of a row (0 = last field).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Columns {
    vram_from_end: usize,
    gpu_from_end: usize,
}

/// rocm-smi's own order: `... VRAM%  GPU%`.
const DEFAULT_COLUMNS: Columns = Columns {
    vram_from_end: 1,
    gpu_from_end: 0,
};

/// Parses a concise table into one [`GpuUsage`] per device row. No table (driver down, an
/// error message) gives an empty list; this never fails.
pub fn parse(output: &[u8]) -> Vec<GpuUsage> {
    let mut columns: Option<Columns> = None;
    let mut gpus = Vec::new();
    for raw in text::lines(output) {
        let line = text::clean(raw);
        let fields: Vec<&str> = line.split_whitespace().collect();
        if let Some(c) = header_columns(&fields) {
            columns = Some(c);
            continue;
        }
        let Some(index) = fields.first().and_then(|f| f.parse::<u32>().ok()) else {
            continue;
        };
        let c = columns.unwrap_or(DEFAULT_COLUMNS);
        let needed = c.vram_from_end.max(c.gpu_from_end) + 1;
        // A device row has at least the index plus the two usage columns.
        if fields.len() < needed + 1 {
            continue;
        }
        let at = |from_end: usize| fields[fields.len() - 1 - from_end];
        gpus.push(GpuUsage {
            index,
            gpu_pct: percent(at(c.gpu_from_end)),
            vram_pct: percent(at(c.vram_from_end)),
        });
    }
    gpus
}

fn header_columns(fields: &[&str]) -> Option<Columns> {
    let n = fields.len();
    let vram = fields.iter().rposition(|f| *f == "VRAM%")?;
    let gpu = fields.iter().rposition(|f| *f == "GPU%")?;
    Some(Columns {
        vram_from_end: n - 1 - vram,
        gpu_from_end: n - 1 - gpu,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_line_header_and_rows() {
        let out = b"GPU  Temp   AvgPwr  SCLK    MCLK     Fan  Perf  PwrCap  VRAM%  GPU%\n\
                    0    35.0c  32.0W   800Mhz  1600Mhz  0%   auto  300.0W    3%   100%\n";
        assert_eq!(
            parse(out),
            vec![GpuUsage {
                index: 0,
                gpu_pct: Some(100.0),
                vram_pct: Some(3.0)
            }]
        );
    }

    #[test]
    fn header_order_is_honoured_when_swapped() {
        let out = b"Device GPU% VRAM%\n0 7% 90%\n";
        let g = parse(out);
        assert_eq!(g[0].gpu_pct, Some(7.0));
        assert_eq!(g[0].vram_pct, Some(90.0));
    }

    #[test]
    fn no_table_is_no_gpus() {
        assert!(
            parse(b"ERROR:root:Driver not initialized (amdgpu not found in modules)\n").is_empty()
        );
        assert!(parse(b"").is_empty());
    }

    proptest! {
        #[test]
        fn never_panics(data in proptest::collection::vec(any::<u8>(), 0..512)) {
            let _ = parse(&data);
        }
    }
}
