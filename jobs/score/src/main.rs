//! `dw-score`: reads tweets, scores each with LabMT, attributes it to the candidates it mentions,
//! and writes one result per candidate per time window (or, with `--emit tweets`, one line per
//! tweet).

use std::fs::File;
use std::io::{self, BufRead, BufReader, BufWriter, Write};
use std::process::ExitCode;

use clap::{Parser, ValueEnum};
use dw_pipeline::attribution::CandidateTerms;
use dw_pipeline::endpoint::Endpoint;
use dw_pipeline::labmt::{DEFAULT_LENS, Lens};
use dw_pipeline::lines::{self, Line};
use dw_pipeline::score::{Outcome, ScoreOptions, Scorer};

#[derive(Debug, Parser)]
#[command(
    name = "dw-score",
    version,
    about = "Score tweets with LabMT, per candidate per window"
)]
struct Args {
    /// Where tweets come from: -, file:PATH
    #[arg(long, default_value = "-")]
    from: Endpoint,
    /// Where results go: -, file:PATH (JSON lines)
    #[arg(long, default_value = "-")]
    to: Endpoint,
    /// The debate's name in the results (its date, e.g. 2015-08-06)
    #[arg(long)]
    debate: String,
    /// A candidate and its track terms: KEY=TERM,TERM,... (repeatable)
    #[arg(long = "candidate", value_name = "KEY=TERMS")]
    candidates: Vec<CandidateTerms>,
    /// Window length in seconds
    #[arg(long, default_value_t = 60)]
    window_secs: u32,
    /// How late (seconds behind the newest tweet) a tweet may arrive and still join its window
    #[arg(long, default_value_t = 30)]
    lateness_secs: u32,
    /// Stop-word lens LOW,HIGH: words with LOW < h < HIGH are left out; `none` keeps all
    #[arg(long, default_value = "4,6")]
    lens: String,
    /// How a retweet is scored: as the retweeted status's full text, or as its own text
    #[arg(long, value_enum, default_value_t = Retweets::Original)]
    retweets: Retweets,
    /// What to write: windows, or one line per tweet (id, score, words, candidates)
    #[arg(long, value_enum, default_value_t = Emit::Windows)]
    emit: Emit,
    /// Where lines that are not tweets or notices go (file:PATH), with the reason
    #[arg(long)]
    dead_letter: Option<Endpoint>,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Retweets {
    Original,
    AsIs,
}

#[derive(Debug, Clone, Copy, PartialEq, ValueEnum)]
enum Emit {
    Windows,
    Tweets,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("dw-score: error: {e}");
            ExitCode::from(1)
        }
    }
}

fn open_input(e: &Endpoint) -> Result<Box<dyn BufRead>, String> {
    match e {
        Endpoint::Stdio => Ok(Box::new(BufReader::with_capacity(1 << 16, io::stdin()))),
        Endpoint::File(p) => File::open(p)
            .map(|f| Box::new(BufReader::with_capacity(1 << 16, f)) as Box<dyn BufRead>)
            .map_err(|e| format!("cannot read {}: {e}", p.display())),
        other => Err(format!("{other} is not a source dw-score reads yet")),
    }
}

fn open_output(e: &Endpoint) -> Result<Box<dyn Write>, String> {
    match e {
        Endpoint::Stdio => Ok(Box::new(BufWriter::new(io::stdout()))),
        Endpoint::File(p) => File::create(p)
            .map(|f| Box::new(BufWriter::new(f)) as Box<dyn Write>)
            .map_err(|e| format!("cannot write {}: {e}", p.display())),
        other => Err(format!("{other} is not a sink dw-score writes yet")),
    }
}

fn run(args: &Args) -> Result<(), String> {
    let lens = match args.lens.as_str() {
        "none" => None,
        "4,6" => Some(DEFAULT_LENS),
        other => Some(other.parse::<Lens>()?),
    };
    let mut scorer = Scorer::new(ScoreOptions {
        debate: args.debate.clone(),
        candidates: args.candidates.clone(),
        lens,
        retweets_original: matches!(args.retweets, Retweets::Original),
        window_secs: args.window_secs,
        lateness_secs: args.lateness_secs,
        member: None,
    });
    let mut input = open_input(&args.from)?;
    let mut out = open_output(&args.to)?;
    let mut dead = args.dead_letter.as_ref().map(open_output).transpose()?;
    let write_err = |e: io::Error| format!("cannot write results: {e}");

    let mut buf = Vec::with_capacity(8 << 10);
    while let Some(line) =
        lines::read_line(&mut input, &mut buf, lines::MAX_LINE).map_err(|e| format!("read: {e}"))?
    {
        let outcome = match line {
            Line::Text => scorer.line(&buf),
            Line::TooLong(n) => {
                scorer.counts.lines += 1;
                scorer.counts.malformed += 1;
                Outcome::Malformed(format!("a line of {n} bytes, over the limit"))
            }
        };
        match outcome {
            Outcome::Scored(tweet, windows) => {
                if args.emit == Emit::Tweets {
                    serde_json::to_writer(&mut out, &tweet).map_err(|e| e.to_string())?;
                    out.write_all(b"\n").map_err(write_err)?;
                } else {
                    for w in windows {
                        serde_json::to_writer(&mut out, &w).map_err(|e| e.to_string())?;
                        out.write_all(b"\n").map_err(write_err)?;
                    }
                }
            }
            Outcome::Malformed(reason) => {
                if let Some(d) = dead.as_mut() {
                    let record = serde_json::json!({
                        "reason": reason,
                        "line": String::from_utf8_lossy(&buf),
                    });
                    serde_json::to_writer(&mut *d, &record).map_err(|e| e.to_string())?;
                    d.write_all(b"\n").map_err(write_err)?;
                }
            }
            Outcome::Skipped => {}
        }
    }
    if args.emit == Emit::Windows {
        for w in scorer.flush() {
            serde_json::to_writer(&mut out, &w).map_err(|e| e.to_string())?;
            out.write_all(b"\n").map_err(write_err)?;
        }
    }
    out.flush().map_err(write_err)?;
    if let Some(d) = dead.as_mut() {
        d.flush().map_err(write_err)?;
    }
    eprintln!(
        "dw-score: done: {}",
        serde_json::to_string(&scorer.counts).unwrap_or_default()
    );
    Ok(())
}
