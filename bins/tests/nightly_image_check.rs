//! `nightly-image-check` end to end: the real binary against a local Docker Hub + registry
//! stand-in on 127.0.0.1 (SGLCI_DOCKERHUB_URL, SGLCI_REGISTRY_URL) serving Docker-Hub-shaped
//! pages for today's Pacific date; exact report lines, exit codes and the alert invocation.

mod support;

use std::process::{Command, Output};
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use docker_ctl::dates::{PACIFIC, date_days_ago};
use docker_ctl::testkit::{HttpStandIn, StandInReply, hub_page};

const BIN: &str = env!("CARGO_BIN_EXE_nightly-image-check");
const REPO: &str = "rocm/sgl-dev";

fn today() -> String {
    date_days_ago(chrono::Utc::now(), PACIFIC, 0)
}

fn template() -> serde_json::Value {
    serde_json::json!({
        "creator": 14093621, "id": 1, "images": [{"architecture": "amd64", "os": "linux",
        "size": 21474836480u64, "status": "active"}], "last_updated": "2025-10-29T09:00:00.000000Z",
        "name": "", "repository": 25468573, "full_size": 21474836480u64, "v2": true,
        "tag_status": "active", "media_type": "application/vnd.oci.image.index.v1+json",
        "content_type": "image", "digest": "sha256:00"
    })
}

/// What the stand-in knows.
struct Scenario {
    /// Tags per page.
    pages: Vec<Vec<String>>,
    /// Tags whose manifest exists.
    pullable: Vec<String>,
    /// Answer page 2 with 429 the first time.
    rate_limit_page2: bool,
    /// Never answer in time.
    hang: bool,
}

fn serve(s: Scenario) -> HttpStandIn {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let b2 = base.clone();
    let page2_hits = Arc::new(AtomicU32::new(0));
    let server = HttpStandIn::start(move |req| {
        if s.hang {
            return StandInReply::new(200, "{}").delayed(Duration::from_secs(8));
        }
        if let Some(tag) = req.path.strip_prefix(&format!("/v2/{REPO}/manifests/")) {
            return if s.pullable.iter().any(|t| t == tag) {
                StandInReply::new(200, "")
            } else {
                StandInReply::new(404, "")
            };
        }
        let page: usize = req
            .path
            .split(['?', '&'])
            .find_map(|kv| kv.strip_prefix("page="))
            .and_then(|n| n.parse().ok())
            .unwrap_or(1);
        if page == 2 && s.rate_limit_page2 && page2_hits.fetch_add(1, Ordering::SeqCst) == 0 {
            return StandInReply::new(429, "{}").header("Retry-After", "1");
        }
        let names: Vec<&str> = s.pages[page - 1].iter().map(String::as_str).collect();
        let count = s.pages.iter().map(Vec::len).sum();
        StandInReply::new(
            200,
            hub_page(
                b2.get().map(String::as_str).unwrap_or(""),
                REPO,
                page as u32,
                &names,
                page == s.pages.len(),
                count,
                &template(),
            ),
        )
    })
    .unwrap();
    base.set(server.url()).unwrap();
    server
}

/// Tonight's pages ([`tonight`]) answered at once, with `pullable` tags pullable.
fn serve_tonight(pullable: Vec<String>) -> HttpStandIn {
    serve(Scenario {
        pages: tonight(),
        pullable,
        rate_limit_page2: false,
        hang: false,
    })
}

fn run(server: &HttpStandIn, args: &[&str], extra_env: &[(&str, &str)]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args)
        .env("SGLCI_DOCKERHUB_URL", server.url())
        .env("SGLCI_REGISTRY_URL", server.url())
        .env("SGLCI_DOCKERHUB_BACKOFF_MS", "10")
        .env("SGLCI_DOCKERHUB_TIMEOUT_S", "5")
        .env_remove("TEAMS_WEBHOOK_URL")
        .env_remove("IMAGE_REPO")
        .env_remove("TIME_ZONE")
        .env("SGLCI_TEAMS_BACKOFF_MS", "10")
        .env("SGLCI_TEAMS_TIMEOUT_S", "5");
    for (k, v) in extra_env {
        c.env(k, v);
    }
    c.output().unwrap()
}

fn stdout(o: &Output) -> String {
    String::from_utf8(o.stdout.clone()).unwrap()
}

/// Tonight's tags spread over three pages: mi30x has rocm630 and rocm700 (plus an SRT) on
/// page 1, filler on page 2, mi35x only on page 3.
fn tonight() -> Vec<Vec<String>> {
    let d = today();
    vec![
        vec![
            format!("v0.5.6-rocm630-mi30x-{d}"),
            format!("v0.5.6-rocm700-mi30x-{d}-srt"),
            format!("v0.5.6-rocm700-mi30x-{d}"),
        ],
        vec![
            "v0.5.4.post1-rocm630-mi30x-20251027".into(),
            "v0.5.4.post1-rocm700-mi35x-20251027".into(),
        ],
        vec![format!("v0.5.6-rocm700-mi35x-{d}")],
    ]
}

#[test]
fn all_available_report_is_the_original_format() {
    let d = today();
    let server = serve(Scenario {
        pages: tonight(),
        pullable: vec![
            format!("v0.5.6-rocm700-mi30x-{d}"),
            format!("v0.5.6-rocm700-mi35x-{d}"),
        ],
        rate_limit_page2: true,
        hang: false,
    });
    let o = run(&server, &[], &[]);
    assert_eq!(
        o.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let out = stdout(&o);
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[3].starts_with("[check] Run Date/Time: 20"),
        "{}",
        lines[3]
    );
    assert!(
        lines[3].ends_with(" PST") || lines[3].ends_with(" PDT"),
        "{}",
        lines[3]
    );
    assert!(lines[4].starts_with("[check] Machine: "));
    let expected = format!(
        "[check] ==========================================
[check] SGL Nightly Docker Image Availability Check
[check] ==========================================
{}
{}
[check] Repository: rocm/sgl-dev
[check] Hardware types: mi30x mi35x
[check] Checking images for date: {d}

[check] Searching for mi30x image (discovering ROCM version)... found, verifying... ✓ AVAILABLE
[check]   Image: rocm/sgl-dev:v0.5.6-rocm700-mi30x-{d}
[check] Searching for mi35x image (discovering ROCM version)... found, verifying... ✓ AVAILABLE
[check]   Image: rocm/sgl-dev:v0.5.6-rocm700-mi35x-{d}

[check] ==========================================
[check] Summary
[check] ==========================================
[check] Total images checked: 2
[check] Available images: 2
[check] Missing images: 0

[check] ✓ All expected images are available!
",
        lines[3], lines[4]
    );
    assert_eq!(out, expected);
    // The tag list was fetched once for both hardware types (Q-IMG-5), page 2 twice (429).
    let tag_requests = server
        .requests()
        .iter()
        .filter(|r| r.path.contains("/tags/"))
        .count();
    assert_eq!(tag_requests, 4);
}

#[test]
fn missing_and_not_pullable_exit_1_with_troubleshooting() {
    let d = today();
    let mut pages = tonight();
    pages[2].clear(); // no mi35x tonight
    let server = serve(Scenario {
        pages,
        pullable: vec![],
        rate_limit_page2: false,
        hang: false,
    });
    let o = run(&server, &[], &[]);
    assert_eq!(o.status.code(), Some(1));
    let out = stdout(&o);
    for want in [
        "[check] Searching for mi30x image (discovering ROCM version)... found, verifying... ✗ FOUND BUT NOT PULLABLE\n".to_string(),
        format!("[check]   Image: rocm/sgl-dev:v0.5.6-rocm700-mi30x-{d} (manifest check failed)\n"),
        "[check] Searching for mi35x image (discovering ROCM version)... ✗ NOT FOUND\n".to_string(),
        "[check] Available images: 0\n[check] Missing images: 2\n".to_string(),
        format!("[check] ✗ Missing or problematic images:\n[check]   - mi30x ({d}): rocm/sgl-dev:v0.5.6-rocm700-mi30x-{d} - not pullable\n[check]   - mi35x ({d}): no image found for any available ROCM version\n"),
        "[check] Troubleshooting\n".to_string(),
        "[check]   - AMD-specific build problems\n".to_string(),
    ] {
        assert!(out.contains(&want), "missing {want:?} in:\n{out}");
    }
}

#[test]
fn docker_hub_that_does_not_answer_is_exit_3_not_missing() {
    let server = serve(Scenario {
        pages: tonight(),
        pullable: vec![],
        rate_limit_page2: false,
        hang: true,
    });
    let t = std::time::Instant::now();
    let o = run(&server, &[], &[("SGLCI_DOCKERHUB_TIMEOUT_S", "1")]);
    assert!(t.elapsed() < Duration::from_secs(20), "{:?}", t.elapsed());
    assert_eq!(o.status.code(), Some(3));
    let out = stdout(&o);
    assert!(
        out.contains("(discovering ROCM version)... ? COULD NOT ASK DOCKER HUB\n"),
        "{out}"
    );
    assert!(out.contains("timed out"), "{out}");
    assert!(
        out.contains("[check] Missing images: 0\n[check] Unchecked images: 2\n"),
        "{out}"
    );
    assert!(
        !out.contains("NOT FOUND") && !out.contains("Troubleshooting"),
        "{out}"
    );
}

#[test]
fn several_days_use_the_multi_date_header() {
    let server = serve_tonight(vec![]);
    let o = run(&server, &["--days=2"], &[]);
    let out = stdout(&o);
    let yesterday = date_days_ago(chrono::Utc::now(), PACIFIC, 1);
    assert!(out.contains(&format!(
        "\n[check] ------------------------------------------\n[check] Checking images for date: {yesterday}\n[check] ------------------------------------------\n"
    )), "{out}");
    assert!(out.contains("[check] Total images checked: 4\n"));
}

/// The Teams card goes out in this process through the alerts library: the local receiver
/// gets the "Nightly Docker Image Check" card with the check's numbers, valid against the
/// Adaptive Card 1.5 schema, and the webhook (its signature included) is never printed.
#[test]
fn the_teams_card_carries_the_check_and_never_prints_the_webhook() {
    use teams::testkit::{Receiver, Reply, validate_payload};
    let d = today();
    let server = serve_tonight(vec![format!("v0.5.6-rocm700-mi30x-{d}")]);
    let receiver = Receiver::start(vec![Reply::status(202)]);
    let url = receiver.url("/workflows/abc123/triggers/manual/paths/invoke?sig=SIGSECRET42");
    let o = run(&server, &[&format!("--teams-webhook={url}")], &[]);
    assert_eq!(o.status.code(), Some(1), "mi35x is not pullable");
    let out = stdout(&o);
    assert!(
        out.contains("[check] Sending Teams Notification\n")
            && out.ends_with("[check] Teams notification sent successfully\n"),
        "{out}"
    );
    let posts = receiver.posts();
    assert_eq!(posts.len(), 1, "{out}");
    let payload = posts[0].json();
    validate_payload(&payload).unwrap_or_else(|e| panic!("{e:?}\n{payload}"));
    let card = payload.to_string();
    for want in [
        "1 Docker image is missing or not accessible".to_owned(),
        "Images checked: **2**, Available: **1**, Missing: **1**".to_owned(),
        "not pullable".to_owned(),
    ] {
        assert!(card.contains(&want), "{want} on the card: {card}");
    }
    let all = format!("{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(
        !all.contains("SIGSECRET42") && !all.contains("abc123"),
        "the webhook is never printed: {all}"
    );
}

/// A webhook that refuses (401) or does not answer never changes the exit code: the image
/// check result stands (quirk Q-IMG-2).
#[test]
fn a_failing_alert_never_changes_the_exit_code() {
    use teams::testkit::{Receiver, Reply, closed_port};
    let d = today();
    let server = serve_tonight(vec![
        format!("v0.5.6-rocm700-mi30x-{d}"),
        format!("v0.5.6-rocm700-mi35x-{d}"),
    ]);
    let receiver = Receiver::start(vec![
        Reply::status(401).body(r#"{"error":{"code":"WorkflowNotFound"}}"#),
    ]);
    let o = run(
        &server,
        &[&format!("--teams-webhook-url={}", receiver.url("/hook"))],
        &[],
    );
    assert_eq!(
        o.status.code(),
        Some(0),
        "Q-IMG-2: alert failure is not an image failure"
    );
    assert!(
        stdout(&o).contains("[check] Failed to send Teams notification"),
        "{}",
        stdout(&o)
    );
    let o = run(
        &server,
        &[&format!(
            "--teams-webhook-url=http://127.0.0.1:{}/hook",
            closed_port()
        )],
        &[("SGLCI_TEAMS_ATTEMPTS", "1")],
    );
    assert_eq!(o.status.code(), Some(0));
    assert!(stdout(&o).contains("[check] Failed to send Teams notification"));
}

#[test]
fn bad_days_and_dates_exit_1_before_asking_anything() {
    let server = serve_tonight(vec![]);
    for (arg, msg) in [
        ("--days=0", "--days must be a positive integer (got: 0)"),
        ("--days=01", "--days must be a positive integer (got: 01)"),
        (
            "--date=2025-10-29",
            "--date must be a calendar date YYYYMMDD (got: 2025-10-29)",
        ),
    ] {
        let o = run(&server, &[arg], &[]);
        assert_eq!(o.status.code(), Some(1), "{arg}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(msg), "{arg}: {err}");
    }
    assert!(server.requests().is_empty());
    let o = run(&server, &["--bogus"], &[]);
    assert_eq!(o.status.code(), Some(2));
}
