//! Writing the files dw produces (scripts, plans, pages, models, pictures' folders).

use crate::error::{Error, Result};

/// Writes a file dw produced, making its folder; never through a symbolic link.
pub(crate) fn write_file(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    let fail = |source| Error::Write {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    // A link planted where dw writes would send the plan (or a script) elsewhere.
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::input_with_hint(
            format!(
                "{} is a symbolic link: dw does not write through it",
                path.display()
            ),
            "remove it, or render into another --out directory",
        ));
    }
    std::fs::write(path, bytes).map_err(fail)
}
