//! The pages: each turns one struct of [`crate::data`] into HTML. A page with nothing to show
//! says so in words.

use std::fmt::Write as _;

use history_store::{Capped, Value};

use crate::coverage::CoveragePage;
use crate::data::{
    BenchRun, HardwarePage, KeyMetric, Overview, RunCard, RunInfo, RunPage, SchemaTable,
    SeriesNight, SeriesPage, verdict_class,
};
use crate::html::{enc_path, enc_query, esc, num, page, pct, run_href, status, test_status};
use crate::svg;

/// The legend of the verdict colours.
fn legend(rule: &str) -> String {
    format!(
        "<p class=\"legend small\">Coloured by the regression verdict ({} rule; \
         docs/regression-rules.md): <span class=\"regression\">regression</span>\
         <span class=\"suspicious\">suspicious</span><span class=\"improved\">improved</span>\
         <span class=\"nochange\">no change</span><span class=\"insufficient\">insufficient history</span></p>\n",
        esc(rule)
    )
}

fn badges(run: &RunInfo) -> String {
    let mut s = String::new();
    if run.fallback_image {
        s.push_str("<span class=\"badge fallback\" title=\"ran on an image older than its night\">fallback image</span>");
    }
    if run.simulated {
        s.push_str(
            "<span class=\"badge sim\" title=\"measured on the simulated engine\">simulated</span>",
        );
    }
    s
}

fn gsm8k_cell(run: &RunInfo) -> String {
    match &run.gsm8k {
        None => "<td class=\"muted\">—</td>".to_owned(),
        Some(g) => {
            let class = match g.passed {
                Some(true) => " pass",
                Some(false) => " fail",
                None => "",
            };
            let n = match (g.n, &g.n_unit) {
                (Some(n), Some(u)) => {
                    format!(" <span class=\"muted small\">n={n} {}</span>", esc(u))
                }
                (Some(n), None) => format!(" <span class=\"muted small\">n={n}</span>"),
                _ => String::new(),
            };
            format!(
                "<td class=\"n{class}\" data-gsm8k=\"{}\">{}{n}</td>",
                esc(&g.text),
                esc(&g.text)
            )
        }
    }
}

fn series_href(run: &RunInfo, metric: &str) -> String {
    let hw = run
        .image_tag
        .as_deref()
        .and_then(history_store::extract::tag_hardware)
        .unwrap_or_else(|| run.hardware.to_ascii_lowercase());
    format!(
        "/series?hardware={}&model={}&variant={}&metric={}",
        enc_query(&hw),
        enc_query(run.model.as_deref().unwrap_or_default()),
        enc_query(&run.series_variant()),
        enc_query(metric)
    )
}

fn metric_cell(run: &RunInfo, km: Option<&KeyMetric>) -> String {
    let Some(km) = km else {
        return "<td class=\"muted\">—</td>".to_owned();
    };
    let class = verdict_class(&km.verdict);
    let title: Vec<String> = km
        .loads
        .iter()
        .map(|l| format!("{}: {} — {}", l.load, l.verdict, l.evidence))
        .collect();
    let body = match &km.worst {
        Some(w) => {
            let change = w.change_pct.map(pct).unwrap_or_default();
            let value = w.value.map(num).unwrap_or_default();
            let base = w
                .baseline
                .map(|b| format!(" vs {}", num(b)))
                .unwrap_or_default();
            format!(
                "{}<br><span class=\"small\">{}: {value}{base} {change}</span>",
                esc(&km.verdict),
                esc(&w.load)
            )
        }
        None => esc(&km.verdict),
    };
    format!(
        "<td class=\"{class}\" title=\"{}\"><a href=\"{}\">{body}</a></td>",
        esc(&title.join("\n")),
        esc(&series_href(run, km.metric))
    )
}

fn run_row(card: &RunCard, with_hw: bool) -> String {
    let r = &card.run;
    let mut s = String::from("<tr>");
    if with_hw {
        let _ = write!(s, "<td>{}</td>", esc(&r.hardware));
    }
    let _ = write!(
        s,
        "<td>{}</td><td>{}{}</td><td>{}</td><td><a href=\"{}\">{}</a></td><td class=\"mono small\">{}</td><td>{}</td>{}",
        esc(r.model.as_deref().unwrap_or("—")),
        esc(r.variant.as_deref().unwrap_or("—")),
        badges(r),
        esc(r.mode.as_deref().unwrap_or("—")),
        esc(&run_href(&r.id)),
        esc(r.night.as_deref().unwrap_or("no night")),
        esc(r.image_tag.as_deref().unwrap_or("—")),
        status(r.verdict.as_deref()),
        gsm8k_cell(r)
    );
    for m in crate::data::KEY_METRICS {
        let km = card.key_metrics.iter().find(|k| k.metric == m.name());
        s.push_str(&metric_cell(r, km));
    }
    s.push_str("</tr>\n");
    s
}

const RUN_HEAD: &str = "<th>Model</th><th>Variant</th><th>Mode</th><th>Night</th><th>Image</th>\
    <th>Status</th><th>GSM8K</th><th>E2E median</th><th>TTFT median</th><th>ITL median</th>";

/// `/`.
pub fn overview(o: &Overview, hardware: &[String]) -> String {
    let mut b = String::from("<h1>Nightly overview</h1>\n");
    let _ = writeln!(
        b,
        "<p class=\"muted\">The latest night of each model, variant and mode per hardware; \
         {} runs in the {} store.</p>",
        o.runs_stored, o.backend
    );
    b.push_str(&legend(o.rule));
    if o.hardware.is_empty() {
        b.push_str(
            "<p class=\"empty\">The store holds no runs yet: run ingest-history over the \
             benchmark folder.</p>\n",
        );
    }
    for hw in &o.hardware {
        let _ = writeln!(
            b,
            "<section><h2><a href=\"/hardware/{}\">{}</a> <span class=\"muted small\">latest night {}</span></h2>",
            enc_query(&hw.hardware),
            esc(&hw.hardware),
            esc(hw.latest_night.as_deref().unwrap_or("—"))
        );
        if hw.runs.is_empty() {
            b.push_str("<p class=\"empty\">No benchmark runs stored for this hardware (only validation runs: see its page).</p>\n");
        } else {
            let _ = writeln!(
                b,
                "<table class=\"runs\"><thead><tr>{RUN_HEAD}</tr></thead><tbody>"
            );
            for c in &hw.runs {
                b.push_str(&run_row(c, false));
            }
            b.push_str("</tbody></table>\n");
        }
        b.push_str("</section>\n");
    }
    page("Overview", hardware, &b, "/api/overview")
}

fn result_table(b: &mut String, br: &BenchRun) {
    let t = &br.table;
    if t.rows.is_empty() {
        b.push_str("<p class=\"empty\">No reported numbers (GSM8K-only mode, or the run stopped before its results).</p>\n");
        return;
    }
    let _ = write!(
        b,
        "<table class=\"results\"><thead><tr><th>{}</th>",
        esc(&t.load_kind.replace('_', " "))
    );
    for c in &t.columns {
        let _ = write!(b, "<th>{}</th>", esc(c));
    }
    b.push_str("</tr></thead><tbody>\n");
    let metric_of = |c: &str| match c {
        "e2e_median" => Some("e2e_ms"),
        "ttft_median" => Some("ttft_ms"),
        "itl_median" => Some("itl_ms"),
        _ => None,
    };
    for row in &t.rows {
        let _ = write!(b, "<tr><td class=\"n\">{}</td>", esc(&row.load));
        for (c, cell) in t.columns.iter().zip(&row.cells) {
            let lv = metric_of(c).and_then(|m| {
                br.card
                    .key_metrics
                    .iter()
                    .find(|k| k.metric == m)?
                    .loads
                    .iter()
                    .find(|l| l.load_value == row.load)
            });
            let (class, title) = lv.map_or((String::new(), String::new()), |l| {
                (
                    format!(" {}", verdict_class(&l.verdict)),
                    format!(" title=\"{}: {}\"", esc(&l.verdict), esc(&l.evidence)),
                )
            });
            match cell {
                Some(c) => {
                    let _ = write!(
                        b,
                        "<td class=\"n{class}\"{title}>{} <span class=\"muted small\">{}</span></td>",
                        esc(&c.text),
                        esc(&c.unit)
                    );
                }
                None => b.push_str("<td class=\"muted\">—</td>"),
            }
        }
        b.push_str("</tr>\n");
    }
    b.push_str("</tbody></table>\n");
}

fn bench_section(b: &mut String, title: &str, runs: &[BenchRun], empty: &str) {
    let _ = writeln!(b, "<h2>{}</h2>", esc(title));
    if runs.is_empty() {
        let _ = writeln!(b, "<p class=\"empty\">{}</p>", esc(empty));
        return;
    }
    let _ = writeln!(
        b,
        "<table class=\"runs\"><thead><tr>{RUN_HEAD}</tr></thead><tbody>"
    );
    for r in runs {
        b.push_str(&run_row(&r.card, false));
    }
    b.push_str("</tbody></table>\n");
    for r in runs {
        let run = &r.card.run;
        let _ = writeln!(
            b,
            "<h3><a href=\"{}\">{} {} {}</a> {}{}</h3>",
            esc(&run_href(&run.id)),
            esc(run.model.as_deref().unwrap_or("")),
            esc(run.variant.as_deref().unwrap_or("")),
            esc(run.mode.as_deref().unwrap_or("")),
            status(run.verdict.as_deref()),
            badges(run)
        );
        result_table(b, r);
    }
}

/// `/hardware/<hw>`.
pub fn hardware(p: &HardwarePage, hardware: &[String], rule: &str) -> String {
    let mut b = format!("<h1>{}</h1>\n", esc(&p.hardware));
    let api = format!(
        "/api/hardware/{}{}",
        enc_query(&p.hardware),
        p.night
            .as_ref()
            .map(|n| format!("?date={}", enc_query(n)))
            .unwrap_or_default()
    );
    let (min, max) = (
        p.nights.last().cloned().unwrap_or_default(),
        p.nights.first().cloned().unwrap_or_default(),
    );
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/hardware/{}\"><label>Night <input type=\"date\" name=\"date\" value=\"{}\" min=\"{}\" max=\"{}\"></label> <button type=\"submit\">Show</button> <span class=\"small\">",
        enc_query(&p.hardware),
        esc(p.night.as_deref().unwrap_or("")),
        esc(&min),
        esc(&max)
    );
    for n in p.nights.iter().take(14) {
        if Some(n) == p.night.as_ref() {
            let _ = write!(b, " <strong>{}</strong>", esc(n));
        } else {
            let _ = write!(
                b,
                " <a href=\"/hardware/{}?date={}\">{}</a>",
                enc_query(&p.hardware),
                enc_query(n),
                esc(n)
            );
        }
    }
    b.push_str("</span></form>\n");
    let Some(night) = &p.night else {
        b.push_str("<p class=\"empty\">No dated runs on this hardware.</p>\n");
        return page(&p.hardware, hardware, &b, &api);
    };
    let _ = writeln!(b, "<p class=\"muted\">Night {}.</p>", esc(night));
    b.push_str(&legend(rule));
    if p.benchmarks.is_empty() && p.variants.is_empty() && p.validation.is_empty() {
        let _ = writeln!(
            b,
            "<p class=\"empty\">No runs on {} for the night of {}.</p>",
            esc(&p.hardware),
            esc(night)
        );
    }
    bench_section(
        &mut b,
        "Benchmarks",
        &p.benchmarks,
        "No benchmark runs on this night.",
    );
    bench_section(
        &mut b,
        "Integration variants (DP attention, torch compile, MTP)",
        &p.variants,
        "No integration-variant runs on this night.",
    );
    b.push_str("<h2>Validation</h2>\n");
    if p.validation.is_empty() {
        b.push_str(
            "<p class=\"empty\">No unit-test, PD, sanity or image-check runs on this night.</p>\n",
        );
    } else {
        b.push_str("<table class=\"validation\"><thead><tr><th>Kind</th><th>Run</th><th>Image</th><th>Status</th><th>Tests</th></tr></thead><tbody>\n");
        for v in &p.validation {
            let r = &v.run;
            let mut tests = String::new();
            for t in &v.tests {
                let _ = write!(
                    tests,
                    "<div>{} <span class=\"muted\">{}</span> {}{}</div>",
                    test_status(&t.status),
                    esc(&t.suite),
                    esc(&t.name),
                    t.detail
                        .as_ref()
                        .map(|d| format!(" <span class=\"muted small\">{}</span>", esc(d)))
                        .unwrap_or_default()
                );
            }
            if tests.is_empty() {
                tests.push_str("<span class=\"muted\">no test results stored</span>");
            }
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td><a href=\"{}\">{}</a></td><td class=\"mono small\">{}</td><td>{}</td><td>{tests}</td></tr>",
                esc(&r.kind),
                esc(&run_href(&r.id)),
                esc(r.model.as_deref().unwrap_or(&r.path)),
                esc(r.image_tag.as_deref().unwrap_or("—")),
                status(r.verdict.as_deref())
            );
        }
        b.push_str("</tbody></table>\n");
    }
    page(&p.hardware, hardware, &b, &api)
}

/// `/series`.
pub fn series(p: &SeriesPage, hardware: &[String], api: &str) -> String {
    let mut b = format!(
        "<h1>{} — {} {} on {}</h1>\n",
        esc(p.label),
        esc(&p.model),
        esc(&p.variant),
        esc(&p.hardware)
    );
    let _ = writeln!(
        b,
        "<p class=\"muted\">One chart per load point: the night's value (points link to the run), \
         the baseline it was judged against (dashed) and its band (shaded), {} rule; {}.</p>",
        esc(p.rule),
        if p.direction == "lower_is_better" {
            "lower is better"
        } else {
            "higher is better"
        }
    );
    if !p.choices.is_empty() {
        b.push_str("<p class=\"small\">Other series: ");
        for c in &p.choices {
            let href = format!(
                "/series?hardware={}&model={}&variant={}&metric={}",
                enc_query(&p.hardware),
                enc_query(&p.model),
                enc_query(&c.variant),
                enc_query(c.metric)
            );
            if c.variant == p.variant && c.metric == p.metric {
                let _ = write!(b, " <strong>{} {}</strong>", esc(&c.variant), esc(c.metric));
            } else {
                let _ = write!(
                    b,
                    " <a href=\"{}\">{} {}</a>",
                    esc(&href),
                    esc(&c.variant),
                    esc(c.metric)
                );
            }
        }
        b.push_str("</p>\n");
    }
    b.push_str(&legend(p.rule));
    if p.loads.is_empty() {
        let _ = writeln!(
            b,
            "<p class=\"empty\">No nights of {} for {} {} on {} in the store.</p>",
            esc(p.metric),
            esc(&p.model),
            esc(&p.variant),
            esc(&p.hardware)
        );
    }
    for l in &p.loads {
        let _ = writeln!(b, "<h2>{}</h2>", esc(&l.load));
        b.push_str(&svg::chart(
            &l.nights,
            &format!("{} at {}", p.label, l.load),
            "ms",
        ));
        b.push_str("\n<table class=\"series\"><thead><tr><th>Night</th><th>Image</th><th>Value</th><th>Baseline</th><th>Band</th><th>Verdict</th></tr></thead><tbody>\n");
        for n in l.nights.iter().rev() {
            let night = match &n.run {
                Some(id) => format!("<a href=\"{}\">{}</a>", esc(&run_href(id)), esc(&n.date)),
                None => esc(&n.date),
            };
            let mut flags = String::new();
            if n.fallback {
                flags.push_str("<span class=\"badge fallback\">fallback image</span>");
            }
            if n.simulated {
                flags.push_str("<span class=\"badge sim\">simulated</span>");
            }
            let band = match (n.band_low, n.band_high) {
                (Some(lo), Some(hi)) => format!("{} – {}", num(lo), num(hi)),
                _ => "—".to_owned(),
            };
            let _ = writeln!(
                b,
                "<tr><td>{night}{flags}</td><td class=\"mono small\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{band}</td><td class=\"{}\" title=\"{}\">{}</td></tr>",
                esc(&n.image_tag),
                num(n.value),
                n.baseline.map(num).unwrap_or_else(|| "—".into()),
                verdict_class(&n.verdict),
                esc(&n.evidence),
                esc(&n.verdict)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    page(p.label, hardware, &b, api)
}

/// `/run/<id>`.
pub fn run(p: &RunPage, hardware: &[String]) -> String {
    let r = &p.run;
    let mut b = format!(
        "<h1>{} {} {} <span class=\"muted\">{}</span></h1>\n",
        esc(r.model.as_deref().unwrap_or(&r.kind)),
        esc(r.variant.as_deref().unwrap_or("")),
        esc(r.mode.as_deref().unwrap_or("")),
        esc(r.night.as_deref().unwrap_or(""))
    );
    let _ = writeln!(b, "<p>{}{}</p>", status(r.verdict.as_deref()), badges(r));
    b.push_str("<h2>Provenance</h2>\n<dl class=\"prov\">");
    let opt = |v: &Option<String>| esc(v.as_deref().unwrap_or("—"));
    let rows: Vec<(&str, String)> = vec![
        (
            "Run id",
            format!("<span class=\"mono\">{}</span>", esc(&r.id)),
        ),
        ("Kind", esc(&r.kind)),
        (
            "Hardware",
            format!(
                "<a href=\"/hardware/{}\">{}</a>",
                enc_query(&r.hardware),
                esc(&r.hardware)
            ),
        ),
        ("Host", esc(&r.host)),
        (
            "Image",
            format!("<span class=\"mono\">{}</span>", opt(&r.image_tag)),
        ),
        ("Image date", opt(&r.image_date)),
        ("Night", opt(&r.night)),
        (
            "Fallback image",
            if r.fallback_image {
                "yes".into()
            } else {
                "no".into()
            },
        ),
        (
            "Engine",
            if r.simulated {
                "simulated".into()
            } else {
                "real".into()
            },
        ),
        ("Started", opt(&r.started_at)),
        ("Ended", opt(&r.ended_at)),
        (
            "Exit status",
            r.exit_status
                .map(|e| e.to_string())
                .unwrap_or_else(|| "—".into()),
        ),
        (
            "Folder",
            format!("<span class=\"mono\">{}</span>", esc(&r.path)),
        ),
        (
            "Content SHA-256",
            format!(
                "<span class=\"mono small\">{}</span>",
                esc(&p.content_sha256)
            ),
        ),
        ("Stored", esc(&p.ingested_at)),
    ];
    for (k, v) in rows {
        let _ = write!(b, "<dt>{k}</dt><dd>{v}</dd>");
    }
    b.push_str("</dl>\n");
    if !p.key_metrics.is_empty() {
        b.push_str("<h2>Against the baseline</h2>\n<table><thead><tr><th>Metric</th><th>Load</th><th>Value</th><th>Baseline</th><th>Change</th><th>Band</th><th>Verdict</th></tr></thead><tbody>\n");
        for km in &p.key_metrics {
            for l in &km.loads {
                let _ = writeln!(
                    b,
                    "<tr><td><a href=\"{}\">{}</a></td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"{}\" title=\"{}\">{}</td></tr>",
                    esc(&series_href(r, km.metric)),
                    esc(km.label),
                    esc(&l.load),
                    l.value.map(num).unwrap_or_else(|| "—".into()),
                    l.baseline.map(num).unwrap_or_else(|| "—".into()),
                    l.change_pct.map(pct).unwrap_or_else(|| "—".into()),
                    l.band_pct
                        .map(|v| format!("±{v:.1}%"))
                        .unwrap_or_else(|| "—".into()),
                    verdict_class(&l.verdict),
                    esc(&l.evidence),
                    esc(&l.verdict)
                );
            }
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("<h2>GSM8K</h2>\n");
    if p.gsm8k.is_empty() {
        b.push_str("<p class=\"empty\">No GSM8K accuracy stored for this run.</p>\n");
    } else {
        b.push_str("<table><thead><tr><th>Subject</th><th>Accuracy</th><th>n</th><th>Required</th><th>Passed</th><th>Source</th></tr></thead><tbody>\n");
        for g in &p.gsm8k {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"mono small\"><a href=\"/files/{}\">{}</a>:{}</td></tr>",
                esc(&g.subject),
                esc(&g.text),
                g.n.map(|n| format!("{n} {}", g.n_unit.as_deref().unwrap_or("")))
                    .unwrap_or_else(|| "—".into()),
                g.required.map(num).unwrap_or_else(|| "—".into()),
                match g.passed {
                    Some(true) => "yes",
                    Some(false) => "no",
                    None => "—",
                },
                esc(&enc_path(&g.source_path)),
                esc(&g.source_path),
                g.source_line
            );
        }
        b.push_str("</tbody></table>\n");
    }
    if !p.tests.is_empty() {
        b.push_str("<h2>Tests</h2>\n<table><thead><tr><th>Suite</th><th>Name</th><th>Status</th><th>Detail</th><th>Value</th></tr></thead><tbody>\n");
        for t in &p.tests {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td class=\"small\">{}</td><td class=\"n\">{}</td></tr>",
                esc(&t.suite),
                esc(&t.name),
                test_status(&t.status),
                esc(t.detail.as_deref().unwrap_or("")),
                t.value.map(num).unwrap_or_default()
            );
        }
        b.push_str("</tbody></table>\n");
    }
    b.push_str("<h2>Files</h2>\n");
    if p.files.is_empty() {
        b.push_str("<p class=\"empty\">No files stored for this run.</p>\n");
    } else {
        b.push_str("<table><thead><tr><th>File</th><th>Kind</th><th>Bytes</th><th>Parsed</th></tr></thead><tbody>\n");
        for f in &p.files {
            let _ = writeln!(
                b,
                "<tr><td class=\"mono small\"><a href=\"/files/{}\">{}</a></td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                esc(&enc_path(&f.path)),
                esc(&f.path),
                esc(&f.kind),
                f.bytes,
                esc(&f.parsed)
            );
        }
        b.push_str("</tbody></table>\n");
    }
    let _ = writeln!(b, "<h2>Every number ({})</h2>", p.metrics.len());
    if p.metrics.is_empty() {
        b.push_str("<p class=\"empty\">No numbers stored for this run.</p>\n");
    } else {
        b.push_str("<table class=\"numbers\"><thead><tr><th>Metric</th><th>Load</th><th>Sample</th><th>Value</th><th>Unit</th><th>Source</th></tr></thead><tbody>\n");
        for m in &p.metrics {
            let _ = writeln!(
                b,
                "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td>{}</td><td class=\"mono small\">{}:{}</td></tr>",
                esc(&m.metric),
                esc(&m.load),
                m.sample,
                esc(&m.text),
                esc(&m.unit),
                esc(&m.source_path),
                m.source_line
            );
        }
        b.push_str("</tbody></table>\n");
    }
    page(
        &format!(
            "{} {}",
            r.model.as_deref().unwrap_or(&r.kind),
            r.night.as_deref().unwrap_or("")
        ),
        hardware,
        &b,
        &format!("/api/run/{}", enc_path(&r.id)),
    )
}

/// Example questions on the explorer page.
const EXAMPLES: [(&str, &str); 4] = [
    (
        "Latest nights",
        "SELECT night, hardware, model, variant, mode, verdict FROM runs WHERE kind = 'online' ORDER BY night DESC LIMIT 50",
    ),
    (
        "TTFT at one load",
        "SELECT r.night, r.hardware, r.model, r.mode, m.load, m.value FROM metrics m JOIN runs r ON r.run_key = m.run_key WHERE m.metric = 'ttft_median' AND m.sample = 0 ORDER BY r.night DESC, m.load",
    ),
    (
        "GSM8K accuracy",
        "SELECT r.night, r.hardware, g.subject, g.accuracy, g.n, g.n_unit FROM gsm8k g JOIN runs r ON r.run_key = g.run_key ORDER BY r.night DESC",
    ),
    (
        "Failed tests",
        "SELECT r.night, r.hardware, t.suite, t.name, t.detail FROM test_results t JOIN runs r ON r.run_key = t.run_key WHERE t.status = 'fail' ORDER BY r.night DESC",
    ),
];

/// The explorer's answer, as the page shows it.
pub enum SqlOutcome {
    /// No question yet.
    Empty,
    /// Rows.
    Rows(Capped, f64),
    /// Refused or failed, with the message.
    Refused(String),
}

fn cell(v: &Value) -> String {
    v.as_text().unwrap_or_default()
}

/// `/coverage`.
pub fn coverage(p: &CoveragePage, hardware: &[String]) -> String {
    let mut b = String::from("<h1>Upstream CI coverage</h1>\n");
    let _ = writeln!(
        b,
        "<p class=\"muted\">AMD against NVIDIA test counts per upstream SGLang CI category, from \
         the reports <code>compare-suites</code> writes to <code class=\"mono\">{}</code>.</p>",
        esc(&p.dir)
    );
    for problem in &p.problems {
        let _ = writeln!(b, "<p class=\"small\">Not shown: {}</p>", esc(problem));
    }
    let Some(latest) = &p.latest else {
        let _ = writeln!(
            b,
            "<p class=\"empty\">No coverage reports in {} (run <code>compare-suites</code> there).</p>",
            esc(&p.dir)
        );
        return page("Upstream CI coverage", hardware, &b, "/api/coverage");
    };
    let _ = writeln!(
        b,
        "<h2>Newest report: {} <span class=\"small mono\">{}</span></h2>",
        esc(&latest.date),
        esc(&latest.file)
    );
    b.push_str("<table><thead><tr><th>Section</th><th>Test category</th><th>AMD tests</th><th>NVIDIA tests</th><th>AMD coverage</th></tr></thead><tbody>\n");
    for r in &latest.rows {
        let (open, close) = if r.kind == "category" {
            ("", "")
        } else {
            ("<strong>", "</strong>")
        };
        let _ = writeln!(
            b,
            "<tr><td class=\"small\">{}</td><td>{open}{}{close}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{open}{}{close}</td></tr>",
            esc(r
                .section
                .as_deref()
                .filter(|_| r.kind != "total")
                .unwrap_or("")),
            esc(&r.category),
            r.amd,
            r.nvidia,
            esc(&r.coverage)
        );
    }
    b.push_str("</tbody></table>\n<h2>Total coverage over time</h2>\n");
    let nights: Vec<SeriesNight> = p
        .reports
        .iter()
        .rev()
        .filter_map(|r| {
            Some(SeriesNight {
                date: r.date.clone(),
                value: r.coverage_pct? as f64,
                image_tag: r.file.clone(),
                fallback: false,
                simulated: false,
                run: None,
                source: r.file.clone(),
                baseline: None,
                band_low: None,
                band_high: None,
                verdict: "total coverage".to_owned(),
                evidence: String::new(),
            })
        })
        .collect();
    b.push_str(&svg::chart(&nights, "total AMD coverage", "%"));
    b.push_str("\n<table class=\"series\"><thead><tr><th>Report</th><th>AMD tests</th><th>NVIDIA tests</th><th>AMD coverage</th></tr></thead><tbody>\n");
    for r in &p.reports {
        let _ = writeln!(
            b,
            "<tr><td>{} <span class=\"small mono\">{}</span></td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            esc(&r.date),
            esc(&r.file),
            r.amd,
            r.nvidia,
            esc(&r.coverage)
        );
    }
    b.push_str("</tbody></table>\n");
    page("Upstream CI coverage", hardware, &b, "/api/coverage")
}

/// `/sql`.
pub fn sql(
    q: &str,
    outcome: &SqlOutcome,
    schema: &[SchemaTable],
    hardware: &[String],
    backend: &str,
    max_rows: usize,
    timeout_s: f64,
) -> String {
    let mut b = String::from("<h1>SQL explorer</h1>\n");
    let _ = writeln!(
        b,
        "<p class=\"muted\">Read-only: one statement, on a {backend} connection that cannot write \
         (SQLite: read-only file and query_only; PostgreSQL: a READ ONLY transaction, rolled \
         back). At most {max_rows} rows; a statement is cut after {timeout_s} s.</p>"
    );
    b.push_str("<div class=\"cols\"><div style=\"flex:1\">\n");
    let _ = write!(
        b,
        "<form method=\"get\" action=\"/sql\"><textarea name=\"q\" spellcheck=\"false\">{}</textarea><br>\
         <button type=\"submit\">Run</button>",
        esc(q)
    );
    if !q.trim().is_empty() {
        let _ = write!(
            b,
            " <a href=\"/api/sql?q={}&amp;format=csv\" download>Download CSV</a> · <a href=\"/api/sql?q={}\">JSON</a>",
            enc_query(q),
            enc_query(q)
        );
    }
    b.push_str("</form>\n");
    match outcome {
        SqlOutcome::Empty => {
            b.push_str("<p class=\"muted\">Examples: ");
            for (name, ex) in EXAMPLES {
                let _ = write!(b, " <a href=\"/sql?q={}\">{}</a>", enc_query(ex), esc(name));
            }
            b.push_str("</p>\n");
        }
        SqlOutcome::Refused(msg) => {
            let _ = writeln!(b, "<p class=\"error\" id=\"sql-error\">{}</p>", esc(msg));
        }
        SqlOutcome::Rows(c, ms) => {
            let _ = writeln!(
                b,
                "<p class=\"muted\" id=\"sql-count\">{} row{}{} in {ms:.1} ms</p>",
                c.rows.rows.len(),
                if c.rows.rows.len() == 1 { "" } else { "s" },
                if c.truncated {
                    format!(" (cut at {max_rows}: download the CSV or narrow the query)")
                } else {
                    String::new()
                }
            );
            if c.rows.rows.is_empty() {
                b.push_str("<p class=\"empty\">The statement returned no rows.</p>\n");
            } else {
                b.push_str("<table class=\"sql\"><thead><tr>");
                for col in &c.rows.columns {
                    let _ = write!(b, "<th>{}</th>", esc(col));
                }
                b.push_str("</tr></thead><tbody>\n");
                for row in &c.rows.rows {
                    b.push_str("<tr>");
                    for v in row {
                        let class = if matches!(v, Value::Int(_) | Value::Real(_)) {
                            " class=\"n\""
                        } else {
                            ""
                        };
                        let _ = write!(b, "<td{class}>{}</td>", esc(&cell(v)));
                    }
                    b.push_str("</tr>\n");
                }
                b.push_str("</tbody></table>\n");
            }
        }
    }
    b.push_str("</div><aside><h2>Schema</h2>\n");
    if schema.is_empty() {
        b.push_str("<p class=\"empty\">No tables.</p>");
    }
    for t in schema {
        let _ = write!(
            b,
            "<h3 class=\"mono\">{}</h3><ul class=\"small mono\">",
            esc(&t.table)
        );
        for (c, ty) in &t.columns {
            let _ = write!(
                b,
                "<li>{} <span class=\"muted\">{}</span></li>",
                esc(c),
                esc(ty)
            );
        }
        b.push_str("</ul>\n");
    }
    b.push_str("<p class=\"small\">docs/history.md describes every table.</p></aside></div>\n");
    page("SQL explorer", hardware, &b, "/api/sql?q=")
}

/// An error page.
pub fn error(status: u16, message: &str, hardware: &[String]) -> String {
    let what = match status {
        400 => "Bad request",
        404 => "Not found",
        503 => "The history store is not available",
        _ => "Error",
    };
    let body = format!(
        "<h1>{status} {what}</h1>\n<p class=\"error\">{}</p>\n<p><a href=\"/\">Back to the overview</a></p>\n",
        esc(message)
    );
    page(what, hardware, &body, "")
}
