//! The pipeline as the cluster runs it, end to end on loopback (a benchmark, not a test):
//! dw-ingest reads a file of real-envelope v1.1 tweets into a Tansu broker the bench starts
//! itself, one dw-score reads the topic into a windows file. Prints the sustained rate (tweets
//! in / time until the last one is scored), MB/s, each process's share of the CPU (the broker's
//! among them), dw-score's lag when dw-ingest finished, and whether every tweet was scored.
//!
//! ```sh
//! cargo build --release -p dw-ingest -p dw-score --bins --examples
//! DW_TANSU_BIN=/path/to/tansu target/release/examples/pipeline_bench [TWEETS] [PARTITIONS] \
//!     [--producer KEY=VALUE]... [--consumer KEY=VALUE]... [--bluesky [--uncompressed]]
//! ```
//! The input repeats tests/fixtures' v1.1 stream sample with fresh ids, restamped 10 ms apart.
//! With `--bluesky`, dw-ingest reads a synthetic Jetstream session of TWEETS posts (and the
//! identity, account, delete and other events between them) from the Jetstream stand-in over a
//! WebSocket, zstd-compressed unless `--uncompressed`; the stand-in sends as fast as dw-ingest
//! takes them.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use dw_pipeline::testkit::Killed;

fn binary(name: &str) -> PathBuf {
    dw_pipeline::testkit::sibling_binary(name)
}

/// CPU seconds (user + system) a live process has used.
fn cpu_secs(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // After the ")" that ends the command name: fields 3.. ; utime and stime are 14 and 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    Some(ticks / 100.0) // USER_HZ
}

fn status_count(path: &Path, field: &str) -> Option<u64> {
    let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(path).ok()?).ok()?;
    v["counts"][field].as_u64()
}

/// dw-score stops this long after its last message: its exit, less this, is when it scored
/// the last tweet (to its 200 ms poll).
const IDLE_SECS: u64 = 2;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

fn main() {
    let Options {
        n,
        partitions,
        producer,
        consumer,
        bluesky,
        uncompressed,
    } = options();
    let tansu = std::env::var("DW_TANSU_BIN").expect("DW_TANSU_BIN: the tansu binary");

    let dir = tempfile::tempdir().expect("temp dir");
    let source = if bluesky {
        Source::bluesky(n)
    } else {
        Source::file(dir.path(), n)
    };
    let mb = source.mb;
    // A broker of our own, so that its CPU is ours to count.
    let (broker, brokers) = start_broker(&tansu, partitions);

    let score_status = dir.path().join("score.status.json");
    let mut score = scorer_command(&brokers, dir.path(), &score_status, &consumer);
    let mut score = Killed(
        score
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dw-score starts"),
    );
    // The group forms before the clock starts.
    std::thread::sleep(Duration::from_secs(4));

    let mut ingest = ingest_command(&brokers, &source.from, uncompressed, &producer);
    let start = Instant::now();
    let mut ingest = Killed(
        ingest
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("dw-ingest starts"),
    );
    let (broker_pid, score_pid, ingest_pid) = (broker.0.id(), score.0.id(), ingest.0.id());
    let broker_cpu0 = cpu_secs(broker_pid).unwrap_or(0.0);
    let score_cpu0 = cpu_secs(score_pid).unwrap_or(0.0);
    let (mut ingest_cpu, mut ingest_secs, mut lag_at_ingest_end) = (0.0, None, None);
    let mut score_cpu = 0.0;
    let scored;
    let done = loop {
        if ingest_secs.is_none() {
            if let Some(c) = cpu_secs(ingest_pid) {
                ingest_cpu = c;
            }
            // A file's dw-ingest ends with its input; a stream's when the stand-in sent all.
            let drained = match &source.standin {
                Some((standin, events)) => {
                    standin.connections().iter().map(|c| c.sent).sum::<usize>() >= *events
                }
                None => match ingest.0.try_wait() {
                    Ok(Some(status)) => {
                        assert!(status.success(), "dw-ingest failed");
                        true
                    }
                    _ => false,
                },
            };
            if drained {
                ingest_secs = Some(start.elapsed().as_secs_f64());
                lag_at_ingest_end =
                    Some(n as u64 - status_count(&score_status, "tweets").unwrap_or(0));
            }
        }
        if let Some(c) = cpu_secs(score_pid) {
            score_cpu = c - score_cpu0;
        }
        if let Ok(Some(status)) = score.0.try_wait() {
            assert!(status.success(), "dw-score failed");
            scored = status_count(&score_status, "tweets").unwrap_or(0);
            break start.elapsed().as_secs_f64() - IDLE_SECS as f64;
        }
        assert!(
            start.elapsed() < Duration::from_mins(10),
            "dw-score did not finish in 10 minutes"
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    let broker_cpu = cpu_secs(broker_pid).unwrap_or(broker_cpu0) - broker_cpu0;
    println!(
        "input: {n} {}, {mb:.1} MB, {partitions} partitions; producer {producer:?}, consumer {consumer:?}",
        source.what
    );
    println!(
        "sustained: {:.0} tweets/s, {:.1} MB/s ({n} in, {scored} scored, the last {done:.2} s after the first was read)",
        n as f64 / done,
        mb / done
    );
    if let Some(s) = ingest_secs {
        println!(
            "dw-ingest alone: {:.0} tweets/s (its input read in {s:.2} s); dw-score's lag then: {} tweets",
            n as f64 / s,
            lag_at_ingest_end.unwrap_or(0)
        );
    }
    print_cpu(ingest_cpu, score_cpu, broker_cpu);
    let every = if scored == n as u64 { "yes" } else { "NO" };
    println!("every tweet scored: {every}");
}

/// What dw-ingest reads: a file of tweets, or the Jetstream stand-in.
struct Source {
    from: String,
    /// What the input is, for the report.
    what: String,
    /// The input's size (the events' JSON, for Jetstream).
    mb: f64,
    /// The stand-in and how many events it sends in all.
    standin: Option<(dw_jetstream_standin::Standin, usize)>,
}

impl Source {
    fn file(dir: &Path, n: usize) -> Source {
        let (input, mb) = write_input(dir, n);
        Source {
            from: format!("file:{}", input.display()),
            what: "real-envelope v1.1 tweets from a file".into(),
            mb,
            standin: None,
        }
    }

    /// A synthetic Jetstream session of `n` post creates, every one mentioning a candidate
    /// (`--track` is not given: dw-ingest writes every post; the scorer attributes).
    fn bluesky(n: usize) -> Source {
        use dw_jetstream_standin::{Options, Standin, synth};
        let session = synth::session(&synth::Spec {
            posts: n,
            ..synth::Spec::default()
        });
        // The stand-in sends dw posts' commits, identity and account events (wantedCollections).
        let events = session
            .iter()
            .filter(|l| {
                let v: serde_json::Value = serde_json::from_str(l).expect("an event");
                v["commit"]["collection"]
                    .as_str()
                    .is_none_or(|c| c == "app.bsky.feed.post")
            })
            .count();
        let mb = session.iter().map(|l| l.len() + 1).sum::<usize>() as f64 / 1e6;
        let standin = Standin::start(&session, 0, Options::default()).expect("the stand-in");
        Source {
            from: standin.endpoint(),
            what: format!("Bluesky posts from the Jetstream stand-in ({events} events for dw)"),
            mb,
            standin: Some((standin, events)),
        }
    }
}

/// `n` real-envelope v1.1 statuses (the sample's, with fresh ids and times 10 ms apart) in a
/// file under `dir`; its path and size in MB.
fn write_input(dir: &Path, n: usize) -> (std::path::PathBuf, f64) {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let sample = std::fs::read_to_string(
        repo.join("tests/fixtures/tweets/tweets_stream_v1.1_sample_2017-02-16_dpebert7.jsonl"),
    )
    .expect("the v1.1 sample");
    let statuses: Vec<serde_json::Value> = sample
        .lines()
        .filter(|l| l.contains("\"id_str\"") && !l.starts_with("{\"delete\""))
        .filter_map(|l| serde_json::from_str(l.trim_end_matches('\r')).ok())
        .collect();
    let input = dir.join("tweets.jsonl");
    let mut f = std::io::BufWriter::new(std::fs::File::create(&input).expect("input"));
    for i in 0..n {
        let mut t = statuses[i % statuses.len()].clone();
        let id = 800_000_000_000_000_000u64 + i as u64;
        t["id_str"] = id.to_string().into();
        t["timestamp_ms"] = (1_454_000_000_000i64 + i as i64 * 10).to_string().into();
        serde_json::to_writer(&mut f, &t).expect("write");
        f.write_all(b"\n").expect("write");
    }
    f.flush().expect("flush");
    drop(f);
    let mb = std::fs::metadata(&input).expect("input").len() as f64 / 1e6;
    (input, mb)
}

/// A Tansu broker on a free port with the `tweets` topic; the broker and its address.
fn start_broker(tansu: &str, partitions: u32) -> (Killed, String) {
    let port = free_port();
    let brokers = format!("127.0.0.1:{port}");
    let broker = Killed(
        Command::new(tansu)
            .args(["broker", "--listener-url", &format!("tcp://{brokers}")])
            .args(["--advertised-listener-url", &format!("tcp://{brokers}")])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("tansu starts"),
    );
    let up = Instant::now();
    while std::net::TcpStream::connect(&brokers).is_err() {
        assert!(up.elapsed() < Duration::from_secs(20), "the broker listens");
        std::thread::sleep(Duration::from_millis(50));
    }
    let created = Command::new(tansu)
        .args(["topic", "create", "--broker", &format!("tcp://{brokers}")])
        .args(["--partitions", &partitions.to_string(), "tweets"])
        .status()
        .expect("tansu topic create");
    assert!(created.success());
    (broker, brokers)
}

/// dw-score as the bench runs it: three candidates, a status file every second, ending once
/// idle; `consumer` are extra Kafka options.
fn scorer_command(
    brokers: &str,
    dir: &std::path::Path,
    score_status: &std::path::Path,
    consumer: &[String],
) -> Command {
    let mut score = Command::new(binary("dw-score"));
    score
        .args(["--from", &format!("kafka://{brokers}/tweets?group=bench")])
        .arg("--to")
        .arg(format!("file:{}", dir.join("windows.jsonl").display()))
        .args(["--debate", "bench", "--status-secs", "1"])
        .args(["--stop-after-idle-secs", &IDLE_SECS.to_string()])
        .arg("--status")
        .arg(score_status)
        .args(["--kafka-option", "session.timeout.ms=6000"])
        .args(["--kafka-option", "heartbeat.interval.ms=1000"])
        .args(["--candidate", "trump=Trump,Donald Trump,@realDonaldTrump"])
        .args([
            "--candidate",
            "clinton=Hillary Clinton,Hillary,@HillaryClinton",
        ])
        .args([
            "--candidate",
            "sanders=Bernie Sanders,Bernie,@BernieSanders",
        ]);
    for c in consumer {
        score.args(["--kafka-option", c]);
    }
    score
}

/// The bench's command line: `[TWEETS] [PARTITIONS] [--bluesky] [--uncompressed]
/// [--producer KEY=VALUE]... [--consumer KEY=VALUE]...`.
struct Options {
    n: usize,
    partitions: u32,
    producer: Vec<String>,
    consumer: Vec<String>,
    bluesky: bool,
    uncompressed: bool,
}

fn options() -> Options {
    let mut args = std::env::args().skip(1);
    let mut positional = Vec::new();
    let (mut producer, mut consumer) = (Vec::new(), Vec::new());
    let (mut bluesky, mut uncompressed) = (false, false);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--bluesky" => bluesky = true,
            "--uncompressed" => uncompressed = true,
            "--producer" => producer.push(args.next().expect("--producer KEY=VALUE")),
            "--consumer" => consumer.push(args.next().expect("--consumer KEY=VALUE")),
            _ => positional.push(a),
        }
    }
    let n: usize = positional
        .first()
        .and_then(|s| s.parse().ok())
        .unwrap_or(200_000);
    let partitions: u32 = positional.get(1).and_then(|s| s.parse().ok()).unwrap_or(6);
    Options {
        n,
        partitions,
        producer,
        consumer,
        bluesky,
        uncompressed,
    }
}

/// dw-ingest from `from` to the bench's topic; `producer` are extra Kafka options.
fn ingest_command(brokers: &str, from: &str, uncompressed: bool, producer: &[String]) -> Command {
    let mut ingest = Command::new(binary("dw-ingest"));
    ingest
        .args(["--from", from])
        .args(["--to", &format!("kafka://{brokers}/tweets")]);
    if uncompressed {
        ingest.arg("--uncompressed");
    }
    for p in producer {
        ingest.args(["--kafka-option", p]);
    }
    ingest
}

/// Each process's share of the CPU time the pipeline took.
fn print_cpu(ingest_cpu: f64, score_cpu: f64, broker_cpu: f64) {
    let total_cpu = ingest_cpu + score_cpu + broker_cpu;
    let share = |c: f64| 100.0 * c / total_cpu.max(1e-9);
    println!(
        "CPU: {total_cpu:.2} s in all; dw-ingest {:.0}%, dw-score {:.0}%, broker (Tansu) {:.0}%",
        share(ingest_cpu),
        share(score_cpu),
        share(broker_cpu)
    );
}
