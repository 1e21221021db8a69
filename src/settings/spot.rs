//! `dw spot quote`, `backtest`, `history`: the command line over the configuration's `[spot]`.

use std::path::PathBuf;

use jiff::tz::TimeZone;

use super::Files;
use crate::cli::{BacktestArgs, HistoryArgs, PriceArgs, QuoteArgs};
use crate::config::SpotConfig;
use crate::error::{Error, Result};
use crate::spot::launches::Schedule;
use crate::spot::quoting::{self, HistoryRequest, Prices, QuoteOptions};
use crate::spot::{Policy, QuoteRequest, backtest};
use crate::units::InstanceType;

pub(crate) struct QuoteSettings {
    /// The command line over `[spot]` (its on-demand table included), the debate-night floor
    /// when `--debate` names an evening.
    pub request: QuoteRequest,
    /// Saved price files; none: EC2's.
    pub history: Vec<PathBuf>,
    pub tz: TimeZone,
}

pub(super) fn quote(files: &Files<'_>, args: &QuoteArgs) -> Result<QuoteSettings> {
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

pub(super) fn backtest(files: &Files<'_>, args: &BacktestArgs) -> Result<BacktestSettings> {
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
pub(super) fn backtest_run(
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
pub(super) fn product_and_on_demand(
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

pub(super) fn price_history(files: &Files<'_>, args: &HistoryArgs) -> Result<PriceHistorySettings> {
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
