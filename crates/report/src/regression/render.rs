//! Verdicts as lines: aligned text for a terminal, CSV and JSON Lines for a pipeline.

use serde::Serialize;

use super::{Series, Verdict, num};

/// Output format of [`render`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Aligned columns with a header line, evidence last.
    Text,
    /// One JSON object per line (no header).
    Json,
    /// RFC 4180 CSV with a header line.
    Csv,
}

impl Format {
    /// Parses `text`, `json`, `csv`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "text" => Some(Self::Text),
            "json" => Some(Self::Json),
            "csv" => Some(Self::Csv),
            _ => None,
        }
    }
}

/// One verdict of one series, flat, for reports (the JSON object and the CSV row).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    /// `legacy` or `robust`.
    pub rule: &'static str,
    /// `regression`, `suspicious`, `improved`, `no change`, `insufficient history`.
    pub verdict: &'static str,
    /// Series key: hardware.
    pub hardware: String,
    /// Series key: model.
    pub model: String,
    /// Series key: variant.
    pub variant: String,
    /// Series key: metric name (`ttft_ms`).
    pub metric: &'static str,
    /// Series key: load point (`rate 4`, `concurrency 64`, `-`).
    pub load: String,
    /// The night judged (`YYYYMMDD`).
    pub night: String,
    /// Its image tag.
    pub image_tag: String,
    /// Its value.
    pub value: Option<f64>,
    /// Baseline value.
    pub baseline: Option<f64>,
    /// Change of the night against the baseline in percent (signed).
    pub change_pct: Option<f64>,
    /// Band half-width in percent.
    pub band_pct: Option<f64>,
    /// Hard band half-width in percent (robust).
    pub hard_pct: Option<f64>,
    /// How many nights the baseline used.
    pub nights_used: usize,
    /// Their dates.
    pub baseline_nights: Vec<String>,
    /// The judged nights as `YYYYMMDD=value`, oldest first.
    pub values: Vec<String>,
    /// The night is simulated.
    pub simulated: bool,
    /// The night ran on a fallback image.
    pub fallback: bool,
    /// The file the night's value came from.
    pub source: String,
    /// Why.
    pub evidence: String,
}

/// The report row of `verdict`, a verdict of `series`.
pub fn row(series: &Series, verdict: &Verdict) -> ReportRow {
    let night = verdict
        .date
        .and_then(|d| series.nights.iter().rev().find(|n| n.date == d));
    ReportRow {
        rule: verdict.rule,
        verdict: verdict.kind.name(),
        hardware: series.key.hardware.clone(),
        model: series.key.model.clone(),
        variant: series.key.variant.clone(),
        metric: series.key.metric.name(),
        load: series.key.load.to_string(),
        night: verdict.date.map(|d| d.to_string()).unwrap_or_default(),
        image_tag: night.map(|n| n.image_tag.clone()).unwrap_or_default(),
        value: night.map(|n| n.value),
        baseline: verdict.baseline,
        change_pct: verdict.change_pct(),
        band_pct: verdict.band_pct,
        hard_pct: verdict.hard_pct,
        nights_used: verdict.baseline_nights.len(),
        baseline_nights: verdict
            .baseline_nights
            .iter()
            .map(ToString::to_string)
            .collect(),
        values: verdict
            .values
            .iter()
            .map(|v| format!("{}={}", v.date, num(v.value)))
            .collect(),
        simulated: verdict.simulated,
        fallback: night.is_some_and(|n| n.fallback),
        source: night
            .map(|n| n.source.display().to_string())
            .unwrap_or_default(),
        evidence: verdict.evidence.clone(),
    }
}

fn opt(v: Option<f64>) -> String {
    v.map(num).unwrap_or_default()
}

fn pct(v: Option<f64>, signed: bool) -> String {
    match v {
        Some(p) if signed => format!("{p:+.1}%"),
        Some(p) => format!("±{p:.1}%"),
        None => String::new(),
    }
}

const CSV_HEADER: [&str; 21] = [
    "rule",
    "verdict",
    "hardware",
    "model",
    "variant",
    "metric",
    "load",
    "night",
    "image_tag",
    "value",
    "baseline",
    "change_pct",
    "band_pct",
    "hard_pct",
    "nights_used",
    "baseline_nights",
    "values",
    "simulated",
    "fallback",
    "source",
    "evidence",
];

fn csv_field(s: &str) -> String {
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s.to_owned()
    }
}

fn pct_plain(v: Option<f64>) -> String {
    v.map(|p| format!("{p:.2}")).unwrap_or_default()
}

/// Renders rows, one line per verdict (text and CSV start with a header line), each line
/// ending with `\n`.
pub fn render(rows: &[ReportRow], format: Format) -> String {
    let mut out = String::new();
    match format {
        Format::Json => {
            for r in rows {
                // A row holds only strings, numbers and booleans: it always encodes.
                if let Ok(line) = serde_json::to_string(r) {
                    out.push_str(&line);
                    out.push('\n');
                }
            }
        }
        Format::Csv => {
            out.push_str(&CSV_HEADER.join(","));
            out.push('\n');
            for r in rows {
                let fields = [
                    r.rule.to_owned(),
                    r.verdict.to_owned(),
                    r.hardware.clone(),
                    r.model.clone(),
                    r.variant.clone(),
                    r.metric.to_owned(),
                    r.load.clone(),
                    r.night.clone(),
                    r.image_tag.clone(),
                    opt(r.value),
                    opt(r.baseline),
                    pct_plain(r.change_pct),
                    pct_plain(r.band_pct),
                    pct_plain(r.hard_pct),
                    r.nights_used.to_string(),
                    r.baseline_nights.join(" "),
                    r.values.join(" "),
                    r.simulated.to_string(),
                    r.fallback.to_string(),
                    r.source.clone(),
                    r.evidence.clone(),
                ];
                let line: Vec<String> = fields.iter().map(|f| csv_field(f)).collect();
                out.push_str(&line.join(","));
                out.push('\n');
            }
        }
        Format::Text => {
            let header = [
                "VERDICT", "HARDWARE", "MODEL", "VARIANT", "METRIC", "LOAD", "NIGHT", "VALUE",
                "BASELINE", "CHANGE", "BAND", "EVIDENCE",
            ];
            let cells: Vec<[String; 12]> = rows
                .iter()
                .map(|r| {
                    let mut night = r.night.clone();
                    if r.simulated {
                        night.push_str(" (sim)");
                    }
                    if r.fallback {
                        night.push_str(" (fallback)");
                    }
                    [
                        r.verdict.to_owned(),
                        r.hardware.clone(),
                        r.model.clone(),
                        r.variant.clone(),
                        r.metric.to_owned(),
                        r.load.clone(),
                        night,
                        opt(r.value),
                        opt(r.baseline),
                        pct(r.change_pct, true),
                        pct(r.band_pct, false),
                        r.evidence.clone(),
                    ]
                })
                .collect();
            let mut widths = header.map(|h| h.chars().count());
            for c in &cells {
                for (w, s) in widths.iter_mut().zip(c.iter()) {
                    *w = (*w).max(s.chars().count());
                }
            }
            let mut line = |fields: &[&str]| {
                let mut l = String::new();
                for (i, f) in fields.iter().enumerate() {
                    if i + 1 == fields.len() {
                        l.push_str(f);
                    } else {
                        l.push_str(f);
                        let pad = widths[i] - f.chars().count() + 2;
                        l.extend(std::iter::repeat_n(' ', pad));
                    }
                }
                out.push_str(l.trim_end());
                out.push('\n');
            };
            line(&header);
            for c in &cells {
                let f: Vec<&str> = c.iter().map(String::as_str).collect();
                line(&f);
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_only_when_needed() {
        assert_eq!(csv_field("plain"), "plain");
        assert_eq!(csv_field("a, b"), "\"a, b\"");
        assert_eq!(csv_field("say \"x\""), "\"say \"\"x\"\"\"");
    }

    #[test]
    fn formats_parse() {
        assert_eq!(Format::parse("csv"), Some(Format::Csv));
        assert_eq!(Format::parse("xml"), None);
    }
}
