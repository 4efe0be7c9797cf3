//! Test support (feature `testkit`, tests and benches only): a throwaway PostgreSQL server — Debian's server binaries (`initdb`, `pg_ctl`),
//! run as the unprivileged user `nobody` when the tests run as root (initdb refuses root), in
//! a temporary folder, listening on a free 127.0.0.1 port with password (SCRAM) login, stopped
//! and removed on drop. Without the binaries the tests that need one print why and return,
//! except under SGLCI_REQUIRE_POSTGRES=1, where that is a failure.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::atomic::{AtomicU32, Ordering};

/// The test user's name and password.
pub const USER: &str = "sglci";
/// The password (tests of a wrong password use another).
pub const PASSWORD: &str = "sglci-test-pw";

fn find_bin(name: &str) -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("SGLCI_PG_BIN") {
        let p = PathBuf::from(dir).join(name);
        return p.is_file().then_some(p);
    }
    for dir in std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .unwrap_or_default()
    {
        let p = dir.join(name);
        if p.is_file() {
            return Some(p);
        }
    }
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .map(|rd| {
            rd.flatten()
                .map(|e| e.path().join("bin").join(name))
                .collect()
        })
        .unwrap_or_default();
    versions.sort();
    versions.into_iter().rev().find(|p| p.is_file())
}

/// A running server.
pub struct Server {
    dir: tempfile::TempDir,
    pg_ctl: PathBuf,
    /// The port on 127.0.0.1.
    pub port: u16,
    as_nobody: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

fn cmd(as_nobody: bool, program: &Path) -> Command {
    if as_nobody {
        let mut c = Command::new("runuser");
        c.args(["-u", "nobody", "--"]).arg(program);
        c
    } else {
        Command::new(program)
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts a server, or `None` (printed reason) when the binaries are missing and
    /// SGLCI_REQUIRE_POSTGRES is not 1.
    #[allow(clippy::print_stderr)]
    pub fn start() -> Option<Self> {
        let (Some(initdb), Some(pg_ctl)) = (find_bin("initdb"), find_bin("pg_ctl")) else {
            let msg = "PostgreSQL server binaries (initdb, pg_ctl) not found: install Debian's \
                       `postgresql` (.ci/setup does) or set SGLCI_PG_BIN";
            if std::env::var("SGLCI_REQUIRE_POSTGRES").as_deref() == Ok("1") {
                panic!("{msg} (SGLCI_REQUIRE_POSTGRES=1)");
            }
            eprintln!("skipping PostgreSQL test: {msg}");
            return None;
        };
        let as_nobody = is_root();
        let dir = tempfile::Builder::new()
            .prefix("sglci-pg-")
            .tempdir()
            .unwrap();
        let data = dir.path().join("data");
        let pwfile = dir.path().join("pw");
        std::fs::write(&pwfile, format!("{PASSWORD}\n")).unwrap();
        if as_nobody {
            let st = Command::new("chown")
                .args(["-R", "nobody"])
                .arg(dir.path())
                .status()
                .unwrap();
            assert!(st.success(), "chown of the PostgreSQL test folder failed");
        }
        let out = cmd(as_nobody, &initdb)
            .arg("-D")
            .arg(&data)
            .args([
                "-U",
                USER,
                "--auth=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ])
            .arg(format!("--pwfile={}", pwfile.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "initdb failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        for _ in 0..5 {
            let port = free_port();
            let opts = format!(
                "-c listen_addresses=127.0.0.1 -p {port} -k {} -c fsync=off -c max_connections=40",
                dir.path().display()
            );
            let st = cmd(as_nobody, &pg_ctl)
                .arg("-D")
                .arg(&data)
                .args(["-o", &opts, "-l"])
                .arg(dir.path().join("server.log"))
                .args(["-w", "-t", "30", "start"])
                .output()
                .unwrap();
            if st.status.success() {
                return Some(Self {
                    dir,
                    pg_ctl,
                    port,
                    as_nobody,
                });
            }
        }
        let log = std::fs::read_to_string(dir.path().join("server.log")).unwrap_or_default();
        panic!("PostgreSQL did not start: {log}");
    }

    /// A URL with `password` for database `db`.
    pub fn url_with(&self, password: &str, db: &str) -> String {
        format!("postgres://{USER}:{password}@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates a fresh database and returns its URL.
    pub fn create_db(&self) -> String {
        static N: AtomicU32 = AtomicU32::new(0);
        let name = format!(
            "t{}_{}",
            std::process::id(),
            N.fetch_add(1, Ordering::SeqCst)
        );
        let mut c =
            postgres::Client::connect(&self.url_with(PASSWORD, "postgres"), postgres::NoTls)
                .unwrap();
        c.batch_execute(&format!("CREATE DATABASE {name}")).unwrap();
        self.url_with(PASSWORD, &name)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = cmd(self.as_nobody, &self.pg_ctl)
            .arg("-D")
            .arg(self.dir.path().join("data"))
            .args(["-m", "immediate", "-w", "stop"])
            .output();
    }
}

/// A server with one database of its own.
pub struct Database {
    /// The server (stopped when this is dropped).
    pub server: Server,
    url: String,
}

impl Database {
    /// A new server and database, or `None` (see [`Server::start`]).
    pub fn start() -> Option<Self> {
        let server = Server::start()?;
        let url = server.create_db();
        Some(Self { server, url })
    }

    /// The database URL (with the password).
    pub fn url(&self) -> String {
        self.url.clone()
    }
}
