//! `dw schedule`: cron lines that launch and remove each evening's cluster.

use super::Context;
use crate::error::{Error, Result};
use crate::settings::ScheduleSettings;
use crate::{log, schedule};

/// `dw schedule remove`: dw's block out of the crontab (`--dry-run`: the change, shown).
pub(super) fn remove(ctx: &Context, dry_run: bool) -> Result<()> {
    let before = schedule::read_crontab()?;
    let after = schedule::edit(&before, None)?;
    if dry_run {
        return ctx.print(&schedule::diff(&before, &after), &after);
    }
    if after != before {
        schedule::write_crontab(&after)?;
    }
    log::info("dw's schedule is out of the crontab");
    Ok(())
}

/// `dw schedule print` and `install`: the lines, printed or written into the crontab.
pub(super) fn execute(ctx: &Context, s: &ScheduleSettings<'_>) -> Result<()> {
    let (args, options) = (s.args, &s.options);
    if let (None, Some(target)) = (&args.binary, cargo_target_dir(&options.dw)) {
        let message = format!(
            "{} is a cargo build's binary (under {}): a rebuild or `cargo clean` would change \
             or remove what cron runs",
            options.dw.display(),
            target.display()
        );
        if s.install {
            return Err(Error::input_with_hint(
                message,
                "install dw (cargo install --locked --path .) and run that one's `schedule \
                 install`, or name the binary cron runs with --binary PATH",
            ));
        }
        log::info(&format!("note: {message}"));
    }
    let now = args.from.unwrap_or_else(jiff::Timestamp::now);
    let since = if args.all && !s.install {
        jiff::Timestamp::MIN
    } else {
        now
    };
    let (entries, skipped) = schedule::entries(&s.evenings, since, options);
    for s in &skipped {
        log::debug(&format!("skipped {}: {}", s.debate, s.reason));
    }
    if !skipped.is_empty() {
        log::info(&format!("{} past debates left out", skipped.len()));
    }
    let block = schedule::block(&entries, options);
    if !s.install {
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
