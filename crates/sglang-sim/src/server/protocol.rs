//! Parsing of the three generation APIs into one shape.
//!
//! Bodies are read leniently, the way SGLang's pydantic models do: unknown fields are ignored
//! (the PD router adds `bootstrap_host/port/room`, which may be integers, nulls or arrays; a
//! u63 room never goes through f64), `null` means "default", and a field may be a single value
//! or a list for batches.

use serde_json::Value;

/// Which endpoint a request came in on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Api {
    /// `POST /generate` (SGLang native).
    Generate,
    /// `POST /v1/completions`.
    Completions,
    /// `POST /v1/chat/completions`.
    Chat,
}

impl Api {
    /// The path, as written in the trace.
    pub(crate) fn path(self) -> &'static str {
        match self {
            Api::Generate => "/generate",
            Api::Completions => "/v1/completions",
            Api::Chat => "/v1/chat/completions",
        }
    }
}

/// A prompt: text or token ids.
#[derive(Debug, Clone)]
pub(crate) enum Prompt {
    /// Text (tokenized by the server).
    Text(String),
    /// Token ids (`input_ids`, or an OpenAI prompt given as ids).
    Ids(Vec<u32>),
}

/// One prompt to generate for.
#[derive(Debug, Clone)]
pub(crate) struct Job {
    /// The prompt.
    pub prompt: Prompt,
    /// Text the GSM8K oracle looks at (chat: the last user message).
    pub oracle_text: Option<String>,
    /// `max_new_tokens` / `max_tokens` / `max_completion_tokens`.
    pub max_new_tokens: usize,
    /// Stop strings.
    pub stops: Vec<String>,
    /// `ignore_eos`.
    pub ignore_eos: bool,
    /// Client-chosen request id (`rid`).
    pub rid: Option<String>,
}

impl Job {
    /// A job for a text or token-id prompt; the oracle reads a text prompt as it is.
    fn for_prompt(prompt: Prompt, max_new_tokens: usize, stops: Vec<String>) -> Self {
        let oracle_text = match &prompt {
            Prompt::Text(t) => Some(t.clone()),
            Prompt::Ids(_) => None,
        };
        Self {
            prompt,
            oracle_text,
            max_new_tokens,
            stops,
            ignore_eos: false,
            rid: None,
        }
    }
}

/// A parsed generation request.
#[derive(Debug, Clone)]
pub(crate) struct GenRequest {
    /// One job per prompt.
    pub jobs: Vec<Job>,
    /// The input was a list: answer with a list (`/generate`) or several choices.
    pub batch: bool,
    /// `stream`.
    pub stream: bool,
    /// `return_logprob` (`/generate`).
    pub return_logprob: bool,
    /// `stream_options.include_usage`.
    pub include_usage: bool,
    /// `stream_options.continuous_usage_stats`.
    pub continuous_usage: bool,
    /// `model` (OpenAI endpoints).
    pub model: Option<String>,
}

/// SGLang's default `max_new_tokens` for `/generate`.
const GENERATE_DEFAULT_MAX: usize = 128;
/// OpenAI's default `max_tokens` for completions.
const COMPLETIONS_DEFAULT_MAX: usize = 16;
/// Chat without `max_tokens`/`max_completion_tokens` (real servers run to EOS; filler has none).
const CHAT_DEFAULT_MAX: usize = 128;

fn truthy(v: &Value) -> bool {
    match v {
        Value::Bool(b) => *b,
        Value::Array(a) => a.first().is_some_and(truthy),
        _ => false,
    }
}

fn usize_field(v: &Value) -> Option<usize> {
    v.as_u64()
        .map(|n| n as usize)
        .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as usize))
}

fn stops(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(vec![s.clone()]),
        Value::Array(a) => a
            .iter()
            .map(|x| {
                x.as_str()
                    .map(str::to_string)
                    .ok_or_else(|| "stop must be a string or a list of strings".to_string())
            })
            .collect(),
        _ => Err("stop must be a string or a list of strings".into()),
    }
}

fn ids(v: &Value) -> Option<Vec<u32>> {
    v.as_array()?
        .iter()
        .map(|x| x.as_u64().map(|n| n as u32))
        .collect()
}

/// Parses a request body for `api`; the error text goes into a 400 reply.
pub(crate) fn parse(api: Api, body: &[u8]) -> Result<GenRequest, String> {
    let v: Value = serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))?;
    if !v.is_object() {
        return Err("the request body must be a JSON object".into());
    }
    let stream = truthy(&v["stream"]);
    let so = &v["stream_options"];
    let mut req = GenRequest {
        jobs: Vec::new(),
        batch: false,
        stream,
        return_logprob: truthy(&v["return_logprob"]),
        include_usage: truthy(&so["include_usage"]),
        continuous_usage: truthy(&so["continuous_usage_stats"]),
        model: v["model"].as_str().map(str::to_string),
    };
    match api {
        Api::Generate => parse_generate(&v, &mut req)?,
        Api::Completions => parse_completions(&v, &mut req)?,
        Api::Chat => parse_chat(&v, &mut req)?,
    }
    if req.jobs.is_empty() {
        return Err(
            "no prompt: give `text` or `input_ids` (/generate), `prompt` or `messages`".into(),
        );
    }
    Ok(req)
}

fn parse_generate(v: &Value, req: &mut GenRequest) -> Result<(), String> {
    let prompts: Vec<Prompt> = match (&v["text"], &v["input_ids"]) {
        (Value::String(s), _) => vec![Prompt::Text(s.clone())],
        (Value::Array(a), _) => {
            req.batch = true;
            a.iter()
                .map(|x| {
                    x.as_str()
                        .map(|s| Prompt::Text(s.to_string()))
                        .ok_or("text must be a string or a list of strings")
                })
                .collect::<Result<_, _>>()?
        }
        (Value::Null, Value::Array(a)) if a.first().is_some_and(Value::is_array) => {
            req.batch = true;
            a.iter()
                .map(|x| {
                    ids(x)
                        .map(Prompt::Ids)
                        .ok_or("input_ids must hold integers")
                })
                .collect::<Result<_, _>>()?
        }
        (Value::Null, Value::Array(_)) => {
            vec![Prompt::Ids(
                ids(&v["input_ids"]).ok_or("input_ids must hold integers")?,
            )]
        }
        (Value::Null, Value::Null) => Vec::new(),
        _ => return Err("text must be a string or a list of strings".into()),
    };
    let rids: Vec<Option<String>> = match &v["rid"] {
        Value::String(s) => vec![Some(s.clone())],
        Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string)).collect(),
        _ => Vec::new(),
    };
    for (i, prompt) in prompts.into_iter().enumerate() {
        let sp = match &v["sampling_params"] {
            Value::Array(a) => a.get(i).cloned().unwrap_or(Value::Null),
            other => other.clone(),
        };
        let max = usize_field(&sp["max_new_tokens"]).unwrap_or(GENERATE_DEFAULT_MAX);
        req.jobs.push(Job {
            ignore_eos: truthy(&sp["ignore_eos"]),
            rid: rids.get(i).cloned().flatten(),
            ..Job::for_prompt(prompt, max, stops(&sp["stop"])?)
        });
    }
    Ok(())
}

fn parse_completions(v: &Value, req: &mut GenRequest) -> Result<(), String> {
    let prompts: Vec<Prompt> = match &v["prompt"] {
        Value::String(s) => vec![Prompt::Text(s.clone())],
        Value::Array(a) if a.first().is_some_and(Value::is_number) => {
            vec![Prompt::Ids(
                ids(&v["prompt"]).ok_or("prompt ids must be integers")?,
            )]
        }
        Value::Array(a) => {
            req.batch = a.len() > 1;
            a.iter()
                .map(|x| match x {
                    Value::String(s) => Ok(Prompt::Text(s.clone())),
                    Value::Array(_) => ids(x).map(Prompt::Ids).ok_or("prompt ids must be integers"),
                    _ => Err("prompt must be a string, a list of strings or token ids"),
                })
                .collect::<Result<_, _>>()?
        }
        Value::Null => Vec::new(),
        _ => return Err("prompt must be a string, a list of strings or token ids".into()),
    };
    let max = usize_field(&v["max_tokens"]).unwrap_or(COMPLETIONS_DEFAULT_MAX);
    let st = stops(&v["stop"])?;
    for prompt in prompts {
        req.jobs.push(Job {
            ignore_eos: truthy(&v["ignore_eos"]),
            rid: v["rid"].as_str().map(str::to_string),
            ..Job::for_prompt(prompt, max, st.clone())
        });
    }
    Ok(())
}

fn content_text(c: &Value) -> String {
    match c {
        Value::String(s) => s.clone(),
        Value::Array(parts) => parts
            .iter()
            .filter_map(|p| p["text"].as_str())
            .collect::<Vec<_>>()
            .join(""),
        _ => String::new(),
    }
}

fn parse_chat(v: &Value, req: &mut GenRequest) -> Result<(), String> {
    let Some(messages) = v["messages"].as_array() else {
        return if v["messages"].is_null() {
            Ok(())
        } else {
            Err("messages must be a list".into())
        };
    };
    // The test tokenizer's template (spec/peer-clients.md §3); other templates only change
    // the prompt length by a few tokens.
    let mut prompt = String::new();
    let mut last_user = None;
    for m in messages {
        let role = m["role"].as_str().unwrap_or("user");
        let content = content_text(&m["content"]);
        prompt.push_str(&format!("<|{role}|>\n{content}<|eot_id|>"));
        if role == "user" {
            last_user = Some(content);
        }
    }
    prompt.push_str("<|assistant|>\n");
    let max = usize_field(&v["max_completion_tokens"])
        .or_else(|| usize_field(&v["max_tokens"]))
        .unwrap_or(CHAT_DEFAULT_MAX);
    req.jobs.push(Job {
        prompt: Prompt::Text(prompt),
        oracle_text: last_user,
        max_new_tokens: max,
        stops: stops(&v["stop"])?,
        ignore_eos: truthy(&v["ignore_eos"]),
        rid: v["rid"].as_str().map(str::to_string),
    });
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bench_serving_generate_body() {
        let b = br#"{"text": "<|begin_of_text|>Anthony had 50 pencils.", "sampling_params": {"temperature": 0.0, "max_new_tokens": 29, "ignore_eos": true}, "stream": true, "lora_path": null, "return_logprob": false, "return_routed_experts": false, "logprob_start_len": -1}"#;
        let r = parse(Api::Generate, b).unwrap();
        assert!(r.stream && !r.batch && !r.return_logprob);
        assert_eq!(r.jobs[0].max_new_tokens, 29);
        assert!(r.jobs[0].ignore_eos);
    }

    #[test]
    fn router_rewritten_body_with_u63_room_and_nulls() {
        let b = br#"{"text": "Hello", "model": null, "sampling_params": {"temperature": 0.0, "max_new_tokens": 8}, "return_text_in_logprobs": false, "stream": false, "log_metrics": true, "bootstrap_host": "127.0.0.1", "bootstrap_port": null, "bootstrap_room": 9210721359525832918}"#;
        let r = parse(Api::Generate, b).unwrap();
        assert_eq!(r.jobs.len(), 1);
        assert_eq!(r.jobs[0].max_new_tokens, 8);
        let b = br#"{"model": "m", "prompt": ["a", "b"], "max_tokens": 8, "bootstrap_room": [7731994856833861341, 7157321670045129279]}"#;
        let r = parse(Api::Completions, b).unwrap();
        assert!(r.batch);
        assert_eq!(r.jobs.len(), 2);
    }

    #[test]
    fn gsm8k_body_and_stop_shapes() {
        let b = br#"{"text": "Question: q\nAnswer:", "sampling_params": {"max_new_tokens": 512, "stop": ["Question", "Assistant:", "<|separator|>"], "stop_token_ids": [], "stop_regex": [], "temperature": 0.0, "regex": null, "json_schema": null}}"#;
        let r = parse(Api::Generate, b).unwrap();
        assert_eq!(r.jobs[0].stops.len(), 3);
        let r = parse(Api::Completions, br#"{"prompt": "x", "stop": "\n"}"#).unwrap();
        assert_eq!(r.jobs[0].stops, ["\n"]);
        assert_eq!(r.jobs[0].max_new_tokens, 16);
    }

    #[test]
    fn chat_takes_max_completion_tokens_or_max_tokens() {
        let b = br#"{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 8, "stream": true, "stream_options": {"include_usage": true}}"#;
        let r = parse(Api::Chat, b).unwrap();
        assert_eq!(r.jobs[0].max_new_tokens, 8);
        assert!(r.include_usage && r.stream);
        assert_eq!(r.jobs[0].oracle_text.as_deref(), Some("Hi"));
        let b = br#"{"model": "m", "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}], "max_completion_tokens": 3}"#;
        assert_eq!(parse(Api::Chat, b).unwrap().jobs[0].max_new_tokens, 3);
    }

    #[test]
    fn bad_bodies_are_reported() {
        assert!(
            parse(Api::Generate, b"{nope")
                .unwrap_err()
                .contains("invalid JSON")
        );
        assert!(
            parse(Api::Generate, b"{}")
                .unwrap_err()
                .contains("no prompt")
        );
        assert!(parse(Api::Generate, br#"{"input_ids": [1, 2, 3]}"#).is_ok());
        assert!(
            parse(Api::Generate, br#"{"input_ids": [[1], [2]]}"#)
                .unwrap()
                .batch
        );
    }
}
