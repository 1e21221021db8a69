//! `dw-ingest`: reads posts from a source (Bluesky's Jetstream, Twitter's v1.1 or v2 filtered
//! stream, an archive on S3 or in a file, stdin) and writes them to a sink (Kafka, a file,
//! stdout): Twitter's JSON unchanged, Bluesky's as source-neutral post records. Follows
//! Twitter's reconnect rules; a post that arrives twice across reconnects is written once.

mod archive;
mod backoff;
mod credentials;
mod error;
mod frames;
mod jetstream;
mod oauth;
mod sink;
mod stream;

use crate::error::{Error, Result};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use dw_pipeline::dedupe::RecentIds;
use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::job::{self, Pacer};
use dw_pipeline::status::Heartbeat;
use dw_pipeline::tweet::{self, Message};
use serde::Serialize;
use sink::Sink;

/// Loading the credentials and setting the v2 rules may take this long.
const SETUP_LIMIT: Duration = Duration::from_mins(1);

#[derive(Debug, Parser)]
#[command(
    name = "dw-ingest",
    version,
    about = "Post streams (Bluesky, Twitter) and archives into Kafka",
    args_override_self = true
)]
struct Args {
    /// librdkafka's broker and topic log on stderr too (its warnings and errors always)
    #[arg(long)]
    debug: bool,
    /// Source: bluesky, jetstream+ws[s]://HOST:PORT/subscribe[,...], twitter-v1, twitter-v2,
    /// s3://BUCKET/PREFIX/, file:PATH or -
    #[arg(long)]
    from: Endpoint,
    /// Sink: kafka://HOST:PORT/TOPIC, file:PATH or -
    #[arg(long, default_value = "-")]
    to: Endpoint,
    /// Track terms, comma-separated (streams; Jetstream: only posts that mention one)
    #[arg(long, value_delimiter = ',')]
    track: Vec<String>,
    /// A file of track terms, one per line (streams)
    #[arg(long)]
    track_file: Option<PathBuf>,
    /// Where the stream credentials are: env, ssm:/PATH or s3://BUCKET/KEY
    #[arg(long, default_value = "env")]
    credentials: String,
    /// The stream endpoint (tests point it at 127.0.0.1)
    #[arg(long)]
    stream_url: Option<String>,
    /// The v2 rules endpoint
    #[arg(long)]
    rules_url: Option<String>,
    /// Archives: replay at the tweets' own pace times this (1x, 10x), or as fast as possible (max)
    #[arg(long, default_value = "max")]
    pace: String,
    /// Reconnect when the stream sends nothing (not even a keep-alive) for this many seconds
    /// (default: 90 for Twitter, 60 for Jetstream)
    #[arg(long)]
    stall_secs: Option<u64>,
    /// Jetstream: only posts that declare this language (BCP-47 primary tag: en, es, ...)
    #[arg(long, value_parser = parse_lang)]
    lang: Option<String>,
    /// Jetstream: start this far back (RFC 3339; Jetstream keeps about 36 h): an evening can be
    /// read again the morning after. Default: from now.
    #[arg(long)]
    since: Option<jiff::Timestamp>,
    /// Jetstream: ask for uncompressed JSON (by default messages come zstd-compressed)
    #[arg(long)]
    uncompressed: bool,
    /// Heartbeat file (JSON status), rewritten every --status-secs
    #[arg(long)]
    status: Option<PathBuf>,
    #[arg(long, default_value_t = 10)]
    status_secs: u64,
    /// Where lines that are not tweets or notices go (file:PATH)
    #[arg(long)]
    dead_letter: Option<Endpoint>,
    /// How many recent tweet ids are remembered to drop duplicates
    #[arg(long, default_value_t = 200_000)]
    remember: usize,
    /// Kafka producer setting KEY=VALUE (librdkafka names; repeatable)
    #[arg(long = "kafka-option", value_name = "KEY=VALUE", value_parser = job::parse_key_value)]
    kafka_options: Vec<(String, String)>,
    /// Tests only: every wait (back-off, stall, pace) is multiplied by this
    #[arg(long, default_value_t = 1.0, hide = true)]
    time_scale: f64,
}

fn log(message: &str) {
    job::log("dw-ingest", message);
}

/// The heartbeat's content.
#[derive(Debug, Default, Clone, Serialize)]
struct Counts {
    received: u64,
    written: u64,
    deletes: u64,
    duplicates: u64,
    /// Tweets the stream matched but withheld (limit notices), summed over connections.
    limit_withheld: u64,
    notices: u64,
    keep_alives: u64,
    malformed: u64,
    reconnects: u64,
    /// Records the sink never acknowledged (the Kafka producer gave up on them): not written.
    undelivered: u64,
    /// Jetstream events passed over: identity and account events, commits that are not post
    /// creates, posts in another language than `--lang`, posts that mention no track term.
    #[serde(skip_serializing_if = "is_zero")]
    identity: u64,
    #[serde(skip_serializing_if = "is_zero")]
    account: u64,
    #[serde(skip_serializing_if = "is_zero")]
    other_commits: u64,
    #[serde(skip_serializing_if = "is_zero")]
    other_language: u64,
    #[serde(skip_serializing_if = "is_zero")]
    off_topic: u64,
}

/// A language tag's primary subtag (`en`, `es`, `pt`): 2 to 8 letters.
fn parse_lang(s: &str) -> std::result::Result<String, String> {
    if (2..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic()) {
        Ok(s.to_ascii_lowercase())
    } else {
        Err(format!(
            "{s:?} is not a language: a BCP-47 primary tag such as en or es"
        ))
    }
}

#[allow(clippy::trivially_copy_pass_by_ref)] // serde's skip_serializing_if passes a reference
fn is_zero(n: &u64) -> bool {
    *n == 0
}

struct Ingest {
    args: Args,
    sink: Sink,
    dead: Option<Sink>,
    recent: RecentIds,
    counts: Counts,
    heartbeat: Heartbeat,
    stop: Arc<AtomicBool>,
    started: Instant,
    last_tweet_ms: Option<i64>,
    backoff_secs: f64,
    /// Connected now, and the stream sent its first bytes (an archive: its first record read).
    connected: bool,
    /// It was connected once: a lost connection is "reconnecting", not "starting".
    was_connected: bool,
    /// The largest `limit.track` of the current connection (it counts since the connection began).
    connection_limit: u64,
    /// Once done: whether the source was read to its end and every record delivered (the
    /// heartbeat's `exit`, which a replay's last step waits for).
    finished_ok: Option<bool>,
    /// Jetstream: the newest event time seen (microseconds), the instance in use, and whether
    /// the current connection has delivered an event that reads.
    cursor_us: Option<i64>,
    instance: Option<String>,
    delivered_since_connect: bool,
}

/// How a wait for a future ended.
enum Waited<T> {
    Done(T),
    TimedOut,
    Stopped,
}

impl Ingest {
    fn stall_secs(&self) -> u64 {
        self.args.stall_secs.unwrap_or(match self.args.from {
            Endpoint::Jetstream(_) => 60,
            _ => 90,
        })
    }

    fn scaled(&self, d: Duration) -> Duration {
        d.mul_f64(self.args.time_scale.max(0.0))
    }

    /// Awaits `future` for at most `limit`, looking at the stop flag (SIGTERM) every 100 ms.
    async fn until_stopped<T>(
        &self,
        limit: Duration,
        future: impl std::future::Future<Output = T>,
    ) -> Waited<T> {
        let deadline = tokio::time::Instant::now() + limit;
        tokio::pin!(future);
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Waited::Stopped;
            }
            let now = tokio::time::Instant::now();
            if now >= deadline {
                return Waited::TimedOut;
            }
            let step = (deadline - now).min(Duration::from_millis(100));
            if let Ok(out) = tokio::time::timeout(step, &mut future).await {
                return Waited::Done(out);
            }
        }
    }

    fn beat(&mut self, done: bool) {
        if let Err(e) = self.sink.tick() {
            log(&format!("sink: {e}"));
        }
        // "running" (what the start step waits for) only once the source has delivered.
        let state = if done {
            "stopped"
        } else if self.connected {
            "running"
        } else if self.was_connected {
            "reconnecting"
        } else {
            "starting"
        };
        let mut status = serde_json::json!({
            "job": "ingest",
            "state": state,
            "at": jiff::Timestamp::now(),
            "source": self.args.from.to_string(),
            "connected": self.connected,
            "counts": self.counts,
            "tweets_per_sec": self.counts.written as f64 / self.started.elapsed().as_secs_f64().max(1e-9),
            "backoff_secs": self.backoff_secs,
            "last_tweet_time": self.last_tweet_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
        });
        if let Some(us) = self.cursor_us {
            status["cursor_us"] = us.into();
        }
        if let Some(instance) = &self.instance {
            status["instance"] = instance.as_str().into();
        }
        if let Some(ok) = self.finished_ok {
            status["exit"] = if ok { "ok" } else { "error" }.into();
        }
        if let Err(e) = self.heartbeat.beat(&status, done) {
            log(&format!("heartbeat: {e}"));
        }
    }

    /// Handles one message; returns the disconnect code if it was a disconnect notice.
    fn message(&mut self, bytes: &[u8]) -> Result<Option<(u32, String)>> {
        self.counts.received += 1;
        let parsed = std::str::from_utf8(bytes)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(|text| tweet::parse(text).map_err(|e| e.to_string()));
        match parsed {
            Ok(Message::Tweet(t)) => self.deliver(&t.id, t.created_ms, bytes)?,
            Ok(Message::Delete { id }) => {
                self.sink.send(&id, bytes)?;
                self.counts.deletes += 1;
            }
            Ok(Message::Limit { track }) => {
                if track > self.connection_limit {
                    self.counts.limit_withheld += track - self.connection_limit;
                    self.connection_limit = track;
                }
            }
            Ok(Message::Disconnect { code, reason }) => {
                self.counts.notices += 1;
                return Ok(Some((code, reason.to_string())));
            }
            Ok(Message::Notice) => {
                self.counts.notices += 1;
                log(&format!("notice: {}", String::from_utf8_lossy(bytes)));
            }
            Err(reason) => self.malformed(&reason, bytes)?,
        }
        Ok(None)
    }

    /// Writes a post (a tweet, or a post record) the first time its id is seen.
    fn deliver(&mut self, id: &str, created_ms: i64, line: &[u8]) -> Result<()> {
        if self.recent.first_time(id) {
            self.sink.send(id, line)?;
            self.counts.written += 1;
            self.last_tweet_ms = Some(created_ms);
        } else {
            self.counts.duplicates += 1;
        }
        Ok(())
    }

    /// Counts a message that cannot be read, and keeps it in the dead letters if asked to.
    fn malformed(&mut self, reason: &str, bytes: &[u8]) -> Result<()> {
        self.counts.malformed += 1;
        if let Some(d) = self.dead.as_mut() {
            let record =
                serde_json::json!({"reason": reason, "line": String::from_utf8_lossy(bytes)});
            d.send("", record.to_string().as_bytes())?;
        }
        Ok(())
    }
}

async fn run(args: Args) -> Result<()> {
    let sink = Sink::open(&args.to, &args.kafka_options)?;
    let dead = args
        .dead_letter
        .as_ref()
        .map(|d| Sink::open(d, &[]))
        .transpose()?;
    let stop = job::stop_on_signal().map_err(|e| Error::io("signal handlers", e))?;
    // One clock across every archive object: the replay keeps the tweets' own spacing.
    let mut pacer =
        job::parse_pace(&args.pace)?.map(|speed| Pacer::new(speed, args.time_scale.max(0.0)));
    let mut ingest = Ingest {
        heartbeat: Heartbeat::new(
            args.status.as_deref(),
            Duration::from_secs(args.status_secs),
        ),
        recent: RecentIds::new(args.remember),
        args,
        sink,
        dead,
        counts: Counts::default(),
        stop,
        started: Instant::now(),
        last_tweet_ms: None,
        backoff_secs: 0.0,
        connected: false,
        was_connected: false,
        connection_limit: 0,
        finished_ok: None,
        cursor_us: None,
        instance: None,
        delivered_since_connect: false,
    };
    ingest.beat(false);
    let result = match ingest.args.from.clone() {
        // Boxed: the stream future is ~24 KB, too big to keep on the caller's stack.
        Endpoint::TwitterV1 => Box::pin(ingest.stream(false)).await,
        Endpoint::TwitterV2 => Box::pin(ingest.stream(true)).await,
        Endpoint::Jetstream(instances) => Box::pin(ingest.jetstream(&instances)).await,
        Endpoint::S3 { bucket, prefix } => ingest.archive_s3(&bucket, &prefix, &mut pacer).await,
        Endpoint::File(path) => {
            // Streamed: a 200 MB archive is not read into memory.
            let mut reader = dw_pipeline::lines::open_archive(&path)
                .map_err(|e| Error::io(format!("cannot read {}", path.display()), e))?;
            ingest.lines(&mut reader, &mut pacer)
        }
        Endpoint::Stdio => {
            let stdin = std::io::stdin();
            let mut reader = stdin.lock();
            ingest.lines(&mut reader, &mut pacer)
        }
        Endpoint::Kafka { .. } => Err("dw-ingest reads streams and archives, not Kafka".into()),
    };
    // Whatever happened, what was read is delivered before exiting; what the broker never
    // acknowledged is not counted as written.
    let flushed = ingest.sink.flush();
    let undelivered = ingest.sink.undelivered();
    ingest.counts.undelivered = undelivered;
    ingest.counts.written = ingest.counts.written.saturating_sub(undelivered);
    if let Some(d) = ingest.dead.as_mut() {
        d.flush()?;
    }
    ingest.finished_ok = Some(result.is_ok() && flushed.is_ok());
    ingest.beat(true);
    log(&format!(
        "done: {}",
        serde_json::to_string(&ingest.counts).unwrap_or_default()
    ));
    result.and(flushed)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> ExitCode {
    let args = Args::parse();
    job::set_debug(args.debug);
    match Box::pin(run(args)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log(&format!("error: {e}"));
            ExitCode::from(1)
        }
    }
}
