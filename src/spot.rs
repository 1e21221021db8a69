//! Spot prices: per-zone statistics over a look-back window, the policies that choose a zone and a bid, and their backtest.

pub mod backtest;
pub mod history;
pub(crate) mod launches;
pub mod policy;
pub mod prices;
pub(crate) mod quoting;
pub mod series;
pub mod stats;

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use crate::error::{Error, Result};
use crate::units::{Duration, InstanceType};
use history::Query;
pub use policy::{BidRule, Policy};
use series::History;
use stats::{ZoneStats, zone_stats};

#[derive(Debug, Clone, Serialize)]
/// The stretch of history a quote read: its look-back, ending at the moment quoted.
pub struct QuotedSpan {
    pub start: Timestamp,
    pub end: Timestamp,
}

#[derive(Debug, Clone, Serialize)]
pub struct Quote {
    pub instance_type: InstanceType,
    pub product: String,
    pub region: String,
    pub window: QuotedSpan,
    /// Zones with records, cheapest first.
    pub zones: Vec<ZoneStats>,
    /// Zones asked for (or offering the type) with no price in the window.
    pub zones_without_records: Vec<String>,
    pub policy: Policy,
    /// The zone the policy chose.
    pub zone: String,
    pub bid: f64,
    pub rule: String,
    /// The bid is below the chosen zone's current price: the request would wait for the price to
    /// come down.
    pub bid_below_latest: bool,
    /// Each zone's record over the last week at this bid (when asked for), so a person can see
    /// why the zone was chosen.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub last_week: Vec<ZoneRecord>,
}

/// How often a zone's price passed a bid over a stretch of time: each pass would have cost the
/// spot nodes.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneRecord {
    pub zone: String,
    /// Times the price went from at or below the bid to above it.
    pub passes: u32,
    /// Hours the price stayed above the bid.
    pub hours_above: f64,
    /// Hours of the week with a known price.
    pub hours_covered: f64,
}

/// The stretch of time of a quote's interruption record.
pub const RECORD_WINDOW: Duration = Duration::from_secs(7 * 24 * 3600);

/// What to quote.
#[derive(Debug, Clone)]
pub struct QuoteRequest {
    pub instance_type: InstanceType,
    pub product: String,
    pub at: Timestamp,
    pub lookback: Duration,
    pub zones: Vec<String>,
    pub rule: BidRule,
    /// Add each zone's interruption record over the last week (`dw spot quote`; a backtest's
    /// thousands of quotes do without).
    pub record_week: bool,
}

impl QuoteRequest {
    pub fn window_start(&self) -> Timestamp {
        self.at - self.lookback.get()
    }

    /// How far back the quote reads: the look-back, the policy's longer view of risk, and the
    /// week of the interruption record.
    pub fn history_needed(&self) -> Duration {
        let policy = self.rule.policy.history_needed(self.lookback);
        if self.record_week {
            policy.max(RECORD_WINDOW)
        } else {
            policy
        }
    }

    pub fn query(&self) -> Query<'_> {
        Query {
            instance_type: &self.instance_type,
            product: &self.product,
            zones: &self.zones,
            start: self.at - self.history_needed().get(),
            end: self.at,
        }
    }
}

/// Computes the quote from `history` (records after `req.at` are never read). `expected_zones`
/// are zones that should have had prices (EC2's offerings, or `--zones`); `region` names the
/// region (derived from the zones when `None`).
pub fn quote(
    req: &QuoteRequest,
    history: &History,
    expected_zones: &[String],
    region: Option<&str>,
) -> Result<Quote> {
    let start = req.window_start();
    let mut zones: Vec<ZoneStats> = history
        .zones
        .iter()
        .filter(|z| req.zones.is_empty() || req.zones.contains(&z.zone))
        .filter_map(|z| zone_stats(z, start, req.at))
        .collect();
    zones.sort_by(|a, b| {
        a.mean
            .total_cmp(&b.mean)
            .then(a.latest.total_cmp(&b.latest))
            .then(a.zone.cmp(&b.zone))
    });
    let mut zones_without_records: Vec<String> = expected_zones
        .iter()
        .chain(history.zones.iter().map(|z| &z.zone))
        .filter(|z| req.zones.is_empty() || req.zones.contains(z))
        .filter(|z| !zones.iter().any(|s| &s.zone == *z))
        .cloned()
        .collect();
    zones_without_records.sort();
    zones_without_records.dedup();

    if zones.is_empty() {
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
    }
    let choice = req.rule.choose(&zones, history, req.at)?;
    let chosen_latest = zones
        .iter()
        .find(|z| z.zone == choice.zone)
        .map_or(0.0, |z| z.latest);
    let region = region.map_or_else(
        || {
            // "us-east-1a" -> "us-east-1"
            choice
                .zone
                .trim_end_matches(|c: char| c.is_ascii_lowercase())
                .to_string()
        },
        str::to_string,
    );
    let last_week = if req.record_week {
        let end = req.at.as_millisecond();
        let start = end - RECORD_WINDOW.as_secs() * 1000;
        let bid = (choice.bid * 1e6).round() as history::Micros;
        zones
            .iter()
            .filter_map(|z| history.zone(&z.zone))
            .map(|s| ZoneRecord {
                zone: s.zone.clone(),
                passes: s.passes(start, end, bid),
                hours_above: s.time_above(start, end, bid) as f64 / 3_600_000.0,
                hours_covered: s.pieces(start, end).map(|p| p.until - p.from).sum::<i64>() as f64
                    / 3_600_000.0,
            })
            .collect()
    } else {
        Vec::new()
    };
    Ok(Quote {
        last_week,
        instance_type: req.instance_type.clone(),
        product: req.product.clone(),
        region,
        window: QuotedSpan { start, end: req.at },
        policy: req.rule.policy,
        bid_below_latest: choice.bid < chosen_latest,
        zone: choice.zone,
        bid: choice.bid,
        rule: choice.rule,
        zones,
        zones_without_records,
    })
}

impl Quote {
    /// The human-readable form: a table of zones, then the choice and the rule behind it.
    pub fn to_text(&self, tz: &jiff::tz::TimeZone) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} {} spot prices in {}, {} to {} ({}), $ per instance-hour",
            self.instance_type,
            self.product,
            self.region,
            crate::units::shown(self.window.start, tz, "%Y-%m-%d %H:%M"),
            crate::units::shown(self.window.end, tz, "%Y-%m-%d %H:%M %Z"),
            Duration::from_secs(self.window.end.as_second() - self.window.start.as_second()),
        );
        let record = !self.last_week.is_empty();
        let _ = write!(
            out,
            "\n  {:<12} {:>9} {:>9} {:>9} {:>9} {:>8} {:>9}",
            "zone", "mean", "min", "max", "latest", "changes", "coverage"
        );
        if record {
            let _ = write!(out, "   above the bid in the last 7 days");
        }
        out.push('\n');
        for z in &self.zones {
            let mark = if z.zone == self.zone { "*" } else { " " };
            let _ = write!(
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
            if let Some(r) = self.last_week.iter().find(|r| r.zone == z.zone) {
                let _ = write!(
                    out,
                    "   {} {}, {:.1} h{}",
                    r.passes,
                    if r.passes == 1 { "time" } else { "times" },
                    r.hours_above,
                    if r.hours_covered + 0.05 < RECORD_WINDOW.as_secs() as f64 / 3600.0 {
                        format!(" (of {:.0} h with prices)", r.hours_covered)
                    } else {
                        String::new()
                    }
                );
            }
            out.push('\n');
        }
        for z in &self.zones_without_records {
            let _ = writeln!(out, "  {z:<12} {:>9}", "no prices");
        }
        let _ = writeln!(out, "\nzone           {}", self.zone);
        let _ = writeln!(out, "bid            ${:.4} per hour", self.bid);
        let _ = writeln!(out, "rule           {}", self.rule);
        if self.bid_below_latest {
            let latest = self
                .zones
                .iter()
                .find(|z| z.zone == self.zone)
                .map(|z| z.latest)
                .unwrap_or_default();
            let _ = writeln!(
                out,
                "warning        the bid is below the zone's current price ${latest:.6}: \
                 spot nodes would wait until the price falls"
            );
        }
        out
    }
}
