//! A tiny SGLang-shaped HTTP server for the client tests: `/generate` (streamed or not),
//! `/v1/completions`, `/v1/chat/completions` and the control endpoints, with a fixed TTFT and
//! inter-chunk time, several tokens per chunk, HTTP 500s, cut streams and hangs on demand.
//! It records when each request arrived and when each token's bytes were written, so tests
//! can compare the client's metrics with the server's own times.
#![allow(dead_code)]

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::time::Instant;

/// Behaviour of the stub.
#[derive(Debug, Clone)]
pub struct StubConfig {
    /// Request received -> first token.
    pub ttft: Duration,
    /// Between chunks.
    pub itl: Duration,
    /// Tokens per streamed chunk.
    pub tokens_per_chunk: usize,
    /// Every n-th generation request gets HTTP 500 (0 = never).
    pub error_every: usize,
    /// Close streams abruptly after this many tokens.
    pub cut_after: Option<usize>,
    /// Generation requests after the n-th are accepted and never answered.
    pub hang_after: Option<usize>,
    /// GSM8K oracle on: every n-th question (by index) gets a wrong answer (0 = never).
    pub gsm8k_wrong_every: Option<usize>,
}

impl Default for StubConfig {
    fn default() -> Self {
        Self {
            ttft: Duration::from_millis(20),
            itl: Duration::from_millis(5),
            tokens_per_chunk: 1,
            error_every: 0,
            cut_after: None,
            hang_after: None,
            gsm8k_wrong_every: None,
        }
    }
}

/// What the server saw of one generation request.
#[derive(Debug, Clone)]
pub struct Record {
    /// Body fully read.
    pub received: Instant,
    /// When the bytes of each output token were written.
    pub token_times: Vec<Instant>,
}

/// A running stub; it stops when the test process ends.
pub struct Stub {
    /// Listening address.
    pub addr: SocketAddr,
    /// Records of finished generation requests.
    pub records: Arc<Mutex<Vec<Record>>>,
}

impl Stub {
    /// `http://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }
}

struct State {
    cfg: StubConfig,
    count: AtomicUsize,
    records: Arc<Mutex<Vec<Record>>>,
    gsm8k: HashMap<String, (usize, i64)>,
}

/// Starts a stub on its own thread and runtime.
pub fn start(cfg: StubConfig) -> Stub {
    let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    std_listener.set_nonblocking(true).unwrap();
    let addr = std_listener.local_addr().unwrap();
    let records = Arc::new(Mutex::new(Vec::new()));
    let mut gsm8k = HashMap::new();
    if cfg.gsm8k_wrong_every.is_some() {
        for (i, p) in bench_client::gsm8k::builtin()
            .unwrap()
            .into_iter()
            .enumerate()
        {
            let label = bench_client::gsm8k::extract_answer(&p.answer);
            gsm8k.insert(p.question, (i, label));
        }
    }
    let state = Arc::new(State {
        cfg,
        count: AtomicUsize::new(0),
        records: records.clone(),
        gsm8k,
    });
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            let listener = TcpListener::from_std(std_listener).unwrap();
            loop {
                let Ok((sock, _)) = listener.accept().await else {
                    continue;
                };
                let st = state.clone();
                tokio::spawn(async move {
                    let _ = serve(sock, st).await;
                });
            }
        });
    });
    Stub { addr, records }
}

async fn serve(mut sock: TcpStream, st: Arc<State>) -> std::io::Result<()> {
    sock.set_nodelay(true)?;
    let mut buf = Vec::new();
    loop {
        // Read one request head and body.
        let head_end = loop {
            if let Some(p) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break p + 4;
            }
            let mut tmp = [0u8; 8192];
            let n = sock.read(&mut tmp).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&tmp[..n]);
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
        let len: usize = head
            .lines()
            .find_map(|l| {
                let (k, v) = l.split_once(':')?;
                k.eq_ignore_ascii_case("content-length")
                    .then(|| v.trim().parse().ok())?
            })
            .unwrap_or(0);
        while buf.len() < head_end + len {
            let mut tmp = [0u8; 65536];
            let n = sock.read(&mut tmp).await?;
            if n == 0 {
                return Ok(());
            }
            buf.extend_from_slice(&tmp[..n]);
        }
        let body: Vec<u8> = buf[head_end..head_end + len].to_vec();
        buf.drain(..head_end + len);
        let received = Instant::now();
        let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
        match path.as_str() {
            "/v1/models" => {
                json_reply(
                    &mut sock,
                    200,
                    r#"{"object":"list","data":[{"id":"stub-model","object":"model"}]}"#,
                )
                .await?
            }
            "/get_model_info" => {
                json_reply(&mut sock, 200, r#"{"model_path":"stub-model"}"#).await?
            }
            "/get_server_info" => {
                json_reply(
                    &mut sock,
                    200,
                    r#"{"internal_states":[{}],"version":"stub"}"#,
                )
                .await?
            }
            "/flush_cache" => json_reply(&mut sock, 200, "Cache flushed.").await?,
            "/generate" | "/v1/completions" | "/v1/chat/completions" => {
                if !generate(&mut sock, &st, &path, &body, received).await? {
                    return Ok(());
                }
            }
            _ => json_reply(&mut sock, 404, r#"{"error":"not found"}"#).await?,
        }
    }
}

async fn json_reply(sock: &mut TcpStream, status: u16, body: &str) -> std::io::Result<()> {
    let reason = if status == 200 {
        "OK"
    } else if status == 500 {
        "Internal Server Error"
    } else {
        "Not Found"
    };
    let msg = format!(
        "HTTP/1.1 {status} {reason}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    sock.write_all(msg.as_bytes()).await
}

/// Returns false when the connection must be dropped.
async fn generate(
    sock: &mut TcpStream,
    st: &State,
    path: &str,
    body: &[u8],
    received: Instant,
) -> std::io::Result<bool> {
    let n_req = st.count.fetch_add(1, Ordering::SeqCst) + 1;
    let cfg = &st.cfg;
    if let Some(h) = cfg.hang_after
        && n_req > h
    {
        tokio::time::sleep(Duration::from_secs(3600)).await;
        return Ok(false);
    }
    if cfg.error_every > 0 && n_req.is_multiple_of(cfg.error_every) {
        json_reply(
            sock,
            500,
            r#"{"object": "error", "message": "injected failure"}"#,
        )
        .await?;
        return Ok(true);
    }
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    let stream = v["stream"].as_bool().unwrap_or(false);
    let max_new = v["sampling_params"]["max_new_tokens"]
        .as_u64()
        .or(v["max_tokens"].as_u64())
        .or(v["max_completion_tokens"].as_u64())
        .unwrap_or(16) as usize;
    let continuous = v["stream_options"]["continuous_usage_stats"]
        .as_bool()
        .unwrap_or(false);
    let prompt = v["text"].as_str().unwrap_or("");

    // GSM8K oracle.
    if !stream && path == "/generate" && prompt.ends_with("\nAnswer:") {
        let q = prompt
            .rsplit("Question: ")
            .next()
            .unwrap_or("")
            .trim_end_matches("\nAnswer:");
        let text = match st.gsm8k.get(q) {
            Some(&(i, label)) => {
                let every = cfg.gsm8k_wrong_every.unwrap_or(0);
                let ans = if every > 0 && i % every == 0 {
                    label + 1
                } else {
                    label
                };
                format!(" Let me think. The answer is {ans}.\n\n")
            }
            None => " I do not know.".to_string(),
        };
        let body =
            serde_json::json!({"text": text, "meta_info": {"completion_tokens": 12}}).to_string();
        json_reply(sock, 200, &body).await?;
        return Ok(true);
    }

    let native = path == "/generate";
    let chat = path == "/v1/chat/completions";
    let mut times = Vec::with_capacity(max_new);
    if !stream {
        tokio::time::sleep_until(
            received + cfg.ttft + cfg.itl * (max_new.saturating_sub(1) as u32),
        )
        .await;
        let text = " the".repeat(max_new);
        let body = if native {
            serde_json::json!({"text": text, "meta_info": {"completion_tokens": max_new}})
                .to_string()
        } else {
            serde_json::json!({"choices": [{"text": text}], "usage": {"completion_tokens": max_new}}).to_string()
        };
        json_reply(sock, 200, &body).await?;
        let now = Instant::now();
        times.resize(max_new, now);
        st.records.lock().unwrap().push(Record {
            received,
            token_times: times,
        });
        return Ok(true);
    }
    sock.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .await?;
    let mut sent = 0usize;
    let mut k = 0u32;
    while sent < max_new {
        tokio::time::sleep_until(received + cfg.ttft + cfg.itl * k).await;
        k += 1;
        let n = cfg.tokens_per_chunk.min(max_new - sent);
        sent += n;
        if let Some(c) = cfg.cut_after
            && sent > c
        {
            return Ok(false); // abrupt close, no terminating chunk
        }
        let event = if native {
            format!(
                r#"{{"text": "{}", "output_ids": [1], "meta_info": {{"id": "x", "finish_reason": null, "prompt_tokens": 6, "completion_tokens": {sent}, "cached_tokens": 0}}}}"#,
                " the".repeat(sent)
            )
        } else {
            let usage = if continuous {
                format!(r#"{{"completion_tokens": {sent}}}"#)
            } else {
                "null".into()
            };
            let choice = if chat {
                format!(
                    r#"{{"index": 0, "delta": {{"content": "{}"}}}}"#,
                    " the".repeat(n)
                )
            } else {
                format!(r#"{{"index": 0, "text": "{}"}}"#, " the".repeat(n))
            };
            format!(r#"{{"id": "c", "choices": [{choice}], "usage": {usage}}}"#)
        };
        let data = format!("data: {event}\n\n");
        sock.write_all(format!("{:x}\r\n{data}\r\n", data.len()).as_bytes())
            .await?;
        let now = Instant::now();
        for _ in 0..n {
            times.push(now);
        }
    }
    let done = "data: [DONE]\n\n";
    sock.write_all(format!("{:x}\r\n{done}\r\n0\r\n\r\n", done.len()).as_bytes())
        .await?;
    st.records.lock().unwrap().push(Record {
        received,
        token_times: times,
    });
    Ok(true)
}
