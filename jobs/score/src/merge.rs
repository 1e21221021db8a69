//! `dw-score merge`: the parts that the members of one consumer group wrote become whole
//! windows. From files it is one pass; from S3 (the cluster's way) it reads
//! `<prefix>/<debate>/parts/` and the members' heartbeats, fetches only what changed (by ETag),
//! and writes each merged window whose content changed to `<debate>/windows/`, once or every
//! few seconds until stopped (`--follow`).
//!
//! The merge is exact because the parts never overlap: a member that takes a partition over
//! skips the offsets other members' parts already count (see `Windower::fence`). A part still
//! open (`partial`) stays partial in the merge while its member is alive; once the member's
//! heartbeat is older than the member timeout (a lost spot node), what it wrote is final.

use crate::error::{Error, Result};
use dw_pipeline::results::Folder;
use std::collections::{BTreeMap, HashMap};
use std::time::{Duration, Instant};

use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::window::Window;
use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use crate::failpoint::Failpoint;
use crate::sink::{self, Sink};
use dw_pipeline::member::MemberHeartbeat;

/// The merger's own heartbeat.
#[derive(Debug, Default, Clone, Serialize)]
pub(crate) struct MergeStatus {
    pub parts: usize,
    pub members: usize,
    pub lost_members: Vec<String>,
    pub windows: usize,
    pub windows_written: u64,
    pub passes: u64,
    pub objects_fetched: u64,
}

/// Merges parts of one debate read from S3.
pub(crate) struct S3Merger {
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
    bucket: String,
    /// `<prefix>/<debate>/`
    base: String,
    member_timeout: Duration,
    /// Key -> ETag of every object already read.
    seen: HashMap<String, String>,
    parts: BTreeMap<(Timestamp, String), Window>,
    heartbeats: BTreeMap<String, MemberHeartbeat>,
    /// What was last written of each merged window (its JSON).
    written: BTreeMap<Timestamp, Vec<u8>>,
    pub status: MergeStatus,
    failpoint: Failpoint,
}

impl S3Merger {
    pub(crate) fn new(from: &Endpoint, debate: &str, member_timeout: Duration) -> Result<Self> {
        let Endpoint::S3 { bucket, prefix } = from else {
            return Err(format!("{from}: the follow merge reads s3://BUCKET/PREFIX").into());
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let client = runtime.block_on(dw_pipeline::s3::client_from_env());
        let base = dw_pipeline::results::Results::new(prefix).debate(debate);
        Ok(S3Merger {
            client,
            runtime,
            bucket: bucket.clone(),
            base,
            member_timeout,
            seen: HashMap::new(),
            parts: BTreeMap::new(),
            heartbeats: BTreeMap::new(),
            written: BTreeMap::new(),
            status: MergeStatus::default(),
            failpoint: Failpoint::from_env(),
        })
    }

    /// The objects under `folder` that are new or changed since the last look.
    fn changed(&mut self, folder: Folder) -> Result<Vec<(String, Vec<u8>)>> {
        let prefix = format!("{}{}/", self.base, folder.name());
        let (client, bucket, seen) = (&self.client, &self.bucket, &self.seen);
        let got = self.runtime.block_on(async {
            let listed = dw_pipeline::s3::list_with_etags(client, bucket, &prefix).await?;
            let fresh: Vec<(String, String)> = listed
                .into_iter()
                .filter(|(k, etag)| k.ends_with(".json") && seen.get(k) != Some(etag))
                .collect();
            let keys: Vec<String> = fresh.iter().map(|(k, _)| k.clone()).collect();
            let bodies = dw_pipeline::s3::get_many(client, bucket, &keys).await?;
            Ok::<_, dw_pipeline::error::Error>((fresh, bodies))
        })?;
        let (fresh, bodies) = got;
        for (k, etag) in fresh {
            self.seen.insert(k, etag);
        }
        self.status.objects_fetched += bodies.len() as u64;
        Ok(bodies)
    }

    /// One pass: reads what changed, writes the merged windows that changed into `out`.
    pub(crate) fn pass(&mut self, out: &mut Sink) -> Result<()> {
        for (key, body) in self.changed(Folder::Parts)? {
            let w: Window = serde_json::from_slice(&body).map_err(|e| {
                Error::from(format!("s3://{}/{key} is not a window: {e}", self.bucket))
            })?;
            let Some(member) = w.member.clone() else {
                continue;
            };
            let slot = (w.start, member);
            if self
                .parts
                .get(&slot)
                .is_none_or(|p| p.revision <= w.revision)
            {
                self.parts.insert(slot, w);
            }
        }
        for (key, body) in self.changed(Folder::Members)? {
            let name = key
                .rsplit('/')
                .next()
                .and_then(|n| n.strip_suffix(".json"))
                .unwrap_or_default()
                .to_string();
            match serde_json::from_slice::<MemberHeartbeat>(&body) {
                Ok(h) => {
                    self.heartbeats.insert(name, h);
                }
                Err(e) => crate::log(&format!("s3://{}/{key}: not a heartbeat: {e}", self.bucket)),
            }
        }
        let now = Timestamp::now();
        let timeout = SignedDuration::try_from(self.member_timeout).unwrap_or(SignedDuration::MAX);
        let lost: Vec<String> = self
            .heartbeats
            .iter()
            .filter(|(_, h)| h.state != "stopped" && now.duration_since(h.at) > timeout)
            .map(|(m, _)| m.clone())
            .collect();
        let merged = merge_parts(&self.parts, |member| lost.iter().any(|l| l == member));
        let mut wrote = false;
        for w in merged.values() {
            let json = serde_json::to_vec(w).map_err(|e| e.to_string())?;
            if self.written.get(&w.start) == Some(&json) {
                continue;
            }
            out.window(w)?;
            self.written.insert(w.start, json);
            self.status.windows_written += 1;
            wrote = true;
            self.failpoint.hit("merge-write");
        }
        if wrote {
            out.flush()?;
        }
        self.status.parts = self.parts.len();
        self.status.members = self.heartbeats.len();
        self.status.lost_members = lost;
        self.status.windows = merged.len();
        self.status.passes += 1;
        Ok(())
    }
}

/// A member with no partition this long after the archive ended is a standby, not late.
const STANDBY_SETTLE_SECS: i64 = 30;

impl S3Merger {
    /// A replay is scored through: dw-ingest read the archive to its end (its heartbeat at
    /// `ingest_status` says `exit: ok`); every member stopped once its input was spent, was
    /// lost, or holds no partition well after the archive ended (a standby); and the members
    /// consumed at least as many messages as dw-ingest wrote. An ingest that ended in error is an
    /// error: the archive was not all read.
    pub(crate) fn replayed(&self, ingest_status: &std::path::Path) -> Result<bool> {
        let Ok(text) = std::fs::read_to_string(ingest_status) else {
            return Ok(false);
        };
        let status: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        if status["state"] != "stopped" {
            return Ok(false);
        }
        if status["exit"] != "ok" {
            return Err(format!(
                "dw-ingest stopped without reading the archive to its end ({}): see its log",
                ingest_status.display()
            )
            .into());
        }
        let ended: Option<Timestamp> = status["at"].as_str().and_then(|a| a.parse().ok());
        let written = status["counts"]["written"].as_u64().unwrap_or(0);
        let now = Timestamp::now();
        let timeout = SignedDuration::try_from(self.member_timeout).unwrap_or(SignedDuration::MAX);
        let settle = SignedDuration::from_secs(STANDBY_SETTLE_SECS);
        let done = |h: &MemberHeartbeat| {
            h.state == "stopped"
                || now.duration_since(h.at) > timeout
                || (h.partitions.is_empty() && ended.is_some_and(|e| h.at > e + settle))
        };
        let read: u64 = self.heartbeats.values().map(|h| h.counts.lines).sum();
        Ok(!self.heartbeats.is_empty() && self.heartbeats.values().all(done) && read >= written)
    }
}

/// Of each window, its parts merged (members in name order); a part left open by a lost member
/// counts as final. The merged revision grows whenever a part is added or revised.
fn merge_parts(
    parts: &BTreeMap<(Timestamp, String), Window>,
    lost: impl Fn(&str) -> bool,
) -> BTreeMap<Timestamp, Window> {
    let mut merged: BTreeMap<Timestamp, (Window, u32)> = BTreeMap::new();
    for ((start, member), part) in parts {
        let mut part = part.clone();
        part.partial &= !lost(member);
        if let Some((m, revisions)) = merged.get_mut(start) {
            *revisions += part.revision + 1;
            m.merge(&part);
        } else {
            let revision = part.revision;
            part.member = None;
            part.through.clear();
            merged.insert(*start, (part, revision));
        }
    }
    merged
        .into_iter()
        .map(|(start, (mut w, revisions))| {
            w.revision = revisions;
            (start, w)
        })
        .collect()
}

/// Reads partial windows from every file and writes one merged window per (debate, start).
pub(crate) fn merge_files(from: &[Endpoint], to: &Endpoint) -> Result<()> {
    let mut merged: BTreeMap<(String, Timestamp, u32), Window> = BTreeMap::new();
    for source in from {
        for w in dw_pipeline::window::latest(sink::read_windows(source)?) {
            let key = (w.debate.clone(), w.start, w.length_secs);
            if let Some(m) = merged.get_mut(&key) {
                m.merge(&w);
            } else {
                let mut w = w;
                w.member = None;
                w.through.clear();
                merged.insert(key, w);
            }
        }
    }
    let mut sink = Sink::open(to, false, "", None)?;
    for w in merged.values() {
        sink.window(w)?;
    }
    sink.flush()
}

/// The S3 merge, once or (`every`) until `stop` is set, or (`until_replayed`) until a replay
/// is scored through; a last pass at the end.
pub(crate) fn follow(
    merger: &mut S3Merger,
    out: &mut Sink,
    every: Option<Duration>,
    until_replayed: Option<&std::path::Path>,
    stop: &std::sync::atomic::AtomicBool,
    mut beat: impl FnMut(&MergeStatus, bool) -> Result<()>,
) -> Result<()> {
    use std::sync::atomic::Ordering;
    merger.pass(out)?;
    beat(&merger.status, false)?;
    if let Some(every) = every {
        while !stop.load(Ordering::Relaxed) {
            let since = Instant::now();
            while since.elapsed() < every && !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(100));
            }
            merger.pass(out)?;
            beat(&merger.status, false)?;
            if let Some(ingest) = until_replayed
                && merger.replayed(ingest)?
            {
                crate::log("the archive is read and every member is done");
                break;
            }
        }
        merger.pass(out)?;
    }
    beat(&merger.status, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(member: &str, start: &str, tweets: u64, revision: u32, partial: bool) -> Window {
        let mut w = Window::new(
            "d",
            start.parse::<Timestamp>().unwrap().as_millisecond(),
            60,
            &[],
        );
        w.member = Some(member.into());
        w.tweets = tweets;
        w.revision = revision;
        w.partial = partial;
        w.through = BTreeMap::from([(0, 9)]);
        w
    }

    #[test]
    fn parts_merge_with_a_growing_revision_and_a_lost_members_open_part_is_final() {
        let t = "2015-08-07T01:00:00Z";
        let mut parts = BTreeMap::new();
        parts.insert(
            (t.parse().unwrap(), "a".to_string()),
            part("a", t, 5, 0, true),
        );
        let one = merge_parts(&parts, |_| false);
        let w = &one[&t.parse().unwrap()];
        assert_eq!(
            (w.tweets, w.revision, w.partial, w.member.as_deref()),
            (5, 0, true, None)
        );
        assert!(w.through.is_empty());
        parts.insert(
            (t.parse().unwrap(), "b".to_string()),
            part("b", t, 7, 2, false),
        );
        let two = merge_parts(&parts, |_| false);
        let w = &two[&t.parse().unwrap()];
        assert_eq!((w.tweets, w.revision, w.partial), (12, 3, true));
        let lost = merge_parts(&parts, |m| m == "a");
        assert!(
            !lost[&t.parse().unwrap()].partial,
            "a is lost: its part is final"
        );
    }
}
