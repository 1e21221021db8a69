//! A member of the scoring group is lost (SIGKILL, as when EMR reclaims a spot node) at the
//! moments that matter: right after it wrote a closed window (before its index and its offsets),
//! after it wrote its windows but before it committed, and after it published its open windows.
//! The survivor takes its partitions over, and the merged windows on S3 equal those of one
//! dw-score reading the same 20,000 tweets from a file: every tweet counted once, every sum and
//! standout the same. The merger itself is killed halfway through writing and run again.

use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

use common::{CANDIDATES, FAST_GROUP, TWEETS, finish, produce, tweets, wait};
use dw_pipeline::testkit::{
    assert_same_windows as assert_same, create_topic, kafka_peers, moto, s3_put, unique,
    windows_by_start, windows_in_file,
};
use serde_json::Value;

const DEBATE: &str = "2015-08-06";

fn with_moto(cmd: &mut Command, moto: &str) {
    cmd.env("AWS_ENDPOINT_URL", moto)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true");
}

/// A member of the group writing its parts to `results` (S3 on `moto`, or a file); `extra`
/// arguments after the usual ones.
fn member(
    moto: Option<&str>,
    source: &str,
    results: &str,
    name: &str,
    failpoint: Option<&str>,
    extra: &[&str],
) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dw-score"));
    if let Some(moto) = moto {
        with_moto(&mut cmd, moto);
    }
    if let Some(f) = failpoint {
        cmd.env("DW_SCORE_FAILPOINT", f);
    }
    cmd.args(["--from", source, "--to", results, "--debate", DEBATE])
        .args(extra)
        .args(CANDIDATES)
        .args(FAST_GROUP)
        .args(["--member", name, "--idle-exit-secs", "12"])
        .args(["--partial-secs", "1", "--status-secs", "1"])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dw-score starts")
}

/// Waits for a process that is to be killed by its failpoint; its stderr.
fn killed(child: Child, limit: Duration) -> String {
    let (status, err) = wait(child, limit);
    assert!(!status.success(), "the failpoint killed it: {err}");
    assert!(err.contains("failpoint"), "{err}");
    err
}

/// The merged windows under `results` (`<debate>/windows/`), by start.
fn merged_on_s3(moto: &str, bucket: &str) -> BTreeMap<String, Value> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let conf = aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(moto)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load()
            .await;
        let s3 = dw_pipeline::s3::client(&conf);
        let keys: Vec<String> =
            dw_pipeline::s3::list_with_etags(&s3, bucket, &format!("results/{DEBATE}/windows/"))
                .await
                .unwrap()
                .into_iter()
                .map(|(k, _)| k)
                .collect();
        windows_by_start(
            dw_pipeline::s3::get_many(&s3, bucket, &keys)
                .await
                .unwrap()
                .into_iter()
                .map(|(_, body)| serde_json::from_slice(&body).unwrap()),
        )
    })
}

fn merge(moto: &str, results: &str, failpoint: Option<&str>) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dw-score"));
    with_moto(&mut cmd, moto);
    if let Some(f) = failpoint {
        cmd.env("DW_SCORE_FAILPOINT", f);
    }
    cmd.args([
        "merge", "--from", results, "--to", results, "--debate", DEBATE,
    ])
    .args(["--member-timeout-secs", "1"])
    .output()
    .unwrap()
}

fn count(log: &str, field: &str) -> u64 {
    log.rsplit(&format!("\"{field}\":"))
        .next()
        .and_then(|rest| rest.split(|c: char| !c.is_ascii_digit()).next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0)
}

fn reference(dir: &Path, lines: &[String]) -> BTreeMap<String, Value> {
    let file = dir.join("tweets.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let out = dir.join("reference.jsonl");
    let child = Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .args(["--from", &format!("file:{}", file.display())])
        .args([
            "--to",
            &format!("file:{}", out.display()),
            "--debate",
            DEBATE,
        ])
        .args(CANDIDATES)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    finish(child, Duration::from_mins(2));
    windows_in_file(&out)
}

#[test]
fn a_member_lost_at_any_moment_loses_nothing_and_counts_nothing_twice() {
    let (Some((brokers, tansu)), Some(moto)) = (kafka_peers(), moto()) else {
        return;
    };
    let lines = tweets();
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), &lines);
    assert_eq!(
        want.values()
            .map(|w| w["tweets"].as_u64().unwrap())
            .sum::<u64>(),
        TWEETS as u64
    );
    let cases = [
        ("after-write:6", Some("merge-write:12")),
        ("before-commit:4", None),
        ("after-partial:3", None),
    ];
    for (failpoint, merge_failpoint) in cases {
        let bucket = unique("takeover").to_lowercase();
        s3_put(&moto, &format!("/{bucket}"), b"");
        let results = format!("s3://{bucket}/results");
        let topic = unique("takeover");
        create_topic(&tansu, &brokers, &topic, 6);
        let source = format!("kafka://{brokers}/{topic}?group={topic}");
        let survivor = member(Some(&moto), &source, &results, "core-1", None, &[]);
        let lost = member(
            Some(&moto),
            &source,
            &results,
            "core-2",
            Some(failpoint),
            &[],
        );
        std::thread::sleep(Duration::from_secs(3)); // the group forms
        produce(&brokers, &topic, &lines, true);
        let lost_log = killed(lost, Duration::from_mins(2));
        let log = finish(survivor, Duration::from_mins(4));
        let covered = count(&log, "covered");
        let duplicates = count(&log, "duplicates");

        if let Some(f) = merge_failpoint {
            let out = merge(&moto, &results, Some(f));
            assert!(!out.status.success(), "the merger was killed halfway");
        }
        let out = merge(&moto, &results, None);
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = merged_on_s3(&moto, &bucket);
        let counted: u64 = got.values().map(|w| w["tweets"].as_u64().unwrap()).sum();
        eprintln!(
            "{failpoint}: {TWEETS} tweets in, {counted} counted in the merged windows; the \
             survivor skipped {covered} tweets the lost member's parts count, dropped \
             {duplicates} duplicates; lost member's last words: {}",
            lost_log.lines().last().unwrap_or_default()
        );
        assert_eq!(counted, TWEETS as u64, "{failpoint}: every tweet once");
        assert!(
            got.values()
                .all(|w| w["partial"].is_null() && w["through"].is_null()),
            "{failpoint}: merged windows are final and carry no offsets"
        );
        assert_same(failpoint, &got, &want);
    }
}

/// The same losses with the parts on files (`dw replay`, the node sandbox, a user's own runs):
/// each member names the other's part file (`--parts-from`), the survivor skips what the lost
/// member's part counts, and `dw-score merge` of the two files (the lost one may end in half a
/// line) equals one dw-score over the same tweets.
#[test]
fn a_member_lost_at_any_moment_with_file_parts_counts_nothing_twice() {
    let Some((brokers, tansu)) = kafka_peers() else {
        return;
    };
    let lines = tweets();
    let dir = tempfile::tempdir().unwrap();
    let want = reference(dir.path(), &lines);
    for failpoint in ["after-write:6", "before-commit:4", "after-partial:3"] {
        let case = dir.path().join(failpoint.replace(':', "-"));
        std::fs::create_dir(&case).unwrap();
        let part = |name: &str| format!("file:{}", case.join(format!("{name}.jsonl")).display());
        let topic = unique("filetakeover");
        create_topic(&tansu, &brokers, &topic, 6);
        let source = format!("kafka://{brokers}/{topic}?group={topic}");
        let start = |name: &str, other: &str, failpoint: Option<&str>| {
            member(
                None,
                &source,
                &part(name),
                name,
                failpoint,
                &["--parts-from", &part(other)],
            )
        };
        let survivor = start("core-1", "core-2", None);
        let lost = start("core-2", "core-1", Some(failpoint));
        std::thread::sleep(Duration::from_secs(3)); // the group forms
        produce(&brokers, &topic, &lines, true);
        killed(lost, Duration::from_mins(2));
        let log = finish(survivor, Duration::from_mins(4));
        assert!(log.contains("parts of other members"), "{log}");
        let merged = case.join("merged.jsonl");
        let out = Command::new(env!("CARGO_BIN_EXE_dw-score"))
            .args([
                "merge",
                "--from",
                &part("core-1"),
                "--from",
                &part("core-2"),
            ])
            .arg("--to")
            .arg(format!("file:{}", merged.display()))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{failpoint}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got = windows_in_file(&merged);
        let counted: u64 = got.values().map(|w| w["tweets"].as_u64().unwrap()).sum();
        eprintln!(
            "{failpoint} (files): {TWEETS} tweets in, {counted} counted; the survivor skipped {}",
            count(&log, "covered")
        );
        assert_eq!(counted, TWEETS as u64, "{failpoint}: every tweet once");
        assert_same(failpoint, &got, &want);
    }
}
