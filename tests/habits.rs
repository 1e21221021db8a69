//! Habits dw shares with the AWS tools its users know: where the region and the configuration
//! come from, and in which order.

mod common;

use common::{dw, dw_at, run, write};

/// The region dw's `-v` log says it used for `cluster list` (one EMR call to moto).
fn region_used(cmd: &mut std::process::Command) -> String {
    let r = run(cmd.args(["-v", "cluster", "list"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stderr
        .lines()
        .find_map(|l| l.split_once("AWS region ").map(|(_, r)| r.to_string()))
        .unwrap_or_else(|| panic!("no region in the log: {}", r.stderr))
}

#[test]
fn the_region_comes_from_the_flag_the_environment_the_profile_then_the_config_file() {
    let Some(moto) = common::moto_endpoint() else {
        return;
    };
    // configs/dw.toml says us-east-1.
    assert_eq!(region_used(&mut dw_at(&moto)), "us-east-1");
    assert_eq!(
        region_used(dw_at(&moto).env("AWS_REGION", "us-west-2")),
        "us-west-2",
        "AWS_REGION beats the config file"
    );
    assert_eq!(
        region_used(dw_at(&moto).env("AWS_DEFAULT_REGION", "eu-west-1")),
        "eu-west-1"
    );
    let dir = tempfile::tempdir().unwrap();
    let profiles = write(
        dir.path(),
        "config",
        "[profile night]\nregion = ap-southeast-2\n",
    );
    assert_eq!(
        region_used(
            dw_at(&moto)
                .env("AWS_CONFIG_FILE", &profiles)
                .args(["--profile", "night"])
        ),
        "ap-southeast-2",
        "the profile's region beats the config file"
    );
    assert_eq!(
        region_used(
            dw_at(&moto)
                .env("AWS_REGION", "us-west-2")
                .args(["--region", "eu-central-1"])
        ),
        "eu-central-1",
        "the flag beats everything"
    );
}

fn config_dir(region: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(common::repo().join("configs/dw.toml"))
        .unwrap()
        .replace("region = \"us-east-1\"", &format!("region = \"{region}\""));
    write(dir.path(), "dw.toml", &text);
    std::fs::copy(
        common::repo().join("configs/debates.toml"),
        dir.path().join("debates.toml"),
    )
    .unwrap();
    dir
}

/// The file `-v` says it read.
fn config_read(cmd: &mut std::process::Command) -> String {
    let r = run(cmd.args(["-v", "debates", "--debate", "2015-08-06"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stderr
        .lines()
        .find_map(|l| {
            l.split_once("dw: config: ")
                .map(|(_, p)| p.to_string())
                .or_else(|| {
                    l.contains("using the built-in one")
                        .then(|| "built-in".into())
                })
        })
        .unwrap_or_else(|| panic!("no config line: {}", r.stderr))
}

#[test]
fn the_configuration_is_the_flag_dw_config_the_working_copy_then_the_users() {
    let named = config_dir("eu-west-1");
    let named_file = named.path().join("dw.toml");
    let user = tempfile::tempdir().unwrap();
    let user_file = user.path().join("dw").join("dw.toml");
    std::fs::create_dir_all(user_file.parent().unwrap()).unwrap();
    let copy = config_dir("eu-west-2");
    std::fs::copy(copy.path().join("dw.toml"), &user_file).unwrap();
    std::fs::copy(
        copy.path().join("debates.toml"),
        user_file.with_file_name("debates.toml"),
    )
    .unwrap();
    let elsewhere = tempfile::tempdir().unwrap();

    // In the repository: ./configs/dw.toml.
    assert_eq!(config_read(&mut dw()), "configs/dw.toml");
    // DW_CONFIG beats it; --config beats DW_CONFIG.
    assert_eq!(
        config_read(dw().env("DW_CONFIG", &named_file)),
        named_file.display().to_string()
    );
    assert_eq!(
        config_read(
            dw().env("DW_CONFIG", "/nonexistent/dw.toml")
                .arg("--config")
                .arg(&named_file)
        ),
        named_file.display().to_string()
    );
    // Outside a clone: the user's file, else the built-in copy, said on stderr.
    assert_eq!(
        config_read(
            dw().current_dir(elsewhere.path())
                .env("XDG_CONFIG_HOME", user.path())
        ),
        user_file.display().to_string()
    );
    assert_eq!(config_read(dw().current_dir(elsewhere.path())), "built-in");
    let r = run(dw()
        .current_dir(elsewhere.path())
        .args(["debates", "--debate", "2015-08-06"]));
    assert!(
        r.stderr.contains("no configuration file (--config, DW_CONFIG, ./configs/dw.toml, ~/.config/dw/dw.toml): using the built-in one"),
        "{}",
        r.stderr
    );
    // A DW_CONFIG that names no file is an error, not a silent fallback.
    let r = run(dw().env("DW_CONFIG", "/nonexistent/dw.toml").arg("debates"));
    assert_eq!(r.code, 2, "bad input");
    assert!(r.stderr.contains("/nonexistent/dw.toml"), "{}", r.stderr);
}

#[test]
fn completions_and_the_man_page_name_every_command() {
    let r = run(dw().args(["completions", "bash"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    for command in ["cluster", "spot", "watch", "publish", "schedule"] {
        assert!(
            r.stdout.contains(command),
            "bash completion lacks {command}"
        );
    }
    // The script is valid bash.
    let dir = tempfile::tempdir().unwrap();
    let script = write(dir.path(), "dw.bash", &r.stdout);
    let syntax = std::process::Command::new("bash")
        .arg("-n")
        .arg(&script)
        .status()
        .unwrap();
    assert!(syntax.success());
    let man = run(dw().arg("man"));
    assert_eq!(man.code, 0, "{}", man.stderr);
    assert!(man.stdout.starts_with(".ie") && man.stdout.contains(".TH dw 1"));
    assert!(man.stdout.contains("watch"), "{}", man.stdout);
    let bad = run(dw().args(["completions", "cmd.exe"]));
    assert_eq!(bad.code, 2);
}

/// Every command that reads S3 reports a missing bucket the same way: bad input, with a hint.
#[test]
fn a_missing_bucket_is_bad_input_with_a_hint_wherever_it_is_read() {
    let Some(moto) = common::moto_endpoint() else {
        return;
    };
    let expected = "error: ListObjectsV2 failed: NoSuchBucket: The specified bucket does not exist\n\
                    hint: check the bucket's name in the s3:// URI (or the config's [s3] bucket), \
                    and the account and region it is in\n";
    let out = tempfile::tempdir().unwrap();
    let out = out.path().display().to_string();
    for args in [
        &[
            "report",
            "--debate",
            "2015-08-06",
            "--from",
            "s3://dw-no-such-bucket/dw/results",
        ][..],
        &[
            "watch",
            "--debate",
            "2015-08-06",
            "--from",
            "s3://dw-no-such-bucket/dw/results",
        ],
        &[
            "publish",
            "--debate",
            "2015-08-06",
            "--from",
            "s3://dw-no-such-bucket/dw/results",
            "--dry-run",
        ],
        &[
            "replay",
            "--debate",
            "2015-08-06",
            "--from",
            "s3://dw-no-such-bucket/archive/",
            "--out",
            &out,
        ],
    ] {
        let r = run(dw_at(&moto).args(args));
        assert_eq!((r.code, r.stderr.as_str()), (2, expected), "{args:?}");
    }
}

/// `--debug` adds the AWS SDK's own log lines (requests, retries) to dw's; RUST_LOG replaces
/// the filter the flags make.
#[test]
fn debug_shows_the_sdks_requests_and_rust_log_sets_the_filter() {
    let Some(moto) = common::moto_endpoint() else {
        return;
    };
    let plain = run(dw_at(&moto).args(["-v", "cluster", "list"]));
    assert_eq!(plain.code, 0, "{}", plain.stderr);
    assert!(
        !plain.stderr.contains("aws_smithy_runtime"),
        "{}",
        plain.stderr
    );
    let debug = run(dw_at(&moto).args(["--debug", "cluster", "list"]));
    assert_eq!(debug.code, 0, "{}", debug.stderr);
    assert!(
        debug
            .stderr
            .lines()
            .any(|l| l.contains(" aws_smithy_runtime") && l.contains("retry")),
        "{}",
        debug.stderr
    );
    // Every line keeps dw's shape: a UTC time, then who speaks.
    for line in debug.stderr.lines().filter(|l| !l.is_empty()) {
        assert!(
            line.len() > 21 && line.as_bytes()[19] == b'Z' && line.as_bytes()[20] == b' ',
            "{line}"
        );
    }
    let silenced = run(dw_at(&moto)
        .env("RUST_LOG", "off")
        .args(["-v", "cluster", "list"]));
    assert_eq!(silenced.code, 0);
    assert_eq!(silenced.stderr, "", "RUST_LOG=off silences even -v");
}

/// Times are shown in the debates' zone (New York) unless --tz or DW_TZ says another; JSON
/// stays UTC whatever the zone.
#[test]
fn times_are_shown_in_the_zone_asked_for_and_json_stays_utc() {
    let shown = |extra: &[&str], env: Option<&str>| {
        let mut cmd = dw();
        cmd.env_remove("DW_TZ");
        if let Some(tz) = env {
            cmd.env("DW_TZ", tz);
        }
        let r = run(cmd.args(["debates", "--debate", "2015-11-10"]).args(extra));
        assert_eq!(r.code, 0, "{}", r.stderr);
        r.stdout
    };
    assert!(shown(&[], None).contains("undercard  2015-11-10 19:00 to 20:30 EST"));
    assert!(shown(&["--tz", "UTC"], None).contains("undercard  2015-11-11 00:00 to 01:30 UTC"));
    assert!(shown(&[], Some("Europe/Berlin")).contains("2015-11-11 01:00 to 02:30 CET"));
    let json = shown(&["--output", "json", "--tz", "Europe/Berlin"], None);
    assert!(json.contains("\"2015-11-11T00:00:00Z\""), "{json}");
    let r = run(dw().args(["debates", "--tz", "Mars/Base"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr
            .starts_with("error: `Mars/Base` is not a time zone\nhint: "),
        "{}",
        r.stderr
    );
}
