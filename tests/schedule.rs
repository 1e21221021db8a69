//! `dw schedule`: cron lines for the 2015-16 calendar in fixed time zones (daylight saving
//! included), the install/remove round trip through a stand-in `crontab`, and the scheduled
//! runs that refuse on any other day.

mod common;

use std::path::Path;

use common::{dw, run};

fn print(args: &[&str]) -> String {
    let r = run(dw()
        .args([
            "-q",
            "--config",
            "configs/dw.toml",
            "schedule",
            "print",
            "--log-dir",
            "/var/log/dw",
        ])
        .args(args));
    assert_eq!(r.code, 0, "{}", r.stderr);
    // The lines name dw and the config by absolute path: show them stably.
    r.stdout
        .replace(env!("CARGO_BIN_EXE_dw"), "/path/to/dw")
        .replace(
            &common::repo().join("configs/dw.toml").display().to_string(),
            "/path/to/configs/dw.toml",
        )
}

#[test]
fn the_2016_calendar_in_new_york() {
    insta::assert_snapshot!(print(&["--from", "2016-01-01", "--tz", "America/New_York"]));
}

fn line_for<'a>(block: &'a str, debate: &str, what: &str) -> &'a str {
    block
        .lines()
        .find(|l| l.contains(&format!("cluster {what} --debate {debate}")))
        .unwrap_or_else(|| panic!("{what} {debate} in\n{block}"))
}

fn fields(line: &str) -> String {
    line.split(' ').take(5).collect::<Vec<_>>().join(" ")
}

#[test]
fn times_follow_the_time_zone_across_daylight_saving() {
    // 2015-10-28 starts 22:00Z (18:00 EDT), 2015-11-10 00:00Z (19:00 EST): 2015-11-01 lies between.
    let ny = print(&["--from", "2015-10-01", "--tz", "America/New_York"]);
    assert_eq!(fields(line_for(&ny, "2015-10-28", "up")), "15 17 28 10 *");
    assert_eq!(fields(line_for(&ny, "2015-11-10", "up")), "15 18 10 11 *");
    // The 2015-11-10 evening ends 04:30Z; +30 min is 05:00Z = midnight EST, the next day.
    assert_eq!(fields(line_for(&ny, "2015-11-10", "down")), "0 0 11 11 *");

    let utc = print(&["--from", "2015-10-01", "--tz", "UTC"]);
    assert_eq!(fields(line_for(&utc, "2015-10-28", "up")), "15 21 28 10 *");
    assert_eq!(fields(line_for(&utc, "2015-11-10", "up")), "15 23 10 11 *");
    assert_eq!(fields(line_for(&utc, "2015-11-10", "down")), "0 5 11 11 *");

    // Berlin left summer time on 2015-10-25, a week before New York.
    let berlin = print(&["--from", "2015-10-01", "--tz", "Europe/Berlin"]);
    assert_eq!(
        fields(line_for(&berlin, "2015-10-28", "up")),
        "15 22 28 10 *"
    );
    assert_eq!(
        fields(line_for(&berlin, "2015-11-10", "up")),
        "15 0 11 11 *"
    );
}

#[test]
fn past_debates_are_left_out() {
    let block = print(&["--from", "2016-03-01", "--tz", "UTC"]);
    assert!(!block.contains("--debate 2016-02-25"));
    assert!(block.contains("--debate 2016-03-03"));
    assert!(block.contains("--debate 2016-04-14"));
}

/// A stand-in `crontab` that keeps the table in $CRONTAB_FILE.
fn fake_crontab(dir: &Path) -> String {
    use std::os::unix::fs::PermissionsExt;
    let bin = dir.join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    let script = bin.join("crontab");
    std::fs::write(
        &script,
        "#!/bin/sh\n\
         case \"$1\" in\n\
           -l) if [ -f \"$CRONTAB_FILE\" ]; then cat \"$CRONTAB_FILE\"; else echo \"no crontab for $(id -un)\" >&2; exit 1; fi ;;\n\
           -) cat > \"$CRONTAB_FILE\" ;;\n\
           *) echo \"crontab: unexpected $*\" >&2; exit 2 ;;\n\
         esac\n",
    )
    .unwrap();
    std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    )
}

#[test]
fn install_is_idempotent_and_remove_restores_the_crontab() {
    let dir = tempfile::tempdir().unwrap();
    let path = fake_crontab(dir.path());
    let table = dir.path().join("crontab.txt");
    let mine = "MAILTO=ops@example.org\n30 2 * * * /usr/local/bin/backup\n";
    std::fs::write(&table, mine).unwrap();
    // As `cargo install` would leave it: a dw outside any cargo target directory.
    let installed = dir.path().join("bin-dw");
    std::fs::copy(env!("CARGO_BIN_EXE_dw"), &installed).unwrap();
    let sched = |args: &[&str]| {
        run(dw()
            .env("PATH", &path)
            .env("CRONTAB_FILE", &table)
            .args(["-q", "--config", "configs/dw.toml", "schedule"])
            .args(args)
            .args(if args[0] == "install" {
                vec!["--binary".to_string(), installed.display().to_string()]
            } else {
                vec![]
            }))
    };
    let install = [
        "install",
        "--from",
        "2016-01-01",
        "--tz",
        "UTC",
        "--log-dir",
    ];
    let logs = dir.path().join("logs").display().to_string();

    let dry = sched(&[&install[..], &[&logs, "--dry-run"]].concat());
    assert_eq!(dry.code, 0, "{}", dry.stderr);
    assert!(
        dry.stdout.contains("+ # BEGIN dw schedule"),
        "{}",
        dry.stdout
    );
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        mine,
        "--dry-run changes nothing"
    );

    let r = sched(&[&install[..], &[&logs]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    let once = std::fs::read_to_string(&table).unwrap();
    assert!(once.starts_with(mine), "other lines untouched");
    assert_eq!(
        once.matches("cluster up --debate").count(),
        13,
        "13 evenings from 2016-01-01"
    );
    let r = sched(&[&install[..], &[&logs]].concat());
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        once,
        "installing twice changes nothing"
    );

    // A later install drops the evenings that have passed.
    let later = [
        "install",
        "--from",
        "2016-03-01",
        "--tz",
        "UTC",
        "--log-dir",
        &logs,
    ];
    assert_eq!(sched(&later).code, 0);
    let after = std::fs::read_to_string(&table).unwrap();
    assert_eq!(after.matches("cluster up --debate").count(), 5);
    assert!(after.starts_with(mine));

    assert_eq!(sched(&["remove"]).code, 0);
    assert_eq!(
        std::fs::read_to_string(&table).unwrap().trim_end(),
        mine.trim_end()
    );
}

#[test]
fn a_scheduled_run_on_another_day_does_nothing() {
    // Cron lines have no year: the 2015-11-10 line fires again every 10 November.
    for cmd in [
        &["cluster", "up", "--debate", "2015-11-10", "--scheduled"][..],
        &[
            "cluster",
            "down",
            "--debate",
            "2015-11-10",
            "--if-exists",
            "--scheduled",
        ][..],
    ] {
        let r = run(dw().args(cmd));
        assert_eq!(r.code, 0, "{}", r.stderr);
        assert!(
            r.stderr.ends_with(
                "scheduled run for 2015-11-10, but today is not that debate's day: nothing to do\n"
            ),
            "{}",
            r.stderr
        );
    }
}

#[test]
fn install_refuses_a_cargo_builds_binary_unless_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    let path = fake_crontab(dir.path());
    let table = dir.path().join("crontab.txt");
    std::fs::write(&table, "").unwrap();
    let r = run(dw().env("PATH", &path).env("CRONTAB_FILE", &table).args([
        "--config",
        "configs/dw.toml",
        "schedule",
        "install",
        "--from",
        "2016-01-01",
    ]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("is a cargo build's binary") && r.stderr.contains("--binary PATH"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read_to_string(&table).unwrap(),
        "",
        "nothing installed"
    );
    // Printing the lines only notes it.
    let r = run(dw().args([
        "--config",
        "configs/dw.toml",
        "schedule",
        "print",
        "--from",
        "2016-01-01",
    ]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(r.stderr.contains("note: "), "{}", r.stderr);
}
