//! Docker Hub discovery and the registry manifest check against a local stand-in on
//! 127.0.0.1 serving Docker-Hub-shaped pages: pages 1 and 2 are the realistic pages of
//! `../shared/data/dockerhub/` (path overridable with `SGLCI_DATA`) with `next` rewritten to the
//! stand-in, page 3 is made here in the same field layout and holds a tag found nowhere else.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use chrono::TimeZone;
use docker_ctl::dates::PACIFIC;
use docker_ctl::hub::{HubClient, HubConfig, HubError, Lookup, NightlySearch, find_recent};
use docker_ctl::testkit::{HttpStandIn, StandInReply, StandInRequest, hub_page};
use docker_ctl::{Manifest, RegistryClient, RegistryError, RetryPolicy, tags};

const REPO: &str = "rocm/sgl-dev";
const PAGE3_ONLY: &str = "v0.5.4-rocm630-mi30x-20251025";

fn data_dir() -> PathBuf {
    let root = std::env::var_os("SGLCI_DATA")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data"))
        });
    let d = root.join("dockerhub");
    assert!(
        d.join("tags-page-1.json").exists(),
        "{} is missing: point SGLCI_DATA at the shared data folder (default <workspace>/../shared/data)",
        d.display()
    );
    d
}

/// The three pages, `next` pointing at `base`.
fn pages(base: &str) -> Vec<String> {
    let dir = data_dir();
    let mut out = Vec::new();
    let mut template = serde_json::Value::Null;
    for (i, f) in ["tags-page-1.json", "tags-page-2.json"].iter().enumerate() {
        let mut v: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(dir.join(f)).unwrap()).unwrap();
        v["next"] = serde_json::Value::String(format!(
            "{base}/v2/repositories/{REPO}/tags/?page={}&page_size=100",
            i + 2
        ));
        template = v["results"][0].clone();
        out.push(v.to_string());
    }
    out.push(hub_page(
        base,
        REPO,
        3,
        &[
            PAGE3_ONLY,
            "v0.5.4-rocm700-mi30x-20251025-srt",
            "v0.5.4-rocm630-mi30x-20251024-srt",
        ],
        true,
        19,
        &template,
    ));
    out
}

fn page_of(req: &StandInRequest) -> Option<usize> {
    if !req.path.contains(&format!("/v2/repositories/{REPO}/tags/")) {
        return None;
    }
    let n = req
        .path
        .split(['?', '&'])
        .find_map(|kv| kv.strip_prefix("page="))
        .and_then(|n| n.parse().ok())
        .unwrap_or(1);
    Some(n)
}

/// A stand-in serving the pages; `fault(page, nth request for that page)` may replace the
/// answer.
fn hub(
    fault: impl Fn(usize, u32) -> Option<StandInReply> + Send + Sync + 'static,
) -> (HttpStandIn, HubClient) {
    let base = Arc::new(std::sync::OnceLock::<String>::new());
    let counts: Arc<[AtomicU32; 8]> = Arc::new(Default::default());
    let b2 = base.clone();
    let server = HttpStandIn::start(move |req| {
        let Some(p) = page_of(req) else {
            return StandInReply::new(404, r#"{"message":"httperror 404: object not found"}"#);
        };
        let nth = counts[p.min(7)].fetch_add(1, Ordering::SeqCst);
        if let Some(r) = fault(p, nth) {
            return r;
        }
        let all = pages(b2.get().map(String::as_str).unwrap_or(""));
        match all.get(p - 1) {
            Some(body) => StandInReply::new(200, body.clone()),
            None => StandInReply::new(404, "{}"),
        }
    })
    .unwrap();
    base.set(server.url()).unwrap();
    let client = HubClient::new(HubConfig {
        base_url: server.url(),
        retry: fast_retry(Duration::from_secs(2)),
        ..HubConfig::default()
    });
    (server, client)
}

fn fast_retry(timeout: Duration) -> RetryPolicy {
    RetryPolicy {
        timeout,
        retries: 3,
        backoff: Duration::from_millis(10),
        max_backoff: Duration::from_secs(2),
    }
}

fn page_requests(s: &HttpStandIn, page: usize) -> usize {
    s.requests()
        .iter()
        .filter(|r| page_of(r) == Some(page))
        .count()
}

#[test]
fn next_is_followed_to_a_tag_only_on_page_three() {
    let (server, hub) = hub(|_, _| None);
    let got = hub
        .find_nightly(REPO, "rocm630", "mi30x", "20251025")
        .unwrap();
    assert_eq!(got, Lookup::Found(PAGE3_ONLY.into()));
    assert_eq!(
        (1..=3)
            .map(|p| page_requests(&server, p))
            .collect::<Vec<_>>(),
        [1, 1, 1]
    );
    let first = &server.requests()[0];
    assert_eq!(
        first.path,
        format!("/v2/repositories/{REPO}/tags/?page_size=100")
    );
}

#[test]
fn single_rocm_search_stops_at_the_first_match() {
    let (server, hub) = hub(|_, _| None);
    let got = hub
        .find_nightly(REPO, "rocm700", "mi30x", "20251029")
        .unwrap();
    assert_eq!(
        got,
        Lookup::Found("v0.5.4.post1-rocm700-mi30x-20251029".into())
    );
    assert_eq!(server.requests().len(), 1, "page 1 was enough");
}

#[test]
fn whole_list_in_api_order_and_discovery_rules() {
    let (server, hub) = hub(|_, _| None);
    let all = hub.all_tags(REPO).unwrap();
    assert_eq!(all.len(), 19);
    assert_eq!(all[0], "v0.5.4.post1-rocm630-mi30x-20251029");
    assert_eq!(all[16], PAGE3_ONLY);
    assert_eq!(server.requests().len(), 3);
    let refs: Vec<&str> = all.iter().map(String::as_str).collect();
    // mi30x has rocm630 and rocm700 on 20251029: the highest ROCm wins (Q-HUB-3, keep).
    assert_eq!(
        tags::select_discovered(&refs, "mi30x", "20251029"),
        Some(("rocm700".to_string(), "v0.5.4.post1-rocm700-mi30x-20251029"))
    );
    // On 20251025 only rocm630 is non-SRT: the rocm700 tag there is `-srt` and skipped.
    assert_eq!(
        tags::discover_rocms(refs.iter().copied(), "mi30x", "20251025"),
        ["rocm630"]
    );
}

#[test]
fn srt_only_and_absent_dates_are_not_found_after_every_page() {
    let (server, hub) = hub(|_, _| None);
    assert_eq!(
        hub.find_nightly(REPO, "rocm630", "mi30x", "20251024")
            .unwrap(),
        Lookup::NotFound,
        "only a -srt tag exists for that date"
    );
    assert_eq!(
        hub.find_nightly(REPO, "rocm700", "mi35x", "20251101")
            .unwrap(),
        Lookup::NotFound
    );
    assert_eq!(server.requests().len(), 6);
}

#[test]
fn yesterday_fallback_when_today_has_no_image() {
    let (_server, hub) = hub(|_, _| None);
    // 2025-10-31 02:00 UTC is 2025-10-30 19:00 PDT: today has no image, yesterday (20251029) has.
    let now = chrono::Utc.with_ymd_and_hms(2025, 10, 31, 2, 0, 0).unwrap();
    let search = NightlySearch {
        repo: REPO,
        rocm: "rocm630",
        hw: "mi30x",
    };
    let mut obtained = Vec::new();
    let attempts = find_recent(&hub, &search, now, PACIFIC, 1, |_, tag| {
        obtained.push(tag.to_string());
        true
    })
    .unwrap();
    assert_eq!(attempts.len(), 2);
    assert_eq!(attempts[0].date, "20251030");
    assert_eq!(attempts[0].lookup, Lookup::NotFound);
    assert!(attempts[1].fallback && attempts[1].obtained);
    assert_eq!(attempts[1].date, "20251029");
    assert_eq!(obtained, ["v0.5.4.post1-rocm630-mi30x-20251029"]);

    // A found but unobtainable image also falls back (the original's Q-NT-11 behaviour).
    let now = chrono::Utc
        .with_ymd_and_hms(2025, 10, 29, 20, 0, 0)
        .unwrap();
    let attempts = find_recent(&hub, &search, now, PACIFIC, 1, |a, _| a.fallback).unwrap();
    assert_eq!(
        attempts
            .iter()
            .map(|a| (a.date.as_str(), a.obtained, a.fallback))
            .collect::<Vec<_>>(),
        [("20251029", false, false), ("20251028", true, true)]
    );

    // With several days there is no fallback.
    let attempts = find_recent(&hub, &search, now, PACIFIC, 2, |_, _| false).unwrap();
    assert_eq!(attempts.len(), 2);
    assert!(attempts.iter().all(|a| !a.fallback));
}

#[test]
fn rate_limit_then_success() {
    let (server, hub) = hub(|page, nth| {
        (page == 2 && nth == 0).then(|| {
            StandInReply::new(429, r#"{"message":"Too Many Requests"}"#).header("Retry-After", "1")
        })
    });
    let t = Instant::now();
    let got = hub
        .find_nightly(REPO, "rocm630", "mi30x", "20251025")
        .unwrap();
    assert_eq!(got, Lookup::Found(PAGE3_ONLY.into()));
    assert_eq!(
        page_requests(&server, 2),
        2,
        "page 2 asked again after the 429"
    );
    assert!(
        t.elapsed() >= Duration::from_secs(1),
        "Retry-After was honoured"
    );
}

#[test]
fn server_errors_are_retried_then_could_not_ask() {
    let (server, hub) =
        hub(|page, _| (page == 2).then(|| StandInReply::new(503, "Service Unavailable")));
    let e = hub
        .find_nightly(REPO, "rocm630", "mi30x", "20251025")
        .unwrap_err();
    let HubError::CouldNotAsk(why) = &e else {
        panic!("{e:?}")
    };
    assert!(
        why.contains("HTTP 503") && why.contains("4 attempt"),
        "{why}"
    );
    assert_eq!(page_requests(&server, 2), 4, "1 try + 3 retries");
    assert_ne!(e.to_string(), "not found");
}

#[test]
fn timeout_is_could_not_ask_not_not_found() {
    let (_server, hub) = hub(|page, _| {
        (page == 1).then(|| StandInReply::new(200, "{}").delayed(Duration::from_secs(5)))
    });
    let hub = HubClient::new(HubConfig {
        retry: RetryPolicy {
            retries: 1,
            ..fast_retry(Duration::from_millis(500))
        },
        ..hub.config().clone()
    });
    let t = Instant::now();
    let e = hub
        .find_nightly(REPO, "rocm630", "mi30x", "20251029")
        .unwrap_err();
    assert!(
        matches!(&e, HubError::CouldNotAsk(w) if w.contains("timed out")),
        "{e}"
    );
    assert!(
        t.elapsed() < Duration::from_secs(4),
        "bounded: {:?}",
        t.elapsed()
    );
}

#[test]
fn a_body_that_is_not_the_tags_json_is_could_not_ask() {
    // The original stopped paging silently on any body containing "error".
    let (_s, hub) = hub(|page, _| {
        (page == 1).then(|| {
            StandInReply::new(200, "<html>temporary error</html>")
                .header("Content-Type", "text/html")
        })
    });
    let e = hub.all_tags(REPO).unwrap_err();
    assert!(
        matches!(&e, HubError::CouldNotAsk(w) if w.contains("did not return the tags JSON")),
        "{e}"
    );
}

#[test]
fn unknown_repository_and_pagination_loops() {
    let (_s, hub) = hub(|_, _| None);
    let e = hub.all_tags("rocm/no-such-repo").unwrap_err();
    assert!(matches!(e, HubError::NoRepository { .. }), "{e}");
    assert!(e.to_string().contains("IMAGE_REPO"));

    let looping = HttpStandIn::start(|req| {
        StandInReply::new(
            200,
            format!(
                r#"{{"next":"http://{}/v2/repositories/x/tags/?page_size=100","results":[]}}"#,
                req.header("host").unwrap_or("")
            ),
        )
    })
    .unwrap();
    let hub = HubClient::new(HubConfig {
        base_url: looping.url(),
        retry: fast_retry(Duration::from_secs(2)),
        ..HubConfig::default()
    });
    let e = hub.all_tags("x").unwrap_err();
    assert!(
        matches!(&e, HubError::CouldNotAsk(w) if w.contains("loops")),
        "{e}"
    );
}

/// A registry requiring an anonymous bearer token, holding `present`.
fn registry(present: &'static [&'static str]) -> (HttpStandIn, RegistryClient) {
    let server = HttpStandIn::start(move |req| {
        if req.path.starts_with("/token") {
            assert!(req.path.contains("scope=repository%3Arocm%2Fsgl-dev%3Apull"), "{}", req.path);
            return StandInReply::new(200, r#"{"token":"tok123"}"#);
        }
        let host = req.header("host").unwrap_or("");
        if req.header("authorization") != Some("Bearer tok123") {
            return StandInReply::new(401, "").header(
                "WWW-Authenticate",
                &format!(
                    r#"Bearer realm="http://{host}/token",service="registry.docker.io",scope="repository:rocm/sgl-dev:pull""#
                ),
            );
        }
        let tag = req.path.rsplit('/').next().unwrap_or("");
        if present.contains(&tag) {
            StandInReply::new(200, "")
        } else {
            StandInReply::new(404, "")
        }
    })
    .unwrap();
    let client = RegistryClient::new(
        &server.url(),
        fast_retry(Duration::from_secs(2)),
        Duration::from_millis(50),
    );
    (server, client)
}

#[test]
fn registry_manifest_with_token_flow() {
    let (server, reg) = registry(&["v0.5.4.post1-rocm700-mi30x-20251029"]);
    assert_eq!(
        reg.manifest(REPO, "v0.5.4.post1-rocm700-mi30x-20251029")
            .unwrap(),
        Manifest::Present
    );
    let heads: Vec<_> = server
        .requests()
        .into_iter()
        .filter(|r| r.method == "HEAD")
        .collect();
    assert_eq!(heads.len(), 2, "challenge, then with the token");
    assert!(
        heads[0]
            .header("accept")
            .unwrap()
            .contains("manifest.list.v2+json")
    );

    let before = server.requests().len();
    assert_eq!(
        reg.manifest(REPO, "v9-rocm700-mi30x-20251029").unwrap(),
        Manifest::Absent
    );
    let authed_heads = server.requests()[before..]
        .iter()
        .filter(|r| r.method == "HEAD" && r.header("authorization").is_some())
        .count();
    assert_eq!(
        authed_heads, 2,
        "an absent manifest is asked twice (Q-IMG-7)"
    );
}

#[test]
fn registry_that_does_not_answer_is_could_not_ask() {
    let server = HttpStandIn::start(|_| StandInReply::new(502, "bad gateway")).unwrap();
    let reg = RegistryClient::new(
        &server.url(),
        fast_retry(Duration::from_secs(1)),
        Duration::ZERO,
    );
    let e = reg.manifest(REPO, "t").unwrap_err();
    let RegistryError::CouldNotAsk(why) = &e;
    assert!(why.contains("HTTP 502"), "{why}");
}
