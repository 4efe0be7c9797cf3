//! `sglang-ci`: every program of the toolkit in one executable, the static release that
//! `install.sh` installs (docs/operations.md). Each program's name is a symbolic link to it;
//! it runs the program its own name (`argv[0]`) names, so `perf-nightly --model=grok` behaves
//! exactly as the separate binary does. Run as `sglang-ci`, it takes the program as its first
//! argument (`sglang-ci perf-nightly --model=grok`), `--list` prints the programs, `--version`
//! the version and git commit.
//!
//! Exit codes: the program's own; 2 for an unknown program name or none; 126 when re-running itself
//! under the program's name failed.

use std::ffi::OsString;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{Command, ExitCode};

include!(concat!(env!("OUT_DIR"), "/multicall_programs.rs"));

fn program(name: &str) -> Option<Main> {
    PROGRAMS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, main)| *main)
}

fn usage() -> String {
    let names: Vec<&str> = PROGRAMS.iter().map(|(n, _)| *n).collect();
    format!(
        "sglang-ci {}: every sglang-ci program in one executable.\n\n\
         Usage: <program> [ARGS]...          (a link named like the program, as install.sh makes)\n       \
         sglang-ci <program> [ARGS]...\n       \
         sglang-ci --list | --version | --help\n\n\
         Programs: {}\n",
        sglang_ci::VERSION,
        names.join(", ")
    )
}

/// Re-runs this executable with `argv[0]` = `name` and the remaining arguments: the program
/// reads its arguments from the process (`std::env::args_os`), as when started through its link.
fn exec_as(name: &str, rest: impl Iterator<Item = OsString>) -> ExitCode {
    let exe = std::env::current_exe().unwrap_or_else(|_| "/proc/self/exe".into());
    let err = Command::new(&exe).arg0(name).args(rest).exec();
    eprintln!("sglang-ci: cannot run {name} ({}): {err}", exe.display());
    ExitCode::from(126)
}

/// Dispatches on the name the executable was started under, else on the first argument.
pub fn main() -> ExitCode {
    let mut args = std::env::args_os();
    let argv0 = args.next().unwrap_or_default();
    let invoked = Path::new(&argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or_default();
    if let Some(run) = program(invoked) {
        return run();
    }
    let first = args.next();
    match first.as_ref().map(|a| a.to_string_lossy()).as_deref() {
        Some(name) if program(name).is_some() => exec_as(name, args),
        Some("--list") => {
            for (name, _) in PROGRAMS {
                println!("{name}");
            }
            ExitCode::SUCCESS
        }
        Some("-V" | "--version") => {
            println!("sglang-ci {}", sglang_ci::VERSION);
            ExitCode::SUCCESS
        }
        Some("-h" | "--help" | "help") => {
            print!("{}", usage());
            ExitCode::SUCCESS
        }
        None => {
            eprint!("{}", usage());
            ExitCode::from(2)
        }
        Some(other) => {
            eprintln!(
                "sglang-ci: error: unknown program `{other}` (`sglang-ci --list` names the {} programs)",
                PROGRAMS.len()
            );
            ExitCode::from(2)
        }
    }
}
