//! Where dw-score writes: JSON lines on stdout or in a file, or one object per window on S3
//! (`<prefix>/<debate>/windows/<start>.json`, or a group member's part under `parts/`, plus a
//! `latest.json` index per writer). A sink that resumes
//! (Kafka source) tells which windows an earlier run already wrote. Writing a window twice
//! gives the same object: the key is the window's.

use crate::error::{Error, Result};
use std::fs::{File, OpenOptions};
use std::io::{self, BufRead, BufReader, BufWriter, Write};

use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::results::{Folder, relative};
use dw_pipeline::score::TweetScore;
use dw_pipeline::window::Window;
use serde::Serialize;

pub(crate) struct Sink {
    out: Box<dyn Write + Send>,
    s3: Option<S3Sink>,
    closed_until: Option<jiff::Timestamp>,
}

struct S3Sink {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
    bucket: String,
    prefix: String,
    /// The index: where the windows are and how far they go.
    latest: Option<Latest>,
}

#[derive(Debug, Clone, serde::Serialize, serde::Deserialize)]
struct Latest {
    version: u32,
    debate: String,
    member: Option<String>,
    closed_until: jiff::Timestamp,
    last_window: String,
    windows_written: u64,
    updated_at: jiff::Timestamp,
}

impl S3Sink {
    fn open(bucket: &str, prefix: &str) -> Result<S3Sink> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = runtime.block_on(dw_pipeline::s3::client_from_env());
        Ok(S3Sink {
            client,
            runtime,
            bucket: bucket.to_string(),
            prefix: prefix.trim_matches('/').to_string(),
            latest: None,
        })
    }

    fn key(&self, rel: &str) -> String {
        if self.prefix.is_empty() {
            rel.to_string()
        } else {
            format!("{}/{rel}", self.prefix)
        }
    }

    fn put(&self, key: &str, body: Vec<u8>) -> Result<()> {
        Ok(self.runtime.block_on(dw_pipeline::s3::put_json(
            &self.client,
            &self.bucket,
            key,
            body,
        ))?)
    }

    fn latest_key(&self, debate: &str, member: Option<&str>) -> String {
        match member {
            Some(m) => self.key(&format!("{debate}/latest.{m}.json")),
            None => self.key(&format!("{debate}/latest.json")),
        }
    }

    /// The index an earlier run left, if any.
    fn read_latest(&self, debate: &str, member: Option<&str>) -> Result<Option<Latest>> {
        let key = self.latest_key(debate, member);
        let got = self.runtime.block_on(async {
            match self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .send()
                .await
            {
                Ok(o) => o
                    .body
                    .collect()
                    .await
                    .map(|b| Some(b.into_bytes()))
                    .map_err(|e| e.to_string()),
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) =>
                {
                    Ok(None)
                }
                Err(e) => Err(aws_sdk_s3::error::DisplayErrorContext(&e).to_string()),
            }
        });
        match got.map_err(|e| Error::from(format!("s3://{}/{key}: {e}", self.bucket)))? {
            Some(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
                Error::from(format!("s3://{}/{key} is not an index: {e}", self.bucket))
            }),
            None => Ok(None),
        }
    }
}

impl Sink {
    /// `debate` and `member` name the index an S3 sink keeps (and resumes from).
    pub(crate) fn open(
        to: &Endpoint,
        resume: bool,
        debate: &str,
        member: Option<&str>,
    ) -> Result<Sink> {
        match to {
            Endpoint::Stdio => Ok(Sink {
                out: Box::new(BufWriter::new(io::stdout())),
                s3: None,
                closed_until: None,
            }),
            Endpoint::S3 { bucket, prefix } => {
                let s3 = S3Sink::open(bucket, prefix)?;
                let latest = if resume {
                    s3.read_latest(debate, member)?
                } else {
                    None
                };
                Ok(Sink {
                    out: Box::new(io::sink()),
                    closed_until: latest.as_ref().map(|l| l.closed_until),
                    s3: Some(S3Sink { latest, ..s3 }),
                })
            }
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
                .map_err(|e| Error::io(format!("cannot write {}", p.display()), e))?;
                Ok(Sink {
                    out: Box::new(BufWriter::new(file)),
                    s3: None,
                    closed_until,
                })
            }
            other => Err(format!("{other} is not a sink dw-score writes").into()),
        }
    }

    /// Windows before this instant were written by an earlier run.
    pub(crate) fn closed_until(&self) -> Option<jiff::Timestamp> {
        self.closed_until
    }

    pub(crate) fn record<T: Serialize>(&mut self, value: &T) -> Result<()> {
        serde_json::to_writer(&mut self.out, value).map_err(|e| Error::io("write", e.into()))?;
        self.out.write_all(b"\n").map_err(|e| Error::io("write", e))
    }

    pub(crate) fn window(&mut self, w: &Window) -> Result<()> {
        let Some(s3) = self.s3.as_mut() else {
            return self.record(w);
        };
        let key = s3.key(&w.key());
        let body = serde_json::to_vec_pretty(w).map_err(|e| e.to_string())?;
        s3.put(&key, body)?;
        if w.partial {
            // An open window: shown, not done. A restart must not take it as written.
            return Ok(());
        }
        let end = w.start + jiff::SignedDuration::from_secs(i64::from(w.length_secs));
        let written = s3.latest.as_ref().map_or(0, |l| l.windows_written) + 1;
        let closed_until = s3.latest.as_ref().map_or(end, |l| l.closed_until.max(end));
        s3.latest = Some(Latest {
            version: dw_pipeline::window::WINDOW_VERSION,
            debate: w.debate.clone(),
            member: w.member.clone(),
            closed_until,
            last_window: key,
            windows_written: written,
            updated_at: jiff::Timestamp::now(),
        });
        Ok(())
    }

    /// The parts other members of the group wrote for `debate` (S3; a file sink has none it
    /// can see): what a member taking partitions over must not count again.
    pub(crate) fn parts_of_others(&self, debate: &str, member: &str) -> Result<Vec<Window>> {
        let Some(s3) = &self.s3 else {
            return Ok(Vec::new());
        };
        let prefix = s3.key(&relative(debate, Folder::Parts));
        let own = format!(".{member}.json");
        let got = s3.runtime.block_on(async {
            let keys: Vec<String> =
                dw_pipeline::s3::list_with_etags(&s3.client, &s3.bucket, &prefix)
                    .await?
                    .into_iter()
                    .map(|(k, _)| k)
                    .filter(|k| k.ends_with(".json") && !k.ends_with(&own))
                    .collect();
            dw_pipeline::s3::get_many(&s3.client, &s3.bucket, &keys).await
        })?;
        got.into_iter()
            .map(|(key, body)| {
                serde_json::from_slice(&body).map_err(|e| {
                    Error::from(format!("s3://{}/{key} is not a window: {e}", s3.bucket))
                })
            })
            .collect()
    }

    /// Writes a member's heartbeat beside its parts (`<debate>/members/<member>.json`), where
    /// the merger and `dw cluster status` read it. Only an S3 sink has such a place.
    pub(crate) fn member_status(
        &self,
        debate: &str,
        member: &str,
        status: &dw_pipeline::member::MemberHeartbeat,
    ) -> Result<()> {
        let Some(s3) = &self.s3 else {
            return Ok(());
        };
        let key = s3.key(&format!(
            "{}{member}.json",
            relative(debate, Folder::Members)
        ));
        s3.put(
            &key,
            serde_json::to_vec_pretty(status).map_err(|e| e.to_string())?,
        )
    }

    pub(crate) fn tweet(&mut self, t: &TweetScore) -> Result<()> {
        if self.s3.is_some() {
            return Err("--emit tweets writes to a file or stdout, not S3".into());
        }
        self.record(t)
    }

    /// Everything written is durable: the file flushed, the S3 index updated.
    pub(crate) fn flush(&mut self) -> Result<()> {
        if let Some(s3) = &self.s3 {
            if let Some(latest) = &s3.latest {
                let key = s3.latest_key(&latest.debate, latest.member.as_deref());
                s3.put(
                    &key,
                    serde_json::to_vec_pretty(latest).map_err(|e| e.to_string())?,
                )?;
            }
            return Ok(());
        }
        self.out.flush().map_err(|e| Error::io("write", e))
    }
}

/// Every window of a JSON-lines file.
/// The parts of `debate` in the other members' files (`--parts-from`): a file not written yet
/// holds none; a torn last line (its writer died mid-write) was not committed, and is dropped.
pub(crate) fn parts_in_files(files: &[Endpoint], debate: &str) -> Result<Vec<Window>> {
    let mut parts = Vec::new();
    for f in files {
        if let Endpoint::File(p) = f
            && !p.exists()
        {
            continue;
        }
        parts.extend(
            read_windows(f)?
                .into_iter()
                .filter(|w| w.debate == debate && w.member.is_some()),
        );
    }
    Ok(parts)
}

pub(crate) fn read_windows(from: &Endpoint) -> Result<Vec<Window>> {
    let Endpoint::File(p) = from else {
        return Err(format!("{from}: windows are read from file:PATH").into());
    };
    let file = File::open(p).map_err(|e| Error::io(format!("cannot read {}", p.display()), e))?;
    let mut reader = BufReader::new(file);
    let mut out = Vec::new();
    let mut line = Vec::new();
    for number in 1.. {
        line.clear();
        let n = reader
            .read_until(b'\n', &mut line)
            .map_err(|e| Error::io(p.display().to_string(), e))?;
        if n == 0 {
            break;
        }
        if line.trim_ascii().is_empty() {
            continue;
        }
        match serde_json::from_slice(&line) {
            Ok(w) => out.push(w),
            // The last line, without its line end: the writer died in the middle of it (a
            // member SIGKILLed mid-write). What it held was not committed, so it is read again
            // by whoever takes the partitions over: dropped, said.
            Err(_) if !line.ends_with(b"\n") => {
                crate::log(&format!(
                    "{}:{number}: the last line is cut short (its writer died mid-write): dropped 1 line, {n} bytes",
                    p.display()
                ));
            }
            Err(e) => {
                return Err(Error::from(format!(
                    "{}:{number}: not a window: {e}",
                    p.display()
                )));
            }
        }
    }
    Ok(out)
}
