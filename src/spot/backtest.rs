//! Backtest: launch clusters in the past, on paper. For each launch time, each policy quotes
//! with the same code as `dw spot quote --at` (so it sees only prices up to that moment), then
//! the chosen zone's real prices are followed through the window.
//!
//! Cost model, per launch and instance: the spot price is paid while it stays at or below the
//! bid (per second, a simplification of 2016's hourly billing); when it rises above the bid the
//! spot node is lost ("interrupted"). The recovery plan then replaces it on demand in the same
//! zone after `recovery_delay` (the minutes EMR needs to add and bootstrap a node; the cluster
//! has no core node meanwhile), and the rest of the window is paid at the on-demand price. A
//! request whose bid is below the price at launch is never filled: it counts as interrupted at
//! once, and the on-demand replacement comes after the same delay. A delay of zero is the
//! model of the first backtest (an instant replacement).

use std::fmt::Write as _;

use jiff::Timestamp;
use serde::Serialize;

use super::series::History;
use super::{BidRule, Policy, QuoteRequest, quote};
use crate::error::{Error, Result};
use crate::units::{Duration, InstanceType};

/// One launch to simulate.
#[derive(Debug, Clone, PartialEq)]
pub struct Launch {
    pub at: Timestamp,
    pub window: Duration,
    /// A debate night: the debate-night floor applies.
    pub debate_night: bool,
}

/// What to backtest.
#[derive(Debug, Clone)]
pub struct Backtest {
    pub instance_type: InstanceType,
    pub product: String,
    pub zones: Vec<String>,
    pub lookback: Duration,
    pub markup: f64,
    pub floor: f64,
    pub debate_night_floor: f64,
    pub on_demand: f64,
    pub policies: Vec<Policy>,
    /// How long after a loss the on-demand replacement is working.
    pub recovery_delay: Duration,
}

/// EMR's time to add an instance group and bootstrap it, the backtest's default delay.
pub const RECOVERY_DELAY: Duration = Duration::from_secs(8 * 60);

/// What happened to one launch under one policy.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Outcome {
    pub at: Timestamp,
    pub zone: String,
    pub bid: f64,
    /// Dollars for one instance over the window.
    pub cost: f64,
    /// When the spot node was lost (the launch time when the request was never filled).
    pub interrupted_at: Option<Timestamp>,
    pub filled: bool,
    /// Milliseconds the spot node ran.
    #[serde(skip)]
    pub spot_ms: i64,
    #[serde(skip)]
    pub window_ms: i64,
    /// Milliseconds of the window with no core node (lost, not yet replaced).
    #[serde(skip)]
    pub without_core_ms: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct PolicyResult {
    pub name: Policy,
    pub launches: usize,
    pub interrupted: usize,
    pub interrupted_pct: f64,
    pub mean_cost: f64,
    pub mean_bid: f64,
    /// Mean cost over the cost of the whole window on demand.
    pub cost_share_of_on_demand: f64,
    /// Spot node-hours run per interruption: the mean gap between prices above the bid, as
    /// these launches met them. `None` when nothing was interrupted.
    pub mean_hours_to_interruption: Option<f64>,
    /// Minutes without a core node per launch (losses, until the replacement works).
    pub mean_minutes_without_core: f64,
    /// Of the interrupted, those whose request was never filled.
    #[serde(skip)]
    pub unfilled: usize,
    #[serde(skip)]
    pub outcomes: Vec<Outcome>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub instance_type: InstanceType,
    pub launches_from: Timestamp,
    pub launches_to: Timestamp,
    /// The window of the launches (the longest, when they differ).
    pub window_secs: i64,
    pub on_demand: f64,
    pub recovery_delay_secs: i64,
    pub policies: Vec<PolicyResult>,
    #[serde(skip)]
    pub zones: Vec<String>,
    #[serde(skip)]
    pub windows_differ: bool,
    /// Launches left out: no zone had a price then.
    #[serde(skip)]
    pub skipped: usize,
}

/// Launch times every `every` from `from` to `to` (both included when they fall on a step).
pub fn every(from: Timestamp, to: Timestamp, every: Duration, window: Duration) -> Vec<Launch> {
    let step = every.as_secs().max(1);
    let mut out = Vec::new();
    let mut t = from;
    while t <= to {
        out.push(Launch {
            at: t,
            window,
            debate_night: false,
        });
        t += jiff::SignedDuration::from_secs(step);
    }
    out
}

impl Backtest {
    fn rule(&self, policy: Policy, debate_night: bool) -> BidRule {
        BidRule {
            policy,
            markup: self.markup,
            floor: if debate_night {
                self.debate_night_floor
            } else {
                self.floor
            },
            debate_night,
            on_demand: Some(self.on_demand),
        }
    }

    /// Runs every policy over `launches` (in time order).
    pub fn run(&self, history: &History, launches: &[Launch]) -> Result<Report> {
        let (first, last) = match (launches.first(), launches.last()) {
            (Some(f), Some(l)) => (f.at, l.at),
            _ => {
                return Err(Error::input_with_hint(
                    "no launch to backtest",
                    "the range is shorter than the look-back and window; widen it",
                ));
            }
        };
        let mut results: Vec<PolicyResult> = self
            .policies
            .iter()
            .map(|&name| PolicyResult {
                name,
                launches: 0,
                interrupted: 0,
                interrupted_pct: 0.0,
                mean_cost: 0.0,
                mean_bid: 0.0,
                cost_share_of_on_demand: 0.0,
                mean_hours_to_interruption: None,
                mean_minutes_without_core: 0.0,
                unfilled: 0,
                outcomes: Vec::with_capacity(launches.len()),
            })
            .collect();
        let mut skipped = 0;
        for launch in launches {
            let at_ms = launch.at.as_millisecond();
            if !history
                .zones
                .iter()
                .filter(|z| self.zones.is_empty() || self.zones.contains(&z.zone))
                .any(|z| z.price_at(at_ms).is_some())
            {
                skipped += 1;
                continue;
            }
            for result in &mut results {
                let req = QuoteRequest {
                    instance_type: self.instance_type.clone(),
                    product: self.product.clone(),
                    at: launch.at,
                    lookback: self.lookback,
                    zones: self.zones.clone(),
                    rule: self.rule(result.name, launch.debate_night),
                    record_week: false,
                };
                let q = quote(&req, history, &[], None)?;
                result
                    .outcomes
                    .push(self.follow(history, launch, q.zone, q.bid));
            }
        }
        for r in &mut results {
            self.tally(r);
        }
        let window_secs = launches
            .iter()
            .map(|l| l.window.as_secs())
            .max()
            .unwrap_or(0);
        Ok(Report {
            instance_type: self.instance_type.clone(),
            launches_from: first,
            launches_to: last,
            window_secs,
            windows_differ: launches.iter().any(|l| l.window.as_secs() != window_secs),
            recovery_delay_secs: self.recovery_delay.as_secs(),
            policies: results,
            zones: history
                .zones
                .iter()
                .map(|z| z.zone.clone())
                .filter(|z| self.zones.is_empty() || self.zones.contains(z))
                .collect(),
            on_demand: self.on_demand,
            skipped,
        })
    }

    /// A policy's figures from its outcomes.
    fn tally(&self, r: &mut PolicyResult) {
        let n = r.outcomes.len();
        r.launches = n;
        r.interrupted = r
            .outcomes
            .iter()
            .filter(|o| o.interrupted_at.is_some())
            .count();
        r.unfilled = r.outcomes.iter().filter(|o| !o.filled).count();
        if n > 0 {
            r.interrupted_pct = 100.0 * r.interrupted as f64 / n as f64;
            r.mean_cost = r.outcomes.iter().map(|o| o.cost).sum::<f64>() / n as f64;
            // Bids are whole $0.0001: sum them as such, so equal bids average exactly.
            let ten_thousandths: i64 = r
                .outcomes
                .iter()
                .map(|o| (o.bid * 1e4).round() as i64)
                .sum();
            r.mean_bid = ten_thousandths as f64 / n as f64 / 1e4;
            let on_demand_cost: f64 = r
                .outcomes
                .iter()
                .map(|o| self.on_demand * o.window_ms as f64 / 3_600_000.0)
                .sum();
            r.cost_share_of_on_demand = if on_demand_cost > 0.0 {
                r.mean_cost * n as f64 / on_demand_cost
            } else {
                0.0
            };
            let spot_ms: i64 = r.outcomes.iter().map(|o| o.spot_ms).sum();
            r.mean_hours_to_interruption =
                (r.interrupted > 0).then(|| spot_ms as f64 / 3_600_000.0 / r.interrupted as f64);
            r.mean_minutes_without_core = r.outcomes.iter().map(|o| o.without_core_ms).sum::<i64>()
                as f64
                / 60_000.0
                / n as f64;
        }
    }

    /// Follows `zone`'s prices through the launch's window at `bid`.
    fn follow(&self, history: &History, launch: &Launch, zone: String, bid: f64) -> Outcome {
        let start = launch.at.as_millisecond();
        let end = start + launch.window.as_secs() * 1000;
        // Lost at `lost`: no core node until the replacement works, then on demand to the end.
        let recover = |lost: i64| {
            let back = (lost + self.recovery_delay.as_secs() * 1000).min(end);
            (
                self.on_demand * (end - back) as f64 / 3_600_000.0,
                back - lost,
            )
        };
        // Bids are whole hundredths of a cent; compare in micro-dollars, exactly.
        let bid_micros = (bid * 1e6).round() as u64;
        let series = history.zone(&zone);
        let at_launch = series.and_then(|s| s.price_at(start));
        let (cost, interrupted, filled, spot_ms, without_core_ms) = match (series, at_launch) {
            (Some(s), Some(p)) if p <= bid_micros => match s.first_above(start, end, bid_micros) {
                Some(lost) => {
                    let (replacement, gap) = recover(lost);
                    (
                        s.cost(start, lost) + replacement,
                        Some(lost),
                        true,
                        lost - start,
                        gap,
                    )
                }
                None => (s.cost(start, end), None, true, end - start, 0),
            },
            _ => {
                let (replacement, gap) = recover(start);
                (replacement, Some(start), false, 0, gap)
            }
        };
        Outcome {
            at: launch.at,
            zone,
            bid,
            cost,
            interrupted_at: interrupted.and_then(|ms| Timestamp::from_millisecond(ms).ok()),
            filled,
            spot_ms,
            window_ms: end - start,
            without_core_ms,
        }
    }
}

impl Report {
    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let window = if self.windows_differ {
            format!("windows up to {}", Duration::from_secs(self.window_secs))
        } else {
            format!("window {}", Duration::from_secs(self.window_secs))
        };
        let launches = self.policies.first().map_or(0, |p| p.launches);
        let _ = writeln!(
            out,
            "{} spot in {}: {launches} launches from {} to {} UTC, {window}",
            self.instance_type,
            self.zones.join(", "),
            self.launches_from.strftime("%Y-%m-%d %H:%M"),
            self.launches_to.strftime("%Y-%m-%d %H:%M"),
        );
        let _ = writeln!(
            out,
            "on-demand ${:.4}/h: {} on demand costs ${:.4}; costs are per instance and window",
            self.on_demand,
            Duration::from_secs(self.window_secs),
            self.on_demand * self.window_secs as f64 / 3600.0
        );
        if self.skipped > 0 {
            let _ = writeln!(
                out,
                "{} launches left out: no zone had a price yet",
                self.skipped
            );
        }
        let _ = writeln!(
            out,
            "\n{:<10} {:>8} {:>11} {:>7} {:>9} {:>10} {:>8} {:>9} {:>11} {:>12}",
            "policy",
            "launches",
            "interrupted",
            "",
            "unfilled",
            "mean cost",
            "of o-d",
            "mean bid",
            "h to interr",
            "min w/o core"
        );
        for p in &self.policies {
            let _ = writeln!(
                out,
                "{:<10} {:>8} {:>11} {:>6.1}% {:>9} {:>10} {:>7.1}% {:>9} {:>11} {:>12.2}",
                p.name.name(),
                p.launches,
                p.interrupted,
                p.interrupted_pct,
                p.unfilled,
                format!("${:.4}", p.mean_cost),
                p.cost_share_of_on_demand * 100.0,
                format!("${:.4}", p.mean_bid),
                p.mean_hours_to_interruption
                    .map_or_else(|| "never".to_string(), |h| format!("{h:.1}")),
                p.mean_minutes_without_core,
            );
        }
        let _ = writeln!(
            out,
            "\n(interrupted: the price rose above the bid in the window; unfilled: of those, the \
             bid was below the price at launch. A lost node is replaced on demand after {}, the \
             cluster without core nodes meanwhile. of o-d: cost as a share of the window on \
             demand; h to interr: spot hours run per interruption)",
            Duration::from_secs(self.recovery_delay_secs)
        );
        out
    }
}

/// Several instance types backtested alike, and the policies over all of them together.
#[derive(Debug, Clone, Serialize)]
pub struct BacktestSummary {
    pub reports: Vec<Report>,
    /// Per policy, every launch of every type: interruptions, and costs summed in dollars and
    /// as a share of on demand.
    pub together: Vec<Together>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Together {
    pub name: Policy,
    pub launches: usize,
    pub interrupted: usize,
    pub interrupted_pct: f64,
    /// Dollars, one instance of each type per launch.
    pub total_cost: f64,
    pub cost_share_of_on_demand: f64,
    pub mean_hours_to_interruption: Option<f64>,
    pub mean_minutes_without_core: f64,
    /// Types on which this policy had no more interruptions than `on-demand` and cost no more.
    pub types_at_least_as_good_as_on_demand: usize,
}

impl BacktestSummary {
    pub fn new(reports: Vec<Report>) -> BacktestSummary {
        let names: Vec<Policy> = reports
            .first()
            .map(|r| r.policies.iter().map(|p| p.name).collect())
            .unwrap_or_default();
        let together = names
            .iter()
            .map(|&name| {
                let mine: Vec<(&Report, &PolicyResult)> = reports
                    .iter()
                    .filter_map(|r| Some((r, r.policies.iter().find(|p| p.name == name)?)))
                    .collect();
                let launches: usize = mine.iter().map(|(_, p)| p.launches).sum();
                let interrupted: usize = mine.iter().map(|(_, p)| p.interrupted).sum();
                let total_cost: f64 = mine
                    .iter()
                    .map(|(_, p)| p.mean_cost * p.launches as f64)
                    .sum();
                let on_demand_cost: f64 = mine
                    .iter()
                    .map(|(_, p)| p.outcomes.iter().map(|o| o.window_ms as f64).sum::<f64>())
                    .zip(mine.iter().map(|(r, _)| r.on_demand))
                    .map(|(ms, od)| ms / 3_600_000.0 * od)
                    .sum();
                let spot_hours: f64 = mine
                    .iter()
                    .flat_map(|(_, p)| p.outcomes.iter().map(|o| o.spot_ms as f64 / 3_600_000.0))
                    .sum();
                let without: f64 = mine
                    .iter()
                    .map(|(_, p)| p.mean_minutes_without_core * p.launches as f64)
                    .sum();
                let as_good = mine
                    .iter()
                    .filter(|(r, p)| {
                        r.policies
                            .iter()
                            .find(|o| o.name == Policy::OnDemand)
                            .is_some_and(|od| {
                                p.interrupted <= od.interrupted
                                    && p.mean_cost <= od.mean_cost + 1e-12
                            })
                    })
                    .count();
                Together {
                    name,
                    launches,
                    interrupted,
                    interrupted_pct: if launches > 0 {
                        100.0 * interrupted as f64 / launches as f64
                    } else {
                        0.0
                    },
                    total_cost,
                    cost_share_of_on_demand: if on_demand_cost > 0.0 {
                        total_cost / on_demand_cost
                    } else {
                        0.0
                    },
                    mean_hours_to_interruption: (interrupted > 0)
                        .then(|| spot_hours / interrupted as f64),
                    mean_minutes_without_core: if launches > 0 {
                        without / launches as f64
                    } else {
                        0.0
                    },
                    types_at_least_as_good_as_on_demand: as_good,
                }
            })
            .collect();
        BacktestSummary { reports, together }
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        for r in &self.reports {
            out.push_str(&r.to_text());
            out.push('\n');
        }
        let _ = writeln!(
            out,
            "all {} types together (one instance of each per launch):\n\n{:<10} {:>8} {:>11} {:>7} {:>11} {:>8} {:>11} {:>12} {:>13}",
            self.reports.len(),
            "policy",
            "launches",
            "interrupted",
            "",
            "total cost",
            "of o-d",
            "h to interr",
            "min w/o core",
            "types >= o-d"
        );
        for t in &self.together {
            let _ = writeln!(
                out,
                "{:<10} {:>8} {:>11} {:>6.2}% {:>11} {:>7.2}% {:>11} {:>12.2} {:>13}",
                t.name.name(),
                t.launches,
                t.interrupted,
                t.interrupted_pct,
                format!("${:.2}", t.total_cost),
                t.cost_share_of_on_demand * 100.0,
                t.mean_hours_to_interruption
                    .map_or_else(|| "never".to_string(), |h| format!("{h:.1}")),
                t.mean_minutes_without_core,
                format!(
                    "{}/{}",
                    t.types_at_least_as_good_as_on_demand,
                    self.reports.len()
                ),
            );
        }
        let _ = writeln!(
            out,
            "\n(types >= o-d: types on which the policy had no more interruptions than on-demand \
             and cost no more)"
        );
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::spot::series::test_zone as zone;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn backtest(policies: Vec<Policy>) -> Backtest {
        Backtest {
            instance_type: "m3.medium".parse().unwrap(),
            product: "Linux/UNIX".into(),
            zones: vec![],
            lookback: Duration::from_secs(3600),
            markup: 0.20,
            floor: 0.02,
            debate_night_floor: 0.05,
            on_demand: 0.067,
            policies,
            recovery_delay: Duration::from_secs(0),
        }
    }

    /// Steady at 0.0100; at 01:30 the price jumps to 0.0300 for 30 min, then back; a launch at
    /// 01:00 for two hours.
    fn spike() -> (History, Launch) {
        let history = History {
            zones: vec![zone(
                "us-east-1a",
                &[
                    ("2016-04-01T00:00:00Z", 10_000),
                    ("2016-04-01T01:30:00Z", 30_000),
                    ("2016-04-01T02:00:00Z", 10_000),
                ],
            )],
        };
        let launch = Launch {
            at: t("2016-04-01T01:00:00Z"),
            window: Duration::from_secs(2 * 3600),
            debate_night: false,
        };
        (history, launch)
    }

    #[test]
    fn a_price_above_the_bid_loses_the_node_and_the_rest_is_paid_on_demand() {
        let (history, launch) = spike();
        let r = backtest(vec![Policy::Seed, Policy::OnDemand])
            .run(&history, std::slice::from_ref(&launch))
            .unwrap();
        // Seed bids max(0.02, 0.01 x 1.2) = 0.02: lost at 01:30, then 1.5 h on demand.
        let seed = &r.policies[0].outcomes[0];
        assert_eq!(seed.bid, 0.02);
        assert_eq!(seed.interrupted_at, Some(t("2016-04-01T01:30:00Z")));
        assert!(
            (seed.cost - (0.01 * 0.5 + 0.067 * 1.5)).abs() < 1e-12,
            "{}",
            seed.cost
        );
        // On-demand rides the spike out: 0.5 h at 0.01, 0.5 h at 0.03, 1 h at 0.01.
        let od = &r.policies[1].outcomes[0];
        assert_eq!(od.interrupted_at, None);
        assert!((od.cost - 0.03).abs() < 1e-12, "{}", od.cost);
        assert_eq!(r.policies[0].interrupted, 1);
        assert_eq!(r.policies[0].interrupted_pct, 100.0);
        assert_eq!(r.policies[1].interrupted, 0);
    }

    /// The same spike with the recovery plan: 8 minutes with no core node after the loss, then
    /// on demand; the figures per policy follow from it.
    #[test]
    fn the_recovery_plan_leaves_a_gap_then_pays_on_demand() {
        let (history, launch) = spike();
        let mut run = backtest(vec![Policy::Seed, Policy::OnDemand]);
        run.recovery_delay = RECOVERY_DELAY;
        let r = run.run(&history, std::slice::from_ref(&launch)).unwrap();
        let seed = &r.policies[0];
        // 30 min spot at 0.01, 8 min without a node, 82 min on demand.
        let expected = 0.01 * 0.5 + 0.067 * 82.0 / 60.0;
        assert!(
            (seed.outcomes[0].cost - expected).abs() < 1e-12,
            "{}",
            seed.outcomes[0].cost
        );
        assert_eq!(seed.mean_minutes_without_core, 8.0);
        assert_eq!(seed.mean_hours_to_interruption, Some(0.5));
        assert!((seed.cost_share_of_on_demand - expected / (0.067 * 2.0)).abs() < 1e-12);
        let od = &r.policies[1];
        assert_eq!(
            (od.mean_minutes_without_core, od.mean_hours_to_interruption),
            (0.0, None)
        );
        assert!((od.cost_share_of_on_demand - 0.03 / 0.134).abs() < 1e-12);
        assert_eq!(r.recovery_delay_secs, 480);
    }

    #[test]
    fn a_bid_below_the_price_at_launch_is_never_filled() {
        // The last hour averaged 0.0100, but the price is 0.0500 at the launch itself.
        let history = History {
            zones: vec![zone(
                "us-east-1a",
                &[
                    ("2016-04-01T00:00:00Z", 10_000),
                    ("2016-04-01T00:59:59Z", 50_000),
                ],
            )],
        };
        let launch = Launch {
            at: t("2016-04-01T01:00:00Z"),
            window: Duration::from_secs(3600),
            debate_night: false,
        };
        let r = backtest(vec![Policy::Seed])
            .run(&history, &[launch])
            .unwrap();
        let o = &r.policies[0].outcomes[0];
        assert!(!o.filled);
        assert_eq!(o.interrupted_at, Some(t("2016-04-01T01:00:00Z")));
        assert!((o.cost - 0.067).abs() < 1e-12);
        assert_eq!(r.policies[0].unfilled, 1);
    }

    #[test]
    fn launches_before_any_price_are_left_out() {
        let history = History {
            zones: vec![zone("us-east-1a", &[("2016-04-01T00:00:00Z", 10_000)])],
        };
        let launches = every(
            t("2016-03-31T23:00:00Z"),
            t("2016-04-01T01:00:00Z"),
            Duration::from_secs(3600),
            Duration::from_secs(3600),
        );
        assert_eq!(launches.len(), 3);
        let r = backtest(vec![Policy::Dw]).run(&history, &launches).unwrap();
        assert_eq!((r.skipped, r.policies[0].launches), (1, 2));
    }
}
