//! `dw spot quote` through the real EC2 API path (SDK, pagination) against the moto harness
//! started by scripts/test, which serves the recorded us-east-1 history of 2016.

mod common;

use std::sync::Once;

use common::{dw_at, fixture, http_post, m3_large_history, moto_endpoint, run};
use serde_json::Value;

static LOADED: Once = Once::new();

/// The moto endpoint with the recorded m3.large and m3.medium history loaded.
fn harness() -> Option<String> {
    let endpoint = moto_endpoint()?;
    LOADED.call_once(|| {
        let mut files = m3_large_history();
        files.extend(["a", "b", "c"].iter().map(|z| {
            fixture(&format!(
                "spot/spot_history_m3.medium-us-east-1{z}_2016-02-25_2016-04-25.json"
            ))
        }));
        let body = serde_json::json!({ "files": files }).to_string();
        let answer = http_post(&endpoint, "/_dw/spot-history", &body);
        assert!(answer.contains("\"records\""), "{answer}");
    });
    Some(endpoint)
}

fn quote(endpoint: &str, args: &[&str]) -> (Value, String) {
    let r = run(dw_at(endpoint)
        .args(["-vv", "spot", "quote", "--output", "json"])
        .args(args));
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    (serde_json::from_str(&r.stdout).expect("JSON"), r.stderr)
}

fn quote_from_files(args: &[&str]) -> Value {
    let mut cmd = common::dw();
    cmd.args(["spot", "quote", "--output", "json"]).args(args);
    for h in m3_large_history() {
        cmd.args(["--history", &h]);
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    serde_json::from_str(&r.stdout).expect("JSON")
}

/// The API and the saved files must give the same statistics; only what EC2 alone knows (the
/// zones that offer the type without prices in the files) may differ.
fn assert_same_statistics(api: &Value, files: &Value) {
    for key in [
        "instance_type",
        "product",
        "region",
        "window",
        "zones",
        "zone",
        "policy",
        "bid",
        "rule",
    ] {
        assert_eq!(api[key], files[key], "{key}");
    }
}

#[test]
fn the_api_path_gives_the_same_quote_as_the_saved_files() {
    let Some(endpoint) = harness() else { return };
    let args = ["m3.large", "--at", "2016-04-01T07:00:00Z"];
    let (api, _) = quote(&endpoint, &args);
    assert_same_statistics(&api, &quote_from_files(&args));
    assert_eq!(api["zone"], "us-east-1a");
    assert_eq!(api["bid"], 0.133); // dw: the on-demand price
    // moto's offerings say us-east-1e has m3.large too; the recorded history has no prices there.
    assert_eq!(
        api["zones_without_records"],
        serde_json::json!(["us-east-1e"])
    );
}

#[test]
fn a_long_lookback_is_read_across_pages() {
    let Some(endpoint) = harness() else { return };
    let args = [
        "m3.large",
        "--at",
        "2016-04-08T00:00:00Z",
        "--lookback",
        "168h",
    ];
    let (api, log) = quote(&endpoint, &args);
    assert_same_statistics(&api, &quote_from_files(&args));
    // A week of three zones is a few thousand records: EC2 pages them 1000 at a time.
    let pages: u32 = log
        .lines()
        .find_map(|l| l.split(" price records in ").nth(1))
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("a page count in the log:\n{log}"));
    assert!(pages >= 3, "{pages} pages\n{log}");
}

#[test]
fn zones_are_passed_to_ec2() {
    let Some(endpoint) = harness() else { return };
    let (api, _) = quote(
        &endpoint,
        &[
            "m3.medium",
            "--at",
            "2016-04-01T07:00:00Z",
            "--zones",
            "us-east-1b,us-east-1c",
        ],
    );
    let zones: Vec<&str> = api["zones"]
        .as_array()
        .unwrap()
        .iter()
        .map(|z| z["zone"].as_str().unwrap())
        .collect();
    assert_eq!(zones.len(), 2);
    assert!(zones.contains(&"us-east-1b") && zones.contains(&"us-east-1c"));
    assert_eq!(api["zones_without_records"], serde_json::json!([]));
}

#[test]
fn m3_xlarge_is_quoted_for_every_zone_that_offers_it() {
    let Some(endpoint) = harness() else { return };
    // No recorded history for m3.xlarge: moto's own answer (one old price per zone) stands in.
    let (api, _) = quote(&endpoint, &["m3.xlarge"]);
    let zones = api["zones"].as_array().unwrap();
    assert_eq!(zones.len(), 4, "{api}");
    assert_eq!(api["region"], "us-east-1");
    assert_eq!(api["bid"], 0.266, "dw bids m3.xlarge's on-demand price");
    let (seed, _) = quote(&endpoint, &["m3.xlarge", "--policy", "seed"]);
    assert_eq!(seed["bid"], 0.02, "moto's price is tiny: the floor applies");
}

#[test]
fn an_instance_type_no_zone_offers_is_bad_input() {
    let Some(endpoint) = harness() else { return };
    let r = run(dw_at(&endpoint).args(["spot", "quote", "m3.xlargee"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: m3.xlargee is not offered in any zone of us-east-1\n\
         hint: check the instance type's spelling, or pick another region with --region\n"
    );
}

#[test]
fn a_zone_that_does_not_offer_the_type_is_bad_input() {
    let Some(endpoint) = harness() else { return };
    let r =
        run(dw_at(&endpoint).args(["-q", "spot", "quote", "m3.large", "--zones", "us-east-1d"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert_eq!(
        r.stderr,
        "error: m3.large is not offered in us-east-1d\n\
         hint: zones of us-east-1 that offer it: us-east-1a, us-east-1b, us-east-1c, us-east-1e\n"
    );
}

/// A backtest over a past range asks EC2 for the range (and the look-back before it) and must
/// come out exactly as the same range read from the saved files.
#[test]
fn a_backtest_from_the_api_matches_the_saved_files() {
    let Some(endpoint) = harness() else { return };
    let range = [
        "--from",
        "2016-03-30",
        "--to",
        "2016-04-01",
        "--every",
        "30m",
    ];
    let r = run(dw_at(&endpoint)
        .args(["spot", "backtest", "m3.medium", "--output", "json"])
        .args(range));
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let api: Value = serde_json::from_str(&r.stdout).expect("JSON");

    let mut cmd = common::dw();
    cmd.args(["spot", "backtest", "m3.medium", "--output", "json"])
        .args(range);
    for z in ["a", "b", "c"] {
        cmd.args([
            "--history",
            &fixture(&format!(
                "spot/spot_history_m3.medium-us-east-1{z}_2016-02-25_2016-04-25.json"
            )),
        ]);
    }
    let r = run(&mut cmd);
    assert_eq!(r.code, 0, "stderr: {}", r.stderr);
    let files: Value = serde_json::from_str(&r.stdout).expect("JSON");
    assert_eq!(api, files);
    assert_eq!(api["launches_from"], "2016-03-30T00:00:00Z");
    assert_eq!(api["launches_to"], "2016-04-01T00:00:00Z");
    assert_eq!(api["policies"][0]["launches"], 97);
}
