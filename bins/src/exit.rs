//! How a binary ends: one clear line on stderr and an exit code its docs page lists.

use std::error::Error;
use std::fmt;
use std::process::ExitCode;

/// An error that ends a binary with `code` after printing `message` as one line.
#[derive(Debug)]
pub struct Fatal {
    /// Process exit status (never 0).
    pub code: u8,
    /// One line, already free of secrets.
    pub message: String,
}

impl Fatal {
    /// A fatal error with a plain message.
    pub fn new(code: u8, message: impl fmt::Display) -> Self {
        Self {
            code: code.max(1),
            message: one_line(&message.to_string()),
        }
    }

    /// A fatal error from an error and its `source()` chain, joined with `": "`.
    pub fn from_error(code: u8, err: &(dyn Error + 'static)) -> Self {
        Self::new(code, error_chain(err))
    }
}

impl fmt::Display for Fatal {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Renders an error and its sources as `outer: inner: innermost`, skipping a source whose text
/// is already contained in its parent's message.
pub fn error_chain(err: &(dyn Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut cur = err.source();
    while let Some(src) = cur {
        let s = src.to_string();
        if !text.contains(&s) {
            text.push_str(": ");
            text.push_str(&s);
        }
        cur = src.source();
    }
    text
}

fn one_line(s: &str) -> String {
    s.split(['\n', '\r'])
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join(" | ")
}

/// Runs a binary's body; on `Err` prints `<bin>: error: <message>` to stderr and returns the
/// error's code.
///
/// First it registers every secret the process knows with [`report::redact`] (secret-named
/// environment variables and flag values), so that every line masked afterwards — log lines,
/// relayed child output, files written — has those values replaced.
pub fn run(bin: &str, body: impl FnOnce() -> Result<ExitCode, Fatal>) -> ExitCode {
    register_secrets();
    match body() {
        Ok(code) => code,
        Err(fatal) => {
            #[allow(clippy::print_stderr)]
            {
                let masked = report::redact::redact(&fatal.message);
                eprintln!("{bin}: error: {}", report::redact::escape_controls(&masked));
            }
            ExitCode::from(fatal.code)
        }
    }
}

/// Registers the process's secrets (environment and command line) for masking by value.
pub fn register_secrets() {
    report::redact::register_from_env();
    report::redact::register_from_args(std::env::args_os().filter_map(|a| a.into_string().ok()));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl fmt::Display for Outer {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("cannot read run folder /x")
        }
    }
    impl Error for Outer {
        fn source(&self) -> Option<&(dyn Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn chain_joins_sources_on_one_line() {
        let e = Outer(std::io::Error::new(
            std::io::ErrorKind::NotFound,
            "no such file",
        ));
        let f = Fatal::from_error(2, &e);
        assert_eq!(f.message, "cannot read run folder /x: no such file");
        assert_eq!(f.code, 2);
    }

    #[test]
    fn multi_line_messages_become_one_line_and_code_is_never_zero() {
        let f = Fatal::new(0, "first\n  second\r\n");
        assert_eq!(f.message, "first | second");
        assert_eq!(f.code, 1);
    }
}
