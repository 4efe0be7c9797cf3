//! The resolved configuration of `test-nightly` (spec nightly.md §4.3, §4.4): flags >
//! environment > defaults, validated with the original's messages, built once from
//! [`TestNightlyOptions`] (what the binary parsed) into a [`TestNightlyConfig`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use docker_ctl::Hardware;
use thiserror::Error;

use crate::config::EnvSource;
use crate::engine::Engine;
use crate::flags::heading::{ADDITIONS, ENGINE, ORIGINAL};

/// A value the original rejected with exit status 1; the message is the original's (printed
/// after `[test] ERROR: `).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{0}")]
pub struct UsageError(pub String);

/// The unit test's name (header `Test:`, console lines).
pub const UNIT_TEST: &str = "test_custom_allreduce.TestCustomAllReduce";
/// The original's unit test command (a constant of the script).
pub const UNIT_COMMAND: &str = "CUDA_VISIBLE_DEVICES=0,1,2,3,4,5,6,7 python3 -m unittest test_custom_allreduce.TestCustomAllReduce";
/// The unit test command with `--engine=sim`: a program of the `sglang-sim build-image` image
/// (which has no shell and no Python), run without a shell.
pub const SIM_UNIT_COMMAND: &str = "sglang-sim bench-one-batch --model-path test_custom_allreduce --batch-size 1 --input-len 8 --output-len 8 --sim-profile zero";
/// `CUDA_VISIBLE_DEVICES` of the unit test's `docker exec`.
pub const VISIBLE_DEVICES: &str = "0,1,2,3,4,5,6,7";
/// Default limit of the unit test (fix Q-NT-5: the original had none).
pub const DEFAULT_UNIT_TIMEOUT_S: u64 = 1800;
/// Default limit of the PD test run (the original had none; a real run takes 10-20 min).
pub const DEFAULT_PD_TIMEOUT_S: u64 = 7200;
/// Environment variable naming the `run-pd-docker` program to run.
pub const RUN_PD_DOCKER_ENV: &str = "SGLCI_RUN_PD_DOCKER";
/// Environment variable replacing the regular expression of conflicting host processes.
pub const CONFLICT_PATTERN_ENV: &str = "SGLCI_CONFLICT_PATTERN";
/// The original's pattern of conflicting host processes (`ps aux | grep -E`).
pub const CONFLICT_PATTERN: &str = r"python.*sglang\.(launch_server|bench_serving)";

/// `--test-type`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum TestType {
    /// The custom all-reduce unit test in the image's container.
    Unit,
    /// The PD disaggregation test (`run-pd-docker`).
    Pd,
}

impl TestType {
    /// `unit` / `pd`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unit => "unit",
            Self::Pd => "pd",
        }
    }
}

/// The flags of `test-nightly`, as parsed; the binary flattens this struct.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct TestNightlyOptions {
    /// `--hardware`.
    #[arg(
        long,
        value_name = "HW",
        help_heading = ORIGINAL,
        help = "Hardware: `mi30x` or `mi35x` [env: HARDWARE_TYPE] [default: mi30x]"
    )]
    pub hardware: Option<String>,
    /// `--test-type`.
    #[arg(
        long,
        value_name = "TYPE",
        help_heading = ORIGINAL,
        help = "`unit` (custom all-reduce unit test in the image's container) or `pd` (PD \
                disaggregation test through run-pd-docker) [env: TEST_TYPE] [default: unit]"
    )]
    pub test_type: Option<String>,
    /// `--model-path`.
    #[arg(
        long,
        value_name = "PATH",
        help_heading = ORIGINAL,
        help = "PD only: model path given to run-pd-docker (the model name stays the \
                hardware's) [env: MODEL_PATH_OVERRIDE] [default: the hardware's DeepSeek model]"
    )]
    pub model_path: Option<String>,
    /// `--image-date`.
    #[arg(
        long,
        value_name = "YYYYMMDD",
        help_heading = ORIGINAL,
        help = "Use exactly this Pacific date's image, no yesterday fallback [env: IMAGE_DATE] \
                [default: today, else yesterday]"
    )]
    pub image_date: Option<String>,
    /// `--teams-webhook-url` (the shared flag; here `TEAMS_WEBHOOK_URL` is its fallback, and an
    /// explicitly empty value wins over it, as in the original).
    #[command(flatten)]
    pub teams: crate::flags::TeamsWebhookFlags,

    /// `--unit-test-timeout`.
    #[arg(
        long,
        value_name = "SECONDS",
        help_heading = ADDITIONS,
        value_parser = crate::flags::positive_seconds,
        help = "Stop the unit test after this long; the log records the timeout, exit code \
                124 and `Result: FAILED` [env: SGLCI_UNIT_TEST_TIMEOUT] [default: 1800]"
    )]
    pub unit_test_timeout: Option<f64>,
    /// `--unit-test-command`.
    #[arg(
        long,
        value_name = "CMD",
        allow_hyphen_values = true,
        help_heading = ADDITIONS,
        help = "The unit test command: run with `bash -c \"cd '<TEST_DIR>' && CMD\"` in the \
                container; with --engine=sim split into words and run without a shell [env: \
                SGLCI_UNIT_TEST_COMMAND] [default: the original's python3 -m unittest command; \
                with --engine=sim a short sglang-sim bench-one-batch]"
    )]
    pub unit_test_command: Option<String>,
    /// `--pd-test-timeout`.
    #[arg(
        long,
        value_name = "SECONDS",
        help_heading = ADDITIONS,
        value_parser = crate::flags::positive_seconds,
        help = "Stop run-pd-docker (SIGTERM, it removes its containers) after this long \
                [env: SGLCI_PD_TEST_TIMEOUT] [default: 7200]"
    )]
    pub pd_test_timeout: Option<f64>,
    /// `--alert-on-fallback`.
    #[arg(
        long,
        help_heading = ADDITIONS,
        help = "Also send the Teams card when the test used yesterday's (fallback) image; such \
                cards are held back by default, as perf-nightly's"
    )]
    pub alert_on_fallback: bool,
    /// `--strict`.
    #[arg(
        long,
        help_heading = ADDITIONS,
        help = "Exit 5 when the test ran and failed (the original, and the default, exit 0: \
                the cron line uploads the logs only after exit 0)"
    )]
    pub strict: bool,

    /// `--engine`.
    #[arg(
        long,
        value_name = "ENGINE",
        help_heading = ENGINE,
        value_parser = crate::flags::engine,
        help = "`sglang` (the real image) or `sim` (an image from `sglang-sim build-image`: \
                the unit command runs without a shell; run-pd-docker gets --engine=sim) \
                [default: sglang]"
    )]
    pub engine: Option<Engine>,

    /// The command line, for the banner (set by the binary, not a flag).
    #[arg(skip)]
    pub command_line: String,
}

/// Everything a run needs, resolved.
#[derive(Debug, Clone, serde::Serialize)]
pub struct TestNightlyConfig {
    /// The banner's `Command:` (masked when printed).
    pub command_line: String,
    /// Hardware.
    #[serde(serialize_with = "hw_text")]
    pub hardware: Hardware,
    /// Test type.
    pub test_type: TestType,
    /// ROCm token of the image (§4.5).
    pub rocm: String,
    /// PD model path (flag, else the hardware's).
    pub pd_model_path: String,
    /// PD model name (the hardware's).
    pub pd_model_name: String,
    /// `--image-date`.
    pub image_date: Option<String>,
    /// The webhook (`None`: no notification).
    #[serde(skip)]
    pub webhook: Option<String>,
    /// `TEST_CI_DIR`.
    pub test_ci_dir: PathBuf,
    /// `MOUNT_DIR`.
    pub mount_dir: PathBuf,
    /// `WORK_DIR` (container `-w`).
    pub work_dir: String,
    /// `IMAGE_REPO`.
    pub image_repo: String,
    /// `CONTAINER_SHM_SIZE`.
    pub shm_size: String,
    /// `GPU_IDLE_WAIT_TIME`.
    pub gpu_idle_wait: Duration,
    /// `TEST_DIR` (inside the container).
    pub test_dir: String,
    /// `TEST_LOG_BASE_DIR`.
    pub test_log_dir: PathBuf,
    /// `PD_LOG_BASE_DIR`.
    pub pd_log_dir: PathBuf,
    /// The unit test command.
    pub unit_command: String,
    /// Limit of the unit test.
    pub unit_timeout: Duration,
    /// Limit of the PD test.
    pub pd_timeout: Duration,
    /// The lock file.
    pub lock_path: PathBuf,
    /// `--engine`.
    pub engine: Engine,
    /// `--alert-on-fallback`.
    pub alert_on_fallback: bool,
    /// `--strict`.
    pub strict: bool,
    /// The regular expression of conflicting host processes.
    pub conflict_pattern: String,
}

fn hw_text<S: serde::Serializer>(h: &Hardware, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(h.as_str())
}

/// The PD model of a hardware type (§4.4): (path, name).
pub fn pd_model(hw: Hardware) -> (&'static str, &'static str) {
    match hw {
        Hardware::Mi30x => (
            "/mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324",
            "DeepSeek-V3-0324",
        ),
        Hardware::Mi35x => (
            "/mnt/raid/models/huggingface/amd/DeepSeek-R1-MXFP4-Preview",
            "DeepSeek-R1-MXFP4-Preview",
        ),
    }
}

/// The ROCm token of the image (§2.1, §4.5): `rocm700` for PD; for the unit test `rocm630`
/// on mi30x and `rocm700` on mi35x.
pub fn rocm_for(hw: Hardware, t: TestType) -> &'static str {
    match t {
        TestType::Pd => "rocm700",
        TestType::Unit => hw.default_rocm(),
    }
}

fn seconds_env(
    flag: Option<f64>,
    env: &dyn EnvSource,
    var: &str,
    default: u64,
) -> Result<Duration, UsageError> {
    if let Some(s) = flag {
        return Ok(Duration::from_secs_f64(s));
    }
    match env.var(var) {
        None => Ok(Duration::from_secs(default)),
        Some(v) => crate::flags::positive_seconds(&v)
            .map(Duration::from_secs_f64)
            .map_err(|e| UsageError(format!("{var}={v:?}: {e}"))),
    }
}

/// Resolves the run: flags > environment > defaults. `cwd` is the current directory (the
/// default of `TEST_CI_DIR`).
pub fn resolve(
    o: &TestNightlyOptions,
    env: &dyn EnvSource,
    cwd: &Path,
) -> Result<TestNightlyConfig, UsageError> {
    let hw_text = o
        .hardware
        .clone()
        .or_else(|| env.var("HARDWARE_TYPE"))
        .unwrap_or_else(|| "mi30x".to_owned());
    let hardware = match hw_text.as_str() {
        "mi30x" => Hardware::Mi30x,
        "mi35x" => Hardware::Mi35x,
        _ => {
            return Err(UsageError(
                "Invalid --hardware value. Must be 'mi30x' or 'mi35x'.".to_owned(),
            ));
        }
    };
    let tt = o
        .test_type
        .clone()
        .or_else(|| env.var("TEST_TYPE"))
        .unwrap_or_else(|| "unit".to_owned());
    let test_type = match tt.as_str() {
        "unit" => TestType::Unit,
        "pd" => TestType::Pd,
        _ => {
            return Err(UsageError(
                "Invalid --test-type value. Must be 'unit' or 'pd'.".to_owned(),
            ));
        }
    };
    let (default_model, model_name) = pd_model(hardware);
    let pd_model_path = o
        .model_path
        .clone()
        .filter(|p| !p.is_empty())
        .or_else(|| env.var("MODEL_PATH_OVERRIDE"))
        .unwrap_or_else(|| default_model.to_owned());
    let image_date = o
        .image_date
        .clone()
        .or_else(|| env.var("IMAGE_DATE"))
        .filter(|d| !d.is_empty());
    // Q-NT-10: an explicitly empty flag wins over the environment.
    let webhook = match &o.teams.teams_webhook_url {
        Some(u) => Some(u.clone()),
        None => env.var("TEAMS_WEBHOOK_URL"),
    }
    .filter(|u| !u.trim().is_empty());
    let mount_dir = PathBuf::from(env.var_or("MOUNT_DIR", "/mnt/raid/michael/sglang-ci"));
    let test_ci_dir = env
        .var("TEST_CI_DIR")
        .map_or_else(|| cwd.to_owned(), PathBuf::from);
    let engine = o.engine.unwrap_or(Engine::Sglang);
    let work_dir = env.var_or("WORK_DIR", "/sgl-workspace");
    let test_dir = env.var("TEST_DIR").unwrap_or_else(|| match engine {
        // The simulator image has no SGLang tree: the test runs in the image's work dir.
        Engine::Sim => work_dir.clone(),
        Engine::Sglang => "/sgl-workspace/sglang/test/srt".to_owned(),
    });
    let test_log_dir = env.var("TEST_LOG_BASE_DIR").map_or_else(
        || mount_dir.join("test/unit-test-backend-8-gpu-CAR-amd"),
        PathBuf::from,
    );
    // Q-NT-9: one root for the PD logs, the variable run-pd-docker reads too.
    let pd_log_dir = env
        .var("PD_LOG_BASE_DIR")
        .map_or_else(|| mount_dir.join("test/pd/pd_log"), PathBuf::from);
    let unit_command = o
        .unit_test_command
        .clone()
        .filter(|c| !c.trim().is_empty())
        .or_else(|| env.var("SGLCI_UNIT_TEST_COMMAND"))
        .unwrap_or_else(|| match engine {
            Engine::Sim => SIM_UNIT_COMMAND.to_owned(),
            Engine::Sglang => UNIT_COMMAND.to_owned(),
        });
    if engine == Engine::Sim {
        crate::command::split_words(&unit_command)
            .map_err(|e| UsageError(format!("--unit-test-command {unit_command:?}: {e}")))?;
    }
    let gpu_idle_wait = match env.var("GPU_IDLE_WAIT_TIME") {
        None => Duration::from_secs(15),
        Some(v) => crate::flags::seconds(&v)
            .map(Duration::from_secs_f64)
            .map_err(|e| UsageError(format!("GPU_IDLE_WAIT_TIME={v:?}: {e}")))?,
    };
    let lock_dir = env
        .var("SGLCI_LOCK_DIR")
        .map_or_else(|| PathBuf::from("/tmp"), PathBuf::from);
    let conflict_pattern = env.var_or(CONFLICT_PATTERN_ENV, CONFLICT_PATTERN);
    regex::Regex::new(&conflict_pattern)
        .map_err(|e| UsageError(format!("{CONFLICT_PATTERN_ENV}: {e}")))?;
    Ok(TestNightlyConfig {
        command_line: o.command_line.clone(),
        hardware,
        test_type,
        rocm: rocm_for(hardware, test_type).to_owned(),
        pd_model_path,
        pd_model_name: model_name.to_owned(),
        image_date,
        webhook,
        test_ci_dir,
        mount_dir,
        work_dir,
        image_repo: env.var_or("IMAGE_REPO", "rocm/sgl-dev"),
        shm_size: env.var_or("CONTAINER_SHM_SIZE", "32g"),
        gpu_idle_wait,
        test_dir,
        test_log_dir,
        pd_log_dir,
        unit_command,
        unit_timeout: seconds_env(
            o.unit_test_timeout,
            env,
            "SGLCI_UNIT_TEST_TIMEOUT",
            DEFAULT_UNIT_TIMEOUT_S,
        )?,
        pd_timeout: seconds_env(
            o.pd_test_timeout,
            env,
            "SGLCI_PD_TEST_TIMEOUT",
            DEFAULT_PD_TIMEOUT_S,
        )?,
        lock_path: lock_dir.join(format!("test_nightly_{}.lock", test_type.as_str())),
        engine,
        alert_on_fallback: o.alert_on_fallback,
        strict: o.strict,
        conflict_pattern,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn env(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect()
    }

    #[test]
    fn defaults_are_the_originals() {
        let c = resolve(&TestNightlyOptions::default(), &env(&[]), Path::new("/ci")).unwrap();
        assert_eq!(c.hardware, Hardware::Mi30x);
        assert_eq!(c.test_type, TestType::Unit);
        assert_eq!(c.rocm, "rocm630");
        assert_eq!(c.test_dir, "/sgl-workspace/sglang/test/srt");
        assert_eq!(
            c.test_log_dir,
            Path::new("/mnt/raid/michael/sglang-ci/test/unit-test-backend-8-gpu-CAR-amd")
        );
        assert_eq!(
            c.pd_log_dir,
            Path::new("/mnt/raid/michael/sglang-ci/test/pd/pd_log")
        );
        assert_eq!(c.lock_path, Path::new("/tmp/test_nightly_unit.lock"));
        assert_eq!(c.unit_command, UNIT_COMMAND);
        assert_eq!(c.unit_timeout, Duration::from_secs(1800));
        assert_eq!(c.test_ci_dir, Path::new("/ci"));
        assert_eq!(c.webhook, None);
    }

    #[test]
    fn flags_beat_the_environment_and_an_empty_webhook_flag_disables() {
        let e = env(&[
            ("HARDWARE_TYPE", "mi35x"),
            ("TEST_TYPE", "pd"),
            ("TEAMS_WEBHOOK_URL", "https://hook.invalid/x"),
            ("MODEL_PATH_OVERRIDE", "/m/from-env"),
        ]);
        let c = resolve(&TestNightlyOptions::default(), &e, Path::new("/")).unwrap();
        assert_eq!(c.hardware, Hardware::Mi35x);
        assert_eq!(c.test_type, TestType::Pd);
        assert_eq!(c.rocm, "rocm700");
        assert_eq!(c.pd_model_path, "/m/from-env");
        assert_eq!(c.pd_model_name, "DeepSeek-R1-MXFP4-Preview");
        assert_eq!(c.webhook.as_deref(), Some("https://hook.invalid/x"));
        assert_eq!(c.lock_path, Path::new("/tmp/test_nightly_pd.lock"));
        let o = TestNightlyOptions {
            hardware: Some("mi30x".into()),
            teams: crate::flags::TeamsWebhookFlags {
                teams_webhook_url: Some(String::new()),
            },
            model_path: Some("/m/flag".into()),
            ..Default::default()
        };
        let c = resolve(&o, &e, Path::new("/")).unwrap();
        assert_eq!(c.hardware, Hardware::Mi30x);
        assert_eq!(c.rocm, "rocm700", "PD uses rocm700 on mi30x too");
        assert_eq!(c.webhook, None, "Q-NT-10");
        assert_eq!(c.pd_model_path, "/m/flag");
        assert_eq!(c.pd_model_name, "DeepSeek-V3-0324");
    }

    #[test]
    fn bad_values_give_the_originals_messages() {
        let o = TestNightlyOptions {
            hardware: Some("mi20x".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&o, &env(&[]), Path::new("/")).unwrap_err().0,
            "Invalid --hardware value. Must be 'mi30x' or 'mi35x'."
        );
        let o = TestNightlyOptions {
            test_type: Some("perf".into()),
            ..Default::default()
        };
        assert_eq!(
            resolve(&o, &env(&[]), Path::new("/")).unwrap_err().0,
            "Invalid --test-type value. Must be 'unit' or 'pd'."
        );
        let e = env(&[("SGLCI_UNIT_TEST_TIMEOUT", "soon")]);
        let err = resolve(&TestNightlyOptions::default(), &e, Path::new("/")).unwrap_err();
        assert!(
            err.0.starts_with("SGLCI_UNIT_TEST_TIMEOUT=\"soon\""),
            "{err}"
        );
    }

    #[test]
    fn the_simulated_engine_runs_a_shell_free_command_in_the_work_dir() {
        let o = TestNightlyOptions {
            engine: Some(Engine::Sim),
            ..Default::default()
        };
        let c = resolve(&o, &env(&[]), Path::new("/")).unwrap();
        assert_eq!(c.unit_command, SIM_UNIT_COMMAND);
        assert_eq!(c.test_dir, "/sgl-workspace");
        let o = TestNightlyOptions {
            engine: Some(Engine::Sim),
            unit_test_command: Some("sglang-sim 'unclosed".into()),
            ..Default::default()
        };
        assert!(resolve(&o, &env(&[]), Path::new("/")).is_err());
    }
}
