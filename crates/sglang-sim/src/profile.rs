//! Latency profiles: the numbers behind the continuous-batching model.
//!
//! A scheduler step costs
//! * prefill batch: `prefill_base_ms + new_tokens × prefill_us_per_token`,
//! * decode step: `decode_base_ms + running_requests × decode_us_per_req
//!   + context_tokens × decode_ns_per_ctx_token`,
//!
//! each multiplied by `1 + jitter × N(0,1)` (clipped to [0.5, 1.5]). The built-in profiles are
//! fitted to the medians of the real nightly corpus (MI300X/MI355X, see docs/sglang-sim.md);
//! `zero` costs nothing, so tokens go out as fast as the client reads them.

use serde::Serialize;

/// The cost model of one simulated engine.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatencyProfile {
    /// Profile name as shown in the log and in `/get_server_info`.
    pub name: String,
    /// Fixed cost of one prefill batch, ms.
    pub prefill_base_ms: f64,
    /// Cost per new prompt token in a prefill batch, µs.
    pub prefill_us_per_token: f64,
    /// Fixed cost of one decode step, ms.
    pub decode_base_ms: f64,
    /// Cost per running request in a decode step, µs.
    pub decode_us_per_req: f64,
    /// Cost per KV-context token of the running batch in a decode step, ns.
    pub decode_ns_per_ctx_token: f64,
    /// Relative standard deviation of each step's duration.
    pub jitter: f64,
    /// Default `--max-running-requests`.
    pub max_running_requests: usize,
    /// Default `--chunked-prefill-size` (token budget of one prefill batch).
    pub chunked_prefill_size: usize,
    /// KV-cache capacity in tokens (for the log's `#tokens` and `token usage`).
    pub max_total_num_tokens: u64,
    /// Context length reported by `/v1/models` and the log.
    pub context_len: usize,
}

/// Names accepted by `--sim-profile`.
pub const PROFILE_NAMES: &[&str] = &[
    "grok",
    "grok2",
    "deepseek",
    "deepseek-r1",
    "generic",
    "zero",
];

impl LatencyProfile {
    /// A built-in profile by name (`grok1` is accepted for `grok`, `deepseek-v3` for
    /// `deepseek`); `None` for an unknown name.
    pub fn builtin(name: &str) -> Option<LatencyProfile> {
        let p = |name: &str, pb, pt, db, dr, dc, max_run, chunk, kv, ctx| LatencyProfile {
            name: name.to_string(),
            prefill_base_ms: pb,
            prefill_us_per_token: pt,
            decode_base_ms: db,
            decode_us_per_req: dr,
            decode_ns_per_ctx_token: dc,
            jitter: if name == "zero" { 0.0 } else { 0.02 },
            max_running_requests: max_run,
            chunked_prefill_size: chunk,
            max_total_num_tokens: kv,
            context_len: ctx,
        };
        Some(match name.to_ascii_lowercase().as_str() {
            // GROK1 MI300X, random 1024/1024 by request rate: TTFT ≈ 95 ms and ITL ≈ 17 ms at
            // rate 1, ITL ≈ 28 ms with ~200 running and ≈ 90 ms with ~1300 running.
            "grok" | "grok1" | "grok-1" => p(
                "grok", 55.0, 80.0, 16.0, 60.0, 0.0, 4096, 16384, 971_639, 131_072,
            ),
            // GROK2 MI300X: TTFT ≈ 150 ms, ITL ≈ 19 ms at rate 1, ≈ 30 ms at rate 4.
            "grok2" | "grok-2" | "grok2.5" => p(
                "grok2", 100.0, 100.0, 18.0, 120.0, 0.0, 4096, 16384, 5_599_082, 131_072,
            ),
            // DeepSeek-V3-0324 MI300X, 3200/800 by concurrency: TTFT ≈ 104 ms and ITL ≈ 20.5 ms
            // at concurrency 1, ITL ≈ 26 ms at 16 and ≈ 51 ms at 128.
            "deepseek" | "deepseek-v3" => p(
                "deepseek", 10.0, 29.0, 20.0, 200.0, 0.0, 1024, 16384, 4_588_137, 163_840,
            ),
            // DeepSeek-R1-MXFP4 MI355X: TTFT ≈ 138 ms and ITL ≈ 35 ms at concurrency 1.
            "deepseek-r1" | "deepseek-r1-mxfp4" => p(
                "deepseek-r1",
                20.0,
                37.0,
                35.0,
                230.0,
                0.0,
                1024,
                16384,
                2_671_567,
                163_840,
            ),
            // A mid-sized model on one node: for model paths no other profile matches.
            "generic" => p(
                "generic", 20.0, 50.0, 10.0, 50.0, 0.0, 1024, 16384, 1_000_000, 131_072,
            ),
            "zero" => p(
                "zero",
                0.0,
                0.0,
                0.0,
                0.0,
                0.0,
                usize::MAX,
                usize::MAX,
                1_000_000,
                131_072,
            ),
            _ => return None,
        })
    }

    /// The profile a model path implies: Grok-2 before Grok-1, DeepSeek-R1 before DeepSeek,
    /// else `generic`.
    pub fn for_model_path(model_path: &str) -> LatencyProfile {
        let m = model_path.to_ascii_lowercase();
        let name = if m.contains("grok-2") || m.contains("grok2") {
            "grok2"
        } else if m.contains("grok") {
            "grok"
        } else if m.contains("deepseek") && m.contains("r1") {
            "deepseek-r1"
        } else if m.contains("deepseek") {
            "deepseek"
        } else {
            "generic"
        };
        Self::builtin(name).unwrap_or_else(Self::generic)
    }

    fn generic() -> LatencyProfile {
        LatencyProfile {
            name: "generic".into(),
            prefill_base_ms: 20.0,
            prefill_us_per_token: 50.0,
            decode_base_ms: 10.0,
            decode_us_per_req: 50.0,
            decode_ns_per_ctx_token: 0.0,
            jitter: 0.02,
            max_running_requests: 1024,
            chunked_prefill_size: 16384,
            max_total_num_tokens: 1_000_000,
            context_len: 131_072,
        }
    }

    /// True when every step costs nothing: the engine then skips the scheduler entirely.
    pub fn is_zero(&self) -> bool {
        self.prefill_base_ms == 0.0
            && self.prefill_us_per_token == 0.0
            && self.decode_base_ms == 0.0
            && self.decode_us_per_req == 0.0
            && self.decode_ns_per_ctx_token == 0.0
    }

    /// Duration of a prefill batch of `new_tokens` prompt tokens, seconds (before jitter).
    pub fn prefill_secs(&self, new_tokens: u64) -> f64 {
        (self.prefill_base_ms * 1e-3 + new_tokens as f64 * self.prefill_us_per_token * 1e-6)
            .max(0.0)
    }

    /// Duration of a decode step over `running` requests holding `ctx_tokens`, seconds.
    pub fn decode_secs(&self, running: usize, ctx_tokens: u64) -> f64 {
        (self.decode_base_ms * 1e-3
            + running as f64 * self.decode_us_per_req * 1e-6
            + ctx_tokens as f64 * self.decode_ns_per_ctx_token * 1e-9)
            .max(0.0)
    }
}

/// Applies a multiplicative jitter `1 + j × z` clipped to [0.5, 1.5].
pub(crate) fn jittered(secs: f64, jitter: f64, z: f64) -> f64 {
    if jitter <= 0.0 {
        return secs;
    }
    secs * (1.0 + jitter * z).clamp(0.5, 1.5)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_paths_pick_profiles() {
        let name = |p: &str| LatencyProfile::for_model_path(p).name;
        assert_eq!(
            name("/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8"),
            "grok"
        );
        assert_eq!(name("/data2/grok-2/"), "grok2");
        assert_eq!(name("/models/deepseek-ai/DeepSeek-V3-0324"), "deepseek");
        assert_eq!(name("/models/amd/DeepSeek-R1-MXFP4-Preview"), "deepseek-r1");
        assert_eq!(name("/models/lmsys/gpt-oss-20b-bf16"), "generic");
    }

    #[test]
    fn every_listed_name_is_builtin_and_zero_is_zero() {
        for n in PROFILE_NAMES {
            assert!(LatencyProfile::builtin(n).is_some(), "{n}");
        }
        assert!(LatencyProfile::builtin("zero").is_some_and(|p| p.is_zero()));
        assert!(LatencyProfile::builtin("grok").is_some_and(|p| !p.is_zero()));
        assert!(LatencyProfile::builtin("nope").is_none());
    }

    #[test]
    fn step_costs_grow_with_tokens_and_batch() {
        let p = LatencyProfile::builtin("deepseek").unwrap_or_else(LatencyProfile::generic);
        assert!((p.prefill_secs(3200) - 0.1028).abs() < 1e-9);
        assert!(p.decode_secs(128, 0) > p.decode_secs(1, 0));
        assert_eq!(jittered(1.0, 0.0, 5.0), 1.0);
        assert_eq!(jittered(1.0, 1.0, 5.0), 1.5);
    }
}
