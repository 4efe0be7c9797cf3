//! What the four Teams senders share: the webhook's retry policy from the environment, the
//! console that masks the webhook URL and tokens in every line, `--dry-run` output, and the
//! original's "no webhook" message.

use alerts::{Sent, Target};
use sglang_runner::flags::heading;
use teams::{RetryPolicy, Webhook, mask_url};

/// The delivery policy: [`RetryPolicy::from_env`].
pub fn policy_from_env() -> RetryPolicy {
    RetryPolicy::from_env()
}

/// The flags every Teams sender has besides its webhook.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SenderFlags {
    /// Send a simple test card and exit.
    #[arg(long, help_heading = heading::ORIGINAL)]
    pub test_mode: bool,
    /// Print the payload instead of sending it.
    #[arg(long, help_heading = heading::ADDITIONS)]
    pub dry_run: bool,
    /// Debug logging on stderr.
    #[arg(short, long, help_heading = heading::LOGGING)]
    pub verbose: bool,
}

/// How every sender starts: the webhook (an empty value counts as unset), a console that
/// masks it and `secrets`, and the delivery target (`--dry-run` prints instead).
pub struct Sender {
    /// The webhook.
    pub url: Option<String>,
    /// The masking console.
    pub console: Console,
    /// Where cards go.
    pub target: Target,
}

impl Sender {
    /// A sender for `url`.
    pub fn new(url: Option<String>, dry_run: bool, secrets: &[&str]) -> Self {
        let url = non_empty(url);
        let console = Console::new(&[url.as_deref().unwrap_or_default()], secrets);
        let target = target(url.as_deref(), dry_run);
        Self {
            url,
            console,
            target,
        }
    }

    /// A sender that needs a webhook (named `flag` in the original's "no webhook" lines,
    /// printed when there is neither a webhook nor a dry run: then `None`).
    pub fn open(url: Option<String>, flag: &str, dry_run: bool, secrets: &[&str]) -> Option<Self> {
        let s = Self::new(url, dry_run, secrets);
        if s.url.is_none() && !dry_run {
            no_webhook_lines(&s.console, flag);
            return None;
        }
        Some(s)
    }
}

/// A non-empty value (the original treats an empty flag or variable as unset).
pub fn non_empty(v: Option<String>) -> Option<String> {
    v.filter(|s| !s.trim().is_empty())
}

/// The delivery target: the webhook (policy from the environment) and `--dry-run`.
pub fn target(url: Option<&str>, dry_run: bool) -> Target {
    Target {
        webhook: url.map(|u| Webhook::new(u, policy_from_env())),
        dry_run,
    }
}

/// Prints lines to stdout with the webhook URL shown as `https://<host>/…` and tokens masked.
#[derive(Debug, Clone, Default)]
pub struct Console {
    urls: Vec<String>,
    secrets: Vec<String>,
}

impl Console {
    /// A console that masks `urls` (webhooks) and `secrets` (tokens) plus the values of the
    /// secret environment variables.
    pub fn new(urls: &[&str], secrets: &[&str]) -> Self {
        let mut s: Vec<String> = crate::logging::secret_values();
        s.extend(
            secrets
                .iter()
                .filter(|t| !t.is_empty())
                .map(|t| (*t).to_owned()),
        );
        Self {
            urls: urls
                .iter()
                .filter(|u| !u.is_empty())
                .map(|u| (*u).to_owned())
                .collect(),
            secrets: s,
        }
    }

    /// `text` masked: each known webhook URL as `https://<host>/…`, each known secret value
    /// as `***`. (Exact values only: the pattern-based `report::redact` would also mask the
    /// original's own wording `Set TEAMS_WEBHOOK_URL environment variable`.)
    pub fn mask(&self, text: &str) -> String {
        let mut t = text.to_owned();
        for u in &self.urls {
            t = teams::mask::mask_in(&t, u);
        }
        for s in self.secrets.iter().filter(|s| s.len() >= 8) {
            if s.contains("://") {
                t = teams::mask::mask_in(&t, s);
            } else {
                t = t.replace(s.as_str(), report::redact::MASK);
            }
        }
        t
    }

    /// Prints one line (masked).
    pub fn say(&self, line: &str) {
        println!("{}", self.mask(line));
    }

    /// A `say` callback for the library.
    pub fn sink(&self) -> impl FnMut(String) + '_ {
        move |l| self.say(&l)
    }

    /// Prints what `--dry-run` produced: where it would have gone, then the payload.
    pub fn dry_run(&self, sent: &Sent, url: Option<&str>) {
        if let Sent::DryRun(json) = sent {
            self.say(&format!(
                "🧪 Dry run: not sending to {}; payload:",
                url.map_or_else(|| "Teams (no webhook set)".to_owned(), mask_url)
            ));
            println!("{}", self.mask(json));
        }
    }
}

/// The original's two lines for a missing webhook (spec §2.1).
pub fn no_webhook_lines(console: &Console, flag: &str) {
    console.say("❌ Error: Teams webhook URL not provided");
    console.say(&format!(
        "   Set TEAMS_WEBHOOK_URL environment variable or use {flag}"
    ));
}
