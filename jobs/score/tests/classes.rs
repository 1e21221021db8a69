//! Each post's class: `--emit tweets` gives `class` and `p`, windows count each class per
//! candidate, `--model` takes another model file (checked while the arguments are read), and
//! `--model none` turns classes off.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use dw_pipeline::classify::model::Model;
use dw_pipeline::window::Window;
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> PathBuf {
    repo().join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl")
}

fn score(extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .args(["--debate", "test", "--from"])
        .arg(format!("file:{}", sample().display()))
        .args(["--candidate", "trump=Trump,Donald Trump,@realDonaldTrump"])
        .args(extra)
        .output()
        .expect("dw-score runs")
}

fn json_lines(out: &Output) -> Vec<Value> {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).expect("a JSON line"))
        .collect()
}

#[test]
fn every_post_gets_a_class_and_its_probability() {
    let lines = json_lines(&score(&["--emit", "tweets"]));
    assert_eq!(lines.len(), 494, "every status of the sample");
    let mut seen = std::collections::BTreeMap::new();
    for l in &lines {
        let class = l["class"].as_str().expect("class");
        assert!(matches!(class, "negative" | "neutral" | "positive"), "{l}");
        // The class called is the likeliest of three: p is at least a third.
        let p = l["p"].as_f64().expect("p");
        assert!((1.0 / 3.0..=1.0).contains(&p), "{l}");
        *seen.entry(class.to_string()).or_insert(0) += 1;
    }
    assert_eq!(
        seen.len(),
        3,
        "a real sample has posts of every class: {seen:?}"
    );

    let off = json_lines(&score(&["--emit", "tweets", "--model", "none"]));
    assert_eq!(off.len(), 494);
    assert!(
        off.iter()
            .all(|l| l.get("class").is_none() && l.get("p").is_none())
    );
    // The LabMT score does not change with classes on or off.
    for (a, b) in lines.iter().zip(&off) {
        assert_eq!(
            (&a["id"], &a["score"], &a["words"]),
            (&b["id"], &b["score"], &b["words"])
        );
    }
}

#[test]
fn windows_count_each_class_of_each_candidates_posts() {
    let windows: Vec<Window> = json_lines(&score(&[]))
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("a window"))
        .collect();
    let mut posts = 0;
    for w in &windows {
        assert_eq!(w.version, 4);
        for c in w.candidates.values().filter(|c| c.tweets > 0) {
            let t = c.classes.as_ref().expect("class counts");
            assert_eq!(t.posts(), c.tweets);
            // Each post's probabilities add up to one.
            let p = t.p_negative + t.p_neutral + t.p_positive;
            assert!((p - c.tweets as f64).abs() < 1e-9, "{t:?}");
            posts += c.tweets;
        }
    }
    assert!(posts > 0, "the sample mentions Trump");
}

#[test]
fn another_model_file_is_used_and_a_bad_one_is_refused_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    // A model that calls everything positive.
    let mut model = Model::zero(8);
    model.bias = [0.0, 0.0, 50.0];
    let path = dir.path().join("positive.txt");
    std::fs::write(&path, model.write()).unwrap();
    let lines = json_lines(&score(&[
        "--emit",
        "tweets",
        "--model",
        path.to_str().unwrap(),
    ]));
    assert!(
        lines
            .iter()
            .all(|l| l["class"] == "positive" && l["p"].as_f64() > Some(0.999))
    );

    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, model.write().replace("bits 8", "bits 99")).unwrap();
    let out = score(&["--model", bad.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2), "bad input");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}: line 2: bits: want a number from 8 to 24",
            bad.display()
        )),
        "{stderr}"
    );
}
