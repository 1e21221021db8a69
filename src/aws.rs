//! The one place that builds the AWS SDK configuration (profile, region, endpoint override), and
//! turns SDK errors into dw's.

use aws_config::meta::region::RegionProviderChain;
use aws_config::retry::RetryConfig;
use aws_config::{BehaviorVersion, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_sdk_ec2::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};

use crate::error::{Error, Result};

/// Where to reach AWS, from the command line and the config file.
#[derive(Debug, Clone, Default)]
pub(crate) struct AwsOptions {
    pub profile: Option<String>,
    /// `--region`.
    pub region: Option<String>,
    /// The config file's `region`: used when neither the environment (AWS_REGION,
    /// AWS_DEFAULT_REGION) nor the profile names one, as the AWS CLI's users expect.
    pub config_region: Option<String>,
    /// An AWS stand-in (moto); `AWS_ENDPOINT_URL` works too.
    pub endpoint_url: Option<String>,
}

/// Loads the SDK configuration and checks, before any call, that it has a region and credentials.
pub(crate) async fn load(opts: &AwsOptions) -> Result<SdkConfig> {
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        // Throttling and transient errors are retried with back-off by the SDK.
        .retry_config(RetryConfig::standard().with_max_attempts(5))
        // An endpoint that accepts and never answers must not hang `up` (and its lock) or
        // `down`: every call has limits, and the retries stop after the last attempt.
        .timeout_config(timeouts());
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    // --region, then AWS_REGION / AWS_DEFAULT_REGION, then the profile, then dw's config file,
    // then the rest of the SDK's chain (instance metadata).
    let mut profile_region = aws_config::profile::ProfileFileRegionProvider::builder();
    if let Some(profile) = &opts.profile {
        profile_region = profile_region.profile_name(profile);
    }
    let region_chain =
        RegionProviderChain::first_try(opts.region.clone().map(aws_config::Region::new))
            .or_else(aws_config::environment::EnvironmentVariableRegionProvider::new())
            .or_else(profile_region.build())
            .or_else(opts.config_region.clone().map(aws_config::Region::new))
            .or_default_provider();
    loader = loader.region(region_chain);
    if let Some(url) = &opts.endpoint_url {
        loader = loader.endpoint_url(url);
    }
    let config = loader.load().await;
    if let Some(region) = config.region() {
        crate::log::debug(&format!("AWS region {region}"));
    }

    if config.region().is_none() {
        return Err(Error::input_with_hint(
            "no AWS region is set",
            "pass --region, set `region` in configs/dw.toml, or set AWS_REGION",
        ));
    }
    let found = match config.credentials_provider() {
        Some(provider) => provider.provide_credentials().await.is_ok(),
        None => false,
    };
    if !found {
        return Err(no_credentials());
    }
    Ok(config)
}

/// Connect within 10 s; the first byte of an answer within `DW_AWS_TIMEOUT` seconds (default
/// 60: uploads of the job binaries included); an attempt within twice that; a whole call, its
/// retries included, within 5 minutes.
fn timeouts() -> aws_config::timeout::TimeoutConfig {
    let secs = std::env::var("DW_AWS_TIMEOUT")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&s| s > 0)
        .unwrap_or(60);
    aws_config::timeout::TimeoutConfig::builder()
        .connect_timeout(std::time::Duration::from_secs(10))
        .read_timeout(std::time::Duration::from_secs(secs))
        .operation_attempt_timeout(std::time::Duration::from_secs(secs * 2))
        .operation_timeout(std::time::Duration::from_mins(5))
        .build()
}

fn no_credentials() -> Error {
    Error::input_with_hint(
        "no AWS credentials found",
        "set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or name a profile of ~/.aws/credentials \
         with --profile or AWS_PROFILE",
    )
}

fn first_line(s: &str) -> &str {
    s.lines().next().unwrap_or(s)
}

pub(crate) fn ec2(config: &SdkConfig) -> aws_sdk_ec2::Client {
    aws_sdk_ec2::Client::new(config)
}

pub(crate) fn emr(config: &SdkConfig) -> aws_sdk_emr::Client {
    aws_sdk_emr::Client::new(config)
}

/// S3 with path-style addressing whenever an endpoint override is in use (stand-ins such as
/// moto cannot serve virtual-hosted buckets).
pub(crate) fn s3(config: &SdkConfig) -> aws_sdk_s3::Client {
    dw_pipeline::s3::client(config)
}

/// Error codes that mean the request, not AWS, was wrong: the user can act on them (exit 2).
const BAD_INPUT_CODES: &[&str] = &[
    "InvalidParameterValue",
    "InvalidParameterCombination",
    "ValidationException",
    "InvalidRequestException",
    "InvalidInstanceType",
    "NoSuchBucket",
];
const CREDENTIAL_CODES: &[&str] = &[
    "AuthFailure",
    "InvalidClientTokenId",
    "UnrecognizedClientException",
    "SignatureDoesNotMatch",
    "ExpiredToken",
    "AccessDenied",
    "AccessDeniedException",
    "UnauthorizedOperation",
];

/// Turns an SDK error into [`Error::Aws`] with a hint where the user can act.
#[allow(clippy::needless_pass_by_value)] // its callers hand the error over: `map_err(|e| ...)`
pub(crate) fn sdk_error<E, R>(operation: &'static str, err: SdkError<E, R>) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_string);
    let (message, hint, bad_input) = match &err {
        SdkError::DispatchFailure(_) | SdkError::TimeoutError(_) => (
            format!(
                "could not reach AWS ({})",
                first_line(&DisplayErrorContext(&err).to_string())
            ),
            Some(
                "check the network, or --endpoint-url / AWS_ENDPOINT_URL when using a stand-in"
                    .to_string(),
            ),
            false,
        ),
        _ => {
            let text = err
                .message()
                .map_or_else(|| DisplayErrorContext(&err).to_string(), str::to_string);
            let text = match &code {
                Some(c) => format!("{c}: {text}"),
                None => text,
            };
            let (hint, bad_input) = classify(code.as_deref());
            (text, hint.map(str::to_string), bad_input)
        }
    };
    Error::Aws {
        operation,
        message,
        hint,
        bad_input,
    }
}

/// What an AWS error code says: a hint where the user can act, and whether it is bad input
/// (exit 2) rather than a failure.
fn classify(code: Option<&str>) -> (Option<&'static str>, bool) {
    match code {
        Some(c) if CREDENTIAL_CODES.contains(&c) => (
            Some("check the AWS credentials and their permissions (--profile, AWS_PROFILE)"),
            true,
        ),
        Some("NoSuchBucket") => (
            Some(
                "check the bucket's name in the s3:// URI (or the config's [s3] bucket), and the \
                 account and region it is in",
            ),
            true,
        ),
        Some(c) if BAD_INPUT_CODES.contains(&c) => (None, true),
        _ => (None, false),
    }
}

/// An error of the shared job plumbing (dw replay reads archives with it): S3's through the
/// same classification as the SDK's own.
pub(crate) fn pipeline_error(err: dw_pipeline::error::Error) -> Error {
    match err {
        dw_pipeline::error::Error::S3 {
            operation,
            bucket,
            key,
            code,
            message,
        } => {
            let (hint, bad_input) = classify(code.as_deref());
            Error::Aws {
                operation,
                message: format!("s3://{bucket}/{key}: {message}"),
                hint: hint.map(str::to_string),
                bad_input,
            }
        }
        dw_pipeline::error::Error::File { path, source } => Error::Read { path, source },
        other @ dw_pipeline::error::Error::Kafka(_) => Error::Failed(other.to_string()),
    }
}

/// Every key under `prefix` in `bucket`, in key order; S3's errors through [`sdk_error`] (a
/// missing bucket is bad input, with a hint).
pub(crate) async fn list_keys(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<String>> {
    dw_pipeline::s3::list_keys_with(s3, bucket, prefix, |e| sdk_error("ListObjectsV2", e)).await
}

/// One object's bytes; S3's errors through [`sdk_error`].
pub(crate) async fn get_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
) -> Result<Vec<u8>> {
    let object =
        dw_pipeline::s3::object_with(s3, bucket, key, |e| sdk_error("GetObject", e)).await?;
    let body = object
        .body
        .collect()
        .await
        .map_err(|e| Error::Failed(format!("reading s3://{bucket}/{key}: {e}")))?;
    Ok(body.into_bytes().to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_jobs_s3_errors_are_classified_as_the_sdks_are() {
        let s3 = |code: Option<&str>| dw_pipeline::error::Error::S3 {
            operation: "GetObject",
            bucket: "b".into(),
            key: "k".into(),
            code: code.map(str::to_string),
            message: "it failed".into(),
        };
        let missing = pipeline_error(s3(Some("NoSuchBucket")));
        assert_eq!(missing.exit_code(), 2);
        assert!(missing.hint().is_some_and(|h| h.contains("bucket's name")));
        let denied = pipeline_error(s3(Some("AccessDenied")));
        assert!(denied.hint().is_some_and(|h| h.contains("credentials")));
        let unknown = pipeline_error(s3(None));
        assert_eq!((unknown.exit_code(), unknown.hint()), (1, None));
        assert_eq!(unknown.to_string(), "GetObject failed: s3://b/k: it failed");
    }
}
