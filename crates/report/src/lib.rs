//! Typed records to files: the legacy per-run CSVs byte for byte, the best-run rule, history
//! consolidation, plots and regression analysis; plus secret masking for everything written.

pub mod atomic;
pub mod best_run;
#[cfg(feature = "history")]
pub mod history;
pub mod offline_csv;
pub mod online_csv;
pub mod redact;
pub mod run_folder;
