//! Native SGLang clients: `sglang-bench serving` (a load generator with the flags, metric
//! definitions and result block of `sglang.bench_serving`) and `sglang-bench gsm8k` (the
//! few-shot GSM8K protocol of `sglang.test.few_shot_gsm8k`).
//!
//! Both talk HTTP/1.1 through one keep-alive connection pool ([`http`]) on a tokio runtime; a
//! request is one task that writes its request, reads the response and takes a timestamp as
//! each read returns, so token arrival times are not delayed by a hop between tasks. The
//! streamed events are scanned without building a JSON tree per token ([`sse`]). Nothing here
//! prints: the binary prints the texts the functions return (or writes them to the writer it
//! passes in).

pub mod data;
pub mod dataset;
pub mod error;
pub mod gsm8k;
pub mod http;
pub mod rng;
pub mod serving;
pub mod sse;
pub mod stats;
pub mod tokens;

pub use error::BenchError;

/// The `--help` headings of the clients' flags: the Python program's own flags, then ours (the
/// toolkit's four headings, `sglang_runner::flags::heading`, spelled here without the runner).
pub mod heading {
    /// Flags of the Python program the client replaces, same spelling.
    pub const ORIGINAL: &str = "Original flags";
    /// Flags the native client added.
    pub const ADDITIONS: &str = "Additions";
}
