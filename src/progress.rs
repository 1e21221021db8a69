//! Progress on stderr: an indicatif bar or spinner on a terminal, plain timestamped lines
//! otherwise (cron logs), nothing under `-q`.

use std::io::IsTerminal;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressStyle};

use crate::log;

pub(crate) struct Progress {
    bar: Option<ProgressBar>,
}

fn interactive() -> bool {
    std::io::stderr().is_terminal() && log::level() >= 1
}

impl Progress {
    /// A bar of `len` steps (uploads).
    pub(crate) fn bar(len: u64, message: &str) -> Progress {
        if !interactive() {
            log::info(message);
            return Progress { bar: None };
        }
        let bar = ProgressBar::new(len);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} [{bar:30}] {pos}/{len} {elapsed}")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(message.to_string());
        Progress { bar: Some(bar) }
    }

    /// A spinner for waiting.
    pub(crate) fn spinner(message: &str) -> Progress {
        if !interactive() {
            log::info(message);
            return Progress { bar: None };
        }
        let bar = ProgressBar::new_spinner();
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.enable_steady_tick(Duration::from_millis(120));
        bar.set_message(message.to_string());
        Progress { bar: Some(bar) }
    }

    /// One unit done; `line` is what a log reader sees.
    pub(crate) fn inc(&self, line: &str) {
        match &self.bar {
            Some(b) => b.inc(1),
            None => log::info(line),
        }
    }

    /// A changed state: the spinner's message, or one log line.
    pub(crate) fn set(&self, message: &str) {
        match &self.bar {
            Some(b) => b.set_message(message.to_string()),
            None => log::info(message),
        }
    }

    pub(crate) fn finish(&self, message: &str) {
        if let Some(b) = &self.bar {
            b.finish_and_clear();
        }
        log::info(message);
    }
}
