//! `perf-nightly`: the nightly orchestrator (port of `scripts/perf_nightly.sh`): image
//! discovery, GPU idle check, the `<repo>_<tag>` container, the benchmark plans of the
//! requested modes through the docker executor, post-processing, Teams, container stopped.
//! With `--engine=sim` and no `--docker_image` the whole night runs on this machine without
//! Docker. See docs/perf-nightly.md.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_runner::config::ProcessEnv;
use sglang_runner::console::Console;
use sglang_runner::engine::Engine;
use sglang_runner::nightly::{self, config::NightlyOptions};

/// Nightly benchmark orchestrator: finds today's nightly image, checks the GPUs, runs the
/// online and/or offline benchmark in the image's container, post-processes and notifies.
///
/// Exit status: 0 the night ran (also when a benchmark, a download, a plot step or a
/// notification failed: see the log), 1 Docker unusable, invalid flag or value, lock held by a
/// live run, no image found, container failure; 3 Docker Hub could not be asked; 4
/// --mode=sanity (sanity-check not ported yet, nothing run); 130/143 interrupted.
#[derive(Debug, Parser)]
#[command(name = "perf-nightly", version, about, long_about)]
struct Args {
    /// `grok`, `grok2`, `deepseek`, `DeepSeek-V3` or `sanity` [default: grok].
    #[arg(long, value_name = "MODEL")]
    model: Option<String>,

    /// Model weights directory, forwarded as the benchmarks' --model and mounted into the
    /// container [default: the benchmarks' defaults].
    #[arg(long, value_name = "PATH")]
    model_path: Option<String>,

    /// MODEL_NAME of folders and files, forwarded to every benchmark [env:
    /// GROK_MODEL_NAME / GROK2_MODEL_NAME / DEEPSEEK_MODEL_NAME] [default: GROK1, GROK2,
    /// DeepSeek-V3-0324].
    #[arg(long, value_name = "NAME")]
    model_name: Option<String>,

    /// Tokenizer, forwarded as --tokenizer with --model=grok2 only [default: the benchmark's].
    #[arg(long, value_name = "PATH")]
    tokenizer_path: Option<String>,

    /// CI_DIR: the root of every folder of the night (online/, offline/, plots_server/,
    /// models/), mounted into the container; created when missing [env: BENCHMARK_CI_DIR]
    /// [default: the current directory].
    #[arg(long, value_name = "DIR")]
    work_dir: Option<PathBuf>,

    /// `online`, `offline`, `all` (online then offline; also an empty value) or `sanity`
    /// [default: all].
    #[arg(long, value_name = "MODE")]
    mode: Option<String>,

    /// `mi30x` or `mi35x` [env: HARDWARE_TYPE] [default: mi35x].
    #[arg(long, value_name = "HW")]
    hardware: Option<String>,

    /// HuggingFace repository to download into <CI_DIR>/models/<name> when --model-path is
    /// not given.
    #[arg(long, value_name = "REPO")]
    download_model: Option<String>,

    /// Days of images to run, today first (a positive integer) [default: 1].
    #[arg(long, value_name = "N")]
    continue_run_days: Option<String>,

    /// Enables Teams notifications (the TEAMS_WEBHOOK_URL variable alone does not); an empty
    /// value disables them with a warning. Never printed.
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    teams_webhook_url: Option<String>,

    /// Pass --skip-analysis to the notifier instead of --analysis-days [env:
    /// TEAMS_SKIP_ANALYSIS=true].
    #[arg(long)]
    teams_skip_analysis: bool,

    /// Days of regression analysis for the notifier [env: TEAMS_ANALYSIS_DAYS] [default: 7].
    #[arg(long, value_name = "N")]
    teams_analysis_days: Option<String>,

    /// DeepSeek online: DP-attention server (GSM8K only unless --enable-dp-test).
    #[arg(long)]
    check_dp_attention: bool,

    /// DeepSeek online: torch compile.
    #[arg(long)]
    enable_torch_compile: bool,

    /// DeepSeek online: MTP test.
    #[arg(long)]
    enable_mtp_test: bool,

    /// DeepSeek online: DP test (implies --check-dp-attention).
    #[arg(long)]
    enable_dp_test: bool,

    /// Sanity trials per model (a positive integer) [default: 1].
    #[arg(long, value_name = "N")]
    sanity_trials: Option<String>,

    /// Run on this image and skip Docker Hub discovery (also `--docker_image`); with
    /// --engine=sim a `sglang-sim build-image` image [default: discovered in IMAGE_REPO].
    #[arg(long, value_name = "IMAGE")]
    docker_image: Option<String>,

    /// `sglang` or `sim` (the simulated engine; without --docker_image the whole night runs on
    /// this machine without Docker) [default: sglang].
    #[arg(long, value_name = "ENGINE", value_parser = ["sglang", "sim"])]
    engine: Option<String>,

    /// The benchmarks' server port [default: 30000].
    #[arg(long, value_name = "PORT")]
    port: Option<u16>,

    /// Print the resolved settings, container settings and every benchmark command, then
    /// exit 0 without touching Docker, the lock or any file.
    #[arg(long)]
    dry_run: bool,

    /// Debug logging on stderr (also SGLCI_LOG / RUST_LOG).
    #[arg(short, long)]
    verbose: bool,
}

fn main() -> ExitCode {
    sglang_ci::exit::run("perf-nightly", || {
        // The original exited 1 on an unknown argument; --help and --version exit 0 (and,
        // fix F-31, need no Docker).
        let args: Args = match sglang_ci::cli::try_parse_from(std::env::args_os()) {
            Ok(a) => a,
            Err(e) if e.use_stderr() => {
                let _ = e.print();
                return Ok(ExitCode::from(nightly::EXIT_FAILURE));
            }
            Err(e) => {
                let _ = e.print();
                return Ok(ExitCode::SUCCESS);
            }
        };
        sglang_ci::logging::init(args.verbose);
        let command_line = std::env::args().collect::<Vec<_>>().join(" ");
        let options = NightlyOptions {
            model: args.model,
            model_path: args.model_path,
            model_name: args.model_name,
            tokenizer_path: args.tokenizer_path,
            work_dir: args.work_dir,
            mode: args.mode,
            hardware: args.hardware,
            download_model: args.download_model,
            continue_run_days: args.continue_run_days,
            teams_webhook_url: args.teams_webhook_url,
            teams_skip_analysis: args.teams_skip_analysis,
            teams_analysis_days: args.teams_analysis_days,
            check_dp_attention: args.check_dp_attention,
            enable_torch_compile: args.enable_torch_compile,
            enable_mtp_test: args.enable_mtp_test,
            enable_dp_test: args.enable_dp_test,
            sanity_trials: args.sanity_trials,
            docker_image: args.docker_image,
            engine: args.engine.as_deref().and_then(Engine::parse),
            port: args.port,
            dry_run: args.dry_run,
            command_line,
        };
        let today = sglang_runner::timefmt::now().format("%Y%m%d").to_string();
        let cfg = nightly::config::resolve(&options, &ProcessEnv, &today).map_err(|e| {
            println_out(&e.0);
            Fatal::new(
                nightly::EXIT_FAILURE,
                e.0.trim_start_matches("[nightly] ERROR: "),
            )
        })?;
        if cfg.dry_run {
            print_out(&nightly::describe(&cfg));
            return Ok(ExitCode::SUCCESS);
        }
        let interrupt = sglang_ci::sys::install_interrupt(nightly::EXIT_FAILURE)?;
        let mut console = Console::new(Box::new(std::io::stdout()));
        let report = nightly::run(&cfg, &mut console, &interrupt);
        match (report.exit_code, report.error) {
            (0, _) => Ok(ExitCode::SUCCESS),
            (code, Some(line)) => Err(Fatal::new(
                code,
                line.trim_start_matches("[nightly] ERROR: "),
            )),
            (code, None) => Ok(ExitCode::from(code)),
        }
    })
}

#[allow(clippy::print_stdout)]
fn print_out(text: &str) {
    print!("{text}");
}

#[allow(clippy::print_stdout)]
fn println_out(text: &str) {
    println!("{text}");
}
