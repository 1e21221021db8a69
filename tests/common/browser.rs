//! A real browser for the page's tests: Debian's Chromium, headless, driven through its
//! ChromeDriver by the W3C WebDriver protocol (plain HTTP/1.1 and JSON; a few calls are all the
//! tests need).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

pub(crate) struct Browser {
    driver: Child,
    port: u16,
    session: String,
    /// Chromium's user-data directory: removed with the browser, so runs do not pile them up in /tmp.
    profile: PathBuf,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// One request with `Connection: close`; the body parsed as JSON.
fn request(port: u16, method: &str, path: &str, body: Option<&Value>) -> Value {
    let body = body
        .map(std::string::ToString::to_string)
        .unwrap_or_default();
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("chromedriver reachable");
    stream
        .set_read_timeout(Some(Duration::from_mins(1)))
        .expect("timeout set");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("request sent");
    // ChromeDriver keeps the connection open: read the head, then Content-Length bytes.
    let mut raw = Vec::new();
    let mut byte = [0u8; 1];
    while !raw.ends_with(b"\r\n\r\n") {
        let n = stream.read(&mut byte).expect("response read");
        assert!(
            n == 1,
            "the response ended in its head: {}",
            String::from_utf8_lossy(&raw)
        );
        raw.push(byte[0]);
    }
    let head = String::from_utf8_lossy(&raw).to_ascii_lowercase();
    let body = if let Some(len) = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|n| n.trim().parse::<usize>().ok())
    {
        let mut body = vec![0u8; len];
        stream.read_exact(&mut body).expect("response body read");
        String::from_utf8_lossy(&body).into_owned()
    } else {
        let mut rest = Vec::new();
        stream.read_to_end(&mut rest).expect("response body read");
        let rest = String::from_utf8_lossy(&rest).into_owned();
        if head.contains("transfer-encoding: chunked") {
            dechunk(&rest)
        } else {
            rest
        }
    };
    serde_json::from_str(&body).unwrap_or_else(|e| panic!("{method} {path}: {e}: {body}"))
}

fn dechunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let n = usize::from_str_radix(size.trim(), 16).unwrap_or(0);
        if n == 0 {
            break;
        }
        out.push_str(&rest[..n]);
        body = &rest[n + 2..];
    }
    out
}

impl Browser {
    /// A headless Chromium, or `None` when it is not installed (a failure under
    /// DW_REQUIRE_PEERS, which scripts/test sets after installing it).
    pub(crate) fn start() -> Option<Browser> {
        if !Path::new(CHROMEDRIVER).exists() || !Path::new(CHROMIUM).exists() {
            assert!(
                std::env::var_os("DW_REQUIRE_PEERS").is_none(),
                "{CHROMEDRIVER} or {CHROMIUM} is missing (scripts/test installs them)"
            );
            eprintln!("skipped: no Chromium/ChromeDriver here");
            return None;
        }
        let port = free_port();
        let driver = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        let profile = std::env::temp_dir().join(format!("dw-chromium-{port}"));
        // A profile left by a killed run on the same port would carry its state over.
        let _ = std::fs::remove_dir_all(&profile);
        let caps = json!({"capabilities": {"alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": {
                "binary": CHROMIUM,
                // Without the background-networking flags Chromium keeps calling Google's hosts,
                // which this machine's closed network refuses.
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic",
                         "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync",
                         "--disable-dev-shm-usage", "--window-size=1280,1400",
                         "--hide-scrollbars",
                         format!("--user-data-dir={}", profile.display()).as_str()]
            }
        }}});
        let mut browser = Browser {
            driver,
            port,
            session: String::new(),
            profile: profile.clone(),
        };
        let created = request(port, "POST", "/session", Some(&caps));
        browser.session = created["value"]["sessionId"]
            .as_str()
            .unwrap_or_else(|| panic!("no session: {created}"))
            .to_string();
        Some(browser)
    }

    fn call(&self, method: &str, path: &str, body: Option<&Value>) -> Value {
        let v = request(
            self.port,
            method,
            &format!("/session/{}{path}", self.session),
            body,
        );
        assert!(
            v["value"].get("error").is_none(),
            "WebDriver {method} {path}: {v}"
        );
        v["value"].clone()
    }

    /// Sets the window's outer size in CSS pixels.
    pub(crate) fn resize(&self, width: u32, height: u32) {
        self.call(
            "POST",
            "/window/rect",
            Some(&json!({ "width": width, "height": height })),
        );
    }

    pub(crate) fn goto(&self, url: &str) {
        self.call("POST", "/url", Some(&json!({ "url": url })));
    }

    /// Runs `script` (a function body; `arguments` are `args`) in the page; its return value.
    pub(crate) fn run(&self, script: &str, args: &Value) -> Value {
        self.call(
            "POST",
            "/execute/sync",
            Some(&json!({ "script": script, "args": args })),
        )
    }

    /// Waits until `expr` (a JavaScript expression) is truthy; its value, or a panic saying
    /// what was awaited.
    pub(crate) fn wait_for(&self, expr: &str, within: Duration) -> Value {
        let deadline = Instant::now() + within;
        loop {
            let v = self.run(&format!("return ({expr}) || null;"), &json!([]));
            if !v.is_null() && v != json!(false) {
                return v;
            }
            assert!(
                Instant::now() < deadline,
                "not within {within:?}: {expr}\npage status: {}",
                self.run(
                    "return location.href + ': ' + (document.getElementById('status')?.textContent \
                     ?? (document.body ? document.body.innerText.slice(0, 300) : ''))",
                    &json!([])
                )
            );
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    /// Clicks the first element matching a CSS selector, as a user would (WebDriver's click).
    /// An element the page redrew between finding and clicking is found again.
    pub(crate) fn click(&self, css: &str) {
        for attempt in 0.. {
            let found = self.call(
                "POST",
                "/element",
                Some(&json!({ "using": "css selector", "value": css })),
            );
            let id = found
                .as_object()
                .and_then(|o| o.values().next())
                .and_then(Value::as_str)
                .unwrap_or_else(|| panic!("no element {css}: {found}"))
                .to_string();
            let clicked = request(
                self.port,
                "POST",
                &format!("/session/{}/element/{id}/click", self.session),
                Some(&json!({})),
            );
            match clicked["value"]["error"].as_str() {
                None => return,
                Some("stale element reference") if attempt < 5 => {}
                Some(_) => panic!("clicking {css}: {clicked}"),
            }
        }
    }

    pub(crate) fn screenshot(&self, path: &Path) {
        use base64::Engine as _;
        let png = self.call("GET", "/screenshot", None);
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(png.as_str().expect("base64"))
            .expect("a PNG");
        std::fs::write(path, bytes).expect("screenshot written");
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        if !self.session.is_empty() {
            let _ = request(
                self.port,
                "DELETE",
                &format!("/session/{}", self.session),
                None,
            );
        }
        let _ = self.driver.kill();
        let _ = self.driver.wait();
        // Chromium has quit with its session; its profile is of no further use.
        let _ = std::fs::remove_dir_all(&self.profile);
    }
}
