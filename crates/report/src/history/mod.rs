//! History consolidation and trend plots (feature `history`): the ports of
//! `process_and_generate_online_plots.py` ([`online`]) and
//! `process_and_generate_offline_plots.py` ([`offline`]).
//!
//! Run folders of the last N days are read into one frame (polars), completed with the GSM8K
//! and KV-cache facts of each folder (parsed by `metrics_parse`), filtered for complete
//! dates, written as the summary CSV the dashboard and history rely on, and drawn with
//! plotters ([`plot`]). With `legacy` the summary CSV is byte-identical to the original's,
//! quirks included; without it the fixes of spec benchmarks.md F-22…F-24 apply.

pub mod common;
mod error;
pub mod offline;
pub mod online;
mod online_plot;
pub mod online_read;
pub mod plot;
pub mod pyfmt;

pub use common::{
    HistoryOptions, HistorySummary, OnlineModel, Outcome, PlotFormat, Say, plot_dir_for,
    today_pacific,
};
pub use error::HistoryError;
