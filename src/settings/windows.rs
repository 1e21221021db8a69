//! The windows' readers: `dw report`, `dw watch`, `dw publish`, and `dw replay` (which writes
//! them, and may serve the page over them as it goes).

use std::path::{Path, PathBuf};

use dw_pipeline::endpoint::{Endpoint, split_s3};
use dw_pipeline::results::{Folder, Results};
use jiff::tz::TimeZone;

use super::Files;
use crate::cli::{PublishArgs, ReplayArgs, ReportArgs, ServeArgs, WatchArgs};
use crate::config::Loaded;
use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::replay::ArchiveAt;
use crate::report::WindowsAt;
use crate::watch::publish::SiteAt;
use crate::watch::source::Source;
use crate::{config, replay};

pub(crate) struct ReportSettings {
    pub evening: Evening,
    pub bin_secs: u32,
    pub windows: WindowsAt,
    pub plot: Option<PathBuf>,
    pub tz: TimeZone,
}

pub(super) fn report(files: &Files<'_>, args: &ReportArgs) -> Result<ReportSettings> {
    let evening = files.evening(args.debate, args.tier)?;
    let date = evening.date.to_string();
    let bin_secs = u32::try_from(args.bin.as_secs())
        .ok()
        .filter(|b| *b > 0)
        .ok_or_else(|| Error::input(format!("--bin {} is too long", args.bin)))?;
    let from = args.from.clone().unwrap_or_else(|| "out".into());
    let windows = if let Ok(Endpoint::S3 { bucket, prefix }) = from.parse::<Endpoint>() {
        let prefix = Results::new(&prefix).folder(&date, Folder::Windows);
        WindowsAt::S3 { bucket, prefix }
    } else {
        let path = PathBuf::from(from.strip_prefix("file:").unwrap_or(&from));
        WindowsAt::File(if path.is_dir() {
            path.join(&date).join("windows.jsonl")
        } else {
            path
        })
    };
    Ok(ReportSettings {
        evening,
        bin_secs,
        windows,
        plot: args.plot.clone(),
        tz: files.tz()?,
    })
}

/// The page's server: its address, whether to open a browser, when a page says "stale".
pub(crate) struct ServeSettings {
    pub bind: std::net::SocketAddr,
    pub open: bool,
    pub stale_after_secs: u64,
}

impl From<&ServeArgs> for ServeSettings {
    fn from(serve: &ServeArgs) -> Self {
        ServeSettings {
            bind: serve.bind,
            open: serve.open,
            stale_after_secs: u64::try_from(serve.stale_after.as_secs().max(1)).unwrap_or(90),
        }
    }
}

pub(crate) struct WatchSettings {
    pub evening: Evening,
    pub source: Source,
    pub serve: ServeSettings,
}

pub(super) fn watch(files: &Files<'_>, args: &WatchArgs) -> Result<WatchSettings> {
    let evening = files.evening(args.debate, None)?;
    let source = windows_source(files, args.from.as_deref(), &evening)?;
    Ok(WatchSettings {
        evening,
        source,
        serve: (&args.serve).into(),
    })
}

/// Where the page reads windows: `--from`, else the configured results prefix (when the
/// configuration file names a bucket), else `out/` as `dw replay` writes it.
pub(super) fn windows_source(
    files: &Files<'_>,
    from: Option<&str>,
    evening: &Evening,
) -> Result<Source> {
    let date = evening.date.to_string();
    let from = if let Some(f) = from {
        f.to_string()
    } else {
        let loaded = files.config()?;
        let s3 = &loaded.config.s3;
        if loaded.path.is_some() && !s3.bucket.is_empty() {
            format!("{}/", Results::new(&s3.results_prefix).location(&s3.bucket))
        } else {
            "out".to_string()
        }
    };
    Source::resolve(&from, &date)
}

pub(crate) struct PublishSettings {
    pub evening: Evening,
    pub source: Source,
    pub to: SiteAt,
    /// The results' public URL (`--results-url`), else the bucket's own.
    pub results_url: Option<String>,
    pub frozen: bool,
    pub dry_run: bool,
}

pub(super) fn publish(files: &Files<'_>, args: &PublishArgs) -> Result<PublishSettings> {
    let evening = files.evening(args.debate, None)?;
    let source = windows_source(files, args.from.as_deref(), &evening)?;
    let to = match &args.to {
        Some(uri) => {
            let (bucket, prefix) = site_prefix(uri)?;
            SiteAt::S3 { bucket, prefix }
        }
        None => SiteAt::Dir(
            args.out
                .clone()
                .unwrap_or_else(|| PathBuf::from("site").join(evening.date.to_string())),
        ),
    };
    Ok(PublishSettings {
        evening,
        source,
        to,
        results_url: args.results_url.clone(),
        frozen: args.frozen,
        dry_run: args.dry_run,
    })
}

/// `s3://BUCKET[/PREFIX]` of `--to`: the bucket and the prefix, without `/` at either end.
pub(super) fn site_prefix(uri: &str) -> Result<(String, String)> {
    let (bucket, prefix) = split_s3(uri).ok_or_else(|| {
        Error::input_with_hint(
            format!("`{uri}` is not an s3:// URI"),
            "write --to s3://BUCKET/PREFIX, or --out DIR for a folder",
        )
    })?;
    if bucket.is_empty() {
        return Err(Error::input(format!("`{uri}` names no bucket")));
    }
    Ok((bucket.to_string(), prefix.trim_matches('/').to_string()))
}

// ---- dw replay -------------------------------------------------------------------------------

pub(crate) struct ReplaySettings {
    pub evening: Evening,
    /// Seconds of the debate per second here; `None`: as fast as it goes.
    pub pace: Option<f64>,
    pub archive: ArchiveAt,
    pub out: PathBuf,
    pub window_secs: u32,
    pub lateness_secs: u32,
    /// `--watch`: the page over the windows as they are written.
    pub watch: Option<ServeSettings>,
    pub tz: TimeZone,
}

pub(super) fn replay(files: &Files<'_>, args: &ReplayArgs) -> Result<ReplaySettings> {
    let loaded = files.config()?;
    let evening = files.evening(args.debate, args.tier)?;
    let pace = dw_pipeline::job::parse_pace(&args.pace).map_err(Error::input)?;
    let archive = match &args.from {
        Some(s) => match s.parse::<Endpoint>().map_err(Error::input)? {
            Endpoint::File(path) => ArchiveAt::File(path),
            Endpoint::S3 { bucket, prefix } => ArchiveAt::S3 { bucket, prefix },
            other => {
                return Err(Error::input(format!(
                    "{other}: replay reads an archive (file:PATH or s3://BUCKET/PREFIX)"
                )));
            }
        },
        None => ArchiveAt::File(shipped_archive(loaded, &evening)?),
    };
    Ok(ReplaySettings {
        evening,
        pace,
        archive,
        out: args.out.clone(),
        window_secs: u32::try_from(args.window.as_secs()).unwrap_or(60),
        lateness_secs: u32::try_from(args.lateness.as_secs()).unwrap_or(30),
        watch: args.watch.then(|| (&args.serve).into()),
        tz: files.tz()?,
    })
}

/// The archive shipped in the repository's `data/`, beside `configs/` (the working directory
/// for the built-in configuration).
pub(super) fn shipped_archive(loaded: &Loaded, evening: &Evening) -> Result<PathBuf> {
    let root = match &loaded.path {
        Some(_) => loaded.relative(Path::new("..")),
        None => PathBuf::new(),
    };
    let path = config::lexically_normal(&replay::shipped_archive(&root, &evening.date.to_string()));
    if !path.is_file() {
        return Err(Error::input_with_hint(
            format!(
                "no archive of {} is shipped ({} is missing)",
                evening.date,
                path.display()
            ),
            "pass --from file:PATH or --from s3://BUCKET/PREFIX with the debate's tweets",
        ));
    }
    Ok(path)
}
