//! "Is this image pullable?": the registry manifest check that replaces
//! `docker manifest inspect <repo>:<tag>` (spec nightly.md §3.4, quirk Q-IMG-7).
//!
//! `HEAD <registry>/v2/<repo>/manifests/<tag>` with the manifest-list/OCI-index media types;
//! a `401` with `WWW-Authenticate: Bearer realm=...,service=...,scope=...` is answered by
//! fetching an anonymous token from the realm and asking again (the Docker registry protocol).
//! `200` = present, `404` = absent (asked once more after a short delay, since an image still
//! being pushed was reported "not pullable" in the past), anything that does not answer =
//! [`RegistryError::CouldNotAsk`]. Base URL from `SGLCI_REGISTRY_URL` (default
//! `https://registry-1.docker.io`).

use std::time::Duration;

use crate::http::{self, RetryPolicy};

/// Environment variable with the registry base URL.
pub const REGISTRY_URL_ENV: &str = "SGLCI_REGISTRY_URL";

const MANIFEST_TYPES: &str = "application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.list.v2+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.oci.image.manifest.v1+json";

/// The registry could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RegistryError {
    /// No usable answer after the retries (timeouts, 429, 5xx, refused, bad token answer).
    #[error("could not ask the registry: {0}")]
    CouldNotAsk(String),
}

/// Whether the manifest exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Manifest {
    /// The registry has it: pullable.
    Present,
    /// The registry answered that it does not have it (twice, `recheck_delay` apart).
    Absent,
}

/// A registry client.
#[derive(Debug, Clone)]
pub struct RegistryClient {
    base_url: String,
    retry: RetryPolicy,
    recheck_delay: Duration,
    agent: ureq::Agent,
}

impl RegistryClient {
    /// A client for `base_url` with `retry`; an absent manifest is asked again after
    /// `recheck_delay`.
    pub fn new(base_url: &str, retry: RetryPolicy, recheck_delay: Duration) -> Self {
        Self {
            base_url: base_url.trim_end_matches('/').to_string(),
            agent: http::agent(retry.timeout),
            retry,
            recheck_delay,
        }
    }

    /// `SGLCI_REGISTRY_URL` (default `https://registry-1.docker.io`), the Docker Hub retry
    /// policy of [`crate::HubConfig::from_env`], and a re-check delay of ten first backoffs
    /// (10 s by default).
    pub fn from_env() -> Self {
        let base = std::env::var(REGISTRY_URL_ENV)
            .ok()
            .filter(|u| !u.trim().is_empty())
            .unwrap_or_else(|| "https://registry-1.docker.io".to_string());
        let retry = crate::hub::HubConfig::from_env().retry;
        let recheck = retry.backoff.saturating_mul(10);
        Self::new(&base, retry, recheck)
    }

    /// Checks `<repo>:<tag>`.
    pub fn manifest(&self, repo: &str, tag: &str) -> Result<Manifest, RegistryError> {
        match self.ask(repo, tag)? {
            Manifest::Present => Ok(Manifest::Present),
            Manifest::Absent => {
                std::thread::sleep(self.recheck_delay);
                self.ask(repo, tag)
            }
        }
    }

    fn ask(&self, repo: &str, tag: &str) -> Result<Manifest, RegistryError> {
        let url = format!("{}/v2/{}/manifests/{}", self.base_url, repo, tag);
        let accept = ("Accept", MANIFEST_TYPES.to_string());
        let fetch = |headers: &[(&str, String)]| {
            http::fetch(&self.agent, &url, true, headers, &self.retry)
                .map_err(|e| RegistryError::CouldNotAsk(e.to_string()))
        };
        let mut answer = fetch(std::slice::from_ref(&accept))?;
        if answer.status == 401 {
            let challenge = answer.www_authenticate.clone().unwrap_or_default();
            let token = self.token(&challenge, repo)?;
            answer = fetch(&[accept, ("Authorization", format!("Bearer {token}"))])?;
        }
        match answer.status {
            200..=299 => Ok(Manifest::Present),
            404 => Ok(Manifest::Absent),
            s => Err(RegistryError::CouldNotAsk(format!(
                "{url} answered HTTP {s}"
            ))),
        }
    }

    /// An anonymous pull token from the `Bearer realm=...` challenge.
    fn token(&self, challenge: &str, repo: &str) -> Result<String, RegistryError> {
        let params = parse_challenge(challenge);
        let get = |k: &str| {
            params
                .iter()
                .find(|(key, _)| key.eq_ignore_ascii_case(k))
                .map(|(_, v)| v.clone())
        };
        let realm = get("realm").ok_or_else(|| {
            RegistryError::CouldNotAsk(format!(
                "the registry asked for authentication without a Bearer realm ({challenge:?})"
            ))
        })?;
        let scope = get("scope").unwrap_or_else(|| format!("repository:{repo}:pull"));
        let mut url = format!("{realm}?scope={}", encode(&scope));
        if let Some(service) = get("service") {
            url.push_str(&format!("&service={}", encode(&service)));
        }
        let answer = http::fetch(&self.agent, &url, false, &[], &self.retry)
            .map_err(|e| RegistryError::CouldNotAsk(e.to_string()))?;
        if answer.status != 200 {
            return Err(RegistryError::CouldNotAsk(format!(
                "token service {realm} answered HTTP {}",
                answer.status
            )));
        }
        let v: serde_json::Value = serde_json::from_str(&answer.body).map_err(|e| {
            RegistryError::CouldNotAsk(format!("token service {realm} sent no JSON: {e}"))
        })?;
        v.get("token")
            .or_else(|| v.get("access_token"))
            .and_then(|t| t.as_str())
            .map(str::to_string)
            .ok_or_else(|| {
                RegistryError::CouldNotAsk(format!("token service {realm} sent no token"))
            })
    }
}

/// `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="..."`.
fn parse_challenge(h: &str) -> Vec<(String, String)> {
    let rest = h.trim();
    let rest = rest
        .strip_prefix("Bearer")
        .or_else(|| rest.strip_prefix("bearer"))
        .unwrap_or(rest);
    let mut out = Vec::new();
    let mut s = rest.trim();
    while !s.is_empty() {
        let Some(eq) = s.find('=') else { break };
        let key = s[..eq].trim().trim_start_matches(',').trim().to_string();
        s = &s[eq + 1..];
        let value;
        if let Some(r) = s.strip_prefix('"') {
            let end = r.find('"').unwrap_or(r.len());
            value = r[..end].to_string();
            s = r.get(end + 1..).unwrap_or("");
        } else {
            let end = s.find(',').unwrap_or(s.len());
            value = s[..end].trim().to_string();
            s = &s[end..];
        }
        out.push((key, value));
        s = s.trim_start_matches([',', ' ']);
    }
    out
}

/// Percent-encodes a query value (RFC 3986 unreserved characters kept).
fn encode(s: &str) -> String {
    let mut o = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            o.push(b as char);
        } else {
            o.push_str(&format!("%{b:02X}"));
        }
    }
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn challenge_parsing() {
        let p = parse_challenge(
            r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:rocm/sgl-dev:pull""#,
        );
        assert_eq!(
            p,
            vec![
                ("realm".into(), "https://auth.docker.io/token".into()),
                ("service".into(), "registry.docker.io".into()),
                ("scope".into(), "repository:rocm/sgl-dev:pull".into()),
            ]
        );
        assert_eq!(
            encode("repository:rocm/sgl-dev:pull"),
            "repository%3Arocm%2Fsgl-dev%3Apull"
        );
    }
}
