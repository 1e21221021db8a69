//! `dw cluster ...`: the commands over the lifecycle functions of `cluster`.

use std::time::Duration as StdDuration;

use serde::Serialize;

use super::Context;
use crate::cli::{DownArgs, WhichCluster};
use crate::cluster::up::{self, UpResult};
use crate::cluster::{self, Snapshot, Waited, cost, diagnose, lock};
use crate::error::{Error, Result};
use crate::launch::{build, plan, request};
use crate::settings::{StatusSettings, UpSettings};
use crate::spot::prices;
use crate::units::Duration;
use crate::{aws, log};

fn std_duration(d: Duration) -> StdDuration {
    StdDuration::from_secs(d.as_secs().max(0) as u64)
}

/// A schedule line fires every year on that date: only the debate's own day counts.
fn off_day(scheduled: bool, date: jiff::civil::Date) -> bool {
    if scheduled && !crate::schedule::is_debate_day(date, jiff::Timestamp::now()) {
        log::info(&format!(
            "scheduled run for {date}, but today is not that debate's day: nothing to do"
        ));
        return true;
    }
    false
}

pub(super) async fn up(ctx: &Context, s: &UpSettings<'_>) -> Result<()> {
    let (args, evening) = (s.args, &s.evening);
    if off_day(args.scheduled, evening.date) {
        return Ok(());
    }
    let date = evening.date.to_string();
    let now = jiff::Timestamp::now();

    // A replay's archive is looked at before anything is staged or launched.
    if let Some(uri) = &args.replay {
        let archive = cluster::archive::check(&aws::s3(ctx.sdk().await?), uri).await?;
        log::info(&format!(
            "replaying {} objects of {uri} at full speed; the cluster ends once they are scored",
            archive.objects
        ));
    }
    up::check_evening(evening, now, s.force, args.dry_run)?;
    if args.dry_run {
        let plan = make_plan(ctx, s, now).await?;
        let request = request::from_plan(&plan)?;
        let mut text = plan.to_text(&s.tz);
        text.push_str("\n(dry run: nothing was staged or launched)\n");
        return ctx.print(&text, &request);
    }

    let Some(_lock) = lock::lock(&format!("up-{date}"))? else {
        return busy(ctx, &date);
    };
    let sdk = ctx.sdk().await?;
    let (emr, s3) = (aws::emr(sdk), aws::s3(sdk));

    if let Some(result) = up::already_up(&emr, evening, &s.results).await? {
        return ctx.print(&result.to_text(), &result);
    }
    // dw's own time, phase by phase (`-v`): EMR's time to start the cluster is not counted.
    let started = std::time::Instant::now();
    let plan = make_plan(ctx, s, now).await?;
    let id = up::launch(
        (&emr, &s3),
        &s.loaded.config.s3.bucket,
        &plan,
        !args.unchecked_binaries,
        started.elapsed(),
    )
    .await?;
    wait_for(ctx, s, (&emr, &s3), &plan, id).await
}

/// Quotes (debate-night floor) and plans: the same for a dry run and for real.
async fn make_plan(
    ctx: &Context,
    s: &UpSettings<'_>,
    now: jiff::Timestamp,
) -> Result<plan::ClusterPlan> {
    let (args, evening) = (s.args, &s.evening);
    let quotes = ctx
        .cluster_quotes(&s.loaded.config, &args.history, &s.quote)
        .await?;
    build::build(
        &s.loaded,
        evening,
        &plan::PlanOptions {
            quotes,
            keep_on_failure: args.keep_on_failure,
            replay_from: (s.force && evening.end() <= now).then_some(now),
            archive: args.replay.clone(),
        },
    )
}

/// Another `up` of this debate holds the lock: said, and printed as a result all the same
/// (cron and scripts read it).
fn busy(ctx: &Context, date: &str) -> Result<()> {
    let message = format!(
        "another `dw cluster up --debate {date}` is running on this machine: leaving it to finish"
    );
    log::info(&message);
    let busy = serde_json::json!({
        "debate": date,
        "state": "BUSY",
        "message": message,
    });
    ctx.print(&format!("{message}\n"), &busy)
}

/// Waits until the cluster is ready (adding on-demand capacity for spot that does not come),
/// prints the result, and explains a failure or a timeout.
async fn wait_for(
    ctx: &Context,
    s: &UpSettings<'_>,
    (emr, s3): (&aws_sdk_emr::Client, &aws_sdk_s3::Client),
    plan: &plan::ClusterPlan,
    id: String,
) -> Result<()> {
    let finish = |snap: &Snapshot| UpResult {
        cluster_id: id.clone(),
        name: plan.name.clone(),
        state: snap.state.clone(),
        already_running: false,
        master_dns: snap.master_dns.clone(),
        ganglia_url: snap.ganglia_url(),
        results: plan.results.clone(),
    };
    let args = s.args;
    if args.no_wait {
        let snap = cluster::snapshot(emr, &id).await?;
        let result = finish(&snap);
        return ctx.print(&result.to_text(), &result);
    }
    let mut fallback = cluster::fallback::Fallback::new(s.fallback_after, !args.no_fallback);
    let waited = cluster::wait_ready(emr, &id, s.timeout, s.poll, &mut fallback).await?;
    match waited {
        Waited::Ready(snap) => {
            let result = finish(&snap);
            ctx.print(&result.to_text(), &result)
        }
        Waited::Failed(snap) => {
            let d = diagnose::diagnose(s3, &snap, s.log_wait).await?;
            eprint!("{}", d.to_text());
            Err(Error::Failed(format!(
                "the cluster {id} failed{}",
                d.failed.map(|f| format!(": {f}")).unwrap_or_default()
            )))
        }
        Waited::TimedOut(snap) => {
            // The cluster exists (and bills): its id goes to stdout too, not only the error.
            let result = finish(&snap);
            ctx.print(&result.to_text(), &result)?;
            let waiting = cluster::still_waiting_for(&snap);
            if args.terminate_on_timeout {
                terminate(emr, &id).await?;
                log::info(&format!("terminating {id} (--terminate-on-timeout)"));
            }
            Err(Error::Failed(format!(
                "{id} was not ready after {}: still waiting for {waiting}{}",
                args.timeout,
                if args.terminate_on_timeout {
                    "; it is being terminated"
                } else {
                    "; it is left running (dw cluster down to remove it)"
                }
            )))
        }
    }
}

async fn terminate(emr: &aws_sdk_emr::Client, id: &str) -> Result<()> {
    emr.terminate_job_flows()
        .job_flow_ids(id)
        .send()
        .await
        .map_err(|e| aws::sdk_error("TerminateJobFlows", e))?;
    Ok(())
}

/// The cluster meant by `--cluster-id` or `--debate` (its live cluster, else its latest one).
async fn resolve(
    emr: &aws_sdk_emr::Client,
    which: &WhichCluster,
    alive_only: bool,
) -> Result<Option<String>> {
    if let Some(id) = &which.cluster_id {
        return Ok(Some(id.clone()));
    }
    let Some(date) = which.debate else {
        return Err(Error::input_with_hint(
            "which cluster? give --debate DATE or --cluster-id ID",
            "dw cluster list shows the clusters dw created",
        ));
    };
    Ok(cluster::find(emr, Some(date), alive_only)
        .await?
        .into_iter()
        .next()
        .map(|f| f.id))
}

#[derive(Debug, Serialize)]
struct Status {
    #[serde(flatten)]
    snapshot: Snapshot,
    uptime_secs: Option<i64>,
    /// Instance-hours so far times each group's price (spot: the bid, an upper bound).
    estimated_cost: Option<f64>,
    /// The scoring group's members, from their heartbeats beside the results.
    members: Vec<crate::cluster::members::Member>,
}

impl Status {
    fn to_text(&self) -> String {
        let s = &self.snapshot;
        let mut out = format!("cluster   {} ({})\nstate     {}", s.id, s.name, s.state);
        if let Some(r) = &s.reason {
            out.push_str(&format!(": {r}"));
        }
        out.push('\n');
        if let Some(secs) = self.uptime_secs {
            out.push_str(&format!("uptime    {}\n", Duration::from_secs(secs.max(1))));
        }
        if let Some(z) = &s.zone {
            out.push_str(&format!("zone      {z}\n"));
        }
        if let Some(m) = &s.master_dns {
            out.push_str(&format!("master    {m}\nganglia   http://{m}/ganglia/\n"));
        }
        for g in &s.groups {
            let bid = g
                .bid
                .as_ref()
                .map(|b| format!(", bid ${b}"))
                .unwrap_or_default();
            out.push_str(&format!(
                "group     {:<6} {} {} {}/{} running{bid} ({})\n",
                g.role.to_lowercase(),
                g.instance_type,
                g.market.to_lowercase().replace('_', "-"),
                g.running,
                g.requested,
                g.state.to_lowercase()
            ));
        }
        for m in &self.members {
            out.push_str(&crate::cluster::members::to_text(m));
        }
        for st in &s.steps {
            out.push_str(&format!("step      {:<10} {}", st.state, st.name));
            if let Some(r) = &st.reason {
                out.push_str(&format!(" ({r})"));
            }
            out.push('\n');
        }
        match self.estimated_cost {
            Some(c) => out.push_str(&format!(
                "cost      about ${c:.2} so far (estimate: instance-hours x bid or on-demand price; EMR fees not included)\n"
            )),
            None => out.push_str("cost      no estimate (a price is unknown)\n"),
        }
        out
    }
}

pub(super) async fn status(ctx: &Context, s: &StatusSettings<'_>) -> Result<()> {
    let which = s.which;
    let sdk = ctx.sdk().await?;
    let emr = aws::emr(sdk);
    let Some(id) = resolve(&emr, which, false).await? else {
        return Err(Error::Failed(format!(
            "no cluster of dw for {}",
            which.debate.map_or("?".to_string(), |d| d.to_string())
        )));
    };
    let snapshot = cluster::snapshot(&emr, &id).await?;
    let on_demand = prices::OnDemand::new(&s.on_demand);
    let (uptime_secs, estimated_cost) = cost::estimate(&snapshot, on_demand);
    let members = match which
        .debate
        .map(|d| d.to_string())
        .or(snapshot.debate.clone())
    {
        Some(date) => {
            let prefix = s
                .results
                .folder(&date, dw_pipeline::results::Folder::Members);
            // The cluster's state stands without them: a results bucket that cannot be read
            // is said, not fatal.
            crate::cluster::members::read(&aws::s3(sdk), &s.bucket, &prefix)
                .await
                .unwrap_or_else(|e| {
                    log::warn(&format!("the scorers' heartbeats could not be read: {e}"));
                    Vec::new()
                })
        }
        None => Vec::new(),
    };
    let status = Status {
        snapshot,
        uptime_secs,
        estimated_cost,
        members,
    };
    ctx.print(&status.to_text(), &status)
}

pub(super) async fn list(ctx: &Context) -> Result<()> {
    let sdk = ctx.sdk().await?;
    let found = cluster::find(&aws::emr(sdk), None, false).await?;
    let mut text = String::new();
    for f in &found {
        text.push_str(&format!(
            "{:<16} {:<24} {:<12} {}\n",
            f.id,
            f.state,
            f.debate.as_deref().unwrap_or("-"),
            f.tier.as_deref().unwrap_or("-")
        ));
    }
    if found.is_empty() {
        log::info("no cluster of dw");
    }
    ctx.print(&text, &found)
}

#[derive(Debug, Serialize)]
struct DownResult {
    cluster_id: Option<String>,
    state: String,
}

pub(super) async fn down(ctx: &Context, args: &DownArgs) -> Result<()> {
    if let Some(date) = args.which.debate
        && off_day(args.scheduled, date)
    {
        return Ok(());
    }
    let sdk = ctx.sdk().await?;
    let emr = aws::emr(sdk);
    // Every live cluster of the debate (two `up` from two machines make two): all of them go.
    if let (Some(date), None) = (args.which.debate, &args.which.cluster_id) {
        let live = cluster::find(&emr, Some(date), true).await?;
        if live.len() > 1 {
            return down_all(ctx, args, &emr, live).await;
        }
    }
    let id = match resolve(&emr, &args.which, true).await? {
        Some(id) => Some(id),
        // A debate whose cluster ended already: that is the state `down` wants.
        None => resolve(&emr, &args.which, false).await?,
    };
    let Some(id) = id else {
        let what = args.which.debate.map_or("?".to_string(), |d| d.to_string());
        let message = format!("no cluster of dw for {what}");
        if args.if_exists {
            log::info(&format!("{message}: nothing to do"));
            let result = DownResult {
                cluster_id: None,
                state: "NONE".into(),
            };
            return ctx.print(&format!("{message}\n"), &result);
        }
        return Err(Error::Failed(message));
    };
    let snap = cluster::snapshot(&emr, &id).await?;
    if snap.is_terminated() && snap.state != "TERMINATING" {
        let result = DownResult {
            cluster_id: Some(id.clone()),
            state: snap.state.clone(),
        };
        return ctx.print(&format!("{id} is already {}\n", snap.state), &result);
    }
    terminate(&emr, &id).await?;
    log::info(&format!("terminating {id}"));
    let state = until_terminated(&emr, &id, args).await?;
    let result = DownResult {
        cluster_id: Some(id.clone()),
        state: state.clone(),
    };
    ctx.print(&format!("{id} {state}\n"), &result)
}

/// Waits (unless `--no-wait`) until EMR says `id` is terminated; its state then.
async fn until_terminated(emr: &aws_sdk_emr::Client, id: &str, args: &DownArgs) -> Result<String> {
    if args.no_wait {
        return Ok("TERMINATING".into());
    }
    let start = std::time::Instant::now();
    loop {
        let s = cluster::snapshot(emr, id).await?;
        if s.state.starts_with("TERMINATED") {
            return Ok(s.state);
        }
        if start.elapsed() >= std_duration(args.timeout) {
            return Err(Error::Failed(format!(
                "{id} is still {} after {}",
                s.state, args.timeout
            )));
        }
        tokio::time::sleep(std_duration(args.poll)).await;
    }
}

/// Terminates several live clusters of one debate and waits until all are gone.
async fn down_all(
    ctx: &Context,
    args: &DownArgs,
    emr: &aws_sdk_emr::Client,
    live: Vec<cluster::Found>,
) -> Result<()> {
    let ids: Vec<String> = live.into_iter().map(|f| f.id).collect();
    log::info(&format!(
        "{} live clusters for this debate: terminating {}",
        ids.len(),
        ids.join(", ")
    ));
    for id in &ids {
        terminate(emr, id).await?;
    }
    let mut results = Vec::new();
    for id in &ids {
        let state = until_terminated(emr, id, args).await?;
        results.push(DownResult {
            cluster_id: Some(id.clone()),
            state,
        });
    }
    let text: String = results
        .iter()
        .map(|r| format!("{} {}\n", r.cluster_id.as_deref().unwrap_or("?"), r.state))
        .collect();
    ctx.print(&text, &results)
}

pub(super) async fn diagnose(ctx: &Context, id: &str, log_wait: StdDuration) -> Result<()> {
    let sdk = ctx.sdk().await?;
    let snap = cluster::snapshot(&aws::emr(sdk), id).await?;
    let d = diagnose::diagnose(&aws::s3(sdk), &snap, log_wait).await?;
    ctx.print(&d.to_text(), &d)
}
