//! dw (debate-watch): spot quotes, debate clusters on EMR 4.x, and their teardown.
//!
//! `main` only calls [`run`]; every command lives in the library so it can be tested.

pub(crate) mod aws;
pub(crate) mod bootstrap;
pub(crate) mod build_jobs;
pub(crate) mod cli;
pub mod cluster;
pub(crate) mod config;
pub(crate) mod debates;
pub(crate) mod error;
pub(crate) mod files;
pub(crate) mod launch;
pub(crate) mod log;
pub(crate) mod plot;
pub(crate) mod progress;
pub(crate) mod replay;
pub(crate) mod report;
pub(crate) mod schedule;
pub(crate) mod settings;
pub mod spot;
pub(crate) mod steps;
pub(crate) mod summary;
pub(crate) mod tomlfile;
pub mod units;
pub(crate) mod watch;

mod commands;

use std::ffi::OsString;
use std::process::ExitCode;

use clap::Parser as _;

use cli::Cli;

/// Parses `args`, runs the command, prints one error report on failure; the exit code is 0 on
/// success, 2 for bad input, 1 for failures.
pub fn run<I, T>(args: I) -> ExitCode
where
    I: IntoIterator<Item = T>,
    T: Into<OsString> + Clone,
{
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(e.exit_code() as u8);
        }
    };
    log::init(if cli.quiet { 0 } else { 1 + cli.verbose }, cli.debug);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(commands::execute(&cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprint!("{}", e.report());
            ExitCode::from(e.exit_code())
        }
    }
}
