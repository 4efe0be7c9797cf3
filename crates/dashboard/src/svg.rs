//! The one chart the dashboard draws: a metric over the nights with its baseline band, as an
//! inline SVG written here (no plotting library, no script). Each night is a point that links
//! to its run; its colour is the verdict that night got.

use std::fmt::Write as _;

use report::regression::Date;

use crate::data::{SeriesNight, verdict_class};
use crate::html::{esc, num, run_href};

const W: f64 = 760.0;
const H: f64 = 240.0;
const LEFT: f64 = 64.0;
const RIGHT: f64 = 16.0;
const TOP: f64 = 14.0;
const BOTTOM: f64 = 34.0;

fn day(date: &str) -> Option<i64> {
    Date::parse(&date.replace('-', "")).map(Date::days)
}

fn colour(verdict: &str) -> &'static str {
    match verdict_class(verdict) {
        "regression" => "#c62828",
        "suspicious" => "#e09000",
        "improved" => "#2e7d32",
        "nochange" => "#1f5fbf",
        _ => "#8a94a0",
    }
}

/// The chart of `nights` (oldest first); `unit` labels the y axis.
pub fn chart(nights: &[SeriesNight], label: &str, unit: &str) -> String {
    let pts: Vec<(i64, &SeriesNight)> = nights
        .iter()
        .filter(|n| n.value.is_finite())
        .filter_map(|n| Some((day(&n.date)?, n)))
        .collect();
    if pts.is_empty() {
        return "<p class=\"empty\">No nights to draw.</p>".to_owned();
    }
    let (x0, x1) = (pts[0].0, pts[pts.len() - 1].0);
    let mut lo = f64::INFINITY;
    let mut hi = f64::NEG_INFINITY;
    for (_, n) in &pts {
        for v in [Some(n.value), n.band_low, n.band_high]
            .into_iter()
            .flatten()
        {
            if v.is_finite() {
                lo = lo.min(v);
                hi = hi.max(v);
            }
        }
    }
    let pad = ((hi - lo) * 0.08).max(hi.abs() * 0.02).max(1e-9);
    let (lo, hi) = ((lo - pad).max(0.0), hi + pad);
    let span_x = (x1 - x0).max(1) as f64;
    let x = |d: i64| {
        if x1 == x0 {
            LEFT + (W - LEFT - RIGHT) / 2.0
        } else {
            LEFT + (d - x0) as f64 / span_x * (W - LEFT - RIGHT)
        }
    };
    let y = |v: f64| TOP + (hi - v) / (hi - lo) * (H - TOP - BOTTOM);
    let mut s = String::with_capacity(4096 + pts.len() * 300);
    let _ = write!(
        s,
        "<svg class=\"chart\" xmlns=\"http://www.w3.org/2000/svg\" width=\"{W}\" height=\"{H}\" \
         viewBox=\"0 0 {W} {H}\" role=\"img\" aria-label=\"{}\">",
        esc(label)
    );
    // grid and y labels
    for i in 0..=4 {
        let v = lo + (hi - lo) * f64::from(i) / 4.0;
        let yy = y(v);
        let _ = write!(
            s,
            "<line x1=\"{LEFT}\" x2=\"{}\" y1=\"{yy:.1}\" y2=\"{yy:.1}\" stroke=\"#e6e9ed\"/>\
             <text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>",
            W - RIGHT,
            LEFT - 6.0,
            yy + 4.0,
            esc(&num(v))
        );
    }
    let _ = write!(
        s,
        "<text x=\"12\" y=\"{:.1}\" transform=\"rotate(-90 12 {:.1})\" text-anchor=\"middle\">{}</text>",
        (TOP + H - BOTTOM) / 2.0,
        (TOP + H - BOTTOM) / 2.0,
        esc(unit)
    );
    // x labels: left to right, each at least 90 px from the one before
    let mut last_label = f64::NEG_INFINITY;
    for (d, n) in &pts {
        let xx = x(*d);
        if xx - last_label < 90.0 {
            continue;
        }
        last_label = xx;
        let anchor = if xx > W - RIGHT - 40.0 {
            "end"
        } else if xx < LEFT + 40.0 {
            "start"
        } else {
            "middle"
        };
        let _ = write!(
            s,
            "<text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"{anchor}\">{}</text>",
            H - BOTTOM + 16.0,
            esc(&n.date)
        );
    }
    // the band, in stretches of consecutive nights that have one
    let mut stretch: Vec<(f64, f64, f64)> = Vec::new();
    let flush = |stretch: &mut Vec<(f64, f64, f64)>, s: &mut String| {
        if stretch.len() >= 2 {
            let mut d = String::new();
            for (i, (xx, _, h)) in stretch.iter().enumerate() {
                let _ = write!(d, "{}{xx:.1},{:.1} ", if i == 0 { "M" } else { "L" }, y(*h));
            }
            for (xx, l, _) in stretch.iter().rev() {
                let _ = write!(d, "L{xx:.1},{:.1} ", y(*l));
            }
            let _ = write!(
                s,
                "<path d=\"{d}Z\" fill=\"#1f5fbf\" fill-opacity=\"0.12\"/>"
            );
        } else if let Some((xx, l, h)) = stretch.first() {
            let _ = write!(
                s,
                "<line x1=\"{xx:.1}\" x2=\"{xx:.1}\" y1=\"{:.1}\" y2=\"{:.1}\" stroke=\"#1f5fbf\" stroke-opacity=\"0.3\" stroke-width=\"6\"/>",
                y(*l),
                y(*h)
            );
        }
        stretch.clear();
    };
    for (d, n) in &pts {
        match (n.band_low, n.band_high) {
            (Some(l), Some(h)) => stretch.push((x(*d), l, h)),
            _ => flush(&mut stretch, &mut s),
        }
    }
    flush(&mut stretch, &mut s);
    // baseline (dashed) and values
    let mut base = String::new();
    for (d, n) in &pts {
        if let Some(b) = n.baseline {
            let _ = write!(base, "{:.1},{:.1} ", x(*d), y(b));
        }
    }
    if !base.is_empty() {
        let _ = write!(
            s,
            "<polyline points=\"{}\" fill=\"none\" stroke=\"#1f5fbf\" stroke-opacity=\"0.6\" stroke-dasharray=\"4 3\"/>",
            base.trim_end()
        );
    }
    let line: Vec<String> = pts
        .iter()
        .map(|(d, n)| format!("{:.1},{:.1}", x(*d), y(n.value)))
        .collect();
    let _ = write!(
        s,
        "<polyline points=\"{}\" fill=\"none\" stroke=\"#34414f\" stroke-width=\"1.5\"/>",
        line.join(" ")
    );
    for (d, n) in &pts {
        let dot = format!(
            "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"{}\" fill=\"{}\" stroke=\"#fff\"><title>{} {}: {} ({})</title></circle>",
            x(*d),
            y(n.value),
            if n.fallback || n.simulated { 3.5 } else { 4.5 },
            colour(&n.verdict),
            esc(&n.date),
            esc(&n.image_tag),
            esc(&num(n.value)),
            esc(&n.verdict)
        );
        match &n.run {
            Some(id) => {
                let _ = write!(s, "<a href=\"{}\">{dot}</a>", esc(&run_href(id)));
            }
            None => s.push_str(&dot),
        }
    }
    s.push_str("</svg>");
    s
}
