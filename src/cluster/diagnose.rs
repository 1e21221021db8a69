//! Why a cluster failed: EMR's reason, then the probable cause: the failing bootstrap action's or
//! step's stderr from the log URI. EMR copies logs to S3 minutes late, so the look-up retries for
//! a bounded time.

use std::io::Read;
use std::time::{Duration, Instant};

use serde::Serialize;

use super::Snapshot;
use crate::aws::sdk_error;
use crate::error::{Error, Result};
use crate::log;

#[derive(Debug, Clone, Serialize)]
pub struct Diagnosis {
    pub cluster_id: String,
    pub state: String,
    pub reason: Option<String>,
    /// What failed, in words: "bootstrap action 2 (...)" or "step \"Start ingest\"".
    pub failed: Option<String>,
    /// The log consulted and its last lines.
    pub log: Option<String>,
    pub log_tail: Option<String>,
}

/// The tail kept of a log.
const TAIL_LINES: usize = 30;

/// An EMR log URI (`s3://` or the older `s3n://`) as (bucket, prefix).
fn split_s3(uri: &str) -> Option<(String, String)> {
    let uri = match uri.strip_prefix("s3n://") {
        Some(rest) => format!("s3://{rest}"),
        None => uri.to_string(),
    };
    let (bucket, prefix) = dw_pipeline::endpoint::split_s3(&uri)?;
    Some((bucket.to_string(), prefix.trim_end_matches('/').to_string()))
}

/// "bootstrap action 2" in EMR's reason.
fn bootstrap_action_number(reason: &str) -> Option<u32> {
    let lower = reason.to_lowercase();
    let at = lower.find("bootstrap action")?;
    lower[at + "bootstrap action".len()..]
        .trim_start()
        .split(|c: char| !c.is_ascii_digit())
        .next()
        .and_then(|n| n.parse().ok())
}

/// "(i-0123abcd)" in EMR's reason.
fn instance_id(reason: &str) -> Option<String> {
    let at = reason.find("i-")?;
    let id: String = reason[at..]
        .chars()
        .take_while(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    (id.len() > 2).then_some(id)
}

fn tail(text: &str) -> String {
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(TAIL_LINES)..].join("\n")
}

async fn read_gz(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Option<String>> {
    match s3.get_object().bucket(bucket).key(key).send().await {
        Ok(obj) => {
            let bytes = obj
                .body
                .collect()
                .await
                .map_err(|e| Error::Failed(format!("reading s3://{bucket}/{key}: {e}")))?
                .into_bytes();
            let mut text = String::new();
            let mut gz = flate2::read::GzDecoder::new(&bytes[..]);
            if gz.read_to_string(&mut text).is_err() {
                // Not gzip after all: show it as it is.
                text = String::from_utf8_lossy(&bytes).into_owned();
            }
            Ok(Some(text))
        }
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key) =>
        {
            Ok(None)
        }
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(None),
        Err(e) => Err(sdk_error("GetObject", e)),
    }
}

/// The key of a bootstrap action's stderr: under `node/<instance>/bootstrap-actions/<n>/`.
async fn find_bootstrap_log(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
    cluster: &str,
    n: u32,
    instance: Option<&str>,
) -> Result<Option<String>> {
    if let Some(i) = instance {
        return Ok(Some(format!(
            "{prefix}/{cluster}/node/{i}/bootstrap-actions/{n}/stderr.gz"
        )));
    }
    let node_prefix = format!("{prefix}/{cluster}/node/");
    let suffix = format!("/bootstrap-actions/{n}/stderr.gz");
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(node_prefix.trim_start_matches('/'))
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListObjectsV2", e))?;
        if let Some(key) = page
            .contents()
            .iter()
            .filter_map(|o| o.key())
            .find(|k| k.ends_with(&suffix))
        {
            return Ok(Some(key.to_string()));
        }
    }
    Ok(None)
}

/// Diagnoses `snap`, looking for its failure log for up to `log_wait`.
pub async fn diagnose(
    s3: &aws_sdk_s3::Client,
    snap: &Snapshot,
    log_wait: Duration,
) -> Result<Diagnosis> {
    let mut d = Diagnosis {
        cluster_id: snap.id.clone(),
        state: snap.state.clone(),
        reason: snap.reason.clone(),
        failed: None,
        log: None,
        log_tail: None,
    };
    let failed_step = snap.steps.iter().find(|s| s.state == "FAILED");
    let action = snap.reason.as_deref().and_then(bootstrap_action_number);
    let target = match (failed_step, action) {
        (Some(step), _) => {
            d.failed = Some(format!("step \"{}\" ({})", step.name, step.id));
            Some(("step", step.id.clone(), None))
        }
        (None, Some(n)) => {
            d.failed = Some(format!("bootstrap action {n}"));
            Some((
                "bootstrap",
                n.to_string(),
                snap.reason.as_deref().and_then(instance_id),
            ))
        }
        _ => None,
    };
    let (Some((kind, what, instance)), Some((bucket, prefix))) =
        (target, snap.log_uri.as_deref().and_then(split_s3))
    else {
        return Ok(d);
    };
    let start = Instant::now();
    loop {
        let key = if kind == "step" {
            Some(format!("{prefix}/{}/steps/{what}/stderr.gz", snap.id))
        } else {
            let n: u32 = what.parse().unwrap_or(0);
            find_bootstrap_log(s3, &bucket, &prefix, &snap.id, n, instance.as_deref()).await?
        };
        if let Some(key) = key {
            let key = key.trim_start_matches('/').to_string();
            if let Some(text) = read_gz(s3, &bucket, &key).await? {
                d.log = Some(format!("s3://{bucket}/{key}"));
                d.log_tail = Some(tail(&text));
                return Ok(d);
            }
        }
        if start.elapsed() >= log_wait {
            log::info("the failure's log has not reached S3 yet");
            return Ok(d);
        }
        log::debug("waiting for EMR to copy the logs to S3");
        tokio::time::sleep(Duration::from_secs(15).min(log_wait)).await;
    }
}

impl Diagnosis {
    pub fn to_text(&self) -> String {
        // A live cluster has not "ended": say what it is.
        let verb = if self.state.starts_with("TERMINATED") {
            "ended"
        } else {
            "is"
        };
        let mut out = format!("cluster {} {verb} {}\n", self.cluster_id, self.state);
        if let Some(r) = &self.reason {
            out.push_str(&format!("reason: {r}\n"));
        }
        if let Some(f) = &self.failed {
            out.push_str(&format!("probable cause: {f} failed\n"));
        }
        match (&self.log, &self.log_tail) {
            (Some(log), Some(tail)) => {
                out.push_str(&format!("the end of {log}:\n"));
                for line in tail.lines() {
                    out.push_str(&format!("  | {line}\n"));
                }
            }
            _ if self.failed.is_some() => out.push_str("its log is not on S3 (yet)\n"),
            _ => {}
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emr_reasons_name_the_action_and_instance() {
        let r = "On the master instance (i-0a1b2c3d4e), bootstrap action 2 returned a non-zero return code";
        assert_eq!(bootstrap_action_number(r), Some(2));
        assert_eq!(instance_id(r).as_deref(), Some("i-0a1b2c3d4e"));
        assert_eq!(bootstrap_action_number("Terminated by user request"), None);
    }
}

#[cfg(test)]
mod words_tests {
    use super::Diagnosis;

    #[test]
    fn a_live_cluster_is_not_said_to_have_ended() {
        let d = |state: &str| Diagnosis {
            cluster_id: "j-1".into(),
            state: state.into(),
            reason: None,
            failed: None,
            log: None,
            log_tail: None,
        };
        assert!(
            d("WAITING")
                .to_text()
                .starts_with("cluster j-1 is WAITING\n")
        );
        assert!(
            d("TERMINATED_WITH_ERRORS")
                .to_text()
                .starts_with("cluster j-1 ended TERMINATED_WITH_ERRORS\n")
        );
    }
}
