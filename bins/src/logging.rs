//! Logging set-up shared by the binaries: tracing to stderr, secrets masked in every line,
//! each line stamped in the clock of its binary's family (spec nightly.md §1.5): the nightly
//! and what it runs in US Pacific, like the `... at:` lines next to them; the other jobs in the
//! machine's zone, like the original's `date`.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::time::FormatTime;

/// Environment variables whose values are secrets, masked wherever they appear in a log line.
pub const SECRET_ENV_VARS: &[&str] = &["TEAMS_WEBHOOK_URL", "GITHUB_TOKEN", "GH_TOKEN", "HF_TOKEN"];

/// The clock a binary's log lines are stamped in (`2025-10-29 11:45:42 PDT`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogClock {
    /// US Pacific, as every timestamp of the original's nightly family (`perf_nightly.sh` and
    /// the benchmarks, downloads and plot steps it runs, `nightly_image_check.sh`,
    /// `build_sglang_docker.sh`), and as [`sglang_runner::timefmt`] writes their console lines.
    Pacific,
    /// The machine's zone (`TZ`, else `/etc/timezone` or `/etc/localtime`, else UTC), as the
    /// original's `date` in the other cron jobs (Teams senders, log upload, tools).
    Machine,
}

impl LogClock {
    /// The zone this clock reads.
    pub fn zone(self) -> Tz {
        match self {
            Self::Pacific => chrono_tz::America::Los_Angeles,
            Self::Machine => machine_zone(),
        }
    }

    /// `now` as a log line stamp: `%Y-%m-%d %H:%M:%S %Z`, the original's "... at:" format.
    pub fn stamp(self, now: DateTime<Utc>) -> String {
        now.with_timezone(&self.zone())
            .format("%Y-%m-%d %H:%M:%S %Z")
            .to_string()
    }
}

/// The machine's zone: `TZ` (an IANA name, `:` prefix allowed), else `/etc/timezone`, else the
/// zone `/etc/localtime` links to; UTC when none names one.
fn machine_zone() -> Tz {
    let from_tz = std::env::var("TZ").ok();
    let from_file = || std::fs::read_to_string("/etc/timezone").ok();
    let from_link = || {
        std::fs::read_link("/etc/localtime").ok().and_then(|p| {
            let p = p.to_string_lossy().into_owned();
            p.split_once("zoneinfo/").map(|(_, z)| z.to_owned())
        })
    };
    from_tz
        .or_else(from_file)
        .or_else(from_link)
        .and_then(|z| z.trim().trim_start_matches(':').parse::<Tz>().ok())
        .unwrap_or(Tz::UTC)
}

/// The tracing timer of a [`LogClock`].
struct ClockTimer(LogClock);

impl FormatTime for ClockTimer {
    fn format_time(&self, w: &mut Writer<'_>) -> std::fmt::Result {
        write!(w, "{}", self.0.stamp(Utc::now()))
    }
}

/// [`init_in`] with the machine's clock.
pub fn init(verbose: bool) {
    init_in(verbose, LogClock::Machine);
}

/// Installs the global subscriber: level from `SGLCI_LOG` (or `RUST_LOG`), default `info`
/// (`debug` with `verbose`); output to stderr with secrets masked, each line stamped by
/// `clock`.
pub fn init_in(verbose: bool, clock: LogClock) {
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
        .with_timer(ClockTimer(clock))
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn pacific_stamps_carry_the_pacific_zone_in_summer_and_winter() {
        let summer = Utc.with_ymd_and_hms(2025, 10, 29, 18, 45, 42).unwrap();
        assert_eq!(LogClock::Pacific.stamp(summer), "2025-10-29 11:45:42 PDT");
        let winter = Utc.with_ymd_and_hms(2025, 12, 1, 14, 0, 1).unwrap();
        assert_eq!(LogClock::Pacific.stamp(winter), "2025-12-01 06:00:01 PST");
    }
}
