//! The tree walk: which folders and files are runs, in either layout — the benchmark folder
//! (`$SGL_BENCHMARK_CI_DIR`: `online/<MODEL>/<run>/`, `offline/…`, `cron/cron_log/<hw>/<date>/`,
//! `test/…`, `plots_server/<MODEL>/<mode>/`) or the log branch the nodes upload to
//! (`online_benchmark_log/<hw>/<MODEL>/<run>/`, `cron_log/<hw>/<date>/`, `test/…`,
//! `plot/<hw>/<MODEL>/<mode>/`).

use std::path::{Path, PathBuf};

use crate::error::IngestError;
use crate::extract::{Skipped, Unit, rel_path, ymd};
use crate::model::RunKind;

/// The runs found in a tree.
#[derive(Debug, Default)]
pub struct Scan {
    /// Runs, in path order.
    pub units: Vec<Unit>,
    /// Folders that sit where a run should be but are not one (unknown names, stray files).
    pub skipped: Vec<Skipped>,
}

fn entries(dir: &Path) -> Vec<(String, PathBuf, bool)> {
    let mut v: Vec<(String, PathBuf, bool)> = match std::fs::read_dir(dir) {
        Ok(rd) => rd
            .flatten()
            .map(|e| {
                let is_dir = e.file_type().is_ok_and(|t| t.is_dir());
                (
                    e.file_name().to_string_lossy().into_owned(),
                    e.path(),
                    is_dir,
                )
            })
            .collect(),
        Err(_) => Vec::new(),
    };
    v.sort();
    v
}

fn subdirs(dir: &Path) -> Vec<(String, PathBuf)> {
    entries(dir)
        .into_iter()
        .filter(|(_, _, d)| *d)
        .map(|(n, p, _)| (n, p))
        .collect()
}

struct Walker<'a> {
    root: &'a Path,
    scan: Scan,
}

impl Walker<'_> {
    fn unit(&mut self, kind: RunKind, abs: PathBuf, hardware: Option<&str>, model: Option<&str>) {
        self.scan.units.push(Unit {
            kind,
            rel: rel_path(self.root, &abs),
            abs,
            hardware: hardware.map(str::to_owned),
            model_dir: model.map(str::to_owned),
        });
    }

    /// `<MODEL>/<run>/` below `dir`.
    fn model_runs(&mut self, kind: RunKind, dir: &Path, hardware: Option<&str>) {
        for (model, mdir) in subdirs(dir) {
            for (_, run) in subdirs(&mdir) {
                self.unit(kind, run, hardware, Some(&model));
            }
        }
    }

    /// `<hw>/<date>/` below `dir`.
    fn nights(&mut self, dir: &Path) {
        for (hw, hdir) in subdirs(dir) {
            for (date, ddir) in subdirs(&hdir) {
                if ymd(&date).is_some() {
                    self.unit(RunKind::Night, ddir, Some(&hw), None);
                } else {
                    self.scan.skipped.push(Skipped {
                        path: rel_path(self.root, &ddir),
                        reason: "unknown folder name: a cron-log folder must be named YYYYMMDD; not stored".into(),
                    });
                }
            }
        }
    }

    /// `<hw>/<tag>/` below `dir`.
    fn tag_folders(&mut self, kind: RunKind, dir: &Path) {
        for (hw, hdir) in subdirs(dir) {
            for (_, tdir) in subdirs(&hdir) {
                self.unit(kind, tdir, Some(&hw), None);
            }
        }
    }
}

/// Walks `root`. `Err` only when the root cannot be read or holds no known area.
pub fn scan(root: &Path) -> Result<Scan, IngestError> {
    std::fs::read_dir(root).map_err(|source| IngestError::Unreadable {
        path: root.to_owned(),
        source,
    })?;
    let mut w = Walker {
        root,
        scan: Scan::default(),
    };
    let mut areas = 0;
    let area = |p: &str| {
        let d = root.join(p);
        d.is_dir().then_some(d)
    };
    if let Some(d) = area("online_benchmark_log") {
        areas += 1;
        for (hw, hdir) in subdirs(&d) {
            w.model_runs(RunKind::Online, &hdir, Some(&hw));
        }
    }
    if let Some(d) = area("online") {
        areas += 1;
        w.model_runs(RunKind::Online, &d, None);
    }
    if let Some(d) = area("offline") {
        areas += 1;
        w.model_runs(RunKind::Offline, &d, None);
    }
    for p in ["cron_log", "cron/cron_log"] {
        if let Some(d) = area(p) {
            areas += 1;
            w.nights(&d);
        }
    }
    if let Some(d) = area("test/sanity_check_log") {
        areas += 1;
        w.tag_folders(RunKind::Sanity, &d);
    }
    if let Some(d) = area("test/pd/pd_log") {
        areas += 1;
        w.tag_folders(RunKind::Pd, &d);
    }
    if let Some(d) = area("test/unit-test-backend-8-gpu-CAR-amd") {
        areas += 1;
        for (name, p, is_dir) in entries(&d) {
            if is_dir {
                for (_, f, sub_dir) in entries(&p) {
                    if !sub_dir {
                        w.unit(RunKind::UnitTest, f, Some(&name), None);
                    }
                }
            } else {
                w.unit(RunKind::UnitTest, p, None, None);
            }
        }
    }
    if let Some(d) = area("plot") {
        areas += 1;
        for (hw, hdir) in subdirs(&d) {
            for (model, mdir) in subdirs(&hdir) {
                for (_, pdir) in subdirs(&mdir) {
                    w.unit(RunKind::Plots, pdir, Some(&hw), Some(&model));
                }
            }
        }
    }
    if let Some(d) = area("plots_server") {
        areas += 1;
        w.model_runs(RunKind::Plots, &d, None);
    }
    if areas == 0 {
        return Err(IngestError::NoAreas(root.to_owned()));
    }
    Ok(w.scan)
}
