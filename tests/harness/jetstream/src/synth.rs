//! Synthetic Jetstream sessions shaped like the real thing (field names and shapes from
//! Jetstream's documentation and the atproto lexicons): post creates with languages, replies,
//! facets and embeds; likes and reposts (other collections); identity and account events;
//! deletes and profile updates. Deterministic for a seed. No real post or account is in them.

use serde_json::{Value, json};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Spec {
    /// Post creates in the session (other events come in between).
    pub posts: usize,
    /// The first event's time.
    pub start_us: i64,
    /// Mean events per second.
    pub per_sec: f64,
    pub seed: u64,
    /// Names that posts mention (a candidate's terms), most posts mention one.
    pub topics: Vec<String>,
}

impl Default for Spec {
    fn default() -> Spec {
        Spec {
            posts: 3000,
            // 2024-09-11T01:00:00Z: 9 pm in New York, a presidential debate's evening.
            start_us: 1_726_016_400_000_000,
            per_sec: 40.0,
            seed: 2027,
            topics: vec!["Trump".into(), "Clinton".into(), "Sanders".into()],
        }
    }
}

/// splitmix64: small, seeded, good enough for test data.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn chance(&mut self, p: f64) -> bool {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const BASE32_SORT: &[u8] = b"234567abcdefghijklmnopqrstuvwxyz";

/// A TID (atproto's timestamp id, 13 characters): what record keys and revisions look like.
fn tid(time_us: i64, clock: u64) -> String {
    let v = ((time_us as u64) << 10) | (clock & 0x3ff);
    (0..13)
        .rev()
        .map(|i| BASE32_SORT[((v >> (i * 5)) & 31) as usize] as char)
        .collect()
}

fn did(rng: &mut Rng) -> String {
    let id: String = (0..24)
        .map(|_| b"abcdefghijklmnopqrstuvwxyz234567"[rng.below(32)] as char)
        .collect();
    format!("did:plc:{id}")
}

fn cid(rng: &mut Rng, prefix: &str) -> String {
    let tail: String = (0..52)
        .map(|_| b"abcdefghijklmnopqrstuvwxyz234567"[rng.below(32)] as char)
        .collect();
    format!("{prefix}{tail}")
}

const OPINIONS: &[&str] = &[
    "just nailed that answer on healthcare, best moment of the night",
    "is dodging the question again. Terrible answer",
    "looks so calm and confident tonight, I love it",
    "that was a lie and everyone watching knows it",
    "great point on jobs and the economy",
    "wins this exchange easily, what a comeback",
    "sounds angry and tired, this is a disaster",
    "had the funniest line of the debate lol",
    "why is nobody asking about climate? sad and frustrating",
    "honestly the worst performance I have ever seen",
    "strong closing statement, proud to vote for them",
    "keeps interrupting, so rude and annoying",
    "was fine. nothing new, nothing wrong",
    "brought up the war and the room went quiet",
    "happy to see a real plan for schools & kids",
    "the moderators let that slide?? unbelievable",
];

const PLAIN: &[&str] = &[
    "coffee first, then the debate watch party",
    "my cat refuses to watch the debate with me",
    "anyone else streaming this on their phone?",
    "new blog post about gardening is up",
    "the weather tonight is lovely",
    "good night everyone",
];

const OTHER_LANGUAGES: &[(&str, &str)] = &[
    ("ja", "今夜の討論会、すごく面白かった"),
    ("pt", "que debate chato, ninguém responde nada"),
    ("de", "Die Debatte heute war wirklich spannend"),
    ("es", "el debate de hoy fue un desastre"),
];

fn facets(text: &str, rng: &mut Rng) -> Option<Value> {
    let tag = rng.pick(&["debate", "Debate2027", "politics"]);
    let at = text.find('#')?;
    let end = at + 1 + tag.len();
    (end <= text.len()).then(|| {
        json!([{"features": [{"$type": "app.bsky.richtext.facet#tag", "tag": tag}],
                 "index": {"byteStart": at, "byteEnd": end}}])
    })
}

fn embed(rng: &mut Rng) -> Value {
    if rng.chance(0.5) {
        json!({"$type": "app.bsky.embed.images", "images": [{
            "alt": "", "aspectRatio": {"height": 1080, "width": 1920},
            "image": {"$type": "blob", "ref": {"$link": cid(rng, "bafkrei")},
                      "mimeType": "image/jpeg", "size": 200_000 + rng.below(600_000)}}]})
    } else {
        json!({"$type": "app.bsky.embed.external", "external": {
            "uri": "https://example.com/live/debate-night", "title": "Debate night, live",
            "description": "Follow the debate as it happens"}})
    }
}

struct Author {
    did: String,
    handle: String,
    posts: Vec<String>,
}

/// A session of `spec.posts` post creates and the events around them, oldest first, as
/// Jetstream would send them without a collection filter.
pub fn session(spec: &Spec) -> Vec<String> {
    let mut rng = Rng(spec.seed);
    let mut authors: Vec<Author> = (0..(spec.posts / 6).max(5))
        .map(|i| {
            let did = did(&mut rng);
            Author {
                did,
                handle: format!("voter{i}.bsky.social"),
                posts: Vec::new(),
            }
        })
        .collect();
    let mut lines = Vec::with_capacity(spec.posts * 2);
    let mut time_us = spec.start_us;
    let mean_gap = 1e6 / spec.per_sec.max(1e-3);
    let mut posts = 0;
    while posts < spec.posts {
        time_us += 1 + (rng.below((2.0 * mean_gap) as usize) as i64);
        let a = rng.below(authors.len());
        let roll = rng.below(100);
        let event = match roll {
            0..=4 => json!({"did": authors[a].did, "time_us": time_us, "kind": "identity",
                "identity": {"did": authors[a].did, "handle": authors[a].handle,
                             "seq": 1_409_752_997 + lines.len(), "time": iso(time_us)}}),
            5..=6 => json!({"did": authors[a].did, "time_us": time_us, "kind": "account",
                "account": {"active": true, "did": authors[a].did,
                            "seq": 1_409_753_013 + lines.len(), "time": iso(time_us)}}),
            7..=9 if !authors[a].posts.is_empty() => {
                let rkey = authors[a].posts.remove(0);
                json!({"did": authors[a].did, "time_us": time_us, "kind": "commit",
                    "commit": {"rev": tid(time_us, 1), "operation": "delete",
                               "collection": "app.bsky.feed.post", "rkey": rkey}})
            }
            10..=11 => json!({"did": authors[a].did, "time_us": time_us, "kind": "commit",
                "commit": {"rev": tid(time_us, 2), "operation": "update",
                           "collection": "app.bsky.actor.profile", "rkey": "self",
                           "record": {"$type": "app.bsky.actor.profile",
                                      "displayName": format!("Voter {a}")},
                           "cid": cid(&mut rng, "bafyrei")}}),
            12..=30 => {
                let collection = if roll < 25 {
                    "app.bsky.feed.like"
                } else {
                    "app.bsky.feed.repost"
                };
                let subject = format!(
                    "at://{}/app.bsky.feed.post/{}",
                    authors[rng.below(authors.len())].did,
                    tid(time_us - 5_000_000, 3)
                );
                json!({"did": authors[a].did, "time_us": time_us, "kind": "commit",
                    "commit": {"rev": tid(time_us, 4), "operation": "create", "collection": collection,
                               "rkey": tid(time_us, 5),
                               "record": {"$type": collection, "createdAt": iso(time_us),
                                          "subject": {"cid": cid(&mut rng, "bafyrei"), "uri": subject}},
                               "cid": cid(&mut rng, "bafyrei")}})
            }
            _ => {
                posts += 1;
                let rkey = tid(time_us, 6);
                let record = post_record(&mut rng, spec, time_us, &authors, a);
                authors[a].posts.push(rkey.clone());
                json!({"did": authors[a].did, "time_us": time_us, "kind": "commit",
                    "commit": {"rev": tid(time_us, 7), "operation": "create",
                               "collection": "app.bsky.feed.post", "rkey": rkey,
                               "record": record, "cid": cid(&mut rng, "bafyrei")}})
            }
        };
        lines.push(event.to_string());
    }
    lines
}

fn post_record(rng: &mut Rng, spec: &Spec, time_us: i64, authors: &[Author], a: usize) -> Value {
    let (langs, mut text): (Vec<&str>, String) = match rng.below(100) {
        0..=7 => {
            let (lang, text) = rng.pick(OTHER_LANGUAGES);
            (vec![lang], (*text).to_string())
        }
        8..=11 => (vec![], rng.pick(OPINIONS).to_string()),
        12..=14 => (vec!["en-US"], rng.pick(PLAIN).to_string()),
        15..=17 => (vec!["de", "en"], rng.pick(PLAIN).to_string()),
        _ => (vec!["en"], rng.pick(OPINIONS).to_string()),
    };
    if !spec.topics.is_empty() && rng.chance(0.85) {
        let topic = rng.pick(&spec.topics);
        text = format!("{topic} {text}");
    }
    let mut record = json!({"$type": "app.bsky.feed.post", "createdAt": iso(time_us - 300_000),
                            "langs": langs, "text": text});
    if rng.chance(0.2) {
        record["text"] = format!("{text} #debate").into();
        if let Some(f) = facets(record["text"].as_str().unwrap_or(""), rng) {
            record["facets"] = f;
        }
    }
    if rng.chance(0.1) {
        record["embed"] = embed(rng);
    }
    let other = &authors[(a + 1) % authors.len()];
    if let (true, Some(parent)) = (rng.chance(0.3), other.posts.last()) {
        let uri = format!("at://{}/app.bsky.feed.post/{parent}", other.did);
        let c = cid(rng, "bafyrei");
        record["reply"] = json!({"parent": {"cid": c, "uri": uri}, "root": {"cid": c, "uri": uri}});
    }
    record
}

fn iso(time_us: i64) -> String {
    let secs = time_us.div_euclid(1_000_000);
    let millis = time_us.rem_euclid(1_000_000) / 1000;
    // Days since the epoch to a civil date (Howard Hinnant's algorithm).
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    let y = yoe + era * 400 + i64::from(m <= 2);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// The post creates of a session, as dw's post ids (AT URIs), in order; with `lang`, only those
/// that declare it.
pub fn post_ids(lines: &[String], lang: Option<&str>) -> Vec<String> {
    use dw_pipeline::bluesky::{Event, declares_language, parse_event, post_uri};
    lines
        .iter()
        .filter_map(|l| match parse_event(l.as_bytes()) {
            Ok((_, Event::Post(p)))
                if lang.is_none_or(|lang| declares_language(&p.langs, lang)) =>
            {
                Some(post_uri(&p.did, &p.rkey))
            }
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_is_deterministic_ordered_and_reads_as_jetstream() {
        let spec = Spec {
            posts: 500,
            ..Spec::default()
        };
        let a = session(&spec);
        assert_eq!(a, session(&spec));
        let times: Vec<i64> = a
            .iter()
            .map(|l| dw_pipeline::bluesky::parse_event(l.as_bytes()).unwrap().0)
            .collect();
        assert!(times.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(post_ids(&a, None).len(), 500);
        let english = post_ids(&a, Some("en")).len();
        assert!((350..480).contains(&english), "{english}");
        assert_eq!(iso(1_725_911_162_329_308), "2024-09-09T19:46:02.329Z");
        assert_eq!(tid(1_725_911_162_329_308, 0).len(), 13);
    }
}
