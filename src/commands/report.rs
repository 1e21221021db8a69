//! `dw report`: a debate's happiness per candidate, from the windows the scorer wrote.

use super::Context;
use crate::error::{Error, Result};
use crate::settings::{ReportSettings, WindowsAt};
use crate::{aws, log, plot, report};

pub(super) async fn execute(ctx: &Context, s: &ReportSettings) -> Result<()> {
    let date = s.evening.date.to_string();
    let (windows, source) = match &s.windows {
        WindowsAt::S3 { bucket, prefix } => {
            let s3 = aws::s3(ctx.sdk().await?);
            let keys = aws::list_keys(&s3, bucket, prefix).await?;
            let mut windows = Vec::new();
            for key in &keys {
                let bytes = aws::get_object(&s3, bucket, key).await?;
                windows.extend(report::parse_windows(
                    &format!("s3://{bucket}/{key}"),
                    &bytes,
                )?);
            }
            (windows, format!("s3://{bucket}/{prefix}"))
        }
        WindowsAt::File(path) => {
            let bytes = std::fs::read(path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    Error::input_with_hint(
                        format!("no windows at {}", path.display()),
                        format!(
                            "score the debate first (dw replay --debate {date}), or pass \
                             --from with the windows' file, directory or s3:// prefix"
                        ),
                    )
                } else {
                    Error::Read {
                        path: path.clone(),
                        source,
                    }
                }
            })?;
            (
                report::parse_windows(&path.display().to_string(), &bytes)?,
                path.display().to_string(),
            )
        }
    };
    if windows.is_empty() {
        return Err(Error::input(format!("{source} holds no windows of {date}")));
    }
    let report = report::build(&s.evening, source, windows, s.bin_secs);
    if let Some(path) = &s.plot {
        plot::happiness(&report, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    ctx.print(&report.to_text(&s.tz), &report)
}
