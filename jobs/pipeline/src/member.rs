//! A dw-score member's heartbeat on S3 (`<results>/<debate>/members/<member>.json`): dw-score
//! writes it every few seconds; `dw-score merge` reads it to know which members are alive and
//! how far they read; `dw cluster status` shows it. One type for the three, so the contract
//! cannot drift. Readers accept a heartbeat that lacks any field but `member` and `at` (older
//! members wrote fewer).

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use crate::score::Counts;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MemberHeartbeat {
    pub member: String,
    /// Where it runs (the node's name).
    #[serde(default)]
    pub node: String,
    /// `running`, or `stopped` once it ended on its own.
    #[serde(default)]
    pub state: String,
    pub at: Timestamp,
    /// Its partitions, each with how far behind it is.
    #[serde(default)]
    pub partitions: Vec<PartitionLag>,
    /// Messages behind over its partitions; `None` while any partition's is unknown.
    #[serde(default)]
    pub lag: Option<i64>,
    #[serde(default)]
    pub counts: Counts,
    #[serde(default)]
    pub tweets_per_sec: f64,
    #[serde(default)]
    pub last_tweet_time: Option<Timestamp>,
}

/// How far one assigned partition is behind, as librdkafka last reported it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartitionLag {
    pub partition: i32,
    /// `None` until the application has read from it (e.g. just taken over).
    pub next_offset: Option<i64>,
    pub end_offset: i64,
    pub lag: Option<i64>,
}

impl MemberHeartbeat {
    /// A heartbeat from its JSON; `None` if it is not one.
    pub fn parse(body: &[u8]) -> Option<MemberHeartbeat> {
        serde_json::from_slice(body).ok()
    }

    /// The member's lag: the sum over its partitions, unknown while any partition's is.
    pub fn lag_of(partitions: &[PartitionLag]) -> Option<i64> {
        partitions.iter().map(|l| l.lag).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heartbeat_reads_back_as_written_and_an_older_one_reads_with_defaults() {
        let partitions = vec![
            PartitionLag {
                partition: 0,
                next_offset: Some(7),
                end_offset: 10,
                lag: Some(3),
            },
            PartitionLag {
                partition: 4,
                next_offset: None,
                end_offset: 2,
                lag: None,
            },
        ];
        let h = MemberHeartbeat {
            member: "core-1-1".into(),
            node: "core-1".into(),
            state: "running".into(),
            at: "2016-03-11T02:00:00Z".parse().unwrap(),
            lag: MemberHeartbeat::lag_of(&partitions),
            partitions,
            counts: Counts {
                tweets: 120,
                covered: 5,
                lines: 130,
                ..Counts::default()
            },
            tweets_per_sec: 12.5,
            last_tweet_time: None,
        };
        assert_eq!(h.lag, None, "one partition's lag is unknown");
        let body = serde_json::to_vec_pretty(&h).unwrap();
        assert_eq!(MemberHeartbeat::parse(&body), Some(h));
        let old = br#"{"member":"m","at":"2016-03-11T02:00:00Z","counts":{"lines":3}}"#;
        let h = MemberHeartbeat::parse(old).unwrap();
        assert_eq!((h.counts.lines, h.state.as_str(), h.lag), (3, "", None));
        assert!(MemberHeartbeat::parse(br#"{"job":"score"}"#).is_none());
    }
}
