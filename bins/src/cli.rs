//! Command-line spelling shared by every binary.
//!
//! The original scripts take `--name=value` and bare switches, and several flag names use
//! underscores (`--docker_image=IMG`). Our binaries accept the original spelling, the
//! `--name value` form, and the dashed twin of any underscored flag. Flags are declared once
//! with dashes in clap; [`normalize_args`] rewrites underscores in flag *names* (never in
//! values) before clap sees them.

use std::ffi::OsString;

/// Rewrites `--some_flag[=value]` to `--some-flag[=value]`; leaves values, positional
/// arguments and everything after a bare `--` unchanged.
pub fn normalize_args<I, T>(args: I) -> Vec<OsString>
where
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let mut out = Vec::new();
    let mut passthrough = false;
    for arg in args {
        let arg: OsString = arg.into();
        if passthrough {
            out.push(arg);
            continue;
        }
        match arg.to_str() {
            Some("--") => {
                passthrough = true;
                out.push(arg);
            }
            Some(s) if is_long_flag(s) => out.push(OsString::from(dash_flag_name(s))),
            _ => out.push(arg),
        }
    }
    out
}

/// True for `--name` or `--name=value` where `name` is made of ASCII letters, digits, `-`, `_`.
fn is_long_flag(s: &str) -> bool {
    let Some(rest) = s.strip_prefix("--") else {
        return false;
    };
    let name = rest.split_once('=').map_or(rest, |(n, _)| n);
    !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
}

fn dash_flag_name(s: &str) -> String {
    match s.split_once('=') {
        Some((name, value)) => format!("{}={}", name.replace('_', "-"), value),
        None => s.replace('_', "-"),
    }
}

/// Parses the process arguments into `T` after [`normalize_args`]; on a bad flag clap prints
/// its message (with a "similar argument" hint) and exits 2.
pub fn parse<T: clap::Parser>() -> T {
    T::parse_from(normalize_args(std::env::args_os()))
}

/// Like [`parse`] but `adjust` may change the command clap built from `T` first (help
/// headings set by a rule rather than per field, as `sglang-sim` does for its subcommands).
pub fn parse_adjusted<T: clap::Parser>(adjust: impl FnOnce(clap::Command) -> clap::Command) -> T {
    let mut matches = adjust(T::command()).get_matches_from(normalize_args(std::env::args_os()));
    T::from_arg_matches_mut(&mut matches).unwrap_or_else(|e| e.exit())
}

/// Like [`parse`] but from an explicit argument list (first item is the program name).
pub fn try_parse_from<T, I, A>(args: I) -> Result<T, clap::Error>
where
    T: clap::Parser,
    I: IntoIterator<Item = A>,
    A: Into<OsString>,
{
    T::try_parse_from(normalize_args(args))
}

/// Value parser of a text that ends up in a file or a log line (`--host`): no control
/// characters (tabs and newlines would break the CSV row label or the log line).
pub fn printable(s: &str) -> Result<String, String> {
    if s.is_empty() || s.chars().any(char::is_control) {
        Err("expected a non-empty value without tabs, newlines or other control characters".into())
    } else {
        Ok(s.to_owned())
    }
}

/// Value parser of one load of a comma-separated list (`--loads 1,2,4`): a positive number
/// as written (an empty item, as in `1,,4`, is refused).
pub fn load(s: &str) -> Result<String, String> {
    match s.trim().parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 && !s.trim().is_empty() => Ok(s.trim().to_owned()),
        _ => Err(format!(
            "expected a positive number (a request rate or concurrency), got `{s}`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn norm(args: &[&str]) -> Vec<String> {
        normalize_args(args.iter().copied())
            .into_iter()
            .map(|s| s.into_string().unwrap())
            .collect()
    }

    #[test]
    fn underscored_names_get_dashes_but_values_do_not() {
        assert_eq!(
            norm(&[
                "bin",
                "--docker_image=rocm/sgl_dev:tag_1",
                "--work_dir",
                "/a_b"
            ]),
            [
                "bin",
                "--docker-image=rocm/sgl_dev:tag_1",
                "--work-dir",
                "/a_b"
            ]
        );
    }

    #[test]
    fn values_that_look_like_flags_with_spaces_are_left_alone() {
        assert_eq!(
            norm(&["bin", "--sim-args", "--sim_x 1", "--sim_args=--a_b"]),
            ["bin", "--sim-args", "--sim_x 1", "--sim-args=--a_b"]
        );
    }

    #[test]
    fn everything_after_double_dash_passes_through() {
        assert_eq!(
            norm(&["bin", "--", "--keep_me", "-x"]),
            ["bin", "--", "--keep_me", "-x"]
        );
    }

    #[test]
    fn loads_and_printable_values_are_checked() {
        assert_eq!(load("16").unwrap(), "16");
        assert!(load("").is_err());
        assert!(load("x").is_err());
        assert!(load("-1").is_err());
        assert!(printable("host-1").is_ok());
        assert!(printable("a\tb").is_err());
        assert!(printable("a\nb").is_err());
    }

    #[test]
    fn short_flags_and_positionals_are_untouched() {
        assert_eq!(
            norm(&["bin", "-v", "a_b", "--"]),
            ["bin", "-v", "a_b", "--"]
        );
    }
}
