//! The four Teams senders end to end: the real binaries post to a local webhook stand-in
//! (`teams::testkit::Receiver` on 127.0.0.1), every posted card is checked against the
//! Adaptive Card 1.5 schema, cards are built from corpus inputs, and every HTTP outcome
//! (200, 202, 401 WorkflowNotFound, 429 + Retry-After, 500 then 202, connection refused, a
//! receiver that never answers) ends as documented within a bounded time. No webhook URL or
//! token may appear in stdout, stderr or any written file.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use support::Ran;
use teams::testkit::{Post, Receiver, Reply, closed_port, validate_payload};

const DOCKER: &str = env!("CARGO_BIN_EXE_send-docker-image-alert");
const TESTS: &str = env!("CARGO_BIN_EXE_send-test-nightly-alert");
const DAILY: &str = env!("CARGO_BIN_EXE_send-daily-summary-alert");
const BENCH: &str = env!("CARGO_BIN_EXE_send-teams-notification");

/// The secret part of every test webhook: it must never be printed or written.
const SIG: &str = "NotARealSignature0123456789";

fn hook(r: &Receiver) -> String {
    r.url(&format!(
        "/powerautomate/automations/direct/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig={SIG}"
    ))
}

/// A command with a clean environment (PATH and HOME only) and a fast delivery policy.
fn cmd(bin: &str) -> Command {
    let mut c = Command::new(bin);
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env("SGLCI_TEAMS_TIMEOUT_S", "2")
        .env("SGLCI_TEAMS_ATTEMPTS", "3")
        .env("SGLCI_TEAMS_BACKOFF_MS", "50");
    c
}

fn run(c: Command, what: &str) -> Ran {
    support::run(c, Duration::from_secs(60), what)
}

fn no_secrets(r: &Ran, secrets: &[&str]) {
    for s in secrets.iter().chain([&SIG]) {
        assert!(
            !r.stdout.contains(s) && !r.stderr.contains(s),
            "secret {s:?} leaked:\n{}",
            r.all()
        );
    }
}

fn valid(p: &Post) -> serde_json::Value {
    let v = p.json();
    if let Err(e) = validate_payload(&v) {
        panic!("card does not validate: {e:#?}\n{}", p.body);
    }
    v
}

fn texts(v: &serde_json::Value) -> Vec<String> {
    v["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap().to_owned())
        .collect()
}

fn docker_args(c: &mut Command, url: &str) {
    c.args([
        "--status=warning",
        "--message=1 Docker image is missing or not accessible",
        "--checked-count=2",
        "--found-count=1",
        &format!("--webhook-url={url}"),
        "--date-checked=20251015",
        "--available-images",
        "mi30x (rocm700): v0.5.3.post3-rocm700-mi30x-20251015",
        "--details",
        "mi35x (20251015): no image found for any available ROCM version",
    ]);
}

#[test]
fn docker_alert_posts_the_warning_card_as_nightly_image_check_calls_it() {
    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = cmd(DOCKER);
    docker_args(&mut c, &hook(&r));
    c.env("HARDWARE_TYPE", "mi35x");
    let out = run(c, "send-docker-image-alert");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("✅ Successfully sent Docker image warning alert to Teams"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("(Power Automate flow accepted - message processing asynchronously)")
    );
    no_secrets(&out, &[]);
    let posts = r.posts();
    assert_eq!(posts.len(), 1);
    assert_eq!(posts[0].header("content-type"), Some("application/json"));
    assert!(
        posts[0].path.ends_with(&format!("sig={SIG}")),
        "the URL is posted to exactly as given"
    );
    let v = valid(&posts[0]);
    let t = texts(&v);
    assert_eq!(t[0], "2025-10-15 Nightly Docker Image Check");
    assert!(t.contains(&"⚠️ Some Docker Images Missing".to_owned()));
    assert!(
        t.contains(&"• mi35x (20251015): no image found for any available ROCM version".to_owned())
    );
    let actions = v["attachments"][0]["content"]["actions"]
        .as_array()
        .unwrap();
    assert_eq!(
        actions[0]["url"],
        "https://github.com/ROCm/sglang-ci/tree/log/cron_log/mi35x/20251015"
    );
}

/// Each answer of the webhook and what the sender makes of it, with the time it may take.
#[test]
fn every_webhook_answer_ends_as_documented_in_bounded_time() {
    struct Case {
        name: &'static str,
        script: Vec<Reply>,
        code: i32,
        stdout: &'static str,
        posts: usize,
        min: Duration,
    }
    let workflow_gone = r#"{"error":{"code":"WorkflowNotFound","message":"The workflow 'abc' could not be found."}}"#;
    let cases = [
        Case {
            name: "200",
            script: vec![Reply::status(200).body("1")],
            code: 0,
            stdout: "✅ Successfully sent",
            posts: 1,
            min: Duration::ZERO,
        },
        Case {
            name: "202",
            script: vec![Reply::status(202)],
            code: 0,
            stdout: "Power Automate flow accepted",
            posts: 1,
            min: Duration::ZERO,
        },
        Case {
            name: "401 WorkflowNotFound",
            script: vec![Reply::status(401).body(workflow_gone)],
            code: 1,
            stdout: "the Teams workflow was deleted",
            posts: 1,
            min: Duration::ZERO,
        },
        Case {
            name: "429 Retry-After then 202",
            script: vec![
                Reply::status(429).header("Retry-After", "1"),
                Reply::status(202),
            ],
            code: 0,
            stdout: "(delivered on attempt 2)",
            posts: 2,
            min: Duration::from_secs(1),
        },
        Case {
            name: "429 every time",
            script: vec![Reply::status(429).header("Retry-After", "0")],
            code: 1,
            stdout: "❌ Failed to send Teams notification. Status: 429",
            posts: 3,
            min: Duration::ZERO,
        },
        Case {
            name: "500 then 202",
            script: vec![Reply::status(500), Reply::status(202)],
            code: 0,
            stdout: "✅ Successfully sent",
            posts: 2,
            min: Duration::ZERO,
        },
        Case {
            name: "never answers",
            script: vec![Reply::Hang],
            code: 1,
            stdout: "❌ Error sending Teams notification: could not reach",
            posts: 3,
            min: Duration::from_secs(6),
        },
    ];
    for case in cases {
        let r = Receiver::start(case.script);
        let mut c = cmd(DOCKER);
        docker_args(&mut c, &hook(&r));
        let out = run(c, case.name);
        assert_eq!(out.code, Some(case.code), "{}: {}", case.name, out.all());
        assert!(
            out.stdout.contains(case.stdout),
            "{}: {}",
            case.name,
            out.all()
        );
        assert_eq!(r.posts().len(), case.posts, "{}", case.name);
        assert!(out.elapsed >= case.min, "{}: {:?}", case.name, out.elapsed);
        // 3 attempts × 2 s + waits, plus start-up.
        assert!(
            out.elapsed < Duration::from_secs(15),
            "{}: {:?}",
            case.name,
            out.elapsed
        );
        no_secrets(&out, &[]);
        for p in r.posts() {
            valid(&p);
        }
    }
    // Connection refused: nobody listens on the port.
    let mut c = cmd(DOCKER);
    docker_args(
        &mut c,
        &format!("http://127.0.0.1:{}/hook?sig={SIG}", closed_port()),
    );
    let out = run(c, "refused");
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert!(
        out.stdout
            .contains("❌ Error sending Teams notification: could not reach http://127.0.0.1:"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("/… after 3 attempt(s)"),
        "{}",
        out.all()
    );
    assert!(out.elapsed < Duration::from_secs(10));
    no_secrets(&out, &[]);
}

#[test]
fn missing_webhook_and_missing_flags_exit_1_and_dry_run_prints_the_payload() {
    let out = run(cmd(DOCKER), "no webhook");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout
            .contains("❌ Error: Teams webhook URL not provided")
    );
    assert!(
        out.stdout
            .contains("Set TEAMS_WEBHOOK_URL environment variable or use --webhook-url")
    );

    let mut c = cmd(DOCKER);
    c.env("TEAMS_WEBHOOK_URL", "");
    c.arg("--status=success");
    let out = run(c, "empty env");
    assert_eq!(out.code, Some(1), "an empty variable counts as unset");

    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = cmd(DOCKER);
    c.env("TEAMS_WEBHOOK_URL", hook(&r)).arg("--status=success");
    let out = run(c, "no message");
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("--status and --message are required"));
    assert!(r.posts().is_empty());

    let mut c = cmd(DOCKER);
    docker_args(&mut c, &hook(&r));
    c.arg("--dry-run");
    let out = run(c, "dry run");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(r.posts().is_empty(), "a dry run sends nothing");
    let json = &out.stdout[out.stdout.find('{').unwrap()..];
    let v: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
    validate_payload(&v).unwrap();
    no_secrets(&out, &[]);

    let mut c = cmd(DOCKER);
    c.args(["--test-mode", &format!("--webhook-url={}", hook(&r))]);
    let out = run(c, "test mode");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let v = valid(&r.posts()[0]);
    assert_eq!(texts(&v)[0], "🧪 Docker Image Alert Test");
    assert!(v["attachments"][0]["content"].get("actions").is_none());
}

fn corpus() -> PathBuf {
    report::corpus::require("test").unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn unit_test_card_from_the_corpus_log() {
    let r = Receiver::start(vec![Reply::status(202)]);
    let log = corpus()
        .join("test/unit-test-backend-8-gpu-CAR-amd/mi30x/v0.5.4.post3-rocm630-mi30x-20251105.log");
    let mut c = cmd(TESTS);
    c.args(["--webhook-url", &hook(&r), "--log-file"])
        .arg(&log)
        .arg("--run-date=20251105");
    let out = run(c, "unit");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.stdout.contains("📋 Parsing unit test log file: "));
    assert!(
        out.stdout
            .contains("✅ Successfully sent unit test fail alert to Teams"),
        "{}",
        out.all()
    );
    let t = texts(&valid(&r.posts()[0]));
    assert!(t.contains(&"❌ Unit Test Failed".to_owned()));
    assert!(t.contains(&"errors=2".to_owned()), "{t:?}");
    no_secrets(&out, &[]);
}

#[test]
fn pd_run_with_every_test_pending_is_a_failure_and_fallback_images_are_held_back() {
    let log =
        corpus().join("test/pd/pd_log/mi30x/v0.5.4.post1-rocm700-mi30x-20251029/test_summary.txt");
    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = cmd(TESTS);
    c.env("TEAMS_WEBHOOK_URL", hook(&r))
        .arg("--log-file")
        .arg(&log)
        .arg("--run-date=20251029");
    let out = run(c, "pd");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("✅ Successfully sent PD test fail alert to Teams"),
        "{}",
        out.all()
    );
    let t = texts(&valid(&r.posts()[0]));
    assert!(t.contains(&"❌ PD Test Failed".to_owned()), "{t:?}");

    // The image (2025-10-29) is older than the run date: held back without the flag.
    let mut c = cmd(TESTS);
    c.env("TEAMS_WEBHOOK_URL", hook(&r))
        .arg("--log-file")
        .arg(&log)
        .arg("--run-date=20251031");
    let out = run(c, "pd fallback");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("Not sending: the test used a fallback image dated 20251029"),
        "{}",
        out.all()
    );
    assert_eq!(r.posts().len(), 1);
    let mut c = cmd(TESTS);
    c.env("TEAMS_WEBHOOK_URL", hook(&r))
        .arg("--log-file")
        .arg(&log)
        .args(["--run-date=20251031", "--alert-on-fallback"]);
    let out = run(c, "pd fallback sent");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let t = texts(&valid(&r.posts()[1]));
    assert!(
        t[2].starts_with("⚠️ Fallback image: no image for 2025-10-31"),
        "{t:?}"
    );

    // A missing log: one line, exit 1, nothing sent.
    let mut c = cmd(TESTS);
    c.env("TEAMS_WEBHOOK_URL", hook(&r))
        .args(["--log-file", "/nonexistent/x.log"]);
    let out = run(c, "missing log");
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("/nonexistent/x.log"), "{}", out.all());
    assert_eq!(r.posts().len(), 2);
}

/// A BASE made of the corpus (`online/`, `cron/cron_log/`, `test/` as links), spec G14.
fn daily_base(hw: &str) -> tempfile::TempDir {
    let root = report::corpus::require("cron_log").unwrap_or_else(|e| panic!("{e}"));
    let t = tempfile::tempdir().unwrap();
    let b = t.path();
    std::os::unix::fs::symlink(root.join("online_benchmark_log").join(hw), b.join("online"))
        .unwrap();
    std::fs::create_dir_all(b.join("cron")).unwrap();
    std::os::unix::fs::symlink(root.join("cron_log"), b.join("cron/cron_log")).unwrap();
    std::os::unix::fs::symlink(root.join("test"), b.join("test")).unwrap();
    t
}

fn archives(base: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(base.join("team_alert/alert_log"))
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default()
}

#[test]
fn daily_summary_archives_then_posts_the_same_card() {
    let base = daily_base("mi30x");
    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = cmd(DAILY);
    c.args(["--hardware=mi30x", "--date=20251020"])
        .arg(format!("--base-dir={}", base.path().display()))
        .arg(format!("--teams-webhook-url={}", hook(&r)));
    let out = run(c, "daily");
    assert_eq!(out.code, Some(0), "{}", out.all());
    for l in [
        "📅 Generating daily summary report for 20251020",
        "🖥️  Hardware: mi30x",
        "📊 Collecting task results for 20251020...",
        "💾 Alert message saved to: ",
        "✅ Successfully sent daily summary report to Teams",
    ] {
        assert!(out.stdout.contains(l), "{l}: {}", out.all());
    }
    let files = archives(base.path());
    assert_eq!(files.len(), 1);
    let name = files[0].file_name().unwrap().to_string_lossy().into_owned();
    assert!(
        name.starts_with("daily_summary_20251020_mi30x_") && name.ends_with(".json"),
        "{name}"
    );
    let archived = std::fs::read_to_string(&files[0]).unwrap();
    assert!(!archived.ends_with('\n'));
    let posted = valid(&r.posts()[0]);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&archived).unwrap(),
        posted
    );
    let t = texts(&posted);
    assert!(t.contains(&"✅ Grok Online Benchmark: **Pass** (GSM8K: 81.1%) [1h 30m] 🔗 [View Plot](https://github.com/ROCm/sglang-ci/blob/log/plot/mi30x/GROK1/online/20251020_GROK1_online_standard.png)".to_owned()), "{t:#?}");
    assert!(!archived.contains(SIG));
    no_secrets(&out, &[]);
}

#[test]
fn daily_summary_exit_codes_follow_the_original() {
    let base = daily_base("mi30x");
    let bdir = format!("--base-dir={}", base.path().display());
    // No webhook: archived, not sent, exit 0.
    let mut c = cmd(DAILY);
    c.args([
        "--hardware=mi30x",
        "--date=20251020",
        &bdir,
        "--teams-webhook-url=",
    ]);
    let out = run(c, "no webhook");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("ℹ️  No Teams webhook URL provided, skipping Teams notification")
    );
    assert_eq!(archives(base.path()).len(), 1);
    // 401: reported, still exit 0 (cron chains the log upload on it).
    let r = Receiver::start(vec![
        Reply::status(401).body(r#"{"error":{"code":"WorkflowNotFound"}}"#),
    ]);
    let mut c = cmd(DAILY);
    c.args(["--date=20251020", &bdir])
        .env("TEAMS_WEBHOOK_URL", hook(&r))
        .env("HARDWARE_TYPE", "mi30x");
    let out = run(c, "401");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("❌ Failed to send Teams notification. Status: 401")
    );
    assert!(
        out.stdout
            .contains("Response: {\"error\":{\"code\":\"WorkflowNotFound\"}}"),
        "{}",
        out.all()
    );
    // Unreachable: the archive is written, exit 1.
    for f in archives(base.path()) {
        std::fs::remove_file(f).unwrap();
    }
    let mut c = cmd(DAILY);
    c.args(["--hardware=mi30x", "--date=20251020", &bdir])
        .arg(format!(
            "--teams-webhook-url=http://127.0.0.1:{}/x?sig={SIG}",
            closed_port()
        ));
    let out = run(c, "refused");
    assert_eq!(out.code, Some(1), "{}", out.all());
    assert_eq!(
        archives(base.path()).len(),
        1,
        "archive written before the POST"
    );
    no_secrets(&out, &[]);
    // A malformed date: one line naming the flag, exit 1, nothing written.
    let n = archives(base.path()).len();
    let mut c = cmd(DAILY);
    c.args(["--hardware=mi30x", "--date=2025-10-20", &bdir]);
    let out = run(c, "bad date");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stderr
            .contains("--date must be a calendar date YYYYMMDD"),
        "{}",
        out.all()
    );
    assert_eq!(archives(base.path()).len(), n);
    // Test mode needs a webhook; the message names the right flag (fix Y11).
    let mut c = cmd(DAILY);
    c.args(["--test-mode", &bdir]);
    let out = run(c, "test mode");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout.contains("use --teams-webhook-url"),
        "{}",
        out.all()
    );
}

/// A benchmark dir whose `online/` is the corpus mi30x tree, and a plot tree with one plot.
fn bench_tree() -> tempfile::TempDir {
    let root = report::corpus::require("online_benchmark_log").unwrap_or_else(|e| panic!("{e}"));
    let t = tempfile::tempdir().unwrap();
    std::os::unix::fs::symlink(
        root.join("online_benchmark_log/mi30x"),
        t.path().join("online"),
    )
    .unwrap();
    let plots = t.path().join("plots_server/GROK1/online");
    std::fs::create_dir_all(&plots).unwrap();
    std::fs::write(
        plots.join("20251020_GROK1_online_standard.png"),
        b"\x89PNG\r\n",
    )
    .unwrap();
    t
}

fn bench_cmd(t: &Path, url: &str, run_date: &str) -> Command {
    let mut c = cmd(BENCH);
    c.args([
        "--model",
        "grok",
        "--mode",
        "online",
        "--benchmark-date",
        "20251020",
        "--run-date",
        run_date,
    ])
    .arg("--benchmark-dir")
    .arg(t)
    .arg("--plot-dir")
    .arg(t.join("plots_server"))
    .args(["--hardware", "mi30x", "--webhook-url", url])
    .env("PLOT_SERVER_HOST", "10.0.0.1");
    c
}

#[test]
fn benchmark_card_from_the_corpus_with_a_plot_server_link() {
    let t = bench_tree();
    let r = Receiver::start(vec![Reply::status(202)]);
    let out = run(bench_cmd(t.path(), &hook(&r), "20251020"), "grok");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("✅ Successfully sent Teams notification for grok online plots"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("🎉 Teams notification sent successfully! (with intelligent analysis)")
    );
    let v = valid(&r.posts()[0]);
    let t = texts(&v);
    assert!(t[0].ends_with(" GROK Online Benchmark Results"), "{t:?}");
    for l in [
        "✅ Good: No Issues Detected",
        "• GSM8K accuracy: 81.1% ✅",
        "• Runtime: 1h 30m",
        "**1. 20251020_GROK1_online_standard.png**",
        "🔗 [View Plot](http://10.0.0.1:8000/GROK1/online/20251020_GROK1_online_standard.png)",
    ] {
        assert!(t.contains(&l.to_owned()), "{l} missing: {t:#?}");
    }
    no_secrets(&out, &[]);
}

#[test]
fn benchmark_plots_go_to_github_and_a_failed_upload_keeps_the_plot_server_link() {
    let t = bench_tree();
    let token = format!("ghp_{}", "k".repeat(36));
    // The GitHub stand-in: branch exists, file is new, PUT 201.
    let gh = Receiver::start(vec![
        Reply::status(200),
        Reply::status(404),
        Reply::status(201).body("{}"),
    ]);
    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = bench_cmd(t.path(), &hook(&r), "20251020");
    c.args(["--github-upload", "--github-repo", "ROCm/sglang-ci"])
        .env("GITHUB_TOKEN", &token)
        .env("GITHUB_API_URL", gh.url(""));
    let out = run(c, "upload");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("✅ Uploaded to GitHub (log branch): 20251020_GROK1_online_standard.png"),
        "{}",
        out.all()
    );
    let put = &gh.posts()[2];
    assert_eq!(put.method, "PUT");
    assert_eq!(
        put.path,
        "/repos/ROCm/sglang-ci/contents/plot/mi30x/GROK1/online/20251020_GROK1_online_standard.png"
    );
    assert_eq!(put.json()["content"], "iVBORw0K");
    let tx = texts(&valid(&r.posts()[0]));
    assert!(tx.contains(&"🔗 [View Plot](https://github.com/ROCm/sglang-ci/blob/log/plot/mi30x/GROK1/online/20251020_GROK1_online_standard.png)".to_owned()), "{tx:#?}");
    no_secrets(&out, &[&token]);

    // GitHub refuses (403 on the branch check): the plot stays, linked on the plot server.
    let gh = Receiver::start(vec![Reply::status(403)]);
    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = bench_cmd(t.path(), &hook(&r), "20251020");
    c.args([
        "--github-upload",
        "--github-repo",
        "ROCm/sglang-ci",
        "--github-token",
        &token,
    ])
    .env("GITHUB_API_URL", gh.url(""));
    let out = run(c, "upload refused");
    assert_eq!(out.code, Some(0), "{}", out.all());
    let tx = texts(&valid(&r.posts()[0]));
    assert!(
        tx.contains(
            &"🔗 [View Plot](http://10.0.0.1:8000/GROK1/online/20251020_GROK1_online_standard.png)"
                .to_owned()
        ),
        "{tx:#?}"
    );
    assert!(
        tx.iter().any(|l| l.contains("GitHub upload failed")),
        "{tx:#?}"
    );
    assert!(!tx.iter().any(|l| l.contains("No plot files found")));
    no_secrets(&out, &[&token]);
}

#[test]
fn sanity_mode_and_fallback_and_test_mode() {
    let root = corpus();
    let r = Receiver::start(vec![Reply::status(202)]);
    let mut c = cmd(BENCH);
    c.args([
        "--mode",
        "sanity",
        "--docker-image",
        "v0.5.4.post3-rocm700-mi30x-20251105",
        "--webhook-url",
        &hook(&r),
    ])
    .arg("--sanity-log-dir")
    .arg(root.join("test/sanity_check_log"));
    let out = run(c, "sanity");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("🔍 Sanity check mode: Processing sanity check results")
    );
    assert!(
        out.stdout
            .contains("✅ Successfully sent sanity check fail alert to Teams"),
        "{}",
        out.all()
    );
    let t = texts(&valid(&r.posts()[0]));
    assert!(t.contains(&"**Models: 5/7 passed**".to_owned()), "{t:?}");
    assert!(t.contains(&"❌ **GROK2.5** - N/A".to_owned()), "{t:?}");

    let mut c = cmd(BENCH);
    c.args(["--mode", "sanity", "--webhook-url", &hook(&r)]);
    let out = run(c, "sanity no image");
    assert_eq!(out.code, Some(1));
    assert!(
        out.stdout
            .contains("--docker-image is required for sanity check mode")
    );

    // A fallback image: held back, then sent with the flag and marked.
    let t = bench_tree();
    let c = bench_cmd(t.path(), &hook(&r), "20251021");
    let out = run(c, "fallback");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        out.stdout
            .contains("Not sending: the run used a fallback image dated 20251020"),
        "{}",
        out.all()
    );
    assert_eq!(r.posts().len(), 1);

    let mut c = cmd(BENCH);
    c.args(["--test-mode", "--webhook-url", &hook(&r)]);
    let out = run(c, "test");
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert_eq!(
        texts(&valid(&r.posts()[1]))[0],
        "🧪 Teams Notification Test"
    );

    let mut c = cmd(BENCH);
    c.args(["--model", "grok", "--webhook-url", &hook(&r)]);
    let out = run(c, "no mode");
    assert_eq!(out.code, Some(1));
    assert!(out.stdout.contains("--model and --mode are required"));
}
