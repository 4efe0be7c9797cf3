//! Typed records to files: the legacy per-run CSVs byte for byte, the best-run rule, history
//! consolidation, plots and regression analysis; plus secret masking for everything written.
//!
//! Features: `plot` (module `plot`: plotters and the embedded font, no polars) and `history`
//! (module `history`, the consolidation and trend plots: polars and `plot`). Without either,
//! no plotting crate is compiled. `testkit` (tests and benches only, through their
//! dev-dependencies): module `corpus`, where the corpus of real nightly output is.

pub mod atomic;
pub mod best_run;
pub mod bounded;
#[cfg(feature = "testkit")]
pub mod corpus;
#[cfg(feature = "history")]
pub mod history;
pub mod latest;
pub mod offline_csv;
pub mod online_csv;
#[cfg(feature = "plot")]
pub mod plot;
pub mod redact;
pub mod regression;
pub mod run_folder;
