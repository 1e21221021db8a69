//! `dw spot quote`, `dw spot backtest`, `dw spot history`: settings resolved by
//! `settings.rs`, prices through `spot::quoting`, the policies and the backtest in `spot/`.

use jiff::Timestamp;

use super::Context;
use crate::error::{Error, Result};
use crate::settings::{BacktestSettings, PriceHistorySettings, QuoteSettings};
use crate::spot::launches;
use crate::spot::quoting::{self, QuoteOptions};
use crate::spot::{self, Policy, backtest};
use crate::{log, plot};

pub(super) async fn quote(ctx: &Context, s: &QuoteSettings) -> Result<()> {
    let quote = ctx.prices(&s.history).await?.quote(&s.request).await?;
    ctx.print(&quote.to_text(&s.tz), &quote)
}

pub(super) async fn backtest(ctx: &Context, s: BacktestSettings) -> Result<()> {
    let prices = match s.saved {
        Some(prices) => prices,
        None => ctx.prices(&[]).await?,
    };
    let mut reports = Vec::with_capacity(s.runs.len());
    for run in &s.runs {
        reports.push(launches::backtest_type(&prices, run, &s.schedule).await?);
    }
    if let [report] = &reports[..] {
        if let Some(path) = &s.plot {
            plot::backtest(report, path)?;
            log::info(&format!("wrote {}", path.display()));
        }
        return ctx.print(&report.to_text(), report);
    }
    let summary = backtest::BacktestSummary::new(reports);
    ctx.print(&summary.to_text(), &summary)
}

pub(super) async fn history(ctx: &Context, s: &PriceHistorySettings) -> Result<()> {
    let t = &s.instance_type;
    let saved = !s.history.is_empty();
    // The bids need their own look-back before the range starts.
    let before = Policy::ALL
        .iter()
        .map(|p| p.history_needed(s.spot.lookback))
        .max()
        .unwrap_or(s.spot.lookback)
        .get()
        + s.range.get();
    let query_end = s.at.unwrap_or_else(Timestamp::now);
    let query = spot::history::Query {
        instance_type: t,
        product: &s.product,
        zones: &s.zones,
        start: if saved {
            Timestamp::MIN
        } else {
            query_end - before
        },
        end: if saved { Timestamp::MAX } else { query_end },
    };
    let history = ctx.prices(&s.history).await?.history(&query).await?;
    let end = match (s.at, history.span()) {
        (Some(at), _) => at,
        (None, Some((_, last))) if saved => {
            Timestamp::from_millisecond(last).map_err(|e| Error::Failed(e.to_string()))?
        }
        _ => query_end,
    };
    let start = end - s.range.get();
    let chart = plot::PriceChart::build(
        &history,
        start,
        end,
        |policy, at| {
            let req = quoting::request(
                &s.spot,
                t.clone(),
                QuoteOptions {
                    at: Some(at),
                    product: Some(s.product.clone()),
                    zones: s.zones.clone(),
                    policy: Some(policy),
                    on_demand_price: Some(s.on_demand),
                    ..Default::default()
                },
                false,
            );
            spot::quote(&req, &history, &[], None).ok().map(|q| q.bid)
        },
        t,
        s.on_demand,
    );
    if let Some(path) = &s.plot {
        plot::prices(&chart, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    ctx.print(&chart.to_text(), &chart)
}
