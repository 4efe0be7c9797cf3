//! Comparison reports of the original toolkit's `upstream_ci/` scripts.
//!
//! * [`csv_results`]: two benchmark run folders side by side (`compare-csv`, the original
//!   `compare_csv_results.py`, spec reporting.md §8): offline and online CSVs, GSM8K accuracy
//!   from the folders' logs, a Markdown or JSON report.
//! * [`suites`]: NVIDIA vs AMD upstream CI coverage (`compare-suites`, the original
//!   `compare_suites.py`, spec reporting.md §9): SGLang's `run_suite.py` and CI workflow files
//!   read as text, counted per category, a CSV or Markdown report.
//!
//! [`glob`] is the shell-style file-name matching both need. Nothing here prints or exits:
//! every failure is a typed error naming the file, folder or URL involved.

pub mod csv_results;
pub mod glob;
pub mod suites;
