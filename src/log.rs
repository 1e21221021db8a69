//! Progress and log lines on stderr: plain, timestamped lines that cron logs keep readable
//! (`2026-11-28T12:00:00Z dw: message`). stdout is for results only.
//!
//! The lines are `tracing` events, so the AWS SDK's own events (requests, retries, throttling)
//! can be shown the same way: `--debug`, or any `RUST_LOG` filter.

use std::fmt;
use std::sync::atomic::{AtomicU8, Ordering};

use tracing::{Event, Subscriber};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// 0 quiet (errors only), 1 normal, 2+ verbose.
static LEVEL: AtomicU8 = AtomicU8::new(1);

/// The AWS SDK's crates, whose debug events `--debug` shows (requests, retries, credentials).
const SDK_TARGETS: [&str; 6] = [
    "aws_smithy_runtime",
    "aws_smithy_http_client",
    "aws_config",
    "aws_sdk_s3",
    "aws_sdk_emr",
    "aws_sdk_ec2",
];

/// Sets the level (`-q` 0, default 1, `-v` 2, ...) and installs the subscriber. `RUST_LOG`,
/// when set, replaces the filter the flags make.
pub(crate) fn init(level: u8, debug: bool) {
    set_level(level);
    let mut directives = vec![match level {
        0 => "dw=error".to_string(),
        1 => "dw=info".to_string(),
        _ => "dw=debug".to_string(),
    }];
    if debug {
        directives.extend(SDK_TARGETS.iter().map(|t| format!("{t}=debug")));
    }
    let filter = std::env::var("RUST_LOG")
        .ok()
        .filter(|f| !f.is_empty())
        .and_then(|f| EnvFilter::try_new(f).ok())
        .unwrap_or_else(|| EnvFilter::new(directives.join(",")));
    // A second install (a test calling `run` twice) keeps the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .event_format(Line)
        .try_init();
}

pub(crate) fn set_level(level: u8) {
    LEVEL.store(level, Ordering::Relaxed);
}

pub(crate) fn info(message: &str) {
    tracing::info!(target: "dw", "{message}");
}

/// Something the user may want to act on.
pub(crate) fn warn(message: &str) {
    tracing::warn!(target: "dw", "{message}");
}

pub(crate) fn debug(message: &str) {
    tracing::debug!(target: "dw", "{message}");
}

pub(crate) fn level() -> u8 {
    LEVEL.load(Ordering::Relaxed)
}

/// `TIME dw: message` for dw's lines; `TIME target: message fields` for other crates'.
struct Line;

impl<S, N> FormatEvent<S, N> for Line
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let now = jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%SZ");
        let target = event.metadata().target();
        let who = if target == "dw" { "dw" } else { target };
        write!(writer, "{now} {who}: ")?;
        ctx.field_format().format_fields(writer.by_ref(), event)?;
        writeln!(writer)
    }
}
