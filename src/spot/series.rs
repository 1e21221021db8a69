//! Price histories indexed for questions about time: one sorted series per zone, so a quote at
//! any moment (and a backtest's thousands of them) costs a binary search, not a scan.

use jiff::Timestamp;

use super::history::{Micros, PriceRecord};
use crate::units::InstanceType;

/// One zone's prices in time order; each holds from its time until the next one's.
#[derive(Debug, Clone, PartialEq)]
pub struct ZoneSeries {
    pub zone: String,
    /// Milliseconds since the epoch, strictly increasing.
    times: Vec<i64>,
    prices: Vec<Micros>,
}

/// A stretch of time `[from, until)` (milliseconds) at one price.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Piece {
    pub from: i64,
    pub until: i64,
    pub price: Micros,
}

impl ZoneSeries {
    /// From `(time, price)` points in any order; of two records at the same moment the later
    /// one in `points` wins (EC2 does not repeat timestamps, saved files concatenated might).
    pub fn new(zone: impl Into<String>, mut points: Vec<(Timestamp, Micros)>) -> ZoneSeries {
        points.sort_by_key(|(t, _)| *t);
        let mut times: Vec<i64> = Vec::with_capacity(points.len());
        let mut prices: Vec<Micros> = Vec::with_capacity(points.len());
        for (t, p) in points {
            let ms = t.as_millisecond();
            if times.last() == Some(&ms) {
                if let Some(last) = prices.last_mut() {
                    *last = p;
                }
            } else {
                times.push(ms);
                prices.push(p);
            }
        }
        ZoneSeries {
            zone: zone.into(),
            times,
            prices,
        }
    }

    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// The first and last record's time (milliseconds).
    pub fn span(&self) -> Option<(i64, i64)> {
        Some((*self.times.first()?, *self.times.last()?))
    }

    /// The index of the record in effect at `t` (the last one at or before it).
    fn index_at(&self, t: i64) -> Option<usize> {
        self.times.partition_point(|&x| x <= t).checked_sub(1)
    }

    /// The price in effect at `t`, if any record is.
    pub fn price_at(&self, t: i64) -> Option<Micros> {
        self.index_at(t).map(|i| self.prices[i])
    }

    /// Records strictly after `start` and at or before `end`: the price changes in the window.
    pub fn changes(&self, start: i64, end: i64) -> usize {
        let a = self.times.partition_point(|&x| x <= start);
        let b = self.times.partition_point(|&x| x <= end);
        b.saturating_sub(a)
    }

    /// The window `[start, end]` cut at each price change. Before the zone's first record no
    /// price is known, so the pieces then start at that record. A record exactly at `end`
    /// gives a piece of no length (its price is in effect at the end).
    pub fn pieces(&self, start: i64, end: i64) -> impl Iterator<Item = Piece> + '_ {
        let first = self
            .index_at(start)
            .unwrap_or_else(|| self.times.partition_point(|&x| x < start));
        let last = self.times.partition_point(|&x| x <= end);
        (first..last).map(move |i| {
            let from = self.times[i].max(start);
            let until = self.times.get(i + 1).map_or(end, |&next| next.min(end));
            Piece {
                from,
                until: until.max(from),
                price: self.prices[i],
            }
        })
    }

    /// The first moment in `[start, end]` when the price is above `bid`, if there is one.
    pub fn first_above(&self, start: i64, end: i64, bid: Micros) -> Option<i64> {
        self.pieces(start, end)
            .find(|p| p.price > bid && p.until > p.from)
            .map(|p| p.from)
    }

    /// Dollars paid for one instance over `[start, end)` at the prices in effect (a price in
    /// micro-dollars per hour times milliseconds, exactly, then converted).
    pub fn cost(&self, start: i64, end: i64) -> f64 {
        let sum: i128 = self
            .pieces(start, end)
            .map(|p| i128::from(p.price) * i128::from(p.until - p.from))
            .sum();
        sum as f64 / 1e6 / 3_600_000.0
    }

    /// How long (milliseconds) the price stayed above `level` in `[start, end]`.
    pub fn time_above(&self, start: i64, end: i64, level: Micros) -> i64 {
        self.pieces(start, end)
            .filter(|p| p.price > level)
            .map(|p| p.until - p.from)
            .sum()
    }

    /// How many times the price went from at or below `level` to above it in `(start, end]`:
    /// each is a spot node lost at a bid of `level`. A window that starts above counts once.
    pub fn passes(&self, start: i64, end: i64, level: Micros) -> u32 {
        let mut above = false;
        let mut passes = 0;
        for p in self.pieces(start, end).filter(|p| p.until > p.from) {
            let now_above = p.price > level;
            if now_above && !above {
                passes += 1;
            }
            above = now_above;
        }
        passes
    }

    /// The time-weighted quantile `q` (0..=1) of the price over `[start, end]`: the price the
    /// zone stayed at or below for that share of the covered time. `None` without prices.
    pub fn quantile(&self, start: i64, end: i64, q: f64) -> Option<Micros> {
        let mut held: Vec<(Micros, i64)> = self
            .pieces(start, end)
            .map(|p| (p.price, p.until - p.from))
            .collect();
        if held.is_empty() {
            return None;
        }
        if held.iter().all(|(_, d)| *d == 0) {
            // An empty window: every price in effect counts the same.
            for (_, d) in &mut held {
                *d = 1;
            }
        }
        held.sort_unstable_by_key(|(price, _)| *price);
        let total: i64 = held.iter().map(|(_, d)| d).sum();
        let target = (total as f64 * q.clamp(0.0, 1.0)).ceil() as i64;
        let mut seen = 0;
        for (price, d) in &held {
            seen += d;
            if seen >= target {
                return Some(*price);
            }
        }
        held.last().map(|(p, _)| *p)
    }
}

/// The prices of one instance type and product, per zone (in zone order).
#[derive(Debug, Clone, Default)]
pub struct History {
    pub zones: Vec<ZoneSeries>,
}

impl History {
    /// Keeps the records of `instance_type` and `product` (any product when `None`: EC2 has
    /// already filtered them) in `zones` (all when empty).
    pub fn from_records(
        records: &[PriceRecord],
        instance_type: &InstanceType,
        product: Option<&str>,
        zones: &[String],
    ) -> History {
        let mut by_zone: std::collections::BTreeMap<&str, Vec<(Timestamp, Micros)>> =
            std::collections::BTreeMap::new();
        for r in records.iter().filter(|r| {
            r.instance_type == instance_type.as_str()
                && product.is_none_or(|p| r.product == p)
                && (zones.is_empty() || zones.contains(&r.zone))
        }) {
            by_zone.entry(&r.zone).or_default().push((r.at, r.price));
        }
        History {
            zones: by_zone
                .into_iter()
                .map(|(zone, points)| ZoneSeries::new(zone, points))
                .collect(),
        }
    }

    pub fn zone(&self, name: &str) -> Option<&ZoneSeries> {
        self.zones.iter().find(|z| z.zone == name)
    }

    pub fn records(&self) -> usize {
        self.zones.iter().map(ZoneSeries::len).sum()
    }

    /// From the earliest record of any zone to the latest (milliseconds).
    pub fn span(&self) -> Option<(i64, i64)> {
        let spans: Vec<(i64, i64)> = self.zones.iter().filter_map(ZoneSeries::span).collect();
        Some((
            spans.iter().map(|s| s.0).min()?,
            spans.iter().map(|s| s.1).max()?,
        ))
    }
}

/// A zone's series from `(RFC 3339 time, price)` pairs, for the tests of the spot modules.
#[cfg(test)]
pub(crate) fn test_zone(name: &str, points: &[(&str, Micros)]) -> ZoneSeries {
    ZoneSeries::new(
        name,
        points
            .iter()
            .map(|(t, p)| (t.parse().expect("an RFC 3339 time"), *p))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(s: &str) -> i64 {
        s.parse::<Timestamp>().unwrap().as_millisecond()
    }

    fn series(points: &[(&str, Micros)]) -> ZoneSeries {
        test_zone("z", points)
    }

    #[test]
    fn pieces_start_with_the_price_in_effect_and_stop_at_the_end() {
        let s = series(&[
            ("2016-04-01T00:45:00Z", 40_000),
            ("2016-03-31T23:00:00Z", 10_000),
            ("2016-04-01T00:15:00Z", 20_000),
            ("2016-04-01T02:00:00Z", 90_000),
        ]);
        let start = ms("2016-04-01T00:00:00Z");
        let end = ms("2016-04-01T01:00:00Z");
        let pieces: Vec<(i64, Micros)> = s
            .pieces(start, end)
            .map(|p| ((p.until - p.from) / 60_000, p.price))
            .collect();
        assert_eq!(pieces, vec![(15, 10_000), (30, 20_000), (15, 40_000)]);
        assert_eq!(s.changes(start, end), 2);
        assert_eq!(s.price_at(start), Some(10_000));
        assert_eq!(s.price_at(ms("2016-03-30T00:00:00Z")), None);
        // (0.01 x 15 + 0.02 x 30 + 0.04 x 15) / 60 min = $0.0225 for the hour.
        assert!((s.cost(start, end) - 0.0225).abs() < 1e-12);
        assert_eq!(
            s.first_above(start, end, 20_000),
            Some(ms("2016-04-01T00:45:00Z"))
        );
        assert_eq!(s.first_above(start, end, 40_000), None);
    }

    #[test]
    fn time_above_and_passes_count_what_a_bid_would_have_lost() {
        let s = series(&[
            ("2016-04-01T00:00:00Z", 10_000),
            ("2016-04-01T00:10:00Z", 90_000),
            ("2016-04-01T00:20:00Z", 95_000),
            ("2016-04-01T00:30:00Z", 10_000),
            ("2016-04-01T00:40:00Z", 70_000),
            ("2016-04-01T00:50:00Z", 10_000),
        ]);
        let (start, end) = (ms("2016-04-01T00:00:00Z"), ms("2016-04-01T01:00:00Z"));
        assert_eq!(s.time_above(start, end, 67_000), 30 * 60_000);
        assert_eq!(s.passes(start, end, 67_000), 2); // 00:10-00:30 is one stretch
        assert_eq!(s.passes(start, end, 80_000), 1);
        assert_eq!(s.passes(start, end, 100_000), 0);
        assert_eq!(s.passes(ms("2016-04-01T00:15:00Z"), end, 67_000), 2);
    }

    #[test]
    fn the_quantile_is_weighted_by_time_not_by_records() {
        // Three quick changes at 0.50, then 0.01 for the rest of the day.
        let s = series(&[
            ("2016-04-01T00:00:00Z", 500_000),
            ("2016-04-01T00:01:00Z", 500_000),
            ("2016-04-01T00:02:00Z", 500_000),
            ("2016-04-01T00:03:00Z", 10_000),
        ]);
        let (start, end) = (ms("2016-04-01T00:00:00Z"), ms("2016-04-02T00:00:00Z"));
        assert_eq!(s.quantile(start, end, 0.5), Some(10_000));
        assert_eq!(s.quantile(start, end, 0.99), Some(10_000));
        assert_eq!(s.quantile(start, end, 1.0), Some(500_000));
    }

    #[test]
    fn a_repeated_timestamp_keeps_the_later_record() {
        let s = series(&[("2016-04-01T00:00:00Z", 1), ("2016-04-01T00:00:00Z", 2)]);
        assert_eq!(s.len(), 1);
        assert_eq!(s.price_at(ms("2016-04-01T00:00:00Z")), Some(2));
    }

    #[test]
    fn before_the_first_record_no_price_is_known() {
        let s = series(&[("2016-04-01T00:30:00Z", 30_000)]);
        let pieces: Vec<Piece> = s
            .pieces(ms("2016-04-01T00:00:00Z"), ms("2016-04-01T01:00:00Z"))
            .collect();
        assert_eq!(pieces.len(), 1);
        assert_eq!(pieces[0].from, ms("2016-04-01T00:30:00Z"));
    }
}
