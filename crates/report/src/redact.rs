//! Secret masking for every line the toolkit writes (spec quirks F-1 and Q-SEC-1).
//!
//! The original echoed Teams/Power Automate webhook URLs (with their `sig=` signature) and
//! GitHub tokens into timing summaries, cron logs and uploaded files. Everything we write goes
//! through [`redact`], which keeps the surrounding line format and replaces the secret by `***`.

use std::borrow::Cow;
use std::sync::LazyLock;

use regex::Regex;

/// The replacement text for a secret.
pub const MASK: &str = "***";

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

/// GitHub tokens (classic, fine-grained, OAuth, app, refresh).
static GITHUB_TOKEN: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})")
        .expect("static regex")
});

/// `NAME=value` / `--name=value` / `--name value` assignments whose name says it is a secret.
static SECRET_ASSIGNMENT: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r#"(?xi)
        (?P<name>(?:--)?[A-Za-z0-9_-]*(?:webhook[_-]?url|token|password|secret|api[_-]?key)(?:=|\s+))
        (?P<quote>["']?)(?P<value>[^\s"']+)
    "#,
    )
    .expect("static regex")
});

/// Names that match [`SECRET_ASSIGNMENT`] but are not secrets.
const NOT_SECRET_NAMES: &[&str] = &["tokenizer", "tokens", "max-tokens", "max_tokens"];

/// Replaces every secret in `text` by [`MASK`], keeping everything around it.
pub fn redact(text: &str) -> Cow<'_, str> {
    let mut out = Cow::Borrowed(text);
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
    if GITHUB_TOKEN.is_match(&out) {
        out = Cow::Owned(GITHUB_TOKEN.replace_all(&out, MASK).into_owned());
    }
    if SECRET_ASSIGNMENT.is_match(&out) {
        out = Cow::Owned(
            SECRET_ASSIGNMENT
                .replace_all(&out, |c: &regex::Captures<'_>| {
                    let name = &c["name"];
                    let bare = name
                        .trim_start_matches('-')
                        .trim_end_matches(|ch: char| ch == '=' || ch.is_whitespace())
                        .to_ascii_lowercase();
                    let value = &c["value"];
                    if NOT_SECRET_NAMES.iter().any(|n| bare.ends_with(n))
                        || value.starts_with("--")
                        || value.contains(MASK)
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
/// value of `TEAMS_WEBHOOK_URL` read at start-up); empty values are ignored.
pub fn redact_with<'a>(text: &'a str, secrets: &[String]) -> Cow<'a, str> {
    let mut out = redact(text);
    for s in secrets.iter().filter(|s| s.len() >= 8) {
        if out.contains(s.as_str()) {
            out = Cow::Owned(out.replace(s.as_str(), MASK));
        }
    }
    out
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
}
