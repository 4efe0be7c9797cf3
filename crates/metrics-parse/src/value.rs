//! A number as the tool printed it: the verbatim text (what the legacy CSVs copy) and its value
//! (what comparisons use). Shared by the online-benchmark parsers.

use std::fmt;

use serde::Serialize;

use crate::text;

/// A printed number: `text` exactly as in the file (`12034.20`, `0.930`), `value` its parse.
/// Only built from text that parses, so `value` is never a guess.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Num {
    /// The characters as printed (trailing zeros kept).
    pub text: String,
    /// The parsed value.
    pub value: f64,
}

impl Num {
    /// `Some` when `text` (already isolated) parses as a finite float.
    pub fn parse(text: &str) -> Option<Self> {
        let value: f64 = text.parse().ok()?;
        value.is_finite().then(|| Self {
            text: text.to_owned(),
            value,
        })
    }

    /// The spec's "number" (digits and dots, benchmarks.md §6) at the start of `s` after
    /// optional spaces/tabs, when it parses.
    pub fn leading(s: &str) -> Option<Self> {
        text::leading_number(s).and_then(Self::parse)
    }

    /// The number right after the first `label` in `line` (see [`Num::leading`]).
    pub fn after(line: &str, label: &str) -> Option<Self> {
        let at = line.find(label)?;
        Self::leading(&line[at + label.len()..])
    }
}

impl fmt::Display for Num {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

/// Formats like C's `printf("%.*f", decimals, x)` on a binary double: the exact binary value
/// rounded half to even (`0.9325` is stored as 0.93249… and prints `0.932`).
pub fn c_fixed(x: f64, decimals: usize) -> String {
    format!("{x:.decimals$}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_text_and_value() {
        let n = Num::leading("  12034.20   ").unwrap();
        assert_eq!(n.text, "12034.20");
        assert_eq!(n.value, 12034.2);
        assert_eq!(Num::parse("1.2.3"), None);
        assert_eq!(Num::leading("not set"), None);
        assert_eq!(
            Num::after("Run 1: Accuracy: 0.930", "Accuracy:")
                .unwrap()
                .text,
            "0.930"
        );
    }

    #[test]
    fn c_fixed_rounds_the_binary_value() {
        assert_eq!(c_fixed(3.730 / 4.0, 3), "0.932");
        assert_eq!(c_fixed(4.683 / 5.0, 3), "0.937");
        assert_eq!(c_fixed(0.0625, 3), "0.062");
        assert_eq!(c_fixed(0.0, 3), "0.000");
    }
}
