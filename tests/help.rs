//! `--help` of every command, as the user sees it, and the calendar listing.

mod common;

use common::{dw, run};

fn help(args: &[&str]) -> String {
    let r = run(dw().args(args).arg("--help"));
    assert_eq!(r.code, 0, "{}", r.stderr);
    r.stdout
}

#[test]
fn top_level_help() {
    insta::assert_snapshot!(help(&[]));
}

#[test]
fn spot_quote_help() {
    insta::assert_snapshot!(help(&["spot", "quote"]));
}

#[test]
fn debates_help() {
    insta::assert_snapshot!(help(&["debates"]));
}

#[test]
fn debates_lists_an_evening_with_both_tiers() {
    let r = run(dw().args(["debates", "--debate", "2015-11-10"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn debates_json_carries_the_track_terms() {
    let r = run(dw().args(["debates", "--debate", "2015-11-14", "--output", "json"]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let v: serde_json::Value = serde_json::from_str(&r.stdout).unwrap();
    let debate = &v[0]["debates"][0];
    assert_eq!(debate["start"], "2015-11-15T02:00:00Z");
    assert_eq!(debate["candidates"][0]["key"], "clinton");
    assert_eq!(debate["candidates"][0]["terms"][3], "@HillaryClinton");
}

#[test]
fn past_and_upcoming_split_the_calendar() {
    let all = run(dw().args(["debates", "--output", "json"]));
    let past = run(dw().args(["debates", "--past", "--output", "json"]));
    let upcoming = run(dw().args(["debates", "--upcoming", "--output", "json"]));
    let count = |s: &str| {
        serde_json::from_str::<Vec<serde_json::Value>>(s)
            .unwrap()
            .len()
    };
    assert_eq!(count(&all.stdout), 21);
    assert_eq!(count(&past.stdout) + count(&upcoming.stdout), 21);
}

#[test]
fn render_help() {
    insta::assert_snapshot!(help(&["render"]));
}

#[test]
fn cluster_up_help() {
    insta::assert_snapshot!(help(&["cluster", "up"]));
}

#[test]
fn cluster_down_help() {
    insta::assert_snapshot!(help(&["cluster", "down"]));
}

#[test]
fn spot_backtest_help() {
    insta::assert_snapshot!(help(&["spot", "backtest"]));
}

#[test]
fn report_help() {
    insta::assert_snapshot!(help(&["report"]));
}
