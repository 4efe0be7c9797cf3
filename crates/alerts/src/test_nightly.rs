//! The unit-test and PD-test cards (`send_test_nightly_alert.py`, spec §6), read with
//! `metrics_parse::{unit_test, pd}`.
//!
//! Fixes: a PD run whose tests never ran (`PENDING`) is a failure (T1); the unit test's
//! `Result:` is the footer's, never a `Result:` printed by the tests (T2, the parser reads
//! only the footer).

use std::path::{Path, PathBuf};

use metrics_parse::pd::{self, Gsm8kAccuracy, PdSummary, TestStatus};
use metrics_parse::unit_test::{self, UnitResult, UnitTestLog};
use regex::Regex;
use teams::Message;
use teams::card::{AdaptiveCard, Color, OpenUrl, TextBlock};

use crate::common::{
    Clock, UPSTREAM_REPO_URL, cron_logs_url, d_hms, d_ms, hw_from_host, hw_in, seconds_between,
    tag_date,
};
use crate::error::AlertError;

/// `pass` / `fail` / `unknown`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Passed.
    Pass,
    /// Failed.
    Fail,
    /// Could not tell.
    Unknown,
}

impl Verdict {
    /// The console word.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pass => "pass",
            Self::Fail => "fail",
            Self::Unknown => "unknown",
        }
    }
}

/// What the log file is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A PD `test_summary.txt` (path contains `test_summary.txt` or `pd_log`).
    Pd,
    /// A unit-test log.
    Unit,
}

impl Kind {
    /// The original's routing by path.
    pub fn of(path: &Path) -> Self {
        let p = path.to_string_lossy();
        if p.contains("test_summary.txt") || p.contains("pd_log") {
            Self::Pd
        } else {
            Self::Unit
        }
    }
}

/// Inputs other than the log.
#[derive(Debug, Clone)]
pub struct Context {
    /// `GITHUB_REPO`.
    pub github_repo: String,
    /// This host's name.
    pub host: String,
    /// Now.
    pub clock: Clock,
}

/// A built card and what the console says about it.
#[derive(Debug, Clone)]
pub struct Built {
    /// The card.
    pub message: Message,
    /// PD or unit.
    pub kind: Kind,
    /// Its verdict.
    pub verdict: Verdict,
    /// The image tag's date (`YYYYMMDD`), when the log names an image.
    pub image_date: Option<String>,
}

impl Built {
    /// `PD test fail alert` / `unit test pass alert`.
    pub fn what(&self) -> String {
        let k = match self.kind {
            Kind::Pd => "PD",
            Kind::Unit => "unit",
        };
        format!("{k} test {} alert", self.verdict.as_str())
    }
}

/// Reads `path` and builds its card.
pub fn build(path: &Path, ctx: &Context) -> Result<Built, AlertError> {
    let data = std::fs::read(path).map_err(|e| AlertError::input(path, e.to_string()))?;
    Ok(match Kind::of(path) {
        Kind::Pd => pd_card(path, &pd::parse_summary(&data), ctx),
        Kind::Unit => unit_card(
            path,
            &unit_test::parse(&data),
            &String::from_utf8_lossy(&data),
            ctx,
        ),
    })
}

fn push_troubleshooting(c: &mut AdaptiveCard, lines: [&str; 3]) {
    c.push(TextBlock::section("Troubleshooting"))
        .push(TextBlock::bullet_first(lines[0]))
        .push(TextBlock::bullet(lines[1]))
        .push(TextBlock::bullet(lines[2]));
}

/// The unit-test verdict: the footer's `Result:`, else `Exit code: 0`, else unknown.
pub fn unit_verdict(log: &UnitTestLog) -> Verdict {
    let Some(f) = &log.footer else {
        return Verdict::Unknown;
    };
    match (&f.result, f.exit_code) {
        (Some(UnitResult::Passed), _) => Verdict::Pass,
        (Some(_), _) => Verdict::Fail,
        (None, Some(0)) => Verdict::Pass,
        (None, Some(_)) => Verdict::Fail,
        (None, None) => Verdict::Unknown,
    }
}

/// The first `FAILED (…)`, `AssertionError: …`, `Error: …`, `Exception: …` (in that order of
/// patterns), cut to 200 characters.
pub fn unit_error_details(text: &str) -> Option<String> {
    let patterns = [
        r"FAILED \(([\s\S]*?)\)",
        r"AssertionError: (.*)",
        r"Error: (.*)",
        r"Exception: (.*)",
    ];
    let found = patterns.iter().find_map(|p| {
        Regex::new(p)
            .ok()?
            .captures(text)
            .map(|c| c[1].trim().to_owned())
    })?;
    Some(if found.chars().count() > 200 {
        format!("{}...", found.chars().take(200).collect::<String>())
    } else {
        found
    })
}

fn unit_card(path: &Path, log: &UnitTestLog, text: &str, ctx: &Context) -> Built {
    let verdict = unit_verdict(log);
    let h = &log.header;
    let runtime = h
        .start_time
        .as_deref()
        .zip(log.footer.as_ref().and_then(|f| f.end_time.as_deref()))
        .and_then(|(s, e)| seconds_between(s, e))
        .map(d_hms);
    let host = h.machine.clone().unwrap_or_else(|| ctx.host.clone());
    let mut c = AdaptiveCard::new();
    c.push(TextBlock::title(format!(
        "{} SGL Nightly Unit Test Results",
        ctx.clock.pacific_date()
    )))
    .push(TextBlock::subtle(format!(
        "Completed on {} at {}",
        ctx.clock.pacific_date(),
        ctx.clock.pacific_time()
    )))
    .push(TextBlock::section("Test Status"));
    if verdict == Verdict::Pass {
        c.push(TextBlock::status("✅ Unit Test Passed", Color::Good));
    } else {
        c.push(TextBlock::status("❌ Unit Test Failed", Color::Attention));
    }
    c.push(TextBlock::section("unit-test-backend-8-gpu-CAR-amd"));
    if let Some(t) = &h.test {
        c.push(TextBlock::bullet(format!("• Test detail: **{t}**")));
    }
    if let Some(i) = &h.image {
        c.push(TextBlock::bullet(format!("• Docker Image: **{i}**")));
    }
    c.push(TextBlock::bullet(format!("• Hostname: **{host}**")));
    if let Some(hw) = &h.hardware {
        c.push(TextBlock::bullet(format!("• Hardware: **{hw}**")));
    }
    if let Some(r) = &runtime {
        c.push(TextBlock::bullet(format!("• Runtime: **{r}**")));
    }
    let shown = path.to_string_lossy();
    let display = shown
        .find("test/unit-test-backend-8-gpu-CAR-amd/")
        .filter(|_| shown.contains("sglang-ci/test/unit-test-backend-8-gpu-CAR-amd/"))
        .map_or(shown.as_ref(), |i| &shown[i..]);
    c.push(TextBlock::bullet(format!("• Log file: **{display}**")));
    if verdict == Verdict::Fail {
        if let Some(err) = unit_error_details(text) {
            c.push(TextBlock::section("Error Details"))
                .push(TextBlock::bullet_first(err).with_color(Color::Attention));
        }
        push_troubleshooting(
            &mut c,
            [
                "• Check the log file for detailed error information",
                "• Verify Docker image availability and GPU resources",
                "• Check for recent code changes that may affect unit tests",
            ],
        );
    }
    let hw = h
        .hardware
        .as_deref()
        .and_then(hw_in)
        .or_else(|| h.image.as_deref().and_then(hw_in))
        .or_else(|| hw_from_host(&host));
    let mut actions = Vec::new();
    if let Some(hw) = hw {
        actions.push(OpenUrl::new(
            "📋 Cron Logs",
            cron_logs_url(&ctx.github_repo, &hw, &ctx.clock.local_yyyymmdd()),
        ));
    }
    actions.push(OpenUrl::new("🐙 View Repository", UPSTREAM_REPO_URL));
    c.actions = Some(actions);
    Built {
        message: c.into_message(),
        kind: Kind::Unit,
        verdict,
        image_date: h.image.as_deref().and_then(tag_date),
    }
}

/// One PD test as the card shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PdTest {
    name: &'static str,
    result: String,
    passed: bool,
    secs: u64,
}

fn pd_tests(s: &PdSummary) -> Vec<PdTest> {
    let mut out = Vec::new();
    for t in &s.tests {
        let name = match t.number {
            1 => "Health Check",
            3 => "Simple Completion",
            4 => "Code Generation",
            _ => continue,
        };
        let result = match &t.status {
            TestStatus::Pass => "PASS".to_owned(),
            TestStatus::Fail => "FAIL".to_owned(),
            TestStatus::Pending => "PENDING".to_owned(),
            TestStatus::Other(o) => o.clone(),
        };
        out.push(PdTest {
            name,
            passed: t.status == TestStatus::Pass,
            result,
            secs: t.secs,
        });
    }
    if let Some(g) = &s.gsm8k {
        let acc = match &g.accuracy {
            Gsm8kAccuracy::Value(v) => v.clone(),
            Gsm8kAccuracy::Pending => "PENDING".to_owned(),
            Gsm8kAccuracy::NotAvailable => "N/A".to_owned(),
            Gsm8kAccuracy::Failed => "FAILED".to_owned(),
        };
        out.push(PdTest {
            name: "GSM8K Accuracy",
            passed: g.verdict == TestStatus::Pass,
            result: acc,
            secs: g.secs,
        });
    }
    out
}

/// The PD verdict (fix T1): pass only when at least one test ran and every test line passed;
/// `PENDING` tests (the run died before them) fail the run.
pub fn pd_verdict(s: &PdSummary) -> Verdict {
    let tests = pd_tests(s);
    if !tests.is_empty() && tests.iter().all(|t| t.passed) {
        Verdict::Pass
    } else {
        Verdict::Fail
    }
}

fn pd_card(_path: &Path, s: &PdSummary, ctx: &Context) -> Built {
    let verdict = pd_verdict(s);
    let host = s
        .hostname
        .clone()
        .or_else(|| s.ip_address.clone())
        .unwrap_or_else(|| ctx.host.clone());
    let mut c = AdaptiveCard::new();
    c.push(TextBlock::title(format!(
        "{} SGL Nightly PD Test Results",
        ctx.clock.pacific_date()
    )))
    .push(TextBlock::subtle(format!(
        "Completed on {} at {}",
        ctx.clock.pacific_date(),
        ctx.clock.pacific_time()
    )))
    .push(TextBlock::section("Test Status"));
    if verdict == Verdict::Pass {
        c.push(TextBlock::status("✅ PD Test Passed", Color::Good));
    } else {
        c.push(TextBlock::status("❌ PD Test Failed", Color::Attention));
    }
    c.push(TextBlock::section(
        "PD Disaggregation Test (Prefill/Decode)",
    ));
    for (label, v) in [
        ("Docker Image", &s.docker_image),
        ("Hardware", &s.hardware),
        ("Model", &s.model),
    ] {
        if let Some(v) = v {
            c.push(TextBlock::bullet(format!("• {label}: **{v}**")));
        }
    }
    c.push(TextBlock::bullet(format!("• Hostname: **{host}**")));
    c.push(TextBlock::section("Configuration"));
    if let Some(p) = s.load_balancer_port {
        c.push(TextBlock::bullet(format!("• Load Balancer: Port **{p}**")));
    }
    for (label, spec) in [("Prefill Server", &s.prefill), ("Decode Server", &s.decode)] {
        if let Some(sp) = spec {
            c.push(TextBlock::bullet(format!(
                "• {label}: Port **{}**, GPUs **{}**, TP={}",
                sp.port,
                sp.gpus,
                sp.tp.unwrap_or(4)
            )));
        }
    }
    let tests = pd_tests(s);
    if !tests.is_empty() {
        c.push(TextBlock::section("Test Results"));
        for t in &tests {
            let icon = if t.passed { "✅" } else { "❌" };
            c.push(TextBlock::bullet(format!(
                "• {}: {icon} **{}** ({}s)",
                t.name, t.result, t.secs
            )));
        }
    }
    if tests.is_empty() || tests.iter().any(|t| t.result == "PENDING") {
        c.push(TextBlock::bullet(
            "• Tests did not run to the end (results still PENDING): the run stopped before its tests finished",
        ).with_color(Color::Attention));
    }
    if s.setup_time_secs.is_some() || s.gsm8k_duration_secs.is_some() {
        c.push(TextBlock::section("Timing Summary"));
        if let Some(t) = s.setup_time_secs {
            c.push(TextBlock::bullet(format!("• Setup Time: **{}**", d_ms(t))));
        }
        if let Some(t) = s.gsm8k_duration_secs {
            c.push(TextBlock::bullet(format!(
                "• GSM8K Duration: **{}**",
                d_ms(t)
            )));
        }
    }
    if verdict == Verdict::Fail {
        push_troubleshooting(
            &mut c,
            [
                "• Check the log directory for detailed error information (prefill.log, decode.log, load_balance.log)",
                "• Verify Docker containers are running and healthy",
                "• Check GPU resources and network connectivity between prefill/decode servers",
            ],
        );
    }
    let hw = s
        .hardware
        .as_deref()
        .and_then(hw_in)
        .or_else(|| s.docker_image.as_deref().and_then(hw_in));
    let mut actions = Vec::new();
    if let Some(hw) = hw {
        actions.push(OpenUrl::new(
            "📋 Cron Logs",
            cron_logs_url(&ctx.github_repo, &hw, &ctx.clock.local_yyyymmdd()),
        ));
    }
    actions.push(OpenUrl::new("🐙 View Repository", UPSTREAM_REPO_URL));
    c.actions = Some(actions);
    Built {
        message: c.into_message(),
        kind: Kind::Pd,
        verdict,
        image_date: s
            .docker_image
            .as_deref()
            .or(s.docker_tag.as_deref())
            .and_then(tag_date),
    }
}

/// What [`run`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The card went out (or was printed).
    Sent(crate::Sent),
    /// A fallback image without `alert_on_fallback`: nothing sent.
    Suppressed,
}

/// Reads `path`, builds its card and sends it: the entry point of `send-test-nightly-alert`
/// and of `test-nightly`. A log whose image is older than `run_date` (`YYYYMMDD`) is a
/// fallback-image run: held back unless `alert_on_fallback`, else marked on the card.
pub fn run(
    path: &Path,
    ctx: &Context,
    run_date: &str,
    alert_on_fallback: bool,
    target: &crate::Target,
    say: &mut dyn FnMut(String),
) -> Result<Outcome, AlertError> {
    say(console_line(path));
    let built = build(path, ctx)?;
    let mut msg = built.message.clone();
    if let Some(img) = built.image_date.as_deref().filter(|d| *d < run_date) {
        if !alert_on_fallback {
            say(format!(
                "ℹ️  Not sending: the test used a fallback image dated {img} (run date {run_date}); pass --alert-on-fallback to alert anyway"
            ));
            return Ok(Outcome::Suppressed);
        }
        msg = crate::send::mark_fallback(msg, img, run_date);
    }
    Ok(Outcome::Sent(crate::send::deliver(
        msg,
        target,
        &built.what(),
        say,
    )?))
}

/// `path` as given (kept for the console line).
pub fn console_line(path: &Path) -> String {
    let p: PathBuf = path.to_owned();
    match Kind::of(path) {
        Kind::Pd => format!("📋 Parsing PD test summary file: {}", p.display()),
        Kind::Unit => format!("📋 Parsing unit test log file: {}", p.display()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn ctx() -> Context {
        Context {
            github_repo: "ROCm/sglang-ci".into(),
            host: "testhost".into(),
            clock: Clock::at(chrono::Utc.with_ymd_and_hms(2025, 11, 6, 18, 0, 0).unwrap()),
        }
    }

    fn corpus(rel: &str) -> PathBuf {
        let dir = Path::new(rel).parent().unwrap().to_str().unwrap();
        report::corpus::require(dir)
            .unwrap_or_else(|e| panic!("{e}"))
            .join(rel)
    }

    #[test]
    fn unit_failure_golden_g8() {
        let p = corpus(
            "test/unit-test-backend-8-gpu-CAR-amd/mi30x/v0.5.4.post3-rocm630-mi30x-20251105.log",
        );
        let b = build(&p, &ctx()).unwrap();
        crate::assert_valid(&b.message);
        assert_eq!(b.verdict, Verdict::Fail);
        assert_eq!(b.what(), "unit test fail alert");
        let t = b.message.card.texts();
        assert!(t.contains(&"❌ Unit Test Failed"), "{t:?}");
        assert!(t.contains(&"• Test detail: **test_custom_allreduce.TestCustomAllReduce**"));
        assert!(t.contains(&"• Runtime: **0m 26s**"), "{t:?}");
        assert!(t.contains(&"• Hardware: **mi30x**"));
        assert!(t.contains(&"errors=2"), "{t:?}");
        assert!(t.contains(&"**Troubleshooting:**"));
        let a = b.message.card.actions.unwrap();
        assert_eq!(
            a[0].url,
            "https://github.com/ROCm/sglang-ci/tree/log/cron_log/mi30x/".to_owned()
                + &ctx().clock.local_yyyymmdd()
        );
        assert_eq!(b.image_date.as_deref(), Some("20251105"));
    }

    #[test]
    fn pd_all_pending_is_a_failure_fix_t1() {
        let p = corpus("test/pd/pd_log/mi30x/v0.5.4.post1-rocm700-mi30x-20251029/test_summary.txt");
        let b = build(&p, &ctx()).unwrap();
        crate::assert_valid(&b.message);
        assert_eq!(b.verdict, Verdict::Fail, "the original said pass");
        let t = b.message.card.texts();
        assert!(t.contains(&"❌ PD Test Failed"), "{t:?}");
        assert!(t.contains(&"• Load Balancer: Port **30028**"));
        assert!(
            t.contains(&"• Prefill Server: Port **30025**, GPUs **0-3**, TP=4"),
            "{t:?}"
        );
        assert!(t.contains(&"• Decode Server: Port **30026**, GPUs **4-7**, TP=4"));
        assert!(t.contains(&"• Setup Time: **18m 5s**"));
        assert!(t.contains(&"• GSM8K Duration: **0m 0s**"));
        assert!(t.contains(&"**Troubleshooting:**"));
    }

    #[test]
    fn pd_complete_run_passes_g10() {
        let p = corpus("test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251121/test_summary.txt");
        let b = build(&p, &ctx()).unwrap();
        crate::assert_valid(&b.message);
        assert_eq!(b.verdict, Verdict::Pass);
        let t = b.message.card.texts();
        for line in [
            "✅ PD Test Passed",
            "• Health Check: ✅ **PASS** (0s)",
            "• Simple Completion: ✅ **PASS** (7s)",
            "• Code Generation: ✅ **PASS** (4s)",
            "• GSM8K Accuracy: ✅ **0.0000** (606s)",
            "• Setup Time: **6m 11s**",
            "• GSM8K Duration: **10m 6s**",
        ] {
            assert!(t.contains(&line), "{line} missing from {t:?}");
        }
        assert!(!t.contains(&"**Troubleshooting:**"));
    }
}
