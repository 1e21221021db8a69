//! dw-ingest against a test stream server on 127.0.0.1 that serves genuine v1.1 records with
//! length framing, keep-alives and limit notices, and injects faults: a connection reset
//! mid-message, HTTP 503, HTTP 420 and a stall. Every tweet must reach the sink exactly once,
//! and the waits must follow Twitter's rules. Waits run on a scaled clock (--time-scale).

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The genuine sample: statuses and delete notices, as the stream sent them.
fn sample() -> (Vec<String>, Vec<String>) {
    let text = std::fs::read_to_string(
        repo().join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl"),
    )
    .unwrap();
    let lines: Vec<String> = text
        .lines()
        .map(|l| l.trim_end_matches('\r').to_string())
        .collect();
    let (deletes, statuses): (Vec<String>, Vec<String>) = lines
        .into_iter()
        .filter(|l| !l.is_empty())
        .partition(|l| l.starts_with("{\"delete\""));
    (statuses, deletes)
}

fn id_of(line: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(line).unwrap();
    v["id_str"].as_str().unwrap_or_default().to_string()
}

/// One length-delimited message, as with `delimited=length`.
fn framed(message: &str) -> Vec<u8> {
    let body = format!("{message}\r\n");
    format!("{}\r\n{body}", body.len()).into_bytes()
}

fn chunk(s: &mut TcpStream, bytes: &[u8]) -> std::io::Result<()> {
    write!(s, "{:x}\r\n", bytes.len())?;
    s.write_all(bytes)?;
    s.write_all(b"\r\n")?;
    s.flush()
}

fn start_200(s: &mut TcpStream) {
    s.write_all(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n",
    )
    .unwrap();
}

fn status(s: &mut TcpStream, code: u16, text: &str) {
    write!(
        s,
        "HTTP/1.1 {code} {text}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
    )
    .unwrap();
}

/// A request as the server saw it: request line, headers (lower-case names), body.
type Request = (String, HashMap<String, String>, String);

/// Reads the request head and body.
fn read_request(s: &mut TcpStream) -> Request {
    let mut reader = BufReader::new(s.try_clone().unwrap());
    let mut first = String::new();
    reader.read_line(&mut first).unwrap();
    let mut headers = HashMap::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_lowercase(), v.trim().to_string());
        }
    }
    let len: usize = headers
        .get("content-length")
        .and_then(|l| l.parse().ok())
        .unwrap_or(0);
    let mut body = vec![0u8; len];
    reader.read_exact(&mut body).unwrap();
    (
        first.trim_end().to_string(),
        headers,
        String::from_utf8(body).unwrap(),
    )
}

struct Server {
    port: u16,
    requests: Arc<Mutex<Vec<Request>>>,
}

/// Serves the scripted connections, one after the other; after the script, connections get
/// the last messages again and are held open with keep-alives.
fn serve(statuses: Vec<String>, deletes: Vec<String>) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        for (n, conn) in listener.incoming().enumerate() {
            let Ok(mut s) = conn else { continue };
            seen.lock().unwrap().push(read_request(&mut s));
            let send = |s: &mut TcpStream, range: std::ops::Range<usize>| -> std::io::Result<()> {
                for m in &statuses[range] {
                    chunk(s, &framed(m))?;
                }
                Ok(())
            };
            let _ = match n {
                // Tweets 0..20, a keep-alive, a limit notice, a delete, then a reset mid-message.
                0 => (|| {
                    start_200(&mut s);
                    send(&mut s, 0..20)?;
                    chunk(&mut s, b"\r\n")?;
                    chunk(
                        &mut s,
                        &framed(r#"{"limit":{"track":5,"timestamp_ms":"1487282405000"}}"#),
                    )?;
                    chunk(&mut s, &framed(&deletes[0]))?;
                    let half = framed(&statuses[20]);
                    chunk(&mut s, &half[..half.len() / 2])?;
                    s.shutdown(std::net::Shutdown::Both)
                })(),
                1 => {
                    status(&mut s, 503, "Service Unavailable");
                    Ok(())
                }
                2 => {
                    status(&mut s, 420, "Enhance Your Calm");
                    Ok(())
                }
                // Overlapping tweets 15..40 (15..19 again), a limit notice, then silence.
                3 => (|| {
                    start_200(&mut s);
                    send(&mut s, 15..40)?;
                    chunk(
                        &mut s,
                        &framed(r#"{"limit":{"track":3,"timestamp_ms":"1487282406000"}}"#),
                    )?;
                    std::thread::sleep(Duration::from_millis(1500));
                    s.shutdown(std::net::Shutdown::Both)
                })(),
                // The rest, with deletes and keep-alives, then keep-alives until the client leaves.
                _ => (|| {
                    start_200(&mut s);
                    send(&mut s, 38..statuses.len().min(80))?;
                    for d in &deletes[1..4] {
                        chunk(&mut s, &framed(d))?;
                    }
                    for _ in 0..600 {
                        chunk(&mut s, b"\r\n")?;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Ok(())
                })(),
            };
        }
    });
    Server { port, requests }
}

fn ingest(args: &[&str], out: &Path, dir: &Path) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir)
        .args([
            "--from",
            "twitter-v1",
            "--track",
            "trump,Donald Trump",
            "--to",
        ])
        .arg(format!("file:{}", out.display()))
        .args([
            "--time-scale",
            "0.001",
            "--status",
            "status.json",
            "--status-secs",
            "0",
        ])
        .args(args)
        .env("TWITTER_CONSUMER_KEY", "ck")
        .env("TWITTER_CONSUMER_SECRET", "cs")
        .env("TWITTER_ACCESS_TOKEN", "at")
        .env("TWITTER_ACCESS_TOKEN_SECRET", "ats")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

fn sigterm(child: &Child) {
    let ok = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(ok.success());
}

#[test]
fn faults_and_reconnects_lose_and_duplicate_nothing() {
    let (statuses, deletes) = sample();
    let server = serve(statuses.clone(), deletes.clone());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let url = format!("http://127.0.0.1:{}/1.1/statuses/filter.json", server.port);
    let child = ingest(
        &["--stream-url", &url, "--dead-letter", "file:dead.jsonl"],
        &out,
        dir.path(),
    );

    let want: Vec<String> = statuses[..80].iter().map(|s| id_of(s)).collect();
    let start = Instant::now();
    loop {
        let got = std::fs::read_to_string(&out).unwrap_or_default();
        let n = got
            .lines()
            .filter(|l| !l.starts_with("{\"delete\""))
            .count();
        if n >= want.len() || start.elapsed() > Duration::from_mins(1) {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");

    let lines: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(str::to_string)
        .collect();
    let (dels, tweets): (Vec<&String>, Vec<&String>) =
        lines.iter().partition(|l| l.starts_with("{\"delete\""));
    let got: Vec<String> = tweets.iter().map(|l| id_of(l)).collect();
    assert_eq!(got, want, "every tweet exactly once, in order\n{log}");
    // Written unchanged.
    assert_eq!(tweets[0].as_str(), statuses[0].as_str());
    assert_eq!(dels.len(), 4, "delete notices are passed on");

    // The waits, in order: reset (network: 250 ms), 503 (5 s), 420 (60 s), stall (network again,
    // after a healthy connection: 250 ms).
    let waits: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("reconnecting in ").nth(1))
        .collect();
    assert!(waits.len() >= 4, "{log}");
    assert!(
        waits[0].starts_with("250ms (the stream broke")
            || waits[0].starts_with("250ms (the stream closed"),
        "{}",
        waits[0]
    );
    assert_eq!(waits[1], "5s (HTTP 503)");
    assert_eq!(waits[2], "60s (HTTP 420)");
    assert_eq!(waits[3], "250ms (no data for 90s: stalled)");

    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("status.json")).unwrap())
            .unwrap();
    assert_eq!(status["state"], "stopped");
    assert_eq!(status["counts"]["written"], 80);
    assert_eq!(
        status["counts"]["duplicates"], 7,
        "15..20 again on the 4th connection, 38..40 on the 5th"
    );
    assert_eq!(status["counts"]["limit_withheld"], 8);
    assert!(status["counts"]["reconnects"].as_u64().unwrap() >= 4);

    // What the stream was asked: OAuth 1.0a signed POST with the track terms and length framing.
    let requests = server.requests.lock().unwrap();
    let (line, headers, body) = &requests[0];
    assert_eq!(line, "POST /1.1/statuses/filter.json HTTP/1.1");
    assert!(headers["authorization"].starts_with("OAuth oauth_consumer_key=\"ck\""));
    assert!(headers["authorization"].contains("oauth_signature=\""));
    assert_eq!(
        body,
        "delimited=length&stall_warnings=true&track=trump%2CDonald%20Trump"
    );
    // No secret on the command line or in the log.
    assert!(!log.contains("cs") || !log.contains("ats"), "{log}");
}

#[test]
fn refused_credentials_stop_with_a_clear_message() {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            read_request(&mut s);
            status(&mut s, 401, "Unauthorized");
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let url = format!("http://127.0.0.1:{port}/stream");
    assert_refused(ingest(&["--stream-url", &url], &out, dir.path()));
}

/// The run ended at once with exit 1 and a sentence about the credentials.
fn assert_refused(child: Child) {
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{log}");
    assert!(
        log.contains("error: the stream refused the credentials (HTTP 401): check env"),
        "{log}"
    );
}

#[test]
fn an_archive_file_is_replayed_into_a_file() {
    let (statuses, _) = sample();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.jsonl.gz");
    let mut gz = flate2_writer(&input);
    for s in &statuses[..50] {
        writeln!(gz, "{s}").unwrap();
    }
    writeln!(gz, "{}", statuses[3]).unwrap(); // a repeat
    writeln!(gz, "not json").unwrap();
    drop(gz);
    let out = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .args([
            "--from",
            "file:in.jsonl.gz",
            "--to",
            "file:out.jsonl",
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
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(written.lines().count(), 50);
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(
        (
            status["counts"]["duplicates"].as_u64(),
            status["counts"]["malformed"].as_u64()
        ),
        (Some(1), Some(1))
    );
}

fn flate2_writer(path: &Path) -> impl Write {
    GzFile(Some(flate2::write::GzEncoder::new(
        std::fs::File::create(path).unwrap(),
        flate2::Compression::default(),
    )))
}

struct GzFile(Option<flate2::write::GzEncoder<std::fs::File>>);

impl Write for GzFile {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.as_mut().unwrap().write(b)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.as_mut().unwrap().flush()
    }
}

impl Drop for GzFile {
    fn drop(&mut self) {
        if let Some(e) = self.0.take() {
            e.finish().unwrap();
        }
    }
}

/// A stub stream answering each connection with `respond` (after reading the request).
fn stub(respond: impl Fn(&mut TcpStream) + Send + 'static) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            read_request(&mut s);
            respond(&mut s);
        }
    });
    port
}

fn state(dir: &Path) -> Option<String> {
    let text = std::fs::read_to_string(dir.join("status.json")).ok()?;
    let v: serde_json::Value = serde_json::from_str(&text).ok()?;
    v["state"].as_str().map(str::to_string)
}

/// Every state the heartbeat shows over `how_long`.
fn states_during(dir: &Path, how_long: Duration) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    let start = Instant::now();
    while start.elapsed() < how_long {
        if let Some(s) = state(dir)
            && seen.last() != Some(&s)
        {
            seen.push(s);
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    seen
}

/// Not "running" (what the start step counts as healthy) until the stream has sent bytes:
/// a stream that says 401 after 1.5 s, and one that never answers at all.
#[test]
fn the_heartbeat_says_running_only_once_the_stream_delivered() {
    let port = stub(|s| {
        std::thread::sleep(Duration::from_millis(1500));
        status(s, 401, "Unauthorized");
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/stream");
    // The real clock: the answer's 1.5 s are within the first-byte deadline.
    let child = ingest(
        &["--stream-url", &url, "--time-scale", "1"],
        &dir.path().join("out"),
        dir.path(),
    );
    let seen = states_during(dir.path(), Duration::from_millis(1200));
    assert_eq!(seen, ["starting"], "before the answer");
    let output = child.wait_with_output().unwrap();
    assert_eq!(output.status.code(), Some(1));
    assert_eq!(state(dir.path()).as_deref(), Some("stopped"));

    // Accepts, reads the request, never answers: still "starting"; SIGTERM ends it at once.
    let port = stub(|_| std::thread::sleep(Duration::from_mins(10)));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/stream");
    let child = ingest(
        &["--stream-url", &url, "--time-scale", "1"],
        &dir.path().join("out"),
        dir.path(),
    );
    let seen = states_during(dir.path(), Duration::from_secs(2));
    assert_eq!(seen, ["starting"]);
    sigterm(&child);
    let asked = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    // Healthy once bytes come (a keep-alive is enough).
    let port = stub(|s| {
        start_200(s);
        for _ in 0..100 {
            if chunk(s, b"\r\n").is_err() {
                return;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/stream");
    let child = ingest(&["--stream-url", &url], &dir.path().join("out"), dir.path());
    let seen = states_during(dir.path(), Duration::from_secs(2));
    assert_eq!(seen.last().map(String::as_str), Some("running"), "{seen:?}");
    sigterm(&child);
    assert!(child.wait_with_output().unwrap().status.success());
}

/// An endpoint that answers garbage: each connection fails, and the waits grow by Twitter's
/// network rule (250 ms more each time) instead of starting over at 250 ms.
#[test]
fn garbage_does_not_reset_the_back_off() {
    let port = stub(|s| {
        start_200(s);
        let _ = chunk(s, b"this is not a length prefix\r\n");
        let _ = s.shutdown(std::net::Shutdown::Both);
    });
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:{port}/stream");
    let child = ingest(&["--stream-url", &url], &dir.path().join("out"), dir.path());
    std::thread::sleep(Duration::from_secs(2));
    sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    let waits: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("reconnecting in ").nth(1))
        .map(|w| w.split(' ').next().unwrap())
        .take(4)
        .collect();
    assert_eq!(waits, ["250ms", "500ms", "750ms", "1s"], "{log}");
}

/// Tweets, then a silent stream (not even keep-alives): the file has them within a second.
#[test]
fn a_quiet_stream_still_flushes_the_file() {
    let (statuses, _) = sample();
    let first: Vec<String> = statuses[..5].to_vec();
    let port = stub(move |s| {
        start_200(s);
        for m in &first {
            let _ = chunk(s, &framed(m));
        }
        std::thread::sleep(Duration::from_secs(30));
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let url = format!("http://127.0.0.1:{port}/stream");
    let child = ingest(
        &["--stream-url", &url, "--time-scale", "1"],
        &out,
        dir.path(),
    );
    let start = Instant::now();
    let mut lines = 0;
    while start.elapsed() < Duration::from_secs(3) && lines < 5 {
        lines = std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .count();
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&child);
    child.wait_with_output().unwrap();
    assert_eq!(lines, 5, "flushed while the stream is quiet");
}

/// user:password in the stream URL never reaches the log.
#[test]
fn credentials_in_the_stream_url_are_not_logged() {
    let port = stub(|s| status(s, 401, "Unauthorized"));
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://dwuser:s3cr3t-pw@127.0.0.1:{port}/stream");
    let child = ingest(&["--stream-url", &url], &dir.path().join("out"), dir.path());
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(
        log.contains("streaming 2 terms from http://***@127.0.0.1"),
        "{log}"
    );
    assert!(
        !log.contains("s3cr3t-pw") && !log.contains("dwuser"),
        "{log}"
    );
}

/// A 120 MB archive file is streamed: the process stays far below the file's size.
#[test]
fn an_archive_file_is_streamed_not_read_into_memory() {
    let (statuses, _) = sample();
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("big.jsonl");
    {
        let mut f = std::io::BufWriter::new(std::fs::File::create(&input).unwrap());
        let mut size = 0;
        let mut i = 0u64;
        while size < 120 << 20 {
            // New ids so that none is dropped as a duplicate.
            let line = statuses[i as usize % statuses.len()].replacen(
                "\"id_str\":\"",
                &format!("\"id_str\":\"9{i:012}"),
                1,
            );
            writeln!(f, "{line}").unwrap();
            size += line.len() + 1;
            i += 1;
        }
    }
    let mut child = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .args(["--from", "file:big.jsonl", "--to", "file:/dev/null"])
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut peak_kb = 0u64;
    while child.try_wait().unwrap().is_none() {
        if let Ok(text) = std::fs::read_to_string(format!("/proc/{}/status", child.id())) {
            for line in text.lines().filter(|l| l.starts_with("VmHWM:")) {
                let kb: u64 = line.split_whitespace().nth(1).unwrap().parse().unwrap();
                peak_kb = peak_kb.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(child.wait().unwrap().success());
    assert!(peak_kb > 0, "the peak was read");
    assert!(peak_kb < 60 * 1024, "peak {peak_kb} kB for a 120 MB file");
}

/// The sample's statuses as v2 filtered-stream messages (`data`, `includes`, `matching_rules`).
fn v2_sample() -> Vec<String> {
    let (statuses, _) = sample();
    statuses
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let v: serde_json::Value = serde_json::from_str(s).unwrap();
            serde_json::json!({
                "data": {
                    "id": v["id_str"],
                    "text": v["text"],
                    "created_at": format!("2017-02-16T22:{:02}:{:02}.000Z", i / 60, i % 60),
                    "author_id": "9",
                },
                "includes": {"users": [{"id": "9", "username": v["user"]["screen_name"]}]},
                "matching_rules": [{"id": "200", "tag": "dw"}],
            })
            .to_string()
        })
        .collect()
}

/// A v2 stand-in: the rules endpoint (one stale rule to delete) and the stream, whose
/// connections go through the faults of the v1 test: a drop mid-message, 503, 429, replayed
/// tweets then a stall, and the rest with keep-alives.
fn serve_v2(tweets: Vec<String>, refuse: bool) -> Server {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let requests = Arc::new(Mutex::new(Vec::new()));
    let seen = requests.clone();
    std::thread::spawn(move || {
        let mut connection = 0;
        for conn in listener.incoming() {
            let Ok(mut s) = conn else { continue };
            let request = read_request(&mut s);
            let line = request.0.clone();
            seen.lock().unwrap().push(request);
            if line.contains("/rules") {
                let body = if line.starts_with("GET") {
                    r#"{"data":[{"id":"100","value":"stale rule"}]}"#
                } else {
                    r#"{"meta":{"summary":{}}}"#
                };
                let _ = write!(
                    s,
                    "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                    body.len()
                );
                continue;
            }
            let n = connection;
            connection += 1;
            let lines = |s: &mut TcpStream, range: std::ops::Range<usize>| -> std::io::Result<()> {
                for t in &tweets[range] {
                    chunk(s, format!("{t}\r\n").as_bytes())?;
                }
                Ok(())
            };
            if refuse {
                status(&mut s, 401, "Unauthorized");
                continue;
            }
            let _ = match n {
                0 => (|| {
                    start_200(&mut s);
                    lines(&mut s, 0..20)?;
                    chunk(&mut s, b"\r\n")?;
                    let half = tweets[20].as_bytes();
                    chunk(&mut s, &half[..half.len() / 2])?;
                    s.shutdown(std::net::Shutdown::Both)
                })(),
                1 => {
                    status(&mut s, 503, "Service Unavailable");
                    Ok(())
                }
                2 => {
                    status(&mut s, 429, "Too Many Requests");
                    Ok(())
                }
                3 => (|| {
                    start_200(&mut s);
                    lines(&mut s, 15..40)?;
                    std::thread::sleep(Duration::from_millis(1500));
                    s.shutdown(std::net::Shutdown::Both)
                })(),
                _ => (|| {
                    start_200(&mut s);
                    lines(&mut s, 38..60)?;
                    for _ in 0..600 {
                        chunk(&mut s, b"\r\n")?;
                        std::thread::sleep(Duration::from_millis(50));
                    }
                    Ok(())
                })(),
            };
        }
    });
    Server { port, requests }
}

fn ingest_v2(port: u16, out: &Path, dir: &Path) -> Child {
    let base = format!("http://127.0.0.1:{port}/2/tweets/search/stream");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dw-ingest"));
    cmd.current_dir(dir)
        .args([
            "--from",
            "twitter-v2",
            "--track",
            "trump,Donald Trump",
            "--to",
        ])
        .arg(format!("file:{}", out.display()))
        .args([
            "--time-scale",
            "0.001",
            "--status",
            "status.json",
            "--status-secs",
            "0",
        ])
        .args([
            "--stream-url",
            &base,
            "--rules-url",
            &format!("{base}/rules"),
        ])
        .env("TWITTER_BEARER_TOKEN", "bearer-token-for-tests")
        .stderr(Stdio::piped());
    cmd.spawn().unwrap()
}

#[test]
fn the_v2_stream_through_the_same_faults_loses_and_duplicates_nothing() {
    let tweets = v2_sample();
    let server = serve_v2(tweets.clone(), false);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jsonl");
    let child = ingest_v2(server.port, &out, dir.path());
    let v2_id = |l: &str| {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        v["data"]["id"].as_str().unwrap().to_string()
    };
    let want: Vec<String> = tweets[..60].iter().map(|t| v2_id(t)).collect();
    let start = Instant::now();
    while start.elapsed() < Duration::from_mins(1)
        && std::fs::read_to_string(&out)
            .unwrap_or_default()
            .lines()
            .count()
            < want.len()
    {
        std::thread::sleep(Duration::from_millis(100));
    }
    sigterm(&child);
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{log}");
    let got: Vec<String> = std::fs::read_to_string(&out)
        .unwrap()
        .lines()
        .map(v2_id)
        .collect();
    assert_eq!(got, want, "every tweet exactly once, in order\n{log}");

    let waits: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("reconnecting in ").nth(1))
        .collect();
    assert!(waits.len() >= 4, "{log}");
    assert!(waits[0].starts_with("250ms (the stream"), "{}", waits[0]);
    assert_eq!(waits[1], "5s (HTTP 503)");
    assert_eq!(waits[2], "60s (HTTP 429)");
    assert_eq!(waits[3], "250ms (no data for 90s: stalled)");
    let status: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("status.json")).unwrap())
            .unwrap();
    assert_eq!(status["counts"]["written"], 60);
    assert_eq!(
        status["counts"]["duplicates"], 7,
        "15..20 again, then 38..40"
    );

    // The rules: the stale one deleted, the terms added as one rule, with the bearer token.
    let requests = server.requests.lock().unwrap();
    let rules: Vec<(&str, &str)> = requests
        .iter()
        .filter(|(line, _, _)| line.contains("/rules"))
        .map(|(line, _, body)| (line.split(' ').next().unwrap(), body.as_str()))
        .collect();
    assert_eq!(rules[0], ("GET", ""));
    assert_eq!(rules[1], ("POST", r#"{"delete":{"ids":["100"]}}"#));
    assert_eq!(
        rules[2],
        (
            "POST",
            r#"{"add":[{"tag":"dw","value":"trump OR \"Donald Trump\""}]}"#
        )
    );
    let (_, headers, _) = requests
        .iter()
        .find(|(l, _, _)| !l.contains("/rules"))
        .unwrap();
    assert_eq!(headers["authorization"], "Bearer bearer-token-for-tests");
    assert!(!log.contains("bearer-token-for-tests"), "{log}");
}

#[test]
fn the_v2_stream_refusing_the_token_stops_with_a_clear_message() {
    let server = serve_v2(v2_sample(), true);
    let dir = tempfile::tempdir().unwrap();
    assert_refused(ingest_v2(server.port, &dir.path().join("out"), dir.path()));
}

/// No broker at all: the records are given up on, the run fails, and the summary says none was
/// written (it used to count them as written when they were only queued).
#[test]
fn records_the_broker_never_acknowledged_are_not_written() {
    let (statuses, _) = sample();
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("in.jsonl"), statuses[..5].join("\n") + "\n").unwrap();
    let port = TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let out = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .args(["--from", "file:in.jsonl", "--to"])
        .arg(format!("kafka://127.0.0.1:{port}/tweets"))
        .args(["--kafka-option", "message.timeout.ms=500"])
        .output()
        .unwrap();
    let log = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{log}");
    assert!(log.contains("\"written\":0"), "{log}");
    assert!(log.contains("\"undelivered\":5"), "{log}");
}

/// A v2 rules endpoint that accepts and never answers: dw-ingest waits (within its setup
/// limit), and SIGTERM still ends it within a second.
#[test]
fn sigterm_ends_ingest_while_the_v2_rules_endpoint_hangs() {
    let port = stub(|_| std::thread::sleep(Duration::from_mins(10)));
    let dir = tempfile::tempdir().unwrap();
    let child = ingest_v2(port, &dir.path().join("out"), dir.path());
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(state(dir.path()).as_deref(), Some("starting"));
    sigterm(&child);
    let asked = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A paced archive replay waiting an hour for its next tweet still stops at SIGTERM at once,
/// having written what came before.
#[test]
fn sigterm_ends_a_paced_replay_during_a_long_gap() {
    let (statuses, _) = sample();
    let dir = tempfile::tempdir().unwrap();
    let at = |s: &str, ms: i64| {
        let mut v: serde_json::Value = serde_json::from_str(s).unwrap();
        v["timestamp_ms"] = ms.to_string().into();
        v.to_string()
    };
    let lines = [at(&statuses[0], 0), at(&statuses[1], 3_600_000)];
    std::fs::write(dir.path().join("in.jsonl"), lines.join("\n") + "\n").unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .args([
            "--from",
            "file:in.jsonl",
            "--to",
            "file:out.jsonl",
            "--pace",
            "1x",
        ])
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(Duration::from_millis(1500));
    sigterm(&child);
    let asked = Instant::now();
    let output = child.wait_with_output().unwrap();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}",
        asked.elapsed()
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let written = std::fs::read_to_string(dir.path().join("out.jsonl")).unwrap();
    assert_eq!(
        written.lines().count(),
        1,
        "the first tweet, not the second"
    );
}
