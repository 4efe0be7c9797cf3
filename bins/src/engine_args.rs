//! `--engine` and `--executor`, defined once for every benchmark binary (online and offline):
//! which program performs each step, and where it runs (`sglang_runner::engine`).

use sglang_runner::engine::{Engine, ExecutorKind};

/// The engine and executor flags.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct EngineArgs {
    /// Engine: `sglang` (python3 -m sglang.*) or `sim` (sglang-sim, and sglang-bench for the
    /// online clients, on this machine; every output is marked simulated) [default: sglang].
    #[arg(long, value_name = "ENGINE", value_parser = ["sglang", "sim"])]
    pub engine: Option<String>,

    /// Where commands run: `local` (this machine) or `docker` (the `<repo>_<tag>` container
    /// of --docker_image, created or reused with the original's settings and mounts; the
    /// image is pulled when absent) [default: local inside a container (INSIDE_CONTAINER, a
    /// container marker, or no docker on PATH) and for --engine=sim; docker otherwise].
    #[arg(long, value_name = "EXECUTOR", value_parser = ["local", "docker"])]
    pub executor: Option<String>,
}

impl EngineArgs {
    /// `--engine`, parsed.
    pub fn engine(&self) -> Option<Engine> {
        self.engine.as_deref().and_then(Engine::parse)
    }

    /// `--executor`, parsed.
    pub fn executor(&self) -> Option<ExecutorKind> {
        self.executor.as_deref().and_then(ExecutorKind::parse)
    }
}
