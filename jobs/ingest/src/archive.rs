//! Archives: JSON lines from a file, stdin or the objects of an S3 prefix, optionally paced by
//! the tweets' own times.

use crate::error::{Error, Result};
use std::io::BufRead;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use dw_pipeline::job::Pacer;
use dw_pipeline::tweet::{self, Message};

use crate::{Ingest, frames, log};

impl Ingest {
    /// Archive lines (a file, stdin or S3 objects), paced by the tweets' own times.
    pub(crate) fn lines(
        &mut self,
        reader: &mut dyn BufRead,
        pacer: &mut Option<Pacer>,
    ) -> Result<()> {
        let mut buf = Vec::new();
        while !self.stop.load(Ordering::Relaxed) {
            let Some(line) = dw_pipeline::lines::read_line(reader, &mut buf, frames::MAX_MESSAGE)
                .map_err(|e| Error::io("read", e))?
            else {
                break;
            };
            match line {
                dw_pipeline::lines::Line::TooLong(_) => {
                    self.counts.malformed += 1;
                    continue;
                }
                dw_pipeline::lines::Line::Text if buf.iter().all(u8::is_ascii_whitespace) => {
                    self.counts.keep_alives += 1;
                    continue;
                }
                dw_pipeline::lines::Line::Text => {}
            }
            if !self.connected {
                self.connected = true;
                self.was_connected = true;
                log("reading records");
            }
            if let Some(pacer) = pacer.as_mut()
                && let Ok(Message::Tweet(t)) = tweet::parse_bytes(&buf)
            {
                let due = pacer.due(t.created_ms);
                // In short steps: SIGTERM is heard within 100 ms, however long the gap.
                while Instant::now() < due && !self.stop.load(Ordering::Relaxed) {
                    std::thread::sleep((due - Instant::now()).min(Duration::from_millis(100)));
                }
                if self.stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            let line = buf.clone();
            if let Some((code, reason)) = self.message(&line)? {
                log(&format!(
                    "archive holds a disconnect notice ({code}: {reason})"
                ));
            }
            self.beat(false);
        }
        Ok(())
    }

    pub(crate) async fn archive_s3(
        &mut self,
        bucket: &str,
        prefix: &str,
        pacer: &mut Option<Pacer>,
    ) -> Result<()> {
        let s3 = dw_pipeline::s3::client_from_env().await;
        let keys = dw_pipeline::s3::list_keys(&s3, bucket, prefix).await?;
        log(&format!(
            "replaying {} objects of s3://{bucket}/{prefix}",
            keys.len()
        ));
        // One object at a time through a temporary file: memory stays small whatever the
        // archive's size.
        let dir = tempfile::tempdir().map_err(|e| Error::io("a temporary directory", e))?;
        for key in keys {
            let name = key.rsplit('/').next().unwrap_or("object");
            let path = dir.path().join(name);
            dw_pipeline::s3::download(&s3, bucket, &key, &path).await?;
            let mut reader = dw_pipeline::lines::open_archive(&path)
                .map_err(|e| Error::from(format!("s3://{bucket}/{key}: {e}")))?;
            self.lines(&mut reader, pacer)?;
            std::fs::remove_file(&path).map_err(|e| Error::io(path.display().to_string(), e))?;
        }
        Ok(())
    }
}
