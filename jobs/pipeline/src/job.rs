//! What every job process (dw-ingest, dw-score, and dw's in-process replay) shares: its log
//! line, its `KEY=VALUE` options, its pace, the clock that paces it, and its stop flag.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

/// One log line on stderr, `2026-11-28T12:00:00Z dw-score: message`: the format cron and
/// EMR's step logs keep, the same as dw's own.
pub fn log(job: &str, message: &str) {
    let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
    eprintln!("{now} {job}: {message}");
}

static DEBUG: AtomicBool = AtomicBool::new(false);

/// `--debug`: the job's libraries say more (librdkafka's broker, topic and group log).
pub fn set_debug(on: bool) {
    DEBUG.store(on, Ordering::Relaxed);
}

pub fn debug() -> bool {
    DEBUG.load(Ordering::Relaxed)
}

/// `KEY=VALUE` (librdkafka options on the command line).
pub fn parse_key_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .ok_or_else(|| format!("`{s}` is not KEY=VALUE"))
}

/// A replay's pace: `max` (as fast as possible, `None`) or `Nx` (the tweets' own pace times N).
pub fn parse_pace(s: &str) -> Result<Option<f64>, String> {
    if s == "max" {
        return Ok(None);
    }
    s.strip_suffix('x')
        .and_then(|n| n.parse::<f64>().ok())
        .filter(|n| n.is_finite() && *n > 0.0)
        .map(Some)
        .ok_or_else(|| format!("`{s}` is not a pace: write 1x, 10x, ... or max"))
}

/// Set once SIGTERM or SIGINT arrives: the job finishes what it holds and stops.
pub fn stop_on_signal() -> std::io::Result<Arc<AtomicBool>> {
    let stop = Arc::new(AtomicBool::new(false));
    for signal in [signal_hook::consts::SIGTERM, signal_hook::consts::SIGINT] {
        signal_hook::flag::register(signal, Arc::clone(&stop))?;
    }
    Ok(stop)
}

const YEAR: Duration = Duration::from_hours(365 * 24);

/// When each tweet is due in a paced replay: the first tweet's time is now, and a tweet `d`
/// later by its own clock is due `d / speed` later (times `scale`, which tests shrink).
#[derive(Debug, Clone)]
pub struct Pacer {
    speed: f64,
    scale: f64,
    start: Option<(i64, Instant)>,
}

impl Pacer {
    pub fn new(speed: f64, scale: f64) -> Pacer {
        Pacer {
            speed,
            scale,
            start: None,
        }
    }

    /// The moment a tweet created at `created_ms` is due (an earlier tweet: at once).
    pub fn due(&mut self, created_ms: i64) -> Instant {
        let (t0, w0) = *self.start.get_or_insert((created_ms, Instant::now()));
        let late_ms = (created_ms - t0).max(0) as f64 / self.speed * self.scale;
        // A pace so slow that the wait would overflow: a year stands for "not in this run".
        let late = Duration::try_from_secs_f64(late_ms / 1000.0)
            .unwrap_or(YEAR)
            .min(YEAR);
        w0 + late
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paces_are_max_or_a_positive_multiple() {
        assert_eq!(parse_pace("max"), Ok(None));
        assert_eq!(parse_pace("60x"), Ok(Some(60.0)));
        assert_eq!(parse_pace("0.5x"), Ok(Some(0.5)));
        for bad in ["0x", "-1x", "fast", "60", "infx", "NaNx"] {
            assert_eq!(
                parse_pace(bad),
                Err(format!("`{bad}` is not a pace: write 1x, 10x, ... or max"))
            );
        }
    }

    #[test]
    fn a_tweet_is_due_its_own_delay_divided_by_the_speed() {
        let mut pacer = Pacer::new(10.0, 1.0);
        let first = pacer.due(1_000_000);
        assert_eq!(pacer.due(1_060_000) - first, Duration::from_secs(6));
        // An older tweet is due at once, not before the first.
        assert_eq!(pacer.due(999_000), first);
        let mut scaled = Pacer::new(1.0, 0.5);
        let first = scaled.due(0);
        assert_eq!(scaled.due(4_000) - first, Duration::from_secs(2));
        // Absurdly slow: no overflow, a year at most.
        let mut crawl = Pacer::new(1e-300, 1.0);
        let first = crawl.due(0);
        assert_eq!(crawl.due(i64::MAX) - first, YEAR);
    }
}
