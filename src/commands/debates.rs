//! `dw debates`: the calendar, by evening.

use super::Context;
use crate::error::Result;
use crate::log;
use crate::settings::DebatesSettings;
use crate::units::shown_span;

pub(super) fn execute(ctx: &Context, s: &DebatesSettings) -> Result<()> {
    let (evenings, tz) = (&s.evenings, &s.tz);
    if evenings.is_empty() {
        log::info("no debate in the calendar matches");
    }
    let mut text = String::new();
    for e in evenings {
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
                shown_span(d.start, d.end, tz),
                d.place,
                names.join(", "),
                d.note
                    .as_ref()
                    .map(|n| format!(" ({n})"))
                    .unwrap_or_default(),
            ));
        }
    }
    ctx.print(&text, evenings)
}
