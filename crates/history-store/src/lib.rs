//! The history store: every nightly result in one database — SQLite embedded (bundled, no
//! system library) for one node, PostgreSQL for a fleet of nodes writing at once — with one
//! versioned schema for both.
//!
//! * [`ingest`]: walk a benchmark tree or a log-branch checkout, parse every run with
//!   metrics-parse, store it with provenance (file, line, SHA-256); idempotent per run.
//! * [`query`]: named read-only reports and `--sql`.
//! * [`Store`]: the two backends; [`Location`]: where the store is (`--db`, `SGLCI_DB_URL`,
//!   `$SGL_BENCHMARK_CI_DIR/database/ci_history.sqlite`).
//!
//! This crate knows no orchestration: it never uses sglang-runner or docker-ctl.

pub mod db;
pub mod error;
pub mod extract;
pub mod ingest;
pub mod location;
pub mod model;
pub mod query;
pub mod scan;
pub mod schema;
#[cfg(feature = "testkit")]
pub mod testkit;

pub use db::{Capped, ReadLimits, Rows, Store, Value};
pub use error::{IngestError, StoreError};
pub use ingest::{IngestOptions, IngestSummary, ingest, ingest_paths};
pub use location::Location;

/// Now, UTC, ISO 8601 (the `ingested_at` / `applied_at` stamps).
pub(crate) fn now_utc() -> String {
    chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ").to_string()
}
