//! The sanity Teams card (spec nightly.md §7.12), built from the newest timing summary of the
//! tag folder and delivered in this process through `alerts::sanity_card` and `teams` (the
//! original ran `send_teams_notification.py --mode sanity` in the container). The log root is
//! the run's own (`<CI_DIR>/test/sanity_check_log`), not the original's hard-coded path
//! (fix Q-SAN-15).

use std::path::Path;

use crate::config::EnvSource;
use crate::engine::Engine;

/// Sends the card of `tag` (its logs under `<log_root>/<hw>/<tag>/`) to `url`. Lines go to
/// `say` (the URL never does); a failure is returned as its text after a `WARN` line.
pub fn send(
    log_root: &Path,
    tag: &str,
    url: &str,
    engine: Engine,
    say: &mut dyn FnMut(String),
) -> Result<(), String> {
    let env = &crate::config::ProcessEnv;
    let cfg = alerts::sanity_card::SanityConfig {
        docker_image: tag.to_owned(),
        log_root: log_root.to_owned(),
        github_repo: env
            .var("GITHUB_REPO")
            .unwrap_or_else(|| alerts::common::DEFAULT_GITHUB_REPO.to_owned()),
        host: match engine {
            Engine::Sim => format!("{} (simulated)", crate::config::hostname()),
            Engine::Sglang => crate::config::hostname(),
        },
        clock: alerts::common::Clock::system(),
    };
    let target = alerts::Target {
        webhook: Some(teams::Webhook::new(url, teams::RetryPolicy::from_env())),
        dry_run: false,
    };
    say("🔍 Sanity check mode: Processing sanity check results".to_owned());
    match alerts::sanity_card::run(&cfg, &target, say) {
        Ok(_) => Ok(()),
        Err(e) => {
            let why = e.to_string();
            say(format!(
                "⚠️  WARN: Teams notification failed for sanity check ({why})"
            ));
            Err(why)
        }
    }
}
