//! The numeric idle verdict: thresholds (`GPU_USAGE_THRESHOLD`, `VRAM_USAGE_THRESHOLD`) and the
//! comparison of every GPU's numbers with them. Pure: no tool is run here ([`crate::probe`]
//! runs the tool and judges its answer with [`judge`]).

use std::fmt;

use crate::GpuUsage;

/// Busy thresholds in percent; a GPU is busy when a value is strictly greater.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Thresholds {
    /// `GPU_USAGE_THRESHOLD`: compute utilisation.
    pub gpu_pct: f64,
    /// `VRAM_USAGE_THRESHOLD`: VRAM in use.
    pub vram_pct: f64,
}

/// A threshold environment variable that is not a number.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{var}={value:?} is not a number of percent: set it to e.g. 15 or unset it")]
pub struct ThresholdError {
    /// The variable.
    pub var: &'static str,
    /// Its value.
    pub value: String,
}

impl Thresholds {
    /// The orchestrators' defaults (`perf_nightly.sh`, `test_nightly.sh`): 15 and 15.
    pub const NIGHTLY: Thresholds = Thresholds {
        gpu_pct: 15.0,
        vram_pct: 15.0,
    };
    /// The sanity worker's defaults (`sanity_check.py`): 5 and 5.
    pub const SANITY: Thresholds = Thresholds {
        gpu_pct: 5.0,
        vram_pct: 5.0,
    };

    /// `defaults` overridden by `GPU_USAGE_THRESHOLD` / `VRAM_USAGE_THRESHOLD` when set and not
    /// empty.
    pub fn from_env(defaults: Thresholds) -> Result<Thresholds, ThresholdError> {
        Self::from_lookup(defaults, |k| std::env::var(k).ok())
    }

    /// Like [`Thresholds::from_env`] with an explicit variable lookup (tests).
    pub fn from_lookup(
        defaults: Thresholds,
        lookup: impl Fn(&str) -> Option<String>,
    ) -> Result<Thresholds, ThresholdError> {
        let read = |var: &'static str, default: f64| match lookup(var) {
            Some(v) if !v.trim().is_empty() => v
                .trim()
                .trim_end_matches('%')
                .parse::<f64>()
                .ok()
                .filter(|x| x.is_finite())
                .ok_or(ThresholdError { var, value: v }),
            _ => Ok(default),
        };
        Ok(Thresholds {
            gpu_pct: read("GPU_USAGE_THRESHOLD", defaults.gpu_pct)?,
            vram_pct: read("VRAM_USAGE_THRESHOLD", defaults.vram_pct)?,
        })
    }
}

/// One GPU above a threshold.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BusyGpu {
    /// The GPU.
    pub usage: GpuUsage,
    /// Compute utilisation is above its threshold.
    pub gpu_over: bool,
    /// VRAM use is above its threshold.
    pub vram_over: bool,
}

impl fmt::Display for BusyGpu {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pct = |v: Option<f64>| v.map_or_else(|| "N/A".to_string(), |x| format!("{x:.0}%"));
        write!(
            f,
            "GPU {}: GPU% {}{}, VRAM% {}{}",
            self.usage.index,
            pct(self.usage.gpu_pct),
            if self.gpu_over { " (over)" } else { "" },
            pct(self.usage.vram_pct),
            if self.vram_over { " (over)" } else { "" },
        )
    }
}

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub enum Verdict {
    /// Every reported value is at or below its threshold (`N/A` cells are ignored).
    Idle,
    /// At least one GPU is above a threshold.
    Busy(Vec<BusyGpu>),
    /// No usable answer (tool missing, timed out, no GPU listed, unreadable output); the reason
    /// ends with "Skipping GPU idle check.". Callers proceed as if idle, as the original did.
    Skipped(String),
}

impl Verdict {
    /// True only for [`Verdict::Busy`].
    pub fn is_busy(&self) -> bool {
        matches!(self, Verdict::Busy(_))
    }
}

/// Compares every GPU's numbers with the thresholds.
pub fn judge(gpus: &[GpuUsage], t: &Thresholds) -> Verdict {
    let busy: Vec<BusyGpu> = gpus
        .iter()
        .filter_map(|g| {
            let gpu_over = g.gpu_pct.is_some_and(|v| v > t.gpu_pct);
            let vram_over = g.vram_pct.is_some_and(|v| v > t.vram_pct);
            (gpu_over || vram_over).then(|| BusyGpu {
                usage: g.clone(),
                gpu_over,
                vram_over,
            })
        })
        .collect();
    if busy.is_empty() {
        Verdict::Idle
    } else {
        Verdict::Busy(busy)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn g(index: u32, gpu: Option<f64>, vram: Option<f64>) -> GpuUsage {
        GpuUsage {
            index,
            gpu_pct: gpu,
            vram_pct: vram,
        }
    }

    #[test]
    fn numbers_not_strings_decide() {
        // The awk check said "5" > "15" (busy) and "100" > "15" false (idle): the reverse of
        // the truth. Numerically 5 is idle and 100 is busy.
        let t = Thresholds::NIGHTLY;
        assert_eq!(judge(&[g(0, Some(5.0), Some(9.0))], &t), Verdict::Idle);
        assert!(judge(&[g(0, Some(100.0), Some(0.0))], &t).is_busy());
        assert_eq!(judge(&[g(0, Some(15.0), Some(15.0))], &t), Verdict::Idle);
        assert_eq!(judge(&[g(0, None, None)], &t), Verdict::Idle);
    }

    #[test]
    fn busy_lists_which_value_is_over() {
        let Verdict::Busy(b) = judge(&[g(1, Some(0.0), Some(75.0))], &Thresholds::NIGHTLY) else {
            panic!("expected busy");
        };
        assert!(b[0].vram_over && !b[0].gpu_over);
        assert_eq!(b[0].to_string(), "GPU 1: GPU% 0%, VRAM% 75% (over)");
    }

    #[test]
    fn thresholds_from_env_values() {
        let t = Thresholds::from_lookup(Thresholds::NIGHTLY, |k| {
            (k == "GPU_USAGE_THRESHOLD").then(|| "5".to_string())
        })
        .unwrap();
        assert_eq!(t.gpu_pct, 5.0);
        assert_eq!(t.vram_pct, 15.0);
        let e = Thresholds::from_lookup(Thresholds::NIGHTLY, |k| {
            (k == "VRAM_USAGE_THRESHOLD").then(|| "lots".to_string())
        })
        .unwrap_err();
        assert!(e.to_string().starts_with("VRAM_USAGE_THRESHOLD=\"lots\""));
    }
}
