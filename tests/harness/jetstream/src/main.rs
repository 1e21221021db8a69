//! `dw-jetstream-standin`: serve a recorded Jetstream session on 127.0.0.1 (with faults), or
//! generate a synthetic one. For dw's sandbox, benchmarks and the README's evening; the jobs'
//! tests use the library in-process.

use std::collections::HashMap;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use dw_jetstream_standin::{Fault, Options, Standin, synth};

#[derive(Parser)]
#[command(
    name = "dw-jetstream-standin",
    about = "A Bluesky Jetstream stand-in for tests"
)]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve a session (JSON lines of Jetstream events, oldest first) until stopped
    Serve {
        #[arg(long)]
        events: PathBuf,
        /// 0: any free port (see --port-file)
        #[arg(long, default_value_t = 0)]
        port: u16,
        /// Write the port here once listening
        #[arg(long)]
        port_file: Option<PathBuf>,
        /// Events per second (default: as fast as the connection takes them)
        #[arg(long)]
        pace: Option<f64>,
        /// CONNECTION=KIND:N, e.g. 0=refuse:503, 1=drop:1000, 2=stall:10, 0=bad:5 (repeatable)
        #[arg(long = "fault", value_parser = parse_fault)]
        faults: Vec<(usize, Fault)>,
    },
    /// Write a synthetic session to stdout
    Generate {
        #[arg(long, default_value_t = 3000)]
        posts: usize,
        /// The first event's time (RFC 3339)
        #[arg(long, default_value = "2024-09-11T01:00:00Z")]
        start: jiff::Timestamp,
        #[arg(long, default_value_t = 40.0)]
        per_sec: f64,
        #[arg(long, default_value_t = 2027)]
        seed: u64,
        /// A name posts mention (repeatable)
        #[arg(long = "topic")]
        topics: Vec<String>,
    },
}

fn parse_fault(s: &str) -> Result<(usize, Fault), String> {
    let (n, fault) = s.split_once('=').ok_or("CONNECTION=KIND:N")?;
    Ok((
        n.parse().map_err(|_| "CONNECTION is a number")?,
        fault.parse()?,
    ))
}

fn main() -> ExitCode {
    match run(Args::parse()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dw-jetstream-standin: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    match args.command {
        Command::Generate {
            posts,
            start,
            per_sec,
            seed,
            topics,
        } => {
            let spec = synth::Spec {
                posts,
                start_us: start.as_microsecond(),
                per_sec,
                seed,
                topics: if topics.is_empty() {
                    synth::Spec::default().topics
                } else {
                    topics
                },
            };
            let mut out = std::io::BufWriter::new(std::io::stdout().lock());
            for line in synth::session(&spec) {
                writeln!(out, "{line}").map_err(|e| e.to_string())?;
            }
            out.flush().map_err(|e| e.to_string())
        }
        Command::Serve {
            events,
            port,
            port_file,
            pace,
            faults,
        } => {
            let text = std::fs::read_to_string(&events)
                .map_err(|e| format!("{}: {e}", events.display()))?;
            let lines: Vec<String> = text.lines().map(str::to_string).collect();
            let mut by_connection: HashMap<usize, Vec<Fault>> = HashMap::new();
            for (n, f) in faults {
                by_connection.entry(n).or_default().push(f);
            }
            let standin = Standin::start(
                &lines,
                port,
                Options {
                    faults: by_connection,
                    pace,
                },
            )
            .map_err(|e| format!("{}: {e}", events.display()))?;
            eprintln!(
                "dw-jetstream-standin: serving {} events at {}",
                lines.len(),
                standin.endpoint()
            );
            if let Some(p) = port_file {
                std::fs::write(&p, standin.addr.port().to_string())
                    .map_err(|e| format!("{}: {e}", p.display()))?;
            }
            // Until the process is stopped (SIGTERM, SIGINT).
            loop {
                std::thread::park();
            }
        }
    }
}
