//! A real browser renders a plots-server listing page: Debian's headless Chromium takes a
//! screenshot, and the test checks that the page is not blank and that the inline image
//! previews were actually loaded and drawn (the preview PNGs are red; nothing else on the page
//! is). `.ci/setup` installs chromium; env `SGLCI_CHROMIUM` names another browser binary, and
//! `SGLCI_SCREENSHOT_DIR` keeps the screenshot for a human to look at.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::fs;
use std::path::{Path, PathBuf};
use std::time::Duration;

use support::plots_server::*;

const WIDTH: u32 = 1200;
const HEIGHT: u32 = 900;

/// A PNG filled with a red gradient (r ≥ 200, g and b ≤ 60).
fn red_png(w: u32, h: u32) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut enc = png::Encoder::new(&mut out, w, h);
        enc.set_color(png::ColorType::Rgb);
        enc.set_depth(png::BitDepth::Eight);
        let mut wr = enc.write_header().unwrap();
        let mut data = Vec::new();
        for y in 0..h {
            for x in 0..w {
                data.extend_from_slice(&[200 + (x * 55 / w) as u8, (y * 60 / h) as u8, 20]);
            }
        }
        wr.write_image_data(&data).unwrap();
    }
    out
}

/// Runs headless Chromium on `url`, bounded by 90 s, and returns the screenshot path.
fn screenshot(browser: &Path, url: &str, dir: &Path) -> PathBuf {
    let shot = dir.join("listing.png");
    support::browser::screenshot(browser, url, &shot, WIDTH, HEIGHT);
    shot
}

#[test]
fn headless_chromium_renders_the_listing_with_previews() {
    let browser = support::browser::chromium();
    let t = tree();
    let online = t.root.join("mi30x/GROK1/online");
    for d in ["20251101", "20251102", "20251103"] {
        fs::write(
            online.join(format!("{d}_GROK1_online_standard.png")),
            red_png(200, 180),
        )
        .unwrap();
    }
    fs::write(
        online.join("process_and_generate_online_plots.log"),
        "done\n",
    )
    .unwrap();
    let s = Server::start(&t.root, &[]);
    let url = s.url("/mi30x/GROK1/online/");

    let work = tempfile::tempdir().unwrap();
    let shot = screenshot(&browser, &url, work.path());
    if let Some(keep) = std::env::var_os("SGLCI_SCREENSHOT_DIR") {
        let _ = fs::create_dir_all(&keep);
        let _ = fs::copy(&shot, Path::new(&keep).join("plots-server-listing.png"));
    }

    let decoder = png::Decoder::new(fs::File::open(&shot).expect("screenshot written"));
    let mut reader = decoder.read_info().expect("screenshot is a PNG");
    let mut buf = vec![0; reader.output_buffer_size()];
    let info = reader.next_frame(&mut buf).expect("decode screenshot");
    assert_eq!(
        (info.width, info.height),
        (WIDTH, HEIGHT),
        "requested window size"
    );
    let channels = info.color_type.samples();
    assert!(channels >= 3, "{:?}", info.color_type);
    let (mut ink, mut red) = (0usize, 0usize);
    for px in buf[..info.buffer_size()].chunks_exact(channels) {
        let (r, g, b) = (px[0], px[1], px[2]);
        if r < 200 || g < 200 || b < 200 {
            ink += 1;
        }
        if r >= 180 && g <= 90 && b <= 70 {
            red += 1;
        }
    }
    let total = (WIDTH * HEIGHT) as usize;
    println!("screenshot: {ink} non-white pixels, {red} preview-red pixels of {total}");
    assert!(
        ink * 100 > total * 3,
        "page looks blank: {ink} non-white pixels of {total}"
    );
    // five previews (two from the shared tree, three red) at ~360 px wide: the red ones alone
    // cover far more than 5% of the window when they load.
    assert!(
        red * 100 > total * 5,
        "image previews not rendered: {red} red pixels of {total}"
    );
    // the browser fetched the previews from the server
    assert!(
        s.stderr
            .wait_for(
                "\"GET /mi30x/GROK1/online/20251103_GROK1_online_standard.png HTTP/1.1\" 200",
                Duration::from_secs(5)
            )
            .is_some(),
        "{}",
        s.stderr.text()
    );
}
