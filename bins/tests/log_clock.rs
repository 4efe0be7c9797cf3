//! One time zone per log line family, as the original (spec nightly.md §1.5): the nightly's
//! warnings are stamped in US Pacific like the `Start time:` line next to them, whatever the
//! machine's zone; the other jobs stamp theirs in the machine's zone (`TZ`), like `date`.

mod support;

use std::process::Command;
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(120);

/// The zone abbreviation ending the stamp of a log line
/// (`2025-10-29 11:45:42 PDT  WARN …` → `PDT`), `None` for lines without one.
fn stamp_zone(line: &str) -> Option<String> {
    let re = regex::Regex::new(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d ([A-Z][A-Za-z0-9+-]*) +(WARN|INFO|ERROR|DEBUG)",
    )
    .unwrap();
    re.captures(line).map(|c| c[1].to_owned())
}

/// perf-nightly's warnings (a bad `SGLCI_DOCKERHUB_TIMEOUT_S`, Docker Hub retries) carry the
/// Pacific zone of its `Start time:` line even on a machine set to UTC or Tokyo.
#[test]
fn perf_nightly_warnings_use_the_pacific_clock_of_its_console_lines() {
    // perf-nightly asks Docker before anything else.
    if docker_ctl::testkit::connect_or_skip("perf_nightly_warnings_use_the_pacific_clock").is_none()
    {
        return;
    }
    for tz in ["UTC", "Asia/Tokyo"] {
        let dir = tempfile::tempdir().unwrap();
        let hub = format!("http://127.0.0.1:{}", support::free_port());
        let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
        c.arg(format!("--work-dir={}", dir.path().display()))
            .arg("--mode=online")
            .env("TZ", tz)
            .env("SGLCI_LOCK_DIR", dir.path())
            .env("SGLCI_DOCKERHUB_URL", &hub)
            .env("SGLCI_REGISTRY_URL", &hub)
            .env("SGLCI_DOCKERHUB_TIMEOUT_S", "abc")
            .env("SGLCI_DOCKERHUB_BACKOFF_MS", "10")
            .env_remove("TEAMS_WEBHOOK_URL");
        let r = support::run(c, LIMIT, "perf-nightly with an unreachable Docker Hub");
        let start = r
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("[nightly] Start time: "))
            .unwrap_or_else(|| panic!("no Start time line\n{}", r.all()));
        let zone = start.rsplit(' ').next().unwrap();
        assert!(zone == "PDT" || zone == "PST", "{start}");
        let stamped: Vec<&str> = r
            .stderr
            .lines()
            .filter(|l| stamp_zone(l).is_some())
            .collect();
        assert!(
            stamped
                .iter()
                .any(|l| l.contains("SGLCI_DOCKERHUB_TIMEOUT_S")),
            "TZ={tz}: the warning is logged\n{}",
            r.all()
        );
        for l in &stamped {
            assert_eq!(
                stamp_zone(l).as_deref(),
                Some(zone),
                "TZ={tz}: {l}\n{}",
                r.all()
            );
        }
    }
}

/// A job of the machine's family (latest-results naming a folder it cannot read) stamps its
/// warning in the zone `TZ` names.
#[test]
fn other_jobs_stamp_their_warnings_in_the_machines_zone() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(
        dir.path()
            .join("online/GROK1/v0.5.4-rocm630-mi30x-20251029_GROK1_MOE-I4F8_online"),
    )
    .unwrap();
    for (tz, zones) in [
        ("UTC", &["UTC"][..]),
        ("Asia/Tokyo", &["JST"][..]),
        ("America/Chicago", &["CST", "CDT"][..]),
    ] {
        let mut c = Command::new(env!("CARGO_BIN_EXE_latest-results"));
        c.arg("--benchmark-dir").arg(dir.path()).env("TZ", tz);
        let r = support::run(c, LIMIT, "latest-results");
        assert_eq!(r.code, Some(0), "{}", r.all());
        let line = r
            .stderr
            .lines()
            .find(|l| l.contains("skipped"))
            .unwrap_or_else(|| panic!("no warning\n{}", r.all()));
        let zone = stamp_zone(line).unwrap_or_else(|| panic!("no stamp: {line}"));
        assert!(zones.contains(&zone.as_str()), "TZ={tz}: {line}");
    }
}
