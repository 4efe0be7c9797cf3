//! Typed records to files: the legacy per-run CSVs byte for byte, the best-run rule, history
//! consolidation, plots and regression analysis; plus secret masking for everything written.

pub mod redact;
