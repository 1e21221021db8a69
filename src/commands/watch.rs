//! `dw watch`: the debate page over a source of windows.

use super::Context;
use super::page::{announce, bind, stopped};
use crate::error::Result;
use crate::settings::WatchSettings;

pub(super) async fn execute(ctx: &Context, s: &WatchSettings) -> Result<()> {
    let server = bind(ctx, &s.evening, &s.source, &s.serve).await?;
    announce(ctx, &server, &s.source, &s.serve)?;
    server.run(stopped()).await
}
