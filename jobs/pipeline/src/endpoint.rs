//! Where the jobs read from and write to, as one URL each (shared by `dw-ingest` and
//! `dw-score`): `-`, `file:PATH`, `kafka://HOST:PORT[,HOST:PORT]/TOPIC[?group=NAME]`,
//! `s3://BUCKET/PREFIX`, `twitter-v1`, `twitter-v2`, `bluesky` (the public Jetstream instances)
//! and `jetstream+ws://HOST:PORT/subscribe` / `jetstream+wss://...` (any instance; several,
//! comma-separated, are tried in turn).

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    Stdio,
    File(PathBuf),
    Kafka {
        brokers: String,
        topic: String,
        group: Option<String>,
    },
    S3 {
        bucket: String,
        prefix: String,
    },
    TwitterV1,
    TwitterV2,
    /// Bluesky's Jetstream: the WebSocket URLs (`ws://` or `wss://`) of the instances to try in
    /// turn. `bluesky` is [`BLUESKY_INSTANCES`].
    Jetstream(Vec<String>),
}

/// Bluesky's public Jetstream instances, in the order dw tries them.
pub const BLUESKY_INSTANCES: [&str; 4] = [
    "wss://jetstream1.us-east.bsky.network/subscribe",
    "wss://jetstream2.us-east.bsky.network/subscribe",
    "wss://jetstream1.us-west.bsky.network/subscribe",
    "wss://jetstream2.us-west.bsky.network/subscribe",
];

impl Endpoint {
    /// `bluesky`: the public instances.
    pub fn bluesky() -> Endpoint {
        Endpoint::Jetstream(BLUESKY_INSTANCES.iter().map(|s| (*s).to_string()).collect())
    }
}

/// `jetstream+ws://HOST[:PORT]/PATH` -> `ws://HOST[:PORT]/PATH` (no query: dw writes its own).
fn jetstream_url(s: &str) -> Option<String> {
    let (scheme, rest) = if let Some(rest) = s.strip_prefix("jetstream+wss://") {
        ("wss", rest)
    } else {
        ("ws", s.strip_prefix("jetstream+ws://")?)
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let ok =
        !host.is_empty() && !host.contains(['@', '?', '#', ' ']) && !path.contains(['?', '#', ' ']);
    ok.then(|| format!("{scheme}://{host}/{path}"))
}

impl FromStr for Endpoint {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let usage = || {
            format!(
                "`{s}` is not a source or sink: use -, file:PATH, kafka://HOST:PORT/TOPIC[?group=NAME], \
                 s3://BUCKET/PREFIX, twitter-v1, twitter-v2, bluesky or \
                 jetstream+ws[s]://HOST:PORT/subscribe[,...]"
            )
        };
        match s {
            "-" => return Ok(Endpoint::Stdio),
            "bluesky" => return Ok(Endpoint::bluesky()),
            "twitter-v1" => return Ok(Endpoint::TwitterV1),
            "twitter-v2" => return Ok(Endpoint::TwitterV2),
            _ => {}
        }
        if let Some(path) = s.strip_prefix("file:") {
            let path = path.strip_prefix("//").unwrap_or(path);
            if path.is_empty() {
                return Err(usage());
            }
            return Ok(Endpoint::File(PathBuf::from(path)));
        }
        if let Some(rest) = s.strip_prefix("kafka://") {
            let (rest, query) = rest.split_once('?').unwrap_or((rest, ""));
            let (brokers, topic) = rest.split_once('/').ok_or_else(usage)?;
            if brokers.is_empty() || topic.is_empty() || topic.contains('/') {
                return Err(usage());
            }
            let mut group = None;
            for pair in query.split('&').filter(|p| !p.is_empty()) {
                match pair.split_once('=') {
                    Some(("group", g)) if !g.is_empty() => group = Some(g.to_string()),
                    _ => {
                        return Err(format!(
                            "`{s}`: unknown or empty query `{pair}` (only group=NAME)"
                        ));
                    }
                }
            }
            return Ok(Endpoint::Kafka {
                brokers: brokers.to_string(),
                topic: topic.to_string(),
                group,
            });
        }
        if s.starts_with("jetstream+") {
            let urls: Option<Vec<String>> = s.split(',').map(jetstream_url).collect();
            return urls
                .filter(|u| !u.is_empty())
                .map(Endpoint::Jetstream)
                .ok_or_else(usage);
        }
        if let Some((bucket, prefix)) = split_s3(s) {
            if bucket.is_empty() {
                return Err(usage());
            }
            return Ok(Endpoint::S3 {
                bucket: bucket.to_string(),
                prefix: prefix.trim_end_matches('/').to_string(),
            });
        }
        Err(usage())
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Stdio => f.write_str("-"),
            Endpoint::File(p) => write!(f, "file:{}", p.display()),
            Endpoint::Kafka {
                brokers,
                topic,
                group,
            } => {
                write!(f, "kafka://{brokers}/{topic}")?;
                match group {
                    Some(g) => write!(f, "?group={g}"),
                    None => Ok(()),
                }
            }
            Endpoint::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
            Endpoint::TwitterV1 => f.write_str("twitter-v1"),
            Endpoint::TwitterV2 => f.write_str("twitter-v2"),
            Endpoint::Jetstream(urls) if *self == Endpoint::bluesky() && !urls.is_empty() => {
                f.write_str("bluesky")
            }
            Endpoint::Jetstream(urls) => {
                let forms: Vec<String> = urls.iter().map(|u| format!("jetstream+{u}")).collect();
                f.write_str(&forms.join(","))
            }
        }
    }
}

/// `s3://BUCKET/KEY` as (BUCKET, KEY): the one place an S3 URI is split. KEY is what follows
/// the first slash (empty without one); either may be empty, and each caller says what it
/// needs of them (a bucket, a key, slashes trimmed).
pub fn split_s3(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("s3://")?;
    Some(rest.split_once('/').unwrap_or((rest, "")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_uri_splits_at_its_first_slash() {
        assert_eq!(split_s3("s3://b/dw/results/"), Some(("b", "dw/results/")));
        assert_eq!(split_s3("s3://b"), Some(("b", "")));
        assert_eq!(split_s3("s3:///k"), Some(("", "k")));
        assert_eq!(split_s3("file:/tmp"), None);
    }

    #[test]
    fn every_form_parses_and_prints_back() {
        for s in [
            "-",
            "file:out/w.jsonl",
            "kafka://127.0.0.1:9092/tweets",
            "kafka://a:1,b:2/tweets?group=score",
            "s3://bucket/dw/results",
            "twitter-v1",
            "twitter-v2",
            "bluesky",
            "jetstream+ws://127.0.0.1:6008/subscribe",
            "jetstream+ws://127.0.0.1:1/subscribe,jetstream+wss://js.example.org/subscribe",
        ] {
            let e: Endpoint = s.parse().unwrap();
            assert_eq!(e.to_string(), s);
        }
        assert_eq!(
            "jetstream+wss://a.example/subscribe".parse::<Endpoint>(),
            Ok(Endpoint::Jetstream(vec![
                "wss://a.example/subscribe".into()
            ]))
        );
        assert_eq!(
            "bluesky".parse::<Endpoint>().unwrap(),
            Endpoint::Jetstream(BLUESKY_INSTANCES.map(str::to_string).to_vec())
        );
        for bad in [
            "",
            "file:",
            "kafka://host",
            "kafka://h:1/t?x=1",
            "s3://",
            "http://x",
            "jetstream+ws://",
            "jetstream+http://x/subscribe",
            "jetstream+ws://h/subscribe?cursor=1",
            "jetstream+ws://h/subscribe,",
            "jetstream+ws://u:p@h/subscribe",
        ] {
            assert!(bad.parse::<Endpoint>().is_err(), "{bad}");
        }
    }
}
