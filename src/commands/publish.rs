//! `dw publish`: the debate page as a static site, into a folder or under an S3 prefix.

use serde::Serialize;

use super::{Context, write_file};
use crate::error::{Error, Result};
use crate::log;
use crate::settings::{PublishSettings, SiteAt};
use crate::watch::{self, PageInfo, Reader, ResultsFeed, SiteFile, source::Source};

#[derive(Debug, Serialize)]
struct Published {
    to: String,
    windows: usize,
    warnings: usize,
    files: Vec<SiteFile>,
    dry_run: bool,
}

pub(super) async fn execute(ctx: &Context, s: &PublishSettings) -> Result<()> {
    let date = s.evening.date.to_string();
    let source = &s.source;
    let s3 = match (source, &s.to) {
        (Source::S3 { .. }, _) | (_, SiteAt::S3 { .. }) => Some(crate::aws::s3(ctx.sdk().await?)),
        _ => None,
    };
    let mut reader = Reader::new(source, s3.clone())?;
    let board = watch::read_board(&mut reader, &date).await?;
    if board.is_empty() {
        return Err(Error::input(format!("{source} holds no windows of {date}")));
    }
    let mut info = PageInfo::new(s.evening.clone(), source.to_string(), "static");
    if let (Source::S3 { bucket, prefix }, false) = (source, s.frozen) {
        let url = match &s.results_url {
            Some(url) => url.trim_end_matches('/').to_string(),
            None => bucket_url(ctx, bucket).await?,
        };
        log::info(&format!(
            "the page reads s3://{bucket}/{prefix} through {url} while it changes (--frozen: not)"
        ));
        info.results = Some(ResultsFeed {
            url,
            prefix: prefix.clone(),
            every_secs: RESULTS_EVERY_SECS,
            known: reader.known(),
        });
    }
    let files = watch::site(&info, &board)?;
    let to = match &s.to {
        SiteAt::S3 { bucket, prefix } => {
            if !s.dry_run {
                let client = s3.ok_or_else(|| Error::Failed("no S3 client".into()))?;
                for f in &files {
                    put(&client, bucket, &join(prefix, f.path), f).await?;
                }
            }
            format!("s3://{bucket}/{prefix}")
        }
        SiteAt::Dir(dir) => {
            if !s.dry_run {
                for f in &files {
                    write_file(&dir.join(f.path), &f.body)?;
                }
            }
            dir.display().to_string()
        }
    };
    let published = Published {
        to: to.clone(),
        windows: board.len(),
        warnings: board.snapshot().warnings.len(),
        files,
        dry_run: s.dry_run,
    };
    let mut text = format!(
        "{} {} files ({} windows) to {to}\n",
        if s.dry_run { "would write" } else { "wrote" },
        published.files.len(),
        published.windows
    );
    for f in &published.files {
        text.push_str(&format!(
            "  {:<12} {:>9} bytes  {}\n",
            f.path, f.bytes, f.content_type
        ));
    }
    if !s.dry_run {
        log::info("serve the folder with any file server, or the prefix with S3 website hosting");
    }
    ctx.print(&text, &published)
}

/// How often a published page lists the results prefix.
const RESULTS_EVERY_SECS: u64 = 5;

/// The bucket's REST URL as a browser reaches it: path-style under an endpoint override (a
/// stand-in such as moto), else the bucket's regional virtual-hosted name.
async fn bucket_url(ctx: &Context, bucket: &str) -> Result<String> {
    let endpoint = ctx
        .endpoint_url()
        .map(str::to_string)
        .or_else(|| std::env::var("AWS_ENDPOINT_URL_S3").ok())
        .or_else(|| std::env::var("AWS_ENDPOINT_URL").ok())
        .filter(|e| !e.is_empty());
    if let Some(endpoint) = endpoint {
        return Ok(format!("{}/{bucket}", endpoint.trim_end_matches('/')));
    }
    let region = ctx
        .sdk()
        .await?
        .region()
        .map_or_else(|| "us-east-1".into(), std::string::ToString::to_string);
    Ok(format!("https://{bucket}.s3.{region}.amazonaws.com"))
}

fn join(prefix: &str, path: &str) -> String {
    if prefix.is_empty() {
        path.to_string()
    } else {
        format!("{prefix}/{path}")
    }
}

async fn put(client: &aws_sdk_s3::Client, bucket: &str, key: &str, f: &SiteFile) -> Result<()> {
    client
        .put_object()
        .bucket(bucket)
        .key(key)
        .content_type(f.content_type)
        // The data changes while scorers write; the page itself rarely.
        .cache_control(if f.path.starts_with("api/") {
            "no-cache"
        } else {
            "max-age=300"
        })
        .body(f.body.clone().into())
        .send()
        .await
        .map_err(|e| crate::aws::sdk_error("PutObject", e))?;
    log::debug(&format!("put s3://{bucket}/{key}"));
    Ok(())
}
