//! The offline benchmarks and download-models: a binary run with a clean environment and a
//! time limit, and the run folders they write.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use super::{Ran, Started, TAG};

/// A command for `bin` with an empty environment except `PATH=/usr/bin:/bin` and `env`.
pub fn command(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(bin);
    c.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Starts `bin` like [`command`] builds it.
pub fn start(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Started {
    super::start(command(bin, args, env), bin)
}

/// Waits for a started binary at most `limit` and prints what it wrote.
pub fn wait(child: Started, limit: Duration) -> Ran {
    let ran = child.wait(limit);
    println!("{}", ran.all());
    ran
}

/// Runs `bin` to completion (60 s at most).
pub fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    wait(start(bin, args, env), Duration::from_secs(60))
}

/// `<root>/offline/<model>/<TAG>_<model>_<variant>_offline<suffix>`.
pub fn offline_folder(root: &Path, model: &str, variant: &str, suffix: &str) -> PathBuf {
    root.join("offline")
        .join(model)
        .join(format!("{TAG}_{model}_{variant}_offline{suffix}"))
}
