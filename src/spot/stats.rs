//! Per-zone statistics of a price history over a window. A spot price holds from its record's
//! time until the zone's next record, so the mean is weighted by how long each price held.

use jiff::Timestamp;
use serde::Serialize;

use super::history::{Micros, micros_to_dollars};
use super::series::ZoneSeries;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ZoneStats {
    pub zone: String,
    /// Time-weighted mean over the covered part of the window, $/hour.
    pub mean: f64,
    /// Lowest and highest price in effect at any moment of the window.
    pub min: f64,
    pub max: f64,
    /// The price in effect at the window's end.
    pub latest: f64,
    /// Price records inside the window (after its start, up to its end).
    pub changes: u32,
    /// Fraction of the window with a known price (less than 1 when the zone's first record falls
    /// inside the window).
    pub coverage: f64,
}

/// Statistics of one zone's prices over `[start, end]`; `None` when no record is in effect at
/// any point of the window.
pub fn zone_stats(series: &ZoneSeries, start: Timestamp, end: Timestamp) -> Option<ZoneStats> {
    let (start, end) = (start.as_millisecond(), end.as_millisecond());
    let window_ms = i128::from((end - start).max(0));
    let mut weighted: i128 = 0; // micro-dollars x milliseconds
    let mut covered_ms: i128 = 0;
    let (mut min, mut max): (Micros, Micros) = (Micros::MAX, 0);
    let mut latest = None;
    for p in series.pieces(start, end) {
        let held = i128::from(p.until - p.from);
        weighted += i128::from(p.price) * held;
        covered_ms += held;
        min = min.min(p.price);
        max = max.max(p.price);
        latest = Some(p.price);
    }
    let latest = latest?;
    let mean = if covered_ms > 0 {
        weighted as f64 / covered_ms as f64 / 1e6
    } else {
        micros_to_dollars(latest)
    };
    Some(ZoneStats {
        zone: series.zone.clone(),
        mean,
        min: micros_to_dollars(min),
        max: micros_to_dollars(max),
        latest: micros_to_dollars(latest),
        changes: series.changes(start, end) as u32,
        coverage: if window_ms > 0 {
            covered_ms as f64 / window_ms as f64
        } else {
            1.0
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(at: &str, price: Micros) -> (Timestamp, Micros) {
        (at.parse().unwrap(), price)
    }

    fn zone_stats(
        _zone: &str,
        records: &[(Timestamp, Micros)],
        start: Timestamp,
        end: Timestamp,
    ) -> Option<ZoneStats> {
        super::zone_stats(&ZoneSeries::new("z", records.to_vec()), start, end)
    }

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn each_price_is_weighted_by_how_long_it_held() {
        // 0.0100 from before the window until :15, 0.0200 until :45, then 0.0400.
        let records = [
            rec("2016-04-01T00:45:00Z", 40_000),
            rec("2016-03-31T23:00:00Z", 10_000),
            rec("2016-04-01T00:15:00Z", 20_000),
        ];
        let s = zone_stats(
            "z",
            &records,
            t("2016-04-01T00:00:00Z"),
            t("2016-04-01T01:00:00Z"),
        )
        .unwrap();
        // (0.01 x 15 + 0.02 x 30 + 0.04 x 15) / 60 = 0.0225
        assert!((s.mean - 0.0225).abs() < 1e-12, "{}", s.mean);
        assert_eq!((s.min, s.max, s.latest), (0.01, 0.04, 0.04));
        assert_eq!(s.changes, 2);
        assert_eq!(s.coverage, 1.0);
    }

    #[test]
    fn a_window_with_no_record_inside_takes_the_price_in_effect() {
        let records = [rec("2016-03-30T00:00:00Z", 18_700)];
        let s = zone_stats(
            "z",
            &records,
            t("2016-04-01T00:00:00Z"),
            t("2016-04-01T01:00:00Z"),
        )
        .unwrap();
        assert_eq!(
            (s.mean, s.min, s.max, s.latest),
            (0.0187, 0.0187, 0.0187, 0.0187)
        );
        assert_eq!((s.changes, s.coverage), (0, 1.0));
    }

    #[test]
    fn a_zone_whose_history_starts_inside_the_window_covers_part_of_it() {
        let records = [rec("2016-04-01T00:30:00Z", 30_000)];
        let s = zone_stats(
            "z",
            &records,
            t("2016-04-01T00:00:00Z"),
            t("2016-04-01T01:00:00Z"),
        )
        .unwrap();
        assert_eq!((s.mean, s.changes, s.coverage), (0.03, 1, 0.5));
    }

    #[test]
    fn no_record_before_the_end_means_no_statistics() {
        let records = [rec("2016-04-01T02:00:00Z", 30_000)];
        assert!(
            zone_stats(
                "z",
                &records,
                t("2016-04-01T00:00:00Z"),
                t("2016-04-01T01:00:00Z")
            )
            .is_none()
        );
    }
}
