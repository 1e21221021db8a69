//! `dw build-jobs`: the job binaries for EMR 4.x nodes, built and checked.

use super::Context;
use crate::build_jobs;
use crate::error::{Error, Result};
use crate::launch::plan;
use crate::settings::BuildJobsSettings;

pub(super) fn execute(ctx: &Context, s: &BuildJobsSettings) -> Result<()> {
    let out = &s.out;
    if !s.check_only {
        // The workspace: the nearest directory above here with the jobs' sources.
        let cwd = std::env::current_dir().map_err(|e| Error::Failed(e.to_string()))?;
        let root = cwd
            .ancestors()
            .find(|d| d.join("jobs/ingest/Cargo.toml").is_file())
            .ok_or_else(|| {
                Error::input_with_hint(
                    "dw build-jobs builds from dw's source tree, and this is not in one",
                    "run it in a clone of the dw repository",
                )
            })?
            .to_path_buf();
        build_jobs::build(&root, out)?;
    }
    let mut checks = Vec::new();
    for bin in plan::JOB_BINARIES {
        checks.push(build_jobs::check(&out.join(bin))?);
    }
    ctx.print(&build_jobs::report_text(&checks), &checks)?;
    if let Some(bad) = checks.iter().find(|c| !c.ok) {
        return Err(Error::Failed(format!(
            "{} would not run on EMR 4.x: {}",
            bad.name,
            bad.problems.join("; ")
        )));
    }
    Ok(())
}
