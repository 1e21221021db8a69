//! `dw report`: a debate's happiness per candidate, from the windows the scorer wrote.

use super::Context;
use crate::error::Result;
use crate::report::WindowsAt;
use crate::settings::ReportSettings;
use crate::{aws, log, plot, report};

pub(super) async fn execute(ctx: &Context, s: &ReportSettings) -> Result<()> {
    let s3 = match &s.windows {
        WindowsAt::S3 { .. } => Some(aws::s3(ctx.sdk().await?)),
        WindowsAt::File(_) => None,
    };
    let (windows, source) = report::read_windows(s3.as_ref(), &s.windows, &s.evening).await?;
    let report = report::build(&s.evening, source, windows, s.bin_secs);
    if let Some(path) = &s.plot {
        plot::happiness(&report, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    ctx.print(&report.to_text(&s.tz), &report)
}
