//! The connection flags of the two web servers (`plots-server`, `dashboard`): one definition,
//! the same names and defaults in both.

use std::time::Duration;

use plots_server::ConnectionLimits;
use sglang_runner::flags::heading;

/// `--max-connections`, `--header-timeout`, `--idle-timeout`, `--shutdown-timeout`.
#[derive(Debug, Clone, clap::Args)]
pub struct ConnectionFlags {
    /// Connections served at once; further ones wait in the listen backlog.
    #[arg(long, value_name = "N", default_value_t = 256, help_heading = heading::ADDITIONS)]
    pub max_connections: usize,

    /// Seconds a client has to send a complete request head (slowloris bound; also how long an
    /// idle keep-alive connection stays open).
    #[arg(long, value_name = "SECS", default_value_t = 10, help_heading = heading::ADDITIONS)]
    pub header_timeout: u64,

    /// Seconds without any bytes read or written after which a connection is closed.
    #[arg(long, value_name = "SECS", default_value_t = 60, help_heading = heading::ADDITIONS)]
    pub idle_timeout: u64,

    /// Seconds in-flight requests get to finish after SIGINT/SIGTERM (a second signal stops at
    /// once).
    #[arg(long, value_name = "SECS", default_value_t = 10, help_heading = heading::ADDITIONS)]
    pub shutdown_timeout: u64,
}

impl ConnectionFlags {
    /// The limits these flags set (timeouts of 0 count as 1 s, at least one connection).
    pub fn limits(&self) -> ConnectionLimits {
        ConnectionLimits {
            max_connections: self.max_connections.max(1),
            header_timeout: Duration::from_secs(self.header_timeout.max(1)),
            idle_timeout: Duration::from_secs(self.idle_timeout.max(1)),
            shutdown_timeout: Duration::from_secs(self.shutdown_timeout),
        }
    }
}
