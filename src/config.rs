//! `configs/dw.toml`: where dw works (region, bucket), what it launches (EMR release, instance
//! groups) and how it bids. Unknown keys and bad values are errors that point at the line.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::tomlfile;
use crate::units::{Dollars, Duration, InstanceType, ReleaseLabel};

/// The configuration shipped in the repository, used when no `--config` is given and
/// `configs/dw.toml` is not in the working directory.
pub(crate) const BUILT_IN: &str = include_str!("../configs/dw.toml");
pub(crate) const DEFAULT_PATH: &str = "configs/dw.toml";

/// The environment variable that names the configuration file (after `--config`).
pub(crate) const CONFIG_ENV: &str = "DW_CONFIG";
const HINT: &str = "every key is described in the configs/dw.toml shipped with dw";

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Config {
    /// AWS region; `--region`, then this, then the AWS profile/environment.
    pub region: Option<String>,
    /// The debate calendar, relative to this file.
    #[serde(default = "default_debates")]
    pub debates: PathBuf,
    pub s3: S3Config,
    pub emr: EmrConfig,
    pub spot: SpotConfig,
    pub zookeeper: ZookeeperConfig,
    pub kafka: KafkaConfig,
    pub stream: StreamConfig,
    pub jobs: JobsConfig,
    pub watchdog: WatchdogConfig,
    /// Where things live on a cluster node (the sandbox tests point these elsewhere).
    #[serde(default)]
    pub node: NodeConfig,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ZookeeperConfig {
    pub url: String,
    /// The tarball's published checksum (see [`Checksum::parse`]); empty until set. `sha512`
    /// is the key's earlier name.
    #[serde(alias = "sha512")]
    pub checksum: toml::Spanned<String>,
    #[serde(default = "default_zk_port")]
    pub client_port: u16,
}

fn default_zk_port() -> u16 {
    2181
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct KafkaConfig {
    pub url: String,
    #[serde(alias = "sha512")]
    pub checksum: toml::Spanned<String>,
    #[serde(default = "default_kafka_port")]
    pub port: u16,
    #[serde(default = "default_topic")]
    pub topic: Topic,
    pub partitions: Count,
}

fn default_kafka_port() -> u16 {
    9092
}
fn default_topic() -> Topic {
    Topic("tweets".into())
}

/// A Kafka topic name as Kafka allows it: 1 to 249 of `A-Z a-z 0-9 . _ -` (so it can reach a
/// script or a command line as it is).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Topic(String);

impl Topic {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Topic {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let legal = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-');
        if (1..=249).contains(&s.len()) && s.chars().all(legal) && s != "." && s != ".." {
            Ok(Topic(s))
        } else {
            Err(format!(
                "{s:?} is not a Kafka topic name: 1 to 249 of A-Z, a-z, 0-9, `.`, `_` and `-`"
            ))
        }
    }
}

impl From<Topic> for String {
    fn from(t: Topic) -> String {
        t.0
    }
}

/// Where dw-ingest reads the stream credentials: `env`, `ssm:/PATH` or `s3://BUCKET/KEY`.
/// Anything else is refused without being echoed (a secret pasted here must not reach a script,
/// a log or a terminal).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CredentialsSource(String);

impl CredentialsSource {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for CredentialsSource {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        let ok = s == "env"
            || s.strip_prefix("ssm:/").is_some_and(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_alphanumeric() || "/_.-".contains(c))
            })
            || dw_pipeline::endpoint::split_s3(&s).is_some_and(|(bucket, key)| {
                !bucket.is_empty() && !key.is_empty() && !s.contains(char::is_whitespace)
            });
        if ok {
            Ok(CredentialsSource(s))
        } else {
            Err(format!(
                "{}stream.credentials says where dw-ingest reads the stream credentials, not what \
                 they are: write env, ssm:/PATH or s3://BUCKET/KEY (the value is not shown: it \
                 may be a secret)",
                crate::tomlfile::SECRET
            ))
        }
    }
}

impl From<CredentialsSource> for String {
    fn from(c: CredentialsSource) -> String {
        c.0
    }
}

impl std::fmt::Display for Topic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct JobsConfig {
    /// Directory of the cluster builds of dw-ingest and dw-score, relative to this file.
    pub binaries: PathBuf,
    pub window: Duration,
    pub lateness: Duration,
    /// dw-score members in the cluster's consumer group, spread evenly over the core and task
    /// nodes; `"auto"` (the default): one per such node.
    #[serde(default)]
    pub score_workers: ScoreWorkers,
    pub health_timeout: Duration,
}

/// The live source dw-ingest reads on the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Stream {
    /// Bluesky's Jetstream: public, free, no credentials.
    Bluesky,
    TwitterV1,
    TwitterV2,
}

impl Stream {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Stream::Bluesky => "bluesky",
            Stream::TwitterV1 => "twitter-v1",
            Stream::TwitterV2 => "twitter-v2",
        }
    }
}

/// `[stream]`: what dw-ingest reads live, checked as a whole (a Twitter stream needs
/// credentials, Bluesky takes none; a URL must be of the source's kind).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(try_from = "RawStream")]
pub(crate) struct StreamConfig {
    pub source: Stream,
    /// Twitter: `env`, `ssm:/path` or `s3://bucket/key`, where dw-ingest reads its credentials
    /// at start (never the credentials themselves).
    pub credentials: Option<CredentialsSource>,
    /// Another endpoint: Twitter's stream behind a proxy, or Jetstream instances
    /// (`jetstream+wss://HOST/subscribe`, several comma-separated; default: Bluesky's public ones).
    pub url: Option<String>,
    /// Bluesky: only posts that declare this language (`en`, `es`, ...).
    pub lang: Option<Lang>,
}

/// A language as posts declare theirs: a BCP-47 primary tag (`en`, `es`, `pt`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub(crate) struct Lang(String);

impl Lang {
    pub(crate) fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Lang {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        if (2..=8).contains(&s.len()) && s.chars().all(|c| c.is_ascii_alphabetic()) {
            Ok(Lang(s.to_ascii_lowercase()))
        } else {
            Err(format!(
                "{s:?} is not a language: a BCP-47 primary tag such as en or es"
            ))
        }
    }
}

impl From<Lang> for String {
    fn from(l: Lang) -> String {
        l.0
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStream {
    source: Stream,
    credentials: Option<CredentialsSource>,
    url: Option<String>,
    lang: Option<Lang>,
}

impl TryFrom<RawStream> for StreamConfig {
    type Error = String;
    fn try_from(r: RawStream) -> Result<Self, String> {
        match (r.source, &r.credentials) {
            (Stream::Bluesky, Some(_)) => {
                return Err(
                    "Bluesky's Jetstream is public: remove `credentials` from [stream] \
                            (it is for twitter-v1 and twitter-v2)"
                        .into(),
                );
            }
            (Stream::TwitterV1 | Stream::TwitterV2, None) => {
                return Err(format!(
                    "a {} stream needs `credentials`: where dw-ingest reads them at start \
                     (env, ssm:/PATH or s3://BUCKET/KEY)",
                    r.source.as_str()
                ));
            }
            _ => {}
        }
        if let Some(url) = &r.url {
            let ok = match r.source {
                Stream::Bluesky => matches!(
                    url.parse::<dw_pipeline::endpoint::Endpoint>(),
                    Ok(dw_pipeline::endpoint::Endpoint::Jetstream(_))
                ),
                _ => {
                    (url.starts_with("https://") || url.starts_with("http://"))
                        && !url.contains(char::is_whitespace)
                }
            };
            if !ok {
                return Err(match r.source {
                    Stream::Bluesky => format!(
                        "{url:?} is not a Jetstream instance: jetstream+wss://HOST/subscribe \
                         (several separated by commas)"
                    ),
                    _ => format!("{url:?} is not an http(s) URL of a Twitter stream"),
                });
            }
        }
        if r.lang.is_some() && r.source != Stream::Bluesky {
            return Err("`lang` filters Bluesky posts by their declared language: \
                        Twitter's stream takes no such setting here"
                .into());
        }
        Ok(StreamConfig {
            source: r.source,
            credentials: r.credentials,
            url: r.url,
            lang: r.lang,
        })
    }
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WatchdogConfig {
    pub margin: Duration,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub(crate) struct NodeConfig {
    pub home: String,
    pub mnt: String,
    pub instance_json: String,
    /// Where a node reads the cluster's facts, the master's address among them.
    pub job_flow_json: String,
    /// The host name Kafka advertises; empty: the node's own (`hostname -f`).
    pub hostname: String,
    /// How the watchdog stops the master.
    pub shutdown: String,
}

impl Default for NodeConfig {
    fn default() -> Self {
        NodeConfig {
            home: "/home/hadoop".into(),
            mnt: "/mnt".into(),
            instance_json: "/mnt/var/lib/info/instance.json".into(),
            job_flow_json: "/mnt/var/lib/info/job-flow.json".into(),
            hostname: String::new(),
            shutdown: "sudo shutdown -h now".into(),
        }
    }
}

fn default_debates() -> PathBuf {
    PathBuf::from("debates.toml")
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct S3Config {
    /// Bucket for staged scripts and binaries, results and logs. Empty: not configured yet.
    pub bucket: String,
    #[serde(default = "default_stage_prefix")]
    pub stage_prefix: String,
    #[serde(default = "default_results_prefix")]
    pub results_prefix: String,
    /// EMR log URI; default `s3://<bucket>/dw/logs/`.
    pub log_uri: Option<String>,
}

fn default_stage_prefix() -> String {
    "dw/stage".into()
}
fn default_results_prefix() -> String {
    "dw/results".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct EmrConfig {
    pub release_label: ReleaseLabel,
    #[serde(default = "default_service_role")]
    pub service_role: String,
    #[serde(default = "default_job_flow_role")]
    pub job_flow_role: String,
    pub key_pair: Option<String>,
    /// Subnet per availability zone (VPC launches). When set, the cluster goes into the subnet of
    /// the chosen zone, and a zone without one is an error.
    #[serde(default)]
    pub subnets: BTreeMap<String, String>,
    pub master: InstanceGroup,
    pub core: InstanceGroup,
    pub task: Option<InstanceGroup>,
}

fn default_service_role() -> String {
    "EMR_DefaultRole".into()
}
fn default_job_flow_role() -> String {
    "EMR_EC2_DefaultRole".into()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct InstanceGroup {
    pub instance_type: InstanceType,
    #[serde(default = "one")]
    pub count: Count,
    pub market: Market,
}

fn one() -> Count {
    Count(1)
}

/// How many dw-score members a cluster runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub(crate) enum ScoreWorkers {
    /// One per core and task node.
    #[default]
    Auto,
    Exactly(Count),
}

impl ScoreWorkers {
    /// The members, given the nodes that score (core + task instances).
    pub(crate) fn total(self, scoring_nodes: u32) -> u32 {
        match self {
            ScoreWorkers::Auto => scoring_nodes,
            ScoreWorkers::Exactly(n) => n.0,
        }
    }
}

impl Serialize for ScoreWorkers {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            ScoreWorkers::Auto => s.serialize_str("auto"),
            ScoreWorkers::Exactly(n) => n.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for ScoreWorkers {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Raw {
            Number(i64),
            Word(String),
        }
        match Raw::deserialize(d)? {
            Raw::Number(n) => Count::try_from(n)
                .map(ScoreWorkers::Exactly)
                .map_err(serde::de::Error::custom),
            Raw::Word(w) if w == "auto" => Ok(ScoreWorkers::Auto),
            Raw::Word(w) => Err(serde::de::Error::custom(format!(
                "`{w}` is not a number of scorers or \"auto\""
            ))),
        }
    }
}

/// An instance count, 1 or more.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Count(pub u32);

impl TryFrom<i64> for Count {
    type Error = String;
    fn try_from(v: i64) -> Result<Self, String> {
        u32::try_from(v)
            .ok()
            .filter(|&n| (1..=256).contains(&n))
            .map(Count)
            .ok_or_else(|| format!("{v} is out of range: a count from 1 to 256"))
    }
}

impl From<Count> for i64 {
    fn from(c: Count) -> i64 {
        c.0.into()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub(crate) enum Market {
    OnDemand,
    Spot,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SpotConfig {
    /// Product description of the spot prices to read.
    #[serde(default = "default_product")]
    pub product: String,
    /// How far back `dw spot quote` looks.
    pub lookback: Duration,
    /// Bid = max(floor, mean x (1 + markup)).
    pub markup: Markup,
    pub floor: Dollars,
    /// The floor on a debate night (`--debate`, `cluster up`).
    pub debate_night_floor: Dollars,
    /// The bid policy of quotes and launches (`--policy` overrides it).
    #[serde(default = "default_policy")]
    pub policy: crate::spot::Policy,
    /// On-demand prices in $/hour by instance type, beside (or instead of) the built-in table
    /// of us-east-1's 2016 prices.
    #[serde(default)]
    pub on_demand: std::collections::BTreeMap<String, Dollars>,
    /// A spot group still short of its count this long after the launch gets the missing
    /// capacity on demand (an on-demand task group); `up --no-fallback` turns it off.
    #[serde(default = "default_fallback_after")]
    pub fallback_after: Duration,
}

fn default_fallback_after() -> Duration {
    Duration::from_secs(600)
}

fn default_policy() -> crate::spot::Policy {
    crate::spot::Policy::Dw
}

fn default_product() -> String {
    "Linux/UNIX".into()
}

/// A fraction added to the mean price: 0.20 is +20%. Between 0 and 10.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(try_from = "f64", into = "f64")]
pub struct Markup(pub f64);

impl TryFrom<f64> for Markup {
    type Error = String;
    fn try_from(v: f64) -> Result<Self, String> {
        if (0.0..=10.0).contains(&v) {
            Ok(Markup(v))
        } else {
            Err(format!(
                "markup {v} is out of range: write a fraction from 0 to 10 (0.20 = +20%)"
            ))
        }
    }
}

impl From<Markup> for f64 {
    fn from(m: Markup) -> f64 {
        m.0
    }
}

/// A tarball's checksum as Apache publishes it, normalised: the algorithm and lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub(crate) struct Checksum {
    pub algo: &'static str,
    pub hex: String,
}

impl Checksum {
    /// Reads `sha512:HEX`, `sha256:HEX`, `sha1:HEX` or bare hex (the length says which), in
    /// any case, with spaces and line breaks anywhere and the `FILE:` prefix of `gpg
    /// --print-md` (Apache's `.sha512` files) or the `  FILE` suffix of `sha512sum` tolerated.
    /// `Ok(None)` when empty.
    pub(crate) fn parse(text: &str) -> std::result::Result<Option<Checksum>, String> {
        let trimmed = text.trim();
        if trimmed.is_empty() {
            return Ok(None);
        }
        let lengths = [("sha1", 40), ("sha256", 64), ("sha512", 128)];
        let (named, rest) = match trimmed.split_once(':') {
            Some((algo, rest)) => match lengths
                .iter()
                .find(|(a, _)| a.eq_ignore_ascii_case(algo.trim()))
            {
                Some((a, _)) => (Some(*a), rest),
                // `gpg --print-md`: "kafka_2.11-1.1.1.tgz: 4E1E 5D66 ..."
                None if !algo.trim().chars().all(|c| c.is_ascii_hexdigit()) => (None, rest),
                None => (None, trimmed),
            },
            None => (None, trimmed),
        };
        // `sha512sum`: "HEX  FILE"; `gpg --print-md`: groups of hex with spaces.
        let words: Vec<&str> = rest.split_whitespace().collect();
        let hex_words: Vec<&str> = match words.split_last() {
            Some((last, first))
                if !first.is_empty() && !last.chars().all(|c| c.is_ascii_hexdigit()) =>
            {
                first.to_vec()
            }
            _ => words,
        };
        let hex: String = hex_words.concat().to_ascii_lowercase();
        let bad = || {
            "not a checksum: write it as Apache publishes it, e.g. sha512:<128 hex digits>, \
             sha256:<64> or sha1:<40> (spaces, any case and gpg's FILE: prefix are fine)"
                .to_string()
        };
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(bad());
        }
        let by_length = lengths
            .iter()
            .find(|(_, n)| *n == hex.len())
            .map(|(a, _)| *a);
        match (named, by_length) {
            (Some(a), Some(b)) if a == b => Ok(Some(Checksum { algo: a, hex })),
            (Some(a), _) => Err(format!(
                "a {a} checksum has {} hex digits, and this one {}",
                lengths.iter().find(|(x, _)| *x == a).map_or(0, |(_, n)| *n),
                hex.len()
            )),
            (None, Some(b)) => Ok(Some(Checksum { algo: b, hex })),
            (None, None) => Err(bad()),
        }
    }
}

/// A loaded configuration and where it came from.
#[derive(Debug, Clone)]
pub(crate) struct Loaded {
    pub config: Config,
    /// The file it was read from; `None` for the built-in configuration.
    pub path: Option<PathBuf>,
    /// Its text, for errors found after loading that point at a line.
    pub text: String,
}

/// How errors name the built-in configuration.
pub(crate) const BUILT_IN_NAME: &str = "<built-in configs/dw.toml>";

impl Loaded {
    /// The name errors give the configuration: its path, or the built-in copy's.
    pub(crate) fn name(&self) -> String {
        self.path
            .as_ref()
            .map_or_else(|| BUILT_IN_NAME.to_string(), |p| p.display().to_string())
    }

    /// The line (1-based) of byte offset `at` in the configuration's text.
    pub(crate) fn line_of(&self, at: usize) -> usize {
        self.text[..at.min(self.text.len())].matches('\n').count() + 1
    }

    /// Reads `--config FILE`; without it, `configs/dw.toml` when present, else the built-in one.
    pub(crate) fn load(explicit: Option<&Path>) -> Result<Loaded> {
        match Loaded::find(explicit) {
            Some(path) => {
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Read {
                    path: path.clone(),
                    source,
                })?;
                let config = parse(&path.display().to_string(), &text)?;
                Ok(Loaded {
                    config,
                    path: Some(path),
                    text,
                })
            }
            None => Ok(Loaded {
                config: parse(BUILT_IN_NAME, BUILT_IN)?,
                path: None,
                text: BUILT_IN.to_string(),
            }),
        }
    }

    /// Which file to read: `--config`, else `DW_CONFIG`, else `./configs/dw.toml`, else
    /// `$XDG_CONFIG_HOME/dw/dw.toml` (`~/.config/dw/dw.toml`); `None`: the built-in copy.
    /// A file named explicitly must exist; the others are looked for.
    pub(crate) fn find(explicit: Option<&Path>) -> Option<PathBuf> {
        if let Some(p) = explicit {
            return Some(p.to_path_buf());
        }
        if let Some(p) = std::env::var_os(CONFIG_ENV).filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(p));
        }
        let xdg = std::env::var_os("XDG_CONFIG_HOME")
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
            .map(|d| d.join("dw").join("dw.toml"));
        std::iter::once(PathBuf::from(DEFAULT_PATH))
            .chain(xdg)
            .find(|p| p.is_file())
    }

    /// Resolves `rel` against the config file's directory (the working directory for the
    /// built-in configuration).
    pub(crate) fn relative(&self, rel: &Path) -> PathBuf {
        let joined = match &self.path {
            Some(p) => p.parent().unwrap_or_else(|| Path::new(".")).join(rel),
            None => PathBuf::from("configs").join(rel),
        };
        lexically_normal(&joined)
    }

    /// Where the debate calendar is: `debates` relative to the config file.
    pub(crate) fn debates_path(&self) -> Option<PathBuf> {
        self.path.as_ref().map(|p| {
            p.parent()
                .unwrap_or_else(|| Path::new("."))
                .join(&self.config.debates)
        })
    }
}

/// `configs/../data` -> `data`, without touching the file system (paths shown to people).
pub(crate) fn lexically_normal(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out: Vec<Component<'_>> = Vec::new();
    for c in path.components() {
        match (c, out.last()) {
            (Component::CurDir, _) => {}
            (Component::ParentDir, Some(Component::Normal(_))) => {
                out.pop();
            }
            _ => out.push(c),
        }
    }
    if out.is_empty() {
        PathBuf::from(".")
    } else {
        out.iter().collect()
    }
}

pub(crate) fn parse(path: &str, text: &str) -> Result<Config> {
    tomlfile::parse(path, text, HINT)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Apache's forms: bare hex, `algo:` prefixes, `gpg --print-md` (upper case, groups of 8,
    /// the file name first, wrapped), `sha512sum` output; all normalised to lower-case hex.
    #[test]
    fn checksums_are_read_as_apache_publishes_them() {
        let hex512 = "ab".repeat(64);
        let want = |algo: &'static str, hex: &str| {
            Ok(Some(Checksum {
                algo,
                hex: hex.to_string(),
            }))
        };
        assert_eq!(Checksum::parse(&hex512), want("sha512", &hex512));
        assert_eq!(
            Checksum::parse(&format!("SHA512:{}", hex512.to_uppercase())),
            want("sha512", &hex512)
        );
        let groups: Vec<String> = hex512
            .to_uppercase()
            .as_bytes()
            .chunks(8)
            .map(|c| String::from_utf8(c.to_vec()).unwrap())
            .collect();
        let print_md = format!(
            "kafka_2.11-1.1.1.tgz: {}\n                      {}",
            groups[..8].join(" "),
            groups[8..].join(" ")
        );
        assert_eq!(Checksum::parse(&print_md), want("sha512", &hex512));
        let sha1 = "0123456789abcdef0123456789abcdef01234567";
        assert_eq!(
            Checksum::parse(&format!("{sha1}  zookeeper-3.4.14.tar.gz")),
            want("sha1", sha1)
        );
        assert_eq!(
            Checksum::parse(&format!("sha1:{}", sha1.to_uppercase())),
            want("sha1", sha1)
        );
        let sha256 = "93b6f926b10b3ba826266272e3bd9d0fe8b33046da9a2688c58d403eb0a43430";
        assert_eq!(
            Checksum::parse(&format!("sha256:{sha256}")),
            want("sha256", sha256)
        );
        assert_eq!(Checksum::parse("  "), Ok(None));
        assert!(
            Checksum::parse(&format!("sha512:{sha256}"))
                .unwrap_err()
                .contains("128 hex digits")
        );
        assert!(Checksum::parse("abc").is_err());
        assert!(Checksum::parse(&"zz".repeat(64)).is_err());
    }

    #[test]
    fn the_shipped_config_parses_and_targets_emr_4x_with_ganglia() {
        let c = parse("dw.toml", BUILT_IN).unwrap();
        assert!(c.emr.release_label.has_ganglia_application());
        assert_eq!(c.emr.core.market, Market::Spot);
        assert_eq!(c.emr.master.market, Market::OnDemand);
        assert_eq!(c.spot.markup.0, 0.20);
        assert_eq!(c.spot.floor.get(), 0.02);
        assert_eq!(c.spot.lookback.as_secs(), 3600);
    }

    #[test]
    fn relative_paths_are_shown_without_detours() {
        assert_eq!(
            lexically_normal(Path::new("configs/../data/x")),
            PathBuf::from("data/x")
        );
        assert_eq!(
            lexically_normal(Path::new("../a/./b")),
            PathBuf::from("../a/b")
        );
        assert_eq!(
            lexically_normal(Path::new("/etc/dw/../dw.toml")),
            PathBuf::from("/etc/dw.toml")
        );
        assert_eq!(
            lexically_normal(Path::new("configs/..")),
            PathBuf::from(".")
        );
    }

    #[test]
    fn a_bad_value_points_at_its_line() {
        let text = BUILT_IN.replace("markup = 0.20", "markup = -1.0");
        let line = text.lines().position(|l| l.starts_with("markup")).unwrap() + 1;
        match parse("dw.toml", &text).unwrap_err() {
            Error::Toml {
                line: l, message, ..
            } => {
                assert_eq!(l, line);
                assert!(message.contains("markup -1 is out of range"), "{message}");
            }
            e => panic!("{e:?}"),
        }
    }
}
