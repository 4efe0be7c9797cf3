//! Helpers of the offline-benchmark and download-models tests: run a real binary with a
//! clean environment and a time limit, install stub programs, read run folders.
#![allow(dead_code)]

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The image every test uses.
pub const IMAGE: &str = "rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029";
/// Its tag.
pub const TAG: &str = "v0.5.4.post1-rocm630-mi30x-20251029";

/// What a finished binary left.
#[derive(Debug)]
pub struct Ran {
    /// Exit status (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

/// A command for `bin` with an empty environment except `PATH=/usr/bin:/bin` and `env`.
pub fn command(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut c = Command::new(bin);
    c.args(args)
        .env_clear()
        .env("PATH", "/usr/bin:/bin")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    for (k, v) in env {
        c.env(k, v);
    }
    c
}

/// Starts `c`; panics when it cannot.
pub fn spawn(mut c: Command) -> Child {
    c.spawn().expect("start the binary under test")
}

/// Waits for `child` at most `limit` (polling), kills it and panics past that.
pub fn wait(mut child: Child, limit: Duration) -> Ran {
    let mut out = child.stdout.take().expect("piped stdout");
    let mut err = child.stderr.take().expect("piped stderr");
    let t_out = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let t_err = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let deadline = Instant::now() + limit;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait for the binary") {
            break s;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("the binary ran longer than {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let ran = Ran {
        code: status.code(),
        stdout: t_out.join().unwrap_or_default(),
        stderr: t_err.join().unwrap_or_default(),
    };
    println!("--- stdout\n{}\n--- stderr\n{}", ran.stdout, ran.stderr);
    ran
}

/// Runs `bin` to completion (60 s at most).
pub fn run(bin: &str, args: &[&str], env: &[(&str, &str)]) -> Ran {
    wait(spawn(command(bin, args, env)), Duration::from_secs(60))
}

/// Writes an executable script. A child process writes it, so no descriptor of this
/// multi-threaded test process is open on it when another test thread forks (ETXTBSY).
pub fn install_script(path: &Path, text: &str) {
    let ok = Command::new("sh")
        .args([
            "-c",
            "printf '%s' \"$1\" > \"$2\" && chmod 755 \"$2\"",
            "sh",
            text,
        ])
        .arg(path)
        .status()
        .expect("run sh");
    assert!(ok.success(), "cannot install {}", path.display());
}

/// Reads a file to a string, naming it when it is missing.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The files of a folder, by name.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// `<root>/offline/<model>/<TAG>_<model>_<variant>_offline<suffix>`.
pub fn offline_folder(root: &Path, model: &str, variant: &str, suffix: &str) -> PathBuf {
    root.join("offline")
        .join(model)
        .join(format!("{TAG}_{model}_{variant}_offline{suffix}"))
}
