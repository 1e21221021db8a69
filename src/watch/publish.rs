//! `dw publish`'s work: the debate page as a static site, written into a folder or under an
//! S3 prefix.

use std::path::PathBuf;

use serde::Serialize;

use super::source::Source;
use super::{PageInfo, Reader, ResultsFeed, SiteFile};
use crate::debates::Evening;
use crate::error::{Error, Result};
use crate::files::write_file;
use crate::log;

/// Where the site goes.
pub(crate) enum SiteAt {
    S3 { bucket: String, prefix: String },
    Dir(PathBuf),
}

/// What `publish` wrote (or would write, in a dry run).
#[derive(Debug, Serialize)]
pub(crate) struct Published {
    to: String,
    windows: usize,
    warnings: usize,
    files: Vec<SiteFile>,
    dry_run: bool,
}

impl Published {
    pub(crate) fn to_text(&self) -> String {
        let mut text = format!(
            "{} {} files ({} windows) to {}\n",
            if self.dry_run { "would write" } else { "wrote" },
            self.files.len(),
            self.windows,
            self.to
        );
        for f in &self.files {
            text.push_str(&format!(
                "  {:<12} {:>9} bytes  {}\n",
                f.path, f.bytes, f.content_type
            ));
        }
        text
    }
}

/// A site to publish.
pub(crate) struct Site<'a> {
    pub evening: &'a Evening,
    pub source: &'a Source,
    pub to: &'a SiteAt,
    /// Where a browser reads the results prefix (an S3 source's page follows it while it
    /// changes); none: the page shows what the windows are now (`--frozen`).
    pub results_url: Option<String>,
    pub dry_run: bool,
}

/// How often a published page lists the results prefix.
const RESULTS_EVERY_SECS: u64 = 5;

/// Reads the windows, renders the page and its data, and writes them (S3 through `s3`).
pub(crate) async fn publish(s3: Option<&aws_sdk_s3::Client>, site: &Site<'_>) -> Result<Published> {
    let date = site.evening.date.to_string();
    let source = site.source;
    let mut reader = Reader::new(source, s3.cloned())?;
    let board = super::read_board(&mut reader, &date).await?;
    if board.is_empty() {
        return Err(Error::input(format!("{source} holds no windows of {date}")));
    }
    let mut info = PageInfo::new(site.evening.clone(), source.to_string(), "static");
    if let (Source::S3 { bucket, prefix }, Some(url)) = (source, &site.results_url) {
        log::info(&format!(
            "the page reads s3://{bucket}/{prefix} through {url} while it changes (--frozen: not)"
        ));
        info.results = Some(ResultsFeed {
            url: url.clone(),
            prefix: prefix.clone(),
            every_secs: RESULTS_EVERY_SECS,
            known: reader.known(),
        });
    }
    let files = super::site(&info, &board)?;
    let to = match (site.to, s3) {
        (SiteAt::S3 { bucket, prefix }, Some(client)) => {
            if !site.dry_run {
                for f in &files {
                    put(client, bucket, &join(prefix, f.path), f).await?;
                }
            }
            format!("s3://{bucket}/{prefix}")
        }
        (SiteAt::S3 { .. }, None) => {
            return Err(Error::Failed("a site on S3 needs an S3 client".into()));
        }
        (SiteAt::Dir(dir), _) => {
            if !site.dry_run {
                for f in &files {
                    write_file(&dir.join(f.path), &f.body)?;
                }
            }
            dir.display().to_string()
        }
    };
    if !site.dry_run {
        log::info("serve the folder with any file server, or the prefix with S3 website hosting");
    }
    Ok(Published {
        to,
        windows: board.len(),
        warnings: board.snapshot().warnings.len(),
        files,
        dry_run: site.dry_run,
    })
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
