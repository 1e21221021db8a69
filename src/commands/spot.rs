//! `dw spot quote`, `dw spot backtest`, `dw spot history`: the command line over the
//! configuration's `[spot]`, handed to `spot::quoting` (where prices come from) and the
//! policies.

use jiff::Timestamp;

use super::Context;
use crate::cli::{BacktestArgs, HistoryArgs, PriceArgs, QuoteArgs};
use crate::config::Loaded;
use crate::error::{Error, Result};
use crate::spot::launches::{self, Schedule};
use crate::spot::quoting::{self, Prices, QuoteOptions};
use crate::spot::{self, Policy, backtest};
use crate::{log, plot, units};

pub(super) async fn quote(ctx: &Context<'_>, args: &QuoteArgs) -> Result<()> {
    let loaded = ctx.config()?;
    let debate_night = match &args.debate {
        Some(date) => {
            ctx.calendar()?.evening(*date, None)?;
            true
        }
        None => false,
    };
    let req = quoting::request(
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
    let quote = ctx.prices(&args.history).await?.quote(&req).await?;
    ctx.print(&quote.to_text(&ctx.tz()?), &quote)
}

/// The product and on-demand price of `--product`/`--on-demand-price`, else the config's.
fn product_and_on_demand(
    loaded: &Loaded,
    args: &PriceArgs,
    t: &units::InstanceType,
) -> Result<(String, f64)> {
    let spot = &loaded.config.spot;
    let product = args.product.clone().unwrap_or_else(|| spot.product.clone());
    Ok((
        product,
        quoting::required_on_demand(spot, args.on_demand_price, t)?,
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
        Some(Prices::saved(&args.prices.history)?)
    };
    let types: Vec<units::InstanceType> = match (&args.instance_types[..], &saved) {
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
        .map(|t| backtest_run(loaded, args, t, &policies))
        .collect::<Result<Vec<_>>>()?;
    let schedule = Schedule {
        from: args.from,
        to: args.to,
        window: args.window,
        every: args.every,
        evenings: if args.debates {
            let evenings = ctx.calendar()?.evenings();
            Some(evenings.iter().map(|e| (e.start(), e.end())).collect())
        } else {
            None
        },
    };
    let prices = match saved {
        Some(prices) => prices,
        None => ctx.prices(&[]).await?,
    };
    let mut reports = Vec::with_capacity(runs.len());
    for run in &runs {
        reports.push(launches::backtest_type(&prices, run, &schedule).await?);
    }
    if let [report] = &reports[..] {
        if let Some(path) = &args.plot {
            plot::backtest(report, path)?;
            log::info(&format!("wrote {}", path.display()));
        }
        return ctx.print(&report.to_text(), report);
    }
    let summary = backtest::BacktestSummary::new(reports);
    ctx.print(&summary.to_text(), &summary)
}

/// One instance type's backtest: the command line over the configuration's `[spot]`.
fn backtest_run(
    loaded: &Loaded,
    args: &BacktestArgs,
    t: &units::InstanceType,
    policies: &[Policy],
) -> Result<backtest::Backtest> {
    let config = &loaded.config.spot;
    let (product, on_demand) = product_and_on_demand(loaded, &args.prices, t)?;
    Ok(backtest::Backtest {
        instance_type: t.clone(),
        product,
        zones: args.prices.zones.clone(),
        lookback: args.lookback.unwrap_or(config.lookback),
        markup: config.markup.0,
        floor: config.floor.get(),
        debate_night_floor: config.debate_night_floor.get(),
        on_demand,
        policies: policies.to_vec(),
        recovery_delay: args.recovery_delay,
    })
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
    let history = ctx
        .prices(&args.prices.history)
        .await?
        .history(&query)
        .await?;
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
            let req = quoting::request(
                config,
                t.clone(),
                QuoteOptions {
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
