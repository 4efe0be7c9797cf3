//! A simulated night with Teams: `perf-nightly --engine=sim … --teams-webhook-url=<local
//! receiver>` runs the Grok online benchmark on this machine, draws its plot and posts a
//! benchmark card that validates against the Adaptive Card 1.5 schema, says the numbers are
//! simulated and links the plot.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::process::{Command, Stdio};
use std::time::Duration;

use support::gsm8k_data;
use support::online::Online;
use teams::testkit::{Receiver, Reply, validate_payload};

#[test]
fn sim_night_posts_a_valid_benchmark_card_with_its_plot() {
    let o = Online::new();
    let r = Receiver::start(vec![Reply::status(202)]);
    let sig = "NightSig0123456789";
    let hook = r.url(&format!("/workflows/night/invoke?sig={sig}"));
    let ci = o.path().join("ci");
    let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
    c.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", o.path())
        .current_dir(o.path())
        .env("SGLCI_LOCK_DIR", o.path())
        .env("MOUNT_DIR", format!("{}/", o.path().display()))
        .env("SGLCI_GSM8K_DATA", gsm8k_data())
        .env(
            "SGLCI_SIM_ARGS",
            "--sim-profile zero --sim-gsm8k-accuracy 1.0",
        )
        .env("PROMPTS_PER_RATE_MULTIPLIER", "1")
        .env("MAX_NUM_PROMPTS", "2")
        .env("GSM8K_NUM_QUESTIONS", "5")
        .env("GSM8K_PARALLEL", "5")
        .env("GPU_IDLE_WAIT_TIME", "1")
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock")
        .env("PLOT_SERVER_HOST", "127.0.0.1")
        .env("PLOT_SERVER_PORT", "8000")
        .env("SGLCI_TEAMS_TIMEOUT_S", "5")
        .args([
            "--engine=sim",
            "--model=grok",
            "--mode=online",
            "--hardware=mi30x",
        ])
        .arg(format!("--work-dir={}", ci.display()))
        .arg(format!("--port={}", o.port))
        .arg(format!("--teams-webhook-url={hook}"))
        .stdin(Stdio::null());
    let out = o.run(c, Duration::from_secs(300));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        !out.all().contains(sig),
        "the webhook is masked: {}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("[nightly] Teams notification sent successfully for grok online"),
        "{}",
        out.all()
    );
    let posts = r.posts();
    assert_eq!(posts.len(), 1, "{}", out.all());
    let v = posts[0].json();
    if let Err(e) = validate_payload(&v) {
        panic!("invalid card {e:#?}\n{}", posts[0].body);
    }
    let texts: Vec<&str> = v["attachments"][0]["content"]["body"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["text"].as_str().unwrap())
        .collect();
    assert!(
        texts[0].ends_with(" GROK Online Benchmark Results (SIMULATED)"),
        "{texts:#?}"
    );
    assert!(
        texts.iter().any(|t| t.starts_with("⚠️ Simulated engine")),
        "{texts:#?}"
    );
    assert!(texts.contains(&"✅ Good: No Issues Detected"), "{texts:#?}");
    assert!(texts.contains(&"• GSM8K accuracy: 100.0% ✅"), "{texts:#?}");
    assert!(texts.contains(&"**Plot:**"), "{texts:#?}");
    assert!(texts.contains(&"**Performance Analysis:**"), "{texts:#?}");
    let plot = texts
        .iter()
        .find(|t| t.starts_with("🔗 [View Plot](http://127.0.0.1:8000/GROK1/online/"))
        .unwrap_or_else(|| panic!("no plot link: {texts:#?}\n{}", out.all()));
    let file = plot
        .trim_start_matches("🔗 [View Plot](http://127.0.0.1:8000/")
        .trim_end_matches(')');
    assert!(
        ci.join("plots_server").join(file).is_file(),
        "the linked plot exists: {file}"
    );
}
