//! Progress and log lines on stderr: plain, timestamped lines that cron logs keep readable.
//! stdout is for results only.

use std::sync::atomic::{AtomicU8, Ordering};

/// 0 quiet (errors only), 1 normal, 2+ verbose.
static LEVEL: AtomicU8 = AtomicU8::new(1);

pub fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

fn emit(min_level: u8, message: &str) {
    if LEVEL.load(Ordering::Relaxed) >= min_level {
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
        eprintln!("{now} dw: {message}");
    }
}

pub fn info(message: &str) {
    emit(1, message);
}

pub fn debug(message: &str) {
    emit(2, message);
}

pub fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}
