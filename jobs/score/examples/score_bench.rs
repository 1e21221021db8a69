//! Scoring throughput on one thread, side by side with the Python reference on the same file.
//!
//! Builds a large JSON-lines file by repeating the genuine v1.1 stream sample with fresh ids,
//! scores it in process (parse, attribute, score, window), then runs
//! jobs/pipeline/reference/labmt_reference.py on the same file, and prints both rates and the
//! ratio. Run: `cargo run --release -p dw-score --example score_bench [TWEETS]` (default 100000).

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Instant;

use dw_pipeline::score::{Outcome, ScoreOptions, Scorer};

fn main() {
    let target: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(100_000);
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let (dir, path, n) = write_input(&repo, target);
    let bytes = std::fs::read(&path).expect("read back");
    let mb = bytes.len() as f64 / 1e6;
    println!(
        "input: {n} tweets, {mb:.1} MB ({:.0} bytes/tweet)",
        bytes.len() as f64 / n as f64
    );

    let candidates = [
        "trump=Trump,Donald Trump,@realDonaldTrump,#Trump2016",
        "clinton=Hillary Clinton,Hillary,Clinton,@HillaryClinton",
        "sanders=Bernie Sanders,Bernie,@BernieSanders",
        "cruz=Ted Cruz,Cruz,@tedcruz",
        "rubio=Marco Rubio,Rubio,@marcorubio",
    ]
    .iter()
    .map(|c| c.parse().expect("candidate"))
    .collect();
    let options = ScoreOptions {
        debate: "bench".into(),
        candidates,
        lens: Some(dw_pipeline::labmt::DEFAULT_LENS),
        retweets_original: true,
        window_secs: 60,
        lateness_secs: 30,
        member: None,
        classify: None,
    };
    // The share of the time that is JSON parsing alone.
    let start = Instant::now();
    let mut parsed = 0usize;
    for_each_line(&bytes, |l| {
        if dw_pipeline::tweet::parse_bytes(l).is_ok() {
            parsed += 1;
        }
    });
    let parse_secs = start.elapsed().as_secs_f64();
    println!(
        "parsing alone:       {parsed} tweets in {parse_secs:.3} s = {:.0} tweets/s, {:.0} MB/s",
        parsed as f64 / parse_secs,
        mb / parse_secs
    );

    // Without the classifier, then with it (the default): each post's class costs the rest.
    let mut rust_rate = 0.0;
    for (name, classify) in [
        ("no classes", None),
        ("with classes", Some(dw_pipeline::classify::shipped_model())),
    ] {
        let mut scorer = Scorer::new(ScoreOptions {
            classify,
            ..options.clone()
        });
        let start = Instant::now();
        let mut scored = 0u64;
        for_each_line(&bytes, |line| {
            if let Outcome::Scored(..) = scorer.line(line) {
                scored += 1;
            }
        });
        scorer.flush();
        let rust_secs = start.elapsed().as_secs_f64();
        rust_rate = scored as f64 / rust_secs;
        println!(
            "dw-score (1 thread, {name}): {scored} tweets in {rust_secs:.3} s = {rust_rate:.0} tweets/s, {:.0} MB/s",
            mb / rust_secs
        );
    }

    let start = Instant::now();
    let out = Command::new("python3")
        .arg(repo.join("jobs/pipeline/reference/labmt_reference.py"))
        .stdin(std::fs::File::open(&path).expect("bench file"))
        .stdout(Stdio::null())
        .status()
        .expect("python3 runs the reference");
    assert!(out.success());
    let py_secs = start.elapsed().as_secs_f64();
    let py_rate = n as f64 / py_secs;
    println!(
        "Python reference:    {n} tweets in {py_secs:.3} s = {py_rate:.0} tweets/s, {:.0} MB/s",
        mb / py_secs
    );
    println!("ratio: {:.1}x", rust_rate / py_rate);
    std::fs::remove_dir_all(&dir).ok();
}

/// The lines of `bytes` as dw-score reads a file: through a `lines::LineReader` (a read into
/// its buffer, the lines scored in place).
fn for_each_line(bytes: &[u8], mut f: impl FnMut(&[u8])) {
    let mut input = dw_pipeline::lines::LineReader::new(bytes, dw_pipeline::lines::MAX_LINE);
    while let Ok(Some((_, line))) = input.next_line() {
        f(line);
    }
}

/// Writes `target` statuses, the v1.1 sample repeated with fresh ids, to a file in a new
/// temporary folder: (folder, file, statuses).
fn write_input(repo: &Path, target: usize) -> (std::path::PathBuf, std::path::PathBuf, usize) {
    let sample = std::fs::read_to_string(
        repo.join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl"),
    )
    .expect("the v1.1 sample");
    let statuses: Vec<&str> = sample
        .lines()
        .map(|l| l.trim_end_matches('\r'))
        .filter(|l| l.contains("\"id_str\"") && !l.starts_with("{\"delete\""))
        .collect();

    // Fresh ids: the status's own id_str (the line's first) replaced by one of the same shape,
    // 18 digits as Twitter's are (prefixing the old one gave 36-digit ids no status has, which
    // the scorer's dedupe sets then held as text, not as numbers).
    let dir = std::env::temp_dir().join(format!("dw-score-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("tweets.jsonl");
    let mut file = std::io::BufWriter::new(std::fs::File::create(&path).expect("bench file"));
    let mut n = 0usize;
    'outer: for round in 0.. {
        for (i, s) in statuses.iter().enumerate() {
            if n == target {
                break 'outer;
            }
            let fresh = 900_000_000_000_000_000u64 + (round * statuses.len() + i) as u64;
            let line = with_id(s, fresh);
            writeln!(file, "{line}").expect("write");
            n += 1;
        }
    }
    file.flush().expect("flush");
    drop(file);
    (dir, path, n)
}

/// `status` with its own id_str (the first in a v1.1 line: the user's and the retweeted
/// status's come later) set to `id`.
fn with_id(status: &str, id: u64) -> String {
    const KEY: &str = "\"id_str\":\"";
    let from = status
        .find(KEY)
        .expect("statuses were chosen by their id_str")
        + KEY.len();
    let to = from + status[from..].find('"').expect("a closed id_str");
    format!("{}{id}{}", &status[..from], &status[to..])
}
