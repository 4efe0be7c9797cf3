//! Engines: which program performs each step of a plan. The plan is the same for both; only
//! the program differs (ARCHITECTURE.md, "Engines"):
//!
//! | step | `sglang` | `sim` |
//! |---|---|---|
//! | server | `python3 -m sglang.launch_server ARGS` | `sglang-sim launch-server ARGS` + `--sim-args` |
//! | offline batch | `python3 -m sglang.bench_one_batch ARGS` | `sglang-sim bench-one-batch ARGS` + the offline `--sim-args` |
//! | serving client | `python3 -m sglang.bench_serving ARGS`, or `sglang-bench serving ARGS` with `--client=native` | `sglang-bench serving ARGS` |
//! | GSM8K | `python3 <gsm8k-script> ARGS`, or `sglang-bench gsm8k ARGS --data-path F` with `--gsm8k-client=native` | `sglang-bench gsm8k ARGS --data-path F` |
//!
//! `sglang-sim` and `sglang-bench` are found next to the running binary, then on `PATH`.
//! Nothing ever falls back to the simulator by itself.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};

use serde::Serialize;

use crate::command::CommandSpec;

/// Which engine serves the benchmark.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Engine {
    /// The real SGLang (`python3 -m sglang.*`).
    Sglang,
    /// The simulated engine (`sglang-sim`), with the native clients.
    Sim,
}

impl Engine {
    /// Parses `sglang` / `sim`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "sglang" => Some(Self::Sglang),
            "sim" => Some(Self::Sim),
            _ => None,
        }
    }

    /// `sglang` / `sim`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sglang => "sglang",
            Self::Sim => "sim",
        }
    }
}

/// Which client program runs a client step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientImpl {
    /// SGLang's own Python client (`sglang.bench_serving`, the GSM8K script).
    Python,
    /// Our `sglang-bench` (`serving`, `gsm8k`).
    Native,
}

impl ClientImpl {
    /// Parses `python` / `native`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "python" => Some(Self::Python),
            "native" => Some(Self::Native),
            _ => None,
        }
    }

    /// `python` / `native`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Python => "python",
            Self::Native => "native",
        }
    }
}

/// Where commands run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ExecutorKind {
    /// On this machine.
    Local,
    /// In the benchmark container, through the Docker Engine.
    Docker,
}

impl ExecutorKind {
    /// Parses `local` / `docker`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "local" => Some(Self::Local),
            "docker" => Some(Self::Docker),
            _ => None,
        }
    }

    /// `local` / `docker`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Local => "local",
            Self::Docker => "docker",
        }
    }
}

/// Finds program `name`: next to the running binary first (an installed toolkit keeps its
/// binaries together; `cargo test` builds them into one folder), then on `PATH`.
pub fn find_program(name: &str) -> Option<PathBuf> {
    let sibling = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(name)));
    // Test binaries live one level below the binaries (target/debug/deps).
    let parent = std::env::current_exe().ok().and_then(|exe| {
        exe.parent()
            .filter(|d| d.ends_with("deps"))
            .and_then(Path::parent)
            .map(|d| d.join(name))
    });
    if let Some(p) = [sibling, parent]
        .into_iter()
        .flatten()
        .find(|p| is_executable(p))
    {
        return Some(p);
    }
    find_on_path(name, std::env::var_os("PATH").as_deref())
}

/// Program `name` in the directories of `path` (a `PATH` value).
pub fn find_on_path(name: &str, path: Option<&OsStr>) -> Option<PathBuf> {
    std::env::split_paths(path?)
        .map(|d| d.join(name))
        .find(|p| is_executable(p))
}

/// An executable regular file (the one test of the runner's program look-ups).
pub(crate) fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata()
        .map(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
        .unwrap_or(false)
}

/// The programs of one run and the step-to-command mapping.
#[derive(Debug, Clone, Serialize)]
pub struct Steps {
    /// The engine.
    pub engine: Engine,
    /// Serving client.
    pub client: ClientImpl,
    /// GSM8K client.
    pub gsm8k_client: ClientImpl,
    /// `python3`.
    pub python: String,
    /// `sglang-sim` (path, or the bare name when not found: the dry run still shows it).
    pub sim: String,
    /// `sglang-bench` (path or bare name).
    pub bench: String,
}

impl Steps {
    /// The mapping for `engine` and the chosen clients, with the programs found on this
    /// machine (bare names where not found).
    pub fn new(engine: Engine, client: ClientImpl, gsm8k_client: ClientImpl) -> Self {
        let path =
            |n: &str| find_program(n).map_or_else(|| n.to_owned(), |p| p.display().to_string());
        Self {
            engine,
            client,
            gsm8k_client,
            python: "python3".to_owned(),
            sim: path("sglang-sim"),
            bench: path("sglang-bench"),
        }
    }

    /// The programs this mapping needs that were not found (names), for a clear error
    /// before anything starts.
    pub fn missing_programs(&self) -> Vec<&'static str> {
        let mut m = Vec::new();
        if self.engine == Engine::Sim && !Path::new(&self.sim).is_absolute() {
            m.push("sglang-sim");
        }
        let needs_bench =
            self.client == ClientImpl::Native || self.gsm8k_client == ClientImpl::Native;
        if needs_bench && !Path::new(&self.bench).is_absolute() {
            m.push("sglang-bench");
        }
        m
    }

    /// The server: `python3 -m sglang.launch_server ARGS` or `sglang-sim launch-server ARGS
    /// SIM_EXTRA`, with `env`.
    pub fn server(
        &self,
        args: &[String],
        env: &[(String, String)],
        sim_extra: &[String],
    ) -> CommandSpec {
        self.engine_step(
            ("sglang.launch_server", "launch-server"),
            args,
            env,
            sim_extra,
        )
    }

    /// The offline batch: `python3 -m sglang.bench_one_batch ARGS` or `sglang-sim
    /// bench-one-batch ARGS SIM_EXTRA`, with `env`.
    pub fn bench_one_batch(
        &self,
        args: &[String],
        env: &[(String, String)],
        sim_extra: &[String],
    ) -> CommandSpec {
        self.engine_step(
            ("sglang.bench_one_batch", "bench-one-batch"),
            args,
            env,
            sim_extra,
        )
    }

    /// A step the engine itself performs: `python3 -m MODULE ARGS` or `sglang-sim
    /// SUBCOMMAND ARGS SIM_EXTRA` (`(module, subcommand)`), with `env`.
    fn engine_step(
        &self,
        (module, subcommand): (&str, &str),
        args: &[String],
        env: &[(String, String)],
        sim_extra: &[String],
    ) -> CommandSpec {
        let c = match self.engine {
            Engine::Sglang => CommandSpec::new(&self.python)
                .args(["-m", module])
                .args(args.iter().cloned()),
            Engine::Sim => CommandSpec::new(&self.sim)
                .arg(subcommand)
                .args(args.iter().cloned())
                .args(sim_extra.iter().cloned()),
        };
        env.iter().fold(c, |c, (k, v)| c.env(k, v))
    }

    /// The serving client: `python3 -m sglang.bench_serving` or `sglang-bench serving`;
    /// `quoted` marks argument indexes the display shows in double quotes.
    pub fn serving(&self, args: &[String], quoted: &[usize]) -> CommandSpec {
        let mut c = match self.client {
            ClientImpl::Python => {
                CommandSpec::new(&self.python).args(["-m", "sglang.bench_serving"])
            }
            ClientImpl::Native => CommandSpec::new(&self.bench).arg("serving"),
        };
        for (i, a) in args.iter().enumerate() {
            c = if quoted.contains(&i) {
                c.quoted_arg(a)
            } else {
                c.arg(a)
            };
        }
        c
    }

    /// The GSM8K client: `python3 <script> ARGS` or `sglang-bench gsm8k ARGS --data-path F`.
    pub fn gsm8k(&self, script: &str, args: &[String], data: Option<&Path>) -> CommandSpec {
        match self.gsm8k_client {
            ClientImpl::Python => CommandSpec::new(&self.python)
                .arg(script)
                .args(args.iter().cloned()),
            ClientImpl::Native => {
                let c = CommandSpec::new(&self.bench)
                    .arg("gsm8k")
                    .args(args.iter().cloned());
                match data {
                    Some(d) => c.arg("--data-path").arg(d.display().to_string()),
                    None => c,
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn steps(engine: Engine, c: ClientImpl, g: ClientImpl) -> Steps {
        Steps {
            engine,
            client: c,
            gsm8k_client: g,
            python: "python3".into(),
            sim: "/bin/sglang-sim".into(),
            bench: "/bin/sglang-bench".into(),
        }
    }

    #[test]
    fn the_same_plan_maps_to_each_engine() {
        let args: Vec<String> = ["--model", "/m", "--tp", "8"].map(String::from).to_vec();
        let env = vec![("SGLANG_USE_AITER".to_owned(), "1".to_owned())];
        let real = steps(Engine::Sglang, ClientImpl::Python, ClientImpl::Python);
        assert_eq!(
            real.server(&args, &env, &["--sim-profile".into(), "zero".into()])
                .display_with_env(),
            "SGLANG_USE_AITER=1 python3 -m sglang.launch_server --model /m --tp 8"
        );
        let sim = steps(Engine::Sim, ClientImpl::Native, ClientImpl::Native);
        assert_eq!(
            sim.server(&args, &env, &["--sim-profile".into(), "zero".into()])
                .display(),
            "/bin/sglang-sim launch-server --model /m --tp 8 --sim-profile zero"
        );
        assert_eq!(
            sim.serving(&["--tokenizer".into(), "/t".into()], &[1])
                .display(),
            "/bin/sglang-bench serving --tokenizer \"/t\""
        );
        assert_eq!(
            real.gsm8k(
                "/s/bench_sglang.py",
                &["--num-shots".into(), "5".into()],
                None
            )
            .display(),
            "python3 /s/bench_sglang.py --num-shots 5"
        );
        assert_eq!(
            sim.gsm8k("/s/x.py", &[], Some(Path::new("/d/test.jsonl")))
                .display(),
            "/bin/sglang-bench gsm8k --data-path /d/test.jsonl"
        );
    }

    #[test]
    fn offline_batch_maps_to_each_engine() {
        let args: Vec<String> = ["--model", "/m", "--tp", "8"].map(String::from).to_vec();
        let env = vec![("SGLANG_USE_AITER".to_owned(), "1".to_owned())];
        let extra = ["--sim-oom-batch-size".to_owned(), "256".to_owned()];
        let real = steps(Engine::Sglang, ClientImpl::Python, ClientImpl::Python);
        assert_eq!(
            real.bench_one_batch(&args, &env, &extra).display_with_env(),
            "SGLANG_USE_AITER=1 python3 -m sglang.bench_one_batch --model /m --tp 8"
        );
        let sim = steps(Engine::Sim, ClientImpl::Python, ClientImpl::Python);
        assert_eq!(
            sim.bench_one_batch(&args, &env, &extra).display(),
            "/bin/sglang-sim bench-one-batch --model /m --tp 8 --sim-oom-batch-size 256"
        );
    }

    #[test]
    fn missing_programs_are_named() {
        let mut s = steps(Engine::Sim, ClientImpl::Native, ClientImpl::Native);
        s.sim = "sglang-sim".into();
        assert_eq!(s.missing_programs(), ["sglang-sim"]);
        let real = steps(Engine::Sglang, ClientImpl::Python, ClientImpl::Python);
        assert!(real.missing_programs().is_empty());
        assert_eq!(Engine::parse("sim"), Some(Engine::Sim));
        assert_eq!(ClientImpl::parse("rust"), None);
    }
}
