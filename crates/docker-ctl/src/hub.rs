//! Docker Hub tag discovery (spec nightly.md §2.3-2.4, benchmarks.md §8.8).
//!
//! `GET <base>/v2/repositories/<repo>/tags/?page_size=100`, then follow `next` until it is
//! absent. Only `results[].name` and `next` are read. Every page is retried on 429, 5xx,
//! timeouts and connection errors; when a page still fails the outcome is
//! [`HubError::CouldNotAsk`] — never "not found" (the original's silent false negative,
//! quirks Q-HUB-1/2). The base URL comes from `SGLCI_DOCKERHUB_URL` (tests run a local
//! stand-in).

use std::time::Duration;

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use serde::Deserialize;

use crate::dates;
use crate::http::{self, NoAnswer, RetryPolicy};
use crate::tags;

/// Environment variable with the Docker Hub base URL (default `https://hub.docker.com`).
pub const HUB_URL_ENV: &str = "SGLCI_DOCKERHUB_URL";
/// Environment variable with the per-request timeout in seconds (default 15, as the original).
pub const HUB_TIMEOUT_ENV: &str = "SGLCI_DOCKERHUB_TIMEOUT_S";
/// Environment variable with the first retry wait in milliseconds (default 1000, doubled per
/// retry).
pub const HUB_BACKOFF_ENV: &str = "SGLCI_DOCKERHUB_BACKOFF_MS";

/// How to reach Docker Hub.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HubConfig {
    /// `https://hub.docker.com` or a stand-in.
    pub base_url: String,
    /// `page_size` query parameter (100, as the original).
    pub page_size: u32,
    /// Timeout and retries of each page.
    pub retry: RetryPolicy,
    /// Stop after this many pages (a `next` loop must not run forever).
    pub max_pages: u32,
}

impl Default for HubConfig {
    fn default() -> Self {
        Self {
            base_url: "https://hub.docker.com".into(),
            page_size: 100,
            retry: RetryPolicy {
                timeout: Duration::from_secs(15),
                retries: 3,
                backoff: Duration::from_secs(1),
                max_backoff: Duration::from_secs(30),
            },
            max_pages: 1000,
        }
    }
}

impl HubConfig {
    /// Defaults overridden by [`HUB_URL_ENV`], [`HUB_TIMEOUT_ENV`] and [`HUB_BACKOFF_ENV`]
    /// (unparsable numbers are ignored with a warning).
    pub fn from_env() -> Self {
        let mut c = Self::default();
        if let Ok(u) = std::env::var(HUB_URL_ENV)
            && !u.trim().is_empty()
        {
            c.base_url = u.trim().trim_end_matches('/').to_string();
        }
        if let Some(s) = env_u64(HUB_TIMEOUT_ENV) {
            c.retry.timeout = Duration::from_secs(s.max(1));
        }
        if let Some(ms) = env_u64(HUB_BACKOFF_ENV) {
            c.retry.backoff = Duration::from_millis(ms);
        }
        c
    }
}

pub(crate) fn env_u64(var: &str) -> Option<u64> {
    let v = std::env::var(var).ok()?;
    match v.trim().parse::<u64>() {
        Ok(n) => Some(n),
        Err(_) => {
            tracing::warn!("{var}={v:?} is not a whole number; ignored");
            None
        }
    }
}

/// Why the tag list could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HubError {
    /// Docker Hub did not answer usably (timeouts, 429, 5xx, connection errors after the
    /// retries, or a body that is not the tags JSON). The image may well exist.
    #[error("could not ask Docker Hub: {0}")]
    CouldNotAsk(String),
    /// Docker Hub answered 404 for the repository itself: it does not exist (check
    /// `IMAGE_REPO`).
    #[error("Docker Hub has no repository {repo} ({url} answered 404); check IMAGE_REPO")]
    NoRepository {
        /// The repository.
        repo: String,
        /// The URL asked.
        url: String,
    },
}

impl From<NoAnswer> for HubError {
    fn from(e: NoAnswer) -> Self {
        HubError::CouldNotAsk(e.to_string())
    }
}

/// The answer of a search: found (with the tag) or definitely not found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A matching tag.
    Found(String),
    /// Docker Hub answered every page and no tag matched.
    NotFound,
}

#[derive(Deserialize)]
struct Page {
    #[serde(default)]
    results: Vec<TagEntry>,
    #[serde(default)]
    next: Option<String>,
}

#[derive(Deserialize)]
struct TagEntry {
    name: String,
}

/// A Docker Hub client.
#[derive(Debug, Clone)]
pub struct HubClient {
    cfg: HubConfig,
    agent: ureq::Agent,
}

impl HubClient {
    /// A client with `cfg`.
    pub fn new(cfg: HubConfig) -> Self {
        let agent = http::agent(cfg.retry.timeout);
        Self { cfg, agent }
    }

    /// A client with [`HubConfig::from_env`].
    pub fn from_env() -> Self {
        Self::new(HubConfig::from_env())
    }

    /// The configuration.
    pub fn config(&self) -> &HubConfig {
        &self.cfg
    }

    /// `<base>/v2/repositories/<repo>/tags/?page_size=<n>`.
    pub fn first_page_url(&self, repo: &str) -> String {
        format!(
            "{}/v2/repositories/{}/tags/?page_size={}",
            self.cfg.base_url.trim_end_matches('/'),
            repo.trim_matches('/'),
            self.cfg.page_size
        )
    }

    /// Walks the pages in API order, giving each page's tag names to `visit`; stops early when
    /// `visit` returns `true`. Returns whether it stopped early.
    pub fn walk(
        &self,
        repo: &str,
        mut visit: impl FnMut(&[String]) -> bool,
    ) -> Result<bool, HubError> {
        let mut url = self.first_page_url(repo);
        let mut seen: Vec<String> = Vec::new();
        for page_no in 1..=self.cfg.max_pages {
            let answer = http::fetch(
                &self.agent,
                &url,
                false,
                &[("Accept", "application/json".to_string())],
                &self.cfg.retry,
            )?;
            match answer.status {
                200 => {}
                404 if page_no == 1 => {
                    return Err(HubError::NoRepository {
                        repo: repo.to_string(),
                        url,
                    });
                }
                s => {
                    return Err(HubError::CouldNotAsk(format!(
                        "{url} answered HTTP {s}: {}",
                        snippet(&answer.body)
                    )));
                }
            }
            let page: Page = self.parse_page(&url, &answer.body)?;
            let names: Vec<String> = page.results.into_iter().map(|r| r.name).collect();
            if visit(&names) {
                return Ok(true);
            }
            seen.push(url.clone());
            match page.next.filter(|n| !n.trim().is_empty()) {
                None => return Ok(false),
                Some(next) => {
                    let next = self.absolute(&next);
                    if seen.contains(&next) {
                        return Err(HubError::CouldNotAsk(format!(
                            "Docker Hub pagination loops back to {next}"
                        )));
                    }
                    url = next;
                }
            }
        }
        Err(HubError::CouldNotAsk(format!(
            "more than {} pages of tags; stopped",
            self.cfg.max_pages
        )))
    }

    fn parse_page(&self, url: &str, body: &str) -> Result<Page, HubError> {
        serde_json::from_str(body).map_err(|e| {
            HubError::CouldNotAsk(format!(
                "{url} did not return the tags JSON ({e}): {}",
                snippet(body)
            ))
        })
    }

    fn absolute(&self, next: &str) -> String {
        if next.starts_with("http://") || next.starts_with("https://") {
            next.to_string()
        } else {
            format!(
                "{}/{}",
                self.cfg.base_url.trim_end_matches('/'),
                next.trim_start_matches('/')
            )
        }
    }

    /// Every tag name of `repo` in API order (most recently updated first). Fetch once and
    /// evaluate every search against the list (quirk Q-IMG-5 fix).
    pub fn all_tags(&self, repo: &str) -> Result<Vec<String>, HubError> {
        let mut all = Vec::new();
        self.walk(repo, |names| {
            all.extend_from_slice(names);
            false
        })?;
        Ok(all)
    }

    /// The single-ROCm search of `test_nightly.sh` / `perf_nightly.sh`: the first tag in API
    /// order containing `-<rocm>-<hw>-<date>` and not ending in `-srt`; pages are fetched only
    /// until it is found.
    pub fn find_nightly(
        &self,
        repo: &str,
        rocm: &str,
        hw: &str,
        date: &str,
    ) -> Result<Lookup, HubError> {
        let mut found = None;
        self.walk(repo, |names| {
            found = names
                .iter()
                .find(|n| tags::matches(n, rocm, hw, date))
                .cloned();
            found.is_some()
        })?;
        Ok(found.map_or(Lookup::NotFound, Lookup::Found))
    }
}

fn snippet(body: &str) -> String {
    let one: String = body.split_whitespace().collect::<Vec<_>>().join(" ");
    if one.chars().count() > 160 {
        format!("{}...", one.chars().take(160).collect::<String>())
    } else {
        one
    }
}

/// One date tried by [`find_recent`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DateAttempt {
    /// Days before today (PT).
    pub offset: u32,
    /// `YYYYMMDD`.
    pub date: String,
    /// What the search said.
    pub lookup: Lookup,
    /// Whether `obtain` accepted the tag (pull or local image); `false` when not found.
    pub obtained: bool,
    /// This was the yesterday fallback.
    pub fallback: bool,
}

/// What [`find_recent`] searches for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NightlySearch<'a> {
    /// Repository (`IMAGE_REPO`, `rocm/sgl-dev`).
    pub repo: &'a str,
    /// ROCm token (`rocm630`).
    pub rocm: &'a str,
    /// Hardware token (`mi30x`).
    pub hw: &'a str,
}

/// The orchestrator's image selection (benchmarks.md §8.8, nightly.md §2.4): search offsets
/// `0..days` (PT dates before `now`); for each found tag call `obtain` (pull or find locally;
/// `true` = usable). When `days == 1` and nothing was obtained, search yesterday as a fallback.
/// Returns every attempt in order; the obtained tags are those with `obtained`. A Docker Hub
/// that cannot be asked is an error, not "not found".
pub fn find_recent(
    hub: &HubClient,
    search: &NightlySearch<'_>,
    now: DateTime<Utc>,
    tz: Tz,
    days: u32,
    mut obtain: impl FnMut(&DateAttempt, &str) -> bool,
) -> Result<Vec<DateAttempt>, HubError> {
    let mut attempts = Vec::new();
    let mut try_date = |offset: u32, fallback: bool, attempts: &mut Vec<DateAttempt>| {
        let date = dates::date_days_ago(now, tz, offset);
        let lookup = hub.find_nightly(search.repo, search.rocm, search.hw, &date)?;
        let mut a = DateAttempt {
            offset,
            date,
            lookup,
            obtained: false,
            fallback,
        };
        if let Lookup::Found(tag) = &a.lookup {
            let tag = tag.clone();
            a.obtained = obtain(&a, &tag);
        }
        attempts.push(a);
        Ok::<(), HubError>(())
    };
    for offset in 0..days.max(1) {
        try_date(offset, false, &mut attempts)?;
    }
    if days <= 1 && !attempts.iter().any(|a| a.obtained) {
        try_date(1, true, &mut attempts)?;
    }
    Ok(attempts)
}
