//! Running the real `dw` binary in tests, with an environment that cannot reach real AWS.
#![allow(dead_code)]

pub(crate) mod browser;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub(crate) fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

pub(crate) fn fixture(rel: &str) -> String {
    repo()
        .join("tests/fixtures")
        .join(rel)
        .display()
        .to_string()
}

/// `dw` in the repository root, with no AWS settings inherited from the machine: no profile, no
/// credentials, no instance metadata (nothing may leave this machine).
pub(crate) fn dw() -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_dw"));
    cmd.current_dir(repo());
    for (key, _) in std::env::vars() {
        if key.starts_with("AWS_") {
            cmd.env_remove(key);
        }
    }
    cmd.env("AWS_EC2_METADATA_DISABLED", "true")
        .env("AWS_CONFIG_FILE", "/nonexistent/dw-test/config")
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            "/nonexistent/dw-test/credentials",
        )
        .env_remove("COLUMNS")
        // Only the configuration a test names (or the repository's): none from the machine.
        .env_remove("DW_CONFIG")
        .env("XDG_CONFIG_HOME", "/nonexistent/dw-test/xdg");
    cmd
}

/// `dw` with dummy credentials for an AWS stand-in at `endpoint`.
pub(crate) fn dw_at(endpoint: &str) -> Command {
    let mut cmd = dw();
    cmd.env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_ENDPOINT_URL", endpoint);
    cmd
}

pub(crate) struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

pub(crate) fn run(cmd: &mut Command) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = cmd.output().expect("dw runs");
    Run {
        code: status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&stdout).into_owned(),
        stderr: String::from_utf8_lossy(&stderr).into_owned(),
    }
}

pub(crate) fn m3_large_history() -> Vec<String> {
    ["a", "b", "c"]
        .iter()
        .map(|z| {
            fixture(&format!(
                "spot/spot_history_m3.large-us-east-1{z}_2016-02-25_2016-04-25.json"
            ))
        })
        .collect()
}

pub(crate) fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).expect("write fixture");
    p
}

/// The endpoint of the moto harness that scripts/test started, or `None` when the tests run
/// without it (a failure under DW_REQUIRE_PEERS).
pub(crate) fn moto_endpoint() -> Option<String> {
    dw_pipeline::testkit::moto()
}

#[allow(unused_imports)] // not every test binary uses it
pub(crate) use dw_pipeline::testkit::s3_put;

/// A plain HTTP/1.1 POST to the harness's control endpoint; returns the response body.
pub(crate) fn http_post(endpoint: &str, path: &str, body: &str) -> String {
    use std::io::{Read, Write};
    let addr = endpoint.trim_start_matches("http://").trim_end_matches('/');
    let mut stream = std::net::TcpStream::connect(addr).expect("harness reachable");
    write!(
        stream,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("response read");
    assert!(
        response.starts_with("HTTP/1.1 200") || response.starts_with("HTTP/1.0 200"),
        "{response}"
    );
    response
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default()
}

/// A `dw` that serves (watch, replay --watch) until dropped: its URL is the first line it
/// prints; its stderr is kept in a file for the test to read.
pub(crate) struct Served {
    child: std::process::Child,
    pub url: String,
    log: PathBuf,
}

impl Served {
    pub(crate) fn start(mut cmd: Command, log_dir: &Path) -> Served {
        use std::io::BufRead;
        static SERVED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = SERVED.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let log = log_dir.join(format!("dw-serve-{}-{n}.log", std::process::id()));
        let mut child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::fs::File::create(&log).expect("log file"))
            .spawn()
            .expect("dw starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut first = String::new();
        std::io::BufReader::new(stdout)
            .read_line(&mut first)
            .expect("dw prints its URL");
        let url = first.trim().to_string();
        assert!(
            url.starts_with("http://"),
            "dw printed {url:?}; stderr: {}",
            std::fs::read_to_string(&log).unwrap_or_default()
        );
        Served { child, url, log }
    }

    pub(crate) fn stderr(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
