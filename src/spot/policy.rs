//! Bid policies: which zone to ask for spot nodes in, and the highest price to pay there.
//!
//! - `seed`: the team's original rule. The zone with the lowest mean over the look-back; bid
//!   that mean +markup, never below the floor.
//! - `on-demand`: the same zone; bid the on-demand price (what EC2 does when no maximum is given).
//! - `dw` (the default): bid the on-demand price, in the zone with the lowest mean among those
//!   whose price now is at or below that bid (all zones, when none is).
//! - `climb` (dw's default until 2026-11): bid on demand; the lowest-mean zone unless a zone is
//!   climbing (its price now above 1.05x its 24-hour 95th percentile, or above on demand), then
//!   the lowest price now among the others.
//! - candidates kept for the record: `calm` and `calm-day` (among the zones at or below the bid
//!   now, the least time above it over the last week or day), `p95-week` (the lowest 95th
//!   percentile over the week), `worst-hour` (the lowest hourly mean at the past day's worst hour).
//!
//! Why, from the 2016 us-east-1 records of twelve types in `tests/fixtures/spot/`: EC2 charges
//! the market price, not the bid, so a bid below on-demand saves nothing and only adds
//! interruptions (the seed rule loses 13.8% of all launches, on-demand 3.1%). Of the zone
//! rules, only `dw`'s beat the plain on-demand bid on the types and months it was not chosen on,
//! in interruptions and in cost: the lowest-mean zone is sometimes already above the bid, and a
//! request there is never filled. Rules that avoid zones with a spiky past lose fewer nodes on
//! the design data but pay more for calmer zones than the losses they avoid (README, "How the
//! default was chosen").

use jiff::Timestamp;
use serde::Serialize;

use super::history::{Micros, micros_to_dollars};
use super::series::{History, ZoneSeries};
use super::stats::ZoneStats;
use crate::error::{Error, Result};
use crate::units::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, clap::ValueEnum)]
#[serde(rename_all = "kebab-case")]
pub enum Policy {
    Dw,
    Seed,
    OnDemand,
    // dw's default until 2026-11: leave a zone that is climbing.
    Climb,
    // Candidate zone rules, kept so that the choice of the default can be re-run.
    Calm,
    CalmDay,
    P95Week,
    WorstHour,
}

/// Where a policy looks for its zone.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum ZoneRule {
    /// The lowest time-weighted mean over the quote's look-back.
    LowestMean,
    /// The lowest mean, unless some zone is climbing: then the lowest price now among the rest.
    Climb,
    /// Among the zones whose price now is at or below the bid (all, when none is), the one
    /// whose price spent the least time above the bid over the last `calm` (a week or a day);
    /// ties (most often: none was above) go to the lowest mean. No calm window: the lowest mean.
    Calm { over: Option<Duration> },
    /// The lowest time-weighted 95th percentile over the last week.
    P95Week,
    /// The lowest hourly mean at its worst hour of the past day.
    WorstHour,
}

impl Policy {
    /// The policies `dw spot backtest` compares when none is named: the default and the three
    /// it was chosen against.
    pub const ALL: [Policy; 4] = [Policy::Seed, Policy::OnDemand, Policy::Climb, Policy::Dw];
    /// Every policy, candidates included.
    pub const EVERY: [Policy; 8] = [
        Policy::Seed,
        Policy::OnDemand,
        Policy::Climb,
        Policy::CalmDay,
        Policy::Calm,
        Policy::P95Week,
        Policy::WorstHour,
        Policy::Dw,
    ];

    fn zone_rule(self) -> ZoneRule {
        match self {
            Policy::Seed | Policy::OnDemand => ZoneRule::LowestMean,
            Policy::Climb => ZoneRule::Climb,
            Policy::Dw => ZoneRule::Calm { over: None },
            Policy::Calm => ZoneRule::Calm { over: Some(WEEK) },
            Policy::CalmDay => ZoneRule::Calm { over: Some(DAY) },
            Policy::P95Week => ZoneRule::P95Week,
            Policy::WorstHour => ZoneRule::WorstHour,
        }
    }

    /// How far back before a quote the policy reads prices, given the quote's look-back.
    pub fn history_needed(self, lookback: Duration) -> Duration {
        let own = match self.zone_rule() {
            ZoneRule::LowestMean => lookback,
            ZoneRule::Climb | ZoneRule::WorstHour => DAY,
            ZoneRule::Calm { over } => over.unwrap_or(lookback),
            ZoneRule::P95Week => WEEK,
        };
        lookback.max(own)
    }

    pub fn name(self) -> &'static str {
        match self {
            Policy::Dw => "dw",
            Policy::Seed => "seed",
            Policy::OnDemand => "on-demand",
            Policy::Climb => "climb",
            Policy::Calm => "calm",
            Policy::CalmDay => "calm-day",
            Policy::P95Week => "p95-week",
            Policy::WorstHour => "worst-hour",
        }
    }
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for Policy {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Policy::EVERY
            .into_iter()
            .find(|p| p.name() == s)
            .ok_or_else(|| {
                serde::de::Error::custom(format!(
                    "unknown policy `{s}`: write {}",
                    Policy::EVERY.map(Policy::name).join(", ")
                ))
            })
    }
}

/// What a policy knows besides the prices.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct BidRule {
    pub policy: Policy,
    /// Seed: bid = max(floor, mean x (1 + markup)).
    pub markup: f64,
    /// No policy bids below it.
    pub floor: f64,
    /// True when `floor` is the debate-night floor.
    pub debate_night: bool,
    /// The on-demand price of the type, $/hour, when known.
    pub on_demand: Option<f64>,
}

const DAY: Duration = Duration::from_secs(24 * 3600);
const WEEK: Duration = Duration::from_secs(7 * 24 * 3600);
/// climb looks this far back to judge how calm a zone is.
const DW_RISK_LOOKBACK: Duration = DAY;
/// A zone is climbing when its price now is above this time-weighted quantile of its day...
const DW_RISK_QUANTILE: f64 = 0.95;
/// ...times this (or above the on-demand price).
const DW_CLIMBING: f64 = 1.05;

/// The zone and bid a policy chose, and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Choice {
    pub zone: String,
    pub bid: f64,
    pub rule: String,
}

/// Rounds a dollar amount up to 4 decimals, forgiving float noise below 1e-9 of a step.
pub fn round_up_4(x: f64) -> f64 {
    (x * 10_000.0 - 1e-9).ceil() / 10_000.0
}

impl BidRule {
    fn floor_name(&self) -> &'static str {
        if self.debate_night {
            "debate-night floor"
        } else {
            "floor"
        }
    }

    fn on_demand_price(&self) -> Result<f64> {
        self.on_demand.ok_or_else(|| {
            Error::input_with_hint(
                format!(
                    "the {} policy bids the on-demand price, and dw does not know it for this type",
                    self.policy
                ),
                "pass --on-demand-price P, add the type to [spot.on_demand] in the config, \
                 or use --policy seed",
            )
        })
    }

    /// The seed rule's bid for a zone whose look-back mean is `mean`.
    pub fn seed_bid(&self, mean: f64) -> f64 {
        round_up_4(self.floor.max(mean * (1.0 + self.markup)))
    }

    /// Chooses among `zones` (statistics over the quote's look-back, cheapest mean first, never
    /// empty) as of `at`; `history` gives dw its longer view.
    pub fn choose(&self, zones: &[ZoneStats], history: &History, at: Timestamp) -> Result<Choice> {
        let cheapest = zones
            .first()
            .ok_or_else(|| Error::Failed("no zone to choose from".into()))?;
        match self.policy {
            Policy::Seed => Ok(Choice {
                zone: cheapest.zone.clone(),
                bid: self.seed_bid(cheapest.mean),
                rule: format!(
                    "seed: lowest mean; max({} ${:.4}, mean ${:.6} x {:.2}) rounded up to $0.0001",
                    self.floor_name(),
                    self.floor,
                    cheapest.mean,
                    1.0 + self.markup
                ),
            }),
            Policy::OnDemand => {
                let od = self.on_demand_price()?;
                Ok(Choice {
                    zone: cheapest.zone.clone(),
                    bid: round_up_4(od.max(self.floor)),
                    rule: format!(
                        "on-demand: lowest mean; the on-demand price ${od:.4} (not below the {} ${:.4})",
                        self.floor_name(),
                        self.floor
                    ),
                })
            }
            policy => {
                let od = self.on_demand_price()?;
                let bid = round_up_4(od.max(self.floor));
                let (zone, why) = match policy.zone_rule() {
                    ZoneRule::LowestMean => (cheapest.zone.clone(), "lowest mean".to_string()),
                    ZoneRule::Climb => dw_zone(zones, history, at, od),
                    rule => ranked_zone(rule, zones, history, at, bid),
                };
                Ok(Choice {
                    zone,
                    bid,
                    rule: format!(
                        "{policy}: {why}; bid the on-demand price ${od:.4} (not below the {} ${:.4})",
                        self.floor_name(),
                        self.floor
                    ),
                })
            }
        }
    }
}

/// The zones ranked by a rule's measure of risk (lower is better), ties going to the lowest
/// look-back mean (the order of `zones`).
fn ranked_zone(
    rule: ZoneRule,
    zones: &[ZoneStats],
    history: &History,
    at: Timestamp,
    bid: f64,
) -> (String, String) {
    let end = at.as_millisecond();
    let bid_micros = (bid * 1e6).round() as Micros;
    let measure = |series: &ZoneSeries| -> Option<i64> {
        match rule {
            ZoneRule::Calm { over } => Some(over.map_or(0, |d| {
                series.time_above(end - d.as_secs() * 1000, end, bid_micros)
            })),
            ZoneRule::P95Week => series
                .quantile(end - WEEK.as_secs() * 1000, end, 0.95)
                .map(|p| p as i64),
            ZoneRule::WorstHour => (0..24)
                .filter_map(|h| {
                    let to = end - h * 3_600_000;
                    let from = to - 3_600_000;
                    let held: i64 = series.pieces(from, to).map(|p| p.until - p.from).sum();
                    (held > 0)
                        .then(|| (series.cost(from, to) * 1e6 * 3_600_000.0 / held as f64) as i64)
                })
                .max(),
            ZoneRule::LowestMean | ZoneRule::Climb => Some(0),
        }
    };
    // A zone whose price is above the bid now would leave the request unfilled.
    let fillable = |z: &&ZoneStats| {
        !matches!(rule, ZoneRule::Calm { .. }) || (z.latest * 1e6).round() as Micros <= bid_micros
    };
    let candidates: Vec<&ZoneStats> = if zones.iter().any(|z| fillable(&z)) {
        zones.iter().filter(fillable).collect()
    } else {
        zones.iter().collect()
    };
    // `zones` come cheapest mean first, and `min_by_key` keeps the first of equal measures.
    let best = candidates
        .iter()
        .filter_map(|z| Some((measure(history.zone(&z.zone)?)?, *z)))
        .min_by_key(|(m, _)| *m);
    let Some((m, z)) = best else {
        return (zones[0].zone.clone(), "lowest mean".into());
    };
    let how = match rule {
        ZoneRule::Calm { over: None } => {
            "lowest mean among the zones at or below the bid now".into()
        }
        ZoneRule::Calm { over: Some(d) } => format!(
            "least time above the bid over the last {d} ({}) among the zones at or below it now",
            Duration::from_secs(m / 1000)
        ),
        ZoneRule::P95Week => format!(
            "lowest 95th percentile over the last week (${:.4})",
            micros_to_dollars(m as Micros)
        ),
        _ => format!(
            "lowest worst hour of the past day (${:.4})",
            micros_to_dollars(m as Micros)
        ),
    };
    let tie = if matches!(rule, ZoneRule::Calm { over: None }) {
        ""
    } else {
        "; ties to the lowest mean"
    };
    (z.zone.clone(), format!("{how}{tie}"))
}

/// How dw sees a zone: its day, and its price now.
#[derive(Debug, Clone, Copy)]
struct Risk {
    /// The time-weighted 95th percentile of the risk look-back.
    p95: Micros,
    latest: Micros,
}

impl Risk {
    fn of(series: &ZoneSeries, start: i64, end: i64) -> Option<Risk> {
        Some(Risk {
            p95: series.quantile(start, end, DW_RISK_QUANTILE)?,
            latest: series.price_at(end)?,
        })
    }

    /// The price now is above where the zone spent 95% of its day, or above on-demand.
    fn climbing(&self, on_demand: Micros) -> bool {
        self.latest > on_demand || self.latest as f64 > self.p95 as f64 * DW_CLIMBING
    }
}

/// Without pressure, the cheapest zone by look-back mean (as the other policies choose). Under
/// pressure (any zone of the region climbing), the zone with the lowest price now among those
/// not climbing: the hour's mean lags exactly when prices move.
fn dw_zone(
    zones: &[ZoneStats],
    history: &History,
    at: Timestamp,
    on_demand: f64,
) -> (String, String) {
    let end = at.as_millisecond();
    let start = end - DW_RISK_LOOKBACK.as_secs() * 1000;
    let od = (on_demand * 1e6).round() as Micros;
    let cheapest = &zones[0].zone;
    let climbing: Vec<&str> = history
        .zones
        .iter()
        .filter(|s| Risk::of(s, start, end).is_some_and(|r| r.climbing(od)))
        .map(|s| s.zone.as_str())
        .collect();
    if climbing.is_empty() {
        return (cheapest.clone(), "lowest mean, no zone climbing".into());
    }
    let calm = zones
        .iter()
        .filter(|z| !climbing.contains(&z.zone.as_str()))
        .filter_map(|z| Some((z, Risk::of(history.zone(&z.zone)?, start, end)?)))
        .min_by(|(za, a), (zb, b)| {
            a.latest
                .cmp(&b.latest)
                .then(za.mean.total_cmp(&zb.mean))
                .then(za.zone.cmp(&zb.zone))
        });
    match calm {
        Some((z, r)) => (
            z.zone.clone(),
            format!(
                "{} climbing: the lowest price now (${:.4}) among the others",
                climbing.join(", "),
                micros_to_dollars(r.latest)
            ),
        ),
        None => (
            cheapest.clone(),
            "lowest mean (every zone is climbing)".into(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spot::series::test_zone as zone;
    use crate::spot::stats::zone_stats;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn the_seed_bid_is_the_mean_plus_markup_never_below_the_floor_rounded_up() {
        let seed = BidRule {
            policy: Policy::Seed,
            markup: 0.20,
            floor: 0.02,
            debate_night: false,
            on_demand: None,
        };
        assert_eq!(seed.seed_bid(0.0187), 0.0225); // 0.02244 -> 0.0225
        assert_eq!(seed.seed_bid(0.0225), 0.027); // exactly 0.0270, not 0.0271
        assert_eq!(seed.seed_bid(0.001), 0.02);
        let night = BidRule {
            floor: 0.05,
            debate_night: true,
            ..seed
        };
        assert_eq!(night.seed_bid(0.0187), 0.05);
    }

    fn choose(
        policy: Policy,
        history: &History,
        at: &str,
        on_demand: Option<f64>,
    ) -> Result<Choice> {
        let at = t(at);
        let mut stats: Vec<ZoneStats> = history
            .zones
            .iter()
            .filter_map(|z| zone_stats(z, at - jiff::SignedDuration::from_hours(1), at))
            .collect();
        stats.sort_by(|a, b| a.mean.total_cmp(&b.mean));
        BidRule {
            policy,
            markup: 0.20,
            floor: 0.02,
            debate_night: false,
            on_demand,
        }
        .choose(&stats, history, at)
    }

    /// a: cheapest over the hour but climbing fast at its end; b: steady; c: steady, dearer.
    fn climbing_region() -> History {
        History {
            zones: vec![
                zone(
                    "us-east-1a",
                    &[
                        ("2016-03-30T00:00:00Z", 10_000),
                        ("2016-03-31T00:55:00Z", 18_800),
                    ],
                ),
                zone("us-east-1b", &[("2016-03-30T00:00:00Z", 11_200)]),
                zone("us-east-1c", &[("2016-03-30T00:00:00Z", 11_500)]),
            ],
        }
    }

    #[test]
    fn seed_and_on_demand_take_the_lowest_mean_and_differ_in_the_bid() {
        let h = climbing_region();
        let seed = choose(Policy::Seed, &h, "2016-03-31T01:00:00Z", Some(0.067)).unwrap();
        // a's hour: 55 min at 0.0100 and 5 at 0.0188 = 0.010733; x 1.2 -> floor 0.02.
        assert_eq!((seed.zone.as_str(), seed.bid), ("us-east-1a", 0.02));
        let od = choose(Policy::OnDemand, &h, "2016-03-31T01:00:00Z", Some(0.067)).unwrap();
        assert_eq!((od.zone.as_str(), od.bid), ("us-east-1a", 0.067));
    }

    #[test]
    fn climb_passes_over_a_climbing_zone_for_the_lowest_price_now() {
        let h = climbing_region();
        let climb = choose(Policy::Climb, &h, "2016-03-31T01:00:00Z", Some(0.067)).unwrap();
        assert_eq!((climb.zone.as_str(), climb.bid), ("us-east-1b", 0.067));
        assert!(climb.rule.contains("us-east-1a climbing"), "{}", climb.rule);
        // Before the climb dw agrees with the others.
        let calm = choose(Policy::Climb, &h, "2016-03-31T00:50:00Z", Some(0.067)).unwrap();
        assert_eq!(calm.zone, "us-east-1a");
    }

    /// dw leaves the lowest-mean zone when its price now is above the bid (a request there
    /// would not be filled); when every zone is fillable it takes the lowest mean like on-demand.
    #[test]
    fn dw_takes_the_lowest_mean_among_zones_at_or_below_the_bid_now() {
        // a: $0.0100 all hour, then $0.0300 for the last minute (mean $0.0103, the lowest);
        // b: $0.0110 all along.
        let h = History {
            zones: vec![
                zone(
                    "us-east-1a",
                    &[
                        ("2016-03-31T00:00:00Z", 10_000),
                        ("2016-03-31T00:59:00Z", 30_000),
                    ],
                ),
                zone("us-east-1b", &[("2016-03-31T00:00:00Z", 11_000)]),
            ],
        };
        let at = "2016-03-31T01:00:00Z";
        // On demand $0.025: a is above it now.
        let dw = choose(Policy::Dw, &h, at, Some(0.025)).unwrap();
        assert_eq!((dw.zone.as_str(), dw.bid), ("us-east-1b", 0.025));
        assert!(
            dw.rule
                .starts_with("dw: lowest mean among the zones at or below the bid now"),
            "{}",
            dw.rule
        );
        let od = choose(Policy::OnDemand, &h, at, Some(0.025)).unwrap();
        assert_eq!(
            od.zone, "us-east-1a",
            "on-demand asks where it cannot be filled"
        );
        // On demand $0.067: both are fillable, and dw agrees with on-demand.
        let dw = choose(Policy::Dw, &h, at, Some(0.067)).unwrap();
        assert_eq!(dw.zone, "us-east-1a");
    }

    #[test]
    fn the_on_demand_policies_need_the_on_demand_price() {
        let h = climbing_region();
        for p in [Policy::Dw, Policy::OnDemand] {
            let err = choose(p, &h, "2016-03-31T01:00:00Z", None).unwrap_err();
            assert_eq!(err.exit_code(), 2);
            assert!(err.to_string().contains("on-demand price"), "{err}");
        }
        assert!(choose(Policy::Seed, &h, "2016-03-31T01:00:00Z", None).is_ok());
    }

    #[test]
    fn no_bid_is_below_the_floor() {
        let h = climbing_region();
        let dw = BidRule {
            policy: Policy::Dw,
            markup: 0.2,
            floor: 0.10,
            debate_night: true,
            on_demand: Some(0.067),
        };
        let at = t("2016-03-31T00:30:00Z");
        let stats: Vec<ZoneStats> = h
            .zones
            .iter()
            .filter_map(|z| zone_stats(z, at - jiff::SignedDuration::from_hours(1), at))
            .collect();
        let c = dw.choose(&stats, &h, at).unwrap();
        assert_eq!(c.bid, 0.10);
        assert!(c.rule.contains("debate-night floor"), "{}", c.rule);
    }
}
