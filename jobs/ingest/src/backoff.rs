//! Twitter's reconnect rules for streaming connections:
//! - network errors (refused, reset, stalled): wait 250 ms more per try, up to 16 s;
//! - HTTP errors: start at 5 s and double, up to 320 s;
//! - HTTP 420/429 (rate limited): start at 60 s and double (capped at 15 min here);
//! - a connection that delivered data resets it all.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    Network,
    Http(u16),
}

#[derive(Debug, Default, Clone)]
pub(crate) struct Backoff {
    network_tries: u32,
    http_wait: Option<Duration>,
    rate_wait: Option<Duration>,
}

const NETWORK_STEP: Duration = Duration::from_millis(250);
const NETWORK_MAX: Duration = Duration::from_secs(16);
const HTTP_FIRST: Duration = Duration::from_secs(5);
const HTTP_MAX: Duration = Duration::from_secs(320);
const RATE_FIRST: Duration = Duration::from_mins(1);
const RATE_MAX: Duration = Duration::from_mins(15);

impl Backoff {
    /// How long to wait before the next connection after `failure`.
    pub(crate) fn next(&mut self, failure: Failure) -> Duration {
        match failure {
            Failure::Network => {
                self.network_tries += 1;
                (NETWORK_STEP * self.network_tries).min(NETWORK_MAX)
            }
            Failure::Http(420 | 429) => {
                let wait = self.rate_wait.map_or(RATE_FIRST, |w| (w * 2).min(RATE_MAX));
                self.rate_wait = Some(wait);
                wait
            }
            Failure::Http(_) => {
                let wait = self.http_wait.map_or(HTTP_FIRST, |w| (w * 2).min(HTTP_MAX));
                self.http_wait = Some(wait);
                wait
            }
        }
    }

    /// A connection delivered data: the next failure starts over.
    pub(crate) fn healthy(&mut self) {
        *self = Backoff::default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secs(d: Duration) -> f64 {
        d.as_secs_f64()
    }

    #[test]
    fn network_errors_grow_linearly_to_16_seconds() {
        let mut b = Backoff::default();
        let waits: Vec<f64> = (0..70).map(|_| secs(b.next(Failure::Network))).collect();
        assert_eq!(&waits[..4], &[0.25, 0.5, 0.75, 1.0]);
        assert_eq!(waits[63], 16.0);
        assert_eq!(waits[69], 16.0);
    }

    #[test]
    fn http_errors_double_from_5_to_320_seconds() {
        let mut b = Backoff::default();
        let waits: Vec<f64> = (0..9).map(|_| secs(b.next(Failure::Http(503)))).collect();
        assert_eq!(
            waits,
            [5.0, 10.0, 20.0, 40.0, 80.0, 160.0, 320.0, 320.0, 320.0]
        );
    }

    #[test]
    fn rate_limits_double_from_60_seconds() {
        let mut b = Backoff::default();
        let waits: Vec<f64> = (0..5).map(|_| secs(b.next(Failure::Http(420)))).collect();
        assert_eq!(waits, [60.0, 120.0, 240.0, 480.0, 900.0]);
        assert_eq!(secs(b.next(Failure::Http(429))), 900.0);
    }

    #[test]
    fn a_healthy_connection_resets_every_kind() {
        let mut b = Backoff::default();
        b.next(Failure::Network);
        b.next(Failure::Http(500));
        b.next(Failure::Http(420));
        b.healthy();
        assert_eq!(secs(b.next(Failure::Network)), 0.25);
        assert_eq!(secs(b.next(Failure::Http(500))), 5.0);
        assert_eq!(secs(b.next(Failure::Http(420))), 60.0);
    }
}
