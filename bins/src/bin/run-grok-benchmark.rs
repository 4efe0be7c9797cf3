//! `run-grok-benchmark`: port of `scripts/run_grok_benchmark.sh`, the environment-variable
//! wrapper around `grok-perf-online`: reads DOCKER_IMAGE, MODEL_PATH, TOKENIZER_PATH and
//! WORK_DIR, prints them, and runs the Grok online benchmark with them (in this process).
//! See docs/run-grok-benchmark.md.

use std::process::ExitCode;

use clap::Parser;
use sglang_ci::bench::run_grok;
use sglang_runner::config::{EnvSource, ProcessEnv};
use sglang_runner::online::config::GrokOptions;

/// Run the Grok online benchmark configured by DOCKER_IMAGE, MODEL_PATH, TOKENIZER_PATH and
/// WORK_DIR (flags of grok-perf-online are accepted too and win over those variables).
///
/// Exit status: as grok-perf-online.
#[derive(Debug, Parser)]
#[command(name = "run-grok-benchmark", version = sglang_ci::VERSION)]
struct Cli {
    #[command(flatten)]
    args: GrokOptions,
}

/// Entry point (the `sglang-ci` multicall executable of the release calls it too).
#[allow(clippy::print_stdout)]
pub fn main() -> ExitCode {
    sglang_ci::exit::run("run-grok-benchmark", || {
        let mut cli: Cli = sglang_ci::cli::parse();
        let base = &mut cli.args.common.base;
        let image = base
            .image
            .docker_image
            .get_or_insert_with(|| {
                ProcessEnv.var_or("DOCKER_IMAGE", "lmsysorg/sglang:v0.4.9.post2-rocm630-mi30x")
            })
            .clone();
        let model = base
            .image
            .model
            .get_or_insert_with(|| {
                ProcessEnv.var_or(
                    "MODEL_PATH",
                    "/mnt/raid/models/huggingface/amd--grok-1-W4A8KV8",
                )
            })
            .clone();
        let work = base
            .dirs
            .work_dir
            .get_or_insert_with(|| {
                ProcessEnv
                    .var_or("WORK_DIR", "/mnt/raid/michael/sglang-ci")
                    .into()
            })
            .display()
            .to_string();
        let tok = cli
            .args
            .grok
            .tokenizer
            .get_or_insert_with(|| ProcessEnv.var_or("TOKENIZER_PATH", &model))
            .clone();
        println!("Configuration:");
        println!("  Docker Image: {image}");
        println!("  Model Path: {model}");
        println!("  Tokenizer Path: {tok}");
        println!("  Work Directory: {work}");
        println!();
        run_grok(&cli.args)
    })
}
