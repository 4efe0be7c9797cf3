//! `sglang-sim bench-one-batch`: `sglang.bench_one_batch`'s console output and result records
//! (spec/benchmarks.md §6.1, shared/data/bench_one_batch/) with numbers from the latency model.
//!
//! Like the real tool it runs one warm-up pass (first batch size and input length, at most 32
//! output tokens), prints `Benchmark ...`, then one pass per (batch size, input length, output
//! length) combination, and appends one JSON line per pass to `--result-filename`. The first
//! line says the run is simulated, and every record has `"simulated": true`.

use std::fs::OpenOptions;
use std::io::Write;

use serde_json::json;

use crate::cli::BenchOneBatchArgs;
use crate::logsink::now_stamp;
use crate::profile::{LatencyProfile, jittered};
use crate::rng::SplitMix64;
use crate::server::SIM_VERSION;
use crate::{Outcome, SimError};

/// Shortest latency printed (the zero profile would otherwise divide by zero).
const MIN_LATENCY: f64 = 1e-5;

struct Console {
    out: Box<dyn Write + Send>,
}

impl Console {
    fn line(&mut self, s: &str) -> Result<(), SimError> {
        self.out
            .write_all(s.as_bytes())
            .map_err(SimError::Console)?;
        self.out.write_all(b"\n").map_err(SimError::Console)?;
        self.out.flush().map_err(SimError::Console)
    }
}

/// Runs the simulated bench_one_batch.
pub fn run(args: &BenchOneBatchArgs, out: Box<dyn Write + Send>) -> Result<Outcome, SimError> {
    let profile = args.latency.resolve(&args.model_path)?;
    for (flag, v) in [
        ("--batch-size", &args.batch_size),
        ("--input-len", &args.input_len),
        ("--output-len", &args.output_len),
    ] {
        if v.contains(&0) {
            return Err(SimError::InvalidFlag {
                flag,
                message: "values must be at least 1".into(),
            });
        }
    }
    let mut con = Console { out };
    let mut rng = SplitMix64::new(args.seed ^ 0x626f_6200_0000_0000);
    con.line(&format!(
        "[{}] SIMULATED bench_one_batch: {SIM_VERSION}, no GPU and no model weights; latency profile '{}'. Every number below is simulated.",
        now_stamp(),
        profile.name
    ))?;
    con.line(&format!(
        "[{} TP0] Load weight begin. avail mem=191.45 GB",
        now_stamp()
    ))?;
    con.line(&format!(
        "[{} TP0] Load weight end. type=SimulatedForCausalLM, dtype=torch.bfloat16, avail mem=143.12 GB, mem usage=48.33 GB. (simulated)",
        now_stamp()
    ))?;
    con.line(&format!(
        "[{} TP0] KV Cache is allocated. #tokens: {}, KV size: {:.2} GB (simulated)",
        now_stamp(),
        profile.max_total_num_tokens,
        profile.max_total_num_tokens as f64 * 65.4e-6
    ))?;
    con.line(&format!(
        "max_total_num_tokens={}",
        profile.max_total_num_tokens
    ))?;

    con.line("Warmup ...")?;
    let (bs0, il0, ol0) = (
        args.batch_size[0],
        args.input_len[0],
        args.output_len[0].min(32),
    );
    if let Err(o) = run_once(&mut con, args, &profile, &mut rng, bs0, il0, ol0, true)? {
        return Ok(o);
    }
    con.line("Benchmark ...")?;
    let mut results = Vec::new();
    for &bs in &args.batch_size {
        for &il in &args.input_len {
            for &ol in &args.output_len {
                match run_once(&mut con, args, &profile, &mut rng, bs, il, ol, false)? {
                    Ok(Some(r)) => results.push(r),
                    Ok(None) => {}
                    Err(o) => return Ok(o),
                }
            }
        }
    }
    if !results.is_empty() {
        let path = &args.result_filename;
        let mut f = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|source| SimError::Write {
                path: path.clone(),
                source,
            })?;
        let mut text = String::new();
        for r in &results {
            text.push_str(&r.to_string());
            text.push('\n');
        }
        f.write_all(text.as_bytes())
            .map_err(|source| SimError::Write {
                path: path.clone(),
                source,
            })?;
    }
    Ok(Outcome::Done)
}

fn sleep_scaled(args: &BenchOneBatchArgs, secs: f64) {
    if args.sim_time_scale > 0.0 && secs.is_finite() {
        std::thread::sleep(std::time::Duration::from_secs_f64(
            secs * args.sim_time_scale,
        ));
    }
}

/// One pass; `Err(outcome)` when an injected fault ends the program.
#[allow(clippy::too_many_arguments)]
fn run_once(
    con: &mut Console,
    args: &BenchOneBatchArgs,
    p: &LatencyProfile,
    rng: &mut SplitMix64,
    bs: u32,
    il: u32,
    ol: u32,
    warmup: bool,
) -> Result<Result<Option<serde_json::Value>, Outcome>, SimError> {
    let tokens = u64::from(bs) * u64::from(il + ol);
    if tokens > p.max_total_num_tokens {
        con.line(&format!(
            "skipping ({bs}, {il}, {ol}) due to max batch size limit"
        ))?;
        return Ok(Ok(None));
    }
    if args.sim_oom_batch_size == Some(bs) {
        oom(con, bs, il)?;
        return Ok(Err(Outcome::OutOfMemory));
    }
    if args.sim_crash_batch_size == Some(bs) {
        crash(con, bs)?;
        return Ok(Err(Outcome::Crashed));
    }
    let mut jit = |secs: f64| {
        let z = if p.jitter > 0.0 { rng.normal() } else { 0.0 };
        jittered(secs, p.jitter, z).max(MIN_LATENCY)
    };
    let prefill = jit(p.prefill_secs(u64::from(bs) * u64::from(il)));
    sleep_scaled(args, prefill);
    let prefill_tput = f64::from(il) * f64::from(bs) / prefill;
    con.line(&format!(
        "Prefill. latency: {prefill:6.5} s, throughput: {prefill_tput:9.2} token/s"
    ))?;
    let mut decode = Vec::new();
    for i in 0..ol.saturating_sub(1) {
        let ctx = u64::from(bs) * u64::from(il + i);
        let mut lat = jit(p.decode_secs(bs as usize, ctx));
        if warmup && i == 0 {
            lat *= 1.3; // the first step of a fresh process is slower (graph replay set-up)
        }
        sleep_scaled(args, lat);
        decode.push(lat);
        if i < 5 || (args.log_decode_step > 0 && i % args.log_decode_step == 0) {
            let tput = f64::from(bs) / lat;
            con.line(&format!(
                "Decode {i}. Batch size: {bs}, latency: {lat:6.5} s, throughput: {tput:9.2} token/s"
            ))?;
        }
    }
    let mut rec = json!({
        "run_name": args.run_name,
        "batch_size": bs,
        "input_len": il,
        "output_len": ol,
        "prefill_latency": prefill,
        "prefill_throughput": prefill_tput,
    });
    if ol > 1 {
        let med = crate::sched::median(&decode);
        let med_tput = f64::from(bs) / med;
        con.line(&format!(
            "Decode.  median latency: {med:6.5} s, median throughput: {med_tput:9.2} token/s"
        ))?;
        rec["median_decode_latency"] = json!(med);
        rec["median_decode_throughput"] = json!(med_tput);
    }
    let total = prefill + decode.iter().sum::<f64>();
    let total_tput = f64::from(il + ol) * f64::from(bs) / total;
    con.line(&format!(
        "Total. latency: {total:6.3} s, throughput: {total_tput:9.2} token/s"
    ))?;
    rec["total_latency"] = json!(total);
    rec["overall_throughput"] = json!(total_tput);
    rec["simulated"] = json!(true);
    Ok(Ok(Some(rec)))
}

const TRACE_HEAD: &[&str] = &[
    "Traceback (most recent call last):",
    "  File \"<frozen runpy>\", line 198, in _run_module_as_main",
    "  File \"<frozen runpy>\", line 88, in _run_code",
    "  File \"/sgl-workspace/sglang/python/sglang/bench_one_batch.py\", line 724, in <module>",
    "    main(server_args, bench_args)",
    "  File \"/sgl-workspace/sglang/python/sglang/bench_one_batch.py\", line 688, in main",
    "    work_func(server_args, port_args, bench_args, 0)",
    "  File \"/sgl-workspace/sglang/python/sglang/bench_one_batch.py\", line 612, in latency_test",
    "    ret = latency_test_run_once(",
    "  File \"/sgl-workspace/sglang/python/sglang/bench_one_batch.py\", line 470, in latency_test_run_once",
    "    next_token_ids, _, batch = extend(reqs, model_runner)",
];

fn oom(con: &mut Console, bs: u32, il: u32) -> Result<(), SimError> {
    for l in TRACE_HEAD {
        con.line(l)?;
    }
    let gib = (f64::from(bs) * f64::from(il) * 0.0016).max(0.5);
    con.line(&format!(
        "torch.OutOfMemoryError: HIP out of memory. Tried to allocate {gib:.2} GiB. GPU 0 has a total capacity of 191.98 GiB of which 1.20 GiB is free. Of the allocated memory 183.51 GiB is allocated by PyTorch, and 2.38 GiB is reserved by PyTorch but unallocated. (simulated fault: --sim-oom-batch-size {bs})"
    ))
}

fn crash(con: &mut Console, bs: u32) -> Result<(), SimError> {
    con.line("Memory access fault by GPU node-2 (Agent handle: 0x55d1c7a4f000) on address 0x7f2a4c000000. Reason: Unknown.")?;
    con.line(&format!(
        "Fatal Python error: Aborted (simulated fault: --sim-crash-batch-size {bs})"
    ))?;
    con.line("")?;
    for l in &TRACE_HEAD[3..] {
        con.line(l)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::writer::SharedBuf;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        a: BenchOneBatchArgs,
    }

    fn run_args(extra: &[&str]) -> (Outcome, String, tempfile::TempDir) {
        let dir = tempfile::tempdir().unwrap();
        let res = dir.path().join("result.jsonl");
        let mut argv = vec![
            "x",
            "--model",
            "/m/amd--grok-1-W4A8KV8",
            "--result-filename",
            res.to_str().unwrap(),
        ];
        argv.extend_from_slice(extra);
        let t = T::try_parse_from(argv).unwrap();
        let buf = SharedBuf::default();
        let o = run(&t.a, Box::new(buf.clone())).unwrap();
        let text = buf.text();
        (o, text, dir)
    }

    #[test]
    fn toolkit_command_line_prints_the_real_shapes() {
        let (o, text, dir) = run_args(&[
            "--tokenizer-path",
            "Xenova/grok-1-tokenizer",
            "--tp",
            "8",
            "--batch-size",
            "4",
            "--input",
            "1024",
            "--output",
            "16",
            "--attention-backend",
            "aiter",
            "--sampling-backend",
            "pytorch",
            "--quantization",
            "fp8",
            "--trust-remote-code",
            "--cuda-graph-max-bs",
            "1024",
            "--mem-fraction-static",
            "0.85",
        ]);
        assert_eq!(o, Outcome::Done);
        let after: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("Benchmark"))
            .skip(1)
            .collect();
        assert!(
            after
                .iter()
                .any(|l| l.starts_with("Prefill. latency: ") && l.ends_with(" token/s"))
        );
        assert_eq!(after.iter().filter(|l| l.starts_with("Decode ")).count(), 5);
        assert!(
            after
                .iter()
                .any(|l| l.starts_with("Decode.  median latency: "))
        );
        assert!(after.iter().any(|l| l.starts_with("Total. latency: ")));
        let rec: serde_json::Value = serde_json::from_str(
            std::fs::read_to_string(dir.path().join("result.jsonl"))
                .unwrap()
                .trim(),
        )
        .unwrap();
        assert_eq!(rec["batch_size"], 4);
        assert_eq!(rec["simulated"], true);
        assert!(
            !text.lines().next().unwrap().contains("Benchmark"),
            "banner must not open the section"
        );
    }

    #[test]
    fn output_len_one_has_no_decode_lines_and_oom_is_fatal() {
        let (_, text, _d) = run_args(&["--batch-size", "1", "--output-len", "1"]);
        let after: Vec<&str> = text
            .lines()
            .skip_while(|l| !l.contains("Benchmark"))
            .collect();
        assert!(!after.iter().any(|l| l.starts_with("Decode")));
        let (o, text, d) = run_args(&["--batch-size", "1", "128", "--sim-oom-batch-size", "128"]);
        assert_eq!(o, Outcome::OutOfMemory);
        assert!(text.contains("torch.OutOfMemoryError: HIP out of memory"));
        assert!(!d.path().join("result.jsonl").exists());
        let (o, text, _d) = run_args(&["--sim-crash-batch-size", "1"]);
        assert_eq!(o, Outcome::Crashed);
        assert_eq!(o.exit_code(), 134);
        assert!(text.contains("Memory access fault"));
    }
}
