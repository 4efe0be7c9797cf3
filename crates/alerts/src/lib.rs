//! The toolkit's Teams alerts: inputs (run folders, test logs, cron logs, CLI arguments) to
//! typed cards, delivered through the `teams` crate. Library only: console lines go to a
//! `say` callback, nothing is printed here.
//!
//! | module | original | card |
//! |---|---|---|
//! | [`benchmark`] | `send_teams_notification.py` | benchmark results, sanity check (`--mode sanity`) |
//! | [`docker`] | `send_docker_image_alert.py` | Nightly Docker Image Check |
//! | [`test_nightly`] | `send_test_nightly_alert.py` | unit-test and PD-test results |
//! | [`daily`] | `send_daily_summary_alert.py` | Daily CI Summary Report + archive |

pub mod benchmark;
pub mod common;
pub mod daily;
pub mod docker;
pub mod error;
pub mod github;
pub mod sanity_card;
pub mod sanity_models;
pub mod send;
pub mod test_nightly;

pub use error::AlertError;
pub use send::{Sent, Target};

/// Test helper: every card a test builds must validate against the Adaptive Card 1.5 schema.
#[cfg(test)]
pub(crate) fn assert_valid(m: &teams::Message) {
    let v: serde_json::Value = serde_json::from_str(&m.to_wire_json()).expect("card JSON");
    if let Err(e) = teams::testkit::validate_payload(&v) {
        panic!("card does not validate: {e:#?}\n{}", m.to_pretty_json());
    }
}
