//! `dw schedule`: crontab lines that start a debate's cluster before the evening and remove it
//! after, from the calendar. Cron reads the machine's local time and has no year, so the lines
//! carry absolute paths and the environment cron lacks, are computed for the local time zone
//! (daylight saving included), and the commands they run refuse on any other day.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use jiff::Timestamp;
use jiff::tz::TimeZone;
use serde::Serialize;

use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::units::Duration;

pub(crate) const BEGIN: &str =
    "# BEGIN dw schedule (managed by `dw schedule install`: edit the calendar, not these lines)";
pub(crate) const END: &str = "# END dw schedule";

#[derive(Debug, Clone)]
pub(crate) struct ScheduleOptions {
    pub lead: Duration,
    pub tail: Duration,
    /// The time zone cron runs in (the machine's).
    pub tz: TimeZone,
    pub tz_name: String,
    pub dw: PathBuf,
    pub config: PathBuf,
    pub log_dir: PathBuf,
    pub profile: Option<String>,
    pub region: Option<String>,
    pub path_env: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Entry {
    pub debate: String,
    pub tiers: String,
    pub up_at: Timestamp,
    pub down_at: Timestamp,
    /// The two cron lines.
    pub up: String,
    pub down: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Skipped {
    pub debate: String,
    pub reason: String,
}

fn cron_fields(at: Timestamp, tz: &TimeZone) -> String {
    let local = at.to_zoned_datetime(tz.clone());
    format!(
        "{} {} {} {} *",
        local.minute(),
        local.hour(),
        local.day(),
        local.month()
    )
}

fn quote(p: &Path) -> String {
    crate::launch::render::shell_quote(&p.display().to_string())
}

/// The entries for `evenings` whose launch is after `now`; the others are skipped with a reason.
pub(crate) fn entries(
    evenings: &[Evening],
    now: Timestamp,
    o: &ScheduleOptions,
) -> (Vec<Entry>, Vec<Skipped>) {
    let mut out = Vec::new();
    let mut skipped = Vec::new();
    let base = format!("{} --config {}", quote(&o.dw), quote(&o.config));
    for e in evenings {
        let date = e.date.to_string();
        let up_at = e.start() - o.lead.get();
        let down_at = e.end() + o.tail.get();
        if up_at <= now {
            skipped.push(Skipped {
                debate: date.clone(),
                reason: format!("its launch time {up_at} has passed"),
            });
            continue;
        }
        let log = |what: &str| quote(&o.log_dir.join(format!("dw-{date}-{what}.log")));
        out.push(Entry {
            up: format!(
                "{} {}",
                cron_fields(up_at, &o.tz),
                cron_command(&format!(
                    "{base} cluster up --debate {date} --scheduled >> {} 2>&1",
                    log("up")
                ))
            ),
            down: format!(
                "{} {}",
                cron_fields(down_at, &o.tz),
                cron_command(&format!(
                    "{base} cluster down --debate {date} --if-exists --scheduled >> {} 2>&1",
                    log("down")
                ))
            ),
            debate: date,
            tiers: e.tiers(),
            up_at,
            down_at,
        });
    }
    (out, skipped)
}

/// The crontab block, markers included.
pub(crate) fn block(entries: &[Entry], o: &ScheduleOptions) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{BEGIN}");
    let _ = writeln!(out, "# times are {}, the time zone cron runs in", o.tz_name);
    let _ = writeln!(out, "PATH={}", o.path_env);
    if let Some(p) = &o.profile {
        let _ = writeln!(out, "AWS_PROFILE={p}");
    }
    if let Some(r) = &o.region {
        let _ = writeln!(out, "AWS_REGION={r}");
    }
    for e in entries {
        let local = |t: Timestamp| {
            t.to_zoned_datetime(o.tz.clone())
                .strftime("%Y-%m-%d %H:%M %Z")
                .to_string()
        };
        let _ = writeln!(
            out,
            "# {} ({}): up at {}, down at {}",
            e.debate,
            e.tiers,
            local(e.up_at),
            local(e.down_at)
        );
        let _ = writeln!(out, "{}", e.up);
        let _ = writeln!(out, "{}", e.down);
    }
    let _ = writeln!(out, "{END}");
    out
}

/// `crontab` with dw's block replaced by `block` (removed when `None`); every other line kept.
/// A crontab whose markers do not pair (a BEGIN without its END, an END alone, two BEGINs) is
/// refused: dw cannot tell which lines are its own, and would delete the user's.
pub(crate) fn edit(crontab: &str, block: Option<&str>) -> Result<String> {
    let mut begin_at: Option<usize> = None;
    for (i, line) in crontab.lines().enumerate() {
        let n = i + 1;
        let unpaired = match (line == BEGIN, line == END, begin_at) {
            (true, _, Some(open)) => Some(format!(
                "line {n} opens dw's block again (line {open} opened it and it was not closed)"
            )),
            (true, _, None) => {
                begin_at = Some(n);
                None
            }
            (_, true, None) => Some(format!("line {n} closes a dw block that was never opened")),
            (_, true, Some(_)) => {
                begin_at = None;
                None
            }
            _ => None,
        };
        if let Some(why) = unpaired {
            return Err(unpaired_markers(&why));
        }
    }
    if let Some(open) = begin_at {
        return Err(unpaired_markers(&format!(
            "line {open} opens dw's block and no `{END}` closes it"
        )));
    }
    let mut out = String::new();
    let mut inside = false;
    let mut placed = false;
    for line in crontab.lines() {
        if line == BEGIN {
            inside = true;
            if let Some(b) = block {
                out.push_str(b);
                placed = true;
            }
            continue;
        }
        if inside {
            if line == END {
                inside = false;
            }
            continue;
        }
        out.push_str(line);
        out.push('\n');
    }
    if let (Some(b), false) = (block, placed) {
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(b);
    }
    Ok(out)
}

fn unpaired_markers(why: &str) -> Error {
    Error::input_with_hint(
        format!("the crontab's dw markers do not pair: {why}"),
        "fix them with `crontab -e` (dw edits only the lines between its BEGIN and END \
         markers, and will not guess which lines are its own)",
    )
}

/// A command for a crontab line: cron turns an unescaped `%` into a newline.
fn cron_command(command: &str) -> String {
    command.replace('%', "\\%")
}

/// A line diff of two crontabs, for `--dry-run`.
pub(crate) fn diff(before: &str, after: &str) -> String {
    let old: Vec<&str> = before.lines().collect();
    let new: Vec<&str> = after.lines().collect();
    let mut out = String::new();
    for l in &old {
        if !new.contains(l) {
            let _ = writeln!(out, "- {l}");
        }
    }
    for l in &new {
        if !old.contains(l) {
            let _ = writeln!(out, "+ {l}");
        }
    }
    if out.is_empty() {
        out.push_str("no change\n");
    }
    out
}

/// Reads the user's crontab (`crontab -l`); none yet is an empty one.
pub(crate) fn read_crontab() -> Result<String> {
    let out = std::process::Command::new("crontab")
        .arg("-l")
        .output()
        .map_err(|e| Error::Failed(format!("cannot run crontab: {e}")))?;
    if out.status.success() {
        return Ok(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    let err = String::from_utf8_lossy(&out.stderr);
    if err.contains("no crontab") {
        Ok(String::new())
    } else {
        Err(Error::Failed(format!("crontab -l failed: {}", err.trim())))
    }
}

pub(crate) fn write_crontab(text: &str) -> Result<()> {
    use std::io::Write;
    let mut child = std::process::Command::new("crontab")
        .arg("-")
        .stdin(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| Error::Failed(format!("cannot run crontab: {e}")))?;
    child
        .stdin
        .take()
        .ok_or_else(|| Error::Failed("crontab: no stdin".into()))?
        .write_all(text.as_bytes())
        .map_err(|e| Error::Failed(format!("crontab -: {e}")))?;
    let status = child
        .wait()
        .map_err(|e| Error::Failed(format!("crontab -: {e}")))?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Failed("crontab - refused the new crontab".into()))
    }
}

/// For `--scheduled` runs: cron lines have no year, so a line for 2016-02-13 fires again on
/// 2017-02-13. True when `now` is the debate's date, or the day after (a teardown after
/// midnight), in the debates' time zone.
pub(crate) fn is_debate_day(date: jiff::civil::Date, now: Timestamp) -> bool {
    let today = TimeZone::get(crate::debates::DEBATE_TZ).map_or_else(
        |_| now.to_zoned_datetime(TimeZone::UTC).date(),
        |tz| now.to_zoned_datetime(tz).date(),
    );
    today == date || date.tomorrow().is_ok_and(|d| d == today)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edit_replaces_only_the_block_and_is_idempotent() {
        let mine = "MAILTO=me\n0 5 * * * backup\n";
        let block_a = format!("{BEGIN}\n1 2 3 4 * a\n{END}\n");
        let once = edit(mine, Some(&block_a)).unwrap();
        assert_eq!(once, format!("{mine}\n{block_a}"));
        assert_eq!(edit(&once, Some(&block_a)).unwrap(), once);
        let block_b = format!("{BEGIN}\n5 6 7 8 * b\n{END}\n");
        let replaced = edit(&once, Some(&block_b)).unwrap();
        assert!(replaced.contains("5 6 7 8 * b") && !replaced.contains("1 2 3 4 * a"));
        assert_eq!(edit(&replaced, None).unwrap().trim_end(), mine.trim_end());
    }

    /// A BEGIN with no END used to swallow every line after it (the user's own jobs).
    #[test]
    fn markers_that_do_not_pair_are_refused_and_nothing_is_lost() {
        let cases = [
            (
                format!("0 5 * * * backup\n{BEGIN}\n1 2 3 4 * a\n30 6 * * * mine\n"),
                "line 2 opens dw's block and no `# END dw schedule` closes it",
            ),
            (
                format!("{END}\n0 5 * * * backup\n"),
                "line 1 closes a dw block that was never opened",
            ),
            (
                format!("{BEGIN}\n1 * * * * a\n{BEGIN}\n{END}\n"),
                "line 3 opens dw's block again (line 1 opened it and it was not closed)",
            ),
        ];
        for (crontab, why) in cases {
            for block in [None, Some("x\n")] {
                let err = edit(&crontab, block).unwrap_err();
                assert_eq!(err.exit_code(), 2);
                assert_eq!(
                    err.to_string(),
                    format!("the crontab's dw markers do not pair: {why}")
                );
            }
        }
    }

    #[test]
    fn a_percent_sign_in_a_path_is_escaped_for_cron() {
        assert_eq!(
            cron_command("/opt/dw%1/dw up >> '/var/log/a%b.log'"),
            "/opt/dw\\%1/dw up >> '/var/log/a\\%b.log'"
        );
    }

    #[test]
    fn a_scheduled_run_only_acts_on_its_debate_day() {
        let date: jiff::civil::Date = "2016-02-13".parse().unwrap();
        // 2016-02-14T03:00Z is 22:00 on the 13th in New York.
        assert!(is_debate_day(date, "2016-02-14T03:00:00Z".parse().unwrap()));
        assert!(is_debate_day(date, "2016-02-14T06:00:00Z".parse().unwrap()));
        assert!(!is_debate_day(
            date,
            "2017-02-14T03:00:00Z".parse().unwrap()
        ));
        assert!(!is_debate_day(
            date,
            "2016-02-12T03:00:00Z".parse().unwrap()
        ));
    }
}
