//! Builds a [`ClusterPlan`] from the configuration, the evening and the quotes, in named
//! steps (bucket and checksums checked, scorers per node, deadline, binaries hashed, scripts
//! rendered, groups, placement, step plans, tags). Touches no network.

use std::collections::BTreeMap;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::config::{Checksum, Config, InstanceGroup, Loaded, Market};
use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::launch::artifacts::Stager;
use crate::launch::plan::{
    ClusterPlan, DebateSummary, GroupPlan, OnFailure, Placement, PlanOptions, Purchase, Role,
    StepPlan,
};
use crate::launch::scripts::Scripts;
use crate::{bootstrap, steps};

/// Builds the plan: named steps over config + evening + quotes. Touches no network: binaries
/// are hashed from disk, scripts rendered.
pub(crate) fn build(
    loaded: &Loaded,
    evening: &Evening,
    options: &PlanOptions,
) -> Result<ClusterPlan> {
    let config = &loaded.config;
    check_bucket(config)?;
    let per_node = scorers_per_node(config)?;
    let (zk_checksum, kafka_checksum) = checksums(loaded)?;
    let deadline = deadline(config, evening, options);
    let date = evening.date.to_string();
    let tiers = evening.tiers();
    let name = format!("dw {date} {tiers}");

    let mut stager = Stager::new(&config.s3.bucket, &config.s3.stage_prefix);
    let binaries = stager.add_binaries(&loaded.relative(&config.jobs.binaries))?;
    let scripts = Scripts::new(json!({
        "dw_version": env!("CARGO_PKG_VERSION"),
        "cluster_name": name,
        "debate": {"date": date, "tiers": tiers},
        "node": config.node,
        "zookeeper": with_checksum(&config.zookeeper, &zk_checksum),
        "kafka": with_checksum(&config.kafka, &kafka_checksum),
        "watchdog": {
            "deadline": deadline.to_string(),
            "deadline_epoch": deadline.as_second(),
        },
    }))?;
    // Steps first: the install action carries their hashes.
    let step_list = steps::steps(config, evening, options.archive.as_deref());
    let step_scripts = scripts.steps(&mut stager, &step_list)?;
    let bootstrap_actions = scripts.bootstrap_actions(
        &mut stager,
        config.emr.release_label,
        &binaries,
        &step_scripts,
        &json!({
            "job": bootstrap::scorers::command(config, evening, options.archive.is_some()),
            "per_node": per_node,
        }),
    )?;

    Ok(ClusterPlan {
        debate: DebateSummary {
            date: date.clone(),
            tiers: tiers.clone(),
            start: evening.start(),
            end: evening.end(),
            candidates: evening.candidates().into_iter().map(|c| c.key).collect(),
        },
        release_label: config.emr.release_label.to_string(),
        applications: applications(config),
        ganglia: if config.emr.release_label.has_ganglia_application() {
            "application"
        } else {
            "bootstrap action"
        },
        placement: placement(config, options)?,
        instance_groups: instance_groups(config, options),
        log_uri: config
            .s3
            .log_uri
            .clone()
            .unwrap_or_else(|| format!("s3://{}/dw/logs/", config.s3.bucket)),
        service_role: config.emr.service_role.clone(),
        job_flow_role: config.emr.job_flow_role.clone(),
        key_pair: config.emr.key_pair.clone(),
        bootstrap_actions,
        steps: step_plans(config, &step_list, options),
        staged: stager.into_staged(),
        tags: tags(&date, &tiers, deadline),
        deadline,
        results: dw_pipeline::results::Results::new(&config.s3.results_prefix)
            .debate_location(&config.s3.bucket, &evening.date.to_string()),
        replay: options.archive.clone(),
        name,
    })
}

fn check_bucket(config: &Config) -> Result<()> {
    if config.s3.bucket.trim().is_empty() {
        return Err(Error::input_with_hint(
            "no S3 bucket is configured",
            "set s3.bucket in configs/dw.toml: dw stages scripts and binaries there",
        ));
    }
    Ok(())
}

/// When the watchdog ends the cluster: the evening's end plus the margin; for a past evening
/// launched anyway (`up --force`), the evening's length from the launch.
fn deadline(config: &Config, evening: &Evening, options: &PlanOptions) -> Timestamp {
    let length = evening.end() - evening.start();
    match options.replay_from {
        Some(from) => from + length + config.watchdog.margin.get(),
        None => evening.end() + config.watchdog.margin.get(),
    }
}

/// The core and task instances: the nodes that score.
fn scoring_nodes(config: &Config) -> u32 {
    config.emr.core.count.0 + config.emr.task.as_ref().map_or(0, |t| t.count.0)
}

/// dw-score members per core/task node: `jobs.score_workers` spread evenly.
fn scorers_per_node(config: &Config) -> Result<u32> {
    let nodes = scoring_nodes(config);
    let total = config.jobs.score_workers.total(nodes);
    if !total.is_multiple_of(nodes) {
        let near: Vec<String> = (1..=4).map(|k| (k * nodes).to_string()).collect();
        return Err(Error::input_with_hint(
            format!(
                "jobs.score_workers = {total} does not spread evenly over the {nodes} core and task nodes"
            ),
            format!(
                "set jobs.score_workers to a multiple of {nodes} ({}, ...) or \"auto\" (one per node)",
                near.join(", ")
            ),
        ));
    }
    let partitions = config.kafka.partitions.0;
    if total > partitions {
        crate::log::warn(&format!(
            "jobs.score_workers = {total} but the {} topic has {partitions} partitions: {} members will hold no partition (standby, until a member is lost); raise kafka.partitions to use them",
            config.kafka.topic,
            total - partitions
        ));
    }
    Ok(total / nodes)
}

/// The tarballs' checksums, normalised; every one missing or malformed is reported at once,
/// each at its line.
fn checksums(loaded: &Loaded) -> Result<(Checksum, Checksum)> {
    let config = &loaded.config;
    let mut problems = Vec::new();
    let mut read = |what: &str, url: &str, sum: &toml::Spanned<String>| {
        let at = format!("{}:{}", loaded.name(), loaded.line_of(sum.span().start));
        match Checksum::parse(sum.get_ref()) {
            Ok(Some(c)) => Some(c),
            Ok(None) => {
                problems.push(format!(
                    "{at}: {what}.checksum is not set: copy the one Apache publishes beside \
                     {url} (its .sha512, or .sha1 for older releases)"
                ));
                None
            }
            Err(e) => {
                problems.push(format!("{at}: {what}.checksum: {e}"));
                None
            }
        }
    };
    let zk = read(
        "zookeeper",
        &config.zookeeper.url,
        &config.zookeeper.checksum,
    );
    let kafka = read("kafka", &config.kafka.url, &config.kafka.checksum);
    match (zk, kafka) {
        (Some(zk), Some(kafka)) => Ok((zk, kafka)),
        _ => Err(Error::input_with_hint(
            problems.join("\n"),
            "dw verifies every tarball before it installs it: a cluster cannot be launched \
             without the checksums",
        )),
    }
}

fn group(name: &str, role: Role, g: &InstanceGroup, options: &PlanOptions) -> GroupPlan {
    let quote = match g.market {
        Market::Spot => options.quotes.get(g.instance_type.as_str()),
        Market::OnDemand => None,
    };
    GroupPlan {
        name: name.to_string(),
        role,
        instance_type: g.instance_type.to_string(),
        count: g.count.0,
        market: match g.market {
            Market::Spot => Purchase::Spot,
            Market::OnDemand => Purchase::OnDemand,
        },
        bid: quote.map(|q| q.bid),
        zone: quote.map(|q| q.zone.clone()),
        rule: quote.map(|q| q.rule.clone()),
    }
}

/// A tarball's section for the templates, its checksum normalised (`algo`, `hex`).
fn with_checksum<T: Serialize>(section: &T, checksum: &Checksum) -> serde_json::Value {
    let mut v = serde_json::to_value(section).unwrap_or_default();
    if let Some(o) = v.as_object_mut() {
        o.insert("checksum".into(), json!(checksum));
    }
    v
}

fn instance_groups(config: &Config, options: &PlanOptions) -> Vec<GroupPlan> {
    let mut groups = vec![
        group("master", Role::Master, &config.emr.master, options),
        group("core", Role::Core, &config.emr.core, options),
    ];
    if let Some(task) = &config.emr.task {
        groups.push(group("task", Role::Task, task, options));
    }
    groups
}

/// The zone: the core group's quote (or the master's when the core is on demand), and its
/// subnet when subnets are configured.
fn placement(config: &Config, options: &PlanOptions) -> Result<Option<Placement>> {
    let Some(q) = options
        .quotes
        .get(config.emr.core.instance_type.as_str())
        .or_else(|| options.quotes.values().next())
    else {
        return Ok(None);
    };
    let subnet = if config.emr.subnets.is_empty() {
        None
    } else {
        let subnet = config.emr.subnets.get(&q.zone).cloned().ok_or_else(|| {
            Error::input_with_hint(
                format!("no subnet is configured for {}, the quoted zone", q.zone),
                format!(
                    "add it under [emr.subnets] in configs/dw.toml (configured: {})",
                    config
                        .emr
                        .subnets
                        .keys()
                        .cloned()
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            )
        })?;
        Some(subnet)
    };
    Ok(Some(Placement {
        zone: q.zone.clone(),
        subnet,
    }))
}

fn applications(config: &Config) -> Vec<String> {
    let mut applications = vec!["Hadoop".to_string()];
    if config.emr.release_label.has_ganglia_application() {
        applications.push("Ganglia".into());
    }
    applications
}

/// Each step runs its staged script with bash through command-runner.jar.
fn step_plans(config: &Config, step_list: &[steps::Step], options: &PlanOptions) -> Vec<StepPlan> {
    let step_dir = format!("{}/dw/steps", config.node.home.trim_end_matches('/'));
    step_list
        .iter()
        .map(|s| StepPlan {
            name: s.name.clone(),
            args: vec!["bash".into(), format!("{step_dir}/{}", s.script)],
            action_on_failure: if options.keep_on_failure {
                OnFailure::Continue
            } else {
                OnFailure::TerminateCluster
            },
        })
        .collect()
}

/// The tags `status`, `down` and `list` find a debate's cluster by.
fn tags(date: &str, tiers: &str, deadline: Timestamp) -> BTreeMap<String, String> {
    BTreeMap::from([
        ("dw:debate".to_string(), date.to_string()),
        ("dw:tier".to_string(), tiers.to_string()),
        ("dw:deadline".to_string(), deadline.to_string()),
        (
            "dw:created-by".to_string(),
            format!("dw {}", env!("CARGO_PKG_VERSION")),
        ),
    ])
}
