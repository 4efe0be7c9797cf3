//! GPU inventory and the "are the GPUs idle?" check of the nightly jobs.
//!
//! The original ran `rocm-smi` (no arguments) and compared the last two columns of every line
//! with a threshold as *strings* (awk), so the table's own header always looked "busy" and every
//! healthy host was reported busy (spec nightly.md §2.5, quirk Q-NT-6). Here the table is parsed
//! into numbers per device and compared numerically.
//!
//! Three tool outputs are understood, detected from the text itself:
//!
//! | tool | invocation ([`ProbeCommand::default_for`]) | parser |
//! |---|---|---|
//! | `rocm-smi` | `rocm-smi` (the original's, no arguments: the "Concise Info" table) | [`rocm_smi::parse`] |
//! | `amd-smi` | `amd-smi metric --usage --mem-usage --json` | [`amd_smi::parse`] |
//! | `nvidia-smi` | `nvidia-smi --query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv` | [`nvidia_smi::parse`] |
//!
//! The probe command can be replaced with `SGLCI_GPU_PROBE_CMD` (run through `sh -c`), which is
//! how tests feed recorded outputs (`SGLCI_GPU_PROBE_CMD="cat fixture.txt"`).
//!
//! Modules, in layers without cycles: the parsers ([`rocm_smi`], [`amd_smi`], [`nvidia_smi`]);
//! `verdict` (thresholds and the numeric judgement, pure); `probe` (running the tool with a
//! time limit, detecting its format, one check: [`Probe::check`]); `idle` (the "ensure idle"
//! procedure over repeated checks: [`ensure_idle`]).
//!
//! This crate never touches Docker. When the GPUs are busy, [`ensure_idle`] calls a closure the
//! caller provides; the orchestrator passes one that stops only the containers sglang-ci
//! created (`docker_ctl::Engine::stop_managed_running`), never foreign ones.

pub mod amd_smi;
mod idle;
pub mod nvidia_smi;
mod probe;
pub mod rocm_smi;
mod verdict;

pub use idle::{EnsureIdleReport, ensure_idle};
pub use probe::{
    IdleReport, PROBE_CMD_ENV, Probe, ProbeCommand, ProbeError, ProbeFormat, ProbeOutput,
    detect_format, parse_auto,
};
pub use verdict::{BusyGpu, ThresholdError, Thresholds, Verdict, judge};

/// Usage of one GPU as the probe reported it. `None` where the tool printed `N/A`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct GpuUsage {
    /// Device index as printed by the tool (`Device`/`GPU` column, `gpu` field, `index`).
    pub index: u32,
    /// Compute utilisation in percent (`GPU%`, `gfx_activity`, `utilization.gpu`).
    pub gpu_pct: Option<f64>,
    /// VRAM in use in percent (`VRAM%`, or used/total of `amd-smi`/`nvidia-smi`).
    pub vram_pct: Option<f64>,
}

impl GpuUsage {
    /// A GPU of a tool that reports VRAM as used and total amounts (`amd-smi`, `nvidia-smi`):
    /// the VRAM percentage is `used / total`, `None` when either is missing or the total is 0.
    pub(crate) fn from_amounts(
        index: u32,
        gpu_pct: Option<f64>,
        used: Option<f64>,
        total: Option<f64>,
    ) -> Self {
        let vram_pct = match (used, total) {
            (Some(u), Some(t)) if t > 0.0 => Some(u / t * 100.0),
            _ => None,
        };
        Self {
            index,
            gpu_pct,
            vram_pct,
        }
    }
}

/// A tool output that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ParseError {
    /// `amd-smi --json` output that is not the documented JSON shape.
    #[error(
        "amd-smi JSON output could not be read: {0} (expected `amd-smi metric --usage --mem-usage --json`)"
    )]
    AmdSmiJson(String),
    /// `nvidia-smi` CSV without the columns the check needs.
    #[error(
        "nvidia-smi CSV output could not be read: {0} (expected `--query-gpu=index,utilization.gpu,memory.used,memory.total --format=csv`)"
    )]
    NvidiaSmiCsv(String),
}

/// A percentage cell: `42`, `42%`, `42 %`, `42.5`; `N/A` (any case) and anything else is `None`.
pub(crate) fn percent(cell: &str) -> Option<f64> {
    let t = cell.trim().trim_end_matches('%').trim();
    t.parse::<f64>().ok().filter(|v| v.is_finite())
}

#[cfg(test)]
mod tests {
    use super::percent;

    #[test]
    fn percent_cells() {
        assert_eq!(percent("59%"), Some(59.0));
        assert_eq!(percent(" 8 % "), Some(8.0));
        assert_eq!(percent("0.5"), Some(0.5));
        assert_eq!(percent("N/A"), None);
        assert_eq!(percent("VRAM%"), None);
        assert_eq!(percent("nan"), None);
    }
}
