//! What the jobs read of a streamed message: only the fields scoring and ingest need, borrowed
//! from the line (no copy of the ~4 KB of fields they never use). Twitter v1.1 statuses and
//! notices, v2 filtered-stream tweets, and dw's source-neutral post records (`crate::post`: a
//! Bluesky post reads as a [`Tweet`] too).

use std::borrow::Cow;

use serde::Deserialize;

mod lazy;
mod structure;

/// One line of a stream, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Message<'a> {
    Tweet(Tweet<'a>),
    /// A deletion notice (v1.1 `{"delete": ...}`): passed on, never scored.
    Delete {
        id: Cow<'a, str>,
    },
    /// `{"limit": {"track": N}}`: N tweets matched but were withheld since the connection began.
    Limit {
        track: u64,
    },
    /// `{"disconnect": {"code", "reason"}}`: the stream is about to close.
    Disconnect {
        code: u32,
        reason: Cow<'a, str>,
    },
    /// `{"warning": ...}` (stall warnings) and other notices.
    Notice,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Tweet<'a> {
    pub id: Cow<'a, str>,
    /// Milliseconds since the epoch.
    pub created_ms: i64,
    /// The tweet's full text (`extended_tweet.full_text` when present).
    pub text: Cow<'a, str>,
    pub user: Cow<'a, str>,
    /// The full text of the retweeted status, for a retweet.
    pub retweeted_text: Option<Cow<'a, str>>,
}

impl Tweet<'_> {
    /// The text that is scored: the retweeted text for a retweet when `original` is set.
    pub fn scored_text(&self, original: bool) -> &str {
        match (&self.retweeted_text, original) {
            (Some(t), true) => t,
            _ => &self.text,
        }
    }
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum ParseError {
    #[error("not UTF-8")]
    NotUtf8,
    #[error("not JSON: {0}")]
    Json(String),
    #[error("not a tweet or a stream notice")]
    Unknown,
    #[error("a tweet without {0}")]
    Missing(&'static str),
    #[error("a tweet with a bad time: {0}")]
    Time(String),
    #[error("a post record of version {0}, newer than this reader's")]
    Version(u32),
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    id_str: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    timestamp_ms: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    full_text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    extended_tweet: Option<Extended<'a>>,
    #[serde(borrow)]
    retweeted_status: Option<Box<Raw<'a>>>,
    #[serde(borrow)]
    user: Option<User<'a>>,
    #[serde(borrow)]
    delete: Option<Delete<'a>>,
    limit: Option<Limit>,
    #[serde(borrow)]
    disconnect: Option<Disconnect<'a>>,
    warning: Option<serde::de::IgnoredAny>,
    status_withheld: Option<serde::de::IgnoredAny>,
    user_withheld: Option<serde::de::IgnoredAny>,
    scrub_geo: Option<serde::de::IgnoredAny>,
    /// v2 filtered stream: `{"data": {...}, "includes": {...}, "matching_rules": [...]}`.
    #[serde(borrow)]
    data: Option<V2Data<'a>>,
    #[serde(borrow)]
    includes: Option<V2Includes<'a>>,
    /// dw's source-neutral post record (`crate::post::Post`).
    #[serde(borrow)]
    post: Option<RawPost<'a>>,
}

/// The fields of a post record the jobs read.
#[derive(Deserialize)]
struct RawPost<'a> {
    v: u32,
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    time_ms: Option<i64>,
    #[serde(borrow)]
    author: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Extended<'a> {
    #[serde(borrow)]
    full_text: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct User<'a> {
    #[serde(borrow)]
    screen_name: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Delete<'a> {
    #[serde(borrow)]
    status: Option<DeletedStatus<'a>>,
}

#[derive(Deserialize)]
struct DeletedStatus<'a> {
    #[serde(borrow)]
    id_str: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct Limit {
    track: Option<u64>,
}

#[derive(Deserialize)]
struct Disconnect<'a> {
    code: Option<u32>,
    #[serde(borrow)]
    reason: Option<Cow<'a, str>>,
}

#[derive(Deserialize)]
struct V2Data<'a> {
    #[serde(borrow)]
    id: Option<Cow<'a, str>>,
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow)]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow)]
    author_id: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    referenced_tweets: Vec<V2Ref<'a>>,
}

#[derive(Deserialize)]
struct V2Ref<'a> {
    #[serde(borrow, rename = "type")]
    kind: Cow<'a, str>,
    #[serde(borrow)]
    id: Cow<'a, str>,
}

#[derive(Deserialize)]
struct V2Includes<'a> {
    #[serde(borrow, default)]
    users: Vec<V2User<'a>>,
    #[serde(borrow, default)]
    tweets: Vec<V2Data<'a>>,
}

#[derive(Deserialize)]
struct V2User<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    #[serde(borrow)]
    username: Option<Cow<'a, str>>,
}

/// Twitter's text as written: its `&amp;`, `&lt;` and `&gt;` decoded, once (a text without `&`
/// stays borrowed).
pub(crate) fn twitter_text(text: Cow<'_, str>) -> Cow<'_, str> {
    match text {
        Cow::Borrowed(t) => crate::text::decode_entities(t),
        Cow::Owned(t) if memchr::memchr(b'&', t.as_bytes()).is_some() => {
            Cow::Owned(crate::text::decode_entities(&t).into_owned())
        }
        owned @ Cow::Owned(_) => owned,
    }
}

/// Parses one line (without its line end). Blank keep-alive lines are the caller's business.
/// A v1.1 status takes the fast path (`lazy`); everything else, and any status it declines,
/// is read by serde_json.
pub fn parse(line: &str) -> Result<Message<'_>, ParseError> {
    parse_bytes(line.as_bytes())
}

/// [`parse`] of raw bytes: a v1.1 status the fast path reads is not checked to be UTF-8 beyond
/// the fields it returns; anything else must be UTF-8 as a whole.
pub fn parse_bytes(line: &[u8]) -> Result<Message<'_>, ParseError> {
    match lazy::v1_tweet(line) {
        Some(t) => Ok(Message::Tweet(t)),
        None => parse_fully(std::str::from_utf8(line).map_err(|_| ParseError::NotUtf8)?),
    }
}

/// Parses one line with serde_json, every value checked: the reference the fast path equals.
pub fn parse_fully(line: &str) -> Result<Message<'_>, ParseError> {
    let raw: Raw<'_> = serde_json::from_str(line).map_err(|e| ParseError::Json(e.to_string()))?;
    if let Some(d) = raw.delete {
        let id = d
            .status
            .and_then(|s| s.id_str)
            .ok_or(ParseError::Missing("an id"))?;
        return Ok(Message::Delete { id });
    }
    if let Some(l) = raw.limit {
        return Ok(Message::Limit {
            track: l.track.unwrap_or(0),
        });
    }
    if let Some(d) = raw.disconnect {
        return Ok(Message::Disconnect {
            code: d.code.unwrap_or(0),
            reason: d.reason.unwrap_or_default(),
        });
    }
    if raw.warning.is_some()
        || raw.status_withheld.is_some()
        || raw.user_withheld.is_some()
        || raw.scrub_geo.is_some()
    {
        return Ok(Message::Notice);
    }
    if let Some(data) = raw.data {
        return v2_tweet(data, raw.includes).map(Message::Tweet);
    }
    if let Some(post) = raw.post {
        return post_tweet(post).map(Message::Tweet);
    }
    if raw.id_str.is_none() && raw.text.is_none() {
        return Err(ParseError::Unknown);
    }
    v1_tweet(raw).map(Message::Tweet)
}

fn full_text<'a>(raw: &mut Raw<'a>) -> Option<Cow<'a, str>> {
    raw.extended_tweet
        .take()
        .and_then(|e| e.full_text)
        .or_else(|| raw.full_text.take())
        .or_else(|| raw.text.take())
}

fn v1_tweet(mut raw: Raw<'_>) -> Result<Tweet<'_>, ParseError> {
    let id = raw.id_str.take().ok_or(ParseError::Missing("id_str"))?;
    let created_ms = match (&raw.timestamp_ms, &raw.created_at) {
        (Some(ms), _) => ms
            .parse::<i64>()
            .map_err(|_| ParseError::Time(ms.to_string()))?,
        (None, Some(at)) => parse_v1_time(at)?,
        (None, None) => return Err(ParseError::Missing("created_at")),
    };
    let text = twitter_text(full_text(&mut raw).ok_or(ParseError::Missing("text"))?);
    let retweeted_text = raw
        .retweeted_status
        .take()
        .and_then(|mut rt| full_text(&mut rt))
        .map(twitter_text);
    let user = raw.user.and_then(|u| u.screen_name).unwrap_or_default();
    Ok(Tweet {
        id,
        created_ms,
        text,
        user,
        retweeted_text,
    })
}

/// `Thu Feb 16 22:00:05 +0000 2017`
fn parse_v1_time(at: &str) -> Result<i64, ParseError> {
    jiff::fmt::strtime::parse("%a %b %d %H:%M:%S %z %Y", at)
        .and_then(|t| t.to_timestamp())
        .map(jiff::Timestamp::as_millisecond)
        .map_err(|_| ParseError::Time(at.to_string()))
}

fn post_tweet(post: RawPost<'_>) -> Result<Tweet<'_>, ParseError> {
    if post.v > crate::post::POST_VERSION {
        return Err(ParseError::Version(post.v));
    }
    Ok(Tweet {
        id: post.id.ok_or(ParseError::Missing("post.id"))?,
        created_ms: post.time_ms.ok_or(ParseError::Missing("post.time_ms"))?,
        text: post.text.ok_or(ParseError::Missing("post.text"))?,
        user: post.author.unwrap_or_default(),
        retweeted_text: None,
    })
}

fn v2_tweet<'a>(
    data: V2Data<'a>,
    includes: Option<V2Includes<'a>>,
) -> Result<Tweet<'a>, ParseError> {
    let id = data.id.ok_or(ParseError::Missing("data.id"))?;
    let at = data
        .created_at
        .ok_or(ParseError::Missing("data.created_at"))?;
    let created_ms = at
        .parse::<jiff::Timestamp>()
        .map_err(|_| ParseError::Time(at.to_string()))?
        .as_millisecond();
    let text = twitter_text(data.text.ok_or(ParseError::Missing("data.text"))?);
    let (mut user, mut retweeted_text) = (Cow::Borrowed(""), None);
    if let Some(inc) = includes {
        if let Some(author) = &data.author_id
            && let Some(u) = inc.users.into_iter().find(|u| &u.id == author)
        {
            user = u.username.unwrap_or_default();
        }
        if let Some(r) = data
            .referenced_tweets
            .iter()
            .find(|r| r.kind == "retweeted")
        {
            retweeted_text = inc
                .tweets
                .into_iter()
                .find(|t| t.id.as_deref() == Some(&*r.id))
                .and_then(|t| t.text)
                .map(twitter_text);
        }
    }
    Ok(Tweet {
        id,
        created_ms,
        text,
        user,
        retweeted_text,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_v1_retweet_keeps_both_texts() {
        let line = r#"{"created_at":"Thu Feb 16 22:00:05 +0000 2017","id":1,"id_str":"832348853672095744","text":"RT @a: short\u2026","user":{"screen_name":"bob","id":9},"retweeted_status":{"id_str":"7","text":"short","extended_tweet":{"full_text":"short and \"full\" text"}},"timestamp_ms":"1487282405000"}"#;
        let Message::Tweet(t) = parse(line).unwrap() else {
            panic!()
        };
        assert_eq!(t.id, "832348853672095744");
        assert_eq!(t.created_ms, 1_487_282_405_000);
        assert_eq!(t.user, "bob");
        assert_eq!(t.scored_text(true), "short and \"full\" text");
        assert_eq!(t.scored_text(false), "RT @a: short\u{2026}");
    }

    /// Twitter escapes `&`, `<` and `>`: the text is decoded once where it is read (both paths,
    /// the retweeted text too, v2 too); a post record's text is taken as written.
    #[test]
    fn twitters_escapes_are_decoded_once_where_a_tweet_is_read() {
        let line = r#"{"id_str":"1","text":"Trump &amp; Clinton &lt;3 &amp;lt;b&amp;gt;","retweeted_status":{"text":"a &gt; b"},"timestamp_ms":"1000"}"#;
        for m in [parse(line).unwrap(), parse_fully(line).unwrap()] {
            let Message::Tweet(t) = m else { panic!() };
            assert_eq!(t.text, "Trump & Clinton <3 &lt;b&gt;");
            assert_eq!(t.retweeted_text.as_deref(), Some("a > b"));
        }
        let v2 =
            r#"{"data":{"id":"5","text":"x &amp; y","created_at":"2016-02-14T02:00:01.000Z"}}"#;
        let Message::Tweet(t) = parse(v2).unwrap() else {
            panic!()
        };
        assert_eq!(t.text, "x & y");
        let post = r#"{"post":{"v":1,"source":"bluesky","id":"at://x","time_ms":1,"author":"a","author_id":"a","text":"AT&amp;T","url":"u"}}"#;
        let Message::Tweet(t) = parse(post).unwrap() else {
            panic!()
        };
        assert_eq!(t.text, "AT&amp;T", "Bluesky does not escape");
    }

    #[test]
    fn created_at_is_read_when_timestamp_ms_is_missing() {
        let line = r#"{"created_at":"Thu Feb 16 22:00:05 +0000 2017","id_str":"1","text":"x"}"#;
        let Message::Tweet(t) = parse(line).unwrap() else {
            panic!()
        };
        assert_eq!(t.created_ms, 1_487_282_405_000);
    }

    #[test]
    fn notices_are_classified() {
        assert_eq!(
            parse(r#"{"delete":{"status":{"id":1,"id_str":"1","user_id":3}}}"#).unwrap(),
            Message::Delete { id: "1".into() }
        );
        assert_eq!(
            parse(r#"{"limit":{"track":42}}"#).unwrap(),
            Message::Limit { track: 42 }
        );
        assert_eq!(
            parse(r#"{"disconnect":{"code":7,"stream_name":"x","reason":"admin logout"}}"#)
                .unwrap(),
            Message::Disconnect {
                code: 7,
                reason: "admin logout".into()
            }
        );
        assert_eq!(
            parse(r#"{"warning":{"code":"FALLING_BEHIND","message":"m","percent_full":60}}"#)
                .unwrap(),
            Message::Notice
        );
        assert_eq!(parse(r#"{"foo":1}"#).unwrap_err(), ParseError::Unknown);
        assert!(matches!(parse("{\"text\":"), Err(ParseError::Json(_))));
    }

    #[test]
    fn a_v2_tweet_reads_author_and_retweeted_text() {
        let line = r#"{"data":{"id":"5","text":"RT @x: hi","created_at":"2016-02-14T02:00:01.000Z","author_id":"9","referenced_tweets":[{"type":"retweeted","id":"4"}]},"includes":{"users":[{"id":"9","username":"ann"}],"tweets":[{"id":"4","text":"hi there"}]},"matching_rules":[{"id":"1","tag":"trump"}]}"#;
        let Message::Tweet(t) = parse(line).unwrap() else {
            panic!()
        };
        assert_eq!((t.id.as_ref(), t.user.as_ref()), ("5", "ann"));
        assert_eq!(t.created_ms, 1_455_415_201_000);
        assert_eq!(t.scored_text(true), "hi there");
    }
}

#[cfg(test)]
mod fuzz {
    use proptest::prelude::*;

    const GENUINE: &str = include_str!(
        "../../../tests/fixtures/tweets/tweets_stream_v1.1_filter_2015-11-14_sviswana.jsonl"
    );

    proptest! {
        /// Any text at all: a message or an error, never a panic.
        #[test]
        fn any_text_parses_or_fails_cleanly(text in "\\PC{0,200}") {
            let _ = super::parse(&text);
        }

        /// A genuine status cut short, or with a byte range replaced: never a panic; a cut one
        /// never a tweet.
        #[test]
        fn damaged_genuine_statuses_never_panic(cut in 0usize..2400, at in 0usize..2400, junk in "[{}\\[\\]\":,\\\\a-z0-9 ]{0,8}") {
            let line = GENUINE.trim_end();
            let mut cut_at = cut.min(line.len());
            while !line.is_char_boundary(cut_at) {
                cut_at -= 1;
            }
            // A line cut short (a connection dropped mid-line) is never read as a tweet: the
            // fast path needs the object's last bracket at the line's end.
            prop_assert!(super::parse(&line[..cut_at]).is_err() || cut_at == line.len());
            let mut at = at.min(line.len());
            while !line.is_char_boundary(at) {
                at -= 1;
            }
            let damaged = format!("{}{junk}{}", &line[..at], &line[at..]);
            // Whatever serde_json reads, the fast path reads the same.
            match super::parse_fully(&damaged) {
                Ok(m) => prop_assert_eq!(super::parse(&damaged), Ok(m)),
                Err(_) => {
                    let _ = super::parse(&damaged);
                }
            }
        }
    }
}

#[cfg(test)]
mod fast_path {
    use super::{Message, lazy, parse, parse_fully};

    const SAMPLE: &str = include_str!(
        "../../../tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl"
    );
    const FILTER: &str = include_str!(
        "../../../tests/fixtures/tweets/tweets_stream_v1.1_filter_2015-11-14_sviswana.jsonl"
    );

    fn genuine() -> impl Iterator<Item = &'static str> {
        SAMPLE
            .lines()
            .chain(FILTER.lines())
            .map(|l| l.trim_end_matches('\r'))
    }

    #[test]
    fn every_genuine_status_reads_as_serde_json_reads_it() {
        let (mut statuses, mut others) = (0, 0);
        for line in genuine() {
            match parse_fully(line) {
                Ok(Message::Tweet(t)) => {
                    assert_eq!(lazy::v1_tweet(line.as_bytes()).as_ref(), Some(&t), "{line}");
                    statuses += 1;
                }
                reference => {
                    assert!(lazy::v1_tweet(line.as_bytes()).is_none(), "{line}");
                    assert_eq!(parse(line), reference);
                    others += 1;
                }
            }
        }
        assert_eq!((statuses, others), (495, 200));
    }

    /// The same statuses with their keys sorted and pretty-printed (a newline and indent
    /// between every token), with escaped slashes undone and non-ASCII unescaped.
    #[test]
    fn key_order_and_whitespace_do_not_matter() {
        let mut n = 0;
        for line in genuine() {
            let Ok(Message::Tweet(t)) = parse_fully(line) else {
                continue;
            };
            let value: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
            let pretty = serde_json::to_string_pretty(&value).unwrap_or_default();
            assert_eq!(
                lazy::v1_tweet(pretty.as_bytes()).as_ref(),
                Some(&t),
                "{pretty}"
            );
            n += 1;
        }
        assert!(n > 400);
    }

    #[test]
    fn what_it_declines_is_read_by_serde_json() {
        let cases = [
            // An escaped key: serde_json reads it as `text`.
            (
                r#"{"id_str":"1","\u0074ext":"hi","timestamp_ms":"1000"}"#,
                true,
            ),
            // A duplicate field: serde_json refuses it.
            (
                r#"{"id_str":"1","text":"a","text":"b","timestamp_ms":"1000"}"#,
                false,
            ),
            // A field of another type.
            (r#"{"id_str":1,"text":"a","timestamp_ms":"1000"}"#, false),
            (
                r#"{"id_str":"1","text":"a","timestamp_ms":"1000","user":"bob"}"#,
                false,
            ),
            // Something after the object.
            (
                r#"{"id_str":"1","text":"a","timestamp_ms":"1000"} x"#,
                false,
            ),
            // A retweet of a retweet: serde_json reads both levels.
            (
                r#"{"id_str":"1","text":"a","timestamp_ms":"1000","retweeted_status":{"text":"b","retweeted_status":{"text":"c"}}}"#,
                true,
            ),
            // A time that is not a number.
            (r#"{"id_str":"1","text":"a","timestamp_ms":"soon"}"#, false),
        ];
        for (line, serde_reads_it) in cases {
            assert!(lazy::v1_tweet(line.as_bytes()).is_none(), "{line}");
            assert_eq!(parse_fully(line).is_ok(), serde_reads_it, "{line}");
            assert_eq!(parse(line), parse_fully(line));
        }
        // Not UTF-8: where the fast path reads (the text), and elsewhere in a notice.
        let bad_text = b"{\"id_str\":\"1\",\"text\":\"a\xff\",\"timestamp_ms\":\"1000\"}";
        assert_eq!(
            super::parse_bytes(bad_text),
            Err(super::ParseError::NotUtf8)
        );
        let bad_notice = b"{\"limit\":{\"track\":1},\"x\":\"\xff\"}";
        assert_eq!(
            super::parse_bytes(bad_notice),
            Err(super::ParseError::NotUtf8)
        );
        // A byte that is not UTF-8 in a field the scorer never reads does not stop the tweet.
        let bad_elsewhere =
            b"{\"id_str\":\"1\",\"text\":\"a\",\"user\":{\"screen_name\":\"b\",\"description\":\"\xff\"},\"timestamp_ms\":\"1000\"}";
        assert!(matches!(
            super::parse_bytes(bad_elsewhere),
            Ok(Message::Tweet(_))
        ));

        // Nulls where serde_json accepts them.
        let line = r#"{"id_str":"1","text":"a","full_text":null,"extended_tweet":null,"user":null,"retweeted_status":null,"timestamp_ms":"1000"}"#;
        assert_eq!(
            lazy::v1_tweet(line.as_bytes()).map(Message::Tweet),
            parse_fully(line).ok()
        );
    }
}
