//! Which launches a backtest judges (every so often over a range of dates, or the debate
//! evenings), the prices it reads for them, and its run for one instance type.

use jiff::{SignedDuration, Timestamp};

use super::backtest::{self, Backtest, Launch, Report};
use super::history::Query;
use super::quoting::Prices;
use super::series::History;
use crate::error::{Error, Result};
use crate::log;
use crate::units::Duration;

/// The schedule's defaults: launch 45 min before an evening, remove 30 min after it.
const DEBATE_LEAD: SignedDuration = SignedDuration::from_mins(45);
const DEBATE_TAIL: SignedDuration = SignedDuration::from_mins(30);
/// A launch's window when none is given and it is not a debate evening.
const DEFAULT_WINDOW: Duration = Duration::from_secs(2 * 3600 + 30 * 60);

/// When a backtest launches, resolved from the command line.
#[derive(Debug, Clone)]
pub(crate) struct Schedule {
    pub from: Option<Timestamp>,
    pub to: Option<Timestamp>,
    /// Each launch's window (default: the evening's, or [`DEFAULT_WINDOW`]).
    pub window: Option<Duration>,
    /// Launch every this long over the range, unless `evenings` is given.
    pub every: Duration,
    /// The debate evenings (start, end) to launch for (`--debates`).
    pub evenings: Option<Vec<(Timestamp, Timestamp)>>,
}

/// Backtests `run` (one instance type) over `prices` on `schedule`'s launches.
pub(crate) async fn backtest_type(
    prices: &Prices,
    run: &Backtest,
    schedule: &Schedule,
) -> Result<Report> {
    let t = &run.instance_type;
    let needed = run
        .policies
        .iter()
        .map(|p| p.history_needed(run.lookback))
        .max()
        .unwrap_or(run.lookback);
    let window = schedule.window.unwrap_or(DEFAULT_WINDOW);
    let evenings = schedule.evenings.as_deref().unwrap_or_default();
    let longest = evenings
        .iter()
        .map(|&(start, end)| end + DEBATE_TAIL - (start - DEBATE_LEAD))
        .max()
        .unwrap_or_default()
        .max(window.get());
    let query = Query {
        instance_type: t,
        product: &run.product,
        zones: &run.zones,
        start: schedule.from.map_or(Timestamp::MIN, |f| f - needed.get()),
        end: schedule.to.map_or(Timestamp::MAX, |to| to + longest),
    };
    let history = prices.history(&query).await?;
    let Some((first_ms, last_ms)) = history.span() else {
        return Err(Error::input(format!("no {t} prices in the history")));
    };
    let first = Timestamp::from_millisecond(first_ms).map_err(|e| Error::Failed(e.to_string()))?;
    // Saved files end with their last record; EC2 answered for the whole range asked.
    let data_end = if prices.records().is_none() {
        query.end.min(Timestamp::now())
    } else {
        Timestamp::from_millisecond(last_ms).map_err(|e| Error::Failed(e.to_string()))?
    };
    // Every policy sees its whole look-back, and every window ends inside the prices.
    let span = Span {
        earliest: schedule.from.unwrap_or(first).max(first + needed.get()),
        first,
        data_end,
        to: schedule.to,
    };
    let launches = match &schedule.evenings {
        Some(evenings) => evening_launches(run, schedule, evenings, &span),
        None => backtest::every(
            round_up(span.earliest, schedule.every),
            span.last_launch(window.get()),
            schedule.every,
            window,
        ),
    };
    judge(run, &history, &launches)
}

/// The stretch of prices the launches must fall in.
struct Span {
    earliest: Timestamp,
    first: Timestamp,
    data_end: Timestamp,
    to: Option<Timestamp>,
}

impl Span {
    /// The last launch whose `window` still ends inside the prices (and the range).
    fn last_launch(&self, window: SignedDuration) -> Timestamp {
        let by_data = self.data_end - window;
        self.to.map_or(by_data, |to| to.min(by_data))
    }
}

/// A launch 45 minutes before each evening, its window to 30 minutes after (unless a window
/// is given), keeping those inside the prices.
fn evening_launches(
    run: &Backtest,
    schedule: &Schedule,
    evenings: &[(Timestamp, Timestamp)],
    span: &Span,
) -> Vec<Launch> {
    let all: Vec<Launch> = evenings
        .iter()
        .map(|&(start, end)| {
            let at = start - DEBATE_LEAD;
            Launch {
                at,
                window: schedule
                    .window
                    .unwrap_or_else(|| Duration::from_secs((end + DEBATE_TAIL - at).as_secs())),
                debate_night: true,
            }
        })
        .collect();
    let inside: Vec<Launch> = all
        .iter()
        .filter(|l| l.at >= span.earliest && l.at <= span.last_launch(l.window.get()))
        .cloned()
        .collect();
    log::info(&format!(
        "{}: {} of {} debate evenings fall inside the prices ({} to {})",
        run.instance_type,
        inside.len(),
        all.len(),
        span.first.strftime("%Y-%m-%d"),
        span.data_end.strftime("%Y-%m-%d")
    ));
    inside
}

/// Runs the backtest, and logs (`-v`) what it took and every launch it lost.
fn judge(run: &Backtest, history: &History, launches: &[Launch]) -> Result<Report> {
    let t = &run.instance_type;
    let started = std::time::Instant::now();
    let report = run.run(history, launches)?;
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

/// Rounds `t` up to a whole multiple of `step` since the epoch (launches on the hour).
fn round_up(t: Timestamp, step: Duration) -> Timestamp {
    let step = step.as_secs().max(1);
    let s = t.as_second();
    let up = s.div_euclid(step) * step + if s.rem_euclid(step) > 0 { step } else { 0 };
    Timestamp::from_second(up).unwrap_or(t)
}
