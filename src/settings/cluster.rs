//! `dw render` and `dw cluster`: the launch's settings (the plan's inputs) and status's.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::Duration as StdDuration;

use dw_pipeline::results::Results;
use jiff::tz::TimeZone;

use super::{Files, Settings, std_duration};
use crate::cli::{ClusterCommand, RenderArgs, UpArgs, WhichCluster};
use crate::config::Loaded;
use crate::debates::Evening;
use crate::error::Result;
use crate::spot::quoting::QuoteOptions;
use crate::units::Dollars;

pub(crate) struct RenderSettings {
    pub loaded: Loaded,
    pub evening: Evening,
    /// How the spot groups are quoted: only with saved prices (`--history`), else the plan
    /// has no quotes.
    pub quote: Option<(Vec<PathBuf>, QuoteOptions)>,
    /// A replay's archive (`--replay`).
    pub archive: Option<String>,
    pub out: PathBuf,
    pub tz: TimeZone,
}

pub(super) fn render(files: &Files<'_>, args: &RenderArgs) -> Result<RenderSettings> {
    let loaded = files.config()?.clone();
    let evening = files.evening(args.debate, args.tier)?;
    let quote = (!args.history.is_empty()).then(|| {
        (
            args.history.clone(),
            QuoteOptions {
                at: args.at,
                policy: args.policy,
                ..Default::default()
            },
        )
    });
    Ok(RenderSettings {
        loaded,
        evening,
        quote,
        archive: args.replay.clone(),
        out: args.out.clone(),
        tz: files.tz()?,
    })
}

pub(crate) struct UpSettings<'a> {
    /// The switches, timeouts and paths `up` uses as given.
    pub args: &'a UpArgs,
    pub loaded: Loaded,
    pub evening: Evening,
    /// `--at`, `--policy` over `[spot]` (with the debate-night floor).
    pub quote: QuoteOptions,
    /// A replay (`--replay`) launches a past evening as `--force` would.
    pub force: bool,
    /// `s3://BUCKET/PREFIX/DATE/`, printed with the result.
    pub results: String,
    /// `[spot] fallback_after`: how long spot may keep a group waiting before on-demand
    /// capacity is added (unless `--no-fallback`).
    pub fallback_after: StdDuration,
    pub timeout: StdDuration,
    pub poll: StdDuration,
    pub log_wait: StdDuration,
    pub tz: TimeZone,
}

pub(super) fn cluster<'a>(files: &Files<'a>, command: &'a ClusterCommand) -> Result<Settings<'a>> {
    // Every cluster command calls EMR, in the configuration's region unless told another.
    let loaded = files.config()?;
    Ok(match command {
        ClusterCommand::Up(args) => {
            let evening = files.evening(args.debate, args.tier)?;
            Settings::Up(UpSettings {
                args,
                loaded: loaded.clone(),
                quote: QuoteOptions {
                    at: args.at,
                    policy: args.policy,
                    ..Default::default()
                },
                force: args.force || args.replay.is_some(),
                results: Results::new(&loaded.config.s3.results_prefix)
                    .debate_location(&loaded.config.s3.bucket, &evening.date.to_string()),
                fallback_after: std_duration(loaded.config.spot.fallback_after),
                timeout: std_duration(args.timeout),
                poll: std_duration(args.poll),
                log_wait: std_duration(args.log_wait),
                tz: files.tz()?,
                evening,
            })
        }
        ClusterCommand::Status(which) => Settings::Status(StatusSettings {
            which,
            on_demand: loaded.config.spot.on_demand.clone(),
            bucket: loaded.config.s3.bucket.clone(),
            results: Results::new(&loaded.config.s3.results_prefix),
        }),
        ClusterCommand::List => Settings::List,
        ClusterCommand::Down(args) => Settings::Down(args),
        ClusterCommand::Diagnose {
            cluster_id,
            log_wait,
        } => Settings::Diagnose {
            cluster_id,
            log_wait: std_duration(*log_wait),
        },
    })
}

pub(crate) struct StatusSettings<'a> {
    pub which: &'a WhichCluster,
    /// `[spot.on_demand]`: the prices a quote uses, so that status and quote agree.
    pub on_demand: BTreeMap<String, Dollars>,
    pub bucket: String,
    pub results: Results,
}
