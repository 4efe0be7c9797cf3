//! `download-models`: the model downloader (port of `scripts/download_models.sh`): the model
//! table of the benchmarks and the sanity check, per-hardware lists, a status table, and
//! downloads through `huggingface-cli` (or `hf`) after a free-space check. See
//! docs/download-models.md.

use std::io::IsTerminal;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use sglang_ci::exit::Fatal;
use sglang_runner::config::ProcessEnv;
use sglang_runner::console::Console;
use sglang_runner::exec::LocalExecutor;
use sglang_runner::flags::heading;
use sglang_runner::models::{self, DownloadModelsOptions};

/// Download the benchmark and sanity-check models from HuggingFace.
///
/// Exit status: 0 done (or --status, --dry-run), 1 a model failed, no action given, unknown
/// model, invalid hardware or no HuggingFace CLI, 2 usage (unknown argument), 130/143
/// interrupted.
#[derive(Debug, Parser)]
#[command(name = "download-models", version = sglang_ci::VERSION)]
struct Cli {
    /// Process every model of the table.
    #[arg(long, help_heading = heading::ORIGINAL)]
    all: bool,

    /// Process one model, by its key (e.g. GROK1-INT4; see --status).
    #[arg(long, value_name = "NAME", help_heading = heading::ORIGINAL)]
    model: Option<String>,

    /// Process the hardware's list, `mi30x` or `mi35x` (wins over --model and --all).
    #[arg(long, value_name = "HW", help_heading = heading::ORIGINAL)]
    hardware: Option<String>,

    /// Only print what would be downloaded (no folder is created).
    #[arg(long, help_heading = heading::ORIGINAL)]
    dry_run: bool,

    /// Print the status table (only the --hardware list when given) and the size estimates,
    /// then exit 0.
    #[arg(long, help_heading = heading::ORIGINAL)]
    status: bool,

    /// Where the models go [env: SGLCI_MODELS_DIR] [default: /mnt/raid/models/huggingface].
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    base_dir: Option<PathBuf>,

    /// Free space each download needs, GB [env: SGLCI_MIN_FREE_GB] [default: the model's size
    /// estimate less what is already downloaded].
    #[arg(long, value_name = "GB", help_heading = heading::ADDITIONS)]
    min_free_gb: Option<f64>,

    /// Seconds one model's download may take before it is stopped [default: 86400].
    #[arg(long, value_name = "SECS", help_heading = heading::ADDITIONS)]
    timeout: Option<f64>,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
pub fn main() -> ExitCode {
    sglang_ci::exit::run("download-models", || {
        let cli: Cli = sglang_ci::cli::parse();
        sglang_ci::logging::init_in(false, sglang_ci::logging::LogClock::Pacific);
        let stdout = std::io::stdout();
        let o = DownloadModelsOptions {
            all: cli.all,
            model: cli.model,
            hardware: cli.hardware,
            dry_run: cli.dry_run,
            status: cli.status,
            base_dir: cli.base_dir,
            min_free_gb: cli.min_free_gb,
            timeout: cli.timeout,
            color: stdout.is_terminal() && std::env::var_os("NO_COLOR").is_none(),
        };
        let cfg = models::resolve(&o, &ProcessEnv).map_err(|e| Fatal::from_error(1, &e))?;
        let interrupt = sglang_ci::sys::install_interrupt(1)?;
        let mut console = Console::new(Box::new(stdout));
        let outcome = models::run(&cfg, &LocalExecutor::default(), &mut console, &interrupt)
            .map_err(|e| Fatal::from_error(1, &e))?;
        match outcome.exit_code() {
            0 => Ok(ExitCode::SUCCESS),
            code => Err(Fatal::new(code, outcome.message())),
        }
    })
}
