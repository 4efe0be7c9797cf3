//! Plot upload to the repository's `log` branch through the GitHub contents API (spec §3.10),
//! with the fixes of §11.1: a timeout on every call (B8), the branch checked once per run
//! (B8), a `409` (another job changed the file) answered by fetching the file's new `sha` and
//! trying again. The API base is `GITHUB_API_URL` (default `https://api.github.com`), so tests
//! talk to a local stand-in. The token never appears in any message.

use std::cell::Cell;
use std::path::Path;
use std::time::Duration;

use base64::Engine as _;
use serde_json::{Value, json};

/// Default API base.
pub const DEFAULT_API_URL: &str = "https://api.github.com";
/// How many times a `409` is answered by a refetch and a new `PUT`.
const CONFLICT_RETRIES: u32 = 3;

/// Why an upload failed (one line, no token).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum GitHubError {
    /// The `log` branch does not exist and could not be created.
    #[error("cannot use the log branch of {repo}: {why}")]
    Branch {
        /// `owner/repo`.
        repo: String,
        /// What failed.
        why: String,
    },
    /// The `PUT` was refused.
    #[error("GitHub upload of {path} failed: HTTP {status}: {body}")]
    Rejected {
        /// Repository path.
        path: String,
        /// Status.
        status: u16,
        /// First 200 characters of the answer.
        body: String,
    },
    /// No answer (timeout, connection).
    #[error("GitHub did not answer ({url}): {why}")]
    Transport {
        /// The API URL (no token in it).
        url: String,
        /// What failed.
        why: String,
    },
    /// The plot file could not be read.
    #[error("cannot read {path}: {why}")]
    Read {
        /// Local file.
        path: String,
        /// Cause.
        why: String,
    },
}

/// A GitHub repository that plots are uploaded to.
pub struct GitHub {
    api: String,
    repo: String,
    token: String,
    agent: ureq::Agent,
    branch_ready: Cell<bool>,
}

impl std::fmt::Debug for GitHub {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GitHub")
            .field("api", &self.api)
            .field("repo", &self.repo)
            .finish_non_exhaustive()
    }
}

struct Answer {
    status: u16,
    body: String,
}

impl GitHub {
    /// A client for `repo` at `api` (no trailing `/`), each call limited to `timeout`.
    pub fn new(api: &str, repo: &str, token: &str, timeout: Duration) -> Self {
        let agent = ureq::Agent::config_builder()
            .timeout_global(Some(timeout))
            .http_status_as_error(false)
            .user_agent(concat!("sglang-ci/", env!("CARGO_PKG_VERSION")))
            .build()
            .into();
        Self {
            api: api.trim_end_matches('/').to_owned(),
            repo: repo.to_owned(),
            token: token.to_owned(),
            agent,
            branch_ready: Cell::new(false),
        }
    }

    /// `https://github.com/<repo>/blob/log/<path>`.
    pub fn public_url(&self, path: &str) -> String {
        format!("https://github.com/{}/blob/log/{path}", self.repo)
    }

    fn call(&self, method: &str, url: &str, body: Option<&Value>) -> Result<Answer, GitHubError> {
        let auth = format!("token {}", self.token);
        let accept = "application/vnd.github.v3+json";
        let result = match (method, body) {
            ("GET", _) => self
                .agent
                .get(url)
                .header("Authorization", &auth)
                .header("Accept", accept)
                .call(),
            ("POST", Some(b)) => self
                .agent
                .post(url)
                .header("Authorization", &auth)
                .header("Accept", accept)
                .send_json(b),
            (_, b) => self
                .agent
                .put(url)
                .header("Authorization", &auth)
                .header("Accept", accept)
                .send_json(b.unwrap_or(&Value::Null)),
        };
        let mut resp = result.map_err(|e| GitHubError::Transport {
            url: url.to_owned(),
            why: report::redact::redact_with(&e.to_string(), std::slice::from_ref(&self.token))
                .into_owned(),
        })?;
        let status = resp.status().as_u16();
        let body = resp
            .body_mut()
            .with_config()
            .limit(16 << 20)
            .read_to_string()
            .unwrap_or_default();
        Ok(Answer { status, body })
    }

    /// Makes sure the `log` branch exists (once per client).
    pub fn ensure_log_branch(&self, say: &mut dyn FnMut(String)) -> Result<(), GitHubError> {
        if self.branch_ready.get() {
            return Ok(());
        }
        let base = format!("{}/repos/{}", self.api, self.repo);
        let err = |why: String| GitHubError::Branch {
            repo: self.repo.clone(),
            why,
        };
        let a = self.call("GET", &format!("{base}/branches/log"), None)?;
        match a.status {
            200 => say("   📋 Log branch already exists".into()),
            404 => {
                say("   📋 Creating log branch...".into());
                let main = self.call("GET", &format!("{base}/git/refs/heads/main"), None)?;
                if main.status != 200 {
                    return Err(err(format!(
                        "cannot read the main branch: HTTP {}",
                        main.status
                    )));
                }
                let sha = serde_json::from_str::<Value>(&main.body)
                    .ok()
                    .and_then(|v| v["object"]["sha"].as_str().map(str::to_owned))
                    .ok_or_else(|| err("the main branch has no sha".into()))?;
                let body = json!({"ref": "refs/heads/log", "sha": sha});
                let made = self.call("POST", &format!("{base}/git/refs"), Some(&body))?;
                // 422: another job created it in the meantime.
                if made.status != 201 && made.status != 422 {
                    return Err(err(format!("cannot create it: HTTP {}", made.status)));
                }
                say("   ✅ Created log branch successfully".into());
            }
            s => return Err(err(format!("checking it answered HTTP {s}"))),
        }
        self.branch_ready.set(true);
        Ok(())
    }

    fn current_sha(&self, url: &str) -> Result<Option<String>, GitHubError> {
        let a = self.call("GET", &format!("{url}?ref=log"), None)?;
        Ok((a.status == 200)
            .then(|| serde_json::from_str::<Value>(&a.body).ok())
            .flatten()
            .and_then(|v| v["sha"].as_str().map(str::to_owned)))
    }

    /// Uploads `local` to `log:<path>` with commit message `message`; returns the public URL.
    pub fn upload(
        &self,
        local: &Path,
        path: &str,
        message: &str,
        say: &mut dyn FnMut(String),
    ) -> Result<String, GitHubError> {
        let name = local
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        say(format!("   🔍 Uploading {name} to GitHub..."));
        let bytes = std::fs::read(local).map_err(|e| GitHubError::Read {
            path: local.display().to_string(),
            why: e.to_string(),
        })?;
        let content = base64::engine::general_purpose::STANDARD.encode(bytes);
        self.ensure_log_branch(say)?;
        let url = format!("{}/repos/{}/contents/{path}", self.api, self.repo);
        let mut sha = self.current_sha(&url)?;
        match &sha {
            Some(_) => say(format!("   📝 Updating existing file: {path}")),
            None => say(format!("   📄 Creating new file: {path}")),
        }
        let mut conflicts = 0;
        loop {
            let mut body = json!({"message": message, "content": content, "branch": "log"});
            if let Some(s) = &sha {
                body["sha"] = Value::String(s.clone());
            }
            let a = self.call("PUT", &url, Some(&body))?;
            match a.status {
                200 | 201 => {
                    let public = self.public_url(path);
                    say(format!("   ✅ Uploaded to GitHub (log branch): {name}"));
                    say(format!("   🔗 GitHub URL: {public}"));
                    return Ok(public);
                }
                409 if conflicts < CONFLICT_RETRIES => {
                    conflicts += 1;
                    say(format!(
                        "   🔁 GitHub answered 409 (the file changed meanwhile): fetching its new sha, try {}",
                        conflicts + 1
                    ));
                    sha = self.current_sha(&url)?;
                }
                status => {
                    let body: String = a.body.chars().take(200).collect();
                    say(format!("   ❌ GitHub upload failed: {status}"));
                    say(format!("   📄 Response: {body}..."));
                    return Err(GitHubError::Rejected {
                        path: path.to_owned(),
                        status,
                        body,
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use teams::testkit::{Receiver, Reply};

    #[test]
    fn conflict_is_answered_by_a_refetch_and_a_second_put() {
        let r = Receiver::start(vec![
            Reply::status(200),                                       // branches/log
            Reply::status(404),                                       // contents (new file)
            Reply::status(409).body(r#"{"message":"sha mismatch"}"#), // PUT
            Reply::status(200).body(r#"{"sha":"abc123"}"#),           // contents again
            Reply::status(201).body("{}"),                            // PUT
        ]);
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("20251105_GROK1_online_standard.png");
        std::fs::write(&f, b"\x89PNG").unwrap();
        let token = format!("ghp_{}", "t".repeat(36));
        let gh = GitHub::new(&r.url(""), "ROCm/sglang-ci", &token, Duration::from_secs(2));
        let mut lines = Vec::new();
        let url = gh
            .upload(
                &f,
                "plot/mi30x/GROK1/online/20251105_GROK1_online_standard.png",
                "Add grok online plot",
                &mut |l| lines.push(l),
            )
            .unwrap();
        assert_eq!(
            url,
            "https://github.com/ROCm/sglang-ci/blob/log/plot/mi30x/GROK1/online/20251105_GROK1_online_standard.png"
        );
        let posts = r.posts();
        let calls: Vec<String> = posts
            .iter()
            .map(|p| format!("{} {}", p.method, p.path))
            .collect();
        assert_eq!(
            calls,
            [
                "GET /repos/ROCm/sglang-ci/branches/log",
                "GET /repos/ROCm/sglang-ci/contents/plot/mi30x/GROK1/online/20251105_GROK1_online_standard.png?ref=log",
                "PUT /repos/ROCm/sglang-ci/contents/plot/mi30x/GROK1/online/20251105_GROK1_online_standard.png",
                "GET /repos/ROCm/sglang-ci/contents/plot/mi30x/GROK1/online/20251105_GROK1_online_standard.png?ref=log",
                "PUT /repos/ROCm/sglang-ci/contents/plot/mi30x/GROK1/online/20251105_GROK1_online_standard.png",
            ]
        );
        assert_eq!(
            posts[0].header("authorization"),
            Some(format!("token {token}").as_str())
        );
        assert_eq!(posts[2].json()["content"], "iVBORw==");
        assert_eq!(posts[2].json()["branch"], "log");
        assert!(posts[2].json().get("sha").is_none());
        assert_eq!(posts[4].json()["sha"], "abc123");
        assert!(lines.iter().all(|l| !l.contains(&token)));
        // A second plot: the branch is not checked again.
        let f2 = d.path().join("20251105_GROK1_online_all.png");
        std::fs::write(&f2, b"x").unwrap();
        gh.upload(&f2, "plot/x/all.png", "m", &mut |_| {}).unwrap();
        let calls = r.posts().len();
        assert_eq!(calls, 7, "GET contents + PUT only");
    }

    #[test]
    fn a_silent_api_ends_with_a_timeout() {
        let r = Receiver::start(vec![Reply::Hang]);
        let d = tempfile::tempdir().unwrap();
        let f = d.path().join("p.png");
        std::fs::write(&f, b"x").unwrap();
        let gh = GitHub::new(&r.url(""), "o/r", "tok", Duration::from_millis(500));
        let t = std::time::Instant::now();
        let e = gh.upload(&f, "plot/p.png", "m", &mut |_| {}).unwrap_err();
        assert!(matches!(e, GitHubError::Transport { .. }), "{e:?}");
        assert!(t.elapsed() < Duration::from_secs(5));
    }
}
