//! The continuous-batching model.
//!
//! [`Core`] is a pure state machine over virtual time that behaves like SGLang's scheduler
//! loop: each iteration runs either one prefill batch (new requests from the waiting queue, up
//! to `chunked_prefill_size` prompt tokens, a long prompt split over several batches) or one
//! decode step (one token for every running request). Prefill has priority, so queued prompt
//! tokens delay first tokens (TTFT grows with the queue) and stall decoding (ITL spikes);
//! decode steps get slower as the running batch grows (ITL grows with concurrency).
//!
//! [`drive`] runs the core against the wall clock: every step ends at an absolute deadline
//! (`previous deadline + step duration`), so timer lateness never accumulates into drift. At
//! the end of a step the tokens it produced are *released* to the requests' response bodies,
//! which write them to their sockets; the trace records those write times.

use std::collections::VecDeque;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::Duration;

use futures_util::task::AtomicWaker;

use crate::profile::{LatencyProfile, jittered};
use crate::rng::SplitMix64;

/// Progress of one request, shared between the scheduler and the response body.
///
/// The released-token count and the finished flag live in one atomic word, so a reader never
/// sees the last tokens without the flag (or the flag without them).
#[derive(Debug, Default)]
pub struct ReqShared {
    state: AtomicU64,
    aborted: AtomicBool,
    waker: AtomicWaker,
}

const FINISHED: u64 = 1 << 32;

impl ReqShared {
    /// A request waiting for the scheduler.
    pub fn new() -> Arc<Self> {
        Arc::new(Self::default())
    }

    /// A request whose `total` tokens are all available at once (zero-latency profile).
    pub fn completed(total: u32) -> Arc<Self> {
        let s = Self::default();
        s.state
            .store(u64::from(total) | FINISHED, Ordering::Relaxed);
        Arc::new(s)
    }

    fn release(&self, released: u32, finished: bool) {
        let fin = if finished { FINISHED } else { 0 };
        self.state
            .store(u64::from(released) | fin, Ordering::Release);
        self.waker.wake();
    }

    /// Tokens released so far and whether the scheduler is done with the request, read together.
    pub fn progress(&self) -> (u32, bool) {
        let s = self.state.load(Ordering::Acquire);
        (s as u32, s & FINISHED != 0)
    }

    /// Tokens released so far.
    pub fn released(&self) -> u32 {
        self.progress().0
    }

    /// True once the scheduler is done with the request (all tokens released).
    pub fn is_finished(&self) -> bool {
        self.progress().1
    }

    /// The client went away: the scheduler drops the request at its next step.
    pub fn abort(&self) {
        self.aborted.store(true, Ordering::Release);
    }

    fn is_aborted(&self) -> bool {
        self.aborted.load(Ordering::Acquire)
    }

    /// Registers the task to wake when tokens are released.
    pub fn register(&self, waker: &std::task::Waker) {
        self.waker.register(waker);
    }
}

/// A request handed to the scheduler.
#[derive(Debug)]
pub struct Ticket {
    /// Shared progress.
    pub shared: Arc<ReqShared>,
    /// Prompt tokens to compute in prefill batches (0 for a PD decode worker).
    pub prefill_tokens: u32,
    /// Prompt tokens held in the KV cache (context of decode steps).
    pub context_tokens: u32,
    /// Tokens to generate (the first one comes out of the prefill batch).
    pub output_tokens: u32,
}

#[derive(Debug)]
struct Waiting {
    t: Ticket,
    done: u32,
}

#[derive(Debug)]
struct Running {
    t: Ticket,
    generated: u32,
}

#[derive(Debug)]
enum Planned {
    Prefill {
        takes: Vec<(usize, u32)>,
        tokens: u64,
    },
    Decode,
}

/// The scheduler state machine (virtual time, no I/O).
#[derive(Debug)]
pub struct Core {
    profile: LatencyProfile,
    max_running: usize,
    chunk: usize,
    waiting: VecDeque<Waiting>,
    running: Vec<Running>,
    rng: SplitMix64,
    planned: Option<Planned>,
    decode_steps: u64,
    log_tokens: u64,
    log_since: f64,
}

/// How often a `Decode batch` line is logged (SGLang's default `decode_log_interval`).
const DECODE_LOG_INTERVAL: u64 = 40;

impl Core {
    /// A scheduler for `profile` with the server's batch limits.
    pub fn new(profile: LatencyProfile, max_running: usize, chunk: usize, seed: u64) -> Self {
        Core {
            profile,
            max_running: max_running.max(1),
            chunk: chunk.max(1),
            waiting: VecDeque::new(),
            running: Vec::new(),
            rng: SplitMix64::new(seed ^ 0x7363_6865_6400_0000),
            planned: None,
            decode_steps: 0,
            log_tokens: 0,
            log_since: 0.0,
        }
    }

    /// Adds a request to the waiting queue.
    pub fn admit(&mut self, t: Ticket) {
        self.waiting.push_back(Waiting { t, done: 0 });
    }

    /// No request waiting or running.
    pub fn is_idle(&self) -> bool {
        self.waiting.is_empty() && self.running.is_empty()
    }

    /// Requests running and waiting.
    pub fn load(&self) -> (usize, usize) {
        (self.running.len(), self.waiting.len())
    }

    fn purge_aborted(&mut self) {
        self.waiting.retain(|w| !w.t.shared.is_aborted());
        self.running.retain(|r| !r.t.shared.is_aborted());
    }

    /// Plans the next step and returns its duration in seconds (`None` when idle).
    pub fn plan(&mut self) -> Option<f64> {
        self.purge_aborted();
        let capacity = self.max_running.saturating_sub(self.running.len());
        let mut takes = Vec::new();
        let mut tokens = 0u64;
        if capacity > 0 {
            let mut budget = self.chunk as u64;
            for (i, w) in self.waiting.iter().enumerate() {
                if takes.len() == capacity {
                    break;
                }
                let need = u64::from(w.t.prefill_tokens - w.done);
                let take = need.min(budget);
                if take == 0 && need > 0 {
                    break;
                }
                takes.push((i, take as u32));
                tokens += take;
                budget -= take;
                if take < need || budget == 0 {
                    break;
                }
            }
        }
        let secs = if !takes.is_empty() {
            let s = self.profile.prefill_secs(tokens);
            self.planned = Some(Planned::Prefill { takes, tokens });
            s
        } else if !self.running.is_empty() {
            let ctx: u64 = self
                .running
                .iter()
                .map(|r| u64::from(r.t.context_tokens + r.generated))
                .sum();
            self.planned = Some(Planned::Decode);
            self.profile.decode_secs(self.running.len(), ctx)
        } else {
            self.planned = None;
            return None;
        };
        let z = if self.profile.jitter > 0.0 {
            self.rng.normal()
        } else {
            0.0
        };
        Some(jittered(secs, self.profile.jitter, z))
    }

    /// Applies the planned step at virtual time `at` (seconds): releases the tokens it
    /// produced. Returns a log line when SGLang would print one.
    pub fn complete(&mut self, at: f64) -> Option<String> {
        match self.planned.take()? {
            Planned::Prefill { takes, tokens } => {
                let new_seqs = takes
                    .iter()
                    .filter(|(i, _)| self.waiting[*i].done == 0)
                    .count();
                let mut finished_prefill = Vec::new();
                for (i, take) in &takes {
                    let w = &mut self.waiting[*i];
                    w.done += take;
                    if w.done >= w.t.prefill_tokens {
                        finished_prefill.push(*i);
                    }
                }
                for i in finished_prefill.into_iter().rev() {
                    let Some(w) = self.waiting.remove(i) else {
                        continue;
                    };
                    let out = w.t.output_tokens;
                    if out == 0 {
                        w.t.shared.release(0, true);
                    } else {
                        w.t.shared.release(1, out == 1);
                        if out > 1 {
                            self.running.push(Running {
                                t: w.t,
                                generated: 1,
                            });
                        }
                    }
                }
                Some(format!(
                    "Prefill batch, #new-seq: {new_seqs}, #new-token: {tokens}, #cached-token: 0, token usage: {:.2}, #running-req: {}, #queue-req: {}, ",
                    self.token_usage(),
                    self.running.len(),
                    self.waiting.len()
                ))
            }
            Planned::Decode => {
                let n = self.running.len() as u64;
                for r in &mut self.running {
                    r.generated += 1;
                    r.t.shared
                        .release(r.generated, r.generated >= r.t.output_tokens);
                }
                let batch = self.running.len();
                let ctx: u64 = self
                    .running
                    .iter()
                    .map(|r| u64::from(r.t.context_tokens + r.generated))
                    .sum();
                self.running.retain(|r| r.generated < r.t.output_tokens);
                self.decode_steps += 1;
                self.log_tokens += n;
                if !self.decode_steps.is_multiple_of(DECODE_LOG_INTERVAL) {
                    return None;
                }
                let dt = (at - self.log_since).max(1e-9);
                let line = format!(
                    "Decode batch, #running-req: {batch}, #token: {ctx}, token usage: {:.2}, cuda graph: {}, gen throughput (token/s): {:.2}, #queue-req: {}, ",
                    self.token_usage(),
                    if batch <= 512 { "True" } else { "False" },
                    self.log_tokens as f64 / dt,
                    self.waiting.len()
                );
                self.log_tokens = 0;
                self.log_since = at;
                Some(line)
            }
        }
    }

    fn token_usage(&self) -> f64 {
        let ctx: u64 = self
            .running
            .iter()
            .map(|r| u64::from(r.t.context_tokens + r.generated))
            .sum();
        ctx as f64 / self.profile.max_total_num_tokens.max(1) as f64
    }
}

/// Steps that end later than this behind their deadline (a starved CPU) restart the virtual
/// clock at the current time instead of catching up in a burst.
const LATE_RESET: Duration = Duration::from_millis(20);

/// Runs the scheduler against the wall clock until the channel closes. `hung` freezes it
/// (the `--sim-hang-after` fault); `log` receives the batch lines.
pub(crate) async fn drive(
    mut rx: tokio::sync::mpsc::UnboundedReceiver<Ticket>,
    mut core: Core,
    log: crate::logsink::LogSink,
    hung: Arc<AtomicBool>,
) {
    let epoch = tokio::time::Instant::now();
    let mut clock = epoch;
    loop {
        if core.is_idle() {
            match rx.recv().await {
                Some(t) => core.admit(t),
                None => return,
            }
            clock = tokio::time::Instant::now();
        }
        while let Ok(t) = rx.try_recv() {
            core.admit(t);
        }
        if hung.load(Ordering::Acquire) {
            std::future::pending::<()>().await;
        }
        let now = tokio::time::Instant::now();
        if now > clock + LATE_RESET {
            clock = now;
        }
        let Some(secs) = core.plan() else { continue };
        clock += Duration::from_secs_f64(secs);
        if clock > tokio::time::Instant::now() {
            tokio::time::sleep_until(clock).await;
        }
        if let Some(line) = core.complete((clock - epoch).as_secs_f64()) {
            log.tp0(&line);
        }
    }
}

/// Per-request latencies of a virtual-time run.
#[derive(Debug, Default, Clone)]
pub struct VirtualRun {
    /// Time to first token of each request, s.
    pub ttft: Vec<f64>,
    /// Gaps between successive tokens (all requests pooled), s.
    pub itl: Vec<f64>,
    /// End-to-end latency of each request, s.
    pub e2e: Vec<f64>,
}

/// Runs `requests` requests of `input`/`output` tokens through the model in virtual time with
/// `concurrency` closed-loop clients (a new request starts when one finishes), the way
/// `bench_serving --max-concurrency` loads a server. Used to calibrate and document profiles.
pub fn simulate_closed_loop(
    profile: &LatencyProfile,
    concurrency: usize,
    requests: usize,
    input: u32,
    output: u32,
) -> VirtualRun {
    let mut core = Core::new(
        profile.clone(),
        profile.max_running_requests,
        profile.chunked_prefill_size,
        1,
    );
    let mut t = 0.0f64;
    let mut started = 0usize;
    // (shared, start time, last release time, tokens seen)
    let mut live: Vec<(Arc<ReqShared>, f64, f64, u32)> = Vec::new();
    let mut run = VirtualRun::default();
    let start = |core: &mut Core, live: &mut Vec<_>, t: f64| {
        let s = ReqShared::new();
        core.admit(Ticket {
            shared: s.clone(),
            prefill_tokens: input,
            context_tokens: input,
            output_tokens: output,
        });
        live.push((s, t, t, 0u32));
    };
    while started < requests.min(concurrency) {
        start(&mut core, &mut live, t);
        started += 1;
    }
    while !live.is_empty() {
        let Some(secs) = core.plan() else { break };
        t += secs;
        core.complete(t);
        let mut i = 0;
        while i < live.len() {
            let (s, st, last, seen) = &mut live[i];
            let rel = s.released();
            if rel > *seen {
                if *seen == 0 {
                    run.ttft.push(t - *st);
                } else {
                    run.itl.push(t - *last);
                }
                *last = t;
                *seen = rel;
            }
            if s.is_finished() {
                run.e2e.push(t - *st);
                live.swap_remove(i);
                if started < requests {
                    start(&mut core, &mut live, t);
                    started += 1;
                }
            } else {
                i += 1;
            }
        }
    }
    run
}

/// Median of a sample (0 for an empty one).
pub fn median(xs: &[f64]) -> f64 {
    if xs.is_empty() {
        return 0.0;
    }
    let mut v = xs.to_vec();
    v.sort_by(f64::total_cmp);
    let m = v.len() / 2;
    if v.len() % 2 == 1 {
        v[m]
    } else {
        (v[m - 1] + v[m]) / 2.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn profile(name: &str) -> LatencyProfile {
        let mut p = LatencyProfile::builtin(name).expect("builtin");
        p.jitter = 0.0;
        p
    }

    #[test]
    fn single_request_gets_prefill_then_one_token_per_decode_step() {
        let p = profile("deepseek");
        let r = simulate_closed_loop(&p, 1, 1, 3200, 10);
        assert_eq!(r.ttft.len(), 1);
        assert!((r.ttft[0] - p.prefill_secs(3200)).abs() < 1e-9);
        assert_eq!(r.itl.len(), 9);
        assert!(r.itl.iter().all(|x| (x - p.decode_secs(1, 0)).abs() < 1e-9));
    }

    #[test]
    fn ttft_grows_with_queued_prefill_and_itl_with_the_batch() {
        let p = profile("deepseek");
        let low = simulate_closed_loop(&p, 1, 8, 3200, 200);
        let mid = simulate_closed_loop(&p, 16, 64, 3200, 200);
        let high = simulate_closed_loop(&p, 128, 256, 3200, 200);
        assert!(median(&mid.ttft) > median(&low.ttft));
        assert!(median(&high.ttft) > 5.0 * median(&mid.ttft));
        assert!(median(&mid.itl) > median(&low.itl));
        assert!(median(&high.itl) > median(&mid.itl));
    }

    #[test]
    fn chunked_prefill_splits_long_prompts() {
        let mut p = profile("generic");
        p.chunked_prefill_size = 1000;
        let mut core = Core::new(p.clone(), 8, 1000, 1);
        let s = ReqShared::new();
        core.admit(Ticket {
            shared: s.clone(),
            prefill_tokens: 2500,
            context_tokens: 2500,
            output_tokens: 2,
        });
        for _ in 0..2 {
            assert!((core.plan().unwrap() - p.prefill_secs(1000)).abs() < 1e-12);
            core.complete(0.0);
            assert_eq!(s.released(), 0);
        }
        assert!((core.plan().unwrap() - p.prefill_secs(500)).abs() < 1e-12);
        core.complete(0.0);
        assert_eq!(s.released(), 1);
        assert!(!s.is_finished());
        core.plan().unwrap();
        core.complete(0.0);
        assert_eq!(s.released(), 2);
        assert!(s.is_finished());
        assert!(core.is_idle());
    }

    #[test]
    fn aborted_and_zero_output_requests_leave_the_scheduler() {
        let p = profile("generic");
        let mut core = Core::new(p, 8, 1000, 1);
        let a = ReqShared::new();
        let b = ReqShared::new();
        core.admit(Ticket {
            shared: a.clone(),
            prefill_tokens: 10,
            context_tokens: 10,
            output_tokens: 0,
        });
        core.admit(Ticket {
            shared: b.clone(),
            prefill_tokens: 10,
            context_tokens: 10,
            output_tokens: 100,
        });
        b.abort();
        core.plan().unwrap();
        core.complete(0.0);
        assert!(a.is_finished());
        assert_eq!(a.released(), 0);
        assert!(core.is_idle());
        assert!(core.plan().is_none());
    }

    /// Shape check against the corpus medians the profiles were fitted to (see the profile
    /// comments): concurrency 1 and 16 of DeepSeek-V3 3200/800, within 15%.
    #[test]
    fn deepseek_profile_matches_corpus_shape_at_low_concurrency() {
        let p = profile("deepseek");
        let c1 = simulate_closed_loop(&p, 1, 4, 3200, 800);
        assert!(
            (median(&c1.ttft) * 1e3 - 103.0).abs() < 15.0,
            "ttft {}",
            median(&c1.ttft)
        );
        assert!(
            (median(&c1.itl) * 1e3 - 20.5).abs() < 2.0,
            "itl {}",
            median(&c1.itl)
        );
        let c16 = simulate_closed_loop(&p, 16, 128, 3200, 800);
        assert!(
            (median(&c16.itl) * 1e3 - 25.8).abs() < 4.0,
            "itl {}",
            median(&c16.itl)
        );
    }
}
