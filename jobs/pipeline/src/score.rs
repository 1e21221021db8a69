//! The scoring job's core, independent of where tweets come from and where windows go: a line
//! in, a classified and scored tweet and any windows that closed out.

use std::collections::HashMap;
use std::hash::Hasher;
use std::sync::Arc;

use serde::Serialize;

use crate::classify::model::Model;
use crate::classify::{Class, Classifier, Label};
use crate::fasthash::{FastHash, FastHasher};

use crate::attribution::{Attributor, CandidateTerms};
use crate::labmt::{DEFAULT_LENS, Lens, Lexicon, Score};
use crate::tweet::{self, Message};
use crate::window::{Scored, Window, Windower};

#[derive(Debug, Clone)]
pub struct ScoreOptions {
    pub debate: String,
    pub candidates: Vec<CandidateTerms>,
    pub lens: Option<Lens>,
    /// Score a retweet as the retweeted status's full text (otherwise its own "RT @..." text).
    pub retweets_original: bool,
    pub window_secs: u32,
    pub lateness_secs: u32,
    /// Set when several scorers share the input: windows are partial and carry this name.
    pub member: Option<String>,
    /// The classifier's model (`None`: posts get no class).
    pub classify: Option<Arc<Model>>,
}

/// What happened to each line, for the heartbeat and the final report.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Counts {
    pub lines: u64,
    pub tweets: u64,
    pub deletes: u64,
    pub notices: u64,
    pub keep_alives: u64,
    pub malformed: u64,
    /// Tweets delivered again after their window was written (dropped).
    pub duplicates: u64,
    /// Tweets that arrived after their window was written, and went into it (a revision).
    pub late: u64,
    /// Tweets of windows an earlier run wrote (after a restart), taken as counted there.
    pub replayed: u64,
    /// Tweets another member's part already counts (read again after that member was lost
    /// between writing the part and committing its offsets), skipped.
    pub covered: u64,
    /// Windows written, and written again with late tweets.
    pub windows: u64,
    pub revisions: u64,
}

/// One line of `--emit tweets`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TweetScore {
    /// Start (ms) of the window the tweet went into.
    #[serde(skip)]
    pub window_ms: i64,
    /// The tweet's own time (ms).
    #[serde(skip)]
    pub created_ms: i64,
    pub id: String,
    pub score: Option<f64>,
    pub words: u32,
    pub candidates: Vec<String>,
    /// The classifier's call, and its probability.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub class: Option<Class>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub p: Option<f64>,
}

/// How many retweeted texts are remembered (then forgotten all at once): some 30 MB.
const ORIGINALS: usize = 100_000;

/// A text's 64-bit hash and length: the key a retweeted text is remembered by.
fn text_key(text: &str) -> (u64, usize) {
    let mut h = FastHasher::default();
    h.write(text.as_bytes());
    (h.finish(), text.len())
}

/// Adds the windows just closed, and the windower's tallies, to `counts`.
fn count(counts: &mut Counts, windower: &Windower, closed: &[Window]) {
    counts.windows += closed.len() as u64;
    counts.duplicates = windower.duplicates;
    counts.late = windower.late;
    counts.replayed = windower.replayed;
    counts.covered = windower.covered;
}

/// A retweeted text and what it was read as: its score, the candidates it names (in
/// [`Attributor::keys`]), its label.
struct Original {
    text: Box<str>,
    score: Score,
    hits: Vec<usize>,
    label: Option<Label>,
    /// The last retweet's own text ("RT @name: ...", the same in every retweet of an original
    /// but for a retweet of a retweet) and the candidates it names.
    retweet: Option<(Box<str>, Vec<usize>)>,
}

pub enum Outcome {
    Scored(TweetScore, Vec<Window>),
    /// A notice, a delete or a keep-alive: nothing to score.
    Skipped,
    /// Not a message dw understands; the reason is for the dead-letter sink.
    Malformed(String),
}

pub struct Scorer {
    lexicon: Lexicon,
    attributor: Attributor,
    options: ScoreOptions,
    windower: Windower,
    classifier: Option<Classifier>,
    /// What each retweeted text was read as, by [`text_key`]: the originals of a debate are
    /// retweeted thousands of times (over half of the labelled debate tweets are retweets,
    /// 38% of those repeat one of the others even in that small sample).
    originals: HashMap<(u64, usize), Original, FastHash>,
    pub counts: Counts,
    hits: Vec<usize>,
}

impl Scorer {
    pub fn new(options: ScoreOptions) -> Scorer {
        let keys: Vec<String> = options.candidates.iter().map(|c| c.key.clone()).collect();
        Scorer {
            lexicon: Lexicon::labmt1(),
            attributor: Attributor::new(&options.candidates),
            windower: Windower::new(
                &options.debate,
                options.window_secs,
                options.lateness_secs,
                keys,
                options.member.clone(),
            ),
            classifier: options.classify.clone().map(Classifier::new),
            originals: HashMap::default(),
            options,
            counts: Counts::default(),
            hits: Vec::new(),
        }
    }

    pub fn windower(&mut self) -> &mut Windower {
        &mut self.windower
    }

    /// Handles one line (raw bytes, without its line end) of the only source.
    pub fn line(&mut self, bytes: &[u8]) -> Outcome {
        self.line_from(0, bytes)
    }

    /// Handles one line read from `source` (a Kafka partition).
    pub fn line_from(&mut self, source: i32, bytes: &[u8]) -> Outcome {
        self.line_at(source, None, bytes)
    }

    /// Handles one line read at `offset` of the Kafka partition `source`.
    pub fn line_at(&mut self, source: i32, offset: Option<i64>, bytes: &[u8]) -> Outcome {
        self.counts.lines += 1;
        if bytes.iter().all(u8::is_ascii_whitespace) {
            self.counts.keep_alives += 1;
            return Outcome::Skipped;
        }
        match tweet::parse_bytes(bytes) {
            Ok(Message::Tweet(t)) => {
                self.counts.tweets += 1;
                let scored_text = t.scored_text(self.options.retweets_original);
                let retweet = self.options.retweets_original && t.retweeted_text.is_some();
                let (score, label) = if retweet {
                    let (key, read) = self.read_original(scored_text);
                    // A retweet also names whom it retweets ("RT @realDonaldTrump: ...").
                    let more = self.retweet_hits(key, &t.text);
                    for c in more {
                        if !self.hits.contains(&c) {
                            self.hits.push(c);
                        }
                    }
                    self.hits.sort_unstable();
                    read
                } else {
                    self.read(scored_text)
                };
                let keys = self.attributor.keys();
                let candidates: Vec<&str> = self.hits.iter().map(|&i| keys[i].as_str()).collect();
                let scored = Scored {
                    id: &t.id,
                    created_ms: t.created_ms,
                    score,
                    candidates: &candidates,
                    text: scored_text,
                    user: &t.user,
                    label,
                };
                let window_ms = self.windower.window_for(scored.created_ms);
                let closed = self.windower.add_at(source, offset, &scored);
                count(&mut self.counts, &self.windower, &closed);
                Outcome::Scored(
                    TweetScore {
                        window_ms,
                        created_ms: scored.created_ms,
                        id: t.id.to_string(),
                        score: score.mean(),
                        words: score.words,
                        candidates: candidates
                            .iter()
                            .map(std::string::ToString::to_string)
                            .collect(),
                        class: label.map(|l| l.class),
                        p: label.map(|l| l.p),
                    },
                    closed,
                )
            }
            Ok(Message::Delete { .. }) => {
                self.counts.deletes += 1;
                Outcome::Skipped
            }
            Ok(_) => {
                self.counts.notices += 1;
                Outcome::Skipped
            }
            Err(e) => {
                self.counts.malformed += 1;
                Outcome::Malformed(e.to_string())
            }
        }
    }

    /// A text's score and label, and the candidates it names into `self.hits`.
    fn read(&mut self, text: &str) -> (Score, Option<Label>) {
        let score = self.lexicon.score(text, self.options.lens);
        self.attributor.candidates(text, &mut self.hits);
        let label = self.classifier.as_mut().map(|c| {
            // The model was trained with the usual lens's mean.
            let labmt = if self.options.lens == Some(DEFAULT_LENS) {
                score.mean()
            } else {
                self.lexicon.score(text, Some(DEFAULT_LENS)).mean()
            };
            c.classify(text, labmt)
        });
        (score, label)
    }

    /// [`Scorer::read`] of a retweeted text: read once per original, then remembered (the
    /// text itself is kept and compared, so that two texts whose keys collide are never
    /// taken for each other).
    /// Returns the key the text is remembered by.
    fn read_original(&mut self, text: &str) -> ((u64, usize), (Score, Option<Label>)) {
        let key = text_key(text);
        if let Some(o) = self.originals.get(&key).filter(|o| &*o.text == text) {
            self.hits.clone_from(&o.hits);
            return (key, (o.score, o.label));
        }
        let (score, label) = self.read(text);
        if self.originals.len() >= ORIGINALS {
            self.originals.clear();
        }
        self.originals.insert(
            key,
            Original {
                text: text.into(),
                score,
                hits: self.hits.clone(),
                label,
                retweet: None,
            },
        );
        (key, (score, label))
    }

    /// The candidates a retweet's own text names, remembered with its original (`key`, just
    /// read by [`Scorer::read_original`]) while retweets of it keep the same text.
    fn retweet_hits(&mut self, key: (u64, usize), text: &str) -> Vec<usize> {
        let original = self.originals.get_mut(&key);
        if let Some((_, hits)) = original
            .as_ref()
            .and_then(|o| o.retweet.as_ref())
            .filter(|(seen, _)| &**seen == text)
        {
            return hits.clone();
        }
        let mut hits = Vec::new();
        self.attributor.candidates(text, &mut hits);
        if let Some(o) = original {
            o.retweet = Some((text.into(), hits.clone()));
        }
        hits
    }

    /// The sources (Kafka partitions) read now; returns the windows that closes.
    pub fn assign(&mut self, sources: &[i32]) -> Vec<Window> {
        let closed = self.windower.assign(sources);
        count(&mut self.counts, &self.windower, &closed);
        closed
    }

    /// `source` has delivered all it had; returns the windows that closes.
    pub fn at_end(&mut self, source: i32) -> Vec<Window> {
        let closed = self.windower.at_end(source);
        count(&mut self.counts, &self.windower, &closed);
        closed
    }

    /// The windows that sources gone idle were holding open.
    pub fn tick(&mut self) -> Vec<Window> {
        let closed = self.windower.tick();
        count(&mut self.counts, &self.windower, &closed);
        closed
    }

    /// Written windows that late tweets changed, to write again.
    pub fn take_revised(&mut self) -> Vec<Window> {
        let revised = self.windower.take_revised();
        self.counts.revisions += revised.iter().filter(|w| w.revision > 0).count() as u64;
        self.counts.windows += revised.iter().filter(|w| w.revision == 0).count() as u64;
        revised
    }

    /// Closes every open window (end of input, or shutdown); late revisions come after.
    pub fn flush(&mut self) -> Vec<Window> {
        let mut closed = self.windower.flush();
        count(&mut self.counts, &self.windower, &closed);
        closed.extend(self.take_revised());
        closed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scorer() -> Scorer {
        let candidates = [
            "trump=Trump,Donald Trump,@realDonaldTrump",
            "obama=Obama,Barack Obama,@BarackObama",
            "clinton=Hillary Clinton,Hillary,@HillaryClinton",
        ]
        .iter()
        .map(|c| c.parse().expect("a candidate"))
        .collect();
        Scorer::new(ScoreOptions {
            debate: "test".into(),
            candidates,
            lens: Some(DEFAULT_LENS),
            retweets_original: true,
            window_secs: 60,
            lateness_secs: 30,
            member: None,
            classify: Some(crate::classify::shipped_model()),
        })
    }

    /// The genuine v1.1 sample's statuses, `rounds` times over with ids of their own (so that
    /// every retweeted text comes back).
    fn sample(rounds: usize) -> Vec<String> {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(
            "../../tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl",
        );
        let text = std::fs::read_to_string(path).expect("the v1.1 sample");
        let statuses: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("\"id_str\"") && !l.starts_with("{\"delete\""))
            .collect();
        (0..rounds)
            .flat_map(|r| {
                statuses
                    .iter()
                    .map(move |s| s.replacen("\"id_str\":\"", &format!("\"id_str\":\"{r}"), 1))
            })
            .collect()
    }

    /// Retweets whose own text ("RT @...: ", cut short) names nobody while the original
    /// names a candidate further on, each retweeted twice (texts written for this test).
    fn retweets_naming_candidates_late() -> Vec<String> {
        let originals = [
            "After ninety minutes of this, my verdict: Trump was awful and rude all night",
            "Long night, many answers, and in the end Hillary Clinton won it, proud of her",
            "Nobody expected this but Obama is the name everyone keeps saying tonight",
        ];
        // Whom each round's retweets name as retweeted: the second round names a candidate
        // that no original does, so that what a retweet's own text names is remembered only
        // while the text stays the same.
        let retweeted = ["someone", "realDonaldTrump", "someone", "someone"];
        (0..retweeted.len())
            .flat_map(|round| {
                originals.iter().enumerate().map(move |(i, text)| {
                    let name = match retweeted[round] {
                        "someone" => format!("someone{i}"),
                        name => name.to_string(),
                    };
                    serde_json::json!({
                        "id_str": format!("77{round}{i}"),
                        "timestamp_ms": "1487282405000",
                        "text": format!("RT @{name}: {}…", &text[..20]),
                        "user": {"screen_name": format!("fan{round}{i}")},
                        "retweeted_status": {"id_str": format!("66{i}"), "text": text},
                    })
                    .to_string()
                })
            })
            .collect()
    }

    fn scored(outcome: Outcome) -> TweetScore {
        match outcome {
            Outcome::Scored(t, _) => t,
            _ => panic!("a tweet"),
        }
    }

    #[test]
    fn a_remembered_original_reads_as_reading_it_again() {
        let (mut remembering, mut forgetting) = (scorer(), scorer());
        let (mut retweets, mut named, mut by_retweet, mut classes) = (0, 0, 0, [0usize; 3]);
        for line in sample(3)
            .into_iter()
            .chain(retweets_naming_candidates_late())
        {
            forgetting.originals.clear();
            let a = scored(remembering.line(line.as_bytes()));
            let b = scored(forgetting.line(line.as_bytes()));
            assert_eq!(a, b, "{line}");
            retweets += usize::from(line.contains("\"retweeted_status\":{"));
            by_retweet += usize::from(
                line.contains("RT @realDonaldTrump:") && a.candidates.contains(&"trump".into()),
            );
            named += usize::from(!a.candidates.is_empty());
            classes[a.class.expect("a class") as usize] += 1;
        }
        // Every retweeted text after the first round came from memory; some name a candidate,
        // every class occurs.
        assert!(retweets > 500, "{retweets}");
        assert!(
            remembering.originals.len() > 150,
            "{}",
            remembering.originals.len()
        );
        assert!(named > 10, "{named}");
        // Every retweet of the second round names Trump: two of them only by their own text.
        assert_eq!(by_retweet, 3);
        assert!(classes.iter().all(|&n| n > 20), "{classes:?}");
        assert_eq!(remembering.counts, forgetting.counts);
        // The last retweet came from memory, and so did the candidate only its original names.
        let late = retweets_naming_candidates_late();
        let last = scored(remembering.line(late[late.len() - 1].as_bytes()));
        assert_eq!(last.candidates, ["obama"]);
    }

    #[test]
    fn texts_whose_keys_collide_are_not_taken_for_each_other() {
        let line = sample(1)
            .into_iter()
            .find(|l| l.contains("\"retweeted_status\":{"))
            .expect("a retweet");
        let want = scored(scorer().line(line.as_bytes()));
        let mut s = scorer();
        let message = tweet::parse(&line).expect("a status");
        let Message::Tweet(t) = message else {
            panic!("a tweet")
        };
        let original = t.retweeted_text.expect("a retweet");
        s.originals.insert(
            text_key(&original),
            Original {
                text: "another text with the same key".into(),
                score: Score {
                    sum: 99.0,
                    words: 1,
                },
                hits: vec![0, 1, 2],
                label: None,
                retweet: Some((t.text.to_string().into(), vec![0, 1, 2])),
            },
        );
        assert_eq!(scored(s.line(line.as_bytes())), want);
    }
}
