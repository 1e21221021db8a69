//! Which steps a cluster plan has. EMR 4.x runs steps one at a time, on the master, so each
//! long-running job's step starts it detached and returns once the job is healthy. The scorers
//! are not steps: a bootstrap action starts them (`bootstrap/scorers.rs`).

mod ingest;

use serde::Serialize;

use crate::config::Config;
use crate::debates::Evening;

/// A step: a script rendered from a template, run by command-runner.jar on the master.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Step {
    pub name: String,
    /// Staged file name (also its name under `<home>/dw/steps/` on the node).
    pub script: String,
    pub template: &'static str,
    /// For a job's start step: the job and its arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub(crate) struct Job {
    /// Names its pid, log and heartbeat files on the node.
    pub name: String,
    /// The installed binary it runs.
    pub binary: String,
    pub args: Vec<String>,
    pub health_timeout_secs: i64,
}

/// The placeholder the start step replaces with the master's broker address.
pub(crate) const KAFKA_HOST: &str = "@KAFKA_HOST@";

pub(crate) fn kafka_url(config: &Config) -> String {
    format!(
        "kafka://{KAFKA_HOST}:{}/{}",
        config.kafka.port, config.kafka.topic
    )
}

/// Where the scorers write their parts and the merger the windows.
pub(crate) fn results(config: &Config) -> String {
    dw_pipeline::results::Results::new(&config.s3.results_prefix).location(&config.s3.bucket)
}

/// The placeholder the replay's last step replaces with dw-ingest's heartbeat file.
pub(crate) const INGEST_STATUS: &str = "@INGEST_STATUS@";

/// The steps: the topic, dw-ingest (the stream, or a replay's `archive` at full speed), and the
/// merger (a replay's merges until the archive is scored, and its end ends the cluster).
pub(crate) fn steps(config: &Config, evening: &Evening, archive: Option<&str>) -> Vec<Step> {
    let kafka = kafka_url(config);
    let candidates = evening.candidates();
    let terms: Vec<&str> = candidates
        .iter()
        .flat_map(|c| c.candidate.terms.iter().map(crate::debates::Term::as_str))
        .collect();
    let date = evening.date.to_string();
    let health = config.jobs.health_timeout.as_secs();

    let ingest = Job {
        name: "dw-ingest".into(),
        binary: "dw-ingest".into(),
        args: match archive {
            Some(uri) => vec![
                "--from".into(),
                uri.to_string(),
                "--to".into(),
                kafka.clone(),
                "--pace".into(),
                "max".into(),
            ],
            None => ingest::live_args(config, evening, kafka, &terms),
        },
        health_timeout_secs: health,
    };
    let mut merge = Job {
        name: "dw-merge".into(),
        binary: "dw-score".into(),
        args: vec![
            "merge".into(),
            "--from".into(),
            results(config),
            "--to".into(),
            results(config),
            "--debate".into(),
            date,
            "--follow".into(),
            "--every-secs".into(),
            "5".into(),
        ],
        health_timeout_secs: health,
    };
    let merging = if archive.is_some() {
        merge
            .args
            .extend(["--until-replayed".into(), INGEST_STATUS.into()]);
        Step {
            name: "Merge until the archive is scored (the cluster then ends)".into(),
            script: "finish-replay.sh".into(),
            template: "steps/finish-replay.sh",
            job: Some(merge),
        }
    } else {
        Step {
            name: "Start merging the scorers' parts".into(),
            script: "start-merge.sh".into(),
            template: "steps/start-job.sh",
            job: Some(merge),
        }
    };
    vec![
        Step {
            name: format!("Create the {} topic", config.kafka.topic),
            script: "create-topic.sh".into(),
            template: "steps/create-topic.sh",
            job: None,
        },
        Step {
            name: "Start ingest".into(),
            script: "start-ingest.sh".into(),
            template: "steps/start-job.sh",
            job: Some(ingest),
        },
        merging,
    ]
}
