//! The plots-server under test: a temporary plots tree with hand-made PNGs, the real
//! `plots-server` binary started on a free 127.0.0.1 port (it announces the port it got), and
//! a ureq agent that returns every status.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use super::http::Resp;
use super::{Lines, spawn_read, wait_exit};

/// A small valid RGB PNG (`w`×`h`, a colour gradient) made with the `png` encoder.
pub fn png_bytes(w: u32, h: u32, seed: u8) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut writer = enc.write_header().expect("png header");
        let mut data = Vec::with_capacity((w * h * 3) as usize);
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[
                    (x * 255 / w.max(1)) as u8 ^ seed,
                    (y * 255 / h.max(1)) as u8,
                    seed.wrapping_mul(37),
                ]);
            }
        }
        writer.write_image_data(&data).expect("png data");
    }
    out
}

/// The test tree: `<tmp>/root` (served) and `<tmp>/outside` (must never be served).
pub struct Tree {
    pub tmp: tempfile::TempDir,
    pub root: PathBuf,
    pub outside: PathBuf,
}

/// Name with every awkward character a link can break on.
pub const ODD_NAME: &str = "sp ace #1 100% ünï 图?.txt";

/// Builds the tree most tests use.
pub fn tree() -> Tree {
    let tmp = tempfile::tempdir().expect("tempdir");
    let root = tmp.path().join("root");
    let outside = tmp.path().join("outside");
    fs::create_dir_all(root.join("mi30x/GROK1/online")).unwrap();
    fs::create_dir_all(root.join("mi30x/GROK1/offline")).unwrap();
    fs::create_dir_all(root.join("mi35x/GROK2/online")).unwrap();
    fs::create_dir_all(root.join("empty")).unwrap();
    fs::create_dir_all(root.join("site")).unwrap();
    fs::create_dir_all(&outside).unwrap();
    fs::write(outside.join("secret.txt"), "TOPSECRET outside the root\n").unwrap();
    let online = root.join("mi30x/GROK1/online");
    fs::write(
        online.join("20251013_GROK1_online_standard.png"),
        png_bytes(64, 48, 1),
    )
    .unwrap();
    fs::write(
        online.join("20251014_GROK1_online_standard.png"),
        png_bytes(64, 48, 2),
    )
    .unwrap();
    fs::write(
        root.join("mi35x/GROK2/online/20250929_GROK2_online.png"),
        png_bytes(40, 30, 3),
    )
    .unwrap();
    for (name, text) in [
        ("a.log", "log line\n"),
        ("b.csv", "x,y\n1,2\n"),
        ("c.txt", "plain\n"),
        ("A.txt", "upper\n"),
        ("README.md", "# readme\n"),
        ("data.json", "{\"k\":1}\n"),
        (".hidden", "dot\n"),
        (ODD_NAME, "odd name body\n"),
    ] {
        fs::write(root.join(name), text).unwrap();
    }
    fs::write(root.join("Z.png"), png_bytes(8, 8, 4)).unwrap();
    fs::write(
        root.join("site/index.html"),
        "<html><body>custom index</body></html>\n",
    )
    .unwrap();
    // 2.5 MiB of numbered lines: larger than the server's read-whole limit, so it streams.
    let mut big = String::new();
    let mut i = 0u64;
    while big.len() < 2_621_440 {
        big.push_str(&format!("{i:09} the quick brown fox\n"));
        i += 1;
    }
    fs::write(root.join("big.log"), big).unwrap();
    std::os::unix::fs::symlink(
        online.join("20251013_GROK1_online_standard.png"),
        root.join("link_in.png"),
    )
    .unwrap();
    std::os::unix::fs::symlink(root.join("mi30x"), root.join("link_dir")).unwrap();
    std::os::unix::fs::symlink(outside.join("secret.txt"), root.join("link_out.txt")).unwrap();
    std::os::unix::fs::symlink(&outside, root.join("link_outdir")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", root.join("passwd")).unwrap();
    Tree { tmp, root, outside }
}

/// A running `plots-server`.
pub struct Server {
    /// The process.
    pub child: Child,
    /// The port it announced.
    pub port: u16,
    /// Its stdout, line by line.
    pub stdout: Lines,
    /// Its stderr (the access log), line by line.
    pub stderr: Lines,
    /// Its `--pid-file`.
    pub pid_file: PathBuf,
    _pid_dir: tempfile::TempDir,
}

/// The binary under test.
pub fn bin() -> &'static str {
    env!("CARGO_BIN_EXE_plots-server")
}

/// A command for the binary with the server's environment variables cleared.
pub fn command() -> Command {
    let mut cmd = Command::new(bin());
    for v in [
        "HTTP_SERVER_PORT",
        "HTTP_SERVER_BIND",
        "HTTP_SERVER_TITLE",
        "PLOTS_SERVER_DIR",
        "PLOTS_SERVER_PID_FILE",
        "PLOTS_MODEL_DIRS",
        "ALTERNATIVE_PORTS",
        "HTTP_SERVER_SCRIPT",
        "SGLCI_LOG",
        "RUST_LOG",
    ] {
        cmd.env_remove(v);
    }
    cmd
}

impl Server {
    /// Starts the server on `root` (127.0.0.1, port 0) with `extra` flags; waits (bounded) for
    /// its start-up line and reads the port from it.
    pub fn start(root: &Path, extra: &[&str]) -> Server {
        let pid_dir = tempfile::tempdir().unwrap();
        let pid_file = pid_dir.path().join("plots-server.pid");
        let mut cmd = command();
        cmd.arg("--bind=127.0.0.1")
            .arg("--port=0")
            .arg(format!("--plots-dir={}", root.display()))
            .arg(format!("--pid-file={}", pid_file.display()))
            .args(extra);
        let (stdout, stderr) = (Lines::default(), Lines::default());
        let mut child = spawn_read(cmd, "plots-server", &stdout, &stderr);
        let marker = "Serving HTTP on 127.0.0.1 port ";
        let Some(line) = stdout.wait_for(marker, Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!(
                "plots-server did not announce its port within 30 s; stderr:\n{}",
                stderr.text()
            );
        };
        let rest = &line[line.find(marker).unwrap_or(0) + marker.len()..];
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        let port = n.parse::<u16>().expect("port number in start-up line");
        Server {
            child,
            port,
            stdout,
            stderr,
            pid_file,
            _pid_dir: pid_dir,
        }
    }

    /// `http://127.0.0.1:<port><path>`
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Sends `sig` (`TERM`, `INT`) through kill(1).
    pub fn signal(&self, sig: &str) {
        super::signal(self.child.id(), sig);
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_exit(&mut self.child, limit)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// A ureq agent that returns 4xx/5xx as responses, follows no redirects and times out.
pub fn agent() -> ureq::Agent {
    ureq::Agent::new_with_config(
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .max_redirects(0)
            .timeout_global(Some(Duration::from_secs(20)))
            .build(),
    )
}

/// GET (or HEAD) `url` with `headers` through ureq.
pub fn fetch(method: &str, url: &str, headers: &[(&str, &str)]) -> Resp {
    let agent = agent();
    let mut req = match method {
        "HEAD" => agent.head(url),
        _ => agent.get(url),
    };
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let mut resp = req.call().unwrap_or_else(|e| panic!("{method} {url}: {e}"));
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = resp
        .body_mut()
        .with_config()
        .limit(64 << 20)
        .read_to_vec()
        .unwrap_or_else(|e| panic!("{method} {url}: reading body: {e}"));
    Resp {
        status,
        headers,
        body,
        complete: true,
        timed_out: false,
    }
}

/// GET through ureq.
pub fn get(url: &str) -> Resp {
    fetch("GET", url, &[])
}

/// All `href="..."` values of a page, in order.
pub fn hrefs(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|s| s.split('"').next())
        .map(str::to_owned)
        .collect()
}
