//! The streamed response body: turns released tokens into SSE events when the connection asks
//! for more bytes, and records when each token's bytes were handed to the socket.

use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

use crate::sched::ReqShared;
use crate::server::App;
use crate::server::format::{EventWriter, Item, Meta};
use crate::trace::{TraceRecord, unix_now};

/// Time a cut stream waits after its last token so that the connection flushes it first.
const CUT_FLUSH_DELAY: Duration = Duration::from_millis(20);

/// A frame stops taking more events once it holds this many bytes (a socket-sized write; the
/// rest follows in the next frame at once).
const MAX_FRAME: usize = 16 << 10;

/// Error that aborts a connection mid-stream.
pub(crate) type BodyError = Box<dyn std::error::Error + Send + Sync>;

/// A streamed generation response.
pub(crate) struct TokenStream {
    app: Arc<App>,
    shared: Arc<ReqShared>,
    meta: Meta,
    item: Item,
    writer: EventWriter,
    chunk: u32,
    cut_after: Option<u32>,
    emitted: u32,
    times: Vec<f64>,
    done: bool,
    recorded: bool,
    cut_timer: Option<Pin<Box<tokio::time::Sleep>>>,
}

impl TokenStream {
    /// A stream of `item`'s tokens as `shared` releases them.
    pub(crate) fn new(app: Arc<App>, shared: Arc<ReqShared>, meta: Meta, item: Item) -> Self {
        let chunk = app.tokens_per_chunk.max(1);
        let cut_after = app.cut_stream_after;
        let n = item.plan.tokens();
        TokenStream {
            app,
            shared,
            meta,
            item,
            writer: EventWriter::new(),
            chunk,
            cut_after,
            emitted: 0,
            times: Vec::with_capacity(n),
            done: false,
            recorded: false,
            cut_timer: None,
        }
    }

    fn record(&mut self, status: &'static str, finished: f64) {
        if self.recorded {
            return;
        }
        self.recorded = true;
        self.app.trace(TraceRecord {
            rid: match self.meta.api {
                crate::server::protocol::Api::Generate => self.item.rid.clone(),
                _ => self.meta.id.clone(),
            },
            endpoint: self.meta.api.path(),
            input_tokens: self.item.prompt_tokens,
            output_tokens: self.emitted,
            received_s: self.meta.received,
            token_times_s: std::mem::take(&mut self.times),
            finished_s: finished,
            status,
        });
    }
}

impl Body for TokenStream {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        let this = self.get_mut();
        if this.done {
            return Poll::Ready(None);
        }
        if let Some(k) = this.cut_after
            && this.emitted >= k
        {
            let timer = this
                .cut_timer
                .get_or_insert_with(|| Box::pin(tokio::time::sleep(CUT_FLUSH_DELAY)));
            if timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            this.done = true;
            this.shared.abort();
            this.record("cut", unix_now());
            this.app.log_cut(k);
            return Poll::Ready(Some(Err(format!(
                "stream cut after {k} tokens by --sim-cut-stream-after"
            )
            .into())));
        }
        this.shared.register(cx.waker());
        let (released, finished) = this.shared.progress();
        // The chunks released since the last poll go out in this frame (one event per chunk,
        // as SGLang sends them, up to `MAX_FRAME` bytes): a stream whose writer fell behind
        // catches up in a few socket writes instead of one poll per chunk.
        let now = unix_now();
        let mut out = Vec::new();
        loop {
            let avail = released.saturating_sub(this.emitted);
            let want = match this.cut_after {
                Some(k) => this.chunk.min(k.saturating_sub(this.emitted)),
                None => this.chunk,
            };
            if want == 0 || (!finished && avail < want) {
                break;
            }
            let n = avail.min(want);
            let last = finished && this.emitted + n == released;
            if n == 0 && !last {
                break;
            }
            let from = this.emitted as usize;
            let to = from + n as usize;
            out.reserve(256 + this.item.plan.visible_len);
            this.writer
                .event(&mut out, &this.meta, &this.item, from..to, last, now);
            this.emitted += n;
            this.times.extend(std::iter::repeat_n(now, n as usize));
            if last {
                this.done = true;
                this.record("ok", now);
                this.app.answered();
                break;
            }
            if out.len() >= MAX_FRAME {
                break;
            }
        }
        if out.is_empty() {
            return Poll::Pending;
        }
        Poll::Ready(Some(Ok(Frame::data(Bytes::from(out)))))
    }

    fn is_end_stream(&self) -> bool {
        self.done
    }

    fn size_hint(&self) -> SizeHint {
        SizeHint::default()
    }
}

impl Drop for TokenStream {
    fn drop(&mut self) {
        if !self.done || !self.recorded {
            self.shared.abort();
            self.record("cut", unix_now());
        }
        self.app.request_done();
    }
}
