//! `dw report`: a debate read back from the windows the scorer wrote (dw-score on the cluster,
//! or `dw replay` here): happiness per candidate over time, each candidate's lowest and highest
//! minute with the tweet that stood out in it, and optionally a picture.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::PathBuf;

use dw_pipeline::classify::Class;
use dw_pipeline::window::{ClassTally, MIN_SCORED, Shares, Window};
use jiff::Timestamp;
use serde::Serialize;

use crate::aws;
use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::summary::{self, Extreme, Minute, short};
use crate::units::{shown, shown_span};

/// The plot draws this many candidates, those with the most tweets (more lines are a tangle).
pub(crate) const PLOTTED: usize = 8;

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CandidateRow {
    pub key: String,
    pub name: String,
    pub tweets: u64,
    pub scored_tweets: u64,
    pub mean: Option<f64>,
    /// The classifier's shares of the candidate's tweets (windows from version 4 on).
    pub classes: Option<Shares>,
    pub lowest: Option<Extreme>,
    pub highest: Option<Extreme>,
}

/// One candidate's line: the minutes with enough scored tweets to mean something.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Line {
    pub key: String,
    pub name: String,
    pub tweets: u64,
    pub points: Vec<Minute>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DebateReport {
    pub debate: String,
    pub source: String,
    /// Windows read (partial windows of several scorers count once each).
    pub windows: usize,
    pub first_window: Option<Timestamp>,
    pub last_window: Option<Timestamp>,
    pub candidates: Vec<CandidateRow>,
    pub bin_secs: u32,
    /// What the posts are called in text and pictures ([`summary::posts_word`]).
    #[serde(skip)]
    pub posts: &'static str,
    #[serde(skip)]
    pub lines: Vec<Line>,
    /// What the picture spans: the debates and the windows.
    #[serde(skip)]
    pub plot_from: Timestamp,
    #[serde(skip)]
    pub plot_to: Timestamp,
    /// Each debate of the evening: a label, its start and end.
    #[serde(skip)]
    pub debates: Vec<(String, Timestamp, Timestamp)>,
}

/// Reads windows from JSON lines, or from objects that each hold one (pretty-printed) window.
pub(crate) fn parse_windows(name: &str, bytes: &[u8]) -> Result<Vec<Window>> {
    let mut out = Vec::new();
    for (i, w) in serde_json::Deserializer::from_slice(bytes)
        .into_iter::<Window>()
        .enumerate()
    {
        out.push(w.map_err(|e| {
            Error::input_with_hint(
                format!("{name}:{}: window {} is not a window: {e}", e.line(), i + 1),
                "dw report reads what dw-score and dw replay write (windows.jsonl, or \
                 <prefix>/<debate>/windows/*.json on S3)",
            )
        })?);
    }
    Ok(out)
}

/// Where `dw report` reads a debate's windows.
pub(crate) enum WindowsAt {
    /// Every object under `prefix` (the debate's `windows/` folder).
    S3 { bucket: String, prefix: String },
    /// One JSON-lines file (`out/<date>/windows.jsonl` for a directory).
    File(PathBuf),
}

/// The windows of `evening` where `at` says (S3 through `s3`), and that place as people
/// write it. None is bad input: there is nothing to report.
pub(crate) async fn read_windows(
    s3: Option<&aws_sdk_s3::Client>,
    at: &WindowsAt,
    evening: &Evening,
) -> Result<(Vec<Window>, String)> {
    let date = evening.date.to_string();
    let (windows, source) = match (at, s3) {
        (WindowsAt::S3 { bucket, prefix }, Some(s3)) => {
            let mut windows = Vec::new();
            for key in &aws::list_keys(s3, bucket, prefix).await? {
                let bytes = aws::get_object(s3, bucket, key).await?;
                windows.extend(parse_windows(&format!("s3://{bucket}/{key}"), &bytes)?);
            }
            (windows, format!("s3://{bucket}/{prefix}"))
        }
        (WindowsAt::S3 { .. }, None) => {
            return Err(Error::Failed("windows on S3 need an S3 client".into()));
        }
        (WindowsAt::File(path), _) => {
            let bytes = std::fs::read(path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    Error::input_with_hint(
                        format!("no windows at {}", path.display()),
                        format!(
                            "score the debate first (dw replay --debate {date}), or pass \
                             --from with the windows' file, directory or s3:// prefix"
                        ),
                    )
                } else {
                    Error::Read {
                        path: path.clone(),
                        source,
                    }
                }
            })?;
            let name = path.display().to_string();
            (parse_windows(&name, &bytes)?, name)
        }
    };
    if windows.is_empty() {
        return Err(Error::input(format!("{source} holds no windows of {date}")));
    }
    Ok((windows, source))
}

/// Merges windows into bins of `bin_secs` (partials of one window, and neighbouring minutes),
/// each window at its latest revision.
pub(crate) fn bin(windows: Vec<Window>, bin_secs: u32) -> Vec<Window> {
    let step = i64::from(bin_secs.max(1)) * 1000;
    let mut bins: BTreeMap<i64, Window> = BTreeMap::new();
    for w in dw_pipeline::window::latest(windows) {
        let key = w.start.as_millisecond().div_euclid(step) * step;
        if let Some(b) = bins.get_mut(&key) {
            b.merge(&w);
        } else {
            let mut b = w;
            b.member = None;
            b.start = Timestamp::from_millisecond(key).unwrap_or(b.start);
            b.length_secs = b.length_secs.max(bin_secs);
            bins.insert(key, b);
        }
    }
    bins.into_values().collect()
}

/// The report of `evening` from its windows, merged into bins of `bin_secs`.
pub(crate) fn build(
    evening: &Evening,
    source: String,
    windows: Vec<Window>,
    bin_secs: u32,
) -> DebateReport {
    let date = evening.date.to_string();
    let read = windows.len();
    let windows = bin(
        windows.into_iter().filter(|w| w.debate == date).collect(),
        bin_secs,
    );
    let names = evening
        .candidates()
        .into_iter()
        .map(|c| (c.key, c.candidate.name));
    let posts = summary::posts_word(&windows);
    let mut candidates = Vec::new();
    let mut lines = Vec::new();
    for c in summary::per_candidate(&windows, names) {
        if !c.minutes.is_empty() {
            lines.push(Line {
                key: c.key.clone(),
                name: c.name.clone(),
                tweets: c.total.tweets,
                points: c.minutes,
            });
        }
        candidates.push(CandidateRow {
            key: c.key,
            name: c.name,
            tweets: c.total.tweets,
            scored_tweets: c.total.scored_tweets,
            mean: c.total.mean,
            classes: c.total.classes.as_ref().and_then(ClassTally::shares),
            lowest: c.lowest,
            highest: c.highest,
        });
    }
    lines.truncate(PLOTTED);

    let first_window = windows.first().map(|w| w.start);
    let last_window = windows.last().map(|w| w.start);
    let debates = evening
        .debates
        .iter()
        .map(|d| (format!("{} debate", d.tier), d.start, d.end))
        .collect();
    let plot_from = first_window.map_or(evening.start(), |f| f.min(evening.start()));
    let plot_to = last_window
        .map(|l| l + jiff::SignedDuration::from_secs(i64::from(bin_secs)))
        .map_or(evening.end(), |l| l.max(evening.end()));
    DebateReport {
        debate: date,
        source,
        windows: read,
        first_window,
        last_window,
        candidates,
        bin_secs,
        posts,
        lines,
        plot_from,
        plot_to,
        debates,
    }
}

impl DebateReport {
    pub(crate) fn to_text(&self, tz: &jiff::tz::TimeZone) -> String {
        let mut out = String::new();
        let span = match (self.first_window, self.last_window) {
            (Some(f), Some(l)) => shown_span(f, l, tz),
            _ => "no windows of this debate".into(),
        };
        let _ = writeln!(
            out,
            "debate {}: {} windows from {} ({span}), per {}\n",
            self.debate,
            self.windows,
            self.source,
            crate::units::Duration::from_secs(i64::from(self.bin_secs))
        );
        let _ = writeln!(
            out,
            "{:<18} {:>6} {:>6} {:>4} {:>4}   {:<18} {:<18}",
            "candidate", self.posts, "mean", "neg", "pos", "lowest", "highest"
        );
        let at = |e: &Option<Extreme>| {
            e.as_ref().map_or_else(
                || "-".to_string(),
                |e| {
                    format!(
                        "{} {:.2} ({})",
                        shown(e.start, tz, "%H:%M"),
                        e.mean,
                        e.scored_tweets
                    )
                },
            )
        };
        for c in &self.candidates {
            let _ = writeln!(
                out,
                "{:<18} {:>6} {:>6} {:>4} {:>4}   {:<18} {:<18}",
                c.name,
                c.tweets,
                c.mean.map_or_else(|| "-".into(), |m| format!("{m:.2}")),
                Shares::cell(c.classes.as_ref(), Class::Negative),
                Shares::cell(c.classes.as_ref(), Class::Positive),
                at(&c.lowest),
                at(&c.highest)
            );
        }
        let _ = writeln!(
            out,
            "\n(mean: LabMT happiness, 1 to 9; a {} needs {MIN_SCORED} scored tweets to count; \
             (n) = scored tweets in it;\n neg, pos: the share of the tweets the classifier calls \
             negative, positive)",
            if self.bin_secs == 60 { "minute" } else { "bin" }
        );
        for c in self.candidates.iter().filter(|c| c.lowest.is_some()) {
            let _ = writeln!(out, "\n{}", c.name);
            for (sign, e) in [("-", &c.lowest), ("+", &c.highest)] {
                if let Some(Extreme {
                    start,
                    tweet: Some(t),
                    ..
                }) = e
                {
                    let _ = writeln!(
                        out,
                        "  {sign} {} {:.2} {}: {}",
                        shown(*start, tz, "%H:%M"),
                        t.score,
                        t.author(),
                        short(&t.text, 96)
                    );
                }
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use dw_pipeline::window::CandidateWindow;

    fn window(start: &str, member: Option<&str>, words: u64, sum: f64) -> Window {
        let mut w = Window::new(
            "2015-08-06",
            start.parse::<Timestamp>().unwrap().as_millisecond(),
            60,
            &["trump".to_string()],
        );
        w.member = member.map(str::to_string);
        w.tweets = 4;
        w.candidates.insert(
            "trump".into(),
            CandidateWindow {
                tweets: 4,
                scored_tweets: 4,
                scored_words: words,
                happiness_sum: sum,
                mean: Some(sum / words as f64),
                most_positive: None,
                most_negative: None,
                ..Default::default()
            },
        );
        w
    }

    #[test]
    fn partial_windows_and_neighbouring_minutes_merge_exactly() {
        let windows = vec![
            window("2015-08-07T01:00:00Z", Some("a"), 10, 50.0),
            window("2015-08-07T01:00:00Z", Some("b"), 30, 210.0),
            window("2015-08-07T01:01:00Z", None, 10, 40.0),
            window("2015-08-07T01:05:00Z", None, 10, 60.0),
        ];
        let one = bin(windows.clone(), 60);
        assert_eq!(one.len(), 3);
        let c = &one[0].candidates["trump"];
        assert_eq!((c.tweets, c.scored_words), (8, 40));
        assert_eq!(c.mean, Some(260.0 / 40.0));
        let five = bin(windows, 300);
        assert_eq!(five.len(), 2);
        assert_eq!(five[0].candidates["trump"].scored_words, 50);
        assert_eq!(five[0].length_secs, 300);
    }

    /// A version 1 window (before revisions) and version 2 windows, one written twice: each
    /// window counts once, at its latest revision.
    #[test]
    fn both_window_versions_read_and_the_latest_revision_counts() {
        let v1 = r#"{"version":1,"debate":"2015-08-06","start":"2015-08-07T01:00:00Z","length_secs":60,"tweets":3,"late":0,
            "candidates":{"trump":{"tweets":3,"scored_tweets":3,"scored_words":10,"happiness_sum":50.0,"mean":5.0,
            "most_positive":null,"most_negative":null}}}"#;
        let mut first = window("2015-08-07T01:01:00Z", None, 4, 20.0);
        first.revision = 0;
        let mut second = first.clone();
        second.revision = 1;
        second.late = 1;
        second.candidates.get_mut("trump").unwrap().scored_words = 6;
        second.candidates.get_mut("trump").unwrap().happiness_sum = 26.0;
        let text = format!(
            "{}\n{}\n{}\n",
            v1.replace('\n', ""),
            serde_json::to_string(&second).unwrap(),
            serde_json::to_string(&first).unwrap(),
        );
        let windows = parse_windows("w", text.as_bytes()).unwrap();
        assert_eq!((windows[0].version, windows[0].revision), (1, 0));
        let bins = bin(windows, 120);
        assert_eq!(bins.len(), 1);
        let trump = &bins[0].candidates["trump"];
        assert_eq!((trump.scored_words, trump.happiness_sum), (16, 76.0));
    }

    #[test]
    fn windows_parse_from_lines_or_pretty_objects() {
        let w = window("2015-08-07T01:00:00Z", None, 10, 50.0);
        let line = serde_json::to_string(&w).unwrap();
        let pretty = serde_json::to_string_pretty(&w).unwrap();
        let text = format!("{line}\n{line}\n{pretty}\n");
        assert_eq!(parse_windows("w", text.as_bytes()).unwrap().len(), 3);
        let err = parse_windows("w.jsonl", b"{\"version\": 1}\n").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().starts_with("w.jsonl:1: window 1"), "{err}");
    }
}
