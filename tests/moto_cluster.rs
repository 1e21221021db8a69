//! `dw cluster up / status / list / down / diagnose` against the moto harness: what EMR is asked
//! for, what lands on S3, idempotency, waiting, failure diagnosis and bad input. Each test works
//! on its own debate date and bucket, so the tests can share one moto server.

mod common;

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Duration;

use common::{dw_at, fixture, http_post, moto_endpoint, run};
use serde_json::{Value, json};

/// A config for one test: the render fixture with its own bucket (created unless `None`).
fn setup(endpoint: &str, name: &str, create_bucket: bool) -> (tempfile::TempDir, PathBuf, String) {
    let dir = tempfile::tempdir().unwrap();
    let bucket = format!("dw-test-{name}-{}", std::process::id()).replace('_', "-");
    let text = std::fs::read_to_string(fixture("render/dw-4.2.0.toml"))
        .unwrap()
        .replace(
            "bucket = \"dw-debate-watch\"",
            &format!("bucket = \"{bucket}\""),
        )
        .replace(
            "debates = \"../../../configs/debates.toml\"",
            &format!(
                "debates = \"{}\"",
                common::repo().join("configs/debates.toml").display()
            ),
        )
        .replace(
            "binaries = \"bin\"",
            &format!("binaries = \"{}\"", fixture("render/bin")),
        );
    let config = dir.path().join("dw.toml");
    std::fs::write(&config, text).unwrap();
    if create_bucket {
        common::s3_put(endpoint, &format!("/{bucket}"), b"");
    }
    (dir, config, bucket)
}

fn history_args() -> Vec<String> {
    let mut args = vec!["--at".to_string(), "2016-04-01T07:00:00Z".to_string()];
    for h in common::m3_large_history() {
        args.push("--history".into());
        args.push(h);
    }
    args
}

fn dw(endpoint: &str, config: &Path, lock_dir: &Path) -> std::process::Command {
    let mut cmd = dw_at(endpoint);
    cmd.arg("--config").arg(config).env("DW_LOCK_DIR", lock_dir);
    cmd
}

fn up(endpoint: &str, config: &Path, dir: &Path, debate: &str, extra: &[&str]) -> common::Run {
    run(dw(endpoint, config, dir)
        .args([
            "cluster",
            "up",
            "--force",
            "--unchecked-binaries",
            "--debate",
            debate,
            "--output",
            "json",
        ])
        .args(history_args())
        .args(extra))
}

struct Aws {
    emr: aws_sdk_emr::Client,
    s3: aws_sdk_s3::Client,
    rt: tokio::runtime::Runtime,
}

fn aws(endpoint: &str) -> Aws {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let conf = rt.block_on(
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .region(aws_config::Region::new("us-east-1"))
            .endpoint_url(endpoint)
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "testing", "testing", None, None, "test",
            ))
            .load(),
    );
    Aws {
        emr: aws_sdk_emr::Client::new(&conf),
        s3: aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::config::Builder::from(&conf)
                .force_path_style(true)
                .build(),
        ),
        rt,
    }
}

fn s3_bytes(a: &Aws, uri: &str) -> Vec<u8> {
    let (bucket, key) = uri.trim_start_matches("s3://").split_once('/').unwrap();
    a.rt.block_on(async {
        a.s3.get_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
            .unwrap()
            .body
            .collect()
            .await
            .unwrap()
            .into_bytes()
            .to_vec()
    })
}

fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn clusters_for(a: &Aws, debate: &str) -> Vec<(String, String)> {
    a.rt.block_on(async {
        let mut out = Vec::new();
        let list = a.emr.list_clusters().send().await.unwrap();
        for c in list.clusters() {
            let d = a
                .emr
                .describe_cluster()
                .cluster_id(c.id().unwrap())
                .send()
                .await
                .unwrap();
            let cl = d.cluster().unwrap();
            if cl
                .tags()
                .iter()
                .any(|t| t.key() == Some("dw:debate") && t.value() == Some(debate))
            {
                out.push((
                    c.id().unwrap().to_string(),
                    cl.status().unwrap().state().unwrap().as_str().to_string(),
                ));
            }
        }
        out
    })
}

#[test]
#[allow(clippy::too_many_lines)] // one launch-to-teardown story: each step reads the last's state
fn up_launches_what_the_plan_says_and_down_removes_it() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, bucket) = setup(&endpoint, "updown", true);
    let r = up(&endpoint, &config, dir.path(), "2015-11-10", &["--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out: Value = serde_json::from_str(&r.stdout).unwrap();
    let id = out["cluster_id"].as_str().unwrap().to_string();
    assert_eq!(out["already_running"], false);
    assert_eq!(
        out["results"],
        format!("s3://{bucket}/dw/results/2015-11-10/")
    );

    let a = aws(&endpoint);
    let (cluster, groups, actions, steps) = a.rt.block_on(async {
        let c = a
            .emr
            .describe_cluster()
            .cluster_id(&id)
            .send()
            .await
            .unwrap();
        let g = a
            .emr
            .list_instance_groups()
            .cluster_id(&id)
            .send()
            .await
            .unwrap();
        let b = a
            .emr
            .list_bootstrap_actions()
            .cluster_id(&id)
            .send()
            .await
            .unwrap();
        let s = a.emr.list_steps().cluster_id(&id).send().await.unwrap();
        (
            c.cluster().unwrap().clone(),
            g.instance_groups().to_vec(),
            b.bootstrap_actions().to_vec(),
            s.steps().to_vec(),
        )
    });
    assert_eq!(cluster.release_label(), Some("emr-4.2.0"));
    assert_eq!(cluster.name(), Some("dw 2015-11-10 main+undercard"));
    let apps: Vec<&str> = cluster
        .applications()
        .iter()
        .filter_map(|a| a.name())
        .collect();
    assert_eq!(apps, ["Hadoop", "Ganglia"]);
    assert_eq!(
        cluster
            .ec2_instance_attributes()
            .and_then(|e| e.ec2_availability_zone()),
        Some("us-east-1a")
    );
    let tag = |k: &str| {
        cluster
            .tags()
            .iter()
            .find(|t| t.key() == Some(k))
            .and_then(|t| t.value())
            .map(str::to_string)
    };
    assert_eq!(tag("dw:debate").as_deref(), Some("2015-11-10"));
    assert_eq!(tag("dw:tier").as_deref(), Some("main+undercard"));
    // 2015-11-10 ended long ago (launched with --force): the watchdog allows the evening's
    // 4 h 30 min (00:00 to 04:30 UTC) plus the 1 h margin from the launch.
    let deadline: jiff::Timestamp = tag("dw:deadline").unwrap().parse().unwrap();
    let ahead = deadline - jiff::Timestamp::now();
    assert!(
        ahead > jiff::SignedDuration::from_mins(5 * 60 + 20)
            && ahead <= jiff::SignedDuration::from_mins(5 * 60 + 30),
        "{deadline}"
    );
    assert!(tag("dw:created-by").unwrap().starts_with("dw "));

    let master = groups
        .iter()
        .find(|g| {
            g.instance_group_type()
                .map(aws_sdk_emr::types::InstanceGroupType::as_str)
                == Some("MASTER")
        })
        .unwrap();
    let core = groups
        .iter()
        .find(|g| {
            g.instance_group_type()
                .map(aws_sdk_emr::types::InstanceGroupType::as_str)
                == Some("CORE")
        })
        .unwrap();
    assert_eq!(
        master.market().map(aws_sdk_emr::types::MarketType::as_str),
        Some("ON_DEMAND")
    );
    // The dw policy bids m3.large's on-demand price ($0.133, above the debate-night floor).
    assert_eq!(
        (
            core.market().map(aws_sdk_emr::types::MarketType::as_str),
            core.bid_price()
        ),
        (Some("SPOT"), Some("0.1330"))
    );
    assert_eq!(
        (
            master.requested_instance_count(),
            core.requested_instance_count()
        ),
        (Some(1), Some(2))
    );
    assert_eq!(core.instance_type(), Some("m3.large"));

    // Each bootstrap action's script is on S3, its bytes hashing to the key's content address.
    let names: Vec<&str> = actions
        .iter()
        .filter_map(|b| b.script_path())
        .map(|p| p.rsplit('/').next().unwrap())
        .collect();
    assert_eq!(
        names,
        [
            "install-dw.sh",
            "zookeeper.sh",
            "kafka.sh",
            "scorers.sh",
            "watchdog.sh"
        ]
    );
    for b in &actions {
        let path = b.script_path().unwrap();
        assert!(
            path.starts_with(&format!("s3://{bucket}/dw/stage/")),
            "{path}"
        );
        let bytes = s3_bytes(&a, path);
        let address = path.rsplit('/').nth(1).unwrap();
        assert!(sha256_hex(&bytes).starts_with(address), "{path}");
        assert!(
            String::from_utf8(bytes)
                .unwrap()
                .starts_with("#!/usr/bin/env bash\n")
        );
    }
    // ...and the same as `dw render` writes.
    let rendered = dir.path().join("rendered");
    let r = run(dw(&endpoint, &config, dir.path())
        .args(["-q", "render", "--debate", "2015-11-10", "--out"])
        .arg(&rendered));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let zk = actions
        .iter()
        .find(|b| b.script_path().unwrap().ends_with("/zookeeper.sh"))
        .unwrap();
    assert_eq!(
        s3_bytes(&a, zk.script_path().unwrap()),
        std::fs::read(rendered.join("bootstrap/zookeeper.sh")).unwrap()
    );

    let step_args: Vec<(String, String, Vec<String>)> = steps
        .iter()
        .rev()
        .map(|s| {
            let c = s.config().unwrap();
            (
                s.name().unwrap().to_string(),
                c.jar().unwrap().to_string(),
                c.args().to_vec(),
            )
        })
        .collect();
    assert_eq!(step_args.len(), 3);
    for (name, jar, args) in &step_args {
        assert_eq!(jar, "command-runner.jar", "{name}");
        assert_eq!(args[0], "bash");
    }
    assert_eq!(step_args[1].0, "Start ingest");
    assert_eq!(step_args[1].2[1], "/home/hadoop/dw/steps/start-ingest.sh");
    assert_eq!(
        steps[0]
            .action_on_failure()
            .map(aws_sdk_emr::types::ActionOnFailure::as_str),
        Some("TERMINATE_CLUSTER")
    );

    // A second `up` finds the live cluster and launches nothing.
    let again = up(&endpoint, &config, dir.path(), "2015-11-10", &["--no-wait"]);
    assert_eq!(again.code, 0, "{}", again.stderr);
    let again: Value = serde_json::from_str(&again.stdout).unwrap();
    assert_eq!(
        (
            again["cluster_id"].as_str(),
            again["already_running"].as_bool()
        ),
        (Some(id.as_str()), Some(true))
    );
    let alive = |a: &Aws| {
        clusters_for(a, "2015-11-10")
            .into_iter()
            .filter(|(_, s)| s == "WAITING")
            .count()
    };
    assert_eq!(alive(&a), 1);

    let status = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "status",
        "--debate",
        "2015-11-10",
    ]));
    assert_eq!(status.code, 0, "{}", status.stderr);
    assert!(
        status
            .stdout
            .contains("group     core   m3.large spot 2/2 running, bid $0.1330"),
        "{}",
        status.stdout
    );
    assert!(
        status
            .stdout
            .contains("(estimate: instance-hours x bid or on-demand price")
    );
    assert!(
        !status.stdout.contains("member "),
        "no scorer has beaten yet"
    );

    // The scorers' heartbeats beside the results: one beating, one silent for 5 minutes (its
    // spot node reclaimed); `status` (with the debate from the cluster's tag) shows both.
    let beat = |member: &str, at: jiff::Timestamp, partitions: &str, lag: &str| {
        format!(
            r#"{{"job":"score","member":"{member}","node":"ip-{member}","state":"running","at":"{at}","lag":{lag},"partitions":{partitions},"counts":{{"tweets":1200,"covered":7}}}}"#
        )
    };
    let now = jiff::Timestamp::now();
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/dw/results/2015-11-10/members/core-1-1.json"),
        beat(
            "core-1-1",
            now,
            r#"[{"partition":0,"next_offset":9,"end_offset":9,"lag":0},{"partition":1,"next_offset":4,"end_offset":6,"lag":2}]"#,
            "2",
        )
        .as_bytes(),
    );
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/dw/results/2015-11-10/members/core-2-1.json"),
        beat(
            "core-2-1",
            now - jiff::SignedDuration::from_mins(5),
            "[]",
            "null",
        )
        .as_bytes(),
    );
    let status =
        run(dw(&endpoint, &config, dir.path()).args(["cluster", "status", "--cluster-id", &id]));
    assert_eq!(status.code, 0, "{}", status.stderr);
    let lines: Vec<&str> = status
        .stdout
        .lines()
        .filter(|l| l.starts_with("member "))
        .collect();
    assert_eq!(lines.len(), 2, "{}", status.stdout);
    assert!(
        lines[0].starts_with(
            "member    core-1-1 on ip-core-1-1: partitions 0,1, lag 2, 1200 tweets, heartbeat "
        ) && lines[0].ends_with("s ago (running)"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with(
            "member    core-2-1 on ip-core-2-1: partitions none, lag ?, 1200 tweets, heartbeat 3"
        ) && lines[1].ends_with("s ago (lost)"),
        "{}",
        lines[1]
    );
    let json = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "status",
        "--debate",
        "2015-11-10",
        "--output",
        "json",
    ]));
    let json: Value = serde_json::from_str(&json.stdout).unwrap();
    assert_eq!(json["debate"], "2015-11-10");
    assert_eq!(json["members"][0]["partitions"], serde_json::json!([0, 1]));
    assert_eq!(json["members"][1]["state"], "lost");

    let down = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "down",
        "--debate",
        "2015-11-10",
        "--poll",
        "200ms",
    ]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    assert_eq!(down.stdout, format!("{id} TERMINATED\n"));
    assert!(clusters_for(&a, "2015-11-10").contains(&(id.clone(), "TERMINATED".to_string())));
    assert_eq!(alive(&a), 0);
    // Down again: already terminated is success; a debate with no cluster at all is not.
    let again =
        run(dw(&endpoint, &config, dir.path()).args(["cluster", "down", "--debate", "2015-11-10"]));
    assert_eq!(
        (again.code, again.stdout.as_str()),
        (0, format!("{id} is already TERMINATED\n").as_str())
    );
    let none =
        run(dw(&endpoint, &config, dir.path()).args(["cluster", "down", "--debate", "2016-04-14"]));
    assert_eq!(none.code, 1);
    assert_eq!(none.stderr, "error: no cluster of dw for 2016-04-14\n");
    let none = run(dw(&endpoint, &config, dir.path()).args([
        "-q",
        "cluster",
        "down",
        "--debate",
        "2016-04-14",
        "--if-exists",
    ]));
    assert_eq!(
        (none.code, none.stdout.as_str()),
        (0, "no cluster of dw for 2016-04-14\n")
    );

    // Launched again with nothing changed: every object is already staged, nothing is uploaded,
    // and `-v` says where dw's own time went.
    let again = up(
        &endpoint,
        &config,
        dir.path(),
        "2015-11-10",
        &["--no-wait", "-v"],
    );
    assert_eq!(again.code, 0, "{}", again.stderr);
    let own = again
        .stderr
        .lines()
        .find(|l| l.contains("up's own time"))
        .unwrap_or_else(|| panic!("no breakdown: {}", again.stderr));
    // A past debate launched with --force: the watchdog counts the evening from the launch, so
    // its script (and only it) is new.
    let uploaded: Vec<&str> = again
        .stderr
        .lines()
        .filter_map(|l| l.split_once("dw: uploaded ").map(|(_, u)| u))
        .collect();
    assert!(
        uploaded.len() == 1 && uploaded[0].ends_with("/watchdog.sh"),
        "{uploaded:?}"
    );
    assert!(own.contains("(1 uploaded, 9 already there)"), "{own}");
    assert!(
        own.contains("quotes and plan") && own.contains("RunJobFlow"),
        "{own}"
    );
    let gone =
        run(dw(&endpoint, &config, dir.path()).args(["cluster", "down", "--debate", "2015-11-10"]));
    assert_eq!(gone.code, 0, "{}", gone.stderr);
}

#[test]
fn dry_run_stages_and_launches_nothing() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, bucket) = setup(&endpoint, "dryrun", true);
    let r = up(&endpoint, &config, dir.path(), "2015-12-15", &["--dry-run"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let request: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(request["ReleaseLabel"], "emr-4.2.0");
    assert_eq!(
        request["Instances"]["Placement"]["AvailabilityZone"],
        "us-east-1a"
    );
    assert_eq!(
        request["Instances"]["InstanceGroups"][1]["BidPrice"],
        "0.1330"
    );
    // The team's original rule on a debate night: the $0.05 floor (mean x 1.2 is below it).
    let r = up(
        &endpoint,
        &config,
        dir.path(),
        "2015-12-15",
        &["--dry-run", "--policy", "seed"],
    );
    assert_eq!(r.code, 0, "{}", r.stderr);
    let request: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(
        request["Instances"]["InstanceGroups"][1]["BidPrice"],
        "0.0500"
    );
    assert_eq!(
        request["Steps"][0]["HadoopJarStep"]["Jar"],
        "command-runner.jar"
    );
    let a = aws(&endpoint);
    assert!(
        clusters_for(&a, "2015-12-15").is_empty(),
        "no cluster launched"
    );
    let objects = a.rt.block_on(async {
        a.s3.list_objects_v2()
            .bucket(&bucket)
            .send()
            .await
            .unwrap()
            .key_count()
    });
    assert_eq!(objects, Some(0), "nothing staged");
}

#[test]
fn up_waits_until_the_jobs_run() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, _) = setup(&endpoint, "wait", true);
    let child = dw(&endpoint, &config, dir.path())
        .args([
            "cluster",
            "up",
            "--force",
            "--unchecked-binaries",
            "--debate",
            "2016-01-14",
            "--poll",
            "200ms",
            "--timeout",
            "2m",
        ])
        .args(history_args())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let a = aws(&endpoint);
    let id = wait_for_cluster(&a, "2016-01-14");
    std::thread::sleep(Duration::from_millis(800));
    for (i, state) in ["COMPLETED", "COMPLETED", "RUNNING"].iter().enumerate() {
        http_post(
            &endpoint,
            "/_dw/emr/step",
            &json!({"cluster_id": id, "index": i, "state": state}).to_string(),
        );
    }
    let out = child.wait_with_output().unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    );
    assert!(out.status.success(), "{stderr}");
    assert!(
        stdout.starts_with(&format!(
            "cluster   {id} (dw 2016-01-14 main+undercard)\nstate     WAITING\n"
        )),
        "{stdout}"
    );
    // Not a terminal: plain timestamped lines, one per change.
    for line in stderr.lines() {
        assert!(
            line.len() > 22 && line.as_bytes()[4] == b'-' && line[19..].starts_with("Z dw: "),
            "{line}"
        );
    }
    assert!(stderr.contains("steps started 1/3"), "{stderr}");
    assert!(
        stderr.contains(&format!("{id} is ready (WAITING)")),
        "{stderr}"
    );
    run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "down",
        "--cluster-id",
        &id,
        "--no-wait",
    ]));
}

fn wait_for_cluster(a: &Aws, debate: &str) -> String {
    for _ in 0..200 {
        // Only a live one: an earlier run against the same server may have left ended clusters.
        if let Some((id, _)) = clusters_for(a, debate)
            .into_iter()
            .find(|(_, s)| s == "WAITING")
        {
            return id;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no cluster for {debate}");
}

/// `up --no-wait` that must succeed: the new cluster's id.
fn launched(endpoint: &str, config: &Path, dir: &Path, debate: &str) -> String {
    let r = up(endpoint, config, dir, debate, &["--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str::<Value>(&r.stdout).unwrap()["cluster_id"]
        .as_str()
        .unwrap()
        .to_string()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(text.as_bytes()).unwrap();
    e.finish().unwrap()
}

#[test]
fn a_bootstrap_failure_is_diagnosed_from_its_log() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, bucket) = setup(&endpoint, "bootfail", true);
    let child = dw(&endpoint, &config, dir.path())
        .args([
            "cluster",
            "up",
            "--force",
            "--unchecked-binaries",
            "--debate",
            "2016-01-28",
            "--poll",
            "200ms",
            "--log-wait",
            "5s",
            "--timeout",
            "2m",
        ])
        .args(history_args())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let a = aws(&endpoint);
    let id = wait_for_cluster(&a, "2016-01-28");
    let log = "2016-01-28T23:01:02Z dw/zookeeper.sh: downloading https://archive.apache.org/...\n\
               2016-01-28T23:01:09Z dw/zookeeper.sh: error: /tmp/tmp.x/archive.tgz: sha512 is 00ff, expected abab\n";
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/dw/logs/{id}/node/i-0c0ffee/bootstrap-actions/2/stderr.gz"),
        &gzip(log),
    );
    http_post(&endpoint, "/_dw/emr/cluster", &json!({
        "cluster_id": id,
        "state": "TERMINATED_WITH_ERRORS",
        "message": "On the master instance (i-0c0ffee), bootstrap action 2 returned a non-zero return code",
    }).to_string());
    let out = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains(&format!("cluster {id} ended TERMINATED_WITH_ERRORS\n")),
        "{stderr}"
    );
    assert!(stderr.contains("reason: On the master instance (i-0c0ffee), bootstrap action 2 returned a non-zero return code\n"));
    assert!(stderr.contains("probable cause: bootstrap action 2 failed\n"));
    assert!(stderr.contains(&format!(
        "the end of s3://{bucket}/dw/logs/{id}/node/i-0c0ffee/bootstrap-actions/2/stderr.gz:\n"
    )));
    assert!(stderr.contains("  | 2016-01-28T23:01:09Z dw/zookeeper.sh: error: /tmp/tmp.x/archive.tgz: sha512 is 00ff, expected abab\n"), "{stderr}");
    assert!(
        stderr.ends_with(&format!(
            "error: the cluster {id} failed: bootstrap action 2\n"
        )),
        "{stderr}"
    );
}

#[test]
fn a_failed_step_is_diagnosed_from_its_log() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, bucket) = setup(&endpoint, "stepfail", true);
    let id = launched(&endpoint, &config, dir.path(), "2016-02-06");
    let a = aws(&endpoint);
    let step_id = a.rt.block_on(async {
        let s = a.emr.list_steps().cluster_id(&id).send().await.unwrap();
        s.steps()
            .iter()
            .find(|s| s.name() == Some("Start ingest"))
            .unwrap()
            .id()
            .unwrap()
            .to_string()
    });
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/dw/logs/{id}/steps/{step_id}/stderr.gz"),
        &gzip(
            "2016-02-07T00:20:00Z dw/start-ingest.sh: dw-ingest did not come up; the end of /mnt/var/log/dw/dw-ingest.log:\ndw-ingest: error: 401 Unauthorized: check the stream credentials\n",
        ),
    );
    http_post(
        &endpoint,
        "/_dw/emr/step",
        &json!({"cluster_id": id, "step_id": step_id, "state": "FAILED"}).to_string(),
    );
    let d = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "diagnose",
        &id,
        "--log-wait",
        "1s",
    ]));
    assert_eq!(d.code, 0, "{}", d.stderr);
    assert!(
        d.stdout.contains(&format!(
            "probable cause: step \"Start ingest\" ({step_id}) failed\n"
        )),
        "{}",
        d.stdout
    );
    assert!(
        d.stdout
            .ends_with("  | dw-ingest: error: 401 Unauthorized: check the stream credentials\n"),
        "{}",
        d.stdout
    );
    run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "down",
        "--cluster-id",
        &id,
        "--no-wait",
    ]));
}

#[test]
fn bad_input_launches_and_stages_nothing() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let a = aws(&endpoint);

    // No such debate.
    let (dir, config, _) = setup(&endpoint, "bad1", true);
    let r = up(&endpoint, &config, dir.path(), "2016-02-29", &["--no-wait"]);
    assert_eq!(r.code, 2);
    assert!(r.stderr.starts_with("error: no debate on 2016-02-29 in the calendar\nhint: debates in the calendar: 2015-08-06"), "{}", r.stderr);

    // The bucket does not exist: nothing is launched.
    let (dir, config, bucket) = setup(&endpoint, "bad2", false);
    let r = up(&endpoint, &config, dir.path(), "2016-02-13", &["--no-wait"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.ends_with(&format!("error: the S3 bucket {bucket} does not exist\nhint: create it (aws s3 mb s3://BUCKET) or set s3.bucket in configs/dw.toml\n")), "{}", r.stderr);
    assert!(clusters_for(&a, "2016-02-13").is_empty());

    // No bucket configured.
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&format!("bucket = \"{bucket}\""), "bucket = \"\"");
    std::fs::write(&config, text).unwrap();
    let r = up(&endpoint, &config, dir.path(), "2016-02-13", &["--no-wait"]);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.ends_with("error: no S3 bucket is configured\nhint: set s3.bucket in configs/dw.toml: dw stages scripts and binaries there\n"), "{}", r.stderr);

    // No credentials.
    let (dir, config, _) = setup(&endpoint, "bad3", true);
    let r = run(common::dw()
        .arg("--config")
        .arg(&config)
        .env("DW_LOCK_DIR", dir.path())
        .args([
            "cluster",
            "up",
            "--force",
            "--unchecked-binaries",
            "--debate",
            "2016-02-13",
            "--endpoint-url",
            &endpoint,
        ]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: no AWS credentials found\n"),
        "{}",
        r.stderr
    );

    // An instance type the zone does not offer (EC2's offerings, through the real quote path).
    let text = std::fs::read_to_string(&config).unwrap().replacen(
        "instance_type = \"m3.large\"\ncount = 2",
        "instance_type = \"m3.huge\"\ncount = 2",
        1,
    );
    std::fs::write(&config, text).unwrap();
    let r = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "up",
        "--force",
        "--unchecked-binaries",
        "--debate",
        "2016-02-13",
        "--no-wait",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.ends_with("error: m3.huge is not offered in any zone of us-east-1\nhint: check the instance type's spelling, or pick another region with --region\n"), "{}", r.stderr);
    assert!(clusters_for(&a, "2016-02-13").is_empty());
}

/// An evening that has ended is refused unless forced; an undercard `up` does not reuse a
/// main-tier cluster (it does not track the undercard's candidates); `down --debate` then
/// terminates every live cluster of the evening, not one of them.
#[test]
fn tiers_are_matched_and_down_takes_every_cluster_of_the_debate() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, _) = setup(&endpoint, "tiers", true);
    let refused = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "up",
        "--debate",
        "2015-10-28",
        "--tier",
        "main",
    ]));
    assert_eq!(refused.code, 2, "{}", refused.stderr);
    assert!(
        refused
            .stderr
            .starts_with("error: the evening of 2015-10-28 ended at 2015-10-29T"),
        "{}",
        refused.stderr
    );
    assert!(
        refused.stderr.contains("hint: pass --force"),
        "{}",
        refused.stderr
    );

    // `up` (the helper) forces: 2015 is long gone.
    let launch = |tier: &str| -> Value {
        let r = up(
            &endpoint,
            &config,
            dir.path(),
            "2015-10-28",
            &["--tier", tier, "--no-wait"],
        );
        assert_eq!(r.code, 0, "{tier}: {}", r.stderr);
        serde_json::from_str(&r.stdout).unwrap()
    };
    let main = launch("main");
    let undercard = launch("undercard");
    assert_eq!(undercard["already_running"], false, "{undercard}");
    assert_ne!(main["cluster_id"], undercard["cluster_id"]);
    let again = launch("undercard");
    assert_eq!(again["already_running"], true);
    assert_eq!(again["cluster_id"], undercard["cluster_id"]);

    let down = run(dw(&endpoint, &config, dir.path()).args([
        "cluster",
        "down",
        "--debate",
        "2015-10-28",
        "--poll",
        "200ms",
        "--output",
        "json",
    ]));
    assert_eq!(down.code, 0, "{}", down.stderr);
    let gone: Vec<Value> = serde_json::from_str(&down.stdout).unwrap();
    let mut ids: Vec<&str> = gone
        .iter()
        .map(|g| g["cluster_id"].as_str().unwrap())
        .collect();
    ids.sort_unstable();
    let mut want = [
        main["cluster_id"].as_str().unwrap(),
        undercard["cluster_id"].as_str().unwrap(),
    ];
    want.sort_unstable();
    assert_eq!(ids, want);
    assert!(gone.iter().all(|g| g["state"] == "TERMINATED"), "{gone:?}");
    let a = aws(&endpoint);
    assert!(
        clusters_for(&a, "2015-10-28")
            .iter()
            .all(|(_, state)| state == "TERMINATED")
    );
}

/// Job binaries built for this machine (glibc newer than EMR 4.x's 2.17) are refused before
/// anything is staged or launched, as `dw build-jobs --check-only` refuses them.
#[test]
fn binaries_that_would_not_run_on_emr_are_refused_before_staging() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, _) = setup(&endpoint, "glibc", true);
    let here = Path::new(env!("CARGO_BIN_EXE_dw")).parent().unwrap();
    if !here.join("dw-ingest").is_file() || !here.join("dw-score").is_file() {
        // `cargo test -p dw` alone does not build the jobs; the workspace run does.
        assert!(
            std::env::var("DW_REQUIRE_PEERS").is_err(),
            "the workspace's dw-ingest and dw-score are not built"
        );
        return;
    }
    let text = std::fs::read_to_string(&config)
        .unwrap()
        .replace(&fixture("render/bin"), &here.display().to_string());
    std::fs::write(&config, text).unwrap();
    let r = run(dw(&endpoint, &config, dir.path())
        .args([
            "cluster",
            "up",
            "--force",
            "--debate",
            "2015-09-16",
            "--no-wait",
        ])
        .args(history_args()));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("\nerror: the job binaries would not run on EMR 4.x:\n"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("dw-ingest: needs GLIBC_2."),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("hint: build them with `dw build-jobs`"),
        "{}",
        r.stderr
    );
    let a = aws(&endpoint);
    assert!(
        clusters_for(&a, "2015-09-16").is_empty(),
        "nothing launched"
    );
}

/// Another `up` of the same debate holds the lock: `--output json` still says so on stdout.
/// A timed-out `up` puts the cluster it left (or terminated) on stdout, not only in the error.
#[test]
fn busy_and_timed_out_ups_say_so_on_stdout() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, _) = setup(&endpoint, "busy", true);
    let held = std::fs::File::create(dir.path().join("up-2015-08-06.lock")).unwrap();
    held.lock().unwrap();
    let r = up(&endpoint, &config, dir.path(), "2015-08-06", &["--no-wait"]);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let busy: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    assert_eq!(
        (busy["debate"].as_str(), busy["state"].as_str()),
        (Some("2015-08-06"), Some("BUSY"))
    );
    drop(held);

    let r = up(
        &endpoint,
        &config,
        dir.path(),
        "2015-08-06",
        &[
            "--timeout",
            "1s",
            "--poll",
            "200ms",
            "--terminate-on-timeout",
        ],
    );
    assert_eq!(r.code, 1, "{}", r.stderr);
    let left: Value = serde_json::from_str(&r.stdout).expect("JSON on stdout");
    let id = left["cluster_id"].as_str().unwrap();
    assert!(id.starts_with("j-"), "{left}");
    assert!(
        r.stderr
            .contains(&format!("error: {id} was not ready after 1s")),
        "{}",
        r.stderr
    );
    assert!(r.stderr.contains("it is being terminated"), "{}", r.stderr);
}

/// Spot capacity that never comes: moto grants every group at once, so the test takes moto's
/// own description of a launched cluster and marks the core group unfulfilled, as EMR shows a
/// spot group whose bid is below the market. The fallback sends AddInstanceGroups (botocore
/// validates it) for an on-demand task group of the missing count, once; with --no-fallback it
/// adds nothing and says what it is waiting for.
#[test]
fn a_spot_group_left_unfulfilled_gets_an_on_demand_task_group() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, _) = setup(&endpoint, "fallback", true);
    let id = launched(&endpoint, &config, dir.path(), "2016-02-25");
    let a = aws(&endpoint);
    let mut snap = a.rt.block_on(dw::cluster::snapshot(&a.emr, &id)).unwrap();
    for g in snap.groups.iter_mut().filter(|g| g.market == "SPOT") {
        g.running = 0;
    }
    let after = std::time::Duration::from_mins(10);

    let mut off = dw::cluster::fallback::Fallback::new(after, false);
    a.rt.block_on(off.check(&a.emr, &snap, after)).unwrap();
    assert!(off.added.is_empty());
    assert_eq!(off.left_waiting.len(), 1, "the core group waits");

    let mut on = dw::cluster::fallback::Fallback::new(after, true);
    let early = std::time::Duration::from_secs(599);
    a.rt.block_on(on.check(&a.emr, &snap, early)).unwrap();
    assert!(on.added.is_empty(), "not before spot.fallback_after");
    a.rt.block_on(on.check(&a.emr, &snap, after)).unwrap();
    a.rt.block_on(on.check(&a.emr, &snap, after * 2)).unwrap();
    assert_eq!(on.added.len(), 1, "once");
    let groups =
        a.rt.block_on(a.emr.list_instance_groups().cluster_id(&id).send())
            .unwrap();
    let added: Vec<_> = groups
        .instance_groups()
        .iter()
        .filter(|g| g.name() == Some("core on-demand fallback"))
        .collect();
    assert_eq!(added.len(), 1);
    let g = added[0];
    // moto answers AddInstanceGroups without `InstanceGroupIds` (EMR sends them).
    assert!(on.added[0].1.is_empty() || g.id() == Some(on.added[0].1.as_str()));
    assert_eq!(
        g.market().map(aws_sdk_emr::types::MarketType::as_str),
        Some("ON_DEMAND")
    );
    assert_eq!(
        g.instance_group_type()
            .map(aws_sdk_emr::types::InstanceGroupType::as_str),
        Some("TASK")
    );
    assert_eq!(g.instance_type(), Some("m3.large"));
    assert_eq!(g.requested_instance_count(), Some(2));
}

/// `up --replay`: the archive is looked at before anything is staged. An empty prefix and an
/// object that is not JSON lines are bad input naming what to fix; a good archive (gzip and
/// plain objects) gives a request whose cluster ends with its last step.
#[test]
fn a_replay_checks_its_archive_and_ends_with_its_last_step() {
    let Some(endpoint) = moto_endpoint() else {
        return;
    };
    let (dir, config, bucket) = setup(&endpoint, "replay", true);
    let replay = |uri: &str| {
        up(
            &endpoint,
            &config,
            dir.path(),
            "2016-02-13",
            &["--replay", uri, "--dry-run"],
        )
    };
    let empty = format!("s3://{bucket}/archive/none/");
    let r = replay(&empty);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "error: --replay {empty}: no object under that prefix, nothing to replay\n\
             hint: give the prefix the archive's objects are under (`aws s3 ls` it to see)\n"
        )
    );

    let gz = gzip("{\"id_str\":\"1\",\"text\":\"a\"}\n");
    for folder in ["bad", "good"] {
        common::s3_put(
            &endpoint,
            &format!("/{bucket}/archive/{folder}/part-0.jsonl.gz"),
            &gz,
        );
    }
    common::s3_put(
        &endpoint,
        &format!("/{bucket}/archive/bad/part-1.csv"),
        b"id,text\n1,hello\n",
    );
    let bad = format!("s3://{bucket}/archive/bad/");
    let r = replay(&bad);
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        format!(
            "error: --replay {bad}: s3://{bucket}/archive/bad/part-1.csv is not JSON lines: its first line is not a JSON object: \"id,text\"\n\
             hint: a replay reads Twitter v1.1 or v2 statuses or dw's post records, one JSON object per line, gzip (.gz) or plain\n"
        )
    );

    common::s3_put(
        &endpoint,
        &format!("/{bucket}/archive/good/part-1.jsonl"),
        b"{\"id_str\":\"2\",\"text\":\"b\"}\n",
    );
    let good = format!("s3://{bucket}/archive/good/");
    let r = replay(&good);
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("replaying 2 objects of {good}")),
        "{}",
        r.stderr
    );
    let request: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(request["Instances"]["KeepJobFlowAliveWhenNoSteps"], false);
    let steps: Vec<&str> = request["Steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["Name"].as_str().unwrap())
        .collect();
    assert_eq!(
        steps,
        [
            "Create the tweets topic",
            "Start ingest",
            "Merge until the archive is scored (the cluster then ends)"
        ]
    );
}
