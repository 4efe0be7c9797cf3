//! Logging set-up shared by the binaries: tracing to stderr, secrets masked in every line.

use std::io::{self, Write};

use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

/// Environment variables whose values are secrets, masked wherever they appear in a log line.
pub const SECRET_ENV_VARS: &[&str] = &["TEAMS_WEBHOOK_URL", "GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN"];

/// Installs the global subscriber: level from `SGLCI_LOG` (or `RUST_LOG`), default `info`
/// (`debug` with `verbose`); output to stderr with secrets masked.
pub fn init(verbose: bool) {
    let default = if verbose { "debug" } else { "info" };
    let filter = std::env::var("SGLCI_LOG")
        .or_else(|_| std::env::var("RUST_LOG"))
        .ok()
        .and_then(|s| EnvFilter::try_new(s).ok())
        .unwrap_or_else(|| EnvFilter::new(default));
    // Binaries that do not go through `exit::run` still get masking by value.
    crate::exit::register_secrets();
    let secrets = secret_values();
    // A second init (tests calling twice) is harmless: keep the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        // Plain text: the lines end up in cron logs, and any escape sequence in a line is
        // escaped below (text from a bad file must not repaint the terminal).
        .with_ansi(false)
        .with_writer(MaskingStderr { secrets })
        .try_init();
}

/// The non-empty values of [`SECRET_ENV_VARS`] in this process's environment.
pub fn secret_values() -> Vec<String> {
    SECRET_ENV_VARS
        .iter()
        .filter_map(|k| std::env::var(k).ok())
        .filter(|v| !v.is_empty())
        .collect()
}

/// A `MakeWriter` that masks each formatted log event before writing it to stderr.
#[derive(Clone)]
struct MaskingStderr {
    secrets: Vec<String>,
}

impl<'a> MakeWriter<'a> for MaskingStderr {
    type Writer = MaskingWriter<'a>;
    fn make_writer(&'a self) -> Self::Writer {
        MaskingWriter {
            secrets: &self.secrets,
            buf: Vec::new(),
        }
    }
}

/// Buffers one event and writes it masked when dropped.
struct MaskingWriter<'a> {
    secrets: &'a [String],
    buf: Vec<u8>,
}

impl Write for MaskingWriter<'_> {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

impl Drop for MaskingWriter<'_> {
    fn drop(&mut self) {
        let text = String::from_utf8_lossy(&self.buf);
        let masked = report::redact::redact_with(&text, self.secrets);
        // Text from a bad file never brings its control characters into a log line.
        let clean = report::redact::escape_controls_keep_newlines(&masked);
        let _ = io::stderr().lock().write_all(clean.as_bytes());
    }
}
