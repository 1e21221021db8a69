//! What the page's commands share (`dw watch`, `dw replay --watch`): the bound server, and
//! how it is announced and stopped.

use serde::Serialize;

use super::Context;
use crate::debates::Evening;
use crate::error::Result;
use crate::log;
use crate::settings::ServeSettings;
use crate::watch::source::Source;
use crate::watch::{PageInfo, Reader, Server};

#[derive(Debug, Serialize)]
struct Serving {
    url: String,
    source: String,
}

/// Binds the address and reads the source once (a bad source or a port in use fails here).
pub(super) async fn bind(
    ctx: &Context,
    evening: &Evening,
    source: &Source,
    serve: &ServeSettings,
) -> Result<Server> {
    let s3 = match source {
        Source::S3 { .. } => Some(crate::aws::s3(ctx.sdk().await?)),
        Source::File(_) => None,
    };
    let reader = Reader::new(source, s3)?;
    let mut info = PageInfo::new(evening.clone(), source.to_string(), "live");
    info.stale_after_secs = serve.stale_after_secs;
    Server::bind(info, reader, serve.bind).await
}

/// Prints where the page is (the result, on stdout) and opens it if asked.
pub(super) fn announce(
    ctx: &Context,
    server: &Server,
    source: &Source,
    serve: &ServeSettings,
) -> Result<()> {
    let addr = server.local_addr()?;
    let url = format!("http://{addr}/");
    if !addr.ip().is_loopback() {
        log::info(&format!(
            "serving on {addr}: anyone who reaches this address sees the page"
        ));
    }
    ctx.print(
        &format!("{url}\n"),
        &Serving {
            url: url.clone(),
            source: source.to_string(),
        },
    )?;
    log::info(&format!("the debate page is at {url} (Ctrl-C stops it)"));
    if serve.open {
        open_browser(&url);
    }
    Ok(())
}

fn open_browser(url: &str) {
    let opener = std::env::var("BROWSER").unwrap_or_else(|_| "xdg-open".into());
    match std::process::Command::new(&opener)
        .arg(url)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
    {
        Ok(_) => log::info(&format!("opened it with {opener}")),
        Err(e) => log::info(&format!(
            "could not open a browser ({opener}: {e}); open {url} yourself"
        )),
    }
}

/// Completes on Ctrl-C or SIGTERM.
pub(super) async fn stopped() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let Ok(mut term) =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        else {
            let _ = interrupt.await;
            return;
        };
        tokio::select! {
            _ = interrupt => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
    log::info("stopping the page");
}
