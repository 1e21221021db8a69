//! The job heartbeat: a small JSON status written every few seconds (and at exit) to a local
//! file, replaced atomically, that the cluster's start steps and `dw cluster status` read.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde::Serialize;

pub struct Heartbeat {
    path: Option<PathBuf>,
    every: Duration,
    last: Option<Instant>,
}

impl Heartbeat {
    pub fn new(path: Option<&Path>, every: Duration) -> Heartbeat {
        Heartbeat {
            path: path.map(Path::to_path_buf),
            every,
            last: None,
        }
    }

    /// Whether a beat is due (so that a caller builds the status only then: it is per message).
    pub fn due(&self) -> bool {
        self.last.is_none_or(|t| t.elapsed() >= self.every)
    }

    /// Writes `status` if the interval has passed (or `force`); says whether it was time (a
    /// caller with a second place to report to reports then too).
    pub fn beat<T: Serialize>(&mut self, status: &T, force: bool) -> std::io::Result<bool> {
        if !force && self.last.is_some_and(|t| t.elapsed() < self.every) {
            return Ok(false);
        }
        self.last = Some(Instant::now());
        let Some(path) = &self.path else {
            return Ok(true);
        };
        let tmp = path.with_extension("tmp");
        let body = serde_json::to_vec_pretty(status).map_err(std::io::Error::other)?;
        std::fs::write(&tmp, body)?;
        std::fs::rename(&tmp, path)?;
        Ok(true)
    }
}
