//! A local stand-in for a Teams webhook (feature `testkit`): an HTTP/1.1 receiver on
//! 127.0.0.1 that records every POST and answers from a script — a status with headers and a
//! body, or no answer at all. After the script runs out the last reply repeats.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// One scripted answer.
#[derive(Debug, Clone)]
pub enum Reply {
    /// An HTTP answer.
    Status {
        /// Status code.
        code: u16,
        /// Extra headers.
        headers: Vec<(String, String)>,
        /// Body.
        body: String,
    },
    /// Read the request and never answer (until the receiver is dropped).
    Hang,
}

impl Reply {
    /// An answer with `code` and an empty body.
    pub fn status(code: u16) -> Self {
        Self::Status {
            code,
            headers: Vec::new(),
            body: String::new(),
        }
    }

    /// The same answer with a header added.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        if let Self::Status { headers, .. } = &mut self {
            headers.push((name.to_owned(), value.to_owned()));
        }
        self
    }

    /// The same answer with `body`.
    pub fn body(mut self, text: &str) -> Self {
        if let Self::Status { body, .. } = &mut self {
            *body = text.to_owned();
        }
        self
    }
}

/// One recorded request.
#[derive(Debug, Clone)]
pub struct Post {
    /// Method.
    pub method: String,
    /// Path and query as sent.
    pub path: String,
    /// Headers, names lower-cased.
    pub headers: Vec<(String, String)>,
    /// Body as text.
    pub body: String,
}

impl Post {
    /// The first header `name` (lower-case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON.
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or(serde_json::Value::Null)
    }
}

/// The receiver; stops accepting when dropped.
pub struct Receiver {
    port: u16,
    posts: Arc<Mutex<Vec<Post>>>,
    stop: Arc<AtomicBool>,
}

impl Receiver {
    /// Listens on a free 127.0.0.1 port and answers with `script` in order.
    pub fn start(script: Vec<Reply>) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local addr").port();
        let posts = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (p, s) = (posts.clone(), stop.clone());
        std::thread::spawn(move || {
            let mut n = 0usize;
            for conn in listener.incoming() {
                if s.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(conn) = conn else { continue };
                let reply = script
                    .get(n)
                    .or(script.last())
                    .cloned()
                    .unwrap_or(Reply::status(202));
                n += 1;
                let (p, s) = (p.clone(), s.clone());
                std::thread::spawn(move || serve(conn, &reply, &p, &s));
            }
        });
        Self { port, posts, stop }
    }

    /// `http://127.0.0.1:<port><path>`.
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// The port.
    pub fn port(&self) -> u16 {
        self.port
    }

    /// Requests received so far.
    pub fn posts(&self) -> Vec<Post> {
        self.posts.lock().map(|p| p.clone()).unwrap_or_default()
    }
}

impl Drop for Receiver {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so it sees the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

fn serve(conn: TcpStream, reply: &Reply, posts: &Mutex<Vec<Post>>, stop: &AtomicBool) {
    let _ = conn.set_read_timeout(Some(Duration::from_secs(10)));
    let Ok(read_half) = conn.try_clone() else {
        return;
    };
    let mut r = BufReader::new(read_half);
    let mut first = String::new();
    if r.read_line(&mut first).unwrap_or(0) == 0 {
        return;
    }
    let mut parts = first.split_whitespace();
    let method = parts.next().unwrap_or_default().to_owned();
    let path = parts.next().unwrap_or_default().to_owned();
    let mut headers = Vec::new();
    loop {
        let mut line = String::new();
        if r.read_line(&mut line).unwrap_or(0) == 0 {
            break;
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_owned()));
        }
    }
    let len = headers
        .iter()
        .find(|(k, _)| k == "content-length")
        .and_then(|(_, v)| v.parse::<usize>().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    let _ = r.read_exact(&mut body);
    if let Ok(mut p) = posts.lock() {
        p.push(Post {
            method,
            path,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        });
    }
    let mut conn = conn;
    match reply {
        Reply::Hang => {
            let until = Instant::now() + Duration::from_secs(120);
            while !stop.load(Ordering::SeqCst) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(50));
            }
        }
        Reply::Status {
            code,
            headers,
            body,
        } => {
            let mut head = format!(
                "HTTP/1.1 {code} {}\r\nContent-Length: {}\r\nConnection: close\r\n",
                reason(*code),
                body.len()
            );
            for (k, v) in headers {
                head.push_str(&format!("{k}: {v}\r\n"));
            }
            head.push_str("\r\n");
            let _ = conn.write_all(head.as_bytes());
            let _ = conn.write_all(body.as_bytes());
            let _ = conn.flush();
        }
    }
}

fn reason(code: u16) -> &'static str {
    match code {
        200 => "OK",
        201 => "Created",
        202 => "Accepted",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        409 => "Conflict",
        429 => "Too Many Requests",
        500 => "Internal Server Error",
        503 => "Service Unavailable",
        _ => "Status",
    }
}

/// A 127.0.0.1 port with no listener (bound once, then released).
pub fn closed_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr").port()
}

/// The Adaptive Card 1.5 schema: `SGLCI_ADAPTIVE_CARD_SCHEMA`, else
/// `../shared/data/adaptive-cards/adaptive-card-1.5.schema.json` next to the workspace.
pub fn schema_path() -> std::path::PathBuf {
    std::env::var_os("SGLCI_ADAPTIVE_CARD_SCHEMA").map_or_else(
        || {
            std::path::PathBuf::from(concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/data/adaptive-cards/adaptive-card-1.5.schema.json"
            ))
        },
        std::path::PathBuf::from,
    )
}

/// Checks a webhook payload: the envelope, then the card under `attachments[0].content`
/// against the Adaptive Card 1.5 schema. `Err` lists every violation.
pub fn validate_payload(payload: &serde_json::Value) -> Result<(), Vec<String>> {
    let mut errors = Vec::new();
    if payload["type"] != "message" {
        errors.push("envelope: type is not \"message\"".to_owned());
    }
    let atts = payload["attachments"].as_array().map_or(0, Vec::len);
    if atts != 1 {
        errors.push(format!("envelope: {atts} attachments, expected 1"));
    }
    if payload["attachments"][0]["contentType"] != crate::card::CONTENT_TYPE {
        errors.push("envelope: wrong contentType".to_owned());
    }
    match validate_card(&payload["attachments"][0]["content"]) {
        Ok(()) if errors.is_empty() => Ok(()),
        Ok(()) => Err(errors),
        Err(mut e) => {
            errors.append(&mut e);
            Err(errors)
        }
    }
}

/// Checks one card object against the Adaptive Card 1.5 schema (draft-06).
pub fn validate_card(card: &serde_json::Value) -> Result<(), Vec<String>> {
    let path = schema_path();
    let text = std::fs::read_to_string(&path).map_err(|e| {
        vec![format!(
            "cannot read the Adaptive Card schema {} ({e}); set SGLCI_ADAPTIVE_CARD_SCHEMA",
            path.display()
        )]
    })?;
    let schema: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| vec![format!("schema is not JSON: {e}")])?;
    let validator = jsonschema::draft6::new(&schema)
        .map_err(|e| vec![format!("schema does not compile: {e}")])?;
    let errors: Vec<String> = validator
        .iter_errors(card)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect();
    if card["body"].as_array().is_none_or(Vec::is_empty) {
        return Err(vec!["card body is empty".to_owned()]);
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
