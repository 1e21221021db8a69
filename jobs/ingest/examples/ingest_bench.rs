//! File -> Kafka throughput of dw-ingest on loopback, in tweets/s.
//!
//! Needs a broker and the Tansu binary (to create the topic):
//!   cargo build --release -p dw-ingest && \
//!   DW_KAFKA_BROKERS=127.0.0.1:9092 DW_TANSU_BIN=/path/to/tansu \
//!   cargo run --release -p dw-ingest --example ingest_bench [TWEETS]
//! Builds the input by repeating the v1.1 stream sample with fresh ids (default 100000 tweets).

use std::io::Write;
use std::path::Path;
use std::process::Command;
use std::time::Instant;

fn main() {
    let n: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let brokers = std::env::var("DW_KAFKA_BROKERS").expect("DW_KAFKA_BROKERS: a Kafka broker");
    let tansu = std::env::var("DW_TANSU_BIN").expect("DW_TANSU_BIN: the tansu binary");
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sample = std::fs::read_to_string(
        repo.join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl"),
    )
    .unwrap();
    let statuses: Vec<&str> = sample
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.contains("\"id_str\"") && !l.starts_with("{\"delete\""))
        .collect();
    let dir = std::env::temp_dir().join(format!("dw-ingest-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let input = dir.join("tweets.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
    for i in 0..n {
        let s = statuses[i % statuses.len()];
        writeln!(
            f,
            "{}",
            s.replacen(
                "\"id_str\":\"",
                &format!("\"id_str\":\"{}", 800_000_000_000_000_000u64 + i as u64),
                1
            )
        )
        .unwrap();
    }
    f.flush().unwrap();
    drop(f);
    let mb = std::fs::metadata(&input).unwrap().len() as f64 / 1e6;
    let topic = format!("bench-{}", std::process::id());
    let created = Command::new(&tansu)
        .args([
            "topic",
            "create",
            "--broker",
            &format!("tcp://{brokers}"),
            "--partitions",
            "6",
            &topic,
        ])
        .status()
        .unwrap();
    assert!(created.success());
    let exe = std::env::current_exe().unwrap();
    let bin = exe
        .parent()
        .and_then(|p| p.parent())
        .unwrap()
        .join("dw-ingest");
    assert!(
        bin.exists(),
        "build dw-ingest first: cargo build --release -p dw-ingest"
    );
    let start = Instant::now();
    let out = Command::new(&bin)
        .arg("--from")
        .arg(format!("file:{}", input.display()))
        .args(["--to", &format!("kafka://{brokers}/{topic}")])
        .output()
        .unwrap();
    let secs = start.elapsed().as_secs_f64();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    println!("input: {n} tweets, {mb:.1} MB");
    println!(
        "dw-ingest file -> Kafka (acks=all, idempotent, lz4, 6 partitions, loopback): {secs:.2} s = {:.0} tweets/s, {:.0} MB/s (includes start-up and the final flush)",
        n as f64 / secs,
        mb / secs
    );
    std::fs::remove_dir_all(&dir).ok();
}
