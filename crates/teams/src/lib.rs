//! Adaptive Cards and their delivery to Microsoft Teams webhooks (spec reporting.md §2.2–§2.4,
//! §12).
//!
//! * [`card`]: the typed elements the toolkit's cards use (`TextBlock`, `Action.OpenUrl`), the
//!   element templates of the original with their key order, the card and the `message`
//!   envelope, payload trimming.
//! * [`deliver`]: one POST per attempt through ureq with a timeout, success on 200/202, retries
//!   with backoff on 429 (honouring `Retry-After`), 5xx, timeouts and connection failures, one
//!   clear error on 4xx.
//! * [`mask`]: webhook URLs shown as `https://<host>/…`, never in full.
//!
//! The crate knows cards and delivery only: nothing about runs, containers or plans.

pub mod card;
pub mod deliver;
pub mod mask;
#[cfg(any(test, feature = "testkit"))]
pub mod testkit;

pub use card::{AdaptiveCard, Color, Message, OpenUrl, TextBlock};
pub use deliver::{Delivered, DeliveryError, RetryPolicy, Webhook};
pub use mask::mask_url;
