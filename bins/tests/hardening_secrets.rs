//! Issue 12, secrets masked by value. The notifier of `perf-nightly` and the alert of
//! `nightly-image-check` now send in-process (no child program), so the hostile party is the
//! webhook itself: a stand-in on 127.0.0.1 that fails every post with a body echoing the full
//! URL, the path a failing Python `requests` prints, the signature alone and the GitHub token.
//! After each run, stdout, stderr and every file the run wrote are searched for each value:
//! none may appear. (The masking of relayed child output itself is proven by the
//! `console` and `redact::LineMasker` unit tests.)

mod support;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use docker_ctl::testkit::{HttpStandIn, StandInReply};
use support::online::Online;

/// A Power Automate-shaped webhook: the signature and the workflow id are the secrets.
const SIG: &str = "q7Ks0dPwTnB4xYvZ1aE9mLcR2uHfJg3iOo5WtSe8Nh";
const WORKFLOW: &str = "7f3c9a0e5b2d4e6f8a1b3c5d7e9f0a2b";
/// Not shaped like any known token: only masking by value can find it.
const TOKEN: &str = "tkn-7Hq2Lm9Xv4Rs8Pw1Zc6Yb3Nd5Kf";

/// The webhook's path and query (what `requests` prints after `with url:`).
fn path_and_query() -> String {
    format!(
        "/powerautomate/automations/direct/workflows/{WORKFLOW}/triggers/manual/paths/invoke?api-version=1&sp=%2Ftriggers%2Fmanual%2Frun&sv=1.0&sig={SIG}"
    )
}

/// A webhook that answers every post with 400 and a body that repeats every secret.
fn leaky_webhook() -> (HttpStandIn, String) {
    let server = HttpStandIn::start(|req| {
        StandInReply::new(
            400,
            format!(
                "bad request for {path}\nMax retries exceeded with url: {path} (Caused by x)\nsig={SIG}\nsignature alone: {SIG}\ntoken is {TOKEN}\n",
                path = req.path
            ),
        )
    })
    .unwrap();
    let url = format!("{}{}", server.url(), path_and_query());
    (server, url)
}

/// The values that must never appear anywhere.
fn needles() -> Vec<String> {
    vec![SIG.to_owned(), WORKFLOW.to_owned(), TOKEN.to_owned()]
}

/// Every regular file below `dir`, as text.
fn files_below(dir: &Path, out: &mut Vec<(String, String)>) {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return;
    };
    for e in rd.flatten() {
        let p = e.path();
        let Ok(ft) = e.file_type() else { continue };
        if ft.is_dir() {
            files_below(&p, out);
        } else if ft.is_file() {
            let bytes = std::fs::read(&p).unwrap_or_default();
            out.push((
                p.display().to_string(),
                String::from_utf8_lossy(&bytes).into_owned(),
            ));
        }
    }
}

fn assert_nothing_leaks(what: &str, ran: &support::Ran, dir: &Path, skip: &[&Path]) {
    let mut files = Vec::new();
    files_below(dir, &mut files);
    files.retain(|(p, _)| !skip.iter().any(|s| Path::new(p) == *s));
    let mut sources = vec![
        ("stdout".to_owned(), ran.stdout.clone()),
        ("stderr".to_owned(), ran.stderr.clone()),
    ];
    sources.extend(files);
    for (name, text) in &sources {
        for n in needles() {
            assert!(
                !text.contains(&n),
                "{what}: {n} leaked into {name}:\n{text}"
            );
        }
    }
}

#[test]
fn perf_nightly_masks_what_its_webhook_answers() {
    let o = Online::new();
    let (hook, url) = leaky_webhook();
    let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
    for v in [
        "TEAMS_WEBHOOK_URL",
        "GITHUB_REPO",
        "HARDWARE_TYPE",
        "BENCHMARK_CI_DIR",
        "TEAMS_NO_IMAGES",
        "SGLCI_SIM_ARGS",
    ] {
        c.env_remove(v);
    }
    c.current_dir(o.path())
        .env("SGLCI_LOCK_DIR", o.path())
        .env("MOUNT_DIR", format!("{}/", o.path().display()))
        .env("SGLCI_GSM8K_DATA", support::gsm8k_data())
        .env(
            "SGLCI_SIM_ARGS",
            "--sim-profile zero --sim-gsm8k-accuracy 1.0",
        )
        .env("REQUEST_RATES", "1")
        .env("PROMPTS_PER_RATE_MULTIPLIER", "1")
        .env("MAX_NUM_PROMPTS", "2")
        .env(
            "SGLCI_GPU_PROBE_CMD",
            format!(
                "cat '{}'",
                support::fixtures("gpu-probe")
                    .join("rocm-smi-mi300x-8-idle.txt")
                    .display()
            ),
        )
        .env("GPU_IDLE_WAIT_TIME", "1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("GITHUB_TOKEN", TOKEN)
        .env("TEAMS_NO_IMAGES", "true")
        .arg("--engine=sim")
        .arg("--model=grok")
        .arg("--mode=online")
        .arg("--hardware=mi30x")
        .arg(format!("--work-dir={}", o.path().join("ci").display()))
        .arg(format!("--port={}", o.port))
        .arg(format!("--teams-webhook-url={url}"))
        .stdin(Stdio::null());
    let ran = o.run(c, Duration::from_secs(240));
    assert_eq!(ran.code, Some(0), "{}", ran.all());
    assert!(
        !hook.requests().is_empty(),
        "the notification reached the webhook: {}",
        ran.all()
    );
    assert!(
        ran.stdout.contains("Teams notification failed"),
        "{}",
        ran.all()
    );
    // The webhook's answer was relayed (masked): the check below is not vacuous.
    assert!(
        ran.stdout.contains("signature alone: ***") && ran.stdout.contains("token is ***"),
        "{}",
        ran.all()
    );
    assert_nothing_leaks("perf-nightly", &ran, o.path(), &[]);
}

#[test]
fn nightly_image_check_masks_what_its_webhook_answers() {
    let dir = tempfile::tempdir().unwrap();
    let (hook, url) = leaky_webhook();
    let mut c = Command::new(env!("CARGO_BIN_EXE_nightly-image-check"));
    c.arg(format!("--teams-webhook={url}"))
        .current_dir(dir.path())
        .env("SGLCI_DOCKERHUB_URL", "http://127.0.0.1:9")
        .env("SGLCI_REGISTRY_URL", "http://127.0.0.1:9")
        .env("SGLCI_DOCKERHUB_BACKOFF_MS", "1")
        .env("SGLCI_DOCKERHUB_TIMEOUT_S", "2")
        .env("GITHUB_TOKEN", TOKEN)
        .env_remove("TEAMS_WEBHOOK_URL")
        .env_remove("IMAGE_REPO")
        .env_remove("TIME_ZONE")
        .stdin(Stdio::null());
    let ran = support::run(c, Duration::from_secs(120), "nightly-image-check");
    assert!(
        ran.stdout.contains("[check] Sending Teams Notification"),
        "{}",
        ran.all()
    );
    assert!(
        !hook.requests().is_empty(),
        "the alert reached the webhook: {}",
        ran.all()
    );
    // The webhook's answer was relayed (masked): the check below is not vacuous.
    assert!(
        ran.stdout.contains("signature alone: ***") && ran.stdout.contains("token is ***"),
        "{}",
        ran.all()
    );
    assert_nothing_leaks("nightly-image-check", &ran, dir.path(), &[]);
}
