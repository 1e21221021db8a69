//! A debate per candidate, from its windows: the one computation behind the replay's summary,
//! `dw report` and its picture.

use dw_pipeline::window::{CandidateWindow, MIN_SCORED, Standout, Window};
use jiff::Timestamp;
use serde::Serialize;

/// What the windows' posts are called: `posts` when they came from Bluesky (a standout's id
/// is an AT URI), else `tweets`.
pub(crate) fn posts_word(windows: &[Window]) -> &'static str {
    let bluesky = windows.iter().any(|w| {
        w.candidates.values().any(|c| {
            [&c.most_positive, &c.most_negative]
                .into_iter()
                .flatten()
                .any(|t| t.id.starts_with("at://"))
        })
    });
    if bluesky { "posts" } else { "tweets" }
}

/// A window of one candidate that has enough scored tweets ([`MIN_SCORED`]) to mean something.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Minute {
    pub start: Timestamp,
    pub mean: f64,
    pub scored_tweets: u64,
}

/// The lowest or highest [`Minute`], with the tweet that stood out in it (the most negative of
/// the lowest, the most positive of the highest).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Extreme {
    pub start: Timestamp,
    pub mean: f64,
    pub scored_tweets: u64,
    pub tweet: Option<Standout>,
}

impl Extreme {
    pub(crate) fn minute(&self) -> Minute {
        Minute {
            start: self.start,
            mean: self.mean,
            scored_tweets: self.scored_tweets,
        }
    }
}

/// One candidate over the windows given.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    pub key: String,
    pub name: String,
    /// The candidate's windows merged: counts, mean, class tally, the evening's standouts.
    pub total: CandidateWindow,
    /// Its minutes, in the windows' order.
    pub minutes: Vec<Minute>,
    /// Of equal lowest (highest) minutes, the earliest: a summary read twice says the same.
    pub lowest: Option<Extreme>,
    pub highest: Option<Extreme>,
}

/// Each of `candidates` (key, name) over `windows` (one per window, at its latest revision, in
/// time order), the most talked about first (then by key).
pub(crate) fn per_candidate(
    windows: &[Window],
    candidates: impl IntoIterator<Item = (String, String)>,
) -> Vec<Candidate> {
    let mut out: Vec<Candidate> = candidates
        .into_iter()
        .map(|(key, name)| candidate(windows, key, name))
        .collect();
    out.sort_by(|a, b| b.total.tweets.cmp(&a.total.tweets).then(a.key.cmp(&b.key)));
    out
}

fn candidate(windows: &[Window], key: String, name: String) -> Candidate {
    let mut c = Candidate {
        total: CandidateWindow::default(),
        minutes: Vec::new(),
        lowest: None,
        highest: None,
        key,
        name,
    };
    for w in windows {
        let Some(cw) = w.candidates.get(&c.key) else {
            continue;
        };
        c.total.merge(cw);
        let (true, Some(mean)) = (cw.scored_tweets >= MIN_SCORED, cw.mean) else {
            continue;
        };
        c.minutes.push(Minute {
            start: w.start,
            mean,
            scored_tweets: cw.scored_tweets,
        });
        let extreme = |tweet: &Option<Standout>| Extreme {
            start: w.start,
            mean,
            scored_tweets: cw.scored_tweets,
            tweet: tweet.clone(),
        };
        if c.lowest.as_ref().is_none_or(|l| mean < l.mean) {
            c.lowest = Some(extreme(&cw.most_negative));
        }
        if c.highest.as_ref().is_none_or(|h| mean > h.mean) {
            c.highest = Some(extreme(&cw.most_positive));
        }
    }
    c
}

/// A tweet's text on one line (its escapes were decoded where it was read), cut to `n`
/// characters.
pub(crate) fn short(text: &str, n: usize) -> String {
    let flat: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    if flat.chars().count() <= n {
        flat
    } else {
        format!("{}...", flat.chars().take(n).collect::<String>())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn window(start_min: i64, mean: f64, scored: u64) -> Window {
        let trump = CandidateWindow {
            tweets: scored,
            scored_tweets: scored,
            scored_words: scored * 3,
            happiness_sum: mean * (scored * 3) as f64,
            mean: Some(mean),
            ..CandidateWindow::default()
        };
        Window {
            version: dw_pipeline::window::WINDOW_VERSION,
            debate: "2015-08-06".into(),
            start: Timestamp::from_second(1_438_903_800 + start_min * 60).unwrap(),
            length_secs: 60,
            member: None,
            tweets: scored,
            late: 0,
            revision: 0,
            partial: false,
            candidates: [("trump".to_string(), trump)].into(),
            through: std::collections::BTreeMap::new(),
        }
    }

    /// Equal minutes: the earliest is the lowest and the highest, whoever asks.
    #[test]
    fn of_equal_minutes_the_earliest_stands() {
        let windows = [
            window(0, 6.0, 10),
            window(1, 5.0, 10),
            window(2, 7.0, 10),
            window(3, 5.0, 10),
            window(4, 7.0, 10),
            window(5, 9.0, MIN_SCORED - 1), // too few scored tweets to count
        ];
        let [c] = &per_candidate(&windows, [("trump".into(), "Trump".into())])[..] else {
            panic!("one candidate");
        };
        let at = |m: i64| Timestamp::from_second(1_438_903_800 + m * 60).unwrap();
        assert_eq!(c.lowest.as_ref().map(|l| l.start), Some(at(1)));
        assert_eq!(c.highest.as_ref().map(|h| h.start), Some(at(2)));
        assert_eq!(c.minutes.len(), 5);
        assert_eq!(c.total.tweets, 50 + MIN_SCORED - 1);
    }
}
