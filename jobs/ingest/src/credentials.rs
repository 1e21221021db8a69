//! Stream credentials, read at start: from the environment, an SSM Parameter Store parameter
//! (a SecureString holding JSON), or an S3 object (JSON, encrypted at rest). Never from the
//! command line, never logged.

use crate::error::{Error, Result};
use serde::Deserialize;

use crate::oauth;

#[derive(Deserialize, Default)]
struct Stored {
    consumer_key: Option<String>,
    consumer_secret: Option<String>,
    access_token: Option<String>,
    access_token_secret: Option<String>,
    bearer_token: Option<String>,
}

pub(crate) enum Auth {
    OAuth1(oauth::Credentials),
    Bearer(String),
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Auth::OAuth1(_) => "Auth::OAuth1(..)",
            Auth::Bearer(_) => "Auth::Bearer(..)",
        })
    }
}

fn from_stored(s: Stored, v2: bool, origin: &str) -> Result<Auth> {
    let missing = |what: &str| Error::from(format!("{origin} has no {what}"));
    if v2 {
        return s
            .bearer_token
            .map(Auth::Bearer)
            .ok_or_else(|| missing("bearer_token"));
    }
    Ok(Auth::OAuth1(oauth::Credentials {
        consumer_key: s.consumer_key.ok_or_else(|| missing("consumer_key"))?,
        consumer_secret: s
            .consumer_secret
            .ok_or_else(|| missing("consumer_secret"))?,
        token: s.access_token.ok_or_else(|| missing("access_token"))?,
        token_secret: s
            .access_token_secret
            .ok_or_else(|| missing("access_token_secret"))?,
    }))
}

/// `env` (TWITTER_CONSUMER_KEY, ... / TWITTER_BEARER_TOKEN), `ssm:/path` or `s3://bucket/key`.
pub(crate) async fn load(source: &str, v2: bool) -> Result<Auth> {
    if source == "env" {
        let var = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        let stored = Stored {
            consumer_key: var("TWITTER_CONSUMER_KEY"),
            consumer_secret: var("TWITTER_CONSUMER_SECRET"),
            access_token: var("TWITTER_ACCESS_TOKEN"),
            access_token_secret: var("TWITTER_ACCESS_TOKEN_SECRET"),
            bearer_token: var("TWITTER_BEARER_TOKEN"),
        };
        return from_stored(stored, v2, "the environment");
    }
    let config = aws_config::load_from_env().await;
    let text = if let Some(name) = source.strip_prefix("ssm:") {
        let ssm = aws_sdk_ssm::Client::new(&config);
        let out = ssm
            .get_parameter()
            .name(name)
            .with_decryption(true)
            .send()
            .await
            .map_err(|e| {
                format!(
                    "SSM parameter {name}: {}",
                    aws_sdk_ssm::error::DisplayErrorContext(&e)
                )
            })?;
        out.parameter()
            .and_then(|p| p.value())
            .ok_or_else(|| format!("SSM parameter {name} has no value"))?
            .to_string()
    } else if let Some((bucket, key)) = dw_pipeline::endpoint::split_s3(source) {
        if key.is_empty() {
            return Err(format!("{source}: expected s3://BUCKET/KEY").into());
        }
        let s3 = dw_pipeline::s3::client(&config);
        let bytes = dw_pipeline::s3::get(&s3, bucket, key).await?;
        String::from_utf8(bytes).map_err(|_| format!("{source} is not text"))?
    } else {
        return Err(format!(
            "`{source}` is not a credentials source: env, ssm:/PATH or s3://BUCKET/KEY"
        )
        .into());
    };
    let stored: Stored = serde_json::from_str(&text)
        .map_err(|e| Error::from(format!("{source} is not the credentials JSON: {e}")))?;
    from_stored(stored, v2, source)
}
