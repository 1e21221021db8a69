//! Twitter's filtered streams (v1.1 and v2): connecting with Twitter's reconnect rules,
//! reading frames until the connection ends, and (v2) keeping the stream rules in line with the
//! track terms.

use crate::error::{Error, Result};
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use futures_util::StreamExt;

use crate::backoff::{Backoff, Failure};
use crate::frames::{Frame, Framer, Framing};
use crate::{Ingest, SETUP_LIMIT, Waited, credentials, log, oauth};

const V1_STREAM: &str = "https://stream.twitter.com/1.1/statuses/filter.json";
const V2_STREAM: &str = "https://api.twitter.com/2/tweets/search/stream";
const V2_RULES: &str = "https://api.twitter.com/2/tweets/search/stream/rules";

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

/// Why a stream connection ended.
pub(crate) enum Ended {
    Failure(Failure, String),
    /// A disconnect message whose code says not to reconnect, or 401/403.
    GiveUp(String),
    Stopped,
}

impl Ingest {
    fn track_terms(&self) -> Result<Vec<String>> {
        let terms = self.track_terms_optional()?;
        if terms.is_empty() {
            return Err("a stream needs track terms: --track a,b,c or --track-file FILE".into());
        }
        Ok(terms)
    }

    /// The track terms given, if any (Jetstream filters here, when there are some).
    pub(crate) fn track_terms_optional(&self) -> Result<Vec<String>> {
        let mut terms: Vec<String> = self
            .args
            .track
            .iter()
            .map(|t| t.trim().to_string())
            .filter(|t| !t.is_empty())
            .collect();
        if let Some(path) = &self.args.track_file {
            let text = std::fs::read_to_string(path)
                .map_err(|e| Error::io(path.display().to_string(), e))?;
            terms.extend(
                text.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty() && !l.starts_with('#'))
                    .map(str::to_string),
            );
        }
        Ok(terms)
    }

    pub(crate) async fn stream(&mut self, v2: bool) -> Result<()> {
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
                )
                .into());
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
                    )
                    .into());
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
                Ended::GiveUp(why) => return Err(why.into()),
                Ended::Failure(f, why) => (f, why),
            };
            self.wait_to_reconnect(backoff.next(failure), &why).await;
        }
    }

    /// After a failed connection: counts it, says why, and waits `wait` (on the scaled clock),
    /// hearing SIGTERM every 100 ms.
    pub(crate) async fn wait_to_reconnect(&mut self, wait: Duration, why: &str) {
        self.counts.reconnects += 1;
        self.backoff_secs = wait.as_secs_f64();
        log(&format!("reconnecting in {} ({why})", fmt_wait(wait)));
        self.beat(false);
        let deadline = Instant::now() + self.scaled(wait);
        while Instant::now() < deadline && !self.stop.load(Ordering::Relaxed) {
            tokio::time::sleep((deadline - Instant::now()).min(Duration::from_millis(100))).await;
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
        let request = stream_request(client, url, auth, &terms.join(","));
        // The answer's headers must come within the stall time, and SIGTERM is heard meanwhile.
        let deadline = self.scaled(Duration::from_secs(self.stall_secs()));
        let response = match self.until_stopped(deadline, request.send()).await {
            Waited::Stopped => return Ended::Stopped,
            Waited::TimedOut => {
                return Ended::Failure(
                    Failure::Network,
                    format!("no answer within {}s", self.stall_secs()),
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
        let stall = self.scaled(Duration::from_secs(self.stall_secs()));
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
                            format!("no data for {}s: stalled", self.stall_secs()),
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
                if let Some(ended) = self.frame(frame, backoff, &mut parsed_one) {
                    return ended;
                }
            }
            self.beat(false);
        }
    }

    /// Handles one frame of the stream; `Some` when the connection ends with it.
    fn frame(
        &mut self,
        frame: Frame,
        backoff: &mut Backoff,
        parsed_one: &mut bool,
    ) -> Option<Ended> {
        let malformed_before = self.counts.malformed;
        match frame {
            Frame::KeepAlive => self.counts.keep_alives += 1,
            Frame::Garbage(bytes) => {
                self.counts.malformed += 1;
                log(&format!(
                    "bad framing ({} bytes): reconnecting",
                    bytes.len()
                ));
                return Some(Ended::Failure(Failure::Network, "bad framing".into()));
            }
            Frame::Message(bytes) => match self.message(&bytes) {
                Ok(None) => {
                    // Only a message that parses resets the back-off (garbage does not:
                    // a broken endpoint is not a healthy connection).
                    if !*parsed_one && self.counts.malformed == malformed_before {
                        *parsed_one = true;
                        backoff.healthy();
                        self.backoff_secs = 0.0;
                    }
                }
                Ok(Some((code, reason))) => {
                    log(&format!("disconnect message {code}: {reason}"));
                    // 2 duplicate stream, 6 token revoked, 7 admin logout: reconnecting
                    // would not help.
                    if matches!(code, 2 | 6 | 7) {
                        return Some(Ended::GiveUp(format!(
                            "the stream disconnected us for good (code {code}: {reason})"
                        )));
                    }
                    return Some(Ended::Failure(
                        Failure::Network,
                        format!("disconnect {code}"),
                    ));
                }
                Err(e) => return Some(Ended::GiveUp(e.to_string())),
            },
        }
        None
    }
}

/// The stream's request: v1.1's signed POST tracking `track`, or v2's GET with a bearer token.
fn stream_request(
    client: &reqwest::Client,
    url: &str,
    auth: &credentials::Auth,
    track: &str,
) -> reqwest::RequestBuilder {
    match auth {
        credentials::Auth::OAuth1(c) => {
            let params = [
                ("delimited", "length"),
                ("stall_warnings", "true"),
                ("track", track),
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
) -> Result<()> {
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
        .map_err(|e| Error::from(format!("stream rules: {e}")))?
        .json()
        .await
        .map_err(|e| Error::from(format!("stream rules: {e}")))?;
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
            .map_err(|e| Error::from(format!("deleting stale stream rules: {e}")))?;
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
            .map_err(|e| Error::from(format!("adding stream rules: {e}")))?;
    }
    log(&format!(
        "stream rules: {} kept, {} added, {} deleted",
        have.len() - stale.len(),
        missing.len(),
        stale.len()
    ));
    Ok(())
}
