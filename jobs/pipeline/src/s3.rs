//! S3 for the jobs and the replay: one way to build the client (path-style addressing whenever
//! an endpoint override such as moto is in use), and the key listing archives are read in.

use aws_sdk_s3::Client;

use crate::error::Error;

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

/// The object at `key`, its body still to be read.
async fn object(
    s3: &Client,
    bucket: &str,
    key: &str,
) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, Error> {
    object_with(s3, bucket, key, |e| Error::s3("GetObject", bucket, key, &e)).await
}

/// The S3 error of a GetObject, for callers that classify it themselves (dw's error report).
pub type GetError = aws_sdk_s3::error::SdkError<
    aws_sdk_s3::operation::get_object::GetObjectError,
    aws_sdk_s3::config::http::HttpResponse,
>;

/// One object (its body still to be read), with the caller's own error.
pub async fn object_with<E>(
    s3: &Client,
    bucket: &str,
    key: &str,
    error: impl Fn(GetError) -> E,
) -> Result<aws_sdk_s3::operation::get_object::GetObjectOutput, E> {
    s3.get_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .map_err(error)
}

/// The whole object at `key` (small objects: windows, credentials).
pub async fn get(s3: &Client, bucket: &str, key: &str) -> Result<Vec<u8>, Error> {
    Ok(object(s3, bucket, key)
        .await?
        .body
        .collect()
        .await
        .map_err(|e| body_error(bucket, key, &e))?
        .into_bytes()
        .to_vec())
}

/// Writes the object at `key` into the file `dest`, as it arrives (never whole in memory).
pub async fn download(
    s3: &Client,
    bucket: &str,
    key: &str,
    dest: &std::path::Path,
) -> Result<(), Error> {
    use std::io::Write;
    let mut obj = object(s3, bucket, key).await?;
    let file = std::fs::File::create(dest).map_err(|e| Error::file(dest, e))?;
    let mut out = std::io::BufWriter::new(file);
    while let Some(chunk) = obj
        .body
        .try_next()
        .await
        .map_err(|e| body_error(bucket, key, &e))?
    {
        out.write_all(&chunk).map_err(|e| Error::file(dest, e))?;
    }
    out.flush().map_err(|e| Error::file(dest, e))
}

/// A body that broke off while it was read.
fn body_error(bucket: &str, key: &str, e: &dyn std::error::Error) -> Error {
    Error::S3 {
        operation: "GetObject",
        bucket: bucket.to_string(),
        key: key.to_string(),
        code: None,
        message: e.to_string(),
    }
}

/// The objects under `prefix` downloaded into a new temporary directory, in key order, each
/// keeping its name's ending (`.gz` is unzipped when read): what [`crate::lines::Archives`]
/// reads. Empty when the prefix holds no object.
pub async fn download_archive(
    s3: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<(tempfile::TempDir, Vec<std::path::PathBuf>), Error> {
    let dir = tempfile::tempdir().map_err(|e| Error::file(std::env::temp_dir(), e))?;
    let mut paths = Vec::new();
    for (i, key) in list_keys(s3, bucket, prefix).await?.iter().enumerate() {
        let name = key.rsplit('/').next().unwrap_or("object");
        let path = dir.path().join(format!("{i:06}-{name}"));
        download(s3, bucket, key, &path).await?;
        paths.push(path);
    }
    Ok((dir, paths))
}

/// Every key under `prefix`, in key order (the order an archive is replayed in).
pub async fn list_keys(s3: &Client, bucket: &str, prefix: &str) -> Result<Vec<String>, Error> {
    list_keys_with(s3, bucket, prefix, |e| {
        Error::s3("ListObjectsV2", bucket, prefix, &e)
    })
    .await
}

/// The S3 error of a listing, for callers that classify it themselves (dw's error report).
pub type ListError = aws_sdk_s3::error::SdkError<
    aws_sdk_s3::operation::list_objects_v2::ListObjectsV2Error,
    aws_sdk_s3::config::http::HttpResponse,
>;

/// [`list_keys`], with the caller's own error.
pub async fn list_keys_with<E>(
    s3: &Client,
    bucket: &str,
    prefix: &str,
    error: impl Fn(ListError) -> E,
) -> Result<Vec<String>, E> {
    Ok(list_with_etags_with(s3, bucket, prefix, error)
        .await?
        .into_iter()
        .map(|(key, _)| key)
        .collect())
}

/// Every object under `prefix` with its ETag, in key order (what changed since the last look).
pub async fn list_with_etags(
    s3: &Client,
    bucket: &str,
    prefix: &str,
) -> Result<Vec<(String, String)>, Error> {
    list_with_etags_with(s3, bucket, prefix, |e| {
        Error::s3("ListObjectsV2", bucket, prefix, &e)
    })
    .await
}

/// [`list_with_etags`], with the caller's own error: the one listing (paginated) here.
async fn list_with_etags_with<E>(
    s3: &Client,
    bucket: &str,
    prefix: &str,
    error: impl Fn(ListError) -> E,
) -> Result<Vec<(String, String)>, E> {
    let mut out = Vec::new();
    let mut pages = s3
        .list_objects_v2()
        .bucket(bucket)
        .prefix(prefix)
        .into_paginator()
        .send();
    while let Some(page) = pages.next().await {
        let page = page.map_err(&error)?;
        out.extend(page.contents().iter().filter_map(|o| {
            Some((
                o.key()?.to_string(),
                o.e_tag().unwrap_or_default().to_string(),
            ))
        }));
    }
    out.sort();
    Ok(out)
}

/// The objects at `keys`, fetched 16 at a time (small objects: windows, heartbeats); in the
/// order of `keys`. An object gone since it was listed is left out.
pub async fn get_many(
    s3: &Client,
    bucket: &str,
    keys: &[String],
) -> Result<Vec<(String, Vec<u8>)>, Error> {
    use futures_util::StreamExt;
    type Fetched = Result<Option<(String, Vec<u8>)>, Error>;
    let fetched: Vec<Fetched> = futures_util::stream::iter(keys.iter().cloned())
        .map(|key| async move {
            match object_with(s3, bucket, &key, |e| e).await {
                Ok(o) => {
                    let body = o
                        .body
                        .collect()
                        .await
                        .map_err(|e| body_error(bucket, &key, &e))?;
                    Ok(Some((key, body.into_bytes().to_vec())))
                }
                Err(e)
                    if e.as_service_error().is_some_and(
                        aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                    ) =>
                {
                    Ok(None)
                }
                Err(e) => Err(Error::s3("GetObject", bucket, &key, &e)),
            }
        })
        .buffered(16)
        .collect()
        .await;
    let mut out = Vec::new();
    for f in fetched {
        if let Some(kv) = f? {
            out.push(kv);
        }
    }
    Ok(out)
}

/// Writes a small JSON object (a window, a heartbeat), encrypted at rest.
pub async fn put_json(s3: &Client, bucket: &str, key: &str, body: Vec<u8>) -> Result<(), Error> {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .content_type("application/json")
        .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
        .body(body.into())
        .send()
        .await
        .map(|_| ())
        .map_err(|e| Error::s3("PutObject", bucket, key, &e))
}
