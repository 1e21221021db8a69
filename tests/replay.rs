//! `dw replay`: the shipped first-GOP-debate sample scored on this machine, and the same
//! windows as the dw-score job writes from the same archive.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario, top to bottom; the 100-line limit is for the code"
)]

mod common;

use common::{dw, run};
use serde_json::Value;

fn lines(path: &std::path::Path) -> Vec<Value> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn the_shipped_sample_is_replayed_and_summarised() {
    let out = tempfile::tempdir().unwrap();
    let r = run(dw()
        .args([
            "-q",
            "replay",
            "--debate",
            "2015-08-06",
            "--output",
            "json",
            "--out",
        ])
        .arg(out.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["counts"]["tweets"], 2771);
    assert_eq!(s["duplicates_dropped"], 3, "the CSV repeats 3 tweet ids");
    let windows = lines(&out.path().join("2015-08-06/windows.jsonl"));
    assert_eq!(s["windows"].as_u64(), Some(windows.len() as u64));
    // Each candidate's totals are the sums of its windows.
    for c in s["candidates"].as_array().unwrap() {
        let key = c["key"].as_str().unwrap();
        let tweets: u64 = windows
            .iter()
            .map(|w| w["candidates"][key]["tweets"].as_u64().unwrap())
            .sum();
        assert_eq!(c["tweets"].as_u64(), Some(tweets), "{key}");
    }
    let trump = s["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "trump")
        .unwrap();
    assert_eq!(trump["tweets"], 570);
    assert!(trump["lowest_minute"]["mean"].as_f64() < trump["highest_minute"]["mean"].as_f64());
    let summary: Value = serde_json::from_str(
        &std::fs::read_to_string(out.path().join("2015-08-06/summary.json")).unwrap(),
    )
    .unwrap();
    assert_eq!(summary["counts"], s["counts"]);
}

#[test]
fn the_text_summary() {
    let out = tempfile::tempdir().unwrap();
    let r = run(dw()
        .args(["-q", "replay", "--debate", "2015-08-06", "--out"])
        .arg(out.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout.replace(&out.path().display().to_string(), "<out>"));
}

#[test]
fn replay_windows_are_the_scoring_jobs_windows() {
    // dw-score is built beside dw by `cargo test --workspace` (scripts/test).
    let bin = std::path::Path::new(env!("CARGO_BIN_EXE_dw")).with_file_name("dw-score");
    if !bin.exists() {
        assert!(
            std::env::var("DW_REQUIRE_PEERS").is_err(),
            "dw-score is not built beside dw"
        );
        eprintln!("skipped: dw-score not built (cargo build --workspace)");
        return;
    }
    let out = tempfile::tempdir().unwrap();
    let r = run(dw()
        .args(["-q", "replay", "--debate", "2015-08-06", "--out"])
        .arg(out.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let calendar = run(dw().args(["debates", "--debate", "2015-08-06", "--output", "json"]));
    let evening: Value = serde_json::from_str(&calendar.stdout).unwrap();
    let mut cmd = std::process::Command::new(bin);
    cmd.arg("--from")
        .arg(format!(
            "file:{}",
            common::repo()
                .join("data/replay/2015-08-06.jsonl")
                .display()
        ))
        .arg("--to")
        .arg(format!("file:{}", out.path().join("job.jsonl").display()))
        .args(["--debate", "2015-08-06"]);
    let mut seen = std::collections::BTreeSet::new();
    for d in evening[0]["debates"].as_array().unwrap() {
        for c in d["candidates"].as_array().unwrap() {
            let key = c["key"].as_str().unwrap();
            if seen.insert(key.to_string()) {
                let terms: Vec<&str> = c["terms"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|t| t.as_str().unwrap())
                    .collect();
                cmd.arg("--candidate")
                    .arg(format!("{key}={}", terms.join(",")));
            }
        }
    }
    let job = cmd.output().unwrap();
    assert!(
        job.status.success(),
        "{}",
        String::from_utf8_lossy(&job.stderr)
    );
    assert_eq!(
        lines(&out.path().join("2015-08-06/windows.jsonl")),
        lines(&out.path().join("job.jsonl"))
    );
}

/// Lines that are not tweets are counted and said; an input with no tweet says so instead of
/// "0 windows of  to  UTC".
#[test]
fn unreadable_lines_and_an_empty_input_are_said() {
    let dir = tempfile::tempdir().unwrap();
    let sample =
        std::fs::read_to_string(common::repo().join("data/replay/2015-08-06.jsonl")).unwrap();
    let mut text: String = sample.lines().take(20).map(|l| format!("{l}\n")).collect();
    text.push_str("{not json\n[1, 2]\n");
    // Replays `text` from a file; the text summary.
    let replay = |name: &str, text: &str| -> String {
        let input = dir.path().join(format!("{name}.jsonl"));
        std::fs::write(&input, text).unwrap();
        let r = run(dw()
            .args(["-q", "replay", "--debate", "2015-08-06", "--from"])
            .arg(format!("file:{}", input.display()))
            .arg("--out")
            .arg(dir.path().join(name)));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    let stdout = replay("some", &text);
    assert!(
        stdout.contains("\n2 lines could not be read as tweets (not JSON, or not a status)\n"),
        "{stdout}"
    );
    let stdout = replay("empty", "");
    assert!(
        stdout.contains("no window: the input held no tweet"),
        "{stdout}"
    );
    assert!(!stdout.contains("windows of  to"), "{stdout}");
}

/// An archive of several S3 objects, one of them gzip: streamed in key order, every tweet
/// scored once, as from the file.
#[test]
fn an_s3_archive_of_several_objects_is_replayed() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let sample =
        std::fs::read_to_string(common::repo().join("data/replay/2015-08-06.jsonl")).unwrap();
    let lines: Vec<&str> = sample.lines().collect();
    let (first, second) = lines.split_at(1000);
    let bucket = format!("dw-replay-{}", std::process::id());
    common::s3_put(&endpoint, &format!("/{bucket}"), b"");
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/archive/part-0.jsonl"),
        first.join("\n").as_bytes(), // no final line break: the next object must not run into it
    );
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    std::io::Write::write_all(&mut gz, (second.join("\n") + "\n").as_bytes()).unwrap();
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/archive/part-1.jsonl.gz"),
        &gz.finish().unwrap(),
    );
    let out = tempfile::tempdir().unwrap();
    let r = run(common::dw_at(&endpoint)
        .args([
            "-q",
            "replay",
            "--debate",
            "2015-08-06",
            "--output",
            "json",
            "--region",
            "us-east-1",
        ])
        .arg("--from")
        .arg(format!("s3://{bucket}/archive/"))
        .arg("--out")
        .arg(out.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["counts"]["tweets"], 2771, "as from the file");
    assert_eq!(s["counts"]["malformed"], 0);
}

/// The README's example evening past 2016 (the 2024 presidential debate), added to a copy of the
/// shipped calendar beside a copy of the shipped configuration; returns the configuration.
fn calendar_with_2024(dir: &std::path::Path) -> std::path::PathBuf {
    let evening = std::fs::read_to_string(
        common::repo().join("tests/fixtures/calendar/evening-2024-09-10.toml"),
    )
    .unwrap();
    let calendar = std::fs::read_to_string(common::repo().join("configs/debates.toml")).unwrap();
    std::fs::write(dir.join("debates.toml"), calendar + &evening).unwrap();
    let config = dir.join("dw.toml");
    std::fs::copy(common::repo().join("configs/dw.toml"), &config).unwrap();
    config
}

/// A Bluesky session read by dw-ingest from the Jetstream stand-in into a file is an archive
/// that `dw replay` reads as it reads a Twitter one (plain or gzip), with the same windows as
/// the dw-score job writes from it; the standouts are Bluesky posts.
#[test]
fn a_bluesky_archive_is_replayed_like_a_twitter_one() {
    use dw_jetstream_standin::{Options, Standin, synth};
    let bin = |name: &str| std::path::Path::new(env!("CARGO_BIN_EXE_dw")).with_file_name(name);
    if !bin("dw-ingest").exists() || !bin("dw-score").exists() {
        assert!(
            std::env::var("DW_REQUIRE_PEERS").is_err(),
            "dw-ingest and dw-score are not built beside dw"
        );
        eprintln!("skipped: the jobs are not built (cargo build --workspace)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let session = synth::session(&synth::Spec {
        posts: 2500,
        topics: vec!["Harris".into(), "Trump".into(), "Kamala".into()],
        ..synth::Spec::default()
    });
    let posts = synth::post_ids(&session, None).len();
    let standin = Standin::start(&session, 0, Options::default()).unwrap();
    let archive = dir.path().join("bluesky.jsonl");
    let child = std::process::Command::new(bin("dw-ingest"))
        .args(["--from", &standin.endpoint(), "--to"])
        .arg(format!("file:{}", archive.display()))
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = std::time::Instant::now();
    let count = || std::fs::read_to_string(&archive).map_or(0, |t| t.lines().count());
    while count() < posts && start.elapsed() < std::time::Duration::from_mins(1) {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(
        std::process::Command::new("kill")
            .args(["-TERM", &child.id().to_string()])
            .status()
            .unwrap()
            .success()
    );
    let ingest = child.wait_with_output().unwrap();
    assert!(
        ingest.status.success(),
        "{}",
        String::from_utf8_lossy(&ingest.stderr)
    );
    assert_eq!(count(), posts);

    let config = calendar_with_2024(dir.path());
    let out = dir.path().join("out");
    let replay = |from: &std::path::Path| {
        run(dw()
            .arg("--config")
            .arg(&config)
            .args([
                "-q",
                "replay",
                "--debate",
                "2024-09-10",
                "--output",
                "json",
                "--from",
            ])
            .arg(format!("file:{}", from.display()))
            .arg("--out")
            .arg(&out))
    };
    let r = replay(&archive);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(s["counts"]["tweets"], posts as u64, "{s}");
    // The text summary calls them posts.
    let text = run(dw()
        .arg("--config")
        .arg(&config)
        .args(["-q", "replay", "--debate", "2024-09-10", "--from"])
        .arg(format!("file:{}", archive.display()))
        .arg("--out")
        .arg(dir.path().join("text")));
    assert_eq!(text.code, 0, "{}", text.stderr);
    assert!(
        text.stdout
            .starts_with(&format!("debate 2024-09-10: {posts} posts scored (")),
        "{}",
        text.stdout
    );
    let header = text.stdout.lines().find(|l| l.starts_with("candidate"));
    assert_eq!(
        header.and_then(|h| h.split_whitespace().nth(1)),
        Some("posts"),
        "{}",
        text.stdout
    );
    let windows = lines(&out.join("2024-09-10/windows.jsonl"));
    let harris = s["candidates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["key"] == "harris")
        .unwrap();
    assert!(harris["tweets"].as_u64().unwrap() > 500, "{harris}");
    let id = harris["most_positive"]["id"].as_str().unwrap();
    assert!(
        id.starts_with("at://did:plc:") && id.contains("/app.bsky.feed.post/"),
        "{id}"
    );

    // The same archive gzip-compressed: the same windows.
    let gz = dir.path().join("bluesky.jsonl.gz");
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    std::io::Write::write_all(&mut enc, &std::fs::read(&archive).unwrap()).unwrap();
    std::fs::write(&gz, enc.finish().unwrap()).unwrap();
    let r = replay(&gz);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(lines(&out.join("2024-09-10/windows.jsonl")), windows);

    // The dw-score job over the archive writes the same windows.
    let job = std::process::Command::new(bin("dw-score"))
        .arg("--from")
        .arg(format!("file:{}", archive.display()))
        .arg("--to")
        .arg(format!("file:{}", dir.path().join("job.jsonl").display()))
        .args(["--debate", "2024-09-10"])
        .args([
            "--candidate",
            "harris=Kamala Harris,Kamala,Harris,@KamalaHarris",
        ])
        .args([
            "--candidate",
            "trump=Donald Trump,Trump,@realDonaldTrump,#Trump2016,#MakeAmericaGreatAgain",
        ])
        .output()
        .unwrap();
    assert!(
        job.status.success(),
        "{}",
        String::from_utf8_lossy(&job.stderr)
    );
    assert_eq!(windows, lines(&dir.path().join("job.jsonl")));

    // The text summary names Bluesky authors by handle (identity events) or DID.
    let r = run(dw()
        .arg("--config")
        .arg(&config)
        .args(["replay", "--debate", "2024-09-10", "--from"])
        .arg(format!("file:{}", archive.display()))
        .arg("--out")
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains(" @voter") || r.stdout.contains(" did:plc:"),
        "{}",
        r.stdout
    );
}
