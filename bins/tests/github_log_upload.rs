//! `github-log-upload` (spec nightly.md §10, Q-UP-1..3) against a real bare repository on this
//! machine (`SGLCI_LOG_REMOTE=file:///…`) with the real `git`: first upload, a second run
//! after a log was deleted (the deletion reaches the branch), the original's commit messages,
//! two uploads from two clones pushing at once (one is rejected, rebases, retries; both land),
//! two uploads on one host (the second waits for the lock), and a fake GITHUB_TOKEN that must
//! appear in no file under the clone and in no output.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

const TOKEN: &str = "ghp_FakeToken0123456789abcdefXYZ";
/// base64("x-access-token:" + TOKEN): the header value git is given.
fn token_forms() -> Vec<String> {
    let b64 = {
        // Tiny base64 so the test does not trust the code under test.
        const T: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let input = format!("x-access-token:{TOKEN}").into_bytes();
        let mut s = String::new();
        for c in input.chunks(3) {
            let n = (u32::from(c[0]) << 16)
                | (u32::from(*c.get(1).unwrap_or(&0)) << 8)
                | u32::from(*c.get(2).unwrap_or(&0));
            for i in 0..4 {
                if i <= c.len() {
                    s.push(T[((n >> (18 - 6 * i)) & 63) as usize] as char);
                } else {
                    s.push('=');
                }
            }
        }
        s
    };
    vec![TOKEN.to_owned(), b64]
}

fn git(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("git")
        .args(args)
        .current_dir(dir)
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "git {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A bare log repository whose `log` branch holds one README, and a CI tree.
struct Fixture {
    tmp: tempfile::TempDir,
}

impl Fixture {
    fn new() -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path();
        git(root, &["init", "-q", "--bare", "remote.git"]);
        let seed = root.join("seed");
        std::fs::create_dir_all(&seed).unwrap();
        git(&seed, &["init", "-q"]);
        std::fs::write(seed.join("README.md"), "log branch\n").unwrap();
        git(&seed, &["add", "README.md"]);
        git(
            &seed,
            &[
                "-c",
                "user.name=t",
                "-c",
                "user.email=t@t",
                "commit",
                "-q",
                "-m",
                "seed",
            ],
        );
        git(
            &seed,
            &["push", "-q", "../remote.git", "HEAD:refs/heads/log"],
        );
        Self { tmp }
    }

    fn root(&self) -> &Path {
        self.tmp.path()
    }
    fn bare(&self) -> PathBuf {
        self.root().join("remote.git")
    }
    fn ci(&self) -> PathBuf {
        self.root().join("ci")
    }
    fn clone(&self, name: &str) -> PathBuf {
        self.root().join(name)
    }

    /// Writes `<ci>/<rel>` with `text`.
    fn log(&self, rel: &str, text: &str) {
        let p = self.ci().join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    }

    fn command(&self, clone: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_github-log-upload"));
        c.args(args)
            .current_dir(self.root())
            .env("SGL_BENCHMARK_CI_DIR", self.ci())
            .env(
                "SGLCI_LOG_REMOTE",
                format!("file://{}", self.bare().display()),
            )
            .env("SGLCI_LOG_CLONE", self.clone(clone))
            .env("GITHUB_TOKEN", TOKEN)
            .env("GIT_CONFIG_GLOBAL", "/dev/null")
            .env_remove("HARDWARE_TYPE")
            .env_remove("GITHUB_REPO")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        c
    }

    fn run(&self, clone: &str, args: &[&str]) -> Output {
        let out = self.command(clone, args).output().unwrap();
        assert_no_token_in(&out);
        out
    }

    /// `path` lines of the `log` branch of the bare repository.
    fn files(&self) -> Vec<String> {
        let mut v: Vec<String> = git(&self.bare(), &["ls-tree", "-r", "--name-only", "log"])
            .lines()
            .map(str::to_owned)
            .collect();
        v.sort();
        v
    }

    /// Subjects of the `log` branch, newest first.
    fn subjects(&self) -> Vec<String> {
        git(&self.bare(), &["log", "--format=%s|%an <%ae>", "log"])
            .lines()
            .map(str::to_owned)
            .collect()
    }

    /// Every file under `dir` (the clone, `.git/config` included) is free of the token.
    fn assert_no_token_under(&self, dir: &Path) {
        let mut n = 0;
        let mut stack = vec![dir.to_owned()];
        while let Some(d) = stack.pop() {
            for e in std::fs::read_dir(&d).unwrap() {
                let p = e.unwrap().path();
                let meta = std::fs::symlink_metadata(&p).unwrap();
                if meta.is_dir() {
                    stack.push(p);
                } else if meta.is_file() {
                    n += 1;
                    let bytes = std::fs::read(&p).unwrap();
                    for t in token_forms() {
                        assert!(
                            !bytes.windows(t.len()).any(|w| w == t.as_bytes()),
                            "token found in {}",
                            p.display()
                        );
                    }
                }
            }
        }
        assert!(n > 10, "only {n} files under {}", dir.display());
        assert!(dir.join(".git/config").is_file());
    }
}

fn text(out: &Output) -> (String, String) {
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn assert_no_token_in(out: &Output) {
    let (o, e) = text(out);
    for t in token_forms() {
        assert!(
            !o.contains(&t) && !e.contains(&t),
            "token in output:\n{o}\n{e}"
        );
    }
}

fn assert_ok(out: &Output) -> String {
    let (o, e) = text(out);
    assert!(out.status.success(), "exit {:?}\n{o}\n{e}", out.status);
    o
}

#[test]
fn first_upload_then_a_deleted_file_then_no_changes_and_no_token_anywhere() {
    let fx = Fixture::new();
    fx.log("cron/cron_log/mi30x/20251202/test_nightly.log", "unit ok\n");
    fx.log(
        "cron/cron_log/mi30x/20251202/docker_image_check.log",
        "check ok\n",
    );
    fx.log("cron/cron_log/mi30x/20251202/sub/inner.log", "inner\n");

    // First run: clone, mirror, commit with the original's message, push.
    let out = assert_ok(&fx.run("data", &["20251202", "mi30x", "cron"]));
    let ci = fx.ci();
    let want = [
        "[github_log_upload] Lock acquired – proceeding with upload".to_owned(),
        "[github_log_upload] Cloning data repository (ROCm/sglang-ci)…".to_owned(),
        format!(
            "[github_log_upload] Uploading logs from: {}/cron/cron_log/mi30x/20251202",
            ci.display()
        ),
        "[github_log_upload] Destination in repo: cron_log/mi30x/20251202".to_owned(),
        "[github_log_upload] Pushing commit to remote (ROCm/sglang-ci)…".to_owned(),
        "[github_log_upload] ✅  Logs uploaded successfully: cron_log/mi30x/20251202".to_owned(),
    ];
    assert_eq!(out.lines().collect::<Vec<_>>(), want);
    assert_eq!(
        fx.files(),
        [
            "README.md",
            "cron_log/mi30x/20251202/docker_image_check.log",
            "cron_log/mi30x/20251202/sub/inner.log",
            "cron_log/mi30x/20251202/test_nightly.log",
        ]
    );
    assert_eq!(
        fx.subjects()[0],
        "Backup cron logs for mi30x – 20251202|ci-bot <ci-bot@example.com>"
    );

    // Second run: one log deleted, one changed; the clone is re-used; the deletion lands.
    std::fs::remove_file(ci.join("cron/cron_log/mi30x/20251202/docker_image_check.log")).unwrap();
    fx.log(
        "cron/cron_log/mi30x/20251202/test_nightly.log",
        "unit ok\nrerun\n",
    );
    let out = assert_ok(&fx.run("data", &["20251202", "mi30x", "cron"]));
    assert!(
        out.contains(&format!(
            "[github_log_upload] Repository already cloned – re-using {}\n",
            fx.clone("data").display()
        )),
        "{out}"
    );
    assert_eq!(
        fx.files(),
        [
            "README.md",
            "cron_log/mi30x/20251202/sub/inner.log",
            "cron_log/mi30x/20251202/test_nightly.log",
        ]
    );
    assert_eq!(
        git(
            &fx.bare(),
            &["show", "log:cron_log/mi30x/20251202/test_nightly.log"]
        ),
        "unit ok\nrerun\n"
    );
    assert_eq!(fx.subjects().len(), 3);

    // Third run: nothing changed, nothing committed, exit 0.
    let out = assert_ok(&fx.run("data", &["20251202", "mi30x", "cron"]));
    assert!(
        out.contains("[github_log_upload] No new log changes – nothing to commit.\n"),
        "{out}"
    );
    assert_eq!(fx.subjects().len(), 3);

    // The token was in the environment of every run; it is in no file of the clone, and the
    // lock file is gone.
    fx.assert_no_token_under(&fx.clone("data"));
    assert!(!fx.root().join("data.lock").exists());
    let config = std::fs::read_to_string(fx.clone("data").join(".git/config")).unwrap();
    assert!(
        !config.contains("extraHeader") && !config.contains("Authorization"),
        "{config}"
    );
}

#[test]
fn sanity_folders_absolute_paths_defaults_and_a_missing_source() {
    let fx = Fixture::new();
    let tag = "v0.5.4.post1-rocm630-mi30x-20251029";
    fx.log(
        &format!("test/sanity_check_log/mi30x/{tag}/timing_summary_20251029_094001.log"),
        "t\n",
    );
    fx.log("cron/cron_log/mi35x/20251030/grok_nightly.log", "g\n");

    // The crontab's form: `"" <hw> sanity <newest folder>`.
    let out = assert_ok(&fx.run("data", &["", "mi30x", "sanity", tag]));
    assert!(out.contains(&format!(
        "Destination in repo: test/sanity_check_log/mi30x/{tag}\n"
    )));
    let subject = &fx.subjects()[0];
    let prefix = format!("Backup sanity logs for mi30x – {tag} (");
    assert!(subject.starts_with(&prefix), "{subject}");
    let stamp = &subject[prefix.len()..prefix.len() + 13];
    assert!(
        stamp.len() == 13
            && stamp.as_bytes()[8] == b'_'
            && stamp.replace('_', "").bytes().all(|b| b.is_ascii_digit()),
        "YYYYMMDD_HHMM: {subject}"
    );

    // An absolute folder: type and hardware come from the path, whatever the arguments say.
    let abs = fx.ci().join("cron/cron_log/mi35x/20251030");
    let out = assert_ok(&fx.run("data", &["", "", "sanity", abs.to_str().unwrap()]));
    assert!(
        out.contains("Destination in repo: cron_log/mi35x/20251030\n"),
        "{out}"
    );
    assert!(
        fx.files()
            .contains(&"cron_log/mi35x/20251030/grok_nightly.log".to_owned())
    );
    assert_eq!(
        fx.subjects()[0],
        "Backup cron logs for mi35x – 20251030|ci-bot <ci-bot@example.com>"
    );

    // No arguments: today's folder of HARDWARE_TYPE, which does not exist: skipped, exit 0,
    // and nothing is cloned.
    let out = fx
        .command("fresh", &[])
        .env("HARDWARE_TYPE", "mi35x")
        .output()
        .unwrap();
    let out = assert_ok(&out);
    let today = chrono::Local::now().format("%Y%m%d").to_string();
    assert_eq!(
        out,
        format!(
            "[github_log_upload] No logs found in {}/cron/cron_log/mi35x/{today} – skipping upload.\n",
            fx.ci().display()
        )
    );
    assert!(!fx.clone("fresh").exists());
}

/// Installs a pre-push hook in `clone` that runs `body` (sh).
fn hook(clone: &Path, body: &str) {
    let p = clone.join(".git/hooks/pre-push");
    std::fs::write(&p, format!("#!/bin/sh\n{body}\nexit 0\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
}

fn finish(child: Child, limit: Duration) -> Output {
    let t = Instant::now();
    let mut child = child;
    while child.try_wait().unwrap().is_none() {
        assert!(t.elapsed() < limit, "upload did not finish in {limit:?}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert_no_token_in(&out);
    out
}

#[test]
fn two_clones_pushing_at_once_one_rebases_and_retries_and_both_land() {
    let fx = Fixture::new();
    // Two hosts, two clones, each made by a first upload of its own day.
    fx.log("cron/cron_log/mi30x/20251101/a.log", "a\n");
    fx.log("cron/cron_log/mi35x/20251101/b.log", "b\n");
    assert_ok(&fx.run("host_a", &["20251101", "mi30x"]));
    assert_ok(&fx.run("host_b", &["20251101", "mi35x"]));

    // Both commit on the same base, then meet at a barrier in their pre-push hooks, so both
    // pushes go out at once: the ref update lets exactly one through.
    let bar = fx.root().join("barrier");
    std::fs::create_dir_all(&bar).unwrap();
    for (clone, me) in [("host_a", "a"), ("host_b", "b")] {
        hook(
            &fx.clone(clone),
            &format!(
                "touch {d}/{me}; i=0; while [ ! -e {d}/a ] || [ ! -e {d}/b ]; do i=$((i+1)); [ $i -gt 400 ] && exit 1; sleep 0.05; done",
                d = bar.display()
            ),
        );
    }
    fx.log("cron/cron_log/mi30x/20251102/a2.log", "a2\n");
    fx.log("cron/cron_log/mi35x/20251102/b2.log", "b2\n");
    let a = fx
        .command("host_a", &["20251102", "mi30x"])
        .spawn()
        .unwrap();
    let b = fx
        .command("host_b", &["20251102", "mi35x"])
        .spawn()
        .unwrap();
    let (oa, ob) = (
        finish(a, Duration::from_secs(60)),
        finish(b, Duration::from_secs(60)),
    );
    let (sa, sb) = (assert_ok(&oa), assert_ok(&ob));
    let retried: Vec<&String> = [&sa, &sb]
        .into_iter()
        .filter(|s| {
            s.contains("Push rejected") && s.contains("pulling with rebase and retrying (2/3)")
        })
        .collect();
    assert_eq!(
        retried.len(),
        1,
        "exactly one push is rejected:\n{sa}\n---\n{sb}"
    );
    for s in [&sa, &sb] {
        assert!(s.contains("✅  Logs uploaded successfully"), "{s}");
    }
    let subjects = fx.subjects();
    for want in [
        "Backup cron logs for mi30x – 20251102",
        "Backup cron logs for mi35x – 20251102",
    ] {
        assert!(
            subjects.iter().any(|s| s.starts_with(want)),
            "{want} missing: {subjects:?}"
        );
    }
    assert_eq!(subjects.len(), 5, "{subjects:?}");
    // History stays linear (rebase, no merge commits).
    assert_eq!(git(&fx.bare(), &["rev-list", "--merges", "log"]), "");
    let files = fx.files();
    assert!(files.contains(&"cron_log/mi30x/20251102/a2.log".to_owned()));
    assert!(files.contains(&"cron_log/mi35x/20251102/b2.log".to_owned()));
    fx.assert_no_token_under(&fx.clone("host_a"));
    fx.assert_no_token_under(&fx.clone("host_b"));
}

#[test]
fn a_second_upload_on_the_same_host_waits_for_the_lock() {
    let fx = Fixture::new();
    fx.log("cron/cron_log/mi30x/20251103/first.log", "1\n");
    assert_ok(&fx.run("data", &["20251103", "mi30x"]));

    // The first upload stops inside its push (holding the lock) until the test releases it.
    let (inside, release) = (fx.root().join("inside"), fx.root().join("release"));
    hook(
        &fx.clone("data"),
        &format!(
            "touch {}; i=0; while [ ! -e {} ]; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done",
            inside.display(),
            release.display()
        ),
    );
    fx.log("cron/cron_log/mi30x/20251103/second.log", "2\n");
    fx.log("cron/cron_log/mi30x/20251104/other.log", "3\n");
    let a = fx.command("data", &["20251103", "mi30x"]).spawn().unwrap();
    let t = Instant::now();
    while !inside.exists() {
        assert!(
            t.elapsed() < Duration::from_secs(30),
            "first upload never reached its push"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let mut b = fx.command("data", &["20251104", "mi30x"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    assert!(
        b.try_wait().unwrap().is_none(),
        "the second upload did not wait"
    );
    std::fs::write(&release, "").unwrap();
    let (oa, ob) = (
        finish(a, Duration::from_secs(60)),
        finish(b, Duration::from_secs(60)),
    );
    assert_ok(&oa);
    let sb = assert_ok(&ob);
    assert!(
        sb.contains("[github_log_upload] Waiting for the upload lock"),
        "{sb}"
    );
    // Never interleaved: the second started its git work after the first pushed.
    assert!(!sb.contains("Push rejected"), "{sb}");
    let subjects = fx.subjects();
    assert!(
        subjects[0].starts_with("Backup cron logs for mi30x – 20251104"),
        "{subjects:?}"
    );
    assert!(
        subjects[1].starts_with("Backup cron logs for mi30x – 20251103"),
        "{subjects:?}"
    );
}

#[test]
fn an_unreachable_remote_fails_with_one_masked_line_and_a_clone_of_the_original_loses_its_token() {
    let fx = Fixture::new();
    fx.log("cron/cron_log/mi30x/20251105/x.log", "x\n");

    // The original script cloned with the token in the URL; the port re-points origin.
    git(
        fx.root(),
        &["clone", "-q", fx.bare().to_str().unwrap(), "old"],
    );
    let leaky = format!("https://{TOKEN}@github.com/ROCm/sglang-ci.git");
    git(&fx.clone("old"), &["remote", "set-url", "origin", &leaky]);
    let out = assert_ok(&fx.run("old", &["20251105", "mi30x"]));
    assert!(out.contains("Repository already cloned"), "{out}");
    fx.assert_no_token_under(&fx.clone("old"));

    // Nothing listens on 127.0.0.1:9: git fails fast, the binary says so in one line, exit 1.
    let out = fx
        .command("none", &["20251105", "mi30x"])
        .env(
            "SGLCI_LOG_REMOTE",
            format!("https://{TOKEN}@127.0.0.1:9/log.git"),
        )
        .env("SGLCI_GIT_TIMEOUT_S", "30")
        .output()
        .unwrap();
    assert_no_token_in(&out);
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{o}\n{e}");
    assert_eq!(e.lines().count(), 1, "{e}");
    assert!(e.starts_with("github-log-upload: error: git clone"), "{e}");

    // A bad number in the environment: exit 2, one line naming the variable.
    let out = fx
        .command("data", &["20251105", "mi30x"])
        .env("SGLCI_GIT_TIMEOUT_S", "soon")
        .output()
        .unwrap();
    let (_, e) = text(&out);
    assert_eq!(out.status.code(), Some(2), "{e}");
    assert!(e.contains("SGLCI_GIT_TIMEOUT_S"), "{e}");
}

/// A GitHub-like smart-HTTP remote on 127.0.0.1: every request without
/// `Authorization: Basic base64(x-access-token:TOKEN)` gets 401 (as GitHub answers a push
/// without credentials); the others are served by the real `git http-backend` (CGI).
struct AuthRemote {
    port: u16,
    /// (authorized, URL carried the token) per request.
    seen: std::sync::Arc<std::sync::Mutex<Vec<(bool, bool)>>>,
}

impl AuthRemote {
    fn start(root: &Path) -> Self {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let seen = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
        let (root, log) = (root.to_owned(), seen.clone());
        std::thread::spawn(move || {
            for conn in listener.incoming() {
                let Ok(conn) = conn else { continue };
                let (root, log) = (root.clone(), log.clone());
                std::thread::spawn(move || serve(conn, &root, &log));
            }
        });
        Self { port, seen }
    }
}

fn serve(mut conn: std::net::TcpStream, root: &Path, log: &std::sync::Mutex<Vec<(bool, bool)>>) {
    use std::io::{BufRead, BufReader, Read, Write};
    let mut rd = BufReader::new(conn.try_clone().unwrap());
    let mut line = String::new();
    if rd.read_line(&mut line).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = line.split_whitespace();
    let (method, target) = (
        parts.next().unwrap_or("").to_owned(),
        parts.next().unwrap_or("").to_owned(),
    );
    let mut headers = Vec::new();
    loop {
        let mut h = String::new();
        rd.read_line(&mut h).unwrap();
        let h = h.trim_end().to_owned();
        if h.is_empty() {
            break;
        }
        if let Some((k, v)) = h.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    if let Some(n) = get("content-length") {
        body.resize(n.parse().unwrap(), 0);
        rd.read_exact(&mut body).unwrap();
    } else if get("transfer-encoding").is_some_and(|t| t.contains("chunked")) {
        loop {
            let mut size = String::new();
            rd.read_line(&mut size).unwrap();
            let n = usize::from_str_radix(size.trim(), 16).unwrap();
            let mut chunk = vec![0; n + 2];
            rd.read_exact(&mut chunk).unwrap();
            if n == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..n]);
        }
    }
    let want = format!("Basic {}", token_forms()[1]);
    let authorized = get("authorization").as_deref() == Some(want.as_str());
    log.lock()
        .unwrap()
        .push((authorized, target.contains(TOKEN)));
    if !authorized {
        let _ = conn.write_all(
            b"HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Basic realm=\"GitHub\"\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
        );
        return;
    }
    let (path, query) = target.split_once('?').unwrap_or((&target, ""));
    let mut cgi = Command::new("git")
        .arg("http-backend")
        .env("GIT_PROJECT_ROOT", root)
        .env("GIT_HTTP_EXPORT_ALL", "1")
        .env("GIT_CONFIG_GLOBAL", "/dev/null")
        .env("REQUEST_METHOD", &method)
        .env("PATH_INFO", path)
        .env("QUERY_STRING", query)
        .env("CONTENT_TYPE", get("content-type").unwrap_or_default())
        .env("CONTENT_LENGTH", body.len().to_string())
        .env(
            "HTTP_CONTENT_ENCODING",
            get("content-encoding").unwrap_or_default(),
        )
        .env("GIT_PROTOCOL", get("git-protocol").unwrap_or_default())
        .env("REMOTE_USER", "x-access-token")
        .env("REMOTE_ADDR", "127.0.0.1")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    cgi.stdin.take().unwrap().write_all(&body).unwrap();
    let out = cgi.wait_with_output().unwrap().stdout;
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&out[..split]).into_owned();
    let mut status = "200 OK".to_owned();
    let mut resp = String::new();
    for h in head.lines() {
        match h.strip_prefix("Status: ") {
            Some(s) => status = s.to_owned(),
            None => resp.push_str(&format!("{h}\r\n")),
        }
    }
    let payload = &out[split + 4..];
    let _ = conn.write_all(
        format!(
            "HTTP/1.1 {status}\r\n{resp}Content-Length: {}\r\nConnection: close\r\n\r\n",
            payload.len()
        )
        .as_bytes(),
    );
    let _ = conn.write_all(payload);
}

#[test]
fn an_authenticated_http_remote_accepts_the_token_sent_only_as_a_header() {
    let fx = Fixture::new();
    let remote = AuthRemote::start(fx.root());
    let url = format!("http://127.0.0.1:{}/remote.git", remote.port);
    fx.log("cron/cron_log/mi30x/20251106/a.log", "a\n");

    // Without a token the remote refuses, git does not prompt, the upload fails at once.
    let out = fx
        .command("anon", &["20251106", "mi30x"])
        .env("SGLCI_LOG_REMOTE", &url)
        .env_remove("GITHUB_TOKEN")
        .output()
        .unwrap();
    let (o, e) = text(&out);
    assert_eq!(out.status.code(), Some(1), "{o}\n{e}");
    assert!(e.starts_with("github-log-upload: error: git clone"), "{e}");

    // With GITHUB_TOKEN: clone, fetch, pull and push all authorise through the header.
    let out = fx
        .command("data", &["20251106", "mi30x"])
        .env("SGLCI_LOG_REMOTE", &url)
        .output()
        .unwrap();
    assert_no_token_in(&out);
    let o = assert_ok(&out);
    assert!(
        o.contains("✅  Logs uploaded successfully: cron_log/mi30x/20251106"),
        "{o}"
    );
    assert!(
        fx.files()
            .contains(&"cron_log/mi30x/20251106/a.log".to_owned())
    );
    let seen = remote.seen.lock().unwrap().clone();
    assert!(seen.iter().filter(|(ok, _)| *ok).count() >= 3, "{seen:?}");
    assert!(
        seen.iter().all(|(_, in_url)| !in_url),
        "token in a URL: {seen:?}"
    );
    fx.assert_no_token_under(&fx.clone("data"));
    let config = std::fs::read_to_string(fx.clone("data").join(".git/config")).unwrap();
    assert!(config.contains(&format!("url = {url}")), "{config}");
}
