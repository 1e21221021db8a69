//! A stand-in for Bluesky's Jetstream (`/subscribe`), for dw's tests and benchmarks: it replays a
//! recorded session (JSON lines of Jetstream events, oldest first) over a WebSocket on
//! 127.0.0.1, as Jetstream does:
//! - `cursor` (microseconds): events from that time on; none: the whole session;
//! - `wantedCollections`: commits of other collections are not sent (identity and account
//!   events always are);
//! - `compress=true`: each event zstd-compressed with Jetstream's dictionary, as a binary frame;
//!   otherwise a text frame.
//!
//! After the last event the connection stays open and silent, like a quiet live stream. Faults
//! are set per connection (the first connection is number 0): answer HTTP 503 (or any status)
//! instead of upgrading, drop the connection after N events (no close handshake), stop sending
//! after N events while keeping it open, send a frame that is not an event before event N.

pub mod synth;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::{SinkExt, StreamExt};
use tokio::net::{TcpListener, TcpStream};
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::{Bytes, Message};

/// What goes wrong on one connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Answer the upgrade with this HTTP status.
    Refuse(u16),
    /// Drop the TCP connection after sending this many events.
    DropAfter(usize),
    /// Send nothing more after this many events, but keep the connection open.
    StallAfter(usize),
    /// Before the event of this index (in this connection), send a frame that is not an event.
    BadFrameAt(usize),
}

impl std::str::FromStr for Fault {
    type Err = String;
    /// `refuse:503`, `drop:N`, `stall:N`, `bad:N`.
    fn from_str(s: &str) -> Result<Fault, String> {
        let (kind, n) = s.split_once(':').ok_or_else(|| format!("`{s}`: KIND:N"))?;
        let n: usize = n.parse().map_err(|_| format!("`{s}`: N is a number"))?;
        match kind {
            "refuse" => u16::try_from(n)
                .map(Fault::Refuse)
                .map_err(|e| e.to_string()),
            "drop" => Ok(Fault::DropAfter(n)),
            "stall" => Ok(Fault::StallAfter(n)),
            "bad" => Ok(Fault::BadFrameAt(n)),
            _ => Err(format!("`{s}`: refuse, drop, stall or bad")),
        }
    }
}

/// One recorded event: its time, whether it is a commit of some collection, and its line.
#[derive(Debug, Clone)]
struct Recorded {
    time_us: i64,
    collection: Option<String>,
    line: Arc<str>,
}

/// What a connection asked for and was sent.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Connection {
    /// The request's path and query, as sent.
    pub target: String,
    pub cursor: Option<i64>,
    pub compress: bool,
    pub wanted: Vec<String>,
    /// Events sent on it.
    pub sent: usize,
    /// The time of the last event sent.
    pub last_time_us: Option<i64>,
    /// Refused with this HTTP status.
    pub refused: Option<u16>,
}

#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Faults by connection number.
    pub faults: HashMap<usize, Vec<Fault>>,
    /// Events per second (None: as fast as the connection takes them).
    pub pace: Option<f64>,
}

/// A running stand-in; stops when dropped.
pub struct Standin {
    pub addr: SocketAddr,
    connections: Arc<Mutex<Vec<Connection>>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Standin {
    /// Serves `lines` (a recorded session) on 127.0.0.1 at `port` (0: any free port).
    pub fn start(lines: &[String], port: u16, options: Options) -> std::io::Result<Standin> {
        let events = Arc::new(recorded(lines)?);
        let listener = std::net::TcpListener::bind(("127.0.0.1", port))?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let connections = Arc::new(Mutex::new(Vec::new()));
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let shared = Arc::clone(&connections);
        let options = Arc::new(options);
        let thread = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(listener) = TcpListener::from_std(listener) else {
                    return;
                };
                tokio::select! {
                    () = accept_loop(listener, events, options, shared) => {}
                    _ = stopped => {}
                }
            });
            runtime.shutdown_timeout(Duration::from_millis(100));
        });
        Ok(Standin {
            addr,
            connections,
            stop: Some(stop),
            thread: Some(thread),
        })
    }

    /// `jetstream+ws://127.0.0.1:PORT/subscribe`, the form dw-ingest takes.
    pub fn endpoint(&self) -> String {
        format!("jetstream+ws://{}/subscribe", self.addr)
    }

    /// The connections so far, oldest first.
    pub fn connections(&self) -> Vec<Connection> {
        self.connections
            .lock()
            .map(|c| c.clone())
            .unwrap_or_default()
    }
}

impl Drop for Standin {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn recorded(lines: &[String]) -> std::io::Result<Vec<Recorded>> {
    let mut events = Vec::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(line).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line {}: {e}", i + 1),
            )
        })?;
        let time_us = v["time_us"].as_i64().ok_or_else(|| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!("line {}: no time_us", i + 1),
            )
        })?;
        events.push(Recorded {
            time_us,
            collection: v["commit"]["collection"].as_str().map(str::to_string),
            line: line.into(),
        });
    }
    Ok(events)
}

async fn accept_loop(
    listener: TcpListener,
    events: Arc<Vec<Recorded>>,
    options: Arc<Options>,
    connections: Arc<Mutex<Vec<Connection>>>,
) {
    let mut number = 0;
    while let Ok((tcp, _)) = listener.accept().await {
        let faults = options.faults.get(&number).cloned().unwrap_or_default();
        number += 1;
        let events = Arc::clone(&events);
        let connections = Arc::clone(&connections);
        let pace = options.pace;
        tokio::spawn(async move {
            serve(tcp, &events, &faults, pace, &connections).await;
        });
    }
}

fn query(target: &str) -> Connection {
    let mut c = Connection {
        target: target.to_string(),
        ..Connection::default()
    };
    let query = target.split_once('?').map_or("", |(_, q)| q);
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        match k {
            "cursor" => c.cursor = v.parse().ok(),
            "compress" => c.compress = v == "true",
            "wantedCollections" => c.wanted.push(v.to_string()),
            _ => {}
        }
    }
    c
}

async fn serve(
    tcp: TcpStream,
    events: &[Recorded],
    faults: &[Fault],
    pace: Option<f64>,
    connections: &Mutex<Vec<Connection>>,
) {
    let refuse = faults.iter().find_map(|f| match f {
        Fault::Refuse(status) => Some(*status),
        _ => None,
    });
    let asked = Arc::new(Mutex::new(Connection::default()));
    let seen = Arc::clone(&asked);
    // tungstenite's callback type returns its error response by value.
    #[allow(clippy::result_large_err)]
    let callback = move |request: &Request, response: Response| {
        let mut c = query(&request.uri().to_string());
        c.refused = refuse;
        if let Ok(mut s) = seen.lock() {
            *s = c;
        }
        match refuse {
            Some(status) => {
                let mut answer = ErrorResponse::new(Some("the stand-in refuses".into()));
                *answer.status_mut() = tokio_tungstenite::tungstenite::http::StatusCode::from_u16(
                    status,
                )
                .unwrap_or(tokio_tungstenite::tungstenite::http::StatusCode::SERVICE_UNAVAILABLE);
                Err(answer)
            }
            None => Ok(response),
        }
    };
    let ws = tokio_tungstenite::accept_hdr_async(tcp, callback).await;
    let conn = asked.lock().map(|c| c.clone()).unwrap_or_default();
    let index = {
        let Ok(mut all) = connections.lock() else {
            return;
        };
        all.push(conn.clone());
        all.len() - 1
    };
    let Ok(mut ws) = ws else { return };
    let mut compressor = if conn.compress {
        zstd::bulk::Compressor::with_dictionary(3, dw_pipeline::bluesky::ZSTD_DICTIONARY).ok()
    } else {
        None
    };
    let start = Instant::now();
    let mut sent = 0usize;
    let wanted = |e: &Recorded| match &e.collection {
        Some(c) => conn.wanted.is_empty() || conn.wanted.contains(c),
        None => true,
    };
    let from = conn.cursor.unwrap_or(i64::MIN);
    for event in events.iter().filter(|e| e.time_us >= from && wanted(e)) {
        if faults.contains(&Fault::DropAfter(sent)) {
            return; // the socket closes without a close frame
        }
        if faults.contains(&Fault::StallAfter(sent)) {
            break;
        }
        if faults.contains(&Fault::BadFrameAt(sent)) {
            let bad = if compressor.is_some() {
                Message::Binary(Bytes::from_static(b"\x28\xb5\x2f\xfd not a zstd frame"))
            } else {
                Message::Text("{\"did\":\"did:plc:cut".into())
            };
            if ws.send(bad).await.is_err() {
                return;
            }
        }
        if let Some(per_sec) = pace {
            let due = start + Duration::from_secs_f64(sent as f64 / per_sec.max(1e-3));
            tokio::time::sleep_until(due.into()).await;
        }
        let message = match compressor.as_mut() {
            Some(z) => match z.compress(event.line.as_bytes()) {
                Ok(bytes) => Message::Binary(bytes.into()),
                Err(_) => return,
            },
            None => Message::Text(event.line.as_ref().into()),
        };
        if ws.send(message).await.is_err() {
            return;
        }
        sent += 1;
        if let Ok(mut all) = connections.lock() {
            all[index].sent = sent;
            all[index].last_time_us = Some(event.time_us);
        }
    }
    // Quiet from here: read until the client leaves (a close is answered by tungstenite).
    while let Some(Ok(_)) = ws.next().await {}
}
