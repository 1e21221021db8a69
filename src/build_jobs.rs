//! `dw build-jobs`: builds dw-ingest and dw-score for EMR 4.x nodes (Amazon Linux, glibc 2.17)
//! with cargo-zigbuild and Zig (both from PyPI, installed on first use), librdkafka built into
//! the binary by the same compiler, and checks what was built: no glibc symbol newer than
//! 2.17, no shared library beyond glibc's, and each binary runs here.

use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::launch::plan::JOB_BINARIES;
use crate::log;

/// The target: x86_64 Linux with glibc 2.17 as the floor.
pub(crate) const TARGET: &str = "x86_64-unknown-linux-gnu.2.17";
const ZIG_TARGET: &str = "x86_64-linux-gnu.2.17";
/// The Cargo profile of the EMR build (Cargo.toml: release, fat LTO, one codegen unit, abort).
const PROFILE: &str = "emr";
/// Pinned, so a build today and a build next month use the same compiler.
const ZIG_PACKAGES: [&str; 2] = ["cargo-zigbuild==0.24.1", "ziglang==0.17.1"];
/// The shared libraries a binary may need on an EMR node.
const ALLOWED_LIBS: [&str; 7] = [
    "libc.so.6",
    "libm.so.6",
    "libpthread.so.0",
    "libdl.so.2",
    "librt.so.1",
    "ld-linux-x86-64.so.2",
    "linux-vdso.so.1",
];
pub(crate) const MAX_GLIBC: (u32, u32) = (2, 17);

#[derive(Debug, Clone, Serialize)]
pub(crate) struct BinaryCheck {
    pub name: String,
    pub path: PathBuf,
    pub bytes: u64,
    pub sha256: String,
    /// The newest `GLIBC_x.y` symbol version the binary needs.
    pub newest_glibc: String,
    pub needed: Vec<String>,
    pub version: String,
    pub ok: bool,
    pub problems: Vec<String>,
}

fn cache_dir() -> PathBuf {
    std::env::var_os("DW_CACHE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache/dw")))
        .unwrap_or_else(|| std::env::temp_dir().join("dw-cache"))
}

fn run_checked(cmd: &mut Command, what: &str) -> Result<String> {
    let out = cmd
        .output()
        .map_err(|e| Error::Failed(format!("{what}: cannot run: {e}")))?;
    if !out.status.success() {
        return Err(Error::Failed(format!(
            "{what} failed:\n{}",
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .rev()
                .take(30)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect::<Vec<_>>()
                .join("\n")
        )));
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// The venv holding cargo-zigbuild and Zig; created on first use.
fn zig_venv() -> Result<PathBuf> {
    let venv = cache_dir().join("zig-venv");
    let done = venv.join(".dw-complete");
    if !done.exists() {
        log::info(&format!(
            "installing {} into {}",
            ZIG_PACKAGES.join(" "),
            venv.display()
        ));
        run_checked(
            Command::new("python3").args(["-m", "venv"]).arg(&venv),
            "python3 -m venv",
        )?;
        run_checked(
            Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", "--disable-pip-version-check"])
                .args(ZIG_PACKAGES),
            "pip install cargo-zigbuild ziglang",
        )?;
        std::fs::write(&done, ZIG_PACKAGES.join("\n"))
            .map_err(|source| Error::Write { path: done, source })?;
    }
    Ok(venv)
}

/// `cc`/`c++` wrappers that run Zig for the glibc 2.17 target: librdkafka's own configure
/// must use them too, or it finds the host's C11 threads (glibc 2.28) and the link fails.
fn compiler_wrappers(venv: &Path) -> Result<(PathBuf, PathBuf)> {
    let dir = cache_dir().join("zig-wrappers");
    std::fs::create_dir_all(&dir).map_err(|source| Error::Write {
        path: dir.clone(),
        source,
    })?;
    let python = venv.join("bin/python");
    let mut paths = Vec::new();
    for (name, tool) in [("zcc", "cc"), ("zcxx", "c++")] {
        let path = dir.join(name);
        let script = format!(
            "#!/bin/sh\nexec '{}' -m ziglang {tool} -target {ZIG_TARGET} \"$@\"\n",
            python.display()
        );
        std::fs::write(&path, script).map_err(|source| Error::Write {
            path: path.clone(),
            source,
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).map_err(
                |source| Error::Write {
                    path: path.clone(),
                    source,
                },
            )?;
        }
        paths.push(path);
    }
    Ok((paths[0].clone(), paths[1].clone()))
}

/// Builds the two binaries from the workspace at `root` and copies them into `out`.
pub(crate) fn build(root: &Path, out: &Path) -> Result<()> {
    let venv = zig_venv()?;
    let (cc, cxx) = compiler_wrappers(&venv)?;
    let target_dir = cache_dir().join("emr-target");
    let path = std::env::join_paths(std::iter::once(venv.join("bin")).chain(
        std::env::split_paths(&std::env::var_os("PATH").unwrap_or_default()),
    ))
    .map_err(|e| Error::Failed(e.to_string()))?;
    log::info(&format!(
        "building {} for {TARGET} (profile emr: release, fat LTO; the first build takes minutes)",
        JOB_BINARIES.join(" and ")
    ));
    let mut cmd = Command::new("cargo");
    cmd.current_dir(root)
        .args([
            "zigbuild",
            "--profile",
            PROFILE,
            "--locked",
            "--target",
            TARGET,
        ])
        .args(JOB_BINARIES.iter().flat_map(|b| ["-p", b]))
        .env("PATH", path)
        .env("CARGO_TARGET_DIR", &target_dir)
        .env("CC", &cc)
        .env("CXX", &cxx)
        .env("LDFLAGS", "-Wl,--undefined-version");
    forget_other_checkout(root, &target_dir)?;
    run_checked(&mut cmd, "cargo zigbuild")?;
    std::fs::create_dir_all(out).map_err(|source| Error::Write {
        path: out.to_path_buf(),
        source,
    })?;
    for bin in JOB_BINARIES {
        let from = target_dir
            .join("x86_64-unknown-linux-gnu")
            .join(PROFILE)
            .join(bin);
        let to = out.join(bin);
        std::fs::copy(&from, &to).map_err(|source| Error::Write { path: to, source })?;
    }
    Ok(())
}

/// Cargo names a workspace's artifacts the same whichever directory it is checked out in, and
/// judges them fresh by the modification times of the sources it last built them from. A target
/// directory shared by two checkouts (a cache outside the clone, as CI uses) would hand one
/// checkout the other's binaries: when the checkout changes, its crates are cleaned first (the
/// dependencies stay built).
pub(crate) fn forget_other_checkout(root: &Path, target_dir: &Path) -> Result<()> {
    let marker = target_dir.join(".dw-checkout");
    let here = std::fs::canonicalize(root)
        .unwrap_or_else(|_| root.to_path_buf())
        .display()
        .to_string();
    match std::fs::read_to_string(&marker) {
        Ok(last) if last == here => return Ok(()),
        Ok(last) => {
            log::info(&format!(
                "{} was last built from {last}: rebuilding dw's crates",
                target_dir.display()
            ));
            let mut clean = Command::new("cargo");
            clean
                .current_dir(root)
                .arg("clean")
                .env("CARGO_TARGET_DIR", target_dir)
                .args(["-p", "dw-pipeline"])
                .args(JOB_BINARIES.iter().flat_map(|b| ["-p", b]));
            run_checked(&mut clean, "cargo clean")?;
        }
        Err(_) => {}
    }
    std::fs::create_dir_all(target_dir).map_err(|source| Error::Write {
        path: target_dir.to_path_buf(),
        source,
    })?;
    std::fs::write(&marker, here).map_err(|source| Error::Write {
        path: marker,
        source,
    })
}

fn glibc_version(tag: &str) -> Option<(u32, u32, u32)> {
    let v = tag.strip_prefix("GLIBC_")?;
    let mut parts = v.split('.').map(|p| p.parse::<u32>().ok());
    Some((
        parts.next()??,
        parts.next().flatten().unwrap_or(0),
        parts.next().flatten().unwrap_or(0),
    ))
}

/// Checks one built binary.
pub(crate) fn check(path: &Path) -> Result<BinaryCheck> {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let bytes = std::fs::metadata(path)
        .map_err(|source| Error::Read {
            path: path.to_path_buf(),
            source,
        })?
        .len();
    let symbols = run_checked(Command::new("objdump").arg("-T").arg(path), "objdump -T")?;
    let newest = symbols
        .split(|c: char| c.is_whitespace() || c == '(' || c == ')')
        .filter_map(glibc_version)
        .max()
        .unwrap_or((0, 0, 0));
    let headers = run_checked(Command::new("objdump").arg("-p").arg(path), "objdump -p")?;
    let needed: Vec<String> = headers
        .lines()
        .filter_map(|l| l.trim().strip_prefix("NEEDED"))
        .map(|l| l.trim().to_string())
        .collect();
    let mut problems = Vec::new();
    if (newest.0, newest.1) > MAX_GLIBC {
        problems.push(format!(
            "needs GLIBC_{}.{} (EMR 4.x has 2.17)",
            newest.0, newest.1
        ));
    }
    for lib in &needed {
        if !ALLOWED_LIBS.contains(&lib.as_str()) {
            problems.push(format!("needs {lib}, which EMR nodes may not have"));
        }
    }
    let version = match Command::new(path).arg("--version").output() {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_string(),
        Ok(o) => {
            problems.push(format!(
                "--version failed: {}",
                String::from_utf8_lossy(&o.stderr).trim()
            ));
            String::new()
        }
        Err(e) => {
            problems.push(format!("does not run here: {e}"));
            String::new()
        }
    };
    let data = std::fs::read(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })?;
    let sha256 = {
        use sha2::Digest;
        crate::launch::artifacts::hex(&sha2::Sha256::digest(&data))
    };
    Ok(BinaryCheck {
        name,
        path: path.to_path_buf(),
        bytes,
        sha256,
        newest_glibc: format!("GLIBC_{}.{}", newest.0, newest.1),
        needed,
        version,
        ok: problems.is_empty(),
        problems,
    })
}

pub(crate) fn report_text(checks: &[BinaryCheck]) -> String {
    let mut out = String::new();
    for c in checks {
        out.push_str(&format!(
            "{:<10} {:>6.1} MB  newest {}  needs {}  {}  {}\n",
            c.name,
            c.bytes as f64 / 1e6,
            c.newest_glibc,
            c.needed.join(", "),
            c.version,
            if c.ok {
                "ok".to_string()
            } else {
                format!("PROBLEMS: {}", c.problems.join("; "))
            }
        ));
    }
    out
}
