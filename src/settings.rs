//! The command line, the configuration file and the environment, resolved once into what each
//! command needs (as ripgrep turns its low-level arguments into high-level ones).
//!
//! [`resolve`] is the only reader of the configuration file, the debate calendar and `--tz`;
//! a handler in `commands/` gets one of the values below and only calls the library and
//! prints. Nothing here calls AWS; the price files a backtest names are read here because
//! the types it judges come from them.

mod cluster;
mod local;
mod spot;
mod windows;

pub(crate) use cluster::{RenderSettings, StatusSettings, UpSettings};
pub(crate) use local::{BuildJobsSettings, DebatesSettings, ScheduleSettings};
pub(crate) use spot::{BacktestSettings, PriceHistorySettings, QuoteSettings};
pub(crate) use windows::{
    PublishSettings, ReplaySettings, ReportSettings, ServeSettings, WatchSettings,
};

use std::sync::OnceLock;
use std::time::Duration as StdDuration;

use jiff::tz::TimeZone;

use crate::aws::AwsOptions;
use crate::cli::{
    Cli, Command, DownArgs, ModelCommand, ModelTrainArgs, ScheduleCommand, SpotCommand,
};
use crate::config::Loaded;
use crate::debates::{Calendar, Evening};
use crate::error::{Error, Result};
use crate::log;
use crate::units::Duration;

/// A command and everything it needs, resolved.
pub(crate) enum Settings<'a> {
    Debates(DebatesSettings),
    Quote(QuoteSettings),
    Backtest(BacktestSettings),
    PriceHistory(PriceHistorySettings),
    Render(RenderSettings),
    Up(UpSettings<'a>),
    Status(StatusSettings<'a>),
    List,
    /// `down` merges nothing: its flags are used as given.
    Down(&'a DownArgs),
    Diagnose {
        cluster_id: &'a str,
        log_wait: StdDuration,
    },
    Report(ReportSettings),
    Replay(ReplaySettings),
    Watch(WatchSettings),
    Publish(PublishSettings),
    Schedule(ScheduleSettings<'a>),
    ScheduleRemove {
        dry_run: bool,
    },
    /// Training reads only its own flags.
    Train(&'a ModelTrainArgs),
    BuildJobs(BuildJobsSettings),
    Completions(clap_complete::Shell),
    Man,
}

/// What [`resolve`] gives `commands::execute`: the command's settings and where AWS is.
pub(crate) struct Resolved<'a> {
    pub settings: Settings<'a>,
    /// The profile, region (flag, else the configuration's) and endpoint; used only by the
    /// commands that call AWS, which build the SDK configuration from it on first use.
    pub aws: AwsOptions,
}

/// Resolves the command line over the configuration file and the environment.
pub(crate) fn resolve(cli: &Cli) -> Result<Resolved<'_>> {
    let files = Files::new(cli);
    let settings = command(&files, &cli.command)?;
    let aws = AwsOptions {
        profile: cli.profile.clone(),
        region: cli.region.clone(),
        config_region: files.config.get().and_then(|l| l.config.region.clone()),
        endpoint_url: cli.endpoint_url.clone(),
    };
    Ok(Resolved { settings, aws })
}

fn command<'a>(files: &Files<'a>, command: &'a Command) -> Result<Settings<'a>> {
    Ok(match command {
        Command::Debates(args) => Settings::Debates(local::debates(files, args)?),
        Command::Spot(SpotCommand::Quote(args)) => Settings::Quote(spot::quote(files, args)?),
        Command::Spot(SpotCommand::Backtest(args)) => {
            Settings::Backtest(spot::backtest(files, args)?)
        }
        Command::Spot(SpotCommand::History(args)) => {
            Settings::PriceHistory(spot::price_history(files, args)?)
        }
        Command::Render(args) => Settings::Render(cluster::render(files, args)?),
        Command::Cluster(c) => cluster::cluster(files, c)?,
        Command::Report(args) => Settings::Report(windows::report(files, args)?),
        Command::Replay(args) => Settings::Replay(windows::replay(files, args)?),
        Command::Watch(args) => Settings::Watch(windows::watch(files, args)?),
        Command::Publish(args) => Settings::Publish(windows::publish(files, args)?),
        Command::Schedule(c) => {
            files.config()?;
            match c {
                ScheduleCommand::Remove { dry_run } => {
                    Settings::ScheduleRemove { dry_run: *dry_run }
                }
                ScheduleCommand::Print(args) => {
                    Settings::Schedule(local::schedule(files, args, false)?)
                }
                ScheduleCommand::Install(args) => {
                    Settings::Schedule(local::schedule(files, args, true)?)
                }
            }
        }
        Command::Model(ModelCommand::Train(args)) => Settings::Train(args),
        Command::BuildJobs(args) => Settings::BuildJobs(local::build_jobs(files, args)?),
        Command::Completions { shell } => Settings::Completions(*shell),
        Command::Man => Settings::Man,
    })
}

/// The files behind the settings, each read at most once and only when a command needs it:
/// `dw completions` reads none, so a broken configuration file never stops it.
struct Files<'a> {
    cli: &'a Cli,
    config: OnceLock<Loaded>,
    calendar: OnceLock<Calendar>,
}

impl<'a> Files<'a> {
    fn new(cli: &'a Cli) -> Self {
        Files {
            cli,
            config: OnceLock::new(),
            calendar: OnceLock::new(),
        }
    }

    /// The configuration: `--config`, else `configs/dw.toml`, else the built-in one.
    fn config(&self) -> Result<&Loaded> {
        if let Some(loaded) = self.config.get() {
            return Ok(loaded);
        }
        let loaded = Loaded::load(self.cli.config.as_deref())?;
        match &loaded.path {
            Some(p) => log::debug(&format!("config: {}", p.display())),
            None => log::info(
                "no configuration file (--config, DW_CONFIG, ./configs/dw.toml, \
                 ~/.config/dw/dw.toml): using the built-in one",
            ),
        }
        Ok(self.config.get_or_init(|| loaded))
    }

    /// The debate calendar the configuration names (else the built-in one).
    fn calendar(&self) -> Result<&Calendar> {
        if let Some(calendar) = self.calendar.get() {
            return Ok(calendar);
        }
        let calendar = Calendar::load(self.config()?.debates_path().as_deref())?;
        Ok(self.calendar.get_or_init(|| calendar))
    }

    fn evening(
        &self,
        date: jiff::civil::Date,
        tier: Option<crate::debates::Tier>,
    ) -> Result<Evening> {
        self.calendar()?.evening(date, tier)
    }

    /// The zone times are shown in: `--tz` (or `DW_TZ`), else the debates' (New York).
    fn tz(&self) -> Result<TimeZone> {
        time_zone(self.cli.tz.as_deref().unwrap_or(crate::debates::DEBATE_TZ))
    }
}

/// A time zone by its IANA name (`America/New_York`, `UTC`); a wrong one is bad input.
fn time_zone(name: &str) -> Result<TimeZone> {
    TimeZone::get(name).map_err(|_| {
        Error::input_with_hint(
            format!("`{name}` is not a time zone"),
            "give an IANA name such as America/New_York, Europe/Berlin or UTC (--tz, DW_TZ)",
        )
    })
}

/// The whole number of seconds of a duration (none below zero).
fn std_duration(d: Duration) -> StdDuration {
    StdDuration::from_secs(d.as_secs().max(0) as u64)
}

#[cfg(test)]
mod tests {
    use std::path::{Path, PathBuf};

    use clap::Parser as _;

    use super::*;
    use crate::spot::prices::OnDemand;

    /// The shipped configuration with `[spot] on_demand` set as `table` says.
    fn config_with_on_demand(dir: &Path, table: &str) -> PathBuf {
        let shipped = include_str!("../configs/dw.toml");
        let commented = "# on_demand = { \"m3.xlarge\" = 0.266 }";
        assert!(shipped.contains(commented), "the shipped config changed");
        let path = dir.join("dw.toml");
        std::fs::write(&path, shipped.replace(commented, table)).unwrap();
        path
    }

    fn resolved(args: &[&str]) -> Settings<'static> {
        let cli = Box::leak(Box::new(Cli::try_parse_from(args).unwrap()));
        resolve(cli).unwrap().settings
    }

    /// The on-demand price a quote bids against and the one `dw cluster status` prices an
    /// on-demand group at come from one place: the configuration's table over the built-in one.
    #[test]
    fn status_and_quote_take_the_same_on_demand_price() {
        let dir = tempfile::tempdir().unwrap();
        for (table, expected) in [
            ("on_demand = { \"m3.large\" = 0.20 }", 0.20),
            ("", 0.133), // the built-in table: us-east-1, 2016
        ] {
            let config = config_with_on_demand(dir.path(), table);
            let config = config.to_str().unwrap();
            let Settings::Quote(quote) = resolved(&[
                "dw",
                "--config",
                config,
                "spot",
                "quote",
                "m3.large",
                "--history",
                "x.json",
            ]) else {
                panic!("not a quote");
            };
            let Settings::Status(status) = resolved(&[
                "dw",
                "--config",
                config,
                "cluster",
                "status",
                "--cluster-id",
                "j-1",
            ]) else {
                panic!("not a status");
            };
            let by_status = OnDemand::new(&status.on_demand).price("m3.large");
            assert_eq!(quote.request.rule.on_demand, Some(expected), "{table}");
            assert_eq!(by_status, Some(expected), "{table}");
        }
    }

    /// A command that needs no configuration reads none: a broken file stops nothing.
    #[test]
    fn completions_read_no_configuration() {
        let dir = tempfile::tempdir().unwrap();
        let broken = dir.path().join("dw.toml");
        std::fs::write(&broken, "[spot\n").unwrap();
        let broken = broken.to_str().unwrap();
        assert!(matches!(
            resolved(&["dw", "--config", broken, "completions", "bash"]),
            Settings::Completions(_)
        ));
        let cli = Cli::try_parse_from(["dw", "--config", broken, "debates"]).unwrap();
        assert!(resolve(&cli).is_err(), "debates read the configuration");
    }

    /// `--tz` is resolved with the settings: a wrong zone is bad input before any work.
    #[test]
    fn a_wrong_zone_is_refused_before_the_command_runs() {
        let cli = Cli::try_parse_from(["dw", "--tz", "Mars/Base", "debates"]).unwrap();
        let Err(e) = resolve(&cli) else {
            panic!("Mars/Base resolved");
        };
        assert!(
            e.to_string().contains("`Mars/Base` is not a time zone"),
            "{e}"
        );
    }
}
