//! `dw replay`: a past debate scored on this machine.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;

use super::{Context, page};
use crate::error::{Error, Result};
use crate::replay::ArchiveAt;
use crate::settings::{ReplaySettings, ServeSettings};
use crate::watch::source::Source;
use crate::{aws, log, replay};

pub(super) async fn execute(ctx: &Context, s: &ReplaySettings) -> Result<()> {
    let s3 = match &s.archive {
        ArchiveAt::S3 { .. } => Some(aws::s3(ctx.sdk().await?)),
        ArchiveAt::File(_) => None,
    };
    let (input, input_name) = replay::open_archive(s3.as_ref(), &s.archive).await?;
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
