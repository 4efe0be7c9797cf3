//! `download-models` (spec benchmarks.md §10) and `deepseek-perf-offline --download-model`
//! (§3.4) against a stub `huggingface-cli` / `hf` on PATH that records its arguments and
//! fills `--local-dir`: the spec's model list and order, the command line, the status table,
//! the free-space check, the clear error without a CLI, and a non-zero exit on an unknown
//! argument (F-21; the original printed help and exited 0).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};

use support::offline::run;
use support::{Ran, install_script, names, read};

const BIN: &str = env!("CARGO_BIN_EXE_download-models");
const DEEPSEEK: &str = env!("CARGO_BIN_EXE_deepseek-perf-offline");

/// A stub CLI named `name` in `dir` (the only folder on the binary's PATH): appends its arguments as one line to `dir/calls`, then
/// (unless `FAIL_REPO` names the repository) writes a file into `--local-dir`.
fn stub(dir: &Path, name: &str) {
    let script = r#"#!/bin/sh
PATH=/usr/bin:/bin
export PATH
echo "$@" >> "$(dirname "$0")/calls"
repo="$2"
if [ -n "$FAIL_REPO" ] && [ "$repo" = "$FAIL_REPO" ]; then echo "401 Client Error: gated repo" >&2; exit 1; fi
while [ $# -gt 0 ]; do
  if [ "$1" = "--local-dir" ]; then mkdir -p "$2"; echo '{}' > "$2/config.json"; fi
  shift
done
echo "downloaded $repo"
"#;
    install_script(&dir.join(name), script);
}

struct Setup {
    _tmp: tempfile::TempDir,
    bin: PathBuf,
    base: PathBuf,
    path: String,
}

fn setup(cli: Option<&str>) -> Setup {
    let tmp = tempfile::tempdir().unwrap();
    let bin = tmp.path().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    if let Some(name) = cli {
        stub(&bin, name);
    }
    Setup {
        base: tmp.path().join("models"),
        // Only the stub folder: a HuggingFace CLI installed on this machine is never found.
        path: bin.display().to_string(),
        bin,
        _tmp: tmp,
    }
}

impl Setup {
    fn run(&self, args: &[&str], env: &[(&str, &str)]) -> Ran {
        let base = format!("--base-dir={}", self.base.display());
        let mut all = vec![base.as_str()];
        all.extend_from_slice(args);
        let mut e = vec![("PATH", self.path.as_str())];
        e.extend_from_slice(env);
        run(BIN, &all, &e)
    }

    fn calls(&self) -> Vec<String> {
        std::fs::read_to_string(self.bin.join("calls"))
            .unwrap_or_default()
            .lines()
            .map(str::to_owned)
            .collect()
    }
}

#[test]
fn one_model_is_downloaded_with_the_original_command() {
    let s = setup(Some("huggingface-cli"));
    let r = s.run(&["--model=GROK1-TOKENIZER", "--min-free-gb=0"], &[]);
    assert_eq!(r.code, Some(0));
    let target = s.base.join("Xenova--grok-1-tokenizer");
    assert_eq!(
        s.calls(),
        [format!(
            "download Xenova/grok-1-tokenizer --local-dir {} --local-dir-use-symlinks False",
            target.display()
        )]
    );
    assert!(target.join("config.json").is_file());
    assert!(r.stdout.contains("[INFO] SGLang Model Download Script"));
    assert!(
        r.stdout
            .contains("[SUCCESS] All models processed successfully")
    );
    assert!(r.stdout.contains(&format!(
        "✓ GROK1-TOKENIZER - Available at {}",
        target.display()
    )));
    assert!(
        !r.stdout.contains('\x1b'),
        "no colours when stdout is not a terminal"
    );
}

#[test]
fn hardware_lists_are_processed_in_the_spec_order() {
    let s = setup(Some("huggingface-cli"));
    let r = s.run(
        &["--hardware=mi35x", "--model=GROK2"],
        &[("SGLCI_MIN_FREE_GB", "0")],
    );
    assert_eq!(r.code, Some(0), "--hardware wins over --model");
    let repos: Vec<String> = s
        .calls()
        .iter()
        .map(|c| c.split(' ').nth(1).unwrap().to_owned())
        .collect();
    assert_eq!(
        repos,
        [
            "openai/gpt-oss-120b",
            "openai/gpt-oss-20b",
            "Qwen/Qwen3-30B-A3B-Thinking-2507",
            "Xenova/grok-1-tokenizer",
            "amd/grok-1-W4A8KV8",
            "lmzheng/grok-1",
            "xai-org/grok-2",
            "alvarobartt/grok-2-tokenizer",
            "deepseek-ai/DeepSeek-V3-0324",
            "amd/DeepSeek-R1-MXFP4-Preview",
            "meta-llama/Llama-4-Maverick-17B-128E-Instruct-FP8",
        ]
    );
    assert!(s.base.join("lmzheng-grok-1").is_dir() && s.base.join("grok-2").is_dir());
    assert!(r.stdout.contains("may need HuggingFace authentication"));
}

#[test]
fn the_hf_cli_is_used_when_huggingface_cli_is_absent() {
    let s = setup(Some("hf"));
    let r = s.run(&["--model=QWEN-30B", "--min-free-gb=0"], &[]);
    assert_eq!(r.code, Some(0));
    assert_eq!(
        s.calls(),
        [format!(
            "download Qwen/Qwen3-30B-A3B-Thinking-2507 --local-dir {}",
            s.base.join("Qwen/Qwen3-30B-A3B-Thinking-2507").display()
        )]
    );
}

#[test]
fn not_enough_free_space_fails_the_model_without_downloading() {
    let s = setup(Some("huggingface-cli"));
    let r = s.run(&["--model=DEEPSEEK-V3", "--min-free-gb=100000000"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(s.calls().is_empty(), "no download was attempted");
    assert!(
        r.stdout
            .contains("not enough free space to download deepseek-ai/DeepSeek-V3-0324"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("[ERROR] Failed to download: DEEPSEEK-V3"));
    assert!(r.stderr.contains("failed to download: DEEPSEEK-V3"));
}

#[test]
fn a_failing_download_is_reported_and_the_others_go_on() {
    let s = setup(Some("huggingface-cli"));
    let r = s.run(
        &["--hardware=mi30x", "--min-free-gb=0"],
        &[("FAIL_REPO", "xai-org/grok-2")],
    );
    assert_eq!(r.code, Some(1));
    assert_eq!(s.calls().len(), 11, "every model was attempted");
    assert!(
        r.stdout.contains("[ERROR] Failed to download: GROK2"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("401 Client Error"),
        "the CLI's output is shown"
    );
    assert!(
        r.stdout
            .contains("✗ GROK2 - Missing (would download from xai-org/grok-2)")
    );
}

#[test]
fn without_a_cli_the_error_says_what_to_install() {
    let s = setup(None);
    let r = s.run(&["--all"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("neither huggingface-cli nor hf is on PATH"),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("huggingface_hub"));
}

#[test]
fn status_and_dry_run_download_nothing() {
    let s = setup(Some("huggingface-cli"));
    std::fs::create_dir_all(s.base.join("grok-2")).unwrap();
    std::fs::write(s.base.join("grok-2/config.json"), "{}").unwrap();
    let r = s.run(&["--status", "--hardware=mi30x"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(r.stdout.contains(&format!(
        "✓ GROK2 - Available at {}",
        s.base.join("grok-2").display()
    )));
    assert!(
        r.stdout.contains(
            "✗ GPT-OSS-120B-LMSYS - Missing (would download from lmsys/gpt-oss-120b-bf16)"
        )
    );
    assert!(
        !r.stdout.contains("GPT-OSS-120B-OPENAI -"),
        "filtered by --hardware"
    );
    assert!(
        r.stdout
            .contains("GROK1-INT4:          ~223GB (W4A8KV8 quantized)")
    );
    let r = s.run(&["--all", "--dry-run"], &[]);
    assert_eq!(r.code, Some(0));
    assert!(
        r.stdout
            .contains("[DRY RUN] Model exists, would verify/resume download of xai-org/grok-2 to")
    );
    assert!(
        r.stdout
            .contains("[DRY RUN] Would download deepseek-ai/DeepSeek-V3-0324 to")
    );
    assert!(s.calls().is_empty());
    assert_eq!(names(&s.base), ["grok-2"], "a dry run creates no folder");
}

#[test]
fn argument_errors() {
    let s = setup(Some("huggingface-cli"));
    let r = s.run(&["--bogus"], &[]);
    assert_eq!(r.code, Some(2), "F-21: an unknown argument is an error");
    assert!(r.stderr.contains("--bogus"));
    let r = s.run(&["--hardware=mi25x"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("Invalid hardware: mi25x. Must be 'mi30x' or 'mi35x'")
    );
    let r = s.run(&["--model=GROK3"], &[]);
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("Unknown model: GROK3. Available models: GPT-OSS-120B-LMSYS")
    );
    let r = s.run(&[], &[]);
    assert_eq!(r.code, Some(1));
    assert!(r.stderr.contains(
        "No action specified. Use --all, --hardware=TYPE, --model=MODEL_NAME, or --status"
    ));
    let r = run(BIN, &["--help"], &[]);
    assert_eq!(r.code, Some(0));
    for f in [
        "--all",
        "--model",
        "--hardware",
        "--dry-run",
        "--status",
        "--base-dir",
        "--min-free-gb",
    ] {
        assert!(r.stdout.contains(f), "--help documents {f}");
    }
    assert!(s.calls().is_empty());
}

#[test]
fn deepseek_download_model_fetches_then_benchmarks() {
    let s = setup(Some("huggingface-cli"));
    let work = s.base.parent().unwrap().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let model = s.base.join("deepseek-ai/DeepSeek-V3-0324");
    let wd = format!("--work-dir={}", work.display());
    let m = format!("--model={}", model.display());
    // `deepseek-perf-offline --engine=sim --work-dir=<work> ARGS --download-model`.
    let deepseek = |args: &[&str], path: &str, env: &[(&str, &str)]| {
        let mut all = vec!["--engine=sim", wd.as_str()];
        all.extend_from_slice(args);
        all.push("--download-model");
        let mut e = vec![("PATH", path)];
        e.extend_from_slice(env);
        run(DEEPSEEK, &all, &e)
    };
    let r = deepseek(&[&m], &s.path, &[("SGLCI_MIN_FREE_GB", "0")]);
    assert_eq!(r.code, Some(0));
    assert_eq!(
        s.calls(),
        [format!(
            "download deepseek-ai/DeepSeek-V3-0324 --repo-type model --local-dir {} --local-dir-use-symlinks False --resume-download",
            model.display()
        )]
    );
    let folder = work.join("offline/DeepSeek-V3-0324");
    assert_eq!(names(&folder).len(), 1);
    // The download failing stops the run with exit 1 before anything is written.
    let r = deepseek(
        &["--model=/tmp/no-such-model-dir", "--hf-model-id=org/gated"],
        &s.path,
        &[("SGLCI_MIN_FREE_GB", "0"), ("FAIL_REPO", "org/gated")],
    );
    assert_eq!(r.code, Some(1));
    assert!(
        r.stderr
            .contains("failed (exit status 1) while downloading org/gated"),
        "{}",
        r.stderr
    );
    // Without a CLI and without the model: a clear error (the original warned and exited 1).
    let empty = setup(None);
    let r = deepseek(
        &["--model=/tmp/no-such-model-dir"],
        empty.bin.to_str().unwrap(),
        &[],
    );
    assert_eq!(r.code, Some(1));
    assert!(r.stdout.contains("[csv] WARNING: huggingface-cli not found. Assuming model deepseek-ai/DeepSeek-V3-0324 is already present at /tmp/no-such-model-dir."));
    assert!(
        r.stderr
            .contains("neither huggingface-cli nor hf is on PATH")
    );
    assert_eq!(read(&s.bin.join("calls")).lines().count(), 2);
}
