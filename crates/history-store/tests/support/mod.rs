//! Test support: the corpus, a throwaway PostgreSQL server, and a store per backend.
#![allow(dead_code)]

pub use history_store::testkit as pg;

use std::path::{Path, PathBuf};

use history_store::{Location, Store};

/// The corpus root (fails naming SGLCI_CORPUS when missing).
pub fn corpus() -> PathBuf {
    match report::corpus::require("online_benchmark_log") {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    }
}

/// Which backend a test runs against.
pub enum Backend {
    /// A SQLite file in a temporary folder.
    Sqlite(tempfile::TempDir),
    /// A fresh database on a throwaway server.
    Postgres(pg::Database),
}

impl Backend {
    /// A SQLite store in a new temporary folder.
    pub fn sqlite() -> Self {
        Self::Sqlite(tempfile::tempdir().unwrap())
    }

    /// The location (`--db` value).
    pub fn location(&self) -> Location {
        match self {
            Self::Sqlite(d) => Location::Sqlite(d.path().join("ci_history.sqlite")),
            Self::Postgres(db) => Location::parse(&db.url()).unwrap(),
        }
    }

    /// The `--db` text.
    pub fn url(&self) -> String {
        match self {
            Self::Sqlite(d) => d.path().join("ci_history.sqlite").display().to_string(),
            Self::Postgres(db) => db.url(),
        }
    }

    /// Opens the store for writing.
    pub fn open(&self) -> Store {
        Store::open(&self.location()).unwrap()
    }
}

/// Copies a tree (files and folders) to `to`, making every file writable.
pub fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let e = e.unwrap();
        let p = e.path();
        let t = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
            let mut perm = std::fs::metadata(&t).unwrap().permissions();
            #[allow(clippy::permissions_set_readonly_false)]
            perm.set_readonly(false);
            std::fs::set_permissions(&t, perm).unwrap();
        }
    }
}

/// `SELECT count(*) FROM <table>`.
pub fn count(store: &mut Store, table: &str) -> i64 {
    store
        .query(&format!("SELECT count(*) FROM {table}"), &[])
        .unwrap()
        .rows[0][0]
        .as_i64()
        .unwrap()
}
