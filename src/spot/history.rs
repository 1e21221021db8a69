//! Spot-price history records: from saved aws-cli JSON or from EC2's DescribeSpotPriceHistory.

use std::path::Path;

use jiff::Timestamp;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::units::InstanceType;

/// A spot price in millionths of a dollar per instance-hour: EC2 quotes six decimals, and integer
/// arithmetic keeps time-weighted sums exact.
pub type Micros = u64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PriceRecord {
    pub zone: String,
    pub instance_type: String,
    pub product: String,
    pub price: Micros,
    /// When this price took effect; it holds until the zone's next record.
    pub at: Timestamp,
}

pub fn micros_to_dollars(m: Micros) -> f64 {
    m as f64 / 1e6
}

/// Parses a decimal dollar amount (`"0.018700"`) exactly.
pub fn parse_price(text: &str) -> Option<Micros> {
    let (whole, frac) = text.trim().split_once('.').unwrap_or((text.trim(), ""));
    if whole.is_empty() && frac.is_empty()
        || frac.len() > 6
        || !whole.chars().all(|c| c.is_ascii_digit())
        || !frac.chars().all(|c| c.is_ascii_digit())
    {
        return None;
    }
    let whole: u64 = if whole.is_empty() {
        0
    } else {
        whole.parse().ok()?
    };
    let frac: u64 = format!("{frac:0<6}").parse().ok()?;
    whole.checked_mul(1_000_000)?.checked_add(frac)
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CliFile {
    spot_price_history: Vec<CliRecord>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct CliRecord {
    timestamp: Timestamp,
    product_description: String,
    instance_type: String,
    spot_price: String,
    availability_zone: String,
}

/// Reads a saved `aws ec2 describe-spot-price-history` JSON file, plain or gzip (`.gz`).
pub fn read_cli_json(path: &Path) -> Result<Vec<PriceRecord>> {
    let read = |path: &Path| -> std::io::Result<String> {
        let bytes = std::fs::read(path)?;
        if bytes.starts_with(&[0x1f, 0x8b]) {
            let mut text = String::new();
            std::io::Read::read_to_string(
                &mut flate2::read::GzDecoder::new(&bytes[..]),
                &mut text,
            )?;
            Ok(text)
        } else {
            String::from_utf8(bytes)
                .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidData, e))
        }
    };
    let text = read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    parse_cli_json(&path.display().to_string(), &text)
}

/// Whether a file name is a saved history: `.json` or `.json.gz`.
fn is_history_file(name: &str) -> bool {
    name.ends_with(".json") || name.ends_with(".json.gz")
}

/// `*` (any run of characters) and `?` (one character) against a whole file name.
fn wildcard_match(pattern: &[char], name: &[char]) -> bool {
    match (pattern.first(), name.first()) {
        (None, None) => true,
        (Some('*'), _) => {
            wildcard_match(&pattern[1..], name)
                || (!name.is_empty() && wildcard_match(pattern, &name[1..]))
        }
        (Some('?'), Some(_)) => wildcard_match(&pattern[1..], &name[1..]),
        (Some(p), Some(n)) if p == n => wildcard_match(&pattern[1..], &name[1..]),
        _ => false,
    }
}

/// The history files that `--history` arguments name: a file as it is, a folder's `.json` and
/// `.json.gz` files, and a pattern with `*` or `?` in its file name (for a quoted glob the shell
/// did not expand). Sorted within each argument; an argument that names nothing is an error.
pub fn expand_paths(args: &[std::path::PathBuf]) -> Result<Vec<std::path::PathBuf>> {
    let list = |dir: &Path, keep: &dyn Fn(&str) -> bool| -> Result<Vec<std::path::PathBuf>> {
        let entries = std::fs::read_dir(dir).map_err(|source| Error::Read {
            path: dir.to_path_buf(),
            source,
        })?;
        let mut found: Vec<std::path::PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .filter(|p| p.file_name().and_then(|n| n.to_str()).is_some_and(keep))
            .collect();
        found.sort();
        Ok(found)
    };
    let mut out = Vec::new();
    for arg in args {
        let name = arg.file_name().and_then(|n| n.to_str()).unwrap_or("");
        let found = if arg.is_dir() {
            list(arg, &is_history_file)?
        } else if name.contains(['*', '?']) && !arg.exists() {
            let pattern: Vec<char> = name.chars().collect();
            let dir = match arg.parent() {
                Some(p) if !p.as_os_str().is_empty() => p,
                _ => Path::new("."),
            };
            list(dir, &|n: &str| {
                wildcard_match(&pattern, &n.chars().collect::<Vec<_>>())
            })?
        } else {
            vec![arg.clone()]
        };
        if found.is_empty() {
            return Err(Error::input_with_hint(
                format!("{}: no spot history files there", arg.display()),
                "name .json or .json.gz files saved from `aws ec2 describe-spot-price-history`, \
                 a folder of them, or a pattern such as 'spot/*.json.gz'",
            ));
        }
        out.extend(found);
    }
    Ok(out)
}

pub fn parse_cli_json(name: &str, text: &str) -> Result<Vec<PriceRecord>> {
    let hint = "expected the JSON that `aws ec2 describe-spot-price-history` prints: \
                {\"SpotPriceHistory\": [{\"Timestamp\", \"ProductDescription\", \"InstanceType\", \
                \"SpotPrice\", \"AvailabilityZone\"}, ...]}";
    let file: CliFile = serde_json::from_str(text).map_err(|e| {
        Error::input_with_hint(
            format!(
                "{name}:{}:{}: not a spot price history file: {}",
                e.line(),
                e.column(),
                strip_position(&e.to_string())
            ),
            hint,
        )
    })?;
    file.spot_price_history
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let price = parse_price(&r.spot_price).ok_or_else(|| {
                Error::input_with_hint(
                    format!(
                        "{name}: record {}: SpotPrice `{}` is not a price in dollars",
                        i + 1,
                        r.spot_price
                    ),
                    hint,
                )
            })?;
            Ok(PriceRecord {
                zone: r.availability_zone,
                instance_type: r.instance_type,
                product: r.product_description,
                price,
                at: r.timestamp,
            })
        })
        .collect()
}

/// serde_json appends " at line L column C"; the report already leads with the position.
fn strip_position(message: &str) -> &str {
    message
        .rfind(" at line ")
        .map_or(message, |i| &message[..i])
}

/// What a quote asks of the history: one instance type and product, some zones (all when empty),
/// over `[start, end]`.
#[derive(Debug, Clone)]
pub struct Query<'a> {
    pub instance_type: &'a InstanceType,
    pub product: &'a str,
    pub zones: &'a [String],
    pub start: Timestamp,
    pub end: Timestamp,
}

impl Query<'_> {
    /// Keeps the records this query asks for, as EC2 would return them: those inside the window
    /// and, per zone, the last one before it (the price in effect at the start).
    pub fn select(&self, records: &[PriceRecord]) -> Vec<PriceRecord> {
        let mut matching: Vec<&PriceRecord> = records
            .iter()
            .filter(|r| {
                r.instance_type == self.instance_type.as_str()
                    && r.product == self.product
                    && (self.zones.is_empty() || self.zones.contains(&r.zone))
                    && r.at <= self.end
            })
            .collect();
        matching.sort_by(|a, b| (&a.zone, b.at).cmp(&(&b.zone, a.at)));
        let mut out = Vec::new();
        let mut effective_taken: Option<&str> = None;
        for r in matching {
            if r.at >= self.start {
                out.push(r.clone());
            } else if effective_taken != Some(r.zone.as_str()) {
                effective_taken = Some(r.zone.as_str());
                out.push(r.clone());
            }
        }
        out
    }
}

/// EC2 calls behind `dw spot quote` without `--history`.
pub mod ec2 {
    use aws_sdk_ec2::Client;
    use aws_sdk_ec2::primitives::DateTime;
    use aws_sdk_ec2::types::{Filter, LocationType};

    use super::{Error, InstanceType, PriceRecord, Query, Result, Timestamp, parse_price};
    use crate::aws::sdk_error;

    /// The zones of the region that offer `instance_type`. Empty: the region does not offer it.
    pub async fn offered_zones(
        client: &Client,
        instance_type: &InstanceType,
    ) -> Result<Vec<String>> {
        let mut zones = Vec::new();
        let mut pages = client
            .describe_instance_type_offerings()
            .location_type(LocationType::AvailabilityZone)
            .filters(
                Filter::builder()
                    .name("instance-type")
                    .values(instance_type.as_str())
                    .build(),
            )
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeInstanceTypeOfferings", e))?;
            zones.extend(
                page.instance_type_offerings()
                    .iter()
                    .filter_map(|o| o.location().map(str::to_string)),
            );
        }
        zones.sort();
        zones.dedup();
        Ok(zones)
    }

    /// Every record of the query, across all pages (EC2 returns the newest first).
    pub async fn fetch(client: &Client, q: &Query<'_>) -> Result<Vec<PriceRecord>> {
        let mut request = client
            .describe_spot_price_history()
            .instance_types(q.instance_type.as_str().into())
            .product_descriptions(q.product)
            .start_time(DateTime::from_secs(q.start.as_second()))
            .end_time(DateTime::from_secs(q.end.as_second()))
            .max_results(1000);
        if !q.zones.is_empty() {
            request = request.filters(
                Filter::builder()
                    .name("availability-zone")
                    .set_values(Some(q.zones.to_vec()))
                    .build(),
            );
        }
        let mut pages = request.into_paginator().send();
        let mut out = Vec::new();
        let mut page_count = 0;
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| sdk_error("DescribeSpotPriceHistory", e))?;
            page_count += 1;
            for r in page.spot_price_history() {
                let (Some(zone), Some(price), Some(at)) =
                    (r.availability_zone(), r.spot_price(), r.timestamp())
                else {
                    continue;
                };
                let Some(price) = parse_price(price) else {
                    return Err(Error::Failed(format!(
                        "EC2 returned a spot price that is not a number: `{price}`"
                    )));
                };
                out.push(PriceRecord {
                    zone: zone.to_string(),
                    instance_type: r
                        .instance_type()
                        .map_or_else(|| q.instance_type.to_string(), |t| t.as_str().to_string()),
                    product: r
                        .product_description()
                        .map_or_else(|| q.product.to_string(), |p| p.as_str().to_string()),
                    price,
                    at: Timestamp::from_second(at.secs())
                        .map_err(|e| Error::Failed(format!("EC2 returned a bad timestamp: {e}")))?,
                });
            }
        }
        crate::log::debug(&format!(
            "{} price records in {page_count} pages",
            out.len()
        ));
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_parse_exactly() {
        assert_eq!(parse_price("0.018700"), Some(18_700));
        assert_eq!(parse_price("1.5"), Some(1_500_000));
        assert_eq!(parse_price("2"), Some(2_000_000));
        assert_eq!(parse_price("0.0000001"), None);
        assert_eq!(parse_price("-0.1"), None);
        assert_eq!(parse_price(""), None);
        assert_eq!(parse_price("."), None);
    }

    #[test]
    fn a_malformed_file_says_where() {
        let err = parse_cli_json(
            "h.json",
            "{\"SpotPriceHistory\": [\n  {\"Timestamp\": 3}\n]}",
        )
        .unwrap_err();
        assert_eq!(err.exit_code(), 2);
        let msg = err.to_string();
        assert!(msg.starts_with("h.json:2:"), "{msg}");
        assert!(!msg.contains(" at line "), "{msg}");
    }

    #[test]
    fn wildcards_match_whole_file_names() {
        let m = |p: &str, n: &str| {
            wildcard_match(
                &p.chars().collect::<Vec<_>>(),
                &n.chars().collect::<Vec<_>>(),
            )
        };
        assert!(m(
            "spot_*-us-east-1?_2016.json.gz",
            "spot_d2.xlarge-us-east-1a_2016.json.gz"
        ));
        assert!(m("*", ""));
        assert!(!m("*.json", "a.json.gz"));
        assert!(!m("?", ""));
    }

    /// The shipped more-2016 records: a folder, a quoted pattern and one gzip file read alike.
    #[test]
    fn folders_patterns_and_gzip_files_are_read() {
        let dir =
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/spot/more-2016");
        let all = expand_paths(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(all.len(), 27);
        let d2 = expand_paths(&[dir.join("spot_history_d2.xlarge-*.json.gz")]).unwrap();
        assert_eq!(d2.len(), 3);
        let records = read_cli_json(&d2[0]).unwrap();
        assert!(records.len() > 1000, "{}", records.len());
        assert!(
            records
                .iter()
                .all(|r| r.instance_type == "d2.xlarge" && r.zone == "us-east-1a")
        );
        let none = expand_paths(&[dir.join("nothing-*.json")]).unwrap_err();
        assert_eq!(none.exit_code(), 2);
        assert!(
            none.to_string().contains("no spot history files there"),
            "{none}"
        );
    }

    fn rec(zone: &str, at: &str, price: Micros) -> PriceRecord {
        PriceRecord {
            zone: zone.into(),
            instance_type: "m3.large".into(),
            product: "Linux/UNIX".into(),
            price,
            at: at.parse().unwrap(),
        }
    }

    #[test]
    fn select_keeps_the_window_and_the_price_in_effect_at_its_start() {
        let t: InstanceType = "m3.large".parse().unwrap();
        let records = vec![
            rec("a", "2016-04-01T00:10:00Z", 3),
            rec("a", "2016-03-31T23:50:00Z", 2),
            rec("a", "2016-03-31T23:40:00Z", 1),
            rec("a", "2016-04-01T02:00:00Z", 9),
            rec("b", "2016-03-31T20:00:00Z", 5),
        ];
        let q = Query {
            instance_type: &t,
            product: "Linux/UNIX",
            zones: &[],
            start: "2016-04-01T00:00:00Z".parse().unwrap(),
            end: "2016-04-01T01:00:00Z".parse().unwrap(),
        };
        let prices: Vec<(String, Micros)> = q
            .select(&records)
            .into_iter()
            .map(|r| (r.zone, r.price))
            .collect();
        assert_eq!(
            prices,
            vec![("a".into(), 3), ("a".into(), 2), ("b".into(), 5)]
        );
    }
}
