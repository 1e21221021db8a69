//! `dw debates`: the calendar, by evening.

use super::Context;
use crate::cli::DebatesArgs;
use crate::error::Result;
use crate::units::shown_span;
use crate::{debates, log};

pub(super) fn execute(ctx: &Context<'_>, args: &DebatesArgs) -> Result<()> {
    let calendar = ctx.calendar()?;
    let tz = ctx.tz()?;
    let now = jiff::Timestamp::now();
    let evenings: Vec<debates::Evening> = match &args.debate {
        Some(date) => vec![calendar.evening(*date, args.tier)?],
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
                "{}  {} #{:<2} {:<9}  {}  {}\n            {}{}\n",
                e.date,
                d.party,
                d.number,
                d.tier,
                shown_span(d.start, d.end, &tz),
                d.place,
                names.join(", "),
                d.note
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
            ));
        }
    }
    ctx.print(&text, &evenings)
}
