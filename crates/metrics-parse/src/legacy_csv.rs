//! Readers for the legacy per-run CSVs the original toolkit wrote (spec benchmarks.md
//! §7.3–§7.5, corpus README §2.1).
//!
//! * [`OnlineCsv`]: the three-table, TAB-separated online CSV, Grok
//!   (`Online mode - <M> (<tag>)`, `request rate` loads, row `MI300x-aiter, <host>`) and
//!   DeepSeek (`Online Serving Benchmark - <M> (<tag>)`, `concurrency` loads, row
//!   `<M>-FP8`). Cells keep their text: `""` is an empty cell, `NA` stays `NA`.
//! * [`OfflineCsv`]: the comma-separated offline CSV, Grok (with a `Backend` column) and
//!   DeepSeek (without).
//!
//! A missing section or header is a [`LegacyCsvError`] naming the section and line; the
//! caller adds the file name.

use serde::Serialize;
use thiserror::Error;

/// Why a legacy CSV could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum LegacyCsvError {
    /// The file is empty.
    #[error("the file is empty")]
    Empty,
    /// The file is not UTF-8 text.
    #[error("not UTF-8 text (byte {0})")]
    NotText(usize),
    /// The first line is not a known online title.
    #[error(
        "line 1 is not an online CSV title (`Online mode - …` or `Online Serving Benchmark - …`): {0:?}"
    )]
    UnknownTitle(String),
    /// A metric section is missing.
    #[error("section `{0}` is missing")]
    MissingSection(&'static str),
    /// A section title is not followed by a load header line.
    #[error(
        "section `{section}`: line {line} should list the loads (`request rate⇥…` or `concurrency⇥…`)"
    )]
    MissingLoadHeader {
        /// Section title.
        section: &'static str,
        /// 1-based line number.
        line: usize,
    },
    /// A section has no data row.
    #[error("section `{section}`: no data row after line {line}")]
    MissingRow {
        /// Section title.
        section: &'static str,
        /// 1-based line number of the load header.
        line: usize,
    },
    /// The offline header is not one of the two known headers.
    #[error("line 1 is not a known offline CSV header: {0:?}")]
    UnknownOfflineHeader(String),
    /// An offline row has the wrong number of fields.
    #[error("line {line}: {found} fields, expected {expected}")]
    OfflineFieldCount {
        /// 1-based line number.
        line: usize,
        /// Fields found.
        found: usize,
        /// Fields expected.
        expected: usize,
    },
}

/// The three section titles, in file order.
pub const SECTION_TITLES: [&str; 3] = [
    "Median E2E Latency (ms, lower better)",
    "Median TTFT (ms, lower better)",
    "Median ITL (ms, lower better)",
];

/// Which script wrote an online CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OnlineKind {
    /// Grok, by request rate.
    RequestRate,
    /// DeepSeek, by concurrency.
    Concurrency,
}

impl OnlineKind {
    /// The first cell of the load header line (`request rate` / `concurrency`).
    pub fn load_label(self) -> &'static str {
        match self {
            Self::RequestRate => "request rate",
            Self::Concurrency => "concurrency",
        }
    }

    /// The title's prefix before ` - <M> (<tag>)`.
    pub fn title_prefix(self) -> &'static str {
        match self {
            Self::RequestRate => "Online mode",
            Self::Concurrency => "Online Serving Benchmark",
        }
    }
}

/// One metric section: load header and data rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlineSection {
    /// The section title line.
    pub title: String,
    /// The load header's first cell (`request rate`, `concurrency`).
    pub load_label: String,
    /// Loads in header order, verbatim.
    pub loads: Vec<String>,
    /// Data rows (normally one).
    pub rows: Vec<OnlineRow>,
}

/// One data row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlineRow {
    /// First cell (`MI300x-aiter, <host>`, `<M>-FP8`).
    pub label: String,
    /// Cells after the label, verbatim (`""` = empty). May be shorter or longer than the
    /// loads.
    pub cells: Vec<String>,
}

/// A parsed three-table online CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlineCsv {
    /// Grok or DeepSeek.
    pub kind: OnlineKind,
    /// Line 1 verbatim.
    pub title: String,
    /// `<M>` from the title.
    pub model: String,
    /// `<tag>` from the title.
    pub tag: String,
    /// E2E, TTFT, ITL sections.
    pub sections: [OnlineSection; 3],
    /// The file ends with a newline.
    pub final_newline: bool,
}

impl OnlineCsv {
    /// Parses the file. Line endings `\n` (and `\r\n`, tolerated).
    pub fn parse(data: &[u8]) -> Result<Self, LegacyCsvError> {
        if data.is_empty() {
            return Err(LegacyCsvError::Empty);
        }
        let text =
            std::str::from_utf8(data).map_err(|e| LegacyCsvError::NotText(e.valid_up_to()))?;
        let final_newline = text.ends_with('\n');
        let lines: Vec<&str> = text
            .strip_suffix('\n')
            .unwrap_or(text)
            .split('\n')
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
            .collect();
        let title = lines[0];
        let (kind, rest) = if let Some(r) = title.strip_prefix("Online mode - ") {
            (OnlineKind::RequestRate, r)
        } else if let Some(r) = title.strip_prefix("Online Serving Benchmark - ") {
            (OnlineKind::Concurrency, r)
        } else {
            return Err(LegacyCsvError::UnknownTitle(title.to_owned()));
        };
        let (model, tag) = match rest.rsplit_once(" (") {
            Some((m, t)) => (m.to_owned(), t.strip_suffix(')').unwrap_or(t).to_owned()),
            None => (rest.to_owned(), String::new()),
        };
        let mut sections = Vec::with_capacity(3);
        for name in SECTION_TITLES {
            sections.push(parse_section(&lines, name)?);
        }
        let sections: [OnlineSection; 3] = sections
            .try_into()
            .map_err(|_| LegacyCsvError::MissingSection(SECTION_TITLES[0]))?;
        Ok(Self {
            kind,
            title: title.to_owned(),
            model,
            tag,
            sections,
            final_newline,
        })
    }

    /// The first data row's cell for `load` in section `section` (0 = E2E, 1 = TTFT,
    /// 2 = ITL): `Some("")` for an empty cell, `None` when the load is not a column or the
    /// row is shorter.
    pub fn cell(&self, section: usize, load: &str) -> Option<&str> {
        let s = self.sections.get(section)?;
        let i = s.loads.iter().position(|l| l == load)?;
        s.rows.first()?.cells.get(i).map(String::as_str)
    }
}

fn parse_section(lines: &[&str], name: &'static str) -> Result<OnlineSection, LegacyCsvError> {
    let at = lines
        .iter()
        .position(|l| l.trim_end() == name)
        .ok_or(LegacyCsvError::MissingSection(name))?;
    let header_line = at + 1;
    let header = lines
        .get(header_line)
        .filter(|l| l.starts_with("request rate") || l.starts_with("concurrency"))
        .ok_or(LegacyCsvError::MissingLoadHeader {
            section: name,
            line: header_line + 1,
        })?;
    let mut cells = header.split('\t');
    let load_label = cells.next().unwrap_or_default().to_owned();
    let loads = cells.map(str::to_owned).collect();
    let rows: Vec<OnlineRow> = lines[header_line + 1..]
        .iter()
        .take_while(|l| !l.trim().is_empty() && !SECTION_TITLES.contains(&l.trim_end()))
        .map(|l| {
            let mut c = l.split('\t');
            OnlineRow {
                label: c.next().unwrap_or_default().to_owned(),
                cells: c.map(str::to_owned).collect(),
            }
        })
        .collect();
    if rows.is_empty() {
        return Err(LegacyCsvError::MissingRow {
            section: name,
            line: header_line + 1,
        });
    }
    Ok(OnlineSection {
        title: name.to_owned(),
        load_label,
        loads,
        rows,
    })
}

/// Which offline script wrote the CSV.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum OfflineKind {
    /// Grok: with a `Backend` column.
    Grok,
    /// DeepSeek: without.
    DeepSeek,
}

/// The Grok offline header (§7.3).
pub const GROK_OFFLINE_HEADER: &str = "TP,batch_size,IL,OL,Backend,Prefill_latency(s),Median_decode_latency(s),E2E_Latency(s),Prefill_Throughput(token/s),Median_Decode_Throughput(token/s),E2E_Throughput(token/s)";
/// The DeepSeek offline header (§7.3).
pub const DEEPSEEK_OFFLINE_HEADER: &str = "TP,batch_size,IL,OL,Prefill_latency(s),Median_decode_latency(s),E2E_Latency(s),Prefill_Throughput(token/s),Median_Decode_Throughput(token/s),E2E_Throughput(token/s)";

/// One offline row, fields verbatim.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineRow {
    /// `TP`.
    pub tp: String,
    /// `batch_size`.
    pub batch_size: String,
    /// `IL`.
    pub input_len: String,
    /// `OL`.
    pub output_len: String,
    /// `Backend` (Grok only, always `aiter`).
    pub backend: Option<String>,
    /// The six metrics in column order (`""` empty, `NA`).
    pub metrics: [String; 6],
}

/// A parsed offline CSV.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OfflineCsv {
    /// Grok or DeepSeek.
    pub kind: OfflineKind,
    /// Rows in file order (a DeepSeek file re-run on the same image repeats rows).
    pub rows: Vec<OfflineRow>,
}

impl OfflineCsv {
    /// Parses an offline CSV. Extra header lines in the middle (none are written) are not
    /// allowed.
    pub fn parse(data: &[u8]) -> Result<Self, LegacyCsvError> {
        if data.is_empty() {
            return Err(LegacyCsvError::Empty);
        }
        let text =
            std::str::from_utf8(data).map_err(|e| LegacyCsvError::NotText(e.valid_up_to()))?;
        let mut lines = text.lines();
        let header = lines.next().unwrap_or_default();
        let kind = match header {
            GROK_OFFLINE_HEADER => OfflineKind::Grok,
            DEEPSEEK_OFFLINE_HEADER => OfflineKind::DeepSeek,
            other => return Err(LegacyCsvError::UnknownOfflineHeader(other.to_owned())),
        };
        let expected = if kind == OfflineKind::Grok { 11 } else { 10 };
        let mut rows = Vec::new();
        for (i, line) in lines.enumerate() {
            if line.is_empty() {
                continue;
            }
            let f: Vec<&str> = line.split(',').collect();
            if f.len() != expected {
                return Err(LegacyCsvError::OfflineFieldCount {
                    line: i + 2,
                    found: f.len(),
                    expected,
                });
            }
            let (backend, m) = match kind {
                OfflineKind::Grok => (Some(f[4].to_owned()), &f[5..]),
                OfflineKind::DeepSeek => (None, &f[4..]),
            };
            rows.push(OfflineRow {
                tp: f[0].to_owned(),
                batch_size: f[1].to_owned(),
                input_len: f[2].to_owned(),
                output_len: f[3].to_owned(),
                backend,
                metrics: std::array::from_fn(|j| m[j].to_owned()),
            });
        }
        Ok(Self { kind, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GROK: &[u8] = include_bytes!("../../../fixtures/legacy_csv/grok_online.csv");
    const GROK_MI355: &[u8] =
        include_bytes!("../../../fixtures/legacy_csv/grok_online_mi355_empty16.csv");
    const DS: &[u8] = include_bytes!("../../../fixtures/legacy_csv/deepseek_serving.csv");
    const NO_ITL: &[u8] = include_bytes!("../../../fixtures/legacy_csv/missing_itl_section.csv");

    #[test]
    fn grok_three_tables() {
        let c = OnlineCsv::parse(GROK).unwrap();
        assert_eq!(c.kind, OnlineKind::RequestRate);
        assert_eq!(c.model, "GROK1");
        assert_eq!(c.tag, "v0.5.3.post1-rocm630-mi30x-20251013");
        assert_eq!(c.sections[0].loads, ["1", "2", "4", "8", "16"]);
        assert_eq!(c.sections[1].rows[0].label, "MI300x-aiter, host-a");
        assert_eq!(c.cell(1, "4"), Some("101.93"));
        assert_eq!(c.cell(2, "16"), Some("104.54"));
        assert_eq!(c.cell(2, "32"), None);
        assert!(c.final_newline);
    }

    #[test]
    fn empty_trailing_cells_are_kept() {
        let c = OnlineCsv::parse(GROK_MI355).unwrap();
        assert_eq!(c.cell(0, "8"), Some(""));
        assert_eq!(c.cell(0, "16"), Some(""));
        assert_eq!(c.cell(0, "4"), Some("47927.74"));
    }

    #[test]
    fn deepseek_serving() {
        let c = OnlineCsv::parse(DS).unwrap();
        assert_eq!(c.kind, OnlineKind::Concurrency);
        assert_eq!(c.model, "DeepSeek-V3-0324");
        assert_eq!(c.sections[0].load_label, "concurrency");
        assert_eq!(c.sections[0].rows[0].label, "DeepSeek-V3-0324-FP8");
        assert_eq!(c.cell(0, "1"), Some(""));
        assert_eq!(c.cell(1, "128"), Some("NA"));
    }

    #[test]
    fn missing_section_is_an_error_naming_it() {
        let e = OnlineCsv::parse(NO_ITL).unwrap_err();
        assert_eq!(
            e,
            LegacyCsvError::MissingSection("Median ITL (ms, lower better)")
        );
        assert!(e.to_string().contains("Median ITL"));
        assert_eq!(OnlineCsv::parse(b"").unwrap_err(), LegacyCsvError::Empty);
        assert!(matches!(
            OnlineCsv::parse(b"hello\n"),
            Err(LegacyCsvError::UnknownTitle(_))
        ));
        assert!(matches!(
            OnlineCsv::parse(b"\xff\xfe"),
            Err(LegacyCsvError::NotText(0))
        ));
    }

    #[test]
    fn offline_both_kinds() {
        let g = format!(
            "{GROK_OFFLINE_HEADER}\n8,1,1024,128,aiter,0.03485,0.01178,1.112,29384.12,84.89,1036.10\n8,256,1024,128,aiter,NA,NA,NA,NA,NA,NA\n8,2,1024,128,aiter,,,,,,\n"
        );
        let c = OfflineCsv::parse(g.as_bytes()).unwrap();
        assert_eq!(c.kind, OfflineKind::Grok);
        assert_eq!(c.rows.len(), 3);
        assert_eq!(c.rows[0].metrics[0], "0.03485");
        assert_eq!(c.rows[1].metrics[5], "NA");
        assert_eq!(c.rows[2].metrics[3], "");
        assert_eq!(c.rows[0].backend.as_deref(), Some("aiter"));
        let d = format!("{DEEPSEEK_OFFLINE_HEADER}\n8,32,1024,128,1.0,2.0,3.0,4.0,5.0,6.0\n");
        let c = OfflineCsv::parse(d.as_bytes()).unwrap();
        assert_eq!(
            (c.kind, c.rows[0].backend.clone()),
            (OfflineKind::DeepSeek, None)
        );
        let bad = format!("{DEEPSEEK_OFFLINE_HEADER}\n8,32\n");
        assert_eq!(
            OfflineCsv::parse(bad.as_bytes()).unwrap_err(),
            LegacyCsvError::OfflineFieldCount {
                line: 2,
                found: 2,
                expected: 10
            }
        );
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..1024)) {
            let _ = OnlineCsv::parse(&data);
            let _ = OfflineCsv::parse(&data);
        }

        #[test]
        fn mutated_real_csv_never_panics(cut in 0usize..600, byte in any::<u8>()) {
            let mut d = GROK.to_vec();
            let i = cut % d.len();
            d[i] = byte;
            let _ = OnlineCsv::parse(&d);
            let _ = OnlineCsv::parse(&GROK[..cut.min(GROK.len())]);
        }
    }
}
