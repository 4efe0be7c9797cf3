//! Plots drawn with plotters (feature `plot`, no polars): the embedded font every plot uses,
//! matplotlib's colours, and the MTP throughput-vs-latency chart ([`mtp`]). The history
//! trend plots (`history::plot`, feature `history`) build on the same pieces.

pub mod mtp;

use std::path::PathBuf;
use std::sync::OnceLock;

use plotters::style::{FontStyle, RGBColor, register_font};
use thiserror::Error;

/// DejaVu Sans (Bitstream Vera license, `assets/DejaVuSans-LICENSE.txt`): embedded so no
/// system font is needed (also inside a `FROM scratch` image).
static FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");

/// The font family every plot draws its text with (registered by [`ensure_font`]).
pub const FAMILY: &str = "sans-serif";

/// matplotlib's `tab10` cycle, so colours look like the original plots.
pub const PALETTE: [RGBColor; 10] = [
    RGBColor(0x1f, 0x77, 0xb4),
    RGBColor(0xff, 0x7f, 0x0e),
    RGBColor(0x2c, 0xa0, 0x2c),
    RGBColor(0xd6, 0x27, 0x28),
    RGBColor(0x94, 0x67, 0xbd),
    RGBColor(0x8c, 0x56, 0x4b),
    RGBColor(0xe3, 0x77, 0xc2),
    RGBColor(0x7f, 0x7f, 0x7f),
    RGBColor(0xbc, 0xbd, 0x22),
    RGBColor(0x17, 0xbe, 0xcf),
];

/// Why a plot was not drawn.
#[derive(Debug, Clone, Error)]
pub enum PlotError {
    /// The embedded font did not load (a broken build, not an input).
    #[error("the embedded DejaVu Sans font could not be loaded")]
    Font,
    /// Drawing or writing the image failed.
    #[error("cannot draw {}: {message}", path.display())]
    Draw {
        /// The image being written.
        path: PathBuf,
        /// What plotters or the file system said.
        message: String,
    },
}

/// Registers the embedded font under [`FAMILY`] (once per process; later calls return the
/// first call's result).
pub fn ensure_font() -> Result<(), PlotError> {
    static DONE: OnceLock<Result<(), PlotError>> = OnceLock::new();
    DONE.get_or_init(|| register_font(FAMILY, FontStyle::Normal, FONT).map_err(|_| PlotError::Font))
        .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_embedded_font_loads() {
        ensure_font().unwrap();
        // A second call is answered from the first.
        ensure_font().unwrap();
    }

    #[test]
    fn errors_name_the_file() {
        let e = PlotError::Draw {
            path: "/x/plot.png".into(),
            message: "disk full".into(),
        };
        assert_eq!(e.to_string(), "cannot draw /x/plot.png: disk full");
        assert_eq!(
            PlotError::Font.to_string(),
            "the embedded DejaVu Sans font could not be loaded"
        );
    }
}
