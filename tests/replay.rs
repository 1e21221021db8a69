//! `dw replay`: the shipped first-GOP-debate sample scored on this machine, and the same
//! windows as the dw-score job writes from the same archive.

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
