//! `sglang-sim`: a simulated SGLang engine that runs on a CPU.
//!
//! It speaks SGLang's real HTTP protocol (`/generate`, `/v1/completions`,
//! `/v1/chat/completions` and the control endpoints), writes a server log in the shape of a
//! real one (including the readiness line the toolkit waits for), prints
//! `sglang.bench_one_batch`'s exact output format, and stands in for `sglang-router` in PD
//! mode. Latencies come from a continuous-batching model ([`sched`]) with per-model
//! profiles ([`profile`]); token counts come from a `tokenizer.json` or a built-in byte-level
//! count ([`tokens`]); GSM8K prompts are answered by an oracle ([`gsm8k`]) with a configured
//! accuracy. Every output a human or a CSV sees says it is simulated.
//!
//! The crate never prints by itself: the binary hands it the writers for the server log and
//! the bench_one_batch output. Entry point: [`run`]; [`keep_alive`] is the default command of
//! the simulated-engine image.
//!
//! Feature `image` (module `image`, through docker-ctl): what goes into that image
//! (`sglang-sim build-image`: the two programs, their libraries when dynamic, the labels and
//! the keep-alive command) and its build. Without it the crate knows nothing of Docker.

pub mod bench_one_batch;
pub mod cli;
mod error;
pub mod gsm8k;
#[cfg(feature = "image")]
pub mod image;
mod json;
mod logsink;
mod plan;
pub mod profile;
mod rng;
pub mod router;
pub mod sched;
pub mod server;
mod signals;
pub mod tokens;
mod trace;
mod writer;

use std::io::Write;

pub use cli::Command;
pub use error::SimError;
pub use signals::keep_alive;

/// How a subcommand ended when it did not fail: the binary turns it into an exit status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// Normal end: a server stopped by SIGTERM/SIGINT, or a bench-one-batch run that finished.
    Done,
    /// `--sim-exit-after N` was reached: the server exits with status 1.
    ExitedAfter(u64),
    /// `--sim-oom-batch-size`: bench-one-batch printed a `torch.OutOfMemoryError` (status 1).
    OutOfMemory,
    /// `--sim-crash-batch-size`: bench-one-batch printed a GPU fault and aborted (status 134).
    Crashed,
}

impl Outcome {
    /// The process exit status for this outcome (documented in docs/sglang-sim.md).
    pub fn exit_code(&self) -> u8 {
        match self {
            Outcome::Done => 0,
            Outcome::ExitedAfter(_) | Outcome::OutOfMemory => 1,
            Outcome::Crashed => 134,
        }
    }
}

/// Runs one subcommand. `out` receives what the real program prints on its console (the
/// server log, the bench_one_batch lines, the router log).
pub fn run(command: Command, out: Box<dyn Write + Send>) -> Result<Outcome, SimError> {
    match command {
        Command::LaunchServer(args) => server::launch(*args, out),
        Command::BenchOneBatch(args) => bench_one_batch::run(&args, out),
        Command::Router(args) => router::launch(*args, out),
    }
}
