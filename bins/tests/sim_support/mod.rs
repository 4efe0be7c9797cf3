//! Helpers of the sglang-sim integration tests: start the real `sglang-sim` binary on a free
//! port, read its log, talk plain HTTP/1.1 to it, run the Python peers with timeouts.
#![allow(dead_code, clippy::print_stdout, clippy::print_stderr)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// The workspace root (bins/..).
pub fn workspace() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/.."))
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

/// The test tokenizer directory.
pub fn tokenizer() -> String {
    shared_data()
        .join("tokenizer-bpe4k")
        .to_string_lossy()
        .into_owned()
}

/// The Python of the PyPI peers venv (env `SGLCI_PEER_PYTHON`, default `.venv-peers/bin/python`).
pub fn peer_python() -> PathBuf {
    let p = std::env::var_os("SGLCI_PEER_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace().join(".venv-peers/bin/python"));
    assert!(
        p.exists(),
        "peer Python missing at {}: run .ci/setup (it creates .venv-peers with sglang 0.5.9 and sglang-router 0.3.2) or set SGLCI_PEER_PYTHON",
        p.display()
    );
    p
}

/// A port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind 127.0.0.1:0")
}

/// Lines a child printed, shared with the thread reading them.
#[derive(Clone, Default)]
pub struct Lines(Arc<(Mutex<Vec<String>>, Condvar)>);

impl Lines {
    fn spawn_reader(&self, r: impl Read + Send + 'static) {
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

    /// Waits until a line containing `pat` appears (or `timeout`).
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

    /// Everything so far, one string.
    pub fn text(&self) -> String {
        self.0.0.lock().unwrap().join("\n")
    }
}

/// A running `sglang-sim` child, killed when dropped.
pub struct Proc {
    pub child: Child,
    pub out: Lines,
    pub port: u16,
}

impl Proc {
    /// Runs `sglang-sim ARGS` with stdout read into `out`.
    pub fn spawn(args: &[&str]) -> Proc {
        let mut child = Command::new(env!("CARGO_BIN_EXE_sglang-sim"))
            .args(args)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn sglang-sim");
        let out = Lines::default();
        out.spawn_reader(child.stdout.take().expect("stdout"));
        out.spawn_reader(child.stderr.take().expect("stderr"));
        Proc {
            child,
            out,
            port: 0,
        }
    }

    /// `sglang-sim launch-server ARGS --port 0`, waiting (10 s at most) for the ready line.
    pub fn server(args: &[&str]) -> Proc {
        let mut all = vec!["launch-server"];
        all.extend_from_slice(args);
        if !args.contains(&"--port") {
            all.extend_from_slice(&["--port", "0"]);
        }
        let mut p = Proc::spawn(&all);
        p.wait_ready(Duration::from_secs(10));
        p
    }

    /// Waits for `Uvicorn running on` (port) and the ready line.
    pub fn wait_ready(&mut self, timeout: Duration) {
        let line = self
            .out
            .wait_for("Uvicorn running on http://", timeout)
            .unwrap_or_else(|| {
                panic!(
                    "sglang-sim did not start within {timeout:?}; output:\n{}",
                    self.out.text()
                )
            });
        let addr = line
            .split("http://")
            .nth(1)
            .and_then(|s| s.split_whitespace().next())
            .expect("address");
        self.port = addr
            .rsplit(':')
            .next()
            .and_then(|p| p.parse().ok())
            .expect("port");
        self.out
            .wait_for("The server is fired up and ready to roll!", timeout)
            .unwrap_or_else(|| panic!("no ready line; output:\n{}", self.out.text()));
    }

    /// Waits for the process to exit (at most `timeout`).
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Ok(Some(s)) = self.child.try_wait() {
                return Some(s);
            }
            if Instant::now() >= deadline {
                return None;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Sends SIGTERM.
    pub fn sigterm(&self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A raw HTTP/1.1 response.
#[derive(Debug, Default)]
pub struct Resp {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked when chunked).
    pub body: Vec<u8>,
    /// The body ended properly (terminating chunk or full content-length).
    pub complete: bool,
    /// The read timed out.
    pub timed_out: bool,
}

impl Resp {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The `data: ` payloads of an SSE body.
    pub fn events(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(str::to_string)
            .collect()
    }
}

/// One request on a fresh connection (`Connection: close`); every read waits at most
/// `timeout` for bytes.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> std::io::Result<Resp> {
    let mut s =
        TcpStream::connect_timeout(&format!("127.0.0.1:{port}").parse().expect("addr"), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let mut timed_out = false;
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                timed_out = true;
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        }
    }
    Ok(parse(&raw, timed_out))
}

fn parse(raw: &[u8], timed_out: bool) -> Resp {
    let mut r = Resp {
        timed_out,
        ..Resp::default()
    };
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return r;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    r.status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            r.headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let rest = &raw[head_end + 4..];
    if r.header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut i = 0;
        while let Some(nl) = rest[i..].windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[i..i + nl]).trim(), 16)
                .unwrap_or(usize::MAX);
            i += nl + 2;
            if size == 0 {
                r.complete = true;
                break;
            }
            if size == usize::MAX || i + size > rest.len() {
                r.body.extend_from_slice(&rest[i.min(rest.len())..]);
                break;
            }
            r.body.extend_from_slice(&rest[i..i + size]);
            i += size + 2;
        }
    } else {
        r.body = rest.to_vec();
        let want = r
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        r.complete = want.is_none_or(|n| n == r.body.len());
    }
    r
}

/// Polls `GET path` until it answers `want` (or panics after `timeout`).
pub fn wait_http(port: u16, path: &str, want: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(r) = http(port, "GET", path, None, Duration::from_secs(2))
            && r.status == want
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "GET :{port}{path} did not answer {want} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Output of a finished command.
pub struct Ran {
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

/// Runs `cmd` to completion, killing it after `timeout` (then the test fails).
pub fn run_with_timeout(mut cmd: Command, timeout: Duration, what: &str) -> Ran {
    let dir = tempfile::tempdir().expect("tempdir");
    let (o, e) = (dir.path().join("out"), dir.path().join("err"));
    cmd.stdout(std::fs::File::create(&o).expect("out"))
        .stderr(std::fs::File::create(&e).expect("err"));
    let mut child = cmd
        .spawn()
        .unwrap_or_else(|err| panic!("cannot start {what}: {err}"));
    let deadline = Instant::now() + timeout;
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        if Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!(
                "{what} did not finish within {timeout:?}\nstdout:\n{}\nstderr:\n{}",
                std::fs::read_to_string(&o).unwrap_or_default(),
                std::fs::read_to_string(&e).unwrap_or_default()
            );
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    Ran {
        status,
        stdout: std::fs::read_to_string(&o).unwrap_or_default(),
        stderr: std::fs::read_to_string(&e).unwrap_or_default(),
    }
}

/// Reads a `--sim-trace` file.
pub fn read_trace(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad trace line ({e}): {l}")))
        .collect()
}

/// Median of a sample.
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

/// Server-side medians (ms) of TTFT, ITL and E2E from trace records.
pub fn trace_medians(recs: &[serde_json::Value]) -> (f64, f64, f64) {
    let mut ttft = Vec::new();
    let mut itl = Vec::new();
    let mut e2e = Vec::new();
    for r in recs {
        let rx = r["received_s"].as_f64().expect("received_s");
        let times: Vec<f64> = r["token_times_s"]
            .as_array()
            .expect("times")
            .iter()
            .filter_map(|t| t.as_f64())
            .collect();
        if let Some(first) = times.first() {
            ttft.push((first - rx) * 1e3);
        }
        itl.extend(times.windows(2).map(|w| (w[1] - w[0]) * 1e3));
        e2e.push((r["finished_s"].as_f64().expect("finished_s") - rx) * 1e3);
    }
    (median(&ttft), median(&itl), median(&e2e))
}
