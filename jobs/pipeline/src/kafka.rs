//! Kafka clients for both jobs (librdkafka). The producer is idempotent with `acks=all`, so a
//! retried send never duplicates or reorders; the consumer commits offsets by hand, only once the
//! results that depend on them are written (see [`OffsetTracker`]).

use std::collections::BTreeMap;

use rdkafka::ClientConfig;
use rdkafka::ClientContext;
use rdkafka::consumer::{BaseConsumer, CommitMode, ConsumerContext, Rebalance};
use rdkafka::producer::{BaseRecord, DeliveryResult, Producer, ProducerContext, ThreadedProducer};
use rdkafka::topic_partition_list::{Offset, TopicPartitionList};
use rdkafka::util::Timeout;

use rdkafka::config::RDKafkaLogLevel;
pub use rdkafka::consumer::Consumer;
pub use rdkafka::error::KafkaError;
pub use rdkafka::message::Message;

/// Client settings: the defaults below, then `overrides` (`key=value`, librdkafka names).
pub fn config(brokers: &str, overrides: &[(String, String)]) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", brokers);
    if crate::job::debug() {
        // What `--debug` shows: the connections, the topic metadata and the group's life.
        c.set("debug", "broker,topic,cgrp");
        c.set_log_level(rdkafka::config::RDKafkaLogLevel::Debug);
    }
    for (k, v) in overrides {
        c.set(k, v);
    }
    c
}

pub type Producer_ = ThreadedProducer<Deliveries>;

/// Counts the records the producer gave up on. librdkafka reports a record it could not deliver
/// (after its own retries) only to this callback: without it, such a record would be lost with
/// no trace and the job would still end well.
#[derive(Default)]
pub struct Deliveries {
    failed: std::sync::atomic::AtomicU64,
    first_error: std::sync::Mutex<Option<String>>,
}

impl Deliveries {
    /// Records the producer gave up on so far.
    pub fn failed(&self) -> u64 {
        self.failed.load(std::sync::atomic::Ordering::Relaxed)
    }
}

impl ClientContext for Deliveries {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        librdkafka_log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        librdkafka_error(&error, reason);
    }
}

/// librdkafka's own log lines, in the job's line format: warnings and errors always (a broker
/// that is down, a topic that is missing), the rest with `--debug`. Without this they vanished:
/// nothing listened to the `log` crate they go to by default.
fn librdkafka_log(level: RDKafkaLogLevel, fac: &str, message: &str) {
    if level as i32 <= RDKafkaLogLevel::Warning as i32 || crate::job::debug() {
        crate::job::log("librdkafka", &format!("{fac}: {message}"));
    }
}

fn librdkafka_error(error: &KafkaError, reason: &str) {
    // The end of a partition is news the scorer reads from its poll, not a fault.
    if matches!(error, KafkaError::PartitionEOF(_))
        || error.rdkafka_error_code() == Some(rdkafka::types::RDKafkaErrorCode::PartitionEOF)
    {
        return;
    }
    crate::job::log("librdkafka", &format!("error: {error}: {reason}"));
}

impl ProducerContext for Deliveries {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, (): Self::DeliveryOpaque) {
        if let Err((e, m)) = result {
            self.failed
                .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            if let Ok(mut first) = self.first_error.lock()
                && first.is_none()
            {
                *first = Some(format!("{e} ({} partition {})", m.topic(), m.partition()));
            }
        }
    }
}

/// An idempotent producer (`acks=all`, in-order retries without duplicates).
pub fn producer(brokers: &str, overrides: &[(String, String)]) -> Result<Producer_, KafkaError> {
    let mut c = config(brokers, &[]);
    c.set("enable.idempotence", "true")
        .set("acks", "all")
        .set("compression.type", "lz4")
        .set("linger.ms", "20")
        // Keep retrying through a broker restart rather than dropping a tweet.
        .set("message.timeout.ms", "300000");
    for (k, v) in overrides {
        c.set(k, v);
    }
    c.create_with_context(Deliveries::default())
}

/// Sends one record keyed by `key`, waiting for queue space when the local queue is full.
pub fn send(
    producer: &Producer_,
    topic: &str,
    key: &str,
    payload: &[u8],
) -> Result<(), KafkaError> {
    let mut record = BaseRecord::to(topic).key(key).payload(payload);
    loop {
        match producer.send(record) {
            Ok(()) => return Ok(()),
            Err((
                KafkaError::MessageProduction(rdkafka::types::RDKafkaErrorCode::QueueFull),
                r,
            )) => {
                record = r;
                producer.poll(Timeout::After(std::time::Duration::from_millis(50)));
            }
            Err((e, _)) => return Err(e),
        }
    }
}

/// Records `producer` gave up on so far.
pub fn undelivered(producer: &Producer_) -> u64 {
    producer.context().failed()
}

/// Waits until every queued record is acknowledged (or `timeout` passes); an error when any
/// record was given up on since the producer started.
pub fn flush(
    producer: &Producer_,
    timeout: std::time::Duration,
) -> Result<(), crate::error::Error> {
    producer
        .flush(Timeout::After(timeout))
        .map_err(|e| crate::error::Error::Kafka(e.to_string()))?;
    let deliveries = producer.context();
    match deliveries.failed.load(std::sync::atomic::Ordering::Relaxed) {
        0 => Ok(()),
        n => Err(crate::error::Error::Kafka(format!(
            "{n} records could not be delivered, the first: {}",
            deliveries
                .first_error
                .lock()
                .ok()
                .and_then(|f| f.clone())
                .unwrap_or_default()
        ))),
    }
}

/// The partitions the group gave this consumer, as the rebalance callbacks report them (inside
/// `poll`, before the first message of a new assignment): the scorer's watermark must know every
/// partition it owns before any of them delivers.
#[derive(Default)]
pub struct Assignments {
    generation: std::sync::atomic::AtomicU64,
    partitions: std::sync::Mutex<Vec<i32>>,
    on_revoke: std::sync::OnceLock<RevokeHook>,
    /// From librdkafka's statistics (every 2 s): per partition, the next offset the
    /// application reads, the broker's end, and the lag between them.
    lag: std::sync::Mutex<BTreeMap<i32, PartitionLag>>,
}

pub use crate::member::PartitionLag;

type RevokeHook = Box<dyn Fn(&GroupConsumer, &[i32]) + Send + Sync>;

impl Assignments {
    /// Changes each time the assignment does.
    pub fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// The partitions assigned now.
    pub fn partitions(&self) -> Vec<i32> {
        self.partitions
            .lock()
            .map(|p| p.clone())
            .unwrap_or_default()
    }

    /// The assigned partitions' lag, as of librdkafka's last statistics (asking the broker from
    /// the consumer's thread would serve, and lose, its fetched messages).
    pub fn lag(&self) -> Vec<PartitionLag> {
        let owned = self.partitions();
        self.lag
            .lock()
            .map(|l| {
                l.values()
                    .filter(|p| owned.contains(&p.partition))
                    .copied()
                    .collect()
            })
            .unwrap_or_default()
    }

    /// Runs `hook` when partitions are about to be taken away (before the group gives them to
    /// another member): the moment to write what depends on them and commit their offsets.
    /// Set once.
    pub fn on_revoke(&self, hook: impl Fn(&GroupConsumer, &[i32]) + Send + Sync + 'static) {
        let _ = self.on_revoke.set(Box::new(hook));
    }
}

impl ClientContext for Assignments {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        librdkafka_log(level, fac, message);
    }

    fn error(&self, error: KafkaError, reason: &str) {
        librdkafka_error(&error, reason);
    }

    fn stats(&self, statistics: rdkafka::Statistics) {
        let mut lag = BTreeMap::new();
        for topic in statistics.topics.values() {
            for (&p, s) in &topic.partitions {
                // -1 is librdkafka's "internal" partition; -1 offsets are "not known yet".
                if p < 0 || s.hi_offset < 0 {
                    continue;
                }
                let next = (s.app_offset >= 0).then_some(s.app_offset);
                lag.insert(
                    p,
                    PartitionLag {
                        partition: p,
                        next_offset: next,
                        end_offset: s.hi_offset,
                        lag: next.map(|n| (s.hi_offset - n).max(0)),
                    },
                );
            }
        }
        if let Ok(mut l) = self.lag.lock() {
            *l = lag;
        }
    }
}

impl ConsumerContext for Assignments {
    fn pre_rebalance(&self, consumer: &GroupConsumer, rebalance: &Rebalance<'_>) {
        if let (Rebalance::Revoke(list), Some(hook)) = (rebalance, self.on_revoke.get()) {
            let partitions: Vec<i32> = list
                .elements()
                .iter()
                .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
                .collect();
            hook(consumer, &partitions);
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        let now = match rebalance {
            Rebalance::Assign(list) => list
                .elements()
                .iter()
                .map(rdkafka::topic_partition_list::TopicPartitionListElem::partition)
                .collect(),
            Rebalance::Revoke(_) => Vec::new(),
            Rebalance::Error(_) => return,
        };
        if let Ok(mut p) = self.partitions.lock() {
            *p = now;
        }
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }
}

pub type GroupConsumer = BaseConsumer<Assignments>;

/// A group consumer with manual commits, subscribed to `topic`, reading from the earliest
/// offset when the group has none. It reports each partition's end (`PartitionEOF`): a partition
/// read to its end no longer holds the scorer's watermark back.
pub fn consumer(
    brokers: &str,
    topic: &str,
    group: &str,
    overrides: &[(String, String)],
) -> Result<GroupConsumer, KafkaError> {
    let mut c = config(brokers, &[]);
    c.set("group.id", group)
        .set("enable.auto.commit", "false")
        .set("enable.auto.offset.store", "false")
        .set("enable.partition.eof", "true")
        .set("auto.offset.reset", "earliest")
        .set("session.timeout.ms", "10000")
        .set("heartbeat.interval.ms", "3000")
        .set("max.poll.interval.ms", "300000")
        .set("statistics.interval.ms", "2000")
        // When its local queue is over the prefetch limits, librdkafka waits this long before
        // it fetches again (default 1 s): a scorer reading a backlog then stalls a second at a
        // time. Measured with pipeline_bench: 23-30k tweets/s end to end with the default,
        // 42-50k (the speed of dw-ingest) with 10 ms.
        .set("fetch.queue.backoff.ms", "10");
    for (k, v) in overrides {
        c.set(k, v);
    }
    let consumer: GroupConsumer = c.create_with_context(Assignments::default())?;
    consumer.subscribe(&[topic])?;
    Ok(consumer)
}

/// Commits `offsets` (topic, partition -> next offset to read) synchronously.
pub fn commit<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    offsets: &BTreeMap<(String, i32), i64>,
) -> Result<(), KafkaError> {
    if offsets.is_empty() {
        return Ok(());
    }
    let mut list = TopicPartitionList::new();
    for ((topic, partition), offset) in offsets {
        list.add_partition_offset(topic, *partition, Offset::Offset(*offset))?;
    }
    consumer.commit(&list, CommitMode::Sync)
}

/// Which offsets are safe to commit: a partition's offsets are safe up to the smallest offset
/// that still sits in an unwritten window. One topic (a consumer of dw reads one); keyed by
/// partition, so that the per-message bookkeeping allocates nothing.
#[derive(Debug, Default)]
pub struct OffsetTracker {
    topic: String,
    /// Window start -> partition -> smallest offset in that window.
    open: BTreeMap<i64, BTreeMap<i32, i64>>,
    /// Partition -> next offset after the last one consumed.
    consumed: BTreeMap<i32, i64>,
    committed: BTreeMap<i32, i64>,
}

impl OffsetTracker {
    /// Records a consumed offset; `window` is the window its tweet went into (`None` for a
    /// message that belongs to no window).
    pub fn consumed(&mut self, topic: &str, partition: i32, offset: i64, window: Option<i64>) {
        if self.topic != topic {
            self.topic = topic.to_string();
        }
        let next = self.consumed.entry(partition).or_insert(offset + 1);
        *next = (*next).max(offset + 1);
        if let Some(start) = window {
            let min = self
                .open
                .entry(start)
                .or_default()
                .entry(partition)
                .or_insert(offset);
            *min = (*min).min(offset);
        }
    }

    /// The windows starting before `closed_until` were written.
    pub fn written_until(&mut self, closed_until: i64) {
        self.open.retain(|&start, _| start >= closed_until);
    }

    /// Offsets to commit now (only those that moved since the last call).
    pub fn to_commit(&mut self) -> BTreeMap<(String, i32), i64> {
        let mut out = BTreeMap::new();
        for (&partition, &next) in &self.consumed {
            let held = self
                .open
                .values()
                .filter_map(|w| w.get(&partition).copied())
                .min()
                .unwrap_or(next);
            let safe = held.min(next);
            if self.committed.get(&partition) != Some(&safe) {
                self.committed.insert(partition, safe);
                out.insert((self.topic.clone(), partition), safe);
            }
        }
        out
    }

    /// `offsets` (from [`OffsetTracker::to_commit`]) were not committed after all: offer them
    /// again next time.
    pub fn not_committed(&mut self, offsets: &BTreeMap<(String, i32), i64>) {
        for (_, partition) in offsets.keys() {
            self.committed.remove(partition);
        }
    }

    /// Forgets partitions this consumer no longer owns (after a rebalance).
    pub fn retain_partitions(&mut self, owned: &[(String, i32)]) {
        let owns = |p: &i32| owned.iter().any(|(_, o)| o == p);
        self.consumed.retain(|p, _| owns(p));
        self.committed.retain(|p, _| owns(p));
        for w in self.open.values_mut() {
            w.retain(|p, _| owns(p));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_in_unwritten_windows_are_held_back() {
        let mut t = OffsetTracker::default();
        t.consumed("tweets", 0, 0, Some(60));
        t.consumed("tweets", 0, 1, Some(120));
        t.consumed("tweets", 0, 2, None); // a delete notice
        t.consumed("tweets", 1, 5, Some(120));
        assert_eq!(
            t.to_commit(),
            BTreeMap::from([(("tweets".into(), 0), 0), (("tweets".into(), 1), 5)])
        );
        t.written_until(120); // the 60 window is written
        assert_eq!(t.to_commit(), BTreeMap::from([(("tweets".into(), 0), 1)]));
        t.written_until(180);
        assert_eq!(
            t.to_commit(),
            BTreeMap::from([(("tweets".into(), 0), 3), (("tweets".into(), 1), 6)])
        );
        assert!(t.to_commit().is_empty());
    }

    /// No broker at all, and a short message timeout: the record is given up on, and `flush`
    /// says so instead of reporting success.
    #[test]
    fn a_record_the_producer_gives_up_on_is_an_error() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .unwrap(); // bound, then closed: nothing listens there
        let p = producer(
            &format!("127.0.0.1:{port}"),
            &[("message.timeout.ms".into(), "300".into())],
        )
        .unwrap();
        send(&p, "tweets", "1", b"{}").unwrap();
        let err = flush(&p, std::time::Duration::from_secs(10))
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("Kafka: 1 records could not be delivered, the first: "),
            "{err}"
        );
        assert!(err.contains("tweets partition"), "{err}");
    }
}
