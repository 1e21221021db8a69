//! Test peers shared by the jobs' integration tests: the Kafka broker (Tansu) and moto that
//! scripts/test started, a durable broker a test can restart, buckets, topics.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// The broker address and the Tansu binary from scripts/test; `None` (the test skips) outside
/// it, and a failure when DW_REQUIRE_PEERS says the peers must be there.
pub fn kafka_peers() -> Option<(String, String)> {
    match (
        std::env::var("DW_KAFKA_BROKERS"),
        std::env::var("DW_TANSU_BIN"),
    ) {
        (Ok(b), Ok(t)) if !b.is_empty() => Some((b, t)),
        _ => {
            assert!(
                std::env::var("DW_REQUIRE_PEERS").is_err(),
                "DW_REQUIRE_PEERS is set but the Kafka broker is not: run scripts/test"
            );
            eprintln!("skipped: no Kafka broker (run scripts/test)");
            None
        }
    }
}

/// The moto endpoint from scripts/test, or `None` (skip) outside it.
pub fn moto() -> Option<String> {
    match std::env::var("DW_MOTO_ENDPOINT") {
        Ok(m) if !m.is_empty() => Some(m),
        _ => {
            assert!(
                std::env::var("DW_REQUIRE_PEERS").is_err(),
                "DW_REQUIRE_PEERS is set but DW_MOTO_ENDPOINT is not: run scripts/test"
            );
            eprintln!("skipped: no moto server (run scripts/test)");
            None
        }
    }
}

/// A name no other test run uses.
pub fn unique(name: &str) -> String {
    format!(
        "{name}-{}-{}",
        std::process::id(),
        jiff::Timestamp::now().as_millisecond()
    )
}

pub fn create_topic(tansu: &str, brokers: &str, topic: &str, partitions: u32) {
    let out = Command::new(tansu)
        .args([
            "topic",
            "create",
            "--broker",
            &format!("tcp://{brokers}"),
            "--partitions",
        ])
        .arg(partitions.to_string())
        .arg(topic)
        .output()
        .expect("tansu runs");
    assert!(
        out.status.success(),
        "topic create: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A bare HTTP PUT to moto (a bucket, or an object with `body`): moto accepts it unsigned.
pub fn s3_put(moto: &str, path: &str, body: &[u8]) {
    use std::io::{Read, Write};
    let addr = moto.trim_start_matches("http://").trim_end_matches('/');
    let mut s = std::net::TcpStream::connect(addr).expect("moto reachable");
    write!(
        s,
        "PUT {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .expect("request");
    s.write_all(body).expect("body");
    let mut response = String::new();
    s.read_to_string(&mut response).expect("response");
    assert!(
        response.starts_with("HTTP/1.1 200"),
        "PUT {path}: {response}"
    );
}

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A process a test or bench started, killed (and reaped) when the guard is dropped, so that a
/// failing run leaves nothing behind.
pub struct Killed(pub Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A Tansu broker this test started; killed when dropped.
pub struct Broker {
    child: Child,
}

impl Broker {
    /// Stops the broker the way a service manager does (SIGTERM), and waits for it to exit.
    pub fn stop(mut self) {
        let _ = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status();
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if let Ok(Some(_)) = self.child.try_wait() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        // Drop kills what did not stop.
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        self.child.kill().ok();
        self.child.wait().ok();
    }
}

/// A Tansu broker on `port` whose storage is an S3 bucket of moto, so that it survives a
/// restart.
pub fn durable_broker(tansu: &str, port: u16, moto: &str, bucket: &str) -> Broker {
    let url = format!("tcp://127.0.0.1:{port}");
    let child = Command::new(tansu)
        .args([
            "broker",
            "--listener-url",
            &url,
            "--advertised-listener-url",
            &url,
        ])
        .args(["--storage-engine", &format!("s3://{bucket}/")])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT", moto)
        .env("AWS_ALLOW_HTTP", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("tansu starts");
    let start = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "broker listening"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    Broker { child }
}

/// `count` statuses of the shipped first-GOP-debate sample (`data/replay/2015-08-06.jsonl`),
/// re-stamped 100 ms apart from `start_ms` in time order, with ids of their own from
/// `first_id`: real texts and users, as many as a test needs.
pub fn restamped_sample(count: usize, start_ms: i64, first_id: u64) -> Vec<String> {
    let path =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/replay/2015-08-06.jsonl");
    let sample: Vec<serde_json::Value> = std::fs::read_to_string(&path)
        .expect("the shipped sample")
        .lines()
        .map(|l| serde_json::from_str(l).expect("a status"))
        .collect();
    (0..count)
        .map(|i| {
            let mut t = sample[i % sample.len()].clone();
            let ms = start_ms + i as i64 * 100;
            let at = jiff::Timestamp::from_millisecond(ms).expect("a time");
            t["created_at"] = at.strftime("%a %b %d %H:%M:%S +0000 %Y").to_string().into();
            t["timestamp_ms"] = ms.to_string().into();
            let id = first_id + i as u64;
            t["id"] = id.into();
            t["id_str"] = id.to_string().into();
            t.to_string()
        })
        .collect()
}

/// Windows (as JSON) by their start.
pub fn windows_by_start(
    windows: impl IntoIterator<Item = serde_json::Value>,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    windows
        .into_iter()
        .map(|w| (w["start"].as_str().expect("a start").to_string(), w))
        .collect()
}

/// The windows of a JSON-lines file, by start.
pub fn windows_in_file(
    path: &std::path::Path,
) -> std::collections::BTreeMap<String, serde_json::Value> {
    windows_by_start(
        std::fs::read_to_string(path)
            .expect("a windows file")
            .lines()
            .map(|l| serde_json::from_str(l).expect("a window")),
    )
}

/// Two sets of windows are the same: the same starts, and in each every count, sum and
/// standout of every candidate (sums to 1e-9: the same numbers added in another order).
pub fn assert_same_windows(
    case: &str,
    got: &std::collections::BTreeMap<String, serde_json::Value>,
    want: &std::collections::BTreeMap<String, serde_json::Value>,
) {
    assert_eq!(
        got.keys().collect::<Vec<_>>(),
        want.keys().collect::<Vec<_>>(),
        "{case}: the same windows"
    );
    for (start, w) in want {
        let g = &got[start];
        assert_eq!(g["tweets"], w["tweets"], "{case} {start}: tweets");
        let candidates = w["candidates"].as_object().expect("candidates");
        assert!(!candidates.is_empty(), "{case} {start}: no candidate");
        for (c, wc) in candidates {
            let gc = &g["candidates"][c];
            for k in ["tweets", "scored_tweets", "scored_words", "words_squared"] {
                assert_eq!(gc[k], wc[k], "{case} {start} {c}: {k}");
            }
            for k in ["happiness_sum", "sum_squares", "sum_by_words"] {
                let (gs, ws) = (
                    gc[k].as_f64().expect("a sum"),
                    wc[k].as_f64().expect("a sum"),
                );
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

/// A binary of this workspace beside the running benchmark (`target/<profile>/examples/X` ->
/// `target/<profile>/<name>`), or a panic that says how to build it.
pub fn sibling_binary(name: &str) -> std::path::PathBuf {
    let exe = std::env::current_exe().expect("own path");
    let path = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target dir")
        .join(name);
    assert!(
        path.is_file(),
        "{} is missing: cargo build --release --workspace first",
        path.display()
    );
    path
}
