//! Names derived from image references (spec benchmarks.md §1.1, nightly.md §2.2).

/// The three strings every original script derived from `--docker_image`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImageParts {
    /// Everything after the last `/` (the whole reference if none): `sgl-dev:v0.5.4-...`.
    pub image_with_tag: String,
    /// `image_with_tag` up to the first `:` (whole if none): `sgl-dev`.
    pub repo: String,
    /// `image_with_tag` after the first `:`; the whole `image_with_tag` when it has no `:`
    /// (so `sgl-dev` gives tag `sgl-dev`, as the original).
    pub tag: String,
}

impl ImageParts {
    /// Splits `image` by the original's rules.
    pub fn parse(image: &str) -> Self {
        let image_with_tag = image.rsplit_once('/').map_or(image, |(_, last)| last);
        let (repo, tag) = match image_with_tag.split_once(':') {
            Some((r, t)) => (r, t),
            None => (image_with_tag, image_with_tag),
        };
        Self {
            image_with_tag: image_with_tag.to_string(),
            repo: repo.to_string(),
            tag: tag.to_string(),
        }
    }

    /// The container name: `REPO_TAG` (`sgl-dev_v0.5.4.post1-rocm630-mi30x-20251029`).
    pub fn container_name(&self) -> String {
        format!("{}_{}", self.repo, self.tag)
    }
}

/// The container name of the benchmark scripts for `image` (`REPO_TAG`, spec §1.1).
pub fn container_name(image: &str) -> String {
    ImageParts::parse(image).container_name()
}

/// The container name `perf_nightly.sh` builds: last path component of `image_repo` (e.g.
/// `IMAGE_REPO=rocm/sgl-dev`), `_`, then `tag` with every `:` replaced by `_`. Identical to
/// [`container_name`] for real tags, so containers are shared between the two.
pub fn container_name_for(image_repo: &str, tag: &str) -> String {
    let last = image_repo.rsplit('/').next().unwrap_or(image_repo);
    format!("{last}_{}", tag.replace(':', "_"))
}

/// Splits a pullable reference into (repository, tag-or-digest) for the Engine API:
/// `rocm/sgl-dev:TAG` gives (`rocm/sgl-dev`, `TAG`); `registry:5000/x` gives (`registry:5000/x`,
/// `latest`); `x@sha256:...` gives (`x@sha256:...`, ``) (a digest is part of `fromImage`).
pub fn repo_and_tag(image: &str) -> (String, String) {
    if image.contains('@') {
        return (image.to_string(), String::new());
    }
    let last_slash = image.rfind('/').map_or(0, |i| i + 1);
    match image[last_slash..].rfind(':') {
        Some(i) => (
            image[..last_slash + i].to_string(),
            image[last_slash + i + 1..].to_string(),
        ),
        None => (image.to_string(), "latest".to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spec_examples() {
        let p = ImageParts::parse("rocm/sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029");
        assert_eq!(
            p.image_with_tag,
            "sgl-dev:v0.5.4.post1-rocm630-mi30x-20251029"
        );
        assert_eq!(p.repo, "sgl-dev");
        assert_eq!(p.tag, "v0.5.4.post1-rocm630-mi30x-20251029");
        assert_eq!(
            p.container_name(),
            "sgl-dev_v0.5.4.post1-rocm630-mi30x-20251029"
        );
        assert_eq!(
            container_name("lmsysorg/sglang:v0.4.7-rocm630"),
            "sglang_v0.4.7-rocm630"
        );
        assert_eq!(container_name("sgl-dev"), "sgl-dev_sgl-dev");
    }

    #[test]
    fn orchestrator_rule_matches_script_rule() {
        let tag = "v0.5.4.post1-rocm700-mi35x-20251029";
        assert_eq!(
            container_name_for("rocm/sgl-dev", tag),
            container_name(&format!("rocm/sgl-dev:{tag}"))
        );
        assert_eq!(container_name_for("rocm/sgl-dev", "a:b"), "sgl-dev_a_b");
    }

    #[test]
    fn pull_references() {
        assert_eq!(
            repo_and_tag("rocm/sgl-dev:T"),
            ("rocm/sgl-dev".into(), "T".into())
        );
        assert_eq!(
            repo_and_tag("localhost:5000/x"),
            ("localhost:5000/x".into(), "latest".into())
        );
        assert_eq!(repo_and_tag("busybox"), ("busybox".into(), "latest".into()));
        assert_eq!(repo_and_tag("x@sha256:ab").1, "");
    }
}
