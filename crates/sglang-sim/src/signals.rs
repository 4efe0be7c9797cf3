//! SIGTERM and SIGINT for the server, the router and `keep-alive`: one set of handlers, so every
//! subcommand stops the same way (also as PID 1 of a container, where a signal without a
//! handler is ignored).

use crate::SimError;

/// SIGTERM and SIGINT.
pub(crate) struct Signals {
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    /// Installs the handlers (call inside a runtime).
    pub(crate) fn new() -> Result<Self, SimError> {
        Ok(Signals {
            #[cfg(unix)]
            term: tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
                .map_err(SimError::Runtime)?,
        })
    }

    /// Resolves on the next SIGTERM or SIGINT.
    pub(crate) async fn recv(&mut self) {
        #[cfg(unix)]
        {
            tokio::select! {
                _ = self.term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        #[cfg(not(unix))]
        {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

/// `sglang-sim keep-alive`, the default command of the `build-image` image: waits until
/// SIGTERM or SIGINT (also as PID 1 of a container, so `docker stop` ends it at once, as
/// `tail -f /dev/null` does not) and returns.
pub fn keep_alive() -> Result<(), SimError> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(SimError::Runtime)?;
    rt.block_on(async {
        let mut signals = Signals::new()?;
        signals.recv().await;
        Ok(())
    })
}
