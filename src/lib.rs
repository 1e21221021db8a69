//! dw (debate-watch): spot quotes, debate clusters on EMR 4.x, and their teardown.
//!
//! `main` only calls [`run`]; every command lives in the library so it can be tested.

pub mod aws;
pub mod cli;
pub mod config;
pub mod debates;
pub mod error;
pub mod log;
pub mod spot;
pub mod tomlfile;
pub mod units;

use std::ffi::OsString;
use std::io::Write as _;
use std::process::ExitCode;

use clap::Parser as _;
use serde::Serialize;

use cli::{Cli, Command, DebatesArgs, OutputFormat, QuoteArgs, SpotCommand};
use config::Loaded;
use debates::Calendar;
use error::{Error, Result};

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
        Command::Spot(SpotCommand::Quote(args)) => spot_quote(cli, args).await,
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

async fn spot_quote(cli: &Cli, args: &QuoteArgs) -> Result<()> {
    let loaded = load_config(cli)?;
    let spot = &loaded.config.spot;
    let debate_night = match &args.debate {
        Some(date) => {
            load_calendar(&loaded)?.evening(date, None)?;
            true
        }
        None => false,
    };
    let req = spot::QuoteRequest {
        instance_type: args.instance_type.clone(),
        product: args.product.clone().unwrap_or_else(|| spot.product.clone()),
        at: args.at.unwrap_or_else(jiff::Timestamp::now),
        lookback: args.lookback.unwrap_or(spot.lookback),
        zones: args.zones.clone(),
        rule: spot::BidRule {
            markup: spot.markup.0,
            floor: if debate_night {
                spot.debate_night_floor.get()
            } else {
                spot.floor.get()
            },
            debate_night,
        },
    };

    let quote = if args.history.is_empty() {
        let sdk = aws::load(&aws_options(cli, &loaded)).await?;
        let region = sdk.region().map(|r| r.to_string());
        let ec2 = aws::ec2(&sdk);
        let offered = spot::history::ec2::offered_zones(&ec2, &req.instance_type).await?;
        let region_name = region.clone().unwrap_or_default();
        if offered.is_empty() {
            return Err(Error::input_with_hint(
                format!(
                    "{} is not offered in any zone of {region_name}",
                    req.instance_type
                ),
                "check the instance type's spelling, or pick another region with --region",
            ));
        }
        if let Some(z) = req.zones.iter().find(|z| !offered.contains(z)) {
            return Err(Error::input_with_hint(
                format!("{} is not offered in {z}", req.instance_type),
                format!(
                    "zones of {region_name} that offer it: {}",
                    offered.join(", ")
                ),
            ));
        }
        let expected = if req.zones.is_empty() {
            offered
        } else {
            req.zones.clone()
        };
        log::info(&format!(
            "reading {} spot price history for {} zones of {region_name}",
            req.instance_type,
            expected.len()
        ));
        let records = spot::history::ec2::fetch(&ec2, &req.query()).await?;
        spot::quote(&req, &records, &expected, region.as_deref())?
    } else {
        let mut all = Vec::new();
        for path in &args.history {
            all.extend(spot::history::read_cli_json(path)?);
        }
        if !all
            .iter()
            .any(|r| r.instance_type == req.instance_type.as_str())
        {
            let mut types: Vec<&str> = all.iter().map(|r| r.instance_type.as_str()).collect();
            types.sort();
            types.dedup();
            return Err(Error::input_with_hint(
                format!("the history files have no {} prices", req.instance_type),
                format!("they hold: {}", types.join(", ")),
            ));
        }
        let records = req.query().select(&all);
        // Each price holds until the next record, so a history file that ends long before the
        // window still "quotes" its last price: say so, since that is rarely what was meant.
        if let Some(newest) = records.iter().map(|r| r.at).max()
            && newest < req.window_start() - jiff::SignedDuration::from_hours(24)
        {
            log::info(&format!(
                "warning: the newest {} price in the history files is from {newest}; \
                 pass --at to quote a time the files cover",
                req.instance_type
            ));
        }
        spot::quote(&req, &records, &req.zones, None)?
    };
    print_result(cli.output, &quote.to_text(), &quote)
}
