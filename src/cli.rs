//! Command-line definitions (clap). Only what dw really does appears here.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use jiff::Timestamp;
use jiff::civil::Date;

use crate::debates::Tier;
use crate::spot::Policy;
use crate::units::{Duration, InstanceType};

#[derive(Debug, Parser)]
#[command(
    name = "dw",
    version,
    about = "debate-watch: cheap EMR clusters for live debate sentiment, from spot quote to teardown"
)]
pub(crate) struct Cli {
    /// Configuration file [default: DW_CONFIG, ./configs/dw.toml, ~/.config/dw/dw.toml, else built in]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "FILE"
    )]
    pub config: Option<PathBuf>,

    /// AWS profile (default: AWS_PROFILE or "default")
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "NAME"
    )]
    pub profile: Option<String>,

    /// AWS region [default: AWS_REGION, AWS_DEFAULT_REGION, the profile's, the config file's]
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "REGION",
        value_parser = parse_region
    )]
    pub region: Option<String>,

    /// Send AWS calls to this endpoint, e.g. a local stand-in (also AWS_ENDPOINT_URL)
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "URL",
        value_parser = parse_endpoint_url
    )]
    pub endpoint_url: Option<String>,

    /// Time zone of the times shown [default: America/New_York, the debates'; for schedule,
    /// the zone cron runs in: the machine's]. JSON output and stored data stay UTC
    #[arg(
        long,
        global = true,
        help_heading = "Global options",
        value_name = "ZONE",
        env = "DW_TZ"
    )]
    pub tz: Option<String>,

    /// Result format on stdout
    #[arg(long, global = true, help_heading = "Global options", value_enum, default_value_t = OutputFormat::Text)]
    pub output: OutputFormat,

    /// More log lines on stderr (-vv for the most)
    #[arg(short, long, global = true, help_heading = "Global options", action = clap::ArgAction::Count)]
    pub verbose: u8,

    /// Only errors on stderr
    #[arg(
        short,
        long,
        global = true,
        help_heading = "Global options",
        conflicts_with = "verbose"
    )]
    pub quiet: bool,

    /// Also the AWS SDK's requests and retries on stderr (RUST_LOG sets any filter)
    #[arg(long, global = true, help_heading = "Global options")]
    pub debug: bool,

    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// List the debate calendar, by evening
    #[command(
        after_help = "Examples:\n  dw debates --upcoming\n  dw debates --debate 2016-02-13 --output json"
    )]
    Debates(DebatesArgs),
    /// Spot prices
    #[command(subcommand)]
    Spot(SpotCommand),
    /// Write every script a debate's cluster runs, and its plan, without touching AWS
    #[command(
        after_help = "Examples:\n  dw render --debate 2015-11-10 --out /tmp/r\n  shellcheck /tmp/r/bootstrap/*.sh"
    )]
    Render(RenderArgs),
    /// Debate clusters on EMR: up, status, list, down, diagnose
    #[command(subcommand)]
    Cluster(ClusterCommand),
    /// Score a past debate on this machine, no cloud: archive -> ingest -> score -> windows
    #[command(
        after_help = "Examples:\n  dw replay --debate 2015-08-06\n  dw replay --debate 2015-08-06 --watch --pace 60x --open\n  dw replay --debate 2015-08-06 --from s3://BUCKET/archive/2015-08-06/"
    )]
    Replay(ReplayArgs),
    /// Build dw-ingest and dw-score for EMR 4.x nodes (glibc 2.17) and check them
    BuildJobs(BuildJobsArgs),
    /// Cron lines that launch each debate's cluster before it and remove it after
    #[command(subcommand)]
    Schedule(ScheduleCommand),
    /// A debate's happiness per candidate per minute, from the windows the scorer wrote
    #[command(
        after_help = "Examples:\n  dw report --debate 2015-08-06 --bin 5m --plot report.png\n  dw report --debate 2015-08-06 --from s3://BUCKET/dw/results --output json"
    )]
    Report(ReportArgs),
    /// Serve the debate page: live while the scorers write, time travel afterwards
    #[command(
        after_help = "Examples:\n  dw watch --debate 2015-08-06 --from out/ --open\n  dw watch --debate 2016-02-13 --from s3://BUCKET/dw/results --bind 0.0.0.0:8080"
    )]
    Watch(WatchArgs),
    /// Write the debate page as a static site (S3 website hosting or any file server)
    #[command(
        after_help = "Examples:\n  dw publish --debate 2015-08-06 --from out/ --out site/2015-08-06\n  dw publish --debate 2016-02-13 --from s3://BUCKET/dw/results --to s3://BUCKET/pages/2016-02-13"
    )]
    Publish(PublishArgs),
    /// The per-post classifier (negative / neutral / positive): train and cross-validate it
    #[command(subcommand)]
    Model(ModelCommand),
    /// Print a shell completion script (bash, zsh, fish, elvish, powershell)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff): dw man > ~/.local/share/man/man1/dw.1
    Man,
}

#[derive(Debug, Args)]
pub(crate) struct WatchArgs {
    /// The debate evening (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Date,
    /// The windows: a directory (out/), a windows.jsonl file, or s3://BUCKET/PREFIX
    /// [default: the config's results prefix when it names a bucket, else out/]
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,
    #[command(flatten)]
    pub serve: ServeArgs,
}

/// Where the page is served.
#[derive(Debug, Clone, Args)]
pub(crate) struct ServeArgs {
    /// Address to serve on; loopback unless told (port 0 picks a free one)
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:8080")]
    pub bind: std::net::SocketAddr,
    /// Open the page in the desktop's browser
    #[arg(long)]
    pub open: bool,
    /// Flag the source stale on the page after this long without a new window
    #[arg(long, value_name = "DURATION", default_value = "90s")]
    pub stale_after: Duration,
}

#[derive(Debug, Args)]
pub(crate) struct PublishArgs {
    /// The debate evening (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Date,
    /// The windows, as for `dw watch`
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,
    /// Upload the site under s3://BUCKET/PREFIX
    #[arg(long, value_name = "S3_URI", conflicts_with = "out")]
    pub to: Option<String>,
    /// Write the site into this directory [default: site/DATE]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Where the page reads the results bucket while the scorers write (S3 sources)
    /// [default: https://BUCKET.s3.REGION.amazonaws.com, or the endpoint override's]
    #[arg(long, value_name = "URL")]
    pub results_url: Option<String>,
    /// A copy of what the source holds now, that does not read the results bucket itself
    #[arg(long)]
    pub frozen: bool,
    /// Say what would be written, write nothing
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ModelCommand {
    /// Cross-validate the classifier on labelled posts, then train it on all of them
    #[command(
        after_help = "Examples:\n  dw model train --out jobs/pipeline/data/model/post-class.txt\n  dw model train --data my-labels.csv --out /tmp/model.txt --output json"
    )]
    Train(ModelTrainArgs),
}

#[derive(Debug, Args)]
pub(crate) struct ModelTrainArgs {
    /// Labelled posts: CSV with `text` and `sentiment` (Negative, Neutral, Positive) columns
    #[arg(
        long,
        value_name = "CSV",
        default_value = "data/labelled/gop_debate_2015-08-06_sentiment.csv"
    )]
    pub data: PathBuf,
    /// Where the model file goes
    #[arg(long, value_name = "FILE")]
    pub out: PathBuf,
    /// Seed of the folds (the same data and seed make the same model)
    #[arg(long, default_value_t = dw_pipeline::classify::train::TrainOptions::default().seed)]
    pub seed: u64,
    /// Cross-validation folds (stratified)
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u16).range(2..=20))]
    pub folds: u16,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ScheduleCommand {
    /// Print the crontab block for the upcoming debates
    Print(ScheduleArgs),
    /// Put the block into your crontab (between marker lines; other lines untouched)
    Install(ScheduleArgs),
    /// Take the block out of your crontab
    Remove {
        /// Show the change, make none
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Debug, Args)]
pub(crate) struct ScheduleArgs {
    /// Launch this long before the evening's first debate (spot clusters take 20-30 min)
    #[arg(long, value_name = "DURATION", default_value = "45m")]
    pub lead: Duration,
    /// Remove the cluster this long after the evening's last debate ends
    #[arg(long, value_name = "DURATION", default_value = "30m")]
    pub tail: Duration,
    /// Plan as of this date (YYYY-MM-DD, midnight UTC) or RFC 3339 time instead of now
    #[arg(long, value_name = "DATE", value_parser = parse_date_or_time)]
    pub from: Option<Timestamp>,
    /// Every evening of the calendar, past ones too (print only)
    #[arg(long)]
    pub all: bool,
    /// Where each run's log goes [default: ~/.local/state/dw/logs]
    #[arg(long, value_name = "DIR")]
    pub log_dir: Option<PathBuf>,
    /// Show the change to the crontab, make none (install)
    #[arg(long)]
    pub dry_run: bool,
    /// The dw the cron lines run [default: this one, unless it is a cargo build's]
    #[arg(long, value_name = "PATH")]
    pub binary: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct BuildJobsArgs {
    /// Where the binaries go [default: the config's jobs.binaries]
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Only check the binaries already there
    #[arg(long)]
    pub check_only: bool,
}

#[derive(Debug, Args)]
pub(crate) struct ReplayArgs {
    /// The debate evening (YYYY-MM-DD): its candidates, and the shipped archive of that date
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Date,
    /// Only this tier's candidates
    #[arg(long, value_name = "TIER")]
    pub tier: Option<Tier>,
    /// The archive: file:PATH (JSON lines, .gz too) or s3://BUCKET/PREFIX [default: data/replay/DATE.jsonl]
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,
    /// Where the windows go (under DIR/DATE/)
    #[arg(long, value_name = "DIR", default_value = "out")]
    pub out: PathBuf,
    /// Replay at the tweets' own pace times N (1x, 10x), or as fast as possible (max)
    #[arg(long, value_name = "PACE", default_value = "max")]
    pub pace: String,
    /// Window length
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub window: Duration,
    /// How late a tweet may come and still join its window
    #[arg(long, value_name = "DURATION", default_value = "30s")]
    pub lateness: Duration,
    /// Serve the debate page while the replay runs, and after it until interrupted
    #[arg(long)]
    pub watch: bool,
    #[command(flatten)]
    pub serve: ServeArgs,
}

#[derive(Debug, Subcommand)]
pub(crate) enum ClusterCommand {
    /// Quote, stage, launch a debate's cluster and wait until its jobs run
    #[command(
        after_help = "Examples:\n  dw cluster up --debate 2015-11-10 --dry-run\n  dw cluster up --debate 2015-11-10\n  dw cluster up --debate 2015-08-06 --force   # a past debate, e.g. to rehearse"
    )]
    Up(UpArgs),
    /// State, groups, steps and an estimate of the cost so far
    Status(WhichCluster),
    /// Clusters created by dw, alive first
    List,
    /// Terminate a debate's cluster (only dw's, unless an id is given)
    #[command(
        after_help = "Examples:\n  dw cluster down --debate 2015-11-10\n  dw cluster down --cluster-id j-XXXXXXXXXXXX"
    )]
    Down(DownArgs),
    /// Why a cluster failed: EMR's reason and the failing action's or step's log
    Diagnose {
        /// The cluster id (j-...)
        cluster_id: String,
        /// How long to wait for EMR to copy the logs to S3
        #[arg(long, value_name = "DURATION", default_value = "5m")]
        log_wait: Duration,
    },
}

#[derive(Debug, Args)]
#[allow(clippy::struct_excessive_bools)] // command-line switches
pub(crate) struct UpArgs {
    /// The debate evening (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Date,
    /// Launch even though the evening has ended (a replay of a past debate)
    #[arg(long)]
    pub force: bool,
    /// Score a past debate's archive at cluster scale: dw-ingest reads these objects (v1.1 or
    /// v2 JSON lines, gzip or plain) at full speed, and the cluster ends once they are scored
    /// (implies --force)
    #[arg(long, value_name = "S3_URI")]
    pub replay: Option<String>,
    /// Stage the job binaries without checking that they run on EMR 4.x (glibc 2.17): for
    /// stand-ins that run them on this machine
    #[arg(long)]
    pub unchecked_binaries: bool,
    /// Only this tier of the evening
    #[arg(long, value_name = "TIER")]
    pub tier: Option<Tier>,
    /// Print the plan (with --output json: the RunJobFlow request) and change nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Return once EMR accepted the cluster (no spot fallback then: it acts while up waits)
    #[arg(long)]
    pub no_wait: bool,
    /// Never add on-demand capacity for a spot group still short after spot.fallback_after
    #[arg(long)]
    pub no_fallback: bool,
    /// How long to wait for the jobs to run
    #[arg(long, value_name = "DURATION", default_value = "45m")]
    pub timeout: Duration,
    /// Terminate the cluster when the wait times out (it is left running otherwise)
    #[arg(long)]
    pub terminate_on_timeout: bool,
    /// A failed step does not terminate the cluster (for debugging; it keeps billing)
    #[arg(long)]
    pub keep_on_failure: bool,
    /// Quote from saved spot history instead of EC2
    #[arg(long, value_name = "FILE")]
    pub history: Vec<PathBuf>,
    /// End of the quote's window, RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<Timestamp>,
    /// Seconds between two looks at the cluster while waiting
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub poll: Duration,
    /// How long to wait for a failure's logs to reach S3
    #[arg(long, value_name = "DURATION", default_value = "5m")]
    pub log_wait: Duration,
    /// Started by a schedule line: do nothing unless today is the debate's day
    #[arg(long)]
    pub scheduled: bool,
    /// Bid policy [default: the config's spot.policy, dw]
    #[arg(long, value_name = "NAME")]
    pub policy: Option<Policy>,
}

#[derive(Debug, Args)]
pub(crate) struct WhichCluster {
    /// The debate's cluster (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date, conflicts_with = "cluster_id")]
    pub debate: Option<Date>,
    /// A cluster id (j-...)
    #[arg(long, value_name = "ID")]
    pub cluster_id: Option<String>,
}

#[derive(Debug, Args)]
pub(crate) struct DownArgs {
    #[command(flatten)]
    pub which: WhichCluster,
    /// Return once termination is requested
    #[arg(long)]
    pub no_wait: bool,
    /// No matching cluster is not an error
    #[arg(long)]
    pub if_exists: bool,
    /// How long to wait for TERMINATED
    #[arg(long, value_name = "DURATION", default_value = "20m")]
    pub timeout: Duration,
    /// Seconds between two looks at the cluster while waiting
    #[arg(long, value_name = "DURATION", default_value = "15s")]
    pub poll: Duration,
    /// Started by a schedule line: do nothing unless today is the debate's day
    #[arg(long)]
    pub scheduled: bool,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    /// The debate evening (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Date,
    /// Only this tier of the evening
    #[arg(long, value_name = "TIER")]
    pub tier: Option<Tier>,
    /// Directory to write the scripts and plan.json into
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The scripts of a replay of this archive (as `cluster up --replay` launches it)
    #[arg(long, value_name = "S3_URI")]
    pub replay: Option<String>,
    /// Choose the zone and bid from saved spot history (otherwise they are left to the launch)
    #[arg(long, value_name = "FILE")]
    pub history: Vec<PathBuf>,
    /// End of the quote's window, RFC 3339 [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_time, requires = "history")]
    pub at: Option<Timestamp>,
    /// Bid policy [default: the config's spot.policy, dw]
    #[arg(long, value_name = "NAME", requires = "history")]
    pub policy: Option<Policy>,
}

#[derive(Debug, Args)]
pub(crate) struct DebatesArgs {
    /// Only evenings that have not ended yet
    #[arg(long, conflicts_with = "past")]
    pub upcoming: bool,
    /// Only evenings that have ended
    #[arg(long)]
    pub past: bool,
    /// Only the evening of this date (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Option<Date>,
    /// Only this tier of the evening
    #[arg(long, value_name = "TIER", requires = "debate")]
    pub tier: Option<Tier>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum SpotCommand {
    /// Per-zone spot statistics over a look-back window, the zone to launch in and the bid
    #[command(
        after_help = "Examples:\n  dw spot quote m3.xlarge\n  dw spot quote m3.large --history saved.json --at 2016-04-01T07:00:00Z --output json"
    )]
    Quote(QuoteArgs),
    /// Launch on paper in the past: each policy's interruptions and cost, side by side
    #[command(
        after_help = "Examples:\n  dw spot backtest m3.large --history a.json --history b.json --plot bt.png\n  dw spot backtest --history 'tests/fixtures/spot/more-2016/*.json.gz'"
    )]
    Backtest(BacktestArgs),
    /// Prices per zone over a time range, with each policy's bid (table, or a plot)
    #[command(
        after_help = "Examples:\n  dw spot history m3.medium --lookback 24h --plot prices.svg"
    )]
    History(HistoryArgs),
}

/// Where the prices of `dw spot backtest` and `dw spot history` come from, and what they are.
#[derive(Debug, Args)]
pub(crate) struct PriceArgs {
    /// Saved `aws ec2 describe-spot-price-history` JSON, plain or .gz: files, folders or
    /// quoted patterns such as 'spot/*.json.gz' (repeatable) instead of calling EC2
    #[arg(long, value_name = "FILE|DIR")]
    pub history: Vec<PathBuf>,

    /// Only these availability zones (comma-separated)
    #[arg(long, value_name = "ZONES", value_delimiter = ',')]
    pub zones: Vec<String>,

    /// Product description [default: the config's spot.product]
    #[arg(long, value_name = "PRODUCT")]
    pub product: Option<String>,

    /// On-demand price of the type, $/hour [default: the config's, then the built-in table]
    #[arg(long, value_name = "P", value_parser = parse_hourly_price)]
    pub on_demand_price: Option<f64>,
}

#[derive(Debug, Args)]
pub(crate) struct BacktestArgs {
    /// EC2 instance types, e.g. m3.large [default: every type in the --history files]
    #[arg(value_name = "TYPE")]
    pub instance_types: Vec<InstanceType>,

    #[command(flatten)]
    pub prices: PriceArgs,

    /// First launch: YYYY-MM-DD or RFC 3339 [default: as soon as the history allows]
    #[arg(long, value_name = "DATE", value_parser = parse_date_or_time)]
    pub from: Option<Timestamp>,

    /// Last launch: YYYY-MM-DD or RFC 3339 [default: the last whose window the history covers]
    #[arg(long, value_name = "DATE", value_parser = parse_date_or_time)]
    pub to: Option<Timestamp>,

    /// How long each cluster runs [default: 2h30m; with --debates, the evening's span]
    #[arg(long, value_name = "DURATION")]
    pub window: Option<Duration>,

    /// The quotes' look-back [default: the config's spot.lookback]
    #[arg(long, value_name = "DURATION")]
    pub lookback: Option<Duration>,

    /// Launch at this interval
    #[arg(
        long,
        value_name = "DURATION",
        default_value = "1h",
        conflicts_with = "debates"
    )]
    pub every: Duration,

    /// Launch for each debate evening of the calendar instead (45 min before it, the
    /// debate-night floor applies)
    #[arg(long)]
    pub debates: bool,

    /// Policies to compare (repeatable) [default: seed, on-demand, climb and dw]
    #[arg(long, value_name = "NAME")]
    pub policy: Vec<Policy>,

    /// After a spot node is lost, how long until its on-demand replacement works (the cluster
    /// has no core node meanwhile)
    #[arg(long, value_name = "DURATION", default_value = "8m")]
    pub recovery_delay: Duration,

    /// Also draw each launch's cost per policy (.svg or .png)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct HistoryArgs {
    /// EC2 instance type, e.g. m3.large
    #[arg(value_name = "TYPE")]
    pub instance_type: InstanceType,

    #[command(flatten)]
    pub prices: PriceArgs,

    /// How far back from --at to show
    #[arg(long, value_name = "DURATION", default_value = "24h")]
    pub lookback: Duration,

    /// End of the range, RFC 3339 [default: now, or the end of the --history files]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<Timestamp>,

    /// Draw the prices and each policy's bid (.svg or .png)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct ReportArgs {
    /// The debate evening (YYYY-MM-DD)
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Date,
    /// Only this tier's candidates
    #[arg(long, value_name = "TIER")]
    pub tier: Option<Tier>,
    /// The windows: a directory (out/), a windows.jsonl file, or s3://BUCKET/PREFIX
    /// [default: out/DATE/windows.jsonl, as `dw replay` writes it]
    #[arg(long, value_name = "SOURCE")]
    pub from: Option<String>,
    /// Merge the windows into bins this long (the scorer writes one a minute)
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub bin: Duration,
    /// Also draw happiness per candidate over time (.svg or .png)
    #[arg(long, value_name = "FILE")]
    pub plot: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub(crate) struct QuoteArgs {
    /// EC2 instance type, e.g. m3.xlarge
    #[arg(value_name = "TYPE")]
    pub instance_type: InstanceType,

    /// How far back to look [default: the config's spot.lookback]
    #[arg(long, value_name = "DURATION")]
    pub lookback: Option<Duration>,

    /// End of the window, RFC 3339 (e.g. 2016-04-01T01:00:00Z) [default: now]
    #[arg(long, value_name = "TIME", value_parser = parse_time)]
    pub at: Option<Timestamp>,

    /// Product description [default: the config's spot.product]
    #[arg(long, value_name = "PRODUCT")]
    pub product: Option<String>,

    /// Only these availability zones (comma-separated)
    #[arg(long, value_name = "ZONES", value_delimiter = ',')]
    pub zones: Vec<String>,

    /// Read saved `aws ec2 describe-spot-price-history` JSON instead of calling EC2 (repeatable)
    #[arg(long, value_name = "FILE")]
    pub history: Vec<PathBuf>,

    /// Quote for this debate night (YYYY-MM-DD): the debate-night floor applies
    #[arg(long, value_name = "DATE", value_parser = parse_debate_date)]
    pub debate: Option<Date>,

    /// Bid policy [default: the config's spot.policy, dw]
    #[arg(long, value_name = "NAME")]
    pub policy: Option<Policy>,

    /// On-demand price of the type, $/hour [default: the config's, then the built-in table]
    #[arg(long, value_name = "P", value_parser = parse_hourly_price)]
    pub on_demand_price: Option<f64>,
}

/// An AWS region name such as `us-east-1`.
pub(crate) fn parse_region(s: &str) -> Result<String, String> {
    let ok = s.split('-').count() >= 3
        && s.split('-').all(|p| !p.is_empty())
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not an AWS region; write it like us-east-1"
        ))
    }
}

/// An endpoint URL: http:// or https://, a host, an optional port and path.
pub(crate) fn parse_endpoint_url(s: &str) -> Result<String, String> {
    let rest = s
        .strip_prefix("http://")
        .or_else(|| s.strip_prefix("https://"));
    let host_port = rest.map(|r| r.split('/').next().unwrap_or(""));
    let ok = host_port.is_some_and(|hp| {
        let (host, port) = match hp.rsplit_once(':') {
            Some((h, p)) if !h.ends_with(']') || hp.starts_with('[') => (h, Some(p)),
            _ => (hp, None),
        };
        !host.is_empty()
            && !host.contains(char::is_whitespace)
            && port.is_none_or(|p| p.parse::<u16>().is_ok_and(|n| n > 0))
    });
    if ok {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not an endpoint URL; write it like http://127.0.0.1:5000 or https://host"
        ))
    }
}

/// A debate evening's date, `2015-11-10`; whether the calendar has it is the command's question.
pub(crate) fn parse_debate_date(s: &str) -> Result<Date, String> {
    s.parse::<Date>().map_err(|_| crate::units::not_a_date(s))
}

pub(crate) fn parse_time(s: &str) -> Result<Timestamp, String> {
    s.parse::<Timestamp>()
        .map_err(|_| format!("`{s}` is not an RFC 3339 time; write it like 2016-04-01T01:00:00Z"))
}

/// `2016-04-01` (midnight UTC) or an RFC 3339 time.
pub(crate) fn parse_date_or_time(s: &str) -> Result<Timestamp, String> {
    if let Ok(date) = s.parse::<Date>() {
        return date
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map(|z| z.timestamp())
            .map_err(|e| e.to_string());
    }
    s.parse::<Timestamp>().map_err(|_| {
        format!("`{s}` is neither a date nor a time; write 2016-04-01 or 2016-04-01T01:00:00Z")
    })
}

/// A price in dollars per hour, above zero.
pub(crate) fn parse_hourly_price(s: &str) -> Result<f64, String> {
    match s.trim().trim_start_matches('$').parse::<f64>() {
        Ok(p) if p.is_finite() && p > 0.0 => Ok(p),
        _ => Err(format!(
            "`{s}` is not a price: write dollars per hour above zero, e.g. 0.133"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    /// The examples in every command's `--help` parse: an example that drifts from the flags is
    /// caught here.
    #[test]
    fn every_help_example_parses() {
        fn walk(cmd: &clap::Command, examples: &mut Vec<String>) {
            if let Some(help) = cmd.get_after_help() {
                examples.extend(
                    help.to_string()
                        .lines()
                        .map(|l| l.split(" #").next().unwrap_or_default().trim().to_string())
                        .filter(|l| l.starts_with("dw ")),
                );
            }
            for sub in cmd.get_subcommands() {
                walk(sub, examples);
            }
        }
        let mut examples = Vec::new();
        walk(&Cli::command(), &mut examples);
        assert!(examples.len() >= 15, "{examples:?}");
        for example in &examples {
            let words = example.split_whitespace().map(|w| w.trim_matches('\''));
            if let Err(e) = Cli::try_parse_from(words) {
                panic!("`{example}` does not parse: {e}");
            }
        }
    }
}
