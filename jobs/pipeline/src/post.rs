//! The source-neutral post: what dw-ingest writes for a source that is not Twitter's own JSON
//! (Bluesky today), one JSON line `{"post": {...}}`. dw-score, `dw replay` and the archives read
//! it as they read a Twitter status (`tweet::parse`): the same scoring, attribution and windows.
//! Twitter statuses stay as Twitter sent them (existing archives, the held-out tests and the
//! scorer's fast path read them so).
//!
//! Version 1 fields: `source` (`"bluesky"`), `id` (globally unique: a Bluesky post's AT URI),
//! `time_ms` (when the source saw it: Jetstream's `time_us`, which a client cannot set; windows
//! go by it), `author` (a handle when known, else `author_id`), `author_id` (a DID), `text`,
//! `lang` (the first declared language, if any), `url` (the post on the web), `created_at` (what
//! the posting client claims, kept as sent).

use serde::{Deserialize, Serialize};

/// The post record's format version (`v`); readers accept this one and older.
pub const POST_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Post {
    pub v: u32,
    pub source: String,
    pub id: String,
    pub time_ms: i64,
    pub author: String,
    pub author_id: String,
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lang: Option<String>,
    pub url: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<String>,
}

#[derive(Serialize)]
struct Line<'a> {
    post: &'a Post,
}

impl Post {
    /// The record as one JSON line (without its line end).
    pub fn to_line(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(&Line { post: self }).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tweet::{self, Message};

    fn post() -> Post {
        Post {
            v: POST_VERSION,
            source: "bluesky".into(),
            id: "at://did:plc:abc/app.bsky.feed.post/3l3qo2vuowo2b".into(),
            time_ms: 1_725_911_162_329,
            author: "alice.bsky.social".into(),
            author_id: "did:plc:abc".into(),
            text: "Trump said \"great\" \u{2014} & <b>not</b> fine".into(),
            lang: Some("en".into()),
            url: "https://bsky.app/profile/did:plc:abc/post/3l3qo2vuowo2b".into(),
            created_at: Some("2024-09-09T19:46:02.102Z".into()),
        }
    }

    #[test]
    fn a_post_line_reads_as_a_tweet_with_its_own_fields() {
        let p = post();
        let line = p.to_line();
        let Message::Tweet(t) = tweet::parse(&line).unwrap() else {
            panic!("{line}")
        };
        assert_eq!(t.id, p.id);
        assert_eq!(t.created_ms, p.time_ms);
        assert_eq!(t.text, p.text);
        assert_eq!(t.user, "alice.bsky.social");
        assert_eq!(t.retweeted_text, None);
        let back: serde_json::Value = serde_json::from_str(&line).unwrap();
        let back: Post = serde_json::from_value(back["post"].clone()).unwrap();
        assert_eq!(back, p);
    }

    #[test]
    fn a_post_without_a_text_or_of_a_newer_version_is_refused() {
        let line = r#"{"post":{"v":1,"source":"bluesky","id":"at://x","time_ms":1,"author":"a","author_id":"a","url":"u"}}"#;
        assert!(tweet::parse(line).is_err());
        let line = r#"{"post":{"v":2,"source":"bluesky","id":"at://x","time_ms":1,"author":"a","author_id":"a","text":"t","url":"u"}}"#;
        assert!(tweet::parse(line).is_err());
    }
}
