//! The directory-listing page.
//!
//! The original's shape is kept (`<h1>TITLE</h1><hr><ul><li><a href=…>NAME</a></li>…</ul><hr>`,
//! code-point order, a trailing `/` for directories and `@` for symlinks, no `..` entry), with
//! the fixes: links are percent-encoded (quirk P1), every row shows size and modification time
//! (Pacific time, as everything else in the toolkit), images are previewed inline, and a
//! breadcrumb line leads back up the tree.

use std::fmt::Write as _;
use std::os::unix::ffi::OsStrExt;
use std::time::SystemTime;

use chrono::{DateTime, Utc};
use chrono_tz::America::Los_Angeles;

use crate::fsmap::Entry;
use crate::headers::{human_size, is_image};
use crate::urlpath::{SafePath, encode_segment};

/// Escapes `&`, `<`, `>` and `"` for HTML text and double-quoted attribute values (the only
/// attribute quoting this crate writes).
pub fn escape_html(s: &str) -> String {
    escape_markup(s, false)
}

/// [`escape_html`], and with `apostrophe` also `'` (as `&#39;`, for single-quoted values).
pub fn escape_markup(s: &str, apostrophe: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' if apostrophe => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// `2025-11-05 10:00 PST`
fn pacific(t: SystemTime) -> String {
    DateTime::<Utc>::from(t)
        .with_timezone(&Los_Angeles)
        .format("%Y-%m-%d %H:%M %Z")
        .to_string()
}

const STYLE: &str = "\
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--soft:#f6f8fa;--link:#0550ae}\
*{box-sizing:border-box}\
body{margin:0 auto;max-width:1360px;padding:18px 28px 28px;color:var(--fg);background:#fff;\
font:15px/1.45 system-ui,-apple-system,\"Segoe UI\",Roboto,\"Noto Sans\",\"DejaVu Sans\",Arial,sans-serif}\
h1{font-size:24px;margin:0 0 4px;font-weight:600}\
a{color:var(--link);text-decoration:none}a:hover{text-decoration:underline}\
nav{color:var(--muted);font-size:15px}nav a{font-weight:500}\
hr{border:0;border-top:1px solid var(--line);margin:14px 0}\
ul{list-style:none;margin:0;padding:0;display:grid;gap:10px;\
grid-template-columns:repeat(auto-fill,minmax(340px,1fr))}\
li{grid-column:1/-1;display:grid;grid-template-columns:1fr 9em 13em;gap:12px;align-items:baseline;\
padding:8px 12px;border:1px solid var(--line);border-radius:8px}\
li:hover{background:var(--soft)}\
li>a{overflow-wrap:anywhere}\
li.dir>a{font-weight:600}\
li.dir>a::before{content:\"\";display:inline-block;width:17px;height:13px;margin:0 9px -1px 0;\
border-radius:2px 4px 3px 3px;background:#54aeff;box-shadow:inset 0 3px 0 #218bff}\
li.file>a::before{content:\"\";display:inline-block;width:12px;height:15px;margin:0 11px -2px 3px;\
border:1.5px solid #8c959f;border-radius:2px 5px 2px 2px}\
.size,.date{color:var(--muted);font-size:13px;font-variant-numeric:tabular-nums;text-align:right;white-space:nowrap}\
li.img{grid-column:auto;grid-template-columns:1fr auto;gap:4px 12px;padding:10px;align-content:start}\
li.img .thumb{grid-column:1/-1;display:block;background:var(--soft);border-radius:6px;overflow:hidden;margin-bottom:4px}\
li.img .thumb img{display:block;width:100%;height:auto;aspect-ratio:10/9;object-fit:contain}\
li.img>a:not(.thumb){font-size:14px;font-weight:500}\
li.img .date{grid-column:1/-1;text-align:left}\
p.empty{color:var(--muted);font-style:italic}\
footer{color:var(--muted);font-size:13px}";

/// Renders the listing page of the directory at `path` (the request path, already checked).
pub fn render(title: &str, path: &SafePath, entries: &[Entry]) -> String {
    render_at("", title, path, entries)
}

/// [`render`] for a tree served below the URL prefix `mount` (`/plots`; empty at the root):
/// the breadcrumb links carry the prefix.
pub fn render_at(mount: &str, title: &str, path: &SafePath, entries: &[Entry]) -> String {
    let title = escape_html(title);
    let url = escape_html(&path.url(true));
    let mut html = String::with_capacity(2048 + entries.len() * 400);
    // `write!` into a String cannot fail; the results are ignored on purpose.
    let _ = write!(
        html,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <title>{title} \u{2014} {url}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n\
         <h1>{title}</h1>\n<nav>"
    );
    breadcrumbs(&mut html, mount, path);
    html.push_str("</nav>\n<hr>\n<ul>\n");
    for e in entries {
        entry(&mut html, e);
    }
    html.push_str("</ul>\n");
    if entries.is_empty() {
        html.push_str("<p class=\"empty\">This folder is empty.</p>\n");
    }
    let n = entries.len();
    let _ = write!(
        html,
        "<hr>\n<footer>{n} entr{} \u{b7} times in Pacific time \u{b7} sorted by name</footer>\n\
         </body>\n</html>\n",
        if n == 1 { "y" } else { "ies" }
    );
    html
}

fn breadcrumbs(html: &mut String, mount: &str, path: &SafePath) {
    let mount = escape_html(mount);
    let _ = write!(html, "<a href=\"{mount}/\">/</a>");
    let mut href = format!("{mount}/");
    for seg in &path.segments {
        href.push_str(&encode_segment(seg));
        href.push('/');
        let _ = write!(
            html,
            " <a href=\"{href}\">{}</a> /",
            escape_html(&seg.to_string_lossy())
        );
    }
}

fn entry(html: &mut String, e: &Entry) {
    let name = e.name.to_string_lossy();
    let mut link = encode_segment(&e.name);
    let mut display = escape_html(&name);
    if e.is_dir {
        link.push('/');
    }
    if e.is_symlink {
        display.push('@');
    } else if e.is_dir {
        display.push('/');
    }
    let size = match (e.is_dir, e.size) {
        (true, Some(0)) => "empty".to_owned(),
        (true, Some(1)) => "1 item".to_owned(),
        (true, Some(n)) => format!("{n} items"),
        (false, Some(n)) => human_size(n),
        (_, None) => String::new(),
    };
    let date = e.modified.map(pacific).unwrap_or_default();
    if !e.is_dir && is_image(e.name.as_bytes()) {
        let _ = writeln!(
            html,
            "<li class=\"img\"><a class=\"thumb\" href=\"{link}\"><img src=\"{link}\" alt=\"{display}\" \
             loading=\"lazy\"></a><a href=\"{link}\">{display}</a><span class=\"size\">{size}</span>\
             <span class=\"date\">{date}</span></li>"
        );
    } else {
        let class = if e.is_dir { "dir" } else { "file" };
        let _ = writeln!(
            html,
            "<li class=\"{class}\"><a href=\"{link}\">{display}</a><span class=\"size\">{size}</span>\
             <span class=\"date\">{date}</span></li>"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsString;
    use std::time::{Duration, UNIX_EPOCH};

    fn e(name: &str, is_dir: bool, size: u64) -> Entry {
        Entry {
            name: OsString::from(name),
            is_dir,
            is_symlink: false,
            size: Some(size),
            modified: Some(UNIX_EPOCH + Duration::from_secs(1_762_365_600)),
        }
    }

    #[test]
    fn links_are_encoded_and_names_escaped() {
        let path = crate::urlpath::parse("/mi30x/GROK1/").unwrap();
        let html = render(
            "SGL <Plots>",
            &path,
            &[
                e("a b#1%.csv", false, 10),
                e("online", true, 3),
                e("x\"y.png", false, 2048),
            ],
        );
        assert!(html.contains("<h1>SGL &lt;Plots&gt;</h1>"));
        assert!(
            html.contains("<a href=\"a%20b%231%25.csv\">a b#1%.csv</a>"),
            "{html}"
        );
        assert!(html.contains("<a href=\"online/\">online/</a><span class=\"size\">3 items"));
        assert!(html.contains("<img src=\"x%22y.png\" alt=\"x&quot;y.png\""));
        assert!(html.contains("<span class=\"size\">2.0 KiB</span>"));
        // 2025-11-05 18:00 UTC is 10:00 PST
        assert!(html.contains("2025-11-05 10:00 PST"), "{html}");
        assert!(html.contains(
            "<a href=\"/\">/</a> <a href=\"/mi30x/\">mi30x</a> / <a href=\"/mi30x/GROK1/\">GROK1</a> /"
        ));
        assert!(html.contains("3 entries"));
    }

    #[test]
    fn empty_folders_say_so() {
        let html = render("T", &crate::urlpath::parse("/").unwrap(), &[]);
        assert!(html.contains("This folder is empty."));
        assert!(html.contains("<ul>\n</ul>"));
    }
}
