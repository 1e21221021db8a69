//! `dw render`: every script a debate's cluster runs, snapshot-tested for an emr-4.2.0 and an
//! emr-4.1.0 plan, and checked with shellcheck.

mod common;

use std::path::Path;

use common::{dw, fixture, run};

fn render(config: &str, out: &Path, extra: &[&str]) -> common::Run {
    let r = run(dw()
        .args([
            "-q",
            "--config",
            &fixture(config),
            "render",
            "--debate",
            "2015-11-10",
            "--out",
        ])
        .arg(out)
        .args(extra));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r
}

fn scripts(dir: &Path) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for kind in ["bootstrap", "steps"] {
        let mut names: Vec<_> = std::fs::read_dir(dir.join(kind))
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .collect();
        names.sort();
        for n in names {
            let text = std::fs::read_to_string(dir.join(kind).join(&n)).unwrap();
            out.push((format!("{kind}/{n}"), text));
        }
    }
    out
}

#[test]
fn emr_4_2_0_scripts() {
    let dir = tempfile::tempdir().unwrap();
    render("render/dw-4.2.0.toml", dir.path(), &[]);
    let all = scripts(dir.path());
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(
        names,
        [
            "bootstrap/install-dw.sh",
            "bootstrap/kafka.sh",
            "bootstrap/scorers.sh",
            "bootstrap/watchdog.sh",
            "bootstrap/zookeeper.sh",
            "steps/create-topic.sh",
            "steps/start-ingest.sh",
            "steps/start-merge.sh"
        ]
    );
    for (name, text) in all {
        insta::assert_snapshot!(format!("4.2.0-{}", name.replace('/', "-")), text);
    }
}

#[test]
fn emr_4_1_0_installs_ganglia_by_bootstrap_action() {
    let dir = tempfile::tempdir().unwrap();
    render("render/dw-4.1.0.toml", dir.path(), &[]);
    let ganglia = std::fs::read_to_string(dir.path().join("bootstrap/ganglia.sh")).unwrap();
    insta::assert_snapshot!("4.1.0-bootstrap-ganglia.sh", ganglia);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["applications"], serde_json::json!(["Hadoop"]));
    assert_eq!(plan["ganglia"], "bootstrap action");
    assert_eq!(plan["bootstrap_actions"].as_array().unwrap().len(), 6);
}

#[test]
fn the_plan_with_a_quote_from_saved_history() {
    let dir = tempfile::tempdir().unwrap();
    let mut extra = vec!["--at".to_string(), "2016-04-01T07:00:00Z".to_string()];
    for h in common::m3_large_history() {
        extra.push("--history".into());
        extra.push(h);
    }
    let extra: Vec<&str> = extra.iter().map(String::as_str).collect();
    let r = render("render/dw-4.2.0.toml", dir.path(), &extra);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["placement"]["zone"], "us-east-1a");
    let core = &plan["instance_groups"][1];
    assert_eq!(core["market"], "SPOT");
    // The dw policy bids the on-demand price (above the debate-night floor of $0.05).
    assert_eq!(core["bid"], 0.133);
    assert_eq!(plan["instance_groups"][0]["bid"], serde_json::Value::Null);
    insta::assert_json_snapshot!("plan-4.2.0-quoted", plan);
    insta::assert_snapshot!(
        "plan-4.2.0-quoted-text",
        r.stdout.replace(&dir.path().display().to_string(), "<out>")
    );
}

/// A replay of an archive: dw-ingest reads it at full speed (no stream, no credentials), the
/// scorers stop once it is spent, and the last step merges in the foreground until it is all
/// scored; the request lets the cluster end with that step.
#[test]
fn a_replay_reads_the_archive_and_ends_with_its_last_step() {
    let dir = tempfile::tempdir().unwrap();
    render(
        "render/dw-4.2.0.toml",
        dir.path(),
        &["--replay", "s3://dw-archive/2015-11-10/"],
    );
    let all = scripts(dir.path());
    let names: Vec<&str> = all.iter().map(|(n, _)| n.as_str()).collect();
    assert!(names.contains(&"steps/finish-replay.sh"), "{names:?}");
    assert!(!names.contains(&"steps/start-merge.sh"), "{names:?}");
    let text = |n: &str| all.iter().find(|(name, _)| name == n).unwrap().1.clone();
    let ingest = text("steps/start-ingest.sh");
    assert!(
        ingest.contains("  --from\n  s3://dw-archive/2015-11-10/\n")
            && ingest.contains("  --pace\n  max\n")
            && !ingest.contains("--credentials"),
        "{ingest}"
    );
    assert!(text("bootstrap/scorers.sh").contains("  --stop-after-idle-secs\n  60\n"));
    insta::assert_snapshot!(
        "replay-steps-finish-replay.sh",
        text("steps/finish-replay.sh")
    );
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["replay"], "s3://dw-archive/2015-11-10/");
}

#[test]
fn rendered_scripts_pass_shellcheck() {
    if which("shellcheck").is_none() {
        assert!(
            std::env::var("DW_REQUIRE_PEERS").is_err(),
            "shellcheck is missing: scripts/test installs it"
        );
        eprintln!("skipped: no shellcheck");
        return;
    }
    for (config, extra) in [
        ("render/dw-4.2.0.toml", &[][..]),
        ("render/dw-4.1.0.toml", &[][..]),
        (
            "render/dw-4.2.0.toml",
            &["--replay", "s3://dw-archive/2015-11-10/"][..],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        render(config, dir.path(), extra);
        for (name, _) in scripts(dir.path()) {
            let out = std::process::Command::new("shellcheck")
                .arg(dir.path().join(&name))
                .output()
                .unwrap();
            assert!(
                out.status.success(),
                "{config} {name}:\n{}",
                String::from_utf8_lossy(&out.stdout)
            );
        }
    }
}

fn which(cmd: &str) -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(cmd))
        .find(|p| p.is_file())
}

/// The 4.2.0 fixture config, with absolute paths, `edit`ed, written into `dir`.
fn config_in(dir: &Path, edit: impl Fn(String) -> String) -> std::path::PathBuf {
    let config = std::fs::read_to_string(fixture("render/dw-4.2.0.toml"))
        .unwrap()
        .replace(
            "../../../configs/debates.toml",
            &common::repo()
                .join("configs/debates.toml")
                .display()
                .to_string(),
        );
    let path = dir.join("dw.toml");
    std::fs::write(&path, edit(config)).unwrap();
    path
}

fn with_fixture_binaries(config: &str) -> String {
    config.replace(
        "binaries = \"bin\"",
        &format!("binaries = \"{}\"", fixture("render/bin")),
    )
}

#[test]
fn unset_checksums_are_refused_with_where_to_find_them() {
    let dir = tempfile::tempdir().unwrap();
    // Both missing, or one malformed: every problem is reported at once, each at its line.
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c)
            .replace(&"ab".repeat(64), "")
            .replace(&"cd".repeat(64), "sha512:not-hex")
    });
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 2);
    insta::assert_snapshot!(r.stderr.replace(&dir.path().display().to_string(), "<tmp>"));
}

fn render_with(config: &Path, dir: &Path) -> common::Run {
    run(dw()
        .arg("--config")
        .arg(config)
        .args(["render", "--debate", "2015-11-10", "--out"])
        .arg(dir.join("out")))
}

#[test]
fn missing_job_binaries_say_how_to_build_them() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| c);
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr.replace(&dir.path().display().to_string(), "<tmp>"),
        "error: the job binary <tmp>/bin/dw-ingest is missing\n\
         hint: build the cluster binaries with `dw build-jobs` (or set jobs.binaries in configs/dw.toml)\n"
    );
}

#[test]
fn scorers_that_do_not_spread_evenly_over_the_nodes_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c).replace("score_workers = \"auto\"", "score_workers = 3")
    });
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: jobs.score_workers = 3 does not spread evenly over the 2 core and task nodes\n\
         hint: set jobs.score_workers to a multiple of 2 (2, 4, 6, 8, ...) or \"auto\" (one per node)\n"
    );
}

#[test]
fn no_scorer_at_all_is_bad_input_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c).replace("score_workers = \"auto\"", "score_workers = 0")
    });
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(r.stderr.contains("dw.toml:75"), "{}", r.stderr);
    assert!(
        r.stderr
            .contains("0 is out of range: a count from 1 to 256"),
        "{}",
        r.stderr
    );
}

/// Eight members on two nodes with a six-partition topic: four per node, two of the eight
/// idle; said, not refused. Each node's scorers action starts four.
#[test]
fn more_scorers_than_partitions_are_a_warning_that_counts_the_idle_ones() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c).replace("score_workers = \"auto\"", "score_workers = 8")
    });
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stderr.contains(
            "jobs.score_workers = 8 but the tweets topic has 6 partitions: 2 members will hold no partition"
        ),
        "{}",
        r.stderr
    );
    let scorers = std::fs::read_to_string(dir.path().join("out/bootstrap/scorers.sh")).unwrap();
    assert!(scorers.contains("for i in $(seq 1 4); do"), "{scorers}");
}

/// Checksums pasted as Apache publishes them (here `gpg --print-md`: upper case, groups of 8,
/// the file name first, and `SHA1:` in capitals) reach the scripts as the lower-case hex that
/// `sha512sum` and `sha1sum` print, with their algorithm.
#[test]
fn checksums_reach_the_scripts_normalised() {
    let dir = tempfile::tempdir().unwrap();
    let upper: Vec<String> = "CD"
        .repeat(64)
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    let print_md = format!("kafka_2.11-1.1.1.tgz: {}", upper.join(" "));
    let sha1 = "0123456789ABCDEF0123456789ABCDEF01234567";
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c)
            .replace(
                &format!("sha512 = \"{}\"", "cd".repeat(64)),
                &format!("checksum = \"{print_md}\""),
            )
            .replace(
                &format!("sha512 = \"{}\"", "ab".repeat(64)),
                &format!("sha512 = \"SHA1:{sha1}\""),
            )
    });
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let kafka = std::fs::read_to_string(dir.path().join("out/bootstrap/kafka.sh")).unwrap();
    assert!(
        kafka.contains(&format!("sha512 {} \"$KAFKA_HOME\"", "cd".repeat(64))),
        "{kafka}"
    );
    let zk = std::fs::read_to_string(dir.path().join("out/bootstrap/zookeeper.sh")).unwrap();
    assert!(
        zk.contains(&format!("sha1 {} \"$ZK_HOME\"", sha1.to_lowercase())),
        "{zk}"
    );
}

/// A task group of another type is quoted in the zone the core group chose (m3.medium alone
/// would take us-east-1c at that hour; the cluster is in us-east-1a).
#[test]
fn every_spot_group_is_quoted_in_the_cluster_zone() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c).replace(
            "[spot]\n",
            "[emr.task]\ninstance_type = \"m3.medium\"\ncount = 2\nmarket = \"spot\"\n\n[spot]\n",
        )
    });
    let mut cmd = dw();
    cmd.arg("--config")
        .arg(&path)
        .args(["-q", "render", "--debate", "2015-11-10", "--out"])
        .arg(dir.path().join("out"))
        .args(["--at", "2016-04-01T07:00:00Z", "--history"])
        .arg(fixture("spot/"));
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "{}", r.stderr);
    let plan: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("out/plan.json")).unwrap())
            .unwrap();
    assert_eq!(plan["placement"]["zone"], "us-east-1a");
    let task = plan["instance_groups"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["role"] == "TASK")
        .unwrap();
    assert_eq!(task["instance_type"], "m3.medium");
    assert_eq!(task["zone"], "us-east-1a", "{task}");
    assert_eq!(task["bid"], 0.067);
}

/// A symbolic link named plan.json in the output directory is not followed.
#[test]
fn render_does_not_write_through_a_symlink() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| with_fixture_binaries(&c));
    let out = dir.path().join("out");
    std::fs::create_dir_all(&out).unwrap();
    let target = dir.path().join("elsewhere.txt");
    std::fs::write(&target, "keep me").unwrap();
    std::os::unix::fs::symlink(&target, out.join("plan.json")).unwrap();
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr
            .contains("plan.json is a symbolic link: dw does not write through it"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read_to_string(&target).unwrap(), "keep me");
}

/// Bluesky: the ingest step reads the public Jetstream from the evening's start, in the
/// configured language, filtered by the evening's terms; no credentials anywhere in the plan.
#[test]
fn a_bluesky_stream_needs_no_secret_and_reads_the_evening_from_its_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = config_in(dir.path(), |c| {
        with_fixture_binaries(&c).replace(
            "source = \"twitter-v1\"\ncredentials = \"ssm:/dw/twitter\"\n",
            "source = \"bluesky\"\nlang = \"en\"\n",
        )
    });
    let r = render_with(&path, dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let out = dir.path().join("out");
    let plan_text = std::fs::read_to_string(out.join("plan.json")).unwrap();
    let script = std::fs::read_to_string(out.join("steps/start-ingest.sh")).unwrap();
    // The job's arguments, one shell-quoted word a line between `args=(` and `)`.
    let block = script.split("\nargs=(\n").nth(1).unwrap();
    let block = block.split("\n)\n").next().unwrap();
    let args: Vec<String> = block
        .lines()
        .map(|l| l.trim().trim_matches('\'').to_string())
        .collect();
    assert_eq!(&args[..2], ["--from", "bluesky"]);
    let after = |flag: &str| args[args.iter().position(|a| a == flag).unwrap() + 1].as_str();
    assert_eq!(
        after("--since"),
        "2015-11-11T00:00:00Z",
        "the evening's start"
    );
    assert_eq!(after("--lang"), "en");
    assert!(after("--track").contains("Donald Trump"), "{args:?}");
    assert!(
        !plan_text.contains("credentials") && !plan_text.contains("ssm:"),
        "{plan_text}"
    );
    assert!(
        !args.iter().any(|a| a == "--credentials") && !script.contains("ssm:"),
        "{script}"
    );
    if let Some(shellcheck) = which("shellcheck") {
        let ok = std::process::Command::new(shellcheck)
            .arg(out.join("steps/start-ingest.sh"))
            .status()
            .unwrap();
        assert!(ok.success());
    }
}

/// The shipped configuration renders as it is, given the job binaries (`dw build-jobs`): a
/// newcomer's first `dw render` or `up` needs nothing else; ZooKeeper's and Kafka's checksums
/// reach the scripts.
#[test]
fn the_shipped_configuration_renders() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(common::repo().join("configs/dw.toml")).unwrap();
    let text = shipped.replace(
        "binaries = \"../target/emr/release\"",
        &format!("binaries = \"{}\"", fixture("render/bin")),
    );
    assert_ne!(text, shipped);
    std::fs::write(dir.path().join("dw.toml"), text).unwrap();
    std::fs::copy(
        common::repo().join("configs/debates.toml"),
        dir.path().join("debates.toml"),
    )
    .unwrap();
    let r = render_with(&dir.path().join("dw.toml"), dir.path());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let zookeeper = std::fs::read_to_string(dir.path().join("out/bootstrap/zookeeper.sh")).unwrap();
    assert!(
        zookeeper.contains("b14f7a0fece8bd34c7fffa46039e563ac5367607c612517aa7bd37306afbd1cd"),
        "{zookeeper}"
    );
    let kafka = std::fs::read_to_string(dir.path().join("out/bootstrap/kafka.sh")).unwrap();
    assert!(kafka.contains("93b6f926b10b3ba826266272e3bd9d0fe8b33046da9a2688c58d403eb0a43430"));
}
