//! `dw schedule`: cron lines that launch and remove each evening's cluster.

use super::Context;
use crate::cli::{ScheduleArgs, ScheduleCommand};
use crate::config::Loaded;
use crate::error::{Error, Result};
use crate::{log, schedule};

fn schedule_options(
    ctx: &Context<'_>,
    loaded: &Loaded,
    args: &ScheduleArgs,
) -> Result<schedule::ScheduleOptions> {
    let config = loaded.path.as_ref().ok_or_else(|| {
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
    let (tz, tz_name) = if let Some(name) = &ctx.cli.tz {
        (super::time_zone(name)?, name.clone())
    } else {
        let tz = jiff::tz::TimeZone::system();
        let name = tz.iana_name().unwrap_or("the system's").to_string();
        (tz, name)
    };
    let log_dir = match &args.log_dir {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME").map_or_else(
            || std::path::PathBuf::from("/tmp/dw-logs"),
            |h| std::path::PathBuf::from(h).join(".local/state/dw/logs"),
        ),
    };
    Ok(schedule::ScheduleOptions {
        lead: args.lead,
        tail: args.tail,
        tz,
        tz_name,
        dw,
        config,
        log_dir,
        profile: ctx.cli.profile.clone(),
        // What this shell would use and cron's bare environment would not see: the flag, else
        // AWS_REGION / AWS_DEFAULT_REGION. Without either, the scheduled dw resolves the region
        // itself (the profile, then the config file), as it would here.
        region: ctx.cli.region.clone().or_else(|| {
            ["AWS_REGION", "AWS_DEFAULT_REGION"]
                .iter()
                .find_map(|k| std::env::var(k).ok().filter(|v| !v.is_empty()))
        }),
        path_env: "/usr/local/bin:/usr/bin:/bin".into(),
    })
}

pub(super) fn execute(ctx: &Context<'_>, command: &ScheduleCommand) -> Result<()> {
    let loaded = ctx.config()?;
    let args = match command {
        ScheduleCommand::Remove { dry_run } => {
            let before = schedule::read_crontab()?;
            let after = schedule::edit(&before, None)?;
            if *dry_run {
                return ctx.print(&schedule::diff(&before, &after), &after);
            }
            if after != before {
                schedule::write_crontab(&after)?;
            }
            log::info("dw's schedule is out of the crontab");
            return Ok(());
        }
        ScheduleCommand::Print(a) | ScheduleCommand::Install(a) => a,
    };
    let options = schedule_options(ctx, loaded, args)?;
    if let (None, Some(target)) = (&args.binary, cargo_target_dir(&options.dw)) {
        let message = format!(
            "{} is a cargo build's binary (under {}): a rebuild or `cargo clean` would change \
             or remove what cron runs",
            options.dw.display(),
            target.display()
        );
        if matches!(command, ScheduleCommand::Install(_)) {
            return Err(Error::input_with_hint(
                message,
                "install dw (cargo install --locked --path .) and run that one's `schedule \
                 install`, or name the binary cron runs with --binary PATH",
            ));
        }
        log::info(&format!("note: {message}"));
    }
    let now = args.from.unwrap_or_else(jiff::Timestamp::now);
    let install = matches!(command, ScheduleCommand::Install(_));
    let since = if args.all && !install {
        jiff::Timestamp::MIN
    } else {
        now
    };
    let evenings = ctx.calendar()?.evenings();
    let (entries, skipped) = schedule::entries(&evenings, since, &options);
    for s in &skipped {
        log::debug(&format!("skipped {}: {}", s.debate, s.reason));
    }
    if !skipped.is_empty() {
        log::info(&format!("{} past debates left out", skipped.len()));
    }
    let block = schedule::block(&entries, &options);
    if !install {
        return ctx.print(&block, &entries);
    }
    let before = schedule::read_crontab()?;
    let after = schedule::edit(&before, Some(&block))?;
    if args.dry_run {
        return ctx.print(&schedule::diff(&before, &after), &entries);
    }
    if after != before {
        std::fs::create_dir_all(&options.log_dir).map_err(|source| Error::Write {
            path: options.log_dir.clone(),
            source,
        })?;
        schedule::write_crontab(&after)?;
    }
    log::info(&format!(
        "{} debates scheduled in the crontab",
        entries.len()
    ));
    Ok(())
}

/// The cargo profile directory `binary` was built into, if it was: a directory above it with
/// cargo's `.cargo-lock` and `.fingerprint/` (`target/debug`, `target/release`, ...).
fn cargo_target_dir(binary: &std::path::Path) -> Option<std::path::PathBuf> {
    binary
        .ancestors()
        .skip(1)
        .find(|d| d.join(".cargo-lock").is_file() && d.join(".fingerprint").is_dir())
        .map(std::path::Path::to_path_buf)
}
