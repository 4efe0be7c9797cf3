//! `run-pd-docker`: the 3-container prefill/decode disaggregation test (port of
//! `test/pd/run_pd_docker.sh` and `test/pd/bench_gsm8k_pd.py`). See docs/run-pd-docker.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_runner::console::Console;
use sglang_runner::pd::{self, config::PdOptions};

/// PD disaggregation test: starts the router, the prefill server (GPUs 0-3) and the decode
/// server (GPUs 4-7) in containers from DOCKER_IMAGE, waits until they are ready, runs the
/// health, model-info, completion, code-generation and GSM8K (200 questions, parallel 16)
/// tests through the router, writes test_summary.txt and the logs to
/// <PD_LOG_BASE_DIR>/<hw>/<tag>/ and removes the containers.
///
/// Exit status: 0 every test passed; 1 a test failed or never ran, a service did not start or
/// become ready, the model path is missing, Docker is unusable, or an invalid flag;
/// 130/143 interrupted by SIGINT/SIGTERM (containers removed).
#[derive(Debug, Parser)]
#[command(name = "run-pd-docker", version = sglang_ci::VERSION)]
struct Args {
    /// The test's flags (sglang_runner::pd::config::PdOptions).
    #[command(flatten)]
    options: PdOptions,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long, help_heading = "Logging")]
    verbose: bool,
}

/// Parses the flags, runs the test (`sglang_runner::pd::run`) and exits with its status.
pub fn main() -> ExitCode {
    sglang_ci::exit::run("run-pd-docker", || {
        let args: Args = match sglang_ci::cli::try_parse_from(std::env::args_os()) {
            Ok(a) => a,
            Err(e) if e.use_stderr() => {
                let _ = e.print();
                return Ok(ExitCode::from(pd::EXIT_FAILURE));
            }
            Err(e) => {
                let _ = e.print();
                return Ok(ExitCode::SUCCESS);
            }
        };
        sglang_ci::logging::init(args.verbose);
        let cfg =
            pd::config::resolve(&args.options).map_err(|e| Fatal::new(pd::EXIT_FAILURE, e))?;
        let interrupt = sglang_ci::sys::install_interrupt(pd::EXIT_FAILURE)?;
        let mut console = Console::new(Box::new(std::io::stdout()));
        let report = pd::run(&cfg, &mut console, &interrupt);
        Ok(ExitCode::from(report.exit_code))
    })
}
