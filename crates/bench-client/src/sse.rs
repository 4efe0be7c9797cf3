//! Server-sent events as bench_serving reads them: the body is split into lines, each line is
//! stripped, empty lines are skipped and a leading `data: ` is removed. The per-token path
//! scans SGLang's native events for the two fields it needs (`text` empty or not, and
//! `meta_info.completion_tokens`) instead of building a JSON tree; anything the scan does not
//! recognise falls back to a full parse.

use std::borrow::Cow;
use std::sync::LazyLock;

use memchr::memmem;
use serde::Deserialize;

/// Splits a byte stream into lines; a line split across reads is carried over.
#[derive(Debug, Default)]
pub struct Lines {
    carry: Vec<u8>,
}

impl Lines {
    /// Feeds bytes; calls `f` with every complete line (without its `\n`) and, when the line
    /// lies wholly inside `data`, its start offset there (`None` for a line completed from
    /// bytes carried over from an earlier call).
    pub fn feed(&mut self, mut data: &[u8], mut f: impl FnMut(&[u8], Option<usize>)) {
        let mut base = 0;
        if !self.carry.is_empty() {
            match memchr::memchr(b'\n', data) {
                Some(i) => {
                    self.carry.extend_from_slice(&data[..i]);
                    f(&self.carry, None);
                    self.carry.clear();
                    data = &data[i + 1..];
                    base = i + 1;
                }
                None => {
                    self.carry.extend_from_slice(data);
                    return;
                }
            }
        }
        let mut start = 0;
        for i in memchr::memchr_iter(b'\n', data) {
            f(&data[start..i], Some(base + start));
            start = i + 1;
        }
        self.carry.extend_from_slice(&data[start..]);
    }

    /// Calls `f` with an unterminated last line, if any.
    pub fn finish(&mut self, mut f: impl FnMut(&[u8])) {
        if !self.carry.is_empty() {
            f(&self.carry);
            self.carry.clear();
        }
    }
}

/// What one stripped, non-empty SSE line is.
#[derive(Debug, PartialEq, Eq)]
pub enum Line<'a> {
    /// `data: [DONE]`.
    Done,
    /// A JSON payload (the `data: ` prefix removed).
    Json(&'a [u8]),
}

/// Strips ASCII whitespace (Python's `bytes.strip()`); `None` for an empty line.
pub fn classify(line: &[u8]) -> Option<Line<'_>> {
    let line = line.trim_ascii();
    if line.is_empty() {
        return None;
    }
    let payload = line.strip_prefix(b"data: ").unwrap_or(line);
    if payload == b"[DONE]" {
        Some(Line::Done)
    } else {
        Some(Line::Json(payload))
    }
}

/// The fields of one native `/generate` event the client needs.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NativeEvent {
    /// `text` is a non-empty string (the chunk counts).
    pub has_text: bool,
    /// `meta_info.completion_tokens` (cumulative).
    pub completion_tokens: Option<u64>,
    /// The error message of `{"error": ...}` events.
    pub error: Option<String>,
    /// `finish_reason.type == "abort"` with its message.
    pub abort: Option<String>,
}

static TEXT_KEY: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"text\":"));
static TOKENS_KEY: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new(b"\"completion_tokens\":"));
static META_KEY: LazyLock<memmem::FinderRev<'static>> =
    LazyLock::new(|| memmem::FinderRev::new(b"\"meta_info\":"));
static ABORT: LazyLock<memmem::Finder<'static>> =
    LazyLock::new(|| memmem::Finder::new(b"\"abort\""));

/// Scans one native event; `None` when the payload is not JSON this scan understands (the
/// caller then counts the request as failed with the payload as reason).
pub fn scan_native(json: &[u8]) -> Option<NativeEvent> {
    // Fast path: `{"text": "...", ..., "meta_info": {..., "completion_tokens": N, ...}}`.
    if let Some(p) = TEXT_KEY.find(json) {
        let rest = json[p + 7..].trim_ascii_start();
        if rest.first() == Some(&b'"') {
            let has_text = rest.get(1) != Some(&b'"');
            let completion_tokens = TOKENS_KEY.rfind(json).and_then(|q| {
                let digits = json[q + 20..].trim_ascii_start();
                let end = digits
                    .iter()
                    .position(|b| !b.is_ascii_digit())
                    .unwrap_or(digits.len());
                std::str::from_utf8(&digits[..end]).ok()?.parse().ok()
            });
            // An abort finish reason is rare: only then parse the whole event.
            let meta = META_KEY.rfind(json).unwrap_or(0);
            let abort = if ABORT.find(&json[meta..]).is_some() {
                slow_native(json).and_then(|e| e.abort)
            } else {
                None
            };
            return Some(NativeEvent {
                has_text,
                completion_tokens,
                error: None,
                abort,
            });
        }
    }
    slow_native(json)
}

#[derive(Deserialize)]
struct NativeFull<'a> {
    #[serde(default)]
    text: Option<serde_json::Value>,
    #[serde(default, borrow)]
    meta_info: Option<Meta<'a>>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct Meta<'a> {
    #[serde(default)]
    completion_tokens: Option<u64>,
    #[serde(default, borrow)]
    finish_reason: Option<FinishReason<'a>>,
}

#[derive(Deserialize)]
struct FinishReason<'a> {
    #[serde(default, borrow, rename = "type")]
    kind: Option<Cow<'a, str>>,
    #[serde(default)]
    message: Option<serde_json::Value>,
}

fn slow_native(json: &[u8]) -> Option<NativeEvent> {
    let v: NativeFull<'_> = serde_json::from_slice(json).ok()?;
    let error = v
        .error
        .map(|e| match e.get("message").and_then(|m| m.as_str()) {
            Some(m) => m.to_string(),
            None => e.to_string(),
        });
    let has_text = match &v.text {
        Some(serde_json::Value::String(s)) => !s.is_empty(),
        _ => false,
    };
    let (completion_tokens, abort) = match v.meta_info {
        Some(m) => {
            let abort = m.finish_reason.and_then(|f| {
                (f.kind.as_deref() == Some("abort")).then(|| match f.message {
                    Some(serde_json::Value::String(s)) => s,
                    Some(other) => other.to_string(),
                    None => "aborted".to_string(),
                })
            });
            (m.completion_tokens, abort)
        }
        None => (None, None),
    };
    Some(NativeEvent {
        has_text,
        completion_tokens,
        error,
        abort,
    })
}

/// The final text of a native event (`text`), parsed only once per request.
pub fn native_text(json: &[u8]) -> String {
    #[derive(Deserialize)]
    struct T {
        #[serde(default)]
        text: Option<String>,
    }
    serde_json::from_slice::<T>(json)
        .ok()
        .and_then(|t| t.text)
        .unwrap_or_default()
}

/// One OpenAI streaming chunk (completions or chat).
#[derive(Debug, Default, PartialEq, Eq)]
pub struct OaiEvent {
    /// The chunk's new text (`choices[0].text` or `choices[0].delta.content`), possibly empty.
    pub text: String,
    /// `usage.completion_tokens` when the chunk carries usage.
    pub completion_tokens: Option<u64>,
    /// The message of an `{"error": ...}` chunk.
    pub error: Option<String>,
}

#[derive(Deserialize)]
struct OaiChunk<'a> {
    #[serde(default, borrow)]
    choices: Vec<OaiChoice<'a>>,
    #[serde(default)]
    usage: Option<Usage>,
    #[serde(default)]
    error: Option<serde_json::Value>,
}

#[derive(Deserialize)]
struct OaiChoice<'a> {
    #[serde(default, borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(default, borrow)]
    delta: Option<Delta<'a>>,
}

#[derive(Deserialize)]
struct Delta<'a> {
    #[serde(default, borrow)]
    content: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Usage {
    #[serde(default)]
    completion_tokens: Option<u64>,
}

/// Parses one OpenAI chunk; `None` when it is not JSON.
pub fn parse_oai(json: &[u8]) -> Option<OaiEvent> {
    let c: OaiChunk<'_> = serde_json::from_slice(json).ok()?;
    let text = c
        .choices
        .into_iter()
        .next()
        .and_then(|ch| ch.text.or_else(|| ch.delta.and_then(|d| d.content)))
        .map(Cow::into_owned)
        .unwrap_or_default();
    Some(OaiEvent {
        text,
        completion_tokens: c.usage.and_then(|u| u.completion_tokens),
        error: c
            .error
            .map(|e| match e.get("message").and_then(|m| m.as_str()) {
                Some(m) => m.to_string(),
                None => e.to_string(),
            }),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_survive_any_split() {
        let wire = b"data: a\n\ndata: bb\r\n\ndata: [DONE]\n\n";
        for split in 0..wire.len() {
            let mut l = Lines::default();
            let mut got = Vec::new();
            l.feed(&wire[..split], |x, _| got.push(x.to_vec()));
            let second = &wire[split..];
            l.feed(second, |x, at| {
                if let Some(a) = at {
                    assert_eq!(&second[a..a + x.len()], x);
                }
                got.push(x.to_vec());
            });
            l.finish(|x| got.push(x.to_vec()));
            let kept: Vec<_> = got
                .iter()
                .filter_map(|x| classify(x))
                .map(|l| format!("{l:?}"))
                .collect();
            assert_eq!(
                kept,
                ["Json([97])", "Json([98, 98])", "Done"],
                "split {split}"
            );
        }
    }

    #[test]
    fn native_scan_reads_text_and_cumulative_tokens() {
        let e = br#"{"text": " the the", "output_ids": [259], "meta_info": {"id": "x", "finish_reason": null, "prompt_tokens": 6, "completion_tokens": 12, "cached_tokens": 0}}"#;
        assert_eq!(
            scan_native(e),
            Some(NativeEvent {
                has_text: true,
                completion_tokens: Some(12),
                ..Default::default()
            })
        );
        let compact = br#"{"text":"","meta_info":{"completion_tokens":3}}"#;
        let s = scan_native(compact).unwrap();
        assert!(!s.has_text);
        assert_eq!(s.completion_tokens, Some(3));
        // Quotes inside the text are escaped, so a fake key inside it is not matched.
        let tricky =
            br#"{"text": "a \"completion_tokens\": 99", "meta_info": {"completion_tokens": 4}}"#;
        assert_eq!(scan_native(tricky).unwrap().completion_tokens, Some(4));
    }

    #[test]
    fn native_errors_and_aborts_are_recognised() {
        let e = scan_native(br#"{"error": {"message": "boom"}}"#).unwrap();
        assert_eq!(e.error.as_deref(), Some("boom"));
        let a = scan_native(
            br#"{"text": "x", "meta_info": {"finish_reason": {"type": "abort", "message": "oom"}, "completion_tokens": 1}}"#,
        )
        .unwrap();
        assert_eq!(a.abort.as_deref(), Some("oom"));
        assert_eq!(scan_native(b"not json"), None);
    }

    #[test]
    fn oai_chunks_completion_chat_and_usage() {
        let c = parse_oai(br#"{"id":"c","choices":[{"index":0,"text":" the","finish_reason":null}],"usage":null}"#).unwrap();
        assert_eq!(c.text, " the");
        assert_eq!(c.completion_tokens, None);
        let d = parse_oai(
            br#"{"choices":[{"delta":{"content":"hi\n"}}],"usage":{"completion_tokens":7}}"#,
        )
        .unwrap();
        assert_eq!(d.text, "hi\n");
        assert_eq!(d.completion_tokens, Some(7));
        let u = parse_oai(br#"{"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":9}}"#)
            .unwrap();
        assert_eq!((u.text.as_str(), u.completion_tokens), ("", Some(9)));
    }
}
