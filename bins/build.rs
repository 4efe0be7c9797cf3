//! Names the git commit the binaries were built from, for `--version`
//! (`sglang-ci 0.1.0 (abc1234)`): `SGLCI_GIT_COMMIT` when the build sets it (a release from a
//! tarball), else `git rev-parse --short=12 HEAD` of the checkout, else `unknown`.

use std::process::Command;

fn main() {
    println!("cargo:rerun-if-env-changed=SGLCI_GIT_COMMIT");
    // A new commit or checkout changes HEAD (or the ref it points to).
    for p in ["../.git/HEAD", "../.git/refs/heads", "../.git/packed-refs"] {
        if std::path::Path::new(p).exists() {
            println!("cargo:rerun-if-changed={p}");
        }
    }
    let commit = std::env::var("SGLCI_GIT_COMMIT")
        .ok()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| {
            let out = Command::new("git")
                .args(["rev-parse", "--short=12", "HEAD"])
                .output()
                .ok()?;
            out.status
                .success()
                .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
                .filter(|c| !c.is_empty())
        })
        .unwrap_or_else(|| "unknown".to_owned());
    println!("cargo:rustc-env=SGLCI_GIT_COMMIT={commit}");
}
