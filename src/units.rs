//! Small validated values shared by the config, the CLI and the plan: durations, prices,
//! instance types, release labels. Each parses from text and explains what it expected.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// A positive length of time written the friendly way: `60m`, `2h30m`, `1h 30m`, `90s`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Duration(jiff::SignedDuration);

impl Duration {
    /// The longest duration dw accepts.
    pub const LONGEST: Duration = Duration::from_secs(366 * 24 * 3600);

    pub const fn from_secs(secs: i64) -> Self {
        Duration(jiff::SignedDuration::from_secs(secs))
    }
    pub fn get(self) -> jiff::SignedDuration {
        self.0
    }
    pub fn as_secs(self) -> i64 {
        self.0.as_secs()
    }
}

impl FromStr for Duration {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let d: jiff::SignedDuration = s.trim().parse().map_err(|_| {
            format!("`{s}` is not a duration; write it like `60m`, `2h30m` or `90s`")
        })?;
        if d.is_negative() || d.is_zero() {
            return Err(format!("`{s}` must be longer than zero"));
        }
        // Every duration dw takes (look-backs, windows, margins, leads) is well under a year;
        // a longer one is a typo, and time arithmetic with it would overflow.
        if d > Duration::LONGEST.0 {
            return Err(format!("`{s}` is too long: at most 366 days (`8784h`)"));
        }
        Ok(Duration(d))
    }
}

impl TryFrom<String> for Duration {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<Duration> for String {
    fn from(d: Duration) -> String {
        d.to_string()
    }
}

impl fmt::Display for Duration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let secs = self.0.as_secs();
        let (h, m, s) = (secs / 3600, secs % 3600 / 60, secs % 60);
        let mut out = String::new();
        if h > 0 {
            out.push_str(&format!("{h}h"));
        }
        if m > 0 {
            out.push_str(&format!("{m}m"));
        }
        if s > 0 || out.is_empty() {
            out.push_str(&format!("{s}s"));
        }
        f.write_str(&out)
    }
}

/// An EC2 instance type such as `m3.xlarge`: a family, a dot, a size. Whether the region offers
/// it is for EC2 to say; this only refuses what cannot be an instance type at all.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct InstanceType(String);

impl InstanceType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for InstanceType {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let ok = match s.split_once('.') {
            Some((family, size)) => {
                !family.is_empty()
                    && !size.is_empty()
                    && family.starts_with(|c: char| c.is_ascii_lowercase())
                    && family
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
                    && size
                        .chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
            }
            None => false,
        };
        if ok {
            Ok(InstanceType(s.to_string()))
        } else {
            Err(format!(
                "`{s}` is not an EC2 instance type; write it like `m3.xlarge`"
            ))
        }
    }
}

impl TryFrom<String> for InstanceType {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<InstanceType> for String {
    fn from(t: InstanceType) -> String {
        t.0
    }
}

impl fmt::Display for InstanceType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A price in US dollars per instance-hour, zero or more.
#[derive(Debug, Clone, Copy, PartialEq, PartialOrd, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Dollars(f64);

impl Dollars {
    pub fn get(self) -> f64 {
        self.0
    }
}

impl TryFrom<f64> for Dollars {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if v.is_finite() && v >= 0.0 {
            Ok(Dollars(v))
        } else {
            Err(format!("{v} is not a price in dollars (zero or more)"))
        }
    }
}

impl From<Dollars> for f64 {
    fn from(d: Dollars) -> f64 {
        d.0
    }
}

/// An EMR release label of the 4.x line (`emr-4.0.0` .. `emr-4.9.6`), the line dw targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct ReleaseLabel {
    pub minor: u32,
    pub patch: u32,
}

impl ReleaseLabel {
    /// Ganglia is an EMR application from emr-4.2.0; before that a bootstrap action installs it.
    pub fn has_ganglia_application(self) -> bool {
        self.minor >= 2
    }
}

impl FromStr for ReleaseLabel {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let refuse = || {
            format!("`{s}` is not a supported EMR release label: dw targets emr-4.0.0 to emr-4.9.6")
        };
        let rest = s.strip_prefix("emr-4.").ok_or_else(refuse)?;
        let (minor, patch) = rest.split_once('.').ok_or_else(refuse)?;
        let minor: u32 = minor.parse().map_err(|_| refuse())?;
        let patch: u32 = patch.parse().map_err(|_| refuse())?;
        if minor > 9 {
            return Err(refuse());
        }
        Ok(ReleaseLabel { minor, patch })
    }
}

impl TryFrom<String> for ReleaseLabel {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        s.parse()
    }
}

impl From<ReleaseLabel> for String {
    fn from(r: ReleaseLabel) -> String {
        r.to_string()
    }
}

impl fmt::Display for ReleaseLabel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "emr-4.{}.{}", self.minor, self.patch)
    }
}

/// Why `text` is not a calendar date, in a sentence: a well-formed day that does not exist
/// (`2015-02-30`) is told apart from text that is not YYYY-MM-DD at all.
pub fn not_a_date(text: &str) -> String {
    let shaped = text.len() == 10
        && text.char_indices().all(|(i, c)| {
            if i == 4 || i == 7 {
                c == '-'
            } else {
                c.is_ascii_digit()
            }
        });
    if shaped {
        format!("`{text}` is not a day of the calendar (no such day in that month)")
    } else {
        format!("`{text}` is not a date; write it as YYYY-MM-DD")
    }
}

/// `at` shown in `tz` by a strftime `format` (`%Z`: the zone's abbreviation, e.g. EST).
pub(crate) fn shown(at: jiff::Timestamp, tz: &jiff::tz::TimeZone, format: &str) -> String {
    at.to_zoned_datetime(tz.clone())
        .strftime(format)
        .to_string()
}

/// `2015-11-10 21:00 to 23:30 EST`; the end's date too when it falls on another day there.
pub(crate) fn shown_span(
    start: jiff::Timestamp,
    end: jiff::Timestamp,
    tz: &jiff::tz::TimeZone,
) -> String {
    let (s, e) = (
        start.to_zoned_datetime(tz.clone()),
        end.to_zoned_datetime(tz.clone()),
    );
    let end_format = if s.date() == e.date() {
        "%H:%M %Z"
    } else {
        "%Y-%m-%d %H:%M %Z"
    };
    format!(
        "{} to {}",
        s.strftime("%Y-%m-%d %H:%M"),
        e.strftime(end_format)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_read_the_friendly_way_and_print_back() {
        for (text, secs, shown) in [
            ("60m", 3600, "1h"),
            ("2h30m", 9000, "2h30m"),
            ("1h 30m", 5400, "1h30m"),
            ("90s", 90, "1m30s"),
        ] {
            let d: Duration = text.parse().unwrap();
            assert_eq!(d.as_secs(), secs, "{text}");
            assert_eq!(d.to_string(), shown);
        }
        assert!("0m".parse::<Duration>().is_err());
        assert!("soon".parse::<Duration>().is_err());
    }

    #[test]
    fn instance_types_need_a_family_and_a_size() {
        for good in ["m3.xlarge", "c5n.18xlarge", "u-6tb1.metal", "m1.small"] {
            assert!(good.parse::<InstanceType>().is_ok(), "{good}");
        }
        for bad in ["m3", "m3.", ".large", "M3.XLARGE", "m3.x large", ""] {
            assert!(bad.parse::<InstanceType>().is_err(), "{bad}");
        }
    }

    #[test]
    fn only_emr_4x_labels_are_accepted() {
        let r: ReleaseLabel = "emr-4.2.0".parse().unwrap();
        assert!(r.has_ganglia_application());
        assert!(
            !"emr-4.1.0"
                .parse::<ReleaseLabel>()
                .unwrap()
                .has_ganglia_application()
        );
        for bad in ["emr-5.0.0", "emr-4.10.0", "emr-4.2", "4.2.0", "emr-4.x.0"] {
            assert!(bad.parse::<ReleaseLabel>().is_err(), "{bad}");
        }
    }
}
