//! Windows: per candidate per time window (default one minute, by the tweet's own time) the sums
//! that merge exactly, the mean, and the tweets that stood out. The JSON form is the contract
//! between `dw-score`, its sinks and `dw report`; `version` changes if it does.
//!
//! Version 2 adds `revision`: a window is written when the watermark passes its end, and written
//! again (revision 1, 2, ...) when a tweet of its minute arrives after that. Readers keep the
//! highest revision of each window ([`latest`]); version 1 windows read as revision 0.
//!
//! Version 3 adds, per candidate, the sums a confidence band of the mean needs
//! ([`CandidateWindow::standard_error`]); they add up exactly like the others, so a band can be
//! drawn for any bin made of whole windows. Older windows read them as 0 (no band).
//!
//! Version 4 adds, per candidate, `classes`: how many of its posts the classifier
//! ([`crate::classify`]) called negative, neutral and positive, and the sums of each class's
//! probability; they add up like the rest. Older windows have none (`None`: no shares).
//!
//! A *part* (the window of one member of a consumer group, `member` set) also carries
//! `through`: per Kafka partition, the last offset the member had read when it wrote the part.
//! Every tweet of the window at or below that offset is counted in some member's part, so a
//! member that takes over a partition skips those ([`Windower::fence`]): a member lost between
//! writing a part and committing its offsets makes no tweet count twice. Merged windows and
//! those of a lone scorer have no `through`; readers that do not know it ignore it.

use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::classify::{Class, Label};
use crate::fasthash::FastHash;
use crate::labmt::Score;
use crate::results::{Folder, relative};

pub const WINDOW_VERSION: u32 = 4;

/// A window needs this many scored tweets to count as a candidate's lowest or highest minute
/// (in `dw report`, the replay summary and the page).
pub const MIN_SCORED: u64 = 3;

/// The first version whose windows carry the band's sums.
pub const BAND_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Window {
    pub version: u32,
    pub debate: String,
    /// Start of the window (RFC 3339, UTC).
    pub start: Timestamp,
    pub length_secs: u32,
    /// The scorer process that wrote a partial window (several in one consumer group); absent
    /// once merged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub member: Option<String>,
    /// Distinct tweets whose time falls in the window, whoever they mention.
    pub tweets: u64,
    /// Tweets that arrived after this window was first written (counted in it, by a revision).
    pub late: u64,
    /// 0 when first written; one more each time late tweets made it be written again.
    #[serde(default)]
    pub revision: u32,
    /// A window still open, published so that a page moves while its minute runs; the closed
    /// window replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub partial: bool,
    pub candidates: BTreeMap<String, CandidateWindow>,
    /// Of a member's part: Kafka partition -> the last offset read when the part was written.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub through: BTreeMap<i32, i64>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct CandidateWindow {
    pub tweets: u64,
    /// Tweets with at least one LabMT word (after the lens).
    pub scored_tweets: u64,
    pub scored_words: u64,
    pub happiness_sum: f64,
    /// Word-weighted mean happiness: happiness_sum / scored_words.
    pub mean: Option<f64>,
    /// Over the scored tweets, with s a tweet's happiness sum and w its LabMT words: the sum of
    /// s², of s·w and of w² (version 3).
    #[serde(default)]
    pub sum_squares: f64,
    #[serde(default)]
    pub sum_by_words: f64,
    #[serde(default)]
    pub words_squared: u64,
    pub most_positive: Option<Standout>,
    pub most_negative: Option<Standout>,
    /// The classifier's tally of the candidate's posts (version 4).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub classes: Option<ClassTally>,
}

/// Per class, the posts called that class and the sum of that class's probability over all
/// posts (so the mean probability of a class is its sum over `tweets`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClassTally {
    pub negative: u64,
    pub neutral: u64,
    pub positive: u64,
    pub p_negative: f64,
    pub p_neutral: f64,
    pub p_positive: f64,
}

impl ClassTally {
    pub fn add(&mut self, label: &Label) {
        match label.class {
            Class::Negative => self.negative += 1,
            Class::Neutral => self.neutral += 1,
            Class::Positive => self.positive += 1,
        }
        let [n, u, p] = label.probabilities;
        self.p_negative += n;
        self.p_neutral += u;
        self.p_positive += p;
    }

    pub fn merge(&mut self, other: &ClassTally) {
        self.negative += other.negative;
        self.neutral += other.neutral;
        self.positive += other.positive;
        self.p_negative += other.p_negative;
        self.p_neutral += other.p_neutral;
        self.p_positive += other.p_positive;
    }

    /// Posts classified.
    pub fn posts(&self) -> u64 {
        self.negative + self.neutral + self.positive
    }

    /// Every class's share; `None` without posts.
    pub fn shares(&self) -> Option<Shares> {
        let n = self.posts();
        (n > 0).then(|| Shares {
            posts: n,
            negative: Share::wilson(self.negative, n),
            neutral: Share::wilson(self.neutral, n),
            positive: Share::wilson(self.positive, n),
        })
    }
}

/// The shares of a candidate's posts in each class.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Shares {
    pub posts: u64,
    pub negative: Share,
    pub neutral: Share,
    pub positive: Share,
}

impl Shares {
    pub fn of(&self, class: Class) -> &Share {
        match class {
            Class::Negative => &self.negative,
            Class::Neutral => &self.neutral,
            Class::Positive => &self.positive,
        }
    }

    /// A summary table's cell: the share of `class` in whole percent (`62%`), `-` without
    /// classes (windows before version 4).
    pub fn cell(shares: Option<&Shares>, class: Class) -> String {
        shares.map_or_else(
            || "-".to_string(),
            |s| format!("{:.0}%", s.of(class).share * 100.0),
        )
    }
}

/// A proportion and its 95% confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Share {
    pub share: f64,
    pub low: f64,
    pub high: f64,
}

impl Share {
    /// Wilson's score interval: stays inside [0, 1] and is sensible for few posts or shares
    /// near 0 and 1, where the normal approximation is not.
    pub fn wilson(k: u64, n: u64) -> Share {
        const Z: f64 = 1.96;
        let (k, n) = (k as f64, n.max(1) as f64);
        let p = k / n;
        let z2 = Z * Z;
        let centre = (p + z2 / (2.0 * n)) / (1.0 + z2 / n);
        let half = Z * (p * (1.0 - p) / n + z2 / (4.0 * n * n)).sqrt() / (1.0 + z2 / n);
        Share {
            share: p,
            low: (centre - half).max(0.0),
            high: (centre + half).min(1.0),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standout {
    pub id: String,
    pub text: String,
    pub score: f64,
    pub user: String,
}

impl Standout {
    /// Its author as the source names them: a handle after `@`, a Bluesky DID as it is.
    pub fn author(&self) -> String {
        if self.user.starts_with("did:") {
            self.user.clone()
        } else {
            format!("@{}", self.user)
        }
    }
}

/// A scored tweet as the windows need it (borrowed from the line it was read from).
#[derive(Debug, Clone, Copy)]
pub struct Scored<'a> {
    pub id: &'a str,
    pub created_ms: i64,
    pub score: Score,
    /// Candidate keys the tweet mentions.
    pub candidates: &'a [&'a str],
    pub text: &'a str,
    pub user: &'a str,
    /// The classifier's label (none when classification is off).
    pub label: Option<Label>,
}

/// Orders standouts so that merges pick the same one whatever the order: by score, then by id
/// (numeric ids compare by length first).
fn standout_key(s: &Standout) -> (f64, usize, &str) {
    (s.score, s.id.len(), s.id.as_str())
}

/// Whether a tweet of `score` and `id` would replace `current` as the most positive (`max`) or
/// most negative tweet, by the same order [`pick_max`]/[`pick_min`] use.
fn beats(current: Option<&Standout>, score: f64, id: &str, max: bool) -> bool {
    let Some(c) = current else { return true };
    let (cs, cl, ci) = standout_key(c);
    let better = if max { score > cs } else { score < cs };
    better || (score == cs && (id.len(), id) < (cl, ci))
}

fn pick_max(a: Option<Standout>, b: Option<Standout>) -> Option<Standout> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (ka, kb) = (standout_key(&a), standout_key(&b));
            if kb.0 > ka.0 || (kb.0 == ka.0 && (kb.1, kb.2) < (ka.1, ka.2)) {
                Some(b)
            } else {
                Some(a)
            }
        }
        (a, b) => a.or(b),
    }
}

fn pick_min(a: Option<Standout>, b: Option<Standout>) -> Option<Standout> {
    match (a, b) {
        (Some(a), Some(b)) => {
            let (ka, kb) = (standout_key(&a), standout_key(&b));
            if kb.0 < ka.0 || (kb.0 == ka.0 && (kb.1, kb.2) < (ka.1, ka.2)) {
                Some(b)
            } else {
                Some(a)
            }
        }
        (a, b) => a.or(b),
    }
}

impl CandidateWindow {
    fn add(&mut self, t: &Scored<'_>) {
        self.tweets += 1;
        if let Some(label) = &t.label {
            self.classes
                .get_or_insert_with(ClassTally::default)
                .add(label);
        }
        if let Some(mean) = t.score.mean() {
            self.scored_tweets += 1;
            self.scored_words += u64::from(t.score.words);
            self.happiness_sum += t.score.sum;
            let words = f64::from(t.score.words);
            self.sum_squares += t.score.sum * t.score.sum;
            self.sum_by_words += t.score.sum * words;
            self.words_squared += u64::from(t.score.words) * u64::from(t.score.words);
            let standout = || Standout {
                id: t.id.to_string(),
                text: t.text.to_string(),
                score: mean,
                user: t.user.to_string(),
            };
            // Copy the text only for a tweet that stands out.
            if beats(self.most_positive.as_ref(), mean, t.id, true) {
                self.most_positive = Some(standout());
            }
            if beats(self.most_negative.as_ref(), mean, t.id, false) {
                self.most_negative = Some(standout());
            }
        }
        self.update_mean();
    }

    fn update_mean(&mut self) {
        self.mean = (self.scored_words > 0).then(|| self.happiness_sum / self.scored_words as f64);
    }

    /// The standard error of the word-weighted mean, with tweets as the sampled units (the
    /// words of one tweet are not independent): the ratio estimator's linearised variance,
    /// sum((s - mean*w)^2) / (n (n-1) wbar^2), expanded into the stored sums. `None` below two
    /// scored tweets or without the sums (windows older than version 3).
    pub fn standard_error(&self) -> Option<f64> {
        let mean = self.mean?;
        let n = self.scored_tweets as f64;
        if self.scored_tweets < 2 || self.words_squared == 0 {
            return None;
        }
        let w = self.scored_words as f64;
        let w2 = self.words_squared as f64;
        let residual =
            (self.sum_squares - 2.0 * mean * self.sum_by_words + mean * mean * w2).max(0.0);
        let wbar = w / n;
        Some((residual / (n * (n - 1.0))).sqrt() / wbar)
    }

    pub fn merge(&mut self, other: &CandidateWindow) {
        self.tweets += other.tweets;
        self.scored_tweets += other.scored_tweets;
        self.scored_words += other.scored_words;
        self.happiness_sum += other.happiness_sum;
        self.sum_squares += other.sum_squares;
        self.sum_by_words += other.sum_by_words;
        self.words_squared += other.words_squared;
        self.most_positive = pick_max(self.most_positive.take(), other.most_positive.clone());
        self.most_negative = pick_min(self.most_negative.take(), other.most_negative.clone());
        if let Some(theirs) = &other.classes {
            self.classes
                .get_or_insert_with(ClassTally::default)
                .merge(theirs);
        }
        self.update_mean();
    }
}

impl Window {
    pub fn new(debate: &str, start_ms: i64, length_secs: u32, candidates: &[String]) -> Window {
        Window {
            version: WINDOW_VERSION,
            debate: debate.to_string(),
            start: Timestamp::from_millisecond(start_ms).unwrap_or_default(),
            length_secs,
            member: None,
            tweets: 0,
            late: 0,
            revision: 0,
            partial: false,
            candidates: candidates
                .iter()
                .map(|k| (k.clone(), CandidateWindow::default()))
                .collect(),
            through: BTreeMap::new(),
        }
    }

    /// Combines a partial window of the same debate, start and length into this one.
    pub fn merge(&mut self, other: &Window) {
        self.tweets += other.tweets;
        self.late += other.late;
        self.revision = self.revision.max(other.revision);
        self.partial |= other.partial;
        for (k, c) in &other.candidates {
            self.candidates.entry(k.clone()).or_default().merge(c);
        }
        self.member = None;
        self.through.clear();
    }

    /// The object key of this window under a results prefix: `<debate>/windows/<start>.json`,
    /// or for a member's part `<debate>/parts/<start>.<member>.json` (the merger reads those and
    /// writes the first kind; readers of `windows/` never see a part).
    pub fn key(&self) -> String {
        let start = self.start.strftime("%Y-%m-%dT%H:%M:%SZ");
        match &self.member {
            Some(m) => format!("{}{start}.{m}.json", relative(&self.debate, Folder::Parts)),
            None => format!("{}{start}.json", relative(&self.debate, Folder::Windows)),
        }
    }
}

/// Of each window (debate, start, length, member), the highest revision (of equal ones, the
/// last read), in the order the windows were first read.
pub fn latest(windows: impl IntoIterator<Item = Window>) -> Vec<Window> {
    let mut at: BTreeMap<(String, Timestamp, u32, Option<String>), usize> = BTreeMap::new();
    let mut out: Vec<Window> = Vec::new();
    for w in windows {
        let key = (w.debate.clone(), w.start, w.length_secs, w.member.clone());
        match at.get(&key) {
            Some(&i) if out[i].revision <= w.revision => out[i] = w,
            Some(_) => {}
            None => {
                at.insert(key, out.len());
                out.push(w);
            }
        }
    }
    out
}

/// An empty window of `debate` starting at `start_ms`, written by `member` (if several).
fn blank(
    debate: &str,
    length_ms: i64,
    candidates: &[String],
    member: Option<&String>,
    start_ms: i64,
) -> Window {
    let mut window = Window::new(debate, start_ms, (length_ms / 1000) as u32, candidates);
    window.member = member.cloned();
    window
}

/// Adds a scored tweet to a window's sums (its id is new to the window).
fn add_tweet(window: &mut Window, t: &Scored<'_>) {
    window.tweets += 1;
    for &key in t.candidates {
        match window.candidates.get_mut(key) {
            Some(c) => c.add(t),
            None => window.candidates.entry(key.to_string()).or_default().add(t),
        }
    }
}

struct Open {
    window: Window,
    ids: HashSet<PostId, FastHash>,
}

/// A post's id as the dedupe sets hold it: a tweet's number as a number (no heap copy of its
/// text per set: 24 bytes an entry of the 500,000 remembered, not about 56), any other id (a
/// Bluesky post's AT URI) as text.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
enum PostId {
    Number(u64),
    Text(Box<str>),
}

impl PostId {
    /// Only the canonical decimal form is a number (no sign, no leading zero): `"0123"` stays
    /// text, so two ids are equal exactly when their texts are.
    fn of(id: &str) -> PostId {
        let b = id.as_bytes();
        let canonical = !b.is_empty()
            && b.len() <= 19
            && b.iter().all(u8::is_ascii_digit)
            && (b[0] != b'0' || b.len() == 1);
        match id.parse() {
            Ok(n) if canonical => PostId::Number(n),
            _ => PostId::Text(id.into()),
        }
    }
}

/// What the windower knows of one source (a Kafka partition).
#[derive(Debug, Clone, Copy)]
struct Source {
    /// The newest tweet time it delivered; `None` before its first tweet.
    newest: Option<i64>,
    /// When it last delivered a tweet, reached its end, or was assigned.
    seen: std::time::Instant,
    /// It delivered everything the broker had (Kafka's partition EOF) and nothing since.
    at_end: bool,
}

/// Assigns scored tweets to windows, closes a window once the watermark passes its end, and
/// revises a written window when a tweet of its minute arrives late.
///
/// Tweets come from one or more sources (Kafka partitions) that may run far apart, e.g. when a
/// backlog is read a batch of one partition at a time. The watermark is the newest tweet time of
/// the *slowest* source, minus the allowed lateness, over every source the windower was told of
/// ([`Windower::assign`]), including those that have delivered nothing yet: a source holds the
/// watermark back until it delivers, reaches its end ([`Windower::at_end`]) or stays silent for
/// [`IDLE_SOURCE`]. So the windows do not depend on the order in which sources deliver; what
/// still arrives after its window was written (beyond the lateness) goes into that window, which
/// is written again with the next revision ([`Windower::take_revised`]).
pub struct Windower {
    debate: String,
    length_ms: i64,
    lateness_ms: i64,
    candidates: Vec<String>,
    member: Option<String>,
    open: BTreeMap<i64, Open>,
    sources: BTreeMap<i32, Source>,
    /// Windows starting before this were written already.
    closed_until_ms: i64,
    /// Windows this run wrote, by start, kept to be revised by late tweets.
    written: BTreeMap<i64, Window>,
    /// Written windows that late tweets changed since the last [`Windower::take_revised`].
    revised: BTreeSet<i64>,
    /// Of those, windows a late tweet started (no earlier copy: their first write is revision 0).
    unwritten: BTreeSet<i64>,
    /// Windows before this were written by an earlier run (see [`Windower::resume_after`]).
    resumed_until_ms: i64,
    /// Ids of tweets in written windows: a tweet delivered again (Kafka is at-least-once, e.g.
    /// after a rebalance) is dropped.
    recent: HashSet<PostId, FastHash>,
    recent_order: VecDeque<PostId>,
    /// Tweets dropped because their id was seen already.
    pub duplicates: u64,
    /// Tweets added to a window after it was written.
    pub late: u64,
    /// Tweets of windows an earlier run wrote, taken as counted there.
    pub replayed: u64,
    /// Per partition, the last offset read (stamped on every part this member writes).
    read_through: BTreeMap<i32, i64>,
    /// (window start, partition) -> the highest `through` of another member's part of that
    /// window: tweets at or below it are counted there.
    fence: HashMap<(i64, i32), i64, FastHash>,
    /// Tweets skipped because another member's part already counts them.
    pub covered: u64,
}

/// How many ids of written windows are remembered (about 100 bytes each).
const RECENT_IDS: usize = 500_000;

/// A source that delivered nothing (and did not report its end) for this long no longer holds
/// the watermark back.
pub const IDLE_SOURCE: std::time::Duration = std::time::Duration::from_secs(30);

impl Windower {
    pub fn new(
        debate: &str,
        length_secs: u32,
        lateness_secs: u32,
        candidates: Vec<String>,
        member: Option<String>,
    ) -> Windower {
        Windower {
            debate: debate.to_string(),
            length_ms: i64::from(length_secs.max(1)) * 1000,
            lateness_ms: i64::from(lateness_secs) * 1000,
            candidates,
            member,
            open: BTreeMap::new(),
            sources: BTreeMap::new(),
            closed_until_ms: i64::MIN,
            written: BTreeMap::new(),
            revised: BTreeSet::new(),
            unwritten: BTreeSet::new(),
            resumed_until_ms: i64::MIN,
            recent: HashSet::default(),
            recent_order: VecDeque::new(),
            duplicates: 0,
            late: 0,
            replayed: 0,
            read_through: BTreeMap::new(),
            fence: HashMap::default(),
            covered: 0,
        }
    }

    /// Learns what other members' parts count: `parts` are parts of this debate (this member's
    /// own are ignored). A tweet read later from partition `p` at an offset at or below a part's
    /// `through[p]` for the tweet's window is skipped (counted there). Call it before reading
    /// partitions taken over from another member.
    pub fn fence(&mut self, parts: &[Window]) {
        for part in parts {
            if part.member.is_none() || part.member == self.member {
                continue;
            }
            let start = part.start.as_millisecond();
            for (&p, &through) in &part.through {
                let f = self.fence.entry((start, p)).or_insert(through);
                *f = (*f).max(through);
            }
        }
    }

    /// A copy of `window` as this member writes it: a part carries the offsets read so far.
    fn stamped(&self, mut window: Window) -> Window {
        if self.member.is_some() {
            window.through.clone_from(&self.read_through);
        }
        window
    }

    /// Continues after windows up to `closed_until` were written by an earlier run: a tweet of
    /// those windows delivered again is taken as counted there.
    pub fn resume_after(&mut self, closed_until: Timestamp) {
        let ms = closed_until.as_millisecond();
        self.closed_until_ms = self.closed_until_ms.max(ms);
        self.resumed_until_ms = self.resumed_until_ms.max(ms);
    }

    /// Windows before this instant were written (and are revised, not reopened, by late tweets).
    pub fn closed_until(&self) -> Option<Timestamp> {
        (self.closed_until_ms != i64::MIN)
            .then(|| Timestamp::from_millisecond(self.closed_until_ms).ok())
            .flatten()
    }

    /// The sources (Kafka partitions) this windower reads now: new ones hold the watermark back
    /// until they deliver or reach their end; sources no longer listed stop holding it.
    pub fn assign(&mut self, sources: &[i32]) -> Vec<Window> {
        let now = std::time::Instant::now();
        self.sources.retain(|s, _| sources.contains(s));
        for &s in sources {
            self.sources.entry(s).or_insert(Source {
                newest: None,
                seen: now,
                at_end: false,
            });
        }
        self.advance(now)
    }

    /// `source` delivered everything it had: until it delivers again, it does not hold the
    /// watermark back.
    pub fn at_end(&mut self, source: i32) -> Vec<Window> {
        let now = std::time::Instant::now();
        let s = self.sources.entry(source).or_insert(Source {
            newest: None,
            seen: now,
            at_end: true,
        });
        s.at_end = true;
        s.seen = now;
        self.advance(now)
    }

    /// Closes what sources gone idle were holding open (call it now and then).
    pub fn tick(&mut self) -> Vec<Window> {
        self.advance(std::time::Instant::now())
    }

    fn open_window(&mut self, start_ms: i64) -> &mut Open {
        let (debate, length_ms, candidates, member) =
            (&self.debate, self.length_ms, &self.candidates, &self.member);
        // A new minute holds about as many tweets as the others: no rehash on the way there.
        let expected = if self.open.contains_key(&start_ms) {
            0
        } else {
            self.open.values().map(|o| o.ids.len()).max().unwrap_or(0)
        };
        self.open.entry(start_ms).or_insert_with(|| Open {
            window: blank(debate, length_ms, candidates, member.as_ref(), start_ms),
            ids: HashSet::with_capacity_and_hasher(expected, FastHash::default()),
        })
    }

    /// The start of the window a tweet of `created_ms` belongs to.
    pub fn window_for(&self, created_ms: i64) -> i64 {
        created_ms.div_euclid(self.length_ms) * self.length_ms
    }

    /// Adds a tweet from the only source; see [`Windower::add_from`].
    pub fn add(&mut self, t: &Scored<'_>) -> Vec<Window> {
        self.add_from(0, t)
    }

    fn remember(&mut self, id: PostId) {
        if self.recent.insert(id.clone()) {
            self.recent_order.push_back(id);
        }
        while self.recent_order.len() > RECENT_IDS {
            if let Some(old) = self.recent_order.pop_front() {
                self.recent.remove(&old);
            }
        }
    }

    /// Adds a tweet read from `source`; returns the windows the advancing watermark closed,
    /// oldest first. A tweet whose window was written already revises it.
    pub fn add_from(&mut self, source: i32, t: &Scored<'_>) -> Vec<Window> {
        self.add_at(source, None, t)
    }

    /// [`Windower::add_from`] for a tweet read at `offset` of the Kafka partition `source`.
    pub fn add_at(&mut self, source: i32, offset: Option<i64>, t: &Scored<'_>) -> Vec<Window> {
        let start = self.window_for(t.created_ms);
        let id = PostId::of(t.id);
        if let Some(offset) = offset {
            let read = self.read_through.entry(source).or_insert(offset);
            *read = (*read).max(offset);
        }
        if offset.is_some_and(|o| self.fence.get(&(start, source)).is_some_and(|&f| o <= f)) {
            self.covered += 1;
        } else if self.recent.contains(&id) {
            self.duplicates += 1;
        } else if start < self.resumed_until_ms {
            self.replayed += 1;
        } else if start < self.closed_until_ms {
            let (debate, length_ms, candidates, member) =
                (&self.debate, self.length_ms, &self.candidates, &self.member);
            // A minute with no tweet until now was never written: it starts here.
            let unwritten = &mut self.unwritten;
            let window = self.written.entry(start).or_insert_with(|| {
                unwritten.insert(start);
                blank(debate, length_ms, candidates, member.as_ref(), start)
            });
            add_tweet(window, t);
            window.late += 1;
            self.late += 1;
            self.revised.insert(start);
            self.remember(id);
        } else {
            let open = self.open_window(start);
            if open.ids.insert(id) {
                add_tweet(&mut open.window, t);
            }
        }
        let now = std::time::Instant::now();
        let s = self.sources.entry(source).or_insert(Source {
            newest: None,
            seen: now,
            at_end: false,
        });
        s.newest = Some(s.newest.map_or(t.created_ms, |n| n.max(t.created_ms)));
        s.seen = now;
        s.at_end = false;
        self.advance(now)
    }

    /// The watermark: the newest tweet time of the slowest source still delivering, minus the
    /// lateness. `None` while a source that delivered nothing yet holds it back.
    fn watermark(&self, now: std::time::Instant) -> Option<i64> {
        let mut slowest: Option<i64> = None;
        let mut newest: Option<i64> = None;
        for s in self.sources.values() {
            if let Some(n) = s.newest {
                newest = Some(newest.map_or(n, |m| m.max(n)));
            }
            if s.at_end || now.duration_since(s.seen) >= IDLE_SOURCE {
                continue;
            }
            let n = s.newest?;
            slowest = Some(slowest.map_or(n, |m| m.min(n)));
        }
        // Every source at its end (or idle): all there is was read.
        slowest
            .or(newest)
            .map(|w| w.saturating_sub(self.lateness_ms))
    }

    fn advance(&mut self, now: std::time::Instant) -> Vec<Window> {
        match self.watermark(now) {
            Some(w) => self.close_through(w),
            None => Vec::new(),
        }
    }

    /// Closes every window that ends at or before `watermark_ms`.
    fn close_through(&mut self, watermark_ms: i64) -> Vec<Window> {
        let mut closed = Vec::new();
        while let Some((&start, _)) = self.open.first_key_value() {
            if start + self.length_ms > watermark_ms {
                break;
            }
            if let Some((_, open)) = self.open.pop_first() {
                self.closed_until_ms = self.closed_until_ms.max(start + self.length_ms);
                for id in open.ids {
                    self.remember(id);
                }
                self.written.insert(start, open.window.clone());
                closed.push(self.stamped(open.window));
            }
        }
        closed
    }

    /// The written windows that late tweets changed since the last call, each with its next
    /// revision, oldest first: write them again (the same key: they replace the earlier copy).
    pub fn take_revised(&mut self) -> Vec<Window> {
        let revised = std::mem::take(&mut self.revised);
        revised
            .into_iter()
            .filter_map(|start| {
                let w = self.written.get_mut(&start)?;
                if !self.unwritten.remove(&start) {
                    w.revision += 1;
                }
                Some(w.clone())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|w| self.stamped(w))
            .collect()
    }

    /// Closes every open window (end of input).
    pub fn flush(&mut self) -> Vec<Window> {
        self.close_through(i64::MAX)
    }

    /// Copies of the windows still open, marked partial; nothing is closed or changed.
    pub fn open_windows(&self) -> Vec<Window> {
        self.open
            .values()
            .map(|o| {
                self.stamped(Window {
                    partial: true,
                    ..o.window.clone()
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn post_ids_are_numbers_only_in_their_canonical_form() {
        assert_eq!(
            PostId::of("629470863213989888"),
            PostId::Number(629_470_863_213_989_888)
        );
        assert_eq!(PostId::of("0"), PostId::Number(0));
        for text in [
            "0123",
            "+1",
            "",
            "18446744073709551615",
            "1e3",
            "at://did:plc:a/app.bsky.feed.post/x",
        ] {
            assert_eq!(PostId::of(text), PostId::Text(text.into()), "{text}");
        }
    }

    proptest::proptest! {
        /// Two ids are the same post exactly when their texts are the same.
        #[test]
        fn post_ids_are_equal_exactly_when_their_texts_are(
            a in "(0|[1-9][0-9]{0,19}|0[0-9]{1,3}|\\+[0-9]{1,3}|[0-9a-z:/.]{0,12})",
            b in "(0|[1-9][0-9]{0,19}|0[0-9]{1,3}|\\+[0-9]{1,3}|[0-9a-z:/.]{0,12})",
        ) {
            proptest::prop_assert_eq!(PostId::of(&a) == PostId::of(&b), a == b);
            proptest::prop_assert_eq!(PostId::of(&a) == PostId::of(&a.clone()), true);
        }
    }

    fn scored<'a>(id: &'a str, at: &str, sum: f64, words: u32, who: &'a [&'a str]) -> Scored<'a> {
        Scored {
            id,
            created_ms: at.parse::<Timestamp>().unwrap().as_millisecond(),
            score: Score { sum, words },
            candidates: who,
            text: "text",
            user: "u",
            label: None,
        }
    }

    fn windower() -> Windower {
        Windower::new(
            "2015-08-06",
            60,
            30,
            vec!["trump".into(), "bush".into()],
            None,
        )
    }

    /// The band's sums give the standard error computed directly from the tweets, and a merge of
    /// two halves gives the same sums as one window of all the tweets.
    #[test]
    fn the_band_sums_merge_exactly_and_give_the_direct_standard_error() {
        let tweets: Vec<(f64, u32)> = (0..40)
            .map(|i| {
                (
                    5.0 + f64::from(i % 7) * 0.37 + f64::from(i % 3),
                    1 + (i % 5) as u32,
                )
            })
            .map(|(h, w)| (h * f64::from(w), w))
            .collect();
        let ids: Vec<String> = (0..tweets.len()).map(|i| i.to_string()).collect();
        let add = |c: &mut CandidateWindow, range: std::ops::Range<usize>| {
            for i in range {
                let (sum, words) = tweets[i];
                c.add(&scored(
                    &ids[i],
                    "2015-08-07T01:00:10Z",
                    sum,
                    words,
                    &["trump"],
                ));
            }
        };
        let mut whole = CandidateWindow::default();
        add(&mut whole, 0..40);
        let (mut a, mut b) = (CandidateWindow::default(), CandidateWindow::default());
        add(&mut a, 0..17);
        add(&mut b, 17..40);
        a.merge(&b);
        assert_eq!(a.words_squared, whole.words_squared);
        assert!((a.sum_squares - whole.sum_squares).abs() < 1e-9 * whole.sum_squares);
        assert!((a.sum_by_words - whole.sum_by_words).abs() < 1e-9 * whole.sum_by_words);

        let n = tweets.len() as f64;
        let words: f64 = tweets.iter().map(|t| f64::from(t.1)).sum();
        let mean = tweets.iter().map(|t| t.0).sum::<f64>() / words;
        let residual: f64 = tweets
            .iter()
            .map(|(s, w)| (s - mean * f64::from(*w)).powi(2))
            .sum();
        let direct = (residual / (n * (n - 1.0))).sqrt() / (words / n);
        let stored = whole.standard_error().unwrap();
        assert!((stored - direct).abs() < 1e-12, "{stored} vs {direct}");
        assert!((a.standard_error().unwrap() - direct).abs() < 1e-12);
        // One tweet has no spread to measure; an old window has no sums.
        let mut one = CandidateWindow::default();
        add(&mut one, 0..1);
        assert_eq!(one.standard_error(), None);
        let old = CandidateWindow {
            sum_squares: 0.0,
            sum_by_words: 0.0,
            words_squared: 0,
            ..whole
        };
        assert_eq!(old.standard_error(), None);
    }

    #[test]
    fn a_window_closes_when_the_watermark_passes_its_end() {
        let mut w = windower();
        assert!(
            w.add(&scored("1", "2015-08-07T01:00:10Z", 12.0, 2, &["trump"]))
                .is_empty()
        );
        assert!(
            w.add(&scored(
                "2",
                "2015-08-07T01:00:50Z",
                3.0,
                1,
                &["trump", "bush"]
            ))
            .is_empty()
        );
        // 01:01:29 - 30 s lateness = 00:00:59: not yet past 01:01:00.
        assert!(
            w.add(&scored("3", "2015-08-07T01:01:29Z", 5.0, 1, &["bush"]))
                .is_empty()
        );
        let closed = w.add(&scored("4", "2015-08-07T01:01:31Z", 0.0, 0, &["bush"]));
        assert_eq!(closed.len(), 1);
        let first = &closed[0];
        assert_eq!(first.start.to_string(), "2015-08-07T01:00:00Z");
        assert_eq!(first.tweets, 2);
        let trump = &first.candidates["trump"];
        assert_eq!(
            (trump.tweets, trump.scored_tweets, trump.scored_words),
            (2, 2, 3)
        );
        assert_eq!(trump.happiness_sum, 15.0);
        assert_eq!(trump.mean, Some(5.0));
        assert_eq!(trump.most_positive.as_ref().unwrap().id, "1"); // 6.0
        assert_eq!(trump.most_negative.as_ref().unwrap().id, "2"); // 3.0
        let rest = w.flush();
        assert_eq!(rest.len(), 1);
        let bush = &rest[0].candidates["bush"];
        assert_eq!(
            (bush.tweets, bush.scored_tweets, bush.mean),
            (2, 1, Some(5.0))
        );
    }

    #[test]
    fn a_duplicate_id_counts_once_and_a_late_tweet_revises_its_window() {
        let mut w = windower();
        w.add(&scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]));
        w.add(&scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]));
        let closed = w.add(&scored("2", "2015-08-07T01:02:00Z", 6.0, 1, &["trump"]));
        assert_eq!(closed[0].tweets, 1);
        assert_eq!(closed[0].candidates["trump"].scored_words, 1);
        assert_eq!((closed[0].revision, closed[0].late), (0, 0));
        // A tweet for 01:00 arrives after that window was written; tweet 1 is delivered again.
        w.add(&scored("3", "2015-08-07T01:00:20Z", 1.0, 1, &["trump"]));
        w.add(&scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]));
        assert_eq!((w.duplicates, w.late), (1, 1));
        let revised = w.take_revised();
        assert_eq!(revised.len(), 1);
        let r = &revised[0];
        assert_eq!(r.start.to_string(), "2015-08-07T01:00:00Z");
        assert_eq!((r.revision, r.late, r.tweets), (1, 1, 2));
        assert_eq!(r.candidates["trump"].happiness_sum, 7.0);
        assert_eq!(
            r.candidates["trump"].most_negative.as_ref().unwrap().id,
            "3"
        );
        assert!(w.take_revised().is_empty(), "taken once");
        // Another late tweet: revision 2. A late tweet of a minute never written: revision 0.
        w.add(&scored("4", "2015-08-07T01:00:30Z", 1.0, 1, &["trump"]));
        w.add(&scored("5", "2015-08-07T00:58:30Z", 1.0, 1, &["bush"]));
        let revised = w.take_revised();
        let got: Vec<(String, u32, u64)> = revised
            .iter()
            .map(|r| (r.start.strftime("%H:%M").to_string(), r.revision, r.tweets))
            .collect();
        assert_eq!(got, [("00:58".into(), 0, 1), ("01:00".into(), 2, 3)]);
        // Read back in any order, the latest revision of each window wins.
        let mut all = closed.clone();
        all.extend(revised.iter().rev().cloned());
        let kept = latest(all);
        assert_eq!(kept.len(), 2);
        assert_eq!(kept[0].revision, 2);
    }

    #[test]
    fn a_source_that_delivered_nothing_yet_holds_the_watermark_until_its_end() {
        let mut w = windower();
        assert!(w.assign(&[0, 1, 2]).is_empty());
        // Partition 0 is read far ahead: nothing may close while 1 and 2 have said nothing.
        for (i, at) in ["01:00:10", "01:05:00", "01:30:00"].iter().enumerate() {
            let id = format!("a{i}");
            let closed = w.add_from(
                0,
                &scored(&id, &format!("2015-08-07T{at}Z"), 6.0, 1, &["trump"]),
            );
            assert!(closed.is_empty(), "closed at {at}");
        }
        // 1 delivers an old tweet: not late, it joins its window, which is still open.
        assert!(
            w.add_from(1, &scored("b", "2015-08-07T01:00:20Z", 6.0, 1, &["trump"]))
                .is_empty()
        );
        // 2 turns out to be empty; 1 then reaches its end: everything up to 01:29:30 closes.
        assert!(w.at_end(2).is_empty(), "1 still holds at 01:00:20");
        let closed = w.at_end(1);
        let starts: Vec<String> = closed
            .iter()
            .map(|c| c.start.strftime("%H:%M").to_string())
            .collect();
        assert_eq!(starts, ["01:00", "01:05"]);
        assert_eq!((closed[0].tweets, closed[0].late), (2, 0));
        assert_eq!(w.late, 0);
        // Partition 1 delivers again (new data after its end): it holds the watermark again.
        assert!(
            w.add_from(1, &scored("c", "2015-08-07T01:31:00Z", 6.0, 1, &["trump"]))
                .is_empty()
        );
        // A revoked partition stops holding it.
        let closed = w.assign(&[0]);
        assert_eq!(
            closed.len(),
            0,
            "0 is at 01:30:00, less 30 s: 01:30 stays open"
        );
        assert_eq!(w.flush().len(), 2);
    }

    #[test]
    fn the_slowest_source_holds_the_watermark() {
        let mut w = windower();
        // Source 0 runs ahead by minutes (a backlog read a partition at a time)...
        assert!(
            w.add_from(0, &scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]))
                .is_empty()
        );
        assert!(
            w.add_from(1, &scored("2", "2015-08-07T01:00:20Z", 6.0, 1, &["trump"]))
                .is_empty()
        );
        assert!(
            w.add_from(0, &scored("3", "2015-08-07T01:09:00Z", 6.0, 1, &["trump"]))
                .is_empty()
        );
        // ...so source 1's next tweet of 01:00 is not late: the window is still open.
        w.add_from(1, &scored("4", "2015-08-07T01:00:30Z", 6.0, 1, &["trump"]));
        let closed = w.add_from(1, &scored("5", "2015-08-07T01:05:00Z", 6.0, 1, &["trump"]));
        assert_eq!(closed[0].tweets, 3);
        assert_eq!(closed[0].late, 0);
    }

    /// Member a reads partition 0 from offset 0, publishes its open minute (through 6), writes
    /// the closed minute and dies before committing past offset 3. Member b takes partition 0
    /// over from offset 3: it skips what a's parts count, and the parts merge to the whole.
    #[test]
    fn a_member_that_takes_over_skips_what_the_lost_members_parts_count() {
        let ids: Vec<String> = (0..12).map(|i| format!("{}", 100 + i)).collect();
        let at = |i: usize| {
            if i < 8 {
                format!("2015-08-07T01:00:{:02}Z", i * 5)
            } else {
                format!("2015-08-07T01:02:{:02}Z", i * 2)
            }
        };
        let tweet = |i: usize| scored(&ids[i], &at(i), 4.0 + i as f64, 1, &["trump"]);
        let member =
            |m: &str| Windower::new("2015-08-06", 60, 30, vec!["trump".into()], Some(m.into()));
        let mut one = Windower::new("2015-08-06", 60, 30, vec!["trump".into()], None);
        let mut whole: Vec<Window> = (0..12).flat_map(|i| one.add(&tweet(i))).collect();
        whole.extend(one.flush());

        let mut a = member("a");
        a.assign(&[0]);
        for i in 0..7 {
            a.add_at(0, Some(i as i64), &tweet(i));
        }
        let open = a.open_windows();
        assert_eq!(open[0].through, BTreeMap::from([(0, 6)]));
        assert_eq!(open[0].member.as_deref(), Some("a"));
        // a dies here: its part of 01:00 is the partial one, through offset 6.
        let mut b = member("b");
        b.fence(&open);
        b.fence(&b.open_windows()); // its own parts never fence it
        b.assign(&[0]);
        let mut parts: Vec<Window> = (3..12)
            .flat_map(|i| b.add_at(0, Some(i as i64), &tweet(i)))
            .collect();
        assert_eq!(b.covered, 4, "offsets 3..=6 are counted in a's part");
        assert_eq!(
            parts[0].through,
            BTreeMap::from([(0, 8)]),
            "closed at offset 8"
        );
        parts.extend(b.flush());
        assert_eq!(parts[1].through, BTreeMap::from([(0, 11)]));
        let mut merged: BTreeMap<Timestamp, Window> = BTreeMap::new();
        for p in open.iter().chain(&parts) {
            if let Some(m) = merged.get_mut(&p.start) {
                m.merge(p);
            } else {
                let mut p = p.clone();
                p.member = None;
                p.through.clear();
                merged.insert(p.start, p);
            }
        }
        let merged: Vec<Window> = merged
            .into_values()
            .map(|w| Window {
                partial: false,
                ..w
            })
            .collect();
        assert_eq!(merged, whole);
    }

    #[test]
    fn partial_windows_merge_to_the_whole() {
        let tweets = [
            scored("1", "2015-08-07T01:00:01Z", 6.0, 1, &["trump"]),
            scored("2", "2015-08-07T01:00:02Z", 2.0, 1, &["trump"]),
            scored("3", "2015-08-07T01:00:03Z", 9.0, 2, &["trump", "bush"]),
        ];
        let mut whole = windower();
        for t in &tweets {
            whole.add(t);
        }
        let whole = whole.flush().remove(0);
        let mut a = windower();
        let mut b = windower();
        a.add(&tweets[0]);
        b.add(&tweets[1]);
        b.add(&tweets[2]);
        let mut merged = a.flush().remove(0);
        merged.merge(&b.flush().remove(0));
        assert_eq!(merged, whole);
    }

    #[test]
    fn a_version_3_window_reads_without_classes_and_merges_with_a_version_4_one() {
        let v3 = r#"{"version":3,"debate":"d","start":"2015-08-07T01:00:00Z","length_secs":60,
            "tweets":2,"late":0,"candidates":{"trump":{"tweets":2,"scored_tweets":2,
            "scored_words":4,"happiness_sum":22.0,"mean":5.5,"sum_squares":122.0,
            "sum_by_words":44.0,"words_squared":8,"most_positive":null,"most_negative":null}}}"#;
        let old: Window = serde_json::from_str(v3).unwrap();
        assert_eq!(old.candidates["trump"].classes, None);
        assert!(old.candidates["trump"].standard_error().is_some());

        let mut new = old.clone();
        new.version = WINDOW_VERSION;
        let label = |class, p: [f64; 3]| Label {
            class,
            p: p[class as usize],
            probabilities: p,
        };
        let mut tally = ClassTally::default();
        tally.add(&label(Class::Negative, [0.7, 0.2, 0.1]));
        tally.add(&label(Class::Positive, [0.1, 0.3, 0.6]));
        new.candidates.get_mut("trump").unwrap().classes = Some(tally.clone());
        // Written and read back, the counts survive; merged with the old one, they stay
        // the new one's (the old one counted no classes).
        let back: Window = serde_json::from_str(&serde_json::to_string(&new).unwrap()).unwrap();
        assert_eq!(back, new);
        let mut merged = old.clone();
        merged.merge(&new);
        assert_eq!(merged.candidates["trump"].classes, Some(tally.clone()));
        let shares = tally.shares().unwrap();
        assert_eq!(
            (shares.posts, shares.negative.share, shares.positive.share),
            (2, 0.5, 0.5)
        );
        assert!(shares.negative.low > 0.0 && shares.negative.high < 1.0);
    }

    #[test]
    fn the_wilson_interval_matches_its_published_values() {
        // Newcombe (1998), table I: 81 of 263 -> 0.2553 to 0.3662; 15 of 148 -> 0.0624 to 0.1605.
        let s = Share::wilson(81, 263);
        assert!(
            (s.low - 0.2553).abs() < 5e-5 && (s.high - 0.3662).abs() < 5e-5,
            "{s:?}"
        );
        let s = Share::wilson(15, 148);
        assert!(
            (s.low - 0.0624).abs() < 5e-5 && (s.high - 0.1605).abs() < 5e-5,
            "{s:?}"
        );
        let none = Share::wilson(0, 10);
        assert_eq!(none.low, 0.0);
        assert!((none.high - 0.2775).abs() < 5e-5, "{none:?}");
    }
}
