//! Debian's headless Chromium (installed by `.ci/setup`; env `SGLCI_CHROMIUM` names another
//! browser binary): screenshots and the rendered DOM of a page, each bounded by 90 s.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

/// The browser binary (fails the test, saying how to install it, when it is missing).
pub fn chromium() -> PathBuf {
    let name = std::env::var_os("SGLCI_CHROMIUM").unwrap_or_else(|| "chromium".into());
    let found = Command::new(&name)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        found,
        "{} not found: run .ci/setup (section \"Browser tests\" installs Debian's chromium) or set SGLCI_CHROMIUM",
        name.to_string_lossy()
    );
    PathBuf::from(name)
}

fn headless(browser: &Path, profile: &Path) -> Command {
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--no-first-run",
        "--hide-scrollbars",
    ])
    .arg(format!("--user-data-dir={}", profile.display()))
    .stdin(Stdio::null());
    cmd
}

/// Screenshot of `url` at `width`×`height` into `shot` (a PNG).
pub fn screenshot(browser: &Path, url: &str, shot: &Path, width: u32, height: u32) {
    let profile = tempfile::tempdir().expect("browser profile dir");
    let mut cmd = headless(browser, profile.path());
    cmd.arg(format!("--screenshot={}", shot.display()))
        .arg(format!("--window-size={width},{height}"))
        .arg(url);
    let ran = super::run(cmd, Duration::from_secs(90), "chromium's screenshot");
    assert!(
        ran.status.success(),
        "chromium exited with {}: {}",
        ran.status,
        ran.all()
    );
    assert!(
        shot.is_file(),
        "no screenshot at {}: {}",
        shot.display(),
        ran.all()
    );
}

/// The DOM of `url` after the page loaded, serialised (`--dump-dom`).
pub fn dump_dom(browser: &Path, url: &str) -> String {
    let profile = tempfile::tempdir().expect("browser profile dir");
    let mut cmd = headless(browser, profile.path());
    cmd.arg("--dump-dom").arg(url);
    let ran = super::run(cmd, Duration::from_secs(90), "chromium's --dump-dom");
    assert!(
        ran.status.success(),
        "chromium exited with {}: {}",
        ran.status,
        ran.all()
    );
    ran.stdout
}
