//! GET/HEAD with a timeout and retries with backoff on 429, 5xx, timeouts and connection
//! errors (quirk Q-HUB-1 fix). Used by the Docker Hub, registry and GitHub clients.

use std::time::Duration;

/// How hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Whole-request timeout of one attempt.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub retries: u32,
    /// First wait; doubled after every retry.
    pub backoff: Duration,
    /// Longest wait (also caps a server's `Retry-After`).
    pub max_backoff: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `n` (0-based), or the server's `Retry-After` seconds.
    pub fn wait(&self, n: u32, retry_after: Option<u64>) -> Duration {
        let exp = self.backoff.saturating_mul(2u32.saturating_pow(n.min(16)));
        let base = retry_after.map_or(exp, Duration::from_secs);
        base.min(self.max_backoff)
    }
}

/// A response that ended the retry loop (any status except 429 and 5xx, which are retried).
#[derive(Debug, Clone)]
pub struct Answer {
    /// HTTP status.
    pub status: u16,
    /// The body (empty for HEAD).
    pub body: String,
    /// `WWW-Authenticate` header, when present.
    pub www_authenticate: Option<String>,
}

/// Every attempt failed: the server could not be asked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{url} did not answer after {attempts} attempt(s): {last}")]
pub struct NoAnswer {
    /// The URL (secrets are never part of URLs here).
    pub url: String,
    /// Attempts made.
    pub attempts: u32,
    /// The last failure (`timeout`, `HTTP 503`, `connection refused`, ...).
    pub last: String,
}

/// An HTTP agent with a whole-request `timeout`, statuses as values (not errors) and the
/// toolkit's user agent.
pub fn agent(timeout: Duration) -> ureq::Agent {
    ureq::Agent::config_builder()
        .timeout_global(Some(timeout))
        .http_status_as_error(false)
        .user_agent(concat!("sglang-ci/", env!("CARGO_PKG_VERSION")))
        .build()
        .into()
}

/// Sends the request (GET, or HEAD when `head`) with `headers`, retrying per `policy`.
pub fn fetch(
    agent: &ureq::Agent,
    url: &str,
    head: bool,
    headers: &[(&str, String)],
    policy: &RetryPolicy,
) -> Result<Answer, NoAnswer> {
    let mut attempts = 0;
    loop {
        attempts += 1;
        let (failure, retry_after) = match once(agent, url, head, headers) {
            Ok(a) if a.status == 429 || a.status >= 500 => {
                let ra = a.body.clone();
                (format!("HTTP {}", a.status), ra.parse::<u64>().ok())
            }
            Ok(a) => return Ok(a),
            Err(e) => (e, None),
        };
        if attempts > policy.retries {
            return Err(NoAnswer {
                url: url.to_string(),
                attempts,
                last: failure,
            });
        }
        let wait = policy.wait(attempts - 1, retry_after);
        tracing::warn!(
            "{url}: {failure}; retrying in {:.1} s (attempt {} of {})",
            wait.as_secs_f64(),
            attempts + 1,
            policy.retries + 1
        );
        std::thread::sleep(wait);
    }
}

/// One attempt. For 429/5xx the body field carries the `Retry-After` value (if any) so the
/// loop can honour it.
fn once(
    agent: &ureq::Agent,
    url: &str,
    head: bool,
    headers: &[(&str, String)],
) -> Result<Answer, String> {
    let result = if head {
        let mut req = agent.head(url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        req.call()
    } else {
        let mut req = agent.get(url);
        for (k, v) in headers {
            req = req.header(*k, v.as_str());
        }
        req.call()
    };
    let mut resp = result.map_err(describe)?;
    let status = resp.status().as_u16();
    let header = |name: &str| {
        resp.headers()
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    };
    let www_authenticate = header("www-authenticate");
    if status == 429 || status >= 500 {
        return Ok(Answer {
            status,
            body: header("retry-after").unwrap_or_default(),
            www_authenticate,
        });
    }
    let body = if head {
        String::new()
    } else {
        resp.body_mut()
            .with_config()
            .limit(64 << 20)
            .read_to_string()
            .map_err(describe)?
    };
    Ok(Answer {
        status,
        body,
        www_authenticate,
    })
}

fn describe(e: ureq::Error) -> String {
    match e {
        ureq::Error::Timeout(t) => format!("timed out ({t})"),
        ureq::Error::HostNotFound => "host not found".into(),
        ureq::Error::ConnectionFailed => "connection failed".into(),
        ureq::Error::Io(io) => format!("I/O error: {io}"),
        other => other.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_doubles_and_is_capped() {
        let p = RetryPolicy {
            timeout: Duration::from_secs(1),
            retries: 3,
            backoff: Duration::from_secs(1),
            max_backoff: Duration::from_secs(5),
        };
        assert_eq!(p.wait(0, None), Duration::from_secs(1));
        assert_eq!(p.wait(1, None), Duration::from_secs(2));
        assert_eq!(p.wait(2, None), Duration::from_secs(4));
        assert_eq!(p.wait(3, None), Duration::from_secs(5));
        assert_eq!(p.wait(0, Some(3)), Duration::from_secs(3));
        assert_eq!(p.wait(0, Some(600)), Duration::from_secs(5));
    }
}
