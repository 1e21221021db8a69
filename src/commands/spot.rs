//! `dw spot quote`, `dw spot backtest`, `dw spot history`: reading prices (saved files or EC2)
//! and handing them to the policies; also the quotes a cluster plan needs.

use std::path::PathBuf;

use jiff::Timestamp;

use super::Context;
use crate::cli::{BacktestArgs, HistoryArgs, PriceArgs, QuoteArgs};
use crate::config::{self, Loaded};
use crate::error::{Error, Result};
use crate::spot::series::History;
use crate::spot::{self, Policy, backtest};
use crate::{aws, log, plot, units};

pub(super) async fn quote(ctx: &Context<'_>, args: &QuoteArgs) -> Result<()> {
    let loaded = ctx.config()?;
    let debate_night = match &args.debate {
        Some(date) => {
            ctx.calendar()?.evening(*date, None)?;
            true
        }
        None => false,
    };
    let req = quote_request(
        loaded,
        args.instance_type.clone(),
        QuoteWindow {
            at: args.at,
            lookback: args.lookback,
            product: args.product.clone(),
            zones: args.zones.clone(),
            policy: args.policy,
            on_demand_price: args.on_demand_price,
        },
        debate_night,
    );
    let quote = make_quote(ctx, &req, &args.history).await?;
    ctx.print(&quote.to_text(&ctx.tz()?), &quote)
}

/// The window and zones of a quote, as the command line gives them (config defaults otherwise).
#[derive(Debug, Clone, Default)]
pub(super) struct QuoteWindow {
    pub at: Option<Timestamp>,
    pub lookback: Option<units::Duration>,
    pub product: Option<String>,
    pub zones: Vec<String>,
    pub policy: Option<Policy>,
    pub on_demand_price: Option<f64>,
}

/// The on-demand price of `instance_type`: the config's `[spot.on_demand]`, else the built-in
/// table.
pub(super) fn on_demand_price(loaded: &Loaded, instance_type: &str) -> Option<f64> {
    spot::prices::OnDemand::new(&loaded.config.spot.on_demand).price(instance_type)
}

pub(crate) fn quote_request(
    loaded: &Loaded,
    instance_type: units::InstanceType,
    window: QuoteWindow,
    debate_night: bool,
) -> spot::QuoteRequest {
    let spot = &loaded.config.spot;
    let on_demand = window
        .on_demand_price
        .or_else(|| on_demand_price(loaded, instance_type.as_str()));
    spot::QuoteRequest {
        instance_type,
        product: window.product.unwrap_or_else(|| spot.product.clone()),
        at: window.at.unwrap_or_else(Timestamp::now),
        lookback: window.lookback.unwrap_or(spot.lookback),
        zones: window.zones,
        rule: spot::BidRule {
            policy: window.policy.unwrap_or(spot.policy),
            on_demand,
            markup: spot.markup.0,
            floor: if debate_night {
                spot.debate_night_floor.get()
            } else {
                spot.floor.get()
            },
            debate_night,
        },
        record_week: true,
    }
}

/// Quotes from saved history files when given, else from EC2.
async fn make_quote(
    ctx: &Context<'_>,
    req: &spot::QuoteRequest,
    history: &[PathBuf],
) -> Result<spot::Quote> {
    if history.is_empty() {
        let sdk = ctx.sdk().await?;
        quote_from_ec2(
            &aws::ec2(sdk),
            sdk.region().map(std::string::ToString::to_string),
            req,
        )
        .await
    } else {
        quote_from_files(req, history)
    }
}

async fn quote_from_ec2(
    ec2: &aws_sdk_ec2::Client,
    region: Option<String>,
    req: &spot::QuoteRequest,
) -> Result<spot::Quote> {
    let offered = spot::history::ec2::offered_zones(ec2, &req.instance_type).await?;
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
    let records = spot::history::ec2::fetch(ec2, &req.query()).await?;
    let history = History::from_records(&records, &req.instance_type, None, &req.zones);
    spot::quote(req, &history, &expected, region.as_deref())
}

/// Reads saved history files; an error when they hold no `instance_type` prices.
fn read_history_files(
    files: &[PathBuf],
    instance_type: &units::InstanceType,
) -> Result<Vec<spot::history::PriceRecord>> {
    let all = read_all_history(files)?;
    check_has_type(&all, instance_type)?;
    Ok(all)
}

/// An error naming the types the records do hold when `instance_type` is not among them.
fn check_has_type(
    all: &[spot::history::PriceRecord],
    instance_type: &units::InstanceType,
) -> Result<()> {
    if all
        .iter()
        .any(|r| r.instance_type == instance_type.as_str())
    {
        return Ok(());
    }
    let types = types_in(all);
    Err(Error::input_with_hint(
        format!("the history files have no {instance_type} prices"),
        if types.is_empty() {
            "they hold no price records at all".to_string()
        } else {
            format!("they hold: {}", types.join(", "))
        },
    ))
}

/// The instance types of `records`, sorted.
fn types_in(records: &[spot::history::PriceRecord]) -> Vec<String> {
    let mut types: Vec<String> = records.iter().map(|r| r.instance_type.clone()).collect();
    types.sort();
    types.dedup();
    types
}

/// Every record of the files, folders and patterns `--history` names.
fn read_all_history(args: &[PathBuf]) -> Result<Vec<spot::history::PriceRecord>> {
    let mut all = Vec::new();
    for path in spot::history::expand_paths(args)? {
        all.extend(spot::history::read_cli_json(&path)?);
    }
    Ok(all)
}

fn quote_from_files(req: &spot::QuoteRequest, files: &[PathBuf]) -> Result<spot::Quote> {
    let all = read_history_files(files, &req.instance_type)?;
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
    let history =
        History::from_records(&records, &req.instance_type, Some(&req.product), &req.zones);
    spot::quote(req, &history, &req.zones, None)
}

/// Quotes every spot instance type of the plan's groups, as of `window`.
pub(crate) async fn plan_quotes(
    ctx: &Context<'_>,
    window: &QuoteWindow,
    history: Option<&[PathBuf]>,
) -> Result<std::collections::BTreeMap<String, spot::Quote>> {
    let loaded = ctx.config()?;
    let emr = &loaded.config.emr;
    // The group that places the cluster first (the core, else the master: as the plan
    // chooses), then the others, quoted in the zone it chose: a bid is only good where the
    // nodes are.
    let mut types: Vec<&units::InstanceType> = Vec::new();
    for g in [Some(&emr.core), Some(&emr.master), emr.task.as_ref()]
        .into_iter()
        .flatten()
        .filter(|g| g.market == config::Market::Spot)
    {
        if !types.contains(&&g.instance_type) {
            types.push(&g.instance_type);
        }
    }
    let mut quotes = std::collections::BTreeMap::new();
    let mut placed: Option<String> = None;
    for t in types {
        let mut window = window.clone();
        if let Some(zone) = &placed {
            window.zones = vec![zone.clone()];
        }
        let req = quote_request(loaded, t.clone(), window, true);
        let quote = match history {
            Some(files) => quote_from_files(&req, files)?,
            None => make_quote(ctx, &req, &[]).await?,
        };
        log::info(&format!(
            "{t}: zone {}, bid ${:.4} ({} policy)",
            quote.zone, quote.bid, quote.policy
        ));
        placed.get_or_insert_with(|| quote.zone.clone());
        quotes.insert(t.to_string(), quote);
    }
    Ok(quotes)
}

/// The on-demand price a backtest or plot needs, or an error saying how to give it.
fn required_on_demand(loaded: &Loaded, given: Option<f64>, t: &units::InstanceType) -> Result<f64> {
    given
        .or_else(|| on_demand_price(loaded, t.as_str()))
        .ok_or_else(|| {
            Error::input_with_hint(
                format!("dw does not know the on-demand price of {t}"),
                "pass --on-demand-price P ($/hour), or add the type to [spot.on_demand] in the config",
            )
        })
}

/// Prices of `t` from records read from saved files, or from EC2 over `[start, end]`.
async fn load_history(
    ctx: &Context<'_>,
    saved: Option<&[spot::history::PriceRecord]>,
    q: &spot::history::Query<'_>,
) -> Result<History> {
    let (records, product) = match saved {
        None => {
            let sdk = ctx.sdk().await?;
            log::info(&format!(
                "reading {} spot price history from {} to {} (EC2 keeps 90 days)",
                q.instance_type, q.start, q.end
            ));
            (spot::history::ec2::fetch(&aws::ec2(sdk), q).await?, None)
        }
        Some(all) => {
            check_has_type(all, q.instance_type)?;
            (all.to_vec(), Some(q.product))
        }
    };
    let history = History::from_records(&records, q.instance_type, product, q.zones);
    if history.zones.is_empty() {
        return Err(Error::input_with_hint(
            format!("no {} {} spot prices to read", q.instance_type, q.product),
            "check --product and --zones against the history",
        ));
    }
    Ok(history)
}

/// Rounds `t` up to a whole multiple of `step` since the epoch (launches on the hour).
fn round_up(t: Timestamp, step: units::Duration) -> Timestamp {
    let step = step.as_secs().max(1);
    let s = t.as_second();
    let up = s.div_euclid(step) * step + if s.rem_euclid(step) > 0 { step } else { 0 };
    Timestamp::from_second(up).unwrap_or(t)
}

/// The schedule's defaults: launch 45 min before an evening, remove 30 min after it.
const DEBATE_LEAD: jiff::SignedDuration = jiff::SignedDuration::from_mins(45);
const DEBATE_TAIL: jiff::SignedDuration = jiff::SignedDuration::from_mins(30);
const DEFAULT_WINDOW: units::Duration = units::Duration::from_secs(2 * 3600 + 30 * 60);

/// The product and on-demand price of `--product`/`--on-demand-price`, else the config's.
fn product_and_on_demand(
    loaded: &Loaded,
    args: &PriceArgs,
    t: &units::InstanceType,
) -> Result<(String, f64)> {
    let product = args
        .product
        .clone()
        .unwrap_or_else(|| loaded.config.spot.product.clone());
    Ok((
        product,
        required_on_demand(loaded, args.on_demand_price, t)?,
    ))
}

pub(super) async fn backtest(ctx: &Context<'_>, args: &BacktestArgs) -> Result<()> {
    let loaded = ctx.config()?;
    let mut policies: Vec<Policy> = Vec::new();
    for p in if args.policy.is_empty() {
        &Policy::ALL[..]
    } else {
        &args.policy[..]
    } {
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
        Some(read_all_history(&args.prices.history)?)
    };
    let types: Vec<units::InstanceType> = match (&args.instance_types[..], &saved) {
        ([], Some(records)) => types_in(records)
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
    let mut reports = Vec::with_capacity(types.len());
    for t in &types {
        reports.push(backtest_type(ctx, loaded, args, t, saved.as_deref(), &policies).await?);
    }
    if let [report] = &reports[..] {
        if let Some(path) = &args.plot {
            plot::backtest(report, path)?;
            log::info(&format!("wrote {}", path.display()));
        }
        return ctx.print(&report.to_text(), report);
    }
    let summary = backtest::Summary::new(reports);
    ctx.print(&summary.to_text(), &summary)
}

/// One instance type's backtest.
async fn backtest_type(
    ctx: &Context<'_>,
    loaded: &Loaded,
    args: &BacktestArgs,
    t: &units::InstanceType,
    saved: Option<&[spot::history::PriceRecord]>,
    policies: &[Policy],
) -> Result<backtest::Report> {
    let config = &loaded.config.spot;
    let (product, on_demand) = product_and_on_demand(loaded, &args.prices, t)?;
    let lookback = args.lookback.unwrap_or(config.lookback);
    let needed = policies
        .iter()
        .map(|p| p.history_needed(lookback))
        .max()
        .unwrap_or(lookback);
    let window = args.window.unwrap_or(DEFAULT_WINDOW);
    let evenings = if args.debates {
        ctx.calendar()?.evenings()
    } else {
        Vec::new()
    };
    let longest = evenings
        .iter()
        .map(|e| e.end() + DEBATE_TAIL - (e.start() - DEBATE_LEAD))
        .max()
        .unwrap_or_default()
        .max(window.get());
    let query = spot::history::Query {
        instance_type: t,
        product: &product,
        zones: &args.prices.zones,
        start: args.from.map_or(Timestamp::MIN, |f| f - needed.get()),
        end: args.to.map_or(Timestamp::MAX, |to| to + longest),
    };
    let history = load_history(ctx, saved, &query).await?;
    let Some((first_ms, last_ms)) = history.span() else {
        return Err(Error::input(format!("no {t} prices in the history")));
    };
    let first = Timestamp::from_millisecond(first_ms).map_err(|e| Error::Failed(e.to_string()))?;
    // Saved files end with their last record; EC2 answered for the whole range asked.
    let data_end = if saved.is_none() {
        query.end.min(Timestamp::now())
    } else {
        Timestamp::from_millisecond(last_ms).map_err(|e| Error::Failed(e.to_string()))?
    };
    // Every policy sees its whole look-back, and every window ends inside the prices.
    let earliest = args.from.unwrap_or(first).max(first + needed.get());
    let last_launch = |window: jiff::SignedDuration| {
        let by_data = data_end - window;
        args.to.map_or(by_data, |to| to.min(by_data))
    };

    let launches: Vec<backtest::Launch> = if args.debates {
        let all: Vec<backtest::Launch> = evenings
            .iter()
            .map(|e| {
                let at = e.start() - DEBATE_LEAD;
                backtest::Launch {
                    at,
                    window: args.window.unwrap_or_else(|| {
                        units::Duration::from_secs((e.end() + DEBATE_TAIL - at).as_secs())
                    }),
                    debate_night: true,
                }
            })
            .collect();
        let inside: Vec<backtest::Launch> = all
            .iter()
            .filter(|l| l.at >= earliest && l.at <= last_launch(l.window.get()))
            .cloned()
            .collect();
        log::info(&format!(
            "{t}: {} of {} debate evenings fall inside the prices ({} to {})",
            inside.len(),
            all.len(),
            first.strftime("%Y-%m-%d"),
            data_end.strftime("%Y-%m-%d")
        ));
        inside
    } else {
        backtest::every(
            round_up(earliest, args.every),
            last_launch(window.get()),
            args.every,
            window,
        )
    };
    let run = backtest::Backtest {
        instance_type: t.clone(),
        product,
        zones: args.prices.zones.clone(),
        lookback,
        markup: config.markup.0,
        floor: config.floor.get(),
        debate_night_floor: config.debate_night_floor.get(),
        on_demand,
        policies: policies.to_vec(),
        recovery_delay: args.recovery_delay,
    };
    let started = std::time::Instant::now();
    let report = run.run(&history, &launches)?;
    log::debug(&format!(
        "{t}: {} launches x {} policies over {} records in {:.3}s",
        launches.len(),
        report.policies.len(),
        history.records(),
        started.elapsed().as_secs_f64()
    ));
    for p in &report.policies {
        for o in p.outcomes.iter().filter(|o| o.interrupted_at.is_some()) {
            log::debug(&format!(
                "{t} {}: launch {} in {} at ${:.4} {}",
                p.name,
                o.at,
                o.zone,
                o.bid,
                match o.interrupted_at {
                    Some(lost) if o.filled => format!("lost at {lost}"),
                    _ => "never filled".to_string(),
                }
            ));
        }
    }
    Ok(report)
}

pub(super) async fn history(ctx: &Context<'_>, args: &HistoryArgs) -> Result<()> {
    let loaded = ctx.config()?;
    let config = &loaded.config.spot;
    let t = &args.instance_type;
    let (product, on_demand) = product_and_on_demand(loaded, &args.prices, t)?;
    // The bids need their own look-back before the range starts.
    let before = Policy::ALL
        .iter()
        .map(|p| p.history_needed(config.lookback))
        .max()
        .unwrap_or(config.lookback)
        .get()
        + args.lookback.get();
    let query_end = args.at.unwrap_or_else(Timestamp::now);
    let query = spot::history::Query {
        instance_type: t,
        product: &product,
        zones: &args.prices.zones,
        start: if args.prices.history.is_empty() {
            query_end - before
        } else {
            Timestamp::MIN
        },
        end: if args.prices.history.is_empty() {
            query_end
        } else {
            Timestamp::MAX
        },
    };
    let saved = if args.prices.history.is_empty() {
        None
    } else {
        Some(read_all_history(&args.prices.history)?)
    };
    let history = load_history(ctx, saved.as_deref(), &query).await?;
    let end = match (args.at, history.span()) {
        (Some(at), _) => at,
        (None, Some((_, last))) if !args.prices.history.is_empty() => {
            Timestamp::from_millisecond(last).map_err(|e| Error::Failed(e.to_string()))?
        }
        _ => query_end,
    };
    let start = end - args.lookback.get();
    let chart = plot::PriceChart::build(
        &history,
        start,
        end,
        |policy, at| {
            let req = quote_request(
                loaded,
                t.clone(),
                QuoteWindow {
                    at: Some(at),
                    product: Some(product.clone()),
                    zones: args.prices.zones.clone(),
                    policy: Some(policy),
                    on_demand_price: Some(on_demand),
                    ..Default::default()
                },
                false,
            );
            spot::quote(&req, &history, &[], None).ok().map(|q| q.bid)
        },
        t,
        on_demand,
    );
    if let Some(path) = &args.plot {
        plot::prices(&chart, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    ctx.print(&chart.to_text(), &chart)
}
