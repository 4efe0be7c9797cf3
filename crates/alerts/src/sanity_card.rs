//! The sanity-check card (`send_teams_notification.py --mode sanity`, spec §4), read with
//! `metrics_parse::sanity`. Fixes: the log root is a flag defaulting under the benchmark
//! directory (S2), a model without a total time shows `N/A` (S1), no crash when the log has
//! no `Docker image:` line (S4).

use std::path::{Path, PathBuf};

use metrics_parse::sanity::{self, Count, SanitySummary, SectionOutcome};
use teams::Message;
use teams::card::{AdaptiveCard, Color, OpenUrl, TextBlock};

use crate::common::{Clock, cron_logs_url, d_hms, hw_from_host, hw_in, pct1, tag_date};
use crate::error::AlertError;
use crate::sanity_models::{self, card_name, model_results};

/// Inputs of the sanity card.
#[derive(Debug, Clone)]
pub struct SanityConfig {
    /// `--docker-image`: the tag (`v0.5.4.post3-rocm700-mi30x-20251105`).
    pub docker_image: String,
    /// Root of `<hw>/<tag>/timing_summary_*.log` (`--sanity-log-dir`).
    pub log_root: PathBuf,
    /// `GITHUB_REPO`.
    pub github_repo: String,
    /// This host.
    pub host: String,
    /// Now.
    pub clock: Clock,
}

/// The counts of spec §4.4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Counts {
    /// Passed models.
    pub passed: u32,
    /// Tested models.
    pub tested: u32,
    /// Skipped models.
    pub skipped: u32,
    /// All models.
    pub total: u32,
    /// `pass` iff every tested model passed.
    pub pass: bool,
}

/// The sanity log of a tag (spec §4.2): the lexicographically greatest
/// `timing_summary_<date>_*.log`, else `timing_summary_*.log`.
pub fn find_log(cfg: &SanityConfig) -> Result<PathBuf, AlertError> {
    let tag = &cfg.docker_image;
    let date = tag_date(tag).ok_or_else(|| {
        AlertError::Usage(format!(
            "Could not extract date from Docker image tag: {tag}"
        ))
    })?;
    let hw = hw_in(tag).unwrap_or_else(|| "mi30x".into());
    let dir = cfg.log_root.join(hw).join(tag);
    let names: Vec<String> = std::fs::read_dir(&dir)
        .map_err(|_| AlertError::input(&dir, "Log directory not found"))?
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("timing_summary_") && n.ends_with(".log"))
        .collect();
    let dated = names
        .iter()
        .filter(|n| n.starts_with(&format!("timing_summary_{date}_")))
        .max();
    dated
        .or_else(|| names.iter().max())
        .map(|n| dir.join(n))
        .ok_or_else(|| AlertError::input(&dir, "No timing summary logs found"))
}

/// Counts per spec §4.4 (the overall summary, with the fallbacks).
pub fn counts(s: &SanitySummary) -> Counts {
    let results = model_results(s);
    let mut c = Counts::default();
    let models = s.header.models.clone().unwrap_or_default();
    c.total = models.len() as u32;
    let mut total_count = 0;
    if let Some(o) = &s.overall {
        if let Some((x, y)) = o.tested {
            c.tested = x;
            c.total = c.total.max(y);
        }
        if let Some((x, y)) = o.skipped {
            c.skipped = x;
            c.total = c.total.max(y);
        }
        if let Some(Count::Ratio { n, of }) = o.passed {
            c.passed = n;
            total_count = of;
            if c.tested == 0 {
                c.tested = of;
            }
            c.pass = n == of;
        }
    }
    if total_count == 0 && !results.is_empty() {
        c.tested = results.len() as u32;
        c.passed = results.iter().filter(|m| m.passed()).count() as u32;
        c.pass = c.passed == c.tested;
    }
    if c.skipped == 0 && !models.is_empty() {
        c.skipped = (models.len() as u32).saturating_sub(results.len() as u32);
    }
    if c.tested == 0 && c.total > 0 {
        c.tested = c.total.saturating_sub(c.skipped);
    }
    c
}

/// Reads the log and builds the card; returns it with the overall verdict word.
pub fn build(cfg: &SanityConfig, log: &Path) -> Result<(Message, &'static str), AlertError> {
    let data = std::fs::read(log).map_err(|e| AlertError::input(log, e.to_string()))?;
    let s = sanity::parse_summary(&data);
    let n = counts(&s);
    let image = s.header.docker_image.clone();
    let mut c = AdaptiveCard::new();
    c.push(TextBlock::title(format!(
        "{} SGL Sanity Check Results",
        cfg.clock.pacific_date()
    )))
    .push(TextBlock::subtle(format!(
        "Completed on {} at {}",
        cfg.clock.pacific_date(),
        cfg.clock.pacific_time()
    )))
    .push(TextBlock::subtle(format!("Hostname: {}", cfg.host)))
    .push(TextBlock::heading(format!(
        "**Models: {}/{} passed**",
        n.passed, n.tested
    )));
    if let Some(i) = &image {
        c.push(TextBlock::bullet_first(format!("• Docker Image: **{i}**")));
    }
    if let Some(p) = &s.header.platform {
        c.push(TextBlock::bullet(format!("• Platform: **{p}**")));
    }
    if let Some(t) = s.header.trials_per_model.filter(|t| *t > 0) {
        c.push(TextBlock::bullet(format!("• Trials per model: **{t}**")));
    }
    if let Some(t) = s.overall.as_ref().and_then(|o| o.total_secs.as_ref()) {
        c.push(TextBlock::bullet(format!(
            "• Total Runtime: **{}**",
            d_hms(t.value as i64)
        )));
    }
    let results = model_results(&s);
    if !results.is_empty() {
        c.push(TextBlock::heading("**Model Results:**"));
    }
    for m in &results {
        let pass = m.outcome == SectionOutcome::Pass;
        let time = m
            .total_secs
            .map_or_else(|| "N/A".to_owned(), |t| d_hms(t as i64));
        c.push(
            TextBlock::bullet_first(format!(
                "{} **{}** - {time}",
                if pass { "✅" } else { "❌" },
                card_name(&m.key, image.as_deref())
            ))
            .with_color(if pass { Color::Good } else { Color::Attention }),
        );
        if let Some(avg) = m.average {
            c.push(TextBlock::sub_subtle(format!(
                "  GSM8K accuracy: {}%{}",
                pct1(avg),
                sanity_models::threshold_text(&m.key)
            )));
        }
    }
    let hw = image
        .as_deref()
        .and_then(hw_in)
        .or_else(|| hw_from_host(&cfg.host));
    if let Some(hw) = hw {
        c.action(OpenUrl::new(
            "📋 Sanity Logs",
            format!(
                "https://github.com/{}/tree/log/test/sanity_check_log/{hw}",
                cfg.github_repo
            ),
        ));
        let date = image
            .as_deref()
            .and_then(tag_date)
            .unwrap_or_else(|| cfg.clock.local_yyyymmdd());
        c.action(OpenUrl::new(
            "📋 Cron Logs",
            cron_logs_url(&cfg.github_repo, &hw, &date),
        ));
    }
    Ok((c.into_message(), if n.pass { "pass" } else { "fail" }))
}

/// Finds the tag's log, builds the card and sends it (`send-teams-notification --mode
/// sanity`; the entry point for `sanity-check`).
pub fn run(
    cfg: &SanityConfig,
    target: &crate::Target,
    say: &mut dyn FnMut(String),
) -> Result<crate::Sent, AlertError> {
    let log = find_log(cfg)?;
    say(format!("📋 Found sanity check log: {}", log.display()));
    say(format!("📋 Parsing sanity check log: {}", log.display()));
    let (msg, verdict) = build(cfg, &log)?;
    Ok(crate::send::deliver(
        msg,
        target,
        &format!("sanity check {verdict} alert"),
        say,
    )?)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn sanity_card_golden_g6() {
        let root = report::corpus::require("test/sanity_check_log")
            .unwrap_or_else(|e| panic!("{e}"))
            .join("test/sanity_check_log");
        let cfg = SanityConfig {
            docker_image: "v0.5.4.post3-rocm700-mi30x-20251105".into(),
            log_root: root,
            github_repo: "ROCm/sglang-ci".into(),
            host: "dell300x-pla-t10-23".into(),
            clock: Clock::at(chrono::Utc.with_ymd_and_hms(2025, 11, 5, 18, 0, 0).unwrap()),
        };
        let log = find_log(&cfg).unwrap();
        assert!(
            log.ends_with("timing_summary_20251105_084043.log"),
            "{}",
            log.display()
        );
        let (m, verdict) = build(&cfg, &log).unwrap();
        crate::assert_valid(&m);
        assert_eq!(verdict, "fail");
        let t = m.card.texts();
        assert_eq!(
            &t[3..],
            [
                "**Models: 5/7 passed**",
                "• Docker Image: **rocm/sgl-dev:v0.5.4.post3-rocm700-mi30x-20251105**",
                "• Platform: **mi30x**",
                "• Trials per model: **3**",
                "• Total Runtime: **43m 31s**",
                "**Model Results:**",
                "✅ **gpt-oss-120b-bf16** - 9m 47s",
                "  GSM8K accuracy: 85.0% (threshold ≥ 82.0%)",
                "✅ **gpt-oss-20b-bf16** - 5m 44s",
                "  GSM8K accuracy: 53.6% (threshold ≥ 52.0%)",
                "✅ **Qwen3-30B-A3B-Thinking-2507** - 8m 7s",
                "  GSM8K accuracy: 86.0% (threshold ≥ 84.0%)",
                "✅ **GROK1-IN4** - 5m 3s",
                "  GSM8K accuracy: 81.6% (threshold ≥ 80.0%)",
                "✅ **GROK1-FP8** - 4m 46s",
                "  GSM8K accuracy: 82.3% (threshold ≥ 80.0%)",
                "❌ **GROK2.5** - N/A",
                "❌ **Llama-4-Maverick-17B-128E-Instruct-FP8** - N/A",
            ]
        );
        let a = m.card.actions.unwrap();
        assert_eq!(
            a[1].url,
            "https://github.com/ROCm/sglang-ci/tree/log/cron_log/mi30x/20251105"
        );
    }
}
