//! Windows do not depend on the order tweets arrive in. 20,000 tweets (the texts and users of
//! the shipped first-GOP-debate sample, re-stamped ten a second over 33 minutes with new ids) go
//! through topics of 1, 4 and 6 partitions, read from a backlog or as they are produced, by one
//! scorer or a group of two; merged at their latest revisions, the windows equal those of one
//! dw-score reading the same tweets from a file: every sum, every standout.
//!
//! Before the fix (a watermark over the partitions seen so far, late tweets moved to the next
//! window) a 4-partition backlog left about three quarters of the tweets out of their windows.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

mod common;

use common::{CANDIDATES, FAST_GROUP, TWEETS, finish, produce, tweets};
use dw_pipeline::testkit::{
    assert_same_windows as assert_same, create_topic, kafka_peers as peers, unique, windows_in_file,
};
use serde_json::Value;

fn scorer(from: &str, out: &Path, extra: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_dw-score"))
        .args(["--from", from])
        .arg("--to")
        .arg(format!("file:{}", out.display()))
        .args(["--debate", "2015-08-06"])
        .args(CANDIDATES)
        .args(FAST_GROUP)
        .args(extra)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("dw-score starts")
}

/// The windows of `files`, each at its latest revision, merged across members by `dw-score
/// merge` (the cluster's own merge).
fn merged(files: &[PathBuf], out: &Path) -> BTreeMap<String, Value> {
    let mut merge = Command::new(env!("CARGO_BIN_EXE_dw-score"));
    merge.arg("merge");
    for f in files.iter().filter(|f| f.exists()) {
        merge.arg("--from").arg(format!("file:{}", f.display()));
    }
    let status = merge
        .arg("--to")
        .arg(format!("file:{}", out.display()))
        .status()
        .unwrap();
    assert!(status.success());
    windows_in_file(out)
}

struct Case {
    partitions: u32,
    members: usize,
    /// Produce while the scorers run (in time order), rather than before they start.
    live: bool,
}

impl Case {
    fn name(&self) -> String {
        format!(
            "{} partition(s), {} member(s), {}",
            self.partitions,
            self.members,
            if self.live { "live" } else { "backlog" }
        )
    }
}

fn run(
    brokers: &str,
    tansu: &str,
    lines: &[String],
    case: &Case,
    dir: &Path,
) -> (BTreeMap<String, Value>, u64) {
    let topic = unique(&format!("order-{}-{}", case.partitions, case.members));
    create_topic(tansu, brokers, &topic, case.partitions);
    if !case.live {
        produce(brokers, &topic, lines, false);
    }
    let group = unique("order");
    let name = format!("p{}-m{}-{}", case.partitions, case.members, case.live);
    let outputs: Vec<PathBuf> = (0..case.members)
        .map(|m| dir.join(format!("{name}-m{m}.jsonl")))
        .collect();
    let children: Vec<Child> = outputs
        .iter()
        .enumerate()
        .map(|(m, out)| {
            let member = format!("m{m}");
            let mut extra = vec!["--idle-exit-secs", "10"];
            if case.members > 1 {
                extra.extend(["--member", member.as_str()]);
            }
            scorer(
                &format!("kafka://{brokers}/{topic}?group={group}"),
                out,
                &extra,
            )
        })
        .collect();
    if case.live {
        std::thread::sleep(Duration::from_secs(3)); // the group forms
        produce(brokers, &topic, lines, true);
    }
    let logs: Vec<String> = children
        .into_iter()
        .map(|c| finish(c, Duration::from_mins(4)))
        .collect();
    let late: u64 = logs
        .iter()
        .filter_map(|l| l.split("\"late\":").nth(1))
        .filter_map(|rest| {
            rest.split(|c: char| !c.is_ascii_digit())
                .next()?
                .parse::<u64>()
                .ok()
        })
        .sum();
    (
        merged(&outputs, &dir.join(format!("{name}-merged.jsonl"))),
        late,
    )
}

#[test]
fn windows_do_not_depend_on_partitions_arrival_order_or_members() {
    let Some((brokers, tansu)) = peers() else {
        return;
    };
    let lines = tweets();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("tweets.jsonl");
    std::fs::write(&file, lines.join("\n") + "\n").unwrap();
    let reference_out = dir.path().join("reference.jsonl");
    finish(
        scorer(&format!("file:{}", file.display()), &reference_out, &[]),
        Duration::from_mins(2),
    );
    let reference = merged(&[reference_out], &dir.path().join("reference-merged.jsonl"));
    let counted: u64 = reference
        .values()
        .map(|w| w["tweets"].as_u64().unwrap())
        .sum();
    assert_eq!(counted, TWEETS as u64, "the file run counts every tweet");
    assert_eq!(reference.len(), 34, "33 minutes and a bit");

    let cases = [
        Case {
            partitions: 1,
            members: 1,
            live: false,
        },
        Case {
            partitions: 4,
            members: 1,
            live: false,
        },
        Case {
            partitions: 6,
            members: 1,
            live: false,
        },
        Case {
            partitions: 4,
            members: 2,
            live: false,
        },
        Case {
            partitions: 6,
            members: 2,
            live: false,
        },
        Case {
            partitions: 4,
            members: 1,
            live: true,
        },
        Case {
            partitions: 6,
            members: 2,
            live: true,
        },
    ];
    // The cases share the broker; each has its own topic and group. Two at a time.
    for pair in cases.chunks(2) {
        std::thread::scope(|s| {
            let runs: Vec<_> = pair
                .iter()
                .map(|case| {
                    let (brokers, tansu, lines, dir) = (&brokers, &tansu, &lines, dir.path());
                    s.spawn(move || (case.name(), run(brokers, tansu, lines, case, dir)))
                })
                .collect();
            for r in runs {
                let (name, (windows, late)) = r.join().expect("the case ran");
                eprintln!(
                    "{name}: {} windows, {late} tweets revised a written window",
                    windows.len()
                );
                assert_same(&name, &windows, &reference);
            }
        });
    }
}
