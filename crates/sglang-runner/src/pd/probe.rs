//! HTTP of the PD run: health probes of the servers and the router, and the requests of
//! tests 1–4 and of the functional check. Every request has a timeout (fix Q-PD-10); an HTTP
//! status of 400 or more is a failure for the health and model checks, and a completion
//! passes only when its answer has `choices` (fix Q-PD-9).

use std::time::Duration;

use crate::server::agent;

/// An HTTP answer.
#[derive(Debug, Clone)]
pub struct Reply {
    /// Status code.
    pub status: u16,
    /// Body text.
    pub body: String,
}

fn read(r: Result<ureq::http::Response<ureq::Body>, ureq::Error>) -> Result<Reply, String> {
    let mut r = r.map_err(|e| e.to_string())?;
    let status = r.status().as_u16();
    let body = r
        .body_mut()
        .with_config()
        .limit(16 << 20)
        .read_to_string()
        .map_err(|e| e.to_string())?;
    Ok(Reply { status, body })
}

/// `GET url`.
pub fn get(url: &str, timeout: Duration) -> Result<Reply, String> {
    read(agent(timeout).get(url).call())
}

/// `POST url` with a JSON body.
pub fn post_json(url: &str, body: &serde_json::Value, timeout: Duration) -> Result<Reply, String> {
    read(
        agent(timeout)
            .post(url)
            .header("Content-Type", "application/json")
            .send(body.to_string()),
    )
}

/// `GET url` answered below 400 (curl `-f`).
pub fn healthy(url: &str, timeout: Duration) -> bool {
    get(url, timeout).is_ok_and(|r| r.status < 400)
}

/// `GET url` answered at all (any status: the service listens).
pub fn answers(url: &str, timeout: Duration) -> bool {
    get(url, timeout).is_ok()
}

/// Why a check failed, one line.
pub fn check_get(url: &str, timeout: Duration) -> Result<(), String> {
    match get(url, timeout) {
        Ok(r) if r.status < 400 => Ok(()),
        Ok(r) => Err(format!(
            "GET {url} answered HTTP {}: {}",
            r.status,
            snippet(&r.body)
        )),
        Err(e) => Err(format!("GET {url}: {e}")),
    }
}

/// A completion that must answer with `choices`.
pub fn check_completion(
    url: &str,
    body: &serde_json::Value,
    timeout: Duration,
) -> Result<(), String> {
    match post_json(url, body, timeout) {
        Ok(r) if r.status < 400 && r.body.contains("\"choices\"") => Ok(()),
        Ok(r) => Err(format!(
            "POST {url} answered HTTP {} without choices: {}",
            r.status,
            snippet(&r.body)
        )),
        Err(e) => Err(format!("POST {url}: {e}")),
    }
}

fn snippet(s: &str) -> String {
    let t: String = s.chars().take(200).collect();
    t.replace(['\n', '\r'], " ")
}
