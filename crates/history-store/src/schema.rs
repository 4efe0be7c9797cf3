//! The schema: versioned migrations, the same SQL for SQLite and PostgreSQL (types both
//! understand: `TEXT`, `BIGINT`, `DOUBLE PRECISION`; flags are `BIGINT` 0/1; times are ISO
//! 8601 text). Applied in order, each once, under a lock, recorded in `schema_migrations`.
//! docs/history.md describes every table.

/// One migration.
#[derive(Debug, Clone, Copy)]
pub struct Migration {
    /// Version, strictly increasing from 1.
    pub version: i64,
    /// Short name.
    pub name: &'static str,
    /// Statements, separated by `;` at line ends.
    pub sql: &'static str,
}

/// Every migration, oldest first.
pub const MIGRATIONS: &[Migration] = &[
    Migration {
        version: 1,
        name: "runs, metrics, gsm8k, test_results, artifacts",
        sql: V1,
    },
    Migration {
        version: 2,
        name: "artifacts by path (the dashboard serves stored files only)",
        sql: V2,
    },
];

/// The latest schema version this build knows.
pub fn latest() -> i64 {
    MIGRATIONS.last().map_or(0, |m| m.version)
}

/// The bookkeeping table (created before any migration).
pub const MIGRATIONS_TABLE: &str = "CREATE TABLE IF NOT EXISTS schema_migrations (\
    version BIGINT PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)";

const V1: &str = "
CREATE TABLE runs (
    run_key TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    host TEXT NOT NULL,
    hardware TEXT,
    model TEXT,
    variant TEXT,
    mode TEXT,
    image_tag TEXT,
    image_date TEXT,
    night TEXT,
    fallback_image BIGINT NOT NULL,
    engine TEXT NOT NULL,
    started_at TEXT,
    ended_at TEXT,
    exit_status BIGINT,
    verdict TEXT,
    path TEXT NOT NULL,
    content_sha256 TEXT NOT NULL,
    ingested_at TEXT NOT NULL
);
CREATE INDEX runs_model_night ON runs (model, night);
CREATE INDEX runs_night ON runs (night);
CREATE TABLE metrics (
    run_key TEXT NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    load_kind TEXT NOT NULL,
    load TEXT NOT NULL,
    sample BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    text TEXT NOT NULL,
    unit TEXT NOT NULL,
    source_path TEXT NOT NULL,
    source_line BIGINT NOT NULL,
    source_sha256 TEXT NOT NULL,
    PRIMARY KEY (run_key, source_path, metric, load, sample)
);
CREATE INDEX metrics_series ON metrics (metric, load, sample);
CREATE TABLE gsm8k (
    run_key TEXT NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    subject TEXT NOT NULL,
    accuracy DOUBLE PRECISION NOT NULL,
    text TEXT NOT NULL,
    n BIGINT,
    n_unit TEXT,
    required DOUBLE PRECISION,
    passed BIGINT,
    source_path TEXT NOT NULL,
    source_line BIGINT NOT NULL,
    source_sha256 TEXT NOT NULL,
    PRIMARY KEY (run_key, subject, source_path)
);
CREATE TABLE test_results (
    run_key TEXT NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    suite TEXT NOT NULL,
    name TEXT NOT NULL,
    status TEXT NOT NULL,
    detail TEXT,
    value DOUBLE PRECISION,
    source_path TEXT NOT NULL,
    source_line BIGINT NOT NULL,
    source_sha256 TEXT NOT NULL,
    PRIMARY KEY (run_key, suite, name)
);
CREATE TABLE artifacts (
    run_key TEXT NOT NULL REFERENCES runs (run_key) ON DELETE CASCADE,
    path TEXT NOT NULL,
    kind TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    parsed TEXT NOT NULL,
    PRIMARY KEY (run_key, path)
)";

const V2: &str = "
CREATE INDEX artifacts_path ON artifacts (path)";

/// The statements of a migration.
pub fn statements(sql: &str) -> impl Iterator<Item = &str> {
    sql.split(";\n").map(str::trim).filter(|s| !s.is_empty())
}

/// Tables that hold a run's rows, children first (deleted in this order when a run is
/// replaced).
pub const CHILD_TABLES: [&str; 4] = ["metrics", "gsm8k", "test_results", "artifacts"];
