//! How fast `dw spot backtest` is: the recorded 60 days x 3 zones of one type, hourly launches,
//! all three policies. Prints its figures; run it in release:
//!
//!     cargo run --release --example backtest_bench [-- m3.medium]
//!
//! Reading the files (serde, 7 MB of JSON) and the backtest itself are timed apart, each the
//! best of five runs.

use std::path::PathBuf;
use std::time::Instant;

use dw::spot::Policy;
use dw::spot::backtest::{Backtest, every};
use dw::spot::history::read_cli_json;
use dw::spot::series::History;
use dw::units::{Duration, InstanceType};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let name = std::env::args().nth(1).unwrap_or_else(|| "m3.large".into());
    let instance_type: InstanceType = name.parse()?;
    let files: Vec<PathBuf> = ["a", "b", "c"]
        .iter()
        .map(|z| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
                "tests/fixtures/spot/spot_history_{name}-us-east-1{z}_2016-02-25_2016-04-25.json"
            ))
        })
        .collect();

    let mut read_best = f64::MAX;
    let mut records = Vec::new();
    for _ in 0..5 {
        let t = Instant::now();
        records.clear();
        for f in &files {
            records.extend(read_cli_json(f)?);
        }
        read_best = read_best.min(t.elapsed().as_secs_f64());
    }
    let history = History::from_records(&records, &instance_type, Some("Linux/UNIX"), &[]);
    let (first, last) = history.span().ok_or("no records")?;
    // The longest look-back of the policies before the first launch, as `dw spot backtest`
    // starts.
    let lookback = Duration::from_secs(3600);
    let needed = Policy::ALL
        .iter()
        .map(|p| p.history_needed(lookback))
        .max()
        .unwrap_or(lookback);
    let first = jiff::Timestamp::from_millisecond(first)? + needed.get();
    let last = jiff::Timestamp::from_millisecond(last)?;
    let window = Duration::from_secs(9000);
    let launches = every(
        first,
        last - window.get(),
        Duration::from_secs(3600),
        window,
    );
    let run = Backtest {
        instance_type: instance_type.clone(),
        product: "Linux/UNIX".into(),
        zones: vec![],
        lookback,
        markup: 0.20,
        floor: 0.02,
        debate_night_floor: 0.05,
        on_demand: dw::spot::prices::OnDemand::new(&std::collections::BTreeMap::new())
            .price(&name)
            .ok_or("no on-demand price")?,
        policies: Policy::ALL.to_vec(),
        recovery_delay: dw::spot::backtest::RECOVERY_DELAY,
    };
    let mut best = f64::MAX;
    let mut report = None;
    for _ in 0..5 {
        let t = Instant::now();
        report = Some(run.run(&history, &launches)?);
        best = best.min(t.elapsed().as_secs_f64());
    }
    let report = report.ok_or("no run")?;
    println!(
        "{name}: {} records in {} zones, {} hourly launches x {} policies",
        history.records(),
        history.zones.len(),
        launches.len(),
        report.policies.len()
    );
    println!("read the JSON files   {:>8.1} ms", read_best * 1e3);
    println!("backtest              {:>8.1} ms", best * 1e3);
    println!("together              {:>8.1} ms", (read_best + best) * 1e3);
    Ok(())
}
