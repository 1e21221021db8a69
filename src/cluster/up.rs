//! `dw cluster up`'s steps that call AWS: the idempotence check, the launch (binaries checked,
//! artifacts staged, RunJobFlow sent) and the result it prints.

use std::time::{Duration, Instant};

use serde::Serialize;

use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::launch::{plan, request, stage};
use crate::log;

#[derive(Debug, Serialize)]
pub(crate) struct UpResult {
    pub cluster_id: String,
    pub name: String,
    pub state: String,
    pub already_running: bool,
    pub master_dns: Option<String>,
    pub ganglia_url: Option<String>,
    pub results: String,
}

impl UpResult {
    pub(crate) fn to_text(&self) -> String {
        let mut out = format!(
            "cluster   {} ({})\nstate     {}",
            self.cluster_id, self.name, self.state
        );
        if self.already_running {
            out.push_str(" (already running: nothing launched)");
        }
        out.push('\n');
        if let Some(m) = &self.master_dns {
            out.push_str(&format!("master    {m}\n"));
        }
        if let Some(g) = &self.ganglia_url {
            out.push_str(&format!("ganglia   {g}\n"));
        }
        out.push_str(&format!("results   {}\n", self.results));
        out
    }
}

/// A launch of an evening that has ended is refused unless forced: the watchdog would shut the
/// master down at once. A dry run only shows the plan, so it may.
pub(crate) fn check_evening(
    evening: &Evening,
    now: jiff::Timestamp,
    force: bool,
    dry_run: bool,
) -> Result<()> {
    if evening.end() <= now && !force && !dry_run {
        return Err(Error::input_with_hint(
            format!(
                "the evening of {} ended at {}: a cluster launched now would be shut down by \
                 its watchdog at once",
                evening.date,
                evening.end()
            ),
            "pass --force to launch anyway (a replay of a past debate: the watchdog then allows \
             the evening's length from the launch)",
        ));
    }
    Ok(())
}

/// Idempotence: a live cluster for this debate that tracks these tiers is the answer, never a
/// second one (a main-tier cluster does not track the undercard).
pub(crate) async fn already_up(
    emr: &aws_sdk_emr::Client,
    evening: &Evening,
    results: &str,
) -> Result<Option<UpResult>> {
    let tiers = evening.tiers();
    let Some(found) = super::find(emr, Some(evening.date), true)
        .await?
        .into_iter()
        .find(|f| super::covers(f.tier.as_deref(), &tiers))
    else {
        return Ok(None);
    };
    let snap = super::snapshot(emr, &found.id).await?;
    log::info(&format!(
        "{} is already up for {} ({})",
        found.id, evening.date, found.state
    ));
    Ok(Some(UpResult {
        cluster_id: found.id,
        name: found.name,
        state: found.state,
        already_running: true,
        ganglia_url: snap.ganglia_url(),
        master_dns: snap.master_dns,
        results: results.to_string(),
    }))
}

/// Checks the binaries (unless told not to), stages what is missing and sends RunJobFlow; the cluster's id. Logs
/// (`-v`) dw's own time per phase, `planned` being the quotes' and plan's.
pub(crate) async fn launch(
    (emr, s3): (&aws_sdk_emr::Client, &aws_sdk_s3::Client),
    bucket: &str,
    plan: &plan::ClusterPlan,
    check_binaries: bool,
    planned: Duration,
) -> Result<String> {
    let mut clock = Instant::now();
    let mut lap = || {
        let now = Instant::now();
        let took = now - clock;
        clock = now;
        took
    };
    let request = request::from_plan(plan)?;
    if check_binaries {
        check_job_binaries(plan)?;
    }
    let checked = lap();
    let staged = stage::stage(s3, bucket, &plan.staged).await?;
    let staging = lap();
    let id = request::send(emr, &request).await?;
    let launched = lap();
    log::info(&format!("launched {id} ({})", plan.name));
    for uri in &staged.uploaded {
        log::debug(&format!("uploaded {uri}"));
    }
    log::debug(&format!(
        "up's own time {:.2} s: quotes and plan {:.2} s, binaries checked {:.2} s, staging {:.2} s \
         ({} uploaded, {} already there), RunJobFlow {:.2} s",
        (planned + checked + staging + launched).as_secs_f64(),
        planned.as_secs_f64(),
        checked.as_secs_f64(),
        staging.as_secs_f64(),
        staged.uploaded.len(),
        staged.already_there.len(),
        launched.as_secs_f64()
    ));
    Ok(id)
}

/// The job binaries must run on EMR 4.x (glibc 2.17, no extra libraries): the same check as
/// `dw build-jobs --check-only`, before anything is staged or billed.
fn check_job_binaries(plan: &plan::ClusterPlan) -> Result<()> {
    let mut problems = Vec::new();
    for s in plan
        .staged
        .iter()
        .filter(|s| s.kind == plan::StagedKind::Bin)
    {
        if let plan::Content::File(path) = &s.content {
            let check = crate::build_jobs::check(path)?;
            problems.extend(
                check
                    .problems
                    .iter()
                    .map(|p| format!("{}: {p}", path.display())),
            );
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(Error::input_with_hint(
        format!(
            "the job binaries would not run on EMR 4.x:\n{}",
            problems.join("\n")
        ),
        "build them with `dw build-jobs` (glibc 2.17) and point jobs.binaries at them",
    ))
}
