//! A replay's archive, looked at before a cluster is launched to read it: an empty prefix or an
//! object that is not JSON lines would otherwise cost a cluster's start-up to find out.

use std::io::Read;

use serde::Serialize;

use crate::aws::sdk_error;
use crate::error::{Error, Result};

/// How much of each object is read to see its first line (a tweet is about 4.4 KB).
const LOOK: u64 = 64 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Archive {
    pub uri: String,
    pub objects: usize,
}

/// `s3://BUCKET/PREFIX` as (bucket, prefix), or bad input.
pub fn parse_uri(uri: &str) -> Result<(String, String)> {
    let (bucket, prefix) = dw_pipeline::endpoint::split_s3(uri).unwrap_or(("", ""));
    if bucket.is_empty() {
        return Err(Error::input_with_hint(
            format!("--replay {uri}: not an S3 location"),
            "give the archive's prefix as s3://BUCKET/PREFIX/",
        ));
    }
    Ok((bucket.to_string(), prefix.to_string()))
}

/// Why the start of an object is not JSON lines, if it is not.
pub fn first_line_problem(name: &str, head: &[u8]) -> Option<String> {
    let mut text = Vec::new();
    if name.ends_with(".gz") {
        // Only the object's first bytes were read: the stream ends early, which is expected.
        let mut gz = flate2::read::GzDecoder::new(head);
        if let Err(e) = gz.read_to_end(&mut text)
            && text.is_empty()
        {
            return Some(format!("its name ends in .gz but it does not unzip ({e})"));
        }
    } else {
        text.extend_from_slice(head);
    }
    let Some(line) = text
        .split(|&b| b == b'\n')
        .map(<[u8]>::trim_ascii)
        .find(|l| !l.is_empty())
    else {
        return Some("it holds no line".into());
    };
    let complete = text.contains(&b'\n') || (head.len() as u64) < LOOK;
    match serde_json::from_slice::<serde_json::Value>(line) {
        Ok(serde_json::Value::Object(_)) => None,
        Err(_) if !complete => None, // a first line longer than the look: cannot tell
        _ => {
            let shown: String = String::from_utf8_lossy(line).chars().take(60).collect();
            Some(format!("its first line is not a JSON object: {shown:?}"))
        }
    }
}

/// How many objects' first bytes are read at once: an archive of thousands of objects is
/// checked in seconds, not minutes, without a burst S3 would throttle.
pub const CONCURRENT_READS: usize = 16;

/// Lists the archive, then reads the first line of each object, [`CONCURRENT_READS`] at a time.
pub async fn check(s3: &aws_sdk_s3::Client, uri: &str) -> Result<Archive> {
    let (bucket, prefix) = parse_uri(uri)?;
    let keys = crate::aws::list_keys(s3, &bucket, &prefix).await?;
    let fetch = |key: String| {
        let bucket = bucket.clone();
        async move {
            let object = s3
                .get_object()
                .bucket(&bucket)
                .key(&key)
                .range(format!("bytes=0-{}", LOOK - 1))
                .send()
                .await
                .map_err(|e| sdk_error("GetObject", e))?;
            let head = object
                .body
                .collect()
                .await
                .map_err(|e| Error::Failed(format!("reading s3://{bucket}/{key}: {e}")))?
                .into_bytes();
            Ok(head.to_vec())
        }
    };
    check_heads(uri, &bucket, &keys, fetch).await
}

/// The check of [`check`] over listed `keys`, each object's first bytes read by `fetch`; the
/// first problem in key order is the one reported.
pub async fn check_heads<F, Fut>(
    uri: &str,
    bucket: &str,
    keys: &[String],
    fetch: F,
) -> Result<Archive>
where
    F: Fn(String) -> Fut,
    Fut: std::future::Future<Output = Result<Vec<u8>>>,
{
    use futures_util::StreamExt;
    if keys.is_empty() {
        return Err(Error::input_with_hint(
            format!("--replay {uri}: no object under that prefix, nothing to replay"),
            "give the prefix the archive's objects are under (`aws s3 ls` it to see)",
        ));
    }
    let mut heads = futures_util::stream::iter(keys.iter().cloned())
        .map(|key| {
            let head = fetch(key.clone());
            async move { (key, head.await) }
        })
        .buffered(CONCURRENT_READS);
    while let Some((key, head)) = heads.next().await {
        if let Some(problem) = first_line_problem(&key, &head?) {
            return Err(Error::input_with_hint(
                format!("--replay {uri}: s3://{bucket}/{key} is not JSON lines: {problem}"),
                "a replay reads Twitter v1.1 or v2 statuses or dw's post records, one JSON object per line, gzip (.gz) or plain",
            ));
        }
    }
    Ok(Archive {
        uri: uri.to_string(),
        objects: keys.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 200 objects: read 16 at a time (never one by one, never all at once); a bad object is
    /// reported by its key, the first in key order.
    #[test]
    fn objects_are_read_concurrently_and_bounded() {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let keys: Vec<String> = (0..200).map(|i| format!("a/part-{i:03}.jsonl")).collect();
        let (now, most, reads) = (
            AtomicUsize::new(0),
            AtomicUsize::new(0),
            AtomicUsize::new(0),
        );
        let fetch = |key: String| {
            let (now, most, reads) = (&now, &most, &reads);
            async move {
                let n = now.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(n, Ordering::SeqCst);
                reads.fetch_add(1, Ordering::SeqCst);
                // A pause as a round trip to S3 takes: the other reads start meanwhile.
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                now.fetch_sub(1, Ordering::SeqCst);
                Ok(
                    if key.ends_with("150.jsonl") || key.ends_with("170.jsonl") {
                        b"id,text\n".to_vec()
                    } else {
                        b"{\"id_str\":\"1\"}\n".to_vec()
                    },
                )
            }
        };
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .unwrap();
        let err = rt
            .block_on(check_heads("s3://b/a/", "b", &keys, fetch))
            .unwrap_err();
        assert!(
            err.to_string()
                .contains("s3://b/a/part-150.jsonl is not JSON lines"),
            "{err}"
        );
        assert_eq!(most.load(Ordering::SeqCst), CONCURRENT_READS);
        assert!(reads.load(Ordering::SeqCst) >= 151);
        let fine = |_: String| async { Ok(b"{\"id_str\":\"1\"}\n".to_vec()) };
        let ok = rt
            .block_on(check_heads("s3://b/a/", "b", &keys, fine))
            .unwrap();
        assert_eq!(ok.objects, 200);
    }

    #[test]
    fn the_first_line_must_be_a_json_object_gzip_or_plain() {
        assert_eq!(
            first_line_problem("a.jsonl", b"{\"id\":1}\n{\"id\":2}\n"),
            None
        );
        assert_eq!(first_line_problem("a.jsonl", b"\n\n{\"id\":1}"), None);
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        std::io::Write::write_all(&mut gz, b"{\"id\":1}\n").unwrap();
        let gz = gz.finish().unwrap();
        assert_eq!(first_line_problem("a.jsonl.gz", &gz), None);
        // Only its first bytes: still readable.
        assert_eq!(first_line_problem("a.jsonl.gz", &gz[..gz.len() - 4]), None);
        assert_eq!(
            first_line_problem("a.csv", b"id,text\n1,hello\n").unwrap(),
            "its first line is not a JSON object: \"id,text\""
        );
        assert!(
            first_line_problem("a.gz", b"{\"id\":1}\n")
                .unwrap()
                .starts_with("its name ends in .gz but it does not unzip")
        );
        assert_eq!(first_line_problem("a", b"").unwrap(), "it holds no line");
    }
}
