//! What a cluster has cost so far, estimated from its snapshot: instance-hours times each
//! group's price (spot: its bid, an upper bound; on-demand: `[spot.on_demand]` over the
//! built-in table, the prices a quote uses).

use super::Snapshot;
use crate::spot::prices;

/// The cluster's seconds up (from ready, else created, to ended or now) and its estimated cost
/// in dollars; no cost when a group's price is unknown.
pub(crate) fn estimate(
    s: &Snapshot,
    on_demand: prices::OnDemand<'_>,
) -> (Option<i64>, Option<f64>) {
    let start = s.ready.or(s.created);
    let end = s.ended.unwrap_or_else(jiff::Timestamp::now);
    let Some(start) = start else {
        return (None, None);
    };
    let secs = (end.as_second() - start.as_second()).max(0);
    let hours = secs as f64 / 3600.0;
    let mut cost = 0.0;
    for g in &s.groups {
        let price = match g.market.as_str() {
            "SPOT" => g.bid.as_deref().and_then(|b| b.parse::<f64>().ok()),
            _ => on_demand.price(&g.instance_type),
        };
        let Some(price) = price else {
            return (Some(secs), None);
        };
        // An ended cluster runs nothing any more: count what it was asked to run.
        let nodes = if s.ended.is_some() {
            g.requested.max(g.running)
        } else {
            g.running
        };
        cost += price * f64::from(nodes.max(0)) * hours;
    }
    (Some(secs), Some(cost))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster;

    fn snapshot(ended: Option<&str>, running: i32) -> Snapshot {
        let group = |name: &str, market: &str, bid: Option<&str>| cluster::GroupStatus {
            name: name.into(),
            role: name.to_uppercase(),
            market: market.into(),
            instance_type: "m3.large".into(),
            bid: bid.map(str::to_string),
            requested: 2,
            running,
            state: "ENDED".into(),
        };
        Snapshot {
            id: "j-1".into(),
            name: "dw".into(),
            debate: None,
            state: "TERMINATED".into(),
            reason: None,
            reason_code: None,
            master_dns: None,
            created: Some("2016-02-13T23:00:00Z".parse().unwrap()),
            ready: Some("2016-02-14T00:00:00Z".parse().unwrap()),
            ended: ended.map(|e| e.parse().unwrap()),
            log_uri: None,
            zone: None,
            groups: vec![
                group("master", "ON_DEMAND", None),
                group("core", "SPOT", Some("0.1330")),
            ],
            steps: vec![],
        }
    }

    /// Two hours of 2 on-demand masters ($0.133) and 2 spot cores (bid $0.133): $1.064, also
    /// once EMR reports 0 running instances for the ended cluster.
    #[test]
    fn an_ended_clusters_cost_counts_what_it_ran() {
        let table = std::collections::BTreeMap::new();
        let (secs, cost) = estimate(
            &snapshot(Some("2016-02-14T02:00:00Z"), 0),
            prices::OnDemand::new(&table),
        );
        assert_eq!(secs, Some(7200));
        let cost = cost.unwrap();
        assert!((cost - 4.0 * 0.133 * 2.0).abs() < 1e-9, "{cost}");
    }

    /// `[spot.on_demand]` prices the on-demand groups, as it prices the quote's bid: two hours
    /// of 2 masters at $0.20 and 2 spot cores at their bid, $0.133.
    #[test]
    fn the_configurations_on_demand_price_is_the_one_status_uses() {
        let mut overrides = std::collections::BTreeMap::new();
        overrides.insert(
            "m3.large".to_string(),
            crate::units::Dollars::try_from(0.20).unwrap(),
        );
        let (_, cost) = estimate(
            &snapshot(Some("2016-02-14T02:00:00Z"), 0),
            prices::OnDemand::new(&overrides),
        );
        let cost = cost.unwrap();
        assert!(
            (cost - (2.0 * 0.20 + 2.0 * 0.133) * 2.0).abs() < 1e-9,
            "{cost}"
        );
    }
}
