//! `install.sh` and the static release (issue 16): an install into a temporary prefix runs the
//! README's simulated night with this checkout and `../shared` hidden; the installed
//! executable is statically linked and runs in a `FROM scratch` container on the real Docker
//! Engine; the shims at the original scripts' paths run their binary with the arguments
//! unchanged.
//!
//! The release: `SGLCI_DIST_DIR` names a folder holding an already built `sglang-ci` (`.ci/run`
//! builds it once and sets it); without it the first test runs `install.sh` without `--from`,
//! which builds the static release itself (`cargo build --profile dist`, several minutes on a
//! clean target/).

#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;
use std::time::Duration;

use docker_ctl::scratch::{Linkage, linkage};
use docker_ctl::testkit::{host_programs_context, test_spec, unique, with_engine};
use docker_ctl::{ExecLogs, ExecSpec};
use support::hide::{assert_can_hide, without};
use support::http::{http, wait_http};
use support::{Ran, free_port, names, run, workspace};

/// A clean build of the release can take this long on a busy 2-core machine.
const BUILD_LIMIT: Duration = Duration::from_secs(3600);
const LIMIT: Duration = Duration::from_secs(300);

fn install_sh() -> PathBuf {
    workspace().join("install.sh")
}

/// The folder holding the built `sglang-ci`: `SGLCI_DIST_DIR`, else built once (for every
/// test of this file) by `install.sh` itself into a throwaway prefix. A failed build fails
/// every test that needs it, with the build's output, and is not retried.
fn dist_dir() -> &'static Path {
    static DIR: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let dir = DIR.get_or_init(|| {
        if let Some(d) = std::env::var_os("SGLCI_DIST_DIR").filter(|d| !d.is_empty()) {
            let d = PathBuf::from(d);
            return if d.join("sglang-ci").is_file() {
                Ok(d)
            } else {
                Err(format!(
                    "SGLCI_DIST_DIR={} holds no sglang-ci (build it: ./install.sh --build-only, or unset the variable)",
                    d.display()
                ))
            };
        }
        let prefix = tempfile::tempdir().unwrap();
        let mut c = Command::new("bash");
        c.arg(install_sh()).arg("--prefix").arg(prefix.path());
        let out = run(c, BUILD_LIMIT, "install.sh (building the static release)");
        if out.code == Some(0) {
            Ok(workspace().join("target/x86_64-unknown-linux-gnu/dist"))
        } else {
            Err(format!("install.sh failed to build the release:\n{}", out.all()))
        }
    });
    dir.as_deref().unwrap_or_else(|e| panic!("{e}"))
}

/// `install.sh --from <dist> --prefix <tmp> ARGS`; fails the test unless it exits 0.
fn install(prefix: &Path, args: &[&str]) -> Ran {
    let mut c = Command::new("bash");
    c.arg(install_sh())
        .arg("--from")
        .arg(dist_dir())
        .arg("--prefix")
        .arg(prefix)
        .args(args);
    let out = run(c, LIMIT, "install.sh");
    assert_eq!(out.code, Some(0), "{}", out.all());
    out
}

/// The programs of `bins/src/bin`.
fn programs() -> Vec<String> {
    let mut v: Vec<String> = names(&workspace().join("bins/src/bin"))
        .into_iter()
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_owned))
        .collect();
    v.sort();
    v
}

fn output(cmd: &mut Command) -> (Option<i32>, String, String) {
    let o = cmd
        .stdin(std::process::Stdio::null())
        .output()
        .expect("runs");
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

fn du(path: &Path) -> u64 {
    let mut total = 0;
    for e in std::fs::read_dir(path).unwrap() {
        let e = e.unwrap();
        let m = e.path().symlink_metadata().unwrap();
        total += if m.is_dir() { du(&e.path()) } else { m.len() };
    }
    total
}

#[test]
fn installed_tree_runs_the_readme_sim_night_without_the_checkout() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path();
    install(p, &[]);

    // The layout: one executable, a link per program of src/bin, crontabs, the docs.
    let exe = p.join("bin/sglang-ci");
    let listed = output(Command::new(&exe).arg("--list"));
    assert_eq!(listed.0, Some(0), "{listed:?}");
    assert_eq!(
        listed.1.lines().collect::<Vec<_>>(),
        programs(),
        "sglang-ci --list against bins/src/bin (a stale SGLCI_DIST_DIR?)"
    );
    for name in programs() {
        let link = p.join("bin").join(&name);
        assert_eq!(
            std::fs::read_link(&link).unwrap_or_else(|e| panic!("{}: {e}", link.display())),
            Path::new("sglang-ci")
        );
    }
    let cron = std::fs::read_to_string(p.join("cron/crontab_rules_mi30x.txt")).unwrap();
    assert!(
        cron.lines()
            .any(|l| l == format!("SGLCI_BIN={}/bin", p.display())),
        "{cron}"
    );
    for doc in ["README.md", "operations.md", "perf-nightly.md"] {
        assert!(p.join("share/doc/sglang-ci").join(doc).is_file(), "{doc}");
    }
    let size = du(p);
    println!("installed tree: {size} bytes");
    assert!(
        size <= 150_000_000,
        "the install takes {size} bytes (> 150 MB)"
    );

    // `--version` of a program names the version and the commit, through its link.
    let v = output(Command::new(p.join("bin/perf-nightly")).arg("--version"));
    assert_eq!(v.0, Some(0), "{v:?}");
    assert!(
        v.1.starts_with(&format!("perf-nightly {} (", env!("CARGO_PKG_VERSION")))
            && !v.1.contains("(unknown)"),
        "{v:?}"
    );

    // The README's night, with the checkout and ../shared hidden and a bare environment.
    let hidden = [
        workspace().canonicalize().unwrap(),
        workspace().join("../shared").canonicalize().unwrap(),
    ];
    assert_can_hide(&hidden);
    let work = tempfile::tempdir().unwrap();
    let mut night = Command::new("env");
    night
        .arg("-i")
        .arg("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
        .arg(format!("SGLCI_LOCK_DIR={}", work.path().display()))
        .arg(p.join("bin/perf-nightly"))
        .args(["--engine=sim", "--model=grok", "--mode=online"])
        .arg(format!("--work-dir={}", work.path().join("ci").display()))
        .arg(format!("--port={}", free_port()))
        .current_dir(work.path());
    let out = run(
        without(&hidden, &night),
        LIMIT,
        "the installed perf-nightly",
    );
    assert_eq!(out.code, Some(0), "{}", out.all());
    assert!(
        !out.all().contains("needs the GSM8K test set"),
        "{}",
        out.all()
    );
    let runs = work.path().join("ci/online/GROK1");
    let folder = support::only_subdir(&runs);
    let name = folder.file_name().unwrap().to_str().unwrap().to_owned();
    assert!(
        folder.join(format!("{name}.csv")).is_file(),
        "{:?}",
        names(&folder)
    );
    let plots = work.path().join("ci/plots_server/GROK1/online");
    assert!(
        names(&plots).iter().any(|n| n.ends_with(".png")),
        "no plot in {}: {:?}\n{}",
        plots.display(),
        names(&plots),
        out.all()
    );
}

#[test]
fn installed_static_binary_runs_in_a_from_scratch_container() {
    let prefix = tempfile::tempdir().unwrap();
    install(prefix.path(), &[]);
    let exe = prefix.path().join("bin/sglang-ci");
    let data = std::fs::read(&exe).unwrap();
    assert_eq!(linkage(&data), Ok(Linkage::Static), "{}", exe.display());

    with_engine(
        "installed_static_binary_runs_in_a_from_scratch_container",
        |engine, cleanup| {
            // Nothing but the executable (and an empty /tmp): no loader, no libc, no /etc.
            let port = free_port();
            let port_s = port.to_string();
            let exe_s = exe.to_str().unwrap();
            let cmd = [
                "/bin/sglang-ci",
                "plots-server",
                "--bind",
                "127.0.0.1",
                "--port",
                port_s.as_str(),
                "--plots-dir",
                "/tmp/plots",
            ];
            let ctx = host_programs_context(&[exe_s], &cmd, "").unwrap();
            let tag = format!("{}:1", unique("sglang-ci-test/static"));
            cleanup.image(&tag);
            engine
                .build_image(
                    ctx.finish().unwrap(),
                    &tag,
                    &Default::default(),
                    LIMIT,
                    |_| {},
                )
                .expect("build the FROM scratch image");
            let name = unique("sglang-ci-test-static");
            cleanup.container(&name);
            engine
                .ensure_container(&test_spec(&name, &tag).created_by("install-tests"))
                .expect("start the container");

            // A real server from the static binary (host network): the listing answers.
            wait_http(port, "/", 200, Duration::from_secs(60));
            let listing = http(port, "GET", "/", None, Duration::from_secs(5)).unwrap();
            assert!(listing.text().contains("GROK1"), "{}", listing.text());

            // And `--version` of a program in the same container, dispatched by name.
            let logs_dir = tempfile::tempdir().unwrap();
            let logs = ExecLogs {
                stdout: Some(logs_dir.path().join("out.log")),
                stderr: Some(logs_dir.path().join("err.log")),
                append: false,
            };
            let spec = ExecSpec::new(["/bin/sglang-ci", "perf-nightly", "--version"]);
            let done = engine.exec(&name, &spec, &logs, |_, _| {}).unwrap();
            let out = std::fs::read_to_string(logs_dir.path().join("out.log")).unwrap();
            let err = std::fs::read_to_string(logs_dir.path().join("err.log")).unwrap();
            assert_eq!(done.exit_code, 0, "{out}{err}");
            assert!(
                out.starts_with(&format!("perf-nightly {} (", env!("CARGO_PKG_VERSION"))),
                "{out}{err}"
            );
        },
    );
}

#[test]
fn shims_run_their_binary_with_the_arguments_unchanged() {
    let prefix = tempfile::tempdir().unwrap();
    let p = prefix.path();
    install(p, &["--shims"]);

    let cases: &[(&str, &str)] = &[
        ("scripts/perf_nightly.sh", "perf-nightly"),
        ("server/plots_server.sh", "plots-server"),
        ("cron/github_log_upload.sh", "github-log-upload"),
        (
            "scripts/process_and_generate_online_plots.py",
            "process-online-plots",
        ),
        (
            "team_alert/send_teams_notification.py",
            "send-teams-notification",
        ),
    ];
    let argument_lists: &[&[&str]] = &[
        &["--version"],
        &["--model=a model  with spaces", "--mode=online"],
        &["--no-such-flag", "it's \"quoted\" $HOME *"],
    ];
    for (shim, bin) in cases {
        let path = p.join(shim);
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{shim}: {e}"));
        let target = p.join("bin").join(bin);
        assert!(
            text.lines()
                .any(|l| l.starts_with('#') && l.contains(&target.display().to_string())),
            "{shim} does not say which binary it runs:\n{text}"
        );
        // Run the way the crontab runs the original: `bash x.sh`, `python3 x.py`.
        let interpreter = if shim.ends_with(".py") {
            "python3"
        } else {
            "bash"
        };
        for args in argument_lists {
            let via_shim = output(Command::new(interpreter).arg(&path).args(*args));
            let direct = output(Command::new(&target).args(*args));
            assert_eq!(via_shim, direct, "{shim} {args:?}");
        }
        let v = output(Command::new(interpreter).arg(&path).arg("--version"));
        assert!(v.1.starts_with(&format!("{bin} ")), "{shim}: {v:?}");
        let verbose = output(
            Command::new(interpreter)
                .arg(&path)
                .arg("--version")
                .env("SGLCI_SHIM_VERBOSE", "1"),
        );
        assert!(
            verbose
                .2
                .contains(&format!("{shim}: exec {}", target.display())),
            "{shim}: {verbose:?}"
        );
    }

    // Into another tree (the shell toolkit's): an original script is replaced only with --force,
    // and kept as <file>.orig.
    let old = tempfile::tempdir().unwrap();
    let original = old.path().join("scripts/perf_nightly.sh");
    std::fs::create_dir_all(original.parent().unwrap()).unwrap();
    std::fs::write(&original, "#!/bin/bash\necho the old script\n").unwrap();
    let mut c = Command::new("bash");
    c.arg(install_sh())
        .arg("--from")
        .arg(dist_dir())
        .arg("--prefix")
        .arg(p)
        .arg("--shims-dir")
        .arg(old.path());
    let refused = run(c, LIMIT, "install.sh --shims-dir");
    assert_eq!(refused.code, Some(1), "{}", refused.all());
    assert!(refused.stderr.contains("--force"), "{}", refused.all());
    assert!(
        std::fs::read_to_string(&original)
            .unwrap()
            .contains("the old script")
    );
    install(p, &["--shims-dir", old.path().to_str().unwrap(), "--force"]);
    assert!(
        std::fs::read_to_string(old.path().join("scripts/perf_nightly.sh.orig"))
            .unwrap()
            .contains("the old script")
    );
    let v = output(Command::new("bash").arg(&original).arg("--version"));
    assert!(v.1.starts_with("perf-nightly "), "{v:?}");
}
