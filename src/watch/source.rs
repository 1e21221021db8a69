//! Where `dw watch` reads windows from, and how it notices new ones: a JSON-lines file that grows
//! (dw-score's file sink, `dw replay`), or an S3 prefix of one object per window (dw-score's S3
//! sink). Each poll returns only what changed since the last one.

use dw_pipeline::results::{Folder, Results, relative};
use std::collections::BTreeMap;
use std::io::{Read as _, Seek as _, SeekFrom};
use std::path::PathBuf;

use dw_pipeline::window::Window;

use crate::aws;
use crate::error::{Error, Result};

/// A source as the user named it, resolved to what is read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Source {
    /// A JSON-lines file of windows.
    File(PathBuf),
    /// Objects under `s3://bucket/prefix` (the debate's `windows/` folder).
    S3 { bucket: String, prefix: String },
}

impl std::fmt::Display for Source {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Source::File(p) => write!(f, "{}", p.display()),
            Source::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

impl Source {
    /// Resolves `--from`: `s3://BUCKET/PREFIX` (a results prefix, or the debate's folder under
    /// it), a directory (`out/`, or `out/<date>/`) or a windows file, `file:` optional.
    pub(crate) fn resolve(from: &str, date: &str) -> Result<Source> {
        if let Some((bucket, prefix)) = dw_pipeline::endpoint::split_s3(from) {
            if bucket.is_empty() {
                return Err(Error::input(format!("`{from}` names no bucket")));
            }
            let prefix = prefix.trim_matches('/');
            // dw-score's layout (`dw_pipeline::results`), from the results prefix, the
            // debate's folder or its windows folder.
            let windows = relative(date, Folder::Windows);
            let prefix = if format!("{prefix}/").ends_with(&windows) {
                format!("{prefix}/")
            } else if prefix == date || prefix.ends_with(&format!("/{date}")) {
                Results::new(prefix).key(&format!("{}/", Folder::Windows.name()))
            } else {
                Results::new(prefix).folder(date, Folder::Windows)
            };
            return Ok(Source::S3 {
                bucket: bucket.to_string(),
                prefix,
            });
        }
        let path = PathBuf::from(from.strip_prefix("file:").unwrap_or(from));
        let file = if path.join(date).join("windows.jsonl").is_file() || path.join(date).is_dir() {
            path.join(date).join("windows.jsonl")
        } else if path.is_dir() {
            path.join("windows.jsonl")
        } else {
            path
        };
        if !file.is_file() {
            return Err(Error::input_with_hint(
                format!("no windows at {}", file.display()),
                format!(
                    "score the debate first (dw replay --debate {date}), or pass --from with the \
                     windows' file, directory or s3:// prefix"
                ),
            ));
        }
        Ok(Source::File(file))
    }
}

/// What one poll found: windows new or changed since the last poll, and what could not be read.
#[derive(Debug, Default)]
pub(crate) struct Found {
    pub windows: Vec<Window>,
    pub warnings: Vec<String>,
    /// The source started over (a file rewritten from the start): forget what was read.
    pub reset: bool,
}

/// Reads a growing JSON-lines file from where the last poll stopped; a line still being
/// written (no newline yet) waits for the next poll.
#[derive(Debug)]
pub(crate) struct FileReader {
    path: PathBuf,
    offset: u64,
    line: u64,
    pending: Vec<u8>,
}

impl FileReader {
    pub(crate) fn new(path: PathBuf) -> Self {
        FileReader {
            path,
            offset: 0,
            line: 0,
            pending: Vec::new(),
        }
    }

    pub(crate) fn poll(&mut self) -> Result<Found> {
        let mut found = Found::default();
        let path = self.path.clone();
        let read_err = |source| Error::Read {
            path: path.clone(),
            source,
        };
        let mut file = std::fs::File::open(&self.path).map_err(read_err)?;
        let len = file.metadata().map_err(read_err)?.len();
        if len < self.offset {
            // Truncated and written again (a new replay): start over.
            *self = FileReader::new(path.clone());
            found.reset = true;
        }
        if len == self.offset {
            return Ok(found);
        }
        file.seek(SeekFrom::Start(self.offset)).map_err(read_err)?;
        let mut fresh = Vec::with_capacity((len - self.offset) as usize);
        file.take(len - self.offset)
            .read_to_end(&mut fresh)
            .map_err(read_err)?;
        self.offset += fresh.len() as u64;
        self.pending.extend_from_slice(&fresh);
        let complete = match self.pending.iter().rposition(|b| *b == b'\n') {
            Some(i) => i + 1,
            None => return Ok(found),
        };
        let lines: Vec<u8> = self.pending.drain(..complete).collect();
        for line in lines.split(|b| *b == b'\n') {
            if line.is_empty() {
                continue;
            }
            self.line += 1;
            match serde_json::from_slice::<Window>(line) {
                Ok(w) => found.windows.push(w),
                Err(e) => found.warnings.push(format!(
                    "{}:{}: not a window, skipped ({e})",
                    self.path.display(),
                    self.line
                )),
            }
        }
        Ok(found)
    }
}

/// Lists the prefix on every poll and fetches the objects that are new or whose ETag changed (a
/// window written again with a later revision).
#[derive(Debug)]
pub(crate) struct S3Reader {
    client: aws_sdk_s3::Client,
    bucket: String,
    prefix: String,
    seen: BTreeMap<String, String>,
}

impl S3Reader {
    pub(crate) fn new(client: aws_sdk_s3::Client, bucket: String, prefix: String) -> Self {
        S3Reader {
            client,
            bucket,
            prefix,
            seen: BTreeMap::new(),
        }
    }

    /// The objects read so far, by key, with the ETag read.
    pub(crate) fn known(&self) -> &BTreeMap<String, String> {
        &self.seen
    }

    pub(crate) async fn poll(&mut self) -> Result<Found> {
        let mut found = Found::default();
        let mut changed = Vec::new();
        let mut pages = self
            .client
            .list_objects_v2()
            .bucket(&self.bucket)
            .prefix(&self.prefix)
            .into_paginator()
            .send();
        while let Some(page) = pages.next().await {
            let page = page.map_err(|e| aws::sdk_error("ListObjectsV2", e))?;
            for object in page.contents() {
                let (Some(key), etag) = (object.key(), object.e_tag().unwrap_or_default()) else {
                    continue;
                };
                if !key.ends_with(".json") {
                    continue;
                }
                if self.seen.get(key).map(String::as_str) != Some(etag) {
                    changed.push((key.to_string(), etag.to_string()));
                }
            }
        }
        for (key, etag) in changed {
            let name = format!("s3://{}/{key}", self.bucket);
            let bytes = match aws::get_object(&self.client, &self.bucket, &key).await {
                Ok(bytes) => bytes,
                Err(e) => {
                    // Listed, then gone or unreadable: tried again on the next poll.
                    found.warnings.push(format!("{name}: cannot be read ({e})"));
                    continue;
                }
            };
            match serde_json::from_slice::<Window>(&bytes) {
                Ok(w) => found.windows.push(w),
                Err(e) => found
                    .warnings
                    .push(format!("{name}: not a window, skipped ({e})")),
            }
            self.seen.insert(key, etag);
        }
        Ok(found)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_s3_source_is_the_debates_windows_folder_however_it_is_named() {
        let s3 = |from: &str| match Source::resolve(from, "2015-08-06").unwrap() {
            Source::S3 { bucket, prefix } => format!("{bucket} {prefix}"),
            other @ Source::File(_) => panic!("{other:?}"),
        };
        assert_eq!(s3("s3://b/dw/results"), "b dw/results/2015-08-06/windows/");
        assert_eq!(s3("s3://b/dw/results/"), "b dw/results/2015-08-06/windows/");
        assert_eq!(
            s3("s3://b/dw/results/2015-08-06/"),
            "b dw/results/2015-08-06/windows/"
        );
        assert_eq!(
            s3("s3://b/dw/results/2015-08-06/windows/"),
            "b dw/results/2015-08-06/windows/"
        );
        assert_eq!(s3("s3://b"), "b 2015-08-06/windows/");
        assert_eq!(Source::resolve("s3:///x", "d").unwrap_err().exit_code(), 2);
    }

    #[test]
    fn a_missing_file_source_is_bad_input() {
        let err = Source::resolve("/nonexistent/out", "2015-08-06").unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.to_string().contains("no windows at"), "{err}");
    }

    #[test]
    fn a_growing_file_is_read_line_by_line_and_a_rewrite_starts_over() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("windows.jsonl");
        let w = Window::new("2015-08-06", 1_438_909_200_000, 60, &["trump".into()]);
        let line = serde_json::to_string(&w).unwrap();
        std::fs::write(&path, format!("{line}\nnot json\n{}", &line[..20])).unwrap();
        let mut r = FileReader::new(path.clone());
        let found = r.poll().unwrap();
        assert_eq!(found.windows.len(), 1);
        assert_eq!(found.warnings.len(), 1);
        assert!(found.warnings[0].contains("windows.jsonl:2: not a window"));
        // The half-written line completes.
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        std::io::Write::write_all(&mut f, format!("{}\n", &line[20..]).as_bytes()).unwrap();
        let found = r.poll().unwrap();
        assert_eq!((found.windows.len(), found.warnings.len()), (1, 0));
        assert!(r.poll().unwrap().windows.is_empty());
        std::fs::write(&path, format!("{line}\n")).unwrap();
        let found = r.poll().unwrap();
        assert!(found.reset);
        assert_eq!(found.windows.len(), 1);
    }
}
