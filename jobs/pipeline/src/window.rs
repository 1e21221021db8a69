//! Windows: per candidate per time window (default one minute, by the tweet's own time) the sums
//! that merge exactly, the mean, and the tweets that stood out. The JSON form is the contract
//! between `dw-score`, its sinks and `dw report`; `version` changes if it does.

use std::collections::{BTreeMap, HashSet, VecDeque};

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::labmt::Score;

pub const WINDOW_VERSION: u32 = 1;

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
    /// Tweets that arrived after their own window had been written (counted here, not lost).
    pub late: u64,
    pub candidates: BTreeMap<String, CandidateWindow>,
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
    pub most_positive: Option<Standout>,
    pub most_negative: Option<Standout>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Standout {
    pub id: String,
    pub text: String,
    pub score: f64,
    pub user: String,
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
}

/// Orders standouts so that merges pick the same one whatever the order: by score, then by id
/// (numeric ids compare by length first).
fn standout_key(s: &Standout) -> (f64, usize, &str) {
    (s.score, s.id.len(), s.id.as_str())
}

/// Whether a tweet of `score` and `id` would replace `current` as the most positive (`max`) or
/// most negative tweet, by the same order [`pick_max`]/[`pick_min`] use.
fn beats(current: &Option<Standout>, score: f64, id: &str, max: bool) -> bool {
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
        if let Some(mean) = t.score.mean() {
            self.scored_tweets += 1;
            self.scored_words += u64::from(t.score.words);
            self.happiness_sum += t.score.sum;
            let standout = || Standout {
                id: t.id.to_string(),
                text: t.text.to_string(),
                score: mean,
                user: t.user.to_string(),
            };
            // Copy the text only for a tweet that stands out.
            if beats(&self.most_positive, mean, t.id, true) {
                self.most_positive = Some(standout());
            }
            if beats(&self.most_negative, mean, t.id, false) {
                self.most_negative = Some(standout());
            }
        }
        self.update_mean();
    }

    fn update_mean(&mut self) {
        self.mean = (self.scored_words > 0).then(|| self.happiness_sum / self.scored_words as f64);
    }

    pub fn merge(&mut self, other: &CandidateWindow) {
        self.tweets += other.tweets;
        self.scored_tweets += other.scored_tweets;
        self.scored_words += other.scored_words;
        self.happiness_sum += other.happiness_sum;
        self.most_positive = pick_max(self.most_positive.take(), other.most_positive.clone());
        self.most_negative = pick_min(self.most_negative.take(), other.most_negative.clone());
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
            candidates: candidates
                .iter()
                .map(|k| (k.clone(), CandidateWindow::default()))
                .collect(),
        }
    }

    /// Combines a partial window of the same debate, start and length into this one.
    pub fn merge(&mut self, other: &Window) {
        self.tweets += other.tweets;
        self.late += other.late;
        for (k, c) in &other.candidates {
            self.candidates.entry(k.clone()).or_default().merge(c);
        }
        self.member = None;
    }

    /// The object key of this window under a results prefix: `<debate>/windows/<start>.json`.
    pub fn key(&self) -> String {
        let start = self.start.strftime("%Y-%m-%dT%H:%M:%SZ");
        match &self.member {
            Some(m) => format!("{}/windows/{start}.{m}.json", self.debate),
            None => format!("{}/windows/{start}.json", self.debate),
        }
    }
}

struct Open {
    window: Window,
    ids: HashSet<String>,
}

/// Assigns scored tweets to windows and closes a window once the watermark passes its end.
///
/// Tweets come from one or more sources (Kafka partitions) that may run apart, e.g. when a backlog
/// is read a partition at a time. The watermark is the newest tweet time of the *slowest* active
/// source, minus the allowed lateness; a source silent for [`IDLE_SOURCE`] stops holding it back.
pub struct Windower {
    debate: String,
    length_ms: i64,
    lateness_ms: i64,
    candidates: Vec<String>,
    member: Option<String>,
    open: BTreeMap<i64, Open>,
    /// Source -> (newest tweet time, when it last delivered).
    sources: BTreeMap<i32, (i64, std::time::Instant)>,
    /// Windows starting before this were written already.
    closed_until_ms: i64,
    /// Ids of tweets in recently written windows: a tweet delivered again (Kafka is
    /// at-least-once, e.g. after a rebalance) is dropped, not counted as late.
    recent: HashSet<String>,
    recent_order: VecDeque<String>,
    /// Tweets dropped because their id was seen already.
    pub duplicates: u64,
}

/// How many ids of written windows are remembered (about 100 bytes each).
const RECENT_IDS: usize = 500_000;

/// A source that delivered nothing for this long no longer holds the watermark back.
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
            recent: HashSet::new(),
            recent_order: VecDeque::new(),
            duplicates: 0,
        }
    }

    /// Continues after windows up to `closed_until` were written by an earlier run.
    pub fn resume_after(&mut self, closed_until: Timestamp) {
        self.closed_until_ms = self.closed_until_ms.max(closed_until.as_millisecond());
    }

    /// Windows before this instant are final.
    pub fn closed_until(&self) -> Option<Timestamp> {
        (self.closed_until_ms != i64::MIN)
            .then(|| Timestamp::from_millisecond(self.closed_until_ms).ok())
            .flatten()
    }

    fn open_window(&mut self, start_ms: i64) -> &mut Open {
        let (debate, length, candidates, member) = (
            &self.debate,
            (self.length_ms / 1000) as u32,
            &self.candidates,
            &self.member,
        );
        self.open.entry(start_ms).or_insert_with(|| {
            let mut window = Window::new(debate, start_ms, length, candidates);
            window.member = member.clone();
            Open {
                window,
                ids: HashSet::new(),
            }
        })
    }

    /// The start of the window a tweet of `created_ms` goes into now (a late tweet goes into the
    /// first window not yet written).
    pub fn window_for(&self, created_ms: i64) -> i64 {
        let start = created_ms.div_euclid(self.length_ms) * self.length_ms;
        start.max(self.closed_until_ms)
    }

    /// Adds a tweet from the only source; see [`Windower::add_from`].
    pub fn add(&mut self, t: &Scored<'_>) -> Vec<Window> {
        self.add_from(0, t)
    }

    fn remember(&mut self, id: String) {
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
    /// oldest first.
    pub fn add_from(&mut self, source: i32, t: &Scored<'_>) -> Vec<Window> {
        let start = t.created_ms.div_euclid(self.length_ms) * self.length_ms;
        if self.recent.contains(t.id) {
            self.duplicates += 1;
            return Vec::new();
        }
        if start < self.closed_until_ms {
            let next = self.closed_until_ms;
            self.open_window(next).window.late += 1;
            self.remember(t.id.to_string());
        } else {
            let open = self.open_window(start);
            if !open.ids.contains(t.id) {
                open.ids.insert(t.id.to_string());
                open.window.tweets += 1;
                for &key in t.candidates {
                    match open.window.candidates.get_mut(key) {
                        Some(c) => c.add(t),
                        None => open
                            .window
                            .candidates
                            .entry(key.to_string())
                            .or_default()
                            .add(t),
                    }
                }
            }
        }
        let now = std::time::Instant::now();
        let entry = self.sources.entry(source).or_insert((t.created_ms, now));
        *entry = (entry.0.max(t.created_ms), now);
        let slowest = self
            .sources
            .values()
            .filter(|(_, seen)| now.duration_since(*seen) < IDLE_SOURCE)
            .map(|(max, _)| *max)
            .min()
            .unwrap_or(t.created_ms);
        self.close_through(slowest.saturating_sub(self.lateness_ms))
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
                closed.push(open.window);
            }
        }
        closed
    }

    /// Closes every open window (end of input).
    pub fn flush(&mut self) -> Vec<Window> {
        self.close_through(i64::MAX)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scored<'a>(id: &'a str, at: &str, sum: f64, words: u32, who: &'a [&'a str]) -> Scored<'a> {
        Scored {
            id,
            created_ms: at.parse::<Timestamp>().unwrap().as_millisecond(),
            score: Score { sum, words },
            candidates: who,
            text: "text",
            user: "u",
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
    fn a_duplicate_id_counts_once_and_a_late_tweet_is_counted_not_lost() {
        let mut w = windower();
        w.add(&scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]));
        w.add(&scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]));
        let closed = w.add(&scored("2", "2015-08-07T01:02:00Z", 6.0, 1, &["trump"]));
        assert_eq!(closed[0].tweets, 1);
        assert_eq!(closed[0].candidates["trump"].scored_words, 1);
        // A tweet for 01:00 arrives after that window was written; tweet 1 is delivered again.
        w.add(&scored("3", "2015-08-07T01:00:20Z", 1.0, 1, &["trump"]));
        w.add(&scored("1", "2015-08-07T01:00:10Z", 6.0, 1, &["trump"]));
        assert_eq!(w.duplicates, 1);
        let rest = w.flush();
        let late: u64 = rest.iter().map(|w| w.late).sum();
        assert_eq!(late, 1);
        assert_eq!(rest[0].start.to_string(), "2015-08-07T01:01:00Z");
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
}
