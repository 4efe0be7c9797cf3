//! Numbers the way the original Python/pandas scripts read and wrote them: `float(text)` on the
//! way in, `repr(float)` (shortest round-trip, `12034.20` → `12034.2`, `233.00` → `233.0`,
//! `1e+16`, `1e-05`) on the way out.

/// Parses a cell as Python's `float()` does for the texts the toolkit writes: surrounding
/// whitespace ignored, optional sign, decimal or exponent notation, `inf`/`nan`. `None` for
/// anything else (`NA`, empty, `0.8 (Required: 0.8)`).
pub fn py_float(text: &str) -> Option<f64> {
    let t = text.trim();
    if t.is_empty() {
        return None;
    }
    t.parse::<f64>().ok()
}

/// Python's `repr()` of a float (what pandas' `to_csv` writes for a float64 cell).
pub fn py_repr(x: f64) -> String {
    if x.is_nan() {
        return "nan".to_owned();
    }
    if x.is_infinite() {
        return if x > 0.0 { "inf" } else { "-inf" }.to_owned();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.to_owned();
    }
    // `{:e}` gives the shortest round-trip digits: `1.20342e4`, `-5e-5`.
    let sci = format!("{x:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (sign, mantissa) = match mantissa.strip_prefix('-') {
        Some(m) => ("-", m),
        None => ("", mantissa),
    };
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::from(sign);
    if (-4..16).contains(&exp) {
        if exp >= 0 {
            let int_len = exp as usize + 1;
            if digits.len() <= int_len {
                out.push_str(&digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            } else {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exp - 1) as usize));
            out.push_str(&digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exp < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exp.abs()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repr_matches_python() {
        for (x, want) in [
            (12034.20, "12034.2"),
            (233.00, "233.0"),
            (0.813, "0.813"),
            (0.0, "0.0"),
            (85.44 + 85.44, "170.88"),
            (1e16, "1e+16"),
            (1.5e-5, "1.5e-05"),
            (0.0001, "0.0001"),
            (-2.5, "-2.5"),
            (123456789012345.0, "123456789012345.0"),
            (0.1 + 0.2, "0.30000000000000004"),
        ] {
            assert_eq!(py_repr(x), want, "{x}");
        }
    }

    #[test]
    fn float_accepts_what_python_accepts() {
        assert_eq!(py_float(" 12034.20 "), Some(12034.2));
        assert_eq!(py_float("NA"), None);
        assert_eq!(py_float(""), None);
        assert_eq!(py_float("0.820 (Required: 0.8)"), None);
        assert_eq!(py_float("1e3"), Some(1000.0));
    }
}
