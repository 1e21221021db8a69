//! Staging on S3: the plan's scripts and binaries under content-addressed keys, private and
//! encrypted at rest. An object already there with the same SHA-256 is not uploaded again.

use std::sync::Arc;

use aws_sdk_s3::Client;
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::ServerSideEncryption;
use serde::Serialize;
use tokio::sync::Semaphore;

use crate::aws::sdk_error;
use crate::error::{Error, Result};
use crate::launch::plan::{Content, Staged, StagedKind};
use crate::progress::Progress;

#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct StageReport {
    pub uploaded: Vec<String>,
    pub already_there: Vec<String>,
    pub bytes_uploaded: u64,
}

/// Uploads at most this many objects at once.
const PARALLEL: usize = 4;

pub(crate) async fn check_bucket(s3: &Client, bucket: &str) -> Result<()> {
    match s3.head_bucket().bucket(bucket).send().await {
        Ok(_) => Ok(()),
        Err(e) => {
            let missing = e
                .as_service_error()
                .is_some_and(aws_sdk_s3::operation::head_bucket::HeadBucketError::is_not_found)
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404);
            if missing {
                Err(Error::input_with_hint(
                    format!("the S3 bucket {bucket} does not exist"),
                    "create it (aws s3 mb s3://BUCKET) or set s3.bucket in configs/dw.toml",
                ))
            } else {
                Err(sdk_error("HeadBucket", e))
            }
        }
    }
}

/// True when `key` holds an object recorded with this SHA-256.
async fn already_there(s3: &Client, bucket: &str, s: &Staged) -> Result<bool> {
    match s3.head_object().bucket(bucket).key(&s.key).send().await {
        Ok(head) => Ok(head
            .metadata()
            .and_then(|m| m.get("sha256"))
            .is_some_and(|v| v == &s.sha256)),
        Err(e)
            if e.as_service_error()
                .is_some_and(aws_sdk_s3::operation::head_object::HeadObjectError::is_not_found) =>
        {
            Ok(false)
        }
        Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
        Err(e) => Err(sdk_error("HeadObject", e)),
    }
}

async fn upload(s3: &Client, bucket: &str, s: &Staged) -> Result<()> {
    let body = match &s.content {
        Content::Rendered(text) => ByteStream::from(text.clone().into_bytes()),
        Content::File(path) => ByteStream::from_path(path)
            .await
            .map_err(|e| Error::Failed(format!("cannot read {}: {e}", path.display())))?,
    };
    s3.put_object()
        .bucket(bucket)
        .key(&s.key)
        .body(body)
        .server_side_encryption(ServerSideEncryption::Aes256)
        .metadata("sha256", &s.sha256)
        .content_type(match s.kind {
            StagedKind::Bin => "application/octet-stream",
            StagedKind::Bootstrap | StagedKind::Steps => "text/x-shellscript",
        })
        .send()
        .await
        .map_err(|e| sdk_error("PutObject", e))?;
    Ok(())
}

/// Stages every object of `staged` in `bucket`. On failure, says what was and was not staged.
pub(crate) async fn stage(s3: &Client, bucket: &str, staged: &[Staged]) -> Result<StageReport> {
    check_bucket(s3, bucket).await?;
    let progress = Arc::new(Progress::bar(
        staged.len() as u64,
        &format!("staging {} objects on s3://{bucket}", staged.len()),
    ));
    let limit = Arc::new(Semaphore::new(PARALLEL));
    let mut tasks = tokio::task::JoinSet::new();
    for s in staged.iter().cloned() {
        let (s3, bucket, limit, progress) = (
            s3.clone(),
            bucket.to_string(),
            limit.clone(),
            progress.clone(),
        );
        tasks.spawn(async move {
            let _permit = limit.acquire().await;
            let result: Result<bool> = async {
                if already_there(&s3, &bucket, &s).await? {
                    progress.inc(&format!("{} is already staged", s.uri));
                    return Ok(false);
                }
                upload(&s3, &bucket, &s).await?;
                progress.inc(&format!("staged {} ({} bytes)", s.uri, s.size));
                Ok(true)
            }
            .await;
            (s, result)
        });
    }
    let mut report = StageReport::default();
    let mut failures = Vec::new();
    while let Some(joined) = tasks.join_next().await {
        match joined {
            Ok((s, Ok(true))) => {
                report.bytes_uploaded += s.size;
                report.uploaded.push(s.uri);
            }
            Ok((s, Ok(false))) => report.already_there.push(s.uri),
            Ok((s, Err(e))) => failures.push(format!("{}: {e}", s.name)),
            Err(e) => failures.push(format!("an upload task failed: {e}")),
        }
    }
    progress.finish(&format!(
        "staged: {} uploaded ({} bytes), {} already there",
        report.uploaded.len(),
        report.bytes_uploaded,
        report.already_there.len()
    ));
    if !failures.is_empty() {
        return Err(Error::Failed(format!(
            "staging failed for {} of {} objects, nothing was launched ({} staged): {}",
            failures.len(),
            staged.len(),
            report.uploaded.len() + report.already_there.len(),
            failures.join("; ")
        )));
    }
    Ok(report)
}
