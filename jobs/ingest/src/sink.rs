//! Where dw-ingest writes: a Kafka topic (an idempotent `acks=all` producer, keyed by tweet
//! id), a file or stdout.

use crate::error::{Error, Result};
use std::io::Write;
use std::time::{Duration, Instant};

use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::kafka;

pub(crate) struct Sink {
    kafka: Option<(kafka::Producer_, String)>,
    writer: Option<Box<dyn Write + Send>>,
    last_flush: Instant,
}

impl Sink {
    pub(crate) fn open(to: &Endpoint, options: &[(String, String)]) -> Result<Sink> {
        match to {
            Endpoint::Kafka { brokers, topic, .. } => Ok(Sink {
                kafka: Some((
                    kafka::producer(brokers, options)
                        .map_err(|e| Error::from(format!("Kafka producer: {e}")))?,
                    topic.clone(),
                )),
                writer: None,
                last_flush: Instant::now(),
            }),
            Endpoint::Stdio => Ok(Sink {
                kafka: None,
                writer: Some(Box::new(std::io::BufWriter::new(std::io::stdout()))),
                last_flush: Instant::now(),
            }),
            Endpoint::File(p) => Ok(Sink {
                kafka: None,
                writer: Some(Box::new(std::io::BufWriter::new(
                    std::fs::OpenOptions::new()
                        .create(true)
                        .append(true)
                        .open(p)
                        .map_err(|e| Error::io(format!("cannot write {}", p.display()), e))?,
                ))),
                last_flush: Instant::now(),
            }),
            other => Err(format!("{other} is not a sink dw-ingest writes").into()),
        }
    }

    /// Queues one record; Kafka delivery failures are retried by the producer (idempotent).
    pub(crate) fn send(&mut self, key: &str, line: &[u8]) -> Result<()> {
        if let Some((producer, topic)) = &self.kafka {
            return kafka::send(producer, topic, key, line)
                .map_err(|e| dw_pipeline::error::Error::Kafka(e.to_string()).into());
        }
        if let Some(w) = self.writer.as_mut() {
            w.write_all(line)
                .and_then(|()| w.write_all(b"\n"))
                .map_err(|e| Error::io("write", e))?;
        }
        Ok(())
    }

    /// Files and stdout are flushed at least every 250 ms, so readers see tweets as they come.
    pub(crate) fn tick(&mut self) -> Result<()> {
        if self.last_flush.elapsed() >= Duration::from_millis(250) {
            self.last_flush = Instant::now();
            if let Some(w) = self.writer.as_mut() {
                w.flush().map_err(|e| Error::io("write", e))?;
            }
        }
        Ok(())
    }

    /// Records the Kafka producer gave up on.
    pub(crate) fn undelivered(&self) -> u64 {
        self.kafka
            .as_ref()
            .map_or(0, |(producer, _)| kafka::undelivered(producer))
    }

    pub(crate) fn flush(&mut self) -> Result<()> {
        if let Some((producer, _)) = &self.kafka {
            kafka::flush(producer, Duration::from_mins(1))
                .map_err(|e| Error::from(format!("Kafka: records not acknowledged: {e}")))?;
        }
        if let Some(w) = self.writer.as_mut() {
            w.flush().map_err(|e| Error::io("write", e))?;
        }
        Ok(())
    }
}
