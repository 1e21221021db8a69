//! The cluster lifecycle on EMR: find, up, wait, diagnose, status, list, down.

pub mod archive;
pub(crate) mod cost;
pub mod diagnose;
pub mod fallback;
pub(crate) mod lock;
pub mod members;
pub(crate) mod up;

use std::time::{Duration, Instant};

use aws_sdk_emr::types::{ClusterState, StepState};
use jiff::Timestamp;
use serde::Serialize;

use crate::aws::sdk_error;
use crate::error::{Error, Result};
use crate::progress::Progress;

/// States in which a cluster exists and bills.
pub const ALIVE: [ClusterState; 4] = [
    ClusterState::Starting,
    ClusterState::Bootstrapping,
    ClusterState::Running,
    ClusterState::Waiting,
];

#[derive(Debug, Clone, Serialize)]
pub struct Found {
    pub id: String,
    pub name: String,
    pub state: String,
    pub debate: Option<String>,
    pub tier: Option<String>,
    pub created: Option<Timestamp>,
}

fn ts(t: Option<&aws_sdk_emr::primitives::DateTime>) -> Option<Timestamp> {
    t.and_then(|d| Timestamp::from_second(d.secs()).ok())
}

/// Whether a cluster tagged with `tiers` (e.g. `main+undercard`) tracks every tier of `wanted`.
pub fn covers(tiers: Option<&str>, wanted: &str) -> bool {
    let have: Vec<&str> = tiers.unwrap_or_default().split('+').collect();
    wanted.split('+').all(|t| have.contains(&t))
}

/// Clusters that dw created (tag `dw:created-by`), optionally for one debate date, alive only
/// or all that EMR still lists; alive first, newest first.
pub async fn find(
    emr: &aws_sdk_emr::Client,
    debate: Option<jiff::civil::Date>,
    alive_only: bool,
) -> Result<Vec<Found>> {
    let debate = debate.map(|d| d.to_string());
    let mut request = emr.list_clusters();
    if alive_only {
        request = request.set_cluster_states(Some(ALIVE.to_vec()));
    }
    let mut pages = request.into_paginator().send();
    let mut out = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListClusters", e))?;
        for summary in page.clusters() {
            let Some(id) = summary.id() else { continue };
            let described = emr
                .describe_cluster()
                .cluster_id(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeCluster", e))?;
            let Some(cluster) = described.cluster() else {
                continue;
            };
            let tag = |k: &str| {
                cluster
                    .tags()
                    .iter()
                    .find(|t| t.key() == Some(k))
                    .and_then(|t| t.value())
                    .map(str::to_string)
            };
            if tag("dw:created-by").is_none() {
                continue;
            }
            let found_debate = tag("dw:debate");
            if debate
                .as_ref()
                .is_some_and(|d| found_debate.as_ref() != Some(d))
            {
                continue;
            }
            out.push(Found {
                id: id.to_string(),
                name: cluster.name().unwrap_or_default().to_string(),
                state: cluster
                    .status()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
                debate: found_debate,
                tier: tag("dw:tier"),
                created: ts(cluster
                    .status()
                    .and_then(|s| s.timeline())
                    .and_then(|t| t.creation_date_time())),
            });
        }
    }
    let alive = |f: &Found| ALIVE.iter().any(|s| s.as_str() == f.state);
    out.sort_by(|a, b| alive(b).cmp(&alive(a)).then(b.created.cmp(&a.created)));
    Ok(out)
}

#[derive(Debug, Clone, Serialize)]
pub struct GroupStatus {
    pub name: String,
    pub role: String,
    pub market: String,
    pub instance_type: String,
    pub bid: Option<String>,
    pub requested: i32,
    pub running: i32,
    pub state: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct StepStatus {
    pub id: String,
    pub name: String,
    pub state: String,
    pub reason: Option<String>,
}

/// Everything `status`, `wait` and `diagnose` need of one cluster.
#[derive(Debug, Clone, Serialize)]
pub struct Snapshot {
    pub id: String,
    pub name: String,
    /// The debate it was launched for (its `dw:debate` tag).
    pub debate: Option<String>,
    pub state: String,
    pub reason: Option<String>,
    pub reason_code: Option<String>,
    pub master_dns: Option<String>,
    pub created: Option<Timestamp>,
    pub ready: Option<Timestamp>,
    pub ended: Option<Timestamp>,
    pub log_uri: Option<String>,
    pub zone: Option<String>,
    pub groups: Vec<GroupStatus>,
    /// In the order they run.
    pub steps: Vec<StepStatus>,
}

impl Snapshot {
    pub fn is_terminated(&self) -> bool {
        self.state.starts_with("TERMINAT")
    }

    pub fn ganglia_url(&self) -> Option<String> {
        self.master_dns
            .as_ref()
            .map(|d| format!("http://{d}/ganglia/"))
    }
}

pub async fn snapshot(emr: &aws_sdk_emr::Client, id: &str) -> Result<Snapshot> {
    let described = emr
        .describe_cluster()
        .cluster_id(id)
        .send()
        .await
        .map_err(|e| sdk_error("DescribeCluster", e))?;
    let c = described
        .cluster()
        .ok_or_else(|| Error::Failed(format!("EMR describes no cluster {id}")))?;
    let status = c.status();
    let reason = status.and_then(|s| s.state_change_reason());
    let timeline = status.and_then(|s| s.timeline());

    let groups = group_statuses(emr, id).await?;
    let steps = step_statuses(emr, id).await?;

    let debate = c
        .tags()
        .iter()
        .find(|t| t.key() == Some("dw:debate"))
        .and_then(|t| t.value())
        .map(str::to_string);
    Ok(Snapshot {
        debate,
        id: id.to_string(),
        name: c.name().unwrap_or_default().to_string(),
        state: status
            .and_then(|s| s.state())
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        reason: reason.and_then(|r| r.message()).map(str::to_string),
        reason_code: reason
            .and_then(|r| r.code())
            .map(|c| c.as_str().to_string()),
        master_dns: c.master_public_dns_name().map(str::to_string),
        created: ts(timeline.and_then(|t| t.creation_date_time())),
        ready: ts(timeline.and_then(|t| t.ready_date_time())),
        ended: ts(timeline.and_then(|t| t.end_date_time())),
        log_uri: c.log_uri().map(str::to_string),
        zone: c
            .ec2_instance_attributes()
            .and_then(|a| a.ec2_availability_zone())
            .map(str::to_string),
        groups,
        steps,
    })
}

/// The cluster's instance groups, master first, then core, then task.
async fn group_statuses(emr: &aws_sdk_emr::Client, id: &str) -> Result<Vec<GroupStatus>> {
    let mut groups = Vec::new();
    let mut pages = emr
        .list_instance_groups()
        .cluster_id(id)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListInstanceGroups", e))?;
        for g in page.instance_groups() {
            groups.push(GroupStatus {
                name: g.name().unwrap_or_default().to_string(),
                role: g
                    .instance_group_type()
                    .map(|t| t.as_str().to_string())
                    .unwrap_or_default(),
                market: g
                    .market()
                    .map(|m| m.as_str().to_string())
                    .unwrap_or_default(),
                instance_type: g.instance_type().unwrap_or_default().to_string(),
                bid: g.bid_price().map(str::to_string),
                requested: g.requested_instance_count().unwrap_or(0),
                running: g.running_instance_count().unwrap_or(0),
                state: g
                    .status()
                    .and_then(|s| s.state())
                    .map(|s| s.as_str().to_string())
                    .unwrap_or_default(),
            });
        }
    }
    let role_order = |r: &str| match r {
        "MASTER" => 0,
        "CORE" => 1,
        _ => 2,
    };
    groups.sort_by_key(|g| role_order(&g.role));
    Ok(groups)
}

/// The cluster's steps, oldest first.
async fn step_statuses(emr: &aws_sdk_emr::Client, id: &str) -> Result<Vec<StepStatus>> {
    let mut steps = Vec::new();
    let mut pages = emr.list_steps().cluster_id(id).into_paginator().send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| sdk_error("ListSteps", e))?;
        for s in page.steps() {
            steps.push(StepStatus {
                id: s.id().unwrap_or_default().to_string(),
                name: s.name().unwrap_or_default().to_string(),
                state: s
                    .status()
                    .and_then(|st| st.state())
                    .map(|st| st.as_str().to_string())
                    .unwrap_or_default(),
                reason: s
                    .status()
                    .and_then(|st| st.failure_details())
                    .and_then(|f| f.message().or(f.reason()))
                    .or_else(|| {
                        s.status()
                            .and_then(|st| st.state_change_reason())
                            .and_then(|r| r.message())
                    })
                    .map(str::to_string),
            });
        }
    }
    steps.reverse(); // EMR lists the newest first
    Ok(steps)
}

/// One line that says where a cluster is: state, reason, steps started, groups short of
/// instances.
pub fn describe(s: &Snapshot) -> String {
    let done = s
        .steps
        .iter()
        .filter(|st| st.state != StepState::Pending.as_str())
        .count();
    let mut line = format!(
        "{} {}: steps started {done}/{}",
        s.id,
        s.state,
        s.steps.len()
    );
    if let Some(r) = &s.reason {
        line.push_str(&format!("; {r}"));
    }
    for g in &s.groups {
        if g.running < g.requested {
            line.push_str(&format!(
                "; {} {}/{} running",
                g.name.to_lowercase(),
                g.running,
                g.requested
            ));
        }
    }
    line
}

/// How waiting ended.
pub enum Waited {
    Ready(Snapshot),
    Failed(Snapshot),
    TimedOut(Snapshot),
}

/// Waits until the cluster is WAITING or RUNNING with every step past PENDING (the jobs are
/// started), it fails, or `timeout` passes.
pub async fn wait_ready(
    emr: &aws_sdk_emr::Client,
    id: &str,
    timeout: Duration,
    poll: Duration,
    fallback: &mut fallback::Fallback,
) -> Result<Waited> {
    let start = Instant::now();
    let progress = Progress::spinner(&format!("waiting for {id}"));
    let mut last = String::new();
    loop {
        let s = snapshot(emr, id).await?;
        fallback.check(emr, &s, start.elapsed()).await?;
        let line = describe(&s);
        // One plain line per change (not per poll) for cron logs.
        if line != last {
            progress.set(&line);
            last = line;
        }
        let step_failed = s
            .steps
            .iter()
            .any(|st| st.state == StepState::Failed.as_str());
        if s.is_terminated() || step_failed {
            progress.finish(&format!("{id} is {}", s.state));
            return Ok(Waited::Failed(s));
        }
        let ready_state =
            s.state == ClusterState::Waiting.as_str() || s.state == ClusterState::Running.as_str();
        if ready_state
            && s.steps
                .iter()
                .all(|st| st.state != StepState::Pending.as_str())
        {
            progress.finish(&format!("{id} is ready ({})", s.state));
            return Ok(Waited::Ready(s));
        }
        if start.elapsed() >= timeout {
            progress.finish(&format!(
                "{id}: gave up waiting after {}s",
                timeout.as_secs()
            ));
            return Ok(Waited::TimedOut(s));
        }
        tokio::time::sleep(
            poll.min(timeout.saturating_sub(start.elapsed()))
                .max(Duration::from_millis(10)),
        )
        .await;
    }
}

/// What a timed-out wait was still waiting for, in words.
pub fn still_waiting_for(s: &Snapshot) -> String {
    let mut parts = Vec::new();
    if s.state == ClusterState::Starting.as_str() {
        parts.push("EC2 capacity for the instance groups".to_string());
    }
    for g in &s.groups {
        if g.running < g.requested {
            let what = if g.market == "SPOT" {
                format!(
                    "spot capacity for the {} group ({}/{} running at bid ${}; a bid below the market price waits)",
                    g.name.to_lowercase(),
                    g.running,
                    g.requested,
                    g.bid.as_deref().unwrap_or("?")
                )
            } else {
                format!(
                    "the {} group ({}/{} running)",
                    g.name.to_lowercase(),
                    g.running,
                    g.requested
                )
            };
            parts.push(what);
        }
    }
    if s.state == ClusterState::Bootstrapping.as_str() {
        parts.push("the bootstrap actions".into());
    }
    if let Some(p) = s
        .steps
        .iter()
        .find(|st| st.state == StepState::Pending.as_str())
    {
        parts.push(format!("the step \"{}\" to start", p.name));
    }
    if let Some(r) = &s.reason {
        parts.push(format!("EMR says: {r}"));
    }
    if parts.is_empty() {
        parts.push(format!("the cluster is {}", s.state));
    }
    parts.join("; ")
}
