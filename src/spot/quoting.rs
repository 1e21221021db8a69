//! What a quote asks (the command line's choices over the configuration's defaults) and where
//! its prices come from (saved `describe-spot-price-history` files, or EC2): the one path by
//! which `dw spot quote`, `dw spot history`, `dw spot backtest`, `dw render` and
//! `dw cluster up` read prices.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;

use super::history::{PriceRecord, Query};
use super::prices::OnDemand;
use super::series::History;
use super::{BidRule, Policy, Quote, QuoteRequest};
use crate::config::{EmrConfig, Market, SpotConfig};
use crate::error::{Error, Result};
use crate::units::{Duration, InstanceType};
use crate::{aws, log};

/// A quote's moment, window and zones as the command line gives them; the configuration's
/// `[spot]` supplies what is left out.
#[derive(Debug, Clone, Default)]
pub(crate) struct QuoteOptions {
    pub at: Option<Timestamp>,
    pub lookback: Option<Duration>,
    pub product: Option<String>,
    pub zones: Vec<String>,
    pub policy: Option<Policy>,
    pub on_demand_price: Option<f64>,
}

/// The request for one instance type: `options` over `spot`'s defaults; on a debate night the
/// higher floor.
pub(crate) fn request(
    spot: &SpotConfig,
    instance_type: InstanceType,
    options: QuoteOptions,
    debate_night: bool,
) -> QuoteRequest {
    let on_demand = options
        .on_demand_price
        .or_else(|| OnDemand::new(&spot.on_demand).price(instance_type.as_str()));
    QuoteRequest {
        instance_type,
        product: options.product.unwrap_or_else(|| spot.product.clone()),
        at: options.at.unwrap_or_else(Timestamp::now),
        lookback: options.lookback.unwrap_or(spot.lookback),
        zones: options.zones,
        rule: BidRule {
            policy: options.policy.unwrap_or(spot.policy),
            on_demand,
            markup: spot.markup.0,
            floor: if debate_night {
                spot.debate_night_floor.get()
            } else {
                spot.floor.get()
            },
            debate_night,
        },
        record_week: true,
    }
}

/// The on-demand price a backtest or a picture needs (`given`, else the configuration's, else
/// the built-in table), or an error saying how to give it.
pub(crate) fn required_on_demand(
    spot: &SpotConfig,
    given: Option<f64>,
    t: &InstanceType,
) -> Result<f64> {
    given
        .or_else(|| OnDemand::new(&spot.on_demand).price(t.as_str()))
        .ok_or_else(|| {
            Error::input_with_hint(
                format!("dw does not know the on-demand price of {t}"),
                "pass --on-demand-price P ($/hour), or add the type to [spot.on_demand] in the config",
            )
        })
}

/// Where prices come from.
pub(crate) enum Prices {
    /// EC2's DescribeSpotPriceHistory (the last 90 days), in `region`.
    Ec2 {
        client: aws_sdk_ec2::Client,
        region: Option<String>,
    },
    /// Every record of the saved files `--history` named.
    Saved(Vec<PriceRecord>),
}

/// What `dw spot history` draws: one type's prices over `range` ending at `at`, and the bids
/// the policies would have made, each with the command line's choices over `spot`.
#[derive(Debug, Clone)]
pub(crate) struct HistoryRequest {
    pub instance_type: InstanceType,
    pub product: String,
    /// `--on-demand-price`, else the configuration's, else the built-in table's.
    pub on_demand: f64,
    pub zones: Vec<String>,
    pub spot: SpotConfig,
    pub range: Duration,
    /// The range's end; none: the saved history's last price, else now.
    pub at: Option<Timestamp>,
}

impl HistoryRequest {
    /// The bid `policy` would have made at `at` over `history`.
    pub(crate) fn bid_at(&self, history: &History, policy: Policy, at: Timestamp) -> Option<f64> {
        let req = request(
            &self.spot,
            self.instance_type.clone(),
            QuoteOptions {
                at: Some(at),
                product: Some(self.product.clone()),
                zones: self.zones.clone(),
                policy: Some(policy),
                on_demand_price: Some(self.on_demand),
                ..Default::default()
            },
            false,
        );
        super::quote(&req, history, &[], None).ok().map(|q| q.bid)
    }
}

impl Prices {
    /// Reads the files, folders and patterns `--history` names.
    pub(crate) fn saved(paths: &[PathBuf]) -> Result<Prices> {
        let mut all = Vec::new();
        for path in super::history::expand_paths(paths)? {
            all.extend(super::history::read_cli_json(&path)?);
        }
        Ok(Prices::Saved(all))
    }

    /// EC2's history, through the run's AWS configuration.
    pub(crate) fn ec2(sdk: &aws_config::SdkConfig) -> Prices {
        Prices::Ec2 {
            client: aws::ec2(sdk),
            region: sdk.region().map(std::string::ToString::to_string),
        }
    }

    /// The saved records (`None` for EC2).
    pub(crate) fn records(&self) -> Option<&[PriceRecord]> {
        match self {
            Prices::Saved(all) => Some(all),
            Prices::Ec2 { .. } => None,
        }
    }

    /// The quote `req` asks for.
    pub(crate) async fn quote(&self, req: &QuoteRequest) -> Result<Quote> {
        match self {
            Prices::Ec2 { client, region } => quote_from_ec2(client, region.as_deref(), req).await,
            Prices::Saved(all) => quote_from_saved(all, req),
        }
    }

    /// The prices `q` asks for, as a series; an error when there are none.
    /// The prices `req` draws, with the look-back its bids need before the range, and the
    /// range itself (start, end).
    pub(crate) async fn drawn(
        &self,
        req: &HistoryRequest,
    ) -> Result<(History, Timestamp, Timestamp)> {
        let saved = matches!(self, Prices::Saved(_));
        let lookback = req.spot.lookback;
        let before = Policy::ALL
            .iter()
            .map(|p| p.history_needed(lookback))
            .max()
            .unwrap_or(lookback)
            .get()
            + req.range.get();
        let query_end = req.at.unwrap_or_else(Timestamp::now);
        let query = Query {
            instance_type: &req.instance_type,
            product: &req.product,
            zones: &req.zones,
            start: if saved {
                Timestamp::MIN
            } else {
                query_end - before
            },
            end: if saved { Timestamp::MAX } else { query_end },
        };
        let history = self.history(&query).await?;
        let end = match (req.at, history.span()) {
            (Some(at), _) => at,
            (None, Some((_, last))) if saved => {
                Timestamp::from_millisecond(last).map_err(|e| Error::Failed(e.to_string()))?
            }
            _ => query_end,
        };
        Ok((history, end - req.range.get(), end))
    }

    pub(crate) async fn history(&self, q: &Query<'_>) -> Result<History> {
        let history = match self {
            Prices::Ec2 { client, .. } => {
                log::info(&format!(
                    "reading {} spot price history from {} to {} (EC2 keeps 90 days)",
                    q.instance_type, q.start, q.end
                ));
                let records = super::history::ec2::fetch(client, q).await?;
                History::from_records(&records, q.instance_type, None, q.zones)
            }
            Prices::Saved(all) => {
                check_has_type(all, q.instance_type)?;
                History::from_records(all, q.instance_type, Some(q.product), q.zones)
            }
        };
        if history.zones.is_empty() {
            return Err(Error::input_with_hint(
                format!("no {} {} spot prices to read", q.instance_type, q.product),
                "check --product and --zones against the history",
            ));
        }
        Ok(history)
    }
}

async fn quote_from_ec2(
    ec2: &aws_sdk_ec2::Client,
    region: Option<&str>,
    req: &QuoteRequest,
) -> Result<Quote> {
    let offered = super::history::ec2::offered_zones(ec2, &req.instance_type).await?;
    let region_name = region.unwrap_or_default();
    if offered.is_empty() {
        return Err(Error::input_with_hint(
            format!(
                "{} is not offered in any zone of {region_name}",
                req.instance_type
            ),
            "check the instance type's spelling, or pick another region with --region",
        ));
    }
    if let Some(z) = req.zones.iter().find(|z| !offered.contains(z)) {
        return Err(Error::input_with_hint(
            format!("{} is not offered in {z}", req.instance_type),
            format!(
                "zones of {region_name} that offer it: {}",
                offered.join(", ")
            ),
        ));
    }
    let expected = if req.zones.is_empty() {
        offered
    } else {
        req.zones.clone()
    };
    log::info(&format!(
        "reading {} spot price history for {} zones of {region_name}",
        req.instance_type,
        expected.len()
    ));
    let records = super::history::ec2::fetch(ec2, &req.query()).await?;
    let history = History::from_records(&records, &req.instance_type, None, &req.zones);
    super::quote(req, &history, &expected, region)
}

fn quote_from_saved(all: &[PriceRecord], req: &QuoteRequest) -> Result<Quote> {
    check_has_type(all, &req.instance_type)?;
    let records = req.query().select(all);
    // Each price holds until the next record, so a history file that ends long before the
    // window still "quotes" its last price: say so, since that is rarely what was meant.
    if let Some(newest) = records.iter().map(|r| r.at).max()
        && newest < req.window_start() - jiff::SignedDuration::from_hours(24)
    {
        log::info(&format!(
            "warning: the newest {} price in the history files is from {newest}; \
             pass --at to quote a time the files cover",
            req.instance_type
        ));
    }
    let history =
        History::from_records(&records, &req.instance_type, Some(&req.product), &req.zones);
    super::quote(req, &history, &req.zones, None)
}

/// An error naming the types the records do hold when `instance_type` is not among them.
fn check_has_type(all: &[PriceRecord], instance_type: &InstanceType) -> Result<()> {
    if all
        .iter()
        .any(|r| r.instance_type == instance_type.as_str())
    {
        return Ok(());
    }
    let types = types_in(all);
    Err(Error::input_with_hint(
        format!("the history files have no {instance_type} prices"),
        if types.is_empty() {
            "they hold no price records at all".to_string()
        } else {
            format!("they hold: {}", types.join(", "))
        },
    ))
}

/// The instance types of `records`, sorted.
pub(crate) fn types_in(records: &[PriceRecord]) -> Vec<String> {
    let mut types: Vec<String> = records.iter().map(|r| r.instance_type.clone()).collect();
    types.sort();
    types.dedup();
    types
}

/// The spot groups' instance types, the one that places the cluster first (the core, else the
/// master: as the plan chooses).
pub(crate) fn spot_types(emr: &EmrConfig) -> Vec<&InstanceType> {
    let mut types: Vec<&InstanceType> = Vec::new();
    for g in [Some(&emr.core), Some(&emr.master), emr.task.as_ref()]
        .into_iter()
        .flatten()
        .filter(|g| g.market == Market::Spot)
    {
        if !types.contains(&&g.instance_type) {
            types.push(&g.instance_type);
        }
    }
    types
}

/// Quotes every spot instance type of a cluster, as of `options`, on a debate night. The
/// first type places the cluster; the others are quoted in the zone it chose: a bid is only
/// good where the nodes are.
pub(crate) async fn cluster_quotes(
    prices: &Prices,
    spot: &SpotConfig,
    emr: &EmrConfig,
    options: &QuoteOptions,
) -> Result<BTreeMap<String, Quote>> {
    let mut quotes = BTreeMap::new();
    let mut placed: Option<String> = None;
    for t in spot_types(emr) {
        let mut options = options.clone();
        if let Some(zone) = &placed {
            options.zones = vec![zone.clone()];
        }
        let quote = prices
            .quote(&request(spot, t.clone(), options, true))
            .await?;
        log::info(&format!(
            "{t}: zone {}, bid ${:.4} ({} policy)",
            quote.zone, quote.bid, quote.policy
        ));
        placed.get_or_insert_with(|| quote.zone.clone());
        quotes.insert(t.to_string(), quote);
    }
    Ok(quotes)
}
