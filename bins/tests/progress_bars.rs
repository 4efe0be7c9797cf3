//! Progress bars of the long steps: drawn on stderr when a terminal is attached (here a
//! pseudo-terminal from util-linux `script`), and absent from redirected output, which keeps
//! its lines and carries no escape codes (a cron log).

mod support;

use std::process::Command;
use std::time::Duration;

use support::sim::{Proc, workload};
use support::{Ran, one_at_a_time, run};

const LIMIT: Duration = Duration::from_secs(180);

/// Single-quotes `s` for `sh -c`.
fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', r"'\''"))
}

/// Runs `bin ARGS` on a pseudo-terminal (`script -qec`); stdout holds what the terminal showed.
fn on_terminal(bin: &str, args: &[String], limit: Duration) -> Ran {
    let line = std::iter::once(bin.to_owned())
        .chain(args.iter().cloned())
        .map(|a| quote(&a))
        .collect::<Vec<_>>()
        .join(" ");
    let mut c = Command::new("script");
    c.args(["-qec", &line, "/dev/null"])
        .env("TERM", "xterm")
        .env_remove("SGLANG_IS_IN_CI");
    run(c, limit, "script (pseudo-terminal)")
}

/// Runs `bin ARGS` with stdout and stderr redirected to files.
fn redirected(bin: &str, args: &[String], limit: Duration) -> Ran {
    let mut c = Command::new(bin);
    c.args(args).env_remove("SGLANG_IS_IN_CI");
    run(c, limit, bin)
}

/// The bar's shape: `<what> [hh:mm:ss] ... <pos>/<len> (eta ...)`.
fn has_bar(text: &str, what: &str) -> bool {
    regex::Regex::new(&format!(r"{what} \[\d\d:\d\d:\d\d\] .* \d+/\d+ \(eta"))
        .unwrap()
        .is_match(text)
}

#[test]
fn serving_and_gsm8k_draw_a_bar_only_on_a_terminal() {
    let _serial = one_at_a_time();
    let sim = Proc::grok(None);
    let bench = env!("CARGO_BIN_EXE_sglang-bench");
    let mut serving = vec!["serving".to_owned()];
    serving.extend(workload("sglang", sim.port, 24, 4));
    serving.extend(["--warmup-pause".into(), "0".into()]);

    let tty = on_terminal(bench, &serving, LIMIT);
    assert_eq!(tty.code, Some(0), "{}", tty.all());
    assert!(has_bar(&tty.stdout, "serving"), "{}", tty.all());
    assert!(tty.stdout.contains("24/24") || tty.stdout.contains("/24"));
    assert!(
        tty.stdout.contains("Serving Benchmark Result"),
        "{}",
        tty.all()
    );

    let plain = redirected(bench, &serving, LIMIT);
    assert_eq!(plain.code, Some(0), "{}", plain.all());
    assert!(plain.stdout.contains("Serving Benchmark Result"));
    for text in [&plain.stdout, &plain.stderr] {
        assert!(!has_bar(text, "serving"), "{}", plain.all());
        assert!(!text.contains('\u{1b}'), "escape code in {}", plain.all());
    }

    // --disable-tqdm: no bar on a terminal either (bench_serving's switch).
    let mut quiet = serving.clone();
    quiet.push("--disable-tqdm".into());
    let tty = on_terminal(bench, &quiet, LIMIT);
    assert_eq!(tty.code, Some(0), "{}", tty.all());
    assert!(!has_bar(&tty.stdout, "serving"), "{}", tty.all());

    let gsm8k: Vec<String> = [
        "gsm8k",
        "--num-questions",
        "12",
        "--parallel",
        "4",
        "--max-new-tokens",
        "48",
        "--host",
        "http://127.0.0.1",
        "--port",
        &sim.port.to_string(),
    ]
    .map(str::to_owned)
    .to_vec();
    let tty = on_terminal(bench, &gsm8k, LIMIT);
    assert!(has_bar(&tty.stdout, "GSM8K"), "{}", tty.all());
    assert!(tty.stdout.contains("Accuracy"), "{}", tty.all());
    let plain = redirected(bench, &gsm8k, LIMIT);
    assert!(plain.stdout.contains("Accuracy"), "{}", plain.all());
    for text in [&plain.stdout, &plain.stderr] {
        assert!(!has_bar(text, "GSM8K"), "{}", plain.all());
        assert!(!text.contains('\u{1b}'), "escape code in {}", plain.all());
    }
}

/// Runs `bin` with `args(work dir)` on a terminal and redirected: both exit 0 and print
/// `done`; on the terminal each bar of `bars` is drawn, redirected none is and no escape code
/// appears. Returns the terminal run.
fn bars_only_on_a_terminal(
    bin: &str,
    args: impl Fn(&std::path::Path) -> Vec<String>,
    done: &str,
    bars: &[&str],
) -> Ran {
    let mut shown = None;
    for terminal in [true, false] {
        let dir = tempfile::tempdir().unwrap();
        let args = args(dir.path());
        let r = if terminal {
            on_terminal(bin, &args, LIMIT)
        } else {
            redirected(bin, &args, LIMIT)
        };
        assert_eq!(r.code, Some(0), "terminal {terminal}\n{}", r.all());
        assert!(r.stdout.contains(done), "{}", r.all());
        for bar in bars {
            if terminal {
                assert!(has_bar(&r.stdout, bar), "no {bar} bar: {}", r.all());
            } else {
                for text in [&r.stdout, &r.stderr] {
                    assert!(!has_bar(text, bar), "{}", r.all());
                    assert!(!text.contains('\u{1b}'), "escape code in {}", r.all());
                }
            }
        }
        if terminal {
            shown = Some(r);
        }
    }
    shown.expect("the terminal run")
}

/// The benchmark's GSM8K gate (five runs of the GSM8K client) and then its serving sweep show
/// their runs on a terminal; the redirected log of the same night has the same lines and no
/// bar.
#[test]
fn the_gsm8k_gate_of_a_benchmark_draws_a_bar_only_on_a_terminal() {
    let _serial = one_at_a_time();
    let data = support::gsm8k_data();
    bars_only_on_a_terminal(
        env!("CARGO_BIN_EXE_grok-perf-online"),
        |dir| {
            vec![
                "--engine=sim".into(),
                format!("--work-dir={}", dir.display()),
                format!("--port={}", support::free_port()),
                "--gsm8k-data".into(),
                data.display().to_string(),
            ]
        },
        "Average Accuracy over 5 runs",
        &["GSM8K", "serving"],
    );
}

/// An offline benchmark shows its grid's points on a terminal (the long-context grid: three
/// points); redirected, its lines carry no bar and no escape code.
#[test]
fn the_points_of_an_offline_benchmark_draw_a_bar_only_on_a_terminal() {
    let _serial = one_at_a_time();
    let tty = bars_only_on_a_terminal(
        env!("CARGO_BIN_EXE_grok-perf-offline"),
        |dir| {
            vec![
                "--engine=sim".into(),
                "--mode=long_context".into(),
                format!("--work-dir={}", dir.display()),
            ]
        },
        "All done!",
        &["points"],
    );
    assert!(tty.stdout.contains("/3 (eta"), "{}", tty.all());
}
