//! The flags every benchmark binary shares are defined once (`sglang_runner::flags`): each
//! binary's `--help` shows each of them once, with its environment variable and default, and
//! values that cannot work are refused when the flags are parsed, naming the flag, before
//! anything runs (issue 12: `--port=0` used to wait the whole server timeout).

mod support;

use std::time::Duration;

use support::run_args;

const LIMIT: Duration = Duration::from_secs(30);

const BENCHMARKS: [&str; 5] = [
    env!("CARGO_BIN_EXE_grok-perf-online"),
    env!("CARGO_BIN_EXE_deepseek-perf-online"),
    env!("CARGO_BIN_EXE_grok-perf-offline"),
    env!("CARGO_BIN_EXE_deepseek-perf-offline"),
    env!("CARGO_BIN_EXE_run-grok-benchmark"),
];

/// Occurrences of `--flag` as a flag definition line of `--help` (`  --work-dir <DIR>`).
fn definitions(help: &str, flag: &str) -> usize {
    help.lines()
        .filter(|l| {
            let t = l.trim_start();
            t.starts_with(&format!("{flag} ")) || t == flag || t.starts_with(&format!("{flag}="))
        })
        .count()
}

/// The help paragraph of `flag` (its definition line and the indented lines after it).
fn paragraph<'a>(help: &'a str, flag: &str) -> String {
    let lines: Vec<&'a str> = help.lines().collect();
    let start = lines
        .iter()
        .position(|l| l.trim_start().starts_with(&format!("{flag} ")) || l.trim() == flag)
        .unwrap_or_else(|| panic!("{flag} missing from --help:\n{help}"));
    let mut p = String::new();
    for l in &lines[start..] {
        if l.trim().is_empty() {
            break;
        }
        p.push_str(l.trim());
        p.push(' ');
    }
    p
}

#[test]
fn every_benchmark_shows_each_shared_flag_once_with_its_env_and_default() {
    let shared: [(&str, &str, &str); 5] = [
        (
            "--docker-image",
            "[env: DEFAULT_DOCKER_IMAGE]",
            "lmsysorg/sglang:v0.4.7-rocm630 (Grok)",
        ),
        ("--model", "[env: DEFAULT_MODEL_PATH]", "[default:"),
        (
            "--work-dir",
            "[env: DEFAULT_WORK_DIR]",
            "[default: /mnt/raid/michael/sglang-ci]",
        ),
        (
            "--output-dir",
            "[env: DEFAULT_OUTPUT_DIR]",
            "[default: the work dir]",
        ),
        ("--engine", "sim", "[default: sglang]"),
    ];
    for bin in BENCHMARKS {
        let r = run_args(bin, &["--help"], LIMIT);
        assert_eq!(r.code, Some(0), "{bin} --help\n{}", r.all());
        let help = &r.stdout;
        for (flag, env, default) in shared {
            assert_eq!(definitions(help, flag), 1, "{bin}: {flag} once\n{help}");
            let p = paragraph(help, flag);
            assert!(p.contains(env), "{bin} {flag}: {env} in {p:?}");
            assert!(p.contains(default), "{bin} {flag}: {default} in {p:?}");
        }
        for flag in [
            "--executor",
            "--hardware",
            "--dry-run",
            "--report-json",
            "--sim-args",
        ] {
            assert_eq!(definitions(help, flag), 1, "{bin}: {flag} once\n{help}");
        }
    }
}

#[test]
fn perf_nightly_and_the_image_check_share_one_teams_webhook_flag() {
    for bin in [
        env!("CARGO_BIN_EXE_perf-nightly"),
        env!("CARGO_BIN_EXE_nightly-image-check"),
    ] {
        let r = run_args(bin, &["--help"], LIMIT);
        assert_eq!(r.code, Some(0), "{}", r.all());
        assert_eq!(
            definitions(&r.stdout, "--teams-webhook-url"),
            1,
            "{bin}\n{}",
            r.stdout
        );
        assert!(
            r.stdout.contains("[alias: --teams-webhook]"),
            "{bin}: {}",
            r.stdout
        );
    }
}

/// Exit 2 and the flag named, for each value that cannot work; nothing runs (a dry run is
/// not even printed).
#[test]
fn values_that_cannot_work_are_refused_when_parsed() {
    let online = env!("CARGO_BIN_EXE_grok-perf-online");
    let deepseek = env!("CARGO_BIN_EXE_deepseek-perf-online");
    let offline = env!("CARGO_BIN_EXE_grok-perf-offline");
    let cases: [(&str, &[&str], &str); 10] = [
        (online, &["--port=0"], "--port"),
        (online, &["--port", "-1"], "--port"),
        (deepseek, &["--port=70000"], "--port"),
        (online, &["--server-timeout=0"], "--server-timeout"),
        (deepseek, &["--client-timeout", "-5"], "--client-timeout"),
        (online, &["--pause-between-runs=-1"], "--pause-between-runs"),
        (online, &["--server-timeout=inf"], "--server-timeout"),
        (offline, &["--point-timeout=0"], "--point-timeout"),
        (
            env!("CARGO_BIN_EXE_process-offline-plots"),
            &["--ilen=-1"],
            "--ilen",
        ),
        (
            env!("CARGO_BIN_EXE_rebuild-csv"),
            &["--loads", "1,,x", "--run-dir", "/nonexistent"],
            "--loads",
        ),
    ];
    for (bin, args, flag) in cases {
        let mut all = args.to_vec();
        all.push("--dry-run");
        if bin.ends_with("rebuild-csv") || bin.ends_with("process-offline-plots") {
            all.pop();
        }
        let r = run_args(bin, &all, LIMIT);
        assert_eq!(r.code, Some(2), "{bin} {args:?}\n{}", r.all());
        assert!(
            r.stderr.contains(flag),
            "{bin} {args:?}: the error names {flag}\n{}",
            r.all()
        );
        assert!(
            !r.stdout.contains("dry run"),
            "{bin} {args:?} ran\n{}",
            r.all()
        );
    }
    let r = run_args(
        env!("CARGO_BIN_EXE_rebuild-csv"),
        &["--host", "a\tb", "--run-dir", "/nonexistent"],
        LIMIT,
    );
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(r.stderr.contains("--host"), "{}", r.all());
}

/// perf-nightly keeps the original's exit 1 for an unusable value; the port and TIME_ZONE
/// are refused before the night starts, whatever path it would take.
#[test]
fn perf_nightly_refuses_a_zero_port_and_an_invalid_time_zone() {
    let bin = env!("CARGO_BIN_EXE_perf-nightly");
    let dir = tempfile::tempdir().unwrap();
    let work = format!("--work-dir={}", dir.path().display());
    let r = run_args(
        bin,
        &["--engine=sim", "--port=0", "--dry-run", &work],
        LIMIT,
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(r.stderr.contains("--port"), "{}", r.all());

    let mut c = std::process::Command::new(bin);
    c.args(["--engine=sim", "--dry-run", &work])
        .env("TIME_ZONE", "Mars/Olympus_Mons");
    let r = support::run(c, LIMIT, "perf-nightly with a bad TIME_ZONE");
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(
        r.stderr
            .contains("TIME_ZONE=\"Mars/Olympus_Mons\" is not an IANA time zone"),
        "{}",
        r.all()
    );
    assert!(!r.stdout.contains("dry run"), "{}", r.all());
}

/// An environment value that cannot work is a setup error naming the variable (exit 1).
#[test]
fn deepseek_refuses_a_memory_fraction_that_is_not_one() {
    let dir = tempfile::tempdir().unwrap();
    let mut c = std::process::Command::new(env!("CARGO_BIN_EXE_deepseek-perf-online"));
    c.args([
        "--engine=sim",
        "--dry-run",
        &format!("--work-dir={}", dir.path().display()),
    ])
    .env("SERVER_MEM_FRACTION", "abc");
    let r = support::run(
        c,
        LIMIT,
        "deepseek-perf-online with SERVER_MEM_FRACTION=abc",
    );
    assert_eq!(r.code, Some(1), "{}", r.all());
    assert!(
        r.all().contains("SERVER_MEM_FRACTION=\"abc\""),
        "{}",
        r.all()
    );
}

/// Every binary in `bins/src/bin/`, next to this test's executable (`target/<profile>/`).
fn every_binary() -> Vec<(String, std::path::PathBuf)> {
    let exe = std::env::current_exe().expect("test executable");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target/<profile>/deps");
    let mut out = Vec::new();
    for e in std::fs::read_dir(support::workspace().join("bins/src/bin")).expect("bins/src/bin") {
        let name = e.expect("entry").file_name().to_string_lossy().into_owned();
        if let Some(bin) = name.strip_suffix(".rs") {
            out.push((bin.to_owned(), dir.join(bin)));
        }
    }
    out.sort();
    out
}

/// `-h` says what the binary does (not the workspace's one-line blurb), and `--version`
/// names the version and the commit it was built from.
#[test]
fn every_binary_describes_itself_and_names_its_commit() {
    let blurb = "one thin binary per script of the original toolkit";
    let version = regex::Regex::new(r"^\S+ \d+\.\d+\.\d+ \(([0-9a-f]{7,40}|unknown)\)$").unwrap();
    let bins = every_binary();
    assert!(bins.len() >= 15, "{bins:?}");
    for (name, path) in bins {
        assert!(
            path.is_file(),
            "{} is not built next to the tests",
            path.display()
        );
        let r = run_args(path.to_str().unwrap(), &["-h"], LIMIT);
        assert_eq!(r.code, Some(0), "{name} -h\n{}", r.all());
        let first = r.stdout.lines().next().unwrap_or_default();
        assert!(
            !first.contains(blurb) && first.len() > 20,
            "{name} -h describes the binary: {first:?}"
        );
        let r = run_args(path.to_str().unwrap(), &["--version"], LIMIT);
        assert_eq!(r.code, Some(0), "{name} --version\n{}", r.all());
        let line = r.stdout.trim();
        assert!(
            line.starts_with(&format!("{name} ")) && version.is_match(line),
            "{name} --version: {line:?}"
        );
    }
}

/// The four headings, in the order `--help` must show them (`sglang_runner::flags::heading`).
const HEADINGS: [&str; 4] = sglang_runner::flags::heading::ORDER;

/// The section titles of a `--help` text (`Options:`, `Original flags:`, …) in order, and the
/// flag lines under `Options:`.
fn sections(help: &str) -> (Vec<String>, Vec<String>) {
    let mut titles = Vec::new();
    let mut options = Vec::new();
    let mut current = String::new();
    for line in help.lines() {
        if let Some(t) = line.strip_suffix(':').filter(|t| {
            !t.is_empty() && !t.starts_with(' ') && !t.contains("  ") && !t.starts_with("Usage")
        }) {
            current = t.to_owned();
            titles.push(current.clone());
        } else if current == "Options" && line.trim_start().starts_with('-') {
            options.push(line.trim().to_owned());
        }
    }
    (titles, options)
}

/// `--help` of every binary (and of the subcommands that take flags) groups its flags under
/// the four headings, in their order: the original's flags, the port's additions, engine and
/// executor, logging; `Options:` holds nothing but `--help` and `--version` (a flag added
/// without a heading fails here).
#[test]
fn every_binary_groups_its_flags_under_the_headings_in_order() {
    let mut helps = Vec::new();
    for (name, path) in every_binary() {
        let bin = path.to_str().unwrap().to_owned();
        helps.push((name.clone(), bin.clone(), vec!["--help"]));
        for sub in match name.as_str() {
            "sglang-bench" => &["serving", "gsm8k"][..],
            "sglang-sim" => &["build-image", "launch-server", "bench-one-batch", "router"][..],
            _ => &[][..],
        } {
            helps.push((format!("{name} {sub}"), bin.clone(), vec![sub, "--help"]));
        }
    }
    let mut failures = Vec::new();
    for (name, bin, args) in helps {
        let r = run_args(&bin, &args, LIMIT);
        assert_eq!(r.code, Some(0), "{name} --help\n{}", r.all());
        let (titles, options) = sections(&r.stdout);
        let ranks: Vec<usize> = titles
            .iter()
            .filter_map(|t| HEADINGS.iter().position(|h| h == t))
            .collect();
        let unknown: Vec<&String> = titles
            .iter()
            .filter(|t| {
                !HEADINGS.contains(&t.as_str())
                    && !["Options", "Arguments", "Commands", "Environment"].contains(&t.as_str())
            })
            .collect();
        let stray: Vec<&String> = options
            .iter()
            .filter(|l| !l.starts_with("-h, --help") && !l.starts_with("-V, --version"))
            .collect();
        if !ranks.windows(2).all(|w| w[0] < w[1]) || !unknown.is_empty() || !stray.is_empty() {
            failures.push(format!(
                "{name}: sections {titles:?}, unknown {unknown:?}, flags without a heading {stray:?}"
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The plot scripts were Python argparse programs, which accept any unambiguous prefix of a
/// long option: `--split` and `--process` keep working; an ambiguous one (`--plot`) is a usage
/// error naming the candidates.
#[test]
fn argparse_prefixes_of_the_plot_scripts_keep_working() {
    let dir = tempfile::tempdir().unwrap();
    let base = format!("--base-dir={}", dir.path().display());
    let bin = env!("CARGO_BIN_EXE_process-online-plots");
    let r = run_args(bin, &[&base, "--split", "--process"], LIMIT);
    assert!(
        r.stdout.contains("Split request rates: True") && r.stdout.contains("Process only: True"),
        "--split and --process are --split-request-rates and --process-only\n{}",
        r.all()
    );
    let r = run_args(
        env!("CARGO_BIN_EXE_process-offline-plots"),
        &[&base, "--process"],
        LIMIT,
    );
    assert!(r.stdout.contains("Process only: True"), "{}", r.all());
    let r = run_args(bin, &[&base, "--plot", "x"], LIMIT);
    assert_eq!(r.code, Some(2), "{}", r.all());
    assert!(
        r.stderr.contains("--plot-dir") || r.stderr.contains("--plot-only"),
        "{}",
        r.all()
    );
}
