//! Typed Adaptive Card elements, the card and the `message` envelope (spec reporting.md
//! §2.3–§2.4).
//!
//! Only what the toolkit's cards use exists here: `TextBlock` body elements and
//! `Action.OpenUrl` actions. Each constructor is one element template of the original
//! (`E-TITLE`, `E-SUBTLE`, `E-BULLET-S`, …) and emits its keys in the original's order, so the
//! archive files read like the old ones.

use serde::ser::{Serialize, SerializeMap, Serializer};

/// The `$schema` of every card (`http`, as the original wrote it).
pub const SCHEMA: &str = "http://adaptivecards.io/schemas/adaptive-card.json";
/// The card version the original sends.
pub const VERSION: &str = "1.4";
/// The attachment content type.
pub const CONTENT_TYPE: &str = "application/vnd.microsoft.card.adaptive";
/// Teams' documented message size limit is about 28 KB; payloads above this are trimmed.
pub const MAX_PAYLOAD_BYTES: usize = 28 * 1024;
/// Longest text of one element before trimming shortens it.
const MAX_TEXT_CHARS: usize = 2000;

/// `size`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Size {
    /// `Small`.
    Small,
    /// `Medium`.
    Medium,
    /// `Large`.
    Large,
}

/// `weight` (only `Bolder` is used).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    /// `Bolder`.
    Bolder,
}

/// `color`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Color {
    /// `Default`.
    Default,
    /// `Good` (green).
    Good,
    /// `Warning` (amber).
    Warning,
    /// `Attention` (red).
    Attention,
}

/// `spacing`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Spacing {
    /// `None`.
    None,
    /// `Small`.
    Small,
    /// `Medium`.
    Medium,
}

impl Size {
    fn as_str(self) -> &'static str {
        match self {
            Self::Small => "Small",
            Self::Medium => "Medium",
            Self::Large => "Large",
        }
    }
}

impl Color {
    /// The schema's spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Default => "Default",
            Self::Good => "Good",
            Self::Warning => "Warning",
            Self::Attention => "Attention",
        }
    }
}

impl Spacing {
    fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::Small => "Small",
            Self::Medium => "Medium",
        }
    }
}

/// One attribute of a `TextBlock`, in emission order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Attr {
    Size(Size),
    Weight(Weight),
    Color(Color),
    Wrap,
    Spacing(Spacing),
    Subtle,
    Monospace,
}

/// A `TextBlock`: its text and attributes, with the position of `text` among the keys.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TextBlock {
    text: String,
    before: Vec<Attr>,
    after: Vec<Attr>,
}

impl TextBlock {
    fn new(before: &[Attr], text: impl Into<String>, after: &[Attr]) -> Self {
        Self {
            text: text.into(),
            before: before.to_vec(),
            after: after.to_vec(),
        }
    }

    /// E-TITLE: the card title (`Large`, `Bolder`).
    pub fn title(text: impl Into<String>) -> Self {
        Self::new(
            &[Attr::Size(Size::Large), Attr::Weight(Weight::Bolder)],
            text,
            &[],
        )
    }

    /// E-SUBTLE: a small grey header line (`Generated on …`, `Hostname: …`).
    pub fn subtle(text: impl Into<String>) -> Self {
        Self::new(
            &[Attr::Size(Size::Small)],
            text,
            &[Attr::Subtle, Attr::Spacing(Spacing::None)],
        )
    }

    /// E-TEST-SUBTLE: the `Sent at …` line of a test card.
    pub fn test_subtle(text: impl Into<String>) -> Self {
        Self::new(&[], text, &[Attr::Subtle, Attr::Spacing(Spacing::None)])
    }

    /// E-TEST-BODY: the body line of a test card.
    pub fn test_body(text: impl Into<String>) -> Self {
        Self::new(&[], text, &[Attr::Wrap, Attr::Spacing(Spacing::Medium)])
    }

    /// E-SECTION: a section header; `name` is wrapped as `**<name>:**`.
    pub fn section(name: &str) -> Self {
        Self::heading(format!("**{name}:**"))
    }

    /// E-MODELS-COUNT: the same shape as a section header with free text.
    pub fn heading(text: impl Into<String>) -> Self {
        Self::new(
            &[],
            text,
            &[
                Attr::Weight(Weight::Bolder),
                Attr::Size(Size::Medium),
                Attr::Spacing(Spacing::Medium),
            ],
        )
    }

    /// E-STATUS: the coloured status headline.
    pub fn status(text: impl Into<String>, color: Color) -> Self {
        Self::new(
            &[Attr::Size(Size::Medium), Attr::Weight(Weight::Bolder)],
            text,
            &[
                Attr::Color(color),
                Attr::Wrap,
                Attr::Spacing(Spacing::Small),
            ],
        )
    }

    /// E-BULLET-S: the first bullet after a header (small, `Small` spacing).
    pub fn bullet_first(text: impl Into<String>) -> Self {
        Self::new(
            &[],
            text,
            &[
                Attr::Wrap,
                Attr::Size(Size::Small),
                Attr::Spacing(Spacing::Small),
            ],
        )
    }

    /// E-BULLET-N: a following bullet (small, no spacing).
    pub fn bullet(text: impl Into<String>) -> Self {
        Self::new(
            &[],
            text,
            &[
                Attr::Wrap,
                Attr::Size(Size::Small),
                Attr::Spacing(Spacing::None),
            ],
        )
    }

    /// E-SUBSECTION: a small bold category header.
    pub fn subsection(text: impl Into<String>) -> Self {
        Self::new(
            &[],
            text,
            &[
                Attr::Weight(Weight::Bolder),
                Attr::Size(Size::Small),
                Attr::Spacing(Spacing::Small),
            ],
        )
    }

    /// E-SUB-SUBTLE: a small grey sub-line under a bullet.
    pub fn sub_subtle(text: impl Into<String>) -> Self {
        Self::new(
            &[],
            text,
            &[
                Attr::Wrap,
                Attr::Size(Size::Small),
                Attr::Spacing(Spacing::None),
                Attr::Subtle,
            ],
        )
    }

    /// E-ERR-SUBTLE: a small grey red error sub-line.
    pub fn error_subtle(text: impl Into<String>) -> Self {
        Self::sub_subtle(text).with_color(Color::Attention)
    }

    /// E-NOPLOT-shaped warning line (`color` `Warning`, wrapped).
    pub fn warning_line(text: impl Into<String>) -> Self {
        Self::new(&[], text, &[Attr::Color(Color::Warning), Attr::Wrap])
    }

    /// E-LINK-M: a medium link line.
    pub fn link_medium(text: impl Into<String>) -> Self {
        Self::new(
            &[],
            text,
            &[
                Attr::Wrap,
                Attr::Size(Size::Medium),
                Attr::Spacing(Spacing::Small),
            ],
        )
    }

    /// E-MONO: a small monospace line (a file path).
    pub fn monospace(text: impl Into<String>) -> Self {
        Self::bullet_first(text).push(Attr::Monospace)
    }

    /// The same element with `color` as its last key (E-BULLET-N-C, E-BULLET-S-C).
    pub fn with_color(self, color: Color) -> Self {
        self.push(Attr::Color(color))
    }

    fn push(mut self, attr: Attr) -> Self {
        self.after.push(attr);
        self
    }

    /// The text.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The colour, when set.
    pub fn color(&self) -> Option<Color> {
        self.before.iter().chain(&self.after).find_map(|a| match a {
            Attr::Color(c) => Some(*c),
            _ => None,
        })
    }

    fn shorten(&mut self, max_chars: usize) -> bool {
        if self.text.chars().count() <= max_chars {
            return false;
        }
        let mut t: String = self.text.chars().take(max_chars).collect();
        t.push_str(" …");
        self.text = t;
        true
    }
}

fn put_attr<M: SerializeMap>(m: &mut M, a: &Attr) -> Result<(), M::Error> {
    match a {
        Attr::Size(s) => m.serialize_entry("size", s.as_str()),
        Attr::Weight(Weight::Bolder) => m.serialize_entry("weight", "Bolder"),
        Attr::Color(c) => m.serialize_entry("color", c.as_str()),
        Attr::Wrap => m.serialize_entry("wrap", &true),
        Attr::Spacing(s) => m.serialize_entry("spacing", s.as_str()),
        Attr::Subtle => m.serialize_entry("isSubtle", &true),
        Attr::Monospace => m.serialize_entry("fontType", "Monospace"),
    }
}

impl Serialize for TextBlock {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2 + self.before.len() + self.after.len()))?;
        m.serialize_entry("type", "TextBlock")?;
        for a in &self.before {
            put_attr(&mut m, a)?;
        }
        m.serialize_entry("text", &self.text)?;
        for a in &self.after {
            put_attr(&mut m, a)?;
        }
        m.end()
    }
}

/// `Action.OpenUrl`: a button that opens a link.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenUrl {
    /// Button title.
    pub title: String,
    /// Target URL.
    pub url: String,
}

impl OpenUrl {
    /// A button `title` → `url`.
    pub fn new(title: impl Into<String>, url: impl Into<String>) -> Self {
        Self {
            title: title.into(),
            url: url.into(),
        }
    }
}

impl Serialize for OpenUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("type", "Action.OpenUrl")?;
        m.serialize_entry("title", &self.title)?;
        m.serialize_entry("url", &self.url)?;
        m.end()
    }
}

/// An Adaptive Card: body elements and, when `Some`, an `actions` array (cards differ in
/// whether an empty list is omitted: see each card).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AdaptiveCard {
    /// Body elements, top to bottom.
    pub body: Vec<TextBlock>,
    /// Buttons; `None` omits the `actions` key.
    pub actions: Option<Vec<OpenUrl>>,
}

impl AdaptiveCard {
    /// An empty card.
    pub fn new() -> Self {
        Self::default()
    }

    /// Appends a body element.
    pub fn push(&mut self, e: TextBlock) -> &mut Self {
        self.body.push(e);
        self
    }

    /// Appends a button (creating the `actions` array).
    pub fn action(&mut self, a: OpenUrl) -> &mut Self {
        self.actions.get_or_insert_with(Vec::new).push(a);
        self
    }

    /// The card wrapped in the `message` envelope.
    pub fn into_message(self) -> Message {
        Message { card: self }
    }

    /// The body texts in order (what a reader sees, without formatting).
    pub fn texts(&self) -> Vec<&str> {
        self.body.iter().map(TextBlock::text).collect()
    }
}

impl Serialize for AdaptiveCard {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(None)?;
        m.serialize_entry("type", "AdaptiveCard")?;
        m.serialize_entry("$schema", SCHEMA)?;
        m.serialize_entry("version", VERSION)?;
        m.serialize_entry("body", &self.body)?;
        if let Some(a) = &self.actions {
            m.serialize_entry("actions", a)?;
        }
        m.end()
    }
}

/// The webhook payload: `{"type":"message","attachments":[{"contentType":…,"content":card}]}`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// The one attached card.
    pub card: AdaptiveCard,
}

struct Attachment<'a>(&'a AdaptiveCard);

impl Serialize for Attachment<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("contentType", CONTENT_TYPE)?;
        m.serialize_entry("content", self.0)?;
        m.end()
    }
}

impl Serialize for Message {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("type", "message")?;
        m.serialize_entry("attachments", &[Attachment(&self.card)])?;
        m.end()
    }
}

impl Message {
    /// The compact JSON sent over HTTP (raw UTF-8; Teams accepts it as well as `\u` escapes).
    pub fn to_wire_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// The archive form: 2-space indentation, raw UTF-8, no trailing newline (spec §7.9).
    pub fn to_pretty_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Size of the wire JSON in bytes.
    pub fn wire_len(&self) -> usize {
        self.to_wire_json().len()
    }

    /// Makes the payload fit `max_bytes`: over-long texts are shortened first, then body
    /// elements are dropped from the end (the title and the status lines stay) and a visible
    /// note says how many lines were left out. Returns the number of elements dropped (0 when
    /// the payload already fitted; texts may still have been shortened).
    pub fn trim_to(&mut self, max_bytes: usize) -> usize {
        if self.wire_len() <= max_bytes {
            return 0;
        }
        for e in &mut self.card.body {
            e.shorten(MAX_TEXT_CHARS);
        }
        let mut dropped = 0;
        let keep = self.card.body.len().min(2);
        loop {
            let mut probe = self.clone();
            if dropped > 0 {
                probe.card.body.push(trim_note(dropped));
            }
            if probe.wire_len() <= max_bytes || self.card.body.len() <= keep {
                *self = probe;
                return dropped;
            }
            self.card.body.pop();
            dropped += 1;
        }
    }
}

fn trim_note(dropped: usize) -> TextBlock {
    TextBlock::warning_line(format!(
        "⚠️ Card trimmed: {dropped} more line(s) not shown (Teams accepts about 28 KB per message). The full report is in the job's log."
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_emit_the_originals_key_order() {
        let j = |e: &TextBlock| serde_json::to_string(e).unwrap();
        assert_eq!(
            j(&TextBlock::title("T")),
            r#"{"type":"TextBlock","size":"Large","weight":"Bolder","text":"T"}"#
        );
        assert_eq!(
            j(&TextBlock::subtle("S")),
            r#"{"type":"TextBlock","size":"Small","text":"S","isSubtle":true,"spacing":"None"}"#
        );
        assert_eq!(
            j(&TextBlock::section("Status")),
            r#"{"type":"TextBlock","text":"**Status:**","weight":"Bolder","size":"Medium","spacing":"Medium"}"#
        );
        assert_eq!(
            j(&TextBlock::status("ok", Color::Good)),
            r#"{"type":"TextBlock","size":"Medium","weight":"Bolder","text":"ok","color":"Good","wrap":true,"spacing":"Small"}"#
        );
        assert_eq!(
            j(&TextBlock::bullet("b").with_color(Color::Attention)),
            r#"{"type":"TextBlock","text":"b","wrap":true,"size":"Small","spacing":"None","color":"Attention"}"#
        );
        assert_eq!(
            j(&TextBlock::error_subtle("e")),
            r#"{"type":"TextBlock","text":"e","wrap":true,"size":"Small","spacing":"None","isSubtle":true,"color":"Attention"}"#
        );
        assert_eq!(
            j(&TextBlock::monospace("p")),
            r#"{"type":"TextBlock","text":"p","wrap":true,"size":"Small","spacing":"Small","fontType":"Monospace"}"#
        );
    }

    #[test]
    fn envelope_and_actions_presence() {
        let mut c = AdaptiveCard::new();
        c.push(TextBlock::title("T"));
        let m = c.clone().into_message();
        let w = m.to_wire_json();
        assert!(w.starts_with(r#"{"type":"message","attachments":[{"contentType":"application/vnd.microsoft.card.adaptive","content":{"type":"AdaptiveCard","$schema":"http://adaptivecards.io/schemas/adaptive-card.json","version":"1.4","body":["#), "{w}");
        assert!(!w.contains("actions"));
        c.action(OpenUrl::new("📋 Cron Logs", "https://x/y"));
        let w = c.into_message().to_wire_json();
        assert!(w.ends_with(r#""actions":[{"type":"Action.OpenUrl","title":"📋 Cron Logs","url":"https://x/y"}]}}]}"#), "{w}");
    }

    #[test]
    fn pretty_form_has_two_space_indent_raw_utf8_and_no_trailing_newline() {
        let mut c = AdaptiveCard::new();
        c.push(TextBlock::title("✅ ok"));
        let p = c.into_message().to_pretty_json();
        assert!(p.starts_with("{\n  \"type\": \"message\""), "{p}");
        assert!(p.contains("✅ ok"));
        assert!(!p.ends_with('\n'));
    }

    #[test]
    fn trimming_keeps_title_and_status_and_says_so() {
        let mut c = AdaptiveCard::new();
        c.push(TextBlock::title("T"));
        c.push(TextBlock::status("S", Color::Good));
        for i in 0..2000 {
            c.push(TextBlock::bullet(format!(
                "• line {i} with some padding text"
            )));
        }
        let mut m = c.into_message();
        let dropped = m.trim_to(MAX_PAYLOAD_BYTES);
        assert!(dropped > 1000, "{dropped}");
        assert!(m.wire_len() <= MAX_PAYLOAD_BYTES);
        assert_eq!(m.card.body[0].text(), "T");
        assert_eq!(m.card.body[1].text(), "S");
        let last = m.card.body.last().unwrap().text();
        assert!(
            last.contains(&format!("{dropped} more line(s) not shown")),
            "{last}"
        );
        // a small card is left alone
        let mut small = AdaptiveCard::new();
        small.push(TextBlock::title("T"));
        let mut s = small.into_message();
        assert_eq!(s.trim_to(MAX_PAYLOAD_BYTES), 0);
        assert_eq!(s.card.body.len(), 1);
    }

    #[test]
    fn one_huge_text_is_shortened_not_dropped() {
        let mut c = AdaptiveCard::new();
        c.push(TextBlock::title("T"));
        c.push(TextBlock::bullet("x".repeat(40_000)));
        let mut m = c.into_message();
        assert_eq!(m.trim_to(MAX_PAYLOAD_BYTES), 0);
        assert!(m.wire_len() <= MAX_PAYLOAD_BYTES);
        assert!(m.card.body[1].text().ends_with(" …"));
    }
}

#[cfg(test)]
mod schema_tests {
    use super::*;

    /// Every template, every colour, with and without actions, passes the 1.5 schema; a card
    /// with a wrong colour does not (so the check can fail).
    #[test]
    fn every_template_validates_against_the_schema() {
        let mut c = AdaptiveCard::new();
        c.push(TextBlock::title("T"))
            .push(TextBlock::subtle("s"))
            .push(TextBlock::test_subtle("s"))
            .push(TextBlock::test_body("b"))
            .push(TextBlock::section("Status"))
            .push(TextBlock::heading("**Models: 1/2 passed**"))
            .push(TextBlock::bullet_first("• a"))
            .push(TextBlock::bullet("• b").with_color(Color::Default))
            .push(TextBlock::subsection("**X:**"))
            .push(TextBlock::sub_subtle("  y"))
            .push(TextBlock::error_subtle("  Error: z"))
            .push(TextBlock::warning_line("⚠️ w"))
            .push(TextBlock::link_medium("🔗 [View Plot](https://x)"))
            .push(TextBlock::monospace("📁 File: `/p`"));
        for col in [Color::Good, Color::Warning, Color::Attention] {
            c.push(TextBlock::status("s", col));
        }
        let m = c.clone().into_message();
        let v: serde_json::Value = serde_json::from_str(&m.to_wire_json()).unwrap();
        crate::testkit::validate_payload(&v).unwrap();
        c.action(OpenUrl::new(
            "📋 Cron Logs",
            "https://github.com/ROCm/sglang-ci",
        ));
        let v: serde_json::Value = serde_json::from_str(&c.into_message().to_wire_json()).unwrap();
        crate::testkit::validate_payload(&v).unwrap();

        let mut bad = v.clone();
        bad["attachments"][0]["content"]["body"][0]["color"] = "Purple".into();
        assert!(crate::testkit::validate_payload(&bad).is_err());
    }
}
