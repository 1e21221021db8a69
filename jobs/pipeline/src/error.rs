//! What goes wrong in the shared plumbing, typed: an S3 request (with the service's error code,
//! so that dw can tell a missing bucket from a network fault), a local file, Kafka.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// An S3 request on `s3://bucket/key` failed; `code` is the service's (`NoSuchBucket`,
    /// `AccessDenied`, ...) when it answered.
    #[error("{operation} s3://{bucket}/{key}: {message}")]
    S3 {
        operation: &'static str,
        bucket: String,
        key: String,
        code: Option<String>,
        message: String,
    },
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("Kafka: {0}")]
    Kafka(String),
}

impl Error {
    /// An S3 SDK error, its code kept.
    #[cfg(feature = "s3")]
    pub fn s3<E, R>(
        operation: &'static str,
        bucket: &str,
        key: &str,
        err: &aws_sdk_s3::error::SdkError<E, R>,
    ) -> Error
    where
        E: aws_sdk_s3::error::ProvideErrorMetadata + std::error::Error + 'static,
        R: std::fmt::Debug,
    {
        Error::S3 {
            operation,
            bucket: bucket.to_string(),
            key: key.to_string(),
            code: err
                .as_service_error()
                .and_then(|e| e.code())
                .map(str::to_string),
            message: aws_sdk_s3::error::DisplayErrorContext(err).to_string(),
        }
    }

    pub fn file(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::File {
            path: path.into(),
            source,
        }
    }
}

/// A job's error (dw-ingest, dw-score): the plumbing's typed, the rest as the message its log
/// line shows.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error(transparent)]
    Pipeline(#[from] Error),
    #[error("{what}: {source}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{0}")]
    Message(String),
}

impl JobError {
    pub fn io(what: impl Into<String>, source: std::io::Error) -> JobError {
        JobError::Io {
            what: what.into(),
            source,
        }
    }
}

impl From<String> for JobError {
    fn from(message: String) -> JobError {
        JobError::Message(message)
    }
}

impl From<&str> for JobError {
    fn from(message: &str) -> JobError {
        JobError::Message(message.to_string())
    }
}
