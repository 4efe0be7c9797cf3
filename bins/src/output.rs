//! What the binaries print as their result: text on stdout, where a reader that went away
//! (`| head`) is not an error and any other write failure ends the binary with its code.

use std::io::Write;

use crate::exit::Fatal;

/// Writes `text` to stdout and flushes it; a broken pipe is fine, any other failure is a
/// [`Fatal`] with exit code `code`.
pub fn write_stdout(text: &str, code: u8) -> Result<(), Fatal> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            Err(Fatal::new(code, format!("cannot write to stdout: {e}")))
        }
        _ => Ok(()),
    }
}
