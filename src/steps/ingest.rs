//! dw-ingest's command line on the cluster for each live source.

use crate::config::{Config, Stream};
use crate::debates::Evening;

/// dw-ingest's arguments for the live stream: Twitter's with its credentials' place (never the
/// credentials), Bluesky's with no secret at all, from the evening's start (so that a cluster
/// launched late, or again the next morning, reads the evening from its beginning).
pub(super) fn live_args(
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
