//! Delivery of a card to a Teams webhook (spec reporting.md §2.2, §12).
//!
//! One POST of the compact JSON with `Content-Type: application/json` per attempt, each with a
//! timeout. 200 and 202 are success (202: Power Automate accepted the card and posts it
//! asynchronously). A 200 whose body says `Microsoft Teams endpoint returned HTTP error` is
//! connector throttling and counts as a 429. 429 (honouring `Retry-After`), 5xx, timeouts and
//! connection failures are retried with exponential backoff; any other status ends at once with
//! one clear error (401 `WorkflowNotFound`: the workflow was deleted). The URL appears in
//! errors only masked ([`crate::mask_url`]).

use std::sync::Arc;
use std::time::Duration;

use crate::card::Message;
use crate::mask::{mask_in, mask_url};

/// How hard to try.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Time limit of one attempt (connect, send, answer).
    pub timeout: Duration,
    /// Attempts in all (at least 1).
    pub attempts: u32,
    /// Wait before the first retry; doubled for each further retry.
    pub backoff: Duration,
    /// Longest wait between attempts (also caps a server's `Retry-After`).
    pub max_wait: Duration,
}

impl Default for RetryPolicy {
    /// 30 s per attempt (the original's timeout), 3 attempts, waits of 2 s then 4 s, at most
    /// 60 s.
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(30),
            attempts: 3,
            backoff: Duration::from_secs(2),
            max_wait: Duration::from_secs(60),
        }
    }
}

impl RetryPolicy {
    /// The default policy with the environment's overrides: `SGLCI_TEAMS_TIMEOUT_S` (seconds
    /// per attempt), `SGLCI_TEAMS_ATTEMPTS`, `SGLCI_TEAMS_BACKOFF_MS` (first wait, doubled per
    /// retry); an unusable value keeps the default.
    pub fn from_env() -> Self {
        let num = |k: &str| {
            std::env::var(k)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|v| v.is_finite() && *v >= 0.0)
        };
        let d = Self::default();
        Self {
            timeout: num("SGLCI_TEAMS_TIMEOUT_S").map_or(d.timeout, Duration::from_secs_f64),
            attempts: num("SGLCI_TEAMS_ATTEMPTS").map_or(d.attempts, |v| (v as u32).max(1)),
            backoff: num("SGLCI_TEAMS_BACKOFF_MS")
                .map_or(d.backoff, |v| Duration::from_millis(v as u64)),
            max_wait: d.max_wait,
        }
    }

    /// The wait before retry `n` (0-based): the server's `Retry-After` if given, else the
    /// backoff doubled `n` times; never more than `max_wait`.
    pub fn wait(&self, n: u32, retry_after: Option<Duration>) -> Duration {
        let exp = self.backoff.saturating_mul(2u32.saturating_pow(n.min(16)));
        retry_after.unwrap_or(exp).min(self.max_wait)
    }

    /// The longest time [`Webhook::post`] can take with this policy.
    pub fn worst_case(&self) -> Duration {
        let n = self.attempts.max(1);
        let waits: Duration = (0..n - 1).map(|i| self.wait(i, Some(self.max_wait))).sum();
        self.timeout * n + waits
    }
}

/// A successful delivery.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// 200 or 202.
    pub status: u16,
    /// Attempts it took.
    pub attempts: u32,
}

impl Delivered {
    /// 202: a Power Automate flow accepted the card and posts it asynchronously.
    pub fn asynchronous(&self) -> bool {
        self.status == 202
    }
}

/// Why a card was not delivered. Every message names the webhook only masked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DeliveryError {
    /// 401 `WorkflowNotFound`.
    #[error(
        "{url} answered HTTP 401 WorkflowNotFound: the Teams workflow was deleted; create a new workflow and update the webhook URL (TEAMS_WEBHOOK_URL)"
    )]
    WorkflowNotFound {
        /// Masked URL.
        url: String,
        /// Response body (masked, shortened).
        body: String,
    },
    /// Any other status that is not retried (4xx except 429, 3xx, 1xx).
    #[error("{url} rejected the card: HTTP {status}: {body}")]
    Rejected {
        /// Masked URL.
        url: String,
        /// HTTP status.
        status: u16,
        /// Response body (masked, shortened).
        body: String,
    },
    /// 429 or 5xx on every attempt.
    #[error("{url} answered HTTP {status} on all {attempts} attempt(s): {body}")]
    Unavailable {
        /// Masked URL.
        url: String,
        /// The last HTTP status.
        status: u16,
        /// Attempts made.
        attempts: u32,
        /// Last response body (masked, shortened).
        body: String,
    },
    /// No HTTP answer on the last attempt (connection refused, DNS, timeout).
    #[error("could not reach {url} after {attempts} attempt(s): {reason}")]
    Transport {
        /// Masked URL.
        url: String,
        /// Attempts made.
        attempts: u32,
        /// The last failure (`timed out after 30 s`, `connection failed`, …).
        reason: String,
    },
}

impl DeliveryError {
    /// The HTTP status of the last answer, `None` for a transport failure.
    pub fn status(&self) -> Option<u16> {
        match self {
            Self::WorkflowNotFound { .. } => Some(401),
            Self::Rejected { status, .. } | Self::Unavailable { status, .. } => Some(*status),
            Self::Transport { .. } => None,
        }
    }

    /// The response body of the last answer (masked), `None` for a transport failure.
    pub fn body(&self) -> Option<&str> {
        match self {
            Self::WorkflowNotFound { body, .. }
            | Self::Rejected { body, .. }
            | Self::Unavailable { body, .. } => Some(body),
            Self::Transport { .. } => None,
        }
    }
}

/// Sleeps between attempts; tests inject one that records instead of waiting.
pub type Sleeper = Arc<dyn Fn(Duration) + Send + Sync>;

/// A Teams webhook: URL, retry policy, and how to wait between attempts.
#[derive(Clone)]
pub struct Webhook {
    url: String,
    policy: RetryPolicy,
    sleep: Sleeper,
}

impl std::fmt::Debug for Webhook {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Webhook")
            .field("url", &self.masked())
            .field("policy", &self.policy)
            .finish()
    }
}

/// The answer of one attempt.
enum Attempt {
    Answer {
        status: u16,
        body: String,
        retry_after: Option<Duration>,
    },
    Failed(String),
}

const THROTTLED: &str = "Microsoft Teams endpoint returned HTTP error";

impl Webhook {
    /// A webhook with `policy` that sleeps for real between attempts.
    pub fn new(url: impl Into<String>, policy: RetryPolicy) -> Self {
        Self {
            url: url.into(),
            policy,
            sleep: Arc::new(std::thread::sleep),
        }
    }

    /// The same webhook waiting with `sleep` between attempts.
    pub fn with_sleeper(mut self, sleep: Sleeper) -> Self {
        self.sleep = sleep;
        self
    }

    /// The URL as it may be shown: `https://<host>/…`.
    pub fn masked(&self) -> String {
        mask_url(&self.url)
    }

    /// The retry policy.
    pub fn policy(&self) -> &RetryPolicy {
        &self.policy
    }

    /// Posts `msg` as compact JSON.
    pub fn post(&self, msg: &Message) -> Result<Delivered, DeliveryError> {
        self.post_json(&msg.to_wire_json())
    }

    /// Posts a JSON body, retrying per the policy.
    pub fn post_json(&self, body: &str) -> Result<Delivered, DeliveryError> {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(self.policy.timeout))
            .http_status_as_error(false)
            .user_agent(concat!("sglang-ci/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        let attempts = self.policy.attempts.max(1);
        let url = self.masked();
        let mut n = 0;
        loop {
            n += 1;
            let (err, retry_after) = match self.once(&agent, body) {
                Attempt::Answer { status, body, .. }
                    if (status == 200 || status == 202) && !body.contains(THROTTLED) =>
                {
                    return Ok(Delivered {
                        status,
                        attempts: n,
                    });
                }
                Attempt::Answer {
                    status,
                    body,
                    retry_after,
                } if status == 429 || status >= 500 || body.contains(THROTTLED) => {
                    let status = if status == 200 { 429 } else { status };
                    (
                        DeliveryError::Unavailable {
                            url: url.clone(),
                            status,
                            attempts: n,
                            body: self.excerpt(&body),
                        },
                        retry_after,
                    )
                }
                Attempt::Answer { status, body, .. } => {
                    let body = self.excerpt(&body);
                    return Err(if status == 401 && body.contains("WorkflowNotFound") {
                        DeliveryError::WorkflowNotFound { url, body }
                    } else {
                        DeliveryError::Rejected { url, status, body }
                    });
                }
                Attempt::Failed(reason) => (
                    DeliveryError::Transport {
                        url: url.clone(),
                        attempts: n,
                        reason,
                    },
                    None,
                ),
            };
            if n >= attempts {
                return Err(err);
            }
            (self.sleep)(self.policy.wait(n - 1, retry_after));
        }
    }

    fn once(&self, agent: &ureq::Agent, body: &str) -> Attempt {
        let result = agent
            .post(&self.url)
            .header("Content-Type", "application/json")
            .send(body);
        let mut resp = match result {
            Ok(r) => r,
            Err(e) => return Attempt::Failed(mask_in(&self.describe(e), &self.url)),
        };
        let status = resp.status().as_u16();
        let retry_after = resp
            .headers()
            .get("retry-after")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map(Duration::from_secs);
        let text = resp
            .body_mut()
            .with_config()
            .limit(1 << 20)
            .read_to_string()
            .unwrap_or_default();
        Attempt::Answer {
            status,
            body: text,
            retry_after,
        }
    }

    fn describe(&self, e: ureq::Error) -> String {
        match e {
            ureq::Error::Timeout(_) => format!(
                "no answer within {} s (timed out)",
                self.policy.timeout.as_secs_f64()
            ),
            ureq::Error::HostNotFound => "host not found".into(),
            ureq::Error::ConnectionFailed => "connection failed (refused or unreachable)".into(),
            ureq::Error::Io(io) => format!("I/O error: {io}"),
            other => other.to_string(),
        }
    }

    /// The body masked and cut to 300 characters, on one line.
    fn excerpt(&self, body: &str) -> String {
        let one: String = mask_in(body.trim(), &self.url)
            .split(['\n', '\r'])
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        if one.chars().count() > 300 {
            format!("{}...", one.chars().take(300).collect::<String>())
        } else {
            one
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::{Receiver, Reply};
    use std::sync::Mutex;
    use std::time::Instant;

    fn fast() -> RetryPolicy {
        RetryPolicy {
            timeout: Duration::from_millis(800),
            attempts: 3,
            backoff: Duration::from_millis(10),
            max_wait: Duration::from_secs(5),
        }
    }

    fn recorded() -> (Sleeper, Arc<Mutex<Vec<Duration>>>) {
        let log = Arc::new(Mutex::new(Vec::new()));
        let l = log.clone();
        (Arc::new(move |d| l.lock().unwrap().push(d)), log)
    }

    fn card() -> Message {
        let mut c = crate::AdaptiveCard::new();
        c.push(crate::TextBlock::title("T"));
        c.into_message()
    }

    #[test]
    fn accepted_202_and_200_succeed_in_one_attempt() {
        for code in [202, 200] {
            let r = Receiver::start(vec![Reply::status(code)]);
            let d = Webhook::new(r.url("/hook?sig=abc"), fast())
                .post(&card())
                .unwrap();
            assert_eq!((d.status, d.attempts), (code, 1));
            let posts = r.posts();
            assert_eq!(posts.len(), 1);
            assert_eq!(posts[0].path, "/hook?sig=abc");
            assert_eq!(posts[0].header("content-type"), Some("application/json"));
            let v: serde_json::Value = serde_json::from_str(&posts[0].body).unwrap();
            assert_eq!(v["attachments"][0]["content"]["body"][0]["text"], "T");
        }
    }

    #[test]
    fn retry_after_is_honoured_then_success() {
        let r = Receiver::start(vec![
            Reply::status(429).header("Retry-After", "3"),
            Reply::status(500),
            Reply::status(202),
        ]);
        let (sleep, waits) = recorded();
        let d = Webhook::new(r.url("/h"), fast())
            .with_sleeper(sleep)
            .post(&card())
            .unwrap();
        assert_eq!((d.status, d.attempts), (202, 3));
        assert_eq!(
            *waits.lock().unwrap(),
            [Duration::from_secs(3), Duration::from_millis(20)]
        );
    }

    #[test]
    fn workflow_not_found_is_not_retried_and_names_the_cause() {
        let body = r#"{"error":{"code":"WorkflowNotFound","message":"The workflow 'x' could not be found."}}"#;
        let r = Receiver::start(vec![Reply::status(401).body(body)]);
        let url = r.url("/workflows/x?sig=TOPSECRET");
        let e = Webhook::new(&url, fast()).post(&card()).unwrap_err();
        assert!(matches!(e, DeliveryError::WorkflowNotFound { .. }), "{e:?}");
        assert_eq!(r.posts().len(), 1);
        let msg = e.to_string();
        assert!(msg.contains("workflow was deleted"), "{msg}");
        assert!(!msg.contains("TOPSECRET") && !msg.contains(&url), "{msg}");
        let e = Webhook::new(r.url("/x"), fast());
        drop(e);
    }

    #[test]
    fn other_4xx_ends_at_once() {
        let r = Receiver::start(vec![Reply::status(400).body("Bad payload")]);
        let e = Webhook::new(r.url("/h"), fast()).post(&card()).unwrap_err();
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.body(), Some("Bad payload"));
        assert_eq!(r.posts().len(), 1);
    }

    #[test]
    fn persistent_5xx_gives_up_after_the_attempts() {
        let r = Receiver::start(vec![Reply::status(503)]);
        let (sleep, waits) = recorded();
        let e = Webhook::new(r.url("/h"), fast())
            .with_sleeper(sleep)
            .post(&card())
            .unwrap_err();
        assert!(
            matches!(
                e,
                DeliveryError::Unavailable {
                    status: 503,
                    attempts: 3,
                    ..
                }
            ),
            "{e:?}"
        );
        assert_eq!(r.posts().len(), 3);
        assert_eq!(waits.lock().unwrap().len(), 2);
    }

    #[test]
    fn connector_throttling_text_in_a_200_is_a_failure() {
        let r = Receiver::start(vec![
            Reply::status(200).body("Microsoft Teams endpoint returned HTTP error 429"),
        ]);
        let e = Webhook::new(
            r.url("/h"),
            RetryPolicy {
                attempts: 1,
                ..fast()
            },
        )
        .post(&card())
        .unwrap_err();
        assert_eq!(e.status(), Some(429));
    }

    #[test]
    fn refused_and_silent_receivers_end_within_the_bound() {
        let port = crate::testkit::closed_port();
        let (sleep, _) = recorded();
        let e = Webhook::new(format!("http://127.0.0.1:{port}/h?sig=S"), fast())
            .with_sleeper(sleep.clone())
            .post(&card())
            .unwrap_err();
        assert!(
            matches!(e, DeliveryError::Transport { attempts: 3, .. }),
            "{e:?}"
        );
        assert!(!e.to_string().contains("sig=S"));

        let r = Receiver::start(vec![Reply::Hang]);
        let started = Instant::now();
        let p = RetryPolicy {
            attempts: 2,
            ..fast()
        };
        let e = Webhook::new(r.url("/h"), p.clone())
            .with_sleeper(sleep)
            .post(&card())
            .unwrap_err();
        assert!(matches!(e, DeliveryError::Transport { .. }), "{e:?}");
        assert!(e.to_string().contains("timed out"), "{e}");
        assert!(started.elapsed() < p.worst_case() + Duration::from_secs(2));
    }

    #[test]
    fn waits_double_and_are_capped() {
        let p = RetryPolicy {
            timeout: Duration::from_secs(1),
            attempts: 5,
            backoff: Duration::from_secs(2),
            max_wait: Duration::from_secs(5),
        };
        assert_eq!(p.wait(0, None), Duration::from_secs(2));
        assert_eq!(p.wait(1, None), Duration::from_secs(4));
        assert_eq!(p.wait(2, None), Duration::from_secs(5));
        assert_eq!(
            p.wait(0, Some(Duration::from_secs(120))),
            Duration::from_secs(5)
        );
    }
}
