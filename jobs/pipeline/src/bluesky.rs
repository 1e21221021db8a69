//! Bluesky's Jetstream events (JSON, one per WebSocket message), as dw-ingest reads them: a post
//! create becomes a [`Post`]; identity events name a DID's handle; account events, deletes,
//! updates and other collections are counted and passed over.
//!
//! Shape (Jetstream v1, `/subscribe`): `{"did", "time_us", "kind": "commit"|"identity"|"account",
//! "commit": {"rev", "operation": "create"|"update"|"delete", "collection", "rkey", "record",
//! "cid"}, "identity": {"did", "handle", "seq", "time"}, "account": {...}}`.

use std::borrow::Cow;

use serde::Deserialize;

use crate::post::{POST_VERSION, Post};

/// The zstd dictionary Jetstream v1 compresses its messages with (`compress=true`), from
/// bluesky-social/jetstream (MIT; `data/bluesky/`).
pub const ZSTD_DICTIONARY: &[u8] =
    include_bytes!("../../../data/bluesky/jetstream_v1_subscribe.zdict");

/// The collection of posts, the only one dw subscribes to (`wantedCollections`).
pub const POST_COLLECTION: &str = "app.bsky.feed.post";

/// One event, classified.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    Post(PostCreate<'a>),
    /// A DID's current handle (`None`: the handle is invalid or gone).
    Identity {
        did: Cow<'a, str>,
        handle: Option<Cow<'a, str>>,
    },
    Account,
    /// A post deleted: passed over (a window already counted it).
    Delete,
    /// An update, or a commit to another collection (a stand-in or instance that ignores
    /// `wantedCollections`).
    OtherCommit,
}

/// A new post, borrowed from its event.
#[derive(Debug, Clone, PartialEq)]
pub struct PostCreate<'a> {
    pub did: Cow<'a, str>,
    pub rkey: Cow<'a, str>,
    pub text: Cow<'a, str>,
    pub langs: Vec<Cow<'a, str>>,
    pub created_at: Option<Cow<'a, str>>,
}

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum EventError {
    #[error("not JSON: {0}")]
    Json(String),
    #[error("an event without {0}")]
    Missing(&'static str),
    #[error("an event with a bad {0}")]
    Bad(&'static str),
}

#[derive(Deserialize)]
struct Raw<'a> {
    #[serde(borrow)]
    did: Option<Cow<'a, str>>,
    time_us: Option<i64>,
    #[serde(borrow)]
    kind: Option<Cow<'a, str>>,
    #[serde(borrow)]
    commit: Option<RawCommit<'a>>,
    #[serde(borrow)]
    identity: Option<RawIdentity<'a>>,
}

#[derive(Deserialize)]
struct RawCommit<'a> {
    #[serde(borrow)]
    operation: Option<Cow<'a, str>>,
    #[serde(borrow)]
    collection: Option<Cow<'a, str>>,
    #[serde(borrow)]
    rkey: Option<Cow<'a, str>>,
    #[serde(borrow)]
    record: Option<RawRecord<'a>>,
}

#[derive(Deserialize)]
struct RawRecord<'a> {
    #[serde(borrow)]
    text: Option<Cow<'a, str>>,
    #[serde(borrow, rename = "createdAt")]
    created_at: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    langs: Option<Vec<Cow<'a, str>>>,
}

#[derive(Deserialize)]
struct RawIdentity<'a> {
    #[serde(borrow)]
    did: Option<Cow<'a, str>>,
    #[serde(borrow)]
    handle: Option<Cow<'a, str>>,
}

/// A DID as Bluesky writes them (`did:plc:...`, `did:web:...`): what a link may hold.
pub fn valid_did(did: &str) -> bool {
    did.len() <= 2048
        && did.strip_prefix("did:").is_some_and(|rest| {
            let (method, id) = rest.split_once(':').unwrap_or(("", ""));
            !method.is_empty()
                && method.bytes().all(|b| b.is_ascii_lowercase())
                && !id.is_empty()
                && id
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"._:%-".contains(&b))
        })
}

/// A record key (atproto: 1-512 of `A-Za-z0-9.-_:~`, not `.` or `..`).
pub fn valid_rkey(rkey: &str) -> bool {
    (1..=512).contains(&rkey.len())
        && rkey != "."
        && rkey != ".."
        && rkey
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-_:~".contains(&b))
}

/// A handle (a domain name): what the page may show after `@`.
pub fn valid_handle(handle: &str) -> bool {
    (3..=253).contains(&handle.len())
        && handle.contains('.')
        && handle
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".-".contains(&b))
}

/// Reads one Jetstream event: its `time_us` (the cursor) and what it is.
pub fn parse_event(json: &[u8]) -> Result<(i64, Event<'_>), EventError> {
    let raw: Raw<'_> = serde_json::from_slice(json).map_err(|e| EventError::Json(e.to_string()))?;
    let time_us = raw.time_us.ok_or(EventError::Missing("time_us"))?;
    let event = match raw.kind.as_deref() {
        Some("commit") => commit(raw.did, raw.commit)?,
        Some("identity") => {
            let identity = raw.identity.ok_or(EventError::Missing("identity"))?;
            let did = identity.did.or(raw.did).ok_or(EventError::Missing("did"))?;
            Event::Identity {
                handle: identity
                    .handle
                    .filter(|h| valid_handle(h) && h != "handle.invalid"),
                did,
            }
        }
        Some("account") => Event::Account,
        Some(_) => return Err(EventError::Bad("kind")),
        None => return Err(EventError::Missing("kind")),
    };
    Ok((time_us, event))
}

fn commit<'a>(
    did: Option<Cow<'a, str>>,
    commit: Option<RawCommit<'a>>,
) -> Result<Event<'a>, EventError> {
    let c = commit.ok_or(EventError::Missing("commit"))?;
    let operation = c.operation.ok_or(EventError::Missing("commit.operation"))?;
    if c.collection.as_deref() != Some(POST_COLLECTION) {
        return Ok(Event::OtherCommit);
    }
    match &*operation {
        "create" => {}
        "delete" => return Ok(Event::Delete),
        _ => return Ok(Event::OtherCommit),
    }
    let did = did.ok_or(EventError::Missing("did"))?;
    if !valid_did(&did) {
        return Err(EventError::Bad("did"));
    }
    let rkey = c.rkey.ok_or(EventError::Missing("commit.rkey"))?;
    if !valid_rkey(&rkey) {
        return Err(EventError::Bad("commit.rkey"));
    }
    let record = c.record.ok_or(EventError::Missing("commit.record"))?;
    Ok(Event::Post(PostCreate {
        did,
        rkey,
        text: record.text.ok_or(EventError::Missing("record.text"))?,
        langs: record.langs.unwrap_or_default(),
        created_at: record.created_at,
    }))
}

/// A post's AT URI: its id in dw.
pub fn post_uri(did: &str, rkey: &str) -> String {
    format!("at://{did}/{POST_COLLECTION}/{rkey}")
}

/// A post's page on the web.
pub fn post_url(did: &str, rkey: &str) -> String {
    format!("https://bsky.app/profile/{did}/post/{rkey}")
}

/// Whether a post declares `wanted` among its languages (`en` matches `en`, `EN-us`; tags are
/// BCP-47).
pub fn declares_language(langs: &[Cow<'_, str>], wanted: &str) -> bool {
    langs.iter().any(|l| {
        let primary = l.split(['-', '_']).next().unwrap_or("");
        primary.eq_ignore_ascii_case(wanted)
    })
}

impl PostCreate<'_> {
    /// The post record, seen by the source at `time_us`, by `handle` when it is known.
    pub fn to_post(&self, time_us: i64, handle: Option<&str>) -> Post {
        Post {
            v: POST_VERSION,
            source: "bluesky".into(),
            id: post_uri(&self.did, &self.rkey),
            time_ms: time_us.div_euclid(1000),
            author: handle.unwrap_or(&self.did).to_string(),
            author_id: self.did.to_string(),
            text: self.text.to_string(),
            lang: self.langs.first().map(ToString::to_string),
            url: post_url(&self.did, &self.rkey),
            created_at: self.created_at.as_deref().map(str::to_string),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const POST: &str = r#"{"did":"did:plc:eygmaihciaxprqvxpfvl6flk","time_us":1725911162329308,"kind":"commit","commit":{"rev":"3l3qo2vutsw2b","operation":"create","collection":"app.bsky.feed.post","rkey":"3l3qo2vuowo2b","record":{"$type":"app.bsky.feed.post","createdAt":"2024-09-09T19:46:02.102Z","langs":["en"],"reply":{"parent":{"cid":"bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4","uri":"at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3qo2tvmzm2a"},"root":{"cid":"bafyreidc6sydkkbchcyg62v77wbhzvb2mvytlmsychqgwf2xojjtirmzj4","uri":"at://did:plc:wa7b35aakoll7hugkrjtf3xf/app.bsky.feed.post/3l3qo2tvmzm2a"}},"text":"great debate tonight","facets":[{"features":[{"$type":"app.bsky.richtext.facet#tag","tag":"debate"}],"index":{"byteStart":6,"byteEnd":12}}]},"cid":"bafyreidwaivazkwu67xztlmuobx35hs2lnfh3kolmgfmucldvhd3sgzcqi"}}"#;

    #[test]
    fn a_post_create_becomes_a_post_record() {
        let (t, e) = parse_event(POST.as_bytes()).unwrap();
        assert_eq!(t, 1_725_911_162_329_308);
        let Event::Post(p) = e else { panic!() };
        let post = p.to_post(t, Some("alice.bsky.social"));
        assert_eq!(
            post.id,
            "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b"
        );
        assert_eq!(
            post.url,
            "https://bsky.app/profile/did:plc:eygmaihciaxprqvxpfvl6flk/post/3l3qo2vuowo2b"
        );
        assert_eq!(
            (post.time_ms, post.author.as_str(), post.lang.as_deref()),
            (1_725_911_162_329, "alice.bsky.social", Some("en"))
        );
        assert_eq!(post.text, "great debate tonight");
        let unknown = p.to_post(t, None);
        assert_eq!(unknown.author, "did:plc:eygmaihciaxprqvxpfvl6flk");
    }

    #[test]
    fn other_events_are_classified() {
        let identity = r#"{"did":"did:plc:ufbl4k27gp6kzas5glhz7fim","time_us":1725516665234703,"kind":"identity","identity":{"did":"did:plc:ufbl4k27gp6kzas5glhz7fim","handle":"yohenrique.bsky.social","seq":1409752997,"time":"2024-09-05T06:11:04.870Z"}}"#;
        assert_eq!(
            parse_event(identity.as_bytes()).unwrap().1,
            Event::Identity {
                did: "did:plc:ufbl4k27gp6kzas5glhz7fim".into(),
                handle: Some("yohenrique.bsky.social".into())
            }
        );
        let account = r#"{"did":"did:plc:ufbl4k27gp6kzas5glhz7fim","time_us":1725516665333808,"kind":"account","account":{"active":true,"did":"did:plc:ufbl4k27gp6kzas5glhz7fim","seq":1409753013,"time":"2024-09-05T06:11:04.870Z"}}"#;
        assert_eq!(parse_event(account.as_bytes()).unwrap().1, Event::Account);
        let delete = r#"{"did":"did:plc:rfov6bpyztcnedeyyzgfq42k","time_us":1725516666833633,"kind":"commit","commit":{"rev":"3l3f6nzl3cv2s","operation":"delete","collection":"app.bsky.feed.post","rkey":"3l3dn7tku762u"}}"#;
        assert_eq!(parse_event(delete.as_bytes()).unwrap().1, Event::Delete);
        let like = r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.like","rkey":"x","record":{}}}"#;
        assert_eq!(parse_event(like.as_bytes()).unwrap().1, Event::OtherCommit);
    }

    #[test]
    fn a_damaged_or_hostile_event_is_an_error() {
        for bad in [
            "",
            "{",
            r#"{"kind":"commit"}"#,
            r#"{"time_us":1,"kind":"party"}"#,
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"x"}}"#,
            // A record key or DID that would break out of the link.
            r#"{"did":"did:plc:a","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"x\"onclick","record":{"text":"t"}}}"#,
            r#"{"did":"javascript:alert(1)","time_us":1,"kind":"commit","commit":{"operation":"create","collection":"app.bsky.feed.post","rkey":"x","record":{"text":"t"}}}"#,
        ] {
            assert!(parse_event(bad.as_bytes()).is_err(), "{bad}");
        }
        // An identity whose handle is not a domain names no handle.
        let odd = r#"{"did":"did:plc:a","time_us":1,"kind":"identity","identity":{"did":"did:plc:a","handle":"<b>x</b>"}}"#;
        assert!(matches!(
            parse_event(odd.as_bytes()).unwrap().1,
            Event::Identity { handle: None, .. }
        ));
    }

    #[test]
    fn languages_match_on_their_primary_tag() {
        let langs: Vec<Cow<'_, str>> = vec!["pt-BR".into(), "EN-us".into()];
        assert!(declares_language(&langs, "en"));
        assert!(declares_language(&langs, "pt"));
        assert!(!declares_language(&langs, "e"));
        assert!(!declares_language(&[], "en"));
    }
}
