//! dw's one error type. Modules return typed variants; `main` prints one report and exits with
//! [`Error::exit_code`]: 2 when the user can fix the input, 1 when something failed underneath.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A TOML file (config or calendar) that does not parse or has a bad value.
    #[error("{path}:{line}:{column}: {message}")]
    Toml {
        path: String,
        line: usize,
        column: usize,
        message: String,
        /// The offending source line with a caret under the span.
        excerpt: String,
        hint: String,
    },

    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },

    /// Bad input detected after parsing: an unknown debate, a malformed history file, ...
    #[error("{message}")]
    Input {
        message: String,
        hint: Option<String>,
    },

    /// AWS could not be reached, or refused the request.
    #[error("{operation} failed: {message}")]
    Aws {
        operation: &'static str,
        message: String,
        hint: Option<String>,
        /// True when the request itself was wrong (the user can fix it): exit 2.
        bad_input: bool,
    },

    #[error("{0}")]
    Failed(String),
}

impl Error {
    pub fn input(message: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            hint: None,
        }
    }

    pub fn input_with_hint(message: impl Into<String>, hint: impl Into<String>) -> Self {
        Error::Input {
            message: message.into(),
            hint: Some(hint.into()),
        }
    }

    pub fn exit_code(&self) -> u8 {
        match self {
            Error::Toml { .. } | Error::Read { .. } | Error::Input { .. } => 2,
            Error::Aws { bad_input, .. } => {
                if *bad_input {
                    2
                } else {
                    1
                }
            }
            Error::Write { .. } | Error::Failed(_) => 1,
        }
    }

    pub fn hint(&self) -> Option<&str> {
        match self {
            Error::Toml { hint, .. } => Some(hint),
            Error::Input { hint, .. } | Error::Aws { hint, .. } => hint.as_deref(),
            Error::Read { .. } | Error::Write { .. } | Error::Failed(_) => None,
        }
    }

    /// The whole report as printed on stderr: `error: ...`, details, `hint: ...`.
    pub fn report(&self) -> String {
        let mut out = format!("error: {self}\n");
        if let Error::Toml { excerpt, .. } = self {
            out.push_str(excerpt);
        }
        if let Some(hint) = self.hint() {
            out.push_str(&format!("hint: {hint}\n"));
        }
        out
    }
}

pub(crate) type Result<T, E = Error> = std::result::Result<T, E>;
