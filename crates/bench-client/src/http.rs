//! A small HTTP/1.1 client over one keep-alive connection pool.
//!
//! Why not hyper's pooled client: there each connection is driven by its own task and every
//! body chunk crosses a channel to the task that reads the response, one wake-up pair per
//! streamed token. Here the task that sends a request also reads its socket, so the arrival
//! time of each read is taken the moment `read()` returns and a token costs one read (often
//! shared with other tokens) plus a scan. Only what SGLang servers speak is supported: plain
//! `http://`, `Content-Length`, chunked and close-delimited bodies, keep-alive.

use std::net::{SocketAddr, ToSocketAddrs};
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::time::Instant;

use crate::BenchError;

/// Why one exchange failed; the text is what the failed-request list shows.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HttpError {
    /// TCP connect failed (refused, unreachable).
    #[error("connect failed: {0}")]
    Connect(String),
    /// TCP connect did not finish in time.
    #[error("connect timed out after {0:.1?}")]
    ConnectTimeout(Duration),
    /// Reading or writing the socket failed.
    #[error("I/O error: {0}")]
    Io(String),
    /// The server closed the connection before the response head.
    #[error("server closed the connection before answering")]
    ClosedBeforeHead,
    /// The server closed the connection in the middle of the body.
    #[error("server closed the connection mid-body")]
    ClosedMidBody,
    /// The response head or chunk framing is not valid HTTP/1.1.
    #[error("malformed HTTP response: {0}")]
    Malformed(String),
    /// No byte arrived for the idle timeout (`--stall-timeout`).
    #[error("no data from the server for {0:.1?} (stall timeout)")]
    Stalled(Duration),
    /// The whole request took longer than its deadline (`--request-timeout`).
    #[error("request did not finish within its deadline (request timeout)")]
    Deadline,
}

/// Where requests go: resolved addresses, `Host` header and path prefix.
#[derive(Debug, Clone)]
pub struct Target {
    addrs: Vec<SocketAddr>,
    host_header: String,
    prefix: String,
    base_url: String,
    auth: Option<String>,
}

impl Target {
    /// Parses `http://host[:port][/prefix]` and resolves the host (once, here).
    pub fn from_url(url: &str) -> Result<Self, BenchError> {
        let bad = |m: &str| BenchError::flag("--base-url", format!("{url}: {m}"));
        let rest = url
            .strip_prefix("http://")
            .ok_or_else(|| bad("only http:// URLs are supported (SGLang serves plain HTTP)"))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], rest[i..].trim_end_matches('/')),
            None => (rest, ""),
        };
        if authority.is_empty() {
            return Err(bad("no host"));
        }
        let with_port = if authority.starts_with('[') {
            if authority.contains("]:") {
                authority.to_string()
            } else {
                format!("{authority}:80")
            }
        } else if authority.contains(':') {
            authority.to_string()
        } else {
            format!("{authority}:80")
        };
        let addrs: Vec<SocketAddr> = with_port
            .to_socket_addrs()
            .map_err(|e| bad(&format!("cannot resolve {with_port}: {e}")))?
            .collect();
        if addrs.is_empty() {
            return Err(bad("host resolves to no address"));
        }
        let auth = std::env::var("OPENAI_API_KEY")
            .ok()
            .filter(|k| !k.is_empty())
            .map(|k| format!("Bearer {k}"))
            .or_else(|| std::env::var("API_KEY").ok().filter(|k| !k.is_empty()));
        Ok(Self {
            addrs,
            host_header: authority.to_string(),
            prefix: path.to_string(),
            base_url: format!("http://{authority}{path}"),
            auth,
        })
    }

    /// The base URL as given (without a trailing `/`), for messages.
    pub fn base_url(&self) -> &str {
        &self.base_url
    }
}

/// Timeouts of one exchange.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// The whole exchange must end by then.
    pub deadline: Instant,
    /// Longest silence between two reads.
    pub stall: Duration,
}

/// One pool of keep-alive connections to one server.
#[derive(Debug)]
pub struct Pool {
    target: Target,
    idle: Mutex<Vec<(TcpStream, Vec<u8>)>>,
    connect_timeout: Duration,
}

impl Pool {
    /// A pool for `target`.
    pub fn new(target: Target, connect_timeout: Duration) -> Self {
        Self {
            target,
            idle: Mutex::new(Vec::new()),
            connect_timeout,
        }
    }

    /// The pool's target.
    pub fn target(&self) -> &Target {
        &self.target
    }

    fn take_idle(&self) -> Option<(TcpStream, Vec<u8>)> {
        self.idle.lock().ok().and_then(|mut v| v.pop())
    }

    fn put_idle(&self, s: (TcpStream, Vec<u8>)) {
        if let Ok(mut v) = self.idle.lock()
            && v.len() < 8192
        {
            v.push(s);
        }
    }

    async fn connect(&self, limits: &Limits) -> Result<TcpStream, HttpError> {
        let mut last = HttpError::Connect("no address".into());
        for addr in &self.target.addrs {
            let until = limits.deadline.min(Instant::now() + self.connect_timeout);
            match tokio::time::timeout_at(until, TcpStream::connect(addr)).await {
                Ok(Ok(s)) => {
                    let _ = s.set_nodelay(true);
                    return Ok(s);
                }
                Ok(Err(e)) => last = HttpError::Connect(format!("{addr}: {e}")),
                Err(_) => {
                    if Instant::now() >= limits.deadline {
                        return Err(HttpError::Deadline);
                    }
                    last = HttpError::ConnectTimeout(self.connect_timeout);
                }
            }
        }
        Err(last)
    }

    /// Opens up to `n` connections at once and parks them in the pool, so the timed phase
    /// does not pay TCP connects (bench_serving pays one per request). Failures are ignored:
    /// requests then connect on their own. Returns how many were opened.
    pub async fn prewarm(&self, n: usize, limits: Limits) -> usize {
        let have = self.idle.lock().map(|v| v.len()).unwrap_or(0);
        let want = n.saturating_sub(have);
        let conns = futures_join_all((0..want).map(|_| self.connect(&limits))).await;
        let mut opened = 0;
        for c in conns.into_iter().flatten() {
            self.put_idle((c, vec![0; READ_BUF]));
            opened += 1;
        }
        opened
    }

    /// Sends `method path` with a JSON `body` (empty: no body) and reads the response head.
    /// A pooled connection the server already closed is retried once on a fresh one.
    pub async fn send(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        limits: Limits,
    ) -> Result<Exchange<'_>, HttpError> {
        let mut req = Vec::with_capacity(body.len() + 256);
        req.extend_from_slice(method.as_bytes());
        req.push(b' ');
        req.extend_from_slice(self.target.prefix.as_bytes());
        req.extend_from_slice(path.as_bytes());
        req.extend_from_slice(b" HTTP/1.1\r\nHost: ");
        req.extend_from_slice(self.target.host_header.as_bytes());
        req.extend_from_slice(
            concat!(
                "\r\nUser-Agent: sglang-bench/",
                env!("CARGO_PKG_VERSION"),
                "\r\nAccept: */*\r\n"
            )
            .as_bytes(),
        );
        if let Some(a) = &self.target.auth {
            req.extend_from_slice(b"Authorization: ");
            req.extend_from_slice(a.as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        if !body.is_empty() || method == "POST" {
            req.extend_from_slice(b"Content-Type: application/json\r\nContent-Length: ");
            req.extend_from_slice(body.len().to_string().as_bytes());
            req.extend_from_slice(b"\r\n");
        }
        req.extend_from_slice(b"\r\n");
        req.extend_from_slice(body);

        for attempt in 0..2 {
            let (stream, buf, reused) = match (attempt, self.take_idle()) {
                (0, Some((s, b))) => (s, b, true),
                _ => (self.connect(&limits).await?, vec![0; READ_BUF], false),
            };
            let mut ex = Exchange::new(self, stream, buf, limits);
            match ex.start(&req, method == "HEAD").await {
                Ok(()) => return Ok(ex),
                Err(HttpError::ClosedBeforeHead | HttpError::Io(_)) if reused => continue,
                Err(e) => return Err(e),
            }
        }
        Err(HttpError::ClosedBeforeHead)
    }

    /// Sends a request and reads the whole body: `(status, body)`.
    pub async fn fetch(
        &self,
        method: &str,
        path: &str,
        body: &[u8],
        limits: Limits,
    ) -> Result<(u16, Vec<u8>), HttpError> {
        let mut ex = self.send(method, path, body, limits).await?;
        let status = ex.status();
        let mut out = Vec::new();
        while ex.read_body(&mut out).await?.is_some() {}
        Ok((status, out))
    }
}

#[derive(Debug)]
enum Framing {
    Length(u64),
    Chunked(Chunked),
    Close,
    Done,
}

/// One request/response on one connection. Dropping it after the body ended returns the
/// connection to the pool (unless the server asked to close it).
#[derive(Debug)]
pub struct Exchange<'p> {
    pool: &'p Pool,
    stream: Option<TcpStream>,
    buf: Vec<u8>,
    pos: usize,
    len: usize,
    buf_time: Instant,
    status: u16,
    reason: String,
    framing: Framing,
    keep_alive: bool,
    limits: Limits,
}

const READ_BUF: usize = 64 * 1024;

impl<'p> Exchange<'p> {
    fn new(pool: &'p Pool, stream: TcpStream, buf: Vec<u8>, limits: Limits) -> Self {
        Self {
            pool,
            stream: Some(stream),
            buf,
            pos: 0,
            len: 0,
            buf_time: Instant::now(),
            status: 0,
            reason: String::new(),
            framing: Framing::Done,
            keep_alive: false,
            limits,
        }
    }

    /// HTTP status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// HTTP reason phrase (`Internal Server Error`).
    pub fn reason(&self) -> &str {
        &self.reason
    }

    async fn read_more(&mut self) -> Result<usize, HttpError> {
        let Some(stream) = self.stream.as_mut() else {
            return Ok(0);
        };
        if self.pos == self.len {
            self.pos = 0;
            self.len = 0;
        } else if self.len == self.buf.len() {
            if self.pos > 0 {
                self.buf.copy_within(self.pos..self.len, 0);
                self.len -= self.pos;
                self.pos = 0;
            } else {
                let n = self.buf.len();
                self.buf.resize(n * 2, 0);
            }
        }
        let until = self.limits.deadline.min(Instant::now() + self.limits.stall);
        match tokio::time::timeout_at(until, stream.read(&mut self.buf[self.len..])).await {
            Ok(Ok(n)) => {
                self.buf_time = Instant::now();
                self.len += n;
                Ok(n)
            }
            Ok(Err(e)) => Err(HttpError::Io(e.to_string())),
            Err(_) if Instant::now() >= self.limits.deadline => Err(HttpError::Deadline),
            Err(_) => Err(HttpError::Stalled(self.limits.stall)),
        }
    }

    async fn start(&mut self, req: &[u8], head_only: bool) -> Result<(), HttpError> {
        let Some(stream) = self.stream.as_mut() else {
            return Err(HttpError::ClosedBeforeHead);
        };
        match tokio::time::timeout_at(self.limits.deadline, stream.write_all(req)).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => return Err(HttpError::Io(e.to_string())),
            Err(_) => return Err(HttpError::Deadline),
        }
        loop {
            let n = self.read_more().await?;
            let mut headers = [httparse::EMPTY_HEADER; 64];
            let mut resp = httparse::Response::new(&mut headers);
            match resp.parse(&self.buf[self.pos..self.len]) {
                Ok(httparse::Status::Complete(head_len)) => {
                    let status = resp.code.unwrap_or(0);
                    if (100..200).contains(&status) {
                        // 100 Continue: skip the interim head.
                        self.pos += head_len;
                        continue;
                    }
                    self.status = status;
                    self.reason = resp.reason.unwrap_or("").to_string();
                    let mut length = None;
                    let mut chunked = false;
                    let mut close = resp.version == Some(0);
                    for h in resp.headers.iter() {
                        if h.name.eq_ignore_ascii_case("content-length") {
                            length = std::str::from_utf8(h.value)
                                .ok()
                                .and_then(|s| s.trim().parse::<u64>().ok());
                        } else if h.name.eq_ignore_ascii_case("transfer-encoding") {
                            chunked = h.value.to_ascii_lowercase().ends_with(b"chunked");
                        } else if h.name.eq_ignore_ascii_case("connection") {
                            let v = h.value.to_ascii_lowercase();
                            if v.as_slice() == b"close" {
                                close = true;
                            } else if v.as_slice() == b"keep-alive" {
                                close = false;
                            }
                        }
                    }
                    self.pos += head_len;
                    self.framing = if head_only || status == 204 || status == 304 {
                        Framing::Done
                    } else if chunked {
                        Framing::Chunked(Chunked::default())
                    } else if let Some(l) = length {
                        if l == 0 {
                            Framing::Done
                        } else {
                            Framing::Length(l)
                        }
                    } else {
                        close = true;
                        Framing::Close
                    };
                    self.keep_alive = !close;
                    return Ok(());
                }
                Ok(httparse::Status::Partial) => {
                    if n == 0 {
                        return Err(if self.len == 0 {
                            HttpError::ClosedBeforeHead
                        } else {
                            HttpError::Malformed(
                                "connection closed inside the response head".into(),
                            )
                        });
                    }
                }
                Err(e) => return Err(HttpError::Malformed(e.to_string())),
            }
        }
    }

    /// Appends the next decoded body bytes to `out` and returns the time the bytes were read
    /// from the socket; `None` once the body has ended (nothing appended).
    pub async fn read_body(&mut self, out: &mut Vec<u8>) -> Result<Option<Instant>, HttpError> {
        loop {
            if matches!(self.framing, Framing::Done) {
                return Ok(None);
            }
            if self.pos < self.len {
                let before = out.len();
                let data = &self.buf[self.pos..self.len];
                let used = match &mut self.framing {
                    Framing::Length(rem) => {
                        let take = (*rem).min(data.len() as u64) as usize;
                        out.extend_from_slice(&data[..take]);
                        *rem -= take as u64;
                        if *rem == 0 {
                            self.framing = Framing::Done;
                        }
                        take
                    }
                    Framing::Chunked(c) => {
                        let used = c.decode(data, out)?;
                        if c.is_done() {
                            self.framing = Framing::Done;
                        }
                        used
                    }
                    Framing::Close => {
                        out.extend_from_slice(data);
                        data.len()
                    }
                    Framing::Done => 0,
                };
                self.pos += used;
                if out.len() > before || matches!(self.framing, Framing::Done) {
                    if out.len() > before {
                        return Ok(Some(self.buf_time));
                    }
                    return Ok(None);
                }
            }
            let n = self.read_more().await?;
            if n == 0 {
                return match self.framing {
                    Framing::Close => {
                        self.framing = Framing::Done;
                        self.keep_alive = false;
                        Ok(None)
                    }
                    _ => {
                        self.keep_alive = false;
                        Err(HttpError::ClosedMidBody)
                    }
                };
            }
        }
    }
}

impl Drop for Exchange<'_> {
    fn drop(&mut self) {
        if self.keep_alive
            && matches!(self.framing, Framing::Done)
            && self.pos == self.len
            && let Some(s) = self.stream.take()
        {
            self.pool.put_idle((s, std::mem::take(&mut self.buf)));
        }
    }
}

/// Polls all futures to completion on the current task, results in order.
async fn futures_join_all<F: std::future::Future>(futs: impl Iterator<Item = F>) -> Vec<F::Output> {
    let mut futs: Vec<std::pin::Pin<Box<F>>> = futs.map(Box::pin).collect();
    let mut out: Vec<Option<F::Output>> = futs.iter().map(|_| None).collect();
    std::future::poll_fn(|cx| {
        let mut pending = false;
        for (i, f) in futs.iter_mut().enumerate() {
            if out[i].is_none() {
                match f.as_mut().poll(cx) {
                    std::task::Poll::Ready(v) => out[i] = Some(v),
                    std::task::Poll::Pending => pending = true,
                }
            }
        }
        if pending {
            std::task::Poll::Pending
        } else {
            std::task::Poll::Ready(())
        }
    })
    .await;
    out.into_iter().flatten().collect()
}

/// Incremental decoder of `Transfer-Encoding: chunked`.
#[derive(Debug, Default)]
pub struct Chunked {
    state: ChunkState,
    size: u64,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
enum ChunkState {
    #[default]
    Size,
    SizeExt,
    SizeLf,
    Data,
    DataCr,
    DataLf,
    TrailerLineStart,
    TrailerLine,
    TrailerLf,
    Done,
}

impl Chunked {
    /// True after the last chunk and its trailer.
    pub fn is_done(&self) -> bool {
        self.state == ChunkState::Done
    }

    /// Decodes as much of `input` as possible, appending data to `out`; returns bytes used.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        let mut i = 0;
        let bad = |m: &str| Err(HttpError::Malformed(format!("chunked body: {m}")));
        while i < input.len() {
            let b = input[i];
            match self.state {
                ChunkState::Size => match b {
                    b'0'..=b'9' | b'a'..=b'f' | b'A'..=b'F' => {
                        let d = (b as char).to_digit(16).unwrap_or(0) as u64;
                        if self.size > (u64::MAX >> 8) {
                            return bad("chunk size too large");
                        }
                        self.size = self.size * 16 + d;
                        i += 1;
                    }
                    b';' | b' ' | b'\t' => {
                        self.state = ChunkState::SizeExt;
                        i += 1;
                    }
                    b'\r' => {
                        self.state = ChunkState::SizeLf;
                        i += 1;
                    }
                    b'\n' => {
                        self.end_size();
                        i += 1;
                    }
                    _ => return bad("invalid chunk size"),
                },
                ChunkState::SizeExt => {
                    if b == b'\n' {
                        self.end_size();
                    } else if b == b'\r' {
                        self.state = ChunkState::SizeLf;
                    }
                    i += 1;
                }
                ChunkState::SizeLf => {
                    if b != b'\n' {
                        return bad("expected LF after chunk size");
                    }
                    self.end_size();
                    i += 1;
                }
                ChunkState::Data => {
                    let take = self.size.min((input.len() - i) as u64) as usize;
                    out.extend_from_slice(&input[i..i + take]);
                    self.size -= take as u64;
                    i += take;
                    if self.size == 0 {
                        self.state = ChunkState::DataCr;
                    }
                }
                ChunkState::DataCr => {
                    self.state = match b {
                        b'\r' => ChunkState::DataLf,
                        b'\n' => ChunkState::Size,
                        _ => return bad("expected CRLF after chunk data"),
                    };
                    i += 1;
                }
                ChunkState::DataLf => {
                    if b != b'\n' {
                        return bad("expected LF after chunk data");
                    }
                    self.state = ChunkState::Size;
                    i += 1;
                }
                ChunkState::TrailerLineStart => {
                    self.state = match b {
                        b'\r' => ChunkState::TrailerLf,
                        b'\n' => ChunkState::Done,
                        _ => ChunkState::TrailerLine,
                    };
                    i += 1;
                }
                ChunkState::TrailerLine => {
                    if b == b'\n' {
                        self.state = ChunkState::TrailerLineStart;
                    }
                    i += 1;
                }
                ChunkState::TrailerLf => {
                    if b != b'\n' {
                        return bad("expected LF after trailer");
                    }
                    self.state = ChunkState::Done;
                    i += 1;
                }
                ChunkState::Done => break,
            }
            if self.state == ChunkState::Done {
                break;
            }
        }
        Ok(i)
    }

    fn end_size(&mut self) {
        self.state = if self.size == 0 {
            ChunkState::TrailerLineStart
        } else {
            ChunkState::Data
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunked_decoder_handles_any_split() {
        let wire = b"5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\nX-T: 1\r\n\r\n";
        for split in 0..wire.len() {
            let mut c = Chunked::default();
            let mut out = Vec::new();
            let a = c.decode(&wire[..split], &mut out).unwrap();
            assert_eq!(a, split);
            let b = c.decode(&wire[split..], &mut out).unwrap();
            assert_eq!(a + b, wire.len());
            assert!(c.is_done());
            assert_eq!(out, b"hello, world");
        }
    }

    #[test]
    fn chunked_decoder_rejects_garbage() {
        let mut c = Chunked::default();
        assert!(c.decode(b"zz\r\n", &mut Vec::new()).is_err());
    }

    #[test]
    fn target_parses_urls() {
        let t = Target::from_url("http://127.0.0.1:30000/").unwrap();
        assert_eq!(t.base_url(), "http://127.0.0.1:30000");
        assert_eq!(t.prefix, "");
        let t = Target::from_url("http://localhost:8080/v2").unwrap();
        assert_eq!(t.prefix, "/v2");
        let e = Target::from_url("https://x:1").unwrap_err();
        assert!(e.to_string().contains("--base-url"));
    }
}
