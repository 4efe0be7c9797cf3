//! Images: presence, pull with progress, tag, remove, build from a tar context (legacy
//! builder, as the Engine API's `/build` without BuildKit), import of a root-filesystem tar.

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use bollard::body_full;
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateImageOptionsBuilder, ListImagesOptionsBuilder,
    RemoveImageOptionsBuilder, TagImageOptionsBuilder,
};
use bytes::Bytes;
use futures_util::StreamExt;

use crate::container::IMAGE_LABEL;
use crate::engine::Engine;
use crate::error::DockerError;
use crate::names::repo_and_tag;

/// One progress message of a pull (one line of `docker pull`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PullProgress {
    /// Layer id, when the message is about a layer.
    pub layer: Option<String>,
    /// `Pulling fs layer`, `Downloading`, `Pull complete`, `Status: Downloaded newer image ...`.
    pub status: String,
    /// Bytes done, when known.
    pub current: Option<i64>,
    /// Bytes in total, when known.
    pub total: Option<i64>,
}

impl Engine {
    /// Whether `image` (a reference or an id) is present locally.
    pub async fn image_exists(&self, image: &str) -> Result<bool, DockerError> {
        let what = format!("inspect image {image}");
        match self.call(&what, self.docker.inspect_image(image)).await {
            Ok(_) => Ok(true),
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(false),
            Err(e) => Err(e),
        }
    }

    /// The image's id and labels, `None` when absent.
    pub async fn image_labels(
        &self,
        image: &str,
    ) -> Result<Option<(String, BTreeMap<String, String>)>, DockerError> {
        let what = format!("inspect image {image}");
        match self.call(&what, self.docker.inspect_image(image)).await {
            Ok(i) => Ok(Some((
                i.id.unwrap_or_default(),
                i.config
                    .and_then(|c| c.labels)
                    .unwrap_or_default()
                    .into_iter()
                    .collect(),
            ))),
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Pulls `image`, calling `on_progress` for every message, within `limit`. Errors are
    /// [`DockerError::PullFailed`] with the daemon's message (no network, unknown image, no
    /// access) or [`DockerError::Timeout`].
    pub async fn pull<F>(
        &self,
        image: &str,
        limit: Duration,
        mut on_progress: F,
    ) -> Result<(), DockerError>
    where
        F: FnMut(&PullProgress),
    {
        let (repo, tag) = repo_and_tag(image);
        let mut opts = CreateImageOptionsBuilder::new().from_image(&repo);
        if !tag.is_empty() {
            opts = opts.tag(&tag);
        }
        let opts = opts.build();
        let mut stream = self.docker.create_image(Some(opts), None, None);
        let work = async {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        if let Some(detail) = info.error_detail.and_then(|d| d.message) {
                            return Err(DockerError::PullFailed {
                                image: image.to_string(),
                                message: detail,
                            });
                        }
                        let p = PullProgress {
                            layer: info.id,
                            status: info.status.unwrap_or_default(),
                            current: info.progress_detail.as_ref().and_then(|d| d.current),
                            total: info.progress_detail.as_ref().and_then(|d| d.total),
                        };
                        on_progress(&p);
                    }
                    Err(e) => {
                        return Err(match self.classify(e, &format!("pull {image}")) {
                            DockerError::Api { message, .. } => DockerError::PullFailed {
                                image: image.to_string(),
                                message,
                            },
                            other => other,
                        });
                    }
                }
            }
            Ok(())
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r,
            Err(_) => Err(self.timeout_error(&format!("pull {image}"), limit)),
        }
    }

    /// `docker tag SOURCE TARGET` (`TARGET` = `repo[:tag]`, tag `latest` when absent).
    pub async fn tag_image(&self, source: &str, target: &str) -> Result<(), DockerError> {
        let (repo, tag) = repo_and_tag(target);
        let opts = TagImageOptionsBuilder::new().repo(&repo).tag(&tag).build();
        let what = format!("tag {source} as {target}");
        match self
            .call(&what, self.docker.tag_image(source, Some(opts)))
            .await
        {
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Err(DockerError::ImageMissing {
                image: source.to_string(),
            }),
            other => other,
        }
    }

    /// Removes an image reference (`force` also when containers use it). Absent is not an
    /// error.
    pub async fn remove_image(&self, image: &str, force: bool) -> Result<(), DockerError> {
        let opts = RemoveImageOptionsBuilder::new().force(force).build();
        let what = format!("remove image {image}");
        match self
            .call(&what, self.docker.remove_image(image, Some(opts), None))
            .await
        {
            Ok(_) => Ok(()),
            Err(DockerError::Api {
                status: Some(404), ..
            }) => Ok(()),
            Err(e) => Err(e),
        }
    }

    /// References (`repo:tag`) of the images that carry [`IMAGE_LABEL`].
    pub async fn list_managed_images(&self) -> Result<Vec<String>, DockerError> {
        let filters: HashMap<&str, Vec<&str>> = HashMap::from([("label", vec![IMAGE_LABEL])]);
        let opts = ListImagesOptionsBuilder::new().filters(&filters).build();
        let list = self
            .call("list images", self.docker.list_images(Some(opts)))
            .await?;
        Ok(list
            .into_iter()
            .filter(|i| i.labels.contains_key(IMAGE_LABEL))
            .flat_map(|i| i.repo_tags)
            .filter(|t| t != "<none>:<none>")
            .collect())
    }

    /// Builds `tag` from a tar build context (see [`crate::BuildContext`]) with the legacy
    /// builder; `on_line` gets every output line (`Step 1/3 : FROM ...`). [`IMAGE_LABEL`] is
    /// added to `labels`. Returns the image id.
    pub async fn build_image<F>(
        &self,
        context_tar: Vec<u8>,
        tag: &str,
        labels: &BTreeMap<String, String>,
        limit: Duration,
        mut on_line: F,
    ) -> Result<String, DockerError>
    where
        F: FnMut(&str),
    {
        let mut all_labels: HashMap<String, String> =
            labels.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        all_labels.insert(IMAGE_LABEL.to_string(), "true".to_string());
        let opts = BuildImageOptionsBuilder::new()
            .dockerfile("Dockerfile")
            .t(tag)
            .rm(true)
            .forcerm(true)
            .labels(&all_labels)
            .build();
        let mut stream =
            self.docker
                .build_image(opts, None, Some(body_full(Bytes::from(context_tar))));
        let mut id = None;
        let mut tail: Vec<String> = Vec::new();
        let work = async {
            while let Some(item) = stream.next().await {
                match item {
                    Ok(info) => {
                        if let Some(msg) = info.error_detail.and_then(|d| d.message) {
                            return Err(DockerError::BuildFailed {
                                tag: tag.to_string(),
                                message: last_lines(&tail, &msg),
                            });
                        }
                        if let Some(s) = info.stream {
                            for line in s.lines().filter(|l| !l.trim().is_empty()) {
                                on_line(line);
                                tail.push(line.to_string());
                                if tail.len() > 5 {
                                    tail.remove(0);
                                }
                            }
                        }
                        if let Some(aux) = info.aux.and_then(|a| a.id) {
                            id = Some(aux);
                        }
                    }
                    Err(e) => {
                        return Err(match self.classify(e, &format!("build {tag}")) {
                            DockerError::Api { message, .. } => DockerError::BuildFailed {
                                tag: tag.to_string(),
                                message: last_lines(&tail, &message),
                            },
                            other => other,
                        });
                    }
                }
            }
            Ok(())
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r?,
            Err(_) => return Err(self.timeout_error(&format!("build {tag}"), limit)),
        }
        match id {
            Some(id) => Ok(id),
            None => self
                .image_labels(tag)
                .await?
                .map(|(id, _)| id)
                .ok_or_else(|| DockerError::BuildFailed {
                    tag: tag.to_string(),
                    message: "the builder finished without producing the image".into(),
                }),
        }
    }

    /// `docker import`: creates image `reference` from a root-filesystem tar, with Dockerfile
    /// `changes` such as `CMD ["/bin/app"]` or `LABEL k=v`.
    pub async fn import_rootfs(
        &self,
        rootfs_tar: Vec<u8>,
        reference: &str,
        changes: &[String],
        limit: Duration,
    ) -> Result<(), DockerError> {
        let (repo, tag) = repo_and_tag(reference);
        let mut opts = CreateImageOptionsBuilder::new()
            .from_src("-")
            .repo(&repo)
            .tag(&tag);
        if !changes.is_empty() {
            opts = opts.changes(changes.to_vec());
        }
        let mut stream = self.docker.create_image(
            Some(opts.build()),
            Some(body_full(Bytes::from(rootfs_tar))),
            None,
        );
        let what = format!("import {reference}");
        let work = async {
            while let Some(item) = stream.next().await {
                let info = item.map_err(|e| self.classify(e, &what))?;
                if let Some(msg) = info.error_detail.and_then(|d| d.message) {
                    return Err(DockerError::Api {
                        what: what.clone(),
                        status: None,
                        message: msg,
                    });
                }
            }
            Ok(())
        };
        match tokio::time::timeout(limit, work).await {
            Ok(r) => r,
            Err(_) => Err(self.timeout_error(&what, limit)),
        }
    }
}

fn last_lines(tail: &[String], msg: &str) -> String {
    let mut parts: Vec<&str> = tail.iter().map(|s| s.trim()).collect();
    parts.push(msg.trim());
    parts.join(" | ")
}
