//! Writers for the legacy online CSVs, byte for byte (spec benchmarks.md §7.4, §7.5; corpus
//! README §2.1): three TAB-separated tables, 13 lines, final newline, no blank line at the
//! end, cells copied verbatim.
//!
//! ```text
//! Online mode - GROK1 (v0.5.4.post1-rocm630-mi30x-20251029)        ← DeepSeek: Online Serving Benchmark - <M> (<tag>)
//!
//! Median E2E Latency (ms, lower better)
//! request rate⇥1⇥2⇥4⇥8⇥16                                          ← DeepSeek: concurrency⇥128⇥64⇥16⇥4⇥1
//! MI300x-aiter, dell300x-pla-t10-23⇥10326.99⇥…                      ← DeepSeek: <M>-FP8
//! (then the TTFT and ITL tables the same way)
//! ```
//!
//! A cell is a value, `NA` (the ported revision's "processed, no value") or empty (not run /
//! later revisions' "no value"): [`Cell`].

use metrics_parse::legacy_csv::{OnlineKind, SECTION_TITLES};
use serde::Serialize;

/// One CSV cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", content = "text", rename_all = "snake_case")]
pub enum Cell {
    /// A number copied verbatim (`12034.20`).
    Value(String),
    /// The literal `NA`.
    Na,
    /// Nothing between the TABs.
    Empty,
}

impl Cell {
    /// The text written to the file.
    pub fn as_str(&self) -> &str {
        match self {
            Self::Value(v) => v,
            Self::Na => "NA",
            Self::Empty => "",
        }
    }

    /// Reads a cell from file text (`""` → Empty, `NA` → Na).
    pub fn from_text(s: &str) -> Self {
        match s {
            "" => Self::Empty,
            "NA" => Self::Na,
            v => Self::Value(v.to_owned()),
        }
    }
}

/// The three metrics of one load.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoadCells {
    /// The request rate or concurrency as written in the header.
    pub load: String,
    /// `Median E2E Latency (ms, lower better)` cell.
    pub e2e: Cell,
    /// `Median TTFT (ms, lower better)` cell.
    pub ttft: Cell,
    /// `Median ITL (ms, lower better)` cell.
    pub itl: Cell,
}

impl LoadCells {
    /// A load with three empty cells.
    pub fn empty(load: impl Into<String>) -> Self {
        Self {
            load: load.into(),
            e2e: Cell::Empty,
            ttft: Cell::Empty,
            itl: Cell::Empty,
        }
    }

    /// The cell of section `i` (0 = E2E, 1 = TTFT, 2 = ITL).
    pub fn section(&self, i: usize) -> &Cell {
        match i {
            0 => &self.e2e,
            1 => &self.ttft,
            _ => &self.itl,
        }
    }
}

/// A whole online CSV, in configured load order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OnlineTable {
    /// Grok (request rate) or DeepSeek (concurrency).
    pub kind: OnlineKind,
    /// `<MODEL_NAME>` (`GROK1`, `DeepSeek-V3-0324`).
    pub model: String,
    /// The docker tag.
    pub tag: String,
    /// The data-row label (see [`grok_row_label`], [`deepseek_row_label`]).
    pub row_label: String,
    /// One entry per configured load, in the configured order (`1 2 4 8 16`,
    /// `128 64 16 4 1`).
    pub loads: Vec<LoadCells>,
}

/// The Grok data-row label: `MI300x-aiter, <host>` on every hardware (quirk K-2).
pub fn grok_row_label(host: &str) -> String {
    format!("MI300x-aiter, {host}")
}

/// The DeepSeek data-row label: `<MODEL_NAME>-<VARIANT>` (`DeepSeek-V3-0324-FP8`).
pub fn deepseek_row_label(model: &str, variant: &str) -> String {
    format!("{model}-{variant}")
}

impl OnlineTable {
    /// The title line (line 1).
    pub fn title(&self) -> String {
        format!(
            "{} - {} ({})",
            self.kind.title_prefix(),
            self.model,
            self.tag
        )
    }

    /// The file content, byte for byte as the original wrote it.
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(512);
        out.push_str(&self.title());
        out.push_str("\n\n");
        for (i, title) in SECTION_TITLES.iter().enumerate() {
            if i > 0 {
                out.push('\n');
            }
            out.push_str(title);
            out.push('\n');
            out.push_str(self.kind.load_label());
            for l in &self.loads {
                out.push('\t');
                out.push_str(&l.load);
            }
            out.push('\n');
            out.push_str(&self.row_label);
            for l in &self.loads {
                out.push('\t');
                out.push_str(l.section(i).as_str());
            }
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use metrics_parse::legacy_csv::OnlineCsv;

    const GROK: &str = include_str!("../../../fixtures/legacy_csv/grok_online.csv");
    const GROK_MI355: &str =
        include_str!("../../../fixtures/legacy_csv/grok_online_mi355_empty16.csv");
    const DS: &str = include_str!("../../../fixtures/legacy_csv/deepseek_serving.csv");

    /// Re-renders a parsed CSV through the writer.
    fn roundtrip(text: &str) -> String {
        let c = OnlineCsv::parse(text.as_bytes()).unwrap();
        let loads = c.sections[0]
            .loads
            .iter()
            .map(|l| LoadCells {
                load: l.clone(),
                e2e: Cell::from_text(c.cell(0, l).unwrap_or("")),
                ttft: Cell::from_text(c.cell(1, l).unwrap_or("")),
                itl: Cell::from_text(c.cell(2, l).unwrap_or("")),
            })
            .collect();
        OnlineTable {
            kind: c.kind,
            model: c.model.clone(),
            tag: c.tag.clone(),
            row_label: c.sections[0].rows[0].label.clone(),
            loads,
        }
        .render()
    }

    #[test]
    fn byte_for_byte_roundtrips() {
        assert_eq!(roundtrip(GROK), GROK);
        assert_eq!(roundtrip(GROK_MI355), GROK_MI355);
        assert_eq!(roundtrip(DS), DS);
    }

    #[test]
    fn layout_details() {
        let t = OnlineTable {
            kind: OnlineKind::RequestRate,
            model: "GROK2".into(),
            tag: "v1-rocm700-mi35x-20251117".into(),
            row_label: grok_row_label("host-x"),
            loads: vec![
                LoadCells {
                    load: "1".into(),
                    e2e: Cell::Value("1.50".into()),
                    ttft: Cell::Na,
                    itl: Cell::Empty,
                },
                LoadCells::empty("2"),
            ],
        };
        let s = t.render();
        let lines: Vec<&str> = s.split('\n').collect();
        assert_eq!(lines.len(), 14, "13 lines and a final newline");
        assert_eq!(lines[0], "Online mode - GROK2 (v1-rocm700-mi35x-20251117)");
        assert_eq!(lines[1], "");
        assert_eq!(lines[3], "request rate\t1\t2");
        assert_eq!(lines[4], "MI300x-aiter, host-x\t1.50\t");
        assert_eq!(lines[8], "MI300x-aiter, host-x\tNA\t");
        assert_eq!(lines[12], "MI300x-aiter, host-x\t\t");
        assert_eq!(lines[13], "");
        assert_eq!(
            deepseek_row_label("DeepSeek-V3-0324", "FP8"),
            "DeepSeek-V3-0324-FP8"
        );
    }
}
