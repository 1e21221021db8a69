//! S3 for the jobs and the replay: one way to build the client (path-style addressing whenever
//! an endpoint override such as moto is in use), and the key listing archives are read in.

use aws_sdk_s3::Client;

/// A client from the environment (credentials, region, `AWS_ENDPOINT_URL`).
pub async fn client_from_env() -> Client {
    let config = aws_config::load_from_env().await;
    client(&config)
}

/// A client for `config`, path-style when an endpoint override is set.
pub fn client(config: &aws_config::SdkConfig) -> Client {
    Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(config.endpoint_url().is_some())
            .build(),
    )
}

/// The whole object at `key`.
pub async fn get(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, String> {
    let obj = s3
        .get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(|e| {
            format!(
                "s3://{bucket}/{key}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
    Ok(obj
        .body
        .collect()
        .await
        .map_err(|e| format!("s3://{bucket}/{key}: {e}"))?
        .into_bytes()
        .to_vec())
}

/// Every key under `prefix`, in key order (the order an archive is replayed in).
pub async fn list_keys(s3: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, String> {
    let mut keys = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| {
            format!(
                "s3://{bucket}/{prefix}: {}",
                aws_sdk_s3::error::DisplayErrorContext(&e)
            )
        })?;
        keys.extend(
            page.contents()
                .iter()
                .filter_map(|o| o.key())
                .map(str::to_string),
        );
    }
    keys.sort();
    Ok(keys)
}
