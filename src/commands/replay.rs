//! `dw replay`: a past debate scored on this machine.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{Context, page};
use crate::error::{Error, Result};
use crate::settings::{ArchiveAt, ReplaySettings, ServeSettings};
use crate::watch::source::Source;
use crate::{aws, log, replay};

pub(super) async fn execute(ctx: &Context, s: &ReplaySettings) -> Result<()> {
    // Streamed, never whole in memory: a file as it is, S3 objects through temporary files.
    let (input, input_name): (Box<dyn std::io::BufRead + Send>, String) = match &s.archive {
        ArchiveAt::S3 { bucket, prefix } => (
            fetch_archive(&aws::s3(ctx.sdk().await?), bucket, prefix).await?,
            format!("s3://{bucket}/{prefix}"),
        ),
        ArchiveAt::File(path) => (
            dw_pipeline::lines::open_archive(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?,
            path.display().to_string(),
        ),
    };
    let watching = match &s.watch {
        Some(serve) => Some(watch_while_replaying(ctx, &s.evening, &s.out, serve).await?),
        None => None,
    };
    let summary = tokio::task::block_in_place(|| {
        replay::run(replay::ReplayOptions {
            evening: &s.evening,
            input,
            input_name,
            out: s.out.clone(),
            pace: s.pace,
            window_secs: s.window_secs,
            lateness_secs: s.lateness_secs,
        })
    })?;
    ctx.print(&summary.to_text(&s.tz), &summary)?;
    match watching {
        Some((served, done)) => {
            done.store(true, std::sync::atomic::Ordering::Relaxed);
            log::info("the replay is over; the page stays up until interrupted (Ctrl-C)");
            served
                .await
                .map_err(|e| Error::Failed(format!("the page server failed: {e}")))?
        }
        None => Ok(()),
    }
}

type Served = tokio::task::JoinHandle<Result<()>>;

/// Serves the page over the windows file the replay is about to write. Ctrl-C stops the page,
/// and the replay with it if it is still running (the windows written so far stay).
async fn watch_while_replaying(
    ctx: &Context,
    evening: &crate::debates::Evening,
    out: &std::path::Path,
    serve: &ServeSettings,
) -> Result<(Served, Arc<AtomicBool>)> {
    let file = out.join(evening.date.to_string()).join("windows.jsonl");
    let fail = |source| Error::Write {
        path: file.clone(),
        source,
    };
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&file)
        .map_err(fail)?;
    let source = Source::File(file);
    let server = page::bind(ctx, evening, &source, serve).await?;
    page::announce(ctx, &server, &source, serve)?;
    let done = Arc::new(AtomicBool::new(false));
    let replaying = done.clone();
    let served = tokio::spawn(server.run(async move {
        page::stopped().await;
        if !replaying.load(std::sync::atomic::Ordering::Relaxed) {
            log::info("interrupted: the replay stops; the windows written so far stay");
            std::process::exit(130);
        }
    }));
    Ok((served, done))
}

/// Every object under the prefix, in key order, unzipped and read as one stream.
async fn fetch_archive(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Box<dyn std::io::BufRead + Send>> {
    // Listed first through dw's classifier: a missing bucket is bad input with a hint.
    if aws::list_keys(s3, bucket, prefix).await?.is_empty() {
        return Err(Error::input(format!(
            "no objects under s3://{bucket}/{prefix}"
        )));
    }
    let (dir, paths) = dw_pipeline::s3::download_archive(s3, bucket, prefix)
        .await
        .map_err(aws::pipeline_error)?;
    if paths.is_empty() {
        return Err(Error::input(format!(
            "no objects under s3://{bucket}/{prefix}"
        )));
    }
    Ok(Box::new(std::io::BufReader::with_capacity(
        1 << 16,
        dw_pipeline::lines::Archives::new(paths, dir),
    )))
}
