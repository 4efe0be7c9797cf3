//! `build-sglang-docker` (spec nightly.md §8): pull an upstream `lmsysorg/sglang` ROCm image
//! whose tag comes from the usage comment of SGLang's ROCm Dockerfile, optionally with a pull
//! request's source laid over it.
//!
//! Fixes: the tag fallback works (`latest` for `main`, else the branch name; Q-BLD-1); both
//! Dockerfile names (`Dockerfile.rocm`, `rocm.Dockerfile`) are recognised in URLs and usage
//! lines (Q-BLD-2); every download has a timeout. PR mode builds an overlay image through the
//! Engine's build API from an in-memory tar context (`FROM <base>` + `COPY sglang-pr
//! /sgl-workspace/sglang-pr`) with the PR's source archive, instead of `docker run` + `git
//! clone` + `docker commit`: no git or shell is needed in the image. As in the original the PR
//! code is **not installed** (Q-BLD-3): the image's own `/sgl-workspace/sglang` is unchanged.

use std::collections::BTreeMap;
use std::io::{self, Read, Write};
use std::time::Duration;

use chrono::{DateTime, Utc};

use docker_ctl::http::{self, RetryPolicy};
use docker_ctl::registry::{Manifest, RegistryClient};
use docker_ctl::{BlockingEngine, BuildContext, CREATED_BY_LABEL, ContainerSpec, DockerError};

/// The default Dockerfile (`GITHUB_DOCKERFILE_URL`).
pub const DEFAULT_DOCKERFILE_URL: &str =
    "https://raw.githubusercontent.com/sgl-project/sglang/main/docker/Dockerfile.rocm";
/// Environment variable replacing `https://raw.githubusercontent.com` (tests).
pub const RAW_URL_ENV: &str = "SGLCI_GITHUB_RAW_URL";
/// Environment variable replacing `https://api.github.com` (tests).
pub const API_URL_ENV: &str = "SGLCI_GITHUB_API_URL";
/// The upstream image repository.
pub const UPSTREAM_REPO: &str = "lmsysorg/sglang";

/// Failures of the helper.
#[derive(Debug, thiserror::Error)]
pub enum UpstreamError {
    /// A download failed (after retries).
    #[error("could not download {url}: {reason}")]
    Download {
        /// The URL.
        url: String,
        /// Why.
        reason: String,
    },
    /// `GET /repos/sgl-project/sglang/pulls/N` answered 404.
    #[error("PR #{0} not found")]
    PrNotFound(u32),
    /// GitHub answered 403.
    #[error(
        "GitHub API rate limit exceeded or authentication required (HTTP 403): {0}; pass --github-token or set GITHUB_TOKEN"
    )]
    RateLimited(String),
    /// Another GitHub answer.
    #[error("GitHub API error: HTTP {status}: {body}")]
    GitHub {
        /// Status.
        status: u16,
        /// Body excerpt.
        body: String,
    },
    /// The PR is not open and the user did not confirm.
    #[error("PR #{pr} is {state}: aborted (pass --yes to build it anyway)")]
    Aborted {
        /// The PR.
        pr: u32,
        /// Its state.
        state: String,
    },
    /// The pull failed and the image is not present locally.
    #[error("failed to pull Docker image {image}: {reason}")]
    PullFailed {
        /// The image.
        image: String,
        /// Why.
        reason: String,
    },
    /// The PR source archive could not be read.
    #[error("the source archive of {what} could not be read: {reason}")]
    Archive {
        /// `owner/repo@sha`.
        what: String,
        /// Why.
        reason: String,
    },
    /// A Docker Engine failure.
    #[error(transparent)]
    Docker(#[from] DockerError),
    /// Writing the report failed.
    #[error("cannot write the report: {0}")]
    Output(#[from] io::Error),
}

/// `v` digits `.` digits `.` digits, then anything (`v0.4.9`, `v0.5.3rc0`).
pub fn is_version_branch(branch: &str) -> bool {
    let Some(rest) = branch.strip_prefix('v') else {
        return false;
    };
    let mut parts = rest.splitn(3, '.');
    let num =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    let (a, b) = (parts.next(), parts.next());
    let c = parts.next().map(|s| {
        let digits: String = s.chars().take_while(char::is_ascii_digit).collect();
        digits
    });
    num(a) && num(b) && c.is_some_and(|d| !d.is_empty())
}

/// The Dockerfile URLs to try, in order, and the note the original printed. For `main`: the
/// configured URL, then its other-name twin. For a version branch: the branch's
/// `docker/Dockerfile.rocm`, then `docker/rocm.Dockerfile`. Any other branch uses the main URL.
pub fn dockerfile_urls(
    branch: &str,
    configured: &str,
    raw_base: &str,
) -> (Vec<String>, Option<String>) {
    let twin = |u: &str| {
        if u.ends_with("Dockerfile.rocm") {
            Some(u.replace("Dockerfile.rocm", "rocm.Dockerfile"))
        } else if u.ends_with("rocm.Dockerfile") {
            Some(u.replace("rocm.Dockerfile", "Dockerfile.rocm"))
        } else {
            None
        }
    };
    if branch == "main" {
        let mut v = vec![configured.to_string()];
        v.extend(twin(configured));
        (v, None)
    } else if is_version_branch(branch) {
        let base = raw_base.trim_end_matches('/');
        let first = format!("{base}/sgl-project/sglang/{branch}/docker/Dockerfile.rocm");
        let second = format!("{base}/sgl-project/sglang/{branch}/docker/rocm.Dockerfile");
        (
            vec![first.clone(), second],
            Some(format!("Using branch-specific Dockerfile URL: {first}")),
        )
    } else {
        let mut v = vec![configured.to_string()];
        v.extend(twin(configured));
        (
            v,
            Some(format!(
                "Using main branch Dockerfile URL for non-version branch: {branch}"
            )),
        )
    }
}

/// The first line containing `docker build`, then `-t`, then `-f Dockerfile.rocm` or
/// `-f rocm.Dockerfile` (in that order), and the tag: the token after the last `-t `.
pub fn usage_tag(dockerfile: &str) -> Option<(String, String)> {
    for line in dockerfile.lines() {
        let Some(b) = line.find("docker build") else {
            continue;
        };
        let after_build = &line[b..];
        let Some(t) = after_build.find("-t") else {
            continue;
        };
        let after_t = &after_build[t..];
        if !(after_t.contains("-f Dockerfile.rocm") || after_t.contains("-f rocm.Dockerfile")) {
            continue;
        }
        let last = line.rfind("-t ")?;
        let tag = line[last + 3..].split_whitespace().next()?.to_string();
        return Some((line.trim().to_string(), tag));
    }
    None
}

/// The intended fallback when no usage line is found (Q-BLD-1): `latest` for `main`, else the
/// branch name.
pub fn fallback_tag(branch: &str) -> String {
    if branch == "main" {
        "latest".into()
    } else {
        branch.to_string()
    }
}

/// Log file name: `pr<N>_<YYYYMMDD_HHMMSS>.log` or `<branch with / as _>_<...>.log` (PT).
pub fn log_file_name(pr: Option<u32>, branch: &str, now: DateTime<Utc>) -> String {
    let ts = now
        .with_timezone(&docker_ctl::dates::PACIFIC)
        .format("%Y%m%d_%H%M%S");
    match pr {
        Some(n) => format!("pr{n}_{ts}.log"),
        None => format!("{}_{ts}.log", branch.replace('/', "_")),
    }
}

/// Settings of one run.
#[derive(Debug, Clone)]
pub struct UpstreamConfig {
    /// `--github-dockerfile-url`.
    pub dockerfile_url: String,
    /// `--branch`.
    pub branch: String,
    /// `--pr`.
    pub pr: Option<u32>,
    /// `--github-token` (sent as `Authorization: token ...`, never printed).
    pub github_token: Option<String>,
    /// `--container-name` (PR mode).
    pub container_name: String,
    /// Build a non-open PR without asking.
    pub yes: bool,
    /// `https://raw.githubusercontent.com` or a stand-in.
    pub raw_base: String,
    /// `https://api.github.com` or a stand-in.
    pub api_base: String,
    /// HTTP timeouts and retries.
    pub retry: RetryPolicy,
    /// Pull limit.
    pub pull_timeout: Duration,
    /// Build limit.
    pub build_timeout: Duration,
}

impl UpstreamConfig {
    /// Defaults with `SGLCI_GITHUB_RAW_URL` / `SGLCI_GITHUB_API_URL` applied.
    pub fn new(dockerfile_url: String, branch: String, pr: Option<u32>) -> Self {
        let env = |k: &str, d: &str| {
            std::env::var(k)
                .ok()
                .filter(|v| !v.trim().is_empty())
                .unwrap_or_else(|| d.to_string())
        };
        let mut retry = docker_ctl::HubConfig::from_env().retry;
        retry.timeout = retry.timeout.max(Duration::from_secs(30));
        Self {
            dockerfile_url,
            branch,
            pr,
            github_token: None,
            container_name: "sglang-pr-build".into(),
            yes: false,
            raw_base: env(RAW_URL_ENV, "https://raw.githubusercontent.com"),
            api_base: env(API_URL_ENV, "https://api.github.com"),
            retry,
            pull_timeout: Duration::from_secs(3 * 3600),
            build_timeout: Duration::from_secs(3600),
        }
    }
}

/// What a run produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UpstreamOutcome {
    /// The pulled (or local) base image.
    pub base_image: String,
    /// Default mode: the local re-tag (`<tag>`); PR mode: `sglang-pr<N>`.
    pub result_image: String,
    /// PR mode: `sglang-pr<N>-<sha8>`.
    pub sha_image: Option<String>,
}

/// Resolves the image tag from the Dockerfile (with the fallback).
pub fn resolve_image(cfg: &UpstreamConfig, out: &mut dyn Write) -> Result<String, UpstreamError> {
    writeln!(
        out,
        "Fetching latest SGLang Docker image tag from GitHub..."
    )?;
    let (urls, note) = dockerfile_urls(&cfg.branch, &cfg.dockerfile_url, &cfg.raw_base);
    if let Some(n) = note {
        writeln!(out, "{n}")?;
    }
    let agent = http::agent(cfg.retry.timeout);
    let mut tag = None;
    let mut last_failure = None;
    let mut downloaded = false;
    for url in &urls {
        writeln!(out, "Dockerfile URL: {url}")?;
        match http::fetch(&agent, url, false, &[], &cfg.retry) {
            Ok(a) if a.status == 200 => {
                downloaded = true;
                if let Some((line, t)) = usage_tag(&a.body) {
                    writeln!(out, "Found usage example: {line}")?;
                    tag = Some(t);
                    break;
                }
                writeln!(
                    out,
                    "No usage example (docker build ... -t TAG -f Dockerfile.rocm|rocm.Dockerfile) in {url}"
                )?;
            }
            Ok(a) => {
                writeln!(out, "{url} answered HTTP {}", a.status)?;
                last_failure = Some((url.clone(), format!("HTTP {}", a.status)));
            }
            Err(e) => {
                writeln!(out, "{e}")?;
                last_failure = Some((url.clone(), e.last.clone()));
            }
        }
    }
    if !downloaded {
        // Nothing was read: pulling a guessed tag would be wrong, so this is an error (the
        // fallback is for a Dockerfile without a usage line).
        let (url, reason) = last_failure.unwrap_or_default();
        return Err(UpstreamError::Download { url, reason });
    }
    let tag = match tag {
        Some(t) => t,
        None => {
            let t = fallback_tag(&cfg.branch);
            writeln!(
                out,
                "⚠ Warning: Could not find usage example in Dockerfile; using fallback tag: {t}"
            )?;
            t
        }
    };
    let image = format!("{UPSTREAM_REPO}:{tag}");
    writeln!(out, "Target Docker image: {image}")?;
    writeln!(out, "Image tag extracted: {tag}")?;
    Ok(image)
}

/// Checks the registry, pulls (falling back to a local copy when the pull fails), prints
/// progress.
pub fn obtain_image(
    engine: &BlockingEngine,
    registry: &RegistryClient,
    image: &str,
    pull_timeout: Duration,
    out: &mut dyn Write,
) -> Result<(), UpstreamError> {
    writeln!(out, "Checking if image exists on DockerHub...")?;
    let (repo, tag) = docker_ctl::repo_and_tag(image);
    match registry.manifest(&repo, &tag) {
        Ok(Manifest::Present) => writeln!(out, "✓ Image exists on DockerHub")?,
        Ok(Manifest::Absent) => writeln!(
            out,
            "⚠ Warning: Image may not exist on DockerHub, but will attempt to pull anyway"
        )?,
        Err(e) => writeln!(out, "⚠ Warning: {e}; will attempt to pull anyway")?,
    }
    writeln!(out, "Pulling Docker image: {image}")?;
    writeln!(
        out,
        "This may take several minutes depending on your internet connection..."
    )?;
    let mut write_err = None;
    let pulled = engine.pull(image, pull_timeout, |p| {
        let interesting = p.status.starts_with("Pull complete")
            || p.status.starts_with("Status:")
            || p.status.starts_with("Digest:")
            || p.status.starts_with("Already exists");
        if interesting && write_err.is_none() {
            let line = match &p.layer {
                Some(l) if !p.status.starts_with("Status:") => format!("{l}: {}", p.status),
                _ => p.status.clone(),
            };
            if let Err(e) = writeln!(out, "{line}") {
                write_err = Some(e);
            }
        }
    });
    if let Some(e) = write_err {
        return Err(e.into());
    }
    match pulled {
        Ok(()) => {
            writeln!(out, "✓ Successfully pulled Docker image: {image}")?;
            Ok(())
        }
        Err(e) if !e.is_unreachable() && engine.image_exists(image)? => {
            writeln!(out, "⚠ Pull failed ({e}); using the local image {image}")?;
            Ok(())
        }
        Err(e) => {
            writeln!(out, "✗ Failed to pull Docker image: {image}")?;
            writeln!(
                out,
                "Possible reasons: the tag does not exist, no network, or no access."
            )?;
            writeln!(
                out,
                "Check the available tags: https://hub.docker.com/r/{UPSTREAM_REPO}/tags"
            )?;
            Err(UpstreamError::PullFailed {
                image: image.to_string(),
                reason: e.to_string(),
            })
        }
    }
}

/// The default mode (§8.4): resolve, pull, re-tag locally as `<tag>`.
pub fn run_default(
    cfg: &UpstreamConfig,
    engine: &BlockingEngine,
    registry: &RegistryClient,
    out: &mut dyn Write,
) -> Result<UpstreamOutcome, UpstreamError> {
    writeln!(out, "Mode: Pull pre-built image (branch: {})", cfg.branch)?;
    let image = resolve_image(cfg, out)?;
    obtain_image(engine, registry, &image, cfg.pull_timeout, out)?;
    let tag = docker_ctl::repo_and_tag(&image).1;
    engine.tag_image(&image, &tag)?;
    writeln!(out, "✓ Tagged image locally as: {tag}")?;
    writeln!(out)?;
    writeln!(out, "Usage:")?;
    writeln!(
        out,
        "  docker run -it --rm --network=host --ipc=host --device=/dev/kfd --device=/dev/dri --group-add video {tag} bash"
    )?;
    Ok(UpstreamOutcome {
        base_image: image,
        result_image: format!("{tag}:latest"),
        sha_image: None,
    })
}

/// What the GitHub API says about a PR.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PrInfo {
    /// `title`.
    pub title: String,
    /// `state` (`open`, `closed`).
    pub state: String,
    /// `head.repo.clone_url`.
    pub clone_url: String,
    /// `head.repo.full_name` (`owner/sglang`).
    pub head_repo: String,
    /// `head.ref`.
    pub head_ref: String,
    /// `head.sha`.
    pub head_sha: String,
    /// `base.ref`.
    pub base_ref: String,
}

fn github_headers(token: Option<&str>) -> Vec<(&'static str, String)> {
    let mut h = vec![("Accept", "application/vnd.github.v3+json".to_string())];
    if let Some(t) = token.filter(|t| !t.is_empty()) {
        h.push(("Authorization", format!("token {t}")));
    }
    h
}

/// `GET <api>/repos/sgl-project/sglang/pulls/<n>`.
pub fn fetch_pr(cfg: &UpstreamConfig, pr: u32) -> Result<PrInfo, UpstreamError> {
    let url = format!(
        "{}/repos/sgl-project/sglang/pulls/{pr}",
        cfg.api_base.trim_end_matches('/')
    );
    let agent = http::agent(cfg.retry.timeout);
    let a = http::fetch(
        &agent,
        &url,
        false,
        &github_headers(cfg.github_token.as_deref()),
        &cfg.retry,
    )
    .map_err(|e| UpstreamError::Download {
        url: url.clone(),
        reason: e.to_string(),
    })?;
    let excerpt = |b: &str| b.chars().take(300).collect::<String>();
    match a.status {
        200 => {}
        404 => return Err(UpstreamError::PrNotFound(pr)),
        403 => return Err(UpstreamError::RateLimited(excerpt(&a.body))),
        s => {
            return Err(UpstreamError::GitHub {
                status: s,
                body: excerpt(&a.body),
            });
        }
    }
    let v: serde_json::Value =
        serde_json::from_str(&a.body).map_err(|e| UpstreamError::GitHub {
            status: 200,
            body: format!("not JSON: {e}"),
        })?;
    let s = |p: &str| {
        v.pointer(p)
            .and_then(|x| x.as_str())
            .unwrap_or_default()
            .to_string()
    };
    let info = PrInfo {
        title: s("/title"),
        state: s("/state"),
        clone_url: s("/head/repo/clone_url"),
        head_repo: s("/head/repo/full_name"),
        head_ref: s("/head/ref"),
        head_sha: s("/head/sha"),
        base_ref: s("/base/ref"),
    };
    if info.head_sha.is_empty() || info.head_repo.is_empty() {
        return Err(UpstreamError::GitHub {
            status: 200,
            body: "the PR has no head.sha / head.repo (deleted fork?)".into(),
        });
    }
    Ok(info)
}

/// Downloads `<api>/repos/<head_repo>/tarball/<sha>` (gzip tar) and re-roots it under
/// `sglang-pr/` in a build context whose Dockerfile lays it over `base`. Returns the context
/// and the top-level entries of the checkout.
pub fn overlay_context(
    cfg: &UpstreamConfig,
    base: &str,
    pr: u32,
    info: &PrInfo,
) -> Result<(Vec<u8>, Vec<String>), UpstreamError> {
    let url = format!(
        "{}/repos/{}/tarball/{}",
        cfg.api_base.trim_end_matches('/'),
        info.head_repo,
        info.head_sha
    );
    let what = format!("{}@{}", info.head_repo, info.head_sha);
    let gz = download_bytes(cfg, &url)?;
    let arc = |reason: String| UpstreamError::Archive {
        what: what.clone(),
        reason,
    };
    let mut ctx = BuildContext::new();
    ctx.dockerfile(&format!(
        "FROM {base}\nCOPY sglang-pr /sgl-workspace/sglang-pr\nLABEL org.sglang-ci.pr=\"{pr}\" org.sglang-ci.pr-sha=\"{}\"\n",
        info.head_sha
    ))
    .map_err(|e| arc(e.to_string()))?;
    ctx.dir("sglang-pr").map_err(|e| arc(e.to_string()))?;
    let mut top: Vec<String> = Vec::new();
    let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&gz[..]));
    for entry in archive.entries().map_err(|e| arc(e.to_string()))? {
        let mut entry = entry.map_err(|e| arc(e.to_string()))?;
        let path = entry.path().map_err(|e| arc(e.to_string()))?.into_owned();
        // GitHub archives hold one top folder `<owner>-<repo>-<sha>/`.
        let rel: std::path::PathBuf = path.components().skip(1).collect();
        let Some(rel_s) = rel.to_str().map(str::to_string) else {
            continue;
        };
        if rel_s.is_empty() || rel_s.split('/').any(|c| c == "..") {
            continue;
        }
        let first = rel_s.split('/').next().unwrap_or_default().to_string();
        let kind = entry.header().entry_type();
        let dest = format!("sglang-pr/{rel_s}");
        if kind.is_dir() {
            ctx.dir(&dest).map_err(|e| arc(e.to_string()))?;
        } else if kind.is_symlink() {
            if let Ok(Some(target)) = entry.link_name() {
                let t = target.display().to_string();
                ctx.symlink(&dest, &t).map_err(|e| arc(e.to_string()))?;
            }
        } else if kind.is_file() {
            let mode = entry.header().mode().unwrap_or(0o644);
            let mut data = Vec::new();
            entry
                .read_to_end(&mut data)
                .map_err(|e| arc(e.to_string()))?;
            ctx.file(&dest, &data, mode)
                .map_err(|e| arc(e.to_string()))?;
        } else {
            continue;
        }
        let shown = if kind.is_dir() || rel_s.contains('/') {
            format!("{first}/")
        } else {
            first
        };
        if !top.contains(&shown) {
            top.push(shown);
        }
    }
    if top.is_empty() {
        return Err(arc("the archive is empty".into()));
    }
    top.sort();
    Ok((ctx.finish().map_err(|e| arc(e.to_string()))?, top))
}

fn download_bytes(cfg: &UpstreamConfig, url: &str) -> Result<Vec<u8>, UpstreamError> {
    // The tarball endpoint redirects to codeload; ureq follows redirects. Bodies are binary,
    // so this does not use the text helper.
    let agent = http::agent(cfg.retry.timeout.max(Duration::from_secs(120)));
    let mut attempts = 0;
    loop {
        attempts += 1;
        let mut req = agent.get(url);
        for (k, v) in github_headers(cfg.github_token.as_deref()) {
            req = req.header(k, v.as_str());
        }
        let failure = match req.call() {
            Ok(mut r) if r.status().as_u16() == 200 => {
                return r
                    .body_mut()
                    .with_config()
                    .limit(2 << 30)
                    .read_to_vec()
                    .map_err(|e| UpstreamError::Download {
                        url: url.to_string(),
                        reason: e.to_string(),
                    });
            }
            Ok(r) if r.status().as_u16() < 500 && r.status().as_u16() != 429 => {
                return Err(UpstreamError::Download {
                    url: url.to_string(),
                    reason: format!("HTTP {}", r.status().as_u16()),
                });
            }
            Ok(r) => format!("HTTP {}", r.status().as_u16()),
            Err(e) => e.to_string(),
        };
        if attempts > cfg.retry.retries {
            return Err(UpstreamError::Download {
                url: url.to_string(),
                reason: failure,
            });
        }
        std::thread::sleep(cfg.retry.wait(attempts - 1, None));
    }
}

/// PR mode (§8.5): pull the base, read the PR, build `sglang-pr<N>` with the PR source at
/// `/sgl-workspace/sglang-pr`, tag `sglang-pr<N>-<sha8>`, start the work container
/// (`--container-name`, `sleep infinity`). `confirm` is asked when the PR is not open.
pub fn run_pr(
    cfg: &UpstreamConfig,
    pr: u32,
    engine: &BlockingEngine,
    registry: &RegistryClient,
    out: &mut dyn Write,
    confirm: &mut dyn FnMut(&str) -> bool,
) -> Result<UpstreamOutcome, UpstreamError> {
    let bar = "=".repeat(60);
    writeln!(out, "Mode: Pull base image and update with PR #{pr}")?;
    writeln!(out, "{bar}")?;
    writeln!(out, "STEP 1: PULLING PRE-BUILT DOCKER IMAGE")?;
    writeln!(out, "{bar}")?;
    let base = resolve_image(cfg, out)?;
    obtain_image(engine, registry, &base, cfg.pull_timeout, out)?;

    writeln!(out, "{bar}")?;
    writeln!(out, "STEP 2: FETCHING PR INFORMATION")?;
    writeln!(out, "{bar}")?;
    let info = fetch_pr(cfg, pr)?;
    let sha8: String = info.head_sha.chars().take(8).collect();
    writeln!(out, "PR Information:")?;
    writeln!(out, "  Title: {}", info.title)?;
    writeln!(out, "  State: {}", info.state)?;
    writeln!(
        out,
        "  Source branch: {} ({})",
        info.head_ref, info.clone_url
    )?;
    writeln!(out, "  Commit: {sha8}")?;
    writeln!(out, "  Target branch: {}", info.base_ref)?;
    if info.state != "open" && !cfg.yes {
        writeln!(out, "Warning: PR #{pr} is {}", info.state)?;
        out.flush()?;
        if !confirm("Continue anyway? (y/N): ") {
            writeln!(out, "Aborted by user")?;
            return Err(UpstreamError::Aborted {
                pr,
                state: info.state,
            });
        }
    }

    writeln!(out, "{bar}")?;
    writeln!(out, "STEP 3: BUILDING IMAGE WITH PR SOURCE")?;
    writeln!(out, "{bar}")?;
    writeln!(out, "Downloading PR source {}@{sha8}...", info.head_repo)?;
    let (context, top) = overlay_context(cfg, &base, pr, &info)?;
    let image = format!("sglang-pr{pr}");
    let sha_image = format!("sglang-pr{pr}-{sha8}");
    writeln!(
        out,
        "Building {image} FROM {base} (PR source at /sgl-workspace/sglang-pr)"
    )?;
    let labels = BTreeMap::from([(
        CREATED_BY_LABEL.to_string(),
        "build-sglang-docker".to_string(),
    )]);
    let mut write_err = None;
    engine.build_image(context, &image, &labels, cfg.build_timeout, |line| {
        if write_err.is_none()
            && let Err(e) = writeln!(out, "{line}")
        {
            write_err = Some(e);
        }
    })?;
    if let Some(e) = write_err {
        return Err(e.into());
    }
    engine.tag_image(&image, &sha_image)?;
    writeln!(out, "✓ Built {image} and tagged {sha_image}")?;
    writeln!(
        out,
        "PR checkout /sgl-workspace/sglang-pr contains: {}",
        top.join(" ")
    )?;
    for want in ["python/"] {
        if !top.iter().any(|t| t == want) {
            writeln!(out, "⚠ Warning: no {want} folder in the PR checkout")?;
        }
    }
    writeln!(
        out,
        "NOTE: the PR code is NOT installed; the image's /sgl-workspace/sglang package is unchanged (install it yourself, e.g. pip install -e /sgl-workspace/sglang-pr/python)"
    )?;

    writeln!(out, "{bar}")?;
    writeln!(out, "STEP 4: STARTING CONTAINER")?;
    writeln!(out, "{bar}")?;
    engine.remove_managed(&cfg.container_name, true)?;
    let mut spec = ContainerSpec::nightly(cfg.container_name.clone(), image.clone())
        .created_by("build-sglang-docker");
    spec.gpu_settings = false;
    spec.privileged = false;
    spec.devices.clear();
    spec.shm_size = "64m".into();
    spec.work_dir = Some("/sgl-workspace".into());
    spec.cmd = Some(vec!["sleep".into(), "infinity".into()]);
    engine.ensure_container(&spec)?;
    writeln!(out, "{bar}")?;
    writeln!(out, "BUILD COMPLETE - CONTAINER READY")?;
    writeln!(out, "{bar}")?;
    writeln!(out, "Image: {image} (also {sha_image})")?;
    writeln!(out, "Container: {} (running)", cfg.container_name)?;
    writeln!(
        out,
        "Enter it:  docker exec -it {} bash",
        cfg.container_name
    )?;
    writeln!(
        out,
        "Run anew:  docker run -it --rm --network=host --ipc=host --device=/dev/kfd --device=/dev/dri --group-add video {image} bash"
    )?;
    Ok(UpstreamOutcome {
        base_image: base,
        result_image: image,
        sha_image: Some(sha_image),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_branches() {
        assert!(is_version_branch("v0.4.9"));
        assert!(is_version_branch("v0.5.3rc0"));
        assert!(is_version_branch("v0.5.4.post1"));
        assert!(!is_version_branch("main"));
        assert!(!is_version_branch("v0.5"));
        assert!(!is_version_branch("feature/v0.1.2"));
    }

    #[test]
    fn usage_lines_in_both_generations() {
        let old = "# Usage (to build SGLang ROCm docker image):\n#   docker build --build-arg SGL_BRANCH=v0.4.9 -t v0.4.9-rocm630 -f Dockerfile.rocm .\n";
        assert_eq!(usage_tag(old).unwrap().1, "v0.4.9-rocm630");
        let new = "#   docker build --build-arg SGL_BRANCH=v0.5.6 -t v0.5.6-rocm700-mi30x -f rocm.Dockerfile .\n";
        assert_eq!(usage_tag(new).unwrap().1, "v0.5.6-rocm700-mi30x");
        assert_eq!(
            usage_tag("FROM x\nRUN docker build -f Dockerfile.rocm -t a .\n"),
            None
        );
        assert_eq!(fallback_tag("main"), "latest");
        assert_eq!(fallback_tag("v0.4.9"), "v0.4.9");
    }

    #[test]
    fn urls_per_branch() {
        let (u, note) = dockerfile_urls("main", DEFAULT_DOCKERFILE_URL, "https://raw.example");
        assert_eq!(u[0], DEFAULT_DOCKERFILE_URL);
        assert!(u[1].ends_with("docker/rocm.Dockerfile"));
        assert!(note.is_none());
        let (u, note) = dockerfile_urls("v0.4.9", DEFAULT_DOCKERFILE_URL, "https://raw.example/");
        assert_eq!(
            u[0],
            "https://raw.example/sgl-project/sglang/v0.4.9/docker/Dockerfile.rocm"
        );
        assert!(
            note.unwrap()
                .starts_with("Using branch-specific Dockerfile URL: ")
        );
        let (_, note) = dockerfile_urls("my/feature", DEFAULT_DOCKERFILE_URL, "x");
        assert_eq!(
            note.unwrap(),
            "Using main branch Dockerfile URL for non-version branch: my/feature"
        );
    }

    #[test]
    fn log_names() {
        use chrono::TimeZone;
        let now = Utc.with_ymd_and_hms(2025, 10, 30, 3, 4, 5).unwrap();
        assert_eq!(
            log_file_name(Some(12), "main", now),
            "pr12_20251029_200405.log"
        );
        assert_eq!(
            log_file_name(None, "release/v1", now),
            "release_v1_20251029_200405.log"
        );
    }
}
