//! `dw report`: a debate's happiness per candidate, from the windows the scorer wrote.

use super::Context;
use crate::cli::ReportArgs;
use crate::error::{Error, Result};
use crate::{aws, log, plot, report};
use dw_pipeline::results::{Folder, Results};

pub(super) async fn execute(ctx: &Context<'_>, args: &ReportArgs) -> Result<()> {
    let evening = ctx.calendar()?.evening(args.debate, args.tier)?;
    let date = evening.date.to_string();
    let bin_secs = u32::try_from(args.bin.as_secs())
        .ok()
        .filter(|b| *b > 0)
        .ok_or_else(|| Error::input(format!("--bin {} is too long", args.bin)))?;
    let from = args.from.clone().unwrap_or_else(|| "out".into());
    let (windows, source) = if let Ok(dw_pipeline::endpoint::Endpoint::S3 { bucket, prefix }) =
        from.parse::<dw_pipeline::endpoint::Endpoint>()
    {
        let sdk = ctx.sdk().await?;
        let s3 = aws::s3(sdk);
        let under = Results::new(&prefix).folder(&date, Folder::Windows);
        let keys = aws::list_keys(&s3, &bucket, &under).await?;
        let mut windows = Vec::new();
        for key in &keys {
            let bytes = aws::get_object(&s3, &bucket, key).await?;
            windows.extend(report::parse_windows(
                &format!("s3://{bucket}/{key}"),
                &bytes,
            )?);
        }
        (windows, format!("s3://{bucket}/{under}"))
    } else {
        let path = std::path::PathBuf::from(from.strip_prefix("file:").unwrap_or(&from));
        let path = if path.is_dir() {
            path.join(&date).join("windows.jsonl")
        } else {
            path
        };
        let bytes = std::fs::read(&path).map_err(|source| {
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
    };
    if windows.is_empty() {
        return Err(Error::input(format!("{source} holds no windows of {date}")));
    }
    let report = report::build(&evening, source, windows, bin_secs);
    if let Some(path) = &args.plot {
        plot::happiness(&report, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    ctx.print(&report.to_text(&ctx.tz()?), &report)
}
