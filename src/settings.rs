//! The command line, the configuration file and the environment, resolved once into what each
//! command needs (as ripgrep turns its low-level arguments into high-level ones).
//!
//! [`resolve`] is the only reader of the configuration file, the debate calendar and `--tz`;
//! a handler in `commands/` gets one of the values below and only calls the library and
//! prints. Nothing here calls AWS; the price files a backtest names are read here because
//! the types it judges come from them.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Duration as StdDuration;

use dw_pipeline::endpoint::{Endpoint, split_s3};
use dw_pipeline::results::{Folder, Results};
use jiff::Timestamp;
use jiff::tz::TimeZone;

use crate::aws::AwsOptions;
use crate::cli::{
    BacktestArgs, BuildJobsArgs, Cli, ClusterCommand, Command, DebatesArgs, DownArgs, HistoryArgs,
    ModelCommand, ModelTrainArgs, PriceArgs, PublishArgs, QuoteArgs, RenderArgs, ReplayArgs,
    ReportArgs, ScheduleArgs, ScheduleCommand, ServeArgs, SpotCommand, UpArgs, WatchArgs,
    WhichCluster,
};
use crate::config::{Loaded, SpotConfig};
use crate::debates::{Calendar, Evening};
use crate::error::{Error, Result};
use crate::replay::ArchiveAt;
use crate::report::WindowsAt;
use crate::schedule::ScheduleOptions;
use crate::spot::launches::Schedule;
use crate::spot::quoting::{self, HistoryRequest, Prices, QuoteOptions};
use crate::spot::{Policy, QuoteRequest, backtest};
use crate::units::{Dollars, Duration, InstanceType};
use crate::watch::publish::SiteAt;
use crate::watch::source::Source;
use crate::{config, log, replay};

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
        Command::Debates(args) => Settings::Debates(debates(files, args)?),
        Command::Spot(SpotCommand::Quote(args)) => Settings::Quote(quote(files, args)?),
        Command::Spot(SpotCommand::Backtest(args)) => Settings::Backtest(backtest(files, args)?),
        Command::Spot(SpotCommand::History(args)) => {
            Settings::PriceHistory(price_history(files, args)?)
        }
        Command::Render(args) => Settings::Render(render(files, args)?),
        Command::Cluster(c) => cluster(files, c)?,
        Command::Report(args) => Settings::Report(report(files, args)?),
        Command::Replay(args) => Settings::Replay(replay(files, args)?),
        Command::Watch(args) => Settings::Watch(watch(files, args)?),
        Command::Publish(args) => Settings::Publish(publish(files, args)?),
        Command::Schedule(c) => {
            files.config()?;
            match c {
                ScheduleCommand::Remove { dry_run } => {
                    Settings::ScheduleRemove { dry_run: *dry_run }
                }
                ScheduleCommand::Print(args) => Settings::Schedule(schedule(files, args, false)?),
                ScheduleCommand::Install(args) => Settings::Schedule(schedule(files, args, true)?),
            }
        }
        Command::Model(ModelCommand::Train(args)) => Settings::Train(args),
        Command::BuildJobs(args) => Settings::BuildJobs(build_jobs(files, args)?),
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

/// Where a debate's results are, as people write it: `s3://BUCKET/PREFIX/DATE/`.
fn results_uri(loaded: &Loaded, date: &str) -> String {
    let s3 = &loaded.config.s3;
    let location = Results::new(&s3.results_prefix).location(&s3.bucket);
    format!("{location}/{date}/")
}

// ---- dw debates ------------------------------------------------------------------------------

pub(crate) struct DebatesSettings {
    /// The evenings asked for (`--debate`, `--upcoming`, `--past`), in calendar order.
    pub evenings: Vec<Evening>,
    pub tz: TimeZone,
}

fn debates(files: &Files<'_>, args: &DebatesArgs) -> Result<DebatesSettings> {
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

// ---- dw spot ---------------------------------------------------------------------------------

pub(crate) struct QuoteSettings {
    /// The command line over `[spot]` (its on-demand table included), the debate-night floor
    /// when `--debate` names an evening.
    pub request: QuoteRequest,
    /// Saved price files; none: EC2's.
    pub history: Vec<PathBuf>,
    pub tz: TimeZone,
}

fn quote(files: &Files<'_>, args: &QuoteArgs) -> Result<QuoteSettings> {
    let loaded = files.config()?;
    let debate_night = match &args.debate {
        Some(date) => {
            files.evening(*date, None)?;
            true
        }
        None => false,
    };
    let request = quoting::request(
        &loaded.config.spot,
        args.instance_type.clone(),
        QuoteOptions {
            at: args.at,
            lookback: args.lookback,
            product: args.product.clone(),
            zones: args.zones.clone(),
            policy: args.policy,
            on_demand_price: args.on_demand_price,
        },
        debate_night,
    );
    Ok(QuoteSettings {
        request,
        history: args.history.clone(),
        tz: files.tz()?,
    })
}

pub(crate) struct BacktestSettings {
    /// One backtest per instance type, each the command line over `[spot]`.
    pub runs: Vec<backtest::Backtest>,
    pub schedule: Schedule,
    /// The saved prices `--history` names; none: EC2's over `--from`..`--to`.
    pub saved: Option<Prices>,
    pub plot: Option<PathBuf>,
}

fn backtest(files: &Files<'_>, args: &BacktestArgs) -> Result<BacktestSettings> {
    let loaded = files.config()?;
    let mut policies: Vec<Policy> = Vec::new();
    let asked = if args.policy.is_empty() {
        &Policy::ALL[..]
    } else {
        &args.policy[..]
    };
    for p in asked {
        if !policies.contains(p) {
            policies.push(*p);
        }
    }
    if args.prices.history.is_empty() && (args.from.is_none() || args.to.is_none()) {
        return Err(Error::input_with_hint(
            "a backtest needs prices: saved history files, or a past range to ask EC2 for",
            "pass --history FILE|DIR (repeatable), or --from DATE --to DATE",
        ));
    }
    let saved = if args.prices.history.is_empty() {
        None
    } else {
        Some(Prices::saved(&args.prices.history)?)
    };
    let types: Vec<InstanceType> = match (&args.instance_types[..], &saved) {
        ([], Some(prices)) => quoting::types_in(prices.records().unwrap_or_default())
            .iter()
            .map(|t| t.parse().map_err(Error::input))
            .collect::<Result<_>>()?,
        ([], None) => {
            return Err(Error::input_with_hint(
                "which instance type? EC2's history is read one type at a time",
                "name it, e.g. `dw spot backtest m3.large --from ... --to ...`",
            ));
        }
        (given, _) => given.to_vec(),
    };
    if types.len() > 1 && args.plot.is_some() {
        return Err(Error::input_with_hint(
            format!(
                "--plot draws one instance type, and this backtest has {}",
                types.len()
            ),
            "name the type to plot, e.g. `dw spot backtest m3.large --history DIR --plot FILE`",
        ));
    }
    let runs = types
        .iter()
        .map(|t| backtest_run(&loaded.config.spot, args, t, &policies))
        .collect::<Result<Vec<_>>>()?;
    let schedule = Schedule {
        from: args.from,
        to: args.to,
        window: args.window,
        every: args.every,
        evenings: if args.debates {
            let evenings = files.calendar()?.evenings();
            Some(evenings.iter().map(|e| (e.start(), e.end())).collect())
        } else {
            None
        },
    };
    Ok(BacktestSettings {
        runs,
        schedule,
        saved,
        plot: args.plot.clone(),
    })
}

/// One instance type's backtest: the command line over the configuration's `[spot]`.
fn backtest_run(
    spot: &SpotConfig,
    args: &BacktestArgs,
    t: &InstanceType,
    policies: &[Policy],
) -> Result<backtest::Backtest> {
    let (product, on_demand) = product_and_on_demand(spot, &args.prices, t)?;
    Ok(backtest::Backtest {
        instance_type: t.clone(),
        product,
        zones: args.prices.zones.clone(),
        lookback: args.lookback.unwrap_or(spot.lookback),
        markup: spot.markup.0,
        floor: spot.floor.get(),
        debate_night_floor: spot.debate_night_floor.get(),
        on_demand,
        policies: policies.to_vec(),
        recovery_delay: args.recovery_delay,
    })
}

/// The product and on-demand price of `--product`/`--on-demand-price`, else the config's.
fn product_and_on_demand(
    spot: &SpotConfig,
    args: &PriceArgs,
    t: &InstanceType,
) -> Result<(String, f64)> {
    let product = args.product.clone().unwrap_or_else(|| spot.product.clone());
    Ok((
        product,
        quoting::required_on_demand(spot, args.on_demand_price, t)?,
    ))
}

pub(crate) struct PriceHistorySettings {
    pub request: HistoryRequest,
    /// Saved price files; none: EC2's.
    pub history: Vec<PathBuf>,
    pub plot: Option<PathBuf>,
}

fn price_history(files: &Files<'_>, args: &HistoryArgs) -> Result<PriceHistorySettings> {
    let spot = &files.config()?.config.spot;
    let (product, on_demand) = product_and_on_demand(spot, &args.prices, &args.instance_type)?;
    Ok(PriceHistorySettings {
        request: HistoryRequest {
            instance_type: args.instance_type.clone(),
            product,
            on_demand,
            zones: args.prices.zones.clone(),
            spot: spot.clone(),
            range: args.lookback,
            at: args.at,
        },
        history: args.prices.history.clone(),
        plot: args.plot.clone(),
    })
}

// ---- dw render, dw cluster -------------------------------------------------------------------

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

fn render(files: &Files<'_>, args: &RenderArgs) -> Result<RenderSettings> {
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

fn cluster<'a>(files: &Files<'a>, command: &'a ClusterCommand) -> Result<Settings<'a>> {
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
                results: results_uri(loaded, &evening.date.to_string()),
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

// ---- the windows' readers --------------------------------------------------------------------

pub(crate) struct ReportSettings {
    pub evening: Evening,
    pub bin_secs: u32,
    pub windows: WindowsAt,
    pub plot: Option<PathBuf>,
    pub tz: TimeZone,
}

fn report(files: &Files<'_>, args: &ReportArgs) -> Result<ReportSettings> {
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

fn watch(files: &Files<'_>, args: &WatchArgs) -> Result<WatchSettings> {
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
fn windows_source(files: &Files<'_>, from: Option<&str>, evening: &Evening) -> Result<Source> {
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

fn publish(files: &Files<'_>, args: &PublishArgs) -> Result<PublishSettings> {
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
fn site_prefix(uri: &str) -> Result<(String, String)> {
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

fn replay(files: &Files<'_>, args: &ReplayArgs) -> Result<ReplaySettings> {
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
fn shipped_archive(loaded: &Loaded, evening: &Evening) -> Result<PathBuf> {
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

// ---- dw schedule, dw build-jobs --------------------------------------------------------------

pub(crate) struct ScheduleSettings<'a> {
    /// `--from`, `--all`, `--dry-run`, `--binary` as given.
    pub args: &'a ScheduleArgs,
    pub install: bool,
    pub options: ScheduleOptions,
    pub evenings: Vec<Evening>,
}

fn schedule<'a>(
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

fn build_jobs(files: &Files<'_>, args: &BuildJobsArgs) -> Result<BuildJobsSettings> {
    let loaded = files.config()?;
    Ok(BuildJobsSettings {
        out: args
            .out
            .clone()
            .unwrap_or_else(|| loaded.relative(&loaded.config.jobs.binaries)),
        check_only: args.check_only,
    })
}

#[cfg(test)]
mod tests {
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
