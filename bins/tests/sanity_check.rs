//! `sanity-check` and `perf-nightly --mode=sanity` end to end on the simulated engine (the
//! local executor: no Docker, no GPU). Each test builds a models folder in a temporary CI dir
//! (a `config.json` per model that should run; a missing folder is a SKIPPED model), sets
//! each model's simulated GSM8K accuracy with `--sim-model-args`, and checks the files the
//! run wrote with `metrics_parse::sanity` (the parser the sanity card, the daily summary and
//! the history store use) and against a real timing summary of the corpus.

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use metrics_parse::sanity::{
    self, ClientAccuracy, Count, EarlyExit, ModelStatus, SanitySummary, SectionOutcome, SkipReason,
    Startup, TrialOutcome,
};
use support::online::{Online, timing_summaries};
use support::{Ran, gsm8k_data, read};
use teams::testkit::{Receiver, Reply};

const LIMIT: Duration = Duration::from_secs(300);
const MI30X_IMAGE: &str = "rocm/sgl-dev:v0.5.4.post1-rocm700-mi30x-20251029";
const MI30X_TAG: &str = "v0.5.4.post1-rocm700-mi30x-20251029";

/// Variables that must not leak in from the caller.
const SCRUB: &[&str] = &[
    "SGLCI_SIM_ARGS",
    "SGLCI_SANITY_ARGS",
    "INSIDE_CONTAINER",
    "GITHUB_REPO",
    "GITHUB_TOKEN",
    "HARDWARE_TYPE",
    "BENCHMARK_CI_DIR",
    "TEAMS_WEBHOOK_URL",
    "DEFAULT_DOCKER_IMAGE",
];

/// A CI dir with a models folder and a port of its own (the online tests' sandbox).
struct Sandbox {
    o: Online,
    port: u16,
}

impl Sandbox {
    /// Model folders (relative to the models dir) that hold a `config.json`, and plain
    /// folders (tokenizers).
    fn new(models: &[&str], plain: &[&str]) -> Self {
        let o = Online::new();
        let port = o.port;
        let s = Self { o, port };
        for m in models {
            let d = s.models().join(m);
            std::fs::create_dir_all(&d).unwrap();
            std::fs::write(d.join("config.json"), "{}").unwrap();
        }
        for p in plain {
            std::fs::create_dir_all(s.models().join(p)).unwrap();
        }
        s
    }

    /// `perf-nightly --mode=sanity --engine=sim` on mi30x with two trials, `ci` as its work
    /// dir, GPT-OSS-20B, QWEN-30B (simulated accuracy 0.3) and llama4.
    fn perf_nightly_sanity(&self, ci: &Path) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_perf-nightly"));
        for v in SCRUB {
            c.env_remove(v);
        }
        c.current_dir(self.path())
            .env("SGLCI_LOCK_DIR", self.path())
            .env("MOUNT_DIR", format!("{}/", self.path().display()))
            .env("SGLCI_GSM8K_DATA", gsm8k_data())
            .env("SGLCI_SIM_ARGS", "--sim-profile zero --sim-gsm8k-accuracy 1.0")
            .args([
                "--mode=sanity",
                "--engine=sim",
                "--hardware=mi30x",
                "--sanity-trials=2",
            ])
            .arg(format!("--work-dir={}", ci.display()))
            .arg(format!("--port={}", self.port))
            .arg(format!(
                "--sanity-args=--models-dir {} --models GPT-OSS-20B QWEN-30B llama4 --sim-model-args 'QWEN-30B=--sim-gsm8k-accuracy 0.3'",
                self.models().display()
            ))
            .stdin(Stdio::null());
        c
    }

    /// The models of the mi30x tests: GPT-OSS-20B and QWEN-30B present, llama4 missing.
    fn gpt_oss_20b_and_qwen_30b() -> Self {
        Self::new(
            &["lmsys/gpt-oss-20b-bf16", "Qwen/Qwen3-30B-A3B-Thinking-2507"],
            &[],
        )
    }

    fn path(&self) -> &Path {
        self.o.path()
    }

    fn models(&self) -> PathBuf {
        self.path().join("models")
    }

    /// `sanity-check` on the simulated engine with this sandbox's dirs and port.
    fn sanity(&self, hw: &str, image: &str, args: &[&str]) -> Command {
        let mut c = Command::new(env!("CARGO_BIN_EXE_sanity-check"));
        for v in SCRUB {
            c.env_remove(v);
        }
        c.current_dir(self.path())
            .env("SGLCI_GSM8K_DATA", gsm8k_data())
            .arg("--engine=sim")
            .arg(format!("--hardware={hw}"))
            .arg(format!("--docker-image={image}"))
            .arg(format!("--work-dir={}", self.path().display()))
            .arg(format!("--models-dir={}", self.models().display()))
            .arg(format!("--port={}", self.port))
            .args(args)
            .stdin(Stdio::null());
        c
    }

    /// The tag folder of `hw`/`tag`.
    fn tag_dir(&self, hw: &str, tag: &str) -> PathBuf {
        self.path().join("test/sanity_check_log").join(hw).join(tag)
    }

    /// Runs `c`, then checks that no process is left in the sandbox and the port is free.
    fn run(&self, c: Command) -> Ran {
        self.o.run(c, LIMIT)
    }
}

/// The only timing summary of `dir`, its text and parse (every line recognised).
fn summary(dir: &Path) -> (String, SanitySummary) {
    let files = timing_summaries(dir);
    assert_eq!(files.len(), 1, "{files:?}");
    let text = read(&files[0]);
    let s = sanity::parse_summary(text.as_bytes());
    assert!(
        s.unrecognized.is_empty(),
        "lines {:?} not recognised by metrics_parse::sanity:\n{text}",
        s.unrecognized
    );
    (text, s)
}

/// A line's structure, values aside: the text up to its first `:` (the whole line when it
/// has none: rules, `=== <model> on <hw> ===`, `OVERALL SUMMARY`).
fn shape(line: &str) -> String {
    match line.find(':') {
        Some(i) => line[..=i].to_owned(),
        None => line.to_owned(),
    }
}

/// mi35x, all seven models, three trials: six pass and llama4 (its mi35x path is absolute
/// and missing) is skipped, as in the corpus's `mi35x/v0.5.4.post1-rocm700-mi35x-20251030`.
/// Our file and the corpus's are compared line by line by structure.
#[test]
fn a_whole_mi35x_run_has_the_corpus_file_s_structure_line_by_line() {
    let corpus_dir =
        support::corpus("test/sanity_check_log/mi35x/v0.5.4.post1-rocm700-mi35x-20251030")
            .join("test/sanity_check_log/mi35x/v0.5.4.post1-rocm700-mi35x-20251030");
    let s = Sandbox::new(
        &[
            "openai/gpt-oss-120b",
            "openai/gpt-oss-20b",
            "Qwen/Qwen3-30B-A3B-Thinking-2507",
            "amd--grok-1-W4A8KV8",
            "lmzheng-grok-1",
            "grok-2",
        ],
        &["Xenova--grok-1-tokenizer", "alvarobartt--grok-2-tokenizer"],
    );
    let tag = "v0.5.4.post1-rocm700-mi35x-20251030";
    let out = s.run(s.sanity(
        "mi35x",
        &format!("rocm/sgl-dev:{tag}"),
        &["--sim-args=--sim-profile zero --sim-gsm8k-accuracy 1.0"],
    ));
    assert_eq!(out.code, Some(0), "{}", out.all());
    let (ours, parsed) = summary(&s.tag_dir("mi35x", tag));
    let theirs = read(&timing_summaries(&corpus_dir)[0]);
    let (a, b): (Vec<String>, Vec<String>) = (
        ours.lines().map(shape).collect(),
        theirs.lines().map(shape).collect(),
    );
    for (i, (x, y)) in a.iter().zip(&b).enumerate() {
        assert_eq!(
            x,
            y,
            "line {} differs in structure:\nours:   {}\ncorpus: {}",
            i + 1,
            ours.lines().nth(i).unwrap(),
            theirs.lines().nth(i).unwrap()
        );
    }
    assert_eq!(a.len(), b.len(), "line count\n{ours}");
    // The skip line is even the same text.
    assert!(ours.contains(
        "llama4: SKIPPED - Model path does not exist: /data2/models/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8\n  Note: Model/tokenizer files not available, not counted as failure\n"
    ));
    let o = parsed.overall.unwrap();
    assert_eq!(o.tested, Some((6, 7)));
    assert_eq!(o.passed, Some(Count::Ratio { n: 6, of: 6 }));
    assert_eq!(o.skipped, Some((1, 7)));
    // The GROK launch lines carry the tokenizer (resolved in the models dir).
    let grok = read(&s.tag_dir("mi35x", tag).join("GROK1-IN4_mi35x_server.log"));
    assert!(grok.contains("Xenova--grok-1-tokenizer"), "{grok}");
    assert!(
        out.stdout
            .contains("📈 Overall: 6/6 models passed (100.0%)")
    );
}

/// mi30x: GPT-OSS-20B passes (early exit after trial 1), QWEN-30B fails (simulated accuracy
/// 0.3 < 0.840), llama4 is skipped; exit 0 (Q-SAN-6); the client logs hold the accuracies the
/// summary shows; the sanity card goes to a local Teams stand-in.
#[test]
fn pass_fail_and_skip_give_the_spec_s_lines_exit_0_and_the_card() {
    let s = Sandbox::gpt_oss_20b_and_qwen_30b();
    let teams = Receiver::start(vec![Reply::status(200)]);
    let hook = teams.url("/webhook");
    let out = s.run(s.sanity(
        "mi30x",
        MI30X_IMAGE,
        &[
            "--models",
            "GPT-OSS-20B",
            "QWEN-30B",
            "llama4",
            "--trials=3",
            "--early-exit",
            "--sim-args=--sim-profile zero --sim-gsm8k-accuracy 1.0",
            "--sim-model-args=QWEN-30B=--sim-gsm8k-accuracy 0.3",
            &format!("--teams-webhook-url={hook}"),
        ],
    ));
    assert_eq!(
        out.code,
        Some(0),
        "failed models still exit 0\n{}",
        out.all()
    );
    let dir = s.tag_dir("mi30x", MI30X_TAG);
    let (text, p) = summary(&dir);
    assert_eq!(
        text.lines().take(8).collect::<Vec<_>>()[4..],
        [
            "Models: GPT-OSS-20B, QWEN-30B, llama4",
            "Trials per model: 3",
            &format!("Docker image: {MI30X_IMAGE}"),
            "==================================================",
        ]
    );
    assert_eq!(p.sections.len(), 2);
    let gpt = &p.sections[0];
    assert_eq!(gpt.outcome(), SectionOutcome::Pass);
    assert_eq!(gpt.trials.len(), 1);
    assert_eq!(
        gpt.early_exit,
        Some(EarlyExit::PassedOnTrial {
            trial: 1,
            skipped: 2
        })
    );
    assert!(text.contains("Early exit: Passed on trial 1, skipped 2 trial(s)\nServer shutdown: "));
    let qwen = &p.sections[1];
    assert_eq!(qwen.outcome(), SectionOutcome::Fail);
    assert_eq!(qwen.trials.len(), 3, "a failing model runs every trial");
    assert!(matches!(qwen.startup, Some(Startup::Ready { .. })));
    for t in &qwen.trials {
        let TrialOutcome::Accuracy { accuracy, .. } = &t.outcome else {
            panic!("{t:?}");
        };
        assert!(accuracy.value < 0.84, "{accuracy:?}");
        // The trial line's accuracy is the first `Accuracy:` of its client log.
        let log = dir.join(sanity::client_log_name("QWEN-30B", "mi30x", t.number));
        let ClientAccuracy::Found(n) = sanity::client_accuracy(&std::fs::read(&log).unwrap())
        else {
            panic!("no accuracy in {}", log.display())
        };
        assert_eq!(format!("{:.3}", n.value), accuracy.text);
    }
    let v = qwen.verdict.as_ref().unwrap();
    assert_eq!(v.required.text, "0.840");
    assert!(text.contains("Final result: FAIL [X]"));
    assert_eq!(p.skipped.len(), 1);
    assert_eq!(p.skipped[0].model, "llama4");
    assert!(matches!(&p.skipped[0].reason, SkipReason::Unavailable(r)
        if r.starts_with("Model path does not exist: ") && r.ends_with("/meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8")));
    let o = p.overall.unwrap();
    assert_eq!(o.tested, Some((2, 3)));
    assert_eq!(o.passed, Some(Count::Ratio { n: 1, of: 2 }));
    assert_eq!(o.failed, Some(Count::Ratio { n: 1, of: 2 }));
    assert_eq!(o.skipped, Some((1, 3)));
    assert_eq!(
        o.per_model,
        [
            ("GPT-OSS-20B".to_owned(), ModelStatus::Pass),
            ("QWEN-30B".to_owned(), ModelStatus::Fail),
            ("llama4".to_owned(), ModelStatus::Skipped)
        ]
    );
    let names = support::names(&dir);
    for f in [
        "GPT-OSS-20B_mi30x_server.log",
        "GPT-OSS-20B_mi30x_client_try1.log",
        "QWEN-30B_mi30x_client_try3.log",
        "QWEN-30B_mi30x_server.log",
    ] {
        assert!(names.contains(&f.to_owned()), "{f} missing: {names:?}");
    }
    assert!(!names.contains(&"GPT-OSS-20B_mi30x_client_try2.log".to_owned()));
    // Console (§7.10) and the fixed trial icon (Q-SAN-5).
    assert!(
        out.stdout.contains("📈 Overall: 1/2 models passed (50.0%)"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("⏭️  Skipped: 1/3 models (not counted in pass/fail statistics)")
    );
    assert!(out.stdout.contains("  ❌ Trial 1: FAIL [X] (Accuracy: "));
    assert!(!out.stdout.contains("✅ Trial 1: FAIL"));
    // The card: one post, the failing verdict, the daily names, the webhook never printed.
    let posts = teams.posts();
    assert_eq!(posts.len(), 1, "{}", out.stdout);
    let body = posts[0].json().to_string();
    assert!(body.contains("SGL Sanity Check Results"), "{body}");
    assert!(body.contains("gpt-oss-20b-bf16") && body.contains("Qwen3-30B-A3B-Thinking-2507"));
    assert!(
        out.stdout
            .contains("✅ Successfully sent sanity check fail alert to Teams"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains(&hook) && !out.stderr.contains(&hook));
}

/// A simulated server that freezes at its first request: each trial is killed after
/// `--trial-timeout` (with the client's process group), recorded as the benchmark timeout,
/// and the model fails; nothing is left running.
#[test]
fn the_trial_timeout_fires_on_a_hanging_server() {
    let s = Sandbox::new(&["Qwen/Qwen3-30B-A3B-Thinking-2507"], &[]);
    let out = s.run(s.sanity(
        "mi30x",
        MI30X_IMAGE,
        &[
            "--models=QWEN-30B",
            "--trials=2",
            "--trial-timeout=2",
            "--sim-args=--sim-profile zero --sim-hang-after 0",
        ],
    ));
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(out.elapsed < Duration::from_secs(60), "{:?}", out.elapsed);
    let (text, p) = summary(&s.tag_dir("mi30x", MI30X_TAG));
    let q = &p.sections[0];
    assert_eq!(q.trials.len(), 2);
    for t in &q.trials {
        assert_eq!(
            t.outcome,
            TrialOutcome::Timeout { after: "2".into() },
            "{text}"
        );
        let secs = t.time.as_ref().unwrap().value;
        assert!((2.0..10.0).contains(&secs), "{secs}");
    }
    assert!(text.contains("Trial 1: FAIL [X] (Benchmark timeout after 2s, Time: "));
    assert_eq!(q.outcome(), SectionOutcome::Fail);
    assert!(text.contains("Accuracies: [0.0, 0.0]"));
    assert!(
        out.stdout
            .contains("    ⚠️  Trial 1 timeout after 2s - killing benchmark process")
    );
}

/// Start-up failures (fixes Q-SAN-1, Q-SAN-2): a server that is not ready in time is a plain
/// timeout although its log holds `mem_fraction_static=` (the original said "Out of
/// memory"); a server that exits at once fails at once, not after the timeout.
#[test]
fn startup_failures_are_classified_and_a_crash_fails_at_once() {
    let s = Sandbox::gpt_oss_20b_and_qwen_30b();
    let out = s.run(s.sanity(
        "mi30x",
        MI30X_IMAGE,
        &[
            "--models",
            "GPT-OSS-20B",
            "QWEN-30B",
            "--trials=1",
            "--startup-timeout=3",
            "--sim-args=--sim-profile zero",
            "--sim-model-args=GPT-OSS-20B=--no-such-sim-flag",
            "--sim-model-args=QWEN-30B=--sim-startup-delay 60",
        ],
    ));
    assert_eq!(out.code, Some(0), "{}", out.all());
    let dir = s.tag_dir("mi30x", MI30X_TAG);
    let (text, p) = summary(&dir);
    let crash = &p.sections[0];
    assert_eq!(crash.outcome(), SectionOutcome::StartupFailed);
    let Some(Startup::Failed { after }) = &crash.startup else {
        panic!("{text}")
    };
    assert!(
        after.value < 2.5,
        "a crash fails before the timeout: {text}"
    );
    assert!(
        text.contains("Error: Server process exited during startup (exit status 2)"),
        "{text}"
    );
    let slow = &p.sections[1];
    let Some(Startup::Failed { after }) = &slow.startup else {
        panic!("{text}")
    };
    assert!(after.value >= 3.0, "{text}");
    let log = read(&dir.join("QWEN-30B_mi30x_server.log"));
    assert!(log.contains("mem_fraction_static=0.85"), "{log}");
    assert!(
        slow.error.is_none(),
        "a plain timeout is not Out of memory: {text}"
    );
    assert!(!text.contains("Out of memory"));
    assert!(
        out.stdout
            .contains("QWEN-30B: FAIL [X] (server not ready after 3.")
    );
    let o = p.overall.unwrap();
    assert_eq!(o.failed, Some(Count::Ratio { n: 2, of: 2 }));
}

/// The original's usage errors (exit 1 for a missing platform and for --model-path without
/// --model-type, 2 for argparse-level errors) and the --help headings.
#[test]
fn usage_errors_and_help() {
    let bin = env!("CARGO_BIN_EXE_sanity-check");
    let go = |args: &[&str]| support::run_args(bin, args, Duration::from_secs(30));
    let r = go(&[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("Must specify --hardware (mi30x or mi35x)"),
        "{}",
        r.all()
    );
    let r = go(&["--hardware=mi40x"]);
    assert_eq!(r.code, Some(2), "{}", r.all());
    let r = go(&["-p", "mi30x", "--model-path=/m"]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("--model-type must be specified when using --model-path")
    );
    let r = go(&["--upload-log-dir=/x", "--hardware=mi30x"]);
    assert_eq!(r.code, Some(2), "no upload option in this version");
    let r = go(&["--hardware=mi30x", "--models", "NOPE"]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains("no models to test"), "{}", r.all());
    let r = go(&["--help"]);
    assert_eq!(r.code, Some(0));
    let at = |h: &str| {
        r.stdout
            .find(&format!("{h}:"))
            .unwrap_or_else(|| panic!("{h} missing:\n{}", r.stdout))
    };
    assert!(at("Original flags") < at("Additions"));
    assert!(at("Additions") < at("Engine and executor"));
    assert!(at("Engine and executor") < at("Logging"));
    for f in [
        "--trials",
        "--models-dir",
        "--early-exit",
        "--trial-timeout",
        "--sim-args",
    ] {
        assert!(r.stdout.contains(f), "{f}");
    }
}

/// `perf-nightly --mode=sanity --engine=sim`: the night (lock, banner, no container) runs
/// the sanity check in process with the night's trials, hardware and CI dir; its logs land
/// in `<CI_DIR>/test/sanity_check_log/<hw>/<tag>/`; Teams is off without the flag.
#[test]
fn perf_nightly_mode_sanity_runs_the_sanity_check() {
    let s = Sandbox::gpt_oss_20b_and_qwen_30b();
    let ci = s.path().join("ci");
    let c = s.perf_nightly_sanity(&ci);
    let out = s.run(c);
    assert_eq!(out.code, Some(0), "{}", out.all());
    let o = &out.stdout;
    for l in [
        "[nightly] Mode is 'sanity', setting model to 'sanity' as well",
        "[nightly] Will run 2 trials per model for sanity check",
        "[nightly] Created process lock: ",
        "[nightly] Launching sanity-check on this machine",
        "[nightly] Executing: sanity-check --docker-image=sglang-sim:sim-rocm700-mi30x-",
        "📈 Overall: 1/2 models passed (50.0%)",
        "[nightly] === Sanity check completed successfully ===",
        "[nightly] Teams notifications disabled (no --teams-webhook-url)",
        "[nightly] === Sanity post-processing completed for SANITY ===",
        "[nightly] Cleaning up process lock...",
    ] {
        assert!(o.contains(l), "{l} missing:\n{o}");
    }
    assert!(!s.path().join("perf_nightly_sanity.lock").exists());
    let hw_dir = ci.join("test/sanity_check_log/mi30x");
    let tag_dir = support::only_subdir(&hw_dir);
    assert!(
        tag_dir
            .file_name()
            .unwrap()
            .to_string_lossy()
            .starts_with("sim-rocm700-mi30x-")
    );
    let (_, p) = summary(&tag_dir);
    assert_eq!(p.header.trials_per_model, Some(2));
    assert_eq!(p.sections.len(), 2);
    assert_eq!(p.sections[1].outcome(), SectionOutcome::Fail);
    assert_eq!(p.overall.unwrap().skipped, Some((1, 3)));
}

/// `perf-nightly --mode=sanity` on the real Docker Engine with the simulated-engine image
/// (`sglang-sim build-image`): the `sgl-dev`-style container is created, every server and
/// GSM8K client of the sanity check runs in it (`docker exec`), the logs land on the host in
/// the tag folder, the container is stopped at the end. Skipped with the reason when no
/// daemon answers (a failure under SGLCI_REQUIRE_DOCKER=1).
#[test]
fn perf_nightly_mode_sanity_runs_in_the_sim_image_container() {
    docker_ctl::testkit::with_engine(
        "perf_nightly_mode_sanity_runs_in_the_sim_image_container",
        |engine, cleanup| {
            let (image, tag) =
                support::sim_image::nightly_ref(engine, cleanup, "sglci-test/sanity-sgl-dev");
            let name = docker_ctl::container_name(&image);
            cleanup.container(&name);
            let s = Sandbox::gpt_oss_20b_and_qwen_30b();
            let ci = s.path().join("ci");
            let mut c = s.perf_nightly_sanity(&ci);
            let idle = support::fixtures("gpu-probe").join("rocm-smi-mi300x-8-idle.txt");
            c.env("SGLCI_GPU_PROBE_CMD", format!("cat '{}'", idle.display()))
                .env("GPU_IDLE_WAIT_TIME", "1")
                .env("SGLCI_PULL_RETRY_WAITS", "0,0")
                .arg(format!("--docker_image={image}"));
            let out = s.run(c);
            assert_eq!(out.code, Some(0), "{}", out.all());
            let dir = ci.join("test/sanity_check_log/mi30x").join(&tag);
            let server = std::fs::read_to_string(dir.join("GPT-OSS-20B_mi30x_server.log"))
                .unwrap_or_default();
            for l in [
                format!("[nightly] Creating container {name}"),
                format!("[nightly] Launching sanity-check inside {name}"),
                "📈 Overall: 1/2 models passed (50.0%)".to_owned(),
                "[nightly] === Sanity check completed successfully ===".to_owned(),
                format!("[nightly] Stopping container {name} to release resources..."),
            ] {
                assert!(
                    out.stdout.contains(&l),
                    "{l} missing:\n{}\nserver log:\n{server}",
                    out.stdout
                );
            }
            let (_, p) = summary(&dir);
            assert_eq!(p.header.docker_image.as_deref(), Some(image.as_str()));
            assert_eq!(p.sections[0].outcome(), SectionOutcome::Pass);
            assert_eq!(p.sections[1].outcome(), SectionOutcome::Fail);
            assert!(server.contains("SIMULATED ENGINE"), "{server}");
            let info = engine
                .container(&name)
                .unwrap()
                .expect("the container stays");
            assert!(!info.running(), "stopped at the end");
        },
    );
}
