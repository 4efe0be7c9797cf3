//! Issue 12, plots-server limits: a request head is at most the documented 64 KiB (112 KiB was
//! accepted), and a folder's item count in a listing counts what that folder's listing shows
//! (FIFOs and symlinks that leave the root or dangle were counted).
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::fs;

use support::http::{raw, raw_status};
use support::plots_server::*;

/// A GET with one `X-Fill` header making the head exactly `size` bytes.
fn request_of_size(size: usize) -> String {
    let fixed = "GET /c.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fill: \r\n\r\n".len();
    format!(
        "GET /c.txt HTTP/1.1\r\nHost: x\r\nConnection: close\r\nX-Fill: {}\r\n\r\n",
        "a".repeat(size - fixed)
    )
}

#[test]
fn request_heads_above_64_kib_are_refused() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let ok = raw(s.port, &request_of_size(64 * 1024));
    assert_eq!(raw_status(&ok), 200, "exactly 64 KiB is allowed");
    for size in [64 * 1024 + 1, 112 * 1024] {
        let resp = raw(s.port, &request_of_size(size));
        assert_eq!(raw_status(&resp), 431, "{size} bytes: {resp:.200}");
    }
    assert_eq!(get(&s.url("/c.txt")).status, 200, "still serving");
}

#[test]
fn a_folders_item_count_counts_what_its_listing_shows() {
    let t = tree();
    let d = t.root.join("counted");
    fs::create_dir(&d).unwrap();
    fs::write(d.join("shown.png"), png_bytes(4, 4, 9)).unwrap();
    std::os::unix::fs::symlink(t.outside.join("secret.txt"), d.join("escape.txt")).unwrap();
    std::os::unix::fs::symlink(d.join("nope"), d.join("dangling")).unwrap();
    let fifo = std::process::Command::new("mkfifo")
        .arg(d.join("pipe"))
        .status()
        .unwrap();
    assert!(fifo.success());
    let s = Server::start(&t.root, &[]);
    let inner = get(&s.url("/counted/")).text();
    assert_eq!(entry_count(&inner), 1, "{inner}");
    let top = get(&s.url("/")).text();
    assert!(
        top.contains("<a href=\"counted/\">counted/</a><span class=\"size\">1 item"),
        "{top}"
    );
}

/// How many entries a listing page shows.
fn entry_count(html: &str) -> usize {
    html.split_once("<ul>")
        .and_then(|(_, rest)| rest.split_once("</ul>"))
        .map_or(0, |(l, _)| l.matches("<li").count())
}
