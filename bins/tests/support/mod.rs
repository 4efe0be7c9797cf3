//! Helpers of the binaries' integration tests, each in one place. Every test file says
//! `mod support;` and uses what it needs:
//!
//! * here: where things are (workspace, corpus, shared data, fixtures), running a process with
//!   a time limit ([`run`], [`start`]), signals, free ports, file listings, process output
//!   shown in assertion messages, one-at-a-time locks;
//! * [`browser`]: headless Chromium (screenshots, the rendered DOM);
//! * [`dashboard`]: the real `dashboard` over a store ingested from the corpus;
//! * [`hide`]: a program run with folders (this checkout, `../shared`) hidden, as on a node;
//! * [`history`]: the plot binaries (`process-online-plots`, `process-offline-plots`);
//! * [`http`]: plain HTTP/1.1 over TCP (requests a client library would normalise);
//! * [`offline`]: the offline benchmarks and download-models (clean environment, stub programs);
//! * [`online`]: the online benchmarks and perf-nightly on the simulated engine (a sandbox with
//!   its own port, leftover checks, timing summaries);
//! * [`plots_server`]: the real `plots-server` on a temporary plots tree;
//! * [`sim`]: the real `sglang-sim` and the Python peers;
//! * [`sim_image`]: the simulated-engine image (`sglang-sim build-image`) for Docker tests.
#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

pub mod browser;
pub mod dashboard;
pub mod hide;
pub mod history;
pub mod http;
pub mod offline;
pub mod online;
pub mod plots_server;
pub mod sim;
pub mod sim_image;

use std::io::{BufRead, BufReader, Read};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// The image the benchmark tests use (its tag names the run folders).
pub const IMAGE: &str = "rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029";
/// Its tag.
pub const TAG: &str = "v0.5.4.post1-rocm630-mi30x-20251029";

/// The workspace root (bins/..).
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
}

/// `fixtures/<rel>` of the repository.
pub fn fixtures(rel: &str) -> PathBuf {
    workspace().join("fixtures").join(rel)
}

/// The corpus root (`SGLCI_CORPUS`, default `<workspace>/../shared/corpus`), checked to hold
/// `sub` (`""`: the root itself); fails the test, naming the variable, when it does not.
pub fn corpus(sub: &str) -> PathBuf {
    report::corpus::require(sub).unwrap_or_else(|e| panic!("{e}"))
}

/// `../shared/data` next to the workspace; fails the test when missing.
pub fn shared_data() -> PathBuf {
    let p = workspace().join("../shared/data");
    assert!(
        p.is_dir(),
        "shared test data missing at {} (the checkout's ../shared/data)",
        p.display()
    );
    p
}

/// The GSM8K test set of the native GSM8K client (env `SGLCI_GSM8K_DATA`, default
/// `<workspace>/../shared/data/gsm8k/test.jsonl`); the test fails when it is missing.
pub fn gsm8k_data() -> PathBuf {
    let p = std::env::var_os("SGLCI_GSM8K_DATA").map_or_else(
        || workspace().join("../shared/data/gsm8k/test.jsonl"),
        PathBuf::from,
    );
    assert!(
        p.is_file(),
        "GSM8K data {} not found: set SGLCI_GSM8K_DATA to shared/data/gsm8k/test.jsonl",
        p.display()
    );
    p
}

/// A TCP port nobody listens on right now (127.0.0.1).
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Reads a file to a string, naming it when it cannot.
pub fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// The entries of a folder, by name, sorted.
pub fn names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

/// The sub-folders of a folder, sorted.
pub fn subdirs(dir: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("cannot list {}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// The only sub-folder of `dir` (a run folder below `online/<model>/`).
pub fn only_subdir(dir: &Path) -> PathBuf {
    let dirs = subdirs(dir);
    assert_eq!(dirs.len(), 1, "{dirs:?}");
    dirs[0].clone()
}

/// The last `n` lines of `s`.
pub fn tail(s: &str, n: usize) -> String {
    let lines: Vec<&str> = s.lines().collect();
    lines[lines.len().saturating_sub(n)..].join("\n")
}

/// Sends `sig` (`TERM`, `INT`) to `pid` through kill(1).
pub fn signal(pid: u32, sig: &str) {
    let ok = Command::new("kill")
        .arg(format!("-{sig}"))
        .arg(pid.to_string())
        .status()
        .expect("run kill");
    assert!(ok.success(), "kill -{sig} {pid} failed");
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

/// Stdout then stderr of a finished command, for assertion messages.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// Width and height of a PNG file (fails when it is not one).
pub fn png_size(p: &Path) -> (u32, u32) {
    let b = std::fs::read(p).unwrap_or_else(|e| panic!("read {}: {e}", p.display()));
    assert_eq!(
        &b[..8],
        b"\x89PNG\r\n\x1a\n",
        "{} is not a PNG",
        p.display()
    );
    let be = |s: &[u8]| u32::from_be_bytes([s[0], s[1], s[2], s[3]]);
    (be(&b[16..20]), be(&b[20..24]))
}

/// Median of a sample (NaN when empty).
pub fn median(xs: &[f64]) -> f64 {
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    if v.is_empty() {
        return f64::NAN;
    }
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

/// Tests of one file that need the machine to themselves (timing-sensitive peers on two
/// cores, the Docker tests' idle check) hold this while they run: one at a time.
pub fn one_at_a_time() -> MutexGuard<'static, ()> {
    static LOCK: Mutex<()> = Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

// ---------------------------------------------------------------- processes

/// What a finished command left.
#[derive(Debug)]
pub struct Ran {
    /// Exit status.
    pub status: ExitStatus,
    /// Exit code (`None`: killed by a signal).
    pub code: Option<i32>,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
    /// Wall time from start to exit.
    pub elapsed: Duration,
}

impl Ran {
    /// Both outputs, labelled, for assertion messages.
    pub fn all(&self) -> String {
        format!("--- stdout\n{}\n--- stderr\n{}", self.stdout, self.stderr)
    }
}

/// A started child whose stdout and stderr go to temporary files (so a grandchild that keeps
/// them open never blocks the test, and no pipe fills up).
pub struct Started {
    /// The child.
    pub child: Child,
    what: String,
    out: PathBuf,
    err: PathBuf,
    started: Instant,
    _dir: tempfile::TempDir,
}

/// Starts `cmd` (`what` names it in failures) with its output captured.
pub fn start(mut cmd: Command, what: &str) -> Started {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out, err) = (dir.path().join("out"), dir.path().join("err"));
    cmd.stdout(std::fs::File::create(&out).expect("stdout file"))
        .stderr(std::fs::File::create(&err).expect("stderr file"));
    let started = Instant::now();
    let child = cmd
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    Started {
        child,
        what: what.to_owned(),
        out,
        err,
        started,
        _dir: dir,
    }
}

impl Started {
    /// Its process id.
    pub fn id(&self) -> u32 {
        self.child.id()
    }

    /// Waits for the exit at most `limit` (polling); past that kills it and fails the test.
    pub fn wait(mut self, limit: Duration) -> Ran {
        let deadline = Instant::now() + limit;
        let read =
            |p: &Path| String::from_utf8_lossy(&std::fs::read(p).unwrap_or_default()).into_owned();
        let status = loop {
            if let Some(s) = self.child.try_wait().expect("wait for the child") {
                break s;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                panic!(
                    "{} did not finish within {limit:?}\nstdout (tail):\n{}\nstderr:\n{}",
                    self.what,
                    tail(&read(&self.out), 40),
                    read(&self.err)
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ran {
            status,
            code: status.code(),
            stdout: read(&self.out),
            stderr: read(&self.err),
            elapsed: self.started.elapsed(),
        }
    }
}

/// Runs `cmd` to completion; fails the test after `limit` (nothing may hang).
pub fn run(cmd: Command, limit: Duration, what: &str) -> Ran {
    start(cmd, what).wait(limit)
}

/// Runs `bin ARGS` to completion; fails the test after `limit`.
pub fn run_args(bin: &str, args: &[&str], limit: Duration) -> Ran {
    let mut c = Command::new(bin);
    c.args(args);
    run(c, limit, bin)
}

/// Waits for `child` to exit, at most `limit`.
pub fn wait_exit(child: &mut Child, limit: Duration) -> Option<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        if let Ok(Some(s)) = child.try_wait() {
            return Some(s);
        }
        if Instant::now() >= deadline {
            return None;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

/// Lines a child printed, shared with the threads reading them.
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Lines {
    /// Reads `r` line by line on a thread of its own.
    pub fn spawn_reader(&self, r: impl Read + Send + 'static) {
        let me = self.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(r).lines() {
                let Ok(line) = line else { break };
                let (m, cv) = &*me.0;
                m.lock().unwrap().push(line);
                cv.notify_all();
            }
        });
    }

    /// Waits until a line containing `pat` appears (at most `timeout`) and returns it.
    pub fn wait_for(&self, pat: &str, timeout: Duration) -> Option<String> {
        let (m, cv) = &*self.0;
        let deadline = Instant::now() + timeout;
        let mut g = m.lock().unwrap();
        loop {
            if let Some(l) = g.iter().find(|l| l.contains(pat)) {
                return Some(l.clone());
            }
            let now = Instant::now();
            if now >= deadline {
                return None;
            }
            g = cv.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Everything read so far, joined with newlines.
    pub fn text(&self) -> String {
        self.0.0.lock().unwrap().join("\n")
    }
}

/// Starts `cmd` with stdin closed, its stdout read into `out` and its stderr into `err` (the
/// same [`Lines`] twice to interleave them).
pub fn spawn_read(mut cmd: Command, what: &str, out: &Lines, err: &Lines) -> Child {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
    out.spawn_reader(child.stdout.take().expect("piped stdout"));
    err.spawn_reader(child.stderr.take().expect("piped stderr"));
    child
}
