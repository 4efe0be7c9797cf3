//! `test_summary.txt` (spec nightly.md §5.9): the 46 lines of the original, rewritten after
//! every checkpoint so the file always shows the last completed step. A value not known yet
//! renders as the original's default: durations `0`, results `PENDING`.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// The result word of a test.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Never ran (or never finished).
    Pending,
    /// Passed.
    Pass,
    /// Failed.
    Fail,
}

impl Verdict {
    /// `PENDING` / `PASS` / `FAIL`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Pass => "PASS",
            Self::Fail => "FAIL",
        }
    }
}

/// One of tests 1–4.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestResult {
    /// The verdict.
    pub verdict: Verdict,
    /// Wall time, whole seconds.
    pub secs: u64,
}

impl Default for TestResult {
    fn default() -> Self {
        Self {
            verdict: Verdict::Pending,
            secs: 0,
        }
    }
}

/// Test numbers and titles of tests 1–4 as the summary prints them.
pub const TESTS: [(u32, &str); 4] = [
    (1, "Health Check"),
    (2, "Model Info"),
    (3, "Simple Completion"),
    (4, "Code Generation"),
];

/// Step titles as the summary prints them.
pub const STEPS: [&str; 4] = [
    "Router Startup",
    "Prefill Server Startup",
    "Decode Server Startup",
    "Health Check Wait",
];

/// What the GSM8K line's accuracy field says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Accuracy {
    /// Not run yet.
    Pending,
    /// The client printed no accuracy.
    NotAvailable,
    /// The client could not run.
    Failed,
    /// Four-decimal text (`0.9450`).
    Value(String),
}

impl Accuracy {
    fn text(&self) -> &str {
        match self {
            Self::Pending => "PENDING",
            Self::NotAvailable => "N/A",
            Self::Failed => "FAILED",
            Self::Value(v) => v,
        }
    }
}

/// Fixed facts of the run (lines 1–17).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `DOCKER_TAG`.
    pub docker_tag: String,
    /// `mi30x` / `mi35x`.
    pub hardware: String,
    /// Model name.
    pub model: String,
    /// Model path.
    pub model_path: String,
    /// `DOCKER_IMAGE`.
    pub docker_image: String,
    /// Host name.
    pub hostname: String,
    /// `HOST_IP`.
    pub ip: String,
    /// Prefill port.
    pub prefill_port: u16,
    /// Decode port.
    pub decode_port: u16,
    /// Router port.
    pub router_port: u16,
    /// The log folder.
    pub log_dir: PathBuf,
}

/// The whole summary state.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Lines 1–17.
    pub header: Header,
    /// Steps 1–4, whole seconds (0 = not reached).
    pub steps: [u64; 4],
    /// Tests 1–4.
    pub tests: [TestResult; 4],
    /// Test 6's accuracy field.
    pub gsm8k_accuracy: Accuracy,
    /// Test 6's verdict.
    pub gsm8k: TestResult,
    /// `Total Time (Setup + Tests)`, whole seconds.
    pub total_secs: u64,
}

impl Summary {
    /// A summary where nothing ran yet.
    pub fn new(header: Header) -> Self {
        Self {
            header,
            steps: [0; 4],
            tests: [TestResult::default(); 4],
            gsm8k_accuracy: Accuracy::Pending,
            gsm8k: TestResult::default(),
            total_secs: 0,
        }
    }

    /// True when every test (1–4 and 6) says PASS; a PENDING one counts as a failure.
    pub fn all_passed(&self) -> bool {
        self.tests.iter().all(|t| t.verdict == Verdict::Pass) && self.gsm8k.verdict == Verdict::Pass
    }

    /// The file's text (spec §5.9, line for line).
    pub fn render(&self) -> String {
        let h = &self.header;
        let mut s = String::new();
        let mut line = |t: &str| {
            s.push_str(t);
            s.push('\n');
        };
        line("SGLang PD Disaggregation Test Summary");
        line(&"=".repeat(38));
        line("");
        line(&format!("Docker Tag: {}", h.docker_tag));
        line(&format!("Hardware: {}", h.hardware));
        line(&format!("Model: {}", h.model));
        line(&format!("Model Path: {}", h.model_path));
        line(&format!("Docker Image: {}", h.docker_image));
        line(&format!("Hostname: {}", h.hostname));
        line("");
        line("Configuration:");
        line(&format!("- IP Address: {}", h.ip));
        line(&format!(
            "- Prefill Server: Port {}, GPUs 0-3, TP=4",
            h.prefill_port
        ));
        line(&format!(
            "- Decode Server: Port {}, GPUs 4-7, TP=4",
            h.decode_port
        ));
        line(&format!("- Load Balancer: Port {}", h.router_port));
        line("- Network: Loopback (lo)");
        line("- Execution: Docker containers");
        line("");
        line("Setup Steps (with runtime):");
        for (i, name) in STEPS.iter().enumerate() {
            line(&format!("- Step {} - {name}: {}s", i + 1, self.steps[i]));
        }
        line("");
        line("Test Results (with runtime):");
        for (i, (n, name)) in TESTS.iter().enumerate() {
            let t = self.tests[i];
            line(&format!(
                "- Test {n} - {name}: {} ({}s)",
                t.verdict.as_str(),
                t.secs
            ));
        }
        line(&format!(
            "- Test 6 - GSM8K Accuracy: {} [{}] ({}s)",
            self.gsm8k_accuracy.text(),
            self.gsm8k.verdict.as_str(),
            self.gsm8k.secs
        ));
        line("");
        line("Timing Summary:");
        line(&format!(
            "- Total Time (Setup + Tests): {}s",
            self.total_secs
        ));
        line(&format!(
            "- Setup Time (Steps 1-4): {}s",
            self.steps.iter().sum::<u64>()
        ));
        line(&format!("- GSM8K Test Duration: {}s", self.gsm8k.secs));
        // Q-PD-11 (kept): always 200 divided by the duration.
        let qps = if self.gsm8k.secs == 0 {
            "N/A".to_owned()
        } else {
            format!("{:.2}", 200.0 / self.gsm8k.secs as f64)
        };
        line(&format!("- GSM8K Questions per Second: {qps}"));
        line("- GSM8K Parallelism: 16 concurrent requests");
        line("- GSM8K Timeout: 600s per request");
        line("");
        line("Log Files:");
        let d = &h.log_dir;
        for (what, file) in [
            ("Load Balancer", "load_balance.log"),
            ("Prefill Server", "prefill.log"),
            ("Decode Server", "decode.log"),
            ("GSM8K Results", "test_gsm8k.log"),
        ] {
            let mut t = String::new();
            let _ = write!(t, "- {what}: {}", d.join(file).display());
            line(&t);
        }
        line("");
        line("Test completed in nightly mode (Docker-based).");
        s
    }

    /// Writes the file atomically into `dir`.
    pub fn write(&self, dir: &Path) -> Result<(), report::atomic::AtomicWriteError> {
        report::atomic::write_atomic(&dir.join(SUMMARY_FILE), self.render().as_bytes())
    }
}

/// The summary's file name.
pub const SUMMARY_FILE: &str = "test_summary.txt";

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            docker_tag: "v0.5.5.post3-rocm700-mi30x-20251126".into(),
            hardware: "mi30x".into(),
            model: "DeepSeek-V3-0324".into(),
            model_path: "/mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324".into(),
            docker_image: "rocm/sgl-dev:v0.5.5.post3-rocm700-mi30x-20251126".into(),
            hostname: "dell300x-pla-t10-23".into(),
            ip: "10.194.129.138".into(),
            prefill_port: 30025,
            decode_port: 30026,
            router_port: 30028,
            log_dir: "/mnt/raid/michael/sglang-ci/test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251126".into(),
        }
    }

    /// The spec's real complete example (§5.9), byte for byte.
    #[test]
    fn renders_the_spec_example_byte_for_byte() {
        let mut s = Summary::new(header());
        s.steps = [10, 155, 156, 50];
        let p = |secs| TestResult {
            verdict: Verdict::Pass,
            secs,
        };
        s.tests = [p(0), p(0), p(7), p(12)];
        s.gsm8k_accuracy = Accuracy::Value("0.9450".into());
        s.gsm8k = p(186);
        s.total_secs = 576;
        let want = "SGLang PD Disaggregation Test Summary\n======================================\n\nDocker Tag: v0.5.5.post3-rocm700-mi30x-20251126\nHardware: mi30x\nModel: DeepSeek-V3-0324\nModel Path: /mnt/raid/models/huggingface/deepseek-ai/DeepSeek-V3-0324\nDocker Image: rocm/sgl-dev:v0.5.5.post3-rocm700-mi30x-20251126\nHostname: dell300x-pla-t10-23\n\nConfiguration:\n- IP Address: 10.194.129.138\n- Prefill Server: Port 30025, GPUs 0-3, TP=4\n- Decode Server: Port 30026, GPUs 4-7, TP=4\n- Load Balancer: Port 30028\n- Network: Loopback (lo)\n- Execution: Docker containers\n\nSetup Steps (with runtime):\n- Step 1 - Router Startup: 10s\n- Step 2 - Prefill Server Startup: 155s\n- Step 3 - Decode Server Startup: 156s\n- Step 4 - Health Check Wait: 50s\n\nTest Results (with runtime):\n- Test 1 - Health Check: PASS (0s)\n- Test 2 - Model Info: PASS (0s)\n- Test 3 - Simple Completion: PASS (7s)\n- Test 4 - Code Generation: PASS (12s)\n- Test 6 - GSM8K Accuracy: 0.9450 [PASS] (186s)\n\nTiming Summary:\n- Total Time (Setup + Tests): 576s\n- Setup Time (Steps 1-4): 371s\n- GSM8K Test Duration: 186s\n- GSM8K Questions per Second: 1.08\n- GSM8K Parallelism: 16 concurrent requests\n- GSM8K Timeout: 600s per request\n\nLog Files:\n- Load Balancer: /mnt/raid/michael/sglang-ci/test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251126/load_balance.log\n- Prefill Server: /mnt/raid/michael/sglang-ci/test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251126/prefill.log\n- Decode Server: /mnt/raid/michael/sglang-ci/test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251126/decode.log\n- GSM8K Results: /mnt/raid/michael/sglang-ci/test/pd/pd_log/mi30x/v0.5.5.post3-rocm700-mi30x-20251126/test_gsm8k.log\n\nTest completed in nightly mode (Docker-based).\n";
        assert_eq!(s.render(), want);
        assert_eq!(s.render().lines().count(), 46);
        assert!(s.all_passed());
    }

    #[test]
    fn nothing_run_is_pending_and_not_a_pass() {
        let s = Summary::new(header());
        let t = s.render();
        assert!(t.contains("- Test 1 - Health Check: PENDING (0s)\n"));
        assert!(t.contains("- Test 6 - GSM8K Accuracy: PENDING [PENDING] (0s)\n"));
        assert!(t.contains("- GSM8K Questions per Second: N/A\n"));
        assert!(!s.all_passed());
        let parsed = metrics_parse::pd::parse_summary(t.as_bytes());
        assert!(parsed.unrecognized.is_empty());
        assert_eq!(
            parsed.tests[0].status,
            metrics_parse::pd::TestStatus::Pending
        );
        assert!(parsed.completed);
    }
}
