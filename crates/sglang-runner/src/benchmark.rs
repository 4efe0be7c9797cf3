//! What every benchmark plan offers the program that runs it (a benchmark binary, the
//! nightly orchestrator): where its commands run, the container of `--executor=docker`, the
//! dry run, the run itself and the report it leaves. Implemented by
//! [`crate::online::grok::GrokPlan`], [`crate::online::deepseek::DeepSeekPlan`] and
//! [`crate::offline::OfflinePlan`].

use std::path::Path;

use serde::Serialize;

use crate::config::EnvSource;
use crate::console::Console;
use crate::container::BenchContainer;
use crate::engine::ExecutorKind;
use crate::exec::Executor;
use crate::signals::Interrupt;

/// What a run of a plan leaves for its caller (and `--report-json`).
pub trait Report: Serialize {
    /// The exit code of the outcome (the binary's docs page lists them).
    fn exit_code(&self) -> u8;
    /// The outcome in one line.
    fn message(&self) -> String;
    /// The run folder, when one was created.
    fn run_folder(&self) -> Option<&Path>;
}

/// A resolved benchmark plan.
pub trait Benchmark {
    /// What a run leaves.
    type Report: Report;
    /// Why it could not be set up or carried out (exit status 1).
    type Error: std::error::Error + 'static;
    /// Prefix of its console lines (`[online]`, `[csv]`).
    const PREFIX: &'static str;

    /// Where its commands run.
    fn executor(&self) -> ExecutorKind;

    /// The container the docker executor runs it in (`--executor=docker`).
    fn container(&self, env: &dyn EnvSource) -> BenchContainer;

    /// The `--dry-run` text: every setting, path and command line; `container`: the
    /// settings of the container the docker executor runs it in.
    fn describe(&self, container: Option<&BenchContainer>) -> String;

    /// Runs the plan. `Err` for setup failures (nothing started, or a failed model
    /// download); everything that happens once the run folder exists is the report's
    /// outcome.
    fn run(
        &self,
        exec: &dyn Executor,
        console: &mut Console,
        interrupt: &Interrupt,
    ) -> Result<Self::Report, Self::Error>;
}
