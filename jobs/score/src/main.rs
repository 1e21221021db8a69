//! `dw-score`: reads tweets, scores each with LabMT, attributes it to the candidates it mentions,
//! and writes one result per candidate per time window (or, with `--emit tweets`, one line per
//! tweet). `dw-score merge` combines the partial windows of several scorers.

mod error;
mod failpoint;
mod merge;
mod sink;

use crate::error::{Error, Result};
use failpoint::Failpoint;

use std::collections::BTreeMap;
use std::io;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::{Args, Parser, Subcommand, ValueEnum};
use dw_pipeline::attribution::CandidateTerms;
use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::job;
use dw_pipeline::kafka::{self, Consumer as _, Message as _, OffsetTracker};
use dw_pipeline::labmt::{DEFAULT_LENS, Lens};
use dw_pipeline::lines::{self, Line};
use dw_pipeline::member::MemberHeartbeat;
use dw_pipeline::score::{Counts, Outcome, ScoreOptions, Scorer};
use dw_pipeline::status::Heartbeat;
use dw_pipeline::window::Window;
use serde_json::json;
use sink::Sink;

#[derive(Debug, Parser)]
#[command(
    name = "dw-score",
    version,
    about = "Score tweets with LabMT, per candidate per window",
    args_conflicts_with_subcommands = true,
    args_override_self = true
)]
struct Cli {
    /// librdkafka's broker, topic and group log on stderr too (its warnings and errors always)
    #[arg(long, global = true)]
    debug: bool,
    #[command(subcommand)]
    command: Option<Command>,
    #[command(flatten)]
    score: ScoreArgs,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Combine the parts of several scorers in one group into whole windows
    Merge(MergeArgs),
}

#[derive(Debug, Args)]
struct MergeArgs {
    /// Parts to merge: window files (file:PATH, repeatable), or one s3://BUCKET/PREFIX (the
    /// results prefix: reads <debate>/parts/ and <debate>/members/)
    #[arg(long = "from", required = true)]
    from: Vec<Endpoint>,
    /// Where merged windows go: -, file:PATH, s3://BUCKET/PREFIX (<debate>/windows/)
    #[arg(long, default_value = "-")]
    to: Endpoint,
    /// The debate whose parts are merged (an S3 source)
    #[arg(long)]
    debate: Option<String>,
    /// Merge again every --every-secs until stopped (SIGTERM or SIGINT: one last pass)
    #[arg(long)]
    follow: bool,
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    every_secs: u64,
    /// A member whose heartbeat is older than this is taken as lost: its open windows are final
    #[arg(long, default_value_t = 60)]
    member_timeout_secs: u64,
    /// With --follow: stop once dw-ingest's heartbeat (this file) says the archive was read to
    /// its end and every member is done (a replay's last step)
    #[arg(long, value_name = "INGEST_STATUS", requires = "follow")]
    until_replayed: Option<PathBuf>,
    /// Heartbeat file (JSON status), rewritten every --status-secs
    #[arg(long)]
    status: Option<PathBuf>,
    #[arg(long, default_value_t = 10)]
    status_secs: u64,
}

#[derive(Debug, Args)]
struct ScoreArgs {
    /// Where tweets come from: -, file:PATH, kafka://HOST:PORT/TOPIC?group=NAME
    #[arg(long, default_value = "-")]
    from: Endpoint,
    /// Where results go: -, file:PATH (JSON lines), s3://BUCKET/PREFIX (an object per window)
    #[arg(long, default_value = "-")]
    to: Endpoint,
    /// The debate's name in the results (its date, e.g. 2015-08-06)
    #[arg(long)]
    debate: Option<String>,
    /// A candidate and its track terms: KEY=TERM,TERM,... (repeatable)
    #[arg(long = "candidate", value_name = "KEY=TERMS")]
    candidates: Vec<CandidateTerms>,
    /// Window length in seconds (1 or more)
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u32).range(1..))]
    window_secs: u32,
    /// How late (seconds behind the newest tweet) a tweet may arrive and still join its window
    #[arg(long, default_value_t = 30)]
    lateness_secs: u32,
    /// Stop-word lens LOW,HIGH: words with LOW < h < HIGH are left out; `none` keeps all
    #[arg(long, default_value = "4,6")]
    lens: String,
    /// How a retweet is scored: as the retweeted status's full text, or as its own text
    #[arg(long, value_enum, default_value_t = Retweets::Original)]
    retweets: Retweets,
    /// The classifier's model (a file `dw model train` wrote) [default: the built-in one];
    /// `none`: posts get no class
    #[arg(long, value_name = "FILE|none", value_parser = parse_model)]
    model: Option<ModelChoice>,
    /// What to write: windows, or one line per tweet (id, score, words, candidates, class, p)
    #[arg(long, value_enum, default_value_t = Emit::Windows)]
    emit: Emit,
    /// Where lines that are not tweets or notices go (file:PATH), with the reason
    #[arg(long)]
    dead_letter: Option<Endpoint>,
    /// This scorer's name when several share a consumer group: its windows are partial
    #[arg(long)]
    member: Option<String>,
    /// The other members' parts, when they are files (file:PATH, repeatable): a member taking
    /// partitions over skips the offsets they count. An S3 sink reads its own parts prefix.
    #[arg(long = "parts-from", value_name = "SOURCE", requires = "member")]
    parts_from: Vec<Endpoint>,
    /// Heartbeat file (JSON status), rewritten every --status-secs
    #[arg(long)]
    status: Option<PathBuf>,
    #[arg(long, default_value_t = 10)]
    status_secs: u64,
    /// Kafka: exit (writing every open window) after this many seconds without a message
    #[arg(long)]
    idle_exit_secs: Option<u64>,
    /// Kafka: like --idle-exit-secs, counted only once a message came (a replay's scorers
    /// start before the broker and the archive; they stop when it is spent)
    #[arg(long)]
    stop_after_idle_secs: Option<u64>,
    /// Kafka: publish the open windows (marked partial) this often, so a page moves while a
    /// minute runs; 0: only closed windows
    #[arg(long, default_value_t = 5)]
    partial_secs: u64,
    /// Kafka client setting KEY=VALUE (librdkafka names; repeatable)
    #[arg(long = "kafka-option", value_name = "KEY=VALUE", value_parser = job::parse_key_value)]
    kafka_options: Vec<(String, String)>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Retweets {
    Original,
    AsIs,
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Emit {
    Windows,
    Tweets,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    job::set_debug(cli.debug);
    let result = match &cli.command {
        Some(Command::Merge(args)) => merge(args),
        None => score(&cli.score),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dw-score: error: {e}");
            ExitCode::from(1)
        }
    }
}

pub(crate) fn log(message: &str) {
    job::log("dw-score", message);
}

/// The heartbeat's content.
fn status(
    counts: &Counts,
    started: Instant,
    last_tweet_ms: Option<i64>,
    done: bool,
) -> serde_json::Value {
    let secs = started.elapsed().as_secs_f64().max(1e-9);
    json!({
        "job": "score",
        "state": if done { "stopped" } else { "running" },
        "at": jiff::Timestamp::now(),
        "counts": counts,
        "tweets_per_sec": counts.tweets as f64 / secs,
        "last_tweet_time": last_tweet_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
    })
}

/// What a scoring run holds: the scorer, where its windows go, the dead letters, and (Kafka)
/// which offsets are safe to commit. Kafka's revoke callback reaches it too, so it lives behind
/// a mutex there.
struct Job {
    scorer: Scorer,
    sink: Sink,
    dead: Option<Sink>,
    emit: Emit,
    tracker: OffsetTracker,
    last_tweet_ms: Option<i64>,
    /// An error met inside a Kafka callback, for the main loop to end with.
    failed: Option<Error>,
    /// Of each open window published partial, its tweet count then (unchanged ones are not
    /// published again).
    published: BTreeMap<jiff::Timestamp, u64>,
    failpoint: Failpoint,
}

impl Job {
    /// Handles one line from `source`; returns the window its tweet went into.
    fn line(
        &mut self,
        source: i32,
        offset: Option<i64>,
        bytes: &[u8],
        outcome: Option<Outcome>,
    ) -> Result<Option<i64>> {
        let outcome = outcome.unwrap_or_else(|| self.scorer.line_at(source, offset, bytes));
        match outcome {
            Outcome::Scored(tweet, windows) => {
                self.last_tweet_ms = Some(tweet.created_ms);
                if self.emit == Emit::Tweets {
                    self.sink.tweet(&tweet)?;
                }
                self.write(&windows)?;
                Ok(Some(tweet.window_ms))
            }
            Outcome::Malformed(reason) => {
                if let Some(d) = self.dead.as_mut() {
                    d.record(&json!({"reason": reason, "line": String::from_utf8_lossy(bytes)}))?;
                }
                Ok(None)
            }
            Outcome::Skipped => Ok(None),
        }
    }

    fn write(&mut self, windows: &[Window]) -> Result<()> {
        if self.emit == Emit::Windows {
            for w in windows {
                self.sink.window(w)?;
                if !w.partial {
                    self.failpoint.hit("after-write");
                }
            }
        }
        Ok(())
    }

    /// Publishes the open windows that changed since their last publication, marked partial.
    fn publish_open(&mut self) -> Result<()> {
        let open = self.scorer.windower().open_windows();
        let oldest = open.iter().map(|w| w.start).min();
        self.published
            .retain(|start, _| oldest.is_some_and(|o| *start >= o));
        let fresh: Vec<Window> = open
            .into_iter()
            .filter(|w| self.published.get(&w.start) != Some(&w.tweets))
            .collect();
        if fresh.is_empty() {
            return Ok(());
        }
        for w in &fresh {
            self.published.insert(w.start, w.tweets);
        }
        self.write(&fresh)?;
        self.sink.flush()?;
        self.failpoint.hit("after-partial");
        Ok(())
    }

    /// Writes the late revisions and makes the sink durable; returns the offsets now safe to
    /// commit (everything they hold is written).
    fn checkpoint(&mut self) -> Result<BTreeMap<(String, i32), i64>> {
        let revised = self.scorer.take_revised();
        self.write(&revised)?;
        self.sink.flush()?;
        if let Some(until) = self.scorer.windower().closed_until() {
            self.tracker.written_until(until.as_millisecond());
        }
        let offsets = self.tracker.to_commit();
        if !offsets.is_empty() {
            self.failpoint.hit("before-commit");
        }
        Ok(offsets)
    }

    /// Writes every window, the open ones too (end of input, shutdown, or partitions taken
    /// away): what was consumed is then all written, and every offset safe to commit. Tweets of
    /// those minutes that come later revise the windows.
    fn write_all(&mut self) -> Result<BTreeMap<(String, i32), i64>> {
        let windows = self.scorer.flush();
        self.write(&windows)?;
        self.sink.flush()?;
        if let Some(d) = self.dead.as_mut() {
            d.flush()?;
        }
        self.tracker.written_until(i64::MAX);
        Ok(self.tracker.to_commit())
    }

    /// Commits `offsets`. A refusal (the group moved on: a rebalance, or a membership lost
    /// while the broker was away) is not fatal: what they cover is written, and they are
    /// offered again at the next checkpoint; a member that re-reads them drops the ids it
    /// counted.
    fn commit(&mut self, consumer: &kafka::GroupConsumer, offsets: &BTreeMap<(String, i32), i64>) {
        if let Err(e) = kafka::commit(consumer, offsets) {
            log(&format!("commit refused, offered again later: {e}"));
            self.tracker.not_committed(offsets);
        }
    }
}

fn lock(job: &Mutex<Job>) -> std::sync::MutexGuard<'_, Job> {
    // A panic while holding the lock ends the process anyway; carry on with the data.
    job.lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

fn score(args: &ScoreArgs) -> Result<()> {
    let debate = args
        .debate
        .clone()
        .ok_or("--debate is required: the results are named by it")?;
    let shared = Arc::new(Mutex::new(open_job(args, &debate)?));
    let mut run = Run {
        stop: job::stop_on_signal().map_err(|e| Error::io("signal handlers", e))?,
        heartbeat: Heartbeat::new(
            args.status.as_deref(),
            Duration::from_secs(args.status_secs),
        ),
        started: Instant::now(),
    };
    match &args.from {
        Endpoint::Kafka {
            brokers,
            topic,
            group,
        } => {
            let group = group.as_deref().ok_or(
                "a Kafka source needs a consumer group: kafka://HOST:PORT/TOPIC?group=NAME",
            )?;
            score_kafka(args, &debate, &shared, &mut run, (brokers, topic, group))?;
        }
        source => score_lines(source, &shared, &mut run)?,
    }
    let job = lock(&shared);
    run.beat(&job, true)?;
    log(&format!(
        "done: {}",
        serde_json::to_string(&job.scorer.counts).unwrap_or_default()
    ));
    Ok(())
}

/// What a run keeps beside the job: the stop flag, the heartbeat file and the start time.
struct Run {
    stop: Arc<AtomicBool>,
    heartbeat: Heartbeat,
    started: Instant,
}

impl Run {
    fn stopped(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    fn status(&self, job: &Job, done: bool) -> serde_json::Value {
        status(&job.scorer.counts, self.started, job.last_tweet_ms, done)
    }

    /// Writes the heartbeat file (when one is due, or `force`); whether it was written.
    fn beat(&mut self, job: &Job, force: bool) -> Result<bool> {
        let status = self.status(job, force);
        self.heartbeat
            .beat(&status, force)
            .map_err(|e| Error::io("heartbeat", e))
    }
}

/// `--model`: a model file (read and checked while the arguments are), or `none`.
#[derive(Debug, Clone)]
enum ModelChoice {
    Off,
    File(std::sync::Arc<dw_pipeline::classify::model::Model>),
}

fn parse_model(s: &str) -> std::result::Result<ModelChoice, String> {
    if s == "none" {
        return Ok(ModelChoice::Off);
    }
    let text = std::fs::read_to_string(s).map_err(|e| format!("cannot read {s}: {e}"))?;
    dw_pipeline::classify::model::Model::parse(&text)
        .map(|m| ModelChoice::File(std::sync::Arc::new(m)))
        .map_err(|e| format!("{s}: {e}"))
}

/// The scorer and the sinks, resumed after what the sink already holds.
fn open_job(args: &ScoreArgs, debate: &str) -> Result<Job> {
    let lens = match args.lens.as_str() {
        "none" => None,
        "4,6" => Some(DEFAULT_LENS),
        other => Some(other.parse::<Lens>()?),
    };
    let mut scorer = Scorer::new(ScoreOptions {
        debate: debate.to_string(),
        candidates: args.candidates.clone(),
        lens,
        retweets_original: matches!(args.retweets, Retweets::Original),
        window_secs: args.window_secs,
        lateness_secs: args.lateness_secs,
        member: args.member.clone(),
        classify: match &args.model {
            None => Some(dw_pipeline::classify::shipped_model()),
            Some(ModelChoice::Off) => None,
            Some(ModelChoice::File(m)) => Some(m.clone()),
        },
    });
    let resume = matches!(args.from, Endpoint::Kafka { .. });
    let sink = Sink::open(&args.to, resume, debate, args.member.as_deref())?;
    if let Some(until) = sink.closed_until() {
        log(&format!("resuming: windows before {until} are written"));
        scorer.windower().resume_after(until);
    }
    let dead = args
        .dead_letter
        .as_ref()
        .map(|d| Sink::open(d, true, debate, None))
        .transpose()?;
    Ok(Job {
        scorer,
        sink,
        dead,
        emit: args.emit,
        tracker: OffsetTracker::default(),
        last_tweet_ms: None,
        failed: None,
        published: BTreeMap::new(),
        failpoint: Failpoint::from_env(),
    })
}

/// A file or stdin, one line at a time, until its end or a stop signal.
fn score_lines(source: &Endpoint, shared: &Mutex<Job>, run: &mut Run) -> Result<()> {
    let input: Box<dyn io::Read> = match source {
        Endpoint::Stdio => Box::new(io::stdin().lock()),
        Endpoint::File(p) => Box::new(
            std::fs::File::open(p)
                .map_err(|e| Error::io(format!("cannot read {}", p.display()), e))?,
        ),
        other => return Err(format!("{other} is not a source dw-score reads").into()),
    };
    let mut input = lines::LineReader::new(input, lines::MAX_LINE);
    let mut job = lock(shared);
    while !run.stopped() {
        let Some((line, bytes)) = input.next_line().map_err(|e| Error::io("read", e))? else {
            break;
        };
        let outcome = match line {
            Line::Text => None,
            Line::TooLong(n) => {
                job.scorer.counts.lines += 1;
                job.scorer.counts.malformed += 1;
                Some(Outcome::Malformed(format!(
                    "a line of {n} bytes, over the limit"
                )))
            }
        };
        job.line(0, None, bytes, outcome)?;
        let revised = job.scorer.take_revised();
        job.write(&revised)?;
        if run.heartbeat.due() {
            run.beat(&job, false)?;
        }
    }
    job.write_all()?;
    Ok(())
}

/// A consumer group member: reads until stopped (or idle, when asked), writes windows as they
/// close, commits what they cover, and lets go of moved partitions only once written.
fn score_kafka(
    args: &ScoreArgs,
    debate: &str,
    shared: &Arc<Mutex<Job>>,
    run: &mut Run,
    (brokers, topic, group): (&str, &str, &str),
) -> Result<()> {
    let consumer = kafka::consumer(brokers, topic, group, &args.kafka_options)
        .map_err(|e| Error::from(format!("Kafka consumer: {e}")))?;
    // Partitions about to move to another member: write everything first and commit, so that
    // the new owner starts after what this member counted.
    let on_revoke = Arc::clone(shared);
    consumer.context().on_revoke(move |consumer, partitions| {
        let mut job = lock(&on_revoke);
        log(&format!(
            "partitions {partitions:?} are being taken away: writing all windows"
        ));
        match job.write_all() {
            Ok(offsets) => job.commit(consumer, &offsets),
            Err(e) => {
                job.failed.get_or_insert(e);
            }
        }
    });
    log(&format!("reading {} as group {group}", args.from));
    let (mut last_message, mut last_commit, mut last_partial) =
        (Instant::now(), Instant::now(), Instant::now());
    let mut polled_any = false;
    let mut assignment = 0;
    let mut errors = ErrorLog::default();
    while !run.stopped() {
        let polled = consumer.poll(Duration::from_millis(200));
        let mut job = lock(shared);
        if let Some(e) = job.failed.take() {
            return Err(e);
        }
        // The rebalance callback ran inside this poll, before any message of the new
        // assignment: the windower learns every partition it owns, and a member what the other
        // members' parts already count, before any of them delivers.
        if consumer.context().generation() != assignment {
            assignment = consumer.context().generation();
            let partitions = consumer.context().partitions();
            log(&format!("assigned partitions {partitions:?} of {topic}"));
            assigned(&mut job, topic, &partitions, args, debate)?;
        }
        let mut closed = Vec::new();
        match polled {
            Some(Ok(m)) => {
                last_message = Instant::now();
                polled_any = true;
                let payload = m.payload().unwrap_or_default();
                let window = job.line(m.partition(), Some(m.offset()), payload, None)?;
                job.tracker
                    .consumed(m.topic(), m.partition(), m.offset(), window);
            }
            Some(Err(kafka::KafkaError::PartitionEOF(p))) => {
                closed.extend(job.scorer.at_end(p));
            }
            Some(Err(e)) => errors.log(&e.to_string()),
            None => {}
        }
        if let Some(why) = idle_stop(args, polled_any, last_message) {
            log(why);
            break;
        }
        let due = last_commit.elapsed() >= COMMIT_EVERY;
        if due {
            closed.extend(job.scorer.tick());
        }
        job.write(&closed)?;
        if due || !closed.is_empty() {
            let offsets = job.checkpoint()?;
            job.commit(&consumer, &offsets);
            last_commit = Instant::now();
        }
        if args.partial_secs > 0 && last_partial.elapsed() >= Duration::from_secs(args.partial_secs)
        {
            job.publish_open()?;
            last_partial = Instant::now();
        }
        if run.heartbeat.due() && run.beat(&job, false)? {
            publish_member(&job, args, run, debate, &consumer.context().lag(), false)?;
        }
    }
    let mut done = lock(shared);
    let offsets = done.write_all()?;
    done.commit(&consumer, &offsets);
    publish_member(&done, args, run, debate, &[], true)
}

/// A member's heartbeat, where `dw cluster status` reads it (a consumer group member only).
fn publish_member(
    job: &Job,
    args: &ScoreArgs,
    run: &Run,
    debate: &str,
    lag: &[kafka::PartitionLag],
    done: bool,
) -> Result<()> {
    if let Some(member) = &args.member {
        let beat = member_status(
            member,
            &job.scorer.counts,
            run,
            job.last_tweet_ms,
            lag,
            done,
        );
        job.sink.member_status(debate, member, &beat)?;
    }
    Ok(())
}

/// A new assignment: offsets kept only for the partitions still owned; a member first reads
/// what the other members' parts count (and skips it); the windower learns its partitions.
fn assigned(
    job: &mut Job,
    topic: &str,
    partitions: &[i32],
    args: &ScoreArgs,
    debate: &str,
) -> Result<()> {
    let member = args.member.as_deref();
    job.tracker.retain_partitions(
        &partitions
            .iter()
            .map(|&p| (topic.to_string(), p))
            .collect::<Vec<_>>(),
    );
    if let Some(member) = member
        && !partitions.is_empty()
    {
        let mut parts = job.sink.parts_of_others(debate, member)?;
        parts.extend(sink::parts_in_files(&args.parts_from, debate)?);
        log(&format!(
            "read {} parts of other members: their counted offsets are skipped",
            parts.len()
        ));
        job.scorer.windower().fence(&parts);
    }
    let closed = job.scorer.assign(partitions);
    job.write(&closed)
}

/// Why to stop for lack of input, if it is time: `--stop-after-idle-secs` (armed by the first
/// message) or `--idle-exit-secs` (errors such as a broker that is down count as idle too).
fn idle_stop(args: &ScoreArgs, polled_any: bool, last_message: Instant) -> Option<&'static str> {
    let idle =
        |secs: Option<u64>| secs.is_some_and(|s| last_message.elapsed() >= Duration::from_secs(s));
    if polled_any && idle(args.stop_after_idle_secs) {
        return Some(
            "no message since the last one for the idle time: the input is spent, stopping",
        );
    }
    idle(args.idle_exit_secs).then_some("no message for the idle time: stopping")
}

/// A member's heartbeat on S3: who, where, which partitions and how far behind.
fn member_status(
    member: &str,
    counts: &dw_pipeline::score::Counts,
    run: &Run,
    last_tweet_ms: Option<i64>,
    lag: &[kafka::PartitionLag],
    done: bool,
) -> MemberHeartbeat {
    let node = std::env::var("DW_NODE_NAME")
        .ok()
        .or_else(|| {
            std::fs::read_to_string("/proc/sys/kernel/hostname")
                .ok()
                .map(|h| h.trim().to_string())
        })
        .unwrap_or_default();
    MemberHeartbeat {
        member: member.to_string(),
        node,
        state: if done { "stopped" } else { "running" }.into(),
        at: jiff::Timestamp::now(),
        partitions: lag.to_vec(),
        lag: MemberHeartbeat::lag_of(lag),
        counts: counts.clone(),
        tweets_per_sec: counts.tweets as f64 / run.started.elapsed().as_secs_f64().max(1e-9),
        last_tweet_time: last_tweet_ms.and_then(|ms| jiff::Timestamp::from_millisecond(ms).ok()),
    }
}

/// A flag SIGTERM or SIGINT sets: the job finishes what it holds and stops.
/// Offsets are committed (after the windows they depend on are written) this often.
const COMMIT_EVERY: Duration = Duration::from_secs(1);

/// Logs a repeated error (a broker that is down) once, then counts it: one line every 10 s
/// says how often it came, rather than 20 lines a second.
#[derive(Default)]
struct ErrorLog {
    last: Option<(String, Instant)>,
    repeats: u64,
}

impl ErrorLog {
    fn log(&mut self, error: &str) {
        match &self.last {
            Some((e, at)) if e == error && at.elapsed() < Duration::from_secs(10) => {
                self.repeats += 1;
            }
            _ => {
                if self.repeats > 0 {
                    log(&format!(
                        "Kafka: the last error came {} more times",
                        self.repeats
                    ));
                }
                log(&format!("Kafka: {error}"));
                self.last = Some((error.to_string(), Instant::now()));
                self.repeats = 0;
            }
        }
    }
}

/// `dw-score merge`: files once, or S3 once or following.
fn merge(args: &MergeArgs) -> Result<()> {
    let s3 = args.from.iter().any(|f| matches!(f, Endpoint::S3 { .. }));
    if !s3 {
        if args.follow {
            return Err("--follow merges parts on S3: --from s3://BUCKET/PREFIX".into());
        }
        return merge::merge_files(&args.from, &args.to);
    }
    let [from] = args.from.as_slice() else {
        return Err("merge from S3 reads one results prefix: one --from s3://BUCKET/PREFIX".into());
    };
    let debate = args
        .debate
        .as_deref()
        .ok_or("--debate is required with an S3 source: it names the parts' folder")?;
    let mut merger =
        merge::S3Merger::new(from, debate, Duration::from_secs(args.member_timeout_secs))?;
    let mut out = Sink::open(&args.to, false, debate, None)?;
    let stop = job::stop_on_signal().map_err(|e| Error::io("signal handlers", e))?;
    let mut heartbeat = Heartbeat::new(
        args.status.as_deref(),
        Duration::from_secs(args.status_secs),
    );
    log(&format!("merging the parts of {debate} under {from}"));
    let every = args.follow.then(|| Duration::from_secs(args.every_secs));
    merge::follow(
        &mut merger,
        &mut out,
        every,
        args.until_replayed.as_deref(),
        &stop,
        |status, done| {
            let body = json!({
                "job": "merge",
                "state": if done { "stopped" } else { "running" },
                "at": jiff::Timestamp::now(),
                "merge": status,
            });
            heartbeat
                .beat(&body, done)
                .map(|_| ())
                .map_err(|e| Error::io("heartbeat", e))
        },
    )?;
    log(&format!(
        "done: {}",
        serde_json::to_string(&merger.status).unwrap_or_default()
    ));
    Ok(())
}
