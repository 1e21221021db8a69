//! The scoring group as `dw cluster status` shows it: every dw-score member on a core or task
//! node writes its heartbeat to `<results>/<debate>/members/<member>.json` every few seconds
//! (node, partitions, lag, counts). A member whose last heartbeat is older than [`LOST_AFTER`]
//! and that did not stop on its own is taken as lost (its node reclaimed): the group has given
//! its partitions to the others.

use dw_pipeline::member::MemberHeartbeat;
use jiff::Timestamp;
use serde::Serialize;

use crate::error::Result;

/// A running member is taken as lost after this long without a heartbeat (it beats every 10 s).
pub const LOST_AFTER_SECS: i64 = 60;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Member {
    pub member: String,
    pub node: String,
    /// `running`, `stopped`, or `lost` (no heartbeat for [`LOST_AFTER_SECS`]).
    pub state: String,
    pub heartbeat: Timestamp,
    pub heartbeat_age_secs: i64,
    pub partitions: Vec<i32>,
    /// Messages behind the broker's end over its partitions; `None` while unknown.
    pub lag: Option<i64>,
    pub tweets: u64,
    /// Tweets it skipped because a lost member's parts count them.
    pub covered: u64,
}

/// A member from its heartbeat's JSON, as of `now`; `None` if it is not a heartbeat.
pub fn parse(body: &[u8], now: Timestamp) -> Option<Member> {
    let h = MemberHeartbeat::parse(body)?;
    let age = (now.as_second() - h.at.as_second()).max(0);
    let state = if h.state != "stopped" && age > LOST_AFTER_SECS {
        "lost".to_string()
    } else {
        h.state
    };
    Some(Member {
        member: h.member,
        node: h.node,
        state,
        heartbeat: h.at,
        heartbeat_age_secs: age,
        partitions: h.partitions.iter().map(|p| p.partition).collect(),
        lag: h.lag,
        tweets: h.counts.tweets,
        covered: h.counts.covered,
    })
}

/// The members whose heartbeats are under `prefix` (`<results>/<debate>/members/`), by name.
pub async fn read(s3: &aws_sdk_s3::Client, bucket: &str, prefix: &str) -> Result<Vec<Member>> {
    let now = Timestamp::now();
    let mut out = Vec::new();
    for key in crate::aws::list_keys(s3, bucket, prefix).await? {
        let body = crate::aws::get_object(s3, bucket, &key).await?;
        match parse(&body, now) {
            Some(m) => out.push(m),
            None => crate::log::warn(&format!("s3://{bucket}/{key} is not a member's heartbeat")),
        }
    }
    out.sort_by(|a, b| a.member.cmp(&b.member));
    Ok(out)
}

/// One line of `dw cluster status` per member.
pub fn to_text(m: &Member) -> String {
    let partitions = if m.partitions.is_empty() {
        "none".to_string()
    } else {
        m.partitions
            .iter()
            .map(i32::to_string)
            .collect::<Vec<_>>()
            .join(",")
    };
    let lag = m.lag.map_or_else(|| "?".to_string(), |l| l.to_string());
    format!(
        "member    {} on {}: partitions {partitions}, lag {lag}, {} tweets, heartbeat {}s ago ({})\n",
        m.member, m.node, m.tweets, m.heartbeat_age_secs, m.state
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_member_silent_past_the_limit_is_lost_unless_it_stopped() {
        // The heartbeat as dw-score writes it: the type both sides share.
        let body = |state: &str| {
            let partitions = vec![
                dw_pipeline::member::PartitionLag {
                    partition: 0,
                    next_offset: Some(7),
                    end_offset: 10,
                    lag: Some(3),
                },
                dw_pipeline::member::PartitionLag {
                    partition: 4,
                    next_offset: None,
                    end_offset: 2,
                    lag: None,
                },
            ];
            serde_json::to_string(&MemberHeartbeat {
                member: "ip-10-0-0-12-1".into(),
                node: "ip-10-0-0-12".into(),
                state: state.into(),
                at: "2016-03-11T02:00:00Z".parse().unwrap(),
                partitions,
                lag: Some(3),
                counts: dw_pipeline::score::Counts {
                    tweets: 120,
                    covered: 5,
                    ..Default::default()
                },
                tweets_per_sec: 2.0,
                last_tweet_time: None,
            })
            .unwrap()
        };
        let now: Timestamp = "2016-03-11T02:00:30Z".parse().unwrap();
        let m = parse(body("running").as_bytes(), now).unwrap();
        assert_eq!(
            to_text(&m),
            "member    ip-10-0-0-12-1 on ip-10-0-0-12: partitions 0,4, lag 3, 120 tweets, heartbeat 30s ago (running)\n"
        );
        let later: Timestamp = "2016-03-11T02:01:01Z".parse().unwrap();
        assert_eq!(
            parse(body("running").as_bytes(), later).unwrap().state,
            "lost"
        );
        assert_eq!(
            parse(body("stopped").as_bytes(), later).unwrap().state,
            "stopped"
        );
        assert!(parse(b"{\"job\":\"score\"}", now).is_none());
    }
}
