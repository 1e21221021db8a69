//! `dw replay`: a past debate scored on this machine.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{Context, page};
use crate::cli::ReplayArgs;
use crate::error::{Error, Result};
use crate::watch::source::Source;
use crate::{aws, config, log, replay};

pub(super) async fn execute(ctx: &Context<'_>, args: &ReplayArgs) -> Result<()> {
    let loaded = ctx.config()?;
    let evening = ctx.calendar()?.evening(args.debate, args.tier)?;
    let pace = dw_pipeline::job::parse_pace(&args.pace).map_err(Error::input)?;
    let source = if let Some(s) = &args.from {
        s.parse::<dw_pipeline::endpoint::Endpoint>()
            .map_err(Error::input)?
    } else {
        // The repository's data/, beside configs/ (the working directory for the built-in
        // configuration).
        let root = match &loaded.path {
            Some(_) => loaded.relative(std::path::Path::new("..")),
            None => std::path::PathBuf::new(),
        };
        let path =
            config::lexically_normal(&replay::shipped_archive(&root, &evening.date.to_string()));
        if !path.is_file() {
            return Err(Error::input_with_hint(
                format!(
                    "no archive of {} is shipped ({} is missing)",
                    evening.date,
                    path.display()
                ),
                "pass --from file:PATH or --from s3://BUCKET/PREFIX with the debate's tweets",
            ));
        }
        dw_pipeline::endpoint::Endpoint::File(path)
    };
    // Streamed, never whole in memory: a file as it is, S3 objects through temporary files.
    let (input, input_name): (Box<dyn std::io::BufRead + Send>, String) = match &source {
        dw_pipeline::endpoint::Endpoint::File(path) => (
            dw_pipeline::lines::open_archive(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?,
            path.display().to_string(),
        ),
        dw_pipeline::endpoint::Endpoint::S3 { bucket, prefix } => {
            let sdk = ctx.sdk().await?;
            (
                fetch_archive(&aws::s3(sdk), bucket, prefix).await?,
                source.to_string(),
            )
        }
        other => {
            return Err(Error::input(format!(
                "{other}: replay reads an archive (file:PATH or s3://BUCKET/PREFIX)"
            )));
        }
    };
    let watching = if args.watch {
        Some(watch_while_replaying(ctx, &evening, args).await?)
    } else {
        None
    };
    let summary = tokio::task::block_in_place(|| {
        replay::run(replay::ReplayOptions {
            evening: &evening,
            input,
            input_name,
            out: args.out.clone(),
            pace,
            window_secs: u32::try_from(args.window.as_secs()).unwrap_or(60),
            lateness_secs: u32::try_from(args.lateness.as_secs()).unwrap_or(30),
        })
    })?;
    ctx.print(&summary.to_text(&ctx.tz()?), &summary)?;
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
    ctx: &Context<'_>,
    evening: &crate::debates::Evening,
    args: &ReplayArgs,
) -> Result<(Served, Arc<AtomicBool>)> {
    let file = args
        .out
        .join(evening.date.to_string())
        .join("windows.jsonl");
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
    let server = page::bind(ctx, evening, &source, &args.serve).await?;
    page::announce(ctx, &server, &source, &args.serve)?;
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
