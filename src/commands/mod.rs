//! The command handlers, one file per command group, and the [`Context`] they share.
//!
//! A handler reads what it needs from the context (loaded once, on first use), does its work
//! through the library's modules, and prints its result with [`Context::print`].

mod build_jobs;
mod cluster;
mod debates;
mod model;
mod page;
mod publish;
mod render;
mod replay;
mod report;
mod schedule;
mod spot;
mod watch;

use std::io::Write as _;
use std::sync::OnceLock;

use aws_config::SdkConfig;
use serde::Serialize;

use crate::cli::{Cli, ClusterCommand, Command, ModelCommand, OutputFormat, SpotCommand};
use crate::config::Loaded;
use crate::debates::Calendar;
use crate::error::{Error, Result};
use crate::spot::quoting::{self, Prices, QuoteOptions};
use crate::{aws, log};

/// What every command may need, each built at most once per run: the configuration file, the
/// debate calendar it names, and the AWS SDK configuration (commands that never call AWS never
/// build it, so they need no credentials).
pub(crate) struct Context<'a> {
    pub(crate) cli: &'a Cli,
    pub(crate) output: OutputFormat,
    config: OnceLock<Loaded>,
    calendar: OnceLock<Calendar>,
    sdk: tokio::sync::OnceCell<SdkConfig>,
}

impl<'a> Context<'a> {
    pub(crate) fn new(cli: &'a Cli) -> Self {
        Context {
            cli,
            output: cli.output,
            config: OnceLock::new(),
            calendar: OnceLock::new(),
            sdk: tokio::sync::OnceCell::new(),
        }
    }

    /// The zone times are shown in: `--tz` (or `DW_TZ`), else the debates' (New York).
    pub(crate) fn tz(&self) -> Result<jiff::tz::TimeZone> {
        time_zone(self.cli.tz.as_deref().unwrap_or(crate::debates::DEBATE_TZ))
    }

    /// The configuration: `--config`, else `configs/dw.toml`, else the built-in one.
    pub(crate) fn config(&self) -> Result<&Loaded> {
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
    pub(crate) fn calendar(&self) -> Result<&Calendar> {
        if let Some(calendar) = self.calendar.get() {
            return Ok(calendar);
        }
        let calendar = Calendar::load(self.config()?.debates_path().as_deref())?;
        Ok(self.calendar.get_or_init(|| calendar))
    }

    /// The AWS SDK configuration, built on first use and shared by every client of the run.
    pub(crate) async fn sdk(&self) -> Result<&SdkConfig> {
        let options = self.aws_options()?;
        self.sdk
            .get_or_try_init(|| async move { aws::load(&options).await })
            .await
    }

    /// The prices a quote reads: the saved files `--history` names, else EC2's.
    pub(crate) async fn prices(&self, history: &[std::path::PathBuf]) -> Result<Prices> {
        if history.is_empty() {
            Ok(Prices::ec2(self.sdk().await?))
        } else {
            Prices::saved(history)
        }
    }

    /// The quotes of a cluster's spot groups (none without spot groups, and then no prices are
    /// read).
    pub(crate) async fn cluster_quotes(
        &self,
        history: &[std::path::PathBuf],
        options: &QuoteOptions,
    ) -> Result<std::collections::BTreeMap<String, crate::spot::Quote>> {
        let config = &self.config()?.config;
        if quoting::spot_types(&config.emr).is_empty() {
            return Ok(std::collections::BTreeMap::new());
        }
        let prices = self.prices(history).await?;
        quoting::cluster_quotes(&prices, &config.spot, &config.emr, options).await
    }

    fn aws_options(&self) -> Result<aws::AwsOptions> {
        Ok(aws::AwsOptions {
            profile: self.cli.profile.clone(),
            region: self.cli.region.clone(),
            config_region: self.config()?.config.region.clone(),
            endpoint_url: self.cli.endpoint_url.clone(),
        })
    }

    /// Prints a result on stdout: `text` for people, `value` as JSON for `--output json`.
    pub(crate) fn print<T: Serialize>(&self, text: &str, value: &T) -> Result<()> {
        match self.output {
            OutputFormat::Text => write_stdout(text.as_bytes()),
            OutputFormat::Json => {
                let mut json = serde_json::to_vec_pretty(value)
                    .map_err(|e| Error::Failed(format!("the result as JSON: {e}")))?;
                json.push(b'\n');
                write_stdout(&json)
            }
        }
    }
}

/// Runs the command the command line names.
pub(crate) async fn execute(cli: &Cli) -> Result<()> {
    let ctx = Context::new(cli);
    let ctx = &ctx;
    match &cli.command {
        Command::Debates(args) => debates::execute(ctx, args),
        Command::Spot(SpotCommand::Quote(args)) => spot::quote(ctx, args).await,
        Command::Spot(SpotCommand::Backtest(args)) => spot::backtest(ctx, args).await,
        Command::Spot(SpotCommand::History(args)) => spot::history(ctx, args).await,
        Command::Report(args) => report::execute(ctx, args).await,
        Command::Render(args) => render::execute(ctx, args).await,
        Command::Replay(args) => replay::execute(ctx, args).await,
        Command::Watch(args) => watch::execute(ctx, args).await,
        Command::Publish(args) => publish::execute(ctx, args).await,
        Command::Completions { shell } => {
            let mut script = Vec::new();
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(*shell, &mut command, "dw", &mut script);
            write_stdout(&script)
        }
        Command::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut page)
                .map_err(|e| Error::Failed(format!("rendering the man page: {e}")))?;
            write_stdout(&page)
        }
        Command::Schedule(c) => schedule::execute(ctx, c),
        Command::Model(ModelCommand::Train(args)) => {
            tokio::task::block_in_place(|| model::train(ctx, args))
        }
        Command::BuildJobs(args) => tokio::task::block_in_place(|| build_jobs::execute(ctx, args)),
        Command::Cluster(c) => match c {
            ClusterCommand::Up(args) => cluster::up(ctx, args).await,
            ClusterCommand::Status(which) => cluster::status(ctx, which).await,
            ClusterCommand::List => cluster::list(ctx).await,
            ClusterCommand::Down(args) => cluster::down(ctx, args).await,
            ClusterCommand::Diagnose {
                cluster_id,
                log_wait,
            } => cluster::diagnose(ctx, cluster_id, *log_wait).await,
        },
    }
}

/// Writes a result to stdout. A closed pipe (`dw ... | head`) is not an error worth a report.
fn write_stdout(bytes: &[u8]) -> Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(bytes).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// Writes a file dw produced, making its folder; never through a symbolic link.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    // A link planted where dw writes would send the plan (or a script) elsewhere.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::input_with_hint(
            format!(
                "{} is a symbolic link: dw does not write through it",
                path.display()
            ),
            "remove it, or render into another --out directory",
        ));
    }
    std::fs::write(path, bytes).map_err(fail)
}

/// A time zone by its IANA name (`America/New_York`, `UTC`); a wrong one is bad input.
pub(crate) fn time_zone(name: &str) -> Result<jiff::tz::TimeZone> {
    jiff::tz::TimeZone::get(name).map_err(|_| {
        Error::input_with_hint(
            format!("`{name}` is not a time zone"),
            "give an IANA name such as America/New_York, Europe/Berlin or UTC (--tz, DW_TZ)",
        )
    })
}
