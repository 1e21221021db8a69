//! Spot capacity that never comes. EMR 4.x instance groups have no switch to on-demand: a spot
//! group whose bid is below the market waits, and the evening's scoring with it. While `up`
//! waits for the cluster, once `spot.fallback_after` has passed since the launch, every spot
//! group still short of its count gets the missing capacity as an on-demand task group (its
//! nodes run the scorers' bootstrap action like any other). `--no-fallback` only says so.

use std::time::Duration;

use aws_sdk_emr::types::{InstanceGroupConfig, InstanceRoleType, MarketType};
use serde::Serialize;

use crate::aws::sdk_error;
use crate::cluster::Snapshot;
use crate::error::Result;
use crate::log;

/// Capacity a spot group was not granted: what an on-demand task group must add.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Shortfall {
    /// The spot group's name.
    pub group: String,
    pub instance_type: String,
    /// Instances requested and not running.
    pub missing: i32,
}

/// The fallback's name for a spot group's on-demand stand-in.
pub fn fallback_name(group: &str) -> String {
    format!("{group} on-demand fallback")
}

/// The spot groups still short of their count, leaving out those already given a fallback.
pub fn shortfalls(s: &Snapshot) -> Vec<Shortfall> {
    s.groups
        .iter()
        .filter(|g| g.market == "SPOT" && g.running < g.requested)
        .filter(|g| !s.groups.iter().any(|f| f.name == fallback_name(&g.name)))
        .map(|g| Shortfall {
            group: g.name.clone(),
            instance_type: g.instance_type.clone(),
            missing: g.requested - g.running,
        })
        .collect()
}

/// The AddInstanceGroups entry that covers `short` on demand.
pub fn on_demand_group(short: &Shortfall) -> InstanceGroupConfig {
    InstanceGroupConfig::builder()
        .name(fallback_name(&short.group))
        .market(MarketType::OnDemand)
        .instance_role(InstanceRoleType::Task)
        .instance_type(&short.instance_type)
        .instance_count(short.missing)
        .build()
}

/// What the fallback did: the groups it added (their ids), or what it found and left alone.
#[derive(Debug, Default, Clone, Serialize)]
pub struct Fallback {
    pub after: Duration,
    pub enabled: bool,
    /// Set once the time has come (it acts, or reports, once).
    pub checked: bool,
    pub added: Vec<(Shortfall, String)>,
    pub left_waiting: Vec<Shortfall>,
}

impl Fallback {
    pub fn new(after: Duration, enabled: bool) -> Self {
        Fallback {
            after,
            enabled,
            ..Fallback::default()
        }
    }

    /// Called at each look while waiting, `waited` since the launch.
    pub async fn check(
        &mut self,
        emr: &aws_sdk_emr::Client,
        s: &Snapshot,
        waited: Duration,
    ) -> Result<()> {
        if self.checked || waited < self.after {
            return Ok(());
        }
        self.checked = true;
        let short = shortfalls(s);
        if short.is_empty() {
            return Ok(());
        }
        if !self.enabled {
            for sh in &short {
                log::warn(&format!(
                    "the spot group {} has {} of its {} instances missing after {}s; --no-fallback: waiting for spot capacity",
                    sh.group,
                    sh.missing,
                    sh.instance_type,
                    self.after.as_secs()
                ));
            }
            self.left_waiting = short;
            return Ok(());
        }
        let added = emr
            .add_instance_groups()
            .job_flow_id(&s.id)
            .set_instance_groups(Some(short.iter().map(on_demand_group).collect()))
            .send()
            .await
            .map_err(|e| sdk_error("AddInstanceGroups", e))?;
        let ids = added.instance_group_ids();
        for (i, sh) in short.into_iter().enumerate() {
            // EMR answers with the new groups' ids; a stand-in that does not is no failure.
            let id = ids.get(i).cloned().unwrap_or_default();
            log::warn(&format!(
                "the spot group {} was short of {} x {} after {}s: added them on demand as the task group \"{}\"{} (spot.fallback_after; --no-fallback turns this off)",
                sh.group,
                sh.missing,
                sh.instance_type,
                self.after.as_secs(),
                fallback_name(&sh.group),
                if id.is_empty() {
                    String::new()
                } else {
                    format!(", {id}")
                }
            ));
            self.added.push((sh, id));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cluster::GroupStatus;

    fn group(name: &str, market: &str, requested: i32, running: i32) -> GroupStatus {
        GroupStatus {
            name: name.into(),
            role: "CORE".into(),
            market: market.into(),
            instance_type: "m3.xlarge".into(),
            bid: None,
            requested,
            running,
            state: "PROVISIONING".into(),
        }
    }

    #[test]
    fn a_spot_group_short_of_its_count_falls_back_once() {
        let mut s = Snapshot {
            id: "j-1".into(),
            name: "dw".into(),
            debate: None,
            state: "STARTING".into(),
            reason: None,
            reason_code: None,
            master_dns: None,
            created: None,
            ready: None,
            ended: None,
            log_uri: None,
            zone: None,
            groups: vec![
                group("master", "ON_DEMAND", 1, 0),
                group("core", "SPOT", 2, 0),
                group("task", "SPOT", 4, 4),
            ],
            steps: Vec::new(),
        };
        let short = shortfalls(&s);
        assert_eq!(
            short,
            [Shortfall {
                group: "core".into(),
                instance_type: "m3.xlarge".into(),
                missing: 2
            }]
        );
        let g = on_demand_group(&short[0]);
        assert_eq!(g.name(), Some("core on-demand fallback"));
        assert_eq!(g.market(), Some(&MarketType::OnDemand));
        assert_eq!(g.instance_role(), Some(&InstanceRoleType::Task));
        assert_eq!(g.instance_count(), Some(2));
        // Once the fallback group exists, the core group is covered.
        s.groups
            .push(group("core on-demand fallback", "ON_DEMAND", 2, 0));
        assert!(shortfalls(&s).is_empty());
    }
}
