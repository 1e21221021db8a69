//! The command handlers, one file per command group, and the [`Context`] they share.
//!
//! A handler gets its command's settings (resolved once by [`crate::settings`]) and the
//! [`Context`], calls the library's modules and prints its result with [`Context::print`].

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

use aws_config::SdkConfig;
use serde::Serialize;

use crate::aws;
use crate::cli::{Cli, OutputFormat};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::settings::{self, Settings};
use crate::spot::quoting::{self, Prices, QuoteOptions};

/// What every handler shares: how results are printed and the AWS SDK configuration, built
/// on first use (commands that never call AWS never build it, so they need no credentials).
/// Everything else a handler needs comes resolved in its settings.
pub(crate) struct Context {
    pub(crate) output: OutputFormat,
    aws: aws::AwsOptions,
    sdk: tokio::sync::OnceCell<SdkConfig>,
}

impl Context {
    fn new(output: OutputFormat, aws: aws::AwsOptions) -> Self {
        Context {
            output,
            aws,
            sdk: tokio::sync::OnceCell::new(),
        }
    }

    /// The AWS SDK configuration, built on first use and shared by every client of the run.
    pub(crate) async fn sdk(&self) -> Result<&SdkConfig> {
        self.sdk.get_or_try_init(|| aws::load(&self.aws)).await
    }

    /// `--endpoint-url`: an AWS stand-in such as moto.
    pub(crate) fn endpoint_url(&self) -> Option<&str> {
        self.aws.endpoint_url.as_deref()
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
        config: &Config,
        history: &[std::path::PathBuf],
        options: &QuoteOptions,
    ) -> Result<std::collections::BTreeMap<String, crate::spot::Quote>> {
        if quoting::spot_types(&config.emr).is_empty() {
            return Ok(std::collections::BTreeMap::new());
        }
        let prices = self.prices(history).await?;
        quoting::cluster_quotes(&prices, &config.spot, &config.emr, options).await
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

/// Runs the command the command line names: its settings resolved once, then its handler.
pub(crate) async fn execute(cli: &Cli) -> Result<()> {
    let resolved = settings::resolve(cli)?;
    let ctx = &Context::new(cli.output, resolved.aws);
    match resolved.settings {
        Settings::Debates(s) => debates::execute(ctx, &s),
        Settings::Quote(s) => spot::quote(ctx, &s).await,
        Settings::Backtest(s) => spot::backtest(ctx, s).await,
        Settings::PriceHistory(s) => spot::history(ctx, &s).await,
        Settings::Report(s) => report::execute(ctx, &s).await,
        Settings::Render(s) => render::execute(ctx, &s).await,
        Settings::Replay(s) => replay::execute(ctx, &s).await,
        Settings::Watch(s) => watch::execute(ctx, &s).await,
        Settings::Publish(s) => publish::execute(ctx, &s).await,
        Settings::Completions(shell) => {
            let mut script = Vec::new();
            let mut command = <Cli as clap::CommandFactory>::command();
            clap_complete::generate(shell, &mut command, "dw", &mut script);
            write_stdout(&script)
        }
        Settings::Man => {
            let mut page = Vec::new();
            clap_mangen::Man::new(<Cli as clap::CommandFactory>::command())
                .render(&mut page)
                .map_err(|e| Error::Failed(format!("rendering the man page: {e}")))?;
            write_stdout(&page)
        }
        Settings::Schedule(s) => schedule::execute(ctx, &s),
        Settings::ScheduleRemove { dry_run } => schedule::remove(ctx, dry_run),
        Settings::Train(args) => tokio::task::block_in_place(|| model::train(ctx, args)),
        Settings::BuildJobs(s) => tokio::task::block_in_place(|| build_jobs::execute(ctx, &s)),
        Settings::Up(s) => cluster::up(ctx, &s).await,
        Settings::Status(s) => cluster::status(ctx, &s).await,
        Settings::List => cluster::list(ctx).await,
        Settings::Down(args) => cluster::down(ctx, args).await,
        Settings::Diagnose {
            cluster_id,
            log_wait,
        } => cluster::diagnose(ctx, cluster_id, log_wait).await,
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
