//! `dw spot quote`, `dw spot backtest`, `dw spot history`: settings resolved by
//! `settings.rs`, prices through `spot::quoting`, the policies and the backtest in `spot/`.

use super::Context;
use crate::error::Result;
use crate::settings::{BacktestSettings, PriceHistorySettings, QuoteSettings};
use crate::spot::backtest;
use crate::spot::launches;
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
    let req = &s.request;
    let (history, start, end) = ctx.prices(&s.history).await?.drawn(req).await?;
    let chart = plot::PriceChart::build(
        &history,
        start,
        end,
        |policy, at| req.bid_at(&history, policy, at),
        &req.instance_type,
        req.on_demand,
    );
    if let Some(path) = &s.plot {
        plot::prices(&chart, path)?;
        log::info(&format!("wrote {}", path.display()));
    }
    ctx.print(&chart.to_text(), &chart)
}
