//! `dw replay`: a past debate scored on this machine with no cloud. The archive is read the way
//! dw-ingest reads one (ids seen before are dropped, optionally paced by the tweets' own
//! times), handed through an in-process channel to the scorer dw-score runs, and the windows
//! are written under `out/<debate>/`; then a summary per candidate.

use std::collections::BTreeMap;
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use dw_pipeline::attribution::CandidateTerms;
use dw_pipeline::classify::Class;
use dw_pipeline::dedupe::RecentIds;
use dw_pipeline::labmt::DEFAULT_LENS;
use dw_pipeline::lines::{self, Line};
use dw_pipeline::score::{Counts, Outcome, ScoreOptions, Scorer};
use dw_pipeline::tweet::{self, Message};
use dw_pipeline::window::{ClassTally, MIN_SCORED, Shares, Standout, Window};
use jiff::Timestamp;
use serde::Serialize;

use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::progress::Progress;
use crate::summary::{self, Extreme, Minute, short};
use crate::{aws, log};

pub(crate) struct ReplayOptions<'a> {
    pub evening: &'a Evening,
    /// The archive's lines, already fetched (a file or S3 objects).
    pub input: Box<dyn BufRead + Send>,
    pub input_name: String,
    pub out: PathBuf,
    /// Replay at the tweets' pace times this; `None`: as fast as possible.
    pub pace: Option<f64>,
    pub window_secs: u32,
    pub lateness_secs: u32,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CandidateSummary {
    pub key: String,
    pub name: String,
    pub tweets: u64,
    pub scored_words: u64,
    pub mean: Option<f64>,
    /// The classifier's shares of the candidate's tweets.
    pub classes: Option<dw_pipeline::window::Shares>,
    /// The lowest and highest window among those with at least
    /// [`dw_pipeline::window::MIN_SCORED`] scored tweets (the earliest of equal ones).
    pub lowest_minute: Option<Minute>,
    pub highest_minute: Option<Minute>,
    pub most_positive: Option<Standout>,
    pub most_negative: Option<Standout>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ReplaySummary {
    pub debate: String,
    pub input: String,
    pub windows: usize,
    pub first_window: Option<Timestamp>,
    pub last_window: Option<Timestamp>,
    pub counts: Counts,
    pub duplicates_dropped: u64,
    pub windows_file: PathBuf,
    pub candidates: Vec<CandidateSummary>,
    pub seconds: f64,
    /// What the posts are called in text ([`summary::posts_word`]).
    #[serde(skip)]
    pub posts: &'static str,
}

/// Runs the replay; windows go to `<out>/<debate>/windows.jsonl`, the summary beside them.
pub(crate) fn run(opts: ReplayOptions<'_>) -> Result<ReplaySummary> {
    let started = Instant::now();
    let evening = opts.evening;
    let date = evening.date.to_string();
    let (candidates, names) = candidate_terms(evening);
    let dir = opts.out.join(&date);
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let windows_path = dir.join("windows.jsonl");
    let write_err = |source| Error::Write {
        path: windows_path.clone(),
        source,
    };
    let mut windows_file =
        std::io::BufWriter::new(std::fs::File::create(&windows_path).map_err(write_err)?);

    let (tx, rx) = mpsc::sync_channel::<Vec<u8>>(4096);
    let pace = opts.pace;
    let reader = spawn_reader(opts.input, pace, tx);

    let mut scorer = Scorer::new(ScoreOptions {
        debate: date.clone(),
        candidates,
        lens: Some(DEFAULT_LENS),
        retweets_original: true,
        window_secs: opts.window_secs,
        lateness_secs: opts.lateness_secs,
        member: None,
        classify: Some(dw_pipeline::classify::shipped_model()),
    });
    let progress = Progress::spinner(&match pace {
        Some(speed) => format!("replaying {} at {speed}x", opts.input_name),
        None => format!("replaying {}", opts.input_name),
    });
    let mut windows: Vec<Window> = Vec::new();
    let paced = pace.is_some();
    let mut keep = |ws: Vec<Window>, file: &mut std::io::BufWriter<std::fs::File>| -> Result<()> {
        let wrote = !ws.is_empty();
        for w in ws {
            serde_json::to_writer(&mut *file, &w).map_err(|e| Error::Failed(e.to_string()))?;
            file.write_all(b"\n").map_err(write_err)?;
            windows.push(w);
        }
        // A paced replay is watched as it goes (`dw replay --watch`): each window is on disk
        // as soon as it closes.
        if paced && wrote {
            file.flush().map_err(write_err)?;
        }
        Ok(())
    };
    let mut last_report = Instant::now();
    // Tweets, until a closed window shows they are Bluesky posts.
    let mut posts = "tweets";
    for line in rx {
        let revised = scorer.take_revised();
        keep(revised, &mut windows_file)?;
        if let Outcome::Scored(_, closed) = scorer.line(&line) {
            if summary::posts_word(&closed) == "posts" {
                posts = "posts";
            }
            if !closed.is_empty() && last_report.elapsed() > Duration::from_millis(500) {
                last_report = Instant::now();
                progress.set(&format!(
                    "{} {posts} scored, window {}",
                    scorer.counts.tweets,
                    closed[0].start.strftime("%H:%M")
                ));
            }
            keep(closed, &mut windows_file)?;
        }
    }
    let dropped = reader
        .join()
        .map_err(|_| Error::Failed("the reader thread failed".into()))?
        .map_err(|e| Error::Failed(format!("reading {}: {e}", opts.input_name)))?;
    keep(scorer.flush(), &mut windows_file)?;
    windows_file.flush().map_err(write_err)?;
    // A window written again (late tweets) counts at its latest revision.
    let windows = dw_pipeline::window::latest(windows);
    progress.finish(&format!(
        "scored {} {} into {} windows",
        scorer.counts.tweets,
        summary::posts_word(&windows),
        windows.len()
    ));

    let summary = ReplaySummary {
        debate: date,
        input: opts.input_name,
        windows: windows.len(),
        first_window: windows.first().map(|w| w.start),
        last_window: windows.last().map(|w| w.start),
        counts: scorer.counts.clone(),
        duplicates_dropped: dropped,
        windows_file: windows_path,
        candidates: summarize(&windows, &names),
        seconds: started.elapsed().as_secs_f64(),
        posts: summary::posts_word(&windows),
    };
    write_summary(&dir.join("summary.json"), &summary)?;
    log::debug(&format!("replay took {:.2}s", summary.seconds));
    Ok(summary)
}

/// The evening's candidates' search terms, and their names by key.
fn candidate_terms(evening: &Evening) -> (Vec<CandidateTerms>, BTreeMap<String, String>) {
    let candidates: Vec<CandidateTerms> = evening
        .candidates()
        .into_iter()
        .map(|c| CandidateTerms {
            key: c.key,
            terms: c.candidate.terms.into_iter().map(String::from).collect(),
        })
        .collect();
    let names: BTreeMap<String, String> = evening
        .candidates()
        .into_iter()
        .map(|c| (c.key, c.candidate.name))
        .collect();
    (candidates, names)
}

/// Writes the summary beside the windows.
fn write_summary(path: &Path, summary: &ReplaySummary) -> Result<()> {
    let json = serde_json::to_string_pretty(summary).map_err(|e| Error::Failed(e.to_string()))?;
    std::fs::write(path, json + "\n").map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

/// The ingest side: its own thread, as dw-ingest is its own process. Sends each line on
/// (a tweet once per id, at the tweets' pace times `pace` if given); ends with the number of
/// repeated tweets it dropped.
fn spawn_reader(
    mut input: Box<dyn BufRead + Send>,
    pace: Option<f64>,
    tx: mpsc::SyncSender<Vec<u8>>,
) -> std::thread::JoinHandle<std::result::Result<u64, String>> {
    std::thread::spawn(move || {
        let mut recent = RecentIds::new(200_000);
        let mut buf = Vec::new();
        let mut pacer = pace.map(|speed| dw_pipeline::job::Pacer::new(speed, 1.0));
        let mut dropped = 0u64;
        while let Some(line) =
            lines::read_line(&mut input, &mut buf, lines::MAX_LINE).map_err(|e| e.to_string())?
        {
            if line != Line::Text {
                continue;
            }
            if let Ok(Message::Tweet(t)) = tweet::parse_bytes(&buf) {
                if !recent.first_time(&t.id) {
                    dropped += 1;
                    continue;
                }
                if let Some(pacer) = pacer.as_mut() {
                    let due = pacer.due(t.created_ms);
                    if let Some(wait) = due.checked_duration_since(Instant::now()) {
                        std::thread::sleep(wait);
                    }
                }
            }
            if tx.send(buf.clone()).is_err() {
                break;
            }
        }
        Ok(dropped)
    })
}

/// The archive a replay reads.
pub(crate) enum ArchiveAt {
    /// One file (gzip, zstd or plain JSON lines).
    File(PathBuf),
    /// Every object under the prefix, in key order.
    S3 { bucket: String, prefix: String },
}

/// The archive as one stream of lines, and its name: streamed, never whole in memory (a file
/// as it is, S3 objects through temporary files).
pub(crate) async fn open_archive(
    s3: Option<&aws_sdk_s3::Client>,
    archive: &ArchiveAt,
) -> Result<(Box<dyn BufRead + Send>, String)> {
    Ok(match (archive, s3) {
        (ArchiveAt::S3 { bucket, prefix }, Some(s3)) => (
            fetch_archive(s3, bucket, prefix).await?,
            format!("s3://{bucket}/{prefix}"),
        ),
        (ArchiveAt::S3 { .. }, None) => {
            return Err(Error::Failed("an archive on S3 needs an S3 client".into()));
        }
        (ArchiveAt::File(path), _) => (
            dw_pipeline::lines::open_archive(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?,
            path.display().to_string(),
        ),
    })
}

/// Every object under the prefix, in key order, unzipped and read as one stream.
async fn fetch_archive(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Box<dyn std::io::BufRead + Send>> {
    // Listed first through dw's classifier: a missing bucket is bad input with a hint.
    if aws::list_keys(s3, bucket, prefix).await?.is_empty() {
        return Err(Error::input(format!(
            "no objects under s3://{bucket}/{prefix}"
        )));
    }
    let (dir, paths) = dw_pipeline::s3::download_archive(s3, bucket, prefix)
        .await
        .map_err(aws::pipeline_error)?;
    if paths.is_empty() {
        return Err(Error::input(format!(
            "no objects under s3://{bucket}/{prefix}"
        )));
    }
    Ok(Box::new(std::io::BufReader::with_capacity(
        1 << 16,
        dw_pipeline::lines::Archives::new(paths, dir),
    )))
}

/// Per candidate: totals over all windows, the extreme minutes, the tweets that stood out.
fn summarize(windows: &[Window], names: &BTreeMap<String, String>) -> Vec<CandidateSummary> {
    let names = names.iter().map(|(k, n)| (k.clone(), n.clone()));
    summary::per_candidate(windows, names)
        .into_iter()
        .map(|c| CandidateSummary {
            tweets: c.total.tweets,
            scored_words: c.total.scored_words,
            mean: c.total.mean,
            classes: c.total.classes.as_ref().and_then(ClassTally::shares),
            lowest_minute: c.lowest.as_ref().map(Extreme::minute),
            highest_minute: c.highest.as_ref().map(Extreme::minute),
            most_positive: c.total.most_positive,
            most_negative: c.total.most_negative,
            key: c.key,
            name: c.name,
        })
        .collect()
}

impl ReplaySummary {
    pub(crate) fn to_text(&self, tz: &jiff::tz::TimeZone) -> String {
        let mut out = format!(
            "debate {}: {} {} scored ({} duplicates dropped) from {}\n",
            self.debate, self.counts.tweets, self.posts, self.duplicates_dropped, self.input,
        );
        // Lines that were not tweets dw understands: said, not silently dropped.
        if self.counts.malformed > 0 {
            out.push_str(&format!(
                "{} lines could not be read as {} (not JSON, or not a {})\n",
                self.counts.malformed,
                self.posts,
                if self.posts == "posts" {
                    "post"
                } else {
                    "status"
                }
            ));
        }
        if let (Some(first), Some(last)) = (self.first_window, self.last_window) {
            out.push_str(&format!(
                "{} windows of {}, written to {}\n\n",
                self.windows,
                crate::units::shown_span(first, last, tz),
                self.windows_file.display()
            ));
        } else {
            out.push_str(&format!(
                "no window: the input held no tweet (written: an empty {})\n",
                self.windows_file.display()
            ));
            return out;
        }
        out.push_str(&format!(
            "{:<16} {:>6} {:>6} {:>4} {:>4}   {:<22} {:<22}\n",
            "candidate", self.posts, "mean", "neg", "pos", "lowest minute", "highest minute"
        ));
        let minute = |m: &Option<Minute>| {
            m.as_ref().map_or_else(
                || "-".into(),
                |m| {
                    format!(
                        "{} {:.2} ({})",
                        crate::units::shown(m.start, tz, "%H:%M"),
                        m.mean,
                        m.scored_tweets
                    )
                },
            )
        };
        for c in &self.candidates {
            out.push_str(&format!(
                "{:<16} {:>6} {:>6} {:>4} {:>4}   {:<22} {:<22}\n",
                c.name,
                c.tweets,
                c.mean.map_or_else(|| "-".into(), |m| format!("{m:.2}")),
                Shares::cell(c.classes.as_ref(), Class::Negative),
                Shares::cell(c.classes.as_ref(), Class::Positive),
                minute(&c.lowest_minute),
                minute(&c.highest_minute)
            ));
        }
        out.push_str(&format!(
            "\n(mean: LabMT happiness, 1 to 9, stop-word lens 4-6; a minute needs {MIN_SCORED} scored tweets;\n \
             neg, pos: the share of the tweets the classifier calls negative, positive)\n"
        ));
        for c in self.candidates.iter().filter(|c| c.tweets > 0) {
            out.push_str(&format!("\n{}\n", c.name));
            if let Some(p) = &c.most_positive {
                out.push_str(&format!(
                    "  + {:.2} {}: {}\n",
                    p.score,
                    p.author(),
                    short(&p.text, 100)
                ));
            }
            if let Some(n) = &c.most_negative {
                out.push_str(&format!(
                    "  - {:.2} {}: {}\n",
                    n.score,
                    n.author(),
                    short(&n.text, 100)
                ));
            }
        }
        out
    }
}

/// The archive shipped for `date`, if any.
pub(crate) fn shipped_archive(root: &Path, date: &str) -> PathBuf {
    root.join("data/replay").join(format!("{date}.jsonl"))
}
