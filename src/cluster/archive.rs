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
    let rest = uri.strip_prefix("s3://").unwrap_or_default();
    let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
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

/// Lists the archive and reads the first line of each object.
pub async fn check(s3: &aws_sdk_s3::Client, uri: &str) -> Result<Archive> {
    let (bucket, prefix) = parse_uri(uri)?;
    let keys = crate::aws::list_keys(s3, &bucket, &prefix).await?;
    if keys.is_empty() {
        return Err(Error::input_with_hint(
            format!("--replay {uri}: no object under that prefix, nothing to replay"),
            "give the prefix the archive's objects are under (`aws s3 ls` it to see)",
        ));
    }
    for key in &keys {
        let object = s3
            .get_object()
            .bucket(&bucket)
            .key(key)
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
        if let Some(problem) = first_line_problem(key, &head) {
            return Err(Error::input_with_hint(
                format!("--replay {uri}: s3://{bucket}/{key} is not JSON lines: {problem}"),
                "a replay reads Twitter v1.1 or v2 statuses, one JSON object per line, gzip (.gz) or plain",
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
