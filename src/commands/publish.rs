//! `dw publish`: the debate page as a static site, into a folder or under an S3 prefix.

use super::Context;
use crate::error::Result;
use crate::settings::PublishSettings;
use crate::watch::publish::{self, Site, SiteAt};
use crate::watch::source::Source;

pub(super) async fn execute(ctx: &Context, s: &PublishSettings) -> Result<()> {
    let s3 = match (&s.source, &s.to) {
        (Source::S3 { .. }, _) | (_, SiteAt::S3 { .. }) => Some(crate::aws::s3(ctx.sdk().await?)),
        _ => None,
    };
    let results_url = match (&s.source, s.frozen, &s.results_url) {
        (Source::S3 { .. }, false, Some(url)) => Some(url.trim_end_matches('/').to_string()),
        (Source::S3 { bucket, .. }, false, None) => Some(bucket_url(ctx, bucket).await?),
        _ => None,
    };
    let site = Site {
        evening: &s.evening,
        source: &s.source,
        to: &s.to,
        results_url,
        dry_run: s.dry_run,
    };
    let published = publish::publish(s3.as_ref(), &site).await?;
    ctx.print(&published.to_text(), &published)
}

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
