//! Read-only connections to the history store, one per worker, used from blocking tasks.
//!
//! The store's clients are blocking (rusqlite, the sync `postgres` client), so each request
//! borrows a [`Worker`] (its own read-only connection) and runs on tokio's blocking pool. A
//! worker keeps the pages it rendered, each tagged with the store's change token
//! ([`history_store::Store::change_token`]): the token is read again on every request, and
//! any change committed by an ingest empties the worker's pages, so a page is never older than
//! the store it is served from. On PostgreSQL, whose token means the same on every
//! connection, a token read that started after a request arrived also serves that request
//! ([`Worker::refresh_since`]), so under load one read answers many requests.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use bytes::Bytes;
use history_store::{Location, Store};
use tokio::sync::Semaphore;

use crate::data::SeriesIndex;
use crate::error::PageError;

/// Pages kept per worker before the oldest set is dropped (bounds memory when many different
/// query strings are asked for).
const MAX_PAGES: usize = 512;

/// One read-only connection and what was computed from the store as of `token`.
pub struct Worker {
    location: Location,
    store: Option<Store>,
    token: Option<String>,
    pages: HashMap<String, Bytes>,
    series: Option<Arc<SeriesIndex>>,
}

impl Worker {
    fn new(location: Location) -> Self {
        Self {
            location,
            store: None,
            token: None,
            pages: HashMap::new(),
            series: None,
        }
    }

    /// The connection, opened on first use (a store that does not exist yet is an error page,
    /// not a dead server).
    pub fn store(&mut self) -> Result<&mut Store, PageError> {
        if self.store.is_none() {
            self.store = Some(Store::open_read_only(&self.location).map_err(PageError::Store)?);
        }
        Ok(self.store.as_mut().expect("just opened"))
    }

    /// Reads the change token; forgets everything computed at another one. A failed read
    /// drops the connection, so the next request reconnects.
    pub fn refresh(&mut self) -> Result<(), PageError> {
        let token = self.read_token()?;
        self.adopt(token);
        Ok(())
    }

    fn read_token(&mut self) -> Result<String, PageError> {
        match self.store()?.change_token() {
            Ok(t) => Ok(t),
            Err(e) => {
                self.store = None;
                self.token = None;
                self.pages.clear();
                self.series = None;
                Err(PageError::Store(e))
            }
        }
    }

    fn adopt(&mut self, token: String) {
        if self.token.as_deref() != Some(token.as_str()) {
            self.pages.clear();
            self.series = None;
            self.token = Some(token);
        }
    }

    /// [`Worker::refresh`] for a request that arrived at `arrived`, sharing token reads
    /// between connections where the token means the same on all of them (PostgreSQL's
    /// snapshot; SQLite's `data_version` is per connection): a read that *started* after the
    /// request arrived is as good as one of its own, so under load one read serves every
    /// request that was waiting for it, and no answer is older than its request.
    pub fn refresh_since(
        &mut self,
        arrived: Instant,
        shared: Option<&SharedToken>,
    ) -> Result<(), PageError> {
        let Some(shared) = shared else {
            return self.refresh();
        };
        let recent = shared
            .0
            .lock()
            .ok()
            .and_then(|g| g.as_ref().filter(|(at, _)| *at >= arrived).cloned());
        if let Some((_, token)) = recent {
            self.adopt(token);
            return Ok(());
        }
        let started = Instant::now();
        let token = self.read_token()?;
        if let Ok(mut g) = shared.0.lock()
            && g.as_ref().is_none_or(|(at, _)| *at < started)
        {
            *g = Some((started, token.clone()));
        }
        self.adopt(token);
        Ok(())
    }

    /// The page `key` as of the current token: kept, or made by `make` and kept. Call
    /// [`Worker::refresh`] first.
    pub fn page(
        &mut self,
        key: &str,
        make: impl FnOnce(&mut Worker) -> Result<Bytes, PageError>,
    ) -> Result<Bytes, PageError> {
        if let Some(b) = self.pages.get(key) {
            return Ok(b.clone());
        }
        let b = make(self)?;
        if self.pages.len() >= MAX_PAGES {
            self.pages.clear();
        }
        self.pages.insert(key.to_owned(), b.clone());
        Ok(b)
    }

    /// The regression series of the store as of the current token.
    pub fn series(&mut self) -> Result<Arc<SeriesIndex>, PageError> {
        if let Some(s) = &self.series {
            return Ok(Arc::clone(s));
        }
        let s = Arc::new(SeriesIndex::load(self.store()?)?);
        self.series = Some(Arc::clone(&s));
        Ok(s)
    }
}

/// The newest change token read on any connection, with the moment its read started
/// (PostgreSQL only: see [`Worker::refresh_since`]).
#[derive(Debug, Default)]
pub struct SharedToken(Mutex<Option<(Instant, String)>>);

/// The workers and the permits that hand them out.
pub struct Pool {
    location: Location,
    idle: Mutex<Vec<Worker>>,
    permits: Semaphore,
    shared: Option<Arc<SharedToken>>,
}

impl Pool {
    /// `n` workers (at least one) on `location`; connections open on first use.
    pub fn new(location: &Location, n: usize) -> Self {
        let n = n.max(1);
        Self {
            location: location.clone(),
            idle: Mutex::new((0..n).map(|_| Worker::new(location.clone())).collect()),
            permits: Semaphore::new(n),
            shared: matches!(location, Location::Postgres(_)).then(Arc::default),
        }
    }

    /// The token shared by this pool's connections (PostgreSQL), for
    /// [`Worker::refresh_since`].
    pub fn shared_token(&self) -> Option<Arc<SharedToken>> {
        self.shared.clone()
    }

    /// Runs `job` with a worker on the blocking pool. A job that panics loses its worker's
    /// connection, not the worker slot.
    pub async fn run<T: Send + 'static>(
        &self,
        job: impl FnOnce(&mut Worker) -> T + Send + 'static,
    ) -> Result<T, PageError> {
        let _permit = self
            .permits
            .acquire()
            .await
            .map_err(|_| PageError::Internal("the worker pool is closed".into()))?;
        let mut worker = self
            .idle
            .lock()
            .map_err(|_| PageError::Internal("worker pool lock poisoned".into()))?
            .pop()
            .unwrap_or_else(|| Worker::new(self.location.clone()));
        let done = tokio::task::spawn_blocking(move || {
            let out = job(&mut worker);
            (worker, out)
        })
        .await;
        let (worker, out) = match done {
            Ok(x) => (x.0, Ok(x.1)),
            Err(e) => (
                Worker::new(self.location.clone()),
                Err(PageError::Internal(format!("a request failed: {e}"))),
            ),
        };
        if let Ok(mut idle) = self.idle.lock() {
            idle.push(worker);
        }
        out
    }
}

impl Drop for Pool {
    /// The PostgreSQL client closes its connection with a blocking call that must not run on
    /// an async worker thread: the connections are closed on a thread of their own.
    fn drop(&mut self) {
        let workers = match self.idle.get_mut() {
            Ok(w) => std::mem::take(w),
            Err(e) => std::mem::take(e.into_inner()),
        };
        if workers.iter().any(|w| w.store.is_some()) {
            let _ = std::thread::spawn(move || drop(workers)).join();
        }
    }
}
