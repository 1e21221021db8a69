//! Every error dw reports for bad input, exactly as the user sees it, with its exit code.

mod common;

use common::{dw, fixture, m3_large_history, run, write};

/// Runs dw with `args` in `dir` (the repository when `None`), expects `code`, and returns
/// stderr with the temporary directory's path replaced by `<tmp>`.
fn fails(args: &[&str], dir: Option<&std::path::Path>, code: i32) -> String {
    let mut cmd = dw();
    if let Some(d) = dir {
        // Elsewhere than the repository, with its configuration named (no note about the
        // built-in copy between the errors under test).
        cmd.current_dir(d)
            .env("DW_CONFIG", common::repo().join("configs/dw.toml"));
    }
    cmd.args(args);
    let r = run(&mut cmd);
    assert_eq!(r.code, code, "stdout: {}\nstderr: {}", r.stdout, r.stderr);
    assert!(
        r.stdout.is_empty(),
        "nothing on stdout on failure: {}",
        r.stdout
    );
    let mut err = r.stderr;
    if let Some(d) = dir {
        err = err.replace(&d.display().to_string(), "<tmp>");
    }
    err.replace(&common::repo().display().to_string(), "<repo>")
}

fn history_args() -> Vec<String> {
    m3_large_history()
        .into_iter()
        .flat_map(|h| ["--history".to_string(), h])
        .collect()
}

fn quote_from_files(extra: &[&str], code: i32) -> String {
    let mut args: Vec<String> = vec!["spot".into(), "quote".into()];
    args.extend(extra.iter().map(std::string::ToString::to_string));
    args.extend(history_args());
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    fails(&refs, None, code)
}

#[test]
fn unknown_debate_lists_the_dates_that_exist() {
    insta::assert_snapshot!(fails(&["debates", "--debate", "2015-11-11"], None, 2));
}

#[test]
fn a_debate_that_is_not_a_date() {
    // The date is parsed with the arguments, by every command that takes one.
    insta::assert_snapshot!(fails(&["debates", "--debate", "next tuesday"], None, 2));
    // Written as YYYY-MM-DD, but no such day: the message must not ask for that format.
    let err = fails(&["debates", "--debate", "2015-02-30"], None, 2);
    assert!(
        err.starts_with(
            "error: invalid value '2015-02-30' for '--debate <DATE>': `2015-02-30` is not a day \
             of the calendar (no such day in that month)\n"
        ),
        "{err}"
    );
    // `status` and `down` match the date against the clusters' tags: a typo is refused before
    // any AWS call, not searched for.
    for command in [&["cluster", "down"][..], &["cluster", "status"]] {
        let mut args = command.to_vec();
        args.extend(["--debate", "2015-11-1"]);
        let err = fails(&args, None, 2);
        assert!(
            err.contains("`2015-11-1` is not a date; write it as YYYY-MM-DD"),
            "{err}"
        );
    }
}

#[test]
fn a_tier_that_the_evening_did_not_have() {
    insta::assert_snapshot!(fails(
        &["debates", "--debate", "2016-02-06", "--tier", "undercard"],
        None,
        2
    ));
}

#[test]
fn a_config_with_an_unknown_key_points_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace("release_label = ", "relase_label = ");
    write(dir.path(), "dw.toml", &text);
    insta::assert_snapshot!(fails(
        &["--config", "dw.toml", "debates"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn a_config_with_a_bad_value_points_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace(
            "release_label = \"emr-4.2.0\"",
            "release_label = \"emr-5.36.0\"",
        );
    write(dir.path(), "dw.toml", &text);
    insta::assert_snapshot!(fails(
        &["--config", "dw.toml", "debates"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn a_config_with_a_bad_lookback_points_at_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace("lookback = \"60m\"", "lookback = \"an hour\"");
    write(dir.path(), "dw.toml", &text);
    insta::assert_snapshot!(fails(
        &["--config", "dw.toml", "debates"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn a_missing_config_file() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(fails(
        &["--config", "nope.toml", "debates"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn a_calendar_naming_an_unknown_candidate() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(common::repo().join("configs/dw.toml")).unwrap();
    write(dir.path(), "dw.toml", &config);
    let calendar = std::fs::read_to_string(common::repo().join("configs/debates.toml"))
        .unwrap()
        .replacen("\"fiorina\", \"gilmore\"", "\"fiorina\", \"gilmour\"", 1);
    write(dir.path(), "debates.toml", &calendar);
    insta::assert_snapshot!(fails(
        &["--config", "dw.toml", "debates"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn not_an_instance_type() {
    insta::assert_snapshot!(quote_from_files(&["m3"], 2));
}

#[test]
fn an_instance_type_missing_from_the_history_files() {
    insta::assert_snapshot!(quote_from_files(
        &["m3.xlarge", "--at", "2016-04-01T07:00:00Z"],
        2
    ));
}

#[test]
fn no_records_in_the_window_suggests_a_longer_lookback() {
    insta::assert_snapshot!(quote_from_files(
        &["m3.large", "--at", "2016-02-25T11:00:00Z"],
        2
    ));
}

#[test]
fn a_time_that_is_not_rfc3339() {
    insta::assert_snapshot!(quote_from_files(&["m3.large", "--at", "yesterday"], 2));
}

#[test]
fn a_lookback_that_is_not_a_duration() {
    insta::assert_snapshot!(quote_from_files(&["m3.large", "--lookback", "soon"], 2));
}

#[test]
fn a_malformed_history_file() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "h.json",
        "{\"SpotPriceHistory\": [\n  {\"Timestamp\": \"2016-04-01T00:00:00Z\", \"SpotPrice\": 0.02}\n]}\n",
    );
    insta::assert_snapshot!(fails(
        &["spot", "quote", "m3.large", "--history", "h.json"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn a_history_file_that_is_not_json() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "h.json", "Timestamp,SpotPrice\n");
    insta::assert_snapshot!(fails(
        &["spot", "quote", "m3.large", "--history", "h.json"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn a_missing_history_file() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(fails(
        &["spot", "quote", "m3.large", "--history", "nope.json"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn no_credentials_says_how_to_set_them() {
    // No --history: dw would call EC2, but finds no credentials first (none are inherited).
    insta::assert_snapshot!(fails(
        &[
            "spot",
            "quote",
            "m3.large",
            "--endpoint-url",
            "http://127.0.0.1:9"
        ],
        None,
        2
    ));
}

#[test]
fn no_region_says_how_to_set_it() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace("region = \"us-east-1\"", "");
    write(dir.path(), "dw.toml", &text);
    write(
        dir.path(),
        "debates.toml",
        &std::fs::read_to_string(common::repo().join("configs/debates.toml")).unwrap(),
    );
    insta::assert_snapshot!(fails(
        &["--config", "dw.toml", "spot", "quote", "m3.large"],
        Some(dir.path()),
        2
    ));
}

#[test]
fn an_unreachable_endpoint_is_a_failure_not_bad_input() {
    let mut cmd = dw();
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .args([
            "-q",
            "spot",
            "quote",
            "m3.large",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ]);
    let r = run(&mut cmd);
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        r.stderr
            .starts_with("error: DescribeInstanceTypeOfferings failed: could not reach AWS"),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr
            .contains("hint: check the network, or --endpoint-url")
    );
}

#[test]
fn fixture_paths_exist() {
    // The error tests above lean on these fixtures; say so plainly if they move.
    assert!(std::path::Path::new(&fixture("spot")).is_dir());
}

/// Durations past a year are refused with exit 2, on the command line and in the config (they
/// used to overflow the time arithmetic and panic with exit 101).
#[test]
fn a_huge_duration_is_bad_input_not_a_panic() {
    let err = quote_from_files(&["m3.large", "--lookback", "99999999999h"], 2);
    assert!(
        err.contains("`99999999999h` is too long: at most 366 days (`8784h`)"),
        "{err}"
    );
    for args in [
        &["spot", "backtest", "m3.large", "--window", "99999999999h"][..],
        &["spot", "backtest", "m3.large", "--every", "99999999999h"][..],
        &["schedule", "print", "--lead", "99999999999h"][..],
    ] {
        let err = fails(args, None, 2);
        assert!(err.contains("is too long"), "{args:?}: {err}");
    }
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace("lookback = \"60m\"", "lookback = \"99999999999h\"");
    write(dir.path(), "dw.toml", &text);
    let err = fails(&["--config", "dw.toml", "debates"], Some(dir.path()), 2);
    assert!(
        err.contains("dw.toml:") && err.contains("is too long"),
        "{err}"
    );
}

/// A topic that is not a Kafka topic name (here with a newline and a command after it) is
/// refused at its line, before anything is rendered.
#[test]
fn a_topic_name_kafka_would_refuse_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace("topic = \"tweets\"", "topic = \"tweets\\ntouch /tmp/x\"");
    write(dir.path(), "dw.toml", &text);
    let err = fails(&["--config", "dw.toml", "debates"], Some(dir.path()), 2);
    assert!(err.contains("dw.toml:"), "{err}");
    assert!(
        err.contains(r#""tweets\ntouch /tmp/x" is not a Kafka topic name: 1 to 249 of A-Z, a-z, 0-9, `.`, `_` and `-`"#),
        "{err}"
    );
}

/// A secret pasted where dw expects the place of the credentials: refused at load, at its
/// line, and the value appears nowhere in the report.
#[test]
fn a_secret_in_stream_credentials_is_refused_without_echoing_it() {
    let dir = tempfile::tempdir().unwrap();
    let secret = "AAAAAAAAAAAAAAAAAAAAAMLheAAAAAAA0%2BuSeid%2BULvsea4JtiGRiSDSJSI";
    // The shipped configuration reads Bluesky; Twitter's stream takes credentials.
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace(
            "source = \"bluesky\"\n",
            "source = \"twitter-v1\"\ncredentials = \"ssm:/dw/twitter\"\n",
        )
        .replace("\nlang = \"en\"\n", "\n")
        .replace(
            "credentials = \"ssm:/dw/twitter\"",
            &format!("credentials = \"{secret}\""),
        );
    write(dir.path(), "dw.toml", &text);
    let err = fails(&["--config", "dw.toml", "debates"], Some(dir.path()), 2);
    assert!(!err.contains(secret) && !err.contains("AAAAAAAA"), "{err}");
    let line = text
        .lines()
        .position(|l| l.starts_with("credentials = "))
        .unwrap()
        + 1;
    assert!(err.contains(&format!("dw.toml:{line}:")), "{err}");
    assert!(err.contains("credentials = \"(not shown)\""), "{err}");
    assert!(
        err.contains(
            "write env, ssm:/PATH or s3://BUCKET/KEY (the value is not shown: it may be a secret)"
        ),
        "{err}"
    );
    std::fs::copy(
        common::repo().join("configs/debates.toml"),
        dir.path().join("debates.toml"),
    )
    .unwrap();
    for ok in ["env", "ssm:/dw/twitter", "s3://bucket/dw/twitter.json"] {
        let text = text.replace(
            &format!("credentials = \"{secret}\""),
            &format!("credentials = \"{ok}\""),
        );
        write(dir.path(), "dw.toml", &text);
        let r = common::run(
            dw().current_dir(dir.path())
                .args(["--config", "dw.toml", "debates"]),
        );
        assert_eq!(r.code, 0, "{ok}: {}", r.stderr);
    }
}

/// A track term with a comma would be split in two by the stream and the scorer: refused at
/// its line in the calendar.
#[test]
fn a_track_term_with_a_comma_points_at_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let config = std::fs::read_to_string(common::repo().join("configs/dw.toml")).unwrap();
    write(dir.path(), "dw.toml", &config);
    let calendar = std::fs::read_to_string(common::repo().join("configs/debates.toml"))
        .unwrap()
        .replacen("terms = [\"", "terms = [\"Trump, Donald\", \"", 1);
    write(dir.path(), "debates.toml", &calendar);
    let err = fails(&["--config", "dw.toml", "debates"], Some(dir.path()), 2);
    assert!(err.contains("debates.toml:"), "{err}");
    assert!(
        err.contains(r#"the track term "Trump, Donald" holds a comma, which separates terms: make it two terms"#),
        "{err}"
    );
}

/// A malformed endpoint or region is bad input (exit 2) with a sentence, not an SDK dump.
#[test]
fn a_malformed_endpoint_or_region_is_bad_input() {
    let err = fails(
        &["--endpoint-url", "127.0.0.1:5000", "cluster", "list"],
        None,
        2,
    );
    assert!(
        err.contains(
            "`127.0.0.1:5000` is not an endpoint URL; write it like http://127.0.0.1:5000"
        ),
        "{err}"
    );
    let err = fails(&["--region", "US East", "cluster", "list"], None, 2);
    assert!(err.contains("`US East` is not an AWS region"), "{err}");
}

/// An endpoint that accepts connections and never answers: `cluster list` gives up (it used to
/// hang for 15 minutes), with exit 1 and a sentence.
#[test]
fn an_endpoint_that_never_answers_times_out() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for conn in listener.incoming() {
            held.push(conn); // accepted, never answered
        }
    });
    let started = std::time::Instant::now();
    let r = run(dw()
        .args(["cluster", "list", "--endpoint-url"])
        .arg(format!("http://127.0.0.1:{port}"))
        .args(["--region", "us-east-1"])
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("DW_AWS_TIMEOUT", "1"));
    assert_eq!(r.code, 1, "{}", r.stderr);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(40),
        "{:?}",
        started.elapsed()
    );
    assert!(r.stderr.contains("could not reach AWS"), "{}", r.stderr);
}

/// `[stream]`: each mistake is bad input that points at its line, and says what to write.
#[test]
fn stream_mistakes_point_at_their_line() {
    let dir = tempfile::tempdir().unwrap();
    let shipped = std::fs::read_to_string(common::repo().join("configs/dw.toml")).unwrap();
    std::fs::copy(
        common::repo().join("configs/debates.toml"),
        dir.path().join("debates.toml"),
    )
    .unwrap();
    let line_of =
        |text: &str, start: &str| text.lines().position(|l| l.starts_with(start)).unwrap() + 1;
    let cases: [(&str, &str, &str, &str); 5] = [
        (
            "source = \"bluesky\"\n",
            "source = \"bluesky\"\ncredentials = \"ssm:/dw/twitter\"\n",
            "[stream]",
            "Bluesky's Jetstream is public: remove `credentials` from [stream]",
        ),
        (
            "source = \"bluesky\"\nlang",
            "source = \"twitter-v2\"\nlang",
            "[stream]",
            "`lang` filters Bluesky posts by their declared language",
        ),
        (
            "lang = \"en\"",
            "lang = \"english!\"",
            "lang = ",
            "\"english!\" is not a language: a BCP-47 primary tag such as en or es",
        ),
        (
            "lang = \"en\"",
            "lang = \"en\"\nurl = \"wss://jetstream.example/subscribe\"",
            "[stream]",
            "is not a Jetstream instance: jetstream+wss://HOST/subscribe",
        ),
        // dw's earlier layout: the stream's keys were in [jobs].
        (
            "[jobs]\n",
            "[jobs]\nstream = \"twitter-v1\"\n",
            "stream = ",
            "unknown field `stream`",
        ),
    ];
    for (from, to, at, says) in cases {
        let text = if from == "source = \"bluesky\"\nlang" {
            shipped.replace(
                "source = \"bluesky\"\n",
                "source = \"twitter-v2\"\ncredentials = \"env\"\n",
            )
        } else {
            shipped.replacen(from, to, 1)
        };
        assert_ne!(text, shipped, "{from}");
        write(dir.path(), "dw.toml", &text);
        let err = fails(&["--config", "dw.toml", "debates"], Some(dir.path()), 2);
        assert!(
            err.contains(&format!("dw.toml:{}:", line_of(&text, at))),
            "{to}: {err}"
        );
        assert!(err.contains(says), "{to}: {err}");
    }
}

#[test]
fn model_training_data_that_cannot_be_read_or_is_not_labelled() {
    let dir = tempfile::tempdir().unwrap();
    insta::assert_snapshot!(fails(
        &["model", "train", "--data", "nope.csv", "--out", "m.txt"],
        Some(dir.path()),
        2
    ));
    std::fs::write(
        dir.path().join("labels.csv"),
        "id,text,sentiment\n1,\"good, \"\"very\"\" good\",Positive\n2,bad,Angry\n",
    )
    .unwrap();
    insta::assert_snapshot!(fails(
        &["model", "train", "--data", "labels.csv", "--out", "m.txt"],
        Some(dir.path()),
        2
    ));
    assert!(!dir.path().join("m.txt").exists(), "no model from bad data");
}
