//! The page frame (header, navigation, footer, the one embedded style sheet) and the small
//! helpers every page uses: escaping, URL encoding, number formatting. No script, no fonts,
//! no request to any other host: the pages work on a network without internet.

use std::fmt::Write as _;

/// Escapes text for HTML content and attribute values.
pub fn esc(s: &str) -> String {
    plots_server::listing::escape_markup(s, true)
}

fn encode(s: &str, keep: &[u8]) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            let _ = write!(out, "%{b:02X}");
        }
    }
    out
}

/// Percent-encodes a path (slashes and colons kept).
pub fn enc_path(s: &str) -> String {
    encode(s, b"/:")
}

/// Percent-encodes one query value.
pub fn enc_query(s: &str) -> String {
    encode(s, b"")
}

/// The link of a run page.
pub fn run_href(id: &str) -> String {
    format!("/run/{}", enc_path(id))
}

/// A number for a table: 2 decimals (4 below 10), no trailing zeros.
pub fn num(v: f64) -> String {
    if !v.is_finite() {
        return "—".to_owned();
    }
    let a = v.abs();
    let s = if a >= 10.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.4}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_owned()
    } else {
        s
    }
}

/// A signed percentage (`+12.3%`).
pub fn pct(v: f64) -> String {
    format!("{v:+.1}%")
}

/// The embedded style sheet.
pub const STYLE: &str = "\
:root{--fg:#1b1f24;--muted:#5b6470;--line:#d8dde3;--bg:#fff;--head:#f4f6f8;--link:#0b57d0;\
--reg:#fbe0de;--reg-fg:#8a1c13;--sus:#fff0d1;--sus-fg:#7a4b00;--imp:#dcf3e3;--imp-fg:#14532d;\
--nc:#eef2f6;--ins:#f7f7f7}\
*{box-sizing:border-box}\
body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;color:var(--fg);background:var(--bg)}\
header{display:flex;gap:24px;align-items:center;padding:10px 20px;border-bottom:1px solid var(--line);background:var(--head);flex-wrap:wrap}\
header .brand{font-weight:700;color:var(--fg);text-decoration:none}\
header nav a{margin-right:14px}\
main{padding:12px 20px 40px;max-width:1500px}\
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}\
h1{font-size:22px;margin:10px 0}h2{font-size:18px;margin:26px 0 8px}h3{font-size:15px;margin:18px 0 6px}\
.muted{color:var(--muted)}.small{font-size:12px}\
table{border-collapse:collapse;margin:6px 0 14px}\
th,td{border:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top}\
th{background:var(--head);font-weight:600}\
td.n{text-align:right;font-variant-numeric:tabular-nums}\
.pill{display:inline-block;padding:0 7px;border-radius:9px;font-size:12px;font-weight:600}\
.pass{background:var(--imp);color:var(--imp-fg)}.fail{background:var(--reg);color:var(--reg-fg)}\
.none{background:var(--ins);color:var(--muted)}\
.badge{display:inline-block;padding:0 6px;margin-left:4px;border-radius:4px;font-size:11px;border:1px solid var(--line);color:var(--muted)}\
.badge.fallback{border-color:#d9a400;color:#7a4b00}.badge.sim{border-color:#6b7fd7;color:#2f3f8f}\
.regression{background:var(--reg);color:var(--reg-fg)}.suspicious{background:var(--sus);color:var(--sus-fg)}\
.improved{background:var(--imp);color:var(--imp-fg)}.nochange{background:var(--nc)}\
.insufficient{background:var(--ins);color:var(--muted)}\
td.regression a,td.suspicious a,td.improved a{color:inherit}\
.empty{padding:10px 14px;border:1px dashed var(--line);color:var(--muted);display:inline-block}\
.error{padding:10px 14px;border:1px solid #e0a39e;background:var(--reg);color:var(--reg-fg);white-space:pre-wrap}\
.legend span{margin-right:8px;padding:1px 6px;border-radius:4px}\
dl.prov{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px}dl.prov dt{color:var(--muted)}dl.prov dd{margin:0}\
.cols{display:flex;gap:28px;align-items:flex-start;flex-wrap:wrap}\
textarea{width:100%;min-width:520px;height:140px;font:13px/1.4 ui-monospace,monospace}\
code,pre,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}\
svg.chart{border:1px solid var(--line);background:#fff}\
svg.chart text{font-size:11px;fill:#5b6470}\
footer{padding:10px 20px;border-top:1px solid var(--line);color:var(--muted);font-size:12px}";

/// A complete page: `title`, the navigation (one link per hardware), `body`, and a footer
/// naming the JSON behind the page.
pub fn page(title: &str, hardware: &[String], body: &str, api: &str) -> String {
    let mut nav = String::from("<a href=\"/\">Overview</a>");
    for hw in hardware {
        let _ = write!(
            nav,
            "<a href=\"/hardware/{}\">{}</a>",
            enc_query(hw),
            esc(hw)
        );
    }
    nav.push_str(
        "<a href=\"/plots/\">Plots</a><a href=\"/coverage\">Coverage</a><a href=\"/sql\">SQL</a>",
    );
    let api = if api.is_empty() {
        String::new()
    } else {
        format!(
            " · JSON of this page: <a href=\"{}\">{}</a>",
            esc(api),
            esc(api)
        )
    };
    format!(
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{} \u{2014} sglang-ci nightly</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <header><a class=\"brand\" href=\"/\">sglang-ci nightly</a><nav>{nav}</nav></header>\n\
         <main>\n{body}</main>\n<footer>sglang-ci dashboard {}{api}</footer>\n</body>\n</html>\n",
        esc(title),
        env!("CARGO_PKG_VERSION"),
    )
}

/// A status pill for a run verdict (`pass`, `fail`, none).
pub fn status(verdict: Option<&str>) -> String {
    match verdict {
        Some("pass") => "<span class=\"pill pass\">pass</span>".to_owned(),
        Some("fail") => "<span class=\"pill fail\">fail</span>".to_owned(),
        Some(v) => format!("<span class=\"pill none\">{}</span>", esc(v)),
        None => "<span class=\"pill none\">no verdict</span>".to_owned(),
    }
}

/// A test status pill (`pass`, `fail`, `skipped`, …).
pub fn test_status(s: &str) -> String {
    let class = match s {
        "pass" | "available" => "pass",
        "fail" | "missing" | "incomplete" => "fail",
        _ => "none",
    };
    format!("<span class=\"pill {class}\">{}</span>", esc(s))
}
