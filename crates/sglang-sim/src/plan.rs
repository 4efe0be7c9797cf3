//! What one request will generate: the tokens, the text the client sees and why it stops.

/// Why generation ended, as SGLang reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Finish {
    /// `max_new_tokens` reached: `{"type": "length", "length": N}`.
    Length(usize),
    /// A stop string matched: `{"type": "stop", "matched": "<s>"}` (the string is not shown).
    StopStr(String),
    /// The model "emitted EOS" (source text ran out before the limit): `{"type": "stop", "matched": <id>}`.
    StopEos(u32),
}

/// The tokens a request produces and the visible text.
#[derive(Debug, Clone)]
pub(crate) struct OutputPlan {
    /// Generated text (may run past `visible_len` up to the end of the stop string).
    pub text: String,
    /// Byte end offset in `text` of each generated token; `ends.len()` = completion tokens.
    pub ends: Vec<u32>,
    /// Token ids.
    pub ids: Vec<u32>,
    /// The client sees `text[..visible_len]`.
    pub visible_len: usize,
    /// Why it ends.
    pub finish: Finish,
}

/// EOS id reported when a source text ends before `max_new_tokens`.
pub(crate) const EOS_ID: u32 = 4097;

impl OutputPlan {
    /// Cuts `source` (text with token `ends`/`ids`) to `max_new_tokens` and at the first stop
    /// string; `source_is_open` says the source would continue (filler), so running out of it
    /// means the length limit rather than EOS.
    pub(crate) fn build(
        mut text: String,
        mut ends: Vec<u32>,
        mut ids: Vec<u32>,
        max_new_tokens: usize,
        stops: &[String],
        ignore_eos: bool,
    ) -> OutputPlan {
        let source_len = ends.len();
        let mut finish =
            if source_len > max_new_tokens || ignore_eos || source_len == max_new_tokens {
                Finish::Length(max_new_tokens.min(source_len))
            } else {
                Finish::StopEos(EOS_ID)
            };
        if ends.len() > max_new_tokens {
            ends.truncate(max_new_tokens);
            ids.truncate(max_new_tokens);
            let cut = ends.last().map_or(0, |e| *e as usize);
            text.truncate(floor_boundary(&text, cut));
        }
        let mut visible_len = text.len();
        // Earliest stop-string match (ties: the longer string).
        let mut best: Option<(usize, &String)> = None;
        for s in stops.iter().filter(|s| !s.is_empty()) {
            if let Some(pos) = text.find(s.as_str())
                && best.is_none_or(|(bp, bs)| pos < bp || (pos == bp && s.len() > bs.len()))
            {
                best = Some((pos, s));
            }
        }
        if let Some((pos, s)) = best {
            let match_end = (pos + s.len()) as u32;
            let n = ends.partition_point(|e| *e < match_end) + 1;
            let n = n.min(ends.len());
            ends.truncate(n);
            ids.truncate(n);
            visible_len = pos;
            finish = Finish::StopStr(s.clone());
        }
        if let Finish::Length(n) = &mut finish {
            *n = ends.len();
        }
        OutputPlan {
            text,
            ends,
            ids,
            visible_len,
            finish,
        }
    }

    /// Number of completion tokens.
    pub(crate) fn tokens(&self) -> usize {
        self.ends.len()
    }

    /// Visible text after the first `n` tokens (never inside a UTF-8 character).
    pub(crate) fn visible_after(&self, n: usize) -> usize {
        if n == 0 {
            return 0;
        }
        if n >= self.ends.len() {
            return self.visible_len;
        }
        let end = (self.ends[n - 1] as usize).min(self.visible_len);
        floor_boundary(&self.text, end)
    }

    /// A plan for the prefill role of a PD pair: the first token only.
    pub(crate) fn first_token_only(mut self) -> OutputPlan {
        if self.ends.len() > 1 {
            self.ends.truncate(1);
            self.ids.truncate(1);
            self.visible_len = self.visible_len.min(self.ends[0] as usize);
            self.visible_len = floor_boundary(&self.text, self.visible_len);
            self.finish = Finish::Length(1);
        }
        self
    }
}

fn floor_boundary(s: &str, mut i: usize) -> usize {
    i = i.min(s.len());
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(ws: &[&str]) -> (String, Vec<u32>, Vec<u32>) {
        let mut t = String::new();
        let mut ends = vec![];
        for w in ws {
            t.push_str(w);
            ends.push(t.len() as u32);
        }
        let ids = (0..ws.len() as u32).collect();
        (t, ends, ids)
    }

    #[test]
    fn length_limit_cuts_tokens_and_text() {
        let (t, e, i) = words(&[" a", " b", " c", " d"]);
        let p = OutputPlan::build(t, e, i, 2, &[], true);
        assert_eq!(p.tokens(), 2);
        assert_eq!(&p.text[..p.visible_len], " a b");
        assert_eq!(p.finish, Finish::Length(2));
    }

    #[test]
    fn stop_string_hides_the_match_but_counts_its_tokens() {
        let (t, e, i) = words(&[" 18", "\n\n", "Question", ":", " next"]);
        let stops = vec!["Question".to_string(), "Assistant:".to_string()];
        let p = OutputPlan::build(t, e, i, 512, &stops, false);
        assert_eq!(&p.text[..p.visible_len], " 18\n\n");
        assert_eq!(p.tokens(), 3);
        assert_eq!(p.finish, Finish::StopStr("Question".into()));
        assert_eq!(p.visible_after(1), 3);
        assert_eq!(p.visible_after(3), 5);
    }

    #[test]
    fn short_source_without_ignore_eos_stops_with_eos() {
        let (t, e, i) = words(&[" x"]);
        let p = OutputPlan::build(t.clone(), e.clone(), i.clone(), 10, &[], false);
        assert_eq!(p.finish, Finish::StopEos(EOS_ID));
        let p = OutputPlan::build(t, e, i, 0, &[], false);
        assert_eq!(p.tokens(), 0);
        assert_eq!(p.finish, Finish::Length(0));
    }

    #[test]
    fn partial_utf8_tokens_never_split_a_character() {
        let text = "a’b".to_string(); // ’ is 3 bytes
        let ends = vec![1, 2, 3, 4, 5];
        let p = OutputPlan::build(text, ends, vec![0; 5], 10, &[], true);
        assert_eq!(p.visible_after(2), 1);
        assert_eq!(p.visible_after(4), 4);
        assert_eq!(p.visible_after(5), 5);
        assert_eq!(p.clone().first_token_only().tokens(), 1);
    }
}
