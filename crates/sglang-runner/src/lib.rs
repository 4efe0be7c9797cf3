//! What to run and in what order: the run plans of the online benchmarks (`grok-perf-online`,
//! `deepseek-perf-online`, `run-grok-benchmark`), the offline benchmarks (`grok-perf-offline`,
//! `deepseek-perf-offline`), the model downloads (`download-models`) and the nightly
//! orchestrator (`perf-nightly`),
//! the engines and executors that carry out their steps, the server lifecycle, the GSM8K gate,
//! timing summaries and the resume scan. Spec: `../shared/spec/benchmarks.md`.
//!
//! A run is built in two stages, like ripgrep's low-level → high-level arguments:
//!
//! 1. Configuration: the flags a binary parsed (every field optional; the flags every
//!    benchmark binary shares are one [`config::BaseOptions`]) plus the environment
//!    ([`config::EnvSource`]) resolve once into a config with every default of the original
//!    applied and validated — the shared part in [`config`] ([`config::RunBase`]: image,
//!    dirs, engine, executor), the rest in [`online::config`], [`offline::config`] and
//!    [`nightly::config`].
//! 2. Plans: [`online::grok`], [`online::deepseek`] and [`offline`] turn a config into a plan
//!    (paths, command lines, loads, pauses), a [`benchmark::Benchmark`] that runs through an
//!    [`exec::Executor`] with an [`engine::Engine`] deciding which program performs each
//!    step. `--dry-run` prints the plan ([`benchmark::Benchmark::describe`]) instead.
//!
//! The result of a run is a [`benchmark::Report`]: for the online benchmarks an
//! [`outcome::RunReport`] with a typed [`outcome::Outcome`] (which maps to the documented exit
//! code), the run folder and an account of where the wall time went ([`clock::Accounting`]:
//! engine commands, configured pauses, the runner's own overhead).
//!
//! Nothing here prints to stdout directly: console lines go through the [`console::Console`]
//! the caller passes in (the binaries give it stdout).
//!
//! Where things live: [`models`] holds the models on disk (the model table, `download-models`,
//! and [`models::download`], the one HuggingFace download with its free-space check that
//! `download-models`, the offline runs and the nightly all use); [`container`] and
//! [`exec_docker`] are the benchmark container and its executor over docker-ctl. The
//! simulated-engine image (`sglang-sim build-image`) is not here: it is sglang-sim's `image`
//! module, so the `sglang-sim` binary does not use this crate.

pub mod banner;
pub mod benchmark;
pub mod clock;
pub mod command;
pub mod config;
pub mod console;
pub mod container;
pub mod engine;
pub mod error;
pub mod exec;
pub mod exec_docker;
pub mod flags;
pub mod gsm8k;
pub mod models;
pub mod mtp;
pub mod nightly;
pub mod offline;
pub mod online;
pub mod outcome;
pub mod paths;
pub mod pd;
pub mod sanity;
pub mod server;
pub mod session;
pub mod signals;
pub mod test_nightly;
pub mod timefmt;
pub mod timing;

pub use error::RunnerError;
