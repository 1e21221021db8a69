//! What the dw-score tests share: the repository, fast group joins, waiting for a scorer.
#![allow(dead_code)] // each test file uses its own share of these

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use dw_pipeline::kafka;
use serde_json::Value;

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fast group joins against Tansu (librdkafka's defaults make the first join take ~20 s).
pub const FAST_GROUP: [&str; 6] = [
    "--kafka-option",
    "session.timeout.ms=3000",
    "--kafka-option",
    "heartbeat.interval.ms=1000",
    "--kafka-option",
    "max.poll.interval.ms=10000",
];

/// Waits for a scorer with a deadline (killing it when the deadline passes); its stderr.
pub fn finish(mut child: Child, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                e.read_to_string(&mut err).ok();
            }
            assert!(status.success(), "dw-score failed: {err}");
            return err;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("dw-score did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

pub const TWEETS: usize = 20_000;
/// 2015-08-07T01:00:00Z, the first GOP debate's first hour.
pub const START_MS: i64 = 1_438_909_200_000;

/// The sample's statuses, re-stamped 100 ms apart in time order, with ids of their own.
pub fn tweets() -> Vec<String> {
    let sample: Vec<Value> = std::fs::read_to_string(repo().join("data/replay/2015-08-06.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (0..TWEETS)
        .map(|i| {
            let mut t = sample[i % sample.len()].clone();
            let ms = START_MS + i as i64 * 100;
            let at = jiff::Timestamp::from_millisecond(ms).unwrap();
            t["created_at"] = at.strftime("%a %b %d %H:%M:%S +0000 %Y").to_string().into();
            t["timestamp_ms"] = ms.to_string().into();
            let id = 700_000_000_000_000_000u64 + i as u64;
            t["id"] = id.into();
            t["id_str"] = id.to_string().into();
            serde_json::to_string(&t).unwrap()
        })
        .collect()
}

pub fn id_of(line: &str) -> String {
    let v: Value = serde_json::from_str(line).unwrap();
    v["id_str"].as_str().unwrap().to_string()
}

pub const CANDIDATES: [&str; 6] = [
    "--candidate",
    "trump=Trump,Donald Trump,@realDonaldTrump",
    "--candidate",
    "bush=Jeb,Jeb Bush,@JebBush",
    "--candidate",
    "cruz=Ted Cruz,Cruz,@tedcruz",
];

/// Every sum and standout of two sets of windows is the same (sums of the same numbers added
/// in another order may differ in the last bits).
pub fn assert_same(case: &str, got: &BTreeMap<String, Value>, want: &BTreeMap<String, Value>) {
    let starts = |m: &BTreeMap<String, Value>| m.keys().cloned().collect::<Vec<_>>();
    assert_eq!(starts(got), starts(want), "{case}: the same windows");
    for (start, w) in want {
        let g = &got[start];
        assert_eq!(g["tweets"], w["tweets"], "{case} {start}: tweets");
        for c in ["trump", "bush", "cruz"] {
            let (gc, wc) = (&g["candidates"][c], &w["candidates"][c]);
            for k in ["tweets", "scored_tweets", "scored_words", "words_squared"] {
                assert_eq!(gc[k], wc[k], "{case} {start} {c}: {k}");
            }
            for k in ["happiness_sum", "sum_squares", "sum_by_words"] {
                let (gs, ws) = (gc[k].as_f64().unwrap(), wc[k].as_f64().unwrap());
                assert!(
                    (gs - ws).abs() <= 1e-9 * ws.abs().max(1.0),
                    "{case} {start} {c} {k}: {gs} {ws}"
                );
            }
            for k in ["most_positive", "most_negative"] {
                assert_eq!(gc[k], wc[k], "{case} {start} {c}: {k}");
            }
        }
    }
}

/// Produces `lines` keyed by tweet id; `paced`: about 4,000 a second, so that scorers read
/// while the topic grows.
pub fn produce(brokers: &str, topic: &str, lines: &[String], paced: bool) {
    let producer = kafka::producer(brokers, &[]).expect("producer");
    for (i, line) in lines.iter().enumerate() {
        kafka::send(&producer, topic, &id_of(line), line.as_bytes()).unwrap();
        // Live: about 4,000 a second, so that the scorers read while the topic grows.
        if paced && i % 400 == 399 {
            std::thread::sleep(Duration::from_millis(100));
        }
    }
    kafka::flush(&producer, Duration::from_secs(60)).expect("all records acknowledged");
}
