//! The two backends behind one small interface: open (creating and migrating the schema),
//! run a statement, query rows, and run a closure in one transaction. SQLite runs in WAL mode
//! with a busy timeout and takes its write lock up front (`BEGIN IMMEDIATE`), so an ingest and
//! readers never block each other for long and two writers queue instead of failing;
//! PostgreSQL serialises migrations with an advisory lock.

use std::time::Duration;

use crate::error::StoreError;
use crate::location::Location;
use crate::schema;

/// How long a SQLite writer waits for another writer's lock before giving up.
pub const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(60);

/// Runs `op` again while SQLite answers "database is locked" / "busy" without having waited
/// (statements such as `PRAGMA journal_mode` do not call the busy handler), for at most
/// [`SQLITE_BUSY_TIMEOUT`], with a short growing pause between tries.
fn retry_while_busy<T>(mut op: impl FnMut() -> rusqlite::Result<T>) -> rusqlite::Result<T> {
    let start = std::time::Instant::now();
    let mut pause = Duration::from_millis(5);
    loop {
        match op() {
            Err(e)
                if matches!(
                    e.sqlite_error_code(),
                    Some(rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked)
                ) && start.elapsed() < SQLITE_BUSY_TIMEOUT =>
            {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(200));
            }
            other => return other,
        }
    }
}
/// How long connecting to PostgreSQL may take.
pub const PG_CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// The longest one PostgreSQL statement may run (lock waits included).
pub const PG_STATEMENT_TIMEOUT_MS: u64 = 120_000;
/// The advisory lock key that serialises migrations on a PostgreSQL server.
const PG_MIGRATION_LOCK: i64 = 0x5347_4c43_4869_7374;

/// One value of a row or a parameter.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// SQL NULL.
    Null,
    /// An integer.
    Int(i64),
    /// A floating-point number.
    Real(f64),
    /// Text.
    Text(String),
}

impl Value {
    /// Text, or the value rendered as text; `None` for NULL.
    pub fn as_text(&self) -> Option<String> {
        match self {
            Self::Null => None,
            Self::Int(i) => Some(i.to_string()),
            Self::Real(f) => Some(f.to_string()),
            Self::Text(s) => Some(s.clone()),
        }
    }

    /// An integer value.
    pub fn as_i64(&self) -> Option<i64> {
        match self {
            Self::Int(i) => Some(*i),
            _ => None,
        }
    }

    /// A number.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Self::Int(i) => Some(*i as f64),
            Self::Real(f) => Some(*f),
            _ => None,
        }
    }
}

impl From<&str> for Value {
    fn from(s: &str) -> Self {
        Self::Text(s.to_owned())
    }
}
impl From<String> for Value {
    fn from(s: String) -> Self {
        Self::Text(s)
    }
}
impl From<i64> for Value {
    fn from(i: i64) -> Self {
        Self::Int(i)
    }
}
impl From<f64> for Value {
    fn from(f: f64) -> Self {
        Self::Real(f)
    }
}
impl<T: Into<Value>> From<Option<T>> for Value {
    fn from(o: Option<T>) -> Self {
        o.map_or(Self::Null, Into::into)
    }
}

/// A query's result: column names and rows.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Rows {
    /// Column names in order.
    pub columns: Vec<String>,
    /// Rows, each as long as `columns`.
    pub rows: Vec<Vec<Value>>,
}

enum Conn {
    Sqlite(rusqlite::Connection),
    Pg(Box<postgres::Client>),
}

/// An open store.
pub struct Store {
    conn: Conn,
    location: Location,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Store({:?})", self.location)
    }
}

fn sql_err(context: &str) -> impl Fn(rusqlite::Error) -> StoreError + '_ {
    move |e| StoreError::Sql {
        context: context.to_owned(),
        reason: e.to_string(),
    }
}

fn pg_reason(e: &postgres::Error) -> String {
    match e.as_db_error() {
        Some(d) => format!("{} ({})", d.message(), d.code().code()),
        None => {
            let mut s = e.to_string();
            let mut cur = std::error::Error::source(e);
            while let Some(c) = cur {
                let t = c.to_string();
                if !s.contains(&t) {
                    s.push_str(": ");
                    s.push_str(&t);
                }
                cur = c.source();
            }
            s
        }
    }
}

fn pg_err(context: &str) -> impl Fn(postgres::Error) -> StoreError + '_ {
    move |e| StoreError::Sql {
        context: context.to_owned(),
        reason: pg_reason(&e),
    }
}

impl Store {
    /// Opens the store for writing: creates the SQLite file (and its folder) when missing and
    /// applies pending migrations.
    pub fn open(location: &Location) -> Result<Self, StoreError> {
        let mut store = Self::connect(location, false)?;
        store.migrate()?;
        Ok(store)
    }

    /// Opens an existing store read-only (SQLite: read-only file handle and `query_only`;
    /// PostgreSQL: every statement in a `READ ONLY` transaction). Never creates or migrates.
    pub fn open_read_only(location: &Location) -> Result<Self, StoreError> {
        let mut store = Self::connect(location, true)?;
        let v = store.schema_version()?;
        if v > schema::latest() {
            return Err(StoreError::TooNew {
                url: location.to_string(),
                found: v,
                known: schema::latest(),
            });
        }
        Ok(store)
    }

    fn connect(location: &Location, read_only: bool) -> Result<Self, StoreError> {
        let conn = match location {
            Location::Sqlite(path) => {
                let open_err = |e: rusqlite::Error| StoreError::Open {
                    url: path.display().to_string(),
                    reason: e.to_string(),
                };
                let c = if read_only {
                    if !path.is_file() {
                        return Err(StoreError::Missing(path.clone()));
                    }
                    rusqlite::Connection::open_with_flags(
                        path,
                        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY
                            | rusqlite::OpenFlags::SQLITE_OPEN_NO_MUTEX,
                    )
                    .map_err(open_err)?
                } else {
                    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
                        std::fs::create_dir_all(dir).map_err(|e| StoreError::Open {
                            url: path.display().to_string(),
                            reason: format!("cannot create {}: {e}", dir.display()),
                        })?;
                    }
                    rusqlite::Connection::open(path).map_err(open_err)?
                };
                c.busy_timeout(SQLITE_BUSY_TIMEOUT).map_err(open_err)?;
                if read_only {
                    c.execute_batch("PRAGMA query_only = ON")
                        .map_err(open_err)?;
                } else {
                    // journal_mode returns a row; query it rather than execute. Switching a
                    // new file to WAL while another process opens it can answer "database is
                    // locked" at once, without SQLite's busy handler: retried until the busy
                    // timeout, as any other wait for a lock.
                    let mode: String = retry_while_busy(|| {
                        c.query_row("PRAGMA journal_mode = WAL", [], |r| r.get(0))
                    })
                    .map_err(open_err)?;
                    if !mode.eq_ignore_ascii_case("wal") {
                        return Err(StoreError::Open {
                            url: path.display().to_string(),
                            reason: format!("cannot switch to WAL mode (journal mode {mode})"),
                        });
                    }
                    retry_while_busy(|| {
                        c.execute_batch("PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON")
                    })
                    .map_err(open_err)?;
                }
                Conn::Sqlite(c)
            }
            Location::Postgres(url) => {
                let mut cfg: postgres::Config =
                    url.raw().parse().map_err(|_| StoreError::BadUrl {
                        url: url.to_string(),
                        reason: "not a valid PostgreSQL connection URL".into(),
                    })?;
                if cfg.get_connect_timeout().is_none() {
                    cfg.connect_timeout(PG_CONNECT_TIMEOUT);
                }
                cfg.application_name("sglang-ci history-store");
                let mut client = cfg.connect(postgres::NoTls).map_err(|e| {
                    let auth = e
                        .as_db_error()
                        .is_some_and(|d| matches!(d.code().code(), "28P01" | "28000"));
                    if auth {
                        StoreError::Auth {
                            url: url.to_string(),
                        }
                    } else {
                        StoreError::Open {
                            url: url.to_string(),
                            reason: report::redact::redact(&pg_reason(&e)).into_owned(),
                        }
                    }
                })?;
                let mut setup = format!(
                    "SET statement_timeout = {PG_STATEMENT_TIMEOUT_MS}; SET client_min_messages = warning"
                );
                if read_only {
                    setup.push_str("; SET default_transaction_read_only = on");
                }
                client
                    .batch_execute(&setup)
                    .map_err(pg_err("session set-up"))?;
                Conn::Pg(Box::new(client))
            }
        };
        Ok(Self {
            conn,
            location: location.clone(),
        })
    }

    /// Where this store is.
    pub fn location(&self) -> &Location {
        &self.location
    }

    /// The applied schema version (0: empty database).
    pub fn schema_version(&mut self) -> Result<i64, StoreError> {
        let exists = match &mut self.conn {
            Conn::Sqlite(c) => c
                .query_row(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_migrations'",
                    [],
                    |r| r.get::<_, i64>(0),
                )
                .map_err(sql_err("reading the schema version"))?
                > 0,
            Conn::Pg(c) => {
                let r = c
                    .query_one("SELECT to_regclass('schema_migrations') IS NOT NULL", &[])
                    .map_err(pg_err("reading the schema version"))?;
                r.get::<_, bool>(0)
            }
        };
        if !exists {
            return Ok(0);
        }
        let rows = self.query("SELECT max(version) FROM schema_migrations", &[])?;
        Ok(rows
            .rows
            .first()
            .and_then(|r| r.first())
            .and_then(Value::as_i64)
            .unwrap_or(0))
    }

    fn migrate(&mut self) -> Result<(), StoreError> {
        let url = self.location.to_string();
        self.transaction(|tx| {
            if let Tx::Pg(t) = tx {
                t.execute("SELECT pg_advisory_xact_lock($1)", &[&PG_MIGRATION_LOCK])
                    .map_err(pg_err("taking the migration lock"))?;
            }
            tx.exec(schema::MIGRATIONS_TABLE, &[])?;
            let current = tx
                .query("SELECT max(version) FROM schema_migrations", &[])?
                .rows
                .first()
                .and_then(|r| r.first())
                .and_then(Value::as_i64)
                .unwrap_or(0);
            if current > schema::latest() {
                return Err(StoreError::TooNew {
                    url: url.clone(),
                    found: current,
                    known: schema::latest(),
                });
            }
            for m in schema::MIGRATIONS.iter().filter(|m| m.version > current) {
                for stmt in schema::statements(m.sql) {
                    tx.exec(stmt, &[]).map_err(|e| StoreError::Sql {
                        context: format!("migration {} ({})", m.version, m.name),
                        reason: e.to_string(),
                    })?;
                }
                tx.exec(
                    "INSERT INTO schema_migrations (version, name, applied_at) VALUES ($1, $2, $3)",
                    &[m.version.into(), m.name.into(), crate::now_utc().into()],
                )?;
            }
            Ok(())
        })
    }

    /// Runs `sql` with `params` (`$1`, `$2`, … in order of first use) and returns its rows.
    pub fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => sqlite_query(c, sql, params),
            Conn::Pg(c) => pg_query_read(c, sql, params),
        }
    }

    /// Runs a user's statement read-only: exactly one statement, and a statement that would
    /// write fails (SQLite: `query_only`, which stays on for this connection; PostgreSQL: a
    /// `READ ONLY` transaction that is rolled back).
    pub fn query_read_only(&mut self, sql: &str) -> Result<Rows, StoreError> {
        let sql = one_statement(sql)?;
        match &mut self.conn {
            Conn::Sqlite(c) => {
                c.execute_batch("PRAGMA query_only = ON")
                    .map_err(sql_err("--sql"))?;
                drop(sqlite_prepare_read_only(c, sql)?);
                sqlite_query(c, sql, &[]).map_err(|e| match e {
                    StoreError::Sql { reason, .. } => StoreError::Sql {
                        context: "--sql".into(),
                        reason,
                    },
                    e => e,
                })
            }
            Conn::Pg(c) => {
                let mut t = c
                    .build_transaction()
                    .read_only(true)
                    .start()
                    .map_err(pg_err("--sql"))?;
                let rows = pg_query(&mut t, sql, &[]).map_err(pg_read_only_err)?;
                t.rollback().map_err(pg_err("--sql"))?;
                Ok(rows)
            }
        }
    }

    /// Runs `f` in one transaction: committed when `f` returns `Ok`, rolled back otherwise.
    /// SQLite takes the write lock at the start (`BEGIN IMMEDIATE`).
    pub(crate) fn transaction<T>(
        &mut self,
        f: impl FnOnce(&mut Tx<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(c) => {
                let t = c
                    .transaction_with_behavior(rusqlite::TransactionBehavior::Immediate)
                    .map_err(sql_err("starting a transaction"))?;
                let mut tx = Tx::Sqlite(t);
                let out = f(&mut tx)?;
                match tx {
                    Tx::Sqlite(t) => t.commit().map_err(sql_err("committing"))?,
                    Tx::Pg(_) => unreachable!(),
                }
                Ok(out)
            }
            Conn::Pg(c) => {
                let t = c.transaction().map_err(pg_err("starting a transaction"))?;
                let mut tx = Tx::Pg(t);
                let out = f(&mut tx)?;
                match tx {
                    Tx::Pg(t) => t.commit().map_err(pg_err("committing"))?,
                    Tx::Sqlite(_) => unreachable!(),
                }
                Ok(out)
            }
        }
    }
}

/// An open transaction.
pub(crate) enum Tx<'a> {
    Sqlite(rusqlite::Transaction<'a>),
    Pg(postgres::Transaction<'a>),
}

impl Tx<'_> {
    /// Runs one statement; returns the number of rows changed.
    pub(crate) fn exec(&mut self, sql: &str, params: &[Value]) -> Result<u64, StoreError> {
        match self {
            Tx::Sqlite(t) => {
                let mut stmt = t.prepare_cached(sql).map_err(sql_err("preparing"))?;
                let n = stmt
                    .execute(rusqlite::params_from_iter(params.iter()))
                    .map_err(sql_err("writing"))?;
                Ok(n as u64)
            }
            Tx::Pg(t) => {
                let p: Vec<&(dyn postgres::types::ToSql + Sync)> =
                    params.iter().map(|v| v as _).collect();
                t.execute(sql, &p).map_err(pg_err("writing"))
            }
        }
    }

    /// Runs a query.
    pub(crate) fn query(&mut self, sql: &str, params: &[Value]) -> Result<Rows, StoreError> {
        match self {
            Tx::Sqlite(t) => sqlite_query(t, sql, params),
            Tx::Pg(t) => pg_query(t, sql, params),
        }
    }

    /// Inserts `rows` into `table` in multi-row statements.
    pub(crate) fn insert(
        &mut self,
        table: &str,
        columns: &[&str],
        rows: &[Vec<Value>],
    ) -> Result<(), StoreError> {
        const CHUNK: usize = 400;
        for chunk in rows.chunks(CHUNK) {
            let mut sql = format!("INSERT INTO {table} ({}) VALUES ", columns.join(", "));
            let mut n = 0;
            for (i, _) in chunk.iter().enumerate() {
                if i > 0 {
                    sql.push_str(", ");
                }
                sql.push('(');
                for c in 0..columns.len() {
                    if c > 0 {
                        sql.push_str(", ");
                    }
                    n += 1;
                    sql.push('$');
                    sql.push_str(&n.to_string());
                }
                sql.push(')');
            }
            let params: Vec<Value> = chunk.iter().flatten().cloned().collect();
            self.exec(&sql, &params).map_err(|e| match e {
                StoreError::Sql { reason, .. } => StoreError::Sql {
                    context: format!("inserting into {table}"),
                    reason,
                },
                e => e,
            })?;
        }
        Ok(())
    }
}

impl rusqlite::ToSql for Value {
    fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
        use rusqlite::types::{ToSqlOutput, ValueRef};
        Ok(match self {
            Value::Null => ToSqlOutput::Borrowed(ValueRef::Null),
            Value::Int(i) => ToSqlOutput::Borrowed(ValueRef::Integer(*i)),
            Value::Real(f) => ToSqlOutput::Borrowed(ValueRef::Real(*f)),
            Value::Text(s) => ToSqlOutput::Borrowed(ValueRef::Text(s.as_bytes())),
        })
    }
}

fn sqlite_query(c: &rusqlite::Connection, sql: &str, params: &[Value]) -> Result<Rows, StoreError> {
    let mut stmt = c
        .prepare_cached(sql)
        .map_err(sql_err("preparing a query"))?;
    let columns: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let n = columns.len();
    let mut rows = stmt
        .query(rusqlite::params_from_iter(params.iter()))
        .map_err(sql_err("querying"))?;
    let mut out = Vec::new();
    while let Some(r) = rows.next().map_err(sql_err("querying"))? {
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(sqlite_value(
                r.get_ref(i).map_err(sql_err("reading a row"))?,
            ));
        }
        out.push(row);
    }
    Ok(Rows { columns, rows: out })
}

fn pg_query_read(
    c: &mut postgres::Client,
    sql: &str,
    params: &[Value],
) -> Result<Rows, StoreError> {
    let mut t = c.transaction().map_err(pg_err("querying"))?;
    let rows = pg_query(&mut t, sql, params)?;
    t.commit().map_err(pg_err("querying"))?;
    Ok(rows)
}

fn pg_query(
    t: &mut postgres::Transaction<'_>,
    sql: &str,
    params: &[Value],
) -> Result<Rows, StoreError> {
    let stmt = t.prepare(sql).map_err(pg_err("preparing a query"))?;
    let columns: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
    let p: Vec<&(dyn postgres::types::ToSql + Sync)> = params.iter().map(|v| v as _).collect();
    let rows = t.query(&stmt, &p).map_err(pg_err("querying"))?;
    let mut out = Vec::with_capacity(rows.len());
    for r in rows {
        let mut row = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            row.push(r.try_get::<_, Value>(i).map_err(pg_err("reading a row"))?);
        }
        out.push(row);
    }
    Ok(Rows { columns, rows: out })
}

mod pg_types {
    use std::error::Error;

    use bytes::BytesMut;
    use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};

    use super::Value;

    type BoxErr = Box<dyn Error + Sync + Send>;

    impl ToSql for Value {
        fn to_sql(&self, ty: &Type, out: &mut BytesMut) -> Result<IsNull, BoxErr> {
            match self {
                Value::Null => Ok(IsNull::Yes),
                Value::Int(i) => match *ty {
                    Type::INT2 => i16::try_from(*i)?.to_sql(ty, out),
                    Type::INT4 => i32::try_from(*i)?.to_sql(ty, out),
                    Type::FLOAT8 => (*i as f64).to_sql(ty, out),
                    Type::TEXT | Type::VARCHAR => i.to_string().to_sql(ty, out),
                    _ => i.to_sql(ty, out),
                },
                Value::Real(f) => match *ty {
                    Type::FLOAT4 => (*f as f32).to_sql(ty, out),
                    Type::TEXT | Type::VARCHAR => f.to_string().to_sql(ty, out),
                    _ => f.to_sql(ty, out),
                },
                Value::Text(s) => s.as_str().to_sql(ty, out),
            }
        }

        fn accepts(_: &Type) -> bool {
            true
        }

        to_sql_checked!();
    }

    impl<'a> FromSql<'a> for Value {
        fn from_sql(ty: &Type, raw: &'a [u8]) -> Result<Self, BoxErr> {
            Ok(match *ty {
                Type::BOOL => Value::Int(i64::from(bool::from_sql(ty, raw)?)),
                Type::INT2 => Value::Int(i16::from_sql(ty, raw)?.into()),
                Type::INT4 => Value::Int(i32::from_sql(ty, raw)?.into()),
                Type::INT8 => Value::Int(i64::from_sql(ty, raw)?),
                Type::OID => Value::Int(u32::from_sql(ty, raw)?.into()),
                Type::FLOAT4 => Value::Real(f32::from_sql(ty, raw)?.into()),
                Type::FLOAT8 => Value::Real(f64::from_sql(ty, raw)?),
                Type::NUMERIC => Value::Real(numeric(raw)?),
                Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN => {
                    Value::Text(String::from_sql(ty, raw)?)
                }
                _ => {
                    return Err(format!(
                        "column type {} is not supported here: cast it to text (`expr::text`)",
                        ty.name()
                    )
                    .into());
                }
            })
        }

        fn from_sql_null(_: &Type) -> Result<Self, BoxErr> {
            Ok(Value::Null)
        }

        fn accepts(_: &Type) -> bool {
            true
        }
    }

    /// PostgreSQL's binary NUMERIC: ndigits, weight, sign, dscale, then base-10000 digits.
    fn numeric(raw: &[u8]) -> Result<f64, BoxErr> {
        let word = |i: usize| -> Result<u16, BoxErr> {
            raw.get(i..i + 2)
                .map(|b| u16::from_be_bytes([b[0], b[1]]))
                .ok_or_else(|| "short NUMERIC value".into())
        };
        let ndigits = word(0)? as usize;
        let weight = word(2)? as i16;
        let sign = word(4)?;
        if sign == 0xC000 {
            return Ok(f64::NAN);
        }
        let mut v = 0.0f64;
        for i in 0..ndigits {
            let d = f64::from(word(8 + 2 * i)?);
            v += d * 10000f64.powi(i32::from(weight) - i as i32);
        }
        Ok(if sign == 0x4000 { -v } else { v })
    }
}

/// Limits of a user's read-only statement ([`Store::query_read_only_capped`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadLimits {
    /// At most this many rows are returned ([`Capped::truncated`] says when there were more).
    pub max_rows: usize,
    /// The statement is cut when it runs longer than this.
    pub timeout: Duration,
}

/// The rows of a capped read-only statement.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Capped {
    /// Columns and at most `max_rows` rows.
    pub rows: Rows,
    /// The statement had more rows than `max_rows`.
    pub truncated: bool,
}

/// PRAGMAs the explorer may run on SQLite: the read-only introspection ones, with a table
/// or index name as their argument where they take one.
const EXPLORER_PRAGMAS: &[&str] = &[
    "table_info",
    "table_xinfo",
    "table_list",
    "index_list",
    "index_info",
    "index_xinfo",
    "foreign_key_list",
    "compile_options",
    "data_version",
    "schema_version",
    "user_version",
    "page_count",
    "page_size",
];

/// What the explorer's SQLite authorizer allows: reading (SELECT, table reads, functions,
/// recursive CTEs) and the PRAGMAs of [`EXPLORER_PRAGMAS`] without an assignment; anything
/// else (writes, schema changes, ATTACH/DETACH, transactions, other PRAGMAs) is denied and
/// named in `denied`.
fn explorer_authorizer(
    denied: std::sync::Arc<std::sync::Mutex<Option<String>>>,
) -> impl for<'r> FnMut(rusqlite::hooks::AuthContext<'r>) -> rusqlite::hooks::Authorization
+ Send
+ 'static {
    use rusqlite::hooks::{AuthAction, Authorization};
    move |ctx| {
        let why = match ctx.action {
            AuthAction::Select | AuthAction::Read { .. } | AuthAction::Recursive => {
                return Authorization::Allow;
            }
            AuthAction::Function { function_name } => {
                if function_name.eq_ignore_ascii_case("load_extension") {
                    "load_extension()".to_owned()
                } else {
                    return Authorization::Allow;
                }
            }
            AuthAction::Pragma {
                pragma_name,
                pragma_value,
            } => {
                let name = pragma_name.to_ascii_lowercase();
                let takes_name = name.starts_with("table_")
                    || name.starts_with("index_")
                    || name == "foreign_key_list";
                if EXPLORER_PRAGMAS.contains(&name.as_str())
                    && (pragma_value.is_none() || takes_name)
                {
                    return Authorization::Allow;
                }
                match pragma_value {
                    Some(v) => format!("PRAGMA {pragma_name} = {v}"),
                    None => format!("PRAGMA {pragma_name}"),
                }
            }
            AuthAction::Attach { .. } => "ATTACH".to_owned(),
            AuthAction::Detach { .. } => "DETACH".to_owned(),
            AuthAction::Insert { table_name }
            | AuthAction::Update { table_name, .. }
            | AuthAction::Delete { table_name }
                if table_name.starts_with("sqlite_") =>
            {
                "changing the schema (CREATE, DROP, ALTER)".to_owned()
            }
            AuthAction::Insert { table_name } => format!("INSERT into {table_name}"),
            AuthAction::Update { table_name, .. } => format!("UPDATE of {table_name}"),
            AuthAction::Delete { table_name } => format!("DELETE from {table_name}"),
            AuthAction::DropTable { table_name } | AuthAction::DropTempTable { table_name } => {
                format!("DROP TABLE {table_name}")
            }
            AuthAction::Transaction { .. } | AuthAction::Savepoint { .. } => {
                "a transaction statement".to_owned()
            }
            other => format!("{other:?}"),
        };
        if let Ok(mut d) = denied.lock() {
            d.get_or_insert(why);
        }
        Authorization::Deny
    }
}

/// The first words of the statements the explorer runs on PostgreSQL.
const PG_EXPLORER_FIRST_WORDS: &[&str] = &["SELECT", "WITH", "VALUES", "TABLE", "EXPLAIN", "SHOW"];

/// The first word of `sql`, after white space, comments and opening parentheses.
fn first_word(sql: &str) -> &str {
    let mut s = sql;
    loop {
        let t = s.trim_start().trim_start_matches('(');
        if let Some(rest) = t.strip_prefix("--") {
            s = rest.split_once('\n').map_or("", |(_, r)| r);
        } else if let Some(rest) = t.strip_prefix("/*") {
            s = rest.split_once("*/").map_or("", |(_, r)| r);
        } else if t.len() != s.len() {
            s = t;
        } else {
            break;
        }
    }
    let end = s
        .find(|c: char| !c.is_ascii_alphabetic())
        .unwrap_or(s.len());
    &s[..end]
}

fn timed_out(limits: &ReadLimits) -> StoreError {
    StoreError::Sql {
        context: "--sql".into(),
        reason: format!(
            "cut after {:.1} s: the statement ran past the time limit",
            limits.timeout.as_secs_f64()
        ),
    }
}

impl Store {
    /// A token that changes whenever another connection commits a change to the store
    /// (SQLite: `PRAGMA data_version`; PostgreSQL: the server's current snapshot, which moves
    /// with every transaction that writes). Equal tokens from this connection mean nothing
    /// was committed in between, so a result computed at the first is still current.
    pub fn change_token(&mut self) -> Result<String, StoreError> {
        match &mut self.conn {
            Conn::Sqlite(_) => {
                let rows = self.query("PRAGMA data_version", &[])?;
                Ok(rows
                    .rows
                    .first()
                    .and_then(|r| r.first())
                    .and_then(Value::as_text)
                    .unwrap_or_default())
            }
            // One round trip (simple protocol, no transaction of its own).
            Conn::Pg(c) => {
                let msgs = c
                    .simple_query("SELECT pg_current_snapshot()::text")
                    .map_err(pg_err("reading the change token"))?;
                Ok(msgs
                    .iter()
                    .find_map(|m| match m {
                        postgres::SimpleQueryMessage::Row(r) => r.get(0).map(str::to_owned),
                        _ => None,
                    })
                    .unwrap_or_default())
            }
        }
    }

    /// Which backend this is: `sqlite` or `postgresql`.
    pub fn backend(&self) -> &'static str {
        match &self.conn {
            Conn::Sqlite(_) => "sqlite",
            Conn::Pg(_) => "postgresql",
        }
    }

    /// Runs a user's statement read-only within `limits` (the dashboard's SQL explorer):
    /// exactly one statement; SQLite: `query_only` plus an authorizer that allows reading
    /// only (no ATTACH, no writing PRAGMA, no transaction statements) and a progress handler
    /// that cuts the statement at the timeout; PostgreSQL: a `READ ONLY` transaction with
    /// `statement_timeout`, rolled back. At most `max_rows` rows are fetched.
    pub fn query_read_only_capped(
        &mut self,
        sql: &str,
        limits: ReadLimits,
    ) -> Result<Capped, StoreError> {
        let sql = one_statement(sql)?;
        match &mut self.conn {
            Conn::Sqlite(c) => {
                c.execute_batch("PRAGMA query_only = ON")
                    .map_err(sql_err("--sql"))?;
                let denied = std::sync::Arc::new(std::sync::Mutex::new(None::<String>));
                c.authorizer(Some(explorer_authorizer(std::sync::Arc::clone(&denied))));
                let deadline = std::time::Instant::now() + limits.timeout;
                let cut = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
                let cut_flag = std::sync::Arc::clone(&cut);
                c.progress_handler(
                    1000,
                    Some(move || {
                        let late = std::time::Instant::now() >= deadline;
                        if late {
                            cut_flag.store(true, std::sync::atomic::Ordering::Relaxed);
                        }
                        late
                    }),
                );
                let out = sqlite_capped(c, sql, limits.max_rows);
                c.progress_handler(0, None::<fn() -> bool>);
                c.authorizer(
                    None::<fn(rusqlite::hooks::AuthContext<'_>) -> rusqlite::hooks::Authorization>,
                );
                let denied = denied.lock().ok().and_then(|mut d| d.take());
                match out {
                    Ok(rows) => Ok(rows),
                    Err(_) if cut.load(std::sync::atomic::Ordering::Relaxed) => {
                        Err(timed_out(&limits))
                    }
                    Err(_) if denied.is_some() => Err(StoreError::NotReadOnly(format!(
                        "{} is not allowed: the explorer only reads",
                        denied.unwrap_or_default()
                    ))),
                    Err(e) => Err(e),
                }
            }
            Conn::Pg(c) => {
                // Defence in depth beside the READ ONLY transaction: statements that act on
                // the server rather than read (COPY … TO a file, DO, CALL, LISTEN, …) are
                // refused by their first word.
                let first = first_word(sql).to_ascii_uppercase();
                if !PG_EXPLORER_FIRST_WORDS.contains(&first.as_str()) {
                    return Err(StoreError::NotReadOnly(format!(
                        "{} statements are not allowed: the explorer runs {}",
                        if first.is_empty() { "such" } else { &first },
                        PG_EXPLORER_FIRST_WORDS.join(", ")
                    )));
                }
                let mut t = c
                    .build_transaction()
                    .read_only(true)
                    .start()
                    .map_err(pg_err("--sql"))?;
                t.batch_execute(&format!(
                    "SET LOCAL statement_timeout = {}",
                    limits.timeout.as_millis().max(1)
                ))
                .map_err(pg_err("--sql"))?;
                let out = pg_capped(&mut t, sql, limits.max_rows);
                let _ = t.rollback();
                // Session-level advisory locks survive a rollback: a statement must not
                // leave one behind (the migration lock of an ingest, say).
                let _ = c.batch_execute("SELECT pg_advisory_unlock_all()");
                out.map_err(|e| match e {
                    StoreError::Sql { reason, .. }
                        if reason.contains("57014") && !reason.contains("25006") =>
                    {
                        timed_out(&limits)
                    }
                    e => pg_read_only_err(e),
                })
            }
        }
    }
}

/// A user's statement without surrounding blanks and trailing `;`; an empty one is refused.
fn one_statement(sql: &str) -> Result<&str, StoreError> {
    let sql = sql.trim().trim_end_matches(';').trim();
    if sql.is_empty() {
        return Err(StoreError::NotReadOnly("the statement is empty".into()));
    }
    Ok(sql)
}

/// Prepares a user's statement on SQLite: exactly one statement, and one that only reads.
fn sqlite_prepare_read_only<'c>(
    c: &'c rusqlite::Connection,
    sql: &str,
) -> Result<rusqlite::Statement<'c>, StoreError> {
    let stmt = c.prepare(sql).map_err(|e| match e {
        rusqlite::Error::MultipleStatement => {
            StoreError::NotReadOnly("give exactly one statement".into())
        }
        e => StoreError::Sql {
            context: "--sql".into(),
            reason: e.to_string(),
        },
    })?;
    if !stmt.readonly() {
        return Err(StoreError::NotReadOnly(
            "the statement would change the database".into(),
        ));
    }
    Ok(stmt)
}

/// Names a PostgreSQL error from a user's read-only statement: a write (25006), more than
/// one statement (42601), else the error in the `--sql` context.
fn pg_read_only_err(e: StoreError) -> StoreError {
    match e {
        StoreError::Sql { reason, .. } if reason.contains("25006") => {
            StoreError::NotReadOnly("the statement would change the database".into())
        }
        StoreError::Sql { reason, .. }
            if reason.contains("42601") && reason.contains("multiple") =>
        {
            StoreError::NotReadOnly("give exactly one statement".into())
        }
        StoreError::Sql { reason, .. } => StoreError::Sql {
            context: "--sql".into(),
            reason,
        },
        e => e,
    }
}

/// A SQLite value as a [`Value`]: text read lossily, a blob as `<N bytes>`.
fn sqlite_value(v: rusqlite::types::ValueRef<'_>) -> Value {
    use rusqlite::types::ValueRef;
    match v {
        ValueRef::Null => Value::Null,
        ValueRef::Integer(v) => Value::Int(v),
        ValueRef::Real(v) => Value::Real(v),
        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
        ValueRef::Blob(b) => Value::Text(format!("<{} bytes>", b.len())),
    }
}

fn sqlite_capped(
    c: &rusqlite::Connection,
    sql: &str,
    max_rows: usize,
) -> Result<Capped, StoreError> {
    let mut stmt = sqlite_prepare_read_only(c, sql)?;
    let columns: Vec<String> = stmt
        .column_names()
        .iter()
        .map(|s| (*s).to_owned())
        .collect();
    let n = columns.len();
    let mut rows = stmt.query([]).map_err(sql_err("--sql"))?;
    let mut out = Vec::new();
    let mut truncated = false;
    while let Some(r) = rows.next().map_err(sql_err("--sql"))? {
        if out.len() == max_rows {
            truncated = true;
            break;
        }
        let mut row = Vec::with_capacity(n);
        for i in 0..n {
            row.push(sqlite_value(r.get_ref(i).map_err(sql_err("--sql"))?));
        }
        out.push(row);
    }
    Ok(Capped {
        rows: Rows { columns, rows: out },
        truncated,
    })
}

fn pg_capped(
    t: &mut postgres::Transaction<'_>,
    sql: &str,
    max_rows: usize,
) -> Result<Capped, StoreError> {
    let stmt = t.prepare(sql).map_err(pg_err("--sql"))?;
    let columns: Vec<String> = stmt.columns().iter().map(|c| c.name().to_owned()).collect();
    let portal = t.bind(&stmt, &[]).map_err(pg_err("--sql"))?;
    let want = i32::try_from(max_rows.saturating_add(1)).unwrap_or(i32::MAX);
    let rows = t.query_portal(&portal, want).map_err(pg_err("--sql"))?;
    let truncated = rows.len() > max_rows;
    let mut out = Vec::with_capacity(rows.len().min(max_rows));
    for r in rows.iter().take(max_rows) {
        let mut row = Vec::with_capacity(columns.len());
        for i in 0..columns.len() {
            row.push(r.try_get::<_, Value>(i).map_err(pg_err("reading a row"))?);
        }
        out.push(row);
    }
    Ok(Capped {
        rows: Rows { columns, rows: out },
        truncated,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Openers racing on a new file (each switches it to WAL, where SQLite answers "database
    /// is locked" at once to one of two lock upgrades rather than wait): every one succeeds.
    #[test]
    fn openers_racing_on_a_new_file_all_succeed() {
        let dir = tempfile::tempdir().unwrap();
        for round in 0..40 {
            let path = dir.path().join(format!("race{round}.sqlite"));
            let gate = std::sync::Arc::new(std::sync::Barrier::new(4));
            let openers: Vec<_> = (0..4)
                .map(|_| {
                    let (path, gate) = (path.clone(), std::sync::Arc::clone(&gate));
                    std::thread::spawn(move || {
                        gate.wait();
                        Store::open(&Location::Sqlite(path)).map(drop)
                    })
                })
                .collect();
            for o in openers {
                let r = o.join().unwrap();
                assert!(r.is_ok(), "round {round}: {:?}", r.err());
            }
        }
    }

    #[test]
    fn busy_answers_are_retried_and_others_are_not() {
        let busy = || {
            rusqlite::Error::SqliteFailure(
                rusqlite::ffi::Error::new(rusqlite::ffi::SQLITE_BUSY),
                Some("database is locked".into()),
            )
        };
        let mut tries = 0;
        let r = retry_while_busy(|| {
            tries += 1;
            if tries < 4 { Err(busy()) } else { Ok(tries) }
        });
        assert_eq!(r.unwrap(), 4);
        let mut tries = 0;
        let r: rusqlite::Result<()> = retry_while_busy(|| {
            tries += 1;
            Err(rusqlite::Error::InvalidQuery)
        });
        assert!(r.is_err());
        assert_eq!(tries, 1);
    }
}
