//! What a launch stages on S3, content-addressed: each object's key holds the SHA-256 of its
//! bytes, so an object already uploaded under that key is the same bytes and is not sent again.

use std::io::Read;
use std::path::Path;

use sha2::{Digest, Sha256};

use crate::error::{Error, Result};
use crate::launch::plan::{Content, JOB_BINARIES, Staged, StagedKind};

/// Collects the staged objects of one plan under `s3://bucket/prefix/<hash>/<name>`.
pub(crate) struct Stager<'a> {
    bucket: &'a str,
    prefix: String,
    staged: Vec<Staged>,
}

impl<'a> Stager<'a> {
    pub(crate) fn new(bucket: &'a str, prefix: &str) -> Self {
        Stager {
            bucket,
            prefix: prefix.trim_matches('/').to_string(),
            staged: Vec::new(),
        }
    }

    fn add(
        &mut self,
        kind: StagedKind,
        name: &str,
        sha256: String,
        size: u64,
        content: Content,
    ) -> Staged {
        let key = format!("{}/{}/{name}", self.prefix, &sha256[..16]);
        let staged = Staged {
            kind,
            name: name.to_string(),
            uri: format!("s3://{}/{key}", self.bucket),
            key,
            sha256,
            size,
            content,
        };
        self.staged.push(staged.clone());
        staged
    }

    /// A rendered script.
    pub(crate) fn add_rendered(&mut self, kind: StagedKind, name: &str, text: String) -> Staged {
        let sha = hex(&Sha256::digest(text.as_bytes()));
        let size = text.len() as u64;
        self.add(kind, name, sha, size, Content::Rendered(text))
    }

    /// The job binaries in `dir`, hashed from disk; a missing one is bad input.
    pub(crate) fn add_binaries(&mut self, dir: &Path) -> Result<Vec<Staged>> {
        let mut binaries = Vec::new();
        for bin in JOB_BINARIES {
            let path = dir.join(bin);
            if !path.is_file() {
                return Err(Error::input_with_hint(
                    format!("the job binary {} is missing", path.display()),
                    "build the cluster binaries with `dw build-jobs` (or set jobs.binaries in configs/dw.toml)",
                ));
            }
            let (sha, size) = sha256_file(&path)?;
            binaries.push(self.add(StagedKind::Bin, bin, sha, size, Content::File(path)));
        }
        Ok(binaries)
    }

    pub(crate) fn into_staged(self) -> Vec<Staged> {
        self.staged
    }
}

fn sha256_file(path: &Path) -> Result<(String, u64)> {
    let read_error = |source| Error::Read {
        path: path.to_path_buf(),
        source,
    };
    let mut file = std::fs::File::open(path).map_err(read_error)?;
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let n = file.read(&mut buf).map_err(read_error)?;
        if n == 0 {
            break;
        }
        size += n as u64;
        hasher.update(&buf[..n]);
    }
    Ok((hex(&hasher.finalize()), size))
}

/// Lower-case hex, as `sha256sum` prints it.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write as _;
    bytes
        .iter()
        .fold(String::with_capacity(bytes.len() * 2), |mut s, b| {
            let _ = write!(s, "{b:02x}");
            s
        })
}
