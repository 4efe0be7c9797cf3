//! The "Nightly Docker Image Check" card (`send_docker_image_alert.py`, spec §5): built from
//! the check's arguments only, nothing is read from disk.

use teams::Message;
use teams::card::{AdaptiveCard, Color, OpenUrl, TextBlock};

use crate::common::{Clock, cron_logs_url, dashed_date, hw_from_host, hw_in};

/// Default `DOCKER_IMAGE_REPO`.
pub const DEFAULT_IMAGE_REPO: &str = "rocm/sgl-dev";
/// Default `GITHUB_WORKFLOW_URL`.
pub const DEFAULT_WORKFLOW_URL: &str =
    "https://github.com/sgl-project/sglang/actions/workflows/release-docker-amd-nightly.yml";

/// The check's outcome as the caller reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Every image is there.
    Success,
    /// Some are missing.
    Warning,
    /// None was found (also any unknown status word, as the original).
    Error,
}

impl Status {
    /// `success` / `warning` / anything else → error.
    pub fn parse(s: &str) -> Self {
        match s {
            "success" => Self::Success,
            "warning" => Self::Warning,
            _ => Self::Error,
        }
    }

    /// The word used on the console.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Success => "success",
            Self::Warning => "warning",
            Self::Error => "error",
        }
    }
}

/// Everything the card is built from.
#[derive(Debug, Clone)]
pub struct DockerAlert {
    /// `--status` as given (console line uses it verbatim).
    pub status: String,
    /// `--message`.
    pub message: String,
    /// `--details` entries.
    pub details: Vec<String>,
    /// `--checked-count`.
    pub checked: u32,
    /// `--found-count`.
    pub found: u32,
    /// `--date-checked` (`YYYYMMDD`).
    pub date_checked: Option<String>,
    /// `--available-images` entries (`mi30x (rocm700): <tag>`).
    pub available: Vec<String>,
    /// `--hardware` / `HARDWARE_TYPE`: this host's hardware for the cron-log link (fix D1);
    /// `None` falls back to the original's guess from the images and the host name.
    pub hardware: Option<String>,
    /// `DOCKER_IMAGE_REPO`.
    pub image_repo: String,
    /// `GITHUB_WORKFLOW_URL`.
    pub workflow_url: String,
    /// `GITHUB_REPO`.
    pub github_repo: String,
    /// This host's name.
    pub host: String,
    /// Now.
    pub clock: Clock,
}

impl DockerAlert {
    /// An alert with the links, repository and host from the environment (`DOCKER_IMAGE_REPO`,
    /// `GITHUB_WORKFLOW_URL`, `GITHUB_REPO`, empty values count as unset) and the clock now:
    /// what `send-docker-image-alert` and `nightly-image-check` both send.
    pub fn from_env(status: String, message: String, hardware: Option<String>) -> Self {
        let env_or = |k: &str, d: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| d.to_owned())
        };
        Self {
            status,
            message,
            details: Vec::new(),
            checked: 0,
            found: 0,
            date_checked: None,
            available: Vec::new(),
            hardware,
            image_repo: env_or("DOCKER_IMAGE_REPO", DEFAULT_IMAGE_REPO),
            workflow_url: env_or("GITHUB_WORKFLOW_URL", DEFAULT_WORKFLOW_URL),
            github_repo: env_or("GITHUB_REPO", crate::common::DEFAULT_GITHUB_REPO),
            host: crate::common::hostname(),
            clock: Clock::system(),
        }
    }

    /// The parsed status.
    pub fn status(&self) -> Status {
        Status::parse(&self.status)
    }

    /// The hardware of the cron-log link: `--hardware`, else the first available image with
    /// `mi..x`, else the host name (§2.6).
    pub fn link_hardware(&self) -> Option<String> {
        self.hardware
            .clone()
            .filter(|h| !h.is_empty())
            .or_else(|| self.available.iter().find_map(|a| hw_in(a)))
            .or_else(|| hw_from_host(&self.host))
    }

    /// The card (spec §5.3).
    pub fn card(&self) -> Message {
        let status = self.status();
        let (icon, color, headline) = match status {
            Status::Success => ("✅", Color::Good, "All Docker Images Available"),
            Status::Warning => ("⚠️", Color::Warning, "Some Docker Images Missing"),
            Status::Error => ("❌", Color::Attention, "Docker Image Availability Issues"),
        };
        let title_date = self
            .date_checked
            .as_deref()
            .map_or_else(|| self.clock.pacific_date(), dashed_date);
        let mut c = AdaptiveCard::new();
        c.push(TextBlock::title(format!(
            "{title_date} Nightly Docker Image Check"
        )))
        .push(TextBlock::subtle(format!(
            "Repository: {}",
            self.image_repo
        )))
        .push(TextBlock::subtle(format!("Host: {}", self.host)))
        .push(TextBlock::subtle(format!(
            "Checked on {} at {}",
            self.clock.pacific_date(),
            self.clock.pacific_time()
        )))
        .push(TextBlock::section("Status"))
        .push(TextBlock::status(format!("{icon} {headline}"), color));
        if self.checked > 0 {
            c.push(TextBlock::bullet_first(format!(
                "• Images checked: **{}**, Available: **{}**, Missing: **{}**",
                self.checked,
                self.found,
                i64::from(self.checked) - i64::from(self.found)
            )));
        }
        if status == Status::Success && !self.available.is_empty() {
            for a in &self.available {
                c.push(TextBlock::bullet_first(format!("• {a}")));
            }
        } else if status != Status::Success && !self.message.is_empty() {
            c.push(TextBlock::bullet_first(format!("• {}", self.message)));
        }
        if !self.details.is_empty() {
            c.push(TextBlock::section("Details"));
            for d in &self.details {
                c.push(TextBlock::bullet(format!("• {d}")));
            }
        }
        if status != Status::Success {
            c.push(TextBlock::section("Troubleshooting"))
                .push(TextBlock::bullet_first(
                    "• Missing images may indicate build failures in the nightly pipeline",
                ))
                .push(TextBlock::bullet(
                    "• Check the GitHub workflow for recent build errors or resource issues",
                ));
        }
        c.actions = Some(Vec::new());
        if let Some(hw) = self.link_hardware() {
            let date = self
                .date_checked
                .clone()
                .unwrap_or_else(|| self.clock.local_yyyymmdd());
            c.action(OpenUrl::new(
                "📋 Cron Logs",
                cron_logs_url(&self.github_repo, &hw, &date),
            ));
        }
        if status != Status::Success {
            c.action(OpenUrl::new("🔧 View GitHub Workflow", &self.workflow_url));
        }
        c.action(OpenUrl::new(
            "🐳 View Docker Hub",
            format!("https://hub.docker.com/r/{}/tags", self.image_repo),
        ));
        c.into_message()
    }

    /// `Docker image <status> alert` (the console's `✅ Successfully sent … to Teams`).
    pub fn what(&self) -> String {
        format!("Docker image {} alert", self.status)
    }
}

/// Builds the card and sends it: the entry point of `send-docker-image-alert` and of
/// `nightly-image-check`.
pub fn send(
    alert: &DockerAlert,
    target: &crate::Target,
    say: &mut dyn FnMut(String),
) -> Result<crate::Sent, teams::DeliveryError> {
    crate::send::deliver(alert.card(), target, &alert.what(), say)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn alert() -> DockerAlert {
        DockerAlert {
            status: "warning".into(),
            message: "1 Docker image is missing or not accessible".into(),
            details: vec!["mi35x (20251015): no image found for any available ROCM version".into()],
            checked: 2,
            found: 1,
            date_checked: Some("20251015".into()),
            available: vec!["mi30x (rocm700): v0.5.3.post3-rocm700-mi30x-20251015".into()],
            hardware: None,
            image_repo: DEFAULT_IMAGE_REPO.into(),
            workflow_url: DEFAULT_WORKFLOW_URL.into(),
            github_repo: "ROCm/sglang-ci".into(),
            host: "smci355-ccs-aus-m12-33".into(),
            clock: Clock::at(
                chrono::Utc
                    .with_ymd_and_hms(2025, 10, 15, 18, 0, 0)
                    .unwrap(),
            ),
        }
    }

    #[test]
    fn reproduced_warning_card_of_the_spec() {
        let m = alert().card();
        crate::assert_valid(&m);
        assert_eq!(
            m.card.texts(),
            [
                "2025-10-15 Nightly Docker Image Check",
                "Repository: rocm/sgl-dev",
                "Host: smci355-ccs-aus-m12-33",
                "Checked on 2025-10-15 at 11:00:00 PDT",
                "**Status:**",
                "⚠️ Some Docker Images Missing",
                "• Images checked: **2**, Available: **1**, Missing: **1**",
                "• 1 Docker image is missing or not accessible",
                "**Details:**",
                "• mi35x (20251015): no image found for any available ROCM version",
                "**Troubleshooting:**",
                "• Missing images may indicate build failures in the nightly pipeline",
                "• Check the GitHub workflow for recent build errors or resource issues",
            ]
        );
        assert_eq!(m.card.body[5].color(), Some(Color::Warning));
        let a = m.card.actions.unwrap();
        let urls: Vec<&str> = a.iter().map(|a| a.url.as_str()).collect();
        assert_eq!(
            urls,
            [
                "https://github.com/ROCm/sglang-ci/tree/log/cron_log/mi30x/20251015",
                DEFAULT_WORKFLOW_URL,
                "https://hub.docker.com/r/rocm/sgl-dev/tags"
            ]
        );
    }

    #[test]
    fn hardware_flag_fixes_the_cron_link_of_the_mi35x_host() {
        let mut a = alert();
        a.hardware = Some("mi35x".into());
        let m = a.card();
        assert_eq!(
            m.card.actions.unwrap()[0].url,
            "https://github.com/ROCm/sglang-ci/tree/log/cron_log/mi35x/20251015"
        );
    }

    #[test]
    fn success_lists_available_images_and_has_no_workflow_button() {
        let mut a = alert();
        a.status = "success".into();
        a.found = 2;
        a.details.clear();
        a.available
            .push("mi35x (rocm700): v0.5.3.post3-rocm700-mi35x-20251015".into());
        let m = a.card();
        crate::assert_valid(&m);
        let t = m.card.texts();
        assert!(t.contains(&"• mi35x (rocm700): v0.5.3.post3-rocm700-mi35x-20251015"));
        assert!(!t.contains(&"**Troubleshooting:**"));
        assert_eq!(m.card.actions.unwrap().len(), 2);
    }
}
