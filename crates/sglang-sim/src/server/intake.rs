//! Request intake on a thread of its own.
//!
//! A saturated server (hundreds of streams on two cores) must not leave new requests unread
//! in the socket while it writes tokens: the wait would be invisible to the trace (which
//! stamps `received_s` when the server read the request) yet counted in every client's TTFT.
//! So one mostly idle thread accepts the connections and reads every byte as soon as it
//! arrives, stamping the time of each read; the HTTP connections (parsing, handlers, response
//! bodies) run on the main runtime, read those bytes from an in-memory queue and write to the
//! socket directly. A request then waits, if at all, inside the server after it was read, and
//! that wait is part of the server's own (traced) time to first token.

use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll, ready};

use bytes::{Buf, Bytes, BytesMut};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};
use tokio::sync::{mpsc, oneshot};

use crate::SimError;
use crate::trace::unix_now;

/// Chunks read ahead of the HTTP connection before the intake stops reading (backpressure).
const QUEUE_CHUNKS: usize = 16;

/// Bytes asked for per read.
const READ_SIZE: usize = 16 << 10;

/// When the intake thread last read bytes of one connection (UNIX seconds, as f64 bits).
#[derive(Debug, Default)]
pub(crate) struct ReadStamp(AtomicU64);

impl ReadStamp {
    fn set(&self, t: f64) {
        self.0.store(t.to_bits(), Ordering::Release);
    }

    /// The time of the latest read. Called once a request's body is complete, it is when the
    /// read that delivered the body's last bytes returned (or a later read's time, if the
    /// client already sent more): never earlier than the server actually had the request.
    pub(crate) fn last_read(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Acquire))
    }
}

/// One accepted connection as the HTTP layer sees it: reads come from the intake thread,
/// writes go straight to the socket.
pub(crate) struct ConnIo {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    pending: Bytes,
    write: OwnedWriteHalf,
    stamp: Arc<ReadStamp>,
}

impl ConnIo {
    /// The connection's read stamp.
    pub(crate) fn stamp(&self) -> Arc<ReadStamp> {
        self.stamp.clone()
    }
}

impl AsyncRead for ConnIo {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = &mut *self;
        if this.pending.is_empty() {
            match ready!(this.rx.poll_recv(cx)) {
                Some(Ok(b)) => this.pending = b,
                Some(Err(e)) => return Poll::Ready(Err(e)),
                None => return Poll::Ready(Ok(())), // end of stream
            }
        }
        let n = this.pending.len().min(buf.remaining());
        buf.put_slice(&this.pending[..n]);
        this.pending.advance(n);
        Poll::Ready(Ok(()))
    }
}

impl AsyncWrite for ConnIo {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        data: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.write).poll_write(cx, data)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.write).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.write.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.write).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.write).poll_shutdown(cx)
    }
}

/// Reads one connection until EOF, an error, or the HTTP side goes away (which then closes
/// the socket: the write half is already gone with it).
async fn pump(mut rd: OwnedReadHalf, tx: mpsc::Sender<io::Result<Bytes>>, stamp: Arc<ReadStamp>) {
    let mut buf = BytesMut::new();
    loop {
        buf.reserve(READ_SIZE);
        let read = tokio::select! {
            r = rd.read_buf(&mut buf) => r,
            () = tx.closed() => return,
        };
        let chunk = match read {
            Ok(0) => return,
            Ok(_) => {
                stamp.set(unix_now());
                Ok(buf.split().freeze())
            }
            Err(e) => Err(e),
        };
        let failed = chunk.is_err();
        if tx.send(chunk).await.is_err() || failed {
            return;
        }
    }
}

/// The intake thread; stops (closing the listener) when dropped.
pub(crate) struct Intake {
    stop: Option<oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Intake {
    /// Binds `addr` (backlog 1024, as tokio does) and starts accepting on it; every connection
    /// is handed to `serve` (which spawns its HTTP task on the main runtime). Returns the
    /// bound address.
    pub(crate) fn start<F>(addr: &str, serve: F) -> Result<(Intake, SocketAddr), SimError>
    where
        F: Fn(ConnIo, SocketAddr) + Send + 'static,
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(SimError::Runtime)?;
        let (stop, mut stopped) = oneshot::channel();
        let (bound_tx, bound_rx) = std::sync::mpsc::channel();
        let owned = addr.to_string();
        let thread = std::thread::Builder::new()
            .name("sim-intake".into())
            .spawn(move || {
                rt.block_on(async move {
                    let listener = match tokio::net::TcpListener::bind(&owned).await {
                        Ok(l) => l,
                        Err(e) => {
                            let _ = bound_tx.send(Err(e));
                            return;
                        }
                    };
                    let _ = bound_tx.send(listener.local_addr());
                    loop {
                        let (stream, peer) = tokio::select! {
                            a = listener.accept() => match a {
                                Ok(a) => a,
                                Err(_) => {
                                    // Out of file descriptors and the like: do not spin.
                                    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                                    continue;
                                }
                            },
                            _ = &mut stopped => return,
                        };
                        let _ = stream.set_nodelay(true);
                        let (rd, write) = stream.into_split();
                        let (tx, rx) = mpsc::channel(QUEUE_CHUNKS);
                        let stamp = Arc::new(ReadStamp::default());
                        tokio::spawn(pump(rd, tx, stamp.clone()));
                        serve(
                            ConnIo {
                                rx,
                                pending: Bytes::new(),
                                write,
                                stamp,
                            },
                            peer,
                        );
                    }
                });
            })
            .map_err(SimError::Runtime)?;
        let intake = Intake {
            stop: Some(stop),
            thread: Some(thread),
        };
        let bind_error = |source| SimError::Bind {
            addr: addr.to_string(),
            source,
        };
        let local = bound_rx
            .recv()
            .map_err(|_| bind_error(io::Error::other("the intake thread ended")))?
            .map_err(bind_error)?;
        Ok((intake, local))
    }
}

impl Drop for Intake {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
