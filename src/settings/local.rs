//! The commands that stay on this machine: `dw debates` (the calendar), `dw schedule` (the
//! crontab) and `dw build-jobs` (the job binaries).

use std::path::PathBuf;

use jiff::Timestamp;
use jiff::tz::TimeZone;

use super::{Files, time_zone};
use crate::cli::{BuildJobsArgs, DebatesArgs, ScheduleArgs};
use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::schedule::ScheduleOptions;

pub(crate) struct DebatesSettings {
    /// The evenings asked for (`--debate`, `--upcoming`, `--past`), in calendar order.
    pub evenings: Vec<Evening>,
    pub tz: TimeZone,
}

pub(super) fn debates(files: &Files<'_>, args: &DebatesArgs) -> Result<DebatesSettings> {
    let calendar = files.calendar()?;
    let tz = files.tz()?;
    let now = Timestamp::now();
    let evenings = match &args.debate {
        Some(date) => vec![calendar.evening(*date, args.tier)?],
        None => calendar
            .evenings()
            .into_iter()
            .filter(|e| !args.upcoming || e.end() > now)
            .filter(|e| !args.past || e.end() <= now)
            .collect(),
    };
    Ok(DebatesSettings { evenings, tz })
}

pub(crate) struct ScheduleSettings<'a> {
    /// `--from`, `--all`, `--dry-run`, `--binary` as given.
    pub args: &'a ScheduleArgs,
    pub install: bool,
    pub options: ScheduleOptions,
    pub evenings: Vec<Evening>,
}

pub(super) fn schedule<'a>(
    files: &Files<'_>,
    args: &'a ScheduleArgs,
    install: bool,
) -> Result<ScheduleSettings<'a>> {
    let config = files.config()?.path.as_ref().ok_or_else(|| {
        Error::input_with_hint(
            "schedule lines need a configuration file, and dw is using its built-in one",
            "pass --config FILE (the lines name it by its absolute path)",
        )
    })?;
    let config = std::fs::canonicalize(config).map_err(|source| Error::Read {
        path: config.clone(),
        source,
    })?;
    let dw = match &args.binary {
        Some(path) => std::fs::canonicalize(path).map_err(|source| Error::Read {
            path: path.clone(),
            source,
        })?,
        None => std::env::current_exe().map_err(|e| Error::Failed(e.to_string()))?,
    };
    // Cron runs in the machine's zone, so that is the default here (not the debates').
    let (tz, tz_name) = if let Some(name) = &files.cli.tz {
        (time_zone(name)?, name.clone())
    } else {
        let tz = TimeZone::system();
        let name = tz.iana_name().unwrap_or("the system's").to_string();
        (tz, name)
    };
    let log_dir = match &args.log_dir {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME").map_or_else(
            || PathBuf::from("/tmp/dw-logs"),
            |h| PathBuf::from(h).join(".local/state/dw/logs"),
        ),
    };
    let options = ScheduleOptions {
        lead: args.lead,
        tail: args.tail,
        tz,
        tz_name,
        dw,
        config,
        log_dir,
        profile: files.cli.profile.clone(),
        // What this shell would use and cron's bare environment would not see: the flag, else
        // AWS_REGION / AWS_DEFAULT_REGION. Without either, the scheduled dw resolves the region
        // itself (the profile, then the config file), as it would here.
        region: files.cli.region.clone().or_else(|| {
            ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        }),
        path_env: "/usr/local/bin:/usr/bin:/bin".into(),
    };
    Ok(ScheduleSettings {
        args,
        install,
        options,
        evenings: files.calendar()?.evenings(),
    })
}

pub(crate) struct BuildJobsSettings {
    /// `--out`, else the configuration's `jobs.binaries`.
    pub out: PathBuf,
    pub check_only: bool,
}

pub(super) fn build_jobs(files: &Files<'_>, args: &BuildJobsArgs) -> Result<BuildJobsSettings> {
    let loaded = files.config()?;
    Ok(BuildJobsSettings {
        out: args
            .out
            .clone()
            .unwrap_or_else(|| loaded.relative(&loaded.config.jobs.binaries)),
        check_only: args.check_only,
    })
}
