//! What the dw-score tests share: the repository, fast group joins, waiting for a scorer.

use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

pub fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Fast group joins against Tansu (librdkafka's defaults make the first join take ~20 s).
pub const FAST_GROUP: [&str; 6] = [
    "--kafka-option",
    "session.timeout.ms=3000",
    "--kafka-option",
    "heartbeat.interval.ms=1000",
    "--kafka-option",
    "max.poll.interval.ms=10000",
];

/// Waits for a scorer with a deadline (killing it when the deadline passes); its stderr.
pub fn finish(mut child: Child, limit: Duration) -> String {
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut err = String::new();
            if let Some(mut e) = child.stderr.take() {
                use std::io::Read;
                e.read_to_string(&mut err).ok();
            }
            assert!(status.success(), "dw-score failed: {err}");
            return err;
        }
        if start.elapsed() > limit {
            child.kill().ok();
            panic!("dw-score did not finish within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}
