//! dw-ingest against the real peers scripts/test starts: an S3 archive of several .gz objects on
//! moto, and the Tansu Kafka broker, including a broker restart mid-run.

use std::collections::HashSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use dw_pipeline::kafka::{self, Message as _};
use dw_pipeline::testkit::{
    Broker, create_topic, durable_broker, free_port, kafka_peers, moto, s3_put, unique,
};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn replay_sample() -> Vec<String> {
    std::fs::read_to_string(repo().join("data/replay/2015-08-06.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect()
}

fn id_of(line: &str) -> String {
    serde_json::from_str::<serde_json::Value>(line).unwrap()["id_str"]
        .as_str()
        .unwrap()
        .to_string()
}

fn gz(lines: &[String]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    for l in lines {
        writeln!(e, "{l}").unwrap();
    }
    e.finish().unwrap()
}

#[test]
fn an_s3_archive_of_gz_objects_is_replayed_in_key_order() {
    let Some(moto) = moto() else { return };
    let bucket = unique("dw-archive").to_lowercase();
    s3_put(&moto, &format!("/{bucket}"), b"");
    let lines = replay_sample();
    let parts: Vec<&[String]> = lines.chunks(1000).collect();
    // Uploaded out of order; replayed in key order.
    for (i, part) in parts.iter().enumerate().rev() {
        s3_put(
            &moto,
            &format!("/{bucket}/archive/2015-08-06/part-{i:03}.jsonl.gz"),
            &gz(part),
        );
    }
    s3_put(&moto, &format!("/{bucket}/other/ignored.jsonl"), b"{}\n");
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .args([
            "--from",
            &format!("s3://{bucket}/archive/2015-08-06/"),
            "--to",
            "file:out.jsonl",
        ])
        .env("AWS_ENDPOINT_URL", &moto)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written: Vec<String> = std::fs::read_to_string(dir.path().join("out.jsonl"))
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    // The sample repeats 3 ids: each is written once, in the archive's order.
    let mut seen = HashSet::new();
    let want: Vec<&String> = lines.iter().filter(|l| seen.insert(id_of(l))).collect();
    assert_eq!(written.len(), want.len());
    assert!(
        written.iter().zip(want).all(|(a, b)| a == b),
        "unchanged, in order"
    );
}

fn consume_ids(brokers: &str, topic: &str, expect: usize) -> Vec<String> {
    let consumer = kafka::consumer(
        brokers,
        topic,
        &unique("check"),
        &[
            ("session.timeout.ms".into(), "3000".into()),
            ("heartbeat.interval.ms".into(), "1000".into()),
        ],
    )
    .unwrap();
    let mut ids = Vec::new();
    let start = Instant::now();
    let mut idle = Instant::now();
    while start.elapsed() < Duration::from_secs(90)
        && (ids.len() < expect || idle.elapsed() < Duration::from_secs(2))
    {
        match consumer.poll(Duration::from_millis(200)) {
            Some(Ok(m)) => {
                let payload = std::str::from_utf8(m.payload().unwrap()).unwrap();
                assert_eq!(
                    m.key(),
                    Some(id_of(payload).as_bytes()),
                    "keyed by tweet id"
                );
                ids.push(id_of(payload));
                idle = Instant::now();
            }
            Some(Err(e)) => eprintln!("consumer: {e}"),
            None => {}
        }
    }
    ids
}

fn distinct(lines: &[String]) -> HashSet<String> {
    lines.iter().map(|l| id_of(l)).collect()
}

#[test]
fn a_file_goes_into_kafka_unchanged_and_once() {
    let Some((brokers, tansu)) = kafka_peers() else {
        return;
    };
    let topic = unique("ingest");
    create_topic(&tansu, &brokers, &topic, 3);
    let dir = tempfile::tempdir().unwrap();
    let sample = repo().join("data/replay/2015-08-06.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .arg("--from")
        .arg(format!("file:{}", sample.display()))
        .args([
            "--to",
            &format!("kafka://{brokers}/{topic}"),
            "--status",
            "s.json",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = replay_sample();
    let want = distinct(&lines);
    let ids = consume_ids(&brokers, &topic, want.len());
    assert_eq!(ids.len(), want.len(), "each tweet once");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), want);
}

/// A broker restarted (SIGTERM, as a service manager restarts it) while dw-ingest writes: the
/// producer waits and retries, and every tweet is in the topic once.
#[test]
fn a_broker_restart_mid_run_loses_no_tweet() {
    restart_mid_run(Broker::stop);
}

/// The same with the broker killed (SIGKILL). Tansu 0.6.0 on S3 storage then loses, in most runs
/// here, the one record it had acknowledged at the moment of the kill (dw-ingest's delivery
/// reports all succeeded, and it would exit non-zero otherwise). Run it by hand against a newer
/// broker: `cargo test -p dw-ingest --test peers -- --ignored`.
#[test]
#[ignore = "Tansu 0.6.0 loses an acknowledged record when killed; see the comment"]
fn a_broker_crash_mid_run_loses_no_tweet() {
    restart_mid_run(drop);
}

fn restart_mid_run(stop: impl FnOnce(Broker)) {
    let (Some((_, tansu)), Some(moto)) = (kafka_peers(), moto()) else {
        return;
    };
    let bucket = unique("tansu-ingest").to_lowercase();
    s3_put(&moto, &format!("/{bucket}"), b"");
    let port = free_port();
    let brokers = format!("127.0.0.1:{port}");
    let broker = durable_broker(&tansu, port, &moto, &bucket);
    create_topic(&tansu, &brokers, "tweets", 3);

    // The sample spans ~15 h; at 9000x it takes about 6 s, through the restart.
    let dir = tempfile::tempdir().unwrap();
    let sample = repo().join("data/replay/2015-08-06.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .arg("--from")
        .arg(format!("file:{}", sample.display()))
        .args([
            "--to",
            &format!("kafka://{brokers}/tweets"),
            "--pace",
            "9000x",
        ])
        .args(["--kafka-option", "reconnect.backoff.max.ms=500"])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_secs(2));
    stop(broker);
    std::thread::sleep(Duration::from_secs(2));
    let _broker = durable_broker(&tansu, port, &moto, &bucket);
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lines = replay_sample();
    let want = distinct(&lines);
    let ids: HashSet<String> = consume_ids(&brokers, "tweets", want.len())
        .into_iter()
        .collect();
    let missing: Vec<String> = lines
        .iter()
        .enumerate()
        .filter(|(_, l)| !ids.contains(&id_of(l)))
        .map(|(n, l)| format!("line {} ({})", n + 1, id_of(l)))
        .collect();
    assert!(
        missing.is_empty(),
        "lost across the restart: {}",
        missing.join(", ")
    );
    assert_eq!(ids.len(), want.len());
}
