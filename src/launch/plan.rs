//! `ClusterPlan`: everything `dw cluster up` will do, computed from the configuration, the
//! debate evening and the spot quotes without touching AWS. `--dry-run` and `dw render` print it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::Serialize;
use serde_json::json;

use crate::config::{Checksum, Config, InstanceGroup, Loaded, Market};
use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::launch::artifacts::Stager;
use crate::launch::scripts::Scripts;
use crate::spot::Quote;
use crate::steps;
use crate::units::{shown, shown_span};

pub(crate) const JOB_BINARIES: [&str; 2] = ["dw-ingest", "dw-score"];

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ClusterPlan {
    pub name: String,
    pub debate: DebateSummary,
    pub release_label: String,
    pub applications: Vec<String>,
    /// How Ganglia gets onto the cluster: an EMR application from emr-4.2.0, a bootstrap action
    /// before.
    pub ganglia: &'static str,
    /// Where the cluster goes; `None` until a quote chose the zone (`dw render` without one).
    pub placement: Option<Placement>,
    pub instance_groups: Vec<GroupPlan>,
    pub log_uri: String,
    pub service_role: String,
    pub job_flow_role: String,
    pub key_pair: Option<String>,
    pub bootstrap_actions: Vec<ActionPlan>,
    pub steps: Vec<StepPlan>,
    /// What is uploaded to S3 before the launch, content-addressed.
    pub staged: Vec<Staged>,
    pub tags: BTreeMap<String, String>,
    /// When the watchdog shuts the cluster down.
    pub deadline: Timestamp,
    /// Where dw-score writes the windows.
    pub results: String,
    /// The archive a replay reads; the cluster then ends after its last step.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replay: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct DebateSummary {
    pub date: String,
    pub tiers: String,
    pub start: Timestamp,
    pub end: Timestamp,
    pub candidates: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Placement {
    pub zone: String,
    pub subnet: Option<String>,
}

/// An instance group's role, as EMR names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Role {
    Master,
    Core,
    Task,
}

/// How an instance group is bought, as EMR names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum Purchase {
    OnDemand,
    Spot,
}

/// What EMR does when a step fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub(crate) enum OnFailure {
    /// `--keep-on-failure`: leave the cluster up to look at it.
    Continue,
    TerminateCluster,
}

/// What a staged object is; also the folder `dw render` writes it into.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub(crate) enum StagedKind {
    Bin,
    Bootstrap,
    Steps,
}

macro_rules! emr_names {
    ($($t:ty { $($v:ident => $s:literal),+ })+) => {$(
        impl $t {
            /// The name EMR (and the plan's JSON) uses.
            pub(crate) fn as_str(self) -> &'static str {
                match self { $(Self::$v => $s),+ }
            }
        }
        impl std::fmt::Display for $t {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    )+};
}

emr_names! {
    Role { Master => "MASTER", Core => "CORE", Task => "TASK" }
    Purchase { OnDemand => "ON_DEMAND", Spot => "SPOT" }
    OnFailure { Continue => "CONTINUE", TerminateCluster => "TERMINATE_CLUSTER" }
    StagedKind { Bin => "bin", Bootstrap => "bootstrap", Steps => "steps" }
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct GroupPlan {
    pub name: String,
    pub role: Role,
    pub instance_type: String,
    pub count: u32,
    pub market: Purchase,
    /// The spot bid, $/hour (spot groups once quoted).
    pub bid: Option<f64>,
    /// The zone the bid was quoted in (every spot group: the cluster's zone).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub zone: Option<String>,
    /// The rule behind the bid.
    pub rule: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct ActionPlan {
    pub name: String,
    pub description: String,
    pub script: String,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct StepPlan {
    pub name: String,
    /// command-runner.jar arguments.
    pub args: Vec<String>,
    pub action_on_failure: OnFailure,
}

#[derive(Debug, Clone, Serialize)]
pub(crate) struct Staged {
    pub kind: StagedKind,
    /// File name (the template's output, or the binary).
    pub name: String,
    pub key: String,
    pub uri: String,
    pub sha256: String,
    pub size: u64,
    #[serde(skip)]
    pub content: Content,
}

#[derive(Debug, Clone)]
pub(crate) enum Content {
    Rendered(String),
    File(PathBuf),
}

/// What `up` passes beside the configuration and the evening.
#[derive(Debug, Clone, Default)]
pub(crate) struct PlanOptions {
    /// Quotes by instance type, for every spot group; the core group's quote picks the zone.
    pub quotes: BTreeMap<String, Quote>,
    /// Steps do not terminate the cluster when they fail.
    pub keep_on_failure: bool,
    /// A past evening launched anyway (`up --force`) at this moment: the watchdog allows the
    /// evening's length from then, not from the calendar.
    pub replay_from: Option<Timestamp>,
    /// `up --replay s3://BUCKET/PREFIX/`: dw-ingest reads this archive at full speed instead of
    /// the stream, and the cluster ends once it is scored.
    pub archive: Option<String>,
}

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
            "job": steps::scorer(config, evening, options.archive.is_some()),
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
        results: format!(
            "{}/{}/",
            dw_pipeline::results::Results::new(&config.s3.results_prefix)
                .location(&config.s3.bucket),
            evening.date
        ),
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

impl ClusterPlan {
    /// The plan for people: what will be launched, where, at what bid, and what runs on it.
    pub(crate) fn to_text(&self, tz: &jiff::tz::TimeZone) -> String {
        use std::fmt::Write as _;
        let mut out = String::new();
        let _ = writeln!(out, "cluster      {}", self.name);
        let _ = writeln!(
            out,
            "debate       {} ({}), {}; candidates: {}",
            self.debate.date,
            self.debate.tiers,
            shown_span(self.debate.start, self.debate.end, tz),
            self.debate.candidates.join(", ")
        );
        let _ = writeln!(
            out,
            "release      {} with {} (Ganglia as {})",
            self.release_label,
            self.applications.join(", "),
            self.ganglia
        );
        match &self.placement {
            Some(p) => {
                let _ = writeln!(
                    out,
                    "placement    {}{}",
                    p.zone,
                    p.subnet
                        .as_ref()
                        .map(|s| format!(" (subnet {s})"))
                        .unwrap_or_default()
                );
            }
            None => {
                let _ = writeln!(out, "placement    chosen by the spot quote at launch");
            }
        }
        for g in &self.instance_groups {
            let bid = match (g.market, g.bid) {
                (Purchase::Spot, Some(b)) => format!(", bid ${b:.4}/h"),
                (Purchase::Spot, None) => ", bid from the quote at launch".into(),
                _ => String::new(),
            };
            let _ = writeln!(
                out,
                "group        {:<6} {} x {} {}{bid}",
                g.name,
                g.count,
                g.instance_type,
                g.market.as_str().to_lowercase().replace('_', "-")
            );
        }
        for a in &self.bootstrap_actions {
            let _ = writeln!(out, "bootstrap    {}: {}", a.name, a.script);
        }
        for s in &self.steps {
            let _ = writeln!(
                out,
                "step         {}: {} ({})",
                s.name,
                s.args.join(" "),
                s.action_on_failure
            );
        }
        let _ = writeln!(out, "logs         {}", self.log_uri);
        let _ = writeln!(out, "results      {}", self.results);
        let _ = writeln!(
            out,
            "deadline     {} (the watchdog terminates the cluster)",
            shown(self.deadline, tz, "%Y-%m-%d %H:%M:%S %Z")
        );
        let size: u64 = self.staged.iter().map(|s| s.size).sum();
        let _ = writeln!(
            out,
            "staged       {} objects, {} bytes",
            self.staged.len(),
            size
        );
        out
    }
}
