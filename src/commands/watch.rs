//! `dw watch`: the debate page over a source of windows.

use super::Context;
use super::page::{announce, bind, resolve_source, stopped};
use crate::cli::WatchArgs;
use crate::error::Result;

pub(super) async fn execute(ctx: &Context<'_>, args: &WatchArgs) -> Result<()> {
    let evening = ctx.calendar()?.evening(args.debate, None)?;
    let source = resolve_source(ctx, args.from.as_deref(), &evening)?;
    let server = bind(ctx, &evening, &source, &args.serve).await?;
    announce(ctx, &server, &source, &args.serve)?;
    server.run(stopped()).await
}
