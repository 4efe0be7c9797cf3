//! `run-pd-docker`'s flags and their resolution into a [`PdConfig`]: the original's two
//! positional arguments and its `DOCKER_IMAGE` variable, then this port's additions (log
//! root, host IP, ports, time limits, the GSM8K threshold), then the engine and where the
//! router runs. Help text, environment variable and default are stated once, here.

use std::path::PathBuf;
use std::time::Duration;

use const_format::concatcp;

use crate::engine::Engine;
use crate::flags::{port, positive_seconds};

/// Environment variables and defaults.
pub mod defaults {
    /// Positional 1.
    pub const MODEL_PATH: &str = "/mnt/raid/models/huggingface/lmsys/gpt-oss-20b-bf16";
    /// Positional 2 (also used when it is given empty).
    pub const MODEL_NAME: &str = "GPT-OSS-20B";
    /// `DOCKER_IMAGE`.
    pub const DOCKER_IMAGE: &str = "rocm/sgl-dev:v0.5.3.post1-rocm700-mi30x-20251014";
    /// The log root the original hard-coded (`PD_LOG_BASE_DIR` of test_nightly.sh).
    pub const LOG_BASE_DIR: &str = "/mnt/raid/michael/sglang-ci/test/pd/pd_log";
    /// Container names are `<prefix>-router`, `<prefix>-prefill`, `<prefix>-decode`.
    pub const CONTAINER_PREFIX: &str = "sglang-pd";
    /// Ports of the original.
    pub const PREFILL_PORT: u16 = 30025;
    /// Decode port.
    pub const DECODE_PORT: u16 = 30026;
    /// Router port.
    pub const ROUTER_PORT: u16 = 30028;
    /// Seconds one server may take to answer `/health` after its container started.
    pub const SERVER_TIMEOUT: &str = "900";
    /// Seconds the router may take to answer `/health` after it started.
    pub const ROUTER_TIMEOUT: &str = "60";
    /// Seconds Step 4 may take (the original: 30 s + 60 attempts of at least 5 s).
    pub const HEALTH_TIMEOUT: &str = "330";
    /// Seconds the router may stay not ready with healthy workers before it is restarted.
    pub const ROUTER_REGISTER_GRACE: &str = "30";
    /// Seconds one request of tests 1–4 may take.
    pub const REQUEST_TIMEOUT: &str = "300";
    /// Lowest GSM8K accuracy that passes (fix Q-PD-1).
    pub const GSM8K_THRESHOLD: &str = "0.5";
    /// The host-mode router command.
    pub const ROUTER_CMD: &str = "python3 -m sglang_router.launch_router";
}

/// Environment variable names.
pub mod env {
    /// The image (the original's variable).
    pub const DOCKER_IMAGE: &str = "DOCKER_IMAGE";
    /// The log root (test_nightly.sh's variable).
    pub const LOG_BASE_DIR: &str = "PD_LOG_BASE_DIR";
    /// `--host-ip`.
    pub const HOST_IP: &str = "PD_HOST_IP";
    /// `--gsm8k-threshold`.
    pub const GSM8K_THRESHOLD: &str = "PD_GSM8K_THRESHOLD";
    /// `--router-mode`.
    pub const ROUTER_MODE: &str = "PD_ROUTER_MODE";
    /// `--router-cmd`.
    pub const ROUTER_CMD: &str = "PD_ROUTER_CMD";
    /// `--router-args`.
    pub const ROUTER_ARGS: &str = "PD_ROUTER_ARGS";
    /// `--sim-args`.
    pub const SIM_ARGS: &str = crate::flags::env::SIM_ARGS;
}

/// Where the router runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RouterMode {
    /// The `<prefix>-router` container from the image, as the original (real engine:
    /// `python3 -m sglang_router.launch_router`; `--engine=sim`: `sglang-sim router`).
    Container,
    /// A process on this machine started from `--router-cmd` (the real sglang-router of a
    /// venv, e.g. `.venv-peers/bin/python -m sglang_router.launch_router`).
    Host,
}

/// The flags of `run-pd-docker`.
#[derive(Debug, Clone, clap::Args)]
pub struct PdOptions {
    /// Positional 1: the model directory (must exist on this machine).
    #[arg(
        value_name = "MODEL_PATH",
        help_heading = "Original flags",
        help = concatcp!("Model directory; must exist on this machine [default: ", defaults::MODEL_PATH, "]")
    )]
    pub model_path: Option<String>,

    /// Positional 2: the model name sent in every request.
    #[arg(
        value_name = "MODEL_NAME",
        help_heading = "Original flags",
        help = concatcp!("Model name used in every request and in the summary; empty also means the default [default: ", defaults::MODEL_NAME, "]")
    )]
    pub model_name: Option<String>,

    /// The image of the three containers.
    #[arg(
        long,
        value_name = "IMAGE",
        env = env::DOCKER_IMAGE,
        default_value = defaults::DOCKER_IMAGE,
        help_heading = "Original flags",
        help = "Image of the router, prefill and decode containers; its tag names the log folder \
                and its `mi<digits>x` part the hardware (also --docker_image)",
        alias = "docker_image"
    )]
    pub docker_image: String,

    /// The log root.
    #[arg(
        long,
        value_name = "DIR",
        env = env::LOG_BASE_DIR,
        default_value = defaults::LOG_BASE_DIR,
        help_heading = "Additions",
        help = "Log root: test_summary.txt and the logs go to <DIR>/<hw>/<tag>/ (the original hard-coded it)"
    )]
    pub log_base_dir: PathBuf,

    /// `HOST_IP`.
    #[arg(
        long,
        value_name = "IP",
        env = env::HOST_IP,
        help_heading = "Additions",
        help = "Address the servers listen on and are reached at [default: the `src` address of \
                `ip route get 8.8.8.8`, else 127.0.0.1]"
    )]
    pub host_ip: Option<String>,

    /// Prefill port.
    #[arg(long, value_name = "PORT", value_parser = port, default_value_t = defaults::PREFILL_PORT, help_heading = "Additions", help = "Prefill server port")]
    pub prefill_port: u16,

    /// Decode port.
    #[arg(long, value_name = "PORT", value_parser = port, default_value_t = defaults::DECODE_PORT, help_heading = "Additions", help = "Decode server port")]
    pub decode_port: u16,

    /// Router port.
    #[arg(long, value_name = "PORT", value_parser = port, default_value_t = defaults::ROUTER_PORT, help_heading = "Additions", help = "Router (load balancer) port")]
    pub router_port: u16,

    /// Container name prefix.
    #[arg(
        long,
        value_name = "PREFIX",
        default_value = defaults::CONTAINER_PREFIX,
        help_heading = "Additions",
        help = "Containers are named <PREFIX>-router, <PREFIX>-prefill and <PREFIX>-decode"
    )]
    pub container_prefix: String,

    /// Server readiness limit.
    #[arg(long, value_name = "SECS", value_parser = positive_seconds, default_value = defaults::SERVER_TIMEOUT, help_heading = "Additions",
          help = "Seconds the prefill or the decode server may take to answer /health (polled; the original slept 150 s)")]
    pub server_timeout: f64,

    /// Router start limit.
    #[arg(long, value_name = "SECS", value_parser = positive_seconds, default_value = defaults::ROUTER_TIMEOUT, help_heading = "Additions",
          help = "Seconds the router may take to answer /health after it started (polled; the original slept 10 s)")]
    pub router_timeout: f64,

    /// Step 4 limit.
    #[arg(long, value_name = "SECS", value_parser = positive_seconds, default_value = defaults::HEALTH_TIMEOUT, help_heading = "Additions",
          help = "Seconds Step 4 may take until the router is ready and a functional completion succeeds")]
    pub health_timeout: f64,

    /// Router restart grace.
    #[arg(long, value_name = "SECS", value_parser = positive_seconds, default_value = defaults::ROUTER_REGISTER_GRACE, help_heading = "Additions",
          help = "Seconds the router may report not ready while both servers are healthy before it is restarted (once) to register them")]
    pub router_register_grace: f64,

    /// Per-request limit of tests 1–4.
    #[arg(long, value_name = "SECS", value_parser = positive_seconds, default_value = defaults::REQUEST_TIMEOUT, help_heading = "Additions",
          help = "Seconds one request of tests 1-4 and of the functional check may take")]
    pub request_timeout: f64,

    /// GSM8K threshold.
    #[arg(long, value_name = "ACC", env = env::GSM8K_THRESHOLD, default_value = defaults::GSM8K_THRESHOLD, help_heading = "Additions",
          help = "Lowest GSM8K accuracy that passes Test 6 (the original passed any accuracy, even 0)")]
    pub gsm8k_threshold: f64,

    /// Engine.
    #[arg(long, value_name = "ENGINE", value_parser = crate::flags::engine, help_heading = "Engine and executor",
          help = "Engine: `sglang` (python3 -m sglang.launch_server in the containers) or `sim` (sglang-sim launch-server from the simulated-engine image of `sglang-sim build-image`) [default: sglang]")]
    pub engine: Option<Engine>,

    /// `--sim-args`.
    #[arg(long, value_name = "ARGS", env = env::SIM_ARGS, allow_hyphen_values = true, help_heading = "Engine and executor",
          help = "Extra flags for both `sglang-sim launch-server` (one string, e.g. \"--sim-profile zero\"); ignored unless --engine=sim")]
    pub sim_args: Option<String>,

    /// Where the router runs.
    #[arg(long, value_enum, value_name = "MODE", env = env::ROUTER_MODE, default_value = "container", help_heading = "Engine and executor",
          help = "Where the router runs: `container` (the <PREFIX>-router container from the image, as the original; `sglang-sim router` with --engine=sim) or `host` (a process on this machine started from --router-cmd)")]
    pub router_mode: RouterMode,

    /// Host router command.
    #[arg(long, value_name = "CMD", env = env::ROUTER_CMD, default_value = defaults::ROUTER_CMD, help_heading = "Engine and executor",
          help = "Host-mode router program and its first words (e.g. \"/opt/venv/bin/python -m sglang_router.launch_router\"); the router flags follow")]
    pub router_cmd: String,

    /// Extra router flags.
    #[arg(long, value_name = "ARGS", env = env::ROUTER_ARGS, allow_hyphen_values = true, help_heading = "Engine and executor",
          help = "Extra router flags appended to the original's (e.g. \"--prometheus-port 29100\") [default: none]")]
    pub router_args: Option<String>,
}

/// Everything a run needs, resolved and checked.
#[derive(Debug, Clone)]
pub struct PdConfig {
    /// Model directory.
    pub model_path: String,
    /// Model name.
    pub model_name: String,
    /// `DOCKER_IMAGE`.
    pub image: String,
    /// `DOCKER_TAG`: the part after the last `:`.
    pub tag: String,
    /// `mi30x` / `mi35x` / ...
    pub hardware: String,
    /// `<log root>/<hw>/<tag>`.
    pub log_dir: PathBuf,
    /// `HOST_IP`.
    pub host_ip: String,
    /// Where the host IP came from, for a note when it is the fallback.
    pub host_ip_note: Option<String>,
    /// Ports.
    pub prefill_port: u16,
    /// Decode port.
    pub decode_port: u16,
    /// Router port.
    pub router_port: u16,
    /// Container names.
    pub names: Names,
    /// Engine.
    pub engine: Engine,
    /// Extra sglang-sim flags.
    pub sim_args: Vec<String>,
    /// Router placement.
    pub router_mode: RouterMode,
    /// Host-mode router program words.
    pub router_cmd: Vec<String>,
    /// Extra router flags.
    pub router_args: Vec<String>,
    /// Limits.
    pub server_timeout: Duration,
    /// Router /health limit.
    pub router_timeout: Duration,
    /// Step 4 limit.
    pub health_timeout: Duration,
    /// Router restart grace.
    pub router_register_grace: Duration,
    /// Request limit of tests 1–4.
    pub request_timeout: Duration,
    /// GSM8K threshold.
    pub gsm8k_threshold: f64,
}

/// The three container names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Names {
    /// `<prefix>-router`.
    pub router: String,
    /// `<prefix>-prefill`.
    pub prefill: String,
    /// `<prefix>-decode`.
    pub decode: String,
}

/// A flag value that cannot be used.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{flag}: {message}")]
pub struct BadFlag {
    /// The flag.
    pub flag: &'static str,
    /// What is wrong and what to do.
    pub message: String,
}

/// `HARDWARE`: the first `mi<digits>x` in the tag, default `mi30x`.
pub fn hardware_of(tag: &str) -> String {
    let b = tag.as_bytes();
    let mut i = 0;
    while i + 3 < b.len() {
        if b[i] == b'm' && b[i + 1] == b'i' && b[i + 2].is_ascii_digit() {
            let mut j = i + 2;
            while j < b.len() && b[j].is_ascii_digit() {
                j += 1;
            }
            if j < b.len() && b[j] == b'x' {
                return tag[i..=j].to_owned();
            }
        }
        i += 1;
    }
    "mi30x".to_owned()
}

/// The address after `src` in `ip route get` output (fix Q-PD-7: not the 7th field).
pub fn src_address(route: &str) -> Option<String> {
    let first = route.lines().next()?;
    let mut words = first.split_whitespace();
    while let Some(w) = words.next() {
        if w == "src" {
            return words.next().map(str::to_owned);
        }
    }
    None
}

fn detect_host_ip() -> (String, Option<String>) {
    let out = std::process::Command::new("ip")
        .args(["route", "get", "8.8.8.8"])
        .stdin(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .output();
    match out
        .ok()
        .filter(|o| o.status.success())
        .and_then(|o| src_address(&String::from_utf8_lossy(&o.stdout)))
    {
        Some(ip) => (ip, None),
        None => (
            "127.0.0.1".to_owned(),
            Some(
                "`ip route get 8.8.8.8` gave no src address; using 127.0.0.1 (set --host-ip)"
                    .to_owned(),
            ),
        ),
    }
}

fn words(flag: &'static str, text: Option<&str>) -> Result<Vec<String>, BadFlag> {
    crate::command::split_words(text.unwrap_or("")).map_err(|message| BadFlag { flag, message })
}

/// Resolves the flags.
pub fn resolve(o: &PdOptions) -> Result<PdConfig, BadFlag> {
    let model_path = o
        .model_path
        .clone()
        .unwrap_or_else(|| defaults::MODEL_PATH.to_owned());
    let model_name = o
        .model_name
        .clone()
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| defaults::MODEL_NAME.to_owned());
    let image = o.docker_image.trim().to_owned();
    if image.is_empty() {
        return Err(BadFlag {
            flag: "--docker-image",
            message: "empty image (set DOCKER_IMAGE or --docker-image)".into(),
        });
    }
    let tag = image
        .rsplit_once(':')
        .map_or(image.as_str(), |(_, t)| t)
        .to_owned();
    let hardware = hardware_of(&tag);
    let log_dir = o.log_base_dir.join(&hardware).join(&tag);
    let (host_ip, host_ip_note) = match o.host_ip.as_deref().map(str::trim) {
        Some(ip) if !ip.is_empty() => (ip.to_owned(), None),
        _ => detect_host_ip(),
    };
    let ports = [o.prefill_port, o.decode_port, o.router_port];
    if ports[0] == ports[1] || ports[0] == ports[2] || ports[1] == ports[2] {
        return Err(BadFlag {
            flag: "--prefill-port/--decode-port/--router-port",
            message: format!("the three ports must differ, got {ports:?}"),
        });
    }
    if !(0.0..=1.0).contains(&o.gsm8k_threshold) {
        return Err(BadFlag {
            flag: "--gsm8k-threshold",
            message: format!("{} is not an accuracy from 0 to 1", o.gsm8k_threshold),
        });
    }
    let engine = o.engine.unwrap_or(Engine::Sglang);
    // Ignored by the real engine (SGLCI_SIM_ARGS may be set for the sim benchmarks).
    let sim_args = if engine == Engine::Sim {
        words("--sim-args", o.sim_args.as_deref())?
    } else {
        Vec::new()
    };
    let router_cmd = words("--router-cmd", Some(&o.router_cmd))?;
    if router_cmd.is_empty() {
        return Err(BadFlag {
            flag: "--router-cmd",
            message: "empty command".into(),
        });
    }
    let p = o.container_prefix.trim();
    if p.is_empty()
        || !p
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_.-".contains(c))
    {
        return Err(BadFlag {
            flag: "--container-prefix",
            message: format!("{p:?} is not a container name (letters, digits, _ . -)"),
        });
    }
    Ok(PdConfig {
        model_path,
        model_name,
        tag,
        hardware,
        image,
        log_dir,
        host_ip,
        host_ip_note,
        prefill_port: o.prefill_port,
        decode_port: o.decode_port,
        router_port: o.router_port,
        names: Names {
            router: format!("{p}-router"),
            prefill: format!("{p}-prefill"),
            decode: format!("{p}-decode"),
        },
        engine,
        sim_args,
        router_mode: o.router_mode,
        router_cmd,
        router_args: words("--router-args", o.router_args.as_deref())?,
        server_timeout: Duration::from_secs_f64(o.server_timeout),
        router_timeout: Duration::from_secs_f64(o.router_timeout),
        health_timeout: Duration::from_secs_f64(o.health_timeout),
        router_register_grace: Duration::from_secs_f64(o.router_register_grace),
        request_timeout: Duration::from_secs_f64(o.request_timeout),
        gsm8k_threshold: o.gsm8k_threshold,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardware_and_host_ip_follow_the_original_with_the_fix() {
        assert_eq!(hardware_of("v0.5.4.post1-rocm700-mi35x-20251029"), "mi35x");
        assert_eq!(hardware_of("v0.5.4-rocm700-mi300x-1"), "mi300x");
        assert_eq!(hardware_of("latest"), "mi30x");
        assert_eq!(
            src_address(
                "8.8.8.8 via 10.194.128.1 dev eth0 src 10.194.129.138 uid 1000\n    cache\n"
            ),
            Some("10.194.129.138".into())
        );
        // Gateway-less route: the 7th field would be `uid` (Q-PD-7).
        assert_eq!(
            src_address("8.8.8.8 dev tun0 src 10.8.0.2 uid 0"),
            Some("10.8.0.2".into())
        );
        assert_eq!(src_address("unreachable"), None);
    }
}
