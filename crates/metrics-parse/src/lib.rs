//! Text to typed records: every format the SGLang engine and the original toolkit print.
//!
//! Parsers take bytes, survive what real logs contain (tqdm carriage returns, ANSI codes,
//! invalid UTF-8, CRLF, truncated and empty files) and report a missing or truncated section as
//! a typed outcome, never a panic and never a silently wrong number. One module per format;
//! `docs/formats.md` lists every format, its generations and its parser.

pub mod bench_one_batch;
pub mod bench_serving;
pub mod client_log;
pub mod cron_log;
pub mod gsm8k;
pub mod legacy_csv;
pub mod pd;
pub mod sanity;
pub mod server_log;
pub mod text;
pub mod timing_summary;
pub mod unit_test;
pub mod upstream_report;
pub mod value;
