//! Secret masking for every line the toolkit writes (spec quirks F-1 and Q-SEC-1).
//!
//! The original echoed Teams/Power Automate webhook URLs (with their `sig=` signature) and
//! GitHub tokens into timing summaries, cron logs and uploaded files. Everything we write goes
//! through [`redact`], which keeps the surrounding line format and replaces the secret by `***`.
//!
//! Two layers:
//! - **by value**: every secret the process knows (webhook URLs and tokens from flags and the
//!   environment) is registered once at start ([`register_secret`], [`register_from_env`],
//!   [`register_from_args`]); [`redact`] replaces each registered value, and the pieces of a
//!   registered URL a failing client prints on its own (its path, its query, its signature),
//!   wherever they appear — also in child programs' output the process relays;
//! - **by pattern**: secrets nobody registered (a webhook URL typed into a config file, a
//!   `ghp_` token, `--github-token=x`, `TOKEN=x`) are recognised by their shape.

use std::borrow::Cow;
use std::sync::{LazyLock, RwLock};

use regex::Regex;

/// The replacement text for a secret.
pub const MASK: &str = "***";

/// Registered values shorter than this are ignored (they would mask ordinary words).
pub const MIN_SECRET_LEN: usize = 8;

/// Webhook-shaped URLs: Teams incoming webhooks, Logic Apps / Power Automate triggers, and any
/// URL that carries a signature, token or key in its query.
static WEBHOOK_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        (?P<keep>https?://[^\s/"'?]*
            (?:webhook\.office\.com|outlook\.office\.com|logic\.azure\.com|powerplatform\.com|teams-webhook)
            [^\s/"'?]*)
        (?P<secret>[/?][^\s"']*)
      | (?P<keep2>https?://[^\s"'?]+\?)(?P<secret2>[^\s"']*(?:sig|token|key|secret|password)=[^\s"']*)
    "#,
    )
    .expect("static regex")
});

/// A signature or key in a query string printed without its URL (what Python `requests`
/// prints on failure: `Max retries exceeded with url: /workflows/...?...&sig=...`), and a
/// workflow id in such a path.
static QUERY_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?xi)
        (?P<keep>[?&](?:sig|signature|access_token|token|api[_-]?key|secret|password)=)[^\s&\#\x22']+
      | (?P<keep2>/(?:workflows|webhookb2|IncomingWebhook)/)[0-9a-f@-]{16,}
    ",
    )
    .expect("static regex")
});

/// GitHub tokens (classic, fine-grained, OAuth, app, refresh) and bearer credentials.
static GITHUB_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,}|hf_[A-Za-z0-9]{30,})")
        .expect("static regex")
});

/// The password of a URL (`postgres://user:password@host/db`, a git remote).
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<keep>\b[A-Za-z][A-Za-z0-9+.-]*://[^\s:/@]+:)[^\s@/]+@").expect("static regex")
});

/// `Bearer <credential>` (an Authorization header echoed by a client).
static BEARER: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?P<keep>\b[Bb]earer\s+)[A-Za-z0-9._~+/-]{8,}=*").expect("static regex")
});

/// `NAME=value`, `--name=value` and `--name value` assignments whose name says it is a
/// secret. A bare word followed by a space (`token is x`) is prose, not an assignment: the
/// space form needs the `--` of a flag.
static SECRET_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        (?P<name>
            (?:^|[\s"'(\[,])--(?:[A-Za-z][A-Za-z0-9_-]*)?
                (?:webhook[_-]?url|token|password|secret|api[_-]?key)(?:=|\s+)
          | \b[A-Za-z0-9_-]*(?:webhook[_-]?url|token|password|secret|api[_-]?key)=
        )
        (?P<quote>["']?)(?P<value>[^\s"',;)\]}&]+)
    "#,
    )
    .expect("static regex")
});

/// Names that match [`SECRET_ASSIGNMENT`] but are not secrets.
const NOT_SECRET_NAMES: &[&str] = &["tokenizer", "tokens", "max-tokens", "max_tokens"];

/// Values that say "no secret here" (`api_key=None`).
const EMPTY_VALUES: &[&str] = &["none", "null", "nil", "false", "true", "unset", "<none>"];

/// Every value [`register_secret`] was given, and the pieces derived from it, longest first.
static REGISTRY: RwLock<Vec<String>> = RwLock::new(Vec::new());

/// Registers one secret value: from now on [`redact`] masks it wherever it appears. A URL also
/// registers the pieces a client prints on its own (path with query, path, query, signature
/// and other long query values, long path segments). Values shorter than [`MIN_SECRET_LEN`]
/// are ignored; registering twice is harmless.
pub fn register_secret(value: &str) {
    let value = value.trim();
    if value.len() < MIN_SECRET_LEN {
        return;
    }
    let mut pieces = vec![value.to_owned()];
    if let Some((_, rest)) = value.split_once("://")
        && let Some(i) = rest.find(['/', '?'])
    {
        let tail = &rest[i..];
        pieces.push(tail.to_owned());
        let (path, query) = tail.split_once('?').unwrap_or((tail, ""));
        pieces.push(path.to_owned());
        pieces.push(query.to_owned());
        for seg in path.split('/').filter(|s| s.len() >= 16) {
            pieces.push(seg.to_owned());
        }
        for kv in query.split('&') {
            let (k, v) = kv.split_once('=').unwrap_or(("", kv));
            let k = k.to_ascii_lowercase();
            let secretish = [
                "sig",
                "signature",
                "token",
                "key",
                "secret",
                "password",
                "code",
            ]
            .iter()
            .any(|s| k.contains(s));
            if secretish || v.len() >= 16 {
                pieces.push(v.to_owned());
            }
        }
    }
    let decoded: Vec<String> = pieces
        .iter()
        .map(|p| percent_decode(p))
        .filter(|d| !pieces.contains(d))
        .collect();
    pieces.extend(decoded);
    let Ok(mut reg) = REGISTRY.write() else {
        return;
    };
    for p in pieces {
        if p.len() >= MIN_SECRET_LEN && !reg.contains(&p) {
            reg.push(p);
        }
    }
    reg.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// Whether an environment variable's name says its value is a secret: `*_TOKEN`, `*_KEY`,
/// `*_SECRET`, `*_PASSWORD`, and anything with `WEBHOOK` in it.
pub fn is_secret_env_name(name: &str) -> bool {
    let n = name.to_ascii_uppercase();
    n.contains("WEBHOOK")
        || ["_TOKEN", "_KEY", "_SECRET", "_PASSWORD"]
            .iter()
            .any(|s| n.ends_with(s))
        || ["TOKEN", "GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN"].contains(&n.as_str())
}

/// Registers the value of every environment variable [`is_secret_env_name`] accepts.
pub fn register_from_env() {
    for (k, v) in std::env::vars_os() {
        if let (Some(k), Some(v)) = (k.to_str(), v.to_str())
            && is_secret_env_name(k)
        {
            register_secret(v);
        }
    }
}

/// Whether a flag's name (`--teams-webhook-url`, `--github_token`) says its value is a secret.
pub fn is_secret_flag_name(flag: &str) -> bool {
    let n = flag
        .trim_start_matches('-')
        .to_ascii_lowercase()
        .replace('_', "-");
    n.contains("webhook")
        || ["token", "secret", "password", "api-key", "access-key"]
            .iter()
            .any(|s| n.ends_with(s))
}

/// Registers the values of secret-named flags in a command line (`--name=value` and
/// `--name value`; see [`is_secret_flag_name`]).
pub fn register_from_args<I, S>(args: I)
where
    I: IntoIterator<Item = S>,
    S: AsRef<str>,
{
    let args: Vec<S> = args.into_iter().collect();
    for (i, a) in args.iter().enumerate() {
        let a = a.as_ref();
        if !a.starts_with("--") {
            continue;
        }
        match a.split_once('=') {
            Some((name, value)) if is_secret_flag_name(name) => register_secret(value),
            None if is_secret_flag_name(a) => {
                if let Some(next) = args.get(i + 1).map(AsRef::as_ref)
                    && !next.starts_with("--")
                {
                    register_secret(next);
                }
            }
            _ => {}
        }
    }
}

/// How many values (and derived pieces) are registered; tests and diagnostics.
pub fn registered_count() -> usize {
    REGISTRY.read().map_or(0, |r| r.len())
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && let (Some(h), Some(l)) = (hex(b[i + 1]), hex(b[i + 2]))
        {
            out.push(h * 16 + l);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    String::from_utf8(out).unwrap_or_else(|_| s.to_owned())
}

fn hex(c: u8) -> Option<u8> {
    (c as char).to_digit(16).and_then(|d| u8::try_from(d).ok())
}

/// Replaces every secret in `text` by [`MASK`], keeping everything around it: first every
/// registered value, then the pattern rules.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
    if let Ok(reg) = REGISTRY.read() {
        for s in reg.iter() {
            if out.contains(s.as_str()) {
                out = Cow::Owned(out.replace(s.as_str(), MASK));
            }
        }
    }
    if WEBHOOK_URL.is_match(&out) {
        out = Cow::Owned(
            WEBHOOK_URL
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let keep = c
                        .name("keep")
                        .or_else(|| c.name("keep2"))
                        .map_or("", |m| m.as_str());
                    let sep = if c.name("secret").is_some() { "/" } else { "" };
                    format!("{keep}{sep}{MASK}")
                })
                .into_owned(),
        );
    }
    for re in [&*QUERY_SECRET, &*BEARER] {
        if re.is_match(&out) {
            out = Cow::Owned(
                re.replace_all(&out, |c: &regex::Captures<'_>| {
                    let keep = c
                        .name("keep")
                        .or_else(|| c.name("keep2"))
                        .map_or("", |m| m.as_str());
                    format!("{keep}{MASK}")
                })
                .into_owned(),
            );
        }
    }
    if URL_PASSWORD.is_match(&out) {
        out = Cow::Owned(
            URL_PASSWORD
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    format!("{}{MASK}@", &c["keep"])
                })
                .into_owned(),
        );
    }
    if GITHUB_TOKEN.is_match(&out) {
        out = Cow::Owned(GITHUB_TOKEN.replace_all(&out, MASK).into_owned());
    }
    if SECRET_ASSIGNMENT.is_match(&out) {
        out = Cow::Owned(
            SECRET_ASSIGNMENT
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let name = &c["name"];
                    let bare = name
                        .trim_start_matches(|ch: char| !ch.is_ascii_alphanumeric())
                        .trim_end_matches(|ch: char| ch == '=' || ch.is_whitespace())
                        .to_ascii_lowercase();
                    let value = &c["value"];
                    // `--teams-webhook-url not set`: in the space form a short word of lower-case
                    // letters is the sentence going on, never a URL or a token.
                    let prose_word = name.ends_with(char::is_whitespace)
                        && value.len() <= 12
                        && value.bytes().all(|b| b.is_ascii_lowercase());
                    if prose_word
                        || NOT_SECRET_NAMES.iter().any(|n| bare.ends_with(n))
                        || value.starts_with("--")
                        || value.contains(MASK)
                        || EMPTY_VALUES.contains(&value.to_ascii_lowercase().as_str())
                    {
                        c[0].to_string()
                    } else {
                        format!("{name}{}{MASK}", &c["quote"])
                    }
                })
                .into_owned(),
        );
    }
    out
}

/// Masks `text` and also every exact occurrence of the given secret values (for example the
/// value of `TEAMS_WEBHOOK_URL` read at start-up); values shorter than [`MIN_SECRET_LEN`]
/// are ignored.
pub fn redact_with<'a>(text: &'a str, secrets: &[String]) -> Cow<'a, str> {
    let mut out = redact(text);
    for s in secrets.iter().filter(|s| s.len() >= MIN_SECRET_LEN) {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
        }
    }
    out
}

/// Replaces control characters (C0 except tab, DEL, C1) by visible escapes such as `\u{1b}`,
/// so that text taken from a bad file (a name, a cell, a log line) cannot break, forge or
/// repaint a log line. Newlines are escaped too: the result is one line.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    escape_controls_inner(text, false)
}

/// [`escape_controls`] that keeps `\n` (for a writer that receives whole, newline-terminated
/// log records).
pub fn escape_controls_keep_newlines(text: &str) -> Cow<'_, str> {
    escape_controls_inner(text, true)
}

fn escape_controls_inner(text: &str, keep_newlines: bool) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\t' && !(keep_newlines && c == '\n');
    if !text.chars().any(bad) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if bad(c) {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Masks a byte stream (a child program's output) line by line: bytes are held until a line
/// ends (`\n` or `\r`), so a secret split across two reads is still found. A line longer
/// than [`LineMasker::MAX_LINE`] is masked and passed on in pieces.
#[derive(Debug, Default)]
pub struct LineMasker {
    pending: Vec<u8>,
}

impl LineMasker {
    /// The most bytes held back waiting for a line end.
    pub const MAX_LINE: usize = 64 * 1024;

    /// A masker with nothing pending.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes `bytes`; hands every complete line, masked, to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut dyn FnMut(&[u8])) {
        self.pending.extend_from_slice(bytes);
        let mut start = 0;
        while let Some(i) = self.pending[start..]
            .iter()
            .position(|&b| b == b'\n' || b == b'\r')
        {
            let end = start + i + 1;
            emit(&self.pending[start..end], out);
            start = end;
        }
        self.pending.drain(..start);
        if self.pending.len() > Self::MAX_LINE {
            let held = std::mem::take(&mut self.pending);
            emit(&held, out);
        }
    }

    /// Hands what is left (a last line without its end), masked, to `out`.
    pub fn finish(&mut self, out: &mut dyn FnMut(&[u8])) {
        if !self.pending.is_empty() {
            let held = std::mem::take(&mut self.pending);
            emit(&held, out);
        }
    }
}

fn emit(line: &[u8], out: &mut dyn FnMut(&[u8])) {
    match std::str::from_utf8(line) {
        Ok(s) => match redact(s) {
            Cow::Borrowed(_) => out(line),
            Cow::Owned(m) => out(m.as_bytes()),
        },
        Err(_) => {
            let s = String::from_utf8_lossy(line);
            out(redact(&s).as_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn power_automate_url_keeps_host_and_hides_path_and_signature() {
        let line = "Command: bash perf_nightly.sh --teams-webhook-url=https://x1.environment.api.powerplatform.com:443/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers&sv=1.0&sig=AbCdEf0123456789 --model=grok";
        let r = redact(line);
        assert!(!r.contains("sig="), "{r}");
        assert!(!r.contains("workflows/abc"), "{r}");
        assert!(
            r.contains("https://x1.environment.api.powerplatform.com:443/***"),
            "{r}"
        );
        assert!(r.ends_with(" --model=grok"), "{r}");
    }

    #[test]
    fn teams_webhook_and_logic_apps_urls_are_masked() {
        for url in [
            "https://contoso.webhook.office.com/webhookb2/1234@5678/IncomingWebhook/abc/def",
            "https://prod-12.westus.logic.azure.com:443/workflows/abc/triggers/manual/paths/invoke?api-version=2016-06-01&sig=zzz",
            "https://teams-webhook.invalid/REDACTED",
        ] {
            let r = redact(url);
            assert!(r.ends_with("/***"), "{url} -> {r}");
        }
    }

    #[test]
    fn any_url_with_a_signature_query_is_masked() {
        let r = redact("POST https://example.org/hook?a=1&sig=SECRET failed");
        assert_eq!(r, "POST https://example.org/hook?*** failed");
    }

    #[test]
    fn github_tokens_and_assignments_are_masked() {
        // A token-shaped value made at run time, so no secret-looking literal is committed.
        let token = format!("ghp_{}", "x".repeat(36));
        let line = format!(r#"GITHUB_TOKEN="{token}" bash x.sh --github-token=abc123"#);
        let r = redact(&line);
        assert_eq!(r, r#"GITHUB_TOKEN="***" bash x.sh --github-token=***"#);
        assert!(!r.contains("abc123"));
        assert!(!r.contains("ghp_"));
        // The space form masks what looks like a secret, also when it is a plain long word.
        let spaced =
            redact("run --github-token abc123 --api-key sk9 --password correcthorsebattery");
        assert_eq!(
            spaced,
            "run --github-token *** --api-key *** --password ***"
        );
    }

    #[test]
    fn ordinary_lines_are_untouched() {
        for line in [
            "--tokenizer-path=/data/alvarobartt--grok-2-tokenizer --max-tokens 512",
            "Median TTFT (ms):                        98.91",
            "http://10.194.129.138:8000/plots/mi30x",
            "--teams-webhook-url= --model=grok",
        ] {
            assert_eq!(redact(line), line);
        }
    }

    #[test]
    fn exact_secrets_are_masked_wherever_they_appear() {
        let s = vec!["s3cr3t-value-xyz".to_string(), String::new()];
        assert_eq!(redact_with("a s3cr3t-value-xyz b", &s), "a *** b");
    }

    /// Sentences and log lines with words a masker could mistake for secrets.
    const ORDINARY: &[&str] = &[
        "token is x",
        "1 token per UTF-8 byte",
        "the secret to speed is batching",
        "api_key=None, base_url=http://127.0.0.1:30000",
        "Total input tokens: 1234",
        "Output token throughput (tok/s):          512.30",
        "password reset is not needed here",
        "see .github/workflows/ci.yml for the pipeline",
        "[check] Teams notification sent successfully",
        "Successful requests:                     500",
        "key: value, webhook sent, token budget 4096",
        "---------------Inter-Token Latency----------------",
        "----token budget----",
        "give the webhook URL to enable Teams; the token per request is 1",
        "the key per-token latency is 12 ms, 1 token per step",
        "sig figures: 3; webhook delivery per card",
        "[nightly] Teams notifications disabled (--teams-webhook-url not set)",
        "error: --github-token is required for --upload",
    ];

    #[test]
    fn ordinary_sentences_pass_unchanged() {
        for line in ORDINARY {
            assert_eq!(redact(line), *line, "{line}");
        }
    }

    /// With the secrets of a real night registered (a Power Automate webhook from the
    /// command line, a GitHub token and a HuggingFace token from the environment), ordinary
    /// sentences still come out unchanged and every secret is masked, also unregistered ones
    /// recognised by their shape.
    #[test]
    fn registered_secrets_mask_themselves_and_nothing_else() {
        let sig = format!("{}Qx7", "Kd93mZpL0aXv".repeat(3));
        let webhook = format!(
            "https://prod-42.westus.logic.azure.com:443/workflows/9f8e7d6c5b4a39281706f5e4d3c2b1a0/triggers/manual/paths/invoke?api-version=2016-06-01&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={sig}"
        );
        let gh = format!("ghp_{}", "Ab1Cd2Ef3Gh4".repeat(3));
        let hf = format!("hf_{}", "Zy9Xw8Vu7Ts6".repeat(3));
        register_from_args([
            "perf-nightly",
            "--mode=online",
            &format!("--teams-webhook-url={webhook}"),
        ]);
        register_secret(&gh);
        register_secret(&hf);
        for line in ORDINARY {
            assert_eq!(redact(line), *line, "{line}");
        }
        for (line, secret) in [
            (format!("Command: perf-nightly --teams-webhook-url={webhook}"), sig.as_str()),
            (format!("posting to {webhook}"), "9f8e7d6c5b4a3928"),
            (format!("remote: https://x:{gh}@github.com/ROCm/sglang-ci"), gh.as_str()),
            (format!("HF_TOKEN={hf} huggingface-cli download"), hf.as_str()),
            (format!("token {gh} rejected"), gh.as_str()),
            (
                "POST https://contoso.webhook.office.com/webhookb2/abc@def/IncomingWebhook/123/456 failed".to_owned(),
                "IncomingWebhook/123",
            ),
        ] {
            let r = redact(&line);
            assert!(!r.contains(secret), "{line} -> {r}");
            assert!(r.contains(MASK), "{line} -> {r}");
        }
    }

    #[test]
    fn assignments_stop_at_punctuation() {
        assert_eq!(
            redact("Namespace(api_key='abcdef123', model=x)"),
            "Namespace(api_key='***', model=x)"
        );
        assert_eq!(redact("TOKEN=abcdefgh; next"), "TOKEN=***; next");
    }

    #[test]
    fn a_registered_url_is_masked_with_every_piece_a_client_prints() {
        let sig = "Zr9QvX2mLk0pWq7sTuVwXyZ1aBcDeFgHiJkLmNoP";
        let url = format!(
            "https://prod-99.example.invalid:443/workflows/0123456789abcdef0123456789abcdef/triggers/manual/paths/invoke?api-version=2016-06-01&sig={sig}"
        );
        register_secret(&url);
        let (_, tail) = url.split_once(":443").unwrap();
        for line in [
            format!("posting to {url} now"),
            format!("Max retries exceeded with url: {tail} (Caused by x)"),
            format!("signature {sig} rejected"),
            "Max retries exceeded with url: /workflows/0123456789abcdef0123456789abcdef".to_owned(),
        ] {
            let r = redact(&line);
            assert!(!r.contains(sig), "{r}");
            assert!(!r.contains("0123456789abcdef0123"), "{r}");
            assert!(r.contains(MASK), "{r}");
        }
    }

    #[test]
    fn url_passwords_are_masked_and_the_user_is_kept() {
        assert_eq!(
            redact("--db=postgres://ci:example-pw@db.lan:5432/h"),
            "--db=postgres://ci:***@db.lan:5432/h"
        );
        assert_eq!(
            redact("remote https://x-access:tok123456@github.com/o/r.git"),
            "remote https://x-access:***@github.com/o/r.git"
        );
        for plain in ["see http://host:8000/plots/", "ratio 3:4 @ 5", "a://b@c"] {
            assert_eq!(redact(plain), plain);
        }
    }

    #[test]
    fn unregistered_query_signatures_and_bearer_tokens_are_masked() {
        let r = redact("Max retries exceeded with url: /paths/invoke?api-version=1&sig=QQQQ (x)");
        assert_eq!(
            r,
            "Max retries exceeded with url: /paths/invoke?api-version=1&sig=*** (x)"
        );
        let r = redact("Authorization: Bearer abcdefghijklmnop");
        assert_eq!(r, "Authorization: Bearer ***");
    }

    #[test]
    fn flag_and_env_names_decide_what_is_registered() {
        register_from_args([
            "prog",
            "--github_token",
            "flagvalue-0001-secret",
            "--teams-webhook-url=http://127.0.0.1:9/hook-flagvalue-0002",
            "--tokenizer-path",
            "/data/tokenizer-flagvalue-0003",
        ]);
        assert_eq!(redact("a flagvalue-0001-secret b"), "a *** b");
        assert!(!redact("http://127.0.0.1:9/hook-flagvalue-0002").contains("0002"));
        assert_eq!(
            redact("/data/tokenizer-flagvalue-0003"),
            "/data/tokenizer-flagvalue-0003"
        );
        assert!(is_secret_env_name("HF_TOKEN"));
        assert!(is_secret_env_name("AZURE_STORAGE_KEY"));
        assert!(is_secret_env_name("TEAMS_WEBHOOK_URL"));
        assert!(!is_secret_env_name("TOKENIZER_PATH"));
        assert!(!is_secret_flag_name("--max-tokens"));
    }

    #[test]
    fn short_values_are_not_registered() {
        let before = registered_count();
        register_secret("abc");
        register_secret("  ");
        assert!(registered_count() >= before);
        assert_eq!(redact("abc"), "abc");
    }

    #[test]
    fn line_masker_finds_a_secret_split_across_reads() {
        register_secret("split-secret-value-42");
        let mut m = LineMasker::new();
        let mut out = Vec::new();
        m.push(b"first split-sec", &mut |b| out.extend_from_slice(b));
        assert!(out.is_empty(), "nothing before the line ends");
        m.push(b"ret-value-42 end\nlast split-secret-value-42", &mut |b| {
            out.extend_from_slice(b)
        });
        m.finish(&mut |b| out.extend_from_slice(b));
        assert_eq!(String::from_utf8(out).unwrap(), "first *** end\nlast ***");
    }

    #[test]
    fn control_characters_are_escaped() {
        assert_eq!(
            escape_controls("bad\u{1b}[31mname\r\nx\ty"),
            "bad\\u{1b}[31mname\\u{d}\\u{a}x\ty"
        );
        assert_eq!(escape_controls_keep_newlines("a\u{7}b\n"), "a\\u{7}b\n");
        assert!(matches!(escape_controls("plain"), Cow::Borrowed(_)));
    }
}
