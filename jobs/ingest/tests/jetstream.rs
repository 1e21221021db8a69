//! dw-ingest against the Jetstream stand-in (`tests/harness/jetstream`) serving a synthetic
//! session of thousands of posts shaped like Jetstream's: every post create reaches the sink
//! exactly once as a post record, and nothing else does, through a dropped connection and its
//! resume (with the 5 s overlap), a stall, a bad frame, a failing instance, compressed or not;
//! SIGTERM ends it within a second, connected or waiting. Waits run on a scaled clock.

use std::collections::{HashMap, HashSet};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use dw_jetstream_standin::{Fault, Options, Standin, synth};

fn session(posts: usize) -> Vec<String> {
    synth::session(&synth::Spec {
        posts,
        ..synth::Spec::default()
    })
}

fn faults(list: &[(usize, Fault)]) -> Options {
    let mut faults: HashMap<usize, Vec<Fault>> = HashMap::new();
    for (n, f) in list {
        faults.entry(*n).or_default().push(*f);
    }
    Options { faults, pace: None }
}

fn ingest(from: &str, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(out.parent().unwrap())
        .args(["--from", from, "--to"])
        .arg(format!("file:{}", out.display()))
        .args([
            "--time-scale",
            "0.01",
            "--status",
            "status.json",
            "--status-secs",
            "0",
        ])
        // No stall while a test waits on a quiet stream (the stall test sets its own).
        .args(["--stall-secs", "3000"])
        .args(extra)
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

/// The ids written (post records' `post.id`), in order.
fn written(out: &Path) -> Vec<String> {
    std::fs::read_to_string(out)
        .unwrap_or_default()
        .lines()
        .map(|l| {
            let v: serde_json::Value = serde_json::from_str(l).unwrap();
            v["post"]["id"].as_str().unwrap_or_default().to_string()
        })
        .collect()
}

/// Waits until `n` lines are written (or a minute passed), then SIGTERM; the process must end
/// within a second, successfully.
fn stop_after(child: Child, out: &Path, n: usize) -> (Output, String) {
    let start = Instant::now();
    while written(out).len() < n && start.elapsed() < Duration::from_mins(1) {
        std::thread::sleep(Duration::from_millis(50));
    }
    sigterm(&child);
    let asked = Instant::now();
    let output = child.wait_with_output().unwrap();
    let log = String::from_utf8_lossy(&output.stderr).to_string();
    assert!(
        asked.elapsed() < Duration::from_secs(1),
        "{:?}\n{log}",
        asked.elapsed()
    );
    assert!(output.status.success(), "{log}");
    (output, log)
}

fn status(out: &Path) -> serde_json::Value {
    let path = out.parent().unwrap().join("status.json");
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn assert_each_once(got: &[String], want: &[String], log: &str) {
    let unique: HashSet<&String> = got.iter().collect();
    assert_eq!(unique.len(), got.len(), "a post written twice\n{log}");
    let first_difference = got.iter().zip(want).position(|(g, w)| g != w);
    assert!(
        got.len() == want.len() && first_difference.is_none(),
        "every post create once, in order: {} written, {} wanted, first difference at {first_difference:?}\n{log}",
        got.len(),
        want.len()
    );
}

#[test]
fn a_dropped_connection_resumes_5s_back_and_writes_each_post_once() {
    let lines = session(3000);
    let want = synth::post_ids(&lines, None);
    let standin = Standin::start(&lines, 0, faults(&[(0, Fault::DropAfter(1500))])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let child = ingest(&standin.endpoint(), &out, &[]);
    let (_, log) = stop_after(child, &out, want.len());
    assert_each_once(&written(&out), &want, &log);

    let c = standin.connections();
    assert_eq!(c.len(), 2, "{c:?}");
    assert_eq!((c[0].cursor, c[0].compress), (None, true));
    assert_eq!(c[0].wanted, ["app.bsky.feed.post"]);
    assert_eq!(c[0].sent, 1500);
    let last = c[0].last_time_us.unwrap();
    assert_eq!(
        c[1].cursor,
        Some(last - 5_000_000),
        "resumed 5 s before the newest event"
    );

    // The overlap was read again and dropped by id; what is not a post create was counted.
    let s = status(&out);
    let counts = &s["counts"];
    let overlap = lines
        .iter()
        .filter(|l| {
            let t = dw_pipeline::bluesky::parse_event(l.as_bytes()).unwrap().0;
            (last - 5_000_000..=last).contains(&t)
                && matches!(
                    dw_pipeline::bluesky::parse_event(l.as_bytes()).unwrap().1,
                    dw_pipeline::bluesky::Event::Post(_)
                )
        })
        .count();
    assert_eq!(counts["duplicates"], overlap as u64, "{s}");
    assert_eq!(counts["written"], want.len() as u64);
    assert!(counts["identity"].as_u64().unwrap() > 0 && counts["deletes"].as_u64().unwrap() > 0);
    assert_eq!(counts["malformed"], 0);
    assert_eq!(s["state"], "stopped");
    assert!(s["cursor_us"].as_i64().is_some(), "{s}");
    assert!(log.contains("reconnecting in 250ms"), "{log}");
    // The log's last line says what was passed over.
    let done = log.lines().rev().find(|l| l.contains("done: ")).unwrap();
    for key in [
        "\"identity\":",
        "\"account\":",
        "\"deletes\":",
        "\"duplicates\":",
    ] {
        assert!(done.contains(key), "{done}");
    }
}

#[test]
fn compressed_and_uncompressed_sessions_yield_the_same_posts() {
    let lines = session(1200);
    let standin = Standin::start(&lines, 0, Options::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let want = synth::post_ids(&lines, None);
    let mut files = Vec::new();
    for (name, extra) in [
        ("z.jsonl", &[][..]),
        ("plain.jsonl", &["--uncompressed"][..]),
    ] {
        let out = dir.path().join(name);
        let child = ingest(&standin.endpoint(), &out, extra);
        let (_, log) = stop_after(child, &out, want.len());
        assert_each_once(&written(&out), &want, &log);
        files.push(std::fs::read_to_string(&out).unwrap());
    }
    assert_eq!(files[0], files[1]);
    let c = standin.connections();
    assert_eq!((c[0].compress, c[1].compress), (true, false));
    // Each line is a post record that the scorer reads as it reads a tweet.
    let first = files[0].lines().next().unwrap();
    let Ok(dw_pipeline::tweet::Message::Tweet(t)) = dw_pipeline::tweet::parse(first) else {
        panic!("{first}")
    };
    assert!(t.id.starts_with("at://did:plc:"), "{first}");
    let v: serde_json::Value = serde_json::from_str(first).unwrap();
    assert!(
        v["post"]["url"]
            .as_str()
            .unwrap()
            .starts_with("https://bsky.app/profile/did:plc:")
    );
    assert_eq!(v["post"]["source"], "bluesky");
}

#[test]
fn a_stalled_connection_is_dropped_and_resumed() {
    let lines = session(2000);
    let want = synth::post_ids(&lines, None);
    let standin = Standin::start(&lines, 0, faults(&[(0, Fault::StallAfter(700))])).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    // 60 s on a 0.01 clock: 0.6 s without a message is a stall.
    let child = ingest(&standin.endpoint(), &out, &["--stall-secs", "60"]);
    let (_, log) = stop_after(child, &out, want.len());
    assert_each_once(&written(&out), &want, &log);
    assert!(log.contains("no message for 60s: stalled"), "{log}");
    let c = standin.connections();
    assert_eq!(c[1].cursor, Some(c[0].last_time_us.unwrap() - 5_000_000));
}

#[test]
fn a_bad_frame_is_counted_and_skipped_and_the_connection_goes_on() {
    let lines = session(800);
    let want = synth::post_ids(&lines, None);
    for extra in [&[][..], &["--uncompressed"][..]] {
        let standin = Standin::start(&lines, 0, faults(&[(0, Fault::BadFrameAt(100))])).unwrap();
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("posts.jsonl");
        let mut args = vec!["--dead-letter", "file:dead.jsonl"];
        args.extend_from_slice(extra);
        let child = ingest(&standin.endpoint(), &out, &args);
        let (_, log) = stop_after(child, &out, want.len());
        assert_each_once(&written(&out), &want, &log);
        assert_eq!(standin.connections().len(), 1, "no reconnect\n{log}");
        let s = status(&out);
        assert_eq!(s["counts"]["malformed"], 1, "{s}");
        assert_eq!(s["counts"]["reconnects"], 0);
        let dead = std::fs::read_to_string(dir.path().join("dead.jsonl")).unwrap();
        assert_eq!(dead.lines().count(), 1, "{dead}");
    }
}

#[test]
fn an_instance_that_keeps_failing_is_left_for_the_next() {
    let lines = session(600);
    let want = synth::post_ids(&lines, None);
    let refusing: Vec<(usize, Fault)> = (0..50).map(|n| (n, Fault::Refuse(503))).collect();
    let bad = Standin::start(&lines, 0, faults(&refusing)).unwrap();
    let good = Standin::start(&lines, 0, Options::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let from = format!("{},{}", bad.endpoint(), good.endpoint());
    let child = ingest(&from, &out, &[]);
    let (_, log) = stop_after(child, &out, want.len());
    assert_each_once(&written(&out), &want, &log);
    assert_eq!(
        bad.connections().len(),
        2,
        "two failures, then the next instance\n{log}"
    );
    assert!(bad.connections().iter().all(|c| c.refused == Some(503)));
    assert_eq!(good.connections().len(), 1);
    let waits: Vec<&str> = log
        .lines()
        .filter_map(|l| l.split("reconnecting in ").nth(1))
        .collect();
    assert!(waits[0].starts_with("5s (HTTP 503"), "{waits:?}");
    assert!(waits[1].starts_with("10s (HTTP 503"), "{waits:?}");
    assert!(log.contains("keeps failing: trying ws://"), "{log}");
}

#[test]
fn language_since_and_track_filter_the_posts() {
    let lines = session(1500);
    let standin = Standin::start(&lines, 0, Options::default()).unwrap();
    let dir = tempfile::tempdir().unwrap();

    // --lang en: only posts that declare English (en, en-US, de+en).
    let out = dir.path().join("en.jsonl");
    let want = synth::post_ids(&lines, Some("en"));
    let child = ingest(&standin.endpoint(), &out, &["--lang", "en"]);
    let (_, log) = stop_after(child, &out, want.len());
    assert_each_once(&written(&out), &want, &log);
    let s = status(&out);
    assert_eq!(
        s["counts"]["other_language"].as_u64().unwrap() as usize,
        synth::post_ids(&lines, None).len() - want.len()
    );

    // --since: the first connection starts from that time.
    let since_us = dw_pipeline::bluesky::parse_event(lines[700].as_bytes())
        .unwrap()
        .0;
    let since = jiff::Timestamp::from_microsecond(since_us)
        .unwrap()
        .to_string();
    let out = dir.path().join("since.jsonl");
    let want: Vec<String> = synth::post_ids(&lines[700..], None);
    let child = ingest(&standin.endpoint(), &out, &["--since", &since]);
    let (_, log) = stop_after(child, &out, want.len());
    assert_each_once(&written(&out), &want, &log);
    assert_eq!(standin.connections()[1].cursor, Some(since_us));

    // --track: only posts that mention a term, on word boundaries as the scorer attributes.
    let out = dir.path().join("track.jsonl");
    let attributor =
        dw_pipeline::attribution::Attributor::new(&["t=Clinton,Sanders".parse().unwrap()]);
    let mut hits = Vec::new();
    let want: Vec<String> = lines
        .iter()
        .filter_map(
            |l| match dw_pipeline::bluesky::parse_event(l.as_bytes()).unwrap().1 {
                dw_pipeline::bluesky::Event::Post(p) => {
                    attributor.candidates(&p.text, &mut hits);
                    (!hits.is_empty()).then(|| dw_pipeline::bluesky::post_uri(&p.did, &p.rkey))
                }
                _ => None,
            },
        )
        .collect();
    assert!(want.len() > 300 && want.len() < 1200, "{}", want.len());
    let child = ingest(&standin.endpoint(), &out, &["--track", "Clinton,Sanders"]);
    let (_, log) = stop_after(child, &out, want.len());
    assert_each_once(&written(&out), &want, &log);
}

#[test]
fn sigterm_ends_it_within_a_second_while_connected_and_while_waiting() {
    let lines = session(400);
    // Connected: the stand-in sends 20 events a second.
    let slow = Standin::start(
        &lines,
        0,
        Options {
            pace: Some(20.0),
            ..Options::default()
        },
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("posts.jsonl");
    let child = ingest(&slow.endpoint(), &out, &[]);
    let (_, log) = stop_after(child, &out, 5);
    assert!(log.contains("connected"), "{log}");
    let got = written(&out);
    assert!(!got.is_empty() && got.len() < 300, "{}", got.len());

    // Waiting: every connection refused, the back-off (real clock) at 5 s and more.
    let refusing: Vec<(usize, Fault)> = (0..10).map(|n| (n, Fault::Refuse(503))).collect();
    let down = Standin::start(&lines, 0, faults(&refusing)).unwrap();
    let out = dir.path().join("none.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .current_dir(dir.path())
        .args(["--from", &down.endpoint(), "--to"])
        .arg(format!("file:{}", out.display()))
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while down.connections().is_empty() && start.elapsed() < Duration::from_secs(30) {
        std::thread::sleep(Duration::from_millis(50));
    }
    std::thread::sleep(Duration::from_millis(500));
    let (_, log) = stop_after(child, &out, 0);
    assert!(log.contains("reconnecting in 5s (HTTP 503"), "{log}");
}

/// A language that is not a tag would filter out every post in silence: it is bad input.
#[test]
fn a_language_that_is_not_a_tag_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_dw-ingest"))
        .args([
            "--from",
            "jetstream+ws://127.0.0.1:9/subscribe",
            "--lang",
            "english!",
        ])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("\"english!\" is not a language: a BCP-47 primary tag such as en or es"),
        "{err}"
    );
}
