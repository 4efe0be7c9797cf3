//! `sglang-bench serving`: bench_serving's load, metrics and result block, plus an absolute
//! schedule, queueing time apart from service time, per-token ITL, scheduling lag, failure
//! reasons and a VALID/INVALID verdict.

mod args;
pub mod metrics;
mod output;
mod run;

pub use args::{Backend, ServingArgs};
pub use metrics::{ServingReport, Summary};
pub use output::{default_output_file, write_outputs};
pub use run::{run, run_with_progress};
