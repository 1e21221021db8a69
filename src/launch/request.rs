//! The RunJobFlow request of a plan, as data (what `up --dry-run --output json` prints) and as
//! the SDK call built from that same data, so the two cannot differ.

use aws_sdk_emr::types::{
    ActionOnFailure, Application, BootstrapActionConfig, HadoopJarStepConfig, InstanceGroupConfig,
    InstanceRoleType, JobFlowInstancesConfig, MarketType, PlacementType,
    ScriptBootstrapActionConfig, StepConfig, Tag,
};
use serde::Serialize;

use crate::error::{Error, Result};
use crate::launch::plan::{ClusterPlan, Purchase};

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct RunJobFlow {
    pub name: String,
    pub release_label: String,
    pub log_uri: String,
    pub applications: Vec<Named>,
    pub instances: Instances,
    pub bootstrap_actions: Vec<ActionRequest>,
    pub steps: Vec<StepRequest>,
    pub service_role: String,
    pub job_flow_role: String,
    pub visible_to_all_users: bool,
    pub tags: Vec<KeyValue>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Named {
    pub name: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Instances {
    pub instance_groups: Vec<Group>,
    pub keep_job_flow_alive_when_no_steps: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub placement: Option<Zone>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_subnet_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ec2_key_name: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Zone {
    pub availability_zone: String,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Group {
    pub name: String,
    pub instance_role: String,
    pub market: String,
    pub instance_type: String,
    pub instance_count: i32,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub bid_price: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct ActionRequest {
    pub name: String,
    pub script_bootstrap_action: Script,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct Script {
    pub path: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
#[allow(clippy::struct_field_names)] // EMR's own names: ActionOnFailure of a Step
pub(crate) struct StepRequest {
    pub name: String,
    pub action_on_failure: String,
    pub hadoop_jar_step: JarStep,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct JarStep {
    pub jar: String,
    pub args: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "PascalCase")]
pub(crate) struct KeyValue {
    pub key: String,
    pub value: String,
}

/// The request for `plan`. Spot groups need their bid (the plan must have been quoted).
pub(crate) fn from_plan(plan: &ClusterPlan) -> Result<RunJobFlow> {
    let mut groups = Vec::new();
    for g in &plan.instance_groups {
        if g.market == Purchase::Spot && g.bid.is_none() {
            return Err(Error::Failed(format!(
                "the {} group is on spot but the plan has no bid for it",
                g.name
            )));
        }
        groups.push(Group {
            name: g.name.clone(),
            instance_role: g.role.to_string(),
            market: g.market.to_string(),
            instance_type: g.instance_type.clone(),
            instance_count: i32::try_from(g.count).unwrap_or(i32::MAX),
            bid_price: g.bid.map(|b| format!("{b:.4}")),
        });
    }
    let placement = plan.placement.as_ref();
    Ok(RunJobFlow {
        name: plan.name.clone(),
        release_label: plan.release_label.clone(),
        log_uri: plan.log_uri.clone(),
        applications: plan
            .applications
            .iter()
            .map(|a| Named { name: a.clone() })
            .collect(),
        instances: Instances {
            instance_groups: groups,
            // A replay ends with its last step (EMR then terminates the cluster).
            keep_job_flow_alive_when_no_steps: plan.replay.is_none(),
            placement: placement.filter(|p| p.subnet.is_none()).map(|p| Zone {
                availability_zone: p.zone.clone(),
            }),
            ec2_subnet_id: placement.and_then(|p| p.subnet.clone()),
            ec2_key_name: plan.key_pair.clone(),
        },
        bootstrap_actions: plan
            .bootstrap_actions
            .iter()
            .map(|a| ActionRequest {
                name: a.name.clone(),
                script_bootstrap_action: Script {
                    path: a.script.clone(),
                    args: Vec::new(),
                },
            })
            .collect(),
        steps: plan
            .steps
            .iter()
            .map(|s| StepRequest {
                name: s.name.clone(),
                action_on_failure: s.action_on_failure.to_string(),
                hadoop_jar_step: JarStep {
                    jar: "command-runner.jar".into(),
                    args: s.args.clone(),
                },
            })
            .collect(),
        service_role: plan.service_role.clone(),
        job_flow_role: plan.job_flow_role.clone(),
        visible_to_all_users: true,
        tags: plan
            .tags
            .iter()
            .map(|(k, v)| KeyValue {
                key: k.clone(),
                value: v.clone(),
            })
            .collect(),
    })
}

/// Sends `req` through the SDK; returns the new cluster's id.
pub(crate) async fn send(emr: &aws_sdk_emr::Client, req: &RunJobFlow) -> Result<String> {
    let mut instances = JobFlowInstancesConfig::builder()
        .keep_job_flow_alive_when_no_steps(req.instances.keep_job_flow_alive_when_no_steps)
        .set_ec2_subnet_id(req.instances.ec2_subnet_id.clone())
        .set_ec2_key_name(req.instances.ec2_key_name.clone());
    if let Some(z) = &req.instances.placement {
        instances = instances.placement(
            PlacementType::builder()
                .availability_zone(&z.availability_zone)
                .build(),
        );
    }
    for g in &req.instances.instance_groups {
        instances = instances.instance_groups(
            InstanceGroupConfig::builder()
                .name(&g.name)
                .instance_role(InstanceRoleType::from(g.instance_role.as_str()))
                .market(MarketType::from(g.market.as_str()))
                .instance_type(&g.instance_type)
                .instance_count(g.instance_count)
                .set_bid_price(g.bid_price.clone())
                .build(),
        );
    }
    let mut call = emr
        .run_job_flow()
        .name(&req.name)
        .release_label(&req.release_label)
        .log_uri(&req.log_uri)
        .instances(instances.build())
        .service_role(&req.service_role)
        .job_flow_role(&req.job_flow_role)
        .visible_to_all_users(req.visible_to_all_users);
    for a in &req.applications {
        call = call.applications(Application::builder().name(&a.name).build());
    }
    for b in &req.bootstrap_actions {
        call = call.bootstrap_actions(
            BootstrapActionConfig::builder()
                .name(&b.name)
                .script_bootstrap_action(
                    ScriptBootstrapActionConfig::builder()
                        .path(&b.script_bootstrap_action.path)
                        .set_args(Some(b.script_bootstrap_action.args.clone()))
                        .build(),
                )
                .build(),
        );
    }
    for s in &req.steps {
        call = call.steps(
            StepConfig::builder()
                .name(&s.name)
                .action_on_failure(ActionOnFailure::from(s.action_on_failure.as_str()))
                .hadoop_jar_step(
                    HadoopJarStepConfig::builder()
                        .jar(&s.hadoop_jar_step.jar)
                        .set_args(Some(s.hadoop_jar_step.args.clone()))
                        .build(),
                )
                .build(),
        );
    }
    for t in &req.tags {
        call = call.tags(Tag::builder().key(&t.key).value(&t.value).build());
    }
    let out = call
        .send()
        .await
        .map_err(|e| crate::aws::sdk_error("RunJobFlow", e))?;
    out.job_flow_id()
        .map(str::to_string)
        .ok_or_else(|| Error::Failed("RunJobFlow returned no cluster id".into()))
}
