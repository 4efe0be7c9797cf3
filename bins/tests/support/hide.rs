//! Running a program as on a machine without this checkout: folders hidden behind empty tmpfs
//! mounts in a private mount namespace (util-linux `unshare`).

use std::path::PathBuf;
use std::process::{Command, Stdio};

/// Runs `cmd` in a private mount namespace where `hide` (folders) are empty tmpfs mounts, so
/// the program cannot read anything there (as on a GPU node with only the installed
/// binaries). Needs `unshare` (util-linux) and root or unprivileged user namespaces.
pub fn without(hide: &[PathBuf], cmd: &Command) -> Command {
    let mut script = String::new();
    for i in 1..=hide.len() {
        script.push_str(&format!(
            "mount -t tmpfs sglci-hidden \"${i}\" || exit 97; "
        ));
    }
    script.push_str(&format!("shift {}; exec \"$@\"", hide.len()));
    let userns = !Command::new("unshare")
        .args(["-m", "true"])
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let mut w = Command::new("unshare");
    if userns {
        w.arg("-r");
    }
    w.args([
        "-m",
        "--propagation",
        "private",
        "sh",
        "-c",
        &script,
        "hide",
    ])
    .args(hide)
    .arg(cmd.get_program())
    .args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => w.env(k, v),
            None => w.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        w.current_dir(d);
    }
    w.stdin(Stdio::null());
    w
}

/// Asserts that `hide` can be hidden here (a probe in the namespace sees them empty), with a
/// message saying what the machine lacks otherwise.
#[track_caller]
pub fn assert_can_hide(hide: &[PathBuf]) {
    let mut probe = Command::new("sh");
    let mut script = String::from("true");
    for h in hide {
        script.push_str(&format!(" && test -z \"$(ls -A '{}')\"", h.display()));
    }
    probe.args(["-c", &script]);
    let status = without(hide, &probe)
        .status()
        .expect("unshare (util-linux) runs");
    assert!(
        status.success(),
        "cannot hide {hide:?} in a mount namespace (needs `unshare -m` as root, or \
         unprivileged user namespaces for `unshare -rm`): {status}"
    );
}
