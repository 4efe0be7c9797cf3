//! The nightly image availability check (`nightly-image-check`, spec nightly.md §3): for each
//! PT date and each hardware type, discover the newest-ROCm nightly tag on Docker Hub and
//! verify its manifest, writing the original's `[check]` report.
//!
//! Fixes: the tag list is fetched once per run (Q-IMG-5); a Docker Hub or registry that does
//! not answer is reported as "could not check" with its own lines and exit code
//! ([`EXIT_COULD_NOT_ASK`]) instead of "not found" (Q-HUB-1); an absent manifest is asked
//! twice (Q-IMG-7).

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use chrono_tz::Tz;

use docker_ctl::dates;
use docker_ctl::hub::{HubClient, HubError};
use docker_ctl::registry::{Manifest, RegistryClient};
use docker_ctl::tags::{self, Hardware};

/// Exit code: every image available.
pub const EXIT_OK: u8 = 0;
/// Exit code: at least one image is missing or not pullable (or a usage error, as the original).
pub const EXIT_MISSING: u8 = 1;
/// Exit code: nothing is known to be missing, but Docker Hub or the registry could not be
/// asked for at least one image.
pub const EXIT_COULD_NOT_ASK: u8 = 3;

/// The GitHub workflow that builds the nightly images (printed, not sent).
pub const WORKFLOW_URL: &str =
    "https://github.com/sgl-project/sglang/actions/workflows/release-docker-amd-nightly.yml";

const P: &str = "[check] ";

fn sep() -> String {
    "=".repeat(42)
}

/// What to check.
#[derive(Debug, Clone, PartialEq)]
pub struct CheckConfig {
    /// `IMAGE_REPO` (`rocm/sgl-dev`).
    pub repo: String,
    /// `TIME_ZONE` (Pacific).
    pub tz: Tz,
    /// Dates to check, in order (`--date`, or today and the previous days).
    pub dates: Vec<String>,
    /// Use the multi-date header style (`--days` > 1).
    pub multi_date_header: bool,
    /// The date sent to Teams (`--date`, else today PT).
    pub teams_date: String,
    /// `Machine:` line.
    pub hostname: String,
    /// Run time for the `Run Date/Time:` line.
    pub now: DateTime<Utc>,
}

/// The result of the check.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct CheckReport {
    /// Images looked for (2 per date).
    pub checked: usize,
    /// Images found and pullable.
    pub found: usize,
    /// `mi30x (rocm700): <tag>` items.
    pub available: Vec<String>,
    /// `mi35x (20251002): no image found for any available ROCM version` items.
    pub missing: Vec<String>,
    /// Items that could not be checked (Docker Hub or the registry did not answer).
    pub unchecked: Vec<String>,
    /// The date sent to Teams.
    pub teams_date: String,
    /// One entry per date and hardware, in the order checked (the `--report-json` items).
    pub images: Vec<ImageResult>,
}

/// How the image of one date and hardware fared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ImageOutcome {
    /// Tag found and its manifest present.
    Available,
    /// No tag for the date (or no repository).
    NotFound,
    /// Tag found, manifest absent.
    NotPullable,
    /// Docker Hub did not answer.
    CouldNotAsk,
    /// The registry did not answer for the found tag.
    CouldNotVerify,
}

/// One date and hardware of the check.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ImageResult {
    /// The PT date (YYYYMMDD).
    pub date: String,
    /// `mi30x`, `mi35x`.
    pub hardware: String,
    /// The tag found, when one was.
    pub tag: Option<String>,
    /// The outcome.
    pub outcome: ImageOutcome,
    /// The error, when Docker Hub or the registry said why.
    pub detail: Option<String>,
}

/// Version of the `--report-json` layout ([`CheckSummary`]).
pub const SUMMARY_VERSION: u32 = 1;

/// The `nightly-image-check --report-json` summary.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct CheckSummary<'a> {
    /// [`SUMMARY_VERSION`].
    pub version: u32,
    /// The repository checked.
    pub repo: &'a str,
    /// The exit code.
    pub exit_code: u8,
    /// `success`, `warning` or `error`.
    pub status: &'static str,
    /// The alert message.
    pub message: String,
    /// Images looked for.
    pub checked: usize,
    /// Images found and pullable.
    pub found: usize,
    /// Each date and hardware.
    pub images: &'a [ImageResult],
}

impl CheckReport {
    /// The versioned `--report-json` summary of a check of `repo`.
    pub fn summary<'a>(&'a self, repo: &'a str) -> CheckSummary<'a> {
        CheckSummary {
            version: SUMMARY_VERSION,
            repo,
            exit_code: self.exit_code(),
            status: self.status(),
            message: self.message(),
            checked: self.checked,
            found: self.found,
            images: &self.images,
        }
    }
}

impl CheckReport {
    /// [`EXIT_MISSING`] when something is missing, else [`EXIT_COULD_NOT_ASK`] when something
    /// could not be checked, else [`EXIT_OK`].
    pub fn exit_code(&self) -> u8 {
        if !self.missing.is_empty() {
            EXIT_MISSING
        } else if !self.unchecked.is_empty() {
            EXIT_COULD_NOT_ASK
        } else {
            EXIT_OK
        }
    }

    /// `success`, `warning` (some found) or `error` (none found).
    pub fn status(&self) -> &'static str {
        if self.missing.is_empty() && self.unchecked.is_empty() {
            "success"
        } else if self.found == 0 {
            "error"
        } else {
            "warning"
        }
    }

    /// The alert message (the original's wording for missing images).
    pub fn message(&self) -> String {
        if self.missing.is_empty() && self.unchecked.is_empty() {
            return "All expected Docker images are available".into();
        }
        let mut parts = Vec::new();
        match self.missing.len() {
            0 => {}
            1 => parts.push("1 Docker image is missing or not accessible".to_string()),
            n => parts.push(format!("{n} Docker images are missing or not accessible")),
        }
        match self.unchecked.len() {
            0 => {}
            1 => parts.push(
                "1 Docker image could not be checked (Docker Hub or the registry did not answer)"
                    .to_string(),
            ),
            n => parts.push(format!(
                "{n} Docker images could not be checked (Docker Hub or the registry did not answer)"
            )),
        }
        parts.join("; ")
    }

    /// The alert program's arguments after the program name (spec §3.6):
    /// `--status= --message= --checked-count= --found-count= --webhook-url= --date-checked=
    /// [--available-images ...] [--details ...]`.
    pub fn alert_args(&self, webhook_url: &str) -> Vec<String> {
        let mut a = vec![
            format!("--status={}", self.status()),
            format!("--message={}", self.message()),
            format!("--checked-count={}", self.checked),
            format!("--found-count={}", self.found),
            format!("--webhook-url={webhook_url}"),
            format!("--date-checked={}", self.teams_date),
        ];
        if !self.available.is_empty() {
            a.push("--available-images".into());
            a.extend(self.available.iter().cloned());
        }
        let details: Vec<&String> = self.missing.iter().chain(&self.unchecked).collect();
        if !details.is_empty() {
            a.push("--details".into());
            a.extend(details.into_iter().cloned());
        }
        a
    }
}

/// Runs the check, writing the report to `out` (header, one block per date, summary and
/// tails; the Teams block is the caller's).
pub fn run(
    cfg: &CheckConfig,
    hub: &HubClient,
    registry: &RegistryClient,
    out: &mut dyn Write,
) -> io::Result<CheckReport> {
    writeln!(out, "{P}{}", sep())?;
    writeln!(out, "{P}SGL Nightly Docker Image Availability Check")?;
    writeln!(out, "{P}{}", sep())?;
    writeln!(out, "{P}Run Date/Time: {}", dates::stamp(cfg.now, cfg.tz))?;
    writeln!(out, "{P}Machine: {}", cfg.hostname)?;
    writeln!(out, "{P}Repository: {}", cfg.repo)?;
    writeln!(out, "{P}Hardware types: mi30x mi35x")?;

    let mut report = CheckReport {
        teams_date: cfg.teams_date.clone(),
        ..Default::default()
    };
    // Fetched once, on the first search (Q-IMG-5).
    let mut tag_list: Option<Result<Vec<String>, HubError>> = None;
    for date in &cfg.dates {
        if cfg.multi_date_header {
            writeln!(out)?;
            writeln!(out, "{P}{}", "-".repeat(42))?;
            writeln!(out, "{P}Checking images for date: {date}")?;
            writeln!(out, "{P}{}", "-".repeat(42))?;
        } else {
            writeln!(out, "{P}Checking images for date: {date}")?;
            writeln!(out)?;
        }
        for hw in Hardware::ALL {
            report.checked += 1;
            let item = |tag: Option<&str>, outcome, detail: Option<String>| ImageResult {
                date: date.clone(),
                hardware: hw.as_str().to_owned(),
                tag: tag.map(str::to_owned),
                outcome,
                detail,
            };
            write!(
                out,
                "{P}Searching for {hw} image (discovering ROCM version)... "
            )?;
            out.flush()?;
            let list = tag_list.get_or_insert_with(|| hub.all_tags(&cfg.repo));
            let found = match list {
                Err(HubError::CouldNotAsk(why)) => {
                    writeln!(out, "? COULD NOT ASK DOCKER HUB")?;
                    writeln!(out, "{P}  Error: {why}")?;
                    report
                        .unchecked
                        .push(format!("{hw} ({date}): could not ask Docker Hub: {why}"));
                    let it = item(None, ImageOutcome::CouldNotAsk, Some(why.to_string()));
                    report.images.push(it);
                    continue;
                }
                Err(e @ HubError::NoRepository { .. }) => {
                    writeln!(out, "✗ NOT FOUND")?;
                    writeln!(out, "{P}  Error: {e}")?;
                    report.missing.push(format!(
                        "{hw} ({date}): no image found for any available ROCM version ({e})"
                    ));
                    let it = item(None, ImageOutcome::NotFound, Some(e.to_string()));
                    report.images.push(it);
                    continue;
                }
                Ok(all) => {
                    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
                    tags::select_discovered(&refs, hw.as_str(), date).map(|(_, t)| t.to_string())
                }
            };
            let Some(tag) = found else {
                writeln!(out, "✗ NOT FOUND")?;
                report.missing.push(format!(
                    "{hw} ({date}): no image found for any available ROCM version"
                ));
                report.images.push(item(None, ImageOutcome::NotFound, None));
                continue;
            };
            write!(out, "found, verifying... ")?;
            out.flush()?;
            let image = format!("{}:{tag}", cfg.repo);
            match registry.manifest(&cfg.repo, &tag) {
                Ok(Manifest::Present) => {
                    writeln!(out, "✓ AVAILABLE")?;
                    writeln!(out, "{P}  Image: {image}")?;
                    report.found += 1;
                    report.available.push(match tags::rocm_token(&tag) {
                        Some(r) => format!("{hw} ({r}): {tag}"),
                        None => format!("{hw}: {tag}"),
                    });
                    report
                        .images
                        .push(item(Some(&tag), ImageOutcome::Available, None));
                }
                Ok(Manifest::Absent) => {
                    writeln!(out, "✗ FOUND BUT NOT PULLABLE")?;
                    writeln!(out, "{P}  Image: {image} (manifest check failed)")?;
                    report
                        .missing
                        .push(format!("{hw} ({date}): {image} - not pullable"));
                    report
                        .images
                        .push(item(Some(&tag), ImageOutcome::NotPullable, None));
                }
                Err(e) => {
                    writeln!(out, "? COULD NOT VERIFY")?;
                    writeln!(out, "{P}  Image: {image} ({e})")?;
                    report
                        .unchecked
                        .push(format!("{hw} ({date}): {image} - could not verify: {e}"));
                    report.images.push(item(
                        Some(&tag),
                        ImageOutcome::CouldNotVerify,
                        Some(e.to_string()),
                    ));
                }
            }
        }
    }
    write_summary(&report, out)?;
    Ok(report)
}

fn write_summary(r: &CheckReport, out: &mut dyn Write) -> io::Result<()> {
    writeln!(out)?;
    writeln!(out, "{P}{}", sep())?;
    writeln!(out, "{P}Summary")?;
    writeln!(out, "{P}{}", sep())?;
    writeln!(out, "{P}Total images checked: {}", r.checked)?;
    writeln!(out, "{P}Available images: {}", r.found)?;
    writeln!(out, "{P}Missing images: {}", r.missing.len())?;
    if !r.unchecked.is_empty() {
        writeln!(out, "{P}Unchecked images: {}", r.unchecked.len())?;
    }
    if r.missing.is_empty() && r.unchecked.is_empty() {
        writeln!(out)?;
        writeln!(out, "{P}✓ All expected images are available!")?;
        return Ok(());
    }
    if !r.missing.is_empty() {
        writeln!(out)?;
        writeln!(out, "{P}✗ Missing or problematic images:")?;
        for m in &r.missing {
            writeln!(out, "{P}  - {m}")?;
        }
    }
    if !r.unchecked.is_empty() {
        writeln!(out)?;
        writeln!(out, "{P}? Images that could not be checked:")?;
        for m in &r.unchecked {
            writeln!(out, "{P}  - {m}")?;
        }
        writeln!(
            out,
            "{P}Docker Hub or the registry did not answer (network, rate limit or outage); these images may exist. Re-run the check later."
        )?;
    }
    if !r.missing.is_empty() {
        writeln!(out)?;
        writeln!(out, "{P}{}", sep())?;
        writeln!(out, "{P}Troubleshooting")?;
        writeln!(out, "{P}{}", sep())?;
        writeln!(out, "{P}Some images are missing or not accessible.")?;
        writeln!(
            out,
            "{P}This could indicate build failures in the nightly pipeline."
        )?;
        writeln!(out)?;
        writeln!(
            out,
            "{P}To investigate build errors, check the GitHub workflow:"
        )?;
        writeln!(out, "{P}{WORKFLOW_URL}")?;
        writeln!(out)?;
        writeln!(
            out,
            "{P}Look for recent workflow runs around the missing dates."
        )?;
        writeln!(out, "{P}Check for:")?;
        for l in [
            "Build failures in the workflow logs",
            "Docker registry push errors",
            "Resource or timeout issues",
            "AMD-specific build problems",
        ] {
            writeln!(out, "{P}  - {l}")?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn report(found: usize, missing: usize, unchecked: usize) -> CheckReport {
        CheckReport {
            checked: found + missing + unchecked,
            found,
            available: (0..found).map(|i| format!("a{i}")).collect(),
            missing: (0..missing).map(|i| format!("m{i}")).collect(),
            unchecked: (0..unchecked).map(|i| format!("u{i}")).collect(),
            teams_date: "20251029".into(),
            images: Vec::new(),
        }
    }

    #[test]
    fn exit_codes_and_status() {
        assert_eq!(report(2, 0, 0).exit_code(), EXIT_OK);
        assert_eq!(report(1, 1, 0).exit_code(), EXIT_MISSING);
        assert_eq!(report(1, 0, 1).exit_code(), EXIT_COULD_NOT_ASK);
        assert_eq!(report(0, 1, 1).exit_code(), EXIT_MISSING);
        assert_eq!(report(2, 0, 0).status(), "success");
        assert_eq!(report(1, 1, 0).status(), "warning");
        assert_eq!(report(0, 2, 0).status(), "error");
    }

    #[test]
    fn messages_follow_the_original() {
        assert_eq!(
            report(1, 1, 0).message(),
            "1 Docker image is missing or not accessible"
        );
        assert_eq!(
            report(0, 2, 0).message(),
            "2 Docker images are missing or not accessible"
        );
        assert!(
            report(1, 0, 1)
                .message()
                .starts_with("1 Docker image could not be checked")
        );
    }

    #[test]
    fn alert_arguments() {
        let a = report(1, 1, 0).alert_args("https://example.invalid/hook");
        assert_eq!(
            a,
            [
                "--status=warning",
                "--message=1 Docker image is missing or not accessible",
                "--checked-count=2",
                "--found-count=1",
                "--webhook-url=https://example.invalid/hook",
                "--date-checked=20251029",
                "--available-images",
                "a0",
                "--details",
                "m0",
            ]
        );
        let ok = report(2, 0, 0).alert_args("u");
        assert!(!ok.contains(&"--details".to_string()));
    }
}
