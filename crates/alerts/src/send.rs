//! Sending a built card: trimming, `--dry-run`, the POST and the original's console lines
//! (spec §2.2), with the webhook never shown unmasked.

use teams::{Delivered, DeliveryError, Message, Webhook};

use crate::common::Clock;
use teams::card::{AdaptiveCard, MAX_PAYLOAD_BYTES, TextBlock};

/// Where a card goes.
#[derive(Debug, Clone, Default)]
pub struct Target {
    /// The webhook; `None` when none was configured.
    pub webhook: Option<Webhook>,
    /// Print the payload instead of sending it.
    pub dry_run: bool,
}

/// What happened to a card.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Sent {
    /// Teams accepted it.
    Posted(Delivered),
    /// `--dry-run`: the payload, pretty-printed, for the caller to print.
    DryRun(String),
    /// No webhook configured (only senders for which that is allowed return this).
    NoWebhook,
}

/// Trims `msg` to Teams' size limit, then posts it (or returns it for `--dry-run`). `what`
/// completes `✅ Successfully sent <what> to Teams`.
pub fn deliver(
    mut msg: Message,
    target: &Target,
    what: &str,
    say: &mut dyn FnMut(String),
) -> Result<Sent, DeliveryError> {
    let dropped = msg.trim_to(MAX_PAYLOAD_BYTES);
    if dropped > 0 {
        say(format!(
            "⚠️  Card over {} KB: {dropped} line(s) left out (the card says so)",
            MAX_PAYLOAD_BYTES / 1024
        ));
    }
    if target.dry_run {
        return Ok(Sent::DryRun(msg.to_pretty_json()));
    }
    let Some(hook) = &target.webhook else {
        return Ok(Sent::NoWebhook);
    };
    match hook.post(&msg) {
        Ok(d) => {
            say(format!("✅ Successfully sent {what} to Teams"));
            if d.asynchronous() {
                say("   (Power Automate flow accepted - message processing asynchronously)".into());
            }
            if d.attempts > 1 {
                say(format!("   (delivered on attempt {})", d.attempts));
            }
            Ok(Sent::Posted(d))
        }
        Err(e) => {
            report_failure(&e, say);
            Err(e)
        }
    }
}

/// The original's failure lines: `❌ Failed to send Teams notification. Status: <code>` +
/// `Response: <body>`, or `❌ Error sending Teams notification: <why>`; plus what to do.
pub fn report_failure(e: &DeliveryError, say: &mut dyn FnMut(String)) {
    match e.status() {
        Some(code) => {
            say(format!(
                "❌ Failed to send Teams notification. Status: {code}"
            ));
            say(format!("Response: {}", e.body().unwrap_or_default()));
            say(format!("   {e}"));
        }
        None => say(format!("❌ Error sending Teams notification: {e}")),
    }
}

/// A connectivity test card (spec §2.10): title, `Sent at HH:MM:SS PST`, one body line, no
/// actions.
pub fn test_card(title: &str, body: &str, clock: &Clock) -> Message {
    let mut c = AdaptiveCard::new();
    c.push(TextBlock::title(title))
        .push(TextBlock::test_subtle(format!(
            "Sent at {}",
            clock.pacific_time()
        )))
        .push(TextBlock::test_body(body));
    c.into_message()
}

/// The line a card of a fallback-image run carries.
pub fn fallback_note(image_date: &str, run_date: &str) -> TextBlock {
    TextBlock::warning_line(format!(
        "⚠️ Fallback image: no image for {} was available, this run used the image of {}",
        crate::common::dashed_date(run_date),
        crate::common::dashed_date(image_date)
    ))
}

/// `msg` with [`fallback_note`] after its header lines (title and first subtle line).
pub fn mark_fallback(mut msg: Message, image_date: &str, run_date: &str) -> Message {
    let at = msg.card.body.len().min(2);
    msg.card
        .body
        .insert(at, fallback_note(image_date, run_date));
    msg
}
