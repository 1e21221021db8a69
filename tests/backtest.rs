//! `dw spot backtest` and `dw spot history` on the real us-east-1 records of 2016
//! (tests/fixtures/spot): the figures the README quotes, the JSON contract, the pictures.

mod common;

use common::{dw, fixture, run};
use serde_json::Value;

fn history(instance_type: &str) -> Vec<String> {
    ["a", "b", "c"]
        .iter()
        .flat_map(|z| {
            [
                "--history".to_string(),
                fixture(&format!(
                    "spot/spot_history_{instance_type}-us-east-1{z}_2016-02-25_2016-04-25.json"
                )),
            ]
        })
        .collect()
}

fn backtest_json(instance_type: &str, extra: &[&str]) -> Value {
    let r = run(dw()
        .args(["-q", "spot", "backtest", instance_type, "--output", "json"])
        .args(history(instance_type))
        .args(extra));
    assert_eq!(r.code, 0, "{}", r.stderr);
    serde_json::from_str(&r.stdout).expect("JSON on stdout")
}

fn policy<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["policies"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == name)
        .unwrap_or_else(|| panic!("policy {name} in {report}"))
}

fn cost(p: &Value) -> f64 {
    p["mean_cost"].as_f64().unwrap()
}

/// Hourly launches over the whole records: the seed rule loses 33 of 1414 m3.large clusters
/// (2.3%); bidding on-demand loses none, and dw (and climb) neither, for no more money.
#[test]
fn m3_large_hourly() {
    let r = backtest_json("m3.large", &[]);
    let keys: Vec<&str> = r.as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "instance_type",
            "launches_from",
            "launches_to",
            "on_demand",
            "policies",
            "recovery_delay_secs",
            "window_secs"
        ]
    );
    let policy_keys: Vec<&str> = r["policies"][0]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        policy_keys,
        [
            "cost_share_of_on_demand",
            "interrupted",
            "interrupted_pct",
            "launches",
            "mean_bid",
            "mean_cost",
            "mean_hours_to_interruption",
            "mean_minutes_without_core",
            "name"
        ]
    );
    assert_eq!(r["instance_type"], "m3.large");
    // The first launch on the hour after a full day of records (dw's look-back).
    assert_eq!(r["launches_from"], "2016-02-26T12:00:00Z");
    assert_eq!(r["launches_to"], "2016-04-25T09:00:00Z");
    assert_eq!(r["window_secs"], 9000);
    assert_eq!(
        (r["on_demand"].as_f64(), r["recovery_delay_secs"].as_i64()),
        (Some(0.133), Some(480))
    );
    let (seed, od, climb, dw) = (
        policy(&r, "seed"),
        policy(&r, "on-demand"),
        policy(&r, "climb"),
        policy(&r, "dw"),
    );
    for p in [seed, od, climb, dw] {
        assert_eq!(p["launches"], 1414);
    }
    assert_eq!(seed["interrupted"], 33);
    assert_eq!(od["interrupted"], 0);
    assert_eq!(climb["interrupted"], 0);
    assert_eq!(dw["interrupted"], 0);
    assert_eq!(od["mean_bid"], 0.133);
    assert!(cost(dw) <= cost(od), "{} > {}", cost(dw), cost(od));
    assert!(cost(od) < cost(seed), "interruptions cost the seed rule");
    // 33 losses, each up to 8 minutes without a core node (less when the window ends
    // sooner), spread over the 1414 launches: 258.2 minutes in all.
    let without = seed["mean_minutes_without_core"].as_f64().unwrap() * 1414.0;
    assert!((without - 258.233).abs() < 0.001, "{without}");
    assert!(without <= 33.0 * 8.0 && without > 32.0 * 8.0, "{without}");
    assert_eq!(od["mean_hours_to_interruption"], Value::Null);
    let share = od["cost_share_of_on_demand"].as_f64().unwrap();
    assert!((share - cost(od) / (0.133 * 2.5)).abs() < 1e-12, "{share}");
}

/// Hourly m3.medium: the seed rule loses one cluster, the on-demand bids none.
#[test]
fn m3_medium_hourly() {
    let r = backtest_json("m3.medium", &[]);
    let (seed, od, dw) = (
        policy(&r, "seed"),
        policy(&r, "on-demand"),
        policy(&r, "dw"),
    );
    assert_eq!(od["launches"], 1413);
    assert_eq!(seed["interrupted"], 1);
    assert_eq!(od["interrupted"], 0);
    assert_eq!(dw["interrupted"], 0);
    assert_eq!(seed["mean_bid"], 0.02);
    assert_eq!(dw["mean_bid"], 0.067);
    assert!(cost(dw) <= cost(od), "{} > {}", cost(dw), cost(od));
}

/// Launches every 5 minutes catch the 2016-03-31 spikes to $0.70 (10x on-demand): on-demand
/// bids lose 7 clusters, climb 4 (it leaves a zone whose price is climbing: the one event it
/// was designed on), dw 7 like on-demand, each for no more money than on-demand.
#[test]
fn m3_medium_every_five_minutes() {
    let r = backtest_json("m3.medium", &["--every", "5m"]);
    let (seed, od, climb, dw) = (
        policy(&r, "seed"),
        policy(&r, "on-demand"),
        policy(&r, "climb"),
        policy(&r, "dw"),
    );
    assert_eq!(od["launches"], 16963);
    assert_eq!(seed["interrupted"], 13);
    assert_eq!(od["interrupted"], 7);
    assert_eq!(climb["interrupted"], 4);
    assert_eq!(dw["interrupted"], 7);
    assert!(cost(climb) <= cost(od), "{} > {}", cost(climb), cost(od));
    assert!(cost(dw) <= cost(od), "{} > {}", cost(dw), cost(od));
}

/// The debate evenings inside the records (2016-02-25 .. 04-25): launched 45 min before the
/// first debate, run until 30 min after the last, at the debate-night floor.
#[test]
fn debate_nights() {
    // The seed rule looks back one hour: the Houston debate of 2016-02-25 (01:30 UTC) is in.
    let r = backtest_json("m3.medium", &["--debates", "--policy", "seed"]);
    let seed = policy(&r, "seed");
    assert_eq!(seed["launches"], 6);
    assert_eq!(seed["mean_bid"], 0.05, "the debate-night floor");
    assert_eq!(r["launches_from"], "2016-02-26T00:45:00Z");
    assert_eq!(r["launches_to"], "2016-04-15T00:15:00Z");
    assert_eq!(r["policies"].as_array().unwrap().len(), 1);
    // climb looks back a day, which the records do not have before Houston.
    let r = backtest_json("m3.medium", &["--debates"]);
    assert_eq!(policy(&r, "dw")["launches"], 5);
    assert_eq!(r["launches_from"], "2016-03-04T01:15:00Z");
}

#[test]
fn the_text_table() {
    let r = run(dw()
        .args(["-q", "spot", "backtest", "m3.large"])
        .args(history("m3.large")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
}

#[test]
fn a_backtest_needs_prices() {
    let r = run(dw().args(["spot", "backtest", "m3.large"]));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: a backtest needs prices: saved history files, or a past range to ask EC2 for\n\
         hint: pass --history FILE|DIR (repeatable), or --from DATE --to DATE\n"
    );
}

#[test]
fn an_unknown_on_demand_price_must_be_given() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("x1.json");
    std::fs::write(
        &file,
        r#"{"SpotPriceHistory": [{"Timestamp": "2016-04-01T00:00:00Z", "ProductDescription": "Linux/UNIX",
            "InstanceType": "x1.32xlarge", "SpotPrice": "2.000000", "AvailabilityZone": "us-east-1a"}]}"#,
    )
    .unwrap();
    let r = run(dw()
        .args(["spot", "backtest", "x1.32xlarge", "--history"])
        .arg(&file));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: dw does not know the on-demand price of x1.32xlarge\n\
         hint: pass --on-demand-price P ($/hour), or add the type to [spot.on_demand] in the config\n"
    );
}

#[test]
fn the_plot_is_a_png_or_an_svg() {
    let dir = tempfile::tempdir().unwrap();
    let png = dir.path().join("backtest.png");
    let svg = dir.path().join("plots/backtest.svg");
    for path in [&png, &svg] {
        let r = run(dw()
            .args(["-q", "spot", "backtest", "m3.large", "--plot"])
            .arg(path)
            .args(history("m3.large")));
        assert_eq!(r.code, 0, "{}", r.stderr);
    }
    let bytes = std::fs::read(&png).unwrap();
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n");
    assert!(bytes.len() > 20_000, "a drawn picture, not an empty one");
    let text = std::fs::read_to_string(&svg).unwrap();
    assert!(text.starts_with("<svg"), "{}", &text[..80]);
    for label in [
        "m3.large backtest",
        "seed: mean $0.0492, 33 interrupted",
        "launch time (UTC)",
    ] {
        assert!(text.contains(label), "{label} in the SVG");
    }

    let r = run(dw()
        .args(["spot", "backtest", "m3.large", "--plot", "x.pdf"])
        .args(history("m3.large")));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: x.pdf: dw draws .svg or .png files\n\
         hint: name the plot file with one of those extensions\n"
    );
}

/// 2016-03-30 18:00 to 03-31 06:00: both spikes, and each policy's bid.
#[test]
fn history_around_the_spikes() {
    let dir = tempfile::tempdir().unwrap();
    let svg = dir.path().join("history.svg");
    let r = run(dw()
        .args([
            "-q",
            "spot",
            "history",
            "m3.medium",
            "--at",
            "2016-03-31T06:00:00Z",
            "--lookback",
            "12h",
            "--plot",
        ])
        .arg(&svg)
        .args(history("m3.medium")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    insta::assert_snapshot!(r.stdout);
    let text = std::fs::read_to_string(&svg).unwrap();
    for label in [
        "us-east-1c price",
        "bid: seed",
        "bid: on-demand = climb = dw",
        "$ per instance-hour (log scale)",
    ] {
        assert!(text.contains(label), "{label} in the SVG");
    }
}

#[test]
fn an_on_demand_price_is_dollars_above_zero() {
    let r = run(dw().args(["spot", "backtest", "m3.large", "--on-demand-price", "0"]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with(
            "error: invalid value '0' for '--on-demand-price <P>': `0` is not a price: \
             write dollars per hour above zero, e.g. 0.133"
        ),
        "{}",
        r.stderr
    );
}

/// Every shipped 2016 type at once (a pattern and a folder of .json.gz files): the default
/// policy, dw, loses no more clusters than the plain on-demand bid and costs no more, on all
/// twelve together and on each one; climb (dw's rule until 2026-11) does not.
#[test]
fn twelve_types_together() {
    let r = run(dw()
        .args(["-q", "spot", "backtest", "--output", "json", "--history"])
        .arg(fixture("spot/spot_history_m*2016-04-25.json"))
        .arg("--history")
        .arg(fixture("spot/more-2016")));
    assert_eq!(r.code, 0, "{}", r.stderr);
    let s: Value = serde_json::from_str(&r.stdout).unwrap();
    let types: Vec<&str> = s["reports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["instance_type"].as_str().unwrap())
        .collect();
    assert_eq!(
        types,
        [
            "c1.medium",
            "cr1.8xlarge",
            "d2.2xlarge",
            "d2.8xlarge",
            "d2.xlarge",
            "g2.8xlarge",
            "hi1.4xlarge",
            "m1.small",
            "m3.large",
            "m3.medium",
            "m4.10xlarge",
            "t1.micro"
        ]
    );
    let together = |name: &str| {
        s["together"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    let (od, climb, dw_) = (together("on-demand"), together("climb"), together("dw"));
    assert_eq!(od["launches"], 16993);
    assert_eq!(
        [&together("seed"), &od, &climb, &dw_].map(|p| p["interrupted"].as_u64().unwrap()),
        [2320, 501, 496, 491]
    );
    let total = |p: &Value| p["total_cost"].as_f64().unwrap();
    assert!((total(&od) - 12624.80).abs() < 0.005, "{}", total(&od));
    assert!((total(&dw_) - 12586.36).abs() < 0.005, "{}", total(&dw_));
    assert!(
        total(&climb) > total(&od),
        "climb costs more than on-demand"
    );
    assert_eq!(dw_["types_at_least_as_good_as_on_demand"], 12);
    assert_eq!(climb["types_at_least_as_good_as_on_demand"], 5);

    // Three types one by one: (on-demand, climb, dw) interruptions and dw's mean cost.
    let report = |t: &str| {
        s["reports"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["instance_type"] == t)
            .unwrap()
            .clone()
    };
    for (t, interrupted, dw_cost) in [
        ("g2.8xlarge", [426, 429, 422], 3.0340),
        ("m4.10xlarge", [70, 62, 64], 1.5402),
        ("d2.2xlarge", [5, 5, 5], 0.3817),
    ] {
        let r = report(t);
        assert_eq!(
            ["on-demand", "climb", "dw"].map(|p| policy(&r, p)["interrupted"].as_u64().unwrap()),
            interrupted,
            "{t}"
        );
        assert!(
            (cost(policy(&r, "dw")) - dw_cost).abs() < 0.00005,
            "{t}: {}",
            cost(policy(&r, "dw"))
        );
        assert!(
            cost(policy(&r, "dw")) <= cost(policy(&r, "on-demand")),
            "{t}"
        );
    }
}

#[test]
fn several_types_draw_no_single_plot_and_ec2_needs_a_type() {
    let r = run(dw()
        .args(["spot", "backtest", "--plot", "x.png", "--history"])
        .arg(fixture("spot/more-2016")));
    assert_eq!(r.code, 2);
    assert_eq!(
        r.stderr,
        "error: --plot draws one instance type, and this backtest has 9\n\
         hint: name the type to plot, e.g. `dw spot backtest m3.large --history DIR --plot FILE`\n"
    );
    let r = run(dw().args([
        "spot",
        "backtest",
        "--from",
        "2016-03-01",
        "--to",
        "2016-03-02",
    ]));
    assert_eq!(r.code, 2);
    assert!(
        r.stderr.starts_with("error: which instance type?"),
        "{}",
        r.stderr
    );
}
