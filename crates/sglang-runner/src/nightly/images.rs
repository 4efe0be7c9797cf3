//! Image selection of a night (spec benchmarks.md §8.8): `--docker_image`, or Docker Hub
//! discovery for today's Pacific date (and N-1 days before), with the yesterday fallback of
//! docker-ctl's [`find_recent`]; each found tag is used when present locally, else pulled (up
//! to three attempts). "Not found" and "could not ask" are different outcomes.

use std::time::Duration;

use chrono::{DateTime, Utc};
use docker_ctl::{
    BlockingEngine, DockerError, HubClient, HubError, Lookup, NightlySearch, find_recent,
};
use thiserror::Error;

use crate::signals::Interrupt;

/// Why no image can be used.
#[derive(Debug, Error)]
pub enum SelectError {
    /// Docker Hub answered and no tag matched (or none could be obtained): exit 1.
    #[error("Could not find and obtain any valid non-SRT images for the last {days} days.")]
    NotFound {
        /// `--continue-run-days`.
        days: u32,
    },
    /// Docker Hub could not be asked: exit 3 (the original took this for "not found").
    #[error(
        "Could not ask Docker Hub for the nightly images ({0}); the images may well exist: check the network or SGLCI_DOCKERHUB_URL and retry"
    )]
    CouldNotAsk(String),
    /// The repository does not exist: exit 1.
    #[error("{0}")]
    NoRepository(String),
    /// `--docker_image` is neither local nor pullable: exit 1.
    #[error(
        "Image {image} not found locally or remotely: {reason} (for the simulated engine build it with `sglang-sim build-image --tag {image}`)"
    )]
    GivenUnavailable {
        /// The image.
        image: String,
        /// What the pull said.
        reason: String,
    },
    /// The daemon failed.
    #[error("{0}")]
    Docker(#[from] DockerError),
}

impl SelectError {
    /// The exit code of perf-nightly for this outcome.
    pub fn exit_code(&self) -> u8 {
        match self {
            Self::CouldNotAsk(_) => 3,
            _ => 1,
        }
    }
}

/// Waits between pull attempts: `SGLCI_PULL_RETRY_WAITS` (comma-separated seconds, default
/// `30,60`, the original's); one attempt more than waits.
pub fn pull_waits(env: &dyn crate::config::EnvSource) -> Vec<Duration> {
    env.var("SGLCI_PULL_RETRY_WAITS")
        .and_then(|v| {
            v.split(',')
                .map(|s| {
                    s.trim()
                        .parse::<f64>()
                        .ok()
                        .filter(|x| x.is_finite() && *x >= 0.0)
                })
                .collect::<Option<Vec<f64>>>()
        })
        .unwrap_or_else(|| vec![30.0, 60.0])
        .into_iter()
        .map(Duration::from_secs_f64)
        .collect()
}

/// The image locally, else pulled with retries. `say` gets the original's lines.
pub fn obtain(
    engine: &BlockingEngine,
    image: &str,
    waits: &[Duration],
    pull_limit: Duration,
    interrupt: &Interrupt,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    match engine.image_exists(image) {
        Ok(true) => {
            say(format!("[nightly] Found local image: {image}"));
            return Ok(());
        }
        Ok(false) => {}
        Err(e) => return Err(e.to_string()),
    }
    let attempts = waits.len() + 1;
    let mut last = String::new();
    for a in 1..=attempts {
        say(format!(
            "[nightly] Pull attempt {a}/{attempts} for {image}..."
        ));
        match engine.pull(image, pull_limit, |_| {}) {
            Ok(()) => return Ok(()),
            Err(e) => last = e.to_string(),
        }
        if let Some(w) = waits.get(a - 1) {
            say(format!(
                "[nightly] Pull failed, retrying in {}s...",
                w.as_secs()
            ));
            if interrupt.sleep(*w).is_err() {
                break;
            }
        }
    }
    say(format!("[nightly] All pull attempts failed for {image}"));
    Err(last)
}

/// What the search needs.
pub struct Discovery<'a> {
    /// Docker Hub.
    pub hub: &'a HubClient,
    /// `IMAGE_REPO`.
    pub repo: &'a str,
    /// ROCm token.
    pub rocm: &'a str,
    /// Hardware token.
    pub hw: &'a str,
    /// `--continue-run-days`.
    pub days: u32,
    /// Now.
    pub now: DateTime<Utc>,
    /// `TIME_ZONE`.
    pub tz: chrono_tz::Tz,
}

/// Discovers and obtains the night's images (§8.8), printing the original's lines.
pub fn discover(
    d: &Discovery<'_>,
    mut obtain_image: impl FnMut(&str, &mut dyn FnMut(String)) -> Result<(), String>,
    say: &mut dyn FnMut(String),
) -> Result<Vec<String>, SelectError> {
    let searching = |date: &str| {
        format!(
            "[nightly] Searching for non-SRT {} image in '{}' for date {date}...",
            d.hw, d.repo
        )
    };
    let date_of = |offset: u32| docker_ctl::dates::date_days_ago(d.now, d.tz, offset);
    let mut printed = 0u32;
    let mut images = Vec::new();
    let result = find_recent(
        d.hub,
        &NightlySearch {
            repo: d.repo,
            rocm: d.rocm,
            hw: d.hw,
        },
        d.now,
        d.tz,
        d.days,
        |a, tag| {
            // Dates searched before this one found nothing: their lines come first.
            while printed < a.offset && !a.fallback {
                say(searching(&date_of(printed)));
                printed += 1;
            }
            let image = format!("{}:{tag}", d.repo);
            if a.fallback {
                say(
                    "[nightly] No image found for today. Checking yesterday as a fallback..."
                        .into(),
                );
                say(searching(&a.date));
                say(format!("[nightly] Fallback found candidate tag: {tag}"));
            } else {
                say(searching(&a.date));
                say(format!(
                    "[nightly] Found candidate tag for day -{}: {tag}",
                    a.offset
                ));
                printed = a.offset + 1;
            }
            match obtain_image(&image, say) {
                Ok(()) => {
                    say(format!(
                        "[nightly] Successfully obtained {}image for date {}: {image}",
                        if a.fallback { "fallback " } else { "" },
                        a.date
                    ));
                    images.push(image);
                    true
                }
                Err(e) => {
                    say(format!(
                        "[nightly] WARN: Failed to obtain candidate tag {tag}. It may be private or invalid. ({e})"
                    ));
                    false
                }
            }
        },
    );
    let attempts = match result {
        Ok(a) => a,
        Err(HubError::CouldNotAsk(e)) => return Err(SelectError::CouldNotAsk(e)),
        Err(e @ HubError::NoRepository { .. }) => {
            return Err(SelectError::NoRepository(e.to_string()));
        }
    };
    for a in &attempts {
        if a.lookup != Lookup::NotFound {
            continue;
        }
        if a.fallback {
            say("[nightly] No image found for today. Checking yesterday as a fallback...".into());
            say(searching(&a.date));
            say("[nightly] No fallback image found for yesterday either.".into());
        } else if a.offset >= printed {
            say(searching(&a.date));
        }
    }
    if images.is_empty() {
        return Err(SelectError::NotFound { days: d.days });
    }
    Ok(images)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn pull_waits_default_and_override() {
        let none: BTreeMap<String, String> = BTreeMap::new();
        assert_eq!(
            pull_waits(&none),
            [Duration::from_secs(30), Duration::from_secs(60)]
        );
        let set: BTreeMap<String, String> =
            BTreeMap::from([("SGLCI_PULL_RETRY_WAITS".into(), "0, 0.5".into())]);
        assert_eq!(
            pull_waits(&set),
            [Duration::ZERO, Duration::from_millis(500)]
        );
        assert_eq!(SelectError::CouldNotAsk("x".into()).exit_code(), 3);
        assert_eq!(SelectError::NotFound { days: 1 }.exit_code(), 1);
    }
}
