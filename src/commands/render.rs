//! `dw render`: every script a debate's cluster runs, and its plan, written to a folder.

use super::Context;
use crate::error::{Error, Result};
use crate::files::write_file;
use crate::launch::{build, plan};
use crate::settings::RenderSettings;

pub(super) async fn execute(ctx: &Context, s: &RenderSettings) -> Result<()> {
    let quotes = match &s.quote {
        Some((history, options)) => {
            ctx.cluster_quotes(&s.loaded.config, history, options)
                .await?
        }
        None => std::collections::BTreeMap::default(),
    };
    let plan = build::build(
        &s.loaded,
        &s.evening,
        &plan::PlanOptions {
            quotes,
            keep_on_failure: false,
            replay_from: None,
            archive: s.archive.clone(),
        },
    )?;
    let mut written = Vec::new();
    for staged in &plan.staged {
        if let plan::Content::Rendered(text) = &staged.content {
            let path = s.out.join(staged.kind.as_str()).join(&staged.name);
            write_file(&path, text.as_bytes())?;
            written.push(path);
        }
    }
    let plan_path = s.out.join("plan.json");
    let json = serde_json::to_string_pretty(&plan).map_err(|e| Error::Failed(e.to_string()))?;
    write_file(&plan_path, format!("{json}\n").as_bytes())?;
    written.push(plan_path);
    let mut text = plan.to_text(&s.tz);
    text.push_str(&format!(
        "\nwrote {} files under {}:\n",
        written.len(),
        s.out.display()
    ));
    for p in &written {
        text.push_str(&format!("  {}\n", p.display()));
    }
    ctx.print(&text, &plan)
}
