//! Spot prices: per-zone statistics over a look-back window, the cheapest zone and the bid.

pub mod history;
pub mod prices;
pub mod stats;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::units::{Duration, InstanceType};
use history::{PriceRecord, Query};
use stats::{ZoneStats, zone_stats};

/// The team's rule: bid = max(floor, time-weighted mean x (1 + markup)), rounded up to $0.0001.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BidRule {
    pub markup: f64,
    pub floor: f64,
    /// True when `floor` is the debate-night floor.
    pub debate_night: bool,
}

impl BidRule {
    pub fn bid(&self, mean: f64) -> f64 {
        round_up_4(self.floor.max(mean * (1.0 + self.markup)))
    }

    pub fn describe(&self, mean: f64) -> String {
        let floor = if self.debate_night {
            "debate-night floor"
        } else {
            "floor"
        };
        format!(
            "max({floor} ${:.4}, mean ${:.6} x {:.2}) rounded up to $0.0001",
            self.floor,
            mean,
            1.0 + self.markup
        )
    }
}

/// Rounds a dollar amount up to 4 decimals, forgiving float noise below 1e-9 of a step.
fn round_up_4(x: f64) -> f64 {
    (x * 10_000.0 - 1e-9).ceil() / 10_000.0
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub instance_type: InstanceType,
    pub product: String,
    pub region: String,
    pub window: Window,
    /// Zones with records, cheapest first.
    pub zones: Vec<ZoneStats>,
    /// Zones asked for (or offering the type) with no price in the window.
    pub zones_without_records: Vec<String>,
    pub cheapest_zone: String,
    pub bid: f64,
    pub rule: String,
    /// The bid is below the chosen zone's current price: the request would wait for the price to
    /// come down.
    pub bid_below_latest: bool,
}

/// What to quote.
#[derive(Debug, Clone)]
pub struct QuoteRequest {
    pub instance_type: InstanceType,
    pub product: String,
    pub at: Timestamp,
    pub lookback: Duration,
    pub zones: Vec<String>,
    pub rule: BidRule,
}

impl QuoteRequest {
    pub fn window_start(&self) -> Timestamp {
        self.at - self.lookback.get()
    }

    pub fn query(&self) -> Query<'_> {
        Query {
            instance_type: &self.instance_type,
            product: &self.product,
            zones: &self.zones,
            start: self.window_start(),
            end: self.at,
        }
    }
}

/// Computes the quote from `records` (as the query selected them). `expected_zones` are zones
/// that should have had prices (EC2's offerings, or `--zones`); `region` names the region
/// (derived from the zones when `None`).
pub fn quote(
    req: &QuoteRequest,
    records: &[PriceRecord],
    expected_zones: &[String],
    region: Option<&str>,
) -> Result<Quote> {
    let start = req.window_start();
    let mut by_zone: BTreeMap<&str, Vec<PriceRecord>> = BTreeMap::new();
    for r in records {
        by_zone.entry(&r.zone).or_default().push(r.clone());
    }
    let mut zones: Vec<ZoneStats> = by_zone
        .iter()
        .filter_map(|(zone, recs)| zone_stats(zone, recs, start, req.at))
        .collect();
    zones.sort_by(|a, b| {
        a.mean
            .total_cmp(&b.mean)
            .then(a.latest.total_cmp(&b.latest))
            .then(a.zone.cmp(&b.zone))
    });
    let mut zones_without_records: Vec<String> = expected_zones
        .iter()
        .chain(
            by_zone
                .keys()
                .map(|z| z.to_string())
                .collect::<Vec<_>>()
                .iter(),
        )
        .filter(|z| !zones.iter().any(|s| &s.zone == *z))
        .cloned()
        .collect();
    zones_without_records.sort();
    zones_without_records.dedup();

    let Some(cheapest) = zones.first() else {
        return Err(Error::input_with_hint(
            format!(
                "no {} {} spot prices between {} and {}",
                req.instance_type, req.product, start, req.at
            ),
            format!(
                "try a longer look-back, e.g. --lookback {}",
                Duration::from_secs(req.lookback.as_secs() * 24)
            ),
        ));
    };
    let bid = req.rule.bid(cheapest.mean);
    let region = region.map(str::to_string).unwrap_or_else(|| {
        // "us-east-1a" -> "us-east-1"
        cheapest
            .zone
            .trim_end_matches(|c: char| c.is_ascii_lowercase())
            .to_string()
    });
    Ok(Quote {
        instance_type: req.instance_type.clone(),
        product: req.product.clone(),
        region,
        window: Window { start, end: req.at },
        cheapest_zone: cheapest.zone.clone(),
        bid,
        rule: req.rule.describe(cheapest.mean),
        bid_below_latest: bid < cheapest.latest,
        zones,
        zones_without_records,
    })
}

impl Quote {
    /// The human-readable form: a table of zones, then the choice and the rule behind it.
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} spot prices in {}, {} to {} ({}), $ per instance-hour",
            self.instance_type,
            self.product,
            self.region,
            self.window.start.strftime("%Y-%m-%d %H:%M"),
            self.window.end.strftime("%Y-%m-%d %H:%M UTC"),
            Duration::from_secs(self.window.end.as_second() - self.window.start.as_second()),
        );
        let _ = writeln!(
            out,
            "\n  {:<12} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}",
            "zone", "mean", "min", "max", "latest", "changes", "coverage"
        );
        for z in &self.zones {
            let mark = if z.zone == self.cheapest_zone {
                "*"
            } else {
                " "
            };
            let _ = writeln!(
                out,
                "{mark} {:<12} {:>9.6} {:>9.6} {:>9.6} {:>9.6} {:>8} {:>8.0}%",
                z.zone,
                z.mean,
                z.min,
                z.max,
                z.latest,
                z.changes,
                z.coverage * 100.0
            );
        }
        for z in &self.zones_without_records {
            let _ = writeln!(out, "  {z:<12} {:>9}", "no prices");
        }
        let _ = writeln!(
            out,
            "\ncheapest zone  {} (lowest time-weighted mean)",
            self.cheapest_zone
        );
        let _ = writeln!(out, "bid            ${:.4} per hour", self.bid);
        let _ = writeln!(out, "rule           {}", self.rule);
        if self.bid_below_latest {
            let latest = self.zones.first().map(|z| z.latest).unwrap_or_default();
            let _ = writeln!(
                out,
                "warning        the bid is below the zone's current price ${latest:.6}: \
                 spot nodes would wait until the price falls"
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bid_is_the_mean_plus_markup_never_below_the_floor_rounded_up() {
        let rule = BidRule {
            markup: 0.20,
            floor: 0.02,
            debate_night: false,
        };
        assert_eq!(rule.bid(0.0187), 0.0225); // 0.02244 -> 0.0225
        assert_eq!(rule.bid(0.0225), 0.027); // exactly 0.0270, not 0.0271
        assert_eq!(rule.bid(0.001), 0.02);
        let night = BidRule {
            floor: 0.05,
            debate_night: true,
            ..rule
        };
        assert_eq!(night.bid(0.0187), 0.05);
        assert!(
            night
                .describe(0.0187)
                .starts_with("max(debate-night floor $0.0500")
        );
    }
}
