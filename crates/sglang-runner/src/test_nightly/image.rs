//! Image discovery and pull of `test-nightly` (spec nightly.md §2.3, §2.4, §4.8): today's
//! Pacific date, else yesterday's (docker-ctl's [`find_recent`] with one day), or exactly
//! `--image-date`; single-ROCm search on Docker Hub; one pull attempt per tag, as the
//! original. An image already present locally is used without pulling (nightly tags are
//! dated and never rebuilt; this is also how a `sglang-sim build-image` image tagged like a
//! nightly is found without a registry). Docker Hub that cannot be asked is its own outcome
//! (exit 3), not "not found".

use std::time::Duration;

use chrono::{DateTime, Utc};
use docker_ctl::{BlockingEngine, HubClient, HubError, Lookup, NightlySearch, find_recent};

use super::error::TestNightlyError;

/// Limit of one pull.
pub const PULL_LIMIT: Duration = Duration::from_secs(3600);

/// What the search needs.
pub struct Search<'a> {
    /// Docker Hub.
    pub hub: &'a HubClient,
    /// `IMAGE_REPO`.
    pub repo: &'a str,
    /// ROCm token.
    pub rocm: &'a str,
    /// Hardware token.
    pub hw: &'a str,
    /// `--image-date`.
    pub date: Option<&'a str>,
    /// Now.
    pub now: DateTime<Utc>,
    /// `TIME_ZONE`.
    pub tz: chrono_tz::Tz,
}

/// The image present locally, else pulled once. `say` gets the `[test]` lines.
pub fn obtain(
    engine: &BlockingEngine,
    image: &str,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    match engine.image_exists(image) {
        Ok(true) => {
            say(format!(
                "[test] Image {image} is present locally (dated tag): not pulled"
            ));
            return Ok(());
        }
        Ok(false) => {}
        Err(e) => return Err(e.to_string()),
    }
    say(format!("[test] Attempting to pull {image}..."));
    engine.pull(image, PULL_LIMIT, |_| {}).map_err(|e| {
        let e = e.to_string();
        say(format!("[test]   {e}"));
        e
    })
}

fn hub_error(e: HubError) -> TestNightlyError {
    match e {
        HubError::CouldNotAsk(w) => TestNightlyError::CouldNotAsk(w),
        e @ HubError::NoRepository { .. } => TestNightlyError::NoRepository(e.to_string()),
    }
}

/// Finds and obtains the run's image (`<repo>:<tag>`), printing the original's lines.
/// `obtain_image` pulls (or finds) one image.
pub fn select(
    s: &Search<'_>,
    mut obtain_image: impl FnMut(&str, &mut dyn FnMut(String)) -> Result<(), String>,
    say: &mut dyn FnMut(String),
) -> Result<String, TestNightlyError> {
    let searching = |date: &str| {
        format!(
            "[test] Searching for non-SRT {} image in '{}' for date {date}...",
            s.hw, s.repo
        )
    };
    if let Some(d) = s.date {
        say(format!(
            "[test] Searching for non-SRT image for specific date: {d}..."
        ));
        say(format!("[test] Looking for image with date: {d}"));
        say(searching(d));
        let found = s
            .hub
            .find_nightly(s.repo, s.rocm, s.hw, d)
            .map_err(hub_error)?;
        let none = || TestNightlyError::NoImage {
            when: format!("date {d}"),
        };
        return match found {
            Lookup::Found(tag) => {
                say(format!("[test] Found candidate tag for {d}: {tag}"));
                let image = format!("{}:{tag}", s.repo);
                match obtain_image(&image, say) {
                    Ok(()) => {
                        say(format!("[test] Successfully pulled image for {d}: {image}"));
                        Ok(image)
                    }
                    Err(_) => {
                        say(format!("[test] WARN: Failed to pull tag {tag}."));
                        Err(none())
                    }
                }
            }
            Lookup::NotFound => {
                say(format!("[test] No image found for date {d}."));
                Err(none())
            }
        };
    }
    say("[test] Searching for latest non-SRT image...".into());
    let date_of = |offset: u32| docker_ctl::dates::date_days_ago(s.now, s.tz, offset);
    let mut today_printed = false;
    let mut chosen = None;
    let fallback_intro = "[test] No image found for today. Checking yesterday as a fallback...";
    let attempts = find_recent(
        s.hub,
        &NightlySearch {
            repo: s.repo,
            rocm: s.rocm,
            hw: s.hw,
        },
        s.now,
        s.tz,
        1,
        |a, tag| {
            let image = format!("{}:{tag}", s.repo);
            if a.fallback {
                if !today_printed {
                    say(searching(&date_of(0)));
                    today_printed = true;
                }
                say(fallback_intro.into());
                say(searching(&a.date));
                say(format!("[test] Fallback found candidate tag: {tag}"));
            } else {
                say(searching(&a.date));
                today_printed = true;
                say(format!("[test] Found candidate tag for today: {tag}"));
            }
            let ok = obtain_image(&image, say).is_ok();
            match (ok, a.fallback) {
                (true, false) => say(format!(
                    "[test] Successfully pulled image for today: {image}"
                )),
                (true, true) => say(format!(
                    "[test] Successfully pulled fallback image for yesterday: {image}"
                )),
                (false, false) => say(format!(
                    "[test] WARN: Failed to pull today's tag {tag}. Trying yesterday..."
                )),
                (false, true) => say(format!("[test] WARN: Failed to pull fallback tag {tag}.")),
            }
            if ok {
                chosen = Some(image);
            }
            ok
        },
    )
    .map_err(hub_error)?;
    // Today not obtained is always followed by the yesterday attempt, which prints today's
    // search line when the callback did not.
    for a in attempts
        .iter()
        .filter(|a| a.fallback && a.lookup == Lookup::NotFound)
    {
        if !today_printed {
            say(searching(&date_of(0)));
            today_printed = true;
        }
        say(fallback_intro.into());
        say(searching(&a.date));
        say("[test] No fallback image found for yesterday either.".into());
    }
    chosen.ok_or_else(|| TestNightlyError::NoImage {
        when: "today or yesterday".into(),
    })
}
