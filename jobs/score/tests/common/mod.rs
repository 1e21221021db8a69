//! What the dw-score tests share: the repository, fast group joins, waiting for a scorer.
#![allow(dead_code)] // each test file uses its own share of these

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use dw_pipeline::kafka;
use serde_json::Value;

pub(crate) fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fast group joins against Tansu (librdkafka's defaults make the first join take ~20 s).
pub(crate) const FAST_GROUP: [&str; 6] = [
    "--kafka-option",
    "session.timeout.ms=3000",
    "--kafka-option",
    "heartbeat.interval.ms=1000",
    "--kafka-option",
    "max.poll.interval.ms=10000",
];

/// Waits for a scorer with a deadline (killing it when the deadline passes): how it ended,
/// and its stderr.
pub(crate) fn wait(mut child: Child, limit: Duration) -> (std::process::ExitStatus, String) {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                e.read_to_string(&mut err).ok();
            }
            return (status, err);
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("dw-score did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// Waits for a scorer that is to succeed; its stderr.
pub(crate) fn finish(child: Child, limit: Duration) -> String {
    let (status, err) = wait(child, limit);
    assert!(status.success(), "dw-score failed: {err}");
    err
}

pub(crate) const TWEETS: usize = 20_000;
/// 2015-08-07T01:00:00Z, the first GOP debate's first hour.
pub(crate) const START_MS: i64 = 1_438_909_200_000;

/// The sample's statuses, re-stamped 100 ms apart in time order, with ids of their own.
pub(crate) fn tweets() -> Vec<String> {
    dw_pipeline::testkit::restamped_sample(TWEETS, START_MS, 700_000_000_000_000_000)
}

pub(crate) fn id_of(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    v["id_str"].as_str().unwrap().to_string()
}

pub(crate) const CANDIDATES: [&str; 6] = [
    "--candidate",
    "trump=Trump,Donald Trump,@realDonaldTrump",
    "--candidate",
    "bush=Jeb,Jeb Bush,@JebBush",
    "--candidate",
    "cruz=Ted Cruz,Cruz,@tedcruz",
];

/// Produces `lines` keyed by tweet id; `paced`: about 4,000 a second, so that scorers read
/// while the topic grows.
pub(crate) fn produce(brokers: &str, topic: &str, lines: &[String], paced: bool) {
    let producer = kafka::producer(brokers, &[]).expect("producer");
    for (i, line) in lines.iter().enumerate() {
        kafka::send(&producer, topic, &id_of(line), line.as_bytes()).unwrap();
        // Live: about 4,000 a second, so that the scorers read while the topic grows.
        if paced && i % 400 == 399 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    kafka::flush(&producer, Duration::from_mins(1)).expect("all records acknowledged");
}
