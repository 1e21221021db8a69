//! dw (debate-watch): spot quotes, debate clusters on EMR 4.x, and their teardown.
//!
//! `main` only calls [`run`]; every command lives in the library so it can be tested.

pub mod aws;
pub mod bootstrap;
pub mod build_jobs;
pub mod cli;
pub mod cluster;
pub mod config;
pub mod debates;
pub mod error;
pub mod log;
pub mod plan;
pub mod plot;
pub mod progress;
pub mod render;
pub mod replay;
pub mod report;
pub mod schedule;
pub mod spot;
pub mod stage;
pub mod steps;
pub mod tomlfile;
pub mod units;

mod commands;
mod spot_commands;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use serde::Serialize;

use cli::{
    BuildJobsArgs, Cli, ClusterCommand, Command, DebatesArgs, OutputFormat, RenderArgs, ReplayArgs,
    ReportArgs, ScheduleArgs, ScheduleCommand, SpotCommand,
};
use config::Loaded;
use debates::Calendar;
use error::{Error, Result};
use spot_commands::{QuoteWindow, plan_quotes};

/// Parses `args`, runs the command, prints one error report on failure; the exit code is 0 on
/// success, 2 for bad input, 1 for failures.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    log::set_level(if cli.quiet { 0 } else { 1 + cli.verbose });
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(execute(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", e.report());
            ExitCode::from(e.exit_code())
        }
    }
}

async fn execute(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Debates(args) => list_debates(cli, args),
        Command::Spot(SpotCommand::Quote(args)) => spot_commands::quote(cli, args).await,
        Command::Spot(SpotCommand::Backtest(args)) => spot_commands::backtest(cli, args).await,
        Command::Spot(SpotCommand::History(args)) => spot_commands::history(cli, args).await,
        Command::Report(args) => report_debate(cli, args).await,
        Command::Render(args) => render_scripts(cli, args).await,
        Command::Replay(args) => replay_debate(cli, args).await,
        Command::Schedule(c) => schedule_command(cli, c),
        Command::BuildJobs(args) => tokio::task::block_in_place(|| build_job_binaries(cli, args)),
        Command::Cluster(c) => match c {
            ClusterCommand::Up(args) => commands::up(cli, args).await,
            ClusterCommand::Status(which) => commands::status(cli, which).await,
            ClusterCommand::List => commands::list(cli).await,
            ClusterCommand::Down(args) => commands::down(cli, args).await,
            ClusterCommand::Diagnose {
                cluster_id,
                log_wait,
            } => commands::diagnose(cli, cluster_id, *log_wait).await,
        },
    }
}

/// Prints a result on stdout: `text` for people, `value` as JSON for `--output json`.
fn print_result<T: Serialize>(format: OutputFormat, text: &str, value: &T) -> Result<()> {
    let mut out = std::io::stdout().lock();
    let written = match format {
        OutputFormat::Text => out.write_all(text.as_bytes()),
        OutputFormat::Json => serde_json::to_writer_pretty(&mut out, value)
            .map_err(std::io::Error::other)
            .and_then(|()| out.write_all(b"\n")),
    };
    match written {
        // A closed pipe (`dw ... | head`) is not an error worth a report.
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => Err(Error::Write {
            path: "<stdout>".into(),
            source: e,
        }),
        _ => Ok(()),
    }
}

fn load_config(cli: &Cli) -> Result<Loaded> {
    let loaded = Loaded::load(cli.config.as_deref())?;
    match &loaded.path {
        Some(p) => log::debug(&format!("config: {}", p.display())),
        None => log::debug("config: built-in (no configs/dw.toml here)"),
    }
    Ok(loaded)
}

fn load_calendar(loaded: &Loaded) -> Result<Calendar> {
    Calendar::load(loaded.debates_path().as_deref())
}

fn aws_options(cli: &Cli, loaded: &Loaded) -> aws::AwsOptions {
    aws::AwsOptions {
        profile: cli.profile.clone(),
        region: cli.region.clone().or_else(|| loaded.config.region.clone()),
        endpoint_url: cli.endpoint_url.clone(),
    }
}

fn list_debates(cli: &Cli, args: &DebatesArgs) -> Result<()> {
    let loaded = load_config(cli)?;
    let calendar = load_calendar(&loaded)?;
    let now = jiff::Timestamp::now();
    let evenings: Vec<debates::Evening> = match &args.debate {
        Some(date) => vec![calendar.evening(date, args.tier)?],
        None => calendar
            .evenings()
            .into_iter()
            .filter(|e| !args.upcoming || e.end() > now)
            .filter(|e| !args.past || e.end() <= now)
            .collect(),
    };
    if evenings.is_empty() {
        log::info("no debate in the calendar matches");
    }
    let mut text = String::new();
    for e in &evenings {
        for d in &e.debates {
            let names: Vec<&str> = d
                .candidates
                .iter()
                .map(|c| c.candidate.name.as_str())
                .collect();
            text.push_str(&format!(
                "{}  {} #{:<2} {:<9}  {} to {} UTC  {}\n            {}{}\n",
                e.date,
                d.party,
                d.number,
                d.tier,
                d.start.strftime("%Y-%m-%d %H:%M"),
                d.end.strftime("%H:%M"),
                d.place,
                names.join(", "),
                d.note
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
            ));
        }
    }
    print_result(cli.output, &text, &evenings)
}

async fn render_scripts(cli: &Cli, args: &RenderArgs) -> Result<()> {
    let loaded = load_config(cli)?;
    let evening = load_calendar(&loaded)?.evening(&args.debate, args.tier)?;
    let quotes = if args.history.is_empty() {
        Default::default()
    } else {
        let window = QuoteWindow {
            at: args.at,
            policy: args.policy,
            ..Default::default()
        };
        plan_quotes(cli, &loaded, &window, Some(&args.history)).await?
    };
    let plan = plan::build(
        &loaded,
        &evening,
        &plan::PlanOptions {
            quotes,
            keep_on_failure: false,
            replay_from: None,
        },
    )?;
    let mut written = Vec::new();
    for s in &plan.staged {
        if let plan::Content::Rendered(text) = &s.content {
            let path = args.out.join(s.kind).join(&s.name);
            write_file(&path, text.as_bytes())?;
            written.push(path);
        }
    }
    let plan_path = args.out.join("plan.json");
    let json = serde_json::to_string_pretty(&plan).map_err(|e| Error::Failed(e.to_string()))?;
    write_file(&plan_path, format!("{json}\n").as_bytes())?;
    written.push(plan_path);
    let mut text = plan.to_text();
    text.push_str(&format!(
        "\nwrote {} files under {}:\n",
        written.len(),
        args.out.display()
    ));
    for p in &written {
        text.push_str(&format!("  {}\n", p.display()));
    }
    print_result(cli.output, &text, &plan)
}

fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
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

async fn replay_debate(cli: &Cli, args: &ReplayArgs) -> Result<()> {
    let loaded = load_config(cli)?;
    let evening = load_calendar(&loaded)?.evening(&args.debate, args.tier)?;
    let pace = match args.pace.as_str() {
        "max" => None,
        p => Some(
            p.strip_suffix('x')
                .and_then(|n| n.parse::<f64>().ok())
                .filter(|n| *n > 0.0)
                .ok_or_else(|| {
                    Error::input(format!("`{p}` is not a pace: write 1x, 10x, ... or max"))
                })?,
        ),
    };
    let source = match &args.from {
        Some(s) => s
            .parse::<dw_pipeline::endpoint::Endpoint>()
            .map_err(Error::input)?,
        None => {
            // The repository's data/, beside configs/ (the working directory for the built-in
            // configuration).
            let root = match &loaded.path {
                Some(_) => loaded.relative(std::path::Path::new("..")),
                None => std::path::PathBuf::new(),
            };
            let path = config::lexically_normal(&replay::shipped_archive(
                &root,
                &evening.date.to_string(),
            ));
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
            dw_pipeline::endpoint::Endpoint::File(path)
        }
    };
    // Streamed, never whole in memory: a file as it is, S3 objects through temporary files.
    let (input, input_name): (Box<dyn std::io::BufRead + Send>, String) = match &source {
        dw_pipeline::endpoint::Endpoint::File(path) => (
            dw_pipeline::lines::open_archive(path).map_err(|source| Error::Read {
                path: path.clone(),
                source,
            })?,
            path.display().to_string(),
        ),
        dw_pipeline::endpoint::Endpoint::S3 { bucket, prefix } => {
            let sdk = aws::load(&aws_options(cli, &loaded)).await?;
            (
                fetch_archive(&aws::s3(&sdk), bucket, prefix).await?,
                source.to_string(),
            )
        }
        other => {
            return Err(Error::input(format!(
                "{other}: replay reads an archive (file:PATH or s3://BUCKET/PREFIX)"
            )));
        }
    };
    let summary = tokio::task::block_in_place(|| {
        replay::run(replay::ReplayOptions {
            evening: &evening,
            input,
            input_name,
            out: args.out.clone(),
            pace,
            window_secs: u32::try_from(args.window.as_secs()).unwrap_or(60),
            lateness_secs: u32::try_from(args.lateness.as_secs()).unwrap_or(30),
        })
    })?;
    print_result(cli.output, &summary.to_text(), &summary)
}

async fn report_debate(cli: &Cli, args: &ReportArgs) -> Result<()> {
    let loaded = load_config(cli)?;
    let evening = load_calendar(&loaded)?.evening(&args.debate, args.tier)?;
    let date = evening.date.to_string();
    let bin_secs = u32::try_from(args.bin.as_secs())
        .ok()
        .filter(|b| *b > 0)
        .ok_or_else(|| Error::input(format!("--bin {} is too long", args.bin)))?;
    let from = args.from.clone().unwrap_or_else(|| "out".into());
    let (windows, source) = match from.parse::<dw_pipeline::endpoint::Endpoint>() {
        Ok(dw_pipeline::endpoint::Endpoint::S3 { bucket, prefix }) => {
            let sdk = aws::load(&aws_options(cli, &loaded)).await?;
            let s3 = aws::s3(&sdk);
            // dw-score's layout: <prefix>/<debate>/windows/<start>[.<member>].json
            let prefix = prefix.trim_end_matches('/');
            let under = if prefix.is_empty() {
                format!("{date}/windows/")
            } else {
                format!("{prefix}/{date}/windows/")
            };
            let keys = dw_pipeline::s3::list_keys(&s3, &bucket, &under)
                .await
                .map_err(Error::Failed)?;
            let mut windows = Vec::new();
            for key in &keys {
                let bytes = s3_get(&s3, &bucket, key).await?;
                windows.extend(report::parse_windows(
                    &format!("s3://{bucket}/{key}"),
                    &bytes,
                )?);
            }
            (windows, format!("s3://{bucket}/{under}"))
        }
        _ => {
            let path = std::path::PathBuf::from(from.strip_prefix("file:").unwrap_or(&from));
            let path = if path.is_dir() {
                path.join(&date).join("windows.jsonl")
            } else {
                path
            };
            let bytes = std::fs::read(&path).map_err(|source| {
                if source.kind() == std::io::ErrorKind::NotFound {
                    Error::input_with_hint(
                        format!("no windows at {}", path.display()),
                        format!(
                            "score the debate first (dw replay --debate {date}), or pass \
                             --from with the windows' file, directory or s3:// prefix"
                        ),
                    )
                } else {
                    Error::Read {
                        path: path.clone(),
                        source,
                    }
                }
            })?;
            (
                report::parse_windows(&path.display().to_string(), &bytes)?,
                path.display().to_string(),
            )
        }
    };
    if windows.is_empty() {
        return Err(Error::input(format!("{source} holds no windows of {date}")));
    }
    let report = report::build(&evening, source, windows, bin_secs);
    if let Some(path) = &args.plot {
        plot::happiness(&report, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    print_result(cli.output, &report.to_text(), &report)
}

async fn s3_get(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Result<Vec<u8>> {
    dw_pipeline::s3::get(s3, bucket, key)
        .await
        .map_err(Error::Failed)
}

/// Every object under the prefix, in key order, unzipped and read as one stream.
async fn fetch_archive(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Box<dyn std::io::BufRead + Send>> {
    let (dir, paths) = dw_pipeline::s3::download_archive(s3, bucket, prefix)
        .await
        .map_err(Error::Failed)?;
    if paths.is_empty() {
        return Err(Error::input(format!(
            "no objects under s3://{bucket}/{prefix}"
        )));
    }
    Ok(Box::new(std::io::BufReader::with_capacity(
        1 << 16,
        dw_pipeline::lines::Archives::new(paths, dir),
    )))
}

fn build_job_binaries(cli: &Cli, args: &BuildJobsArgs) -> Result<()> {
    let loaded = load_config(cli)?;
    let out = args
        .out
        .clone()
        .unwrap_or_else(|| loaded.relative(&loaded.config.jobs.binaries));
    if !args.check_only {
        // The workspace: the nearest directory above here with the jobs' sources.
        let cwd = std::env::current_dir().map_err(|e| Error::Failed(e.to_string()))?;
        let root = cwd
            .ancestors()
            .find(|d| d.join("jobs/ingest/Cargo.toml").is_file())
            .ok_or_else(|| {
                Error::input_with_hint(
                    "dw build-jobs builds from dw's source tree, and this is not in one",
                    "run it in a clone of the dw repository",
                )
            })?
            .to_path_buf();
        build_jobs::build(&root, &out)?;
    }
    let mut checks = Vec::new();
    for bin in plan::JOB_BINARIES {
        checks.push(build_jobs::check(&out.join(bin))?);
    }
    print_result(cli.output, &build_jobs::report_text(&checks), &checks)?;
    if let Some(bad) = checks.iter().find(|c| !c.ok) {
        return Err(Error::Failed(format!(
            "{} would not run on EMR 4.x: {}",
            bad.name,
            bad.problems.join("; ")
        )));
    }
    Ok(())
}

fn schedule_options(
    cli: &Cli,
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
    let dw = std::env::current_exe().map_err(|e| Error::Failed(e.to_string()))?;
    let (tz, tz_name) = match &args.tz {
        Some(name) => (
            jiff::tz::TimeZone::get(name).map_err(|_| {
                Error::input(format!(
                    "`{name}` is not a time zone (e.g. America/New_York)"
                ))
            })?,
            name.clone(),
        ),
        None => {
            let tz = jiff::tz::TimeZone::system();
            let name = tz.iana_name().unwrap_or("the system's").to_string();
            (tz, name)
        }
    };
    let log_dir = match &args.log_dir {
        Some(d) => d.clone(),
        None => std::env::var_os("HOME")
            .map(|h| std::path::PathBuf::from(h).join(".local/state/dw/logs"))
            .unwrap_or_else(|| std::path::PathBuf::from("/tmp/dw-logs")),
    };
    Ok(schedule::ScheduleOptions {
        lead: args.lead,
        tail: args.tail,
        tz,
        tz_name,
        dw,
        config,
        log_dir,
        profile: cli.profile.clone(),
        region: cli.region.clone().or_else(|| loaded.config.region.clone()),
        path_env: "/usr/local/bin:/usr/bin:/bin".into(),
    })
}

fn schedule_command(cli: &Cli, command: &ScheduleCommand) -> Result<()> {
    let loaded = load_config(cli)?;
    let args = match command {
        ScheduleCommand::Remove { dry_run } => {
            let before = schedule::read_crontab()?;
            let after = schedule::edit(&before, None)?;
            if *dry_run {
                return print_result(cli.output, &schedule::diff(&before, &after), &after);
            }
            if after != before {
                schedule::write_crontab(&after)?;
            }
            log::info("dw's schedule is out of the crontab");
            return Ok(());
        }
        ScheduleCommand::Print(a) | ScheduleCommand::Install(a) => a,
    };
    let options = schedule_options(cli, &loaded, args)?;
    let now = match &args.from {
        Some(d) => d
            .parse::<jiff::civil::Date>()
            .map_err(|_| Error::input(crate::units::not_a_date(d)))?
            .to_zoned_datetime(jiff::tz::TimeZone::UTC)
            .map_err(|e| Error::input(e.to_string()))?
            .timestamp(),
        None => jiff::Timestamp::now(),
    };
    let install = matches!(command, ScheduleCommand::Install(_));
    let since = if args.all && !install {
        jiff::Timestamp::MIN
    } else {
        now
    };
    let evenings = load_calendar(&loaded)?.evenings();
    let (entries, skipped) = schedule::entries(&evenings, since, &options);
    for s in &skipped {
        log::debug(&format!("skipped {}: {}", s.debate, s.reason));
    }
    if !skipped.is_empty() {
        log::info(&format!("{} past debates left out", skipped.len()));
    }
    let block = schedule::block(&entries, &options);
    if !install {
        return print_result(cli.output, &block, &entries);
    }
    let before = schedule::read_crontab()?;
    let after = schedule::edit(&before, Some(&block))?;
    if args.dry_run {
        return print_result(cli.output, &schedule::diff(&before, &after), &entries);
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
