//! Which steps a cluster plan has. EMR 4.x runs steps one at a time, so each long-running job's
//! step starts it detached and returns once the job is healthy.

use serde::Serialize;

use crate::config::Config;
use crate::debates::Evening;

/// A step: a script rendered from a template, run by command-runner.jar on the master.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Step {
    pub name: String,
    /// Staged file name (also its name under `<home>/dw/steps/` on the node).
    pub script: String,
    pub template: &'static str,
    /// For a job's start step: the job and its arguments.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub job: Option<Job>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Job {
    pub name: String,
    pub args: Vec<String>,
    pub health_timeout_secs: i64,
}

/// The placeholder the start step replaces with the master's broker address.
pub const KAFKA_HOST: &str = "@KAFKA_HOST@";

pub fn steps(config: &Config, evening: &Evening) -> Vec<Step> {
    let kafka = format!(
        "kafka://{KAFKA_HOST}:{}/{}",
        config.kafka.port, config.kafka.topic
    );
    let candidates = evening.candidates();
    let terms: Vec<&str> = candidates
        .iter()
        .flat_map(|c| c.candidate.terms.iter().map(crate::debates::Term::as_str))
        .collect();
    let date = evening.date.to_string();
    let health = config.jobs.health_timeout.as_secs();

    let mut ingest = Job {
        name: "dw-ingest".into(),
        args: vec![
            "--from".into(),
            config.jobs.stream.as_str().into(),
            "--to".into(),
            kafka.clone(),
            "--track".into(),
            terms.join(","),
            "--credentials".into(),
            config.jobs.credentials.as_str().to_string(),
        ],
        health_timeout_secs: health,
    };
    if let Some(url) = &config.jobs.stream_url {
        ingest.args.push("--stream-url".into());
        ingest.args.push(url.clone());
    }
    let mut score_args = vec![
        "--from".into(),
        format!("{kafka}?group=dw-score"),
        "--to".into(),
        format!(
            "s3://{}/{}",
            config.s3.bucket,
            config.s3.results_prefix.trim_matches('/')
        ),
        "--debate".into(),
        date,
        "--window-secs".into(),
        config.jobs.window.as_secs().to_string(),
        "--lateness-secs".into(),
        config.jobs.lateness.as_secs().to_string(),
    ];
    for c in &candidates {
        score_args.push("--candidate".into());
        let terms: Vec<&str> = c.candidate.terms.iter().map(|t| t.as_str()).collect();
        score_args.push(format!("{}={}", c.key, terms.join(",")));
    }
    let score = Job {
        name: "dw-score".into(),
        args: score_args,
        health_timeout_secs: health,
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
        Step {
            name: "Start scoring".into(),
            script: "start-score.sh".into(),
            template: "steps/start-job.sh",
            job: Some(score),
        },
    ]
}
