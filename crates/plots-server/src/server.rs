//! Accept loop, connections, limits, access log and graceful shutdown.

use std::convert::Infallible;
use std::future::Future;
use std::io;
use std::net::{SocketAddr, TcpListener as StdListener, ToSocketAddrs};
use std::sync::Arc;
use std::time::Instant;

use hyper::Request;
use hyper::body::Incoming;
use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::net::{TcpListener, TcpSocket, TcpStream};
use tokio::sync::{Semaphore, watch};
use tokio::task::JoinSet;

use crate::handler::{self, Refused, Site};
use crate::idle::IdleTimeout;
use crate::{Config, ConnectionLimits, Error, ServeReport};

/// Binds the listening socket of `config` (`SO_REUSEADDR` on, quirk P4). A port in use is
/// reported with the first free port of `config.alternative_ports`, as the original launcher did.
pub async fn bind(config: &Config) -> Result<TcpListener, Error> {
    let addr = resolve_bind(&config.bind, config.port)?;
    let listen = || -> io::Result<TcpListener> {
        let socket = if addr.is_ipv4() {
            TcpSocket::new_v4()?
        } else {
            TcpSocket::new_v6()?
        };
        socket.set_reuseaddr(true)?;
        socket.bind(addr)?;
        socket.listen(1024)
    };
    listen().map_err(|source| {
        let hint = if source.kind() == io::ErrorKind::AddrInUse {
            let free = config
                .alternative_ports
                .iter()
                .find(|&&p| StdListener::bind((addr.ip(), p)).is_ok());
            match free {
                Some(p) => format!(
                    " (port {} is already in use: stop the other server or choose another port \
                     with --port; port {p} appears to be available)",
                    addr.port()
                ),
                None => format!(
                    " (port {} is already in use: stop the other server or choose another \
                     port with --port)",
                    addr.port()
                ),
            }
        } else {
            String::new()
        };
        Error::Bind { addr, source, hint }
    })
}

fn resolve_bind(bind: &str, port: u16) -> Result<SocketAddr, Error> {
    let err = |source| Error::Resolve {
        bind: bind.to_owned(),
        source,
    };
    let mut addrs = (bind, port).to_socket_addrs().map_err(err)?;
    addrs.next().ok_or_else(|| {
        err(io::Error::new(
            io::ErrorKind::NotFound,
            "the name resolved to no address",
        ))
    })
}

/// Serves `listener` until `shutdown` completes, then stops accepting, lets in-flight requests
/// finish (idle keep-alive connections close at once) for up to `config.shutdown_timeout`, and
/// closes whatever is left. A completed `force` future skips the wait.
pub async fn serve(
    listener: TcpListener,
    config: &Config,
    shutdown: impl Future<Output = ()>,
    force: impl Future<Output = ()>,
) -> Result<ServeReport, Error> {
    let root = std::fs::canonicalize(&config.root).map_err(|source| Error::Root {
        path: config.root.clone(),
        source,
    })?;
    if !root.is_dir() {
        return Err(Error::Root {
            path: config.root.clone(),
            source: io::Error::new(io::ErrorKind::NotADirectory, "not a directory"),
        });
    }
    let site = Arc::new(Site {
        root,
        title: config.title.clone(),
        mount: String::new(),
    });
    let service = move |peer: SocketAddr| {
        let site = Arc::clone(&site);
        service_fn(move |req| {
            let site = Arc::clone(&site);
            async move {
                let start = Instant::now();
                let (resp, refused) = handler::respond(&site, &req).await;
                access_log(&req, &resp, peer, start, refused.as_ref());
                Ok::<_, Infallible>(resp)
            }
        })
    };
    Ok(serve_connections(listener, &config.limits, service, shutdown, force).await)
}

/// The accept loop shared by plots-server and the dashboard: HTTP/1.1 connections, each
/// served by the service `service(peer)` returns, under `limits` (at most
/// `max_connections` at once, further ones wait in the listen backlog; a request head must
/// arrive within `header_timeout`; a connection silent for `idle_timeout` is closed). When
/// `shutdown` completes it stops accepting, lets in-flight requests finish (idle keep-alive
/// connections close at once) for up to `shutdown_timeout`, and closes whatever is left; a
/// completed `force` future skips the wait.
pub async fn serve_connections<M, S, B>(
    listener: TcpListener,
    limits: &ConnectionLimits,
    service: M,
    shutdown: impl Future<Output = ()>,
    force: impl Future<Output = ()>,
) -> ServeReport
where
    M: Fn(SocketAddr) -> S,
    S: hyper::service::Service<Request<Incoming>, Response = hyper::Response<B>> + Send + 'static,
    S::Future: Send + 'static,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let mut http = http1::Builder::new();
    http.timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_buf_size(64 * 1024)
        .keep_alive(true);
    let http = Arc::new(http);
    let limit = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let (stop_tx, stop_rx) = watch::channel(false);
    let mut tasks = JoinSet::new();
    let mut report = ServeReport::default();

    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            biased;
            () = &mut shutdown => break,
            p = Arc::clone(&limit).acquire_owned() => match p {
                Ok(p) => p,
                Err(_) => break,
            },
        };
        let accepted = tokio::select! {
            biased;
            () = &mut shutdown => break,
            a = listener.accept() => a,
        };
        let (stream, peer) = match accepted {
            Ok(x) => x,
            Err(e) => {
                // EMFILE and friends: back off briefly instead of spinning.
                tracing::warn!("accept failed: {e}");
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
                continue;
            }
        };
        report.connections += 1;
        let (svc, http, stop) = (service(peer), Arc::clone(&http), stop_rx.clone());
        let idle = limits.idle_timeout;
        tasks.spawn(async move {
            connection(stream, peer, svc, &http, stop, idle).await;
            drop(permit);
        });
        while tasks.try_join_next().is_some() {}
    }
    drop(listener);
    let _ = stop_tx.send(true);
    let open = tasks.len();
    if open > 0 {
        tracing::info!("shutting down: waiting for {open} open connection(s)");
    }
    let drained = tokio::select! {
        r = tokio::time::timeout(limits.shutdown_timeout, async {
            while tasks.join_next().await.is_some() {}
        }) => r.is_ok(),
        () = force => false,
    };
    if !drained {
        report.forced_closed = tasks.len();
        tracing::warn!(
            "closing {} connection(s) that did not finish in time",
            report.forced_closed
        );
        tasks.abort_all();
        while tasks.join_next().await.is_some() {}
    }
    report
}

async fn connection<S, B>(
    stream: TcpStream,
    peer: SocketAddr,
    svc: S,
    http: &http1::Builder,
    mut stop: watch::Receiver<bool>,
    idle: std::time::Duration,
) where
    S: hyper::service::Service<Request<Incoming>, Response = hyper::Response<B>>,
    S::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    B: hyper::body::Body + 'static,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let _ = stream.set_nodelay(true);
    let io = TokioIo::new(IdleTimeout::new(stream, idle));
    let conn = http.serve_connection(io, svc);
    tokio::pin!(conn);
    let result = tokio::select! {
        r = conn.as_mut() => r,
        () = async { drop(stop.wait_for(|s| *s).await) } => {
            conn.as_mut().graceful_shutdown();
            conn.await
        }
    };
    if let Err(e) = result {
        tracing::debug!("connection from {peer} ended: {e}");
    }
}

fn access_log<B>(
    req: &hyper::Request<B>,
    resp: &hyper::Response<handler::Body>,
    peer: SocketAddr,
    start: Instant,
    refused: Option<&Refused>,
) {
    let len = resp
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("-");
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    let target = req.uri().path_and_query().map_or("/", |pq| pq.as_str());
    tracing::info!(
        target: "plots_server::access",
        "{peer} \"{} {target} {:?}\" {} {len} {ms:.1}ms",
        req.method(),
        req.version(),
        resp.status().as_u16(),
    );
    match refused {
        Some(Refused::Path(why)) => {
            tracing::warn!("refused {target} from {peer}: {why}");
        }
        Some(Refused::Escape(to)) => tracing::warn!(
            "refused {target} from {peer}: a symlink resolves outside the root (to {})",
            to.display()
        ),
        None => {}
    }
}
