//! The debate page in a real browser (headless Chromium through WebDriver): `dw watch` over a
//! file and over S3 (moto), `dw replay --watch`, `dw publish`, and what bad input does.

#![allow(
    clippy::too_many_lines,
    reason = "a test reads as one scenario, top to bottom; the 100-line limit is for the code"
)]

mod common;

use std::path::{Path, PathBuf};
use std::time::Duration;

use common::browser::Browser;
use common::{Served, dw, dw_at, run};
use dw_pipeline::window::{Standout, Window};
use serde_json::json;

const DEBATE: &str = "2015-08-06";
/// 01:00 UTC on 2015-08-07: the main debate's first minute.
const MAIN_START_MS: i64 = 1_438_909_200_000;

fn replay_sample(dir: &Path) -> PathBuf {
    let out = dir.join("out");
    let r = run(dw()
        .args(["-q", "replay", "--debate", DEBATE, "--out"])
        .arg(&out));
    assert_eq!(r.code, 0, "{}", r.stderr);
    out
}

fn windows_of(file: &Path) -> Vec<Window> {
    std::fs::read_to_string(file)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// A window of the main debate's `minute`, with Trump's standouts as given.
fn window(minute: i64, tweets: u64, positive: &str) -> Window {
    let mut w = Window::new(
        DEBATE,
        MAIN_START_MS + minute * 60_000,
        60,
        &["trump".into(), "bush".into()],
    );
    w.tweets = tweets;
    let t = w.candidates.get_mut("trump").unwrap();
    t.tweets = tweets;
    t.scored_tweets = tweets;
    t.scored_words = tweets * 5;
    t.happiness_sum = 5.5 * (tweets * 5) as f64;
    t.mean = Some(5.5);
    t.sum_squares = (tweets as f64) * 27.5 * 27.5 + 10.0;
    t.sum_by_words = (tweets as f64) * 27.5 * 5.0;
    t.words_squared = tweets * 25;
    t.most_positive = Some(Standout {
        id: format!("6294{minute:012}"),
        text: positive.to_string(),
        score: 7.25,
        user: "someone".into(),
    });
    t.most_negative = Some(Standout {
        id: format!("6295{minute:012}"),
        text: "a sad tweet".into(),
        score: 3.5,
        user: "other".into(),
    });
    w
}

/// Gives Trump's most positive post of `w` the id `id`.
fn set_trump_positive_id(w: &mut Window, id: &str) {
    let t = w.candidates.get_mut("trump").unwrap();
    t.most_positive.as_mut().unwrap().id = id.into();
}

/// A temporary folder holding `windows.jsonl` with `text`.
fn windows_file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("windows.jsonl");
    std::fs::write(&file, text).unwrap();
    (dir, file)
}

/// Trump's most positive tweet in the clicked bin's detail, as the page shows it.
const TRUMP_POSITIVE: &str =
    "document.querySelector('#detail tr[data-key=\"trump\"] .positive .tweet')?.textContent";

fn line(w: &Window) -> String {
    format!("{}\n", serde_json::to_string(w).unwrap())
}

fn append(file: &Path, text: &str) {
    use std::io::Write;
    let mut f = std::fs::OpenOptions::new().append(true).open(file).unwrap();
    f.write_all(text.as_bytes()).unwrap();
}

fn watch(from: &str, log_dir: &Path) -> Served {
    watch_with(from, log_dir, &[])
}

fn watch_with(from: &str, log_dir: &Path, extra: &[&str]) -> Served {
    let mut cmd = dw();
    cmd.args([
        "watch",
        "--debate",
        DEBATE,
        "--bind",
        "127.0.0.1:0",
        "--from",
        from,
    ])
    .args(extra);
    Served::start(cmd, log_dir)
}

fn screenshots() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("page");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The AWS CLI (from the test peers' venv, on PATH under scripts/test) against moto, signed
/// as a scorer's or an operator's calls are.
fn aws(moto: &str, args: &[&str]) -> bool {
    let status = std::process::Command::new("aws")
        .arg("--endpoint-url")
        .arg(moto)
        .args(args)
        .env("AWS_ACCESS_KEY_ID", "testing")
        .env("AWS_SECRET_ACCESS_KEY", "testing")
        .env("AWS_DEFAULT_REGION", "us-east-1")
        .stdout(std::process::Stdio::null())
        .status();
    if let Ok(s) = status {
        assert!(s.success(), "aws {args:?} failed");
        true
    } else {
        assert!(
            std::env::var_os("DW_REQUIRE_PEERS").is_none(),
            "the AWS CLI is missing (scripts/test puts it on PATH)"
        );
        eprintln!("skipped: no AWS CLI");
        false
    }
}

/// The README's bucket policy for a published page (docs/publish/bucket-policy.json).
fn public_read(moto: &str, bucket: &str, pages: &str, results: &str) {
    let policy = std::fs::read_to_string(common::repo().join("docs/publish/bucket-policy.json"))
        .unwrap()
        .replace("BUCKET", bucket)
        .replace("PAGES", pages)
        .replace("RESULTS", results);
    aws(
        moto,
        &[
            "s3api",
            "put-bucket-policy",
            "--bucket",
            bucket,
            "--policy",
            &policy,
        ],
    );
}

fn put_window(moto: &str, bucket: &str, w: &Window) {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), serde_json::to_string_pretty(w).unwrap()).unwrap();
    // Into `windows/` even for a part: readers add up whatever that folder holds (windows of
    // several lone scorers, or parts an older dw-score wrote there).
    let start = w.start.strftime("%Y-%m-%dT%H:%M:%SZ");
    let key = match &w.member {
        Some(m) => format!("dw/results/{}/windows/{start}.{m}.json", w.debate),
        None => format!("dw/results/{}", w.key()),
    };
    let body = file.path().to_str().unwrap().to_string();
    aws(
        moto,
        &[
            "s3api",
            "put-object",
            "--bucket",
            bucket,
            "--key",
            &key,
            "--body",
            &body,
        ],
    );
}

const READY: &str = "document.body.dataset.ready === 'true'";

#[test]
fn the_replayed_sample_renders_with_lines_debates_and_a_bins_standout_tweets() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = replay_sample(dir.path());
    let windows = windows_of(&out.join(DEBATE).join("windows.jsonl"));
    let served = watch(out.to_str().unwrap(), dir.path());
    browser.goto(&served.url);
    browser.wait_for(READY, Duration::from_secs(15));
    let starts: std::collections::BTreeSet<_> = windows.iter().map(|w| w.start).collect();
    browser.wait_for(
        &format!("document.body.dataset.windows === '{}'", starts.len()),
        Duration::from_secs(10),
    );
    // 15-minute bins: the sample is sparse (2,774 tweets), most minutes have too few.
    browser.run(
        "const s = document.getElementById('bin'); s.value = '900';
         s.dispatchEvent(new Event('change'));",
        &json!([]),
    );
    browser.wait_for(
        "document.querySelectorAll('#happiness path.line').length > 0",
        Duration::from_secs(5),
    );
    // Every candidate shown has its line (or its points where bins stand alone).
    let shown = browser.run(
        "return [...document.querySelectorAll('#candidates input:checked')].map(i => i.dataset.key)",
        &json!([]),
    );
    let shown: Vec<String> = serde_json::from_value(shown).unwrap();
    assert!(!shown.is_empty() && shown.len() <= 6, "{shown:?}");
    assert!(
        shown.contains(&"trump".to_string()),
        "the most tweeted: {shown:?}"
    );
    for key in &shown {
        let marks = browser.run(
            "return document.querySelectorAll(`#happiness [data-key=\"${arguments[0]}\"]`).length",
            &json!([key]),
        );
        assert!(marks.as_u64().unwrap() > 0, "no line for {key}");
    }
    // The axis is in Eastern time; both debates are shaded.
    let zone = browser.run(
        "return document.querySelector('#happiness text.zone').textContent",
        &json!([]),
    );
    assert_eq!(zone, "ET");
    let debates = browser.run(
        "return [...document.querySelectorAll('#happiness rect.debate')].map(r => r.getAttribute('class'))",
        &json!([]),
    );
    assert_eq!(debates, json!(["debate undercard", "debate main"]));
    // Eastern (EDT in August): the UTC toggle moves every label four hours on.
    let ticks =
        "return [...document.querySelectorAll('#happiness text.tick')].map(t => t.textContent)";
    let eastern = browser.run(ticks, &json!([]));
    browser.click("#tz");
    browser.wait_for(
        "document.querySelector('#happiness text.zone').textContent === 'UTC'",
        Duration::from_secs(5),
    );
    let utc = browser.run(ticks, &json!([]));
    let hour = |v: &serde_json::Value| -> u32 { v.as_str().unwrap()[..2].parse().unwrap() };
    assert_eq!(
        eastern.as_array().unwrap().len(),
        utc.as_array().unwrap().len()
    );
    for (e, u) in eastern
        .as_array()
        .unwrap()
        .iter()
        .zip(utc.as_array().unwrap())
    {
        assert_eq!((hour(e) + 4) % 24, hour(u), "{eastern} vs {utc}");
    }
    browser.click("#tz");
    browser.wait_for(
        "document.querySelector('#happiness text.zone').textContent === 'ET'",
        Duration::from_secs(5),
    );

    // The bin with the most Trump tweets: its standouts are the windows' best and worst.
    let bin_ms = 900_000;
    let mut by_bin: std::collections::BTreeMap<i64, Vec<&Window>> =
        std::collections::BTreeMap::new();
    for w in &windows {
        let ms = w.start.as_millisecond();
        by_bin
            .entry(ms - ms.rem_euclid(bin_ms))
            .or_default()
            .push(w);
    }
    let (bin, ws) = by_bin
        .iter()
        .max_by_key(|(_, ws)| {
            ws.iter()
                .map(|w| w.candidates["trump"].scored_tweets)
                .sum::<u64>()
        })
        .unwrap();
    let best = ws
        .iter()
        .filter_map(|w| w.candidates["trump"].most_positive.as_ref())
        .max_by(|a, b| a.score.total_cmp(&b.score))
        .unwrap();
    let at = jiff::Timestamp::from_millisecond(*bin).unwrap();
    browser.click(&format!(
        "#happiness rect.hit[data-start=\"{}\"]",
        at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ));
    let shown_text = browser.wait_for(TRUMP_POSITIVE, Duration::from_secs(5));
    let expected: String = best
        .text
        .chars()
        .map(|c| match c as u32 {
            0x061C | 0x200B..=0x200F | 0x202A..=0x202E | 0x2060..=0x2069 | 0xFEFF => {
                format!("U+{:04X}", c as u32)
            }
            _ => c.to_string(),
        })
        .collect();
    assert_eq!(shown_text, json!(expected));
    let link = browser.run(
        "return document.querySelector('#detail tr[data-key=\"trump\"] .positive a').href",
        &json!([]),
    );
    assert!(link.as_str().unwrap().ends_with(&best.id), "{link}");
    browser.screenshot(&screenshots().join("watch-2015-08-06.png"));

    // Time travel: a drag over the whole-evening strip narrows the charts to that span and
    // stops following the newest bin; a double-click gives the whole evening back.
    let whole = browser.run(
        "return document.getElementById('range').textContent",
        &json!([]),
    );
    browser.run(
        "const svg = document.getElementById('overview');
         const r = svg.getBoundingClientRect();
         const at = (f) => ({ clientX: r.left + r.width * f, clientY: r.top + r.height / 2, bubbles: true });
         svg.dispatchEvent(new MouseEvent('mousedown', at(0.30)));
         window.dispatchEvent(new MouseEvent('mouseup', at(0.45)));",
        &json!([]),
    );
    let narrowed = browser.wait_for(
        &format!(
            "document.getElementById('range').textContent !== {whole} \
             && !document.getElementById('live').classList.contains('on') \
             && document.getElementById('range').textContent"
        ),
        Duration::from_secs(5),
    );
    assert_ne!(narrowed, whole);
    browser.run(
        "document.getElementById('overview').dispatchEvent(new MouseEvent('dblclick', { bubbles: true }))",
        &json!([]),
    );
    browser.wait_for(
        &format!("document.getElementById('range').textContent === {whole}"),
        Duration::from_secs(5),
    );
}

#[test]
fn a_window_written_after_the_page_opened_shows_up_without_a_reload() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (dir, file) =
        windows_file(&(line(&window(0, 12, "first")) + &line(&window(1, 9, "second"))));
    let served = watch(file.to_str().unwrap(), dir.path());
    browser.goto(&served.url);
    browser.wait_for(
        "document.body.dataset.windows === '2'",
        Duration::from_secs(15),
    );
    browser.run("window.__sameDocument = true;", &json!([]));
    append(&file, &line(&window(2, 14, "third")));
    browser.wait_for(
        "document.body.dataset.windows === '3'",
        Duration::from_secs(5),
    );
    // A revision of a window replaces it (late tweets), still without a reload.
    let mut revised = window(1, 11, "second, revised");
    revised.revision = 1;
    append(&file, &line(&revised));
    browser.click("#happiness rect.hit[data-start=\"2015-08-07T01:01:00.000Z\"]");
    browser.wait_for(
        &format!("{TRUMP_POSITIVE} === 'second, revised'"),
        Duration::from_secs(5),
    );
    assert_eq!(
        browser.run("return window.__sameDocument === true", &json!([])),
        json!(true)
    );
    // The band is drawn from the v3 sums.
    assert!(
        browser
            .run(
                "return document.querySelectorAll('#happiness polygon.band').length",
                &json!([])
            )
            .as_u64()
            .unwrap()
            > 0
    );
}

#[test]
fn tweet_text_is_shown_literally_and_nothing_in_it_runs() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("windows.jsonl");
    let hostile = "<script>window.__xss = 1</script> &amp; \"quoted\" 'single' \
                   <img src=x onerror=\"window.__xss = 2\"> \u{202E}txet desrever\u{202C} zero\u{200B}width";
    std::fs::write(&file, line(&window(0, 12, hostile))).unwrap();
    let served = watch(file.to_str().unwrap(), dir.path());
    browser.goto(&served.url);
    browser.wait_for(
        "document.body.dataset.windows === '1'",
        Duration::from_secs(15),
    );
    browser.click("#happiness rect.hit[data-start=\"2015-08-07T01:00:00.000Z\"]");
    let text = browser.wait_for(TRUMP_POSITIVE, Duration::from_secs(5));
    assert_eq!(
        text,
        json!(
            "<script>window.__xss = 1</script> &amp; \"quoted\" 'single' \
             <img src=x onerror=\"window.__xss = 2\"> U+202Etxet desreverU+202C zeroU+200Bwidth"
        )
    );
    let ran = browser.run(
        "return [window.__xss === undefined, document.querySelectorAll('#detail img, #detail script').length]",
        &json!([]),
    );
    assert_eq!(ran, json!([true, 0]));
}

#[test]
fn a_corrupt_window_is_skipped_with_a_warning_and_the_rest_is_drawn() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (dir, file) = windows_file(
        &(line(&window(0, 12, "a"))
            + "{\"version\": 3, \"debate\": tru\n"
            + &line(&window(1, 8, "b"))),
    );
    let served = watch(file.to_str().unwrap(), dir.path());
    browser.goto(&served.url);
    browser.wait_for(
        "document.body.dataset.windows === '2'",
        Duration::from_secs(15),
    );
    let warning = browser.wait_for(
        "document.querySelector('#warnings .warning')?.textContent",
        Duration::from_secs(5),
    );
    assert!(
        warning
            .as_str()
            .unwrap()
            .contains("windows.jsonl:2: not a window"),
        "{warning}"
    );
    assert!(
        served.stderr().contains("windows.jsonl:2: not a window"),
        "{}",
        served.stderr()
    );
}

#[test]
fn s3_windows_appear_live_on_the_page() {
    let Some(moto) = common::moto_endpoint() else {
        return;
    };
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let bucket = &dw_pipeline::testkit::unique("dw-watch-live");
    if !aws(&moto, &["s3api", "create-bucket", "--bucket", bucket]) {
        return;
    }
    let put = |w: &Window| put_window(&moto, bucket, w);
    // Two scorers' parts of minute 0, one of minute 1.
    let mut a = window(0, 5, "from a");
    a.member = Some("a".into());
    let mut b = window(0, 7, "from b");
    b.member = Some("b".into());
    put(&a);
    put(&b);
    put(&window(1, 4, "alone"));
    let mut cmd = dw_at(&moto);
    cmd.args([
        "watch",
        "--debate",
        DEBATE,
        "--bind",
        "127.0.0.1:0",
        "--from",
    ])
    .arg(format!("s3://{bucket}/dw/results"));
    let served = Served::start(cmd, dir.path());
    browser.goto(&served.url);
    browser.wait_for(
        "document.body.dataset.windows === '2'",
        Duration::from_secs(15),
    );
    let merged = browser.run(
        "return fetch('api/windows').then(r => r.json()).then(s => s.windows[0].tweets)",
        &json!([]),
    );
    assert_eq!(merged, json!(12), "the two parts of minute 0, merged");
    put(&window(2, 6, "new"));
    browser.wait_for(
        "document.body.dataset.windows === '3'",
        Duration::from_secs(5),
    );
}

#[test]
fn replay_watch_serves_the_page_while_it_replays() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = dw();
    cmd.args([
        "replay",
        "--debate",
        DEBATE,
        "--watch",
        "--bind",
        "127.0.0.1:0",
        "--out",
    ])
    .arg(dir.path().join("out"));
    let served = Served::start(cmd, dir.path());
    browser.goto(&served.url);
    browser.wait_for(READY, Duration::from_secs(15));
    // The whole sample lands (the replay runs at full speed), and the page stays up after it.
    browser.wait_for(
        "Number(document.body.dataset.windows) > 400",
        Duration::from_secs(30),
    );
    browser.wait_for(
        "document.querySelectorAll('#candidates input:checked').length > 0",
        Duration::from_secs(5),
    );
}

#[test]
fn the_published_site_works_from_a_plain_file_server_and_from_s3() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (dir, file) = windows_file(&(line(&window(0, 12, "one")) + &line(&window(1, 9, "two"))));
    let site = dir.path().join("site");
    let r = run(dw()
        .args(["publish", "--debate", DEBATE, "--from"])
        .arg(&file)
        .arg("--out")
        .arg(&site));
    assert_eq!(r.code, 0, "{}", r.stderr);
    assert!(
        r.stdout.contains("wrote 5 files (2 windows)"),
        "{}",
        r.stdout
    );
    // Python's plain file server: no dw behind the page.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = std::process::Command::new("python3")
        .args([
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
            "--directory",
        ])
        .arg(&site)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("python3 -m http.server");
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "the file server did not start"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    browser.goto(&format!("http://127.0.0.1:{port}/"));
    let status = browser.wait_for(
        "document.body.dataset.windows === '2' && document.getElementById('status').textContent",
        Duration::from_secs(15),
    );
    assert_eq!(status, json!("published copy · 2 windows"));
    let _ = server.kill();
    let _ = server.wait();

    let Some(moto) = common::moto_endpoint() else {
        return;
    };
    let bucket = &dw_pipeline::testkit::unique("dw-publish-site");
    if !aws(&moto, &["s3api", "create-bucket", "--bucket", bucket]) {
        return;
    }
    let r = run(dw_at(&moto)
        .args(["publish", "--debate", DEBATE, "--from"])
        .arg(&file)
        .args(["--to", &format!("s3://{bucket}/pages/{DEBATE}")]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    public_read(&moto, bucket, "pages", "dw/results");
    browser.goto(&format!("{moto}/{bucket}/pages/{DEBATE}/index.html"));
    browser.wait_for(
        "document.body.dataset.windows === '2'",
        Duration::from_secs(15),
    );
}

#[test]
fn a_missing_source_and_a_port_in_use_are_clear_errors() {
    let r = run(dw().args(["watch", "--debate", DEBATE, "--from", "/nonexistent/out"]));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains("no windows at /nonexistent/out")
            && r.stderr.contains("dw replay --debate"),
        "{}",
        r.stderr
    );
    let (_dir, file) = windows_file(&line(&window(0, 1, "x")));
    let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = taken.local_addr().unwrap().to_string();
    let r = run(dw()
        .args(["watch", "--debate", DEBATE, "--bind", &addr, "--from"])
        .arg(&file));
    assert_eq!(r.code, 2, "{}", r.stderr);
    assert!(
        r.stderr.contains(&format!("cannot listen on {addr}")) && r.stderr.contains("--bind"),
        "{}",
        r.stderr
    );
}

#[test]
fn a_page_published_from_s3_reads_the_results_prefix_while_the_scorers_write() {
    let Some(moto) = common::moto_endpoint() else {
        return;
    };
    let Some(browser) = Browser::start() else {
        return;
    };
    let bucket = &dw_pipeline::testkit::unique("dw-publish-live");
    if !aws(&moto, &["s3api", "create-bucket", "--bucket", bucket]) {
        return;
    }
    let put = |w: &Window| put_window(&moto, bucket, w);
    // Minute 0 in two scorers' parts (a consumer group), minute 1 from one.
    let part = |member: &str, tweets: u64, text: &str| {
        let mut w = window(0, tweets, text);
        w.member = Some(member.into());
        w
    };
    put(&part("a", 5, "zero"));
    put(&part("b", 7, "zero, b"));
    put(&window(1, 6, "one"));
    let r = run(dw_at(&moto)
        .args(["publish", "--debate", DEBATE, "--from"])
        .arg(format!("s3://{bucket}/dw/results"))
        .args(["--to", &format!("s3://{bucket}/pages/{DEBATE}")]));
    assert_eq!(r.code, 0, "{}", r.stderr);
    public_read(&moto, bucket, "pages", "dw/results");
    browser.goto(&format!("{moto}/{bucket}/pages/{DEBATE}/index.html"));
    browser.wait_for(
        "document.body.dataset.windows === '2'",
        Duration::from_secs(15),
    );
    // The scorers write on: a new window, and a revision of scorer a's part of minute 0, reach
    // the open page; minute 0 is then a's revised part plus b's (9 + 7), not 5 + 7 + 9.
    put(&window(2, 7, "two"));
    let mut revised = part("a", 9, "zero, revised");
    revised.revision = 1;
    put(&revised);
    browser.wait_for(
        "document.body.dataset.windows === '3'",
        Duration::from_secs(15),
    );
    browser.click("#happiness rect.hit[data-start=\"2015-08-07T01:00:00.000Z\"]");
    let scored =
        "document.querySelector('#detail tr[data-key=\"trump\"] td:nth-child(3)')?.textContent";
    browser.wait_for(&format!("{scored} === '16 of 16'"), Duration::from_secs(15));
    // Only the new object and the revised one were fetched: the copy knew the others.
    let fetched = browser.run(
        "return performance.getEntriesByType('resource')
             .filter(e => e.name.includes('/windows/') && !e.name.includes('list-type')).length",
        &json!([]),
    );
    assert_eq!(fetched, json!(2));
}

#[test]
fn a_source_without_new_windows_is_flagged_stale_until_one_comes() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let (dir, file) = windows_file(&line(&window(0, 12, "first")));
    let served = watch_with(file.to_str().unwrap(), dir.path(), &["--stale-after", "3s"]);
    browser.goto(&served.url);
    browser.wait_for(
        "document.body.dataset.windows === '1'",
        Duration::from_secs(15),
    );
    let flagged = browser.wait_for(
        "document.getElementById('status').dataset.stale === 'true' \
         && document.getElementById('status').textContent",
        Duration::from_secs(15),
    );
    assert!(
        flagged
            .as_str()
            .unwrap()
            .starts_with("stale: no new window for"),
        "{flagged}"
    );
    append(&file, &line(&window(1, 3, "second")));
    browser.wait_for(
        "document.getElementById('status').dataset.stale === 'false'",
        Duration::from_secs(5),
    );
}

/// Bluesky posts on the page: the author by handle, or by DID when no identity event named
/// one (no `@` then); the link goes to the post on bsky.app; an id that is not a post's AT URI
/// of valid characters gets no link at all.
#[test]
fn bluesky_posts_show_their_author_and_link_to_bsky_app() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("windows.jsonl");
    let mut w = window(0, 12, "Trump nailed that answer on healthcare");
    let t = w.candidates.get_mut("trump").unwrap();
    t.most_positive = Some(Standout {
        id: "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b".into(),
        text: "Trump nailed that answer on healthcare".into(),
        score: 7.25,
        user: "alice.bsky.social".into(),
    });
    t.most_negative = Some(Standout {
        id: "at://did:plc:ufbl4k27gp6kzas5glhz7fim/app.bsky.feed.post/3l3f6nzl3cv2s".into(),
        text: "a sad post".into(),
        score: 3.5,
        user: "did:plc:ufbl4k27gp6kzas5glhz7fim".into(),
    });
    let mut hostile = window(1, 12, "x");
    set_trump_positive_id(
        &mut hostile,
        "at://did:plc:a/app.bsky.feed.post/x\"onclick=alert(1)",
    );
    std::fs::write(&file, line(&w) + &line(&hostile)).unwrap();
    let served = watch(file.to_str().unwrap(), dir.path());
    browser.goto(&served.url);
    browser.wait_for(
        "document.body.dataset.windows === '2'",
        Duration::from_secs(15),
    );
    browser.click("#happiness rect.hit[data-start=\"2015-08-07T01:00:00.000Z\"]");
    browser.wait_for(TRUMP_POSITIVE, Duration::from_secs(5));
    let cells = browser.run(
        "const row = document.querySelector('#detail tr[data-key=\"trump\"]');
         return ['.positive', '.negative'].map(c => [
           row.querySelector(c + ' .score').textContent,
           row.querySelector(c + ' a')?.href ?? null,
           row.querySelector(c + ' a')?.textContent ?? null]);",
        &json!([]),
    );
    assert_eq!(
        cells,
        json!([
            [
                "7.25 · @alice.bsky.social",
                "https://bsky.app/profile/did:plc:eygmaihciaxprqvxpfvl6flk/post/3l3qo2vuowo2b",
                " post ↗"
            ],
            [
                "3.50 · did:plc:ufbl4k27gp6kzas5glhz7fim",
                "https://bsky.app/profile/did:plc:ufbl4k27gp6kzas5glhz7fim/post/3l3f6nzl3cv2s",
                " post ↗"
            ]
        ])
    );
    browser.click("#happiness rect.hit[data-start=\"2015-08-07T01:01:00.000Z\"]");
    browser.wait_for(
        "document.querySelector('#detail tr[data-key=\"trump\"] .positive .tweet')?.textContent === 'x'",
        Duration::from_secs(5),
    );
    let link = browser.run(
        "return document.querySelector('#detail tr[data-key=\"trump\"] .positive a')",
        &json!([]),
    );
    assert_eq!(link, json!(null), "no link from a malformed id");
}

/// What the page calls the evening's posts: tweets on a Twitter evening, posts on a Bluesky
/// one (told by the standouts' ids), in the bin's heading, its tooltip, the volume chart's
/// caption and label, and the hint before a bin is chosen.
#[test]
fn a_bluesky_evening_counts_posts_and_a_twitter_one_tweets() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let words = "const h = document.querySelector('#detail h2');
         return [h ? h.textContent.split(' · ').pop() : document.querySelector('#detail p').textContent,
                 document.querySelector('#happiness rect.hit title').textContent.split(' · ').pop(),
                 document.getElementById('volume-caption').textContent,
                 document.getElementById('volume').getAttribute('aria-label')];";
    let twitter = window(0, 12, "Trump nailed that answer");
    let mut bluesky = window(0, 12, "Trump nailed that answer");
    set_trump_positive_id(
        &mut bluesky,
        "at://did:plc:eygmaihciaxprqvxpfvl6flk/app.bsky.feed.post/3l3qo2vuowo2b",
    );
    for (w, noun) in [(twitter, "tweet"), (bluesky, "post")] {
        let (dir, file) = windows_file(&line(&w));
        let served = watch(file.to_str().unwrap(), dir.path());
        browser.goto(&served.url);
        browser.wait_for(
            "document.body.dataset.windows === '1'",
            Duration::from_secs(15),
        );
        let capital = noun[..1].to_uppercase() + &noun[1..];
        assert_eq!(
            browser.run(words, &json!([])),
            json!([
                format!(
                    "Click a bin to see its most positive and most negative {noun} per candidate."
                ),
                format!("12 {noun}s"),
                format!("{capital}s per bin"),
                format!("{noun}s per candidate"),
            ])
        );
        browser.click("#happiness rect.hit[data-start=\"2015-08-07T01:00:00.000Z\"]");
        browser.wait_for(TRUMP_POSITIVE, Duration::from_secs(5));
        assert_eq!(
            browser.run(words, &json!([]))[0],
            json!(format!("12 {noun}s"))
        );
        browser.screenshot(&screenshots().join(format!("an-evening-of-{noun}s.png")));
    }
}

/// At 1400 and at 800 pixels wide, no text of a chart's time axis overlaps another (the zone
/// label `ET` once sat on the first tick's) or runs past the chart's edges.
#[test]
fn axis_labels_do_not_overlap_at_either_width() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = replay_sample(dir.path());
    let served = watch(out.to_str().unwrap(), dir.path());
    for width in [1400, 800] {
        browser.resize(width, 1200);
        browser.goto(&served.url);
        browser.wait_for(READY, Duration::from_secs(15));
        browser.wait_for(
            "document.querySelectorAll('#happiness text.tick').length > 2",
            Duration::from_secs(10),
        );
        let overlaps = browser.run(
            "const out = [];
             for (const svg of document.querySelectorAll('svg.chart')) {
               const box = svg.getBoundingClientRect();
               const texts = [...svg.querySelectorAll('text.tick, text.zone')]
                 .map(t => [t.textContent, t.getBoundingClientRect()]);
               for (const [s, r] of texts) {
                 if (r.left < box.left - 0.5 || r.right > box.right + 0.5) out.push(`${svg.id}: ${s} outside`);
               }
               for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++) {
                 const [a, ra] = texts[i], [b, rb] = texts[j];
                 const apart = ra.right <= rb.left || rb.right <= ra.left || ra.bottom <= rb.top || rb.bottom <= ra.top;
                 if (!apart) out.push(`${svg.id}: ${a} over ${b}`);
               }
             }
             return out;",
            &json!([]),
        );
        assert_eq!(overlaps, json!([]), "at {width} px");
        browser.screenshot(&screenshots().join(format!("axis-{width}.png")));
    }
}

/// The share view: per candidate and bin, the share of the posts the classifier called negative
/// (or positive) with its Wilson band, drawn from the windows' class counts; the bin's detail
/// names the same shares the windows add up to.
#[test]
fn the_share_view_draws_what_the_windows_class_counts_say() {
    let Some(browser) = Browser::start() else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = replay_sample(dir.path());
    let windows = windows_of(&out.join(DEBATE).join("windows.jsonl"));
    assert!(
        windows.iter().all(|w| w.version == 4),
        "replayed windows carry classes"
    );
    let served = watch(out.to_str().unwrap(), dir.path());
    browser.resize(1400, 1200);
    browser.goto(&served.url);
    browser.wait_for(READY, Duration::from_secs(15));
    browser.run(
        "const b = document.getElementById('bin'); b.value = '900';
         b.dispatchEvent(new Event('change'));
         const m = document.getElementById('measure'); m.value = 'negative';
         m.dispatchEvent(new Event('change'));",
        &json!([]),
    );
    browser.wait_for(
        "document.getElementById('happiness').dataset.measure === 'negative' \
         && document.querySelectorAll('#happiness path.line[data-key=\"trump\"]').length > 0",
        Duration::from_secs(5),
    );
    let caption = browser.run(
        "return document.getElementById('main-caption').textContent",
        &json!([]),
    );
    assert!(
        caption.as_str().unwrap().contains("calls negative"),
        "{caption}"
    );
    let axis = browser.run(
        "return [...document.querySelectorAll('#happiness text.value')].map(t => t.textContent)",
        &json!([]),
    );
    let axis: Vec<String> = serde_json::from_value(axis).unwrap();
    assert!(
        !axis.is_empty() && axis.iter().all(|t| t.ends_with('%')),
        "{axis:?}"
    );
    let bands = browser.run(
        "return document.querySelectorAll('#happiness polygon.band[data-key=\"trump\"]').length",
        &json!([]),
    );
    assert!(bands.as_u64().unwrap() > 0, "Trump's band");

    // The 15-minute bin with the most Trump posts: its shares, from the windows' counts.
    let bin_ms = 900_000;
    let mut tally: std::collections::BTreeMap<i64, dw_pipeline::window::ClassTally> =
        std::collections::BTreeMap::new();
    for w in &windows {
        let ms = w.start.as_millisecond();
        if let Some(c) = w.candidates["trump"].classes.as_ref() {
            tally
                .entry(ms - ms.rem_euclid(bin_ms))
                .or_default()
                .merge(c);
        }
    }
    let (bin, t) = tally.iter().max_by_key(|(_, t)| t.posts()).unwrap();
    assert!(t.posts() > 20, "{t:?}");
    let pct = |x: f64| (x * 100.0).round() as i64;
    let said = |s: dw_pipeline::window::Share| {
        format!("{}% ({}–{})", pct(s.share), pct(s.low), pct(s.high))
    };
    let shares = t.shares().unwrap();
    let at = jiff::Timestamp::from_millisecond(*bin).unwrap();
    browser.click(&format!(
        "#happiness rect.hit[data-start=\"{}\"]",
        at.strftime("%Y-%m-%dT%H:%M:%S.000Z")
    ));
    let negative = browser.wait_for(
        "document.querySelector('#detail tr[data-key=\"trump\"] .share-negative')?.textContent",
        Duration::from_secs(5),
    );
    assert_eq!(negative, json!(said(shares.negative)));
    let positive = browser.run(
        "return document.querySelector('#detail tr[data-key=\"trump\"] .share-positive').textContent",
        &json!([]),
    );
    assert_eq!(positive, json!(said(shares.positive)));
    browser.screenshot(&screenshots().join("shares-negative-2015-08-06.png"));

    // And back: the happiness view is as it was.
    browser.run(
        "const m = document.getElementById('measure'); m.value = 'happiness';
         m.dispatchEvent(new Event('change'));",
        &json!([]),
    );
    browser.wait_for(
        "document.getElementById('happiness').dataset.measure === 'happiness' \
         && [...document.querySelectorAll('#happiness text.value')].every(t => /^[0-9][.][0-9]{2}$/.test(t.textContent))",
        Duration::from_secs(5),
    );
}
