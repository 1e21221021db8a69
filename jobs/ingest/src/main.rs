//! `dw-ingest`: reads tweets from a source (Twitter's v1.1 or v2 filtered stream, an archive on
//! S3 or in a file, stdin) and writes them, unchanged, to a sink (Kafka, a file, stdout).
//! Follows Twitter's reconnect rules; a tweet that arrives twice across reconnects is written
//! once.

mod backoff;
mod credentials;
mod frames;
mod oauth;

use std::io::{BufRead, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use backoff::{Backoff, Failure};
use clap::Parser;
use dw_pipeline::dedupe::RecentIds;
use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::kafka;
use dw_pipeline::status::Heartbeat;
use dw_pipeline::tweet::{self, Message};
use frames::{Frame, Framer, Framing};
use futures_util::StreamExt;
use serde::Serialize;

const V1_STREAM: &str = "https://stream.twitter.com/1.1/statuses/filter.json";
const V2_STREAM: &str = "https://api.twitter.com/2/tweets/search/stream";
const V2_RULES: &str = "https://api.twitter.com/2/tweets/search/stream/rules";
/// Loading the credentials and setting the v2 rules may take this long.
const SETUP_LIMIT: Duration = Duration::from_mins(1);

/// A URL for the log: any `user:password@` in it is replaced by `***@`.
fn redact(url: &str) -> String {
    match url.split_once("://") {
        Some((scheme, rest)) => {
            let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
            match rest[..authority_end].rfind('@') {
                Some(at) => format!("{scheme}://***@{}", &rest[at + 1..]),
                None => url.to_string(),
            }
        }
        None => url.to_string(),
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "dw-ingest",
    version,
    about = "Tweet streams and archives into Kafka",
    args_override_self = true
)]
struct Args {
    /// Source: twitter-v1, twitter-v2, s3://BUCKET/PREFIX/, file:PATH or -
    #[arg(long)]
    from: Endpoint,
    /// Sink: kafka://HOST:PORT/TOPIC, file:PATH or -
    #[arg(long, default_value = "-")]
    to: Endpoint,
    /// Track terms, comma-separated (streams)
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
    #[arg(long, default_value_t = 90)]
    stall_secs: u64,
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
    #[arg(long = "kafka-option", value_name = "KEY=VALUE", value_parser = parse_key_value)]
    kafka_options: Vec<(String, String)>,
    /// Tests only: every wait (back-off, stall, pace) is multiplied by this
    #[arg(long, default_value_t = 1.0, hide = true)]
    time_scale: f64,
}

fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

fn log(message: &str) {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    eprintln!("{now} dw-ingest: {message}");
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
}

struct Sink {
    kafka: Option<(kafka::Producer_, String)>,
    writer: Option<Box<dyn Write + Send>>,
    last_flush: Instant,
}

impl Sink {
    fn open(to: &Endpoint, options: &[(String, String)]) -> Result<Sink, String> {
        match to {
            Endpoint::Kafka { brokers, topic, .. } => Ok(Sink {
                kafka: Some((
                    kafka::producer(brokers, options)
                        .map_err(|e| format!("Kafka producer: {e}"))?,
                    topic.clone(),
                )),
                writer: None,
                last_flush: Instant::now(),
            }),
            Endpoint::Stdio => Ok(Sink {
                kafka: None,
                writer: Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
                last_flush: Instant::now(),
            }),
            Endpoint::File(p) => Ok(Sink {
                kafka: None,
                writer: Some(Box::new(std::io::BufWriter::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .map_err(|e| format!("cannot write {}: {e}", p.display()))?,
                ))),
                last_flush: Instant::now(),
            }),
            other => Err(format!("{other} is not a sink dw-ingest writes")),
        }
    }

    /// Queues one record; Kafka delivery failures are retried by the producer (idempotent).
    fn send(&mut self, key: &str, line: &[u8]) -> Result<(), String> {
        if let Some((producer, topic)) = &self.kafka {
            return kafka::send(producer, topic, key, line).map_err(|e| format!("Kafka: {e}"));
        }
        if let Some(w) = self.writer.as_mut() {
            w.write_all(line)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| format!("write: {e}"))?;
        }
        Ok(())
    }

    /// Files and stdout are flushed at least every 250 ms, so readers see tweets as they come.
    fn tick(&mut self) -> Result<(), String> {
        if self.last_flush.elapsed() >= Duration::from_millis(250) {
            self.last_flush = Instant::now();
            if let Some(w) = self.writer.as_mut() {
                w.flush().map_err(|e| format!("write: {e}"))?;
            }
        }
        Ok(())
    }

    /// Records the Kafka producer gave up on.
    fn undelivered(&self) -> u64 {
        self.kafka
            .as_ref()
            .map_or(0, |(producer, _)| kafka::undelivered(producer))
    }

    fn flush(&mut self) -> Result<(), String> {
        if let Some((producer, _)) = &self.kafka {
            kafka::flush(producer, Duration::from_mins(1))
                .map_err(|e| format!("Kafka: records not acknowledged: {e}"))?;
        }
        if let Some(w) = self.writer.as_mut() {
            w.flush().map_err(|e| format!("write: {e}"))?;
        }
        Ok(())
    }
}

/// Why a stream connection ended.
enum Ended {
    Failure(Failure, String),
    /// A disconnect message whose code says not to reconnect, or 401/403.
    GiveUp(String),
    Stopped,
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
}

/// How a wait for a future ended.
enum Waited<T> {
    Done(T),
    TimedOut,
    Stopped,
}

impl Ingest {
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
        if let Some(ok) = self.finished_ok {
            status["exit"] = if ok { "ok" } else { "error" }.into();
        }
        if let Err(e) = self.heartbeat.beat(&status, done) {
            log(&format!("heartbeat: {e}"));
        }
    }

    /// Handles one message; returns the disconnect code if it was a disconnect notice.
    fn message(&mut self, bytes: &[u8]) -> Result<Option<(u32, String)>, String> {
        self.counts.received += 1;
        let parsed = std::str::from_utf8(bytes)
            .map_err(|_| "not UTF-8".to_string())
            .and_then(|text| tweet::parse(text).map_err(|e| e.to_string()));
        match parsed {
            Ok(Message::Tweet(t)) => {
                if self.recent.first_time(&t.id) {
                    self.sink.send(&t.id, bytes)?;
                    self.counts.written += 1;
                    self.last_tweet_ms = Some(t.created_ms);
                } else {
                    self.counts.duplicates += 1;
                }
            }
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
            Err(reason) => {
                self.counts.malformed += 1;
                if let Some(d) = self.dead.as_mut() {
                    let record = serde_json::json!({"reason": reason, "line": String::from_utf8_lossy(bytes)});
                    d.send("", record.to_string().as_bytes())?;
                }
            }
        }
        Ok(None)
    }

    fn track_terms(&self) -> Result<Vec<String>, String> {
        let mut terms: Vec<String> = self
            .args
            .track
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(path) = &self.args.track_file {
            let text =
                std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            terms.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            );
        }
        if terms.is_empty() {
            return Err("a stream needs track terms: --track a,b,c or --track-file FILE".into());
        }
        Ok(terms)
    }

    async fn stream(&mut self, v2: bool) -> Result<(), String> {
        let terms = self.track_terms()?;
        let auth = match self
            .until_stopped(
                SETUP_LIMIT,
                Box::pin(credentials::load(&self.args.credentials, v2)),
            )
            .await
        {
            Waited::Done(auth) => auth?,
            Waited::TimedOut => {
                return Err(format!(
                    "no credentials from {} within {}s",
                    self.args.credentials,
                    SETUP_LIMIT.as_secs()
                ));
            }
            Waited::Stopped => return Ok(()),
        };
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .build()
            .map_err(|e| e.to_string())?;
        if let (true, credentials::Auth::Bearer(token)) = (v2, &auth) {
            let rules = self.args.rules_url.as_deref().unwrap_or(V2_RULES);
            match self
                .until_stopped(SETUP_LIMIT, sync_rules(&client, rules, token, &terms))
                .await
            {
                Waited::Done(done) => done?,
                Waited::TimedOut => {
                    return Err(format!(
                        "the stream rules at {} did not answer within {}s",
                        redact(rules),
                        SETUP_LIMIT.as_secs()
                    ));
                }
                Waited::Stopped => return Ok(()),
            }
        }
        let url = self
            .args
            .stream_url
            .clone()
            .unwrap_or_else(|| (if v2 { V2_STREAM } else { V1_STREAM }).to_string());
        let mut backoff = Backoff::default();
        log(&format!(
            "streaming {} terms from {}",
            terms.len(),
            redact(&url)
        ));
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(());
            }
            let ended = self
                .connection(&client, &url, &auth, &terms, v2, &mut backoff)
                .await;
            self.connected = false;
            let (failure, why) = match ended {
                Ended::Stopped => return Ok(()),
                Ended::GiveUp(why) => return Err(why),
                Ended::Failure(f, why) => (f, why),
            };
            let wait = backoff.next(failure);
            self.counts.reconnects += 1;
            self.backoff_secs = wait.as_secs_f64();
            log(&format!("reconnecting in {} ({why})", fmt_wait(wait)));
            self.beat(false);
            let deadline = Instant::now() + self.scaled(wait);
            while Instant::now() < deadline && !self.stop.load(Ordering::Relaxed) {
                tokio::time::sleep((deadline - Instant::now()).min(Duration::from_millis(100)))
                    .await;
            }
        }
    }

    async fn connection(
        &mut self,
        client: &reqwest::Client,
        url: &str,
        auth: &credentials::Auth,
        terms: &[String],
        v2: bool,
        backoff: &mut Backoff,
    ) -> Ended {
        let track = terms.join(",");
        let request = match auth {
            credentials::Auth::OAuth1(c) => {
                let params = [
                    ("delimited", "length"),
                    ("stall_warnings", "true"),
                    ("track", track.as_str()),
                ];
                let nonce: String = {
                    use rand::Rng;
                    let mut rng = rand::rng();
                    (0..32)
                        .map(|_| rng.sample(rand::distr::Alphanumeric) as char)
                        .collect()
                };
                let header = oauth::authorization(
                    c,
                    "POST",
                    url,
                    &params,
                    &nonce,
                    jiff::Timestamp::now().as_second(),
                );
                let body = params
                    .iter()
                    .map(|(k, v)| format!("{}={}", oauth::encode(k), oauth::encode(v)))
                    .collect::<Vec<_>>()
                    .join("&");
                client
                    .post(url)
                    .header("Authorization", header)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .body(body)
            }
            credentials::Auth::Bearer(token) => client
                .get(url)
                .query(&[
                    ("tweet.fields", "created_at,author_id,referenced_tweets"),
                    ("expansions", "author_id,referenced_tweets.id"),
                    ("user.fields", "username"),
                ])
                .bearer_auth(token),
        };
        // The answer's headers must come within the stall time, and SIGTERM is heard meanwhile.
        let deadline = self.scaled(Duration::from_secs(self.args.stall_secs));
        let response = match self.until_stopped(deadline, request.send()).await {
            Waited::Stopped => return Ended::Stopped,
            Waited::TimedOut => {
                return Ended::Failure(
                    Failure::Network,
                    format!("no answer within {}s", self.args.stall_secs),
                );
            }
            Waited::Done(Ok(r)) => r,
            Waited::Done(Err(e)) => {
                return Ended::Failure(Failure::Network, format!("connection failed: {e}"));
            }
        };
        let status = response.status().as_u16();
        match status {
            200 => {}
            401 | 403 => {
                return Ended::GiveUp(format!(
                    "the stream refused the credentials (HTTP {status}): check {}",
                    self.args.credentials
                ));
            }
            _ => return Ended::Failure(Failure::Http(status), format!("HTTP {status}")),
        }
        self.connection_limit = 0;
        let mut framer = Framer::new(if v2 { Framing::Lines } else { Framing::Length });
        let mut body = response.bytes_stream();
        let stall = self.scaled(Duration::from_secs(self.args.stall_secs));
        let mut last_data = Instant::now();
        let mut parsed_one = false;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ended::Stopped;
            }

            // Short waits, so that `stop` is seen promptly; the stall clock runs across them.
            let next = tokio::time::timeout(
                stall.clamp(Duration::from_millis(1), Duration::from_millis(200)),
                body.next(),
            );
            let chunk = match next.await {
                Err(_) => {
                    // A quiet stream: what was written still reaches the file within 250 ms.
                    self.beat(false);
                    if last_data.elapsed() >= stall {
                        return Ended::Failure(
                            Failure::Network,
                            format!("no data for {}s: stalled", self.args.stall_secs),
                        );
                    }
                    continue;
                }
                Ok(None) => return Ended::Failure(Failure::Network, "the stream closed".into()),
                Ok(Some(Err(e))) => {
                    return Ended::Failure(Failure::Network, format!("the stream broke: {e}"));
                }
                Ok(Some(Ok(bytes))) => bytes,
            };
            last_data = Instant::now();
            if !self.connected {
                self.connected = true;
                self.was_connected = true;
                log("connected");
            }
            for frame in framer.push(&chunk) {
                let malformed_before = self.counts.malformed;
                match frame {
                    Frame::KeepAlive => self.counts.keep_alives += 1,
                    Frame::Garbage(bytes) => {
                        self.counts.malformed += 1;
                        log(&format!(
                            "bad framing ({} bytes): reconnecting",
                            bytes.len()
                        ));
                        return Ended::Failure(Failure::Network, "bad framing".into());
                    }
                    Frame::Message(bytes) => match self.message(&bytes) {
                        Ok(None) => {
                            // Only a message that parses resets the back-off (garbage does not:
                            // a broken endpoint is not a healthy connection).
                            if !parsed_one && self.counts.malformed == malformed_before {
                                parsed_one = true;
                                backoff.healthy();
                                self.backoff_secs = 0.0;
                            }
                        }
                        Ok(Some((code, reason))) => {
                            log(&format!("disconnect message {code}: {reason}"));
                            // 2 duplicate stream, 6 token revoked, 7 admin logout: reconnecting
                            // would not help.
                            if matches!(code, 2 | 6 | 7) {
                                return Ended::GiveUp(format!(
                                    "the stream disconnected us for good (code {code}: {reason})"
                                ));
                            }
                            return Ended::Failure(Failure::Network, format!("disconnect {code}"));
                        }
                        Err(e) => return Ended::GiveUp(e),
                    },
                }
            }
            self.beat(false);
        }
    }

    /// Archive lines (a file, stdin or S3 objects), paced by the tweets' own times.
    fn lines(
        &mut self,
        reader: &mut dyn BufRead,
        pace: Option<f64>,
        clock: &mut Option<(i64, Instant)>,
    ) -> Result<(), String> {
        let mut buf = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            let Some(line) = dw_pipeline::lines::read_line(reader, &mut buf, frames::MAX_MESSAGE)
                .map_err(|e| format!("read: {e}"))?
            else {
                break;
            };
            match line {
                dw_pipeline::lines::Line::TooLong(_) => {
                    self.counts.malformed += 1;
                    continue;
                }
                dw_pipeline::lines::Line::Text if buf.iter().all(u8::is_ascii_whitespace) => {
                    self.counts.keep_alives += 1;
                    continue;
                }
                dw_pipeline::lines::Line::Text => {}
            }
            if !self.connected {
                self.connected = true;
                self.was_connected = true;
                log("reading records");
            }
            if let (Some(speed), Ok(text)) = (pace, std::str::from_utf8(&buf))
                && let Ok(Message::Tweet(t)) = tweet::parse(text)
            {
                let (t0, w0) = *clock.get_or_insert((t.created_ms, Instant::now()));
                let due = w0
                    + self.scaled(Duration::from_millis(
                        ((t.created_ms - t0).max(0) as f64 / speed) as u64,
                    ));
                // In short steps: SIGTERM is heard within 100 ms, however long the gap.
                while Instant::now() < due && !self.stop.load(Ordering::Relaxed) {
                    std::thread::sleep((due - Instant::now()).min(Duration::from_millis(100)));
                }
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            let line = buf.clone();
            if let Some((code, reason)) = self.message(&line)? {
                log(&format!(
                    "archive holds a disconnect notice ({code}: {reason})"
                ));
            }
            self.beat(false);
        }
        Ok(())
    }

    async fn archive_s3(
        &mut self,
        bucket: &str,
        prefix: &str,
        pace: Option<f64>,
    ) -> Result<(), String> {
        let s3 = dw_pipeline::s3::client_from_env().await;
        let keys = dw_pipeline::s3::list_keys(&s3, bucket, prefix).await?;
        log(&format!(
            "replaying {} objects of s3://{bucket}/{prefix}",
            keys.len()
        ));
        // One object at a time through a temporary file: memory stays small whatever the
        // archive's size.
        let dir = tempfile::tempdir().map_err(|e| format!("a temporary directory: {e}"))?;
        let mut clock = None;
        for key in keys {
            let name = key.rsplit('/').next().unwrap_or("object");
            let path = dir.path().join(name);
            dw_pipeline::s3::download(&s3, bucket, &key, &path).await?;
            let mut reader = dw_pipeline::lines::open_archive(&path)
                .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?;
            self.lines(&mut reader, pace, &mut clock)?;
            std::fs::remove_file(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        }
        Ok(())
    }
}

fn fmt_wait(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else {
        format!("{}s", d.as_secs_f64())
    }
}

/// Brings the v2 stream rules in line with the track terms: adds the missing, deletes the stale.
async fn sync_rules(
    client: &reqwest::Client,
    url: &str,
    token: &str,
    terms: &[String],
) -> Result<(), String> {
    // Rules are at most 512 characters: terms OR-ed together, phrases quoted.
    let mut wanted: Vec<String> = Vec::new();
    let mut current = String::new();
    for t in terms {
        let term = if t.contains(' ') {
            format!("\"{t}\"")
        } else {
            t.clone()
        };
        if !current.is_empty() && current.len() + term.len() + 4 > 512 {
            wanted.push(std::mem::take(&mut current));
        }
        if !current.is_empty() {
            current.push_str(" OR ");
        }
        current.push_str(&term);
    }
    if !current.is_empty() {
        wanted.push(current);
    }
    let existing: serde_json::Value = client
        .get(url)
        .bearer_auth(token)
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(|e| format!("stream rules: {e}"))?
        .json()
        .await
        .map_err(|e| format!("stream rules: {e}"))?;
    let have: Vec<(String, String)> = existing["data"]
        .as_array()
        .map(|rules| {
            rules
                .iter()
                .filter_map(|r| {
                    Some((
                        r["id"].as_str()?.to_string(),
                        r["value"].as_str()?.to_string(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    let stale: Vec<&str> = have
        .iter()
        .filter(|(_, v)| !wanted.contains(v))
        .map(|(id, _)| id.as_str())
        .collect();
    let missing: Vec<&String> = wanted
        .iter()
        .filter(|w| !have.iter().any(|(_, v)| v == *w))
        .collect();
    if !stale.is_empty() {
        client
            .post(url)
            .bearer_auth(token)
            .json(&serde_json::json!({"delete": {"ids": stale}}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("deleting stale stream rules: {e}"))?;
    }
    if !missing.is_empty() {
        let add: Vec<serde_json::Value> = missing
            .iter()
            .map(|v| serde_json::json!({"value": v, "tag": "dw"}))
            .collect();
        client
            .post(url)
            .bearer_auth(token)
            .json(&serde_json::json!({"add": add}))
            .send()
            .await
            .and_then(reqwest::Response::error_for_status)
            .map_err(|e| format!("adding stream rules: {e}"))?;
    }
    log(&format!(
        "stream rules: {} kept, {} added, {} deleted",
        have.len() - stale.len(),
        missing.len(),
        stale.len()
    ));
    Ok(())
}

fn pace(s: &str) -> Result<Option<f64>, String> {
    match s {
        "max" => Ok(None),
        other => other
            .strip_suffix('x')
            .and_then(|n| n.parse::<f64>().ok())
            .filter(|n| *n > 0.0)
            .map(Some)
            .ok_or_else(|| format!("`{other}` is not a pace: 1x, 10x, ... or max")),
    }
}

async fn run(args: Args) -> Result<(), String> {
    let sink = Sink::open(&args.to, &args.kafka_options)?;
    let dead = args
        .dead_letter
        .as_ref()
        .map(|d| Sink::open(d, &[]))
        .transpose()?;
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop)).map_err(|e| e.to_string())?;
    }
    let speed = pace(&args.pace)?;
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
    };
    ingest.beat(false);
    let result = match ingest.args.from.clone() {
        // Boxed: the stream future is ~24 KB, too big to keep on the caller's stack.
        Endpoint::TwitterV1 => Box::pin(ingest.stream(false)).await,
        Endpoint::TwitterV2 => Box::pin(ingest.stream(true)).await,
        Endpoint::S3 { bucket, prefix } => ingest.archive_s3(&bucket, &prefix, speed).await,
        Endpoint::File(path) => {
            // Streamed: a 200 MB archive is not read into memory.
            let mut reader = dw_pipeline::lines::open_archive(&path)
                .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
            let mut clock = None;
            ingest.lines(&mut reader, speed, &mut clock)
        }
        Endpoint::Stdio => {
            let stdin = std::io::stdin();
            let mut reader = stdin.lock();
            let mut clock = None;
            ingest.lines(&mut reader, speed, &mut clock)
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
    match Box::pin(run(args)).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            log(&format!("error: {e}"));
            ExitCode::from(1)
        }
    }
}
