//! Which steps a cluster plan has, and the scorers' command line. EMR 4.x runs steps one at a
//! time, on the master, so each long-running job's step starts it detached and returns once the
//! job is healthy. The scorers are not steps: a bootstrap action starts them on every core and
//! task node (`templates/bootstrap/scorers.sh.hbs`), so that nodes added later (a resize, the
//! on-demand fallback) score too.

use serde::Serialize;

use crate::config::{Config, Stream};
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

fn kafka_url(config: &Config) -> String {
    format!(
        "kafka://{KAFKA_HOST}:{}/{}",
        config.kafka.port, config.kafka.topic
    )
}

/// Where the scorers write their parts and the merger the windows.
fn results(config: &Config) -> String {
    dw_pipeline::results::Results::new(&config.s3.results_prefix).location(&config.s3.bucket)
}

/// The placeholder the replay's last step replaces with dw-ingest's heartbeat file.
pub(crate) const INGEST_STATUS: &str = "@INGEST_STATUS@";

/// A scorer's command line (each member adds its `--member` name and `--status` file). In a
/// replay it stops a minute after its input is spent.
pub(crate) fn scorer(config: &Config, evening: &Evening, replay: bool) -> Job {
    let mut args = vec![
        "--from".into(),
        format!("{}?group=dw-score", kafka_url(config)),
        "--to".into(),
        results(config),
        "--debate".into(),
        evening.date.to_string(),
        "--window-secs".into(),
        config.jobs.window.as_secs().to_string(),
        "--lateness-secs".into(),
        config.jobs.lateness.as_secs().to_string(),
        // The topic appears after the scorers start (the master's steps create it): look for
        // it every 10 s rather than librdkafka's 5 min.
        "--kafka-option".into(),
        "topic.metadata.refresh.interval.ms=10000".into(),
    ];
    if replay {
        args.extend(["--stop-after-idle-secs".into(), "60".into()]);
    }
    for c in evening.candidates() {
        args.push("--candidate".into());
        let terms: Vec<&str> = c
            .candidate
            .terms
            .iter()
            .map(super::debates::Term::as_str)
            .collect();
        args.push(format!("{}={}", c.key, terms.join(",")));
    }
    Job {
        name: "dw-score".into(),
        binary: "dw-score".into(),
        args,
        health_timeout_secs: config.jobs.health_timeout.as_secs(),
    }
}

/// dw-ingest's arguments for the live stream: Twitter's with its credentials' place (never the
/// credentials), Bluesky's with no secret at all, from the evening's start (so that a cluster
/// launched late, or again the next morning, reads the evening from its beginning).
fn live_ingest_args(
    config: &Config,
    evening: &Evening,
    kafka: String,
    terms: &[&str],
) -> Vec<String> {
    let stream = &config.stream;
    let from = match (stream.source, &stream.url) {
        (Stream::Bluesky, Some(url)) => url.clone(),
        (source, _) => source.as_str().to_string(),
    };
    let mut args = vec![
        "--from".into(),
        from,
        "--to".into(),
        kafka,
        "--track".into(),
        terms.join(","),
    ];
    match stream.source {
        Stream::Bluesky => {
            args.extend(["--since".into(), evening.start().to_string()]);
            if let Some(lang) = &stream.lang {
                args.extend(["--lang".into(), lang.as_str().to_string()]);
            }
        }
        Stream::TwitterV1 | Stream::TwitterV2 => {
            if let Some(c) = &stream.credentials {
                args.extend(["--credentials".into(), c.as_str().to_string()]);
            }
            if let Some(url) = &stream.url {
                args.extend(["--stream-url".into(), url.clone()]);
            }
        }
    }
    args
}

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
            None => live_ingest_args(config, evening, kafka, &terms),
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
