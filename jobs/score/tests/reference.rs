//! dw-score's per-tweet scores equal the Python reference's (jobs/pipeline/reference) to 1e-9 on
//! every tweet of the labelled first-GOP-debate set and of the genuine v1.1 stream sample.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn scores(output: &[u8]) -> HashMap<String, (Option<f64>, u64)> {
    String::from_utf8_lossy(output)
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).expect("JSON line");
            (
                v["id"].as_str().expect("id").to_string(),
                (v["score"].as_f64(), v["words"].as_u64().expect("words")),
            )
        })
        .collect()
}

fn compare(input: &Path, extra: &[&str]) -> usize {
    let file = std::fs::File::open(input).expect("fixture");
    let reference = Command::new("python3")
        .arg(repo().join("jobs/pipeline/reference/labmt_reference.py"))
        .args(extra)
        .stdin(file)
        .output()
        .expect("python3 runs the reference");
    assert!(
        reference.status.success(),
        "{}",
        String::from_utf8_lossy(&reference.stderr)
    );
    let ours = Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .args(["--debate", "test", "--emit", "tweets", "--from"])
        .arg(format!("file:{}", input.display()))
        .args(extra)
        .output()
        .expect("dw-score runs");
    assert!(
        ours.status.success(),
        "{}",
        String::from_utf8_lossy(&ours.stderr)
    );
    let (reference, ours) = (scores(&reference.stdout), scores(&ours.stdout));
    assert_eq!(reference.len(), ours.len(), "same tweets scored");
    let mut scored = 0;
    for (id, (want, want_words)) in &reference {
        let (got, got_words) = ours.get(id).unwrap_or_else(|| panic!("tweet {id} scored"));
        assert_eq!(got_words, want_words, "words of {id}");
        match (want, got) {
            (Some(w), Some(g)) => {
                assert!((w - g).abs() < 1e-9, "tweet {id}: reference {w}, dw {g}");
                scored += 1;
            }
            (None, None) => {}
            _ => panic!("tweet {id}: reference {want:?}, dw {got:?}"),
        }
    }
    scored
}

#[test]
fn the_labelled_debate_tweets_score_as_the_reference() {
    let n = compare(&repo().join("data/replay/2015-08-06.jsonl"), &[]);
    assert!(n > 2000, "{n} tweets with a score");
}

#[test]
fn the_v1_stream_sample_scores_as_the_reference() {
    let sample =
        repo().join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl");
    let n = compare(&sample, &[]);
    assert!(n > 100, "{n} tweets with a score");
}

#[test]
fn without_the_lens_and_with_retweets_as_is_too() {
    let sample =
        repo().join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl");
    let n = compare(&sample, &["--lens", "none", "--retweets", "as-is"]);
    assert!(n > 100, "{n} tweets with a score");
}
