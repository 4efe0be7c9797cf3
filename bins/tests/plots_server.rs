//! plots-server end to end: the real binary on 127.0.0.1 with a temp plots tree, a real HTTP
//! client (ureq) and raw TCP for requests a client library would clean up.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::fs;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use support::http::{assert_one_connection_at_a_time, assert_slow_head_cut, raw, raw_status};
use support::plots_server::*;

/// The entry links of a listing page, in page order (each image links twice: once each).
fn entry_links(html: &str) -> Vec<String> {
    let list = html
        .split_once("<ul>")
        .and_then(|(_, rest)| rest.split_once("</ul>"))
        .map(|(l, _)| l)
        .expect("listing has a <ul>");
    let mut links = hrefs(list);
    links.dedup();
    links
}

#[test]
fn listing_is_sorted_encoded_and_previews_images() {
    let t = tree();
    let s = Server::start(&t.root, &["--title=Nightly <Plots>"]);
    let r = get(&s.url("/"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("text/html; charset=utf-8"));
    let html = r.text();
    assert!(html.contains("<h1>Nightly &lt;Plots&gt;</h1>"), "{html}");
    // Code-point order, dot-files included, directories with '/', escaping links left out.
    let odd = "sp%20ace%20%231%20100%25%20%C3%BCn%C3%AF%20%E5%9B%BE%3F.txt";
    assert_eq!(
        entry_links(&html),
        [
            ".hidden",
            "A.txt",
            "README.md",
            "Z.png",
            "a.log",
            "b.csv",
            "big.log",
            "c.txt",
            "data.json",
            "empty/",
            "link_dir/",
            "link_in.png",
            "mi30x/",
            "mi35x/",
            "site/",
            odd,
        ]
    );
    assert!(
        !html.contains("link_out"),
        "escaping symlinks must not be listed"
    );
    assert!(
        !html.contains("passwd"),
        "escaping symlinks must not be listed"
    );
    // symlinks are shown with '@' as in the original
    assert!(html.contains(">link_in.png@</a>"));
    assert!(html.contains(">link_dir@</a>"));
    // previews, sizes, Pacific dates
    assert!(html.contains("<img src=\"Z.png\""), "{html}");
    assert!(html.contains("<img src=\"link_in.png\""));
    assert!(!html.contains("<img src=\"a.log\""));
    assert!(html.contains("14 B"), "size of the odd file");
    assert!(
        html.contains(" PST<") || html.contains(" PDT<"),
        "Pacific times"
    );
    assert!(html.contains(&format!(">{}</a>", "sp ace #1 100% ünï 图?.txt")));
    // nested listing: breadcrumbs and items
    let r = get(&s.url("/mi30x/GROK1/online/"));
    assert_eq!(r.status, 200);
    let html = r.text();
    assert_eq!(
        entry_links(&html),
        [
            "20251013_GROK1_online_standard.png",
            "20251014_GROK1_online_standard.png"
        ]
    );
    assert!(html.contains("<a href=\"/mi30x/\">mi30x</a> / <a href=\"/mi30x/GROK1/\">GROK1</a>"));
    let r = get(&s.url("/mi30x/GROK1/"));
    assert!(
        r.text()
            .contains("<a href=\"online/\">online/</a><span class=\"size\">2 items")
    );
    let r = get(&s.url("/empty/"));
    assert!(r.text().contains("This folder is empty."));
    // every listed link resolves
    for link in entry_links(&get(&s.url("/")).text()) {
        let r = get(&s.url(&format!("/{link}")));
        assert_eq!(r.status, 200, "{link}");
    }
}

#[test]
fn odd_names_mime_types_and_index_files() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let r = get(&s.url("/sp%20ace%20%231%20100%25%20%C3%BCn%C3%AF%20%E5%9B%BE%3F.txt"));
    assert_eq!(r.status, 200);
    assert_eq!(r.text(), "odd name body\n");
    for (path, mime) in [
        ("/a.log", "text/plain; charset=utf-8"),
        ("/b.csv", "text/plain; charset=utf-8"),
        ("/c.txt", "text/plain; charset=utf-8"),
        ("/README.md", "text/plain; charset=utf-8"),
        ("/data.json", "application/json"),
        ("/Z.png", "image/png"),
        ("/.hidden", "application/octet-stream"),
    ] {
        let r = get(&s.url(path));
        assert_eq!(r.status, 200, "{path}");
        assert_eq!(r.header("content-type"), Some(mime), "{path}");
        assert_eq!(
            r.header("x-content-type-options"),
            Some("nosniff"),
            "{path}"
        );
    }
    assert_eq!(
        get(&s.url("/Z.png")).body,
        fs::read(t.root.join("Z.png")).unwrap()
    );
    // a directory with index.html serves it
    let r = get(&s.url("/site/"));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("custom index"));
    // the query string is ignored for files
    assert_eq!(get(&s.url("/c.txt?v=1")).text(), "plain\n");
}

#[test]
fn head_redirects_404s_and_methods() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let png_len = fs::metadata(t.root.join("Z.png")).unwrap().len();
    let r = fetch("HEAD", &s.url("/Z.png"), &[]);
    assert_eq!(r.status, 200);
    assert_eq!(
        r.header("content-length"),
        Some(png_len.to_string().as_str())
    );
    assert!(r.body.is_empty());
    assert!(r.header("etag").is_some() && r.header("last-modified").is_some());
    // HEAD of a listing announces the GET body's length
    let get_len = get(&s.url("/mi30x/")).body.len();
    let r = fetch("HEAD", &s.url("/mi30x/"), &[]);
    assert_eq!(
        r.header("content-length"),
        Some(get_len.to_string().as_str())
    );
    assert!(r.body.is_empty());
    // directory without '/' -> 301 to the canonical URL, query kept
    let r = get(&s.url("/mi30x/GROK1?x=1"));
    assert_eq!(r.status, 301);
    assert_eq!(r.header("location"), Some("/mi30x/GROK1/?x=1"));
    // an empty-segment path is not an open redirect to another host
    fs::create_dir(t.root.join("evil.example")).unwrap();
    let resp = raw(
        s.port,
        "GET //evil.example HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(raw_status(&resp), 301);
    assert!(resp.contains("location: /evil.example/\r\n"), "{resp}");
    // 404s: missing, file with trailing slash, missing below a file
    for p in ["/nope.png", "/a.log/", "/a.log/x", "/mi30x/GROK9/"] {
        let r = get(&s.url(p));
        assert_eq!(r.status, 404, "{p}");
        assert!(r.text().contains("Error code: 404"), "{p}");
        assert!(r.text().contains("File not found."), "{p}");
    }
    // other methods: 501 as the original
    let resp = raw(
        s.port,
        "POST /a.log HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
    );
    assert_eq!(raw_status(&resp), 501);
    assert!(resp.contains("Unsupported method ('POST')"));
    assert!(resp.to_ascii_lowercase().contains("allow: get, head"));
}

#[test]
fn ranges_single_suffix_open_streaming_and_unsatisfiable() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let big = fs::read(t.root.join("big.log")).unwrap();
    let len = big.len();
    let r = fetch("GET", &s.url("/big.log"), &[("Range", "bytes=0-9")]);
    assert_eq!(r.status, 206);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes 0-9/{len}").as_str())
    );
    assert_eq!(r.body, &big[..10]);
    let r = fetch("GET", &s.url("/big.log"), &[("Range", "bytes=-7")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &big[len - 7..]);
    // across the 1 MiB boundary and to the end: streamed, still exact
    let r = fetch("GET", &s.url("/big.log"), &[("Range", "bytes=1000000-")]);
    assert_eq!(r.status, 206);
    assert_eq!(r.body, &big[1_000_000..]);
    let r = get(&s.url("/big.log"));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("accept-ranges"), Some("bytes"));
    assert_eq!(r.body, big, "full streamed body");
    // unsatisfiable
    let r = fetch(
        "GET",
        &s.url("/big.log"),
        &[("Range", &format!("bytes={len}-"))],
    );
    assert_eq!(r.status, 416);
    assert_eq!(
        r.header("content-range"),
        Some(format!("bytes */{len}").as_str())
    );
    // several ranges are answered with the whole file
    let r = fetch("GET", &s.url("/c.txt"), &[("Range", "bytes=0-1,3-4")]);
    assert_eq!((r.status, r.text().as_str()), (200, "plain\n"));
    // If-Range with a stale tag: whole file
    let r = fetch(
        "GET",
        &s.url("/c.txt"),
        &[("Range", "bytes=0-1"), ("If-Range", "\"old\"")],
    );
    assert_eq!(r.status, 200);
    let tag = get(&s.url("/c.txt")).header("etag").unwrap().to_owned();
    let r = fetch(
        "GET",
        &s.url("/c.txt"),
        &[("Range", "bytes=0-1"), ("If-Range", &tag)],
    );
    assert_eq!((r.status, r.text().as_str()), (206, "pl"));
    // HEAD with a range: the 206 headers, no body
    let r = fetch("HEAD", &s.url("/c.txt"), &[("Range", "bytes=1-2")]);
    assert_eq!((r.status, r.header("content-length")), (206, Some("2")));
}

#[test]
fn etag_and_last_modified_give_304() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let first = get(&s.url("/mi35x/GROK2/online/20250929_GROK2_online.png"));
    let etag = first.header("etag").unwrap().to_owned();
    let lm = first.header("last-modified").unwrap().to_owned();
    assert!(etag.starts_with('"') && lm.ends_with(" GMT"), "{etag} {lm}");
    let url = s.url("/mi35x/GROK2/online/20250929_GROK2_online.png");
    let r = fetch("GET", &url, &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 304);
    assert!(r.body.is_empty());
    assert_eq!(r.header("etag"), Some(etag.as_str()));
    let r = fetch(
        "GET",
        &url,
        &[("If-None-Match", &format!("\"nope\", W/{etag}"))],
    );
    assert_eq!(r.status, 304, "weak comparison");
    let r = fetch("GET", &url, &[("If-Modified-Since", &lm)]);
    assert_eq!(r.status, 304);
    let r = fetch(
        "GET",
        &url,
        &[("If-Modified-Since", "Sat, 01 Jan 2000 00:00:00 GMT")],
    );
    assert_eq!(r.status, 200);
    // If-None-Match wins over If-Modified-Since
    let r = fetch(
        "GET",
        &url,
        &[("If-None-Match", "\"other\""), ("If-Modified-Since", &lm)],
    );
    assert_eq!(r.status, 200);
    // rewriting the file changes the tag
    std::thread::sleep(Duration::from_millis(20));
    fs::write(
        t.root.join("mi35x/GROK2/online/20250929_GROK2_online.png"),
        png_bytes(41, 30, 9),
    )
    .unwrap();
    let r = fetch("GET", &url, &[("If-None-Match", &etag)]);
    assert_eq!(r.status, 200);
    assert_ne!(r.header("etag"), Some(etag.as_str()));
}

#[test]
fn traversal_attempts_are_refused() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let req =
        |target: &str| format!("GET {target} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    for (target, want) in [
        ("/../outside/secret.txt", 403),
        ("/mi30x/../../outside/secret.txt", 403),
        ("/%2e%2e/outside/secret.txt", 403),
        ("/%2E%2E/%2E%2E/etc/passwd", 403),
        ("/.%2e/outside/secret.txt", 403),
        ("/%2e%2e%2foutside%2fsecret.txt", 403),
        ("/mi30x%2f..%2f..%2foutside/secret.txt", 403),
        ("/%2fetc%2fpasswd", 403),
        ("/..%5coutside%5csecret.txt", 403),
        ("/c.txt%00.png", 403),
        ("/%zz", 400),
        ("//etc/passwd", 404),
        ("/etc/passwd", 404),
        ("http://127.0.0.1/../outside/secret.txt", 403),
    ] {
        let resp = raw(s.port, &req(target));
        assert_eq!(raw_status(&resp), want, "{target}: {resp}");
        assert!(
            !resp.contains("TOPSECRET") && !resp.contains("root:"),
            "{target} leaked: {resp}"
        );
    }
    // a raw backslash: refused either by the HTTP parser (400) or by us (403)
    let resp = raw(s.port, &req("/..\\outside\\secret.txt"));
    assert!(matches!(raw_status(&resp), 400 | 403), "{resp}");
    assert!(!resp.contains("TOPSECRET"));
    // the same through ureq, which sends encoded paths as given
    assert_eq!(get(&s.url("/%2e%2e/outside/secret.txt")).status, 403);
    assert!(
        s.stderr
            .wait_for("refused /%2e%2e/outside/secret.txt", Duration::from_secs(5))
            .is_some(),
        "{}",
        s.stderr.text()
    );
}

#[test]
fn symlinks_outside_are_404_and_inside_are_followed() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    for p in [
        "/link_out.txt",
        "/link_outdir/secret.txt",
        "/link_outdir/",
        "/passwd",
    ] {
        let r = get(&s.url(p));
        assert_eq!(r.status, 404, "{p}");
        assert!(
            !r.text().contains("TOPSECRET") && !r.text().contains("root:"),
            "{p}"
        );
    }
    assert!(
        s.stderr
            .wait_for(
                "a symlink resolves outside the root",
                Duration::from_secs(5)
            )
            .is_some()
    );
    let r = get(&s.url("/link_in.png"));
    assert_eq!(r.status, 200);
    assert_eq!(
        r.body,
        fs::read(
            t.root
                .join("mi30x/GROK1/online/20251013_GROK1_online_standard.png")
        )
        .unwrap()
    );
    let r = get(&s.url("/link_dir/GROK1/online/"));
    assert_eq!(r.status, 200);
    assert!(r.text().contains("20251014_GROK1_online_standard.png"));
    // the served root itself may be reached through a symlink
    let alias = t.tmp.path().join("alias");
    std::os::unix::fs::symlink(&t.root, &alias).unwrap();
    let s2 = Server::start(&alias, &[]);
    assert_eq!(get(&s2.url("/c.txt")).text(), "plain\n");
    assert_eq!(get(&s2.url("/link_out.txt")).status, 404);
    let _ = &t.outside;
}

#[test]
fn access_log_goes_to_stderr() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    assert_eq!(get(&s.url("/c.txt")).status, 200);
    assert_eq!(get(&s.url("/missing")).status, 404);
    assert!(
        s.stderr
            .wait_for("\"GET /c.txt HTTP/1.1\" 200 6", Duration::from_secs(5))
            .is_some(),
        "{}",
        s.stderr.text()
    );
    assert!(
        s.stderr
            .wait_for("\"GET /missing HTTP/1.1\" 404", Duration::from_secs(5))
            .is_some()
    );
    assert!(
        s.stderr.text().contains("127.0.0.1:"),
        "client address in the access log"
    );
    assert!(
        s.stdout
            .text()
            .contains("Directory listing title will be: \"SGL Benchmark Plots Server\"")
    );
}

#[test]
fn sigterm_lets_a_download_finish_exits_0_and_removes_the_pid_file() {
    let t = tree();
    // 48 MiB: more than the socket buffers hold, so the response is still in flight at SIGTERM
    let payload: Vec<u8> = (0..48u32 << 20).map(|i| (i % 251) as u8).collect();
    fs::write(t.root.join("huge.bin"), &payload).unwrap();
    let mut s = Server::start(&t.root, &[]);
    let pid: u32 = fs::read_to_string(&s.pid_file)
        .expect("pid file written at start")
        .trim()
        .parse()
        .unwrap();
    assert_eq!(pid, s.child.id());

    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
    c.write_all(b"GET /huge.bin HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut first = [0u8; 4096];
    let n = c.read(&mut first).unwrap();
    assert!(String::from_utf8_lossy(&first[..n]).starts_with("HTTP/1.1 200"));

    s.signal("TERM");
    // the server stops listening but the download completes
    let mut rest = Vec::new();
    c.read_to_end(&mut rest)
        .expect("download continues after SIGTERM");
    let mut all = first[..n].to_vec();
    all.extend_from_slice(&rest);
    let body_at = all.windows(4).position(|w| w == b"\r\n\r\n").unwrap() + 4;
    assert_eq!(all.len() - body_at, payload.len(), "whole body delivered");
    assert!(all[body_at..] == payload[..]);

    let st = s
        .wait_exit(Duration::from_secs(20))
        .expect("exits after SIGTERM");
    assert_eq!(st.code(), Some(0), "stderr: {}", s.stderr.text());
    assert!(!s.pid_file.exists(), "pid file removed at exit");
    assert!(
        s.stdout
            .wait_for("Server stopped.", Duration::from_secs(5))
            .is_some()
    );
    assert!(!s.stdout.text().contains("\\nServer stopped."));
    assert!(
        TcpStream::connect(("127.0.0.1", s.port)).is_err(),
        "no longer listening"
    );
}

#[test]
fn sigint_with_idle_keepalive_connection_exits_promptly() {
    let t = tree();
    let mut s = Server::start(&t.root, &["--shutdown-timeout=30"]);
    // an idle keep-alive connection must not hold up the shutdown
    let mut c = TcpStream::connect(("127.0.0.1", s.port)).unwrap();
    c.write_all(b"GET /c.txt HTTP/1.1\r\nHost: x\r\n\r\n")
        .unwrap();
    let mut buf = [0u8; 1024];
    assert!(c.read(&mut buf).unwrap() > 0);
    let start = Instant::now();
    s.signal("INT");
    let st = s
        .wait_exit(Duration::from_secs(20))
        .expect("exits after SIGINT");
    assert_eq!(st.code(), Some(0));
    assert!(
        start.elapsed() < Duration::from_secs(10),
        "took {:?}",
        start.elapsed()
    );
    assert!(!s.pid_file.exists());
}

#[test]
fn slow_headers_are_cut_off() {
    let t = tree();
    let s = Server::start(&t.root, &["--header-timeout=1"]);
    assert_slow_head_cut(s.port);
    // the server still answers others
    assert_eq!(get(&s.url("/c.txt")).status, 200);
}

#[test]
fn connection_limit_queues_extra_connections() {
    let t = tree();
    let s = Server::start(&t.root, &["--max-connections=1"]);
    assert_one_connection_at_a_time(s.port, "/c.txt");
}

#[test]
fn busy_port_fails_with_a_hint_and_live_pid_file_is_kept() {
    let t = tree();
    let s = Server::start(&t.root, &[]);
    let out = command()
        .args(["--bind=127.0.0.1", &format!("--port={}", s.port)])
        .arg(format!("--plots-dir={}", t.root.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("already in use"), "{err}");
    // a second server pointed at the first one's pid file refuses to start
    let out = command()
        .args(["--bind=127.0.0.1", "--port=0"])
        .arg(format!("--plots-dir={}", t.root.display()))
        .arg(format!("--pid-file={}", s.pid_file.display()))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&out.stderr).contains("another plots-server"));
    assert_eq!(
        fs::read_to_string(&s.pid_file).unwrap().trim(),
        s.child.id().to_string()
    );
}

#[test]
fn original_flag_spellings_env_and_directory_creation() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("plots_server");
    // underscore spelling, env port, a missing directory created with model folders
    let mut child = command()
        .arg(format!("--plots_dir={}", dir.display()))
        .env("HTTP_SERVER_PORT", "0")
        .env("HTTP_SERVER_BIND", "127.0.0.1")
        .env("PLOTS_MODEL_DIRS", "GROK1 GROK2")
        .arg("--server-script=/nonexistent/custom_http_server.py")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = String::new();
    let mut stdout = child.stdout.take().unwrap();
    let end = Instant::now() + Duration::from_secs(30);
    let mut buf = [0u8; 4096];
    while !out.contains("Press Ctrl+C") && Instant::now() < end {
        let n = stdout.read(&mut buf).unwrap();
        if n == 0 {
            break;
        }
        out.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    let _ = Command::new("kill").arg(child.id().to_string()).status();
    let st = child.wait().unwrap();
    assert!(
        out.contains(&format!("Creating plots directory: {}", dir.display())),
        "{out}"
    );
    assert!(out.contains("Created directories for model: GROK2"));
    assert!(dir.join("GROK1/online").is_dir() && dir.join("GROK2/offline").is_dir());
    assert!(out.contains("Serving HTTP on 127.0.0.1 port "));
    assert!(
        out.contains("/GROK2/online/ for GROK2 online plots"),
        "{out}"
    );
    assert_eq!(st.code(), Some(0));
    // --help documents the env variables and defaults
    let help = command().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&help.stdout);
    for s in [
        "HTTP_SERVER_PORT",
        "PLOTS_SERVER_DIR",
        "HTTP_SERVER_BIND",
        "[default: 8000]",
        "--pid-file",
    ] {
        assert!(help.contains(s), "--help lacks {s}");
    }
}

use std::process::Command;

#[test]
fn serves_the_corpus_plot_tree() {
    let plot = support::corpus("plot").join("plot");
    let s = Server::start(&plot, &[]);
    let html = get(&s.url("/")).text();
    assert!(entry_links(&html).contains(&"mi30x/".to_owned()));
    let dir = plot.join("mi30x/GROK1/online");
    let r = get(&s.url("/mi30x/GROK1/online/"));
    let listed = entry_links(&r.text());
    let mut on_disk: Vec<String> = fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    on_disk.sort();
    assert_eq!(listed, on_disk);
    let name = &on_disk[0];
    let r = get(&s.url(&format!("/mi30x/GROK1/online/{name}")));
    assert_eq!(r.status, 200);
    assert_eq!(r.header("content-type"), Some("image/png"));
    assert_eq!(r.body, fs::read(dir.join(name)).unwrap());
}
