//! The debate page's two figures (a benchmark, not a test):
//!
//! - `delay`: tweets stamped now go through dw-ingest -> Kafka -> dw-score -> `dw watch` -> an
//!   SSE client; prints how long each took to be counted on the stream (p50/p99/max).
//! - `clients`: N SSE clients on one `dw watch`; prints the server's memory, and how long after
//!   a window is appended the last client has it.
//!
//! ```sh
//! cargo build --release --workspace
//! DW_KAFKA_BROKERS=... DW_TANSU_BIN=... cargo run --release --example page_bench -- delay [TWEETS] [PARTIAL_SECS]
//! cargo run --release --example page_bench -- clients [N]
//! ```

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use dw_pipeline::testkit::{Killed, create_topic, unique};
use dw_pipeline::window::Window;
use serde_json::Value;

const DEBATE: &str = "2015-08-06";

fn binary(name: &str) -> PathBuf {
    dw_pipeline::testkit::sibling_binary(name)
}

/// `dw watch` over `file`; its URL's host:port.
fn watch(file: &Path) -> (Killed, String) {
    let mut child = Command::new(binary("dw"))
        .args([
            "-q",
            "watch",
            "--debate",
            DEBATE,
            "--bind",
            "127.0.0.1:0",
            "--from",
        ])
        .arg(file)
        .stdout(Stdio::piped())
        .spawn()
        .expect("dw watch starts");
    let mut url = String::new();
    BufReader::new(child.stdout.take().expect("stdout"))
        .read_line(&mut url)
        .expect("its URL");
    let addr = url
        .trim()
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_string();
    (Killed(child), addr)
}

/// An SSE client: calls `on_windows` with each batch of windows (snapshot or update).
fn listen(addr: &str, mut on_windows: impl FnMut(Vec<Window>) + Send + 'static) {
    let mut stream = TcpStream::connect(addr).expect("dw watch reachable");
    write!(
        stream,
        "GET /api/events HTTP/1.1\r\nHost: {addr}\r\nAccept: text/event-stream\r\n\r\n"
    )
    .expect("request");
    std::thread::spawn(move || {
        let mut event = String::new();
        for line in BufReader::new(stream).lines() {
            let Ok(line) = line else { return };
            if let Some(name) = line.strip_prefix("event: ") {
                event = name.to_string();
            } else if let Some(data) = line.strip_prefix("data: ") {
                let windows: Option<Vec<Window>> = match event.as_str() {
                    "windows" => serde_json::from_str(data).ok(),
                    "snapshot" => serde_json::from_str::<Value>(data)
                        .ok()
                        .and_then(|v| serde_json::from_value(v["windows"].clone()).ok()),
                    _ => None,
                };
                if let Some(w) = windows {
                    on_windows(w);
                }
            }
        }
    });
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

/// Each window's tweet count as the stream last showed it, and the total after each event.
type Shown = (
    std::collections::BTreeMap<jiff::Timestamp, u64>,
    Vec<(Instant, u64)>,
);

fn delay(tweets: usize, partial_secs: u64) {
    let brokers = std::env::var("DW_KAFKA_BROKERS").expect("DW_KAFKA_BROKERS");
    let tansu = std::env::var("DW_TANSU_BIN").expect("DW_TANSU_BIN");
    let topic = unique("page-delay");
    create_topic(&tansu, &brokers, &topic, 6);
    let dir = tempfile::tempdir().expect("temp dir");
    let windows = dir.path().join("windows.jsonl");
    std::fs::write(&windows, "").expect("windows file");

    let score = start_scorer(&brokers, &topic, &windows, partial_secs);
    let _score = Killed(score);
    let (_watch, addr) = watch(&windows);

    // The count of tweets the stream has shown, over time.
    let seen: Arc<Mutex<Shown>> = Arc::default();
    let on = Arc::clone(&seen);
    listen(&addr, move |ws| {
        let mut s = on.lock().expect("lock");
        for w in ws {
            s.0.insert(w.start, w.tweets);
        }
        let total = s.0.values().sum();
        s.1.push((Instant::now(), total));
    });

    let template: Value = std::fs::read_to_string("data/replay/2015-08-06.jsonl")
        .expect("the sample (run from the repository root)")
        .lines()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .find(|v| {
            v["text"].as_str().is_some_and(|t| t.contains("Trump"))
                && v.get("retweeted_status").is_none()
        })
        .expect("a tweet naming Trump");
    let mut ingest = Killed(
        Command::new(binary("dw-ingest"))
            .args(["--from", "-", "--to", &format!("kafka://{brokers}/{topic}")])
            .stdin(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("dw-ingest starts"),
    );
    let mut stdin = ingest.0.stdin.take().expect("stdin");
    let every = Duration::from_millis(50);
    let mut sent = Vec::with_capacity(tweets);
    let started = Instant::now();
    for k in 0..tweets {
        let mut t = template.clone();
        let id = 900_000_000_000_000_000u64 + k as u64;
        t["id"] = Value::from(id);
        t["id_str"] = Value::from(id.to_string());
        t["created_at"] = Value::from(
            jiff::Timestamp::now()
                .strftime("%a %b %d %H:%M:%S +0000 %Y")
                .to_string(),
        );
        writeln!(stdin, "{t}").expect("to dw-ingest");
        stdin.flush().expect("flush");
        sent.push(Instant::now());
        std::thread::sleep(
            (started + every * (k as u32 + 1)).saturating_duration_since(Instant::now()),
        );
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while seen.lock().expect("lock").1.last().map_or(0, |l| l.1) < tweets as u64 {
        assert!(
            Instant::now() < deadline,
            "not every tweet reached the page in 60 s"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    drop(stdin);
    drop(ingest);
    let log = seen.lock().expect("lock").1.clone();
    let mut delays: Vec<f64> = sent
        .iter()
        .enumerate()
        .map(|(k, at)| {
            let shown = log
                .iter()
                .find(|(_, total)| *total > k as u64)
                .map(|(when, _)| *when)
                .expect("shown");
            shown.saturating_duration_since(*at).as_secs_f64()
        })
        .collect();
    delays.sort_by(f64::total_cmp);
    println!(
        "{tweets} tweets, one every {} ms, dw-score --partial-secs {partial_secs}: \
         delay from dw-ingest's stdin to an SSE client p50 {:.2} s, p99 {:.2} s, max {:.2} s",
        every.as_millis(),
        percentile(&delays, 0.5),
        percentile(&delays, 0.99),
        delays[delays.len() - 1]
    );
}

fn rss_kib(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn clients(n: usize) {
    let dir = tempfile::tempdir().expect("temp dir");
    let windows = dir.path().join("windows.jsonl");
    let window = |minute: i64| {
        let mut w = Window::new(
            DEBATE,
            1_438_909_200_000 + minute * 60_000,
            60,
            &["trump".into()],
        );
        w.tweets = 1;
        format!("{}\n", serde_json::to_string(&w).expect("json"))
    };
    let mut text = String::new();
    for m in 0..240 {
        text.push_str(&window(m));
    }
    std::fs::write(&windows, text).expect("windows file");
    let (watch, addr) = watch(&windows);
    let pid = watch.0.id();
    let idle = rss_kib(pid);
    let got: Arc<Mutex<Vec<Option<Instant>>>> = Arc::new(Mutex::new(vec![None; n]));
    let connected = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    for i in 0..n {
        let got = Arc::clone(&got);
        let connected = Arc::clone(&connected);
        listen(&addr, move |ws| {
            if ws.len() == 1 && ws[0].start.as_millisecond() == 1_438_909_200_000 + 240 * 60_000 {
                got.lock().expect("lock")[i].get_or_insert_with(Instant::now);
            } else if ws.len() == 240 {
                connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            }
        });
    }
    let deadline = Instant::now() + Duration::from_mins(1);
    while connected.load(std::sync::atomic::Ordering::Relaxed) < n {
        assert!(
            Instant::now() < deadline,
            "not every client got its snapshot"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let held = rss_kib(pid);
    let appended = Instant::now();
    let mut f = std::fs::OpenOptions::new()
        .append(true)
        .open(&windows)
        .expect("open");
    f.write_all(window(240).as_bytes()).expect("append");
    drop(f);
    loop {
        let g = got.lock().expect("lock");
        if g.iter().all(Option::is_some) {
            let last = g.iter().flatten().max().expect("times");
            println!(
                "{n} SSE clients on one dw watch (240 windows): RSS {} KiB idle, {} KiB with the \
                 clients ({:.1} KiB each); an appended window reached all of them in {:.2} s \
                 (the file is polled every second)",
                idle,
                held,
                (held.saturating_sub(idle)) as f64 / n as f64,
                last.duration_since(appended).as_secs_f64()
            );
            return;
        }
        drop(g);
        assert!(
            Instant::now() < deadline,
            "not every client got the new window"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.first().map(String::as_str) {
        Some("delay") => delay(
            args.get(1).and_then(|n| n.parse().ok()).unwrap_or(400),
            args.get(2).and_then(|n| n.parse().ok()).unwrap_or(5),
        ),
        Some("clients") => clients(args.get(1).and_then(|n| n.parse().ok()).unwrap_or(200)),
        _ => eprintln!("usage: page_bench delay [TWEETS] [PARTIAL_SECS] | clients [N]"),
    }
}

/// dw-score on `topic`, writing `windows`; returns once it owns the partitions.
fn start_scorer(
    brokers: &str,
    topic: &str,
    windows: &std::path::Path,
    partial_secs: u64,
) -> std::process::Child {
    let mut score = Command::new(binary("dw-score"))
        .arg("--from")
        .arg(format!("kafka://{brokers}/{topic}?group={}", unique("g")))
        .arg("--to")
        .arg(format!("file:{}", windows.display()))
        .args([
            "--debate",
            DEBATE,
            "--partial-secs",
            &partial_secs.to_string(),
        ])
        .args(["--candidate", "trump=Trump,Donald Trump,@realDonaldTrump"])
        .args(["--kafka-option", "session.timeout.ms=6000"])
        .stderr(Stdio::piped())
        .spawn()
        .expect("dw-score starts");
    // Tweets go out once dw-score owns the partitions.
    let mut log = BufReader::new(score.stderr.take().expect("stderr"));
    let mut line = String::new();
    while log.read_line(&mut line).expect("dw-score log") > 0
        && !line.contains("assigned partitions [")
    {
        line.clear();
    }
    std::thread::spawn(move || std::io::copy(&mut log, &mut std::io::sink()));
    score
}
