//! dw-score's windows on a small fixture, checked against a hand computation, and its handling of
//! lines that are not tweets.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario, top to bottom; the 100-line limit is for the code"
)]

use std::path::Path;
use std::process::Command;

use serde_json::Value;

fn status(id: &str, at: &str, text: &str) -> String {
    let ms = at.parse::<jiff::Timestamp>().unwrap().as_millisecond();
    serde_json::json!({"id_str": id, "text": text, "timestamp_ms": ms.to_string(), "user": {"screen_name": format!("user{id}")}})
        .to_string()
}

fn run_score(dir: &Path, input: &str, extra: &[&str]) -> (Vec<Value>, String) {
    std::fs::write(dir.join("in.jsonl"), input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .current_dir(dir)
        .args([
            "--from",
            "file:in.jsonl",
            "--to",
            "file:out.jsonl",
            "--debate",
            "2015-08-06",
            "--candidate",
            "trump=Trump,Donald Trump,@realDonaldTrump",
            "--candidate",
            "bush=Jeb,Jeb Bush,@JebBush",
        ])
        .args(extra)
        .output()
        .expect("dw-score runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "{stderr}");
    let windows = std::fs::read_to_string(dir.join("out.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    (windows, stderr)
}

fn close(v: &Value, want: f64) {
    let got = v.as_f64().unwrap_or_else(|| panic!("{v} is a number"));
    assert!((got - want).abs() < 1e-9, "{got} != {want}");
}

/// Happiness (LabMT 1.0, lens 4..6 drops the rest): great 7.88, win 8.12, hate 2.34, war 1.8,
/// sad 2.38, love 8.42, laughter 8.50, terrible 2.84.
#[test]
fn windows_match_a_hand_computation() {
    let dir = tempfile::tempdir().unwrap();
    let input = [
        status("1", "2015-08-07T01:00:05Z", "Trump is great, great win"), // 7.88 7.88 8.12
        status("2", "2015-08-07T01:00:40Z", "I hate this war, @JebBush"), // 2.34 1.8
        status("3", "2015-08-07T01:00:50Z", "Trump and Jeb: sad"),        // 2.38
        status(
            "4",
            "2015-08-07T01:01:10Z",
            "love and laughter for Jeb Bush",
        ), // 8.42 8.50
        status("2", "2015-08-07T01:00:40Z", "I hate this war, @JebBush"), // same id: once
        r#"{"delete":{"status":{"id":9,"id_str":"9","user_id":1}}}"#.to_string(),
        "{not json".to_string(),
        String::new(),                                          // keep-alive
        status("5", "2015-08-07T01:02:00Z", "the debate"),      // watermark 01:01:30 closes 01:00
        status("6", "2015-08-07T01:00:20Z", "Trump: terrible"), // late for 01:00: a revision
    ]
    .join("\r\n");
    let (w, stderr) = run_score(
        dir.path(),
        &input,
        &[
            "--dead-letter",
            "file:dead.jsonl",
            "--status",
            "status.json",
        ],
    );
    assert_eq!(
        w.len(),
        4,
        "01:00, 01:00 again with tweet 6, 01:01, 01:02: {w:?}"
    );

    let first = &w[0];
    assert_eq!(first["start"], "2015-08-07T01:00:00Z");
    assert_eq!(first["debate"], "2015-08-06");
    assert_eq!(first["length_secs"], 60);
    assert_eq!(first["tweets"], 3);
    assert_eq!(first["late"], 0);
    let trump = &first["candidates"]["trump"];
    assert_eq!(
        (
            trump["tweets"].as_u64(),
            trump["scored_tweets"].as_u64(),
            trump["scored_words"].as_u64()
        ),
        (Some(2), Some(2), Some(4))
    );
    close(&trump["happiness_sum"], 7.88 + 7.88 + 8.12 + 2.38);
    close(&trump["mean"], (7.88 + 7.88 + 8.12 + 2.38) / 4.0);
    assert_eq!(trump["most_positive"]["id"], "1");
    close(&trump["most_positive"]["score"], 7.96);
    assert_eq!(trump["most_positive"]["user"], "user1");
    assert_eq!(trump["most_negative"]["id"], "3");
    let bush = &first["candidates"]["bush"];
    assert_eq!(
        (bush["tweets"].as_u64(), bush["scored_words"].as_u64()),
        (Some(2), Some(3))
    );
    close(&bush["mean"], (2.34 + 1.8 + 2.38) / 3.0);
    assert_eq!(bush["most_positive"]["id"], "3");
    assert_eq!(bush["most_negative"]["id"], "2");
    close(&bush["most_negative"]["score"], 2.07);

    assert_eq!(first["revision"], 0);

    // Tweet 6 came after 01:00 was written: the window is written again, with it.
    let revised = &w[1];
    assert_eq!(revised["start"], "2015-08-07T01:00:00Z");
    assert_eq!(
        (revised["revision"].as_u64(), revised["late"].as_u64()),
        (Some(1), Some(1))
    );
    assert_eq!(revised["tweets"], 4);
    let trump = &revised["candidates"]["trump"];
    assert_eq!(
        (trump["tweets"].as_u64(), trump["scored_words"].as_u64()),
        (Some(3), Some(5))
    );
    close(&trump["happiness_sum"], 7.88 + 7.88 + 8.12 + 2.38 + 2.84);
    assert_eq!(
        trump["most_negative"]["id"], "3",
        "2.38 is still below 2.84"
    );
    assert_eq!(revised["candidates"]["bush"], first["candidates"]["bush"]);

    let second = &w[2];
    assert_eq!(second["start"], "2015-08-07T01:01:00Z");
    assert_eq!(second["tweets"], 1);
    assert_eq!(second["late"], 0);
    close(&second["candidates"]["bush"]["mean"], 8.46);
    assert_eq!(second["candidates"]["trump"]["tweets"], 0);
    assert_eq!(second["candidates"]["trump"]["mean"], Value::Null);

    assert_eq!(w[3]["start"], "2015-08-07T01:02:00Z");
    assert_eq!(w[3]["tweets"], 1);

    let dead = std::fs::read_to_string(dir.path().join("dead.jsonl")).unwrap();
    assert_eq!(dead.lines().count(), 1);
    assert!(dead.contains("{not json"));
    let status: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("status.json")).unwrap())
            .unwrap();
    assert_eq!(status["job"], "score");
    assert_eq!(status["state"], "stopped");
    assert_eq!(status["counts"]["tweets"], 7);
    assert_eq!(status["counts"]["deletes"], 1);
    assert_eq!(status["counts"]["malformed"], 1);
    assert_eq!(status["counts"]["keep_alives"], 1);
    assert_eq!(status["counts"]["windows"], 3);
    assert_eq!(status["counts"]["revisions"], 1);
    assert_eq!(status["counts"]["late"], 1);
    assert!(stderr.contains("done:"), "{stderr}");
}

#[test]
fn bad_lines_are_counted_and_skipped_never_a_panic() {
    let dir = tempfile::tempdir().unwrap();
    let mut input = Vec::new();
    input.extend_from_slice(b"\xff\xfe not utf-8\n");
    input.extend_from_slice(format!("{{\"text\": \"{}\"}}\n", "a".repeat(2 << 20)).as_bytes());
    input.extend_from_slice(b"{\"id_str\": \"1\", \"text\": \"no time\"}\n");
    input.extend_from_slice(b"[1, 2, 3]\n");
    input.extend_from_slice(status("7", "2015-08-07T01:00:05Z", "Trump: great").as_bytes());
    std::fs::write(dir.path().join("in.jsonl"), &input).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .current_dir(dir.path())
        .args([
            "--from",
            "file:in.jsonl",
            "--to",
            "file:out.jsonl",
            "--debate",
            "d",
            "--candidate",
            "trump=Trump",
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
    let status: Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("s.json")).unwrap()).unwrap();
    assert_eq!(status["counts"]["malformed"], 4);
    assert_eq!(status["counts"]["tweets"], 1);
}

#[test]
fn partial_windows_merge_into_the_single_scorer_result() {
    let dir = tempfile::tempdir().unwrap();
    let tweets: Vec<String> = (0..40)
        .map(|i| {
            let text = [
                "Trump is great",
                "Jeb: sad war",
                "Trump and Jeb, love",
                "hate it",
            ][i % 4];
            status(
                &format!("{}", 1000 + i),
                &format!("2015-08-07T01:0{}:{:02}Z", i / 20, (i * 3) % 60),
                text,
            )
        })
        .collect();
    let (whole, _) = run_score(dir.path(), &tweets.join("\n"), &["--lateness-secs", "600"]);
    // Split the input the way a consumer group splits partitions; score each part as a member.
    let mut parts = Vec::new();
    for m in 0..3 {
        let part: Vec<&String> = tweets.iter().skip(m).step_by(3).collect();
        let sub = dir.path().join(format!("m{m}"));
        std::fs::create_dir(&sub).unwrap();
        let joined: Vec<String> = part.into_iter().cloned().collect();
        run_score(
            &sub,
            &joined.join("\n"),
            &["--lateness-secs", "600", "--member", &format!("m{m}")],
        );
        parts.push(format!("file:{}", sub.join("out.jsonl").display()));
    }
    let mut merge = Command::new(env!("CARGO_BIN_EXE_dw-score"));
    merge.arg("merge");
    for p in &parts {
        merge.args(["--from", p]);
    }
    let out = merge.args(["--to", "-"]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let merged: Vec<Value> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(merged.len(), whole.len());
    for (m, w) in merged.iter().zip(&whole) {
        assert_eq!(m["start"], w["start"]);
        assert_eq!(m["tweets"], w["tweets"]);
        for c in ["trump", "bush"] {
            let (a, b) = (&m["candidates"][c], &w["candidates"][c]);
            for k in [
                "tweets",
                "scored_tweets",
                "scored_words",
                "most_positive",
                "most_negative",
            ] {
                assert_eq!(a[k], b[k], "{c} {k}");
            }
            close(&a["happiness_sum"], b["happiness_sum"].as_f64().unwrap());
        }
        assert!(m.get("member").is_none());
    }
}

/// A part whose writer was SIGKILLed mid-write ends in half a line: the merge drops that line
/// and says so (what it held was never committed: a survivor reads it again); the same damage
/// anywhere but at the end is an error that names the line.
#[test]
fn a_torn_last_line_of_a_part_is_dropped_with_a_warning_elsewhere_it_is_an_error() {
    let dir = tempfile::tempdir().unwrap();
    let tweets: Vec<String> = (0..60)
        .map(|i| {
            status(
                &format!("{}", 2000 + i),
                &format!("2015-08-07T01:0{}:{:02}Z", i / 10, (i * 7) % 60),
                ["Trump is great", "Jeb is sad", "Trump and Jeb"][i % 3],
            )
        })
        .collect();
    for m in ["a", "b"] {
        let sub = dir.path().join(m);
        std::fs::create_dir(&sub).unwrap();
        run_score(&sub, &tweets.join("\n"), &["--member", m]);
    }
    let part_b = dir.path().join("b/out.jsonl");
    let whole_b = std::fs::read_to_string(&part_b).unwrap();
    let lines_b = whole_b.lines().count();
    let merge = |b: &str| {
        std::fs::write(&part_b, b).unwrap();
        Command::new(env!("CARGO_BIN_EXE_dw-score"))
            .arg("merge")
            .arg("--from")
            .arg(format!("file:{}", dir.path().join("a/out.jsonl").display()))
            .arg("--from")
            .arg(format!("file:{}", part_b.display()))
            .args(["--to", "-"])
            .output()
            .unwrap()
    };
    // Whole, then its last line cut in the middle of a string.
    let whole = merge(&whole_b);
    assert!(whole.status.success());
    let last = whole_b.trim_end().rsplit('\n').next().unwrap();
    let torn = format!(
        "{}{}",
        &whole_b[..whole_b.len() - last.len() - 1],
        &last[..last.len() / 2]
    );
    let out = merge(&torn);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(&format!(
            "out.jsonl:{lines_b}: the last line is cut short (its writer died mid-write): dropped 1 line, {} bytes",
            last.len() / 2
        )),
        "{err}"
    );
    let merged = |o: &std::process::Output| -> Vec<Value> {
        String::from_utf8_lossy(&o.stdout)
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    };
    // The dropped window is b's last: the merge counts a's copy of it only.
    let (with, without) = (merged(&whole), merged(&out));
    assert_eq!(with.len(), without.len());
    let dropped: Value = serde_json::from_str(last).unwrap();
    for (w, o) in with.iter().zip(&without) {
        let lost = if w["start"] == dropped["start"] {
            dropped["tweets"].as_u64().unwrap()
        } else {
            0
        };
        assert_eq!(
            w["tweets"].as_u64().unwrap() - lost,
            o["tweets"].as_u64().unwrap()
        );
    }
    // The same cut in the middle of the file: an error at that line.
    let lines: Vec<&str> = whole_b.lines().collect();
    let mut damaged = lines.clone();
    let half = &lines[1][..lines[1].len() / 2];
    damaged[1] = half;
    let out = merge(&(damaged.join("\n") + "\n"));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("out.jsonl:2: not a window: "), "{err}");
}

/// The S3 sink (moto): one object per window under `<prefix>/<debate>/windows/`, and an index.
#[test]
fn windows_go_to_s3_one_object_each_with_an_index() {
    let Some(moto) = dw_pipeline::testkit::moto() else {
        return;
    };
    let bucket = dw_pipeline::testkit::unique("dw-windows").to_lowercase();
    dw_pipeline::testkit::s3_put(&moto, &format!("/{bucket}"), b"");
    let dir = tempfile::tempdir().unwrap();
    let input = [
        status("1", "2015-08-07T01:00:05Z", "Trump is great, great win"),
        status("2", "2015-08-07T01:01:40Z", "I hate this war, @JebBush"),
        status("3", "2015-08-07T01:03:50Z", "Trump and Jeb: sad"),
    ]
    .join("\n");
    std::fs::write(dir.path().join("in.jsonl"), input).unwrap();
    let aws = |cmd: &mut Command| {
        cmd.env("AWS_ENDPOINT_URL", &moto)
            .env("AWS_ACCESS_KEY_ID", "testing")
            .env("AWS_SECRET_ACCESS_KEY", "testing")
            .env("AWS_REGION", "us-east-1")
            .env("AWS_EC2_METADATA_DISABLED", "true");
    };
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dw-score"));
    cmd.current_dir(dir.path()).args([
        "--from",
        "file:in.jsonl",
        "--to",
        &format!("s3://{bucket}/dw/results"),
        "--debate",
        "2015-08-06",
        "--candidate",
        "trump=Trump",
        "--candidate",
        "bush=Jeb,@JebBush",
    ]);
    aws(&mut cmd);
    let out = cmd.output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let s3 = rt.block_on(async {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(&moto)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        )
    });
    let get = |key: &str| -> Value {
        let bytes = rt.block_on(async {
            let o = s3
                .get_object()
                .bucket(&bucket)
                .key(key)
                .send()
                .await
                .unwrap_or_else(|e| panic!("{key}: {e:?}"));
            o.body.collect().await.unwrap().into_bytes()
        });
        serde_json::from_slice(&bytes).unwrap()
    };
    for (start, tweets) in [
        ("2015-08-07T01:00:00Z", 1),
        ("2015-08-07T01:01:00Z", 1),
        ("2015-08-07T01:03:00Z", 1),
    ] {
        let w = get(&format!("dw/results/2015-08-06/windows/{start}.json"));
        assert_eq!(
            (w["start"].as_str(), w["tweets"].as_u64()),
            (Some(start), Some(tweets))
        );
    }
    let latest = get("dw/results/2015-08-06/latest.json");
    assert_eq!(latest["closed_until"], "2015-08-07T01:04:00Z");
    assert_eq!(latest["windows_written"], 3);
    assert_eq!(
        latest["last_window"],
        "dw/results/2015-08-06/windows/2015-08-07T01:03:00Z.json"
    );
}

/// A window of zero seconds is refused (it used to be taken as one second, silently).
#[test]
fn a_zero_window_is_refused() {
    let out = Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .args(["--from", "-", "--debate", "d", "--window-secs", "0"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("invalid value '0' for '--window-secs"),
        "{err}"
    );
}
