//! `sglang-sim launch-server` seen by a plain HTTP client: every endpoint, the wire format,
//! the trace, and each fault flag producing the failure a client would see.
#![allow(clippy::print_stdout, clippy::print_stderr)]

mod support;

use std::time::{Duration, Instant};

use support::free_port;
use support::http::{Resp, http};
use support::sim::{Proc, read_trace, tokenizer};

const T: Duration = Duration::from_secs(10);

fn post_generate(p: &Proc, body: &str) -> Resp {
    http(p.port, "POST", "/generate", Some(body), T).expect("request")
}

/// A non-streamed `/generate` of the text `a` for `max_new_tokens` tokens.
fn generate_a(p: &Proc, max_new_tokens: u32) -> Resp {
    post_generate(
        p,
        &format!(r#"{{"text": "a", "sampling_params": {{"max_new_tokens": {max_new_tokens}}}}}"#),
    )
}

#[test]
fn control_endpoints_answer_like_sglang_and_say_simulated() {
    let p = Proc::server(&[
        "--model-path",
        "/models/amd--grok-1-W4A8KV8",
        "--tokenizer-path",
        &tokenizer(),
        "--tp",
        "8",
    ]);
    let log = p.out.text();
    assert!(log.contains("SIMULATED ENGINE"), "banner missing:\n{log}");
    assert!(log.contains("server_args=ServerArgs(model_path='/models/amd--grok-1-W4A8KV8'"));
    assert!(log.contains("KV Cache is allocated. #tokens: "));

    let h = http(p.port, "GET", "/health", None, T).unwrap();
    assert_eq!((h.status, h.body.len()), (200, 0));
    assert_eq!(
        http(p.port, "GET", "/health_generate", None, T)
            .unwrap()
            .status,
        200
    );
    for path in ["/get_model_info", "/model_info"] {
        let v = http(p.port, "GET", path, None, T).unwrap().json();
        assert_eq!(v["model_path"], "/models/amd--grok-1-W4A8KV8");
        assert_eq!(v["is_generation"], true);
        assert_eq!(v["simulated"], true);
    }
    for path in ["/get_server_info", "/server_info"] {
        let v = http(p.port, "GET", path, None, T).unwrap().json();
        assert_eq!(v["tp_size"], 8);
        assert_eq!(v["disaggregation_mode"], "null");
        assert!(
            v["internal_states"][0]["avg_spec_accept_length"].is_null(),
            "bench_serving must not print Accept length"
        );
        assert!(v["version"].as_str().unwrap().contains("simulated"));
    }
    let v = http(p.port, "GET", "/v1/models", None, T).unwrap().json();
    // The model path does not exist here, so the tokenizer directory is served (bench_serving
    // loads its tokenizer from this id when given none).
    assert_eq!(v["data"][0]["id"], tokenizer());
    assert!(
        v["data"][0]["owned_by"]
            .as_str()
            .unwrap()
            .contains("simulated")
    );
    for m in ["POST", "GET"] {
        let f = http(p.port, m, "/flush_cache", None, T).unwrap();
        assert_eq!(f.status, 200);
        assert!(f.text().starts_with("Cache flushed."));
    }
    assert_eq!(http(p.port, "GET", "/nope", None, T).unwrap().status, 404);
    assert_eq!(
        http(p.port, "GET", "/generate", None, T).unwrap().status,
        405
    );
    assert!(
        p.out
            .wait_for("\"GET /v1/models HTTP/1.1\" 200 OK", T)
            .is_some(),
        "access log line"
    );
}

#[test]
fn generate_stream_and_openai_endpoints_follow_the_wire_format() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("trace.jsonl");
    let p = Proc::tokenized("/m/x", "zero", &["--sim-trace", trace.to_str().unwrap()]);
    // Non-streaming /generate.
    let r = post_generate(
        &p,
        r#"{"text": "Hello world", "sampling_params": {"max_new_tokens": 5, "ignore_eos": true}}"#,
    );
    assert_eq!(r.status, 200);
    let v = r.json();
    assert_eq!(v["meta_info"]["completion_tokens"], 5);
    assert_eq!(v["meta_info"]["finish_reason"]["type"], "length");
    assert_eq!(v["output_ids"].as_array().unwrap().len(), 5);
    assert!(v["meta_info"]["prompt_tokens"].as_u64().unwrap() >= 3);
    // Streaming /generate: cumulative text, cumulative counts, [DONE].
    let r = post_generate(
        &p,
        r#"{"text": "Hello world", "sampling_params": {"max_new_tokens": 4}, "stream": true}"#,
    );
    assert_eq!(r.header("content-type"), Some("text/event-stream"));
    assert!(r.complete);
    let ev = r.events();
    assert_eq!(ev.len(), 5);
    assert_eq!(ev[4], "[DONE]");
    let texts: Vec<String> = ev[..4]
        .iter()
        .map(|e| {
            serde_json::from_str::<serde_json::Value>(e).unwrap()["text"]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect();
    for w in texts.windows(2) {
        assert!(
            w[1].starts_with(&w[0]) && w[1].len() > w[0].len(),
            "text must be cumulative: {texts:?}"
        );
    }
    // input_ids, batch, logprobs.
    let v = post_generate(&p, r#"{"input_ids": [[1, 2, 3], [4, 5]], "sampling_params": {"max_new_tokens": 2}, "return_logprob": true}"#).json();
    assert_eq!(v.as_array().unwrap().len(), 2);
    assert_eq!(v[1]["meta_info"]["prompt_tokens"], 2);
    assert_eq!(
        v[0]["meta_info"]["input_token_logprobs"]
            .as_array()
            .unwrap()
            .len(),
        3
    );
    // Stop strings: the match is hidden, finish_reason says which.
    let v = post_generate(
        &p,
        r#"{"text": "x", "sampling_params": {"max_new_tokens": 50, "stop": [" to"]}}"#,
    )
    .json();
    assert_eq!(v["meta_info"]["finish_reason"]["matched"], " to");
    assert!(!v["text"].as_str().unwrap().contains(" to"));
    // /v1/completions streaming with usage.
    let r = http(
        p.port,
        "POST",
        "/v1/completions",
        Some(r#"{"model": "m", "prompt": "Hello", "max_tokens": 3, "stream": true, "stream_options": {"include_usage": true}}"#),
        T,
    )
    .unwrap();
    let ev = r.events();
    assert_eq!(ev.len(), 5, "{ev:?}");
    let usage: serde_json::Value = serde_json::from_str(&ev[3]).unwrap();
    assert_eq!(usage["usage"]["completion_tokens"], 3);
    // /v1/chat/completions, both ways.
    let v = http(
        p.port,
        "POST",
        "/v1/chat/completions",
        Some(r#"{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 4}"#),
        T,
    )
    .unwrap()
    .json();
    assert_eq!(v["object"], "chat.completion");
    assert_eq!(v["usage"]["completion_tokens"], 4);
    let r = http(
        p.port,
        "POST",
        "/v1/chat/completions",
        Some(r#"{"model": "m", "messages": [{"role": "user", "content": "Hi"}], "max_completion_tokens": 2, "stream": true}"#),
        T,
    )
    .unwrap();
    let first: serde_json::Value = serde_json::from_str(&r.events()[0]).unwrap();
    assert_eq!(first["object"], "chat.completion.chunk");
    // Bad JSON is a 400 with SGLang's error object.
    let r = post_generate(&p, "{nope");
    assert_eq!(r.status, 400);
    assert_eq!(r.json()["object"], "error");

    drop(p);
    let recs = read_trace(&trace);
    assert!(
        recs.len() >= 8,
        "one trace line per finished request: {}",
        recs.len()
    );
    assert!(recs.iter().all(|r| r["status"] == "ok"));
    let stream = recs
        .iter()
        .find(|r| r["output_tokens"] == 4 && r["endpoint"] == "/generate")
        .expect("stream record");
    assert_eq!(stream["token_times_s"].as_array().unwrap().len(), 4);
}

#[test]
fn gsm8k_prompt_gets_the_reference_answer_cut_by_the_stop_string() {
    let p = Proc::tokenized("/m/x", "zero", &["--sim-gsm8k-accuracy", "1"]);
    let q = "Janet’s ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins for her friends every day with four. She sells the remainder at the farmers' market daily for $2 per fresh duck egg. How much in dollars does she make every day at the farmers' market?";
    let body = serde_json::json!({"text": format!("Question: {q}\nAnswer:"),
        "sampling_params": {"max_new_tokens": 512, "stop": ["Question", "Assistant:", "<|separator|>"], "temperature": 0.0}});
    let v = post_generate(&p, &body.to_string()).json();
    let text = v["text"].as_str().unwrap();
    assert!(text.trim_end().ends_with("#### 18"), "{text}");
    assert_eq!(v["meta_info"]["finish_reason"]["matched"], "Question");
}

#[test]
fn latency_model_paces_tokens_and_queues_prefill() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    // 20 ms prefill + 1 µs/token, 10 ms decode steps.
    let p = Proc::server(&[
        "--model-path",
        "/m/x",
        "--sim-profile",
        "generic",
        "--sim-prefill-base-ms",
        "20",
        "--sim-prefill-us-per-token",
        "1",
        "--sim-decode-base-ms",
        "10",
        "--sim-decode-us-per-req",
        "0",
        "--sim-jitter",
        "0",
        "--sim-trace",
        trace.to_str().unwrap(),
    ]);
    let start = Instant::now();
    let r = post_generate(
        &p,
        r#"{"text": "abc", "sampling_params": {"max_new_tokens": 11}, "stream": true}"#,
    );
    assert!(r.complete);
    let took = start.elapsed().as_secs_f64();
    assert!(
        (0.115..0.5).contains(&took),
        "1 prefill (20 ms) + 10 decode steps (10 ms) took {took}"
    );
    // Eight concurrent 4000-token prompts queue behind each other in 16384-token batches.
    let handles: Vec<_> = (0..8)
        .map(|_| {
            let port = p.port;
            std::thread::spawn(move || {
                let body = serde_json::json!({"input_ids": vec![7; 4000], "sampling_params": {"max_new_tokens": 2}, "stream": true});
                http(port, "POST", "/generate", Some(&body.to_string()), T).unwrap().status
            })
        })
        .collect();
    for h in handles {
        assert_eq!(h.join().unwrap(), 200);
    }
    drop(p);
    let recs = read_trace(&trace);
    let itl: Vec<f64> = recs[0]["token_times_s"]
        .as_array()
        .unwrap()
        .windows(2)
        .map(|w| w[1].as_f64().unwrap() - w[0].as_f64().unwrap())
        .collect();
    let med = support::median(&itl);
    assert!((0.0095..0.0125).contains(&med), "median ITL {med}");
    let ttfts: Vec<f64> = recs[1..]
        .iter()
        .map(|r| r["token_times_s"][0].as_f64().unwrap() - r["received_s"].as_f64().unwrap())
        .collect();
    let (lo, hi) = ttfts
        .iter()
        .fold((f64::MAX, 0.0f64), |(a, b), x| (a.min(*x), b.max(*x)));
    assert!(
        hi > lo + 0.015,
        "queued prompts must wait for earlier prefill batches: {ttfts:?}"
    );
}

#[test]
fn startup_delay_refuses_connections_until_ready() {
    let port = free_port();
    let ps = port.to_string();
    let start = Instant::now();
    let mut p = Proc::spawn(&[
        "launch-server",
        "--model-path",
        "/m/x",
        "--port",
        &ps,
        "--sim-startup-delay",
        "1.5",
    ]);
    std::thread::sleep(Duration::from_millis(300));
    let early = http(port, "GET", "/health", None, Duration::from_secs(1));
    assert!(
        early.is_err(),
        "must refuse connections while starting: {early:?}"
    );
    p.wait_ready(T);
    assert!(
        start.elapsed() >= Duration::from_millis(1400),
        "ready after {:?}",
        start.elapsed()
    );
    assert_eq!(http(port, "GET", "/health", None, T).unwrap().status, 200);
}

#[test]
fn exit_after_n_requests_ends_the_process_with_status_1() {
    let mut p = Proc::zero(&["--sim-exit-after", "3"]);
    for _ in 0..3 {
        assert_eq!(generate_a(&p, 2).status, 200);
    }
    let st = p
        .wait_exit(Duration::from_secs(5))
        .expect("exits after the 3rd request");
    assert_eq!(st.code(), Some(1));
    assert!(
        http(p.port, "GET", "/health", None, Duration::from_secs(1)).is_err(),
        "nobody listens any more"
    );
    assert!(p.out.text().contains("--sim-exit-after"));
}

#[test]
fn hang_after_n_requests_stops_answering_but_stays_up() {
    let p = Proc::server(&[
        "--model-path",
        "/m/x",
        "--sim-profile",
        "generic",
        "--sim-decode-base-ms",
        "10",
        "--sim-hang-after",
        "2",
    ]);
    assert_eq!(generate_a(&p, 2).status, 200);
    // Request 2 streams 300 tokens (about 3 s); request 3 arrives meanwhile and hangs everything.
    let port = p.port;
    let stream = std::thread::spawn(move || {
        http(
            port,
            "POST",
            "/generate",
            Some(r#"{"text": "a", "sampling_params": {"max_new_tokens": 300}, "stream": true}"#),
            Duration::from_millis(1500),
        )
        .unwrap()
    });
    std::thread::sleep(Duration::from_millis(300));
    let hung = http(
        port,
        "POST",
        "/generate",
        Some(r#"{"text": "b", "sampling_params": {"max_new_tokens": 2}}"#),
        Duration::from_millis(1500),
    )
    .unwrap();
    assert!(
        hung.timed_out && hung.status == 0,
        "request 3 must get no answer: {hung:?}"
    );
    let s = stream.join().unwrap();
    assert!(s.timed_out && !s.complete, "the stream in flight must stop");
    assert!(!s.text().contains("[DONE]"));
    assert!(!s.events().is_empty(), "it had started");
    assert_eq!(
        http(port, "GET", "/health", None, T).unwrap().status,
        200,
        "the process stays up"
    );
}

#[test]
fn error_rate_gives_http_500_with_a_json_error_body() {
    let p = Proc::zero(&["--sim-error-rate", "1"]);
    let r = generate_a(&p, 2);
    assert_eq!(r.status, 500);
    let v = r.json();
    assert_eq!(v["object"], "error");
    assert_eq!(v["code"], 500);
    drop(p);
    let p = Proc::zero(&["--sim-error-rate", "0.5", "--seed", "7"]);
    let codes: Vec<u16> = (0..40).map(|_| generate_a(&p, 1).status).collect();
    let errors = codes.iter().filter(|c| **c == 500).count();
    assert!(
        (8..=32).contains(&errors),
        "about half must fail: {errors}/40"
    );
    assert!(codes.iter().all(|c| *c == 200 || *c == 500));
}

#[test]
fn cut_stream_closes_the_connection_without_done() {
    let dir = tempfile::tempdir().unwrap();
    let trace = dir.path().join("t.jsonl");
    let p = Proc::zero(&[
        "--sim-cut-stream-after",
        "5",
        "--sim-trace",
        trace.to_str().unwrap(),
    ]);
    let r = post_generate(
        &p,
        r#"{"text": "a", "sampling_params": {"max_new_tokens": 20}, "stream": true}"#,
    );
    assert_eq!(r.status, 200);
    assert!(!r.complete, "no terminating chunk");
    assert!(!r.timed_out, "closed, not stalled");
    let ev = r.events();
    assert_eq!(ev.len(), 5, "{ev:?}");
    assert!(!r.text().contains("[DONE]"));
    // Non-streamed replies are not cut.
    assert!(generate_a(&p, 20).complete);
    drop(p);
    let recs = read_trace(&trace);
    assert!(
        recs.iter()
            .any(|r| r["status"] == "cut" && r["output_tokens"] == 5),
        "{recs:?}"
    );
}

#[test]
fn runtime_error_line_appears_in_the_log_at_the_given_time() {
    let start = Instant::now();
    let p = Proc::server(&["--model-path", "/m/x", "--sim-runtime-error-at", "0.5"]);
    let line = p
        .out
        .wait_for("RuntimeError:", T)
        .expect("RuntimeError line");
    assert!(start.elapsed() >= Duration::from_millis(500));
    assert!(
        line.starts_with("RuntimeError: "),
        "traceback-shaped: {line}"
    );
    assert!(p.out.text().contains("Traceback (most recent call last):"));
    assert_eq!(http(p.port, "GET", "/health", None, T).unwrap().status, 200);
}

#[test]
fn sigterm_exits_within_a_second_even_with_streams_open() {
    let mut p = Proc::server(&["--model-path", "/m/x", "--sim-profile", "grok"]);
    let port = p.port;
    let _stream = std::thread::spawn(move || {
        http(
            port,
            "POST",
            "/generate",
            Some(r#"{"text": "a", "sampling_params": {"max_new_tokens": 5000}, "stream": true}"#),
            T,
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    let t = Instant::now();
    p.sigterm();
    let st = p.wait_exit(Duration::from_secs(3)).expect("exits");
    assert!(
        t.elapsed() < Duration::from_secs(1),
        "took {:?}",
        t.elapsed()
    );
    assert_eq!(st.code(), Some(0));
}

#[test]
fn unknown_flags_and_bad_values_are_rejected() {
    let mut p = Proc::spawn(&["launch-server", "--model-path", "/m/x", "--no-such-flag"]);
    assert_eq!(p.wait_exit(T).unwrap().code(), Some(2));
    assert!(p.out.text().contains("--no-such-flag"));
    let mut p = Proc::spawn(&[
        "launch-server",
        "--model-path",
        "/m/x",
        "--sim-error-rate",
        "2",
    ]);
    assert_eq!(p.wait_exit(T).unwrap().code(), Some(1));
    assert!(p.out.text().contains("--sim-error-rate"));
    let mut p = Proc::spawn(&[
        "launch-server",
        "--model-path",
        "/m/x",
        "--sim-profile",
        "h100",
    ]);
    assert_eq!(p.wait_exit(T).unwrap().code(), Some(1));
    // Every launch line of the specs parses (PD roles included); the server then starts.
    for line in [
        "--model /m/amd--grok-1-W4A8KV8 --tokenizer-path /m/tok --tp 8 --quantization fp8 --trust-remote-code --attention-backend aiter --mem-fraction-static 0.85 --watchdog-timeout 600",
        "--model-path /m/DeepSeek-V3-0324 --tp-size 8 --trust-remote-code --mem-fraction-static 0.9 --max-running-requests 1024 --enable-torch-compile",
        "--model-path /m/DeepSeek-V3-0324 --tp 8 --trust-remote-code --chunked-prefill-size 131072 --dp-size 8 --enable-dp-attention --mem-fraction-static 0.8",
        "--model-path /m/gpt-oss --disaggregation-mode prefill --disaggregation-ib-device lo --host 127.0.0.1 --tp 4 --trust-remote-code --enable-two-batch-overlap --attention-backend triton --mem-fraction-static 0.88 --watchdog-timeout 180",
        "--model-path /m/gpt-oss --disaggregation-mode decode --disaggregation-ib-device lo --host 127.0.0.1 --tp 4 --trust-remote-code --attention-backend triton --disable-cuda-graph --mem-fraction-static 0.88 --watchdog-timeout 180",
        "--model-path /m/gpt-oss-120b --tp 8 --trust-remote-code --chunked-prefill-size 130172 --max-running-requests 128 --mem-fraction-static 0.85 --attention-backend triton",
        "--model-path /m/llama4 --tp 8 --attention-backend aiter --trust-remote-code",
    ] {
        let args: Vec<&str> = line.split_whitespace().collect();
        let p = Proc::server(&args);
        assert_eq!(
            http(p.port, "GET", "/health", None, T).unwrap().status,
            200,
            "{line}"
        );
    }
}
