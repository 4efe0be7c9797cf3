//! The real `dashboard` binary over a history store built by the real `ingest-history` from
//! the dev corpus (or part of it), on SQLite or a throwaway PostgreSQL server.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus};
use std::time::Duration;

use history_store::testkit::Database;

use super::http::{Resp, http};
use super::{Lines, spawn_read, wait_exit};

/// A store and what it was ingested from.
pub struct Store {
    /// The `--db` value (a SQLite path or a PostgreSQL URL with its password).
    pub db: String,
    /// The tree that was ingested (`--base-dir`).
    pub tree: PathBuf,
    _dir: Option<tempfile::TempDir>,
    _pg: Option<Database>,
}

/// Runs `ingest-history` over `tree` into `db` (exit 0, or 3 for the corpus's damaged
/// folders, is success).
pub fn ingest(tree: &Path, db: &str, only: &[&str]) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ingest-history"));
    cmd.arg(format!("--benchmark-dir={}", tree.display()))
        .arg(format!("--db={db}"))
        .env_remove("SGLCI_DB_URL")
        .env_remove("SGL_BENCHMARK_CI_DIR");
    for o in only {
        cmd.arg(format!("--only={o}"));
    }
    let ran = super::run(cmd, Duration::from_secs(600), "ingest-history");
    assert!(
        matches!(ran.code, Some(0 | 3)),
        "ingest-history failed: {}",
        ran.all()
    );
}

impl Store {
    /// The corpus (or the run folders `only` of it) in a new SQLite file.
    pub fn sqlite(only: &[&str]) -> Self {
        let tree = super::corpus("online_benchmark_log");
        let dir = tempfile::tempdir().unwrap();
        let db = dir.path().join("ci_history.sqlite").display().to_string();
        ingest(&tree, &db, only);
        Self {
            db,
            tree,
            _dir: Some(dir),
            _pg: None,
        }
    }

    /// The same in a new PostgreSQL database, or `None` when no server binaries are
    /// installed (a failure under SGLCI_REQUIRE_POSTGRES=1).
    pub fn postgres(only: &[&str]) -> Option<Self> {
        let pg = Database::start()?;
        let tree = super::corpus("online_benchmark_log");
        let db = pg.url();
        ingest(&tree, &db, only);
        Some(Self {
            db,
            tree,
            _dir: None,
            _pg: Some(pg),
        })
    }

    /// The same tree with another `--db` (a store that does not exist, say).
    pub fn with_db(mut self, db: String) -> Self {
        self.db = db;
        self
    }

    /// An empty store (schema, no runs): a tree with an empty run area ingested.
    pub fn empty() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let tree = dir.path().join("tree");
        std::fs::create_dir_all(tree.join("online_benchmark_log")).unwrap();
        let db = dir.path().join("ci_history.sqlite").display().to_string();
        ingest(&tree, &db, &[]);
        Self {
            db,
            tree,
            _dir: Some(dir),
            _pg: None,
        }
    }
}

/// A running `dashboard` on 127.0.0.1 and a free port.
pub struct Dashboard {
    child: Child,
    /// Its port.
    pub port: u16,
    /// Standard output lines.
    pub stdout: Lines,
    /// Standard error lines.
    pub stderr: Lines,
}

impl Dashboard {
    /// Starts the dashboard on `store` (plots tree: the corpus's `plot/`) with `extra` flags.
    pub fn start(store: &Store, extra: &[&str]) -> Self {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_dashboard"));
        cmd.arg("--host=127.0.0.1")
            .arg("--port=0")
            .arg(format!("--db={}", store.db))
            .arg(format!("--base-dir={}", store.tree.display()))
            .arg(format!("--plots-dir={}", store.tree.join("plot").display()))
            .args(extra)
            .env_remove("SGLCI_DB_URL")
            .env_remove("DASHBOARD_PORT")
            .env_remove("DASHBOARD_HOST");
        let (stdout, stderr) = (Lines::default(), Lines::default());
        let mut child = spawn_read(cmd, "dashboard", &stdout, &stderr);
        let marker = "(listening on 127.0.0.1:";
        let Some(line) = stdout.wait_for(marker, Duration::from_secs(30)) else {
            let _ = child.kill();
            panic!(
                "dashboard did not announce its port within 30 s; stderr:\n{}",
                stderr.text()
            );
        };
        let rest = &line[line.find(marker).unwrap_or(0) + marker.len()..];
        let n: String = rest.chars().take_while(char::is_ascii_digit).collect();
        Self {
            child,
            port: n.parse().expect("port in the start-up line"),
            stdout,
            stderr,
        }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// GET `path` exactly as given (no normalisation), 30 s at most.
    pub fn get(&self, path: &str) -> Resp {
        http(self.port, "GET", path, None, Duration::from_secs(30))
            .unwrap_or_else(|e| panic!("GET {path}: {e}"))
    }

    /// GET `path` and expect 200 with a body; returns the body as text.
    pub fn ok(&self, path: &str) -> String {
        let r = self.get(path);
        assert_eq!(r.status, 200, "GET {path}: {}", r.text());
        r.text()
    }

    /// Sends `sig` (`TERM`, `INT`).
    pub fn signal(&self, sig: &str) {
        super::signal(self.child.id(), sig);
    }

    /// Waits (bounded) for the process to exit.
    pub fn wait_exit(&mut self, limit: Duration) -> Option<ExitStatus> {
        wait_exit(&mut self.child, limit)
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

/// Percent-encodes a query value.
pub fn q(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}
