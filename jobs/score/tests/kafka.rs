//! dw-score against a real Kafka-protocol broker (Tansu, started by scripts/test): three scorers
//! in one consumer group give, merged, what one scorer gives; a broker restart loses nothing.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

mod common;

use common::{FAST_GROUP, finish, repo};
use dw_pipeline::kafka;
use dw_pipeline::testkit::{
    create_topic, durable_broker, free_port, kafka_peers as peers, s3_put, unique,
};
use serde_json::Value;

fn sample() -> Vec<String> {
    std::fs::read_to_string(repo().join("data/replay/2015-08-06.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn produce(brokers: &str, topic: &str, lines: &[String]) {
    let producer = kafka::producer(brokers, &[]).expect("producer");
    for line in lines {
        let v: Value = serde_json::from_str(line).unwrap();
        kafka::send(
            &producer,
            topic,
            v["id_str"].as_str().unwrap(),
            line.as_bytes(),
        )
        .unwrap();
    }
    kafka::flush(&producer, Duration::from_mins(1)).expect("all records acknowledged");
}

fn scorer(brokers: &str, topic: &str, group: &str, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .args([
            "--from",
            &format!("kafka://{brokers}/{topic}?group={group}"),
        ])
        .arg("--to")
        .arg(format!("file:{}", out.display()))
        .args(["--debate", "2015-08-06", "--lateness-secs", "100000"])
        .args(["--candidate", "trump=Trump,Donald Trump,@realDonaldTrump"])
        .args(["--candidate", "bush=Jeb,Jeb Bush,@JebBush"])
        .args(["--candidate", "cruz=Ted Cruz,Cruz,@tedcruz"])
        .args(FAST_GROUP)
        .args(extra)
        .stderr(Stdio::piped())
        .spawn()
        .expect("dw-score starts")
}

/// Every line of a window file, the open windows published partial included.
fn all_lines(path: &Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The windows written when they closed (what counts once the scorer is done); the partial
/// copies published while they were open are replaced by these.
fn windows(path: &Path) -> Vec<Value> {
    all_lines(path)
        .into_iter()
        .filter(|w| w["partial"] != Value::Bool(true))
        .collect()
}

#[test]
fn open_windows_are_published_partial_and_replaced_when_they_close() {
    let Some((brokers, tansu)) = peers() else {
        return;
    };
    let topic = unique("tweets-partial");
    create_topic(&tansu, &brokers, &topic, 3);
    let lines = sample();
    produce(&brokers, &topic, &lines);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("windows.jsonl");
    // Windows stay open for the whole run (lateness), so only partial copies show them until
    // the scorer stops and writes them.
    let child = scorer(
        &brokers,
        &topic,
        &unique("partial"),
        &out,
        &["--partial-secs", "1", "--idle-exit-secs", "5"],
    );
    finish(child, Duration::from_mins(2));
    let every = all_lines(&out);
    let partial: Vec<&Value> = every.iter().filter(|w| w["partial"] == true).collect();
    assert!(!partial.is_empty(), "open windows were published");
    for p in &partial {
        let start = p["start"].as_str().unwrap();
        let last = every.iter().rev().find(|w| w["start"] == start).unwrap();
        assert!(
            last["partial"].is_null(),
            "the closed window of {start} comes after its partial copies"
        );
        // A partial copy counts at most what the closed window counts.
        assert!(p["tweets"].as_u64() <= last["tweets"].as_u64());
    }
    // Unchanged open windows are not published again.
    let mut seen = std::collections::HashSet::new();
    for p in &partial {
        assert!(
            seen.insert((p["start"].to_string(), p["tweets"].to_string())),
            "the same open window published twice unchanged: {}",
            p["start"]
        );
    }
}

fn totals(ws: &[Value]) -> (u64, Vec<(String, u64, u64, f64)>) {
    let tweets = ws.iter().map(|w| w["tweets"].as_u64().unwrap()).sum();
    let per = ["trump", "bush", "cruz"]
        .iter()
        .map(|c| {
            let t = ws
                .iter()
                .map(|w| w["candidates"][c]["tweets"].as_u64().unwrap())
                .sum();
            let words = ws
                .iter()
                .map(|w| w["candidates"][c]["scored_words"].as_u64().unwrap())
                .sum();
            let sum = ws
                .iter()
                .map(|w| w["candidates"][c]["happiness_sum"].as_f64().unwrap())
                .sum();
            (c.to_string(), t, words, sum)
        })
        .collect();
    (tweets, per)
}

#[test]
fn three_scorers_in_a_group_merge_to_one_scorers_result() {
    let Some((brokers, tansu)) = peers() else {
        return;
    };
    let topic = unique("tweets-group");
    create_topic(&tansu, &brokers, &topic, 6);
    let lines = sample();
    produce(&brokers, &topic, &lines);
    let dir = tempfile::tempdir().unwrap();

    let single_out = dir.path().join("single.jsonl");
    let single = scorer(
        &brokers,
        &topic,
        &unique("single"),
        &single_out,
        &["--idle-exit-secs", "6"],
    );
    finish(single, Duration::from_mins(2));
    let single_windows = windows(&single_out);

    let group = unique("trio");
    let members: Vec<(PathBuf, Child)> = (0..3)
        .map(|m| {
            let out = dir.path().join(format!("m{m}.jsonl"));
            let child = scorer(
                &brokers,
                &topic,
                &group,
                &out,
                &["--idle-exit-secs", "8", "--member", &format!("m{m}")],
            );
            (out, child)
        })
        .collect();
    let mut outputs = Vec::new();
    for (out, child) in members {
        finish(child, Duration::from_mins(2));
        outputs.push(out);
    }
    let busy = outputs.iter().filter(|o| !windows(o).is_empty()).count();
    assert!(
        busy >= 2,
        "the group split the partitions between members ({busy} of 3 got tweets)"
    );

    let mut merge = Command::new(env!("CARGO_BIN_EXE_dw-score"));
    merge.arg("merge");
    for o in &outputs {
        if o.exists() {
            merge.arg("--from").arg(format!("file:{}", o.display()));
        }
    }
    let merged_out = dir.path().join("merged.jsonl");
    let status = merge
        .arg("--to")
        .arg(format!("file:{}", merged_out.display()))
        .status()
        .unwrap();
    assert!(status.success());
    let merged = windows(&merged_out);

    let (single_tweets, single_per) = totals(&single_windows);
    let distinct: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| {
            l.split("\"id_str\": \"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        single_tweets,
        distinct.len() as u64,
        "every distinct tweet once"
    );
    let (merged_tweets, merged_per) = totals(&merged);
    assert_eq!(merged_tweets, single_tweets);
    for (a, b) in merged_per.iter().zip(&single_per) {
        assert_eq!((&a.0, a.1, a.2), (&b.0, b.1, b.2));
        assert!((a.3 - b.3).abs() < 1e-6, "{a:?} {b:?}");
    }
    assert_eq!(merged.len(), single_windows.len());
    for (m, s) in merged.iter().zip(&single_windows) {
        assert_eq!(m["start"], s["start"]);
        assert_eq!(
            m["candidates"]["trump"]["most_positive"],
            s["candidates"]["trump"]["most_positive"]
        );
    }
}

#[test]
fn a_broker_restart_mid_run_loses_no_tweet() {
    let Some((_, tansu)) = peers() else { return };
    let Ok(moto) = std::env::var("DW_MOTO_ENDPOINT") else {
        panic!("the restart test needs the moto harness for the broker's durable storage");
    };
    let bucket = unique("tansu-restart").to_lowercase();
    s3_put(&moto, &format!("/{bucket}"), b"");
    let port = free_port();
    let brokers = format!("127.0.0.1:{port}");
    let broker = durable_broker(&tansu, port, &moto, &bucket);
    let topic = "tweets";
    create_topic(&tansu, &brokers, topic, 3);
    let lines = sample();
    let (first, second) = lines.split_at(lines.len() / 2);
    produce(&brokers, topic, first);

    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("windows.jsonl");
    let group = "restart";
    // Windows close as the tweets' time advances, so offsets are committed during the run.
    let progressive = [
        "--lateness-secs",
        "30",
        "--kafka-option",
        "reconnect.backoff.max.ms=500",
    ];
    let child = scorer(
        &brokers,
        topic,
        group,
        &out,
        &[&progressive[..], &["--idle-exit-secs", "20"]].concat(),
    );
    std::thread::sleep(Duration::from_secs(4));
    drop(broker); // the broker goes away mid-run...
    std::thread::sleep(Duration::from_secs(2));
    let broker = durable_broker(&tansu, port, &moto, &bucket); // ...and comes back
    produce(&brokers, topic, second);
    let log = finish(child, Duration::from_mins(3));
    eprintln!("first run: {log}");
    let after_first_run = std::fs::read_to_string(&out).unwrap();

    // Another restart, then a scorer of the same group: the committed offsets survived, so it
    // finds nothing new and writes nothing.
    drop(broker);
    let _broker = durable_broker(&tansu, port, &moto, &bucket);
    let again = scorer(
        &brokers,
        topic,
        group,
        &out,
        &[&progressive[..], &["--idle-exit-secs", "8"]].concat(),
    );
    finish(again, Duration::from_mins(2));
    assert_eq!(
        std::fs::read_to_string(&out).unwrap(),
        after_first_run,
        "nothing read twice"
    );

    // Each window at its latest revision (a late tweet rewrites its window).
    let written = windows(&out);
    let mut revisions: Vec<(String, u64)> = written
        .iter()
        .map(|w| {
            (
                w["start"].as_str().unwrap().to_string(),
                w["revision"].as_u64().unwrap(),
            )
        })
        .collect();
    let n = revisions.len();
    revisions.sort();
    revisions.dedup();
    assert_eq!(revisions.len(), n, "no revision of a window written twice");
    let mut latest: std::collections::BTreeMap<String, Value> = std::collections::BTreeMap::new();
    for w in written {
        latest.insert(w["start"].as_str().unwrap().to_string(), w);
    }
    let ws: Vec<Value> = latest.into_values().collect();
    let (tweets, _) = totals(&ws);
    let distinct: std::collections::HashSet<&str> = lines
        .iter()
        .map(|l| {
            l.split("\"id_str\": \"")
                .nth(1)
                .unwrap()
                .split('"')
                .next()
                .unwrap()
        })
        .collect();
    assert_eq!(
        tweets,
        distinct.len() as u64,
        "every tweet counted once, none lost"
    );
}

/// No broker at all: `--idle-exit-secs` still ends the run (errors count as idle time), and the
/// repeated broker errors are a few lines, not twenty a second.
#[test]
fn idle_exit_fires_while_the_broker_is_down() {
    let port = free_port(); // nothing listens there
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let child = scorer(
        &format!("127.0.0.1:{port}"),
        "tweets",
        "nobody",
        &dir.path().join("out.jsonl"),
        &["--idle-exit-secs", "4"],
    );
    let log = finish(child, Duration::from_secs(30));
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "{:?}",
        started.elapsed()
    );
    assert!(
        log.contains("no message for the idle time: stopping"),
        "{log}"
    );
    let lines = log.lines().filter(|l| l.contains("Kafka:")).count();
    assert!(lines <= 12, "{lines} error lines in 4 s:\n{log}");
}

/// librdkafka's own log reaches the job's stderr in the job's line format: a broker that is not
/// there is said unasked, and `--debug` adds the connections and the group's life.
#[test]
fn librdkafka_says_what_it_sees() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let absent = format!("127.0.0.1:{port}");
    let down = scorer(
        &absent,
        "tweets",
        "g",
        &dir.path().join("down.jsonl"),
        &["--idle-exit-secs", "3"],
    );
    let (_, err) = common::wait(down, Duration::from_mins(1));
    let said: Vec<&str> = err
        .lines()
        .filter(|l| l.contains(" librdkafka: "))
        .collect();
    assert!(said.iter().any(|l| l.contains(&absent)), "{err}");
    assert!(
        said.iter()
            .all(|l| l.len() > 21 && l.as_bytes()[20] == b' '),
        "timestamped lines: {said:?}"
    );

    let Some((brokers, tansu)) = peers() else {
        return;
    };
    let topic = unique("tweets-debug");
    create_topic(&tansu, &brokers, &topic, 2);
    produce(&brokers, &topic, &sample()[..100]);
    let quiet = scorer(
        &brokers,
        &topic,
        &unique("quiet"),
        &dir.path().join("quiet.jsonl"),
        &["--idle-exit-secs", "4"],
    );
    let quiet_err = finish(quiet, Duration::from_mins(1));
    let debug = scorer(
        &brokers,
        &topic,
        &unique("debug"),
        &dir.path().join("debug.jsonl"),
        &["--idle-exit-secs", "4", "--debug"],
    );
    let debug_err = finish(debug, Duration::from_mins(1));
    let count = |e: &str| e.lines().filter(|l| l.contains(" librdkafka: ")).count();
    assert_eq!(
        count(&quiet_err),
        0,
        "a healthy run says nothing: {quiet_err}"
    );
    assert!(
        debug_err.contains(" librdkafka: CGRP") || debug_err.contains(" librdkafka: JOIN"),
        "--debug shows the group's life: {debug_err}"
    );
    assert!(count(&debug_err) > 10, "{debug_err}");
}
