//! `sglang-sim build-image` and `sglang-sim keep-alive`: the flags and the binary's end of
//! `sglang_sim::image` (what goes into the image and its build, through docker-ctl) and
//! `sglang_sim::keep_alive`. The `sglang-sim` binary does not use the runner.

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use sglang_sim::image as sim_image;

use crate::exit::Fatal;
use sglang_runner::flags::heading;

/// `sglang-sim build-image` flags.
#[derive(Debug, Clone, clap::Args)]
pub struct BuildImageArgs {
    /// Image reference to build, e.g. `rocm/sgl-dev:v0.5.4-rocm630-mi30x-20251029` (its tag
    /// then names run folders and the container as a real nightly image would).
    #[arg(long, value_name = "TAG", help_heading = heading::ADDITIONS)]
    pub tag: String,

    /// Folder holding the sglang-sim and sglang-bench programs to put in the image (static
    /// ones are copied as they are; dynamic ones with the shared libraries `ldd` lists)
    /// [default: the folder of this sglang-sim].
    #[arg(long, value_name = "DIR", help_heading = heading::ADDITIONS)]
    pub binaries: Option<PathBuf>,

    /// Seconds the build may take.
    #[arg(long, value_name = "SECS", default_value_t = 600, help_heading = heading::ADDITIONS)]
    pub timeout: u64,

    /// Print the builder's output too.
    #[arg(short, long, help_heading = heading::LOGGING)]
    pub verbose: bool,
}

/// Builds the image and prints what went into it; exit 0, or 1 with one line.
pub fn build_image(args: &BuildImageArgs) -> Result<ExitCode, Fatal> {
    crate::logging::init(args.verbose);
    let dir = sim_image::binaries_dir(args.binaries.as_deref());
    say(&format!(
        "Building image {} from {}",
        args.tag,
        dir.display()
    ));
    let verbose = args.verbose;
    let id = sim_image::build(
        &args.tag,
        &dir,
        Duration::from_secs(args.timeout.max(1)),
        &mut |line| {
            let builder_noise = ["Step ", " ---> ", "Removing intermediate container"]
                .iter()
                .any(|p| line.starts_with(p));
            if verbose || !builder_noise {
                say(&line);
            }
        },
    )
    .map_err(|e| Fatal::from_error(1, &e))?;
    say(&format!("Built {} ({id})", args.tag));
    Ok(ExitCode::SUCCESS)
}

/// Waits for SIGTERM/SIGINT and exits 0.
pub fn keep_alive() -> Result<ExitCode, Fatal> {
    sglang_sim::keep_alive().map_err(|e| Fatal::from_error(1, &e))?;
    Ok(ExitCode::SUCCESS)
}

#[allow(clippy::print_stdout)]
fn say(line: &str) {
    println!("{line}");
}
