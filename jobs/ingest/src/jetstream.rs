//! Bluesky's Jetstream: every public post, JSON over a WebSocket, replayable for about 36 hours
//! by a time cursor. dw subscribes to posts only (`wantedCollections=app.bsky.feed.post`),
//! writes each post create once as a source-neutral post record (`dw_pipeline::post`), and
//! passes over the rest (identity and account events, deletes, updates), counting them.
//!
//! Faults: the rules of Twitter's streams (network errors +250 ms per try up to 16 s; HTTP
//! errors x2 from 5 s; 429 x2 from 60 s; `--stall-secs`, 60 by default, without a message is a
//! stall). Every reconnect resumes from the newest `time_us` seen, 5 s back, and the overlap is
//! dropped by the post's id (`did` + `rkey`). An instance that fails twice in a row without
//! delivering is left for the next. A frame that cannot be read is counted and skipped.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dw_pipeline::attribution::{Attributor, CandidateTerms};
use dw_pipeline::bluesky::{self, Event, POST_COLLECTION};
use futures_util::StreamExt;
use tokio_tungstenite::tungstenite::{self, Message as Frame, protocol::WebSocketConfig};

use crate::backoff::{Backoff, Failure};
use crate::error::Result;
use crate::stream::Ended;
use crate::{Ingest, Waited, log};

/// How far back a reconnect's cursor goes from the newest event seen: Jetstream's events of one
/// moment may arrive in any order across its shards.
const STEP_BACK_US: i64 = 5_000_000;
/// Failed connections in a row (none delivered an event) before the next instance is tried.
const FAILOVER_AFTER: u32 = 2;
/// A decompressed or text message larger than this is malformed (Jetstream's are a few KB).
const MAX_MESSAGE: usize = 4 << 20;
/// Handles remembered from identity events.
const HANDLES: usize = 100_000;

/// DIDs' handles, from the identity events of this session (bounded, oldest forgotten first).
#[derive(Default)]
struct Handles {
    by_did: HashMap<String, String>,
    order: VecDeque<String>,
}

/// The connection to a Jetstream instance.
type Socket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

impl Handles {
    fn set(&mut self, did: &str, handle: Option<&str>) {
        match handle {
            Some(h) => {
                if self.by_did.insert(did.to_string(), h.to_string()).is_none() {
                    self.order.push_back(did.to_string());
                }
                while self.order.len() > HANDLES {
                    if let Some(old) = self.order.pop_front() {
                        self.by_did.remove(&old);
                    }
                }
            }
            None => {
                self.by_did.remove(did);
            }
        }
    }

    fn get(&self, did: &str) -> Option<&str> {
        self.by_did.get(did).map(String::as_str)
    }
}

/// What lasts across connections.
pub(crate) struct Session {
    instances: Vec<String>,
    at: usize,
    failures_here: u32,
    /// Where the first connection starts (`--since`), in microseconds.
    since_us: Option<i64>,
    /// The newest `time_us` seen: the next connection's cursor, less [`STEP_BACK_US`].
    newest_us: Option<i64>,
    handles: Handles,
    inflater: Inflater,
    track: Option<Attributor>,
    lang: Option<String>,
    compress: bool,
}

impl Session {
    fn url(&self) -> String {
        let mut url = format!(
            "{}?wantedCollections={POST_COLLECTION}",
            self.instances[self.at]
        );
        if self.compress {
            url.push_str("&compress=true");
        }
        let cursor = match self.newest_us {
            Some(t) => Some(t - STEP_BACK_US),
            None => self.since_us,
        };
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        url
    }

    /// After a connection that ended without delivering: the next instance after
    /// [`FAILOVER_AFTER`] such in a row.
    fn failed(&mut self) {
        self.failures_here += 1;
        if self.failures_here >= FAILOVER_AFTER && self.instances.len() > 1 {
            self.failures_here = 0;
            self.at = (self.at + 1) % self.instances.len();
            log(&format!(
                "{} keeps failing: trying {}",
                self.instances[(self.at + self.instances.len() - 1) % self.instances.len()],
                self.instances[self.at]
            ));
        }
    }
}

/// zstd with Jetstream's dictionary, and the buffer a message is inflated into.
struct Inflater {
    decompressor: zstd::bulk::Decompressor<'static>,
    inflated: Vec<u8>,
}

impl Inflater {
    /// The JSON of a message: text as it is, binary inflated with Jetstream's dictionary.
    fn json<'m>(&'m mut self, frame: &'m Frame) -> std::result::Result<&'m [u8], String> {
        match frame {
            Frame::Text(text) => Ok(text.as_bytes()),
            Frame::Binary(bytes) => {
                self.inflated.clear();
                self.decompressor
                    .decompress_to_buffer(bytes, &mut self.inflated)
                    .map_err(|e| format!("not zstd with Jetstream's dictionary: {e}"))?;
                Ok(&self.inflated)
            }
            _ => Err("not a data frame".into()),
        }
    }
}

impl Ingest {
    pub(crate) fn jetstream_session(&self, instances: &[String]) -> Result<Session> {
        let since_us = match &self.args.since {
            // A cursor in the future would ask Jetstream for what does not exist yet: live.
            Some(t) if *t < jiff::Timestamp::now() => Some(t.as_microsecond()),
            _ => None,
        };
        let terms = self.track_terms_optional()?;
        let mut decompressor = zstd::bulk::Decompressor::with_dictionary(bluesky::ZSTD_DICTIONARY)
            .map_err(|e| format!("Jetstream's zstd dictionary: {e}"))?;
        decompressor
            .window_log_max(27)
            .map_err(|e| format!("zstd: {e}"))?;
        Ok(Session {
            instances: instances.to_vec(),
            at: 0,
            failures_here: 0,
            since_us,
            newest_us: None,
            handles: Handles::default(),
            inflater: Inflater {
                decompressor,
                inflated: Vec::with_capacity(MAX_MESSAGE),
            },
            track: (!terms.is_empty()).then(|| {
                Attributor::new(&[CandidateTerms {
                    key: "track".into(),
                    terms,
                }])
            }),
            lang: self.args.lang.clone(),
            compress: !self.args.uncompressed,
        })
    }

    pub(crate) async fn jetstream(&mut self, instances: &[String]) -> Result<()> {
        let mut session = self.jetstream_session(instances)?;
        let mut backoff = Backoff::default();
        log(&format!(
            "reading Bluesky posts from {} (instances: {}){}{}",
            instances[0],
            instances.len(),
            session
                .since_us
                .and_then(|us| jiff::Timestamp::from_microsecond(us).ok())
                .map(|t| format!(", since {t}"))
                .unwrap_or_default(),
            session
                .lang
                .as_deref()
                .map(|l| format!(", language {l}"))
                .unwrap_or_default(),
        ));
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let ended = Box::pin(self.jetstream_connection(&mut session, &mut backoff)).await;
            self.connected = false;
            let (failure, why, delivered) = match ended {
                Ended::Stopped => return Ok(()),
                Ended::GiveUp(why) => return Err(why.into()),
                Ended::Failure(f, why) => (f, why, self.delivered_since_connect),
            };
            if !delivered {
                session.failed();
            }
            self.instance = Some(session.instances[session.at].clone());
            self.wait_to_reconnect(backoff.next(failure), &why).await;
        }
    }

    async fn jetstream_connection(
        &mut self,
        session: &mut Session,
        backoff: &mut Backoff,
    ) -> Ended {
        self.delivered_since_connect = false;
        let url = session.url();
        self.instance = Some(session.instances[session.at].clone());
        let stall_secs = self.stall_secs();
        let stall = self.scaled(Duration::from_secs(stall_secs));
        let mut ws = match self.jetstream_connect(&url, stall, stall_secs).await {
            Ok(ws) => ws,
            Err(ended) => return ended,
        };
        log(&format!("subscribed: {url}"));
        let mut last_data = Instant::now();
        loop {
            if self.stop.load(Ordering::Relaxed) {
                // A polite close; the process ends whether or not the instance answers it.
                let _ = tokio::time::timeout(Duration::from_millis(200), ws.close(None)).await;
                return Ended::Stopped;
            }
            let next = tokio::time::timeout(
                stall.clamp(Duration::from_millis(1), Duration::from_millis(200)),
                ws.next(),
            );
            let frame = match next.await {
                Err(_) => {
                    self.beat(false);
                    if last_data.elapsed() >= stall {
                        return Ended::Failure(
                            Failure::Network,
                            format!("no message for {stall_secs}s: stalled"),
                        );
                    }
                    continue;
                }
                Ok(None) => {
                    return Ended::Failure(
                        Failure::Network,
                        "the instance closed the connection".into(),
                    );
                }
                Ok(Some(Err(e))) => {
                    return Ended::Failure(Failure::Network, format!("the connection broke: {e}"));
                }
                Ok(Some(Ok(frame))) => frame,
            };
            last_data = Instant::now();
            match frame {
                Frame::Text(_) | Frame::Binary(_) => {}
                Frame::Close(_) => {
                    return Ended::Failure(
                        Failure::Network,
                        "the instance closed the connection".into(),
                    );
                }
                // Pings are answered by tungstenite; they keep the stall clock from running out.
                _ => continue,
            }
            if !self.connected {
                self.connected = true;
                self.was_connected = true;
                log("connected");
            }
            match self.jetstream_message(session, &frame) {
                Ok(true) if !self.delivered_since_connect => {
                    // Only an event that reads resets the back-off (garbage does not).
                    self.delivered_since_connect = true;
                    session.failures_here = 0;
                    backoff.healthy();
                    self.backoff_secs = 0.0;
                }
                Ok(_) => {}
                Err(e) => return Ended::GiveUp(e.to_string()),
            }
            self.beat(false);
        }
    }

    /// Opens the WebSocket to `url`; the answer must come within the stall time, and SIGTERM
    /// is heard meanwhile.
    async fn jetstream_connect(
        &mut self,
        url: &str,
        stall: Duration,
        stall_secs: u64,
    ) -> std::result::Result<Socket, Ended> {
        let config = WebSocketConfig::default()
            .max_message_size(Some(MAX_MESSAGE))
            .max_frame_size(Some(MAX_MESSAGE));
        // Boxed: the handshake's future is ~20 KB.
        let connect = Box::pin(tokio_tungstenite::connect_async_with_config(
            url,
            Some(config),
            false,
        ));
        match self.until_stopped(stall, connect).await {
            Waited::Stopped => Err(Ended::Stopped),
            Waited::TimedOut => Err(Ended::Failure(
                Failure::Network,
                format!("no answer within {stall_secs}s from {url}"),
            )),
            Waited::Done(Ok((ws, _))) => Ok(ws),
            Waited::Done(Err(tungstenite::Error::Http(response))) => {
                let status = response.status().as_u16();
                Err(Ended::Failure(
                    Failure::Http(status),
                    format!("HTTP {status} from {url}"),
                ))
            }
            Waited::Done(Err(e)) => Err(Ended::Failure(
                Failure::Network,
                format!("connection to {url} failed: {e}"),
            )),
        }
    }

    /// Handles one message; says whether it was an event that reads.
    fn jetstream_message(&mut self, session: &mut Session, frame: &Frame) -> Result<bool> {
        self.counts.received += 1;
        let json = match session.inflater.json(frame) {
            Ok(json) => json,
            Err(reason) => {
                let raw = match frame {
                    Frame::Binary(b) => format!("{} bytes of binary", b.len()),
                    other => other.to_string(),
                };
                self.malformed(&reason, raw.as_bytes())?;
                return Ok(false);
            }
        };
        let (time_us, event) = match bluesky::parse_event(json) {
            Ok(parsed) => parsed,
            Err(e) => {
                let json = json.to_vec();
                self.malformed(&e.to_string(), &json)?;
                return Ok(false);
            }
        };
        session.newest_us = Some(session.newest_us.map_or(time_us, |t| t.max(time_us)));
        self.cursor_us = session.newest_us;
        let post = match event {
            Event::Post(post) => post,
            Event::Identity { did, handle } => {
                session.handles.set(&did, handle.as_deref());
                self.counts.identity += 1;
                return Ok(true);
            }
            Event::Account => {
                self.counts.account += 1;
                return Ok(true);
            }
            Event::Delete => {
                self.counts.deletes += 1;
                return Ok(true);
            }
            Event::OtherCommit => {
                self.counts.other_commits += 1;
                return Ok(true);
            }
        };
        if let Some(lang) = &session.lang
            && !bluesky::declares_language(&post.langs, lang)
        {
            self.counts.other_language += 1;
            return Ok(true);
        }
        if let Some(track) = &session.track {
            let mut hits = Vec::new();
            track.candidates(&post.text, &mut hits);
            if hits.is_empty() {
                self.counts.off_topic += 1;
                return Ok(true);
            }
        }
        let record = post.to_post(time_us, session.handles.get(&post.did));
        let line = record.to_line();
        self.deliver(&record.id, record.time_ms, line.as_bytes())?;
        Ok(true)
    }
}
