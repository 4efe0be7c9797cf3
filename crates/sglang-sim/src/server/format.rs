//! Response bodies in SGLang's wire format (spec/peer-clients.md §6): streamed events and
//! whole replies of `/generate`, `/v1/completions` and `/v1/chat/completions`.

use std::sync::Arc;

use crate::json::{escape_into, ids_into, int_into, quoted_into};
use crate::plan::{Finish, OutputPlan};
use crate::rng::{mix, unit};
use crate::server::protocol::Api;

/// What every event of one response shares.
#[derive(Debug, Clone)]
pub(crate) struct Meta {
    /// Endpoint.
    pub api: Api,
    /// Response id (`cmpl-…`/`chatcmpl-…`; for /generate the per-prompt rid is used).
    pub id: String,
    /// `created` (UNIX seconds).
    pub created: u64,
    /// `model`.
    pub model: Arc<str>,
    /// `/generate` `return_logprob`.
    pub return_logprob: bool,
    /// OpenAI `stream_options.include_usage`.
    pub include_usage: bool,
    /// OpenAI `stream_options.continuous_usage_stats`.
    pub continuous_usage: bool,
    /// When the request was received (for `e2e_latency`).
    pub received: f64,
    /// Seed of the simulated logprobs.
    pub seed: u64,
}

/// One prompt's result.
#[derive(Debug)]
pub(crate) struct Item {
    /// Request id (`meta_info.id`).
    pub rid: String,
    /// Prompt tokens.
    pub prompt_tokens: u32,
    /// Prompt ids (only kept for `return_logprob`).
    pub prompt_ids: Vec<u32>,
    /// What it generates.
    pub plan: OutputPlan,
}

fn finish_generate(out: &mut Vec<u8>, f: Option<&Finish>) {
    match f {
        None => out.extend_from_slice(b"null"),
        Some(Finish::Length(n)) => {
            out.extend_from_slice(b"{\"type\": \"length\", \"length\": ");
            int_into(out, *n as u64);
            out.push(b'}');
        }
        Some(Finish::StopStr(s)) => {
            out.extend_from_slice(b"{\"type\": \"stop\", \"matched\": ");
            quoted_into(out, s);
            out.push(b'}');
        }
        Some(Finish::StopEos(id)) => {
            out.extend_from_slice(b"{\"type\": \"stop\", \"matched\": ");
            int_into(out, u64::from(*id));
            out.push(b'}');
        }
    }
}

fn finish_oai(out: &mut Vec<u8>, f: Option<&Finish>) {
    match f {
        None => out.extend_from_slice(b"\"finish_reason\": null, \"matched_stop\": null"),
        Some(Finish::Length(_)) => {
            out.extend_from_slice(b"\"finish_reason\": \"length\", \"matched_stop\": null")
        }
        Some(Finish::StopStr(s)) => {
            out.extend_from_slice(b"\"finish_reason\": \"stop\", \"matched_stop\": ");
            quoted_into(out, s);
        }
        Some(Finish::StopEos(id)) => {
            out.extend_from_slice(b"\"finish_reason\": \"stop\", \"matched_stop\": ");
            int_into(out, u64::from(*id));
        }
    }
}

/// A simulated log-probability in (-2, 0] for token `id` at position `pos`.
fn logprob(seed: u64, pos: usize, id: u32) -> f64 {
    let u = unit(mix(seed ^ u64::from(id), pos as u64));
    -((u * 2.0) * 1e4).round() / 1e4
}

fn logprobs_into(out: &mut Vec<u8>, seed: u64, ids: &[u32], first_pos: usize, null_first: bool) {
    out.push(b'[');
    for (k, id) in ids.iter().enumerate() {
        if k > 0 {
            out.extend_from_slice(b", ");
        }
        out.push(b'[');
        if null_first && k == 0 {
            out.extend_from_slice(b"null");
        } else {
            out.extend_from_slice(logprob(seed, first_pos + k, *id).to_string().as_bytes());
        }
        out.extend_from_slice(b", ");
        int_into(out, u64::from(*id));
        out.extend_from_slice(b", null]");
    }
    out.push(b']');
}

fn usage_into(out: &mut Vec<u8>, prompt: u64, completion: u64) {
    out.extend_from_slice(b"{\"prompt_tokens\": ");
    int_into(out, prompt);
    out.extend_from_slice(b", \"total_tokens\": ");
    int_into(out, prompt + completion);
    out.extend_from_slice(b", \"completion_tokens\": ");
    int_into(out, completion);
    out.extend_from_slice(b", \"prompt_tokens_details\": null}");
}

fn meta_info_into(
    out: &mut Vec<u8>,
    meta: &Meta,
    item: &Item,
    completion: usize,
    finish: Option<&Finish>,
    e2e: Option<f64>,
) {
    out.extend_from_slice(b"\"meta_info\": {\"id\": ");
    quoted_into(out, &item.rid);
    out.extend_from_slice(b", \"finish_reason\": ");
    finish_generate(out, finish);
    out.extend_from_slice(b", \"prompt_tokens\": ");
    int_into(out, u64::from(item.prompt_tokens));
    out.extend_from_slice(b", \"weight_version\": \"default\", \"completion_tokens\": ");
    int_into(out, completion as u64);
    out.extend_from_slice(b", \"cached_tokens\": 0");
    if let Some(e) = e2e {
        out.extend_from_slice(format!(", \"e2e_latency\": {:.4}", e.max(0.0)).as_bytes());
    }
    let _ = meta;
}

/// Builder of one streamed response's events.
#[derive(Debug)]
pub(crate) struct EventWriter {
    /// Escaped cumulative visible text (`/generate` streams the whole text every time).
    cum: Vec<u8>,
    /// Visible bytes already sent.
    sent: usize,
}

impl EventWriter {
    /// A writer for a new stream.
    pub(crate) fn new() -> Self {
        EventWriter {
            cum: Vec::new(),
            sent: 0,
        }
    }

    /// Appends the event carrying `tokens` of `item` (`last`: with the finish reason, the
    /// usage chunk when asked for, and `data: [DONE]`).
    pub(crate) fn event(
        &mut self,
        out: &mut Vec<u8>,
        meta: &Meta,
        item: &Item,
        tokens: std::ops::Range<usize>,
        last: bool,
        now: f64,
    ) {
        let (from, to) = (tokens.start, tokens.end);
        let plan = &item.plan;
        let vis = plan.visible_after(to);
        let delta = &plan.text[self.sent.min(vis)..vis];
        self.sent = vis.max(self.sent);
        let finish = if last { Some(&plan.finish) } else { None };
        match meta.api {
            Api::Generate => {
                escape_into(&mut self.cum, delta);
                out.extend_from_slice(b"data: {\"text\": \"");
                out.extend_from_slice(&self.cum);
                out.extend_from_slice(b"\", \"output_ids\": ");
                ids_into(out, &plan.ids[from..to]);
                out.extend_from_slice(b", ");
                meta_info_into(
                    out,
                    meta,
                    item,
                    to,
                    finish,
                    last.then_some(now - meta.received),
                );
                if meta.return_logprob {
                    if from == 0 {
                        out.extend_from_slice(b", \"input_token_logprobs\": ");
                        logprobs_into(out, meta.seed, &item.prompt_ids, 0, true);
                    }
                    out.extend_from_slice(b", \"output_token_logprobs\": ");
                    logprobs_into(
                        out,
                        meta.seed,
                        &plan.ids[from..to],
                        item.prompt_ids.len() + from,
                        false,
                    );
                }
                out.extend_from_slice(b"}}\n\n");
            }
            Api::Completions | Api::Chat => {
                let chat = meta.api == Api::Chat;
                self.oai_head(out, meta, chat);
                out.extend_from_slice(b"\"choices\": [{\"index\": 0, ");
                if chat {
                    out.extend_from_slice(b"\"delta\": {");
                    if from == 0 {
                        out.extend_from_slice(b"\"role\": \"assistant\", ");
                    }
                    out.extend_from_slice(b"\"content\": ");
                    quoted_into(out, delta);
                    out.extend_from_slice(
                        b", \"reasoning_content\": null, \"tool_calls\": null}, ",
                    );
                } else {
                    out.extend_from_slice(b"\"text\": ");
                    quoted_into(out, delta);
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(b"\"logprobs\": null, ");
                finish_oai(out, finish);
                out.extend_from_slice(b"}], \"usage\": ");
                if meta.continuous_usage {
                    usage_into(out, u64::from(item.prompt_tokens), to as u64);
                } else {
                    out.extend_from_slice(b"null");
                }
                out.extend_from_slice(b"}\n\n");
                if last && meta.include_usage {
                    self.oai_head(out, meta, chat);
                    out.extend_from_slice(b"\"choices\": [], \"usage\": ");
                    usage_into(out, u64::from(item.prompt_tokens), to as u64);
                    out.extend_from_slice(b"}\n\n");
                }
            }
        }
        if last {
            out.extend_from_slice(b"data: [DONE]\n\n");
        }
    }

    fn oai_head(&self, out: &mut Vec<u8>, meta: &Meta, chat: bool) {
        out.extend_from_slice(b"data: {\"id\": ");
        quoted_into(out, &meta.id);
        out.extend_from_slice(if chat {
            b", \"object\": \"chat.completion.chunk\", \"created\": "
        } else {
            b", \"object\": \"text_completion\", \"created\": "
        });
        int_into(out, meta.created);
        out.extend_from_slice(b", \"model\": ");
        quoted_into(out, &meta.model);
        out.extend_from_slice(b", ");
    }
}

/// The whole (non-streamed) reply for `items`.
pub(crate) fn full_reply(meta: &Meta, items: &[Item], batch: bool, now: f64) -> Vec<u8> {
    let mut out = Vec::with_capacity(
        256 + items
            .iter()
            .map(|i| i.plan.visible_len + 8 * i.plan.tokens())
            .sum::<usize>(),
    );
    match meta.api {
        Api::Generate => {
            if batch {
                out.push(b'[');
            }
            for (k, item) in items.iter().enumerate() {
                if k > 0 {
                    out.extend_from_slice(b", ");
                }
                let plan = &item.plan;
                out.extend_from_slice(b"{\"text\": ");
                quoted_into(&mut out, &plan.text[..plan.visible_len]);
                out.extend_from_slice(b", \"output_ids\": ");
                ids_into(&mut out, &plan.ids);
                out.extend_from_slice(b", ");
                meta_info_into(
                    &mut out,
                    meta,
                    item,
                    plan.tokens(),
                    Some(&plan.finish),
                    Some(now - meta.received),
                );
                if meta.return_logprob {
                    out.extend_from_slice(b", \"input_token_logprobs\": ");
                    logprobs_into(&mut out, meta.seed, &item.prompt_ids, 0, true);
                    out.extend_from_slice(b", \"output_token_logprobs\": ");
                    logprobs_into(&mut out, meta.seed, &plan.ids, item.prompt_ids.len(), false);
                }
                out.extend_from_slice(b"}}");
            }
            if batch {
                out.push(b']');
            }
        }
        Api::Completions | Api::Chat => {
            let chat = meta.api == Api::Chat;
            out.extend_from_slice(b"{\"id\": ");
            quoted_into(&mut out, &meta.id);
            out.extend_from_slice(if chat {
                b", \"object\": \"chat.completion\", \"created\": "
            } else {
                b", \"object\": \"text_completion\", \"created\": "
            });
            int_into(&mut out, meta.created);
            out.extend_from_slice(b", \"model\": ");
            quoted_into(&mut out, &meta.model);
            out.extend_from_slice(b", \"choices\": [");
            let (mut p, mut c) = (0u64, 0u64);
            for (k, item) in items.iter().enumerate() {
                let plan = &item.plan;
                p += u64::from(item.prompt_tokens);
                c += plan.tokens() as u64;
                if k > 0 {
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(b"{\"index\": ");
                int_into(&mut out, k as u64);
                if chat {
                    out.extend_from_slice(
                        b", \"message\": {\"role\": \"assistant\", \"content\": ",
                    );
                    quoted_into(&mut out, &plan.text[..plan.visible_len]);
                    out.extend_from_slice(
                        b", \"reasoning_content\": null, \"tool_calls\": null}, ",
                    );
                } else {
                    out.extend_from_slice(b", \"text\": ");
                    quoted_into(&mut out, &plan.text[..plan.visible_len]);
                    out.extend_from_slice(b", ");
                }
                out.extend_from_slice(b"\"logprobs\": null, ");
                finish_oai(&mut out, Some(&plan.finish));
                out.push(b'}');
            }
            out.extend_from_slice(b"], \"usage\": ");
            usage_into(&mut out, p, c);
            out.push(b'}');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Value;

    fn item() -> Item {
        let text = " a b c".to_string();
        let plan = OutputPlan::build(text, vec![2, 4, 6], vec![5, 6, 7], 3, &[], true);
        Item {
            rid: "r1".into(),
            prompt_tokens: 4,
            prompt_ids: vec![1, 2, 3, 4],
            plan,
        }
    }

    fn meta(api: Api) -> Meta {
        Meta {
            api,
            id: "cmpl-x".into(),
            created: 1,
            model: Arc::from("m"),
            return_logprob: false,
            include_usage: true,
            continuous_usage: false,
            received: 0.0,
            seed: 1,
        }
    }

    fn events(buf: &[u8]) -> Vec<String> {
        String::from_utf8(buf.to_vec())
            .unwrap()
            .split("\n\n")
            .filter(|s| !s.is_empty())
            .map(|s| s.strip_prefix("data: ").unwrap().to_string())
            .collect()
    }

    #[test]
    fn generate_stream_has_cumulative_text_and_counts() {
        let it = item();
        let m = meta(Api::Generate);
        let mut w = EventWriter::new();
        let mut out = Vec::new();
        for i in 0..3 {
            w.event(&mut out, &m, &it, i..i + 1, i == 2, 0.5);
        }
        let ev = events(&out);
        assert_eq!(ev.len(), 4);
        assert_eq!(ev[3], "[DONE]");
        let v: Value = serde_json::from_str(&ev[1]).unwrap();
        assert_eq!(v["text"], " a b");
        assert_eq!(v["output_ids"], serde_json::json!([6]));
        assert_eq!(v["meta_info"]["completion_tokens"], 2);
        assert!(v["meta_info"]["finish_reason"].is_null());
        let v: Value = serde_json::from_str(&ev[2]).unwrap();
        assert_eq!(v["meta_info"]["finish_reason"]["type"], "length");
        assert_eq!(v["meta_info"]["e2e_latency"], 0.5);
    }

    #[test]
    fn completion_stream_has_deltas_and_a_usage_chunk() {
        let it = item();
        let m = meta(Api::Completions);
        let mut w = EventWriter::new();
        let mut out = Vec::new();
        w.event(&mut out, &m, &it, 0..2, false, 0.0);
        w.event(&mut out, &m, &it, 2..3, true, 0.0);
        let ev = events(&out);
        assert_eq!(ev.len(), 4);
        let v: Value = serde_json::from_str(&ev[0]).unwrap();
        assert_eq!(v["choices"][0]["text"], " a b");
        assert!(v["usage"].is_null());
        let v: Value = serde_json::from_str(&ev[1]).unwrap();
        assert_eq!(v["choices"][0]["text"], " c");
        assert_eq!(v["choices"][0]["finish_reason"], "length");
        let v: Value = serde_json::from_str(&ev[2]).unwrap();
        assert_eq!(v["usage"]["completion_tokens"], 3);
        assert_eq!(v["choices"].as_array().unwrap().len(), 0);
    }

    #[test]
    fn chat_and_full_replies_parse() {
        let it = item();
        let m = meta(Api::Chat);
        let mut w = EventWriter::new();
        let mut out = Vec::new();
        w.event(&mut out, &m, &it, 0..3, true, 0.0);
        let v: Value = serde_json::from_str(&events(&out)[0]).unwrap();
        assert_eq!(v["choices"][0]["delta"]["content"], " a b c");
        assert_eq!(v["choices"][0]["delta"]["role"], "assistant");
        for api in [Api::Generate, Api::Completions, Api::Chat] {
            let mut m = meta(api);
            m.return_logprob = true;
            let body = full_reply(&m, &[item()], api == Api::Generate, 1.0);
            let v: Value = serde_json::from_slice(&body).unwrap();
            match api {
                Api::Generate => {
                    assert_eq!(v[0]["text"], " a b c");
                    assert_eq!(
                        v[0]["meta_info"]["input_token_logprobs"]
                            .as_array()
                            .unwrap()
                            .len(),
                        4
                    );
                    assert!(v[0]["meta_info"]["input_token_logprobs"][0][0].is_null());
                }
                Api::Completions => assert_eq!(v["usage"]["total_tokens"], 7),
                Api::Chat => assert_eq!(v["choices"][0]["message"]["content"], " a b c"),
            }
        }
    }
}
