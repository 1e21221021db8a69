//! A lock per debate on this machine, so that two `dw cluster up` runs (cron firing twice)
//! never overlap.

use std::fs::File;
use std::path::PathBuf;

use crate::error::{Error, Result};

/// The lock named `name` (under `DW_LOCK_DIR`, else `~/.cache/dw/locks`), held while the file
/// lives. `None`: another run holds it.
pub(crate) fn lock(name: &str) -> Result<Option<File>> {
    let dir = std::env::var_os("DW_LOCK_DIR")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/dw/locks")))
        .unwrap_or_else(|| std::env::temp_dir().join("dw-locks"));
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let path = dir.join(format!("{name}.lock"));
    let file = File::create(&path).map_err(|source| Error::Write {
        path: path.clone(),
        source,
    })?;
    match file.try_lock() {
        Ok(()) => Ok(Some(file)),
        Err(std::fs::TryLockError::WouldBlock) => Ok(None),
        Err(std::fs::TryLockError::Error(source)) => Err(Error::Write { path, source }),
    }
}
