//! One request to one response: method check, path check, file or listing, conditional GET,
//! single byte ranges. File-system work runs in one blocking task per request.

use std::ffi::OsStr;
use std::fs::{File, Metadata};
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use bytes::Bytes;
use futures_util::stream;
use http_body_util::combinators::UnsyncBoxBody;
use http_body_util::{BodyExt, Empty, Full, StreamBody};
use hyper::body::Frame;
use hyper::header::{self, HeaderMap, HeaderName, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use tokio::io::AsyncReadExt;

use crate::fsmap::{self, Target};
use crate::headers::{self, RangeOutcome};
use crate::listing;
use crate::urlpath::{self, PathRefusal, SafePath};

/// Response body: in memory for listings, small files and errors; streamed for large files.
pub type Body = UnsyncBoxBody<Bytes, io::Error>;

/// Files (or ranges) up to this size are read in one go; larger ones are streamed.
const READ_WHOLE_LIMIT: u64 = 1 << 20;
/// Chunk size when streaming a large file.
const STREAM_CHUNK: u64 = 256 * 1024;

/// What every request handler needs: the canonical root and the page title.
#[derive(Debug)]
pub struct Site {
    /// Canonical served root.
    pub root: PathBuf,
    /// Title of listing pages.
    pub title: String,
    /// URL prefix the tree is served below (`/plots` in the dashboard; empty at the root):
    /// redirects and listing links carry it.
    pub mount: String,
}

/// The request headers that decide the answer for a file.
#[derive(Debug, Default)]
struct Conditions {
    head: bool,
    if_none_match: Option<String>,
    if_modified_since: Option<String>,
    range: Option<String>,
    if_range: Option<String>,
}

impl Conditions {
    fn from(method: &Method, h: &HeaderMap) -> Self {
        let get = |name: HeaderName| h.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
        Self {
            head: method == Method::HEAD,
            if_none_match: get(header::IF_NONE_MATCH),
            if_modified_since: get(header::IF_MODIFIED_SINCE),
            range: get(header::RANGE),
            if_range: get(header::IF_RANGE),
        }
    }
}

/// A response prepared by the blocking part, turned into a hyper response afterwards.
struct Reply {
    status: StatusCode,
    headers: Vec<(HeaderName, HeaderValue)>,
    body: ReplyBody,
}

enum ReplyBody {
    Empty,
    Bytes(Bytes),
    /// `len` bytes from the current position of `file`.
    Stream(File, u64),
}

/// A refusal worth a log line (the access log shows the status only).
#[derive(Debug)]
pub enum Refused {
    /// The request path itself was refused.
    Path(PathRefusal),
    /// A symlink led outside the root (the resolved target is logged, never sent).
    Escape(PathBuf),
}

/// The documented limit of a request head (request line and headers, as sent): 64 KiB.
pub const MAX_HEAD_BYTES: usize = 64 * 1024;

/// The size of a request head as it was sent: request line, each `name: value` line, and the
/// blank line (hyper's read buffer bounds it only roughly, so the limit is checked here).
pub fn head_size<B>(req: &Request<B>) -> usize {
    let target = req.uri().path_and_query().map_or(1, |pq| pq.as_str().len());
    let line = req.method().as_str().len() + 1 + target + 1 + "HTTP/1.1".len() + 2;
    let headers: usize = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + 2 + v.len() + 2)
        .sum();
    line + headers + 2
}

/// Answers one request. Never fails: errors become error pages. Returns the refusal reason,
/// if any, for the log.
pub async fn respond<B>(
    site: &std::sync::Arc<Site>,
    req: &Request<B>,
) -> (Response<Body>, Option<Refused>) {
    let method = req.method();
    if head_size(req) > MAX_HEAD_BYTES {
        let mut reply = error_page(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "Request header fields too large",
            "The request head may be at most 64 KiB.",
            method == Method::HEAD,
        );
        reply
            .headers
            .push((header::CONNECTION, HeaderValue::from_static("close")));
        return (into_response(reply), None);
    }
    if method != Method::GET && method != Method::HEAD {
        let mut reply = error_page(
            StatusCode::NOT_IMPLEMENTED,
            &format!("Unsupported method ('{}')", method.as_str()),
            "Server does not support this operation.",
            false,
        );
        reply
            .headers
            .push((header::ALLOW, HeaderValue::from_static("GET, HEAD")));
        return (into_response(reply), None);
    }
    let head = method == Method::HEAD;
    let path = match urlpath::parse(req.uri().path()) {
        Ok(p) => p,
        Err(why) => {
            let status = if matches!(why, PathRefusal::BadEncoding | PathRefusal::NotAbsolute) {
                StatusCode::BAD_REQUEST
            } else {
                StatusCode::FORBIDDEN
            };
            let reply = error_page(status, &why.to_string(), "The path is not allowed.", head);
            return (into_response(reply), Some(Refused::Path(why)));
        }
    };
    let cond = Conditions::from(method, req.headers());
    let query = req.uri().query().map(str::to_owned);
    let site = std::sync::Arc::clone(site);
    let outcome =
        tokio::task::spawn_blocking(move || plan(&site, &path, query.as_deref(), &cond)).await;
    match outcome {
        Ok((reply, refused)) => (into_response(reply), refused),
        Err(_) => (
            into_response(error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Internal error",
                "The request could not be completed.",
                head,
            )),
            None,
        ),
    }
}

fn plan(
    site: &Site,
    path: &SafePath,
    query: Option<&str>,
    cond: &Conditions,
) -> (Reply, Option<Refused>) {
    match fsmap::resolve(&site.root, &path.segments) {
        Target::Missing => (not_found(cond.head), None),
        Target::Escapes(to) => (not_found(cond.head), Some(Refused::Escape(to))),
        Target::File { .. } if path.trailing_slash => (not_found(cond.head), None),
        Target::File { path: p, meta } => (file_reply(&p, &meta, cond), None),
        Target::Dir(_) if !path.trailing_slash => {
            let mut location = format!("{}{}", site.mount, path.url(true));
            if let Some(q) = query {
                location.push('?');
                location.push_str(q);
            }
            let mut reply = Reply {
                status: StatusCode::MOVED_PERMANENTLY,
                headers: Vec::new(),
                body: ReplyBody::Empty,
            };
            push(&mut reply.headers, header::LOCATION, &location);
            push(&mut reply.headers, header::CONTENT_LENGTH, "0");
            (reply, None)
        }
        Target::Dir(dir) => {
            if let Some((p, meta)) = fsmap::index_file(&site.root, &dir) {
                return (file_reply(&p, &meta, cond), None);
            }
            match fsmap::list(&site.root, &dir) {
                Ok(entries) => {
                    let html = listing::render_at(&site.mount, &site.title, path, &entries);
                    (listing_reply(html, cond.head), None)
                }
                Err(_) => (
                    error_page(
                        StatusCode::NOT_FOUND,
                        "No permission to list directory",
                        "Nothing matches the given URI.",
                        cond.head,
                    ),
                    None,
                ),
            }
        }
    }
}

fn listing_reply(html: String, head: bool) -> Reply {
    let mut headers = Vec::with_capacity(5);
    push(
        &mut headers,
        header::CONTENT_TYPE,
        "text/html; charset=utf-8",
    );
    push(
        &mut headers,
        header::CONTENT_LENGTH,
        &html.len().to_string(),
    );
    push(&mut headers, header::CACHE_CONTROL, "no-cache");
    push(
        &mut headers,
        header::CONTENT_SECURITY_POLICY,
        "default-src 'none'; img-src 'self'; style-src 'unsafe-inline'",
    );
    push(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    Reply {
        status: StatusCode::OK,
        headers,
        body: if head {
            ReplyBody::Empty
        } else {
            ReplyBody::Bytes(Bytes::from(html))
        },
    }
}

fn file_reply(path: &Path, meta: &Metadata, cond: &Conditions) -> Reply {
    let file = match File::open(path) {
        Ok(f) => f,
        Err(_) => return not_found(cond.head),
    };
    // Metadata of the opened handle, so size and tag describe what is actually sent.
    let meta = file.metadata().unwrap_or_else(|_| meta.clone());
    if !meta.is_file() {
        return not_found(cond.head);
    }
    let len = meta.len();
    let modified = meta.modified().unwrap_or(std::time::UNIX_EPOCH);
    let mtime = headers::unix_secs(modified);
    let etag = headers::etag(len, modified);
    let last_modified = headers::http_date(mtime);
    let name = path.file_name().unwrap_or(OsStr::new(""));

    let mut hdrs = Vec::with_capacity(8);
    push(&mut hdrs, header::ETAG, &etag);
    push(&mut hdrs, header::LAST_MODIFIED, &last_modified);
    push(&mut hdrs, header::CACHE_CONTROL, "no-cache");

    let not_modified = match (&cond.if_none_match, &cond.if_modified_since) {
        (Some(inm), _) => headers::none_match(inm, &etag),
        (None, Some(ims)) => headers::parse_http_date(ims).is_some_and(|since| mtime <= since),
        (None, None) => false,
    };
    if not_modified {
        return Reply {
            status: StatusCode::NOT_MODIFIED,
            headers: hdrs,
            body: ReplyBody::Empty,
        };
    }

    push(
        &mut hdrs,
        header::CONTENT_TYPE,
        headers::mime_type(name.as_bytes()),
    );
    push(&mut hdrs, header::ACCEPT_RANGES, "bytes");
    push(&mut hdrs, header::X_CONTENT_TYPE_OPTIONS, "nosniff");

    let range_applies = match &cond.if_range {
        None => true,
        Some(v) if v.trim_start().starts_with('"') => v.trim() == etag,
        Some(v) => headers::parse_http_date(v) == Some(mtime),
    };
    let outcome = match &cond.range {
        Some(r) if range_applies => headers::byte_range(r, len),
        _ => RangeOutcome::Full,
    };
    let (status, start, count) = match outcome {
        RangeOutcome::Full => (StatusCode::OK, 0, len),
        RangeOutcome::Partial { start, end } => {
            push(
                &mut hdrs,
                header::CONTENT_RANGE,
                &format!("bytes {start}-{end}/{len}"),
            );
            (StatusCode::PARTIAL_CONTENT, start, end - start + 1)
        }
        RangeOutcome::Unsatisfiable => {
            let mut reply = error_page(
                StatusCode::RANGE_NOT_SATISFIABLE,
                "Requested range not satisfiable",
                &format!("The file is {len} bytes long."),
                cond.head,
            );
            reply.headers.extend(hdrs);
            push(
                &mut reply.headers,
                header::CONTENT_RANGE,
                &format!("bytes */{len}"),
            );
            return reply;
        }
    };
    push(&mut hdrs, header::CONTENT_LENGTH, &count.to_string());
    let body = if cond.head || count == 0 {
        ReplyBody::Empty
    } else {
        match read_part(file, start, count) {
            Ok(b) => b,
            Err(_) => {
                return error_page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Cannot read file",
                    "The file could not be read.",
                    false,
                );
            }
        }
    };
    Reply {
        status,
        headers: hdrs,
        body,
    }
}

fn read_part(mut file: File, start: u64, count: u64) -> io::Result<ReplyBody> {
    if start > 0 {
        file.seek(SeekFrom::Start(start))?;
    }
    if count <= READ_WHOLE_LIMIT {
        let mut buf = vec![0; usize::try_from(count).unwrap_or(0)];
        file.read_exact(&mut buf)?;
        Ok(ReplyBody::Bytes(Bytes::from(buf)))
    } else {
        Ok(ReplyBody::Stream(file, count))
    }
}

fn not_found(head: bool) -> Reply {
    error_page(
        StatusCode::NOT_FOUND,
        "File not found.",
        "Nothing matches the given URI.",
        head,
    )
}

/// The original's error page shape: `Error response`, `Error code`, `Message`, explanation.
fn error_page(status: StatusCode, message: &str, explanation: &str, head: bool) -> Reply {
    let code = status.as_u16();
    let html = format!(
        "<!DOCTYPE HTML>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <title>Error response</title>\n</head>\n<body>\n<h1>Error response</h1>\n\
         <p>Error code: {code}</p>\n<p>Message: {}</p>\n\
         <p>Error code explanation: {code} - {}</p>\n</body>\n</html>\n",
        listing::escape_html(message),
        listing::escape_html(explanation),
    );
    let mut headers = Vec::with_capacity(3);
    push(
        &mut headers,
        header::CONTENT_TYPE,
        "text/html; charset=utf-8",
    );
    push(
        &mut headers,
        header::CONTENT_LENGTH,
        &html.len().to_string(),
    );
    push(&mut headers, header::X_CONTENT_TYPE_OPTIONS, "nosniff");
    Reply {
        status,
        headers,
        body: if head {
            ReplyBody::Empty
        } else {
            ReplyBody::Bytes(Bytes::from(html))
        },
    }
}

/// Adds a header whose value this module built itself (always visible ASCII); a value that is
/// not is dropped rather than sent.
fn push(headers: &mut Vec<(HeaderName, HeaderValue)>, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        headers.push((name, v));
    }
}

fn into_response(reply: Reply) -> Response<Body> {
    let body: Body = match reply.body {
        ReplyBody::Empty => Empty::new().map_err(|never| match never {}).boxed_unsync(),
        ReplyBody::Bytes(b) => Full::new(b).map_err(|never| match never {}).boxed_unsync(),
        ReplyBody::Stream(file, len) => stream_file(tokio::fs::File::from_std(file), len),
    };
    let mut resp = Response::new(body);
    *resp.status_mut() = reply.status;
    let h = resp.headers_mut();
    h.insert(
        header::SERVER,
        HeaderValue::from_static(crate::SERVER_HEADER),
    );
    for (k, v) in reply.headers {
        h.insert(k, v);
    }
    resp
}

fn stream_file(file: tokio::fs::File, len: u64) -> Body {
    let chunks = stream::try_unfold((file, len), |(mut file, left)| async move {
        if left == 0 {
            return Ok(None);
        }
        let want = usize::try_from(left.min(STREAM_CHUNK)).unwrap_or(0);
        let mut buf = vec![0; want];
        let n = file.read(&mut buf).await?;
        if n == 0 {
            return Err(io::Error::new(
                io::ErrorKind::UnexpectedEof,
                "file shrank while it was being sent",
            ));
        }
        buf.truncate(n);
        let left = left - u64::try_from(n).unwrap_or(left);
        Ok(Some((Frame::data(Bytes::from(buf)), (file, left))))
    });
    StreamBody::new(chunks).boxed_unsync()
}
