//! Online timing summaries `timing_summary_<YYYYMMDD_HHMMSS>.log` of the Grok and DeepSeek
//! benchmark scripts, every generation and cut-off ones (spec benchmarks.md §7.8, §7.9,
//! §13; corpus README §2.2–§2.4, §3).
//!
//! Header (`Script started at:`, `Timezone:`, optional `Command:`/`Hardware:`/`ROCM
//! Version:`, `Docker image:`, `Model:`, `Hostname:`, `Mode:`, then Grok `Model type:` +
//! `Attention backend: unknown` or DeepSeek `DP Attention:` / `Torch Compile:` / `MTP Test
//! Enabled:` / `DP Test Enabled:`), then any of: `Server startup time:` (repeated after a
//! restart), `Server Health Check (before Run N):` blocks, `GSM8K Test Results:` (v1
//! `Number of runs`, v2 `Total/Valid/Excluded runs`, v3 `Accuracy: a (Required: t)` +
//! `Early exit:`), the client (`Client Benchmark Results:`) or serving
//! (`Serving Benchmark Results:`) phase with per-run and `Completed …` lines, `Rate 16
//! skipped on MI355 hardware`, `All logs already complete - skipping server startup`,
//! `GSM8K benchmark completed. Serving benchmarks skipped in <desc> mode.`, `MTP Benchmark
//! Outputs:`, `Server Error Check:`, `Server shutdown time:`, `Performance Summary:` and the
//! `OVERALL SCRIPT SUMMARY`. About half the files stop early: [`TimingSummary::complete`]
//! says whether the overall summary was reached, every section is optional.
//!
//! The `Command:` line is kept verbatim and may carry secrets (webhook URLs): mask it before
//! writing it anywhere.

use serde::Serialize;

use crate::text;
use crate::value::Num;

/// Which script wrote the file, from its header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "script", rename_all = "snake_case")]
pub enum Flavor {
    /// `grok_perf_online_csv.sh`: `Model type:` and `Attention backend:` in the header.
    Grok {
        /// `grok1` / `grok2`.
        model_type: Option<String>,
    },
    /// `deepseek_perf_online_csv.sh`: the four mode switches.
    DeepSeek {
        /// `DP Attention: true|false`.
        dp_attention: Option<bool>,
        /// `Torch Compile:`.
        torch_compile: Option<bool>,
        /// `MTP Test Enabled:`.
        mtp_test: Option<bool>,
        /// `DP Test Enabled:`.
        dp_test: Option<bool>,
    },
    /// The header stops before either kind of line.
    Unknown,
}

/// Header lines.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Header {
    /// `Script started at: <ts>`.
    pub started_at: Option<String>,
    /// `Timezone: PDT (-0700)`.
    pub timezone: Option<String>,
    /// `Command: …` verbatim (may contain secrets; absent in a few files).
    pub command: Option<String>,
    /// `Hardware: …` with surrounding double quotes removed (some files print `"mi30x"`).
    pub hardware: Option<String>,
    /// `ROCM Version: …`, quotes removed.
    pub rocm_version: Option<String>,
    /// `Docker image: …`.
    pub docker_image: Option<String>,
    /// `Model: …`.
    pub model: Option<String>,
    /// `Hostname: …`.
    pub hostname: Option<String>,
    /// `Mode: online`.
    pub mode: Option<String>,
}

/// The `GSM8K Test Results:` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Gsm8kBlock {
    /// `Total duration: <s> seconds`.
    pub total_duration_s: Option<Num>,
    /// `Average accuracy: <avg>` (v1, v2).
    pub average_accuracy: Option<String>,
    /// `Number of runs: 5` (v1).
    pub number_of_runs: Option<u32>,
    /// `Total runs:` (v2).
    pub total_runs: Option<u32>,
    /// `Valid runs:` (v2).
    pub valid_runs: Option<u32>,
    /// `Excluded runs:` (v2).
    pub excluded_runs: Option<u32>,
    /// `Accuracy: <a> (Required: <t>)` (v3) → (a, t).
    pub accuracy_required: Option<(String, String)>,
    /// `Early exit: Passed on run 1, skipped 4 run(s)` (v3), text after `Early exit:`.
    pub early_exit: Option<String>,
    /// `GSM8K accuracy: <x>` (the line the notifiers read).
    pub gsm8k_accuracy: Option<String>,
}

/// Which benchmark phase heading was seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PhaseKind {
    /// `Client Benchmark Results:` (Grok, request rates).
    Client,
    /// `Serving Benchmark Results:` (DeepSeek, concurrencies).
    Serving,
}

/// `  Rate <R>, Run <i>: <s> seconds` / `  Concurrency <C>, Run <n>: <s> seconds`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RunTime {
    /// Rate or concurrency as written.
    pub load: String,
    /// Run number.
    pub run: u32,
    /// Seconds.
    pub seconds: Option<Num>,
}

/// `Completed rate <R> - Total time: <s> seconds` / `Completed concurrency <C> - …`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Completed {
    /// Rate or concurrency as written.
    pub load: String,
    /// Seconds.
    pub total_s: Option<Num>,
}

/// The benchmark phase: heading, per-run lines, end.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Phase {
    /// The heading, when present (GSM8K-only and regeneration paths have only the end lines).
    pub kind: Option<PhaseKind>,
    /// `  Start time: <ts>`.
    pub start_time: Option<String>,
    /// Per-run lines.
    pub runs: Vec<RunTime>,
    /// `Completed …` lines.
    pub completed: Vec<Completed>,
    /// `Rate <R> skipped on MI355 hardware` → R.
    pub skipped: Vec<String>,
    /// `  End time: <ts>`.
    pub end_time: Option<String>,
    /// `  Total duration: <s> seconds`.
    pub total_duration_s: Option<Num>,
}

/// `MTP Benchmark Outputs:` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MtpBlock {
    /// `  Output directory: …`.
    pub output_directory: Option<String>,
    /// `  CSV: …`.
    pub csv: Option<String>,
    /// `  Plot: …` (a path or `Not generated (…)` / `Failed to generate`).
    pub plot: Option<String>,
}

/// `Server Health Check (before Run N):` block.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct HealthCheck {
    /// N.
    pub before_run: Option<u32>,
    /// `  Status: …`.
    pub status: Option<String>,
    /// `  Restart attempt: …`.
    pub restart_attempt: Option<String>,
}

/// `Server Error Check:` block (computed by the script from the server log, §2.4).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct ErrorCheck {
    /// `  RuntimeError count: N`.
    pub runtime_error_count: Option<u64>,
    /// Up to three 4-space-indented copies of `RuntimeError:` lines.
    pub runtime_error_lines: Vec<String>,
    /// `  Server error status: PASS|FAIL`.
    pub status: Option<String>,
    /// `  Critical error count: M`.
    pub critical_error_count: Option<u64>,
}

/// A Performance Summary value: a number, `NA`, or anything else verbatim (`(tok/s):`,
/// `N/A`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", content = "value", rename_all = "snake_case")]
pub enum PerfValue {
    /// A number.
    Value(Num),
    /// `NA`.
    Na,
    /// Other text, verbatim.
    Other(String),
}

impl PerfValue {
    fn parse(s: &str) -> Self {
        let s = s.trim();
        if s == "NA" {
            return Self::Na;
        }
        Num::parse(s).map_or_else(|| Self::Other(s.to_owned()), Self::Value)
    }

    /// The number's text, when it is one.
    pub fn text(&self) -> Option<&str> {
        match self {
            Self::Value(n) => Some(&n.text),
            _ => None,
        }
    }
}

/// One `Request Rate <R>:` / `Concurrency <C>:` block of the Performance Summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PerfEntry {
    /// Rate or concurrency as written.
    pub load: String,
    /// `  E2E Latency: <v> ms`.
    pub e2e: Option<PerfValue>,
    /// `  TTFT: <v> ms`.
    pub ttft: Option<PerfValue>,
    /// `  ITL: <v> ms`.
    pub itl: Option<PerfValue>,
    /// `  Throughput: N/A requests/s` (Grok) or `  Output throughput: (tok/s): tok/s`
    /// (DeepSeek): the text between the label and the unit, verbatim (a constant artefact).
    pub throughput: Option<String>,
}

/// `OVERALL SCRIPT SUMMARY`.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Overall {
    /// `Script ended at: <ts>`.
    pub ended_at: Option<String>,
    /// `Total execution time: <s> seconds (<m> minutes)` → s.
    pub total_execution_s: Option<u64>,
    /// → m.
    pub total_execution_min: Option<u64>,
    /// `Status: SKIPPED (prerequisites not met)`.
    pub status: Option<String>,
}

/// One parsed timing summary.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TimingSummary {
    /// Header lines.
    pub header: Header,
    /// Grok or DeepSeek.
    pub flavor: Flavor,
    /// Grok body line `Attention backend: aiter (grok1)` (the header's `unknown` is not kept).
    pub attention_backend: Option<String>,
    /// `Server startup time: <s> seconds`, every occurrence (restarts add more).
    pub server_startup_s: Vec<Num>,
    /// `  Connection error: YES (Run N)` lines, verbatim after the label.
    pub connection_errors: Vec<String>,
    /// `Server Health Check` blocks.
    pub health_checks: Vec<HealthCheck>,
    /// `GSM8K Test Results:` blocks in order.
    pub gsm8k: Vec<Gsm8kBlock>,
    /// `GSM8K benchmark completed. Serving benchmarks skipped in <desc> mode.` → desc.
    pub serving_skipped_mode: Option<String>,
    /// `All logs already complete - skipping server startup`.
    pub all_logs_complete: bool,
    /// `Test skipped: …` text.
    pub test_skipped: Option<String>,
    /// The benchmark phase.
    pub phase: Option<Phase>,
    /// `MTP Benchmark Outputs:`.
    pub mtp: Option<MtpBlock>,
    /// `Server Error Check:`.
    pub error_check: Option<ErrorCheck>,
    /// `Server shutdown time: <s> seconds`.
    pub server_shutdown_s: Option<Num>,
    /// `Performance Summary:` blocks; `None` when the section is absent.
    pub performance: Option<Vec<PerfEntry>>,
    /// `OVERALL SCRIPT SUMMARY`.
    pub overall: Option<Overall>,
    /// Non-empty lines this parser did not recognise, verbatim (for diagnostics).
    pub unknown_lines: Vec<String>,
}

impl TimingSummary {
    /// True when the overall summary was reached (the file was not cut off).
    pub fn complete(&self) -> bool {
        self.overall.is_some()
    }

    /// The last `GSM8K accuracy:` value in the file.
    pub fn last_gsm8k_accuracy(&self) -> Option<&str> {
        self.gsm8k
            .iter()
            .rev()
            .find_map(|g| g.gsm8k_accuracy.as_deref())
    }

    /// True when the phase says load `load` finished (`Completed rate <load> - Total time`
    /// or `Completed concurrency <load> - Total time`).
    pub fn completed_load(&self, load: &str) -> bool {
        self.phase
            .as_ref()
            .is_some_and(|p| p.completed.iter().any(|c| c.load == load))
    }

    /// The Performance Summary entry for `load`.
    pub fn perf_entry(&self, load: &str) -> Option<&PerfEntry> {
        self.performance.as_ref()?.iter().find(|e| e.load == load)
    }

    /// Parses one file.
    pub fn parse(data: &[u8]) -> Self {
        let mut p = Parser::default();
        for raw in text::lines(data) {
            let line = text::clean(raw);
            p.line(line.trim_end());
        }
        p.finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum State {
    #[default]
    Body,
    Gsm8k,
    Phase,
    Mtp,
    Health,
    ErrorCheck,
    Performance,
    Overall,
}

#[derive(Default)]
struct Parser {
    header: Header,
    model_type: Option<String>,
    ds: [Option<bool>; 4],
    grok_header: bool,
    ds_header: bool,
    attention_backend: Option<String>,
    server_startup_s: Vec<Num>,
    connection_errors: Vec<String>,
    health_checks: Vec<HealthCheck>,
    gsm8k: Vec<Gsm8kBlock>,
    serving_skipped_mode: Option<String>,
    all_logs_complete: bool,
    test_skipped: Option<String>,
    phase: Option<Phase>,
    mtp: Option<MtpBlock>,
    error_check: Option<ErrorCheck>,
    server_shutdown_s: Option<Num>,
    performance: Option<Vec<PerfEntry>>,
    overall: Option<Overall>,
    unknown_lines: Vec<String>,
    state: State,
}

fn unquote(s: &str) -> String {
    let s = s.trim();
    s.strip_prefix('"')
        .and_then(|x| x.strip_suffix('"'))
        .unwrap_or(s)
        .to_owned()
}

fn bool_value(s: &str) -> Option<bool> {
    match s.trim() {
        "true" => Some(true),
        "false" => Some(false),
        _ => None,
    }
}

/// `<s> seconds` → s.
fn seconds(s: &str) -> Option<Num> {
    Num::leading(s)
}

fn leading_u(s: &str) -> Option<u64> {
    let s = s.trim_start();
    let end = s
        .bytes()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(s.len());
    s[..end].parse().ok()
}

impl Parser {
    fn phase(&mut self) -> &mut Phase {
        self.phase.get_or_insert_with(Phase::default)
    }

    fn line(&mut self, line: &str) {
        if line.trim().is_empty() {
            // Blank lines end the indented blocks but not the Performance Summary.
            if !matches!(self.state, State::Performance | State::Overall) {
                self.state = State::Body;
            }
            return;
        }
        let t = line.trim();
        if t.chars().all(|c| c == '=') && t.len() >= 10 {
            // 18 `=` (title), 19 `=` (Performance Summary), 40 `=` (overall).
            if t.len() == 40 {
                if self.state == State::Overall {
                    // closing line
                } else {
                    self.state = State::Overall;
                }
            }
            return;
        }
        if self.header_line(t) {
            return;
        }
        if !line.starts_with(' ')
            && matches!(
                self.state,
                State::Gsm8k | State::Mtp | State::Health | State::ErrorCheck
            )
        {
            self.state = State::Body;
        }
        let indented = line.starts_with("  ");
        let taken = match self.state {
            State::Gsm8k => indented && self.gsm8k_line(t),
            State::Phase => self.phase_line(line, t),
            State::Mtp => indented && self.mtp_line(t),
            State::Health => indented && self.health_line(t),
            State::ErrorCheck => indented && self.error_line(line, t),
            State::Performance => self.perf_line(t),
            State::Overall => self.overall_line(t),
            State::Body => false,
        };
        if !taken {
            self.body_line(line, t);
        }
    }

    fn header_line(&mut self, t: &str) -> bool {
        let h = &mut self.header;
        if t == "TIMING SUMMARY LOG" {
            return true;
        }
        let Some((key, value)) = t.split_once(':') else {
            return false;
        };
        let v = value.trim();
        let slot = match key {
            "Script started at" => &mut h.started_at,
            "Timezone" => &mut h.timezone,
            "Command" => &mut h.command,
            "Docker image" => &mut h.docker_image,
            "Model" => &mut h.model,
            "Hostname" => &mut h.hostname,
            "Mode" => &mut h.mode,
            "Hardware" => {
                h.hardware.get_or_insert_with(|| unquote(v));
                return true;
            }
            "ROCM Version" => {
                h.rocm_version.get_or_insert_with(|| unquote(v));
                return true;
            }
            "Model type" => {
                self.grok_header = true;
                self.model_type.get_or_insert_with(|| v.to_owned());
                return true;
            }
            "Attention backend" => {
                self.grok_header = true;
                if v != "unknown" {
                    self.attention_backend = Some(v.to_owned());
                }
                return true;
            }
            "DP Attention" | "Torch Compile" | "MTP Test Enabled" | "DP Test Enabled" => {
                self.ds_header = true;
                let i = match key {
                    "DP Attention" => 0,
                    "Torch Compile" => 1,
                    "MTP Test Enabled" => 2,
                    _ => 3,
                };
                if self.ds[i].is_none() {
                    self.ds[i] = bool_value(v);
                }
                return true;
            }
            _ => return false,
        };
        if slot.is_none() {
            *slot = Some(v.to_owned());
        }
        true
    }

    fn gsm8k_line(&mut self, t: &str) -> bool {
        let Some(g) = self.gsm8k.last_mut() else {
            return false;
        };
        let Some((key, v)) = t.split_once(':') else {
            return false;
        };
        let v = v.trim();
        match key {
            "Total duration" => g.total_duration_s = seconds(v),
            "Average accuracy" => g.average_accuracy = Some(v.to_owned()),
            "Number of runs" => g.number_of_runs = leading_u(v).and_then(|n| n.try_into().ok()),
            "Total runs" => g.total_runs = leading_u(v).and_then(|n| n.try_into().ok()),
            "Valid runs" => g.valid_runs = leading_u(v).and_then(|n| n.try_into().ok()),
            "Excluded runs" => g.excluded_runs = leading_u(v).and_then(|n| n.try_into().ok()),
            "Early exit" => g.early_exit = Some(v.to_owned()),
            "GSM8K accuracy" => g.gsm8k_accuracy = Some(v.to_owned()),
            "Accuracy" => {
                // `0.939 (Required: 0.93)`
                let (a, rest) = v.split_once('(').unwrap_or((v, ""));
                let req = rest
                    .trim()
                    .strip_prefix("Required:")
                    .unwrap_or("")
                    .trim()
                    .trim_end_matches(')')
                    .trim();
                g.accuracy_required = Some((a.trim().to_owned(), req.to_owned()));
            }
            _ => return false,
        }
        true
    }

    fn phase_line(&mut self, line: &str, t: &str) -> bool {
        if let Some(rest) = t.strip_prefix("Start time:") {
            self.phase().start_time = Some(rest.trim().to_owned());
            return true;
        }
        if line.starts_with("  ")
            && let Some(rt) = run_time(t)
        {
            self.phase().runs.push(rt);
            return true;
        }
        false
    }

    fn mtp_line(&mut self, t: &str) -> bool {
        let Some(m) = self.mtp.as_mut() else {
            return false;
        };
        let Some((key, v)) = t.split_once(':') else {
            return false;
        };
        let v = Some(v.trim().to_owned());
        match key {
            "Output directory" => m.output_directory = v,
            "CSV" => m.csv = v,
            "Plot" => m.plot = v,
            _ => return false,
        }
        true
    }

    fn health_line(&mut self, t: &str) -> bool {
        let Some(h) = self.health_checks.last_mut() else {
            return false;
        };
        if let Some(v) = t.strip_prefix("Status:") {
            h.status = Some(v.trim().to_owned());
        } else if let Some(v) = t.strip_prefix("Restart attempt:") {
            h.restart_attempt = Some(v.trim().to_owned());
        } else {
            return false;
        }
        true
    }

    fn error_line(&mut self, line: &str, t: &str) -> bool {
        let Some(e) = self.error_check.as_mut() else {
            return false;
        };
        if line.starts_with("    ") {
            e.runtime_error_lines.push(t.to_owned());
        } else if let Some(v) = t.strip_prefix("RuntimeError count:") {
            e.runtime_error_count = leading_u(v);
        } else if let Some(v) = t.strip_prefix("Server error status:") {
            e.status = Some(v.trim().to_owned());
        } else if let Some(v) = t.strip_prefix("Critical error count:") {
            e.critical_error_count = leading_u(v);
        } else {
            return false;
        }
        true
    }

    fn perf_line(&mut self, t: &str) -> bool {
        let entries = self.performance.get_or_insert_with(Vec::new);
        let load_header = t
            .strip_prefix("Request Rate ")
            .or_else(|| t.strip_prefix("Concurrency "))
            .and_then(|r| r.strip_suffix(':'));
        if let Some(load) = load_header {
            entries.push(PerfEntry {
                load: load.trim().to_owned(),
                e2e: None,
                ttft: None,
                itl: None,
                throughput: None,
            });
            return true;
        }
        let Some(e) = entries.last_mut() else {
            return false;
        };
        let unit = |v: &str, u: &str| -> String {
            let v = v.trim();
            v.strip_suffix(u).unwrap_or(v).trim().to_owned()
        };
        if let Some(v) = t.strip_prefix("E2E Latency:") {
            e.e2e = Some(PerfValue::parse(&unit(v, "ms")));
        } else if let Some(v) = t.strip_prefix("TTFT:") {
            e.ttft = Some(PerfValue::parse(&unit(v, "ms")));
        } else if let Some(v) = t.strip_prefix("ITL:") {
            e.itl = Some(PerfValue::parse(&unit(v, "ms")));
        } else if let Some(v) = t.strip_prefix("Output throughput:") {
            e.throughput = Some(unit(v, "tok/s"));
        } else if let Some(v) = t.strip_prefix("Throughput:") {
            e.throughput = Some(unit(v, "requests/s"));
        } else {
            return false;
        }
        true
    }

    fn overall_line(&mut self, t: &str) -> bool {
        let o = self.overall.get_or_insert_with(Overall::default);
        if t == "OVERALL SCRIPT SUMMARY" {
            return true;
        }
        if let Some(v) = t.strip_prefix("Script ended at:") {
            o.ended_at = Some(v.trim().to_owned());
        } else if let Some(v) = t.strip_prefix("Total execution time:") {
            // `5392 seconds (89 minutes)`
            o.total_execution_s = leading_u(v);
            o.total_execution_min = v.split_once('(').and_then(|(_, m)| leading_u(m));
        } else if let Some(v) = t.strip_prefix("Status:") {
            o.status = Some(v.trim().to_owned());
        } else {
            return false;
        }
        true
    }

    fn body_line(&mut self, line: &str, t: &str) {
        if let Some(v) = t.strip_prefix("Server startup time:") {
            if let Some(n) = seconds(v) {
                self.server_startup_s.push(n);
            }
            self.state = State::Body;
        } else if let Some(v) = t.strip_prefix("Connection error:") {
            self.connection_errors.push(v.trim().to_owned());
        } else if let Some(v) = t.strip_prefix("Restart attempt:") {
            // After a restart's `Server startup time:` line, outside the health block.
            if let Some(h) = self.health_checks.last_mut() {
                h.restart_attempt = Some(v.trim().to_owned());
            }
        } else if let Some(v) = t.strip_prefix("Server Health Check (before Run ") {
            self.health_checks.push(HealthCheck {
                before_run: leading_u(v).and_then(|n| n.try_into().ok()),
                ..HealthCheck::default()
            });
            self.state = State::Health;
        } else if t == "GSM8K Test Results:" {
            self.gsm8k.push(Gsm8kBlock::default());
            self.state = State::Gsm8k;
        } else if t == "Client Benchmark Results:" || t == "Serving Benchmark Results:" {
            let kind = if t.starts_with("Client") {
                PhaseKind::Client
            } else {
                PhaseKind::Serving
            };
            self.phase().kind = Some(kind);
            self.state = State::Phase;
        } else if let Some(v) = t.strip_prefix("Completed rate ") {
            self.completed(v);
        } else if let Some(v) = t.strip_prefix("Completed concurrency ") {
            self.completed(v);
        } else if let Some(v) = t
            .strip_prefix("Rate ")
            .and_then(|r| r.strip_suffix(" skipped on MI355 hardware"))
        {
            self.phase().skipped.push(v.trim().to_owned());
            self.state = State::Phase;
        } else if let Some(v) = t.strip_prefix("End time:") {
            self.phase().end_time = Some(v.trim().to_owned());
            self.state = State::Phase;
        } else if let Some(v) = t.strip_prefix("Total duration:") {
            self.phase().total_duration_s = seconds(v);
        } else if line.starts_with("  ")
            && let Some(rt) = run_time(t)
        {
            self.phase().runs.push(rt);
            self.state = State::Phase;
        } else if t == "All logs already complete - skipping server startup" {
            self.all_logs_complete = true;
        } else if let Some(v) = t
            .strip_prefix("GSM8K benchmark completed. Serving benchmarks skipped in ")
            .and_then(|r| r.strip_suffix(" mode."))
        {
            self.serving_skipped_mode = Some(v.to_owned());
        } else if let Some(v) = t.strip_prefix("Test skipped:") {
            self.test_skipped = Some(v.trim().to_owned());
        } else if t == "MTP Benchmark Outputs:" {
            self.mtp = Some(MtpBlock::default());
            self.state = State::Mtp;
        } else if t == "Server Error Check:" {
            self.error_check = Some(ErrorCheck::default());
            self.state = State::ErrorCheck;
        } else if let Some(v) = t.strip_prefix("Server shutdown time:") {
            self.server_shutdown_s = seconds(v);
        } else if t == "Performance Summary:" {
            self.performance.get_or_insert_with(Vec::new);
            self.state = State::Performance;
        } else if t == "OVERALL SCRIPT SUMMARY" {
            self.overall.get_or_insert_with(Overall::default);
            self.state = State::Overall;
        } else {
            self.unknown_lines.push(line.to_owned());
        }
    }

    /// `<load> - Total time: <s> seconds`
    fn completed(&mut self, v: &str) {
        let (load, rest) = v.split_once(" - ").unwrap_or((v, ""));
        let total_s = rest.trim().strip_prefix("Total time:").and_then(seconds);
        self.phase().completed.push(Completed {
            load: load.trim().to_owned(),
            total_s,
        });
        self.state = State::Phase;
    }

    fn finish(self) -> TimingSummary {
        let flavor = if self.grok_header {
            Flavor::Grok {
                model_type: self.model_type,
            }
        } else if self.ds_header {
            Flavor::DeepSeek {
                dp_attention: self.ds[0],
                torch_compile: self.ds[1],
                mtp_test: self.ds[2],
                dp_test: self.ds[3],
            }
        } else {
            Flavor::Unknown
        };
        TimingSummary {
            header: self.header,
            flavor,
            attention_backend: self.attention_backend,
            server_startup_s: self.server_startup_s,
            connection_errors: self.connection_errors,
            health_checks: self.health_checks,
            gsm8k: self.gsm8k,
            serving_skipped_mode: self.serving_skipped_mode,
            all_logs_complete: self.all_logs_complete,
            test_skipped: self.test_skipped,
            phase: self.phase,
            mtp: self.mtp,
            error_check: self.error_check,
            server_shutdown_s: self.server_shutdown_s,
            performance: self.performance,
            overall: self.overall,
            unknown_lines: self.unknown_lines,
        }
    }
}

/// `Rate 16, Run 3: 247 seconds` / `Concurrency 128, Run 1: 267 seconds`
fn run_time(t: &str) -> Option<RunTime> {
    let rest = t
        .strip_prefix("Rate ")
        .or_else(|| t.strip_prefix("Concurrency "))?;
    let (load, rest) = rest.split_once(", Run ")?;
    let (run, secs) = rest.split_once(':')?;
    Some(RunTime {
        load: load.trim().to_owned(),
        run: run.trim().parse().ok()?,
        seconds: seconds(secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const GROK_V1: &[u8] = include_bytes!("../../../fixtures/timing_summary/grok_v1_complete.log");
    const GROK_MI355: &[u8] = include_bytes!("../../../fixtures/timing_summary/grok_v2_mi355.log");
    const DS_V3: &[u8] = include_bytes!("../../../fixtures/timing_summary/deepseek_v3_mtp.log");
    const DS_HEALTH: &[u8] =
        include_bytes!("../../../fixtures/timing_summary/deepseek_health_cut.log");
    const DS_REGEN: &[u8] =
        include_bytes!("../../../fixtures/timing_summary/deepseek_regenerated.log");
    const DS_SKIP: &[u8] =
        include_bytes!("../../../fixtures/timing_summary/deepseek_gsm8k_only.log");

    #[test]
    fn grok_v1_complete() {
        let t = TimingSummary::parse(GROK_V1);
        assert!(t.complete());
        assert_eq!(
            t.flavor,
            Flavor::Grok {
                model_type: Some("grok1".into())
            }
        );
        assert_eq!(t.header.hostname.as_deref(), Some("host-a"));
        assert_eq!(t.header.hardware.as_deref(), Some("mi30x"));
        assert_eq!(
            t.header.command.as_deref(),
            Some("perf_nightly.sh --model=grok --mode=online")
        );
        assert_eq!(t.attention_backend.as_deref(), Some("aiter (grok1)"));
        assert_eq!(t.server_startup_s[0].text, "85");
        let g = &t.gsm8k[0];
        assert_eq!(g.average_accuracy.as_deref(), Some("0.813"));
        assert_eq!(g.number_of_runs, Some(5));
        assert_eq!(t.last_gsm8k_accuracy(), Some("0.813"));
        let phase = t.phase.as_ref().unwrap();
        assert_eq!(phase.kind, Some(PhaseKind::Client));
        assert_eq!(phase.runs.len(), 6);
        assert_eq!(phase.runs[5].load, "2");
        assert_eq!(phase.runs[5].run, 3);
        assert!(t.completed_load("1") && t.completed_load("2") && !t.completed_load("16"));
        assert_eq!(phase.total_duration_s.as_ref().unwrap().text, "4854");
        let e = t.error_check.as_ref().unwrap();
        assert_eq!(
            (e.runtime_error_count, e.critical_error_count),
            (Some(0), Some(0))
        );
        assert_eq!(e.status.as_deref(), Some("PASS"));
        let perf = t.performance.as_ref().unwrap();
        assert_eq!(perf.len(), 2);
        assert_eq!(
            t.perf_entry("2").unwrap().ttft.as_ref().unwrap().text(),
            Some("103.52")
        );
        assert_eq!(perf[0].throughput.as_deref(), Some("N/A"));
        let o = t.overall.as_ref().unwrap();
        assert_eq!(
            (o.total_execution_s, o.total_execution_min),
            (Some(5150), Some(85))
        );
        assert!(t.unknown_lines.is_empty(), "{:?}", t.unknown_lines);
    }

    #[test]
    fn grok_mi355_skip_and_v2_gsm8k() {
        let t = TimingSummary::parse(GROK_MI355);
        assert_eq!(t.phase.as_ref().unwrap().skipped, ["16"]);
        let g = &t.gsm8k[0];
        assert_eq!(
            (g.total_runs, g.valid_runs, g.excluded_runs),
            (Some(5), Some(4), Some(1))
        );
        assert_eq!(g.number_of_runs, None);
        let perf = t.performance.as_ref().unwrap();
        assert_eq!(
            perf.iter().map(|e| e.load.as_str()).collect::<Vec<_>>(),
            ["1", "2", "4", "8"]
        );
        assert_eq!(perf[3].e2e, Some(PerfValue::Na));
        assert!(t.complete());
        assert!(t.unknown_lines.is_empty(), "{:?}", t.unknown_lines);
    }

    #[test]
    fn deepseek_v3_with_mtp_block() {
        let t = TimingSummary::parse(DS_V3);
        assert_eq!(
            t.flavor,
            Flavor::DeepSeek {
                dp_attention: Some(false),
                torch_compile: Some(false),
                mtp_test: Some(true),
                dp_test: Some(false)
            }
        );
        let g = &t.gsm8k[0];
        assert_eq!(g.accuracy_required, Some(("0.939".into(), "0.93".into())));
        assert_eq!(
            g.early_exit.as_deref(),
            Some("Passed on run 1, skipped 4 run(s)")
        );
        assert_eq!(t.last_gsm8k_accuracy(), Some("0.939"));
        assert!(t.completed_load("128"));
        assert_eq!(t.phase.as_ref().unwrap().kind, Some(PhaseKind::Serving));
        let m = t.mtp.as_ref().unwrap();
        assert_eq!(
            m.plot.as_deref(),
            Some("Not generated (missing numeric data)")
        );
        let e = t.perf_entry("128").unwrap();
        assert_eq!(e.e2e.as_ref().unwrap().text(), Some("62330.23"));
        assert_eq!(e.throughput.as_deref(), Some("(tok/s):"));
        assert!(t.unknown_lines.is_empty(), "{:?}", t.unknown_lines);
    }

    #[test]
    fn deepseek_health_checks_and_cut_file() {
        let t = TimingSummary::parse(DS_HEALTH);
        assert!(!t.complete());
        assert_eq!(t.header.hardware.as_deref(), Some("mi30x"));
        assert_eq!(t.server_startup_s.len(), 2);
        assert_eq!(t.connection_errors, ["YES (Run 2)"]);
        assert_eq!(
            t.health_checks,
            [HealthCheck {
                before_run: Some(3),
                status: Some("FAILED - server crashed or became unresponsive".into()),
                restart_attempt: Some("SUCCESS".into())
            }]
        );
        assert_eq!(t.performance, None);
        assert_eq!(t.phase.as_ref().unwrap().completed.len(), 1);
        assert!(t.unknown_lines.is_empty(), "{:?}", t.unknown_lines);
    }

    #[test]
    fn regeneration_and_gsm8k_only_paths() {
        let t = TimingSummary::parse(DS_REGEN);
        assert!(t.all_logs_complete);
        assert!(t.gsm8k.is_empty());
        assert_eq!(t.phase.as_ref().unwrap().kind, None);
        assert_eq!(
            t.phase
                .as_ref()
                .unwrap()
                .total_duration_s
                .as_ref()
                .unwrap()
                .text,
            "0"
        );
        assert!(t.unknown_lines.is_empty(), "{:?}", t.unknown_lines);
        let s = TimingSummary::parse(DS_SKIP);
        assert_eq!(s.serving_skipped_mode.as_deref(), Some("DP attention"));
        assert!(s.perf_entry("1").unwrap().itl == Some(PerfValue::Na));
        assert_eq!(s.perf_entry("1").unwrap().throughput.as_deref(), Some("NA"));
        assert!(s.unknown_lines.is_empty(), "{:?}", s.unknown_lines);
    }

    #[test]
    fn header_only_and_empty() {
        let t =
            TimingSummary::parse(b"TIMING SUMMARY LOG\n==================\nScript started at: x\n");
        assert_eq!(t.flavor, Flavor::Unknown);
        assert!(!t.complete());
        assert_eq!(t.header.started_at.as_deref(), Some("x"));
        let e = TimingSummary::parse(b"");
        assert!(e.gsm8k.is_empty() && e.phase.is_none() && e.performance.is_none());
    }

    proptest! {
        #[test]
        fn arbitrary_bytes_never_panic(data in proptest::collection::vec(any::<u8>(), 0..2048)) {
            let t = TimingSummary::parse(&data);
            let _ = t.last_gsm8k_accuracy();
        }

        #[test]
        fn shuffled_real_lines_never_panic(idx in proptest::collection::vec(0usize..1000, 0..60)) {
            let lines: Vec<&[u8]> = GROK_V1.split(|b| *b == b'\n').chain(DS_V3.split(|b| *b == b'\n')).collect();
            let mut data = Vec::new();
            for i in idx {
                data.extend_from_slice(lines[i % lines.len()]);
                data.push(b'\n');
            }
            let _ = TimingSummary::parse(&data);
        }
    }
}
