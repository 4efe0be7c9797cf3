//! `build-sglang-docker` end to end with the real binary, the real Docker daemon and a local
//! stand-in for GitHub (raw Dockerfile, PR API, source tarball) and the registry. There is no
//! registry here, so the "upstream" base image `lmsysorg/sglang:<tag>` is built locally first
//! (host `/bin/sh` + `/bin/sleep` in a `FROM scratch` image); the pull then fails and the
//! binary uses the local copy, as documented. Everything made is labelled and removed.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::process::Command;
use std::time::Duration;

use docker_ctl::testkit::{
    Cleanup, HttpStandIn, StandInReply, host_programs_context, unique, with_engine,
};
use docker_ctl::{BlockingEngine, PathKind};
use support::Ran;

const BIN: &str = env!("CARGO_BIN_EXE_build-sglang-docker");
const SHA: &str = "0123456789abcdef0123456789abcdef01234567";

fn pr_tarball() -> Vec<u8> {
    let mut tar = tar::Builder::new(Vec::new());
    let top = format!("someone-sglang-{}", &SHA[..7]);
    for (path, data) in [
        (format!("{top}/README.md"), &b"# sglang PR\n"[..]),
        (
            format!("{top}/python/sglang/__init__.py"),
            &b"__version__ = 'pr'\n"[..],
        ),
    ] {
        let mut h = tar::Header::new_gnu();
        h.set_size(data.len() as u64);
        h.set_mode(0o644);
        h.set_cksum();
        tar.append_data(&mut h, path, data).unwrap();
    }
    let raw = tar.into_inner().unwrap();
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(&raw).unwrap();
    gz.finish().unwrap()
}

/// GitHub + registry stand-in. The Dockerfile's usage line names `tag`.
fn github(tag: String, pr: u32, state: &'static str) -> HttpStandIn {
    let tarball = pr_tarball();
    HttpStandIn::start(move |req| {
        let p = req.path.as_str();
        if p.ends_with("/docker/Dockerfile.rocm") {
            // The old name is gone upstream (Q-BLD-2): only rocm.Dockerfile answers.
            StandInReply::new(404, "404: Not Found")
        } else if p.ends_with("/docker/rocm.Dockerfile") {
            StandInReply::new(
                200,
                format!(
                    "# Usage (to build SGLang ROCm docker image):\n#   docker build --build-arg SGL_BRANCH=v0.5.6 -t {tag} -f rocm.Dockerfile .\nFROM rocm/dev\n"
                ),
            )
        } else if p == format!("/repos/sgl-project/sglang/pulls/{pr}") {
            assert_eq!(req.header("authorization"), Some("token ghp_test_secret"));
            StandInReply::new(
                200,
                format!(
                    r#"{{"title":"Faster MoE","state":"{state}","head":{{"ref":"fast-moe","sha":"{SHA}","repo":{{"full_name":"someone/sglang","clone_url":"https://github.com/someone/sglang.git"}}}},"base":{{"ref":"main"}}}}"#
                ),
            )
        } else if p.starts_with("/repos/sgl-project/sglang/pulls/") {
            StandInReply::new(404, r#"{"message":"Not Found"}"#)
        } else if p == format!("/repos/someone/sglang/tarball/{SHA}") {
            StandInReply::new(200, tarball.clone()).header("Content-Type", "application/x-gzip")
        } else {
            StandInReply::new(404, "")
        }
    })
    .unwrap()
}

fn run(server: &HttpStandIn, args: &[&str], log_dir: &std::path::Path) -> Ran {
    let mut c = Command::new(BIN);
    c.args(args)
        .arg(format!("--log-dir={}", log_dir.display()))
        .arg(format!(
            "--github-dockerfile-url={}/sgl-project/sglang/main/docker/Dockerfile.rocm",
            server.url()
        ))
        .env("SGLCI_GITHUB_RAW_URL", server.url())
        .env("SGLCI_GITHUB_API_URL", server.url())
        .env("SGLCI_REGISTRY_URL", server.url())
        .env("SGLCI_DOCKERHUB_BACKOFF_MS", "10")
        .env("GITHUB_TOKEN", "ghp_test_secret")
        .env_remove("SGL_BRANCH")
        .env_remove("GITHUB_DOCKERFILE_URL");
    support::run(c, Duration::from_secs(600), "build-sglang-docker")
}

/// The "upstream" base image, built locally.
fn base_image(engine: &BlockingEngine, cleanup: &mut Cleanup<'_>, tag: &str) -> String {
    let image = format!("lmsysorg/sglang:{tag}");
    cleanup.image(&image);
    let ctx =
        host_programs_context(&["/bin/sh", "/bin/sleep"], &["/bin/sleep", "infinity"], "").unwrap();
    engine
        .build_image(
            ctx.finish().unwrap(),
            &image,
            &BTreeMap::new(),
            Duration::from_secs(300),
            |_| {},
        )
        .unwrap();
    image
}

#[test]
fn default_mode_resolves_the_tag_and_tags_the_local_image() {
    with_engine(
        "default_mode_resolves_the_tag_and_tags_the_local_image",
        |engine, cleanup| {
            let tag = unique("v0.5.6-rocm700-test");
            let base = base_image(engine, cleanup, &tag);
            cleanup.image(&format!("{tag}:latest"));
            let server = github(tag.clone(), 1, "open");
            let logs = tempfile::tempdir().unwrap();
            let o = run(&server, &[], logs.path());
            assert_eq!(o.code, Some(0), "{}", o.all());
            let out = &o.stdout;
            for want in [
                "Mode: Pull pre-built image (branch: main)".to_string(),
                format!(
                    "Found usage example: #   docker build --build-arg SGL_BRANCH=v0.5.6 -t {tag} -f rocm.Dockerfile ."
                ),
                format!("Target Docker image: {base}"),
                format!("Image tag extracted: {tag}"),
                "⚠ Warning: Image may not exist on DockerHub, but will attempt to pull anyway"
                    .into(),
                "Pull failed (".to_string(),
                format!("✓ Tagged image locally as: {tag}"),
            ] {
                assert!(out.contains(&want), "missing {want:?} in:\n{out}");
            }
            assert!(engine.image_exists(&format!("{tag}:latest")).unwrap());
            // The whole output is also in the log file named <branch>_<YYYYMMDD_HHMMSS>.log.
            let files: Vec<_> = std::fs::read_dir(logs.path()).unwrap().flatten().collect();
            assert_eq!(files.len(), 1);
            let name = files[0].file_name().into_string().unwrap();
            assert!(
                name.starts_with("main_")
                    && name.ends_with(".log")
                    && name.len() == "main_20251029_120000.log".len(),
                "{name}"
            );
            let logged = std::fs::read_to_string(files[0].path()).unwrap();
            assert!(logged.contains(&format!("✓ Tagged image locally as: {tag}")));
            assert!(!logged.contains("ghp_test_secret") && !out.contains("ghp_test_secret"));
        },
    );
}

#[test]
fn pr_mode_builds_an_overlay_image_and_starts_the_container() {
    with_engine(
        "pr_mode_builds_an_overlay_image_and_starts_the_container",
        |engine, cleanup| {
            let tag = unique("v0.5.6-rocm700-prtest");
            base_image(engine, cleanup, &tag);
            let pr = 50_000 + std::process::id() % 10_000;
            let image = format!("sglang-pr{pr}");
            let sha_image = format!("sglang-pr{pr}-{}", &SHA[..8]);
            let container = unique("sglang-ci-test-prbuild");
            cleanup.container(&container);
            cleanup.image(&sha_image);
            cleanup.image(&image);
            let server = github(tag.clone(), pr, "open");
            let logs = tempfile::tempdir().unwrap();
            let o = run(
                &server,
                &[
                    &format!("--pr={pr}"),
                    &format!("--container-name={container}"),
                ],
                logs.path(),
            );
            assert_eq!(o.code, Some(0), "{}", o.all());
            let out = &o.stdout;
            for want in [
                format!("Mode: Pull base image and update with PR #{pr}"),
                "  Title: Faster MoE".into(),
                format!("  Commit: {}", &SHA[..8]),
                format!("✓ Built {image} and tagged {sha_image}"),
                "PR checkout /sgl-workspace/sglang-pr contains: README.md python/".into(),
                "NOTE: the PR code is NOT installed".into(),
                "BUILD COMPLETE - CONTAINER READY".into(),
            ] {
                assert!(out.contains(&want), "missing {want:?} in:\n{out}");
            }
            assert!(engine.image_exists(&image).unwrap());
            assert!(engine.image_exists(&sha_image).unwrap());
            let c = engine
                .container(&container)
                .unwrap()
                .expect("work container");
            assert!(c.running() && c.managed, "{c:?}");
            assert_eq!(
                engine
                    .path_kind(
                        &container,
                        "/sgl-workspace/sglang-pr/python/sglang/__init__.py"
                    )
                    .unwrap(),
                Some(PathKind::File)
            );
            let name = std::fs::read_dir(logs.path())
                .unwrap()
                .flatten()
                .next()
                .unwrap()
                .file_name()
                .into_string()
                .unwrap();
            assert!(name.starts_with(&format!("pr{pr}_")), "{name}");
        },
    );
}

#[test]
fn closed_or_unknown_pr_fails_with_exit_1() {
    with_engine(
        "closed_or_unknown_pr_fails_with_exit_1",
        |engine, cleanup| {
            let tag = unique("v0.5.6-rocm700-closed");
            base_image(engine, cleanup, &tag);
            let server = github(tag, 7, "closed");
            let logs = tempfile::tempdir().unwrap();
            let o = run(&server, &["--pr=7"], logs.path());
            assert_eq!(o.status.code(), Some(1));
            let err = &o.stderr;
            assert!(
                err.contains("PR #7 is closed: aborted (pass --yes"),
                "{err}"
            );

            let o = run(&server, &["--pr=8"], logs.path());
            assert_eq!(o.status.code(), Some(1));
            assert!(o.stderr.contains("PR #8 not found"));
        },
    );
}
