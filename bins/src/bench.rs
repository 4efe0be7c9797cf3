//! The shared end of the benchmark binaries (`grok-perf-online`, `deepseek-perf-online`,
//! `run-grok-benchmark`, `grok-perf-offline`, `deepseek-perf-offline`): resolve the
//! configuration from the flags the binary parsed (the runner's option structs, flattened
//! into each binary: `sglang_runner::flags`), print the dry run, or install the signal
//! handlers, prepare the executor (the `<repo>_<tag>` container for `--executor=docker`), run
//! the plan, write `--report-json` and turn the outcome into the exit code its docs page
//! lists. The plans are `sglang_runner::benchmark::Benchmark`s.

use std::path::Path;
use std::process::ExitCode;

use sglang_runner::benchmark::{Benchmark, Report};
use sglang_runner::config::{BaseOptions, ProcessEnv};
use sglang_runner::console::Console;
use sglang_runner::container::executor_for;
use sglang_runner::engine::ExecutorKind;
use sglang_runner::offline::{
    self,
    config::{
        DeepSeekOfflineOptions, GrokOfflineOptions, resolve_deepseek_offline, resolve_grok_offline,
    },
};
use sglang_runner::online::config::{DeepSeekOptions, GrokOptions, resolve_deepseek, resolve_grok};
use sglang_runner::online::{deepseek::DeepSeekPlan, grok::GrokPlan};

use crate::exit::Fatal;
use crate::progress::Bar;

/// Exit status of setup errors (invalid settings, missing programs or folders, an executor
/// that cannot run, a failed model download).
pub const SETUP_ERROR: u8 = 1;

/// A setup error as a one-line fatal error.
pub fn setup(e: &(dyn std::error::Error + 'static)) -> Fatal {
    Fatal::from_error(SETUP_ERROR, e)
}

/// Sets up logging (`--verbose` of `base`), resolves the plan (`resolve`: a configuration
/// error is a setup error), then dry-runs or runs it as [`run`] does; returns the exit code.
pub fn resolve_and_run<B: Benchmark, E: std::error::Error + 'static>(
    base: &BaseOptions,
    resolve: impl FnOnce() -> Result<B, E>,
) -> Result<ExitCode, Fatal> {
    let out = &base.output;
    crate::logging::init_in(base.log.verbose, crate::logging::LogClock::Pacific);
    let plan = resolve().map_err(|e| setup(&e))?;
    run(&plan, out.dry_run, out.report_json.as_deref())
}

/// `grok-perf-online` (also `run-grok-benchmark`): resolves, then dry-runs or runs.
pub fn run_grok(o: &GrokOptions) -> Result<ExitCode, Fatal> {
    resolve_and_run(&o.common.base, || {
        resolve_grok(o, &ProcessEnv).map(GrokPlan::new)
    })
}

/// `deepseek-perf-online`: resolves, then dry-runs or runs.
pub fn run_deepseek(o: &DeepSeekOptions) -> Result<ExitCode, Fatal> {
    resolve_and_run(&o.common.base, || {
        resolve_deepseek(o, &ProcessEnv).map(DeepSeekPlan::new)
    })
}

/// `grok-perf-offline`: resolves, then dry-runs or runs.
pub fn run_grok_offline(o: &GrokOfflineOptions) -> Result<ExitCode, Fatal> {
    resolve_and_run(&o.common.base, || {
        resolve_grok_offline(o, &ProcessEnv).map(|cfg| offline::grok::plan(&cfg))
    })
}

/// `deepseek-perf-offline`: resolves, then dry-runs or runs.
pub fn run_deepseek_offline(o: &DeepSeekOfflineOptions) -> Result<ExitCode, Fatal> {
    resolve_and_run(&o.common.base, || {
        resolve_deepseek_offline(o, &ProcessEnv).map(|cfg| offline::deepseek::plan(&cfg))
    })
}

/// Dry-runs (`dry_run`) or runs `plan`; writes `report_json`; returns the exit code.
pub fn run<B: Benchmark>(
    plan: &B,
    dry_run: bool,
    report_json: Option<&Path>,
) -> Result<ExitCode, Fatal> {
    if dry_run {
        let container =
            (plan.executor() == ExecutorKind::Docker).then(|| plan.container(&ProcessEnv));
        print_text(&plan.describe(container.as_ref()));
        return Ok(ExitCode::SUCCESS);
    }
    let interrupt = crate::sys::install_interrupt(SETUP_ERROR)?;
    // `--report-json -`: stdout holds the JSON report alone, the console lines go to stderr.
    let json_on_stdout = report_json.is_some_and(|p| p.as_os_str() == "-");
    // On a terminal the GSM8K gate, the serving runs and the offline points draw a bar on
    // stderr; console lines go around it.
    let bar = Bar::on_terminal();
    let mut console = match &bar {
        Some(b) => {
            let drawn = b.clone();
            let lines = if json_on_stdout {
                b.stderr()
            } else {
                b.stdout()
            };
            Console::new(lines).with_progress(Box::new(move |p| {
                drawn.update(&p.what, p.done, p.total);
            }))
        }
        None if json_on_stdout => Console::new(Box::new(std::io::stderr())),
        None => Console::new(Box::new(std::io::stdout())),
    };
    let exec = executor_for(plan.executor(), || plan.container(&ProcessEnv), &mut |l| {
        console.line(format!("{} {l}", B::PREFIX));
    })
    .map_err(|e| setup(&e))?;
    let report = plan.run(exec.as_ref(), &mut console, &interrupt);
    drop(console);
    if let Some(b) = &bar {
        b.finish();
    }
    let report = report.map_err(|e| setup(&e))?;
    if let Some(path) = report_json {
        let text = serde_json::to_string_pretty(&report)
            .map_err(|e| Fatal::new(SETUP_ERROR, format!("cannot encode the run report: {e}")))?;
        report::atomic::write_atomic(path, format!("{text}\n").as_bytes())
            .map_err(|e| setup(&e))?;
    }
    match report.exit_code() {
        0 => Ok(ExitCode::SUCCESS),
        code => Err(Fatal::new(code, report.message())),
    }
}

#[allow(clippy::print_stdout)]
fn print_text(text: &str) {
    print!("{text}");
}
