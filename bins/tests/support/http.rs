//! Plain HTTP/1.1 over TCP: one request on a fresh connection, read to the end (de-chunked),
//! for the simulators and servers under test; raw requests a client library would normalise.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// An HTTP/1.1 response read completely.
#[derive(Debug, Default)]
pub struct Resp {
    /// Status code (0: no status line arrived).
    pub status: u16,
    /// Headers in the order received.
    pub headers: Vec<(String, String)>,
    /// Body (de-chunked when chunked).
    pub body: Vec<u8>,
    /// The body ended properly (terminating chunk or full content-length).
    pub complete: bool,
    /// The read timed out.
    pub timed_out: bool,
}

impl Resp {
    /// The body as UTF-8 text (lossy).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON (fails the test when it is not).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.text()))
    }

    /// The first value of header `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    /// The `data: ` payloads of an SSE body.
    pub fn events(&self) -> Vec<String> {
        self.text()
            .lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .map(str::to_string)
            .collect()
    }
}

/// One request on a fresh connection (`Connection: close`); every read waits at most
/// `timeout` for bytes.
pub fn http(
    port: u16,
    method: &str,
    path: &str,
    body: Option<&str>,
    timeout: Duration,
) -> std::io::Result<Resp> {
    let mut s =
        TcpStream::connect_timeout(&format!("127.0.0.1:{port}").parse().expect("addr"), timeout)?;
    s.set_read_timeout(Some(timeout))?;
    s.set_write_timeout(Some(timeout))?;
    let body = body.unwrap_or("");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    let mut raw = Vec::new();
    let mut buf = [0u8; 16384];
    let mut timed_out = false;
    loop {
        match s.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => raw.extend_from_slice(&buf[..n]),
            Err(e)
                if matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                ) =>
            {
                timed_out = true;
                break;
            }
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset => break,
            Err(e) => return Err(e),
        }
    }
    Ok(parse(&raw, timed_out))
}

fn parse(raw: &[u8], timed_out: bool) -> Resp {
    let mut r = Resp {
        timed_out,
        ..Resp::default()
    };
    let Some(head_end) = raw.windows(4).position(|w| w == b"\r\n\r\n") else {
        return r;
    };
    let head = String::from_utf8_lossy(&raw[..head_end]).into_owned();
    let mut lines = head.split("\r\n");
    r.status = lines
        .next()
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    for l in lines {
        if let Some((k, v)) = l.split_once(':') {
            r.headers.push((k.trim().to_string(), v.trim().to_string()));
        }
    }
    let rest = &raw[head_end + 4..];
    if r.header("transfer-encoding")
        .is_some_and(|v| v.eq_ignore_ascii_case("chunked"))
    {
        let mut i = 0;
        while let Some(nl) = rest[i..].windows(2).position(|w| w == b"\r\n") {
            let size = usize::from_str_radix(String::from_utf8_lossy(&rest[i..i + nl]).trim(), 16)
                .unwrap_or(usize::MAX);
            i += nl + 2;
            if size == 0 {
                r.complete = true;
                break;
            }
            if size == usize::MAX || i + size > rest.len() {
                r.body.extend_from_slice(&rest[i.min(rest.len())..]);
                break;
            }
            r.body.extend_from_slice(&rest[i..i + size]);
            i += size + 2;
        }
    } else {
        r.body = rest.to_vec();
        let want = r
            .header("content-length")
            .and_then(|v| v.parse::<usize>().ok());
        r.complete = want.is_none_or(|n| n == r.body.len());
    }
    r
}

/// Polls `GET path` until it answers `want` (or panics after `timeout`).
pub fn wait_http(port: u16, path: &str, want: u16, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    loop {
        if let Ok(r) = http(port, "GET", path, None, Duration::from_secs(2))
            && r.status == want
        {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "GET :{port}{path} did not answer {want} within {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Sends `request` verbatim over TCP and returns everything until the server closes (bounded).
pub fn raw(port: u16, request: &str) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    s.write_all(request.as_bytes()).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    String::from_utf8_lossy(&out).into_owned()
}

/// The status code of a raw response.
pub fn raw_status(resp: &str) -> u16 {
    resp.split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {resp:?}"))
}

/// A server on `127.0.0.1:port` started with a request-head timeout of 1 s: a request head
/// that never ends is cut within 5 s, unanswered.
pub fn assert_slow_head_cut(port: u16) {
    let mut c = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    c.write_all(b"GET / HTTP/1.1\r\nHost: x\r\n").unwrap(); // never finished
    let start = Instant::now();
    let mut out = Vec::new();
    let _ = c.read_to_end(&mut out); // ends when the server closes
    let waited = start.elapsed();
    assert!(waited < Duration::from_secs(5), "slow head held {waited:?}");
    assert!(!String::from_utf8_lossy(&out).contains("200 OK"));
}

/// A server on `127.0.0.1:port` started with one connection slot: a keep-alive connection
/// asking for `path` holds it, a second connection waits (no answer within 0.7 s) and is
/// answered 200 once the first closes.
pub fn assert_one_connection_at_a_time(port: u16, path: &str) {
    let mut c1 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c1.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\n\r\n").as_bytes())
        .unwrap();
    let mut buf = [0u8; 4096];
    assert!(c1.read(&mut buf).unwrap() > 0);
    let mut c2 = TcpStream::connect(("127.0.0.1", port)).unwrap();
    c2.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
        .unwrap();
    c2.set_read_timeout(Some(Duration::from_millis(700)))
        .unwrap();
    assert!(
        c2.read(&mut buf).is_err(),
        "served beyond the connection limit"
    );
    drop(c1);
    c2.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut out = Vec::new();
    c2.read_to_end(&mut out).unwrap();
    let head = String::from_utf8_lossy(&out);
    assert!(
        head.starts_with("HTTP/1.1 200"),
        "queued connection not served after the slot freed: {head}"
    );
}
