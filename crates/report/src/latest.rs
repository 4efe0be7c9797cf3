//! The newest run folder per model and mode of a benchmark tree, with its key numbers (the
//! `latest-results` binary): run folders are found by their name
//! (`<tag>_<MODEL>_<VARIANT>_online[<suffix>]`, [`RunFolderName`]) anywhere below the root,
//! read with [`RunFolder::load`] and their CSV rebuilt from the client logs with
//! [`RunFolder::rebuild`] (the same numbers `rebuild-csv` prints); no other parser.
//!
//! "Newest" is the image date at the end of the tag (`…-20251029`), then the tag, then the
//! folder name; `.backup_<ts>` copies are never the newest. One entry per hardware (from the
//! tag, else the newest timing summary's `Hardware:` line), model, variant and mode.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use metrics_parse::legacy_csv::OnlineKind;
use serde::Serialize;

use crate::online_csv::Cell;
use crate::run_folder::{RebuildOptions, RunFolder, RunFolderError, RunFolderName};

/// How deep below the root run folders are looked for (`<ci>/online/<MODEL>/<run>` is 3,
/// the log branch's `online_benchmark_log/<hw>/<MODEL>/<run>` is 4).
pub const MAX_DEPTH: usize = 5;

/// Why the tree could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LatestError {
    /// The root (or a folder below it) could not be listed.
    #[error("cannot read {}: {source}", path.display())]
    Unreadable {
        /// The folder.
        path: PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
}

/// One load's medians (ms) in the rebuilt CSV; `None` where the CSV cell is empty or `NA`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LoadNumbers {
    /// The request rate or concurrency as written in the CSV header.
    pub load: String,
    /// Median end-to-end latency.
    pub median_e2e_ms: Option<f64>,
    /// Median time to first token.
    pub median_ttft_ms: Option<f64>,
    /// Median inter-token latency.
    pub median_itl_ms: Option<f64>,
}

/// The newest run folder of one hardware, model, variant and mode.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LatestRun {
    /// `mi30x`, `mi35x`, or `null` when neither the tag nor a timing summary says.
    pub hardware: Option<String>,
    /// `<MODEL_NAME>` (`GROK1`, `DeepSeek-V3-0324`).
    pub model: String,
    /// `<VARIANT>` (`MOE-I4F8`, `FP8`).
    pub variant: String,
    /// `online`, `online_dp_attention`, `online_mtp_test`, …
    pub mode: String,
    /// The docker tag.
    pub tag: String,
    /// The image date of the tag (`YYYYMMDD`).
    pub image_date: Option<String>,
    /// The run folder.
    pub folder: PathBuf,
    /// `request_rate` (Grok) or `concurrency` (DeepSeek).
    pub load_metric: &'static str,
    /// Every timing summary of the folder says the run completed.
    pub complete: bool,
    /// The newest timing summary's GSM8K average accuracy, as printed.
    pub gsm8k_accuracy: Option<String>,
    /// Run folders of the same key that are older (this one won).
    pub older_runs: usize,
    /// The medians per load, in the CSV's column order.
    pub loads: Vec<LoadNumbers>,
}

/// What [`latest`] found.
#[derive(Debug, Clone, Default)]
pub struct Latest {
    /// One entry per key, sorted by hardware, model, variant, mode.
    pub runs: Vec<LatestRun>,
    /// Folders that look like run folders but could not be read (one line each, naming it).
    pub skipped: Vec<String>,
}

/// The run folders below `root` (not below a run folder, at most [`MAX_DEPTH`] levels, no
/// symbolic links followed), sorted.
pub fn find_run_folders(root: &Path) -> Result<Vec<PathBuf>, LatestError> {
    let mut out = Vec::new();
    walk(root, 0, &mut out)?;
    out.sort();
    Ok(out)
}

fn walk(dir: &Path, depth: usize, out: &mut Vec<PathBuf>) -> Result<(), LatestError> {
    let unreadable = |source| LatestError::Unreadable {
        path: dir.to_owned(),
        source,
    };
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let Ok(ft) = entry.file_type() else { continue };
        if !ft.is_dir() {
            continue;
        }
        let path = entry.path();
        let is_run = entry
            .file_name()
            .to_str()
            .and_then(RunFolderName::parse)
            .is_some();
        if is_run {
            out.push(path);
        } else if depth + 1 < MAX_DEPTH {
            // A subfolder we may not read is not the whole tree's failure.
            let _ = walk(&path, depth + 1, out);
        }
    }
    Ok(())
}

/// The image date at the end of a tag (`v0.5.4.post1-rocm630-mi30x-20251029` → `20251029`).
fn image_date(tag: &str) -> Option<String> {
    let last = tag.rsplit('-').next()?;
    (last.len() == 8 && last.bytes().all(|b| b.is_ascii_digit())).then(|| last.to_owned())
}

/// The hardware token of a tag (`mi30x`, `mi35x`).
fn tag_hardware(tag: &str) -> Option<String> {
    tag.split('-')
        .find(|p| p.starts_with("mi3") && p.ends_with('x'))
        .map(str::to_owned)
}

fn number(c: &Cell) -> Option<f64> {
    match c {
        Cell::Value(v) => v.trim().parse().ok(),
        Cell::Na | Cell::Empty => None,
    }
}

/// Reads one run folder into its entry (`older_runs` 0).
fn read_one(dir: &Path, name: &RunFolderName) -> Result<LatestRun, RunFolderError> {
    let folder = RunFolder::load(dir)?;
    let rebuild = folder.rebuild(&RebuildOptions::default())?;
    let newest = folder
        .summaries
        .iter()
        .max_by(|a, b| a.file_name.cmp(&b.file_name));
    let hardware = tag_hardware(&name.tag).or_else(|| {
        newest
            .and_then(|s| s.summary.header.hardware.clone())
            .filter(|h| !h.trim().is_empty())
    });
    let gsm8k_accuracy = newest.and_then(|s| {
        s.summary.gsm8k.iter().rev().find_map(|g| {
            g.average_accuracy
                .clone()
                .or_else(|| g.accuracy_required.as_ref().map(|(a, _)| a.clone()))
        })
    });
    Ok(LatestRun {
        hardware,
        model: name.model.clone(),
        variant: name.variant.clone(),
        mode: format!("online{}", name.suffix),
        tag: name.tag.clone(),
        image_date: image_date(&name.tag),
        folder: dir.to_owned(),
        load_metric: match folder.kind {
            OnlineKind::RequestRate => "request_rate",
            OnlineKind::Concurrency => "concurrency",
        },
        complete: !folder.summaries.is_empty()
            && folder.summaries.iter().all(|s| s.summary.complete()),
        gsm8k_accuracy,
        older_runs: 0,
        loads: rebuild
            .table
            .loads
            .iter()
            .map(|l| LoadNumbers {
                load: l.load.clone(),
                median_e2e_ms: number(&l.e2e),
                median_ttft_ms: number(&l.ttft),
                median_itl_ms: number(&l.itl),
            })
            .collect(),
    })
}

/// The newest run folder per hardware, model, variant and mode below `root`, with its key
/// numbers. A newest folder that cannot be read is reported in [`Latest::skipped`] and the
/// next newest of its key is used.
pub fn latest(root: &Path) -> Result<Latest, LatestError> {
    type Key = (String, String, String);
    let mut groups: BTreeMap<Key, Vec<(PathBuf, RunFolderName)>> = BTreeMap::new();
    for dir in find_run_folders(root)? {
        let Some(name) = dir
            .file_name()
            .and_then(|n| n.to_str())
            .and_then(RunFolderName::parse)
        else {
            continue;
        };
        if name.backup.is_some() {
            continue;
        }
        let key = (
            name.model.clone(),
            name.variant.clone(),
            format!("online{}", name.suffix),
        );
        groups.entry(key).or_default().push((dir, name));
    }
    let mut out = Latest::default();
    for (_, mut runs) in groups {
        // Newest first: image date, tag, folder name.
        runs.sort_by(|(da, a), (db, b)| {
            (image_date(&b.tag), &b.tag, db).cmp(&(image_date(&a.tag), &a.tag, da))
        });
        // One entry per hardware of this model and mode.
        let mut per_hw: BTreeMap<Option<String>, LatestRun> = BTreeMap::new();
        for (dir, name) in &runs {
            let hw_of_tag = tag_hardware(&name.tag);
            if let Some(hw) = &hw_of_tag
                && let Some(won) = per_hw.get_mut(&Some(hw.clone()))
            {
                won.older_runs += 1;
                continue;
            }
            match read_one(dir, name) {
                Ok(run) => match per_hw.get_mut(&run.hardware) {
                    Some(won) => won.older_runs += 1,
                    None => {
                        per_hw.insert(run.hardware.clone(), run);
                    }
                },
                Err(e) => out.skipped.push(format!("{}: {e}", dir.display())),
            }
        }
        out.runs.extend(per_hw.into_values());
    }
    out.runs.sort_by(|a, b| {
        (&a.hardware, &a.model, &a.variant, &a.mode).cmp(&(
            &b.hardware,
            &b.model,
            &b.variant,
            &b.mode,
        ))
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_give_their_date_and_hardware() {
        let t = "v0.5.4.post1-rocm630-mi30x-20251029";
        assert_eq!(image_date(t).as_deref(), Some("20251029"));
        assert_eq!(tag_hardware(t).as_deref(), Some("mi30x"));
        assert_eq!(image_date("latest"), None);
        assert_eq!(tag_hardware("v0.4.7-rocm630"), None);
    }
}
