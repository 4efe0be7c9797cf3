//! Where the store is: a SQLite file (the default, one node) or a PostgreSQL server (a fleet),
//! from `--db`, `SGLCI_DB_URL` or the default file under the benchmark folder. Passwords never
//! leave this module unmasked except towards the server.

use std::fmt;
use std::path::{Path, PathBuf};

use crate::error::StoreError;

/// The variable that names the store when `--db` is not given.
pub const DB_URL_ENV: &str = "SGLCI_DB_URL";

/// The default SQLite file below the benchmark folder (`$SGL_BENCHMARK_CI_DIR`).
pub const DEFAULT_SQLITE: &str = "database/ci_history.sqlite";

/// A store location.
#[derive(Clone, PartialEq, Eq)]
pub enum Location {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL connection URL (`postgres://` or `postgresql://`), kept private so it is
    /// only ever shown masked.
    Postgres(PgUrl),
}

/// A PostgreSQL URL whose password is never displayed.
#[derive(Clone, PartialEq, Eq)]
pub struct PgUrl(String);

impl PgUrl {
    /// The URL for the client library (may hold the password).
    pub(crate) fn raw(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&mask_url(&self.0))
    }
}

impl fmt::Debug for PgUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PgUrl({self})")
    }
}

impl fmt::Display for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "{}", p.display()),
            Self::Postgres(u) => write!(f, "{u}"),
        }
    }
}

impl fmt::Debug for Location {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Sqlite(p) => write!(f, "Sqlite({})", p.display()),
            Self::Postgres(u) => write!(f, "Postgres({u})"),
        }
    }
}

impl Location {
    /// Parses `--db` / `SGLCI_DB_URL`: `postgres://…`, `postgresql://…`, `sqlite://PATH`,
    /// `sqlite:PATH` or a plain file path.
    pub fn parse(text: &str) -> Result<Self, StoreError> {
        let t = text.trim();
        if t.is_empty() {
            return Err(StoreError::BadUrl {
                url: String::new(),
                reason: "empty".into(),
            });
        }
        if t.starts_with("postgres://") || t.starts_with("postgresql://") {
            let pg = PgUrl(t.to_owned());
            if t.parse::<postgres::Config>().is_err() {
                return Err(StoreError::BadUrl {
                    url: pg.to_string(),
                    reason: "not a valid PostgreSQL connection URL".into(),
                });
            }
            return Ok(Self::Postgres(pg));
        }
        if let Some(p) = t
            .strip_prefix("sqlite://")
            .or_else(|| t.strip_prefix("sqlite:"))
        {
            if p.is_empty() {
                return Err(StoreError::BadUrl {
                    url: t.to_owned(),
                    reason: "no file path after sqlite:".into(),
                });
            }
            return Ok(Self::Sqlite(PathBuf::from(p)));
        }
        if let Some((scheme, _)) = t.split_once("://") {
            return Err(StoreError::BadUrl {
                url: mask_url(t),
                reason: format!("unknown scheme {scheme:?}"),
            });
        }
        Ok(Self::Sqlite(PathBuf::from(t)))
    }

    /// The store to use: `flag`, else `SGLCI_DB_URL` (empty counts as unset), else
    /// `<base>/database/ci_history.sqlite`.
    pub fn resolve(flag: Option<&str>, base: &Path) -> Result<Self, StoreError> {
        if let Some(f) = flag {
            return Self::parse(f);
        }
        match std::env::var(DB_URL_ENV) {
            Ok(v) if !v.trim().is_empty() => Self::parse(&v),
            _ => Ok(Self::Sqlite(base.join(DEFAULT_SQLITE))),
        }
    }

    /// For the nightly binaries: the store to ingest into at the end of a night, when one is
    /// configured: `flag`, `SGLCI_DB_URL`, or the default SQLite file when it already exists.
    /// `Ok(None)`: nothing configured, nothing to do.
    pub fn configured(flag: Option<&str>, base: &Path) -> Result<Option<Self>, StoreError> {
        let explicit =
            flag.is_some() || std::env::var(DB_URL_ENV).is_ok_and(|v| !v.trim().is_empty());
        let loc = Self::resolve(flag, base)?;
        Ok(match &loc {
            Self::Sqlite(p) if !explicit && !p.exists() => None,
            _ => Some(loc),
        })
    }

    /// `sqlite` or `postgres`.
    pub fn backend_name(&self) -> &'static str {
        match self {
            Self::Sqlite(_) => "sqlite",
            Self::Postgres(_) => "postgres",
        }
    }
}

/// Masks the password of a URL (`scheme://user:secret@host` → `scheme://user:***@host`) and any
/// `password=` query or key-value parameter.
pub fn mask_url(url: &str) -> String {
    let mut out = url.to_owned();
    if let Some(scheme_end) = out.find("://") {
        let rest_start = scheme_end + 3;
        let auth_end = out[rest_start..]
            .find(['/', '?'])
            .map_or(out.len(), |i| rest_start + i);
        if let Some(at) = out[rest_start..auth_end].rfind('@') {
            let at = rest_start + at;
            if let Some(colon) = out[rest_start..at].find(':') {
                out.replace_range(rest_start + colon + 1..at, "***");
            }
        }
    }
    let lower = out.to_ascii_lowercase();
    if let Some(i) = lower.find("password=") {
        let start = i + "password=".len();
        let end = out[start..]
            .find(['&', ' '])
            .map_or(out.len(), |j| start + j);
        out.replace_range(start..end, "***");
    }
    report::redact::redact(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwords_are_masked() {
        assert_eq!(
            mask_url("postgres://ci:example-pw@db.example:5432/history"),
            "postgres://ci:***@db.example:5432/history"
        );
        assert_eq!(
            mask_url("postgresql://ci@localhost/h?password=example-pw&sslmode=disable"),
            "postgresql://ci@localhost/h?password=***&sslmode=disable"
        );
        let l = Location::parse("postgres://u:pw@127.0.0.1:1/x").unwrap();
        assert!(!format!("{l} {l:?}").contains("pw@"), "{l:?}");
    }

    #[test]
    fn urls_and_paths() {
        assert_eq!(
            Location::parse("sqlite:///tmp/h.sqlite").unwrap(),
            Location::Sqlite("/tmp/h.sqlite".into())
        );
        assert_eq!(
            Location::parse("h.sqlite").unwrap(),
            Location::Sqlite("h.sqlite".into())
        );
        let e = Location::parse("mysql://u:topsecret@h/db")
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("unknown scheme") && !e.contains("topsecret"),
            "{e}"
        );
        assert!(Location::parse("").is_err());
    }
}
