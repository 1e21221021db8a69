//! Where dw-score writes: JSON lines on stdout or in a file. A file sink that resumes (Kafka
//! source) appends, and tells which windows the earlier run already wrote.

use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::score::TweetScore;
use dw_pipeline::window::Window;
use serde::Serialize;

pub struct Sink {
    out: Box<dyn Write>,
    closed_until: Option<jiff::Timestamp>,
}

impl Sink {
    pub fn open(to: &Endpoint, resume: bool) -> Result<Sink, String> {
        match to {
            Endpoint::Stdio => Ok(Sink {
                out: Box::new(BufWriter::new(io::stdout())),
                closed_until: None,
            }),
            Endpoint::File(p) => {
                let closed_until = if resume && p.exists() {
                    read_windows(to)?
                        .iter()
                        .map(|w| {
                            w.start + jiff::SignedDuration::from_secs(i64::from(w.length_secs))
                        })
                        .max()
                } else {
                    None
                };
                let file = if resume {
                    OpenOptions::new().create(true).append(true).open(p)
                } else {
                    File::create(p)
                }
                .map_err(|e| format!("cannot write {}: {e}", p.display()))?;
                Ok(Sink {
                    out: Box::new(BufWriter::new(file)),
                    closed_until,
                })
            }
            other => Err(format!("{other} is not a sink dw-score writes")),
        }
    }

    /// Windows before this instant were written by an earlier run.
    pub fn closed_until(&self) -> Option<jiff::Timestamp> {
        self.closed_until
    }

    pub fn record<T: Serialize>(&mut self, value: &T) -> Result<(), String> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| format!("write: {e}"))?;
        self.out.write_all(b"\n").map_err(|e| format!("write: {e}"))
    }

    pub fn window(&mut self, w: &Window) -> Result<(), String> {
        self.record(w)
    }

    pub fn tweet(&mut self, t: &TweetScore) -> Result<(), String> {
        self.record(t)
    }

    pub fn flush(&mut self) -> Result<(), String> {
        self.out.flush().map_err(|e| format!("write: {e}"))
    }
}

/// Every window of a JSON-lines file.
pub fn read_windows(from: &Endpoint) -> Result<Vec<Window>, String> {
    let Endpoint::File(p) = from else {
        return Err(format!("{from}: windows are read from file:PATH"));
    };
    let file = File::open(p).map_err(|e| format!("cannot read {}: {e}", p.display()))?;
    let mut out = Vec::new();
    for (i, line) in BufReader::new(file).lines().enumerate() {
        let line = line.map_err(|e| format!("{}: {e}", p.display()))?;
        if line.trim().is_empty() {
            continue;
        }
        out.push(
            serde_json::from_str(&line)
                .map_err(|e| format!("{}:{}: not a window: {e}", p.display(), i + 1))?,
        );
    }
    Ok(out)
}
