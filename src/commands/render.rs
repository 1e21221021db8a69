//! `dw render`: every script a debate's cluster runs, and its plan, written to a folder.

use super::{Context, write_file};
use crate::cli::RenderArgs;
use crate::error::{Error, Result};
use crate::launch::{build, plan};
use crate::spot::quoting::QuoteOptions;

pub(super) async fn execute(ctx: &Context<'_>, args: &RenderArgs) -> Result<()> {
    let loaded = ctx.config()?;
    let evening = ctx.calendar()?.evening(args.debate, args.tier)?;
    let quotes = if args.history.is_empty() {
        std::collections::BTreeMap::default()
    } else {
        let options = QuoteOptions {
            at: args.at,
            policy: args.policy,
            ..Default::default()
        };
        ctx.cluster_quotes(&args.history, &options).await?
    };
    let plan = build::build(
        loaded,
        &evening,
        &plan::PlanOptions {
            quotes,
            keep_on_failure: false,
            replay_from: None,
            archive: args.replay.clone(),
        },
    )?;
    let mut written = Vec::new();
    for s in &plan.staged {
        if let plan::Content::Rendered(text) = &s.content {
            let path = args.out.join(s.kind.as_str()).join(&s.name);
            write_file(&path, text.as_bytes())?;
            written.push(path);
        }
    }
    let plan_path = args.out.join("plan.json");
    let json = serde_json::to_string_pretty(&plan).map_err(|e| Error::Failed(e.to_string()))?;
    write_file(&plan_path, format!("{json}\n").as_bytes())?;
    written.push(plan_path);
    let mut text = plan.to_text(&ctx.tz()?);
    text.push_str(&format!(
        "\nwrote {} files under {}:\n",
        written.len(),
        args.out.display()
    ));
    for p in &written {
        text.push_str(&format!("  {}\n", p.display()));
    }
    ctx.print(&text, &plan)
}
