//! `dw report`: the windows `dw replay` wrote for the shipped first-GOP-debate sample, read
//! back: the table, the JSON, the picture, and what happens without windows.

mod common;

use common::{dw, run};
use serde_json::Value;

fn replayed() -> tempfile::TempDir {
    let out = tempfile::tempdir().unwrap();
    let r = run(dw()
        .args(["-q", "replay", "--debate", "2015-08-06", "--out"])
        .arg(out.path()));
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

/// `dw -q report --debate 2015-08-06 --output json --from FROM EXTRA...` on `cmd`, parsed.
fn report_json(mut cmd: std::process::Command, from: &str, extra: &[&str]) -> Value {
    let r = run(cmd
        .args(["-q", "report", "--debate", "2015-08-06", "--output", "json"])
        .args(["--from", from])
        .args(extra));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).unwrap()
}

#[test]
fn the_report_of_a_replayed_debate() {
    let out = replayed();
    let dir = out.path().display().to_string();
    let r = run(dw().args([
        "-q",
        "report",
        "--debate",
        "2015-08-06",
        "--bin",
        "15m",
        "--from",
        &dir,
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout.replace(&dir, "<out>"));

    let report = report_json(dw(), &dir, &[]);
    let trump = &report["candidates"][0];
    assert_eq!(trump["key"], "trump");
    assert_eq!(trump["tweets"], 570);
    // The lowest and highest minutes carry that minute's most negative and most positive
    // tweet, as the scorer wrote them in the window.
    let windows = std::fs::read_to_string(out.path().join("2015-08-06/windows.jsonl")).unwrap();
    let window_at = |start: &Value| -> Value {
        windows
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap())
            .find(|w| &w["start"] == start)
            .unwrap_or_else(|| panic!("a window at {start}"))
    };
    for (extreme, standout) in [("lowest", "most_negative"), ("highest", "most_positive")] {
        let e = &trump[extreme];
        assert!(e["scored_tweets"].as_u64().unwrap() >= 3, "{e}");
        let w = window_at(&e["start"]);
        assert_eq!(e["mean"], w["candidates"]["trump"]["mean"], "{extreme}");
        assert_eq!(e["tweet"], w["candidates"]["trump"][standout], "{extreme}");
    }
    assert!(trump["lowest"]["mean"].as_f64() < trump["highest"]["mean"].as_f64());
}

/// Windows of Bluesky posts (their standouts' ids are AT URIs) are reported as posts, in the
/// table and in the picture's legend; the same windows with tweets' ids say tweets (above).
#[test]
fn bluesky_windows_are_reported_as_posts() {
    let out = replayed();
    let file = out.path().join("2015-08-06/windows.jsonl");
    let bluesky: String = std::fs::read_to_string(&file)
        .unwrap()
        .lines()
        .map(|l| {
            let mut w: Value = serde_json::from_str(l).unwrap();
            for c in w["candidates"].as_object_mut().unwrap().values_mut() {
                for standout in ["most_positive", "most_negative"] {
                    if let Some(id) = c[standout]["id"].as_str().map(str::to_string) {
                        c[standout]["id"] =
                            format!("at://did:plc:abc/app.bsky.feed.post/{id}").into();
                    }
                }
            }
            w.to_string() + "\n"
        })
        .collect();
    std::fs::write(&file, bluesky).unwrap();
    let dir = out.path().display().to_string();
    let svg = out.path().join("bluesky.svg");
    let r = run(dw()
        .args([
            "-q",
            "report",
            "--debate",
            "2015-08-06",
            "--from",
            &dir,
            "--plot",
        ])
        .arg(&svg));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let header = r.stdout.lines().find(|l| l.starts_with("candidate"));
    assert_eq!(
        header.and_then(|h| h.split_whitespace().nth(1)),
        Some("posts"),
        "{}",
        r.stdout
    );
    let picture = std::fs::read_to_string(&svg).unwrap();
    assert!(picture.contains("Donald Trump (570 posts)"), "the legend");
}

/// Minute windows merged into bins are the same sums: the totals do not depend on the bin.
#[test]
fn bins_do_not_change_the_totals() {
    let out = replayed();
    let dir = out.path().display().to_string();
    let totals = |bin: &str| -> Vec<(String, u64, String)> {
        let v = report_json(dw(), &dir, &["--bin", bin]);
        v["candidates"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| {
                (
                    c["key"].as_str().unwrap().to_string(),
                    c["tweets"].as_u64().unwrap(),
                    format!("{:.9}", c["mean"].as_f64().unwrap_or(0.0)),
                )
            })
            .collect()
    };
    assert_eq!(totals("60s"), totals("1h"));
}

#[test]
fn the_picture() {
    let out = replayed();
    let png = out.path().join("report.png");
    let svg = out.path().join("report.svg");
    for path in [&png, &svg] {
        let r = run(dw()
            .args([
                "-q",
                "report",
                "--debate",
                "2015-08-06",
                "--bin",
                "15m",
                "--from",
            ])
            .arg(out.path())
            .arg("--plot")
            .arg(path));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    assert_eq!(&std::fs::read(&png).unwrap()[..4], b"\x89PNG");
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in [
        "Debate 2015-08-06: mean happiness (LabMT) per candidate per 15m",
        "main debate",
        "undercard debate",
        "Donald Trump (570 tweets)",
        "time (UTC)",
    ] {
        assert!(text.contains(label), "{label} in the SVG");
    }
}

#[test]
fn no_windows_says_how_to_get_them() {
    let empty = tempfile::tempdir().unwrap();
    let r = run(dw()
        .args(["report", "--debate", "2015-08-06", "--from"])
        .arg(empty.path()));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr
            .replace(&empty.path().display().to_string(), "<dir>"),
        "error: no windows at <dir>/2015-08-06/windows.jsonl\n\
         hint: score the debate first (dw replay --debate 2015-08-06), or pass --from with the \
         windows' file, directory or s3:// prefix\n"
    );
}

/// The windows as dw-score's S3 sink leaves them (`<prefix>/<debate>/windows/<start>.json`,
/// pretty-printed; two scorers' partial windows as `<start>.<member>.json`) read from the moto
/// harness: the same report as from the file.
#[test]
fn the_report_from_the_scorers_s3_prefix() {
    let Some(endpoint) = common::moto_endpoint() else {
        return;
    };
    let out = replayed();
    let dir = out.path().display().to_string();
    let file = std::fs::read_to_string(out.path().join("2015-08-06/windows.jsonl")).unwrap();
    // A bucket of this run's own: moto refuses an unsigned PUT over an object already there.
    let bucket = &format!("dw-report-test-{}", std::process::id());
    common::s3_put(&endpoint, &format!("/{bucket}"), b"");
    for (i, line) in file.lines().enumerate() {
        let w: Value = serde_json::from_str(line).unwrap();
        let start = w["start"].as_str().unwrap();
        // Every third window as two members' partials: all of it from member a, nothing from b.
        if i % 3 == 0 {
            let mut a = w.clone();
            a["member"] = "a".into();
            let mut b = w.clone();
            b["member"] = "b".into();
            b["tweets"] = 0.into();
            b["late"] = 0.into();
            for (_, c) in b["candidates"].as_object_mut().unwrap() {
                *c = serde_json::json!({
                    "tweets": 0, "scored_tweets": 0, "scored_words": 0, "happiness_sum": 0.0,
                    "mean": null, "most_positive": null, "most_negative": null
                });
            }
            for (m, part) in [("a", a), ("b", b)] {
                common::s3_put(
                    &endpoint,
                    &format!("/{bucket}/results/2015-08-06/windows/{start}.{m}.json"),
                    serde_json::to_string_pretty(&part).unwrap().as_bytes(),
                );
            }
        } else {
            common::s3_put(
                &endpoint,
                &format!("/{bucket}/results/2015-08-06/windows/{start}.json"),
                serde_json::to_string_pretty(&w).unwrap().as_bytes(),
            );
        }
    }
    let comparable = |mut v: Value| {
        v.as_object_mut().unwrap().remove("source");
        v.as_object_mut().unwrap().remove("windows");
        rounded(v)
    };
    let from_s3 = comparable(report_json(
        common::dw_at(&endpoint),
        &format!("s3://{bucket}/results"),
        &[],
    ));
    let from_file = comparable(report_json(dw(), &dir, &[]));
    assert_eq!(from_s3, from_file);
}

/// Floats to 9 decimals: a mean recomputed from merged sums may differ in the last bit.
fn rounded(v: Value) -> Value {
    match v {
        Value::Number(n) if n.is_f64() => {
            serde_json::json!((n.as_f64().unwrap() * 1e9).round() / 1e9)
        }
        Value::Array(a) => Value::Array(a.into_iter().map(rounded).collect()),
        Value::Object(o) => Value::Object(o.into_iter().map(|(k, v)| (k, rounded(v))).collect()),
        other => other,
    }
}
