//! `configs/debates.toml`: the debate calendar and each candidate's track terms.
//!
//! dw works by the *evening*: `--debate 2015-11-10` means every debate held that date (the
//! undercard and the main debate), which one cluster covers; `--tier` narrows it to one.

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use jiff::Timestamp;
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use toml::Spanned;

use crate::error::{Error, Result};
use crate::tomlfile;

/// The debates' own time zone: their dates are Eastern dates, and times are shown in it
/// unless `--tz` says otherwise.
pub(crate) const DEBATE_TZ: &str = "America/New_York";

pub(crate) const BUILT_IN: &str = include_str!("../configs/debates.toml");
const HINT: &str = "see configs/debates.toml shipped with dw for the layout of a debate entry";

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum Tier {
    Undercard,
    Main,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(match self {
            Tier::Main => "main",
            Tier::Undercard => "undercard",
        })
    }
}

impl std::str::FromStr for Tier {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "main" => Ok(Tier::Main),
            "undercard" => Ok(Tier::Undercard),
            _ => Err(format!("`{s}` is not a tier: main or undercard")),
        }
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Candidate {
    pub name: String,
    pub party: String,
    /// Stream filter and attribution terms: name forms, @handle, hashtags.
    pub terms: Vec<Term>,
}

/// A track term. Twitter's `track` parameter and dw's job arguments separate terms with
/// commas, so a term cannot hold one (it would become two terms); Twitter allows 60 bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Term(String);

impl Term {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Term {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if s.trim().is_empty() {
            Err("an empty track term".into())
        } else if s.contains(',') {
            Err(format!(
                "the track term {s:?} holds a comma, which separates terms: make it two terms"
            ))
        } else if s.chars().any(char::is_control) || s.len() > 60 {
            Err(format!(
                "{s:?} is not a track term: at most 60 bytes, no control characters"
            ))
        } else {
            Ok(Term(s))
        }
    }
}

impl From<Term> for String {
    fn from(t: Term) -> String {
        t.0
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCalendar {
    candidates: BTreeMap<String, Candidate>,
    debates: Vec<RawDebate>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDebate {
    date: Spanned<Date>,
    party: String,
    number: u32,
    tier: Tier,
    start: Timestamp,
    end: Spanned<Timestamp>,
    place: String,
    networks: String,
    candidates: Vec<Spanned<String>>,
    note: Option<String>,
}

/// One debate, with its candidates resolved.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Debate {
    pub date: Date,
    pub party: String,
    pub number: u32,
    pub tier: Tier,
    pub start: Timestamp,
    pub end: Timestamp,
    pub place: String,
    pub networks: String,
    pub candidates: Vec<CandidateRef>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct CandidateRef {
    pub key: String,
    #[serde(flatten)]
    pub candidate: Candidate,
}

#[derive(Debug, Clone)]
pub(crate) struct Calendar {
    pub debates: Vec<Debate>,
}

/// The debates of one date that one cluster covers.
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Evening {
    pub date: Date,
    pub debates: Vec<Debate>,
}

impl Evening {
    pub(crate) fn start(&self) -> Timestamp {
        self.debates
            .iter()
            .map(|d| d.start)
            .min()
            .unwrap_or_default()
    }
    pub(crate) fn end(&self) -> Timestamp {
        self.debates.iter().map(|d| d.end).max().unwrap_or_default()
    }
    /// Every candidate on stage that evening, once, in calendar order.
    pub(crate) fn candidates(&self) -> Vec<CandidateRef> {
        let mut seen = std::collections::BTreeSet::new();
        self.debates
            .iter()
            .flat_map(|d| d.candidates.iter())
            .filter(|c| seen.insert(c.key.clone()))
            .cloned()
            .collect()
    }
    /// The tier label of the evening: `main`, `undercard` or `main+undercard`.
    pub(crate) fn tiers(&self) -> String {
        let mut tiers: Vec<Tier> = self.debates.iter().map(|d| d.tier).collect();
        tiers.sort_by(|a, b| b.cmp(a));
        tiers.dedup();
        tiers
            .iter()
            .map(std::string::ToString::to_string)
            .collect::<Vec<_>>()
            .join("+")
    }
}

impl Calendar {
    /// Reads the calendar from `path`, or the built-in one when `path` is `None`.
    pub(crate) fn load(path: Option<&Path>) -> Result<Calendar> {
        match path {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| Error::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                parse(&path.display().to_string(), &text)
            }
            None => parse("<built-in configs/debates.toml>", BUILT_IN),
        }
    }

    /// Evenings in date order.
    pub(crate) fn evenings(&self) -> Vec<Evening> {
        let mut by_date: BTreeMap<Date, Vec<Debate>> = BTreeMap::new();
        for d in &self.debates {
            by_date.entry(d.date).or_default().push(d.clone());
        }
        by_date
            .into_iter()
            .map(|(date, mut debates)| {
                debates.sort_by_key(|d| d.start);
                Evening { date, debates }
            })
            .collect()
    }

    /// The evening of `date`, narrowed to `tier` when given.
    pub(crate) fn evening(&self, date: Date, tier: Option<Tier>) -> Result<Evening> {
        let evenings = self.evenings();
        let Some(mut evening) = evenings.iter().find(|e| e.date == date).cloned() else {
            let known: Vec<String> = evenings.iter().map(|e| e.date.to_string()).collect();
            return Err(Error::input_with_hint(
                format!("no debate on {date} in the calendar"),
                format!("debates in the calendar: {}", known.join(", ")),
            ));
        };
        if let Some(tier) = tier {
            let held = evening.tiers();
            evening.debates.retain(|d| d.tier == tier);
            if evening.debates.is_empty() {
                return Err(Error::input_with_hint(
                    format!("no {tier} debate on {date}"),
                    format!("that evening had: {held}"),
                ));
            }
        }
        Ok(evening)
    }
}

pub(crate) fn parse(path: &str, text: &str) -> Result<Calendar> {
    let raw: RawCalendar = tomlfile::parse(path, text, HINT)?;
    let mut debates = Vec::with_capacity(raw.debates.len());
    for d in raw.debates {
        if *d.end.get_ref() <= d.start {
            return Err(tomlfile::located(
                path,
                text,
                d.end.span(),
                format!(
                    "the debate's end {} is not after its start {}",
                    d.end.get_ref(),
                    d.start
                ),
                HINT,
            ));
        }
        // The evening's date is where it is held: the start's date in some zone from UTC-12
        // to UTC+14, so one day either side of the start's UTC date at most.
        let utc = d.start.to_zoned_datetime(jiff::tz::TimeZone::UTC).date();
        let days = utc
            .until(*d.date.get_ref())
            .map_or(i32::MAX, |span| span.get_days());
        if days.abs() > 1 {
            return Err(tomlfile::located(
                path,
                text,
                d.date.span(),
                format!(
                    "the evening's date {} is not the date of its start {} (a typo in one of them?)",
                    d.date.get_ref(),
                    d.start
                ),
                HINT,
            ));
        }
        let mut candidates = Vec::with_capacity(d.candidates.len());
        for key in &d.candidates {
            let Some(c) = raw.candidates.get(key.get_ref()) else {
                return Err(tomlfile::located(
                    path,
                    text,
                    key.span(),
                    format!("unknown candidate `{}`", key.get_ref()),
                    "candidates are the keys of the [candidates.*] tables",
                ));
            };
            candidates.push(CandidateRef {
                key: key.get_ref().clone(),
                candidate: c.clone(),
            });
        }
        debates.push(Debate {
            date: d.date.into_inner(),
            party: d.party,
            number: d.number,
            tier: d.tier,
            start: d.start,
            end: d.end.into_inner(),
            place: d.place,
            networks: d.networks,
            candidates,
            note: d.note,
        });
    }
    Ok(Calendar { debates })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn calendar() -> Calendar {
        parse("debates.toml", BUILT_IN).unwrap()
    }

    #[test]
    fn the_shipped_calendar_has_every_held_debate_of_the_season() {
        let c = calendar();
        assert_eq!(c.debates.len(), 28);
        assert_eq!(c.evenings().len(), 21);
    }

    #[test]
    fn an_evening_holds_undercard_and_main_and_all_their_candidates() {
        let e = calendar()
            .evening(jiff::civil::date(2015, 11, 10), None)
            .unwrap();
        assert_eq!(e.tiers(), "main+undercard");
        assert_eq!(e.start().to_string(), "2015-11-11T00:00:00Z");
        assert_eq!(e.end().to_string(), "2015-11-11T04:30:00Z");
        let keys: Vec<String> = e.candidates().into_iter().map(|c| c.key).collect();
        assert_eq!(keys.len(), 12);
        assert!(keys.contains(&"trump".to_string()) && keys.contains(&"huckabee".to_string()));
        let main = calendar()
            .evening(jiff::civil::date(2015, 11, 10), Some(Tier::Main))
            .unwrap();
        assert_eq!(main.candidates().len(), 8);
    }

    #[test]
    fn an_unknown_date_lists_the_dates_that_exist() {
        let err = calendar()
            .evening(jiff::civil::date(2015, 11, 11), None)
            .unwrap_err();
        assert_eq!(err.to_string(), "no debate on 2015-11-11 in the calendar");
        assert!(err.hint().unwrap().contains("2015-11-10, 2015-11-14"));
    }

    #[test]
    fn an_unknown_candidate_points_at_its_line() {
        let text = BUILT_IN.replacen("\"fiorina\", \"gilmore\"", "\"fiorina\", \"gilmour\"", 1);
        let err = parse("d.toml", &text).unwrap_err();
        let line = text.lines().position(|l| l.contains("gilmour")).unwrap() + 1;
        assert!(
            matches!(err, Error::Toml { line: l, .. } if l == line),
            "{err:?}"
        );
        assert!(err.to_string().contains("unknown candidate `gilmour`"));
    }

    /// The README's example of an evening past 2016 (a real one: the 2024 presidential debate),
    /// with its times written in the local offset.
    const EVENING_2024: &str = include_str!("../tests/fixtures/calendar/evening-2024-09-10.toml");

    #[test]
    fn an_evening_past_2016_is_added_with_local_times() {
        let text = format!("{BUILT_IN}{EVENING_2024}");
        let c = parse("d.toml", &text).unwrap();
        let e = c.evening(jiff::civil::date(2024, 9, 10), None).unwrap();
        assert_eq!(e.start().to_string(), "2024-09-11T01:00:00Z");
        assert_eq!(e.end().to_string(), "2024-09-11T02:45:00Z");
        let keys: Vec<String> = e.candidates().into_iter().map(|c| c.key).collect();
        assert_eq!(keys, ["harris", "trump"]);
    }

    #[test]
    fn an_evening_whose_date_is_not_its_starts_points_at_the_date() {
        let text = format!("{BUILT_IN}{EVENING_2024}")
            .replace("date = \"2024-09-10\"", "date = \"2024-10-09\"");
        let err = parse("d.toml", &text).unwrap_err();
        let line = text.lines().position(|l| l.contains("2024-10-09")).unwrap() + 1;
        assert!(
            matches!(err, Error::Toml { line: l, .. } if l == line),
            "{err:?}"
        );
        assert!(
            err.to_string().contains(
                "the evening's date 2024-10-09 is not the date of its start 2024-09-11T01:00:00Z"
            ),
            "{err}"
        );
        // Its end before its start, and a time without an offset, point at their lines too.
        let text = format!("{BUILT_IN}{EVENING_2024}").replace("22:45:00-04:00", "20:45:00-04:00");
        let err = parse("d.toml", &text).unwrap_err();
        assert!(err.to_string().contains("is not after its start"), "{err}");
        let text = format!("{BUILT_IN}{EVENING_2024}").replace("21:00:00-04:00", "21:00:00");
        let err = parse("d.toml", &text).unwrap_err();
        let line = text
            .lines()
            .position(|l| l.contains("T21:00:00\""))
            .unwrap()
            + 1;
        assert!(
            matches!(err, Error::Toml { line: l, .. } if l == line),
            "{err:?}"
        );
    }
}
