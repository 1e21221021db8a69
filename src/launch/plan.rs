//! `ClusterPlan`: everything `dw cluster up` will do, as plain data (`crate::launch::build`
//! computes it without touching AWS). `--dry-run` and `dw render` print it.

use std::collections::BTreeMap;
use std::path::PathBuf;

use jiff::Timestamp;
use serde::Serialize;

use crate::spot::Quote;
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
