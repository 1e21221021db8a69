//! The scorers' command line. The scorers are not steps: the `scorers.sh` bootstrap action
//! (`templates/bootstrap/scorers.sh.hbs`) starts one on every core and task node, so that
//! nodes added later (a resize, the on-demand fallback) score too.

use crate::config::Config;
use crate::debates::Evening;
use crate::steps::{Job, kafka_url, results};

/// A scorer's command line (each member adds its `--member` name and `--status` file). In a
/// replay it stops a minute after its input is spent.
pub(crate) fn command(config: &Config, evening: &Evening, replay: bool) -> Job {
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
            .map(crate::debates::Term::as_str)
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
